"""Image folders: torchvision's ImageFolder layout (one sub-folder per class) or a flat folder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import annotations as ann
from ._import import FormatError, build, check_folder, is_skipped_folder, list_images
from ._names import listed

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["read_folder"]


def read_folder(
    path: str | os.PathLike[str],
    task: str = "classify",
    *,
    classes: Sequence[str] | None = None,
    unlabeled: str = "unlabeled",
) -> Dataset:
    """A Dataset over the images below `path`, labeled by their class folder.

    Layouts: ``path/<class>/**/image`` (labeled with the folder's class, as torchvision's
    ImageFolder), ``path/<unlabeled>/**/image`` and images directly in ``path`` (unlabeled).
    Folders that are symbolic links are followed, as ImageFolder follows them; a folder
    reached by two paths that give its images two classes (a class folder linked to another,
    or into the unlabeled pool) is refused, naming both: an image has one class. So is an
    image file reached by two such paths (a file link in one class folder to an image of
    another, or two links to one file); a link to an image outside the folder, or to one of
    the same class, is an image of its class (listed twice in the second case). A link to
    no file is left out with a warning.
    Without `classes`, a folder whose sub-folders look like a dataset's splits is refused,
    naming them: they are all named as splits (``train``, ``valid``, ``val``, ``test`` ...)
    and none holds an image directly, only folders (Roboflow's classification "Folder
    Structure" export, ``train/<class>/``, ``valid/<class>/``, ``test/<class>/``, read at its
    root would label every image with its split); a lone such folder too (one class named
    ``test`` is unlikelier than a split read at its root): read one split folder, or pass
    `classes` when the sub-folders are the classes. Class folders holding sub-folders of the
    same names (``cat/2019/``, ``dog/2019/``) are read as classes, as ImageFolder reads them.
    Files are sorted by their path below `path`, so indices are the same on every run; images
    are decoded only when used.

    Parameters
    ----------
    path : path
        The folder.
    task : {"classify", "detect", "segment"}, default "classify"
        The dataset's task. Class folders label images only for "classify"; for "detect" and
        "segment" every image is unlabeled and `classes` is required.
    classes : sequence of str, optional
        The class names. Default: the class folders' names, sorted: every sub-folder but
        hidden ones, a macOS zip's ``__MACOSX`` (left out with a warning) and `unlabeled`, an
        empty one too (a class with no example yet), as ImageFolder takes them. When given,
        every class folder holding images must name one of them.
    unlabeled : str, default "unlabeled"
        The sub-folder whose images are the unlabeled pool.
    """
    folder = check_folder(path, "image folder")
    if task != "classify" and classes is None:
        raise ValueError(f"classes are needed for a {task!r} dataset read from a folder")
    start = len(os.path.join(folder, ""))

    def refuse_two_classes(first: str, second: str) -> None:
        is_folder = os.path.isdir(second)
        end = os.sep if is_folder else ""  # a folder's own name is its top folder
        one, other = (_top_folder(path[start:] + end) or None for path in (first, second))
        if task == "classify" and one != other:
            what = "folder" if is_folder else "image file"
            images = "its images" if is_folder else "it"
            raise FormatError(
                f"image folder {folder}: {first} and {second} are one {what} (reached through "
                f"a symbolic link), so {images} would have two classes, "
                f"{_class_of(one, unlabeled)} and {_class_of(other, unlabeled)}, and an image "
                "has one class: remove the link"
            )

    files = list_images(folder, follow_links=True, on_alias=refuse_two_classes)
    if not files:
        raise FormatError(f"image folder {folder} holds no image files")
    labels: dict[int, tuple[ann.Annotation, str]] = {}
    if task != "classify":
        assert classes is not None
        return build(files, classes, task, labels)
    top = [_top_folder(f[start:]) for f in files]
    found = sorted({t for t in top if t is not None and t != unlabeled})
    if classes is None:
        _refuse_splits(folder, [f[start:] for f in files], unlabeled)
        classes = _class_folders(folder, unlabeled)
        if not classes:
            raise ValueError(
                f"image folder {folder} has no class sub-folders: pass classes=[...] to read "
                "its images as an unlabeled pool"
            )
    unknown = [name for name in found if name not in classes]
    if unknown:
        raise FormatError(
            f"image folder {folder}: sub-folder {unknown[0]!r} is not one of the classes "
            f"{list(classes)}; rename it, add the class, or move it under {unlabeled!r}/"
        )
    for i, (file, name) in enumerate(zip(files, top, strict=True)):
        if name is not None and name != unlabeled:
            labels[i] = (ann.Label(name), f"image folder {folder}, file {file}")
    return build(files, classes, task, labels)


SPLIT_NAMES = frozenset({"train", "training", "val", "valid", "validation", "test", "testing"})
"""Folder names of a dataset's splits (any case): never taken for classes holding classes."""


def _refuse_splits(folder: Path, relative: list[str], unlabeled: str) -> None:
    """Refuse to take for classes top folders that look like a dataset's splits: all are named
    as splits (``train``, ``valid``, ``test`` ...) and none holds an image directly, only
    sub-folders, as Roboflow's classification "Folder Structure" export lays out
    ``train/<class>/``, ``valid/<class>/``, ``test/<class>/``. Class folders holding the same
    sub-folders (``cat/2019/``, ``dog/2019/``) are ImageFolder's classes, as torchvision reads
    them. `relative` are the image files' paths below `folder`."""
    below: dict[str, set[str]] = {}
    for path in relative:
        parts = path.split(os.sep, 2)
        if len(parts) == 2 and parts[0] != unlabeled:
            return  # an image directly in a class folder: ImageFolder's own layout
        if len(parts) > 2:
            below.setdefault(parts[0], set()).add(parts[1])
    tops = sorted(set(below) - {unlabeled})
    if not tops or not all(top.lower() in SPLIT_NAMES for top in tops):
        return
    inner = sorted(set().union(*(below[top] for top in tops)))
    example = next((top for top in tops if top.lower() == "train"), tops[0])
    held = f"its folders {tops} hold" if len(tops) > 1 else f"its one folder {tops[0]!r} holds"
    raise FormatError(
        f"image folder {folder}: {held} no image directly, only sub-folders "
        f"({listed(inner)}), and {'they are' if len(tops) > 1 else 'it is'} named as a "
        "dataset's split, which holds class folders (Roboflow's \"Folder Structure\" export: "
        "train/, valid/, test/), so the classes would be the splits: read one split, e.g. "
        f"Dataset.from_folder({str(folder / example)!r}), or pass classes={tops!r} if "
        f"{'these folders are the classes' if len(tops) > 1 else 'it is the one class'}"
    )


def _class_folders(folder: str | os.PathLike[str], unlabeled: str) -> list[str]:
    """The names of `folder`'s sub-folders but `unlabeled` and those listings skip (hidden
    ones, a macOS zip's ``__MACOSX``), sorted: the classes, as torchvision's ImageFolder finds
    them, with a class that has no image yet."""
    with os.scandir(folder) as entries:
        return sorted(
            e.name
            for e in entries
            if e.is_dir() and not is_skipped_folder(e.name) and e.name != unlabeled
        )


def _class_of(top: str | None, unlabeled: str) -> str:
    """Words for what a top folder makes of its images: their class, or none."""
    if top is None or top == unlabeled:
        return f"none ({top!r} is the unlabeled pool)" if top else "none (directly in the folder)"
    return repr(top)


def _top_folder(relative: str) -> str | None:
    """The first folder of a path below the image folder (None for a file directly in it)."""
    head, sep, _ = relative.partition(os.sep)
    return head if sep else None
