"""YOLO segmentation lines for instances: one normalised polygon per object, out and in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.datasets import shapes
from al_widget.formats import FormatError, _polygons
from al_widget.formats._import import EdgeClips
from al_widget.formats._yolo_segments import read_segments, segment_lines

CLASSES = ["cat", "dog"]


def yolo_folder(root: Path, lines: str, height: int = 10, width: int = 20) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(root / "images" / "a.png")
    (root / "labels" / "a.txt").write_text(lines)
    (root / "classes.txt").write_text("cat\ndog\n")
    return root


def test_export_then_import_gives_the_same_objects(tmp_path: Path) -> None:
    data = shapes(8, size=48, seed=1, task="instances")
    dataset = alw.Dataset(data.images, list(data.classes), task="instances")
    for i in range(6):
        dataset.annotate(i, data.annotations[i])
    dataset.to_yolo(tmp_path / "out")
    back = alw.Dataset.from_yolo(tmp_path / "out", task="instances")
    assert back.classes == dataset.classes
    for i in range(6):
        assert back.annotation(i) == dataset.annotation(i)


def test_an_object_in_two_parts_with_a_hole_comes_back_exactly(tmp_path: Path) -> None:
    mask = np.zeros((10, 20), bool)
    mask[1:8, 1:8] = True
    mask[3:5, 3:5] = False  # a hole
    mask[2:4, 12:18] = True  # a second part
    dataset = alw.Dataset(np.zeros((1, 10, 20), np.uint8), CLASSES, task="instances")
    dataset.annotate(0, alw.Instances([mask], ["dog"]))
    dataset.to_yolo(tmp_path / "out")
    lines = (tmp_path / "out" / "labels" / "000000.txt").read_text().splitlines()
    assert len(lines) == 1  # one object, one polygon
    back = alw.Dataset.from_yolo(tmp_path / "out", task="instances").annotation(0)
    assert np.array_equal(back.masks, mask[None])


def test_lines_are_a_class_and_normalised_x_y_pairs(tmp_path: Path) -> None:
    mask = np.zeros((10, 20), bool)
    mask[2:6, 4:10] = True
    dataset = alw.Dataset(np.zeros((1, 10, 20), np.uint8), CLASSES, task="instances")
    dataset.annotate(0, alw.Instances([mask], ["dog"]))
    dataset.to_yolo(tmp_path / "out")
    line = (tmp_path / "out" / "labels" / "000000.txt").read_text()
    fields = line.split()
    assert fields[0] == "1"
    points = sorted(zip(map(float, fields[1::2]), map(float, fields[2::2]), strict=True))
    assert points == [(0.2, 0.2), (0.2, 0.6), (0.5, 0.2), (0.5, 0.6)]


def test_a_polygon_line_is_drawn_as_coco_draws_polygons(tmp_path: Path) -> None:
    folder = yolo_folder(tmp_path, "0 0.1 0.2 0.4 0.2 0.4 0.8 0.1 0.8\n1 0.5 0 1 0 1 0.5\n")
    objects = alw.Dataset.from_yolo(folder, task="instances").annotation(0)
    assert objects.classes == ("cat", "dog")
    assert objects.boxes[0].tolist() == [2, 2, 8, 8]


def test_a_polygon_class_written_as_a_float_is_read_as_its_whole_number(tmp_path: Path) -> None:
    folder = yolo_folder(tmp_path, "")
    # a converter saving a float array of labels with numpy.savetxt's default fmt, "%.18e"
    np.savetxt(folder / "labels" / "a.txt", [[1.0, 0.1, 0.2, 0.4, 0.2, 0.4, 0.8]])
    objects = alw.Dataset.from_yolo(folder, task="instances").annotation(0)
    assert objects.classes == ("dog",)


def test_a_box_line_in_an_instances_folder_is_refused_naming_it(tmp_path: Path) -> None:
    folder = yolo_folder(tmp_path, "0 0.1 0.2 0.4 0.2 0.4 0.8\n0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(FormatError, match=r"a.txt line 2: 5 numbers are a box"):
        alw.Dataset.from_yolo(folder, task="instances")


def test_a_polygon_outside_the_image_is_refused_naming_its_line(tmp_path: Path) -> None:
    folder = yolo_folder(tmp_path, "1 0.1 0.2 1.5 0.2 0.4 0.8\n")
    with pytest.raises(
        FormatError, match=r"a.txt line 1: .*point \(30, 2\) lies outside the 20x10"
    ):
        alw.Dataset.from_yolo(folder, task="instances")


def test_a_polygon_point_within_a_pixel_past_the_edge_is_clipped_with_the_box_warning(
    tmp_path: Path,
) -> None:
    # x = 1.03 of 20 px: 0.6 px past the right edge, as converters' round-off leaves it
    folder = yolo_folder(tmp_path, "1 0.5 0.2 1.03 0.2 1.03 0.8 0.5 0.8\n")
    with pytest.warns(UserWarning, match=r"1 polygon\(s\) passed their image's edge by up to 1 px"):
        objects = alw.Dataset.from_yolo(folder, task="instances").annotation(0)
    assert objects.boxes[0].tolist() == [10, 2, 20, 8]


def test_an_object_given_twice_is_refused_naming_both_lines(tmp_path: Path) -> None:
    folder = yolo_folder(tmp_path, "0 0.1 0.2 0.4 0.2 0.4 0.8\n1 0.1 0.2 0.4 0.2 0.4 0.8\n")
    with pytest.raises(FormatError, match=r"line 2: the same mask as .*line 1"):
        alw.Dataset.from_yolo(folder, task="instances")


def test_an_object_of_nested_parts_and_holes_and_many_specks_comes_back_exactly() -> None:
    size = 64
    y, x = np.mgrid[:size, :size]
    ring = np.maximum(abs(y - 20), abs(x - 20)) // 3  # squares within squares round (20, 20)
    mask = (ring % 2 == 0) & (ring < 6)  # a part, a hole, a part in it, ...
    mask[40::3, ::3] = True  # and 108 one-pixel parts
    mask[::3, 44::3] = True
    objects = alw.Instances([mask], ["dog"])
    text = segment_lines(objects, CLASSES, size, size)
    assert len(text.splitlines()) == 1
    back = read_segments(text, Path("a.txt"), (size, size), CLASSES, EdgeClips("a.txt"))
    assert np.array_equal(back.masks, mask[None])


def bridged_pairs(monkeypatch: pytest.MonkeyPatch, specks: int) -> int:
    """How many corner pairs `one_polygon` measures for a grid of `specks` x `specks`
    one-pixel parts 4 px apart."""
    mask = np.zeros((4 * specks, 4 * specks), bool)
    mask[1::4, 1::4] = True
    measured = []
    closest = _polygons._closest

    def counting(ours: np.ndarray, theirs: np.ndarray) -> tuple[int, int, float]:
        measured.append(len(ours) * len(theirs))
        return closest(ours, theirs)

    monkeypatch.setattr(_polygons, "_closest", counting)
    _polygons.one_polygon(mask)
    return sum(measured)


def test_bridging_many_outlines_measures_corner_pairs_in_proportion_to_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # four times the outlines measure about four times the pairs (joining each to all the
    # outlines before it measured sixteen times)
    few, many = bridged_pairs(monkeypatch, 20), bridged_pairs(monkeypatch, 40)
    assert many < 6 * few
