"""CSV label files as other tools leave them (Excel, a file edited by hand, a moved folder): read,
or refused naming the lines."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats import FormatError, read_csv


def arrays() -> alw.Dataset:
    """Three in-memory 4x4 images, classes "a, b" (a comma in a name) and "cat"."""
    return alw.Dataset(np.zeros((3, 4, 4), np.uint8), ["a, b", "cat"])


def classes(labels: dict[int, alw.Label]) -> dict[int, object]:
    """Index -> the class each label names."""
    return {i: label.cls for i, label in labels.items()}


def test_two_rows_giving_one_image_two_classes_are_refused_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text('index,class\n0,"a, b"\n1,cat\n0,cat\n')
    with pytest.raises(
        FormatError,
        match=re.escape(
            f"CSV file {path} lines 2 and 4 both label image 0 ('a, b', then 'cat'); an image "
            "has one row"
        ),
    ):
        read_csv(path, arrays())


def test_two_equal_rows_for_one_image_are_refused_as_two_files_for_one_image_are(
    tmp_path: Path,
) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("index,class\n0,cat\n0,cat\n")
    with pytest.raises(FormatError, match="lines 2 and 3 both label image 0"):
        read_csv(path, arrays())


def excel_csv(path: Path, lines: list[str]) -> Path:
    """`lines` saved as Excel's "CSV UTF-8" saves a sheet: a byte-order mark, CRLF line ends."""
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    return path


def test_a_spreadsheets_empty_rows_are_skipped(tmp_path: Path) -> None:
    path = excel_csv(
        tmp_path / "labels.csv",
        ["index,file,class,labeled_at", "0,,cat,1", ",,,", '2,,"a, b",2', ",,,", ",,,"],
    )
    assert classes(read_csv(path, arrays())) == {0: "cat", 2: "a, b"}


def semicolon_csv(path: Path) -> Path:
    """A sheet saved by Excel as CSV where the decimal mark is a comma: fields between ';'."""
    return excel_csv(path, ["index;file;class;labeled_at", "0;;cat;1", "2;;a, b;2"])


def test_a_semicolon_csv_is_refused_saying_how_to_read_it(tmp_path: Path) -> None:
    path = semicolon_csv(tmp_path / "labels.csv")
    with pytest.raises(
        FormatError,
        match=re.escape(
            f"CSV file {path} seems to use ';' as its delimiter (its header is "
            "'index;file;class;labeled_at')"
        )
        + ".*delimiter=';'",
    ):
        read_csv(path, arrays())


def test_a_semicolon_csv_is_read_with_its_delimiter(tmp_path: Path) -> None:
    path = semicolon_csv(tmp_path / "labels.csv")
    assert classes(read_csv(path, arrays(), delimiter=";")) == {0: "cat", 2: "a, b"}


def test_a_delimiter_of_more_than_one_character_is_refused(tmp_path: Path) -> None:
    path = semicolon_csv(tmp_path / "labels.csv")
    with pytest.raises(ValueError, match="delimiter must be one character, got ';;'"):
        read_csv(path, arrays(), delimiter=";;")


def photos(root: Path) -> alw.Dataset:
    """A class folder dataset: cat/0.png, cat/1.png, dog/0.png (indices 0, 1, 2), all labeled."""
    for k, name in enumerate(("cat/0.png", "cat/1.png", "dog/0.png")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((4, 4), 50 * k, np.uint8)).save(root / name)
    return alw.Dataset.from_folder(root)


def older_csv(path: Path, root: Path) -> Path:
    """A CSV as earlier versions wrote it: each file's absolute path."""
    rows = [
        f"{i},{root / name},{name[:3]},{i + 1}"
        for i, name in enumerate(("cat/0.png", "cat/1.png", "dog/0.png"))
    ]
    path.write_text("\n".join(["index,file,class,labeled_at", *rows]) + "\n")
    return path


def test_a_csv_is_read_for_the_images_of_a_moved_folder(tmp_path: Path) -> None:
    photos(tmp_path / "photos").to_csv(tmp_path / "labels.csv")
    (tmp_path / "photos").rename(tmp_path / "moved")
    dataset = alw.Dataset.from_folder(tmp_path / "moved")
    assert classes(read_csv(tmp_path / "labels.csv", dataset)) == {0: "cat", 1: "cat", 2: "dog"}


def test_a_file_typed_as_its_path_below_the_images_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("index,file,class\n2,dog/0.png,dog\n")
    dataset = photos(tmp_path / "photos")
    assert classes(read_csv(tmp_path / "labels.csv", dataset)) == {2: "dog"}


def test_a_row_naming_another_images_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("index,file,class\n0,cat/1.png,cat\n")
    dataset = photos(tmp_path / "photos")
    with pytest.raises(
        FormatError,
        match=re.escape(
            f"line 2: file 'cat/1.png' is not image 0 ({tmp_path / 'photos' / 'cat' / '0.png'}, "
            f"'cat/0.png' below the images' common folder {tmp_path / 'photos'}/)"
        ),
    ):
        read_csv(tmp_path / "labels.csv", dataset)


def test_a_row_typed_with_windows_separators_is_refused_saying_to_write_slashes(
    tmp_path: Path,
) -> None:
    (tmp_path / "labels.csv").write_text("index,file,class\n2,dog\\0.png,dog\n")
    dataset = photos(tmp_path / "photos")
    with pytest.raises(
        FormatError, match=r"separated by '\\': write '/' between them, as to_csv does"
    ):
        read_csv(tmp_path / "labels.csv", dataset)


def test_a_file_below_the_images_folder_is_not_read_below_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("cat/dog/0.png", "dog/0.png"):  # images 0 and 1
        (tmp_path / "photos" / name).parent.mkdir(parents=True)
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "photos" / name)
    dataset = alw.Dataset.from_folder(tmp_path / "photos")
    (tmp_path / "labels.csv").write_text("index,file,class\n0,dog/0.png,cat\n")  # image 1's
    monkeypatch.chdir(tmp_path / "photos" / "cat")  # where dog/0.png is image 0
    with pytest.raises(FormatError, match="line 2: file 'dog/0.png' is not image 0"):
        read_csv(tmp_path / "labels.csv", dataset)


def test_an_older_csv_with_absolute_paths_is_read(tmp_path: Path) -> None:
    dataset = photos(tmp_path / "photos")
    path = older_csv(tmp_path / "labels.csv", tmp_path / "photos")
    assert classes(read_csv(path, dataset)) == {0: "cat", 1: "cat", 2: "dog"}


def test_an_older_csv_is_read_for_a_moved_folder_with_a_warning(tmp_path: Path) -> None:
    path = older_csv(tmp_path / "labels.csv", tmp_path / "photos")
    dataset = photos(tmp_path / "moved")
    with pytest.warns(UserWarning, match=f"below {tmp_path / 'photos'}/\\); they were matched"):
        assert classes(read_csv(path, dataset)) == {0: "cat", 1: "cat", 2: "dog"}


def test_an_older_csv_row_moved_from_another_folder_than_the_others_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "labels.csv"
    old = tmp_path / "photos"
    path.write_text(f"index,file,class\n0,{old}/cat/0.png,cat\n2,{old}/cat/dog/0.png,dog\n")
    with pytest.raises(
        FormatError,
        match=f"line 3: file .* is not image 2: it would be image 2 moved from {old}/cat/",
    ):
        read_csv(path, photos(tmp_path / "moved"))
