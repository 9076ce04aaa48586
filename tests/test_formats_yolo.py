"""YOLO txt labels out and in: the layout, round trips, bad label lines."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.datasets import shapes
from al_widget.formats import FormatError


def labeled_shapes(n: int = 6, labeled: int = 4) -> alw.Dataset:
    """`n` shapes images of 48 px, the first `labeled` of them with their boxes."""
    data = shapes(n, size=48, seed=2)
    dataset = alw.Dataset(data.images, list(data.classes), task="detect")
    for i in range(labeled):
        dataset.annotate(i, data.annotations[i])
    return dataset


def yolo_folder(root: Path, lines: str, classes: str = "cat\ndog\n") -> Path:
    """A YOLO folder with one 40x20 image `images/a.png` labeled by `lines`."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    Image.fromarray(np.zeros((20, 40, 3), np.uint8)).save(root / "images" / "a.png")
    (root / "labels" / "a.txt").write_text(lines)
    (root / "classes.txt").write_text(classes)
    return root


def test_export_then_import_gives_equal_boxes_and_pixels(tmp_path: Path) -> None:
    dataset = labeled_shapes()
    dataset.to_yolo(tmp_path / "yolo")
    back = alw.Dataset.from_yolo(tmp_path / "yolo")
    assert back.classes == dataset.classes
    assert back.labeled.tolist() == [0, 1, 2, 3]
    for i in range(4):
        assert back.annotation(i) == dataset.annotation(i)
        assert np.array_equal(back.image(i), dataset.image(i))


def test_export_writes_the_standard_layout(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((2, 20, 40, 3), np.uint8), ["cat", "dog"], task="detect")
    dataset.annotate(1, alw.Boxes([[10, 5, 30, 15]], ["dog"]))
    written = dataset.to_yolo(tmp_path)
    assert (tmp_path / "labels" / "000001.txt").read_text() == "1 0.5 0.5 0.5 0.5\n"
    assert (tmp_path / "classes.txt").read_text() == "cat\ndog\n"
    assert (tmp_path / "images" / "000001.png").exists()
    assert not (tmp_path / "images" / "000000.png").exists()  # unlabeled: left out
    assert 'names:\n  0: "cat"\n  1: "dog"\n' in (tmp_path / "data.yaml").read_text()
    assert (written.n_images, written.n_annotations) == (1, 1)


def test_an_image_labeled_with_no_boxes_gets_an_empty_label_file(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 8, 8, 3), np.uint8), ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes(np.zeros((0, 4)), []))
    dataset.to_yolo(tmp_path)
    assert (tmp_path / "labels" / "000000.txt").read_text() == ""
    assert alw.Dataset.from_yolo(tmp_path).annotation(0) == dataset.annotation(0)


def test_image_files_keep_their_names_below_the_common_folder(tmp_path: Path) -> None:
    paths = []
    for name in ("x/one.png", "y/two.png"):
        path = tmp_path / "photos" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(path)
        paths.append(path)
    dataset = alw.Dataset(paths, ["cat"], task="detect")
    dataset.annotate(0, alw.Boxes([[1, 1, 5, 5]], ["cat"]))
    dataset.annotate(1, alw.Boxes([[2, 2, 6, 6]], ["cat"]))
    dataset.to_yolo(tmp_path / "yolo")
    assert (tmp_path / "yolo" / "images" / "x" / "one.png").read_bytes() == paths[0].read_bytes()
    assert (tmp_path / "yolo" / "labels" / "y" / "two.txt").exists()


def test_images_without_a_label_file_are_the_unlabeled_pool(tmp_path: Path) -> None:
    root = yolo_folder(tmp_path, "0 0.5 0.5 0.5 0.5\n")
    Image.fromarray(np.zeros((20, 40, 3), np.uint8)).save(root / "images" / "b.png")
    back = alw.Dataset.from_yolo(root)
    assert back.labeled.tolist() == [0]
    assert back.unlabeled.tolist() == [1]
    assert back.annotation(0) == alw.Boxes([[10, 5, 30, 15]], ["cat"], canvas_size=(20, 40))


def test_an_existing_label_file_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "000003.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"000003\.txt already exists"):
        labeled_shapes().to_yolo(tmp_path)
    assert not (tmp_path / "images").exists()


def test_overwrite_does_not_replace_a_file_no_export_wrote(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "000003.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"000003\.txt is in the way and no earlier export"):
        labeled_shapes().to_yolo(tmp_path, overwrite=True)
    assert (tmp_path / "labels" / "000003.txt").read_text() == "mine"
    assert not (tmp_path / "images").exists()


def test_a_line_with_four_numbers_is_named(tmp_path: Path) -> None:
    root = yolo_folder(tmp_path, "0 0.5 0.5 0.5 0.5\n1 0.5 0.5 0.2\n")
    message = f"YOLO label file {root / 'labels' / 'a.txt'} line 2: 4 numbers, expected 5"
    with pytest.raises(FormatError, match=re.escape(message)):
        alw.Dataset.from_yolo(root)


def test_a_box_outside_its_image_is_named(tmp_path: Path) -> None:
    root = yolo_folder(tmp_path, "0 0.9 0.5 0.4 0.5\n")
    with pytest.raises(
        FormatError, match=r"a\.txt line 1: box .* lies more than 1 px outside the 40x20 image"
    ):
        alw.Dataset.from_yolo(root)


def test_a_class_beyond_the_classes_file_is_named(tmp_path: Path) -> None:
    root = yolo_folder(tmp_path, "2 0.5 0.5 0.5 0.5\n")
    with pytest.raises(FormatError, match=r"a\.txt line 1: class 2 is not in 0\.\.1 \(2 classes\)"):
        alw.Dataset.from_yolo(root)


def test_a_class_written_as_a_float_is_read_as_its_whole_number(tmp_path: Path) -> None:
    root = yolo_folder(tmp_path, "")
    # a converter saving a float array of labels with numpy.savetxt's default fmt, "%.18e"
    np.savetxt(root / "labels" / "a.txt", [[1.0, 0.5, 0.5, 0.5, 0.5]])
    assert (root / "labels" / "a.txt").read_text().startswith("1.000000000000000000e+00 ")
    assert alw.Dataset.from_yolo(root).annotation(0).labels == ("dog",)


def test_a_class_that_is_no_whole_number_is_refused_naming_its_line(tmp_path: Path) -> None:
    root = yolo_folder(tmp_path, "0 0.5 0.5 0.5 0.5\n1.5 0.5 0.5 0.5 0.5\n")
    with pytest.raises(
        FormatError, match=r"a\.txt line 2: the class must be a whole number, got '1\.5'"
    ):
        alw.Dataset.from_yolo(root)


def test_classes_that_differ_from_the_classes_expected_are_named(tmp_path: Path) -> None:
    root = yolo_folder(tmp_path, "0 0.5 0.5 0.5 0.5\n")
    with pytest.raises(
        FormatError, match=r"classes \['cat', 'dog'\] differ .* \(same names in another order\)"
    ):
        alw.Dataset.from_yolo(root, classes=["dog", "cat"])


def test_a_label_file_without_its_image_is_named(tmp_path: Path) -> None:
    root = yolo_folder(tmp_path, "0 0.5 0.5 0.5 0.5\n")
    (root / "labels" / "lost.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    with pytest.raises(FormatError, match=r"lost\.txt has no image"):
        alw.Dataset.from_yolo(root)


def test_a_missing_classes_file_says_what_it_holds(tmp_path: Path) -> None:
    root = yolo_folder(tmp_path, "")
    (root / "classes.txt").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=r"names no classes: expected data\.yaml with 'names', classes\.txt or labels/classes\.txt",
    ):
        alw.Dataset.from_yolo(root)


def test_a_segmentation_dataset_has_no_yolo_export(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((1, 4, 4), np.uint8), ["background", "a"], task="segment")
    with pytest.raises(ValueError, match="YOLO holds detect or instances annotations"):
        dataset.to_yolo(tmp_path)


def test_a_yolo_export_warns_once_that_it_drops_difficult_flags(tmp_path: Path) -> None:
    dataset = alw.Dataset(np.zeros((2, 10, 20), np.uint8), ["cat", "dog"], task="detect")
    dataset.annotate(
        0, alw.Boxes([[1, 1, 5, 5], [6, 1, 9, 5]], ["cat", "dog"], difficult=[True, True])
    )
    dataset.annotate(1, alw.Boxes([[1, 1, 5, 5]], ["cat"], difficult=[True]))
    with pytest.warns(UserWarning, match="marked difficult") as caught:
        dataset.to_yolo(tmp_path / "out")
    dropped = [str(w.message) for w in caught if "difficult" in str(w.message)]
    assert dropped == [
        "YOLO export: the format has no difficult flag, so 3 box(es) marked difficult were "
        "written as ordinary boxes (a Pascal VOC export keeps it)"
    ]


def photos(root: Path, names: list[str]) -> alw.Dataset:
    """A detect dataset over 12x16 PNG files at `names` below `root`, each with one box."""
    paths = []
    for k, name in enumerate(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((12, 16, 3), 30 * k, np.uint8)).save(path)
        paths.append(path)
    dataset = alw.Dataset(paths, ["cat", "dog"], task="detect")
    for k in range(len(names)):
        dataset.annotate(k, alw.Boxes([[1, 1, 4 + k, 5]], ["dog"]))
    return dataset


def ultralytics_label(image: Path) -> Path:
    """Where Ultralytics looks for an image's label file (``img2label_paths`` in
    ultralytics/data/utils.py): the last ``/images/`` made ``/labels/``, the ending ``.txt``."""
    images, labels = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return Path(labels.join(str(image).rsplit(images, 1)).rsplit(".", 1)[0] + ".txt")


def test_an_image_in_a_folder_named_images_is_exported_with_that_folder_renamed(
    tmp_path: Path,
) -> None:
    dataset = photos(tmp_path / "photos", ["x/a.png", "images/b.png"])
    with pytest.warns(UserWarning, match=r"1 image\(s\) lie in a folder named images"):
        written = dataset.to_yolo(tmp_path / "out")
    assert written.renamed == (("images/b.png", "_images/b.png"),)
    assert (tmp_path / "out" / "labels" / "_images" / "b.txt").is_file()


def test_an_image_in_a_folder_named_images_is_read_back_with_its_boxes(tmp_path: Path) -> None:
    dataset = photos(tmp_path / "photos", ["x/a.png", "images/b.png", "images/y/images/c.png"])
    with pytest.warns(UserWarning, match="folder named images"):
        dataset.to_yolo(tmp_path / "out")
    back = alw.Dataset.from_yolo(tmp_path / "out")
    assert [back.annotation(i) for i in range(3)] == [dataset.annotation(i) for i in (1, 2, 0)]


def test_every_exported_image_has_its_label_where_ultralytics_looks(tmp_path: Path) -> None:
    dataset = photos(tmp_path / "photos", ["x/a.png", "images/b.png", "labels/c.png"])
    with pytest.warns(UserWarning, match="folder named images"):
        dataset.to_yolo(tmp_path / "out")
    exported = sorted((tmp_path / "out" / "images").rglob("*.png"))
    assert len(exported) == 3
    assert all(ultralytics_label(image).is_file() for image in exported)


@pytest.mark.parametrize("name", ["classes.png", "Classes.png", "x/classes.png"])
def test_an_image_named_classes_is_exported_under_another_name(tmp_path: Path, name: str) -> None:
    dataset = photos(tmp_path / "photos", ["a.png", name])
    with pytest.warns(UserWarning, match=r"1 image\(s\) are named classes"):
        written = dataset.to_yolo(tmp_path / "out")
    folder, _, file = name.rpartition("/")
    assert written.renamed == ((name, f"{folder}{folder and '/'}_{file}"),)


def test_an_image_named_classes_is_read_back_with_its_boxes(tmp_path: Path) -> None:
    dataset = photos(tmp_path / "photos", ["a.png", "classes.png"])
    with pytest.warns(UserWarning, match="named classes"):
        dataset.to_yolo(tmp_path / "out")
    back = alw.Dataset.from_yolo(tmp_path / "out")
    assert back.classes == ["cat", "dog"]
    assert [back.annotation(i) for i in range(2)] == [dataset.annotation(i) for i in (1, 0)]
