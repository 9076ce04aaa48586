"""The in-memory dataset: images, their annotations, a version counter and an optional journal."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import annotations as ann
from ._image_list import fingerprint
from ._images import ImageError, make_source
from ._journal import Journal, JournalError, JournalLocked, check_sync, new_journal
from ._orientation import TurnedSince, turned_since
from ._rejournal import DatasetRejournal, annotate_entry
from ._restore import DatasetRestore
from ._task_types import ANNOTATION_TYPES, check_task
from .dataset_files import DatasetFiles, register_formats
from .dataset_images import DatasetImages

if TYPE_CHECKING:
    from .formats.coco import CocoOrigin

_JOURNAL_FORMAT = 1

__all__ = [
    "ANNOTATION_TYPES",
    "Dataset",
    "DatasetClosed",
    "ImageError",
    "JournalError",
    "JournalLocked",
    "Snapshot",
    "check_task",
    "register_formats",
]


class DatasetClosed(RuntimeError):
    """A change to a Dataset that was closed, or restored read-only."""


BACKGROUNDS = frozenset(
    {"background", "bg", "_background_", "__background__", "none", "void", "unlabeled", "other"}
)
"""Names of class 0 that read as a segmentation's background (lower case)."""


@dataclass(frozen=True)
class Snapshot:
    """The labeled part of a dataset at one version: what a training round sees."""

    version: int
    indices: np.ndarray
    annotations: tuple[ann.Annotation, ...]

    def targets(self, classes: Sequence[str]) -> np.ndarray:
        """Class ids of the labeled images (classification)."""
        return np.array([a.class_id(classes) for a in self.annotations], dtype=np.int64)  # type: ignore[union-attr]


class Dataset(DatasetRestore, DatasetRejournal, DatasetImages, DatasetFiles):
    """Images plus the annotations given so far; thread-safe, versioned, optionally journaled.

    Thread safety: ``_lock`` guards ``_annotations``, ``_labeled_at``, ``_version``,
    ``_drawn_in`` and the journal; it is the innermost lock (panel → session → round worker →
    dataset) and is held only around those fields. Images are read without it
    (``DatasetImages``, a base class); ``restore`` (``DatasetRestore``) sets the journal of a
    dataset it made, before any other thread has it.

    Parameters
    ----------
    images : array-like or sequence
        An (N, H, W) or (N, H, W, 3) uint8 array, or a sequence of arrays, PIL images or file
        paths (decoded lazily; grayscale, RGBA and 16-bit images are converted to RGB).
    classes : sequence of str
        The class names, unique; for segmentation class 0 is the background.
    task : {"classify", "detect", "segment"}, default "classify"
        What an annotation is: a ``Label``, ``Boxes`` or a ``Mask``.
    journal : path, optional
        A JSON-lines file every change is written to before it is made; continue it after a
        restart with ``Dataset.restore(journal, images)``. One Dataset writes a journal at a time.
        A journal replaced, moved or deleted while open refuses later changes (``JournalError``);
        ``rejournal`` goes on with a new one.
    journal_sync : {"round", "always", "never"}, default "round"
        When the journal is fsynced. Every change is written to the OS before it is made, so a
        killed kernel loses nothing whatever the policy; fsync decides what a power cut loses:
        "round" fsyncs as each training round starts and on close (a power cut loses at most
        the labels since the last round started; no cost per label), "always" after every
        change (nothing lost; ~4 ms per label on an SSD), "never" leaves it to the OS.
    """

    def __init__(
        self,
        images: Any,
        classes: Sequence[str],
        task: str = "classify",
        *,
        journal: str | os.PathLike[str] | None = None,
        journal_sync: str = "round",
    ) -> None:
        check_sync(journal_sync)
        check_task(task)
        classes = ann.check_names(classes, "classes")
        if not classes:
            raise ValueError("classes must name at least one class")
        if len(set(classes)) != len(classes):
            raise ValueError(f"class names must be unique, got {classes}")
        if task == "segment" and len(classes) > ann.IGNORE:
            raise ValueError(
                f"a segmentation has at most {ann.IGNORE} classes (ids 0..{ann.IGNORE - 1}; "
                f"{ann.IGNORE} marks pixels not labeled), got {len(classes)}"
            )
        self.classes: list[str] = classes
        self.task = task
        if task == "segment" and len(classes) > 1 and classes[0].lower() not in BACKGROUNDS:
            warnings.warn(
                f"class 0 ({classes[0]!r}) is the background of a segmentation: what is left "
                "unpainted, and what the eraser paints; the panel never paints it. Name the "
                f"background first, e.g. classes={['background', *classes]}",
                UserWarning,
                stacklevel=2,
            )
        self._source = make_source(images)
        self._lock = threading.RLock()
        self._labeled_at = np.full(len(self._source), -1, dtype=np.int64)
        self._annotations: dict[int, ann.Annotation] = {}
        # The EXIF orientation journaled with each image's label, for a label that has one
        self._drawn_in: dict[int, int] = {}
        self._version = 0
        self._closed: str | None = None  # why changes are refused, once closed
        self.coco_origin: CocoOrigin | None = None  # from_coco's ids and crowds, for to_coco
        self._journal: Journal | None = None
        self._journal_path = None if journal is None else os.path.abspath(journal)
        if journal is not None:
            self._journal = new_journal(os.fspath(journal), journal_sync, self._header())

    # -- reading -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"Dataset({len(self)} images, task={self.task!r}, classes={self.classes}, "
            f"labeled={len(self._annotations)}, version={self._version})"
        )

    @property
    def version(self) -> int:
        """A counter that increments on every change to the annotations."""
        return self._version

    @property
    def journal_path(self) -> str | None:
        """The absolute path of the journal this dataset writes or was restored from (None
        when it has none); exports refuse to write over it."""
        return self._journal_path

    @property
    def labeled(self) -> np.ndarray:
        """Indices of the annotated images, ascending."""
        with self._lock:
            return np.flatnonzero(self._labeled_at >= 0)

    @property
    def unlabeled(self) -> np.ndarray:
        """Indices of the images without an annotation, ascending."""
        with self._lock:
            return np.flatnonzero(self._labeled_at < 0)

    def is_labeled(self, indices: Any) -> np.ndarray:
        """Whether each of `indices` has an annotation.

        Parameters
        ----------
        indices : int or array-like of int
            Dataset indices.
        """
        indices = self.check_indices(indices)
        if len(indices) > len(self) // 16:
            # Many indices (a million-image queue): gathering from a 1-byte-per-image mask that
            # stays in cache is ~5x faster than gathering int64 versions at random.
            return (self._labeled_at >= 0)[indices]
        return self._labeled_at[indices] >= 0

    def labeled_at(self, i: int) -> int:
        """The dataset version at which image `i` got its annotation (-1 when unlabeled).

        Parameters
        ----------
        i : int
            A dataset index.
        """
        return int(self._labeled_at[self.check_index(i)])

    def annotation(self, i: int) -> ann.Annotation | None:
        """The annotation of image `i`, or None.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        return self._annotations.get(self.check_index(i))

    def drawn_in(self, i: int) -> int | None:
        """The EXIF orientation journaled with image `i`'s label: the one its photo was shown
        in when the label was drawn (a restore leaves the label out once the photo is turned
        otherwise). None when image `i` has no label, or its label was journaled without one:
        a class label, the label of an image given in memory, of a dataset without a journal,
        or restored from an entry of an earlier version.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        i = self.check_index(i)
        with self._lock:
            return self._drawn_in.get(i)

    def snapshot(self) -> Snapshot:
        """A consistent copy of the labeled indices and their annotations."""
        with self._lock:
            indices = np.flatnonzero(self._labeled_at >= 0)
            return Snapshot(
                self._version, indices, tuple(self._annotations[int(i)] for i in indices)
            )

    def class_id(self, name: str | int) -> int:
        """The id of a class name (ids are returned as they are, checked).

        Parameters
        ----------
        name : str or int
            A class name, or an id to check.
        """
        return ann.resolve_class(name, self.classes)

    # -- writing -------------------------------------------------------------------------------

    def annotate(
        self,
        i: int,
        annotation: ann.Annotation,
        *,
        orientation: int | Literal["file"] | None = "file",
    ) -> ann.Annotation:
        """Set the annotation of image `i`; returns it as stored (checked against image and classes).

        Parameters
        ----------
        i : int
            The image's index.
        annotation : Label, Boxes, Mask or Instances
            An annotation of the dataset's task.
        orientation : int, None or "file", default "file"
            The EXIF orientation the label was drawn in, which the journal records with it
            (``drawn_in``): "file" reads the one image `i`'s file has now, for a label drawn
            on the image as it is; a label drawn on pixels read earlier gives the one they
            were read in (``oriented_image``), a label put back (by undo or redo) the one it
            was first journaled with, None for none. A class label, and a dataset without a
            journal, record none, whatever is given. A label drawn in another orientation than
            the file's now is refused: it would lie on other pixels.
        """
        i = self.check_index(i)
        bound, turn = self._framed(i, annotation)
        if isinstance(bound, ann.Label):  # a class names the whole image, however it is turned
            return self._store(i, bound, None)
        if orientation != "file" and turned_since(orientation, turn):
            assert orientation is not None  # both known, or it is no turn
            assert turn is not None
            raise TurnedSince(i, orientation, turn)
        if self._journal_path is None:  # no journal records it (a restore has its path)
            orientation = None
        elif orientation == "file":  # the frame it was bound in (None: an image in memory)
            orientation = turn
        return self._store(i, bound, orientation)

    def checked(self, i: int, annotation: ann.Annotation) -> tuple[int, ann.Annotation]:
        """Image `i`'s index and `annotation` as ``annotate`` would store them, checked against
        the image and the classes, or the error ``annotate`` would raise; nothing is stored.

        Parameters
        ----------
        i : int
            The image's index.
        annotation : Label, Boxes, Mask or Instances
            An annotation of the dataset's task.
        """
        i = self.check_index(i)
        return i, self._framed(i, annotation)[0]

    def annotate_unread(
        self,
        i: int,
        annotation: ann.Annotation,
        size: tuple[int, int],
        *,
        orientation: int | None = None,
    ) -> ann.Annotation:
        """Store a journaled label of image `i`, which cannot be read, bound at `size` (the size
        its journal entry gives) and to the classes, unchecked against the image; only a
        restore calls it, so that a missing file keeps no other label back.

        Parameters
        ----------
        i : int
            The image's index.
        annotation : Boxes, Mask or Instances
            The label as the journal holds it.
        size : tuple of int
            The image's (H, W) as the journal gives it.
        orientation : int, optional
            The EXIF orientation the journal entry records with the label (``drawn_in``).
        """
        bound = annotation.bind(image_size=size, classes=self.classes)
        return self._store(i, bound, orientation)

    def _store(
        self, i: int, bound: ann.Annotation, orientation: int | None = None
    ) -> ann.Annotation:
        with self._lock:
            self._write(annotate_entry(i, bound, orientation))
            self._version += 1
            self._annotations[i] = bound
            self._labeled_at[i] = self._version
            if orientation is None:
                self._drawn_in.pop(i, None)
            else:
                self._drawn_in[i] = orientation
        return bound

    def remove(self, i: int) -> ann.Annotation | None:
        """Remove the annotation of image `i`; returns what was removed.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        i = self.check_index(i)
        with self._lock:
            if i not in self._annotations:
                self._check_open()
                return None
            self._write({"op": "remove", "i": i})
            self._version += 1
            self._labeled_at[i] = -1
            self._drawn_in.pop(i, None)
            return self._annotations.pop(i)

    def close(self) -> None:
        """Close the journal; later changes are refused. Safe to call twice."""
        with self._lock:
            self._closed = self._closed or "the dataset was closed"
            if self._journal is not None:
                self._journal.close()

    def checkpoint(self) -> None:
        """Make the journal durable now if its policy is 'round' (the loop calls it each round)."""
        with self._lock:
            if self._journal is not None and not self._journal.closed:
                self._journal.sync_round()

    # -- journal -------------------------------------------------------------------------------

    def _header(self) -> dict[str, Any]:
        header = {
            "journal": "al_widget",
            "format": _JOURNAL_FORMAT,
            "classes": self.classes,
            "task": self.task,
            "n_images": len(self),
        }
        images = fingerprint(self._source)
        # "images" says which images these are (``_image_list``); a sequence of arrays or PIL
        # images has none, nor has a journal of an earlier version: restore checks their number
        return header if images is None else {**header, "images": images}

    def _write(self, entry: dict[str, Any]) -> None:
        # Caller holds the lock. The journal is written before memory changes: if it fails,
        # nothing changes.
        self._check_open()
        if self._journal is not None:
            self._journal.append(entry)

    def _check_open(self) -> None:
        if self._closed is not None:
            raise DatasetClosed(f"this dataset refuses changes: {self._closed}")

    # -- checks --------------------------------------------------------------------------------

    def _framed(self, i: int, annotation: Any) -> tuple[ann.Annotation, int | None]:
        """`annotation` bound to image `i`, and the EXIF orientation of the frame it was bound
        in, read with the size from one read of the file's header (None for a class label and
        for an image given in memory)."""
        expected = ANNOTATION_TYPES[self.task]
        if not isinstance(annotation, expected):
            raise ValueError(
                f"a {self.task!r} dataset takes {expected.__name__} annotations, "
                f"got {type(annotation).__name__} for image {i}"
            )
        size, turn = (
            self._source.frame(i) if not isinstance(annotation, ann.Label) else ((0, 0), None)
        )
        try:
            bound = annotation.bind(image_size=size, classes=self.classes)
            return ann.check_is_label(bound), turn
        except ValueError as error:
            raise ValueError(f"image {i}: {error}") from None
