"""One export into a folder at a time: a second one is refused, naming the folder, and an export
whose new folder is taken from under it replaces nothing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from al_widget.formats._atomic import ExportRefused
from al_widget.formats._replace import MANIFEST, replace_folder
from tests.test_export_safety_settle import beside, export, files


def test_a_second_export_into_a_folder_being_exported_into_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    export(out, ["a.txt", "z.txt"], "OLD")

    def write_while_another_starts(path: Path) -> None:
        path.write_text("A")
        with pytest.raises(ExportRefused, match=rf"another export into {re.escape(str(out))} is"):
            export(out, ["b.txt"], "B")

    replace_folder(out, {"a.txt": write_while_another_starts}, kind="test", overwrite=True)
    assert files(out) == {"a.txt": "A"}
    assert json.loads((out / MANIFEST).read_text())["files"] == ["a.txt"]
    assert beside(out) == []


def test_the_folder_is_free_for_the_next_export_once_one_is_done(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export(out, ["a.txt"], "ONE")
    export(out, ["b.txt"], "TWO")
    assert files(out) == {"b.txt": "TWO:b.txt"}
    assert beside(out) == []


def test_an_export_whose_new_folder_is_deleted_while_it_writes_replaces_nothing(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    export(out, ["a.txt", "labels/x.txt"], "OLD")
    (out / "mine.txt").write_text("mine")
    before = {**files(out), MANIFEST: (out / MANIFEST).read_text()}

    def delete_the_new_folder(path: Path) -> None:
        shutil.rmtree(path.parent)  # as another export's cleaning of what it took for a leftover

    writers = {
        "a.txt": delete_the_new_folder,
        "labels/x.txt": lambda path: path.write_text("NEW") and None,
    }
    with pytest.raises(ExportRefused, match=r"was deleted while the export wrote it"):
        replace_folder(out, writers, kind="test", overwrite=True)
    assert {**files(out), MANIFEST: (out / MANIFEST).read_text()} == before
    assert beside(out) == []
