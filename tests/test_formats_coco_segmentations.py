"""COCO segmentations and crowd flags as files write them: checked before anything is drawn,
a malformed one refused naming its annotation and the problem."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats import FormatError, _coco_masks

# pycocotools' decode warns under NumPy 2 (its own code, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SQUARE = [[2, 2, 10, 2, 10, 10, 2, 10]]  # an 8x8 square, 64 pixels


def coco_file(folder: Path, annotation: dict, height: int = 30, width: int = 40) -> Path:
    """One `width` x `height` image with one annotation, as CVAT's "COCO 1.0" export writes them."""
    Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(folder / "a.png")
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
                "width": width,
                "height": height,
                "file_name": "a.png",
                "license": 0,
                "flickr_url": "",
                "coco_url": "",
                "date_captured": 0,
            }
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "segmentation": SQUARE,
                "area": 64.0,
                "bbox": [2.0, 2.0, 8.0, 8.0],
                "iscrowd": 0,
                "attributes": {"occluded": False},
                **annotation,
            }
        ],
    }
    path = folder / "labels.json"
    path.write_text(json.dumps(document))  # Python's json writes NaN and Infinity as such
    return path


def read(path: Path, task: str = "instances") -> alw.Dataset:
    return alw.Dataset.from_coco(path, path.parent, task=task)


WHERE = r"annotation 0 \(id 1\) of image a\.png"


class NoDrawing:
    """Stands in for faster-coco-eval's mask module: drawing anything fails the test."""

    def __getattr__(self, name: str) -> None:
        raise AssertionError(f"the segmentation was drawn (mask.{name}) before it was checked")


# -- polygons ------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["instances", "segment"])
@pytest.mark.parametrize(
    "segmentation",
    [[[2, 2, 10, 10]], [[2, 2, 10, 10], [20, 20, 30, 20, 30, 28]]],
    ids=["alone", "before-a-triangle"],
)
def test_a_four_number_polygon_is_refused_not_read_as_a_box(
    tmp_path: Path, task: str, segmentation: list
) -> None:
    path = coco_file(tmp_path, {"segmentation": segmentation})
    with pytest.raises(
        FormatError, match=rf"{WHERE}, polygon 0: needs x, y pairs of at least 3 points, got 4"
    ):
        read(path, task)


def test_a_polygon_with_an_odd_count_of_numbers_is_refused(tmp_path: Path) -> None:
    path = coco_file(tmp_path, {"segmentation": [[2, 2, 10, 2, 10, 10, 2]]})
    with pytest.raises(FormatError, match=rf"{WHERE}, polygon 0: .* got 7 numbers"):
        read(path)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_polygon_coordinate_is_refused_before_drawing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: float
) -> None:
    path = coco_file(tmp_path, {"segmentation": [[2, 2, 10, 2, value, 10, 2, 10]]})
    monkeypatch.setattr(_coco_masks, "coco_mask", NoDrawing())  # drawing it asks for gigabytes
    with pytest.raises(FormatError, match=rf"{WHERE}, polygon 0: a coordinate is not finite"):
        read(path)


@pytest.mark.parametrize("point", [(1e5, 10), (10, -1e5)], ids=["x", "y"])
def test_a_polygon_point_further_outside_than_the_image_size_is_refused(
    tmp_path: Path, point: tuple[float, float]
) -> None:
    x, y = point
    path = coco_file(tmp_path, {"segmentation": [[2, 2, x, y, 10, 10, 2, 10]]})
    with pytest.raises(
        FormatError,
        match=rf"{WHERE}, polygon 0: point \({x:g}, {y:g}\) lies too far outside the 40x30 image",
    ):
        read(path)


def test_a_polygon_overshooting_the_image_edge_a_little_is_clipped_to_it(tmp_path: Path) -> None:
    # a vertex dragged 5 px past the left edge, as annotation tools let one do
    path = coco_file(tmp_path, {"segmentation": [[-5.0, 2.0, 10.0, 2.0, 10.0, 10.0, -5.0, 10.0]]})
    objects = read(path).annotation(0)
    assert objects.boxes.tolist() == [[0, 2, 10, 10]]
    assert objects.areas.tolist() == [80]


def test_a_polygon_up_to_the_image_size_outside_is_read(tmp_path: Path) -> None:
    path = coco_file(tmp_path, {"segmentation": [[-40, -30, 80, -30, 80, 60, -40, 60]]})
    assert read(path).annotation(0).areas.tolist() == [40 * 30]


def test_polygons_written_as_xy_pairs_are_refused_naming_the_problem(tmp_path: Path) -> None:
    path = coco_file(tmp_path, {"segmentation": [[2, 2], [10, 2], [10, 10], [2, 10]]})
    with pytest.raises(
        FormatError,
        match=rf"{WHERE}: its polygon is written as \[x, y\] pairs; COCO writes each polygon as one flat list",
    ):
        read(path)


def test_a_polygon_of_xy_pairs_in_a_list_is_refused_naming_the_problem(tmp_path: Path) -> None:
    path = coco_file(tmp_path, {"segmentation": [[[2, 2], [10, 2], [10, 10], [2, 10]]]})
    with pytest.raises(
        FormatError, match=rf"{WHERE}, polygon 0 is written as \[x, y\] pairs; COCO writes"
    ):
        read(path)


# -- RLE -----------------------------------------------------------------------------------------


def test_float_rle_counts_are_refused_naming_the_count(tmp_path: Path) -> None:
    rle = {"size": [30, 40], "counts": [5, 10.0, 1185]}
    path = coco_file(tmp_path, {"segmentation": rle})
    with pytest.raises(
        FormatError, match=rf"{WHERE}: its RLE 'counts' must be ints >= 0, got 10.0 at position 1"
    ):
        read(path)


def test_a_float_rle_size_is_refused_naming_it(tmp_path: Path) -> None:
    rle = {"size": [30.0, 40.0], "counts": [5, 10, 1185]}
    path = coco_file(tmp_path, {"segmentation": rle})
    with pytest.raises(
        FormatError,
        match=rf"{WHERE}: its RLE 'size' must be \[height, width\] as ints, got \[30.0, 40.0\]",
    ):
        read(path)


# -- crowds --------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["instances", "detect"])
@pytest.mark.parametrize("flag", ["0", "false", "False", False])
def test_iscrowd_written_as_a_string_or_bool_false_is_an_object(
    tmp_path: Path, task: str, flag: object
) -> None:
    dataset = read(coco_file(tmp_path, {"iscrowd": flag}), task)
    assert len(dataset.annotation(0)) == 1
    assert dataset.coco_origin.crowds == {}


@pytest.mark.filterwarnings("ignore:COCO file .* crowd region")
@pytest.mark.parametrize("flag", ["1", "true", True])
def test_iscrowd_written_as_a_string_or_bool_true_is_a_crowd_written_back_as_1(
    tmp_path: Path, flag: object
) -> None:
    dataset = read(coco_file(tmp_path, {"iscrowd": flag}))
    assert dataset.coco_origin.crowds[0][0]["iscrowd"] == 1
    dataset.to_coco(tmp_path / "out.json", include_unlabeled=True)
    [record] = json.loads((tmp_path / "out.json").read_text())["annotations"]
    assert record["iscrowd"] == 1


@pytest.mark.parametrize("flag", [2, "yes", 1.0, [1]])
def test_an_iscrowd_that_is_no_0_or_1_is_refused_naming_the_annotation(
    tmp_path: Path, flag: object
) -> None:
    path = coco_file(tmp_path, {"iscrowd": flag})
    with pytest.raises(
        FormatError, match=r"annotation 0 \(id 1\): 'iscrowd' must be 0 or 1 \(or true or false\)"
    ):
        read(path)
