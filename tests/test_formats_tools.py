"""Label files laid out exactly as other tools write them (Label Studio, supervision,
Ultralytics, Roboflow, LabelImg, CVAT), built here: read as those tools mean them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats import FormatError


def png(path: Path, size: tuple[int, int] = (48, 80)) -> Path:
    """A grey PNG of (height, width) `size`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), 90, np.uint8)).save(path)
    return path


def jpeg(path: Path, size: tuple[int, int] = (48, 80)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), 90, np.uint8)).save(path)
    return path


# -- Label Studio COCO ---------------------------------------------------------------------------


def label_studio_coco(folder: Path) -> Path:
    """Label Studio's COCO export of one 640x480 image with a box from x=0.1% spanning 99.9% of
    the width: its percent-to-pixel conversion gives x + w = 640.0000000000001."""
    jpeg(folder / "images" / "1f2e3d4c-photo.jpg", (480, 640))
    x, w = 0.1 / 100 * 640, 99.9 / 100 * 640
    assert x + w > 640
    document = {
        "images": [
            {"width": 640, "height": 480, "id": 0, "file_name": "images/1f2e3d4c-photo.jpg"}
        ],
        "categories": [{"id": 0, "name": "car"}],
        "annotations": [
            {
                "id": 0,
                "image_id": 0,
                "category_id": 0,
                "segmentation": [],
                "bbox": [x, 12.0, w, 100.0],
                "ignore": 0,
                "iscrowd": 0,
                "area": w * 100.0,
            }
        ],
        "info": {"year": 2024, "version": "1.0", "description": "", "contributor": "Label Studio"},
    }
    path = folder / "result.json"
    path.write_text(json.dumps(document))
    return path


def test_a_label_studio_box_ending_a_float_round_off_past_the_edge_is_clipped(
    tmp_path: Path,
) -> None:
    path = label_studio_coco(tmp_path)
    with pytest.warns(UserWarning, match=r"1 box\(es\) passed their image's edge by up to 1 px"):
        dataset = alw.Dataset.from_coco(path, tmp_path)
    assert dataset.annotation(0).xyxy.tolist() == [[0.64, 12.0, 640.0, 112.0]]


def test_a_coco_box_further_out_than_a_pixel_is_refused_naming_it(tmp_path: Path) -> None:
    path = label_studio_coco(tmp_path)
    document = json.loads(path.read_text())
    document["annotations"][0]["bbox"] = [600.0, 12.0, 41.5, 100.0]
    path.write_text(json.dumps(document))
    with pytest.raises(
        FormatError,
        match=re.escape(
            "annotation 0 (id 0) of image images/1f2e3d4c-photo.jpg: box [600.0, 12.0, 641.5, 112.0] "
            "lies more than 1 px outside the 640x480 image"
        ),
    ):
        alw.Dataset.from_coco(path, tmp_path)


# -- YOLO: supervision, Ultralytics, Roboflow, LabelImg ------------------------------------------


def test_a_supervision_yolo_edge_box_is_clipped_to_the_image(tmp_path: Path) -> None:
    # supervision's as_yolo writes 5 decimals and a PyYAML-dumped data.yaml (keys sorted, the
    # list not indented); this box touches the right and bottom edges of an 80x48 image.
    png(tmp_path / "images" / "frame.png", (48, 80))
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "frame.txt").write_text("2 0.87500 0.60417 0.25000 0.79167\n")
    (tmp_path / "data.yaml").write_text("names:\n- person\n- bicycle\n- car\nnc: 3\n")
    with pytest.warns(UserWarning, match=r"1 box\(es\) passed their image's edge"):
        dataset = alw.Dataset.from_yolo(tmp_path)
    assert dataset.classes == ["person", "bicycle", "car"]
    boxes = dataset.annotation(0)
    assert boxes.labels == ("car",)
    assert boxes.xyxy.tolist() == [[60.0, 10.00008, 80.0, 48.0]]


def test_a_yolo_box_further_out_than_a_pixel_is_refused_naming_its_line(tmp_path: Path) -> None:
    png(tmp_path / "images" / "frame.png", (48, 80))
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "frame.txt").write_text("0 0.5 0.5 0.2 0.2\n0 0.95 0.5 0.2 0.2\n")
    (tmp_path / "classes.txt").write_text("person\n")
    with pytest.raises(
        FormatError,
        match=r"frame\.txt line 2: box \[68\.0, 19\.2, 84\.0, 28\.8\] lies more than 1 px outside the 80x48 image",
    ):
        alw.Dataset.from_yolo(tmp_path)


def ultralytics_folder(root: Path) -> Path:
    """The layout of Ultralytics' coco8: images/{train,val}, labels/{train,val} (and the
    labels/*.cache files its trainer leaves), data.yaml with an id -> name mapping."""
    (root / "data.yaml").write_text(
        "# Ultralytics YOLO, AGPL-3.0 license\n"
        "# COCO8 dataset (first 8 images from COCO train2017)\n"
        "\n"
        "# Train/val/test sets as 1) dir: path/to/imgs\n"
        "path: ../datasets/coco8 # dataset root dir\n"
        "train: images/train # train images (relative to 'path') 4 images\n"
        "val: images/val # val images (relative to 'path') 4 images\n"
        "test: # test images (optional)\n"
        "\n"
        "# Classes\n"
        "names:\n"
        "  0: person\n"
        "  1: bicycle\n"
        "  2: traffic light\n"
        "\n"
        "# Download script/URL (optional)\n"
        "download: https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip\n"
    )
    for split, stem, line in (
        ("train", "000000000009", "2 0.5 0.5 0.5 0.5"),
        ("val", "000000000036", "0 0.25 0.25 0.5 0.5"),
    ):
        jpeg(root / "images" / split / f"{stem}.jpg")
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split / f"{stem}.txt").write_text(line + "\n")
        (root / "labels" / f"{split}.cache").write_bytes(b"\x80\x04binary")
    jpeg(root / "images" / "val" / "000000000042.jpg")  # no label file: unlabeled
    return root


def test_an_ultralytics_folder_is_read_with_its_splits_and_data_yaml_names(tmp_path: Path) -> None:
    dataset = alw.Dataset.from_yolo(ultralytics_folder(tmp_path))
    assert dataset.classes == ["person", "bicycle", "traffic light"]
    names = [Path(str(dataset.source_file(i))).relative_to(tmp_path).as_posix() for i in range(3)]
    assert names == [
        "images/train/000000000009.jpg",
        "images/val/000000000036.jpg",
        "images/val/000000000042.jpg",
    ]
    assert dataset.annotation(0) == alw.Boxes(
        [[20, 12, 60, 36]], ["traffic light"], canvas_size=(48, 80)
    )
    assert dataset.annotation(1) == alw.Boxes([[0, 0, 40, 24]], ["person"], canvas_size=(48, 80))
    assert dataset.unlabeled.tolist() == [2]


def test_the_one_yaml_file_of_a_folder_without_data_yaml_is_its_data_file(tmp_path: Path) -> None:
    root = ultralytics_folder(tmp_path)
    (root / "data.yaml").rename(root / "coco8.yaml")  # as Ultralytics ships it
    assert alw.Dataset.from_yolo(root).classes == ["person", "bicycle", "traffic light"]


def test_of_several_yaml_files_the_one_named_after_the_folder_is_its_data_file(
    tmp_path: Path,
) -> None:
    # Ultralytics' find_dataset_yaml: of several, the YAML file named after the folder
    (tmp_path / "coco8").mkdir()
    root = ultralytics_folder(tmp_path / "coco8")
    (root / "data.yaml").rename(root / "coco8.yaml")
    (root / "hyp.yaml").write_text("lr0: 0.01\n")
    assert alw.Dataset.from_yolo(root).classes == ["person", "bicycle", "traffic light"]


def test_yaml_files_of_which_none_is_the_data_file_are_named(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    root = ultralytics_folder(tmp_path / "mine")
    (root / "data.yaml").rename(root / "coco8.yaml")
    (root / "hyp.yaml").write_text("lr0: 0.01\n")
    with pytest.raises(
        FileNotFoundError,
        match=r"names no classes: .*; of its YAML files, coco8\.yaml, hyp\.yaml, none is data\.yaml",
    ):
        alw.Dataset.from_yolo(root)


def roboflow_folder(root: Path) -> Path:
    """Roboflow's "YOLOv8" download: {train,valid,test}/{images,labels}, README files, and a
    data.yaml with a one-line names list, nc and a roboflow block."""
    (root / "data.yaml").write_text(
        "train: ../train/images\n"
        "val: ../valid/images\n"
        "test: ../test/images\n"
        "\n"
        "nc: 2\n"
        "names: ['hard-hat', 'head, no helmet']\n"
        "\n"
        "roboflow:\n"
        "  workspace: joseph-nelson\n"
        "  project: hard-hat-workers\n"
        "  version: 13\n"
        "  license: Public Domain\n"
        "  url: https://universe.roboflow.com/joseph-nelson/hard-hat-workers/dataset/13\n"
    )
    (root / "README.roboflow.txt").write_text("Hard Hat Workers - v13\n")
    (root / "README.dataset.txt").write_text("# Hard Hat Workers\n")
    for split, stem in (
        ("train", "a_jpg.rf.0f1e"),
        ("valid", "b_jpg.rf.3c4d"),
        ("test", "c_jpg.rf.9a8b"),
    ):
        jpeg(root / split / "images" / f"{stem}.jpg")
        (root / split / "labels").mkdir(parents=True)
        (root / split / "labels" / f"{stem}.txt").write_text("1 0.5 0.5 0.25 0.5\n")
    return root


def test_a_roboflow_folder_is_read_with_its_splits_and_one_line_names(tmp_path: Path) -> None:
    dataset = alw.Dataset.from_yolo(roboflow_folder(tmp_path))
    assert dataset.classes == ["hard-hat", "head, no helmet"]
    assert len(dataset) == 3
    assert dataset.labeled.tolist() == [0, 1, 2]
    assert dataset.annotation(2) == alw.Boxes(
        [[30, 12, 50, 36]], ["head, no helmet"], canvas_size=(48, 80)
    )


def test_roboflow_polygons_read_for_detection_are_refused_pointing_to_instances(
    tmp_path: Path,
) -> None:
    root = roboflow_folder(tmp_path)
    # Roboflow's "YOLOv8" download of a project labeled with polygons: one Ultralytics
    # segmentation line per object, class x1 y1 x2 y2 ... normalised
    label = root / "train" / "labels" / "a_jpg.rf.0f1e.txt"
    label.write_text("1 0.1 0.1 0.4 0.1 0.4 0.4 0.1 0.4\n")
    with pytest.raises(
        FormatError,
        match=rf"{re.escape(str(label))} line 1: 9 numbers are a polygon .* task=\"instances\"",
    ):
        alw.Dataset.from_yolo(root)


def test_labelimg_classes_txt_inside_labels_is_the_class_list(tmp_path: Path) -> None:
    png(tmp_path / "images" / "img1.png")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "classes.txt").write_text("dog\nperson\n")
    (tmp_path / "labels" / "img1.txt").write_text("1 0.500000 0.500000 0.250000 0.500000\n")
    dataset = alw.Dataset.from_yolo(tmp_path)
    assert dataset.classes == ["dog", "person"]
    assert dataset.annotation(0).labels == ("person",)


def test_class_lists_that_disagree_are_refused_naming_both(tmp_path: Path) -> None:
    png(tmp_path / "images" / "img1.png")
    (tmp_path / "data.yaml").write_text("names: [dog, person]\n")
    (tmp_path / "classes.txt").write_text("person\ndog\n")
    with pytest.raises(
        FormatError,
        match=r"data\.yaml names the classes \['dog', 'person'\] but .*classes\.txt names \['person', 'dog'\]",
    ):
        alw.Dataset.from_yolo(tmp_path)


def test_a_yolo_export_reads_back_through_its_data_yaml_alone(tmp_path: Path) -> None:
    dataset = alw.Dataset([png(tmp_path / "src" / "a.png")], ['say "hi"', "b: c"], task="detect")
    dataset.annotate(0, alw.Boxes([[1, 2, 30, 40]], ["b: c"]))
    dataset.to_yolo(tmp_path / "out")
    (tmp_path / "out" / "classes.txt").unlink()
    back = alw.Dataset.from_yolo(tmp_path / "out")
    assert back.classes == dataset.classes
    assert back.annotation(0) == dataset.annotation(0)


def labelimg_yolo_save(image: Path, boxes: list[tuple[int, float, float, float, float]]) -> None:
    """LabelImg's YOLO save with no save folder chosen: ``<image stem>.txt`` beside the image
    (``%d %.6f %.6f %.6f %.6f`` per box) and its class list, classes.txt, in that same folder."""
    lines = "".join("%d %.6f %.6f %.6f %.6f\n" % box for box in boxes)  # noqa: UP031
    image.with_suffix(".txt").write_text(lines)
    (image.parent / "classes.txt").write_text("dog\nperson\n")


def test_a_labelimg_folder_with_labels_beside_the_images_is_read(tmp_path: Path) -> None:
    labeled = jpeg(tmp_path / "photos" / "img1.jpg")
    jpeg(tmp_path / "photos" / "img2.jpg")  # not labeled yet: no label file
    labelimg_yolo_save(labeled, [(1, 0.5, 0.5, 0.25, 0.5)])
    dataset = alw.Dataset.from_yolo(tmp_path / "photos")
    assert dataset.classes == ["dog", "person"]
    assert dataset.labeled.tolist() == [0]
    assert dataset.annotation(0) == alw.Boxes([[30, 12, 50, 36]], ["person"], canvas_size=(48, 80))


def labelimg_folder_with_a_yaml_file(root: Path, name: str, text: str) -> Path:
    """A LabelImg YOLO folder (one labeled image, classes.txt) with a YAML file of the user's
    beside it, one no Ultralytics data file."""
    labelimg_yolo_save(jpeg(root / "img1.jpg"), [(1, 0.5, 0.5, 0.25, 0.5)])
    (root / name).write_text(text)
    return root


def test_a_labelimg_folder_with_a_yaml_file_of_anchors_reads_classes_txt(tmp_path: Path) -> None:
    config = "defaults: &defaults\n  size: 640\ntrain:\n  <<: *defaults\nnc: &n 2\n"
    root = labelimg_folder_with_a_yaml_file(tmp_path, "config.yaml", config)
    assert alw.Dataset.from_yolo(root).classes == ["dog", "person"]


def test_a_labelimg_folder_with_a_yaml_file_naming_other_classes_reads_classes_txt(
    tmp_path: Path,
) -> None:
    root = labelimg_folder_with_a_yaml_file(tmp_path, "hyp.yaml", "names: [person]\n")
    assert alw.Dataset.from_yolo(root).classes == ["dog", "person"]


def test_a_labelimg_folder_with_a_yaml_file_of_other_names_reads_classes_txt(
    tmp_path: Path,
) -> None:
    root = labelimg_folder_with_a_yaml_file(tmp_path, "notes.yaml", "names: {first: Ann}\n")
    assert alw.Dataset.from_yolo(root).classes == ["dog", "person"]


def test_a_lone_yaml_file_that_is_no_data_file_is_named_when_no_class_list_is_found(
    tmp_path: Path,
) -> None:
    root = labelimg_folder_with_a_yaml_file(tmp_path, "notes.yaml", "names: {first: Ann}\n")
    (root / "classes.txt").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=r"names no classes: .*; notes\.yaml, not named data\.yaml, is no Ultralytics data "
        r"file: .*'first: Ann' is not 'id: name'",
    ):
        alw.Dataset.from_yolo(root)


def test_labels_beside_the_images_in_an_images_folder_are_read(tmp_path: Path) -> None:
    labelimg_yolo_save(jpeg(tmp_path / "images" / "img1.jpg"), [(0, 0.5, 0.5, 0.25, 0.5)])
    (tmp_path / "classes.txt").write_text("dog\nperson\n")
    dataset = alw.Dataset.from_yolo(tmp_path)
    assert dataset.annotation(0).labels == ("dog",)


def test_an_image_with_a_label_file_in_labels_and_beside_it_is_refused(tmp_path: Path) -> None:
    labelimg_yolo_save(jpeg(tmp_path / "images" / "img1.jpg"), [(0, 0.5, 0.5, 0.25, 0.5)])
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "img1.txt").write_text("1 0.5 0.5 0.25 0.5\n")
    with pytest.raises(FormatError, match=r"img1\.jpg has two label files, .*labels/img1\.txt"):
        alw.Dataset.from_yolo(tmp_path)


def test_a_yolo_folder_where_no_image_has_a_label_file_warns(tmp_path: Path) -> None:
    jpeg(tmp_path / "images" / "img1.jpg")
    (tmp_path / "classes.txt").write_text("dog\n")
    with pytest.warns(UserWarning, match=r"none of its 1 image\(s\) has a label file"):
        dataset = alw.Dataset.from_yolo(tmp_path)
    assert dataset.labeled.tolist() == []


# -- Pascal VOC: LabelImg, CVAT ------------------------------------------------------------------

LABELIMG_XML = """<annotation>
\t<folder>JPEGImages</folder>
\t<filename>{name}</filename>
\t<path>/home/me/data/JPEGImages/{name}</path>
\t<source>
\t\t<database>Unknown</database>
\t</source>
\t<size>
\t\t<width>{width}</width>
\t\t<height>{height}</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
{objects}</annotation>
"""

LABELIMG_OBJECT = """\t<object>
\t\t<name>{label}</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>0</truncated>
\t\t<difficult>{difficult}</difficult>
\t\t<bndbox>
\t\t\t<xmin>{xmin}</xmin>
\t\t\t<ymin>{ymin}</ymin>
\t\t\t<xmax>{xmax}</xmax>
\t\t\t<ymax>{ymax}</ymax>
\t\t</bndbox>
\t</object>
"""


def labelimg_voc(
    root: Path, name: str, objects: list[tuple], width: object = 80, height: object = 48
) -> Path:
    """LabelImg's PascalVOC save of JPEGImages/`name`: objects are (label, difficult, xmin,
    ymin, xmax, ymax); the image is made when missing."""
    if not (root / "JPEGImages" / name).exists():
        jpeg(root / "JPEGImages" / name)
    text = "".join(
        LABELIMG_OBJECT.format(
            label=o[0], difficult=o[1], xmin=o[2], ymin=o[3], xmax=o[4], ymax=o[5]
        )
        for o in objects
    )
    xml = root / "Annotations" / Path(name).with_suffix(".xml")
    xml.parent.mkdir(parents=True, exist_ok=True)
    xml.write_text(LABELIMG_XML.format(name=name, width=width, height=height, objects=text))
    return xml


def labelimg_bnd_box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, ...]:
    """The corners LabelImg saves for a box drawn from (x0, y0) to (x1, y1) on its canvas
    (where pixel 0 spans 0 to 1): tzutalin/labelImg libs/labelFile.py,
    ``LabelFile.convert_points_to_bnd_box``, which raises xmin and ymin below 1 to 1 and returns
    ``int()`` of each corner."""
    return int(max(x0, 1)), int(max(y0, 1)), int(x1), int(y1)


def test_a_labelimg_voc_box_read_with_coordinates_corners_is_the_box_labelimg_shows(
    tmp_path: Path,
) -> None:
    # LabelImg's PascalVocReader.addShape shows it again at int(float(<xmin>)) ... on its canvas
    labelimg_voc(tmp_path, "img1.jpg", [("dog", 0, *labelimg_bnd_box(10.4, 5.7, 30.2, 25.9))])
    dataset = alw.formats.read_voc(tmp_path, corners="coordinates")
    assert dataset.annotation(0).xyxy.tolist() == [[10, 5, 30, 25]]


def test_a_voc_difficult_flag_is_kept_through_import_and_export(tmp_path: Path) -> None:
    labelimg_voc(tmp_path / "in", "img1.jpg", [("dog", 1, 11, 6, 40, 30), ("cat", 0, 1, 1, 10, 10)])
    dataset = alw.formats.read_voc(tmp_path / "in", corners="coordinates")
    boxes = dataset.annotation(0)
    assert boxes.difficult == (True, False)
    assert boxes.xyxy.tolist() == [[11, 6, 40, 30], [1, 1, 10, 10]]
    dataset.to_voc(tmp_path / "out")
    written = (tmp_path / "out" / "Annotations" / "img1.xml").read_text()
    assert re.findall(r"<difficult>(\d)</difficult>", written) == ["1", "0"]
    back = alw.formats.read_voc(tmp_path / "out")
    assert back.annotation(0) == boxes


def test_a_difficult_flag_survives_the_annotation_json_form() -> None:
    boxes = alw.Boxes([[0, 0, 4, 4], [1, 1, 3, 3]], ["a", "b"], difficult=[False, True])
    assert boxes.to_json()["difficult"] == [False, True]
    assert alw.annotations.from_json(boxes.to_json()) == boxes
    assert boxes != alw.Boxes([[0, 0, 4, 4], [1, 1, 3, 3]], ["a", "b"])


def test_two_voc_files_naming_one_image_are_refused_naming_both(tmp_path: Path) -> None:
    first = labelimg_voc(tmp_path, "img1.jpg", [("dog", 0, 1, 1, 10, 10)])
    second = first.with_name("img1_copy.xml")
    second.write_text(first.read_text())
    with pytest.raises(
        FormatError,
        match=re.escape(f"Pascal VOC files {first} and {second} both name the image 'img1.jpg'"),
    ):
        alw.formats.read_voc(tmp_path)


def test_a_voc_size_written_as_a_float_is_read(tmp_path: Path) -> None:
    labelimg_voc(tmp_path, "img1.jpg", [("dog", 0, 1, 1, 10, 10)], width="80.0", height="48.0")
    assert alw.formats.read_voc(tmp_path).annotation(0).canvas_size == (48, 80)


def test_a_voc_size_that_is_not_a_number_is_named(tmp_path: Path) -> None:
    xml = labelimg_voc(tmp_path, "img1.jpg", [("dog", 0, 1, 1, 10, 10)], width="wide")
    with pytest.raises(
        FormatError,
        match=re.escape(
            f"Pascal VOC file {xml}: <width> must be a whole number of pixels, got 'wide'"
        ),
    ):
        alw.formats.read_voc(tmp_path)


def test_voc_classes_keep_the_order_the_files_give_them(tmp_path: Path) -> None:
    labelimg_voc(tmp_path, "a.jpg", [("zebra", 0, 1, 1, 10, 10), ("ant", 0, 2, 2, 9, 9)])
    labelimg_voc(tmp_path, "b.jpg", [("moth", 0, 1, 1, 10, 10), ("zebra", 0, 2, 2, 9, 9)])
    assert alw.formats.read_voc(tmp_path).classes == ["zebra", "ant", "moth"]


def test_a_labelimg_save_folder_named_annotations_in_lower_case_is_read(tmp_path: Path) -> None:
    xml = labelimg_voc(tmp_path, "img1.jpg", [("dog", 0, 1, 1, 10, 10)])
    xml.parent.rename(tmp_path / "annotations")  # the save folder the user chose in LabelImg
    dataset = alw.formats.read_voc(tmp_path)
    assert dataset.labeled.tolist() == [0]
    assert dataset.annotation(0).labels == ("dog",)


def test_voc_files_ending_in_upper_case_xml_are_read(tmp_path: Path) -> None:
    xml = labelimg_voc(tmp_path, "img1.jpg", [("dog", 0, 1, 1, 10, 10)])
    xml.rename(xml.with_suffix(".XML"))
    assert alw.formats.read_voc(tmp_path).labeled.tolist() == [0]


def test_two_voc_annotations_folders_differing_in_case_are_refused_naming_both(
    tmp_path: Path,
) -> None:
    labelimg_voc(tmp_path, "img1.jpg", [("dog", 0, 1, 1, 10, 10)])
    (tmp_path / "annotations").mkdir()
    with pytest.raises(
        FormatError, match=r"2 folders named Annotations .*\(Annotations, annotations\)"
    ):
        alw.formats.read_voc(tmp_path)


def test_a_voc_folder_where_no_annotation_file_is_found_warns(tmp_path: Path) -> None:
    jpeg(tmp_path / "JPEGImages" / "img1.jpg")
    (tmp_path / "annotation").mkdir()  # misspelt: not the annotations folder
    (tmp_path / "annotation" / "img1.xml").write_text("<annotation/>")
    (tmp_path / "classes.txt").write_text("dog\n")
    with pytest.warns(
        UserWarning, match=r"no annotation file found .*its 1 image\(s\) are all unl"
    ):
        dataset = alw.formats.read_voc(tmp_path)
    assert dataset.labeled.tolist() == []


def cvat_voc(root: Path) -> Path:
    """CVAT's "PASCAL VOC 1.1" export: float corners, an empty <folder> and <depth>, attributes,
    labelmap.txt (background first, then the task's labels, one of them unused)."""
    jpeg(root / "JPEGImages" / "frame_000001.jpg")
    (root / "Annotations").mkdir(parents=True)
    (root / "Annotations" / "frame_000001.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<annotation>\n  <folder></folder>\n  <filename>frame_000001.jpg</filename>\n"
        "  <source>\n    <database>Unknown</database>\n    <annotation>Unknown</annotation>\n"
        "    <image>Unknown</image>\n  </source>\n"
        "  <size>\n    <width>80</width>\n    <height>48</height>\n    <depth></depth>\n  </size>\n"
        "  <segmented>0</segmented>\n"
        "  <object>\n    <name>person</name>\n    <truncated>0</truncated>\n"
        "    <occluded>0</occluded>\n    <difficult>0</difficult>\n"
        "    <bndbox>\n      <xmin>12.34</xmin>\n      <ymin>5.5</ymin>\n"
        "      <xmax>80.6</xmax>\n      <ymax>48.0</ymax>\n    </bndbox>\n"
        "    <attributes>\n      <attribute>\n        <name>occluded</name>\n"
        "        <value>false</value>\n      </attribute>\n    </attributes>\n"
        "  </object>\n</annotation>\n"
    )
    (root / "labelmap.txt").write_text(
        "# label:color_rgb:parts:actions\nbackground:0,0,0::\ncar:250,50,83::\nperson:51,221,255::\n"
    )
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "default.txt").write_text("frame_000001\n")
    return root


def test_a_cvat_voc_export_is_read_with_its_labelmap_classes_and_an_edge_box(
    tmp_path: Path,
) -> None:
    with pytest.warns(UserWarning, match=r"1 box\(es\) passed their image's edge"):
        dataset = alw.formats.read_voc(cvat_voc(tmp_path))
    assert dataset.classes == ["car", "person"]  # car has no object, and stays
    assert dataset.annotation(0).xyxy.tolist() == [[11.34, 4.5, 80.0, 48.0]]


def datumaro_voc(root: Path, xtl: float, ytl: float, xbr: float, ybr: float) -> Path:
    """A VOC folder as CVAT exports it through Datumaro's VocConverter: its box of corners
    (xtl, ytl, xbr, ybr), as CVAT shows them, kept as Bbox(x, y, w, h) and written with
    ``str(x)``, ``str(x + w)`` (no rounding, no 1 px shift); ``<folder>`` is the item id up to
    its first ``_``, ``<depth>`` empty, no XML declaration (lxml's pretty print)."""
    x, y, w, h = xtl, ytl, xbr - xtl, ybr - ytl
    jpeg(root / "JPEGImages" / "frame_000001.jpg")
    (root / "Annotations").mkdir(parents=True)
    (root / "Annotations" / "frame_000001.xml").write_text(
        "<annotation>\n  <folder>frame</folder>\n  <filename>frame_000001.jpg</filename>\n"
        "  <source>\n    <database>Unknown</database>\n    <annotation>Unknown</annotation>\n"
        "    <image>Unknown</image>\n  </source>\n"
        "  <size>\n    <width>80</width>\n    <height>48</height>\n    <depth></depth>\n"
        "  </size>\n  <segmented>0</segmented>\n"
        "  <object>\n    <name>person</name>\n    <truncated>0</truncated>\n"
        "    <occluded>0</occluded>\n    <difficult>0</difficult>\n"
        f"    <bndbox>\n      <xmin>{x}</xmin>\n      <ymin>{y}</ymin>\n"
        f"      <xmax>{x + w}</xmax>\n      <ymax>{y + h}</ymax>\n    </bndbox>\n"
        "  </object>\n</annotation>\n"
    )
    (root / "labelmap.txt").write_text(
        "# label:color_rgb:parts:actions\nbackground:0,0,0::\nperson:51,221,255::\n"
    )
    return root


def test_a_cvat_voc_box_read_with_coordinates_corners_is_the_box_cvat_shows(
    tmp_path: Path,
) -> None:
    root = datumaro_voc(tmp_path, 12.34, 5.5, 60.6, 40.25)
    dataset = alw.formats.read_voc(root, corners="coordinates")
    [box] = dataset.annotation(0).xyxy.tolist()
    assert box == pytest.approx([12.34, 5.5, 60.6, 40.25])


def test_a_voc_export_in_coordinates_gives_datumaro_the_boxes_corners(tmp_path: Path) -> None:
    dataset = alw.Dataset([png(tmp_path / "src" / "a.png", (20, 30))], ["dot"], task="detect")
    dataset.annotate(0, alw.Boxes([[3.2, 4.0, 13.6, 19.4]], ["dot"]))
    dataset.to_voc(tmp_path / "out", corners="coordinates")
    written = (tmp_path / "out" / "Annotations" / "a.xml").read_text()
    xmin, ymin, xmax, ymax = (
        float(re.findall(rf"<{tag}>(.*)</{tag}>", written)[0])
        for tag in ("xmin", "ymin", "xmax", "ymax")
    )
    # Datumaro's _parse_bbox: [xmin, ymin, xmax - xmin, ymax - ymin], with no shift
    x, y, w, h = xmin, ymin, xmax - xmin, ymax - ymin
    assert [x, y, x + w, y + h] == pytest.approx([3.2, 4.0, 13.6, 19.4])


def test_a_voc_export_writes_whole_pixels_and_a_sub_pixel_box_as_one_pixel(
    tmp_path: Path,
) -> None:
    dataset = alw.Dataset([png(tmp_path / "src" / "a.png", (20, 30))], ["dot"], task="detect")
    dataset.annotate(0, alw.Boxes([[3.2, 4.0, 3.6, 4.4], [29.7, 19.8, 30, 20]], ["dot", "dot"]))
    with pytest.warns(UserWarning, match=r"2 box\(es\) .* moved"):
        dataset.to_voc(tmp_path / "out")
    written = (tmp_path / "out" / "Annotations" / "a.xml").read_text()
    corners = [
        [int(v) for v in re.findall(rf"<{tag}>(\d+)</{tag}>", written)]
        for tag in ("xmin", "ymin", "xmax", "ymax")
    ]
    assert list(zip(*corners, strict=True)) == [(4, 5, 4, 5), (30, 20, 30, 20)]
    back = alw.formats.read_voc(tmp_path / "out")
    assert back.annotation(0).xyxy.tolist() == [[3, 4, 4, 5], [29, 19, 30, 20]]


# -- class names through one-name-per-line files -------------------------------------------------


def test_a_classes_txt_with_a_byte_order_mark_gives_the_names_without_it(tmp_path: Path) -> None:
    # Notepad on Windows saves UTF-8 with a byte-order mark
    png(tmp_path / "images" / "a.png")
    (tmp_path / "classes.txt").write_bytes("car\r\nbus\r\n".encode("utf-8-sig"))
    assert alw.Dataset.from_yolo(tmp_path).classes == ["car", "bus"]


@pytest.mark.parametrize("name", ["two\nlines", " padded", "padded ", "\ufeffmarked"])
@pytest.mark.parametrize("export", ["to_yolo", "to_voc"])
def test_a_class_name_a_line_based_file_would_change_is_refused_at_export(
    tmp_path: Path, name: str, export: str
) -> None:
    dataset = alw.Dataset([png(tmp_path / "a.png")], ["car", name], task="detect")
    dataset.annotate(0, alw.Boxes([[1, 1, 5, 5]], ["car"]))
    with pytest.raises(
        ValueError, match=re.escape(f"class 1 {name!r} would not read back the same")
    ):
        getattr(dataset, export)(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_mask_export_refuses_a_class_name_with_a_line_break(tmp_path: Path) -> None:
    dataset = alw.Dataset([png(tmp_path / "a.png")], ["background", "road\nside"], task="segment")
    dataset.annotate(0, alw.Mask(np.zeros((48, 80), np.uint8)))
    with pytest.raises(ValueError, match=r"PNG masks writes class names one per line"):
        dataset.to_masks(tmp_path / "out")


# -- image folders -------------------------------------------------------------------------------


@pytest.mark.slow  # imports torchvision.datasets
def test_a_class_folder_that_is_a_symbolic_link_is_read_as_imagefolder_reads_it(
    tmp_path: Path,
) -> None:
    from torchvision.datasets import ImageFolder

    png(tmp_path / "store" / "cats" / "c1.png")
    png(tmp_path / "photos" / "dog" / "d1.png")
    (tmp_path / "photos" / "cat").symlink_to(tmp_path / "store" / "cats")
    reference = ImageFolder(str(tmp_path / "photos"))
    (tmp_path / "photos" / "dog" / "loop").symlink_to(tmp_path / "photos" / "dog")  # a cycle
    dataset = alw.Dataset.from_folder(tmp_path / "photos")
    assert dataset.classes == reference.classes == ["cat", "dog"]
    assert [dataset.annotation(i).cls for i in range(len(dataset))] == ["cat", "dog"]
