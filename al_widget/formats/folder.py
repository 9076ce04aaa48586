"""Image folders: torchvision's ImageFolder layout (one sub-folder per class) or a flat folder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import annotations as ann
from ._import import FormatError, build, check_folder, list_images

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
    Folders that are symbolic links are followed, as ImageFolder follows them.
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
        The class names. Default: the class folders' names, sorted. When given, every class
        folder must name one of them.
    unlabeled : str, default "unlabeled"
        The sub-folder whose images are the unlabeled pool.
    """
    folder = check_folder(path, "image folder")
    if task != "classify" and classes is None:
        raise ValueError(f"classes are needed for a {task!r} dataset read from a folder")
    files = list_images(folder, follow_links=True)
    if not files:
        raise FormatError(f"image folder {folder} holds no image files")
    labels: dict[int, tuple[ann.Annotation, str]] = {}
    if task != "classify":
        assert classes is not None
        return build(files, classes, task, labels)
    start = len(os.path.join(folder, ""))
    top = [_top_folder(f[start:]) for f in files]
    found = sorted({t for t in top if t is not None and t != unlabeled})
    if classes is None:
        if not found:
            raise ValueError(
                f"image folder {folder} has no class sub-folders: pass classes=[...] to read "
                "its images as an unlabeled pool"
            )
        classes = found
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


def _top_folder(relative: str) -> str | None:
    """The first folder of a path below the image folder (None for a file directly in it)."""
    head, sep, _ = relative.partition(os.sep)
    return head if sep else None
