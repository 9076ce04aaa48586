"""A file's stamp (inode, size, mtime, ctime) says, without reading it, that the file changed
since it was read; the embedding cache and the panel's submits check it alike."""

from __future__ import annotations

import os
from pathlib import Path

from al_widget._file_stamps import GONE, changed_since, file_stamp


def test_a_file_replaced_by_one_of_the_same_size_gets_another_stamp(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"1234")
    then = file_stamp(path)
    (tmp_path / "b.bin").write_bytes(b"5678")
    os.replace(tmp_path / "b.bin", path)
    assert changed_since(then, file_stamp(path))


def test_a_file_left_as_it_was_keeps_its_stamp(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"1234")
    then = file_stamp(path)
    path.read_bytes()
    assert not changed_since(then, file_stamp(path))


def test_a_file_gone_has_the_gone_stamp(tmp_path: Path) -> None:
    assert file_stamp(tmp_path / "gone.bin") == GONE


def test_an_image_in_memory_has_no_stamp_and_never_changes() -> None:
    assert file_stamp(None) is None
    assert not changed_since(None, (1, 2, 3, 4))
