"""The default learner: a small CNN with dropout, trained from scratch on CPU in seconds."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .base import Cancelled, Progress, ShouldStop


class _Net(nn.Module):
    def __init__(self, in_channels: int, n_classes: int, width: int, dropout: float) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Dropout(dropout / 2),
            nn.Linear(2 * width * 16, 128),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(128, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Classifier:
    """A small CNN classifier with MC dropout; resets (or warm-starts) its weights each fit."""

    def __init__(
        self,
        n_classes: int,
        *,
        width: int = 16,
        epochs: int = 40,
        min_steps: int = 150,
        max_steps: int = 300,
        batch_size: int = 32,
        lr: float = 5e-3,
        weight_decay: float = 1e-4,
        dropout: float = 0.5,
        warm_start: bool = False,
        input_size: tuple[int, int] | None = None,
        device: str | torch.device | None = None,
        seed: int = 0,
    ) -> None:
        if n_classes < 2:
            raise ValueError(f"n_classes must be at least 2, got {n_classes}")
        self.n_classes = n_classes
        self.width, self.epochs, self.batch_size = width, epochs, batch_size
        self.min_steps, self.max_steps = min_steps, max_steps
        self.lr, self.weight_decay, self.dropout = lr, weight_decay, dropout
        self.warm_start = warm_start
        self.input_size = tuple(input_size) if input_size else None
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.seed = seed
        self.gray: bool | None = None
        self.net: _Net | None = None
        self.fits = 0

    def __repr__(self) -> str:
        return (
            f"Classifier(n_classes={self.n_classes}, width={self.width}, device={self.device.type})"
        )

    def _tensor(self, images: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        x = x[..., :1] if self.gray else x
        x = x.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
        if self.input_size and tuple(x.shape[2:]) != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False)
        return x

    def fit(
        self,
        images: np.ndarray,
        targets: np.ndarray,
        progress: Progress = lambda fraction: None,
        should_stop: ShouldStop = lambda: False,
    ) -> None:
        """Train on (N, H, W, 3) uint8 images and (N,) class ids; raises Cancelled when asked to stop."""
        targets = np.asarray(targets, dtype=np.int64)
        if len(images) != len(targets) or len(images) == 0:
            raise ValueError(
                f"need one target per image and at least one image, got {len(images)} and {len(targets)}"
            )
        if targets.min() < 0 or targets.max() >= self.n_classes:
            raise ValueError(
                f"targets must be class ids in 0..{self.n_classes - 1}, got {targets.min()}..{targets.max()}"
            )
        if self.gray is None:
            self.gray = bool(
                (images[..., 0] == images[..., 1]).all()
                and (images[..., 1] == images[..., 2]).all()
            )
        if self.input_size is None:
            self.input_size = (int(images.shape[1]), int(images.shape[2]))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + self.fits)
            self._train(images, targets, progress, should_stop)

    def _train(
        self, images: np.ndarray, targets: np.ndarray, progress: Progress, should_stop: ShouldStop
    ) -> None:
        if self.net is None or not self.warm_start:
            self.net = _Net(1 if self.gray else 3, self.n_classes, self.width, self.dropout).to(
                self.device
            )
        self.fits += 1
        x, y = self._tensor(images), torch.from_numpy(targets).to(self.device)
        n = len(x)
        batch = min(self.batch_size, n)
        steps = int(np.clip(self.epochs * -(-n // batch), self.min_steps, self.max_steps))
        optimizer = torch.optim.AdamW(
            self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.lr, total_steps=steps)
        self.net.train()
        order = torch.randperm(n)
        cursor = 0
        for step in range(steps):
            if should_stop():
                raise Cancelled(f"training stopped at step {step} of {steps}")
            if cursor + batch > n:
                order, cursor = torch.randperm(n), 0
            picked = order[cursor : cursor + batch].to(self.device)
            cursor += batch
            loss = F.cross_entropy(self.net(x[picked]), y[picked])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if step % 10 == 0 or step == steps - 1:
                progress((step + 1) / steps)

    @torch.no_grad()
    def predict_proba(
        self, images: np.ndarray, mc_samples: int = 1, batch_size: int = 1024
    ) -> np.ndarray:
        """Class probabilities (N, C, I); with I >= 2 the dropout head is sampled I times (MC dropout)."""
        if self.net is None:
            raise RuntimeError("the classifier has not been fitted yet")
        if mc_samples < 1:
            raise ValueError(f"mc_samples must be >= 1, got {mc_samples}")
        self.net.eval()
        out = np.empty((len(images), self.n_classes, mc_samples), dtype=np.float32)
        for start in range(0, len(images), batch_size):
            features = self.net.features(self._tensor(images[start : start + batch_size]))
            if mc_samples == 1:
                out[start : start + len(features), :, 0] = (
                    F.softmax(self.net.head(features), 1).cpu().numpy()
                )
                continue
            self.net.head.train()
            repeated = features.repeat(mc_samples, 1)
            probs = F.softmax(self.net.head(repeated), 1).reshape(mc_samples, len(features), -1)
            out[start : start + len(features)] = probs.permute(1, 2, 0).cpu().numpy()
            self.net.head.eval()
        return out
