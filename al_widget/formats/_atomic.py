"""Writing export files safely: refuse to overwrite unless asked, write to a temporary name, rename."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from PIL import Image

PathLike = str | os.PathLike[str]


class PathTaken(FileExistsError):
    """An export refused before anything was written: `path` exists and overwrite was not given.

    Parameters
    ----------
    path : str or os.PathLike
        The path that exists.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = os.fspath(path)
        super().__init__(
            f"{self.path} already exists; pass overwrite=True to replace it or choose another path"
        )


class ExportWarning(UserWarning):
    """What an export changed or lost on the way (an image renamed, a flag the format has no
    field for, a folder left behind), warned once the export is done.

    The panel's export control shows each one's `note` beside its result.

    Parameters
    ----------
    note : str
        What happened, in words that stand on their own.
    export : str, optional
        The export it happened in ("YOLO export"), which the warning's text starts with.
    """

    def __init__(self, note: str, export: str | None = None) -> None:
        super().__init__(note if export is None else f"{export}: {note}")
        self.note, self.export = note, export


class ExportRefused(FileExistsError):
    """An export that would replace or delete a file it must not touch; nothing was written."""


def check_free(paths: Iterable[PathLike], overwrite: bool) -> None:
    """Refuse, before anything is written, when one of `paths` exists and `overwrite` is False."""
    if overwrite:
        return
    for path in paths:
        if os.path.lexists(path):
            raise PathTaken(path)


Before = Callable[[Callable[[], None]], object]
"""What must be in place before an export file is (the images a COCO file lists): called with
the function that renames the file into place, which it calls once its own change is made."""


def write_with(
    path: PathLike,
    fill: Callable[[IO[bytes]], None],
    overwrite: bool,
    sync: bool = True,
    before: Before | None = None,
) -> Path:
    """Write `path` through `fill(file)` into a temporary file beside it, then rename it into place.

    A failed or interrupted write leaves no file at `path` (or the old one, untouched). With
    `sync` the file is fsynced before the rename, so that a power cut cannot leave it empty;
    exporters skip that for the many per-image files (it costs a few ms each, most of an
    export's time; an export is redone in seconds), and keep it for the index files.
    `before(place)` is called once the file is written: what must be in place before the file
    is (the images a COCO file lists). It calls `place` (the rename) as soon as its own change
    is made, and the file stays in place whatever happens after; if it fails before, nothing is
    renamed. Where it never calls `place`, the file is renamed once it returns.
    """
    target = Path(path)
    check_free([target], overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    placed: list[bool] = []

    def place() -> None:
        if not placed:
            if overwrite:
                os.replace(temporary, target)
            else:
                _link_new(temporary, target)
            placed.append(True)

    try:
        with os.fdopen(handle, "wb") as file:
            fill(file)
            file.flush()
            if sync:
                os.fsync(file.fileno())
        if before is not None:
            before(place)
        place()
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise
    return target


def _link_new(temporary: str, target: Path) -> None:
    # A hard link fails when the target appeared since the check: no file is ever clobbered.
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise PathTaken(target) from None
    except OSError:  # a file system without hard links: check once more, then rename
        check_free([target], overwrite=False)
        os.replace(temporary, target)
        return
    os.unlink(temporary)


def write_bytes(
    path: PathLike,
    data: bytes,
    overwrite: bool,
    sync: bool = True,
    before: Before | None = None,
) -> Path:
    """Write `data` to `path` safely (see `write_with`)."""

    def fill(file: IO[bytes]) -> None:
        file.write(data)

    return write_with(path, fill, overwrite, sync, before)


def write_text(
    path: PathLike,
    text: str,
    overwrite: bool,
    sync: bool = True,
    before: Before | None = None,
) -> Path:
    """Write UTF-8 `text` to `path` safely (see `write_with`)."""
    return write_bytes(path, text.encode("utf-8"), overwrite, sync, before)


def save_png(path: PathLike, image: Image.Image, overwrite: bool, sync: bool = True) -> Path:
    """Save `image` as a PNG at `path` safely (see `write_with`)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return write_bytes(path, buffer.getvalue(), overwrite, sync)


def copy_file(
    source: PathLike, path: PathLike, overwrite: bool, link: bool = False, sync: bool = True
) -> Path:
    """Copy (or, with `link`, hard-link where possible) the file `source` to `path` safely.

    When `path` already is `source` (the same file, or a hard link to it) nothing is written:
    the file is never unlinked nor rewritten. A replaced file is replaced by a rename, so it is
    whole at every moment.
    """
    target = Path(path)
    check_free([target], overwrite)
    if _same_file(source, target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        temporary = target.parent / f".{target.name}.{os.getpid()}.{id(target):x}.link"
        try:
            os.link(source, temporary)
        except OSError:
            pass  # another device or no hard links: copy instead
        else:
            try:
                if overwrite:
                    os.replace(temporary, target)
                else:
                    _link_new(os.fspath(temporary), target)
            finally:
                if os.path.lexists(temporary):
                    os.unlink(temporary)
            return target
    with open(source, "rb") as file:
        return write_with(target, lambda out: shutil.copyfileobj(file, out), overwrite, sync)


def _same_file(a: PathLike, b: PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
