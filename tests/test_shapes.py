"""The synthetic shapes data set: images whose boxes, instance masks and class maps agree."""

import time

import numpy as np
import pytest

import al_widget as alw

SHAPES = alw.datasets.shapes(60, size=64, seed=3)


def _tight(mask):
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]


def test_the_same_seed_gives_the_same_images_and_annotations():
    again = alw.datasets.shapes(60, size=64, seed=3)
    np.testing.assert_array_equal(again.images, SHAPES.images)
    assert again.boxes == SHAPES.boxes
    assert again.masks == SHAPES.masks


def test_another_seed_gives_other_images():
    other = alw.datasets.shapes(60, size=64, seed=4)
    assert not np.array_equal(other.images, SHAPES.images)


def test_images_are_rgb_bytes_of_the_asked_size():
    assert SHAPES.images.shape == (60, 64, 64, 3)
    assert SHAPES.images.dtype == np.uint8
    assert len(SHAPES) == len(SHAPES.boxes) == len(SHAPES.masks) == len(SHAPES.instances) == 60


def test_every_image_holds_one_to_four_shapes():
    counts = [len(boxes) for boxes in SHAPES.boxes]
    assert min(counts) >= 1
    assert max(counts) <= 4
    assert len(set(counts)) > 1


def test_each_box_is_the_tight_bounds_of_its_instance_mask():
    for boxes, instances in zip(SHAPES.boxes, SHAPES.instances, strict=True):
        assert len(instances) == len(boxes)
        for box, mask in zip(boxes.xyxy, instances, strict=True):
            assert box.tolist() == _tight(mask)


def test_the_class_map_is_the_union_of_the_instances_by_class():
    classes = ["background", "circle", "square", "triangle"]
    for boxes, mask, instances in zip(SHAPES.boxes, SHAPES.masks, SHAPES.instances, strict=True):
        expected = np.zeros((64, 64), np.uint8)
        for label, instance in zip(boxes.labels, instances, strict=True):
            expected[instance] = classes.index(label)
        np.testing.assert_array_equal(mask.class_map, expected)


def test_instances_are_the_visible_parts_and_do_not_overlap():
    for instances in SHAPES.instances:
        assert instances.dtype == np.bool_
        assert (instances.sum(0) <= 1).all()
        assert (instances.sum((1, 2)) > 0).all()


def test_each_shape_is_one_flat_colour_apart_from_the_pixel_noise():
    for image, instances in zip(SHAPES.images, SHAPES.instances, strict=True):
        for mask in instances:
            pixels = image[mask].astype(float)
            assert np.ptp(pixels, axis=0).max() <= 12


def test_shapes_vary_in_class_colour_and_size():
    labels = [label for boxes in SHAPES.boxes for label in boxes.labels]
    assert set(labels) == {"circle", "square", "triangle"}
    colours = [
        image[mask].mean(0)
        for image, instances in zip(SHAPES.images, SHAPES.instances, strict=True)
        for mask in instances
    ]
    assert np.std(colours, axis=0).min() > 40
    widths = np.concatenate([b.xyxy[:, 2] - b.xyxy[:, 0] for b in SHAPES.boxes])
    assert widths.max() > 2 * widths.min()


def test_detect_task_annotates_with_boxes_of_the_three_shape_classes():
    assert SHAPES.classes == ("circle", "square", "triangle")
    assert SHAPES.annotations is SHAPES.boxes
    assert all(b.canvas_size == (64, 64) for b in SHAPES.boxes)


def test_segment_task_annotates_with_class_maps_and_a_background_class():
    data = alw.datasets.shapes(5, size=32, seed=3, task="segment")
    assert data.classes == ("background", "circle", "square", "triangle")
    assert data.annotations is data.masks
    for mask in data.masks:
        mask.bind(image_size=(32, 32), classes=data.classes)


def test_instances_task_annotates_each_visible_shape_as_its_own_object():
    data = alw.datasets.shapes(20, size=64, seed=3, task="instances")
    assert data.classes == ("circle", "square", "triangle")
    for objects, visible, boxes in zip(data.annotations, data.instances, data.boxes, strict=True):
        assert isinstance(objects, alw.Instances)
        assert np.array_equal(objects.masks, visible)
        assert objects.classes == boxes.labels


def _touch(a, b):
    grown = a.copy()
    grown[1:] |= a[:-1]
    grown[:-1] |= a[1:]
    grown[:, 1:] |= a[:, :-1]
    grown[:, :-1] |= a[:, 1:]
    return bool((grown & b).any())


def test_instances_scenes_hold_touching_objects_of_one_class():
    data = alw.datasets.shapes(60, size=64, seed=3, task="instances")
    touching = sum(
        any(
            objects.classes[j] == objects.classes[k] and _touch(objects.mask(j), objects.mask(k))
            for j in range(len(objects))
            for k in range(j + 1, len(objects))
        )
        for objects in data.annotations
    )
    assert touching >= 20  # a third; scenes of shapes put anywhere hold 13


def test_an_unknown_task_is_refused():
    with pytest.raises(ValueError, match="task must be one of"):
        alw.datasets.shapes(1, task="classify")


def test_a_thousand_images_of_128_pixels_take_a_few_seconds():
    start = time.perf_counter()
    data = alw.datasets.shapes(1000)
    assert data.images.shape == (1000, 128, 128, 3)
    assert time.perf_counter() - start < 8
