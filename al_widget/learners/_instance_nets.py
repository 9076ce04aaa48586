"""Instance networks: the tiny FCOS with a mask head, or torchvision's Mask R-CNN, behind one interface.

Both give a trunk (RoI features of boxes, computed once) and a tail (the mask logits, with the
MC dropout layer in it), so that MC samples of each object's mask rerun the tail only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from . import _detection_nets as nets
from ._weights import is_path, read_state_dict

TINY = "tiny_maskfcos"
MASK_SIDE = 28  # the side of each object's mask grid, as Mask R-CNN's
_ROI_SIDE = MASK_SIDE // 2
_STEM_LAYERS = 9  # TinyBackbone's first three conv-norm-relu blocks: the stride-4 features


class MaskHead(nn.Module):
    """A class-agnostic mask per box, from stride-4 and stride-8 features.

    The stride-8 features are added to the stride-4 ones (one FPN step); each box's 14x14
    RoIAlign of them passes two 3x3 convolutions and a learned 2x upsampling (a 1x1 convolution
    to four times the channels, then a pixel shuffle: a 2x2 stride-2 transposed convolution, but
    several times faster on a CPU) (the trunk), then MC dropout and a 1x1 convolution to 28x28
    logits (the tail, all that MC sampling reruns).
    """

    def __init__(self, dropout: float, width: int = 32) -> None:
        super().__init__()
        self.lateral4 = nn.Conv2d(32, width, 1)
        self.lateral8 = nn.Conv2d(64, width, 1)
        self.convs = nn.Sequential(
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.GroupNorm(8, width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.GroupNorm(8, width),
            nn.ReLU(inplace=True),
        )
        self.up = nn.Conv2d(width, 4 * width, 1)
        self.dropout = nets.McDropout(dropout)
        self.logits = nn.Conv2d(width, 1, 1)

    def features(self, c4: torch.Tensor, c8: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(self.lateral8(c8), size=c4.shape[-2:], mode="nearest")
        return self.lateral4(c4) + up

    def trunk(self, features: torch.Tensor, boxes: list[torch.Tensor]) -> torch.Tensor:
        from torchvision.ops import roi_align

        rois = roi_align(
            features, boxes, _ROI_SIDE, spatial_scale=0.25, sampling_ratio=2, aligned=True
        )
        return F.relu(F.pixel_shuffle(self.up(self.convs(rois)), 2))

    def tail(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(self.dropout(x))[:, 0]  # type: ignore[no-any-return]


class TinyMaskFcos(nn.Module):
    """The Detector's tiny FCOS (``fcos``) with a `MaskHead` (``masks``) on its backbone."""

    def __init__(self, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.fcos: Any = nets.tiny_fcos(n_classes, dropout)
        self.masks = MaskHead(dropout)

    def mask_features(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(stride-8 backbone features, mask features) of a normalised, padded batch."""
        body = self.fcos.backbone.body
        c4 = body[:_STEM_LAYERS](batch)
        c8 = body[_STEM_LAYERS:](c4)
        return c8, self.masks.features(c4, c8)


def build(
    name: str,
    weights: str | os.PathLike[str] | None,
    n_classes: int,
    dropout: float,
    download_timeout: float,
) -> nn.Module:
    """A new network: the tiny model, or torchvision's instance model `name` with `weights`."""
    if name == TINY:
        tiny = TinyMaskFcos(n_classes, dropout)
        if weights is not None:
            tiny.load_state_dict(read_state_dict(weights))
        return tiny
    from torchvision import models
    from torchvision.models.detection.mask_rcnn import MaskRCNNPredictor

    try:
        models.get_model_builder(name)
    except ValueError:
        raise ValueError(
            f"unknown model {name!r}: use {TINY!r} or a torchvision instance segmentation model "
            f"such as {', '.join(instance_names())}"
        ) from None
    net: Any
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
        nets.fetch_weights(name, chosen.url, download_timeout)
        net = models.get_model(name, weights=chosen)
    if not is_mask_rcnn(net):
        raise ValueError(
            f"{name} is not an instance segmentation model: use {TINY!r} or one of "
            f"{', '.join(instance_names())}"
        )
    nets.set_classes(net, n_classes)
    predictor = net.roi_heads.mask_predictor
    if predictor.mask_fcn_logits.out_channels != n_classes + 1:
        net.roi_heads.mask_predictor = MaskRCNNPredictor(
            predictor.conv5_mask.in_channels, predictor.conv5_mask.out_channels, n_classes + 1
        )
    net.transform = nets.prepared(net.transform)
    nets.add_dropout(net, dropout)
    net.roi_heads.mask_predictor = nn.Sequential(
        nets.McDropout(dropout), net.roi_heads.mask_predictor
    )
    return net


def is_mask_rcnn(net: nn.Module) -> bool:
    from torchvision.models.detection import MaskRCNN

    return isinstance(net, MaskRCNN)


def detector_of(net: Any) -> Any:
    """The part of `net` that `_detection_outputs.detect` reads boxes from."""
    return net.fcos if isinstance(net, TinyMaskFcos) else net


def losses(
    net: Any, images: list[torch.Tensor], targets: list[dict[str, torch.Tensor]]
) -> dict[str, torch.Tensor]:
    """The training losses of a batch (boxes, labels and uint8 (K, h, w) masks per image)."""
    if not isinstance(net, TinyMaskFcos):
        return net(images, targets)  # type: ignore[no-any-return]
    fcos = net.fcos
    batch, targets = fcos.transform(images, targets)
    c8, features = net.mask_features(batch.tensors)
    head = fcos.head([c8])
    anchors = fcos.anchor_generator(batch, [c8])
    found = fcos.compute_loss(targets, head, anchors, [c8.size(2) * c8.size(3)])
    boxes = [t["boxes"] for t in targets]
    logits = net.masks.tail(net.masks.trunk(features, boxes))
    truth = torch.cat([mask_grid(t["masks"], t["boxes"]) for t in targets])
    if len(truth):
        found["mask"] = F.binary_cross_entropy_with_logits(logits, truth)
    else:
        found["mask"] = logits.sum() * 0
    return found  # type: ignore[no-any-return]


def mask_grid(masks: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """(K, 28, 28) float 0/1: each object's mask inside its box, on the mask grid."""
    from torchvision.ops import roi_align

    k = len(boxes)
    if not k:
        return masks.new_zeros((0, MASK_SIDE, MASK_SIDE), dtype=torch.float32)
    rois = torch.cat([torch.arange(k, device=boxes.device, dtype=boxes.dtype)[:, None], boxes], 1)
    grid = roi_align(masks[:, None].float(), rois, MASK_SIDE, 1.0, sampling_ratio=2, aligned=True)
    return (grid[:, 0] >= 0.5).float()


def mask_logits(
    net: Any,
    images: list[torch.Tensor],
    boxes: list[torch.Tensor],
    labels: list[torch.Tensor],
    samples: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each box's mask logits on the 28x28 grid: (K, 28, 28) deterministic and (K, I, 28, 28)
    MC dropout samples (the deterministic ones repeated when `samples` is 1); K over all images."""
    if isinstance(net, TinyMaskFcos):
        batch, _ = net.fcos.transform(images)
        _, features = net.mask_features(batch.tensors)
        trunk = net.masks.trunk(features, boxes)

        def tail(x: torch.Tensor) -> torch.Tensor:
            return net.masks.tail(x)
    else:
        batch, _ = net.transform(images)
        features = net.backbone(batch.tensors)
        heads = net.roi_heads
        trunk = heads.mask_head(heads.mask_roi_pool(features, boxes, batch.image_sizes))
        picked = torch.cat(labels) + 1 if labels else torch.zeros(0, dtype=torch.int64)
        rows = torch.arange(len(picked), device=trunk.device)

        def tail(x: torch.Tensor) -> torch.Tensor:
            return heads.mask_predictor(x)[rows, picked.to(trunk.device)]  # type: ignore[no-any-return]

    logits = tail(trunk)
    if samples == 1:
        return logits, logits[:, None]
    with nets.mc_dropout():
        drawn = torch.stack([tail(trunk) for _ in range(samples)], 1)
    return logits, drawn


def _from_state_dict(name: str, path: Path) -> nn.Module:
    """Instance model `name` with the weights in `path`, whatever number of classes they were saved with."""
    from torchvision import models

    state = {
        key.replace("cls_score.1.", "cls_score.").replace(
            "mask_predictor.1.", "mask_predictor."
        ): value
        for key, value in read_state_dict(path).items()
    }
    classes = nets.classes_in(state)
    net = models.get_model(name, weights=None, weights_backbone=None, num_classes=classes)
    net.load_state_dict(state)
    return net


def instance_names() -> list[str]:
    """torchvision's instance segmentation models (Mask R-CNN)."""
    from torchvision import models

    return sorted(
        n for n in models.list_models(module=models.detection) if n.startswith("maskrcnn")
    )


def paste(probs: torch.Tensor, boxes: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(K, H, W) bool masks at an image's pixels from (K, 28, 28) probabilities in its boxes."""
    from torchvision.models.detection.roi_heads import paste_masks_in_image

    if not len(boxes):
        return torch.zeros((0, *size), dtype=torch.bool)
    pasted = paste_masks_in_image(probs[:, None], boxes, size, padding=1)[:, 0]
    return pasted >= 0.5
