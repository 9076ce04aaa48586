"""After the swap an export only tidies up: what stops it there (an interrupt, a file that cannot
be deleted) never deletes what the user saved meanwhile, never takes the new export back, and
never stops a later export; what it leaves beside the folder is named for what it is."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from al_widget.formats import _replace
from al_widget.formats._atomic import ExportRefused, ExportWarning
from al_widget.formats._replace import MANIFEST, replace_folder
from tests.test_export_safety_saves import before_the_swap, save


def writers(names: Iterable[str], tag: str) -> dict[str, Callable[[Path], None]]:
    """A writer for each of `names`, writing "<tag>:<name>"."""

    def writer(text: str) -> Callable[[Path], None]:
        return lambda path: path.write_text(text) and None

    return {name: writer(f"{tag}:{name}") for name in names}


def export(folder: Path, names: Iterable[str], tag: str) -> None:
    replace_folder(folder, writers(names, tag), kind="test", overwrite=True)


def files(folder: Path) -> dict[str, str]:
    """Every file below `folder` but the export's manifest, by its path below it: its text."""
    return {
        path.relative_to(folder).as_posix(): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def beside(folder: Path) -> list[str]:
    """What is beside `folder` in its parent: what the exports left there."""
    return sorted(p.name for p in folder.parent.iterdir() if p != folder)


def interrupt_when_settling(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Callable[[], None]:
    """A KeyboardInterrupt at the first look into a folder beside `folder` once the returned
    function is called (the swapped-out folder, looked over after the swap)."""
    scandir, armed = os.scandir, []

    def interrupting(path: str | os.PathLike[str] = ".") -> object:
        if armed and Path(path).name.startswith(f".{folder.name}.al_widget-"):
            armed.clear()
            raise KeyboardInterrupt
        return scandir(path)

    monkeypatch.setattr(os, "scandir", interrupting)
    return lambda: armed.append(True)


def refuse_deleting(monkeypatch: pytest.MonkeyPatch, folder: Path, below: str) -> None:
    """Make the files in `below` of the folders beside `folder` undeletable, as the files of a
    read-only folder are to its owner (not root)."""
    unlink = os.unlink

    def refusing(path: str | os.PathLike[str], *args: object, **kwargs: object) -> None:
        where = Path(path)
        if where.parent.name == below and where.parent.parent.name.startswith(f".{folder.name}."):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "unlink", refusing)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An export folder holding an earlier export (a.txt, old.txt, labels/x.txt) and the user's
    mine.txt ("v1")."""
    folder = tmp_path / "out"
    export(folder, ["a.txt", "old.txt", "labels/x.txt"], "OLD")
    (folder / "mine.txt").write_text("v1")
    return folder


def interrupt_as_the_swap_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A KeyboardInterrupt (Ctrl-C) landing as the swap's renameat2 returns."""
    exchange = _replace._exchange

    def exchange_then_interrupt(a: Path, b: Path) -> bool:
        exchange(a, b)
        raise KeyboardInterrupt

    monkeypatch.setattr(_replace, "_exchange", exchange_then_interrupt)


def test_an_interrupt_after_the_swap_never_deletes_a_file_saved_over_the_earlier_exports(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the new export no longer writes old.txt, which the user saved over just before the swap
    before_the_swap(monkeypatch, lambda: save(out / "old.txt", "mine"))
    interrupt_as_the_swap_returns(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        export(out, ["a.txt"], "NEW")
    monkeypatch.undo()
    assert [path.read_text() for path in out.parent.rglob("old.txt")] == ["mine"]


def test_the_next_export_brings_back_what_an_interrupt_after_the_swap_left_aside(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arm = interrupt_when_settling(monkeypatch, out)

    def act() -> None:
        save(out / "old.txt", "mine")
        (out / "late.txt").write_text("late")
        arm()

    before_the_swap(monkeypatch, act)
    with pytest.raises(KeyboardInterrupt):
        export(out, ["a.txt"], "NEW")
    monkeypatch.undo()
    export(out, ["a.txt"], "NEXT")
    assert files(out) == {
        "a.txt": "NEXT:a.txt",
        "late.txt": "late",
        "mine.txt": "v1",
        "old.txt": "mine",
    }
    assert beside(out) == []


def test_an_interrupt_as_the_swap_returns_leaves_what_was_saved_for_the_next_export(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def act() -> None:
        save(out / "old.txt", "mine")
        (out / "late.txt").write_text("late")

    before_the_swap(monkeypatch, act)
    interrupt_as_the_swap_returns(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        export(out, ["a.txt"], "NEW")
    assert files(out) == {"a.txt": "NEW:a.txt", "mine.txt": "v1"}  # the new export, in place
    monkeypatch.undo()
    export(out, ["a.txt"], "NEXT")
    assert files(out) == {
        "a.txt": "NEXT:a.txt",
        "late.txt": "late",
        "mine.txt": "v1",
        "old.txt": "mine",
    }
    assert beside(out) == []


def test_a_file_that_cannot_be_deleted_after_the_swap_is_kept_and_named(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_deleting(monkeypatch, out, "labels")
    with pytest.warns(
        ExportWarning, match=r"could not be deleted \(Permission denied; first: .*labels/x\.txt"
    ):
        export(out, ["a.txt"], "NEW")
    assert files(out) == {"a.txt": "NEW:a.txt", "mine.txt": "v1"}


def test_what_could_not_be_deleted_beside_the_folder_never_stops_a_later_export(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_deleting(monkeypatch, out, "labels")
    with contextlib.suppress(PermissionError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export(out, ["a.txt"], "NEW")
    with pytest.warns(ExportWarning, match="could not be deleted"):
        export(out, ["b.txt"], "NEXT")
    assert files(out) == {"b.txt": "NEXT:b.txt", "mine.txt": "v1"}


def test_what_could_not_be_deleted_is_deleted_by_the_next_export_that_can(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_deleting(monkeypatch, out, "labels")
    with pytest.warns(ExportWarning, match="could not be deleted"):
        export(out, ["a.txt"], "NEW")
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        export(out, ["a.txt"], "NEXT")
    assert beside(out) == []


def test_a_folder_name_too_long_for_the_folder_written_beside_it_is_refused_first(
    tmp_path: Path,
) -> None:
    folder = tmp_path / ("x" * 240)
    with pytest.raises(ExportRefused, match=r"its name is 240 bytes long"):
        export(folder, ["a.txt"], "NEW")
    assert list(tmp_path.iterdir()) == []


def test_an_older_copy_of_a_file_saved_again_after_the_swap_is_named_as_one(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scandir, armed = os.scandir, []

    def save_when_settling(path: str | os.PathLike[str] = ".") -> object:
        if armed and Path(path).name.startswith(".out.al_widget-"):
            armed.clear()
            save(out / "mine.txt", "v3")  # saved again while the swapped-out folder is looked over
        return scandir(path)

    before_the_swap(monkeypatch, lambda: (save(out / "mine.txt", "v2"), armed.append(True)))
    monkeypatch.setattr(os, "scandir", save_when_settling)
    with pytest.warns(ExportWarning) as caught:
        export(out, ["a.txt"], "NEW")
    (note,) = [str(w.message) for w in caught if "left " in str(w.message)]
    assert "found nowhere else" not in note
    assert re.search(
        r"1 file\(s\) at a path where .*/out now holds another file \(first: .*mine\.txt", note
    )
    assert (out / "mine.txt").read_text() == "v3"
