"""Dataset.restore: the dataset a journal describes, for the same images, checked against
them (``_image_list``) before its entries are replayed (``_replay``)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from ._image_list import difference, fingerprint
from ._images import ArraySource, SequenceSource
from ._journal import Journal, check_sync, parse, read_file
from ._numbers import is_int
from ._replay import replay
from ._task_types import check_task

if TYPE_CHECKING:
    from .dataset import Dataset

log = logging.getLogger("al_widget")


class DatasetRestore:
    """``restore``, the constructor of ``Dataset`` (its base class) from its journal.

    Thread safety: as ``Dataset``'s thread note says; ``restore`` sets the journal of a dataset
    it made, which no other thread has yet.
    """

    # Dataset's, read and set here on the dataset restored
    _source: ArraySource | SequenceSource
    _journal: Journal | None
    _journal_path: str | None
    _closed: str | None

    @classmethod
    def restore(  # type: ignore[misc]  # cls is Dataset, or a class derived from it
        cls: type[Dataset],
        path: str | os.PathLike[str],
        images: Any,
        *,
        read_only: bool = False,
        journal_sync: str = "round",
    ) -> Dataset:
        """The dataset a journal describes, for the same images; it goes on writing that journal.

        Parameters
        ----------
        path : path
            The journal a ``Dataset(..., journal=path)`` wrote.
        images : array-like or sequence
            The same images, in the same order, as when the journal was written. A journal
            records which they were (``_image_list``): file names relative to their folder (the
            folder may have moved), or an array's shape, dtype and bytes; other images are
            refused, nothing restored. A labeled image that cannot be read (moved away,
            deleted) does not keep the other labels back: its label is restored at the size
            the journal gives, with a warning.
        read_only : bool, default False
            Read the labels without taking the journal over: no lock, the file untouched, and
            the returned dataset refuses changes. Use it to look at a journal another Dataset
            is writing.
        journal_sync : {"round", "always", "never"}, default "round"
            When the journal is fsynced from now on (see ``Dataset``).
        """
        path = os.fspath(path)
        check_sync(journal_sync)
        journal = None if read_only else Journal(path, journal_sync, create=False)
        try:
            data = read_file(path) if journal is None else journal.read()
            parsed = parse(path, data)
            header = parsed.header
            try:
                check_task(header["task"])
            except ValueError as error:
                raise ValueError(f"journal {path} line 1: the header has an {error}") from None
            dataset = cls(images, header["classes"], header["task"])
            if len(dataset) != header["n_images"]:
                raise ValueError(
                    f"journal {path} was written for {header['n_images']} images, got {len(dataset)}"
                )
            if "images" in header:
                differs = difference(header["images"], fingerprint(dataset._source))
                if differs is not None:
                    raise ValueError(
                        f"journal {path} does not match these images: {differs}. Nothing was "
                        "restored and the journal is unchanged; give the images it was written "
                        "for, in the same order"
                    )
            # Its journal's path first: the labels replayed keep their orientations (``annotate``)
            dataset._journal_path = os.path.abspath(path)
            last = {
                entry.get("i"): number for number, entry in parsed.entries if is_int(entry.get("i"))
            }
            for number, entry in parsed.entries:
                where = f"journal {path} line {number}"
                i = entry.get("i")  # replay refuses an index that is no int
                replay(dataset, where, entry, last=not is_int(i) or last[i] == number)
            if parsed.torn:
                log.warning("journal %s: dropped a torn last line (an interrupted write)", path)
                if journal is not None:
                    journal.truncate(parsed.intact)
        except BaseException:
            if journal is not None:
                journal.close()
            raise
        dataset._journal = journal
        if read_only:
            dataset._closed = f"it was restored read-only from {path}"
        return dataset
