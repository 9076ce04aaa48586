"""COCO out: labeled-empty images, ids, crowd regions and polygons, as other tools read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.datasets import shapes

# pycocotools' decode warns under NumPy 2 (its own code, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def convert_coco_poly_to_mask(segmentations: list[Any], height: int, width: int) -> np.ndarray:
    """torchvision references/detection/coco_utils.py's convert_coco_poly_to_mask, in NumPy."""
    from pycocotools import mask as coco_mask

    masks = []
    for polygons in segmentations:
        rles = coco_mask.frPyObjects(polygons, height, width)
        mask = coco_mask.decode(rles)
        if len(mask.shape) < 3:
            mask = mask[..., None]
        masks.append(mask.astype(np.uint8).any(axis=2))
    return np.stack(masks) if masks else np.zeros((0, height, width), bool)


def references_masks(document: dict[str, Any], image_id: Any) -> tuple[list[int], np.ndarray]:
    """What ConvertCocoPolysToMask makes of an image's annotations: labels and masks."""
    image = next(entry for entry in document["images"] if entry["id"] == image_id)
    anno = [a for a in document["annotations"] if a["image_id"] == image_id]
    anno = [obj for obj in anno if obj["iscrowd"] == 0]
    segmentations = [obj["segmentation"] for obj in anno]
    masks = convert_coco_poly_to_mask(segmentations, image["height"], image["width"])
    return [obj["category_id"] for obj in anno], masks


def photos(folder: Path, n: int = 2, size: tuple[int, int] = (30, 40)) -> list[Path]:
    paths = []
    for k in range(n):
        path = folder / f"img{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((*size, 3), 60 * k, np.uint8)).save(path)
        paths.append(path)
    return paths


def uncompressed_rle(binary: np.ndarray) -> dict[str, Any]:
    """COCO's uncompressed RLE, as CVAT and the COCO API write crowds: column-major runs,
    the first one of zeros."""
    flat = binary.ravel(order="F").astype(np.int8)
    ends = [*np.flatnonzero(np.diff(flat)) + 1, flat.size]
    counts = np.diff([0, *ends]).tolist()
    return {"size": list(binary.shape), "counts": [0, *counts] if flat[0] else counts}


def crowd_region() -> dict[str, Any]:
    crowd = np.zeros((30, 40), bool)
    crowd[15:28, 20:38] = True
    return uncompressed_rle(crowd)


def cvat_coco() -> dict[str, Any]:
    """A COCO file as CVAT writes it: category ids 1, 3, 7, image ids 17 and 42, a polygon, a
    box and a crowd region as an uncompressed RLE."""
    return {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {"contributor": "", "description": "", "version": ""},
        "categories": [
            {"id": 1, "name": "car", "supercategory": ""},
            {"id": 3, "name": "person", "supercategory": "human"},
            {"id": 7, "name": "tree", "supercategory": ""},
        ],
        "images": [
            {"id": 17, "width": 40, "height": 30, "file_name": "img0.png", "license": 0},
            {"id": 42, "width": 40, "height": 30, "file_name": "img1.png", "license": 0},
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 17,
                "category_id": 3,
                "segmentation": [[2.0, 3.0, 12.0, 3.0, 12.0, 10.0, 2.0, 10.0]],
                "area": 70.0,
                "bbox": [2.0, 3.0, 10.0, 7.0],
                "iscrowd": 0,
                "attributes": {"occluded": False},
            },
            {
                "id": 2,
                "image_id": 17,
                "category_id": 7,
                "segmentation": crowd_region(),
                "area": 234.0,
                "bbox": [20.0, 15.0, 18.0, 13.0],
                "iscrowd": 1,
                "attributes": {"occluded": False},
            },
            {
                "id": 3,
                "image_id": 42,
                "category_id": 1,
                "segmentation": [[5.0, 5.0, 9.0, 5.0, 9.0, 9.0, 5.0, 9.0]],
                "area": 16.0,
                "bbox": [5.0, 5.0, 4.0, 4.0],
                "iscrowd": 0,
            },
        ],
    }


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_an_image_labeled_with_no_objects_comes_back_labeled(tmp_path: Path, task: str) -> None:
    from pycocotools.coco import COCO

    classes = ["cat", "dog"] if task == "detect" else ["background", "cat"]
    dataset = alw.Dataset(np.zeros((3, 10, 12, 3), np.uint8), classes, task=task)
    empty = (
        alw.Boxes(np.zeros((0, 4)), [])
        if task == "detect"
        else alw.Mask(np.zeros((10, 12), np.uint8))
    )
    dataset.annotate(1, empty)
    written = dataset.to_coco(tmp_path / "labels.json")
    back = alw.Dataset.from_coco(tmp_path / "labels.json", written.images_root, task=task)
    assert back.labeled.tolist() == [0]
    assert back.annotation(0) == dataset.annotation(1)
    coco = COCO(str(tmp_path / "labels.json"))
    assert coco.getImgIds() == [1]
    assert coco.getAnnIds(imgIds=[1]) == []


def test_unlabeled_images_listed_on_request_come_back_unlabeled(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((3, 10, 12, 3), np.uint8), ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes(np.zeros((0, 4)), []))
    dataset.annotate(2, alw.Boxes([[1, 1, 4, 4]], ["cat"]))
    written = dataset.to_coco(tmp_path / "labels.json", include_unlabeled=True)
    back = alw.Dataset.from_coco(tmp_path / "labels.json", written.images_root)
    assert back.labeled.tolist() == [0, 2]
    assert [back.annotation(i) for i in (0, 2)] == [dataset.annotation(i) for i in (0, 2)]


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_ids_categories_and_crowd_regions_survive_import_then_export(
    tmp_path: Path, task: str
) -> None:
    photos(tmp_path)
    source = cvat_coco()
    (tmp_path / "cvat.json").write_text(json.dumps(source))
    dataset = alw.Dataset.from_coco(tmp_path / "cvat.json", tmp_path, task=task)
    dataset.to_coco(tmp_path / "out.json", root=tmp_path)
    out = load(tmp_path / "out.json")
    assert out["categories"] == source["categories"]
    assert [image["id"] for image in out["images"]] == [17, 42]
    [crowd] = [a for a in out["annotations"] if a["iscrowd"]]
    expected = {k: v for k, v in source["annotations"][1].items() if k != "id"}
    assert {k: v for k, v in crowd.items() if k != "id"} == expected
    assert sorted(a["id"] for a in out["annotations"]) == list(range(1, 4))
    back = alw.Dataset.from_coco(tmp_path / "out.json", tmp_path, task=task)
    assert back.classes == dataset.classes
    assert [back.annotation(i) for i in range(2)] == [dataset.annotation(i) for i in range(2)]
    assert back.coco_origin is not None
    assert dataset.coco_origin is not None
    assert back.coco_origin.image_ids == dataset.coco_origin.image_ids
    assert back.coco_origin.categories == dataset.coco_origin.categories


def test_detection_boxes_keep_their_category_ids(tmp_path: Path) -> None:
    photos(tmp_path)
    (tmp_path / "cvat.json").write_text(json.dumps(cvat_coco()))
    dataset = alw.Dataset.from_coco(tmp_path / "cvat.json", tmp_path)
    dataset.to_coco(tmp_path / "out.json", root=tmp_path)
    boxes = [a for a in load(tmp_path / "out.json")["annotations"] if not a["iscrowd"]]
    assert [(a["image_id"], a["category_id"], a["bbox"]) for a in boxes] == [
        (17, 3, [2.0, 3.0, 10.0, 7.0]),
        (42, 1, [5.0, 5.0, 4.0, 4.0]),
    ]


def test_a_crowd_region_over_an_object_comes_back_the_same(tmp_path: Path) -> None:
    photos(tmp_path)
    source = cvat_coco()
    # the person's polygon now reaches under the crowd of trees, listed after it
    source["annotations"][0]["segmentation"] = [[2.0, 3.0, 30.0, 3.0, 30.0, 20.0, 2.0, 20.0]]
    (tmp_path / "cvat.json").write_text(json.dumps(source))
    dataset = alw.Dataset.from_coco(tmp_path / "cvat.json", tmp_path, task="segment")
    assert (dataset.annotation(0).class_map[15:20, 20:30] == 2).all()  # the person's, kept
    assert (dataset.annotation(0).class_map[20:28, 20:38] == alw.Mask.IGNORE).all()
    dataset.to_coco(tmp_path / "out.json", root=tmp_path)
    back = alw.Dataset.from_coco(tmp_path / "out.json", tmp_path, task="segment")
    assert back.annotation(0) == dataset.annotation(0)


def test_pixels_not_labeled_beside_a_crowd_region_read_come_back_in_one_more_crowd(
    tmp_path: Path,
) -> None:
    photos(tmp_path)
    (tmp_path / "cvat.json").write_text(json.dumps(cvat_coco()))
    dataset = alw.Dataset.from_coco(tmp_path / "cvat.json", tmp_path, task="segment")
    class_map = dataset.annotation(0).class_map.copy()
    class_map[0:2, 0:5] = alw.Mask.IGNORE  # the labeler marks more pixels not labeled
    dataset.annotate(0, alw.Mask(class_map))
    dataset.to_coco(tmp_path / "out.json", root=tmp_path)
    crowds = [a for a in load(tmp_path / "out.json")["annotations"] if a["iscrowd"]]
    assert sorted(crowd["area"] for crowd in crowds) == [10.0, 13 * 18]  # the file's one kept
    back = alw.Dataset.from_coco(tmp_path / "out.json", tmp_path, task="segment")
    np.testing.assert_array_equal(back.annotation(0).class_map, class_map)


def test_a_crowd_region_is_read_as_pixels_not_labeled(tmp_path: Path) -> None:
    photos(tmp_path)
    (tmp_path / "cvat.json").write_text(json.dumps(cvat_coco()))
    dataset = alw.Dataset.from_coco(tmp_path / "cvat.json", tmp_path, task="segment")
    class_map = dataset.annotation(0).class_map
    assert (class_map[15:28, 20:38] == alw.Mask.IGNORE).all()
    assert (class_map == alw.Mask.IGNORE).sum() == 13 * 18


def test_pixels_labeled_over_a_crowd_region_come_back_after_export(tmp_path: Path) -> None:
    photos(tmp_path)
    (tmp_path / "cvat.json").write_text(json.dumps(cvat_coco()))
    dataset = alw.Dataset.from_coco(tmp_path / "cvat.json", tmp_path, task="segment")
    class_map = dataset.annotation(0).class_map.copy()
    class_map[16:20, 22:30] = 3  # the labeler paints a tree inside the crowd region
    dataset.annotate(0, alw.Mask(class_map))
    dataset.to_coco(tmp_path / "out.json", root=tmp_path)
    back = alw.Dataset.from_coco(tmp_path / "out.json", tmp_path, task="segment")
    np.testing.assert_array_equal(back.annotation(0).class_map, class_map)


def shapes_segmentation(n: int = 4) -> alw.Dataset:
    data = shapes(n, size=48, seed=3, task="segment")
    dataset = alw.Dataset(data.images, list(data.classes), task="segment")
    for i in range(n):
        dataset.annotate(i, data.annotations[i])
    return dataset


def test_pycocotools_draws_each_polygon_annotation_pixel_equal(tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    dataset = shapes_segmentation()
    dataset.to_coco(tmp_path / "labels.json")
    coco = COCO(str(tmp_path / "labels.json"))
    n_polygons = 0
    for i in range(4):
        class_map = dataset.annotation(i).class_map
        for record in coco.loadAnns(coco.getAnnIds(imgIds=[i])):
            assert record["iscrowd"] == 0
            assert isinstance(record["segmentation"], list)  # polygons, as COCO writes objects
            n_polygons += 1
            assert np.array_equal(coco.annToMask(record), class_map == record["category_id"])
    assert n_polygons > 4


def test_torchvisions_references_read_every_segmentation(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 12, 12, 3), np.uint8), ["bg", "ring", "dot"], "segment")
    class_map = np.zeros((12, 12), np.uint8)
    class_map[2:9, 2:9] = 1
    class_map[4:7, 4:7] = 0  # a hole: no polygon draws it, an uncompressed RLE does
    class_map[10, 10] = 2
    dataset.annotate(0, alw.Mask(class_map))
    dataset.to_coco(tmp_path / "labels.json")
    document = load(tmp_path / "labels.json")
    labels, masks = references_masks(document, 0)
    assert labels == [1, 2]
    assert np.array_equal(masks[0], class_map == 1)
    assert np.array_equal(masks[1], class_map == 2)
    ring = document["annotations"][0]["segmentation"]
    assert isinstance(ring, dict)
    assert isinstance(ring["counts"], list)
    back = alw.Dataset.from_coco(
        tmp_path / "labels.json", tmp_path, task="segment", background="bg"
    )
    assert back.annotation(0) == dataset.annotation(0)


def test_torchvisions_references_read_every_box(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 12, 16, 3), np.uint8), ["cat", "dog"], "detect")
    dataset.annotate(0, alw.Boxes([[2, 3, 12, 8], [0, 0, 16, 12]], ["dog", "cat"]))
    dataset.to_coco(tmp_path / "labels.json")
    labels, masks = references_masks(load(tmp_path / "labels.json"), 0)
    assert labels == [2, 1]
    expected = np.zeros((12, 16), bool)
    expected[3:8, 2:12] = True
    assert np.array_equal(masks[0], expected)
    assert masks[1].all()


def test_a_box_is_written_with_its_rectangle_as_its_polygon(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 12, 16, 3), np.uint8), ["cat"], "detect")
    dataset.annotate(0, alw.Boxes([[0.5, 1.25, 7.75, 11.5]], ["cat"]))
    dataset.to_coco(tmp_path / "labels.json")
    [record] = load(tmp_path / "labels.json")["annotations"]
    assert record["bbox"] == [0.5, 1.25, 7.25, 10.25]
    assert record["segmentation"] == [[0.5, 1.25, 7.75, 1.25, 7.75, 11.5, 0.5, 11.5]]


def test_a_detect_export_is_read_back_from_its_bbox_not_its_polygon(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 12, 16, 3), np.uint8), ["cat"], "detect")
    dataset.annotate(0, alw.Boxes([[0.5, 1.25, 7.75, 11.5]], ["cat"]))
    dataset.to_coco(tmp_path / "labels.json")
    document = load(tmp_path / "labels.json")
    document["annotations"][0]["segmentation"] = [[1.0, 1.0, 3.0, 1.0, 3.0, 3.0]]
    (tmp_path / "labels.json").write_text(json.dumps(document))
    back = alw.Dataset.from_coco(tmp_path / "labels.json", tmp_path)
    assert back.annotation(0) == dataset.annotation(0)


def test_faster_coco_eval_loads_the_export_with_crowds(tmp_path: Path) -> None:
    from faster_coco_eval import COCO

    photos(tmp_path)
    (tmp_path / "cvat.json").write_text(json.dumps(cvat_coco()))
    dataset = alw.Dataset.from_coco(tmp_path / "cvat.json", tmp_path, task="segment")
    dataset.to_coco(tmp_path / "out.json", root=tmp_path)
    coco = COCO(str(tmp_path / "out.json"))
    [crowd] = coco.loadAnns(coco.getAnnIds(imgIds=[17], iscrowd=True))
    assert crowd["category_id"] == 7
    assert coco.annToMask(crowd).sum() == 13 * 18


def test_a_coco_export_warns_once_that_it_drops_difficult_flags(tmp_path):
    dataset = alw.Dataset(np.zeros((2, 10, 20), np.uint8), ["cat", "dog"], task="detect")
    dataset.annotate(
        0, alw.Boxes([[1, 1, 5, 5], [6, 1, 9, 5]], ["cat", "dog"], difficult=[True, False])
    )
    with pytest.warns(UserWarning, match="marked difficult") as caught:
        dataset.to_coco(tmp_path / "coco.json")
    dropped = [str(w.message) for w in caught if "difficult" in str(w.message)]
    assert dropped == [
        "COCO export: the format has no difficult flag, so 1 box(es) marked difficult were "
        "written as ordinary boxes (a Pascal VOC export keeps it)"
    ]
