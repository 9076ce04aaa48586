"""A folder export never loses what the user saves into the folder while it runs, nor what it
cannot read there: the user's newest files stay where the user put them."""

from __future__ import annotations

import ctypes
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from al_widget.formats import _replace
from al_widget.formats._replace import ExportRefused
from tests.test_export_safety import checksums, detect_dataset, snapshot_names


def save(path: Path, text: str) -> None:
    """Save `text` at `path` as editors do: a temporary file renamed over it (a new inode)."""
    path.with_name(path.name + ".tmp").write_text(text)
    os.replace(path.with_name(path.name + ".tmp"), path)


def before_the_swap(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    """Run `act` (the user saving) after the export's last look, just before the swap."""
    swap = _replace._swap_in

    def swap_in(staging: Path, live: Path) -> Path | None:
        act()
        return swap(staging, live)

    monkeypatch.setattr(_replace, "_swap_in", swap_in)


def during_the_carry(
    monkeypatch: pytest.MonkeyPatch, folder: Path, act: Callable[[], None]
) -> None:
    """Run `act` (the user saving) once, right after the export hard-linked its first file of
    `folder` into the new folder (the carry of a big folder takes seconds)."""
    link = os.link
    done: list[bool] = []

    def link_then_act(source: str | os.PathLike[str], *args: object, **kwargs: object) -> None:
        link(source, *args, **kwargs)  # type: ignore[arg-type]
        if not done and Path(source).parent == folder:
            done.append(True)
            act()

    monkeypatch.setattr(os, "link", link_then_act)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An export folder holding the user's notes.txt ("v1") beside an earlier YOLO export."""
    folder = tmp_path / "out"
    detect_dataset().to_yolo(folder)
    (folder / "notes.txt").write_text("v1")
    return folder


def test_a_file_saved_over_just_before_the_swap_is_the_users_newest_after_it(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_the_swap(monkeypatch, lambda: save(out / "notes.txt", "v2"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detect_dataset().to_yolo(out, overwrite=True)
    assert (out / "notes.txt").read_text() == "v2"
    assert snapshot_names(out.parent) == ["out"]


def test_a_file_made_just_before_the_swap_stays_in_the_folder(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_the_swap(monkeypatch, lambda: (out / "new.txt").write_text("made during export"))
    detect_dataset().to_yolo(out, overwrite=True)
    assert (out / "new.txt").read_text() == "made during export"
    assert snapshot_names(out.parent) == ["out"]


def test_a_folder_made_just_before_the_swap_stays_in_the_folder_as_it_is(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def make() -> None:
        (out / "mine").mkdir()
        (out / "mine" / "a.txt").write_text("a")

    before_the_swap(monkeypatch, make)
    detect_dataset().to_yolo(out, overwrite=True)
    assert (out / "mine" / "a.txt").read_text() == "a"
    assert snapshot_names(out.parent) == ["out"]


def test_an_earlier_exports_file_saved_over_while_exporting_is_kept_as_the_users(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = detect_dataset()
    dataset.remove(3)  # the new export no longer writes labels/000003.txt
    before_the_swap(monkeypatch, lambda: save(out / "labels" / "000003.txt", "0 .5 .5 .1 .1\n"))
    dataset.to_yolo(out, overwrite=True)
    assert (out / "labels" / "000003.txt").read_text() == "0 .5 .5 .1 .1\n"
    assert snapshot_names(out.parent) == ["out"]


def test_the_folder_shows_a_file_saved_during_the_carry_from_the_swap_on(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    during_the_carry(monkeypatch, out, lambda: save(out / "notes.txt", "v2"))
    swapped: list[str] = []
    exchange = _replace._exchange

    def exchange_seen(a: Path, b: Path) -> bool:
        done = exchange(a, b)
        swapped.append((b / "notes.txt").read_text())
        return done

    monkeypatch.setattr(_replace, "_exchange", exchange_seen)
    detect_dataset().to_yolo(out, overwrite=True)
    assert swapped == ["v2"]
    assert (out / "notes.txt").read_text() == "v2"


def test_a_file_deleted_during_the_carry_does_not_come_back(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    during_the_carry(monkeypatch, out, lambda: (out / "notes.txt").unlink())
    detect_dataset().to_yolo(out, overwrite=True)
    assert not (out / "notes.txt").exists()
    assert snapshot_names(out.parent) == ["out"]


def test_a_file_saved_during_the_carry_at_a_path_the_export_writes_stops_it_untouched(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    during_the_carry(monkeypatch, out, lambda: save(out / "labels" / "000000.txt", "mine\n"))
    with pytest.raises(ExportRefused, match=r"000000\.txt changed while the export ran"):
        detect_dataset().to_yolo(out, overwrite=True)
    monkeypatch.undo()
    assert (out / "labels" / "000000.txt").read_text() == "mine\n"
    assert (out / "notes.txt").read_text() == "v1"
    assert snapshot_names(out.parent) == ["out"]


def test_a_file_saved_at_a_path_the_export_writes_just_before_the_swap_is_kept_and_named(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_the_swap(monkeypatch, lambda: save(out / "labels" / "000000.txt", "mine\n"))
    with pytest.warns(
        UserWarning,
        match=r"saved into .*out while the export ran, .* kept as saved \(first: .*000000\.txt\)",
    ):
        detect_dataset().to_yolo(out, overwrite=True)
    (hidden,) = [p for p in out.parent.iterdir() if p.name != "out" and p.is_dir()]
    assert (hidden / "labels" / "000000.txt").read_text() == "mine\n"


def test_a_file_kept_aside_is_not_cleaned_by_the_next_export(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_the_swap(monkeypatch, lambda: save(out / "labels" / "000000.txt", "mine\n"))
    with pytest.warns(UserWarning, match="while the export ran"):
        detect_dataset().to_yolo(out, overwrite=True)
    monkeypatch.undo()
    with pytest.warns(UserWarning, match=r"left .* in place: it holds 1 file"):
        detect_dataset().to_yolo(out, overwrite=True)
    (hidden,) = [p for p in out.parent.iterdir() if p.name != "out" and p.is_dir()]
    assert (hidden / "labels" / "000000.txt").read_text() == "mine\n"


def test_without_renameat2_files_saved_just_before_the_swap_comes_back_too(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_renameat2(*args: object, **kwargs: object) -> None:
        raise OSError("no renameat2 here")  # as on macOS, Windows

    monkeypatch.setattr(ctypes, "CDLL", no_renameat2)

    def act() -> None:
        save(out / "notes.txt", "v2")
        (out / "new.txt").write_text("new")

    before_the_swap(monkeypatch, act)
    detect_dataset().to_yolo(out, overwrite=True)
    assert (out / "notes.txt").read_text() == "v2"
    assert (out / "new.txt").read_text() == "new"
    assert snapshot_names(out.parent) == ["out"]


def test_a_sub_folder_that_cannot_be_read_stops_the_export_before_anything_is_written(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (out / "colleague").mkdir()  # as a folder of another user's, mode 0700
    (out / "colleague" / "theirs.txt").write_text("theirs")
    before = checksums(out.parent)
    scandir = os.scandir

    def refusing(path: str | os.PathLike[str] = ".") -> object:
        if Path(path) == out / "colleague":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    with pytest.raises(ExportRefused, match=r"holds .*out/colleague, a folder that cannot be read"):
        detect_dataset().to_yolo(out, overwrite=True)
    monkeypatch.undo()
    assert checksums(out.parent) == before
    assert snapshot_names(out.parent) == ["out"]
