"""The export control, driven as a user does: pick a format, type a path, click Export."""

from __future__ import annotations

import html
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.datasets import shapes
from al_widget.formats import Exported
from al_widget.widget.export import FORMATS, ExportControl, Format


def labeled(task: str) -> alw.Dataset:
    """Four shapes images of 32 px (or 4x4 arrays for "classify"), three of them labeled."""
    if task == "classify":
        dataset = alw.Dataset(np.zeros((4, 4, 4), np.uint8), ["cat", "dog"])
        for i, name in enumerate(["cat", "dog", "cat"]):
            dataset.annotate(i, alw.Label(name))
        return dataset
    data = shapes(4, size=32, seed=6, task=task)
    dataset = alw.Dataset(data.images, list(data.classes), task=task)
    for i in range(3):
        dataset.annotate(i, data.annotations[i])
    return dataset


def shown(control: ExportControl) -> str:
    """The result line as the user reads it."""
    text = control.result.value.split(">", 1)[-1].rsplit("<", 1)[0]
    return html.unescape(text)


@pytest.mark.parametrize(
    ("task", "formats"),
    [
        ("detect", ["COCO", "YOLO", "VOC"]),
        ("segment", ["COCO", "PNG masks"]),
        ("classify", ["CSV"]),
    ],
)
def test_it_offers_the_formats_that_hold_the_tasks_labels(task: str, formats: list[str]) -> None:
    assert list(ExportControl(labeled(task)).format.options) == formats


def test_export_writes_coco_and_names_the_path_and_counts(tmp_path: Path) -> None:
    dataset = labeled("detect")
    control = ExportControl(dataset)
    control.path.value = str(tmp_path / "coco.json")
    control.button.click()
    n_boxes = sum(len(dataset.annotation(i)) for i in range(3))
    assert shown(control) == f"wrote {tmp_path / 'coco.json'}: 3 images, {n_boxes} annotations"
    back = alw.Dataset.from_coco(tmp_path / "coco.json", tmp_path)
    assert [back.annotation(k) for k in range(3)] == [dataset.annotation(i) for i in range(3)]


def test_the_coco_export_keeps_images_labeled_with_no_objects(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((3, 8, 8, 3), np.uint8), ["cat"], task="detect")
    dataset.annotate(1, alw.Boxes(np.zeros((0, 4)), []))  # N: no objects here
    control = ExportControl(dataset)
    control.path.value = str(tmp_path / "coco.json")
    control.button.click()
    back = alw.Dataset.from_coco(tmp_path / "coco.json", tmp_path)
    assert back.labeled.tolist() == [0]
    assert back.annotation(0) == dataset.annotation(1)


@pytest.mark.parametrize(
    ("task", "name", "written"),
    [
        ("detect", "YOLO", "labels/000001.txt"),
        ("detect", "VOC", "Annotations/000001.xml"),
        ("segment", "PNG masks", "000001.png"),
        ("classify", "CSV", ""),
    ],
)
def test_each_format_writes_where_the_path_says(
    tmp_path: Path, task: str, name: str, written: str
) -> None:
    control = ExportControl(labeled(task))
    control.format.value = name
    control.path.value = str(tmp_path / "out")
    control.button.click()
    assert shown(control).startswith(f"wrote {tmp_path / 'out'}: 3 images")
    assert (tmp_path / "out" / written).is_file()


def test_an_existing_file_is_kept_and_the_reason_points_at_the_overwrite_box(
    tmp_path: Path,
) -> None:
    (tmp_path / "coco.json").write_text("mine")
    control = ExportControl(labeled("detect"))
    control.path.value = str(tmp_path / "coco.json")
    control.button.click()
    assert shown(control) == (
        f"not exported: {tmp_path / 'coco.json'} already exists; tick “overwrite” to replace "
        "it or choose another path"
    )
    assert (tmp_path / "coco.json").read_text() == "mine"
    assert not control.button.disabled


def test_a_folder_export_in_the_way_points_at_the_overwrite_box(tmp_path: Path) -> None:
    control = ExportControl(labeled("detect"))
    control.format.value = "YOLO"
    control.path.value = str(tmp_path / "yolo")
    control.button.click()
    control.button.click()
    assert shown(control).startswith(f"not exported: {tmp_path / 'yolo'}")
    assert "tick “overwrite” to replace it" in shown(control)
    assert "overwrite=True" not in shown(control)


def test_one_image_exported_is_counted_in_the_singular(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((2, 4, 4), np.uint8), ["cat", "dog"])
    dataset.annotate(0, alw.Label("cat"))
    control = ExportControl(dataset)
    control.path.value = str(tmp_path / "labels.csv")
    control.button.click()
    assert shown(control) == f"wrote {tmp_path / 'labels.csv'}: 1 image, 1 annotation"


def test_overwrite_ticked_replaces_the_file(tmp_path: Path) -> None:
    (tmp_path / "coco.json").write_text("mine")
    control = ExportControl(labeled("detect"))
    control.path.value = str(tmp_path / "coco.json")
    control.overwrite.value = True
    control.button.click()
    assert shown(control).startswith("wrote")
    assert (tmp_path / "coco.json").read_text().startswith("{")


def test_an_empty_path_asks_for_one(tmp_path: Path) -> None:
    control = ExportControl(labeled("segment"))
    control.path.value = "  "
    control.button.click()
    assert shown(control) == "type where to write the COCO export"


def test_a_path_that_cannot_be_written_is_explained_not_raised(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    control = ExportControl(labeled("detect"))
    control.path.value = str(tmp_path / "a-file" / "coco.json")
    control.button.click()
    assert shown(control).startswith("not exported: ")
    assert "a-file" in shown(control)


def test_a_relative_path_is_written_below_the_kernels_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    control = ExportControl(labeled("classify"))
    control.path.value = "labels.csv"
    control.button.click()
    assert shown(control) == f"wrote {tmp_path / 'labels.csv'}: 3 images, 3 annotations"


def test_a_folder_typed_as_a_relative_path_is_named_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "kernel").mkdir()
    monkeypatch.chdir(tmp_path / "kernel")
    control = ExportControl(labeled("classify"))
    control.path.value = "../mine"
    control.button.click()
    assert shown(control) == (
        f"not exported: {tmp_path / 'mine'} is a folder where the export writes a file"
    )


def test_choosing_another_format_clears_the_last_result(tmp_path: Path) -> None:
    control = ExportControl(labeled("detect"))
    control.button.click()
    assert shown(control) != ""
    control.format.value = "YOLO"
    assert shown(control) == ""
    assert control.path.placeholder == "a folder, e.g. labels/yolo"


def test_it_carries_the_classes_a_browser_test_finds_it_by() -> None:
    control = ExportControl(labeled("detect"))
    assert "alw-export" in control._dom_classes
    for part in ("format", "path", "button", "result"):
        assert f"alw-export-{part}" in getattr(control, part)._dom_classes


def test_images_exported_under_another_name_are_listed_in_the_result(tmp_path: Path) -> None:
    paths = []
    for name in ("a.jpg", "a.png"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / name)
        paths.append(tmp_path / name)
    dataset = alw.Dataset(paths, ["cat"], task="detect")
    for i in range(2):
        dataset.annotate(i, alw.Boxes([[1, 1, 4, 4]], ["cat"]))
    control = ExportControl(dataset)
    control.format.value = "YOLO"
    control.path.value = str(tmp_path / "yolo")
    control.export()
    assert "a.png as a.png.png" in control.result.value


def difficult(tmp_path: Path) -> alw.Dataset:
    """One image with one box marked difficult, its corners between pixel edges."""
    dataset = alw.Dataset(np.zeros((2, 20, 20, 3), np.uint8), ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes([[0.3, 0.3, 10.4, 12.6]], ["cat"], difficult=[True]))
    return dataset


@pytest.mark.parametrize("name", ["YOLO", "COCO"])
def test_difficult_flags_the_format_drops_are_stated_in_the_result(
    tmp_path: Path, name: str
) -> None:
    control = ExportControl(difficult(tmp_path))
    control.format.value = name
    control.path.value = str(tmp_path / "out")
    control.export()
    assert shown(control) == (
        f"wrote {tmp_path / 'out'}: 1 image, 1 annotation; the format has no difficult flag, "
        "so 1 box(es) marked difficult were written as ordinary boxes (a Pascal VOC export "
        "keeps it)"
    )


def test_boxes_voc_moves_onto_whole_pixels_are_stated_in_the_result(tmp_path: Path) -> None:
    control = ExportControl(difficult(tmp_path))
    control.format.value = "VOC"
    control.path.value = str(tmp_path / "voc")
    control.export()
    assert shown(control).endswith(
        "; VOC numbers whole pixels, so 1 box(es) with corners between pixel edges were moved "
        "onto them, by up to 0.4 px (a COCO export keeps sub-pixel corners)"
    )


def test_a_folder_an_export_leaves_in_place_is_stated_in_the_result(tmp_path: Path) -> None:
    leftover = tmp_path / ".yolo.al_widget-new-0123abcd"  # what a killed export left beside it
    leftover.mkdir()
    (leftover / ".al_widget-export.json").write_text('{"files": []}')
    (leftover / "mine.txt").write_text("mine")
    control = ExportControl(labeled("detect"))
    control.format.value = "YOLO"
    control.path.value = str(tmp_path / "yolo")
    control.export()
    assert f"; left {leftover} in place: it holds 1 file(s) found nowhere else" in shown(control)
    assert (leftover / "mine.txt").read_text() == "mine"


def test_what_an_export_changed_is_not_warned_into_the_log_as_well(tmp_path: Path) -> None:
    control = ExportControl(difficult(tmp_path))
    control.format.value = "YOLO"
    control.path.value = str(tmp_path / "yolo")
    with warnings.catch_warnings(record=True) as logged:
        warnings.simplefilter("always")
        control.export()
    assert logged == []
    assert "difficult" in shown(control)


def test_what_an_export_changed_is_stated_where_warnings_are_ignored(tmp_path: Path) -> None:
    control = ExportControl(difficult(tmp_path))
    control.format.value = "YOLO"
    control.path.value = str(tmp_path / "yolo")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        control.export()
    assert "marked difficult were written as ordinary boxes" in shown(control)


def test_other_warnings_during_an_export_go_on_as_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def write(dataset: alw.Dataset, path: str, overwrite: bool) -> Exported:
        warnings.warn("a library's own warning", RuntimeWarning, stacklevel=1)
        return Exported(Path(path), Path(path).parent, 0, 0)

    monkeypatch.setitem(FORMATS, "CSV", Format(("classify",), "a .csv file", write))
    control = ExportControl(labeled("classify"))
    control.path.value = str(tmp_path / "labels.csv")
    with pytest.warns(RuntimeWarning, match="a library's own warning"):
        control.export()
    assert shown(control) == f"wrote {tmp_path / 'labels.csv'}: 0 images, 0 annotations"
