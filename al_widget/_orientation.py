"""EXIF orientation: how a photo's stored pixels turn to show it upright, applied once
whichever Pillow plugin read it."""

from __future__ import annotations

from PIL import Image

ORIENTATION_TAG = 0x0112
"""The EXIF tag saying how a photo's stored pixels turn to show it upright."""

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""EXIF orientation -> the turn that shows the photo upright (as PIL's ImageOps.exif_transpose)."""


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1..8) of an opened image, read from its header only (1 if none).

    A PNG's eXIf chunk counts only when it comes before the pixels, so that the size (header
    only) and the pixels of a file always agree.
    """
    try:
        if image.format == "PNG":
            exif = Image.Exif()
            raw = image.info.get("exif")
            if raw:
                exif.load(raw)
        else:
            exif = image.getexif()
        value = exif.get(ORIENTATION_TAG, 1)
    except Exception:  # unreadable EXIF: shown as stored, as browsers do
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE else 1


def turned_since(drawn_in: int | None, now: int | None) -> bool:
    """Whether a photo is turned upright by another EXIF orientation (`now`) than the one a
    label on it was drawn in (`drawn_in`): the label would lie on other pixels than those it
    was drawn on (a photo app turning a photo rewrites its orientation; a square photo keeps
    its size). Not known on either side (None: an image in memory, a label journaled without
    one) is no turn.

    Parameters
    ----------
    drawn_in : int or None
        The orientation of the pixels the label was drawn on.
    now : int or None
        The orientation the photo's file has now.
    """
    return drawn_in is not None and now is not None and drawn_in != now


class TurnedSince(ValueError):
    """A label refused for image `index`, whose photo is turned upright by another EXIF
    orientation (`now`) than the one the label was drawn in (`drawn_in`): ``turned_since``.

    Parameters
    ----------
    index : int
        The image.
    drawn_in : int
        The orientation of the pixels the label was drawn on.
    now : int
        The orientation the photo's file has now.
    """

    def __init__(self, index: int, drawn_in: int, now: int) -> None:
        self.index, self.drawn_in, self.now = index, drawn_in, now
        super().__init__(
            f"image {index}: the label was drawn on the photo shown by EXIF orientation "
            f"{drawn_in}, and its file is turned by {now} now (another program turned it "
            "since): it would lie on other pixels than those it was drawn on"
        )


_TURNED_ON_LOAD = frozenset({"TIFF"})
"""Formats whose Pillow plugin turns the pixels upright itself as it loads them: TIFF, in every
Pillow this package takes (>= 10; seen in 10.0, 10.4 and 13.0). Its size before loading is the
stored one in 10.x and already the upright one in 13, and 10.0 keeps the orientation tag after
turning, so neither the size (of a flip, or of a square image) nor the tag says whether the
pixels are turned: the format does."""

_TIFF_WIDTH, _TIFF_HEIGHT = 256, 257  # the TIFF tags of the stored size


def _stored_size(image: Image.Image) -> tuple[int, int]:
    """The (width, height) a file stores its pixels at, before any turn."""
    if image.format == "TIFF":
        tags = getattr(image, "tag_v2", {})
        width, height = tags.get(_TIFF_WIDTH), tags.get(_TIFF_HEIGHT)
        if isinstance(width, int) and isinstance(height, int):
            return (width, height)
    return image.size


def upright_size(image: Image.Image) -> tuple[int, int]:
    """The (height, width) of an opened image once turned upright, from its header only.

    A plugin that has turned the image already (TIFF, see ``_TURNED_ON_LOAD``) reports a size
    other than the stored one, and it is taken as it is; a square image turns into its own size.

    Parameters
    ----------
    image : PIL.Image.Image
        The image, loaded or not.
    """
    width, height = image.size
    if orientation(image) >= 5 and image.size == _stored_size(image):  # a quarter turn to do
        width, height = height, width
    return (height, width)


def upright(image: Image.Image) -> Image.Image:
    """`image` loaded and turned upright by its EXIF orientation, as ``ImageOps.exif_transpose``
    shows it: the one place pixels are turned, for files and PIL images alike.

    Parameters
    ----------
    image : PIL.Image.Image
        The image, loaded or not; loaded in place.
    """
    turn = None if image.format in _TURNED_ON_LOAD else _TRANSPOSE.get(orientation(image))
    image.load()
    return image if turn is None else image.transpose(turn)
