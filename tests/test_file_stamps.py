"""A file's stamp (inode, size, mtime, ctime) says, without reading it, that the file may have
changed since it was read; the embedding cache and the panel's submits check it alike. The
digest of the bytes read says whether a file whose stamp changed still holds them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from al_widget._file_stamps import GONE, changed_since, file_digest, file_stamp, same_bytes
from al_widget._images import read_oriented


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


def test_a_file_written_again_with_the_same_bytes_gets_another_stamp_but_the_same_bytes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.png"
    Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4)).save(path)
    then = read_oriented(path, "image 0").stamp
    path.write_bytes(path.read_bytes())
    now = read_oriented(path, "image 0").stamp
    assert then is not None
    assert now is not None
    assert changed_since(then.file, now.file)
    assert same_bytes(then, now)


def test_a_file_replaced_by_other_pixels_of_the_same_size_has_other_pixels(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.png"
    Image.fromarray(np.zeros((3, 4), np.uint8)).save(path)
    then = read_oriented(path, "image 0").stamp
    Image.fromarray(np.ones((3, 4), np.uint8)).save(path)
    assert not same_bytes(then, read_oriented(path, "image 0").stamp)


def test_a_files_digest_now_is_the_digest_of_the_bytes_its_pixels_were_read_from(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.png"
    Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4)).save(path)
    stamp = read_oriented(path, "image 0").stamp
    assert stamp is not None
    assert file_digest(path) == stamp.digest
    assert file_digest(tmp_path / "gone.png") is None
