"""One export into a folder at a time: an exclusive ``flock`` on a hidden file beside it.

A second export into the folder while one runs (another process, thread or cell) is refused
before anything, naming the folder and who holds it: it would clean the first one's new folder
as a leftover. The lock file is deleted once the export is done, while still locked; a waiter
that then takes the lock on the deleted file sees it gone and opens the new one. A killed
export leaves the file, unlocked, for the next one. Where ``fcntl`` is missing (Windows) no
lock is taken (see ``_flock``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from .._flock import Holders, close_copy
from ._atomic import ExportRefused

LOCK = "al_widget-lock"
"""The lock file beside an export folder is ``.<name>.<LOCK>``."""


class ExportLock:
    """The lock on exporting into `live`, held from ``with`` until its end.

    Parameters
    ----------
    live : Path
        The export folder (its parent exists).
    """

    def __init__(self, live: Path) -> None:
        self.live = live
        self.path = live.parent / f".{live.name}.{LOCK}"
        self._fd: int | None = None

    def __enter__(self) -> ExportLock:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                self._take(fd)
            except BaseException:
                os.close(fd)
                raise
            try:
                if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                    break
            except FileNotFoundError:
                pass
            os.close(fd)  # taken on a file its holder deleted as it let go: take the new one
        self._fd = fd
        _HOLDERS.add(self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        fd, self._fd = self._fd, None
        _HOLDERS.discard(self)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            os.close(fd)

    def _take(self, fd: int) -> None:
        if not _HOLDERS.take(fd):
            holder = _HOLDERS.holder(fd, unknown="another process", here=_HERE)
            raise ExportRefused(
                f"another export into {self.live} is running ({holder}): one export into a "
                "folder at a time; nothing was written, export again once it is done"
            )

    def _close_in_child(self) -> None:
        close_copy(self)  # a forked child's copy of the descriptor


_HERE = "an export of this process"
_HOLDERS = Holders("export lock")  # the export folders locked in this process
