"""COCO "segment" import of overlapping objects and crowd regions: the same class map whatever
the order of the annotations."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import al_widget as alw

IGNORE = alw.Mask.IGNORE


def square(x0: int, y0: int, x1: int, y1: int) -> list[list[int]]:
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def cat(x0: int, y0: int, x1: int, y1: int) -> dict[str, Any]:
    return {"category_id": 1, "segmentation": square(x0, y0, x1, y1), "iscrowd": 0}


def dog(x0: int, y0: int, x1: int, y1: int) -> dict[str, Any]:
    return {"category_id": 2, "segmentation": square(x0, y0, x1, y1), "iscrowd": 0}


def crowd_of_cats(x0: int, x1: int) -> dict[str, Any]:
    """A crowd region over columns x0..x1 of the 10x10 image, as an uncompressed RLE
    (column-major runs, as the COCO API writes crowds)."""
    return {
        "category_id": 1,
        "segmentation": {"counts": [10 * x0, 10 * (x1 - x0), 10 * (10 - x1)], "size": [10, 10]},
        "iscrowd": 1,
    }


def read(folder: Path, annotations: list[dict[str, Any]]) -> alw.Dataset:
    """A 10x10 image "sq.png" with `annotations`, in that order, read for "segment"."""
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(folder / "sq.png")
    document = {
        "images": [{"id": 1, "file_name": "sq.png", "width": 10, "height": 10}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": k + 1, "image_id": 1, **record} for k, record in enumerate(annotations)
        ],
    }
    (folder / "c.json").write_text(json.dumps(document))
    return alw.Dataset.from_coco(folder / "c.json", folder, task="segment")


@pytest.mark.parametrize("order", [1, -1], ids=["cat first", "dog first"])
def test_pixels_two_classes_claim_are_not_labeled_whatever_the_order(
    tmp_path: Path, order: int
) -> None:
    with pytest.warns(UserWarning, match=r"two classes overlap in 1 image\(s\) \(sq\.png\).* 9 "):
        dataset = read(tmp_path, [cat(0, 0, 6, 6), dog(3, 3, 9, 9)][::order])
    class_map = dataset.annotation(0).class_map
    expected = np.zeros((10, 10), np.uint8)
    expected[0:6, 0:6] = 1
    expected[3:9, 3:9] = 2
    expected[3:6, 3:6] = IGNORE
    np.testing.assert_array_equal(class_map, expected)


def test_overlapping_objects_of_one_class_are_that_class_without_a_warning(
    tmp_path: Path,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = read(tmp_path, [cat(0, 0, 6, 6), cat(3, 3, 9, 9)])
    class_map = dataset.annotation(0).class_map
    assert (class_map[3:6, 3:6] == 1).all()
    assert (class_map == 1).sum() == 36 + 36 - 9


@pytest.mark.parametrize("order", [1, -1], ids=["object first", "crowd first"])
def test_a_crowd_region_never_erases_the_pixels_of_an_object(tmp_path: Path, order: int) -> None:
    dataset = read(tmp_path, [cat(0, 0, 6, 6), crowd_of_cats(0, 2)][::order])
    class_map = dataset.annotation(0).class_map
    assert (class_map[0:6, 0:6] == 1).all()
    assert (class_map[6:, 0:2] == IGNORE).all()  # crowd pixels no object labels
    assert (class_map[:, 6:] == 0).all()


def test_a_crowd_region_over_the_whole_image_keeps_its_objects(tmp_path: Path) -> None:
    dataset = read(tmp_path, [dog(2, 2, 5, 5), crowd_of_cats(0, 10)])
    class_map = dataset.annotation(0).class_map
    assert (class_map[2:5, 2:5] == 2).all()
    assert (class_map == IGNORE).sum() == 100 - 9


def test_an_image_all_in_a_crowd_region_is_left_unlabeled_with_a_warning(
    tmp_path: Path,
) -> None:
    with pytest.warns(UserWarning, match=r"1 image\(s\) have no pixel left labeled.*sq\.png"):
        dataset = read(tmp_path, [crowd_of_cats(0, 10)])
    assert dataset.annotation(0) is None
    assert dataset.coco_origin.crowds[0][0]["iscrowd"] == 1  # kept, to be written back
