"""COCO crowd regions (``iscrowd: 1``): as COCO means them, regions to ignore, never read as
"no objects" without a word; or as objects, as CVAT's "COCO 1.0" export writes every brush
mask."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats._atomic import ExportWarning
from tests.test_formats_coco_export import uncompressed_rle

# pycocotools' decode warns under NumPy 2 (its own code, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

BRUSH = np.zeros((30, 40), bool)
BRUSH[5:15, 10:25] = True  # rows 5..14, columns 10..24: 150 pixels


def cvat_brush_export(folder: Path, **image: Any) -> Path:
    """CVAT's "COCO 1.0" export of one 40x30 image holding one brush mask of "cat", as
    Datumaro's COCO writer (cvat-ai/datumaro, plugins/coco_format/converter.py,
    ``_InstancesConverter.convert_instance``) writes a mask: ``iscrowd: 1``, its pixels as an
    uncompressed RLE (``mask_tools.mask_to_rle``: column-major runs, zeros first), its bbox
    from ``find_mask_bbox`` (pixel edges), its area, and CVAT's attributes. Written as
    annotations/instances_default.json beside images/default/."""
    images = folder / "images" / "default"
    images.mkdir(parents=True)
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(images / "a.png")
    document = {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {
            "contributor": "",
            "date_created": "",
            "description": "",
            "url": "",
            "version": "",
            "year": "",
        },
        "categories": [{"id": 1, "name": "cat", "supercategory": ""}],
        "images": [
            {
                "id": 1,
                "width": 40,
                "height": 30,
                "file_name": "a.png",
                "license": 0,
                "flickr_url": "",
                "coco_url": "",
                "date_captured": 0,
                **image,
            }
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "segmentation": uncompressed_rle(BRUSH),
                "area": 150.0,
                "bbox": [10.0, 5.0, 15.0, 10.0],
                "iscrowd": 1,
                "attributes": {"occluded": False},
            }
        ],
    }
    path = folder / "annotations" / "instances_default.json"
    path.parent.mkdir()
    path.write_text(json.dumps(document))
    return path


def read(folder: Path, task: str, **options: Any) -> alw.Dataset:
    path = folder / "annotations" / "instances_default.json"
    return alw.Dataset.from_coco(path, folder / "images" / "default", task=task, **options)


def test_a_cvat_brush_mask_read_as_an_object_is_its_box_for_detection(tmp_path: Path) -> None:
    cvat_brush_export(tmp_path)
    boxes = read(tmp_path, "detect", crowd="objects").annotation(0)
    assert (boxes.xyxy.tolist(), boxes.labels) == ([[10, 5, 25, 15]], ("cat",))


def test_a_cvat_brush_mask_read_as_an_object_is_one_object_of_its_pixels(tmp_path: Path) -> None:
    cvat_brush_export(tmp_path)
    objects = read(tmp_path, "instances", crowd="objects").annotation(0)
    assert objects.classes == ("cat",)
    np.testing.assert_array_equal(objects.mask(0), BRUSH)


def test_a_cvat_brush_mask_read_as_an_object_paints_its_class(tmp_path: Path) -> None:
    cvat_brush_export(tmp_path)
    class_map = read(tmp_path, "segment", crowd="objects").annotation(0).class_map
    np.testing.assert_array_equal(class_map, BRUSH.astype(np.uint8))


@pytest.mark.filterwarnings("ignore:COCO file .* crowd region")
@pytest.mark.parametrize("task", ["detect", "instances"])
def test_an_image_holding_crowd_regions_only_is_left_unlabeled_not_labeled_empty(
    tmp_path: Path, task: str
) -> None:
    cvat_brush_export(tmp_path)
    dataset = read(tmp_path, task)
    assert dataset.annotation(0) is None
    assert dataset.coco_origin.crowds[0][0]["iscrowd"] == 1  # kept, to be written back


@pytest.mark.parametrize("task", ["detect", "instances", "segment"])
def test_crowd_regions_read_as_regions_to_ignore_are_counted_in_a_warning_naming_the_option(
    tmp_path: Path, task: str
) -> None:
    cvat_brush_export(tmp_path)
    with pytest.warns(
        UserWarning,
        match=r"instances_default\.json: 1 crowd region\(s\) \(iscrowd: 1\) in 1 image\(s\) "
        r'\(a\.png\) are read as COCO means them, regions to ignore.*crowd="objects"',
    ):
        read(tmp_path, task)


@pytest.mark.filterwarnings("ignore:COCO file .* crowd region")
def test_an_export_names_the_unlabeled_images_whose_crowd_regions_it_leaves_out(
    tmp_path: Path,
) -> None:
    cvat_brush_export(tmp_path)
    dataset = read(tmp_path, "detect")
    with pytest.warns(
        ExportWarning,
        match=r"1 unlabeled image\(s\) hold crowd regions \(iscrowd: 1\) read from a COCO file "
        r"\(.*a\.png\): they were left out with their crowd regions.*include_unlabeled=True",
    ):
        dataset.to_coco(tmp_path / "out.json")


@pytest.mark.filterwarnings("ignore:COCO file .* crowd region")
def test_an_export_including_unlabeled_images_writes_their_crowd_regions_back(
    tmp_path: Path,
) -> None:
    cvat_brush_export(tmp_path)
    dataset = read(tmp_path, "detect")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportWarning)
        dataset.to_coco(tmp_path / "out.json", include_unlabeled=True)
    [record] = json.loads((tmp_path / "out.json").read_text())["annotations"]
    assert (record["iscrowd"], record["segmentation"]) == (1, uncompressed_rle(BRUSH))


def coco_of_objects_and_crowds(folder: Path, crowds_only: bool = False) -> Path:
    """A COCO file as COCO's own instances files are: ordinary objects as polygons beside a few
    crowd regions as uncompressed RLE. Image a.png holds an object and a crowd region; with
    `crowds_only`, image b.png a crowd region only. Written as annotations/instances_default.json."""
    path = cvat_brush_export(folder)
    document = json.loads(path.read_text())
    del document["annotations"][0]["attributes"]  # COCO's annotations carry no attributes
    polygon = [[1.0, 1.0, 8.0, 1.0, 8.0, 6.0, 1.0, 6.0]]
    document["annotations"].append(
        {"id": 2, "image_id": 1, "category_id": 1, "segmentation": polygon, "area": 35.0,
         "bbox": [1.0, 1.0, 7.0, 5.0], "iscrowd": 0}
    )  # fmt: skip
    if crowds_only:
        Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(
            path.parent.parent / "images" / "default" / "b.png"
        )
        document["images"].append({**document["images"][0], "id": 2, "file_name": "b.png"})
        document["annotations"].append({**document["annotations"][0], "id": 3, "image_id": 2})
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize("task", ["detect", "instances", "segment"])
def test_crowd_regions_beside_ordinary_objects_are_read_without_a_warning(
    tmp_path: Path, task: str
) -> None:
    coco_of_objects_and_crowds(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = read(tmp_path, task)
    assert dataset.coco_origin.crowds[0][0]["iscrowd"] == 1


@pytest.mark.parametrize("task", ["detect", "instances", "segment"])
def test_brush_masks_of_a_cvat_export_beside_its_polygons_get_the_warning_naming_the_option(
    tmp_path: Path, task: str
) -> None:
    # CVAT's export of a polygon beside a brush mask: Datumaro writes the polygon as an
    # ordinary object (iscrowd 0) and the mask as a crowd region, both with CVAT's attributes
    path = cvat_brush_export(tmp_path)
    document = json.loads(path.read_text())
    document["annotations"].append(
        {"id": 2, "image_id": 1, "category_id": 1,
         "segmentation": [[1.0, 1.0, 8.0, 1.0, 8.0, 6.0, 1.0, 6.0]], "area": 35.0,
         "bbox": [1.0, 1.0, 7.0, 5.0], "iscrowd": 0, "attributes": {"occluded": False}}
    )  # fmt: skip
    path.write_text(json.dumps(document))
    with pytest.warns(
        UserWarning, match=r"Its annotations carry Datumaro's 'attributes'.*crowd=\"objects\""
    ):
        read(tmp_path, task)


@pytest.mark.parametrize("task", ["detect", "instances"])
def test_an_image_of_crowds_only_beside_ordinary_objects_is_named_as_left_unlabeled(
    tmp_path: Path, task: str
) -> None:
    coco_of_objects_and_crowds(tmp_path, crowds_only=True)
    with pytest.warns(
        UserWarning,
        match=r"instances_default\.json: 1 image\(s\) holding only crowd regions \(iscrowd: 1\) "
        r"are left unlabeled \(b\.png\).*only with include_unlabeled=True$",
    ):
        dataset = read(tmp_path, task)
    assert dataset.labeled.tolist() == [0]


@pytest.mark.filterwarnings("ignore:COCO file .* crowd region")
def test_an_image_of_crowd_regions_only_that_the_file_marks_labeled_stays_labeled(
    tmp_path: Path,
) -> None:
    cvat_brush_export(tmp_path, labeled=True)  # as write_coco marks an image labeled
    boxes = read(tmp_path, "detect").annotation(0)
    assert boxes is not None
    assert len(boxes) == 0


def test_crowd_regions_read_as_objects_are_written_back_as_objects_once(tmp_path: Path) -> None:
    cvat_brush_export(tmp_path)
    dataset = read(tmp_path, "instances", crowd="objects")
    assert dataset.coco_origin.crowds == {}
    dataset.to_coco(tmp_path / "out.json")
    [record] = json.loads((tmp_path / "out.json").read_text())["annotations"]
    assert (record["iscrowd"], record["area"]) == (0, 150.0)


def test_a_segmentation_written_here_reads_its_pixels_not_labeled_without_a_warning(
    tmp_path: Path,
) -> None:
    dataset = alw.Dataset(np.zeros((1, 30, 40, 3), np.uint8), ["background", "cat"], "segment")
    class_map = np.where(BRUSH, alw.Mask.IGNORE, 1).astype(np.uint8)
    dataset.annotate(0, alw.Mask(class_map))
    written = dataset.to_coco(tmp_path / "labels.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = alw.Dataset.from_coco(tmp_path / "labels.json", written.images_root, task="segment")
    np.testing.assert_array_equal(back.annotation(0).class_map, class_map)


def test_a_crowd_reading_other_than_ignore_or_objects_is_refused(tmp_path: Path) -> None:
    cvat_brush_export(tmp_path)
    with pytest.raises(ValueError, match=r"crowd must be 'ignore' .* or 'objects', got 'boxes'"):
        read(tmp_path, "detect", crowd="boxes")
