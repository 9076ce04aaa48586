"""The checks of what ActiveLoop's acting methods are given: the drafts shown with a commit, and
why an image is broken."""

from __future__ import annotations

from .annotations import Annotation, Boxes, Instances, Mask
from .dataset import Dataset
from .session import SHOWN_AT_THRESHOLD


def checked_shown(
    shown: Annotation | object | None, dataset: Dataset, i: int
) -> Annotation | object | None:
    """`shown`, the drafts the labeler saw when labeling image `i`, checked: Boxes, a Mask or
    Instances bound to the image's size and `dataset`'s classes; None and ``SHOWN_AT_THRESHOLD``
    as they are.

    Parameters
    ----------
    shown : Boxes, Mask, Instances, None or SHOWN_AT_THRESHOLD
        ``ActiveLoop.commit``'s `shown`.
    dataset : Dataset
        The dataset image `i` is in.
    i : int
        The dataset index of the image labeled.

    Raises
    ------
    ValueError
        `shown` is something else, or does not fit image `i`.
    """
    drawn = (Boxes, Mask, Instances)
    if shown is not SHOWN_AT_THRESHOLD and not isinstance(shown, (*drawn, type(None))):
        raise ValueError(
            "shown must be the drafts shown (Boxes, a Mask or Instances) or None, got "
            f"{type(shown).__name__}"
        )
    if isinstance(shown, drawn):  # checked before anything is stored
        shown = shown.bind(image_size=dataset.image_size(i), classes=dataset.classes)
    return shown


def check_reason(i: int, reason: object) -> None:
    """Refuse `reason` unless it is a non-empty str saying why image `i` is broken.

    Parameters
    ----------
    i : int
        The dataset index of the image marked broken.
    reason : object
        ``ActiveLoop.mark_broken``'s `reason`.
    """
    if not isinstance(reason, str) or not reason:
        raise ValueError(
            f"image {i} was not marked broken: reason must be a non-empty str saying why "
            f"it cannot be shown or read, got {reason!r}"
        )
