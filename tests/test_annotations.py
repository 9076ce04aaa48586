import numpy as np
import pytest

import al_widget as alw
from al_widget.annotations import from_json

CLASSES = ["cat", "milkshake"]


def test_label_binds_a_class_id_to_its_name():
    assert alw.Label(1).bind(image_size=(4, 4), classes=CLASSES) == alw.Label("milkshake")


def test_label_refuses_an_unknown_class_name_listing_the_choices():
    with pytest.raises(
        ValueError, match=r"unknown class 'dog'; choose one of \['cat', 'milkshake'\]"
    ):
        alw.Label("dog").bind(image_size=(4, 4), classes=CLASSES)


def test_label_refuses_a_class_id_out_of_range():
    with pytest.raises(ValueError, match="class id must be in 0..1, got 5"):
        alw.Label(5).bind(image_size=(4, 4), classes=CLASSES)


@pytest.mark.parametrize("bad", [None, 1.5, True, "", -1])
def test_label_refuses_what_is_not_a_class(bad):
    with pytest.raises(ValueError, match="cls must be"):
        alw.Label(bad)


def test_boxes_refuse_zero_area():
    with pytest.raises(ValueError, match=r"box 0 \[2.0, 2.0, 2.0, 5.0\] has zero area"):
        alw.Boxes([[2, 2, 2, 5]], ["cat"])


def test_boxes_refuse_a_box_outside_the_image():
    boxes = alw.Boxes([[0, 0, 3, 3], [5, 5, 12, 8]], ["cat", "cat"])
    with pytest.raises(
        ValueError, match=r"box 1 \[5.0, 5.0, 12.0, 8.0\] lies outside the 10x10 image"
    ):
        boxes.bind(image_size=(10, 10), classes=CLASSES)


def test_boxes_refuse_non_finite_coordinates():
    with pytest.raises(ValueError, match="non-finite"):
        alw.Boxes([[0, 0, np.nan, 3]], ["cat"])


def test_boxes_need_one_label_per_box():
    with pytest.raises(ValueError, match="one entry per box: 2 boxes, got 1 labels"):
        alw.Boxes([[0, 0, 1, 1], [1, 1, 2, 2]], ["cat"])


def test_boxes_refuse_a_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(K, 4\), got \(2, 3\)"):
        alw.Boxes(np.zeros((2, 3)), ["cat", "cat"])


def test_boxes_are_immutable():
    boxes = alw.Boxes([[0, 0, 1, 1]], ["cat"])
    with pytest.raises(ValueError, match="read-only"):
        boxes.xyxy[0, 0] = 5
    with pytest.raises(AttributeError):
        boxes.labels = ("milkshake",)


def test_boxes_convert_to_torchvision_bounding_boxes():
    tv = alw.Boxes([[1, 2, 3, 4]], ["cat"], canvas_size=(10, 20)).to_tv()
    assert tv.format.name == "XYXY"
    assert tuple(tv.canvas_size) == (10, 20)
    assert tv.tolist() == [[1.0, 2.0, 3.0, 4.0]]


def test_mask_refuses_the_wrong_shape_for_the_image():
    with pytest.raises(ValueError, match=r"mask has shape \(3, 4\) but the image is \(4, 3\)"):
        alw.Mask(np.zeros((3, 4), np.uint8)).bind(image_size=(4, 3), classes=CLASSES)


def test_mask_refuses_a_class_id_beyond_the_classes():
    with pytest.raises(ValueError, match="mask holds class id 2 but there are only 2 classes"):
        alw.Mask(np.full((2, 2), 2)).bind(image_size=(2, 2), classes=CLASSES)


def test_mask_refuses_float_values():
    with pytest.raises(ValueError, match="integer class ids, got dtype float64"):
        alw.Mask(np.zeros((2, 2)))


def test_mask_converts_to_a_torchvision_mask():
    tv = alw.Mask(np.eye(3, dtype=np.uint8)).to_tv()
    assert tv.shape == (3, 3)
    assert tv.sum().item() == 3


@pytest.mark.parametrize(
    "annotation",
    [
        alw.Label("cat"),
        alw.Boxes([[0.5, 1, 3, 4]], ["milkshake"], canvas_size=(5, 5)),
        alw.Mask(np.array([[0, 0, 1], [1, 1, 0]])),
    ],
)
def test_annotations_round_trip_through_json(annotation):
    assert from_json(annotation.to_json()) == annotation


def test_mask_ignore_is_255_as_in_pascal_voc():
    assert alw.Mask.IGNORE == 255


def test_a_mask_keeps_its_ignore_pixels_when_bound_to_the_classes():
    class_map = np.array([[0, 1], [255, 255]], np.uint8)
    bound = alw.Mask(class_map).bind(image_size=(2, 2), classes=CLASSES)
    assert np.array_equal(bound.class_map, class_map)


def test_a_mask_value_neither_a_class_nor_ignore_is_refused_naming_both():
    with pytest.raises(
        ValueError,
        match=r"mask holds class id 7 but there are only 2 classes .*or 255 \(Mask.IGNORE, not labeled\)",
    ):
        alw.Mask(np.array([[0, 7], [255, 1]])).bind(image_size=(2, 2), classes=CLASSES)


def test_a_segmentation_of_more_classes_than_ignore_leaves_room_for_is_refused():
    with pytest.raises(ValueError, match="a segmentation has at most 255 classes"):
        alw.Dataset(np.zeros((1, 2, 2), np.uint8), [f"c{k}" for k in range(256)], task="segment")


def test_boxes_drawn_on_a_canvas_of_another_size_than_the_image_are_refused():
    boxes = alw.Boxes([[0, 0, 8, 8]], ["cat"], canvas_size=(16, 16))
    with pytest.raises(
        ValueError, match=r"drawn on a \(16, 16\) canvas but the image is \(16, 24\)"
    ):
        boxes.bind(image_size=(16, 24), classes=["cat"])
