"""What the detection learners (`Detector`, `InstanceSegmenter`) share about their inputs: box
targets checked, an image resized for the network, and images' pooled backbone features (their
``embed``); their images are checked by ``_checks.check_images``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .base import BoxTarget


def pooled_features(
    net: Any, images: Sequence[np.ndarray], longest: int, device: torch.device
) -> np.ndarray:
    """(n images, d) float32: the mean of each backbone feature map of a detection network
    (each FPN level), levels side by side, each image at `longest` pixels on its longer side."""
    rows = []
    for image in images:  # one at a time: padding a batch to one size would shift the means
        x, _ = resize(image, longest, device)
        batch, _ = net.transform([x])
        features = net.backbone(batch.tensors)
        maps = list(features.values()) if isinstance(features, dict) else [features]
        rows.append(torch.cat([m.mean(dim=(2, 3)) for m in maps], dim=1))
    if not rows:
        return np.zeros((0, 0), np.float32)
    return torch.cat(rows).float().cpu().numpy()  # type: ignore[no-any-return]


def resize(image: np.ndarray, longest: int, device: torch.device) -> tuple[torch.Tensor, float]:
    """The image as a (3, h, w) float tensor in [0, 1] with max(h, w) = longest, and the scale."""
    height, width = image.shape[:2]
    scale = longest / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    x = torch.from_numpy(np.ascontiguousarray(image)).to(device).permute(2, 0, 1).float()
    if size != (height, width):
        x = F.interpolate(x[None], size=size, mode="bilinear", antialias=scale < 1)[0]
    return x.div_(255).clamp_(0, 1), scale


def check_target(
    target: BoxTarget, size: tuple[int, int], n_classes: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """An image's boxes (clipped to it) and class ids, checked."""
    if not isinstance(target, dict) or not {"boxes", "labels"} <= target.keys():
        raise ValueError(f"target {k} must be a dict with 'boxes' and 'labels'")
    boxes = np.asarray(target["boxes"], dtype=np.float64)
    boxes = boxes.reshape(0, 4) if boxes.size == 0 else boxes
    labels = np.asarray(target["labels"]).reshape(-1)
    if boxes.ndim != 2 or boxes.shape[1] != 4 or len(labels) != len(boxes):
        raise ValueError(
            f"target {k} needs (K, 4) boxes and (K,) labels, got {boxes.shape} and {labels.shape}"
        )
    if len(labels) and (
        labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= n_classes
    ):
        raise ValueError(
            f"target {k}: labels must be class ids in 0..{n_classes - 1}, got {labels}"
        )
    height, width = size
    boxes = np.clip(boxes, 0, [width, height, width, height])
    if not np.isfinite(boxes).all() or ((boxes[:, 2:] <= boxes[:, :2]).any()):
        raise ValueError(f"target {k}: every box needs x0 < x1 and y0 < y1 inside the image")
    return boxes, labels.astype(np.int64)
