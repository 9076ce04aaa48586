"""Files as Label Studio exports them, built here as label-studio-converter's ``brush.py`` and
``converter.py`` write them: what reads, and what is refused or warned about, saying why."""

from __future__ import annotations

import json
import os
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.dom import minidom

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats import FormatError, read_masks, read_voc

WIDTH, HEIGHT = 100, 80
IMAGES = ["1a2b3c4d-photo.jpg", "5e6f7a8b-other.jpg"]
"""Label Studio's uploaded files: a hash prefix before the name the user gave."""


def image_files(folder: Path, names: list[str] = IMAGES) -> list[Path]:
    """WIDTH x HEIGHT photos at `names` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.new("RGB", (WIDTH, HEIGHT), (200, 10, 10)).save(folder / name)
    return [folder / name for name in names]


def save_brush_pngs(
    out_dir: Path,
    task_id: int,
    annotation_id: int,
    user: str,
    from_name: str,
    regions: list[tuple[list[str], np.ndarray]],
) -> list[Path]:
    """Label Studio's "Brush labels to PNG" export (label-studio-converter's ``brush.py``): one
    L-mode PNG per region holding its brush's alpha (255 painted, 0 not), named
    ``task-<task>-annotation-<annotation>-by-<user>-<from_name>-<labels, joined by ->-<n>.png``,
    n counting the regions of one from_name and labels; of the user's name, letters, digits,
    ``@`` and ``.`` are kept."""
    user = "".join(c for c in user if c.isalnum() or c in "@.")
    seen: Counter[str] = Counter()
    paths = []
    for labels, alpha in regions:
        region = f"{from_name}-{'-'.join(labels)}"
        name = f"task-{task_id}-annotation-{annotation_id}-by-{user}-{region}-{seen[region]}"
        seen[region] += 1
        Image.fromarray(alpha).save(out_dir / f"{name}.png")
        paths.append(out_dir / f"{name}.png")
    return paths


def brush(rows: slice, cols: slice) -> np.ndarray:
    """A brush region's alpha as Label Studio decodes it: 255 where painted, uint8."""
    alpha = np.zeros((HEIGHT, WIDTH), np.uint8)
    alpha[rows, cols] = 255
    return alpha


def segment_dataset(folder: Path) -> alw.Dataset:
    return alw.Dataset(image_files(folder), ["background", "Airplane", "Car"], task="segment")


def test_label_studio_brush_pngs_are_named_as_unmatched_with_what_to_export_instead(
    tmp_path: Path,
) -> None:
    dataset = segment_dataset(tmp_path / "images")
    (tmp_path / "masks").mkdir()
    regions = [(["Airplane"], brush(slice(10, 30), slice(10, 40)))]
    regions.append((["Car"], brush(slice(40, 70), slice(50, 90))))
    save_brush_pngs(tmp_path / "masks", 1, 1, "1", "tag", regions)
    with pytest.warns(UserWarning, match="no mask was read") as caught:
        assert read_masks(tmp_path / "masks", dataset) == {}
    (message,) = [str(w.message) for w in caught]
    assert "no mask was read: 2 mask file(s) match no image of the dataset" in message
    assert "task-1-annotation-1-by-1-tag-Airplane-0.png" in message
    assert "Label Studio brush PNGs" in message
    assert "'Brush labels to COCO'" in message


def test_mask_files_that_match_no_image_are_counted_and_named_in_one_warning(
    tmp_path: Path,
) -> None:
    dataset = segment_dataset(tmp_path / "images")
    (tmp_path / "masks").mkdir()
    for name in ("1a2b3c4d-photo.png", "photo.png", "other.png", "x.png", "y.png"):
        Image.fromarray(np.zeros((HEIGHT, WIDTH), np.uint8)).save(tmp_path / "masks" / name)
    with pytest.warns(UserWarning, match="match no image") as caught:
        assert sorted(read_masks(tmp_path / "masks", dataset)) == [0]
    (message,) = [str(w.message) for w in caught]
    assert message.endswith(
        "4 mask file(s) match no image of the dataset and were not read: other.png, photo.png, "
        "x.png and 1 more (a mask is named after its image: 1a2b3c4d-photo.png for "
        "1a2b3c4d-photo.jpg)"
    )


def renamed_brush_pngs(tmp_path: Path, regions: dict[str, np.ndarray]) -> Path:
    """Label Studio brush PNGs, one region each, renamed to their images' names in masks/."""
    (tmp_path / "brush").mkdir()
    (tmp_path / "masks").mkdir()
    for task_id, (image, alpha) in enumerate(regions.items(), start=1):
        regions_of_task = [(["Airplane"], alpha)]
        (png,) = save_brush_pngs(tmp_path / "brush", task_id, task_id, "1", "tag", regions_of_task)
        png.rename(tmp_path / "masks" / Path(image).with_suffix(".png"))
    return tmp_path / "masks"


def test_brush_pngs_renamed_to_their_images_are_named_in_one_warning_as_binary_masks(
    tmp_path: Path,
) -> None:
    dataset = segment_dataset(tmp_path / "images")
    regions = {name: brush(slice(10, 30), slice(10, 40)) for name in IMAGES}
    masks = renamed_brush_pngs(tmp_path, regions)
    with pytest.warns(UserWarning, match="binary object mask") as caught:
        read = read_masks(masks, dataset)
    (message,) = [str(w.message) for w in caught]
    assert "2 mask file(s) hold only background (0) and pixels not labeled (255): " in message
    assert "1a2b3c4d-photo.png, 5e6f7a8b-other.png." in message
    assert "set the object's pixels to its class's id (1 for 'Airplane')" in message
    assert (read[0].class_map[10:30, 10:40] == alw.Mask.IGNORE).all()  # as the file says


def test_an_export_of_masks_labeling_background_alone_reads_back_without_that_warning(
    tmp_path: Path,
) -> None:
    dataset = segment_dataset(tmp_path / "images")
    class_map = np.full((HEIGHT, WIDTH), alw.Mask.IGNORE, np.uint8)
    class_map[:5] = 0  # a background stroke, the rest not labeled yet
    dataset.annotate(0, alw.Mask(class_map))
    dataset.to_masks(tmp_path / "masks")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_masks(tmp_path / "masks", dataset) == {0: dataset.annotation(0)}


def write_label_studio_coco(folder: Path, tasks: dict[str, list[dict[str, Any]]]) -> Path:
    """Label Studio's COCO export (label-studio-converter's ``Converter.convert_to_coco``) of
    `tasks`, image name -> its regions as Label Studio keeps them (percent of the image):
    ``folder/result.json`` listing the images that have regions (``file_name``
    ``images/<name>``), categories the labels sorted with ids from 0, and per region a
    rectangle as a ``bbox`` of whole pixels (its percents truncated) with
    ``"segmentation": []``, or a polygon as its points in pixels (one flat list), with their
    bounding box and shoelace area."""
    names = sorted(
        {r.get("rectanglelabels", r.get("polygonlabels"))[0] for v in tasks.values() for r in v}
    )
    category_id = {name: k for k, name in enumerate(names)}
    images, annotations = [], []
    for name, regions in tasks.items():
        if not regions:
            continue  # a task with no region: no image entry
        image_id = len(images)
        images.append(
            {"width": WIDTH, "height": HEIGHT, "id": image_id, "file_name": f"images/{name}"}
        )
        for region in regions:
            record: dict[str, Any] = {"id": len(annotations), "image_id": image_id}
            if "rectanglelabels" in region:
                x, w = (int(region[k] / 100 * WIDTH) for k in ("x", "width"))
                y, h = (int(region[k] / 100 * HEIGHT) for k in ("y", "height"))
                record["category_id"] = category_id[region["rectanglelabels"][0]]
                record |= {
                    "segmentation": [],
                    "bbox": [x, y, w, h],
                    "ignore": 0,
                    "iscrowd": 0,
                    "area": w * h,
                }
            else:
                xs = [px / 100 * WIDTH for px, _ in region["points"]]
                ys = [py / 100 * HEIGHT for _, py in region["points"]]
                area = 0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1)))
                box = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
                record["category_id"] = category_id[region["polygonlabels"][0]]
                flat = [c for point in zip(xs, ys, strict=True) for c in point]
                record |= {
                    "segmentation": [flat],
                    "bbox": box,
                    "ignore": 0,
                    "iscrowd": 0,
                    "area": float(area),
                }
            annotations.append(record)
    document = {
        "images": images,
        "categories": [{"id": k, "name": name} for name, k in category_id.items()],
        "annotations": annotations,
        "info": {
            "year": 2024,
            "version": "1.0",
            "description": "",
            "contributor": "Label Studio",
            "url": "",
            "date_created": "2024-05-01 10:00:00.000000",
        },
    }
    (folder / "result.json").write_text(json.dumps(document, indent=2), encoding="utf8")
    return folder / "result.json"


RECTANGLE = {"x": 10.5, "y": 25.0, "width": 30.0, "height": 20.0, "rectanglelabels": ["Airplane"]}
POLYGON = {"points": [[50.0, 12.5], [90.0, 12.5], [70.0, 75.0]], "polygonlabels": ["Car"]}


@pytest.mark.parametrize("task", ["segment", "instances"])
def test_a_label_studio_rectangle_is_refused_for_masks_as_a_box_with_no_mask(
    tmp_path: Path, task: str
) -> None:
    image_files(tmp_path / "images")
    path = write_label_studio_coco(tmp_path, {IMAGES[0]: [RECTANGLE, POLYGON]})
    with pytest.raises(
        FormatError,
        match=rf"annotation 0 \(id 0\) of image images/{IMAGES[0]} has an empty 'segmentation' "
        rf"\(\[\]\), which task=\"{task}\" cannot read: a box with no mask, as Label Studio "
        r"writes its rectangles; the file's boxes read with task=\"detect\"",
    ):
        alw.Dataset.from_coco(path, tmp_path, task=task)


def test_a_label_studio_coco_file_reads_as_boxes_of_its_rectangles_and_polygons(
    tmp_path: Path,
) -> None:
    image_files(tmp_path / "images")
    path = write_label_studio_coco(tmp_path, {IMAGES[0]: [RECTANGLE, POLYGON], IMAGES[1]: []})
    dataset = alw.Dataset.from_coco(path, tmp_path, task="detect")
    assert (len(dataset), dataset.classes) == (1, ["Airplane", "Car"])
    boxes = dataset.annotation(0)
    assert boxes.labels == ("Airplane", "Car")
    assert np.allclose(boxes.xyxy, [[10, 20, 40, 36], [50, 10, 90, 60]])


def xml_node(
    doc: minidom.Document,
    parent: minidom.Element,
    tag: str,
    text: str | None = None,
    children: Sequence[tuple[str, str]] = (),
) -> minidom.Element:
    """A new element `tag` last under `parent`, holding `text`, or an element per (tag, text)
    of `children`, as Label Studio's VOC export builds them."""
    node = doc.createElement(tag)
    if text is not None:
        node.appendChild(doc.createTextNode(text))
    for child, value in children:
        xml_node(doc, node, child, value)
    parent.appendChild(node)
    return node


def write_label_studio_voc(folder: Path, tasks: dict[str, list[dict[str, Any]]]) -> None:
    """Label Studio's Pascal VOC export (label-studio-converter's ``Converter.convert_to_voc``)
    of `tasks` (as for ``write_label_studio_coco``): the images in ``folder/images/``, and per
    task with rectangles ``Annotations/<stem>.xml``, written by ``xml.dom.minidom``:
    ``<folder>images</folder>``, ``<filename>`` the image's name without its extension,
    ``<source>`` and ``<owner>`` as Label Studio fills them, ``<size>``, and per rectangle an
    ``<object>`` whose ``<bndbox>`` is its percents times the size, truncated, ``xmax = xmin +
    width``."""
    image_files(folder / "images", list(tasks))
    (folder / "Annotations").mkdir()
    for name, regions in tasks.items():
        if not regions:
            continue
        doc = minidom.getDOMImplementation().createDocument(None, "annotation", None)
        top = doc.documentElement
        xml_node(doc, top, "folder", "images")
        xml_node(doc, top, "filename", os.path.splitext(name)[0])
        source = [("database", "MyDatabase"), ("annotation", "COCO2017"), ("image", "flickr")]
        xml_node(doc, top, "source", children=[*source, ("flickrid", "NULL"), ("annotator", "1")])
        xml_node(doc, top, "owner", children=[("flickrid", "NULL"), ("name", "Label Studio")])
        size = [("width", str(WIDTH)), ("height", str(HEIGHT)), ("depth", "3")]
        xml_node(doc, top, "size", children=size)
        xml_node(doc, top, "segmented", "0")
        for region in regions:
            x, w = (int(region[k] / 100 * WIDTH) for k in ("x", "width"))
            y, h = (int(region[k] / 100 * HEIGHT) for k in ("y", "height"))
            flags = [("pose", "Unspecified"), ("truncated", "0"), ("difficult", "0")]
            label = region["rectanglelabels"][0]
            item = xml_node(doc, top, "object", children=[("name", label), *flags])
            corners = [("xmin", x), ("ymin", y), ("xmax", x + w), ("ymax", y + h)]
            xml_node(doc, item, "bndbox", children=[(tag, str(value)) for tag, value in corners])
        xml = folder / "Annotations" / (os.path.splitext(name)[0] + ".xml")
        with open(xml, mode="w", encoding="utf8") as out:
            doc.writexml(out, addindent="", newl="\n", encoding="utf-8")


CAR = {"x": 50.0, "y": 12.5, "width": 40.0, "height": 62.5, "rectanglelabels": ["Car"]}


def test_a_label_studio_voc_export_reads_with_its_images_and_extensionless_file_names(
    tmp_path: Path,
) -> None:
    write_label_studio_voc(tmp_path, {IMAGES[0]: [RECTANGLE, CAR], IMAGES[1]: []})
    dataset = read_voc(tmp_path, corners="coordinates")
    assert [Path(dataset.source_file(i)).name for i in range(2)] == IMAGES
    assert (dataset.classes, dataset.annotation(0).labels) == (
        ["Airplane", "Car"],
        ("Airplane", "Car"),
    )
    assert np.array_equal(dataset.annotation(0).xyxy, [[10, 20, 40, 36], [50, 10, 90, 60]])
    assert dataset.annotation(1) is None


def test_an_extensionless_file_name_that_two_images_share_is_refused_naming_both(
    tmp_path: Path,
) -> None:
    write_label_studio_voc(tmp_path, {"photo.jpg": [RECTANGLE]})
    image_files(tmp_path / "images", ["photo.png"])
    with pytest.raises(
        FormatError,
        match=r"Annotations/photo\.xml: its image 'photo' has no extension, and photo\.jpg and "
        r"photo\.png in .*images both have that name",
    ):
        read_voc(tmp_path, corners="coordinates")


def test_a_voc_folder_with_neither_images_folder_is_refused_naming_both(tmp_path: Path) -> None:
    write_label_studio_voc(tmp_path, {"photo.jpg": [RECTANGLE]})
    (tmp_path / "images").rename(tmp_path / "photos")
    with pytest.raises(FileNotFoundError, match=r"has no images folder: JPEGImages/ \(or images/"):
        read_voc(tmp_path)
