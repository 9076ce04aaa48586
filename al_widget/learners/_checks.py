"""What the learners check of a call: that they are fitted, the ``mc_samples`` asked for, and
the images they are given (each a non-empty (H, W, 3) uint8 RGB array)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._numbers import check_int


def check_mc_samples(mc_samples: Any) -> None:
    """Refuse an `mc_samples` that is not an int (bools refused) of at least 1.

    Parameters
    ----------
    mc_samples : object
        The number of samples a prediction was asked for.

    Raises
    ------
    TypeError
        When it is not an int (a ``NotAnIntError``, also a ValueError).
    ValueError
        When it is below 1.
    """
    check_int("mc_samples", mc_samples, 1)


def check_fitted(learner: object, attribute: str) -> Any:
    """The fitted `attribute` of `learner` (its network, say), refused while it is not fitted.

    Parameters
    ----------
    learner : object
        The learner asked to predict or embed.
    attribute : str
        The fitted attribute it needs, set by its ``fit`` (``"net_"``, ``"head_"``, ...).

    Returns
    -------
    object
        The attribute's value.

    Raises
    ------
    RuntimeError
        When the attribute is missing or None: the learner has not been fitted.
    """
    value = getattr(learner, attribute, None)
    if value is None:
        raise RuntimeError(f"this {type(learner).__name__} is not fitted yet: call fit first")
    return value


def check_image(image: Any, k: int) -> np.ndarray:
    """`image`, refused unless it is a non-empty (H, W, 3) uint8 RGB numpy array.

    Parameters
    ----------
    image : object
        What was given as an image.
    k : int
        Its position among the images, for the error.

    Returns
    -------
    numpy.ndarray
        `image` itself.

    Raises
    ------
    ValueError
        Naming image `k`, what an image must be and the shape and dtype (or type) it has.
    """
    if not (
        isinstance(image, np.ndarray)
        and image.ndim == 3
        and image.shape[2] == 3
        and image.dtype == np.uint8
        and 0 not in image.shape
    ):
        got = (
            f"shape {image.shape} and dtype {image.dtype}"
            if isinstance(image, np.ndarray)
            else f"a {type(image).__name__}"
        )
        raise ValueError(f"image {k} must be a non-empty (H, W, 3) uint8 RGB array, got {got}")
    return image


def check_not_one_image(images: Any) -> None:
    """Refuse one (H, W, 3) array given where a sequence of images is wanted.

    Parameters
    ----------
    images : object
        What was given as the images.

    Raises
    ------
    ValueError
        When `images` is a numpy array of 3 dimensions.
    """
    if isinstance(images, np.ndarray) and images.ndim == 3:
        raise ValueError(
            "images must be a list of (H, W, 3) arrays (or one (N, H, W, 3) array), got one "
            f"array of shape {images.shape}: put a single image in a list"
        )


def check_images(images: Any) -> None:
    """Refuse `images` unless it is a sequence (or an (N, H, W, 3) array) of images that
    `check_image` takes.

    Parameters
    ----------
    images : object
        What was given as the images.

    Raises
    ------
    ValueError
        As `check_not_one_image` and `check_image` do, for the first image refused.
    """
    check_not_one_image(images)
    for k, image in enumerate(images):
        check_image(image, k)
