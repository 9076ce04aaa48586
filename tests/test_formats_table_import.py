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
