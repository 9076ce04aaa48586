"""Dataset.rejournal: the labels a dataset holds written to a new journal, which later changes go
to; the way on when the journal's file is no longer at its path (``_journal_place``), and the way
to start journaling a dataset made without a journal."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._journal import Journal, check_sync, new_journal

if TYPE_CHECKING:
    import threading

    from . import annotations as ann


def annotate_entry(i: int, label: ann.Annotation, orientation: int | None) -> dict[str, Any]:
    """The journal entry that gives image `i` its `label`, drawn in EXIF `orientation` (None:
    none recorded).

    Parameters
    ----------
    i : int
        The image's index.
    label : Label, Boxes, Mask or Instances
        Its label, bound to the image.
    orientation : int or None
        The EXIF orientation it was drawn in (``Dataset.drawn_in``).
    """
    entry: dict[str, Any] = {"op": "annotate", "i": i, "annotation": label.to_json()}
    if orientation is not None:  # what the label was drawn in (see ``_replay``)
        entry["orientation"] = orientation
    return entry


class DatasetRejournal:
    """``rejournal``, a method of ``Dataset`` (its base class).

    Thread safety: it holds the Dataset's ``_lock`` throughout, as every change does.
    """

    # Dataset's, read and set here under its lock
    _lock: threading.RLock
    _journal: Journal | None
    _journal_path: str | None
    _annotations: dict[int, ann.Annotation]
    _labeled_at: np.ndarray
    _drawn_in: dict[int, int]
    _header: Callable[[], dict[str, Any]]
    _check_open: Callable[[], None]

    def rejournal(self, path: str | os.PathLike[str], *, journal_sync: str | None = None) -> None:
        """Write every label this dataset holds to a new journal at `path`, and journal every
        later change there; the journal written until now is closed, its file left as it is.

        The way on when the journal's file was replaced, moved or deleted while the dataset had
        it open (changes are refused then, with a ``JournalError`` that says so); also starts
        journaling a dataset made without a journal. All or nothing: when the new journal
        cannot be written, the dataset goes on with the journal it had, and `path` is left
        empty.

        Parameters
        ----------
        path : path
            Where the new journal goes: no file, or an empty one. A journal that holds labels
            is refused (``ValueError``), as ``Dataset(..., journal=path)`` refuses it, and so
            is one another Dataset writes (``JournalLocked``).
        journal_sync : {"round", "always", "never"}, optional
            When the new journal is fsynced (see ``Dataset``); by default as the journal it
            replaces was ("round" for a dataset without one). It is fsynced once written,
            unless "never".
        """
        sync = journal_sync or (self._journal.sync_policy if self._journal else "round")
        check_sync(sync)
        with self._lock:
            self._check_open()
            if self._journal is not None and self._journal.at(os.fspath(path)):
                raise ValueError(
                    f"journal {os.fspath(path)} is this dataset's journal already, which it goes "
                    "on writing: give another path"
                )
            journal = new_journal(os.fspath(path), sync, self._header())
            try:
                journal.extend(self._entries())
                if sync == "round":
                    journal.sync_round()
            except BaseException:
                with contextlib.suppress(OSError):
                    journal.truncate(0)  # no header left alone: the path takes a journal again
                journal.close()
                raise
            old, self._journal = self._journal, journal
            self._journal_path = os.path.abspath(path)
            if old is not None:
                old.close()

    def _entries(self) -> list[dict[str, Any]]:
        """An entry for each label held, in the order they were given (caller holds the lock)."""
        labeled = np.flatnonzero(self._labeled_at >= 0)
        order = labeled[np.argsort(self._labeled_at[labeled], kind="stable")]
        return [
            annotate_entry(i, self._annotations[i], self._drawn_in.get(i)) for i in map(int, order)
        ]
