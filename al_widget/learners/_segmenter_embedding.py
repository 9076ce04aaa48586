"""The pooled features of a `Segmenter` (its base class): what the batch selectors measure
distances on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ._checks import check_fitted, check_image, check_not_one_image
from ._segmentation_images import normalise_pixels, resize_image
from ._segmentation_nets import net_part


class SegmenterEmbeddingMixin:
    """`embed` of `Segmenter` (its base class), on the network its fits leave.

    The parameters and the fitted network are the segmenter's (see its docstring).
    """

    # Set by Segmenter.fit, read here.
    net_: nn.Module
    device_: torch.device
    input_size_: tuple[int, int]

    @torch.no_grad()
    def embed(self, images: Sequence[np.ndarray], batch_size: int = 16) -> np.ndarray:
        """Pooled backbone features, one row per image: the mean and the max of each feature
        channel over the pixels. What the batch selectors (``coreset``, ``cluster_margin``,
        ``badge``) measure distances on.

        Parameters
        ----------
        images : sequence of numpy.ndarray
            (H_i, W_i, 3) uint8 RGB images of any sizes (an (N, H, W, 3) array works too);
            each is resized to ``input_size_``.
        batch_size : int, default 16
            Images per forward pass.

        Returns
        -------
        numpy.ndarray
            (n images, 2 x channels) float32.
        """
        net = check_fitted(self, "net_")
        check_not_one_image(images)
        rows = []
        for start in range(0, len(images), batch_size):
            chunk = [
                check_image(np.asarray(image), start + k)
                for k, image in enumerate(images[start : start + batch_size])
            ]
            x = torch.cat([resize_image(image, self.input_size_) for image in chunk])
            features = net_part(net, "backbone")(normalise_pixels(x.to(self.device_)))
            if isinstance(features, dict):
                features = features["out"]
            rows.append(torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1))
        if not rows:
            return np.zeros((0, 0), np.float32)
        return torch.cat(rows).float().cpu().numpy()
