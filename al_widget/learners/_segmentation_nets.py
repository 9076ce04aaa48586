"""The segmentation networks a `Segmenter` trains: a small U-Net, or a torchvision model by
name with its weights; and their heads, with MC dropout."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ._weights import cache_folder, download, is_path, read_state_dict
from .base import ShouldStop

UNET = "unet"


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """A U-Net of three levels with batch norm, and a dropout + 1x1 convolution head.

    ``backbone(x)`` gives (N, width, H, W) features at the input's size (any size: it pads
    to a multiple of 8 and crops back); ``classifier`` maps them to class logits.

    Parameters
    ----------
    n_classes : int
        Output channels of the head.
    width : int, default 8
        Channels of the first level; each level below doubles them (the bottom has 8 times as many).
    dropout : float, default 0.1
        Probability of the `Dropout2d` before the head's 1x1 convolution.
    """

    def __init__(self, n_classes: int, width: int = 8, dropout: float = 0.1) -> None:
        super().__init__()
        self.backbone = _UNetBody(width)
        self.classifier = nn.Sequential(nn.Dropout2d(dropout), nn.Conv2d(width, n_classes, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.backbone(x))


class _UNetBody(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        w = [width, 2 * width, 4 * width, 8 * width]
        self.down = nn.ModuleList([_block(3, w[0]), _block(w[0], w[1]), _block(w[1], w[2])])
        self.bottom = _block(w[2], w[3])
        self.up = nn.ModuleList(nn.ConvTranspose2d(w[k + 1], w[k], 2, stride=2) for k in range(3))
        self.merge = nn.ModuleList(_block(2 * w[k], w[k]) for k in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        x = F.pad(x, (0, -width % 8, 0, -height % 8))
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for k in (2, 1, 0):
            x = self.merge[k](torch.cat([skips[k], self.up[k](x)], dim=1))
        return x[..., :height, :width]


# -- heads -------------------------------------------------------------------------------------


def class_logits(
    net: nn.Module,
    features: Any,
    head: Callable[..., Any],
    dropout: float,
    size: Sequence[int],
) -> torch.Tensor:
    """Class logits at `size` from the backbone's features through `head`.

    A torchvision model's features get channel dropout first (while training, and when
    sampling); the U-Net's dropout is the first layer of its head.
    """
    if not isinstance(net, UNet):
        sampled = dropout > 0 and (net.training or head is not net_part(net, "classifier"))
        if sampled:
            features = {key: F.dropout2d(value, dropout, True) for key, value in features.items()}
        features = features if takes_feature_dict(net) else features["out"]
    logits = head(features)
    if tuple(logits.shape[-2:]) != tuple(size):
        logits = F.interpolate(logits, size=tuple(size), mode="bilinear", align_corners=False)
    return logits


def sampling_head(net: nn.Module, dropout: float) -> Callable[[Any], torch.Tensor]:
    """The network's head with its dropout sampling, leaving the network itself as it is."""
    if isinstance(net, UNet):
        conv = net.classifier[1]
        return lambda features: conv(F.dropout2d(features, dropout, True))
    head = copy.deepcopy(net_part(net, "classifier"))
    head.eval()
    for module in head.modules():
        if isinstance(module, nn.modules.dropout._DropoutNd):
            module.train()
    return head


def net_part(net: nn.Module, name: str) -> nn.Module:
    """The network's ``backbone`` or ``classifier``."""
    part = getattr(net, name)
    assert isinstance(part, nn.Module)
    return part


def takes_feature_dict(net: nn.Module) -> bool:
    """Whether the head reads the backbone's whole feature dict (LR-ASPP) or its "out"."""
    from torchvision.models.segmentation import LRASPP

    return isinstance(net, LRASPP)


# -- torchvision models and weights ------------------------------------------------------------


def torchvision_model(
    name: str, weights: Any, n_classes: int, timeout: float, should_stop: ShouldStop
) -> nn.Module:
    """The torchvision segmentation model `name` for `n_classes`, with `weights` loaded."""
    from torchvision.models import get_model, get_model_weights, list_models, segmentation

    known = list_models(module=segmentation)
    if name not in known:
        raise ValueError(
            f"unknown segmentation model {name!r}; choose 'unet' or one of torchvision's: {known}"
        )
    net = get_model(name, weights=None, weights_backbone=None, num_classes=n_classes)
    if getattr(net, "aux_classifier", None) is not None:
        net.aux_classifier = None
    if weights is None:
        return net
    if is_path(weights):
        load_matching(net, read_state_dict(weights), n_classes, str(weights))
        return net
    choices = get_model_weights(name)
    key = str(weights).rsplit(".", 1)[-1]
    if key not in choices.__members__:
        raise ValueError(
            f"unknown weights {weights!r} for {name}; choose one of "
            f"{list(choices.__members__)}, a path to a state dict, or None"
        )
    url = choices[key].url
    state = read_state_dict(_fetch(url, name, weights, timeout, should_stop))
    load_matching(net, state, n_classes, url)
    return net


def _fetch(url: str, name: str, weights: Any, timeout: float, should_stop: ShouldStop) -> Path:
    """The file at `url` in torch's checkpoint cache, downloaded there once; no retries."""
    try:
        return download(url, timeout, should_stop)
    except (OSError, ValueError) as error:
        raise RuntimeError(
            f"cannot fetch the pretrained weights {weights!r} of {name} from {url} ({error}). "
            f"Without network access: train from scratch with weights=None, pass the path of "
            f"a state dict saved beforehand (weights='/path/to/{os.path.basename(url)}', or "
            f"put that file in {cache_folder()}, where it is found without downloading), or use "
            f"the default U-Net (model='unet'), which needs no pretrained weights"
        ) from error


def load_matching(
    net: nn.Module, state: dict[str, torch.Tensor], n_classes: int, source: str
) -> None:
    """Load `state` into `net`; class layers of another number of classes stay new.

    Auxiliary-head entries are ignored. Anything else that does not fit is an error: the
    state dict is of another architecture.
    """
    own = net.state_dict()
    kept: dict[str, torch.Tensor] = {}
    wrong = []
    for key, value in state.items():
        if key.startswith("aux_classifier."):
            continue
        if key not in own:
            wrong.append(f"{key} (not in the model)")
        elif own[key].shape == value.shape:
            kept[key] = value
        elif own[key].shape[0] != n_classes or own[key].shape[1:] != value.shape[1:]:
            wrong.append(f"{key} {tuple(value.shape)} (model: {tuple(own[key].shape)})")
    missing = [key for key in own if key not in state and not key.endswith("num_batches_tracked")]
    if wrong or missing:
        shown = (wrong + [f"{key} (missing)" for key in missing])[:5]
        raise ValueError(
            f"the state dict from {source} does not fit {type(net).__name__}: "
            f"{len(wrong) + len(missing)} entries differ, such as {shown}"
        )
    net.load_state_dict(kept, strict=False)
