"""What the panel shows ahead of the labeler: the strip's next images, the images sent ahead."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence

import numpy as np

from .._images import ImageError, OrientedImage
from ..loop import ActiveLoop
from .thumbnails import Entry

PREFETCH = 2
"""How many of the next images in the queue the browser gets ahead, decoded before they are due."""


class Row:
    """The strip's row for a queue: its entries, and what goes with the first (the next image).

    Parameters
    ----------
    entries : list of Entry
        The images to show, left to right; one more than the strip shows, for the row after the
        next image.
    predicted : int or None
        The class the model predicts for the first entry.
    why : str
        Why the first entry is queued (``Description.why``).
    """

    def __init__(self, entries: list[Entry], predicted: int | None, why: str) -> None:
        self.entries, self.predicted, self.why = entries, predicted, why

    @property
    def key(self) -> str:
        """The first entry's key (its dataset index), "" when the row is empty."""
        return str(self.entries[0].index) if self.entries else ""


def strip_row(
    loop: ActiveLoop,
    queue: Sequence[int] | np.ndarray,
    current: int | None,
    count: int,
    has_thumbnail: Callable[[int], bool],
) -> Row:
    """The first `count` + 1 images of `queue` other than `current`, as the strip shows them.

    An image without a thumbnail yet is read; one that cannot be read is marked broken
    (``loop.mark_broken``) and left out.

    Parameters
    ----------
    loop : ActiveLoop
        Describes each image and reads it.
    queue : sequence of int
        The loop's queue.
    current : int or None
        The image on the canvas, left out.
    count : int
        How many thumbnails the strip shows.
    has_thumbnail : callable
        Whether the strip has an index's thumbnail already (its pixels need not be read).
    """
    entries: list[Entry] = []
    predicted: int | None = None
    why = ""
    for i in (int(k) for k in queue):
        if len(entries) == count + 1:  # the row after the next image
            break
        if i == current:
            continue
        image = None
        if not has_thumbnail(i):
            try:
                image = loop.dataset.image(i)
            except ImageError as error:
                loop.mark_broken(i, str(error))
                continue
        described = loop.describe(i)
        if not entries:
            predicted, why = described.predicted, described.why
        entries.append(Entry(i, image, described.score, described.model_version, described.arm))
    return Row(entries, predicted, why)


def images_ahead(
    loop: ActiveLoop,
    queue: Sequence[int] | np.ndarray,
    current: int,
    unsaved: Container[int],
    sent: Mapping[int, OrientedImage],
) -> tuple[list[int], dict[int, OrientedImage]]:
    """The next images of `queue` to send ahead (``PREFETCH`` of them), by index.

    Returns the order they come in after `current` and the images, each with the orientation
    it was read in (``Dataset.oriented_image``), read again only where not in `sent`. An
    image with unsaved work is left out (it is shown with its work, which only Python holds),
    and so is one that cannot be read (marked broken when it is due).

    Parameters
    ----------
    loop : ActiveLoop
        Reads the images.
    queue : sequence of int
        The loop's queue as the strip last showed it.
    current : int
        The image on the canvas.
    unsaved : container of int
        The images with unsaved work.
    sent : mapping
        The images sent ahead before, by index.
    """
    order = [int(i) for i in queue[: PREFETCH + 1] if int(i) != current]
    ahead: dict[int, OrientedImage] = {}
    for i in order[:PREFETCH]:
        if i in unsaved:
            continue
        try:
            ahead[i] = sent[i] if i in sent else loop.dataset.oriented_image(i)
        except ImageError:
            continue
    return order, ahead
