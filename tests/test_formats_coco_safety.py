"""A COCO export never touches the user's files: not the dataset's own images, and in ``images/``
nothing an earlier export did not write."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget.formats._atomic import ExportWarning
from al_widget.formats._replace import MANIFEST, ExportRefused

SQUARE = np.zeros((16, 20), bool)
SQUARE[2:5, 2:6] = True


def checksums(folder: Path) -> dict[str, str]:
    """Every file below `folder` (hidden ones too), by its path below it: its SHA-256."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def pixels(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (16, 20, 3), dtype=np.uint8)


def labeled(images: list) -> alw.Dataset:
    dataset = alw.Dataset(images, ["a"], task="instances")
    for i in range(len(images)):
        dataset.annotate(i, alw.Instances([SQUARE], ["a"]))
    return dataset


def test_a_json_path_that_is_one_of_the_dataset_images_is_refused(tmp_path: Path) -> None:
    for k in range(2):
        Image.fromarray(pixels(k)).save(tmp_path / f"p{k}.png")
    dataset = labeled([tmp_path / "p0.png", tmp_path / "p1.png"])
    before = checksums(tmp_path)
    with pytest.raises(
        ExportRefused, match=r"p1\.png is one of the dataset's own images; .*choose another path"
    ):
        dataset.to_coco(tmp_path / "p1.png", overwrite=True)
    assert checksums(tmp_path) == before


def test_an_exported_image_that_would_replace_one_of_the_dataset_images_is_refused(
    tmp_path: Path,
) -> None:
    labeled([pixels(0), pixels(1)]).to_coco(tmp_path / "first.json")
    # the earlier export's image 1, and an image in memory, exported as images/000001.png
    dataset = labeled([tmp_path / "images" / "000001.png", pixels(2)])
    before = checksums(tmp_path)
    with pytest.raises(ExportRefused, match=r"000001\.png is one of the dataset's own images"):
        dataset.to_coco(tmp_path / "second.json", overwrite=True)
    assert checksums(tmp_path) == before


def test_overwrite_keeps_a_file_in_images_that_no_export_wrote(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "000001.png").write_bytes(b"mine")
    with pytest.raises(ExportRefused, match=r"000001\.png is in the way and no earlier export"):
        labeled([pixels(0), pixels(1)]).to_coco(tmp_path / "labels.json", overwrite=True)
    assert checksums(tmp_path) == {"images/000001.png": hashlib.sha256(b"mine").hexdigest()}


def test_overwrite_replaces_the_earlier_exports_images_as_a_whole(tmp_path: Path) -> None:
    dataset = labeled([pixels(0), pixels(1), pixels(2)])
    dataset.to_coco(tmp_path / "labels.json")
    (tmp_path / "images" / "notes.txt").write_text("mine")
    dataset.remove(2)
    dataset.to_coco(tmp_path / "labels.json", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [
        MANIFEST,
        "000000.png",
        "000001.png",  # the image no longer labeled is gone with its export
        "notes.txt",
    ]
    listed = json.loads((tmp_path / "labels.json").read_text())["images"]
    assert [image["file_name"] for image in listed] == ["images/000000.png", "images/000001.png"]


def test_a_folder_at_the_json_path_stops_the_export_before_anything_is_written(
    tmp_path: Path,
) -> None:
    (tmp_path / "labels.json").mkdir()
    with pytest.raises(ExportRefused, match=r"labels\.json is a folder where the export writes"):
        labeled([pixels(0)]).to_coco(tmp_path / "labels.json", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.json"]


def test_a_json_write_that_fails_leaves_the_earlier_export_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labeled([pixels(0), pixels(1), pixels(2)]).to_coco(tmp_path / "labels.json")
    (tmp_path / "images" / "notes.txt").write_text("mine")
    before = checksums(tmp_path)
    mkstemp = tempfile.mkstemp

    def disk_full(*args: Any, **kwargs: Any) -> tuple[int, str]:
        if str(kwargs.get("prefix", "")).startswith(".labels.json."):
            raise OSError(errno.ENOSPC, "No space left on device")
        return mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        labeled([pixels(5), pixels(6)]).to_coco(tmp_path / "labels.json", overwrite=True)
    assert checksums(tmp_path) == before  # the JSON and the images it lists, as they were
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "labels.json"]


def beside_images(monkeypatch: pytest.MonkeyPatch, folder: Path, act: Callable[[], None]) -> None:
    """Run `act` at the first look into a folder beside `folder`/images: the swapped-out images
    folder, looked over once the new one is swapped in."""
    scandir, done = os.scandir, []

    def acting(path: str | os.PathLike[str] = ".") -> object:
        if not done and Path(path).name.startswith(".images.al_widget-"):
            done.append(True)
            act()
        return scandir(path)

    monkeypatch.setattr(os, "scandir", acting)


def listed_images(path: Path) -> list[str]:
    return [image["file_name"] for image in json.loads(path.read_text())["images"]]


def test_an_interrupt_once_images_are_replaced_still_puts_the_new_json_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labeled([pixels(0), pixels(1), pixels(2)]).to_coco(tmp_path / "labels.json")

    def interrupt() -> None:
        raise KeyboardInterrupt

    beside_images(monkeypatch, tmp_path, interrupt)
    with pytest.raises(KeyboardInterrupt):
        labeled([pixels(5), pixels(6)]).to_coco(tmp_path / "labels.json", overwrite=True)
    monkeypatch.undo()
    assert listed_images(tmp_path / "labels.json") == ["images/000000.png", "images/000001.png"]
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [
        MANIFEST,
        "000000.png",
        "000001.png",
    ]


def test_an_old_image_that_cannot_be_deleted_leaves_the_new_json_in_place_and_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labeled([pixels(0), pixels(1), pixels(2)]).to_coco(tmp_path / "labels.json")
    unlink = os.unlink

    def read_only(path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> None:
        if Path(path).parent.name.startswith(".images.al_widget-"):  # as in a read-only images/
            raise PermissionError(13, "Permission denied", os.fspath(path))
        unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", read_only)
    with pytest.warns(ExportWarning, match=r"could not be deleted \(Permission denied; first: "):
        labeled([pixels(5), pixels(6)]).to_coco(tmp_path / "labels.json", overwrite=True)
    assert listed_images(tmp_path / "labels.json") == ["images/000000.png", "images/000001.png"]
    assert all((tmp_path / name).is_file() for name in listed_images(tmp_path / "labels.json"))
