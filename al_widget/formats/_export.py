"""What every exporter shares: the labeled items to write, and where their images go."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, JpegImagePlugin

from .. import annotations as ann
from .._orientation import ORIENTATION_TAG, orientation, upright
from ._atomic import ExportRefused, ExportWarning, PathLike
from ._names import RENAMED, listed, rename_reason, renamed_note
from ._replace import Protected, Writer, membership

if TYPE_CHECKING:
    from ..dataset import Dataset


@dataclass(frozen=True)
class Exported:
    """What an export wrote.

    Parameters
    ----------
    path : Path
        The file or folder written.
    images_root : Path
        The folder the exported image file names are relative to.
    n_images : int
        How many images the export lists.
    n_annotations : int
        How many annotations it holds (boxes, masks per class, labels).
    renamed : tuple of (str, str), default ()
        Images exported under another name than their own, (name, exported name): those
        sharing a name stem with an earlier image (see ``unique_stems``).
    """

    path: Path
    images_root: Path
    n_images: int
    n_annotations: int
    renamed: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        text = f"wrote {self.path}: {self.n_images} images, {self.n_annotations} annotations"
        if self.renamed:
            text += f"; {renamed_note(self.renamed)}"
        return text


@dataclass(frozen=True)
class Items:
    """The images to export, in dataset order, with their annotations (None: unlabeled)."""

    indices: np.ndarray
    annotations: tuple[ann.Annotation | None, ...]


def items(dataset: Dataset, include_unlabeled: bool = False) -> Items:
    """A consistent copy of the labeled images (and, if asked, the unlabeled ones) to export."""
    snapshot = dataset.snapshot()
    if not include_unlabeled:
        return Items(snapshot.indices, snapshot.annotations)
    labeled = dict(zip(snapshot.indices.tolist(), snapshot.annotations, strict=True))
    indices = np.arange(len(dataset))
    return Items(indices, tuple(labeled.get(int(i)) for i in indices))


def check_task(dataset: Dataset, tasks: tuple[str, ...], export: str) -> None:
    """Refuse an export that cannot hold the dataset's kind of annotation."""
    if dataset.task not in tasks:
        raise ValueError(
            f"{export} holds {_either(tasks)} annotations; this dataset's task is {dataset.task!r}"
        )


def _either(names: tuple[str, ...]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else list(names))


def image_names(
    dataset: Dataset, indices: np.ndarray, root: PathLike | None = None
) -> tuple[Path | None, dict[int, str]]:
    """Where the images of an export are found: (their root folder, index -> relative name).

    When every image is a file, the root is `root` (or the files' common folder) and the names
    are their paths below it (POSIX separators). Otherwise the root is None, every image is to
    be written as a PNG, and the names are ``000042.png`` (the dataset index).
    """
    files = {int(i): dataset.source_file(int(i)) for i in indices}
    if not files or any(f is None for f in files.values()):
        return None, {i: f"{i:06d}.png" for i in files}
    absolute = {i: os.path.abspath(f) for i, f in files.items() if f is not None}
    if root is None:
        base = Path(os.path.commonpath([os.path.dirname(f) for f in absolute.values()]))
    else:
        base = Path(os.path.abspath(root))
    names = {}
    for i, file in absolute.items():
        relative = os.path.relpath(file, base)
        if relative.startswith(os.pardir + os.sep) or relative == os.pardir:
            raise ValueError(f"image {i} ({file}) is not inside root {base}")
        names[i] = PurePath(relative).as_posix()
    return base, names


def warn_renamed(renamed: tuple[tuple[str, str], ...], export: str) -> None:
    """Say, as an `ExportWarning`, which images an export wrote under another name."""
    if renamed:
        warnings.warn(ExportWarning(renamed_note(renamed), export), stacklevel=3)


def warn_difficult_lost(annotations: Sequence[ann.Annotation | None], export: str) -> None:
    """Say, as one `ExportWarning`, that an export whose format has no field for
    ``Boxes.difficult`` wrote the boxes so marked as ordinary ones (Pascal VOC keeps the flag)."""
    marked = sum(sum(a.difficult) for a in annotations if isinstance(a, ann.Boxes))
    if marked:
        note = (
            f"the format has no difficult flag, so {marked} box(es) marked difficult were "
            "written as ordinary boxes (a Pascal VOC export keeps it)"
        )
        warnings.warn(ExportWarning(note, export), stacklevel=3)


def image_writer(dataset: Dataset, i: int, suffix: str, link: bool = False) -> Writer:
    """A writer putting image `i` at a fresh path: its file copied (or hard-linked, with
    `link`) when it has one of the same `suffix`, else its pixels as a PNG.

    A file whose EXIF orientation turns it (any but 1) is written upright instead, its
    orientation tag set to 1 (see ``write_upright``): readers that ignore the tag
    (torchvision's ``read_image``, OpenCV with some flags, COCO and VOC loaders built on them)
    then see the pixels the labeler saw, in the frame the annotations are in.
    """
    file = dataset.source_file(i)

    def write(target: Path) -> None:
        if file is not None and Path(file).suffix.lower() == suffix.lower():
            if is_turned(file):
                write_upright(file, target)
                return
            if link:
                try:
                    os.link(file, target)
                    return
                except OSError:
                    pass  # another device or no hard links: copy instead
            with open(file, "rb") as source, open(target, "xb") as out:
                shutil.copyfileobj(source, out)
        else:
            with open(target, "xb") as out:
                Image.fromarray(dataset.image(i)).save(out, format="PNG")

    return write


def is_turned(file: str) -> bool:
    """Whether an image file's EXIF orientation turns or flips it (any but 1), from its
    header; a file that cannot be opened counts as not turned (reading it fails elsewhere)."""
    try:
        with Image.open(file) as image:
            return orientation(image) != 1
    except Exception:
        return False


def write_upright(file: str, target: Path) -> None:
    """Write the image `file` to the fresh path `target` in its own format, turned upright by
    its EXIF orientation, with the orientation tag set to 1 and its other EXIF (not a TIFF's:
    there EXIF is the header, the stored size included) and its colour profile kept.

    PNG, TIFF and WebP (written lossless) keep every pixel. A JPEG cannot be turned without
    decoding it (PIL has no lossless transform), so it is encoded again with its own
    quantization tables and chroma subsampling: the loss is that of one more encoding at the
    photo's own quality, a mean error of about one grey level.
    """
    with Image.open(file) as image:
        kind = image.format
        options: dict[str, object]
        if kind == "TIFF":  # its EXIF is its header, the stored size included: not copied
            options = {"tiffinfo": {ORIENTATION_TAG: 1}}
        else:
            exif = Image.Exif()
            exif.load(image.getexif().tobytes())
            exif[ORIENTATION_TAG] = 1
            options = {"exif": exif.tobytes()}
        if image.info.get("icc_profile"):
            options["icc_profile"] = image.info["icc_profile"]
        if kind == "JPEG":
            options["qtables"] = getattr(image, "quantization", None)
            options["subsampling"] = JpegImagePlugin.get_sampling(image)
        elif kind == "WEBP":
            options["lossless"] = True
        turned = upright(image)  # a TIFF is turned by Pillow as it loads, the rest here
        with open(target, "xb") as out:
            turned.save(out, format=kind, **options)


def bytes_writer(data: bytes) -> Writer:
    """A writer putting `data` in its file."""

    def write(target: Path) -> None:
        with open(target, "xb") as file:
            file.write(data)

    return write


def text_writer(text: str) -> Writer:
    """A writer putting UTF-8 `text` in its file."""
    return bytes_writer(text.encode("utf-8"))


def source_paths(dataset: Dataset) -> set[str]:
    """The real paths of the dataset's image files: an export never replaces or deletes them."""
    files = (dataset.source_file(i) for i in range(len(dataset)))
    return {os.path.realpath(file) for file in files if file is not None}


def protected(dataset: Dataset) -> Protected:
    """What an export must never replace or delete: the dataset's image files and its journal
    (see ``_replace.membership``)."""
    return membership(lambda: source_paths(dataset), dataset.journal_path)


def images_in_place(
    dataset: Dataset,
    folder: PathLike,
    images: Mapping[int, str],
    originals: Mapping[int, str] | None = None,
) -> set[str]:
    """The export paths (below `folder`) of `images` (index -> path) that already are that
    image's own file: an export into the images' own folder keeps them as they are.

    `originals` (index -> path before ``export_names`` renamed it): an image renamed there
    while its own file lies at its original path would be in the export twice, under both
    names; that is refused before anything is written. So is an image kept in place whose
    EXIF orientation turns it (see ``refuse_turned_in_place``).
    """
    found = set()
    for i, name in images.items():
        file = dataset.source_file(i)
        if file is None:
            continue
        if _is_file(file, os.path.join(folder, name)):
            found.add(name)
        elif (
            originals is not None
            and originals[i] != name
            and _is_file(file, os.path.join(folder, originals[i]))
        ):
            why = RENAMED[rename_reason(originals[i], name)][1]
            raise ExportRefused(
                f"image {i} ({file}) {why} and would be exported as {name} beside itself, "
                "into its own folder: export into another folder"
            )
    refuse_turned_in_place(dataset, images, found)
    return found


def refuse_turned_in_place(
    dataset: Dataset, images: Mapping[int, str], in_place: Collection[str]
) -> None:
    """Refuse an export that would keep in place an image file whose EXIF orientation turns
    it (``is_turned``), naming them (``listed``). Its labels are written upright, and readers
    that ignore the tag (torchvision's) open the file as stored, so the export writes such a
    photo upright (``write_upright``); kept in place, it would stay turned under upright
    labels, and its upright copy cannot take its place: a user's file is never replaced. No
    other name would do: the formats find an image by its own name, and would still list the
    turned file.

    Parameters
    ----------
    dataset : Dataset
        The dataset exported.
    images : mapping of int to str
        Index -> the image's path below the export folder.
    in_place : collection of str
        Those of the paths that already are the image's own file (``images_in_place``).
    """
    turned = [
        f"image {i} ({file})"
        for i, name in images.items()
        if name in in_place and (file := dataset.source_file(i)) is not None and is_turned(file)
    ]
    if turned:
        raise ExportRefused(
            f"{len(turned)} image(s) have an EXIF orientation that turns them, so the export "
            "writes them upright, but they lie in the export's own images folder, where that "
            f"copy would replace them, and a user's file is never replaced: {listed(turned)}. "
            "Nothing was written: export into another folder"
        )


def _is_file(file: str, target: str) -> bool:
    """Whether `target` exists and is the same file as `file`."""
    try:
        return os.path.lexists(target) and os.path.samefile(file, target)
    except OSError:
        return False
