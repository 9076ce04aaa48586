"""The images a `Segmenter` takes, as its network takes them: each checked, resized to the
working resolution, its pixel values normalised."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from ._weights import normalise


def check_image(image: Any, k: int) -> np.ndarray:
    """`image` as an array, refused unless it is an (H, W, 3) uint8 RGB image (image `k`)."""
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or 0 in array.shape or array.dtype != np.uint8:
        raise ValueError(
            f"image {k} must be an (H, W, 3) uint8 RGB array, got shape {array.shape} and "
            f"dtype {array.dtype}"
        )
    return array


def resize_image(image: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """An (H, W, 3) uint8 image as a (1, 3, *size) float tensor of values in [0, 255]."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    if tuple(x.shape[-2:]) != size:
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    return x


def normalise_pixels(x: torch.Tensor) -> torch.Tensor:
    """Pixel values in [0, 255] normalised as torchvision's pretrained models expect."""
    return normalise(x.float() / 255)
