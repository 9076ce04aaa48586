"""CSV label files as other tools leave them (Excel, a file edited by hand, a moved folder): read,
or refused naming the lines."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

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
