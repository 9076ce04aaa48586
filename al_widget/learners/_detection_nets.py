"""The detection networks a `Detector` trains: a tiny FCOS, or a torchvision model by name."""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ._weights import WeightsUnavailable, download, is_path, read_state_dict

TINY = "tiny_fcos"
DENSE = "dense"  # FCOS and RetinaNet: sigmoid class scores at every anchor, labels from 0
TWO_STAGE = "two_stage"  # Faster and Mask R-CNN: softmax over proposals, background is label 0

_sampling = threading.local()


@contextmanager
def mc_dropout() -> Iterator[None]:
    """Within this block, on this thread, the `McDropout` layers drop even in eval mode."""
    before = getattr(_sampling, "active", False)
    _sampling.active = True
    try:
        yield
    finally:
        _sampling.active = before


class McDropout(nn.Module):
    """Dropout that is active while training and, in eval mode, inside `mc_dropout()`."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0 or not (self.training or getattr(_sampling, "active", False)):
            return x
        # whole channels of a feature map (far fewer random draws), single features of a vector
        drop = F.dropout2d if x.dim() == 4 else F.dropout
        return drop(x, self.p, training=True)


class TinyBackbone(nn.Module):
    """Six 3x3 convolutions (32 to 64 channels) with one stride-8 output."""

    out_channels = 64

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for cin, cout, stride in ((3, 32, 2), (32, 32, 2), (32, 32, 1), (32, 64, 2), (64, 64, 1)):
            layers += [
                nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                nn.GroupNorm(8, cout),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.Conv2d(64, 64, 3, 1, 1), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def tiny_fcos(n_classes: int, dropout: float) -> nn.Module:
    """A ~0.26 M parameter FCOS with one stride-8 level."""
    from torchvision.models.detection import FCOS
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.fcos import FCOSHead

    backbone = TinyBackbone()
    net = FCOS(
        backbone,
        n_classes,
        min_size=160,  # unused: the Detector resizes the images itself
        max_size=160,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.25, 0.25, 0.25],
        anchor_generator=AnchorGenerator(((8,),), ((1.0,),)),
        head=FCOSHead(backbone.out_channels, 1, n_classes, num_convs=2),
    )
    net.transform = prepared(net.transform)
    add_dropout(net, dropout)
    return net


def named(
    name: str,
    weights: str | os.PathLike[str] | None,
    n_classes: int,
    dropout: float,
    download_timeout: float,
) -> nn.Module:
    """torchvision's detection model `name`, with `weights`, adapted to `n_classes` classes."""
    from torchvision import models

    try:
        models.get_model_builder(name)
    except ValueError:
        raise ValueError(
            f"unknown model {name!r}: use 'tiny_fcos' or a torchvision detection model name "
            f"such as {', '.join(_detection_names()[:6])}"
        ) from None
    if weights is None:
        net = models.get_model(name, weights=None, weights_backbone=None, num_classes=None)
    elif is_path(weights):
        net = _from_state_dict(name, Path(weights))
    else:
        enum = models.get_model_weights(name)
        try:
            chosen = enum.verify(str(weights))
        except (ValueError, KeyError):
            raise ValueError(
                f"unknown weights {weights!r} for {name}: use one of "
                f"{['DEFAULT', *(w.name for w in enum)]}, None, or a path to a state dict file"
            ) from None
        fetch_weights(name, chosen.url, download_timeout)
        net = models.get_model(name, weights=chosen)
    if family_of(net) == TWO_STAGE and net.roi_heads.has_mask():
        # trained on boxes only: Mask R-CNN without its mask branch is a Faster R-CNN
        net.roi_heads.mask_roi_pool = net.roi_heads.mask_head = None
        net.roi_heads.mask_predictor = None
    set_classes(net, n_classes)
    net.transform = prepared(net.transform)
    add_dropout(net, dropout)
    return net


def prepared(transform: nn.Module) -> nn.Module:
    """The model's input transform without its resizing: the Detector resizes images itself."""
    return _prepared_class()(
        transform.min_size,
        transform.max_size,
        transform.image_mean,
        transform.image_std,
        transform.size_divisible,
    )


@functools.cache
def _prepared_class() -> type[nn.Module]:
    from torchvision.models.detection.transform import GeneralizedRCNNTransform

    class PreparedTransform(GeneralizedRCNNTransform):
        """Normalises and batches images that already have their working size."""

        def resize(
            self, image: torch.Tensor, target: dict[str, torch.Tensor] | None = None
        ) -> tuple[torch.Tensor, dict[str, torch.Tensor] | None]:
            return image, target

    return PreparedTransform


def family_of(net: nn.Module) -> str:
    """DENSE or TWO_STAGE; a ValueError for a model this module cannot read boxes from."""
    from torchvision.models.detection import FCOS, FasterRCNN, RetinaNet

    if isinstance(net, (FCOS, RetinaNet)):
        return DENSE
    if isinstance(net, FasterRCNN) and not net.roi_heads.has_keypoint():
        return TWO_STAGE
    raise ValueError(
        f"{type(net).__name__} models are not supported: use an FCOS, RetinaNet, Faster R-CNN "
        "or Mask R-CNN model (for instance 'fcos_resnet50_fpn', 'retinanet_resnet50_fpn_v2' or "
        "'fasterrcnn_mobilenet_v3_large_320_fpn'), or the default tiny model"
    )


def fetch_weights(name: str, url: str, timeout: float) -> Path:
    """The weights file in torch's hub cache, downloaded first (within `timeout`) if missing."""
    try:
        return download(url, timeout)
    except (OSError, ValueError) as error:  # URLError, timeouts and disk errors are all OSErrors
        raise WeightsUnavailable(
            f"cannot fetch the pretrained weights of {name} from {url} ({error}). "
            "Train without them: Detector(model=..., weights=None) trains that model from "
            "scratch, weights='path/to/state_dict.pth' loads a file you downloaded, and "
            "Detector() trains the default tiny model, which needs no weights"
        ) from error


def _from_state_dict(name: str, path: Path) -> nn.Module:
    """Model `name` with the weights in `path`, whatever number of classes they were saved with."""
    from torchvision import models

    state = read_state_dict(path)
    # a Detector's net_ has an McDropout before the class logits: read its layers as plain ones
    state = {
        key.replace("cls_logits.1.", "cls_logits.").replace("cls_score.1.", "cls_score."): value
        for key, value in state.items()
    }
    classes = classes_in(state)
    net = models.get_model(name, weights=None, weights_backbone=None, num_classes=classes)
    net.load_state_dict(state)
    return net


def classes_in(state: dict[str, Any]) -> int | None:
    """The class count a torchvision detection state dict was saved with, if recognisable."""
    for key, value in state.items():
        if key.endswith("box_predictor.cls_score.weight"):
            return int(value.shape[0])
        if key.endswith("classification_head.cls_logits.weight"):
            anchors = next(
                (
                    int(v.shape[0]) // 4
                    for k, v in state.items()
                    if k.endswith("regression_head.bbox_reg.weight")
                ),
                1,
            )
            return int(value.shape[0]) // anchors
    return None


def set_classes(net: Any, n_classes: int) -> None:
    """Replace the class predictor when the model was built for another number of classes."""
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor

    if family_of(net) == TWO_STAGE:
        predictor = net.roi_heads.box_predictor
        if predictor.cls_score.out_features != n_classes + 1:
            net.roi_heads.box_predictor = FastRCNNPredictor(
                predictor.cls_score.in_features, n_classes + 1
            )
        return
    head = net.head.classification_head
    if head.num_classes == n_classes:
        return
    old = head.cls_logits
    anchors = old.out_channels // head.num_classes
    new = nn.Conv2d(old.in_channels, anchors * n_classes, 3, padding=1)
    nn.init.normal_(new.weight, std=0.01)
    assert new.bias is not None
    nn.init.constant_(new.bias, -math.log((1 - 0.01) / 0.01))
    head.cls_logits, head.num_classes = new, n_classes


def add_dropout(net: Any, p: float) -> None:
    """Put an `McDropout` before the layer that gives the class logits."""
    if family_of(net) == TWO_STAGE:
        predictor = net.roi_heads.box_predictor
        predictor.cls_score = nn.Sequential(McDropout(p), predictor.cls_score)
    else:
        head = net.head.classification_head
        head.cls_logits = nn.Sequential(McDropout(p), head.cls_logits)


def _detection_names() -> list[str]:
    from torchvision import models

    return sorted(models.list_models(module=models.detection))
