"""COCO JSON out and in: round trips, readers other tools use, where images go, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.datasets import shapes
from al_widget.formats import FormatError
from al_widget.formats._replace import MANIFEST

# pycocotools' decode warns under NumPy 2 (its own code, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def labeled_shapes(task: str, n: int = 6, labeled: int = 4) -> alw.Dataset:
    """`n` shapes images of 48 px, the first `labeled` of them annotated."""
    data = shapes(n, size=48, seed=1, task=task)
    dataset = alw.Dataset(data.images, list(data.classes), task=task)
    for i in range(labeled):
        dataset.annotate(i, data.annotations[i])
    return dataset


def image_files(folder: Path, n: int = 4, size: tuple[int, int] = (30, 40)) -> list[Path]:
    """`n` PNG files of (H, W) `size` under folder/a/ and folder/b/."""
    paths = []
    for k in range(n):
        path = folder / ("a" if k % 2 == 0 else "b") / f"img{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((*size, 3), 40 * k, np.uint8)).save(path)
        paths.append(path)
    return paths


def write_json(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document))
    return path


def small_coco(**changes: object) -> dict:
    """A valid COCO document: one 40x30 image, one box of category 1."""
    document = {
        "images": [{"id": 7, "file_name": "a/img0.png", "width": 40, "height": 30}],
        "annotations": [
            {"id": 3, "image_id": 7, "category_id": 1, "bbox": [1, 2, 10, 5], "iscrowd": 0}
        ],
        "categories": [{"id": 1, "name": "cat"}],
    }
    document.update(changes)
    return document


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_export_then_import_gives_equal_annotations_and_pixels(tmp_path: Path, task: str) -> None:
    dataset = labeled_shapes(task)
    written = dataset.to_coco(tmp_path / "labels.json")
    back = alw.Dataset.from_coco(tmp_path / "labels.json", written.images_root, task=task)
    assert back.classes == dataset.classes
    assert len(back) == 4
    for k, i in enumerate(dataset.labeled):
        assert back.annotation(k) == dataset.annotation(int(i))
        assert np.array_equal(back.image(k), dataset.image(int(i)))


def test_in_memory_images_are_written_as_png_beside_the_json(tmp_path: Path) -> None:
    written = labeled_shapes("detect").to_coco(tmp_path / "labels.json")
    document = json.loads((tmp_path / "labels.json").read_text())
    assert [image["file_name"] for image in document["images"]] == [
        f"images/{i:06d}.png" for i in range(4)
    ]
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [
        MANIFEST,  # what overwrite=True may replace
        *(f"{i:06d}.png" for i in range(4)),
    ]
    assert written.images_root == tmp_path.absolute()


def test_export_reports_what_it_wrote(tmp_path: Path) -> None:
    dataset = labeled_shapes("detect")
    written = dataset.to_coco(tmp_path / "labels.json")
    n_boxes = sum(len(dataset.annotation(int(i))) for i in dataset.labeled)
    assert (written.n_images, written.n_annotations) == (4, n_boxes)
    assert str(written) == f"wrote {tmp_path / 'labels.json'}: 4 images, {n_boxes} annotations"


def test_detection_categories_start_at_1_and_boxes_are_xywh(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 20, 30, 3), np.uint8), ["cat", "dog"], task="detect")
    dataset.annotate(0, alw.Boxes([[2, 3, 12, 8]], ["dog"]))
    dataset.to_coco(tmp_path / "labels.json")
    document = json.loads((tmp_path / "labels.json").read_text())
    assert document["categories"] == [
        {"id": 1, "name": "cat", "supercategory": ""},
        {"id": 2, "name": "dog", "supercategory": ""},
    ]
    [record] = document["annotations"]
    assert record["category_id"] == 2
    assert record["bbox"] == [2, 3, 10, 5]
    assert record["area"] == 50
    assert record["iscrowd"] == 0


def test_segmentation_writes_one_polygon_annotation_per_class_and_no_background_category(
    tmp_path: Path,
) -> None:
    classes = ["background", "road", "car"]
    dataset = alw.Dataset(np.zeros((1, 6, 8, 3), np.uint8), classes, task="segment")
    class_map = np.zeros((6, 8), np.uint8)
    class_map[1:3, 2:6] = 2
    class_map[4:, :] = 1
    dataset.annotate(0, alw.Mask(class_map))
    dataset.to_coco(tmp_path / "labels.json")
    document = json.loads((tmp_path / "labels.json").read_text())
    assert [c["name"] for c in document["categories"]] == ["road", "car"]
    assert [c["id"] for c in document["categories"]] == [1, 2]
    records = {r["category_id"]: r for r in document["annotations"]}
    assert records[1]["area"] == 16
    assert records[2]["area"] == 8
    assert records[2]["bbox"] == [2, 1, 4, 2]
    assert records[2]["segmentation"] == [[2, 1, 6, 1, 6, 3, 2, 3]]  # along the pixel edges
    assert records[1]["segmentation"] == [[0, 4, 8, 4, 8, 6, 0, 6]]


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_pycocotools_loads_the_export_with_the_same_boxes_and_pixels(
    tmp_path: Path, task: str
) -> None:
    from pycocotools.coco import COCO

    dataset = labeled_shapes(task)
    dataset.to_coco(tmp_path / "labels.json")
    coco = COCO(str(tmp_path / "labels.json"))
    assert sorted(coco.getImgIds()) == [0, 1, 2, 3]
    for i in range(4):
        records = coco.loadAnns(coco.getAnnIds(imgIds=[i]))
        if task == "detect":
            boxes = dataset.annotation(i)
            xywh = boxes.xyxy.copy()
            xywh[:, 2:] -= xywh[:, :2]
            assert [r["bbox"] for r in records] == xywh.tolist()
            assert [r["category_id"] - 1 for r in records] == boxes.class_ids(
                dataset.classes
            ).tolist()
        else:
            class_map = np.zeros((48, 48), np.uint8)
            for record in records:
                class_map[coco.annToMask(record) > 0] = record["category_id"]
            assert np.array_equal(class_map, dataset.annotation(i).class_map)


def test_torchvision_coco_detection_reads_the_export(tmp_path: Path) -> None:
    from torchvision.datasets import CocoDetection, wrap_dataset_for_transforms_v2

    dataset = labeled_shapes("detect")
    written = dataset.to_coco(tmp_path / "labels.json")
    coco = wrap_dataset_for_transforms_v2(
        CocoDetection(str(written.images_root), str(tmp_path / "labels.json"))
    )
    assert len(coco) == 4
    for k in range(4):
        image, target = coco[k]
        boxes = dataset.annotation(k)
        assert image.size == (48, 48)
        assert target["boxes"].tolist() == boxes.xyxy.tolist()
        assert tuple(target["boxes"].canvas_size) == (48, 48)
        assert target["labels"].tolist() == (boxes.class_ids(dataset.classes) + 1).tolist()


def test_file_names_are_relative_to_the_images_common_folder(tmp_path: Path) -> None:
    paths = image_files(tmp_path / "photos")
    dataset = alw.Dataset(paths, ["cat"], task="detect")
    dataset.annotate(1, alw.Boxes([[1, 1, 9, 9]], ["cat"]))
    dataset.annotate(2, alw.Boxes([[5, 5, 20, 20]], ["cat"]))
    written = dataset.to_coco(tmp_path / "out" / "labels.json")
    document = json.loads((tmp_path / "out" / "labels.json").read_text())
    assert [image["file_name"] for image in document["images"]] == ["b/img1.png", "a/img2.png"]
    assert written.images_root == (tmp_path / "photos").absolute()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["labels.json"]
    back = alw.Dataset.from_coco(tmp_path / "out" / "labels.json", tmp_path / "photos")
    assert [back.annotation(k) for k in range(2)] == [dataset.annotation(1), dataset.annotation(2)]


def test_root_makes_file_names_relative_to_it(tmp_path: Path) -> None:
    paths = image_files(tmp_path / "photos", n=2)
    dataset = alw.Dataset(paths, ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes([[1, 1, 9, 9]], ["cat"]))
    dataset.to_coco(tmp_path / "labels.json", root=tmp_path)
    document = json.loads((tmp_path / "labels.json").read_text())
    assert document["images"][0]["file_name"] == "photos/a/img0.png"


def test_an_image_outside_root_is_refused_naming_it(tmp_path: Path) -> None:
    paths = image_files(tmp_path / "photos", n=2)
    dataset = alw.Dataset(paths, ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes([[1, 1, 9, 9]], ["cat"]))
    with pytest.raises(ValueError, match=r"image 0 \(.*img0\.png\) is not inside root"):
        dataset.to_coco(tmp_path / "labels.json", root=tmp_path / "elsewhere")
    assert not (tmp_path / "labels.json").exists()


def test_unlabeled_images_are_left_out_unless_asked(tmp_path: Path) -> None:
    dataset = labeled_shapes("detect", n=6, labeled=2)
    dataset.annotate(2, alw.Boxes(np.zeros((0, 4)), []))  # looked at: nothing there
    assert dataset.to_coco(tmp_path / "labeled.json").n_images == 3
    written = dataset.to_coco(tmp_path / "all.json", include_unlabeled=True, overwrite=True)
    assert written.n_images == 6
    back = alw.Dataset.from_coco(tmp_path / "all.json", written.images_root)
    assert back.labeled.tolist() == [0, 1, 2]
    assert [back.annotation(i) for i in range(3)] == [dataset.annotation(i) for i in range(3)]


def test_images_without_annotations_are_the_unlabeled_pool(tmp_path: Path) -> None:
    image_files(tmp_path, n=2)
    document = small_coco()
    document["images"].append({"id": 8, "file_name": "b/img1.png", "width": 40, "height": 30})
    back = alw.Dataset.from_coco(write_json(tmp_path / "c.json", document), tmp_path)
    assert back.labeled.tolist() == [0]
    assert back.unlabeled.tolist() == [1]
    assert back.annotation(0) == alw.Boxes([[1, 2, 11, 7]], ["cat"], canvas_size=(30, 40))


def test_polygons_are_painted_into_the_class_map(tmp_path: Path) -> None:
    image_files(tmp_path, n=1, size=(10, 10))
    document = small_coco()
    document["images"][0].update(width=10, height=10)
    document["annotations"] = [
        {"id": 1, "image_id": 7, "category_id": 1, "segmentation": [[2, 2, 6, 2, 6, 5, 2, 5]]}
    ]
    back = alw.Dataset.from_coco(
        write_json(tmp_path / "c.json", document), tmp_path, task="segment"
    )
    assert back.classes == ["background", "cat"]
    class_map = back.annotation(0).class_map
    assert class_map[3, 4] == 1
    assert class_map[0, 0] == 0
    assert 9 <= int(class_map.sum()) <= 20  # the polygon's 4x3 pixels, give or take its edge


def test_crowd_boxes_are_left_out_as_torchvisions_references_do(tmp_path: Path) -> None:
    image_files(tmp_path, n=1)
    document = small_coco()
    document["annotations"].append(
        {"id": 4, "image_id": 7, "category_id": 1, "bbox": [0, 0, 20, 20], "iscrowd": 1}
    )
    back = alw.Dataset.from_coco(write_json(tmp_path / "c.json", document), tmp_path)
    assert back.annotation(0).xyxy.tolist() == [[1, 2, 11, 7]]


def test_an_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text("mine")
    with pytest.raises(FileExistsError, match=r"labels\.json already exists; pass overwrite=True"):
        labeled_shapes("detect").to_coco(tmp_path / "labels.json")
    assert (tmp_path / "labels.json").read_text() == "mine"
    assert not (tmp_path / "images").exists()


def test_an_existing_image_file_stops_the_export_before_anything_is_written(
    tmp_path: Path,
) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "000002.png").write_bytes(b"mine")
    with pytest.raises(FileExistsError, match=r"000002\.png already exists"):
        labeled_shapes("detect").to_coco(tmp_path / "labels.json")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["000002.png", "images"]


def test_overwrite_replaces_the_file(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text("old")
    labeled_shapes("detect").to_coco(tmp_path / "labels.json", overwrite=True)
    assert len(json.loads((tmp_path / "labels.json").read_text())["images"]) == 4


def test_a_classification_dataset_has_no_coco_export(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((2, 4, 4), np.uint8), ["a", "b"])
    with pytest.raises(
        ValueError, match="COCO holds detect, segment or instances annotations; .* 'classify'"
    ):
        dataset.to_coco(tmp_path / "labels.json")


def test_an_annotation_for_an_unknown_image_id_is_named(tmp_path: Path) -> None:
    image_files(tmp_path, n=1)
    document = small_coco()
    document["annotations"][0]["image_id"] = 99
    path = write_json(tmp_path / "c.json", document)
    message = f"COCO file {path}: annotation 0 (id 3): image_id 99 is not in 'images'"
    with pytest.raises(FormatError, match=re.escape(message)):
        alw.Dataset.from_coco(path, tmp_path)


def test_an_annotation_of_an_unknown_category_is_named(tmp_path: Path) -> None:
    image_files(tmp_path, n=1)
    document = small_coco()
    document["annotations"][0]["category_id"] = 5
    path = write_json(tmp_path / "c.json", document)
    message = "annotation 0 (id 3): category_id 5 is not in 'categories' (ids [1])"
    with pytest.raises(FormatError, match=re.escape(message)):
        alw.Dataset.from_coco(path, tmp_path)


def test_a_box_outside_its_image_is_named(tmp_path: Path) -> None:
    image_files(tmp_path, n=1)
    document = small_coco()
    document["annotations"][0]["bbox"] = [35, 2, 10, 5]
    path = write_json(tmp_path / "c.json", document)
    with pytest.raises(
        FormatError,
        match=r"annotation 0 \(id 3\) of image a/img0\.png: box .* lies more than 1 px outside the 40x30 image",
    ):
        alw.Dataset.from_coco(path, tmp_path)


def test_a_missing_image_file_is_named_with_its_entry(tmp_path: Path) -> None:
    path = write_json(tmp_path / "c.json", small_coco())
    with pytest.raises(FormatError, match=r"image 7 \(a/img0\.png\): file .*img0\.png not found"):
        alw.Dataset.from_coco(path, tmp_path)


def test_a_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{not json")
    with pytest.raises(FormatError, match=re.escape(f"COCO file {path} is not valid JSON")):
        alw.Dataset.from_coco(path, tmp_path)


def test_categories_that_differ_from_the_classes_expected_are_named(tmp_path: Path) -> None:
    image_files(tmp_path, n=1)
    path = write_json(tmp_path / "c.json", small_coco())
    with pytest.raises(
        FormatError,
        match=r"classes \['cat'\] differ from the expected classes \['cat', 'dog'\] \(missing: \['dog'\]\)",
    ):
        alw.Dataset.from_coco(path, tmp_path, classes=["cat", "dog"])


def test_an_uncompressed_rle_is_painted_into_the_class_map(tmp_path: Path) -> None:
    image_files(tmp_path, n=1, size=(3, 4))
    document = small_coco()
    document["images"][0].update(width=4, height=3)
    # column-major runs: 3 background (column 0), 3 object (column 1), 6 background
    rle = {"size": [3, 4], "counts": [3, 3, 6]}
    document["annotations"] = [
        {"id": 1, "image_id": 7, "category_id": 1, "segmentation": rle, "iscrowd": 0}
    ]
    back = alw.Dataset.from_coco(
        write_json(tmp_path / "c.json", document), tmp_path, task="segment"
    )
    expected = np.zeros((3, 4), np.uint8)
    expected[:, 1] = 1
    assert np.array_equal(back.annotation(0).class_map, expected)


def test_an_annotation_without_a_segmentation_is_named_for_a_segment_dataset(
    tmp_path: Path,
) -> None:
    image_files(tmp_path, n=1)
    path = write_json(tmp_path / "c.json", small_coco())
    with pytest.raises(
        FormatError, match=r"annotation 0 \(id 3\) of image a/img0\.png has no 'segmentation'"
    ):
        alw.Dataset.from_coco(path, tmp_path, task="segment")


def test_ignore_pixels_become_one_crowd_region_in_a_segmentation_export(tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    classes = ["background", "road", "car"]
    dataset = alw.Dataset(np.zeros((1, 6, 8, 3), np.uint8), classes, task="segment")
    class_map = np.zeros((6, 8), np.uint8)
    class_map[1:4, 1:7] = alw.Mask.IGNORE
    class_map[2, 2:6] = 2
    class_map[5, :] = 1
    dataset.annotate(0, alw.Mask(class_map))
    dataset.to_coco(tmp_path / "labels.json")
    coco = COCO(str(tmp_path / "labels.json"))
    records = coco.loadAnns(coco.getAnnIds(imgIds=[0], iscrowd=False))
    assert sorted(r["category_id"] for r in records) == [1, 2]
    assert sorted(coco.getCatIds()) == [1, 2]
    for record in records:
        assert np.array_equal(coco.annToMask(record) > 0, class_map == record["category_id"])
    [crowd] = [r for r in coco.loadAnns(coco.getAnnIds(imgIds=[0])) if r["iscrowd"]]
    assert isinstance(crowd["segmentation"]["counts"], list)  # uncompressed, as COCO's crowds
    assert np.array_equal(coco.annToMask(crowd) > 0, class_map == alw.Mask.IGNORE)


def test_pixels_not_labeled_come_back_not_labeled_after_a_coco_round_trip(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 4, 4, 3), np.uint8), ["background", "cat"], task="segment")
    class_map = np.full((4, 4), alw.Mask.IGNORE, np.uint8)
    class_map[0, 0] = 1
    class_map[3, 1:] = 0
    dataset.annotate(0, alw.Mask(class_map))
    dataset.to_coco(tmp_path / "labels.json")
    back = alw.Dataset.from_coco(tmp_path / "labels.json", tmp_path, task="segment")
    np.testing.assert_array_equal(back.annotation(0).class_map, class_map)


def sky_and_cat() -> alw.Dataset:
    with pytest.warns(UserWarning, match="is the background of a segmentation"):
        dataset = alw.Dataset(np.zeros((1, 4, 4, 3), np.uint8), ["sky", "cat"], task="segment")
    class_map = np.zeros((4, 4), np.uint8)
    class_map[0, 0] = 1
    dataset.annotate(0, alw.Mask(class_map))
    return dataset


@pytest.mark.filterwarnings("ignore:class 0 .* is the background:UserWarning")
def test_a_segmentation_round_trip_keeps_the_name_of_class_0(tmp_path: Path) -> None:
    dataset = sky_and_cat()
    dataset.to_coco(tmp_path / "labels.json")
    document = json.loads((tmp_path / "labels.json").read_text())
    assert [c["name"] for c in document["categories"]] == ["cat"]  # class 0 is no category
    back = alw.Dataset.from_coco(tmp_path / "labels.json", tmp_path, task="segment")
    assert back.classes == ["sky", "cat"]
    named = alw.Dataset.from_coco(
        tmp_path / "labels.json", tmp_path, task="segment", classes=dataset.classes
    )
    assert named.annotation(0) == dataset.annotation(0)


@pytest.mark.filterwarnings("ignore:class 0 .* is the background:UserWarning")
def test_expected_classes_differing_in_class_0_only_suggest_the_background_name(
    tmp_path: Path,
) -> None:
    dataset = sky_and_cat()
    dataset.to_coco(tmp_path / "labels.json")
    document = json.loads((tmp_path / "labels.json").read_text())
    del document["info"]  # as another tool writes it: no name for class 0
    (tmp_path / "labels.json").write_text(json.dumps(document))
    with pytest.raises(FormatError, match=r"pass background='sky'"):
        alw.Dataset.from_coco(
            tmp_path / "labels.json", tmp_path, task="segment", classes=dataset.classes
        )


@pytest.mark.parametrize("order", [1, -1], ids=["background first", "cat first"])
def test_a_category_of_id_0_names_the_background_of_a_segmentation(
    tmp_path: Path, order: int
) -> None:
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "x.png")
    square = [[0, 0, 2, 0, 2, 2, 0, 2]]
    everything = [[0, 0, 4, 0, 4, 4, 0, 4]]
    annotations = [
        {"id": 1, "image_id": 1, "category_id": 0, "segmentation": everything, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 1, "segmentation": square, "iscrowd": 0},
    ]
    document = {
        "images": [{"id": 1, "file_name": "x.png", "width": 4, "height": 4}],
        "categories": [{"id": 0, "name": "background"}, {"id": 1, "name": "cat"}],
        "annotations": annotations[::order],
    }
    (tmp_path / "ext.json").write_text(json.dumps(document))
    dataset = alw.Dataset.from_coco(tmp_path / "ext.json", tmp_path, task="segment")
    assert dataset.classes == ["background", "cat"]
    expected = np.zeros((4, 4), np.uint8)
    expected[0:2, 0:2] = 1  # the background region is what the objects leave
    np.testing.assert_array_equal(dataset.annotation(0).class_map, expected)
