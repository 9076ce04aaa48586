"""A read-only sub-folder of an export folder, as its owner (not root) meets it: the export
carries it with what it holds and its mode, and cleans the swapped-out copy of it."""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import pytest

from tests.test_export_safety_settle import beside, export, files


def as_its_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse what a folder's mode refuses its owner (tests run as root, who is refused
    nothing): a link made, or a file deleted, in a folder without the write bit."""

    def writable(folder: str | os.PathLike[str]) -> bool:
        return bool(os.lstat(folder).st_mode & stat.S_IWUSR)

    link, unlink = os.link, os.unlink

    def owner_link(source: str, target: str, *args: object, **kwargs: object) -> None:
        if not writable(os.path.dirname(target)):
            raise PermissionError(13, "Permission denied", target)
        link(source, target, *args, **kwargs)  # type: ignore[arg-type]

    def owner_unlink(path: str | os.PathLike[str], *args: object, **kwargs: object) -> None:
        if not writable(os.path.dirname(path)):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    def owner_access(path: str | os.PathLike[str], mode: int, **kwargs: object) -> bool:
        return not mode & os.W_OK or writable(path)

    monkeypatch.setattr(os, "link", owner_link)
    monkeypatch.setattr(os, "unlink", owner_unlink)
    monkeypatch.setattr(os, "access", owner_access)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An export folder holding an earlier export (a.txt, labels/x.txt)."""
    folder = tmp_path / "out"
    export(folder, ["a.txt", "labels/x.txt"], "OLD")
    return folder


def test_a_read_only_sub_folder_of_the_users_is_carried_with_its_files_and_mode(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (out / "mine").mkdir()
    (out / "mine" / "m.txt").write_text("m")
    (out / "mine").chmod(0o555)
    as_its_owner(monkeypatch)
    export(out, ["a.txt"], "NEW")
    assert files(out) == {"a.txt": "NEW:a.txt", "mine/m.txt": "m"}
    assert stat.S_IMODE((out / "mine").stat().st_mode) == 0o555


def test_a_read_only_folder_of_the_earlier_export_is_swapped_out_and_deleted(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (out / "labels").chmod(0o555)
    as_its_owner(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        export(out, ["labels/y.txt"], "NEW")
    assert files(out) == {"labels/y.txt": "NEW:labels/y.txt"}
    assert stat.S_IMODE((out / "labels").stat().st_mode) == 0o555
    assert beside(out) == []
