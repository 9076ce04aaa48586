"""PNG class maps: one palette PNG per labeled image, pixel value = class id, colours to see them by."""

from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .. import annotations as ann
from .._numbers import is_int
from ._atomic import PathLike
from ._classes import check_classes, check_line_names
from ._export import (
    Exported,
    bytes_writer,
    check_task,
    items,
    protected,
    text_writer,
    warn_renamed,
)
from ._import import FormatError, check_folder, read_label_text
from ._mask_colours import LABELMAP, Labelmap, find_labelmap
from ._mask_files import LISTING, listing_text, mask_names, match_masks
from ._names import listed
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


def write_masks(dataset: Dataset, folder: PathLike, *, overwrite: bool = False) -> Exported:
    """Write the class map of each labeled image as a palette PNG, and the class names.

    ``folder/<name>.png`` per labeled image, where name is the image file's path below the
    images' common folder (``000042.png`` for in-memory image 42); each pixel holds its class
    id, or 255 where it is not labeled (``Mask.IGNORE``, VOC's void), shown in Pascal VOC's
    colours. ``folder/classes.txt`` lists the names by id. Images sharing a name stem
    (``a.jpg``, ``a.png``) get unique mask names (``a.png``, ``a.png.png``; see
    ``unique_stems``), with a warning. Such names depend on the dataset (its images' common
    folder and order), so ``folder/images.json`` records the images' common folder and, per
    mask, its image's path below it: ``read_masks`` finds each image's mask by that.

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
    indices = chosen.indices.tolist()
    named = mask_names(dataset)
    names = {i: named.masks[i] for i in indices}
    renamed = tuple(named.renamed[i] for i in indices if i in named.renamed)
    colours = palette()
    files: dict[str, Writer] = {}
    for i, mask in zip(indices, chosen.annotations, strict=True):
        assert isinstance(mask, ann.Mask)
        image = Image.fromarray(np.ascontiguousarray(mask.class_map), mode="P")
        image.putpalette(colours)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        files[names[i]] = bytes_writer(buffer.getvalue())
    files[CLASSES_FILE] = text_writer("".join(f"{name}\n" for name in dataset.classes))
    files[LISTING] = text_writer(listing_text(named, indices))
    replace_folder(root, files, kind="PNG masks", overwrite=overwrite, protected=protected(dataset))
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

    Each image's mask is found by ``images.json`` (see ``write_masks``): an image file by its
    path, so that a dataset over other files, or the same files in another order, never gets
    another image's mask (a list of image files read into a dataset with images in memory, or
    one of in-memory images into a dataset of files, is refused: nothing but a coincidence of
    indices would tie them); if none of the files is where the list says (the images moved), by
    their paths below their common folder, with a warning. A folder without the list (VOC's
    ``SegmentationClass``, other tools, older exports) is matched by name: ``<stem>.png`` (or
    ``.PNG``, the ending in any letter case) for an image whose stem no other image shares; of images sharing a stem, each takes its
    renamed file (``a.jpg.png``) if there is one and ``a.png`` goes to the one left, and a file
    that could still be more than one image's is left out, with a warning naming it.
    Images without a mask file are left out; mask files (``.png``) that match no image are
    named in one warning (Label Studio's brush PNGs, named by task, with what to export
    instead). Every mask is checked against its image's size
    and the dataset's classes (``classes.txt``, when present, must list the same names).
    Pascal VOC's SegmentationClass PNGs read as they are: their void pixels (255) stay
    ``Mask.IGNORE``, not labeled. RGB masks, each class painted in its label's colour, as CVAT's
    "Segmentation mask" export writes them (through Datumaro), read by the ``labelmap.txt``
    (``name:r,g,b:parts:actions`` lines) in `folder` or beside it: each colour is the class of
    its label's name, the label map's background (its label coloured black, else the one named
    ``background``) class 0 when the dataset has no class of its name; a colour no label has,
    two labels share or whose label is no class is refused, naming the file and the colour. Masks of a folder without ``images.json`` that hold only
    background and pixels not labeled are named in one warning: that is how a binary object
    mask (object 255, the rest 0; Label Studio's brush PNGs) reads, its object not labeled.

    Parameters
    ----------
    folder : path
        The folder ``write_masks`` wrote.
    dataset : Dataset
        The "segment" dataset whose images the masks belong to.
    ignore : int, default 255
        The files' value of pixels not labeled, read as ``Mask.IGNORE`` (255, VOC's void);
        another value in 0..255 for files that mark them otherwise (that value is then no class).
        Palette and grayscale masks only: an RGB mask's colours are all its label map's.
    """
    _refuse_instances(dataset)
    check_task(dataset, ("segment",), "PNG masks")
    if not is_int(ignore) or not 0 <= ignore <= 255:
        raise ValueError(f"ignore must be a mask value in 0..255, got {ignore!r}")
    root = check_folder(folder, "mask folder")
    listed = root / CLASSES_FILE
    if listed.exists():
        text = read_label_text(listed, "mask classes file")
        names = [line.strip() for line in text.splitlines()]
        check_classes([n for n in names if n], dataset.classes, f"mask classes file {listed}")
    matched = match_masks(root, dataset)

    @functools.cache
    def labelmap() -> Labelmap | None:  # read when an RGB mask needs it
        found = find_labelmap(root)
        return Labelmap(found) if found is not None else None

    masks = {
        i: _read(path, dataset.image_size(i), dataset.classes, ignore, labelmap)
        for i, path in matched.items()
    }
    if not (root / LISTING).exists():  # write_masks' own masks may label background alone
        binary = [
            path.relative_to(root).as_posix()
            for i, path in matched.items()
            if _looks_binary(masks[i])
        ]
        _warn_binary(root, binary, ignore, dataset.classes)
    return masks


def _looks_binary(mask: ann.Mask) -> bool:
    """Whether `mask` labels only background and leaves some pixels not labeled: what a binary
    object mask (object 255, the rest 0) reads as."""
    background = mask.class_map == 0
    not_labeled = mask.class_map == ann.IGNORE
    return bool(background.any() and not_labeled.any() and (background | not_labeled).all())


def _warn_binary(root: Path, files: list[str], ignore: int, classes: list[str]) -> None:
    """One warning naming the mask `files` that look like binary object masks (see
    ``_looks_binary``), and how such a mask is read."""
    if not files:
        return
    values = f"{ignore}" if ignore == ann.IGNORE else f"{ignore} or {ann.IGNORE}"
    example = f"1 for {classes[1]!r}" if len(classes) > 1 else "its class's id"
    warnings.warn(
        f"mask folder {root}: {len(files)} mask file(s) hold only background (0) and pixels "
        f"not labeled ({values}): {listed(files)}. That is how a binary object mask reads "
        "(object 255, the rest 0, as Label Studio's brush PNGs are): its object as not labeled, "
        "the rest as background. read_masks reads class maps, each pixel its class's id, and "
        "ignore= cannot change that (255 is never a class id): set the object's pixels to its "
        f"class's id ({example}) in a copy of the file, or export COCO from Label Studio and "
        "read it with Dataset.from_coco",
        UserWarning,
        stacklevel=3,
    )


def _read(
    path: Path,
    size: tuple[int, int],
    classes: list[str],
    ignore: int,
    labelmap: Callable[[], Labelmap | None],
) -> ann.Mask:
    try:
        with Image.open(path) as image:
            if image.mode == "RGB":
                class_map = _coloured(path, np.asarray(image), classes, labelmap())
            elif image.mode in ("P", "L"):
                class_map = np.asarray(image)
                if ignore != ann.IGNORE:
                    class_map = np.where(class_map == ignore, ann.IGNORE, class_map)
                    class_map = class_map.astype(np.uint8)
            else:
                raise FormatError(
                    f"mask file {path} is a {image.mode} image; a class map is a palette (P) or "
                    "grayscale (L) PNG whose pixels are class ids, or an RGB PNG whose colours "
                    f"a {LABELMAP} names (as CVAT's Segmentation mask export writes them)"
                )
    except FormatError:
        raise
    except Exception as error:
        raise FormatError(f"mask file {path} could not be read: {error}") from None
    try:
        return ann.Mask(class_map).bind(image_size=size, classes=classes)
    except ValueError as error:
        raise FormatError(f"mask file {path}: {error}") from None


def _coloured(
    path: Path, rgb: np.ndarray, classes: list[str], labelmap: Labelmap | None
) -> np.ndarray:
    """The class map of an RGB mask by the colours of its folder's ``labelmap.txt``; refused,
    naming `path`, when there is none."""
    if labelmap is None:
        raise FormatError(
            f"mask file {path} is an RGB image: a class map is a palette (P) or grayscale (L) "
            f"PNG whose pixels are class ids, or an RGB PNG whose colours a {LABELMAP} "
            f"(name:r,g,b:: per class, as CVAT exports it) names, in the mask folder or beside "
            f"it; there is none in {path.parent} or beside it"
        )
    return labelmap.class_map(rgb, classes, f"mask file {path}")
