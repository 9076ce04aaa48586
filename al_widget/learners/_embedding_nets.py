"""The networks of an `EmbeddingClassifier`: a frozen backbone (a torchvision model by name,
or a module) with its weights, and the small dropout heads trained on its embeddings."""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import re
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._weights import (
    WeightsUnavailable,
    cache_folder,
    download,
    is_path,
    normalise,
    read_state_dict,
)

log = logging.getLogger("al_widget")

_HEAD_ATTRIBUTES = ("fc", "classifier", "heads", "head")  # torchvision's last layers


class ByteDropout(nn.Module):
    """Dropout drawing its mask from uint8 random numbers, p rounded to a multiple of 1/256.

    torch's own dropout draws float Bernoulli samples, which made it three quarters of a head
    training step on embeddings here (2.2 of 3.1 ms for 256 x 512 on one CPU thread); bytes are
    about three times cheaper to draw.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.threshold = min(255, round(p * 256))
        self.scale = 256 / (256 - self.threshold)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.threshold == 0:
            return x
        draws = torch.randint(0, 256, x.shape, dtype=torch.uint8, device=x.device)
        return x * (draws >= self.threshold) * self.scale


class Head(nn.Module):
    def __init__(self, dim: int, n_classes: int, kind: str, hidden: int, dropout: float) -> None:
        super().__init__()
        if kind == "linear":
            self.layers = nn.Sequential(ByteDropout(dropout), nn.Linear(dim, n_classes))
        else:
            self.layers = nn.Sequential(
                ByteDropout(dropout / 2),
                nn.Linear(dim, hidden),
                nn.ReLU(),
                ByteDropout(dropout),
                nn.Linear(hidden, n_classes),
            )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(z)


def to_input(images: np.ndarray, device: torch.device, size: tuple[int, int]) -> torch.Tensor:
    """(n, H, W, 3) uint8 images as a normalised (n, 3, *size) float tensor on `device`."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    x = x.permute(0, 3, 1, 2).float().div_(255.0)
    if tuple(x.shape[2:]) != size:
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    return normalise(x)


def backbone_key(net: nn.Module, size: tuple[int, int]) -> str:
    """A 16-hex-digit hash of `net`'s architecture, parameters and buffers, and the input size.

    The architecture is ``repr(net)`` (the layers' types and hyper-parameters), with memory
    addresses (``at 0x...``) left out so that the key is the same after a restart; then the
    name, shape, dtype and bytes of each parameter and each buffer, persistent or not.
    ``forward``'s code is not seen.

    Parameters
    ----------
    net : torch.nn.Module
        The backbone.
    size : (int, int)
        The (height, width) it reads.
    """
    layers = _ADDRESS.sub("", repr(net))
    digest = hashlib.sha1(f"{type(net).__qualname__} {size}\n{layers}".encode())
    for kind, named in (("parameter", net.named_parameters()), ("buffer", net.named_buffers())):
        for name, tensor in named:
            digest.update(f"\n{kind} {name} {tuple(tensor.shape)} {tensor.dtype}\n".encode())
            raw = tensor.detach().reshape(-1).cpu().contiguous().view(torch.uint8)
            digest.update(raw.numpy().data)
    return digest.hexdigest()[:16]


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


# -- building a backbone -----------------------------------------------------------------------


def build_backbone(
    backbone: str | nn.Module, weights: Any, timeout: float, if_unavailable: str
) -> tuple[nn.Module, str]:
    """The backbone without its last layer, with `weights`, and a description of those weights."""
    if isinstance(backbone, nn.Module):
        net = copy.deepcopy(backbone)
        if weights is None:
            return net, "as given"
        if not is_path(weights):
            raise ValueError(
                f"weights={weights!r} names torchvision weights, which need a backbone given by "
                "name (backbone='resnet18', ...); for your own module pass weights=None (use it "
                "as it is) or the path of a state dict"
            )
        _load(net, read_state_dict(weights), os.fspath(weights))
        return net, os.fspath(weights)
    from torchvision import models

    known = models.list_models(module=models)
    if backbone not in known:
        raise ValueError(
            f"unknown backbone {backbone!r}; choose a torchvision classification model such as "
            f"'resnet18', 'mobilenet_v3_small' or 'efficientnet_b0' (all: {known}), or pass a "
            "torch.nn.Module"
        )
    net = models.get_model(backbone, weights=None)
    described = "random"
    if weights is not None and is_path(weights):
        _load(net, read_state_dict(weights), os.fspath(weights))
        described = os.fspath(weights)
    elif weights is not None:
        choices = models.get_model_weights(backbone)
        key = str(weights).rsplit(".", 1)[-1]
        if key not in choices.__members__:
            raise ValueError(
                f"unknown weights {weights!r} for {backbone}; choose one of "
                f"{list(choices.__members__)}, a path to a state dict, or None (random weights)"
            )
        url = choices[key].url
        try:
            path = download(url, timeout)
        except (OSError, ValueError) as reason:  # URLError, timeouts and disk errors are OSErrors
            message = (
                f"cannot fetch the pretrained weights {weights!r} of {backbone} from {url} "
                f"({reason}). Without network access: EmbeddingClassifier(..., weights=None) "
                f"embeds with random weights; weights='/path/to/{os.path.basename(url)}' loads a "
                f"state dict saved beforehand (or put that file in "
                f"{cache_folder()}, where it is found without "
                "downloading); or learners.Classifier, the small CNN, needs no weights"
            )
            if if_unavailable == "raise":
                raise WeightsUnavailable(message) from reason
            log.warning("al_widget: %s. Going on with random weights.", message)
        else:
            _load(net, read_state_dict(path), url)
            described = os.path.basename(url)
    _strip_head(net, backbone)
    return net, described


def _strip_head(net: nn.Module, name: str) -> None:
    for attribute in _HEAD_ATTRIBUTES:
        if isinstance(getattr(net, attribute, None), nn.Module):
            setattr(net, attribute, nn.Identity())
            return
    raise ValueError(
        f"cannot find the last layer of {name} (none of {_HEAD_ATTRIBUTES}); pass the backbone "
        "as a torch.nn.Module that returns features instead"
    )


def _load(net: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load `state` into `net`: a whole model's state dict, or one without the last layer."""
    own = net.state_dict()
    head_keys = {k for k in own if k.split(".", 1)[0] in _HEAD_ATTRIBUTES}
    unexpected = [k for k in state if k not in own]
    wrong = [
        f"{k} {tuple(v.shape)} (model: {tuple(own[k].shape)})"
        for k, v in state.items()
        if k in own and tuple(own[k].shape) != tuple(v.shape) and k not in head_keys
    ]
    missing = [
        k
        for k in own
        if k not in state and k not in head_keys and not k.endswith("num_batches_tracked")
    ]
    if unexpected or wrong or missing:
        shown = (
            wrong + [f"{k} (unexpected)" for k in unexpected] + [f"{k} (missing)" for k in missing]
        )[:5]
        raise ValueError(
            f"the state dict from {source} does not fit {type(net).__name__}: "
            f"{len(wrong) + len(unexpected) + len(missing)} entries differ, such as {shown}"
        )
    fitting = {k: v for k, v in state.items() if tuple(own[k].shape) == tuple(v.shape)}
    net.load_state_dict(fitting, strict=False)
