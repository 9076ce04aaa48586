"""Instances: one mask and class per object, validated, compact, torchvision-ready."""

import copy
import json
import pickle

import numpy as np
import pytest
import torch

import al_widget as alw
from al_widget.annotations import from_json

CLASSES = ["cat", "dog"]


def square(x0, y0, x1, y1, size=(8, 10)):
    """A (H, W) mask set on columns x0..x1-1, rows y0..y1-1."""
    mask = np.zeros(size, bool)
    mask[y0:y1, x0:x1] = True
    return mask


def two_touching_cats():
    return alw.Instances([square(0, 0, 3, 4), square(3, 0, 6, 4)], ["cat", "cat"])


def test_instances_keep_each_objects_mask_and_class():
    objects = two_touching_cats()
    assert len(objects) == 2
    assert objects.classes == ("cat", "cat")
    assert np.array_equal(objects.masks, np.stack([square(0, 0, 3, 4), square(3, 0, 6, 4)]))


def test_instances_take_an_n_h_w_array_of_zeros_and_ones():
    stack = np.stack([square(1, 1, 4, 4), square(2, 2, 5, 7)]).astype(np.uint8)
    assert np.array_equal(alw.Instances(stack, [0, 1]).masks, stack.astype(bool))


def test_instance_boxes_are_the_masks_pixel_edges():
    objects = alw.Instances([square(1, 2, 4, 7), square(5, 0, 10, 1)], CLASSES)
    assert objects.boxes.tolist() == [[1, 2, 4, 7], [5, 0, 10, 1]]


def test_instances_know_the_image_size_as_mask_and_boxes_do():
    objects = two_touching_cats()
    assert objects.canvas_size == (8, 10)
    assert objects.size == (10, 8)


def test_overlapping_objects_are_allowed():
    objects = alw.Instances([square(0, 0, 5, 5), square(3, 3, 8, 8)], ["cat", "cat"])
    assert (objects.masks.sum(axis=0) == 2).any()


def test_an_object_given_twice_is_refused_naming_both():
    with pytest.raises(ValueError, match="objects 0 and 2 have the same mask"):
        alw.Instances([square(0, 0, 2, 2), square(4, 4, 6, 6), square(0, 0, 2, 2)], [0, 0, 1])


def test_an_empty_object_mask_is_refused_naming_the_object():
    with pytest.raises(ValueError, match="object 1 has an empty mask"):
        alw.Instances([square(0, 0, 2, 2), np.zeros((8, 10), bool)], CLASSES)


def test_masks_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match=r"masks must all have one shape"):
        alw.Instances([square(0, 0, 2, 2), square(0, 0, 2, 2, size=(9, 10))], CLASSES)


def test_mask_values_other_than_zero_and_one_are_refused():
    with pytest.raises(ValueError, match="object 0: its mask must hold bools or 0/1"):
        alw.Instances([square(0, 0, 2, 2).astype(np.uint8) * 7], ["cat"])


def test_an_object_with_no_class_is_refused():
    with pytest.raises(ValueError, match="one entry per object: 2 objects, got 1 classes"):
        alw.Instances([square(0, 0, 2, 2), square(4, 4, 6, 6)], ["cat"])


def test_an_empty_class_name_is_refused_naming_the_object():
    with pytest.raises(ValueError, match=r"classes\[1\] \(object 1\) must be a non-empty"):
        alw.Instances([square(0, 0, 2, 2), square(4, 4, 6, 6)], ["cat", ""])


def test_an_empty_list_of_masks_asks_for_instances_empty():
    with pytest.raises(ValueError, match=r"Instances.empty\(size\)"):
        alw.Instances([], [])


def test_empty_instances_have_no_objects_on_an_image_of_the_given_size():
    objects = alw.Instances.empty((10, 8))
    assert len(objects) == 0
    assert objects.masks.shape == (0, 8, 10)
    assert objects.boxes.shape == (0, 4)


def test_bind_refuses_masks_not_of_the_image_size():
    with pytest.raises(
        ValueError, match=r"instance masks are \(8, 10\) \(H, W\) but the image is \(10, 8\)"
    ):
        two_touching_cats().bind(image_size=(10, 8), classes=CLASSES)


def test_bind_refuses_an_unknown_class_naming_the_object():
    objects = alw.Instances([square(0, 0, 2, 2), square(4, 4, 6, 6)], ["cat", "cow"])
    with pytest.raises(ValueError, match="object 1: unknown class 'cow'"):
        objects.bind(image_size=(8, 10), classes=CLASSES)


def test_bind_turns_class_ids_into_names():
    objects = alw.Instances([square(0, 0, 2, 2), square(4, 4, 6, 6)], [1, 0])
    assert objects.bind(image_size=(8, 10), classes=CLASSES).classes == ("dog", "cat")


def test_instances_are_immutable():
    with pytest.raises(AttributeError, match="immutable"):
        two_touching_cats().classes = ("dog",)
    with pytest.raises(ValueError, match="read-only"):
        two_touching_cats().boxes[0, 0] = 5


def test_polygons_are_drawn_as_coco_draws_them():
    objects = alw.Instances.from_polygons(
        [[1, 2, 4, 2, 4, 7, 1, 7], np.array([[5, 0], [10, 0], [10, 1], [5, 1]])],
        CLASSES,
        size=(10, 8),
    )
    assert np.array_equal(objects.masks, np.stack([square(1, 2, 4, 7), square(5, 0, 10, 1)]))


def test_an_object_may_be_several_polygons():
    objects = alw.Instances.from_polygons(
        [[[0, 0, 2, 0, 2, 2, 0, 2], [6, 6, 8, 6, 8, 8, 6, 8]]], ["cat"], size=(10, 8)
    )
    assert np.array_equal(objects.masks[0], square(0, 0, 2, 2) | square(6, 6, 8, 8))


def test_a_polygon_outside_the_image_is_refused_naming_object_and_point():
    with pytest.raises(
        ValueError, match=r"object 1, polygon 0: point \(11, 0\) lies outside the 10x8"
    ):
        alw.Instances.from_polygons(
            [[0, 0, 2, 0, 2, 2], [5, 0, 11, 0, 5, 3]], CLASSES, size=(10, 8)
        )


def test_a_polygon_of_two_points_is_refused():
    with pytest.raises(ValueError, match="object 0, polygon 0: needs x, y pairs of at least 3"):
        alw.Instances.from_polygons([[0, 0, 2, 2]], ["cat"], size=(10, 8))


def test_boxes_and_masks_make_instances_of_the_boxes_labels():
    boxes = alw.Boxes([[0, 0, 4, 4], [2.5, 2.5, 6, 6]], ["dog", "cat"], canvas_size=(8, 10))
    objects = alw.Instances.from_boxes(boxes, [square(1, 1, 3, 3), square(2, 2, 6, 6)])
    assert objects.classes == ("dog", "cat")


def test_a_mask_outside_its_box_is_refused():
    boxes = alw.Boxes([[0, 0, 4, 4]], ["dog"], canvas_size=(8, 10))
    with pytest.raises(ValueError, match="object 0: its mask spans"):
        alw.Instances.from_boxes(boxes, [square(3, 3, 6, 6)])


def test_instances_give_a_mask_rcnn_target():
    target = two_touching_cats().to_target(["dog", "cat"])
    assert target["boxes"].dtype == torch.float32
    assert target["boxes"].tolist() == [[0, 0, 3, 4], [3, 0, 6, 4]]
    assert target["labels"].tolist() == [2, 2]
    assert target["masks"].dtype == torch.uint8
    assert target["masks"].shape == (2, 8, 10)


def test_instances_round_trip_through_json():
    objects = alw.Instances([square(0, 0, 5, 5), square(3, 3, 8, 8)], ["cat", 1])
    assert from_json(json.loads(json.dumps(objects.to_json()))) == objects


def test_json_counts_may_be_lists_of_ints_as_in_uncompressed_coco():
    data = two_touching_cats().to_json()
    data["counts"] = [[0, 2, 0, 2, 4, 4, 4, 4, 60], [24, 4, 4, 4, 4, 4, 36]]
    assert from_json(data) == two_touching_cats()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"counts": ["!!"]}, "not a COCO RLE character"),
        ({"counts": [[0, 5, 1]]}, r"object 0: run lengths cover 6 pixels, the image 8x10"),
        ({"counts": [[80, -1, 1]]}, r"object 0: run lengths must be >= 0"),
        ({"counts": [{"a": 1}]}, "object 0: counts must be a string or a list of ints"),
        ({"counts": [[2**63 - 1, 2**63 - 1, 82]]}, "object 0: counts must be a string or a list"),
        (
            {"counts": [[0, *[2**61] * 8, 80]]},
            "object 0: run lengths cover",
        ),  # wraps to 80 in int64
        ({"canvas_size": [8]}, r"canvas_size must be \[H, W\]"),
    ],
)
def test_crafted_instances_json_is_refused(change, message):
    data = {**two_touching_cats().to_json(), **change}
    with pytest.raises(ValueError, match=message):
        from_json(data)


def test_a_photo_of_30_objects_takes_kilobytes_of_journal(tmp_path):
    height, width = 3000, 4000
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    discs = [
        np.stack([400 + 110 * k + 150 * np.cos(angles), 500 + 70 * k + 150 * np.sin(angles)], 1)
        for k in range(30)
    ]
    photo = np.zeros((1, height, width), np.uint8)
    dataset = alw.Dataset(photo, ["cat"], task="instances", journal=tmp_path / "labels.jsonl")
    dataset.annotate(0, alw.Instances.from_polygons(discs, ["cat"] * 30, size=(width, height)))
    dataset.close()
    line = (tmp_path / "labels.jsonl").read_bytes().splitlines()[-1]
    assert b'"type":"instances"' in line
    assert len(line) < 100_000


def test_boxes_and_masks_must_pair_one_to_one():
    boxes = alw.Boxes([[0, 0, 4, 4]], ["dog"], canvas_size=(8, 10))
    with pytest.raises(ValueError, match="one mask per box: 1 boxes, got 2"):
        alw.Instances.from_boxes(boxes, [square(0, 0, 2, 2), square(1, 1, 3, 3)])


def test_instances_pickle_and_copy_as_data_loader_workers_need():
    objects = two_touching_cats()
    assert pickle.loads(pickle.dumps(objects)) == objects
    assert copy.deepcopy(objects) == objects
