"""The images a `Segmenter` takes, as its network takes them: resized to the working resolution,
their pixel values normalised (``_checks.check_image`` checks each first)."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from ._weights import normalise


def resize_image(image: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """An (H, W, 3) uint8 image as a (1, 3, *size) float tensor of values in [0, 255]."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    if tuple(x.shape[-2:]) != size:
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    return x


def normalise_pixels(x: torch.Tensor) -> torch.Tensor:
    """Pixel values in [0, 255] normalised as torchvision's pretrained models expect."""
    return normalise(x.float() / 255)
