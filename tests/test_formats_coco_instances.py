"""COCO instances: one annotation per object, polygons where exact, RLE otherwise, in and out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from faster_coco_eval.core import mask as coco_mask
from PIL import Image

import al_widget as alw
from al_widget.datasets import shapes
from al_widget.formats import FormatError

# pycocotools' decode warns under NumPy 2 (its own code, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

CLASSES = ["cat", "dog"]


def labeled_scenes(n: int = 6, labeled: int = 4) -> alw.Dataset:
    data = shapes(n, size=48, seed=1, task="instances")
    dataset = alw.Dataset(data.images, list(data.classes), task="instances")
    for i in range(labeled):
        dataset.annotate(i, data.annotations[i])
    return dataset


def one_image(folder: Path, height: int = 10, width: int = 12) -> Path:
    path = folder / "img.png"
    Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(path)
    return path


def coco_file(folder: Path, annotations: list[dict], height: int = 10, width: int = 12) -> Path:
    document = {
        "images": [{"id": 1, "file_name": "img.png", "width": width, "height": height}],
        "annotations": [
            {"id": k + 1, "image_id": 1, "iscrowd": 0, **record}
            for k, record in enumerate(annotations)
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    }
    path = folder / "labels.json"
    path.write_text(json.dumps(document))
    return path


def test_export_then_import_gives_the_same_objects(tmp_path: Path) -> None:
    dataset = labeled_scenes()
    written = dataset.to_coco(tmp_path / "labels.json")
    back = alw.Dataset.from_coco(tmp_path / "labels.json", written.images_root, task="instances")
    assert back.classes == dataset.classes
    for k, i in enumerate(dataset.labeled):
        assert back.annotation(k) == dataset.annotation(int(i))


def test_pycocotools_draws_every_object_pixel_equal(tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    dataset = labeled_scenes()
    dataset.to_coco(tmp_path / "labels.json")
    coco = COCO(str(tmp_path / "labels.json"))
    for i in range(4):
        objects = dataset.annotation(i)
        records = coco.loadAnns(coco.getAnnIds(imgIds=[i]))
        assert len(records) == len(objects)
        for k, record in enumerate(records):
            assert np.array_equal(coco.annToMask(record).astype(bool), objects.mask(k))
            assert record["category_id"] == objects.class_ids(dataset.classes)[k] + 1
            assert record["iscrowd"] == 0
            assert record["area"] == objects.areas[k]
            x0, y0, x1, y1 = objects.boxes[k]
            assert record["bbox"] == [x0, y0, x1 - x0, y1 - y0]


def test_an_object_with_a_hole_is_written_as_rle_the_others_as_polygons(tmp_path: Path) -> None:
    ring = np.zeros((10, 12), bool)
    ring[1:8, 1:8] = True
    ring[3:5, 3:5] = False
    block = np.zeros((10, 12), bool)
    block[2:6, 8:11] = True
    dataset = alw.Dataset(np.zeros((1, 10, 12), np.uint8), CLASSES, task="instances")
    dataset.annotate(0, alw.Instances([ring, block], ["cat", "cat"]))
    dataset.to_coco(tmp_path / "labels.json")
    records = json.loads((tmp_path / "labels.json").read_text())["annotations"]
    assert isinstance(records[0]["segmentation"], dict)
    assert isinstance(records[1]["segmentation"], list)


def test_polygon_and_rle_segmentations_are_read_as_objects(tmp_path: Path) -> None:
    one_image(tmp_path)
    dog = np.zeros((10, 12), bool)
    dog[5:9, 2:6] = True
    compressed = coco_mask.encode(np.asfortranarray(dog, dtype=np.uint8))
    path = coco_file(
        tmp_path,
        [
            {"category_id": 1, "segmentation": [[0, 0, 4, 0, 4, 3, 0, 3]]},  # polygons (COCO)
            {  # a compressed RLE, as pycocotools writes results
                "category_id": 2,
                "segmentation": {"size": [10, 12], "counts": compressed["counts"].decode()},
            },
            {  # an uncompressed RLE, as CVAT writes a mask
                "category_id": 1,
                "segmentation": {"size": [10, 12], "counts": [100, 5, 15]},
            },
        ],
    )
    objects = alw.Dataset.from_coco(path, tmp_path, task="instances").annotation(0)
    assert objects.classes == ("cat", "dog", "cat")
    assert objects.boxes.tolist() == [[0, 0, 4, 3], [2, 5, 6, 9], [10, 0, 11, 5]]
    assert np.array_equal(objects.mask(1), dog)


def test_crowd_regions_are_no_objects_and_are_written_back(tmp_path: Path) -> None:
    one_image(tmp_path)
    path = coco_file(
        tmp_path,
        [
            {"category_id": 1, "segmentation": [[0, 0, 4, 0, 4, 3, 0, 3]]},
            {
                "category_id": 2,
                "iscrowd": 1,
                "segmentation": {"size": [10, 12], "counts": [60, 60]},
            },
        ],
    )
    dataset = alw.Dataset.from_coco(path, tmp_path, task="instances")
    assert dataset.annotation(0).classes == ("cat",)
    dataset.to_coco(tmp_path / "out.json")
    records = json.loads((tmp_path / "out.json").read_text())["annotations"]
    assert [r["iscrowd"] for r in records] == [1, 0]


def test_an_object_given_twice_in_a_file_is_refused_naming_both(tmp_path: Path) -> None:
    one_image(tmp_path)
    square = [[0, 0, 4, 0, 4, 3, 0, 3]]
    path = coco_file(
        tmp_path,
        [{"category_id": 1, "segmentation": square}, {"category_id": 2, "segmentation": square}],
    )
    with pytest.raises(
        FormatError, match=r"annotation 1 \(id 2\).*the same mask as .*annotation 0"
    ):
        alw.Dataset.from_coco(path, tmp_path, task="instances")


def test_an_object_without_segmentation_is_refused_naming_it(tmp_path: Path) -> None:
    one_image(tmp_path)
    path = coco_file(tmp_path, [{"category_id": 1, "bbox": [0, 0, 2, 2]}])
    with pytest.raises(
        FormatError, match=r"annotation 0 \(id 1\) of image img.png has no 'segmentation'"
    ):
        alw.Dataset.from_coco(path, tmp_path, task="instances")
