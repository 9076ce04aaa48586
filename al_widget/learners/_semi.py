"""Semi-supervised training of a small CNN: FixMatch-style pseudo-labels on unlabeled pool images.

Sohn et al. 2020 (FixMatch): the model's prediction on a weakly augmented view of an unlabeled
image, when confident, is the target for a strongly augmented view of the same image. The
augmentations here are batched tensor operations (one affine resampling per batch), cheap enough
for a background round on one CPU core; they never flip, so digits and text keep their meaning.
The pseudo-labels are training targets only: they live in this function's tensors and are never
returned, stored or exported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .base import Cancelled

UNLABELED_BATCH = 32  # unlabeled images per optimizer step (FixMatch's mu * B)
WEAK_SHIFT = 0.125  # weak view: a random shift of up to this fraction of the side
UNLABELED_WEIGHT = 1.0  # the pseudo-label loss's weight beside the labeled loss


@dataclass(frozen=True)
class SemiReport:
    """What one semi-supervised fit did with the unlabeled images (counts, no labels)."""

    unlabeled: int  # unlabeled images it was given
    pseudo_labels: int  # of those, how many were a confident target at least once
    threshold: float  # the confidence a prediction needed to become a target

    def as_dict(self) -> dict[str, float]:
        """The counts and threshold by name, for the learner's ``semi_supervised_``."""
        return {
            "unlabeled": self.unlabeled,
            "pseudo_labels": self.pseudo_labels,
            "threshold": self.threshold,
        }


def _affine(
    x: torch.Tensor,
    angle: torch.Tensor,
    shear: torch.Tensor,
    scale: torch.Tensor,
    shift: torch.Tensor,
) -> torch.Tensor:
    """Each image of `x` rotated, sheared, scaled and shifted (fractions of the half-side)."""
    if not len(x):
        return x
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(len(x), 2, 3, device=x.device)
    theta[:, 0, 0] = cos / scale
    theta[:, 0, 1] = (-sin + shear) / scale
    theta[:, 1, 0] = sin / scale
    theta[:, 1, 1] = cos / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Padding with -1: the images are in [-1, 1], so what comes in from outside is black, as an
    # MNIST background; "border" would smear edge pixels across photos.
    return (
        F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1
    )


def weak(x: torch.Tensor) -> torch.Tensor:
    """A weak view: each image shifted by up to `WEAK_SHIFT` of its side."""
    shift = (torch.rand(len(x), 2, device=x.device) * 2 - 1) * (2 * WEAK_SHIFT)
    zero = torch.zeros(len(x), device=x.device)
    return _affine(x, zero, zero, torch.ones(len(x), device=x.device), shift)


def strong(x: torch.Tensor) -> torch.Tensor:
    """A strong view: rotation, shear, scale and shift, contrast and brightness, and a cutout."""
    n, device = len(x), x.device
    if not n:
        return x

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return torch.rand(n, *shape, device=device) * (high - low) + low

    angle = uniform(-math.radians(25), math.radians(25))
    out = _affine(x, angle, uniform(-0.3, 0.3), uniform(0.8, 1.15), uniform(-0.3, 0.3, 2))
    out = out * uniform(0.6, 1.4, 1, 1, 1) + uniform(-0.3, 0.3, 1, 1, 1)
    # Cutout: a square of a third to a half of the side, at a random place, set to mid-gray.
    height, width = x.shape[2:]
    side = (uniform(1 / 3, 1 / 2) * min(height, width)).round()
    cy, cx = uniform(0, height), uniform(0, width)
    rows = torch.arange(height, device=device).view(1, -1, 1)
    cols = torch.arange(width, device=device).view(1, 1, -1)
    half = (side / 2).view(-1, 1, 1)
    hole = ((rows - cy.view(-1, 1, 1)).abs() <= half) & ((cols - cx.view(-1, 1, 1)).abs() <= half)
    return out.masked_fill(hole.unsqueeze(1), 0.0).clamp_(-1.0, 1.0)


def train(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    unlabeled: torch.Tensor,
    *,
    steps: int,
    batch: int,
    lr: float,
    weight_decay: float,
    threshold: float,
    progress: Callable[[float], None],
    should_stop: Callable[[], bool],
) -> SemiReport:
    """Train `net` on labeled `x`, `y` (weakly augmented) and pseudo-labels on `unlabeled`.

    Each step: a batch of labeled images, weakly shifted, with cross-entropy on their labels;
    a batch of unlabeled images, whose weak view the network predicts (dropout off, no
    gradient); those predicted with probability >= `threshold` get that class as the target
    of their strong view, with cross-entropy averaged over the whole unlabeled batch. AdamW under
    a one-cycle schedule, as the supervised fit.
    """
    n, m = len(x), len(unlabeled)
    u_batch = min(UNLABELED_BATCH, m)
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    order, u_order = torch.randperm(n), torch.randperm(m)
    cursor = u_cursor = 0
    used = torch.zeros(m, dtype=torch.bool)
    for step in range(steps):
        if should_stop():
            raise Cancelled(f"training stopped at step {step} of {steps}")
        if cursor + batch > n:
            order, cursor = torch.randperm(n), 0
        if u_cursor + u_batch > m:
            u_order, u_cursor = torch.randperm(m), 0
        picked = order[cursor : cursor + batch].to(x.device)
        u_picked = u_order[u_cursor : u_cursor + u_batch]
        cursor, u_cursor = cursor + batch, u_cursor + u_batch
        u = unlabeled[u_picked.to(x.device)]
        net.eval()
        with torch.no_grad():
            confidence, pseudo = F.softmax(net(weak(u)), 1).max(1)
        net.train()
        confident = confidence >= threshold
        used[u_picked[confident.cpu()]] = True
        # Only the confident images need a strong view: one forward pass for both parts.
        logits = net(torch.cat([weak(x[picked]), strong(u[confident])]))
        loss = F.cross_entropy(logits[:batch], y[picked])
        if confident.any():
            pseudo_loss = F.cross_entropy(logits[batch:], pseudo[confident], reduction="sum")
            loss = loss + UNLABELED_WEIGHT * pseudo_loss / u_batch
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 10 == 0 or step == steps - 1:
            progress((step + 1) / steps)
    return SemiReport(m, int(used.sum()), threshold)
