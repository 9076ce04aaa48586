"""Frozen pretrained backbones for boxes and masks: an ImageNet trunk that is never trained, its
features cached per input, and a light head that each round retrains.

``Detector(model="frozen_resnet18")`` and ``Segmenter(model="frozen_resnet18")`` (or
``"frozen_mobilenet_v3_large"``) build their networks here. The trunk is torchvision's
classification model cut at stride 16; its weights are ImageNet's (``weights="DEFAULT"``),
random ones (None; or with a warning when the download fails), or a state dict file of that
classification model. Since the trunk never changes, its output for an input tensor is kept
(``FeatureCache``): from the second epoch of a round on, and in every later round, training and
scoring run the head only.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._weights import IMAGENET_MEAN, IMAGENET_STD, cache_folder, is_path, read_state_dict

TRUNKS = {"resnet18": 256, "mobilenet_v3_large": 112}  # name: channels at stride 16
PREFIX = "frozen_"
NAMES = tuple(PREFIX + name for name in TRUNKS)
MAX_CACHED = 2048  # inputs whose features a trunk keeps (float16: ~50 KB each at 160 px)


def is_frozen(model: str) -> bool:
    """Whether `model` names a frozen-backbone network."""
    return model in NAMES


class FeatureCache:
    """The trunk's features per input tensor (keyed by a hash of its bytes), oldest out first.

    Shared, not copied, by ``copy.deepcopy``: a warm start's copy of the network has the same
    frozen trunk, so the same features.

    Thread safety: none; only the loop's worker thread trains and scores a learner.
    """

    def __init__(self, size: int = MAX_CACHED) -> None:
        # features are kept as float16, half the memory; the head gets them back as float32
        self.size = size
        self._found: OrderedDict[bytes, torch.Tensor] = OrderedDict()

    def __deepcopy__(self, memo: dict[int, Any]) -> FeatureCache:
        return self

    def __len__(self) -> int:
        return len(self._found)

    def get(self, key: bytes) -> torch.Tensor | None:
        """The features kept for `key`, or None."""
        return self._found.get(key)

    def put(self, key: bytes, features: torch.Tensor) -> None:
        """Keep `features` for `key`, forgetting the oldest beyond ``size``."""
        self._found[key] = features
        while len(self._found) > self.size:
            self._found.popitem(last=False)


class FrozenTrunk(nn.Module):
    """A torchvision classification trunk cut at stride 16, frozen and in eval mode for good,
    its output cached per input sample.

    Parameters
    ----------
    name : str
        "resnet18" or "mobilenet_v3_large".
    weights : str, path or None
        "DEFAULT" (ImageNet; random with a warning when it cannot be fetched), None (random),
        or the path of a state dict of torchvision's `name` classification model.
    timeout : float
        Seconds to wait for the weights server.
    """

    def __init__(self, name: str, weights: str | os.PathLike[str] | None, timeout: float) -> None:
        super().__init__()
        self.body = _trunk(name, weights, timeout)
        self.out_channels = TRUNKS[name]
        for parameter in self.body.parameters():
            parameter.requires_grad_(False)
        self.body.eval()
        self.cache = FeatureCache()

    def train(self, mode: bool = True) -> FrozenTrunk:
        """Stays in eval mode: batch norm statistics are ImageNet's, never updated."""
        super().train(False)
        return self

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keys = [_key(sample) for sample in x]
        found = [self.cache.get(key) for key in keys]
        missing = [k for k, f in enumerate(found) if f is None or f.device != x.device]
        if missing:
            computed = self.body(x[missing]).half()
            for k, features in zip(missing, computed, strict=True):
                found[k] = features
                self.cache.put(keys[k], features)
        return torch.stack(found).to(x.dtype)  # type: ignore[arg-type]


def _key(sample: torch.Tensor) -> bytes:
    data = sample.detach().contiguous().cpu().numpy()
    return hashlib.blake2b(data.tobytes(), digest_size=16).digest() + repr(data.shape).encode()


def _trunk(name: str, weights: str | os.PathLike[str] | None, timeout: float) -> nn.Module:
    """torchvision's `name` classification model with `weights`, cut at stride 16."""
    from torchvision import models

    from ._detection_nets import WeightsUnavailable, fetch_weights

    net = models.get_model(name, weights=None)
    if weights is not None and is_path(weights):
        path = Path(weights)
        state = read_state_dict(path)
        try:
            net.load_state_dict(state)
        except RuntimeError as error:
            raise ValueError(
                f"the state dict at {path} does not fit torchvision's {name} classification "
                f"model: {str(error).splitlines()[0]}"
            ) from None
    elif weights is not None:
        enum = models.get_model_weights(name)
        try:
            chosen = enum.verify(str(weights))
        except (ValueError, KeyError):
            raise ValueError(
                f"unknown weights {weights!r} for the {name} backbone: use one of "
                f"{['DEFAULT', *(w.name for w in enum)]}, None, or a path to a state dict file"
            ) from None
        try:
            path = fetch_weights(name, chosen.url, timeout)
        except WeightsUnavailable as error:
            warnings.warn(
                f"{error}; the {name} backbone keeps random weights, which make poor features: "
                f"put the file in {cache_folder()} or pass its path "
                "as weights=",
                stacklevel=4,
            )
        else:
            net.load_state_dict(read_state_dict(path))
    if name == "resnet18":
        return nn.Sequential(
            net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3
        )
    return net.features[:13]  # mobilenet_v3_large: 112 channels at stride 16


class _Neck(nn.Module):
    """The frozen trunk, then a trainable 1x1 convolution down to `channels`."""

    def __init__(self, trunk: FrozenTrunk, channels: int) -> None:
        super().__init__()
        self.trunk = trunk
        self.reduce = nn.Sequential(nn.Conv2d(trunk.out_channels, channels, 1), nn.ReLU())
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reduce(self.trunk(x))  # type: ignore[no-any-return]


def fcos(
    model: str,
    weights: str | os.PathLike[str] | None,
    n_classes: int,
    dropout: float,
    timeout: float,
    channels: int = 64,
) -> nn.Module:
    """An FCOS with one stride-16 level on the frozen trunk `model` names, a light trainable head."""
    from torchvision.models.detection import FCOS
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.fcos import FCOSHead

    from ._detection_nets import add_dropout, prepared

    backbone = _Neck(FrozenTrunk(model.removeprefix(PREFIX), weights, timeout), channels)
    net = FCOS(
        backbone,
        n_classes,
        min_size=160,  # unused: the Detector resizes the images itself
        max_size=160,
        image_mean=list(IMAGENET_MEAN),
        image_std=list(IMAGENET_STD),
        anchor_generator=AnchorGenerator(((16,),), ((1.0,),)),
        head=FCOSHead(channels, 1, n_classes, num_convs=2),
    )
    net.transform = prepared(net.transform)
    add_dropout(net, dropout)
    return net


class FrozenSegNet(nn.Module):
    """A frozen trunk (``backbone``, giving ``{"out": features}`` at stride 16) and a light
    head (``classifier``: a 3x3 convolution, dropout, a 1x1 convolution to class logits).

    Parameters
    ----------
    model : str
        "frozen_resnet18" or "frozen_mobilenet_v3_large".
    weights : str, path or None
        The trunk's weights (see `FrozenTrunk`).
    n_classes : int
        Output channels of the head.
    dropout : float
        Probability of the head's `Dropout2d`.
    timeout : float
        Seconds to wait for the weights server.
    channels : int, default 64
        Channels of the head's hidden layer.
    """

    def __init__(
        self,
        model: str,
        weights: str | os.PathLike[str] | None,
        n_classes: int,
        dropout: float,
        timeout: float,
        channels: int = 64,
    ) -> None:
        super().__init__()
        self.backbone = _DictOut(FrozenTrunk(model.removeprefix(PREFIX), weights, timeout))
        self.classifier = nn.Sequential(
            nn.Conv2d(TRUNKS[model.removeprefix(PREFIX)], channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Dropout2d(dropout),
            nn.Conv2d(channels, n_classes, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.backbone(x)["out"])  # type: ignore[no-any-return]


class _DictOut(nn.Module):
    def __init__(self, trunk: FrozenTrunk) -> None:
        super().__init__()
        self.trunk = trunk

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"out": self.trunk(x)}
