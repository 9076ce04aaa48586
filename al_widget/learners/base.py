"""The Learner protocol: what the loop needs from a model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

Progress = Callable[[float], None]
ShouldStop = Callable[[], bool]


class Cancelled(Exception):
    """Raised by a learner that stopped training because `should_stop()` said so."""


@runtime_checkable
class Learner(Protocol):
    """A model the loop can train on labeled images and ask for class probabilities."""

    def fit(
        self, images: np.ndarray, targets: np.ndarray, progress: Progress, should_stop: ShouldStop
    ) -> None:
        """Train on (N, H, W, 3) uint8 images and (N,) int class ids; report progress in [0, 1]."""
        ...

    def predict_proba(self, images: np.ndarray, mc_samples: int = 1) -> np.ndarray:
        """Class probabilities of shape (N, C, I) for (N, H, W, 3) uint8 images, I = mc_samples."""
        ...
