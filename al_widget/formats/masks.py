"""PNG class maps: one palette PNG per labeled image, pixel value = class id, colours to see them by."""

from __future__ import annotations

import io
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .. import annotations as ann
from ._atomic import PathLike
from ._classes import check_classes, check_line_names
from ._export import (
    Exported,
    bytes_writer,
    check_task,
    image_names,
    items,
    source_paths,
    text_writer,
    unique_stems,
    warn_renamed,
)
from ._import import FormatError, check_folder, read_label_text
from ._replace import Writer, replace_folder

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["palette", "read_masks", "write_masks"]

CLASSES_FILE = "classes.txt"


def palette() -> list[int]:
    """The 256-colour palette of Pascal VOC's class maps (0 black, then distinct colours), flat RGB."""
    colours = []
    for k in range(256):
        r = g = b = 0
        c = k
        for bit in range(8):
            r |= ((c >> 0) & 1) << (7 - bit)
            g |= ((c >> 1) & 1) << (7 - bit)
            b |= ((c >> 2) & 1) << (7 - bit)
            c >>= 3
        colours += [r, g, b]
    return colours


def mask_names(
    dataset: Dataset, indices: np.ndarray
) -> tuple[dict[int, str], tuple[tuple[str, str], ...]]:
    """The mask file name of images `indices`: the file's path below the common folder of all
    the dataset's images (so that it does not depend on which are labeled), or the index; and
    the images of `indices` renamed because they share a name stem (see ``unique_stems``)."""
    _, found = image_names(dataset, np.arange(len(dataset)))
    names, renamed = unique_stems(found)
    chosen = {int(i) for i in indices}
    picked = tuple(
        pair for pair, i in zip(renamed, _renamed_indices(found, names), strict=True) if i in chosen
    )
    return {i: str(PurePosixPath(names[i]).with_suffix(".png")) for i in chosen}, picked


def _renamed_indices(found: dict[int, str], names: dict[int, str]) -> list[int]:
    return [i for i in sorted(names) if names[i] != found[i]]


def write_masks(dataset: Dataset, folder: PathLike, *, overwrite: bool = False) -> Exported:
    """Write the class map of each labeled image as a palette PNG, and the class names.

    ``folder/<name>.png`` per labeled image, where name is the image file's path below the
    images' common folder (``000042.png`` for in-memory image 42); each pixel holds its class
    id, or 255 where it is not labeled (``Mask.IGNORE``, VOC's void), shown in Pascal VOC's
    colours. ``folder/classes.txt`` lists the names by id. Images sharing a name stem
    (``a.jpg``, ``a.png``) get unique mask names (``a.png``, ``a.png.png``; see
    ``unique_stems``), with a warning; ``read_masks`` follows the same rule.

    Parameters
    ----------
    dataset : Dataset
        A "segment" dataset.
    folder : path
        The folder to write into (created if needed).
    overwrite : bool, default False
        Replace an earlier export into `folder` as a whole (the files it wrote, listed in its
        ``.al_widget-export.json``); otherwise an existing file stops the export before
        anything is written. Nothing else in `folder` is replaced or deleted.
    """
    _refuse_instances(dataset)
    check_task(dataset, ("segment",), "PNG masks")
    check_line_names(dataset.classes, "PNG masks")
    root = Path(folder)
    chosen = items(dataset)
    names, renamed = mask_names(dataset, chosen.indices)
    colours = palette()
    files: dict[str, Writer] = {}
    for i, mask in zip(chosen.indices.tolist(), chosen.annotations, strict=True):
        assert isinstance(mask, ann.Mask)
        image = Image.fromarray(np.ascontiguousarray(mask.class_map), mode="P")
        image.putpalette(colours)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        files[names[i]] = bytes_writer(buffer.getvalue())
    files[CLASSES_FILE] = text_writer("".join(f"{name}\n" for name in dataset.classes))
    replace_folder(
        root, files, kind="PNG masks", overwrite=overwrite, sources=lambda: source_paths(dataset)
    )
    warn_renamed(renamed, "PNG mask export")
    return Exported(root, root, len(names), len(names), renamed)


def _refuse_instances(dataset: Dataset) -> None:
    """Instances have no PNG masks: a pixel of one PNG holds one value, and objects overlap."""
    if dataset.task == "instances":
        raise ValueError(
            "PNG masks hold one value per pixel, so they cannot keep apart the objects of an "
            "'instances' dataset where they overlap; write them with to_coco or to_yolo"
        )


def read_masks(
    folder: PathLike, dataset: Dataset, *, ignore: int = ann.IGNORE
) -> dict[int, ann.Mask]:
    """The masks ``write_masks`` wrote for `dataset`'s images, by image index.

    Images without a mask file are left out. Every mask is checked against its image's size
    and the dataset's classes (``classes.txt``, when present, must list the same names).
    Pascal VOC's SegmentationClass PNGs read as they are: their void pixels (255) stay
    ``Mask.IGNORE``, not labeled.

    Parameters
    ----------
    folder : path
        The folder ``write_masks`` wrote.
    dataset : Dataset
        The "segment" dataset whose images the masks belong to.
    ignore : int, default 255
        The files' value of pixels not labeled, read as ``Mask.IGNORE`` (255, VOC's void);
        another value in 0..255 for files that mark them otherwise (that value is then no class).
    """
    _refuse_instances(dataset)
    check_task(dataset, ("segment",), "PNG masks")
    if isinstance(ignore, bool) or not isinstance(ignore, int) or not 0 <= ignore <= 255:
        raise ValueError(f"ignore must be a mask value in 0..255, got {ignore!r}")
    root = check_folder(folder, "mask folder")
    listed = root / CLASSES_FILE
    if listed.exists():
        text = read_label_text(listed, "mask classes file")
        names = [line.strip() for line in text.splitlines()]
        check_classes([n for n in names if n], dataset.classes, f"mask classes file {listed}")
    masks = {}
    for i, name in mask_names(dataset, np.arange(len(dataset)))[0].items():
        path = root / name
        if path.exists():
            masks[i] = _read(path, dataset.image_size(i), dataset.classes, ignore)
    return masks


def _read(path: Path, size: tuple[int, int], classes: list[str], ignore: int) -> ann.Mask:
    try:
        with Image.open(path) as image:
            if image.mode not in ("P", "L"):
                raise FormatError(
                    f"mask file {path} is a {image.mode} image; a class map is a palette (P) or "
                    "grayscale (L) PNG whose pixels are class ids"
                )
            class_map = np.asarray(image)
            if ignore != ann.IGNORE:
                class_map = np.where(class_map == ignore, ann.IGNORE, class_map).astype(np.uint8)
    except FormatError:
        raise
    except Exception as error:
        raise FormatError(f"mask file {path} could not be read: {error}") from None
    try:
        return ann.Mask(class_map).bind(image_size=size, classes=classes)
    except ValueError as error:
        raise FormatError(f"mask file {path}: {error}") from None
