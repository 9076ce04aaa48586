"""Which PNG mask file belongs to which image: the names ``write_masks`` gives them, the list of
images it writes beside them, and how ``read_masks`` finds each image's file again.

A mask's name is its image's path below the common folder of all the dataset's images, ending
``.png`` (``000042.png`` for in-memory image 42); images sharing a name stem get unique names
(``unique_stems``). Such a name depends on the dataset it was made in (its common folder, its
order), so the export also writes ``images.json``: the images' common folder and, per mask, its
image's path below it. Reading matches an image to a mask by that path first; a folder without
the list (VOC's ``SegmentationClass``, other tools, older exports) by name, where a name that could
be the mask of more than one image is left out with a warning naming them.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np

from ._classes import check_utf8_text
from ._export import image_names
from ._import import FormatError, list_images, read_label_text
from ._manifest import is_relative
from ._names import listed, stem_key, unique_stems

if TYPE_CHECKING:
    from ..dataset import Dataset

EXPORT = "PNG mask export"

LISTING = "images.json"
"""The file, in a mask folder, naming each mask's image (written by ``write_masks``)."""

LABEL_STUDIO_BRUSH = re.compile(r"task-\d+-annotation-\d+-by-.*-\d+\.png", re.IGNORECASE)
"""The names of Label Studio's brush PNGs ("Brush labels to PNG", label-studio-converter's
``brush.py``): ``task-<task>-annotation-<annotation>-by-<user>-<from_name>-<label>-<n>.png``,
one per region, named by task rather than by image."""


@dataclass(frozen=True)
class MaskNames:
    """The mask file names of a dataset's images.

    Parameters
    ----------
    root : Path or None
        The images' common folder; None when an image is in memory (names are indices then).
    images : dict of int to str
        Index -> the image's path below `root` (POSIX), or ``000042.png``.
    masks : dict of int to str
        Index -> its mask file's name.
    renamed : dict of int to (str, str)
        Index -> (name, name it is exported as) of the images renamed because they share a
        name stem with an earlier one (see ``unique_stems``).
    """

    root: Path | None
    images: dict[int, str]
    masks: dict[int, str]
    renamed: dict[int, tuple[str, str]]


def mask_names(dataset: Dataset) -> MaskNames:
    """The mask file names of all of `dataset`'s images (so that they do not depend on which
    are labeled)."""
    root, found = image_names(dataset, np.arange(len(dataset)))
    names, _ = unique_stems(found)
    masks = {i: str(PurePosixPath(names[i]).with_suffix(".png")) for i in names}
    renamed = {i: (found[i], names[i]) for i in sorted(names) if names[i] != found[i]}
    return MaskNames(root, found, masks, renamed)


def listing_text(names: MaskNames, indices: list[int]) -> str:
    """The ``images.json`` of a mask export of images `indices`; a name UTF-8 cannot hold (a
    byte that is not UTF-8, see ``check_utf8_text``) is refused naming its image."""
    if names.root is not None:
        check_utf8_text(str(names.root), f"the images' common folder {str(names.root)!r}", EXPORT)
        for i in indices:
            what = f"the file name of image {i}, {names.images[i]!r}"
            check_utf8_text(names.images[i], what, EXPORT)
    images = {names.masks[i]: names.images[i] if names.root is not None else None for i in indices}
    root = str(names.root) if names.root is not None else None
    return json.dumps({"root": root, "masks": images}, indent=1, ensure_ascii=False) + "\n"


def match_masks(folder: Path, dataset: Dataset) -> dict[int, Path]:
    """The mask file in `folder` of each of `dataset`'s images that has one, by index."""
    names = mask_names(dataset)
    listing = folder / LISTING
    left_out: set[str] = set()
    if listing.exists():
        plan = _by_listing(folder, listing, dataset, names)
    else:
        plan, left_out = _by_names(folder, names)
    matched = _refuse_shared(folder, plan, names)
    _warn_unmatched(folder, set(plan.values()) | left_out, names, bool(matched), listing.exists())
    return matched


def _read_listing(path: Path) -> tuple[str | None, dict[str, str | None]]:
    """The images' folder and the mask -> image names of an ``images.json``."""
    text = read_label_text(path, "mask image list")
    try:
        data = json.loads(text)
    except ValueError as error:
        raise FormatError(f"mask image list {path} is not JSON: {error}") from None
    root = data.get("root") if isinstance(data, dict) else None
    masks = data.get("masks") if isinstance(data, dict) else None
    if not isinstance(masks, dict) or not (root is None or isinstance(root, str)):
        raise FormatError(
            f"mask image list {path} must be an object with 'root' (a folder or null) and "
            "'masks' (mask file -> image path)"
        )
    for mask, image in masks.items():
        if not is_relative(mask) or not (image is None or isinstance(image, str)):
            raise FormatError(
                f"mask image list {path}: entry {mask!r}: {image!r} must map a mask file below "
                "the folder to an image path (or null)"
            )
    return root, masks


def _by_listing(folder: Path, listing: Path, dataset: Dataset, names: MaskNames) -> dict[int, str]:
    """Match by the images ``images.json`` names: an image file by its path, an in-memory
    image by its index (a listing of files and a dataset with images in memory, or the reverse,
    are refused: only a coincidence of indices would tie them); when none of the listed images is where the list says (they were moved),
    by their paths below their common folder, with a warning."""
    root, masks = _read_listing(listing)
    if (root is None) != (names.root is None):
        raise FormatError(_unmatched(folder, root))
    if root is None or names.root is None:
        return {i: names.masks[i] for i in range(len(dataset)) if names.masks[i] in masks}
    by_path = {
        os.path.normcase(os.path.abspath(os.path.join(root, image))): mask
        for mask, image in masks.items()
        if image is not None
    }
    plan = {}
    for i in range(len(dataset)):
        file = dataset.source_file(i)
        assert file is not None  # names.root is set: every image is a file
        mask = by_path.get(os.path.normcase(os.path.abspath(file)))
        if mask is not None:
            plan[i] = mask
    if plan or any(os.path.exists(path) for path in by_path):
        return plan  # the listed images are where they were: those of `dataset` have no mask
    by_image = {image: mask for mask, image in masks.items() if image is not None}
    plan = {i: by_image[image] for i, image in names.images.items() if image in by_image}
    if plan:
        warnings.warn(
            f"mask folder {folder}: none of the dataset's images is where {LISTING} says the "
            f"masks' images were (below {root}); they were matched by their paths below their "
            f"common folder {names.root} instead",
            UserWarning,
            stacklevel=4,
        )
    return plan


def _unmatched(folder: Path, root: str | None) -> str:
    """Why the masks of a listing cannot be matched to a dataset: one side's images are files,
    the other's in memory, and only their indices would tie them (by coincidence)."""
    if root is not None:
        return (
            f"mask folder {folder}: its {LISTING} lists image files (below {root}), but the "
            "dataset has images in memory, which cannot be matched to files: read the masks "
            "with a dataset over those image files (alw.Dataset([paths...], ...))"
        )
    return (
        f"mask folder {folder}: its {LISTING} lists images that were in memory (named by "
        "index), but the dataset's images are files, which cannot be matched to them: read the "
        "masks with a dataset of the same in-memory images, in the same order"
    )


def _by_names(folder: Path, names: MaskNames) -> tuple[dict[int, str], set[str]]:
    """Match by name, without a list: an image whose stem no other image shares gets
    ``<stem>.png``; of images sharing one (``a.jpg``, ``a.png``), each gets its renamed file
    (``a.jpg.png``) when there is one, and ``a.png`` goes to the one left without, if one is
    left; else it is left out, with a warning. Also the files so left out."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i in sorted(names.images):
        groups[stem_key(names.images[i])].append(i)
    files = _png_files(folder)
    plan = {}
    unclear: list[str] = []
    left_out: set[str] = set()
    for members in groups.values():
        stems = {str(PurePosixPath(names.images[i]).with_suffix(".png")) for i in members}
        if len(members) == 1:
            stem = stems.pop()
            plan[members[0]] = files.get(stem, stem)
            continue
        rest = []
        for i in members:
            own = files.get(f"{names.images[i]}.png")
            if own is not None:
                plan[i] = own
            else:
                rest.append(i)
        present = sorted(files[stem] for stem in stems if stem in files)
        if len(rest) == 1 and len(present) == 1:
            plan[rest[0]] = present[0]
        elif rest and present:
            images = " or ".join(names.images[i] for i in rest)
            unclear.append(f"{' / '.join(present)} (of {images})")
            left_out.update(present)
    if unclear:
        _warn_left_out(folder, unclear, "share a name stem")
    return plan, left_out


def _png_files(folder: Path) -> dict[str, str]:
    """The PNG files below `folder` (POSIX paths below it), keyed by their names ending in
    ``.png``: a mask ending ``.PNG`` (as some tools and cameras name files) is its image's too;
    of ``a.png`` and ``a.PNG``, ``a.png`` is."""
    found: dict[str, str] = {}
    for path in list_images(folder):
        name = Path(os.path.relpath(path, folder)).as_posix()
        key = name[:-4] + ".png"
        if name.lower().endswith(".png") and found.get(key) != key:
            found[key] = name
    return found


def _refuse_shared(folder: Path, plan: dict[int, str], names: MaskNames) -> dict[int, Path]:
    """`plan` with the files that exist, less any file two images would get (with a warning)."""
    owners: dict[str, list[int]] = defaultdict(list)
    for i, mask in plan.items():
        if (folder / mask).exists():
            owners[mask].append(i)
    shared = {mask: found for mask, found in owners.items() if len(found) > 1}
    if shared:
        _warn_left_out(
            folder,
            [f"{m} (of {' or '.join(names.images[i] for i in f)})" for m, f in shared.items()],
            "would each get it",
        )
    return {f[0]: folder / m for m, f in owners.items() if len(f) == 1}


def _warn_left_out(folder: Path, unclear: list[str], why: str) -> None:
    warnings.warn(
        f"mask folder {folder}: left out {len(unclear)} mask file(s) that could belong to more "
        f"than one image (the images {why}; export the masks again to name them apart): "
        + listed(unclear, sep="; "),
        UserWarning,
        stacklevel=4,
    )


def _warn_unmatched(
    folder: Path, claimed: set[str], names: MaskNames, matched: bool, listing: bool
) -> None:
    """One warning naming the PNG files below `folder` that no image claimed (`claimed`: the
    mask names of the dataset's images, and those left out as more than one image's), saying so
    plainly when no file was `matched` at all, and how masks are matched (by the `listing`,
    ``images.json``, or by name); for Label Studio's brush PNGs, why they cannot be matched and
    what to export instead."""
    files = [
        Path(os.path.relpath(path, folder)).as_posix()
        for path in list_images(folder)
        if path.lower().endswith(".png")
    ]
    unmatched = [name for name in files if name not in claimed]
    if not unmatched:
        return
    head = f"{len(unmatched)} mask file(s) match no image of the dataset"
    head = f"{head} and were not read" if matched else f"no mask was read: {head}"
    if any(LABEL_STUDIO_BRUSH.fullmatch(PurePosixPath(name).name) for name in unmatched):
        why = (
            "; these are Label Studio brush PNGs (task-<task>-annotation-<id>-by-...png), one per "
            "region and named by task, which cannot be matched to images without Label Studio's "
            "JSON: export the project from Label Studio as COCO instead ('Brush labels to COCO' "
            'for brush labels) and read it with alw.Dataset.from_coco(..., task="segment")'
        )
    elif listing:
        why = f" ({LISTING} names each mask's image: these are of none of the dataset's images)"
    elif names.images:
        first = min(names.masks)
        image = names.images[first] if names.root is not None else f"in-memory image {first}"
        why = f" (a mask is named after its image: {names.masks[first]} for {image})"
    else:
        why = ""
    warnings.warn(
        f"mask folder {folder}: {head}: {listed(unmatched)}{why}",
        UserWarning,
        stacklevel=4,
    )
