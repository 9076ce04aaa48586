"""Export files are written whole or not at all, and never over a file unless asked."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pytest

from al_widget.formats._atomic import copy_file, write_text, write_with


def fail_halfway(file: IO[bytes]) -> None:
    file.write(b'{"images": [')
    raise OSError("disk full")


def test_a_write_that_fails_halfway_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="disk full"):
        write_with(tmp_path / "labels.json", fail_halfway, overwrite=False)
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_halfway_leaves_the_old_file_whole(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text("old, complete")
    with pytest.raises(OSError, match="disk full"):
        write_with(tmp_path / "labels.json", fail_halfway, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["labels.json"]
    assert (tmp_path / "labels.json").read_text() == "old, complete"


def test_an_existing_file_is_kept_without_overwrite(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="a.txt already exists; pass overwrite=True"):
        write_text(tmp_path / "a.txt", "theirs", overwrite=False)
    assert (tmp_path / "a.txt").read_text() == "mine"


def test_overwrite_replaces_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("mine")
    write_text(tmp_path / "a.txt", "theirs", overwrite=True)
    assert (tmp_path / "a.txt").read_text() == "theirs"


def test_missing_folders_of_the_path_are_made(tmp_path: Path) -> None:
    write_text(tmp_path / "x" / "y" / "a.txt", "hello", overwrite=False)
    assert (tmp_path / "x" / "y" / "a.txt").read_text() == "hello"


def test_a_linked_copy_refuses_an_existing_file_too(tmp_path: Path) -> None:
    (tmp_path / "source.png").write_bytes(b"pixels")
    (tmp_path / "copy.png").write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="copy.png already exists"):
        copy_file(tmp_path / "source.png", tmp_path / "copy.png", overwrite=False, link=True)
    assert (tmp_path / "copy.png").read_bytes() == b"mine"
    copy_file(tmp_path / "source.png", tmp_path / "copy.png", overwrite=True, link=True)
    assert (tmp_path / "copy.png").read_bytes() == b"pixels"


@pytest.mark.parametrize("link", [False, True])
def test_a_copy_onto_its_own_source_leaves_the_file_as_it_is(tmp_path: Path, link: bool) -> None:
    (tmp_path / "a.jpg").write_bytes(b"pixels")
    inode = (tmp_path / "a.jpg").stat().st_ino
    copy_file(tmp_path / "a.jpg", tmp_path / "a.jpg", overwrite=True, link=link)
    assert (tmp_path / "a.jpg").read_bytes() == b"pixels"
    assert (tmp_path / "a.jpg").stat().st_ino == inode
