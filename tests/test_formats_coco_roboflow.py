"""Roboflow's COCO export: its category 0, the project, is no class."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import al_widget as alw

# pycocotools' decode warns under NumPy 2 (its own code, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

IMAGE = "a_jpg.rf.3f1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c.jpg"
DOG = [[1.0, 2.0, 11.0, 2.0, 11.0, 10.0, 1.0, 10.0]]  # 10x8 pixels, its bbox [1, 2, 10, 8]


def roboflow_export(
    folder: Path, categories: list[dict[str, Any]] | None = None, segmentation: Any = ()
) -> Path:
    """A split of Roboflow's COCO export, train/_annotations.coco.json beside its images, as
    Roboflow writes it (its public datasets ship so): category 0 is the project ("pets", its
    supercategory "none"), the classes name it as their supercategory; one 40x30 image with a
    "dog" box (an empty segmentation, or `segmentation` for a polygon project)."""
    split = folder / "train"
    split.mkdir(parents=True)
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(split / IMAGE)
    document = {
        "info": {
            "year": "2024",
            "version": "1",
            "description": "Exported from roboflow.com",
            "contributor": "",
            "url": "https://public.roboflow.com/object-detection/undefined",
            "date_created": "2024-05-02T10:11:12+00:00",
        },
        "licenses": [
            {"id": 1, "url": "https://creativecommons.org/licenses/by/4.0/", "name": "CC BY 4.0"}
        ],
        "categories": categories
        or [
            {"id": 0, "name": "pets", "supercategory": "none"},
            {"id": 1, "name": "cat", "supercategory": "pets"},
            {"id": 2, "name": "dog", "supercategory": "pets"},
        ],
        "images": [
            {
                "id": 0,
                "license": 1,
                "file_name": IMAGE,
                "height": 30,
                "width": 40,
                "date_captured": "2024-05-02T10:11:12+00:00",
            }
        ],
        "annotations": [
            {
                "id": 0,
                "image_id": 0,
                "category_id": 2 if categories is None else 1,
                "bbox": [1, 2, 10, 8],
                "area": 80,
                "segmentation": list(segmentation),
                "iscrowd": 0,
            }
        ],
    }
    path = split / "_annotations.coco.json"
    path.write_text(json.dumps(document))
    return path


def read(path: Path, **options: Any) -> alw.Dataset:
    return alw.Dataset.from_coco(path, path.parent, **options)


@pytest.mark.filterwarnings("ignore:COCO file .* left out of the classes")
def test_a_roboflow_coco_export_gives_the_classes_without_the_project(tmp_path: Path) -> None:
    dataset = read(roboflow_export(tmp_path))
    assert dataset.classes == ["cat", "dog"]
    assert dataset.annotation(0).labels == ("dog",)


def test_the_project_category_left_out_is_named_in_a_warning(tmp_path: Path) -> None:
    with pytest.warns(
        UserWarning,
        match=r"category 'pets' \(id 0\) is left out of the classes: no annotation uses it and "
        r"it is the supercategory of all the others, as Roboflow's export lists the project",
    ):
        read(roboflow_export(tmp_path))


def test_a_roboflow_coco_export_reads_with_the_classes_it_labels(tmp_path: Path) -> None:
    path = roboflow_export(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = read(path, classes=["cat", "dog"])
    assert dataset.classes == ["cat", "dog"]


@pytest.mark.filterwarnings("ignore:COCO file .* left out of the classes")
def test_a_roboflow_segmentation_names_its_background_not_after_the_project(
    tmp_path: Path,
) -> None:
    dataset = read(roboflow_export(tmp_path, segmentation=DOG), task="segment")
    assert dataset.classes == ["background", "cat", "dog"]
    class_map = dataset.annotation(0).class_map
    assert (class_map[2:10, 1:11] == 2).all()
    assert (class_map == 2).sum() == 80


@pytest.mark.filterwarnings("ignore:COCO file .* left out of the classes")
def test_a_one_class_roboflow_project_named_after_its_class_gives_that_class(
    tmp_path: Path,
) -> None:
    categories = [
        {"id": 0, "name": "helmet", "supercategory": "none"},
        {"id": 1, "name": "helmet", "supercategory": "helmet"},
    ]
    dataset = read(roboflow_export(tmp_path, categories))
    assert dataset.classes == ["helmet"]
    assert dataset.annotation(0).labels == ("helmet",)


def test_an_unused_category_that_is_its_own_supercategory_is_a_class(tmp_path: Path) -> None:
    categories = [
        {"id": 0, "name": "vehicle", "supercategory": "vehicle"},
        {"id": 1, "name": "car", "supercategory": "vehicle"},
        {"id": 2, "name": "truck", "supercategory": "vehicle"},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = read(roboflow_export(tmp_path, categories))
    assert dataset.classes == ["vehicle", "car", "truck"]
    assert dataset.annotation(0).labels == ("car",)


def test_the_project_category_is_kept_when_the_classes_given_hold_it(tmp_path: Path) -> None:
    dataset = read(roboflow_export(tmp_path), classes=["pets", "cat", "dog"])
    assert dataset.classes == ["pets", "cat", "dog"]


@pytest.mark.filterwarnings("ignore:COCO file .* left out of the classes")
def test_the_classes_keep_their_roboflow_category_ids_when_written_back(tmp_path: Path) -> None:
    dataset = read(roboflow_export(tmp_path))
    dataset.to_coco(tmp_path / "out.json")
    document = json.loads((tmp_path / "out.json").read_text())
    assert [(c["id"], c["name"]) for c in document["categories"]] == [(1, "cat"), (2, "dog")]
    assert [a["category_id"] for a in document["annotations"]] == [2]
