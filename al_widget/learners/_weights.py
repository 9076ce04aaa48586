"""Pretrained weights: the one downloader into torch's cache, state dict files, ImageNet statistics.

The learners that take ``weights=`` (Detector, Segmenter, EmbeddingClassifier) read a path or
a torchvision weights name the same way through these functions; each wraps a failed download
in its own message naming its alternatives.
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .base import Cancelled

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # the statistics torchvision's pretrained models expect
IMAGENET_STD = (0.229, 0.224, 0.225)
_DOWNLOAD_CHUNK = 1 << 20


class WeightsUnavailable(RuntimeError):
    """Pretrained weights were asked for but could not be downloaded."""


def normalise(x: torch.Tensor) -> torch.Tensor:
    """(n, 3, H, W) pixel values in [0, 1], normalised with the ImageNet mean and std."""
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def is_path(weights: Any) -> bool:
    """Whether `weights` names a state dict file (rather than torchvision weights such as 'DEFAULT')."""
    if isinstance(weights, os.PathLike):
        return True
    return isinstance(weights, str) and (
        os.sep in weights or "/" in weights or weights.endswith((".pt", ".pth"))
    )


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The state dict saved at `path`, unwrapped from a ``{"state_dict": ...}`` or ``{"model": ...}`` checkpoint."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no state dict at {os.fspath(path)!r}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict):
        raise ValueError(f"{os.fspath(path)!r} holds a {type(state).__name__}, not a state dict")
    return state


def cache_folder() -> Path:
    """Where downloaded weights are kept: torch's hub cache (``torch.hub.get_dir()``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def download(url: str, timeout: float, should_stop: Callable[[], bool] | None = None) -> Path:
    """The file at `url` in torch's checkpoint cache, downloaded there once (within `timeout`).

    No retries. A half-downloaded file is never left behind, and a file whose name carries a
    hash prefix (torchvision's ``name-<sha256 prefix>.pth``) is checked against it.

    Parameters
    ----------
    url : str
        Where the weights are served.
    timeout : float
        Seconds to wait for the server at each step.
    should_stop : callable, optional
        Asked between blocks; when it returns True the download stops with `Cancelled`.

    Returns
    -------
    pathlib.Path
        The cached file.

    Raises
    ------
    OSError
        The server or the disk failed (a `urllib.error.URLError`, a timeout), or the file is corrupt.
    ValueError
        `url` is not a URL urllib can open.
    """
    target = cache_folder() / os.path.basename(urllib.parse.urlparse(url).path)
    if target.is_file():
        return target
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with (
            urllib.request.urlopen(url, timeout=timeout) as response,
            open(partial, "wb") as file,
        ):
            while block := response.read(_DOWNLOAD_CHUNK):
                if should_stop is not None and should_stop():
                    raise Cancelled(f"stopped while downloading {url}")
                digest.update(block)
                file.write(block)
        expected = torch.hub.HASH_REGEX.search(target.name)
        if expected and not digest.hexdigest().startswith(expected.group(1)):
            raise OSError(f"the file downloaded from {url} is corrupt (its hash does not match)")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target
