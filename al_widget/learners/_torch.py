"""What the torch learners share: the device they fit on, and how many steps a fit takes."""

from __future__ import annotations

import numpy as np
import torch


def choose_device(device: str | torch.device | None) -> torch.device:
    """`device` as a torch.device; None: the GPU when torch sees one, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device must be None, a torch.device or a name such as 'cpu' or 'cuda:0', "
            f"got {device!r}"
        ) from error


def fit_steps(n: int, batch: int, epochs: int, min_steps: int, max_steps: int) -> int:
    """Optimizer steps for `epochs` passes over `n` images in batches of `batch`, clipped."""
    return int(np.clip(epochs * -(-n // batch), min_steps, max_steps))
