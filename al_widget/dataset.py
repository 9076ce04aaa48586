"""The in-memory dataset: images, their annotations, a version counter and an optional journal."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from . import annotations as ann
from ._images import ImageError, make_source

log = logging.getLogger("al_widget")

TASKS = {"classify": ann.Label, "detect": ann.Boxes, "segment": ann.Mask}
_JOURNAL_FORMAT = 1

__all__ = ["TASKS", "Dataset", "ImageError", "Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """The labeled part of a dataset at one version: what a training round sees."""

    version: int
    indices: np.ndarray
    annotations: tuple[ann.Annotation, ...]

    def targets(self, classes: Sequence[str]) -> np.ndarray:
        """Class ids of the labeled images (classification)."""
        return np.array([a.class_id(classes) for a in self.annotations], dtype=np.int64)  # type: ignore[union-attr]


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


class Dataset:
    """Images plus the annotations given so far; thread-safe, versioned, optionally journaled.

    Thread safety: ``_lock`` guards ``_annotations``, ``_labeled_at``, ``_version`` and the
    journal; it is the innermost lock (panel → session → trainer → dataset) and is held only
    around those fields. Images are read without it.

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
        A JSON-lines file every change is appended to; continue it after a restart with
        ``Dataset.restore(journal, images)``.
    """

    def __init__(
        self,
        images: Any,
        classes: Sequence[str],
        task: str = "classify",
        *,
        journal: str | os.PathLike[str] | None = None,
    ) -> None:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {sorted(TASKS)}")
        classes = [str(c) for c in classes]
        if not classes:
            raise ValueError("classes must name at least one class")
        if len(set(classes)) != len(classes):
            raise ValueError(f"class names must be unique, got {classes}")
        self.classes: list[str] = classes
        self.task = task
        self._source = make_source(images)
        self._lock = threading.RLock()
        self._labeled_at = np.full(len(self._source), -1, dtype=np.int64)
        self._annotations: dict[int, ann.Annotation] = {}
        self._version = 0
        self._journal_path = os.fspath(journal) if journal is not None else None
        self._journal: TextIO | None = None
        if self._journal_path is not None:
            if os.path.exists(self._journal_path) and os.path.getsize(self._journal_path) > 0:
                raise ValueError(
                    f"journal {self._journal_path} already holds labels; "
                    "continue it with Dataset.restore(path, images)"
                )
            self._open_journal(header=True)

    # -- reading -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._source)

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
        """Whether each of `indices` has an annotation."""
        return self._labeled_at[np.asarray(indices, dtype=np.int64)] >= 0

    def labeled_at(self, i: int) -> int:
        """The dataset version at which image `i` got its annotation (-1 when unlabeled)."""
        return int(self._labeled_at[self.check_index(i)])

    def annotation(self, i: int) -> ann.Annotation | None:
        """The annotation of image `i`, or None."""
        return self._annotations.get(self.check_index(i))

    def image(self, i: int) -> np.ndarray:
        """Image `i` as an (H, W, 3) uint8 array."""
        return self._source.rgb(self.check_index(i))

    def image_size(self, i: int) -> tuple[int, int]:
        """The (H, W) of image `i`."""
        return self._source.size(self.check_index(i))

    def batch(self, indices: Any, size: tuple[int, int] | None = None) -> np.ndarray:
        """Images as one (n, H, W, 3) uint8 array, resized to `size` (or the first one's size)."""
        indices = np.asarray(indices, dtype=np.int64)
        for i in indices[(indices < 0) | (indices >= len(self))][:1]:
            self.check_index(int(i))
        return self._source.batch(indices, size)

    def snapshot(self) -> Snapshot:
        """A consistent copy of the labeled indices and their annotations."""
        with self._lock:
            indices = np.flatnonzero(self._labeled_at >= 0)
            return Snapshot(
                self._version, indices, tuple(self._annotations[int(i)] for i in indices)
            )

    def class_id(self, name: str | int) -> int:
        """The id of a class name (ids are returned as they are, checked)."""
        return ann.resolve_class(name, self.classes)

    # -- writing -------------------------------------------------------------------------------

    def annotate(self, i: int, annotation: ann.Annotation) -> ann.Annotation:
        """Set the annotation of image `i`; returns it as stored (checked against image and classes).

        Parameters
        ----------
        i : int
            The image's index.
        annotation : Label, Boxes or Mask
            An annotation of the dataset's task.
        """
        i = self.check_index(i)
        bound = self._bind(i, annotation)
        with self._lock:
            self._version += 1
            self._annotations[i] = bound
            self._labeled_at[i] = self._version
            self._write({"op": "annotate", "i": i, "annotation": bound.to_json()})
        return bound

    def remove(self, i: int) -> ann.Annotation | None:
        """Remove the annotation of image `i`; returns what was removed."""
        i = self.check_index(i)
        with self._lock:
            removed = self._annotations.pop(i, None)
            if removed is not None:
                self._version += 1
                self._labeled_at[i] = -1
                self._write({"op": "remove", "i": i})
        return removed

    def close(self) -> None:
        """Close the journal file."""
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    # -- journal -------------------------------------------------------------------------------

    @classmethod
    def restore(cls, path: str | os.PathLike[str], images: Any) -> Dataset:
        """The dataset a journal describes, for the same images; the journal goes on from there.

        Parameters
        ----------
        path : path
            The journal a ``Dataset(..., journal=path)`` wrote.
        images : array-like or sequence
            The same images, in the same order, as when the journal was written.
        """
        path = os.fspath(path)
        with open(path, encoding="utf-8") as file:
            lines = file.read().split("\n")
        try:
            header = json.loads(lines[0])
            classes, task, n_images = header["classes"], header["task"], header["n_images"]
        except (ValueError, KeyError, IndexError):
            raise ValueError(
                f"{path} is not an al_widget journal (its first line is not a header)"
            ) from None
        dataset = cls(images, classes, task)
        if len(dataset) != n_images:
            raise ValueError(
                f"journal {path} was written for {n_images} images, got {len(dataset)}"
            )
        body = lines[1:]
        if body and body[-1] == "":
            body.pop()
        elif body and not _parses(body[-1]):
            log.warning("journal %s: dropped a torn last line (an interrupted write)", path)
            body.pop()
        for number, line in enumerate(body, start=2):
            try:
                entry = json.loads(line)
            except ValueError:
                raise ValueError(f"journal {path} line {number} is not valid JSON") from None
            if entry.get("op") == "annotate":
                dataset.annotate(entry["i"], ann.from_json(entry["annotation"]))
            elif entry.get("op") == "remove":
                dataset.remove(entry["i"])
            else:
                raise ValueError(f"journal {path} line {number}: unknown op {entry.get('op')!r}")
        with open(path + ".tmp", "w", encoding="utf-8") as file:
            file.write("\n".join([lines[0], *body]) + "\n")
        os.replace(path + ".tmp", path)
        dataset._journal_path = path
        dataset._open_journal(header=False)
        return dataset

    def _open_journal(self, header: bool) -> None:
        assert self._journal_path is not None
        self._journal = open(self._journal_path, "a", encoding="utf-8")  # noqa: SIM115 - held open for appends
        if header:
            self._write(
                {
                    "journal": "al_widget",
                    "format": _JOURNAL_FORMAT,
                    "classes": self.classes,
                    "task": self.task,
                    "n_images": len(self),
                }
            )

    def _write(self, entry: dict[str, Any]) -> None:
        if self._journal is not None:
            self._journal.write(json.dumps(entry, separators=(",", ":")) + "\n")
            self._journal.flush()

    # -- checks --------------------------------------------------------------------------------

    def check_index(self, i: Any) -> int:
        """`i` as an int, refused when it is not an index into this dataset."""
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise ValueError(f"index must be an int, got {i!r}")
        if not 0 <= int(i) < len(self):
            raise IndexError(f"index {int(i)} is out of range for a dataset of {len(self)} images")
        return int(i)

    def _bind(self, i: int, annotation: Any) -> ann.Annotation:
        expected: type[ann.Label] | type[ann.Boxes] | type[ann.Mask] = TASKS[self.task]
        if not isinstance(annotation, expected):
            raise ValueError(
                f"a {self.task!r} dataset takes {expected.__name__} annotations, "
                f"got {type(annotation).__name__} for image {i}"
            )
        size = self.image_size(i) if not isinstance(annotation, ann.Label) else (0, 0)
        try:
            return annotation.bind(image_size=size, classes=self.classes)
        except ValueError as error:
            raise ValueError(f"image {i}: {error}") from None
