"""Boxes, scores and per-box class probabilities read from a detection network's outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ._detection_nets import TWO_STAGE, family_of, mc_dropout

_CANDIDATES = 1000  # the most (location, class) pairs kept before non-maximum suppression


@dataclass(frozen=True)
class Decoding:
    """How to turn outputs into detections."""

    score_threshold: float
    nms_threshold: float
    max_detections: int
    mc_samples: int


def detect(net: Any, images: list[torch.Tensor], how: Decoding) -> list[dict[str, torch.Tensor]]:
    """Per image: boxes (K, 4) in the images' pixels, labels (K,) from 0, scores (K,), probs
    (K, C + 1, I) with the background last. `net` must be in eval mode."""
    if family_of(net) == TWO_STAGE:
        return _two_stage(net, images, how)
    return _dense(net, images, how)


def _dense(net: Any, images: list[torch.Tensor], how: Decoding) -> list[dict[str, torch.Tensor]]:
    """FCOS and RetinaNet: a sigmoid score per class at every anchor."""
    from torchvision.models.detection import FCOS

    batch, _ = net.transform(images)
    features = net.backbone(batch.tensors)
    features = list(features.values()) if isinstance(features, dict) else [features]
    out = net.head(features)
    anchors = net.anchor_generator(batch, features)
    q = torch.sigmoid(out["cls_logits"])  # (N, A, C)
    if how.mc_samples == 1:
        samples = q[None]
    else:
        with mc_dropout():
            samples = torch.stack(
                [
                    torch.sigmoid(net.head.classification_head(features))
                    for _ in range(how.mc_samples)
                ]
            )  # (I, N, A, C)
    fcos = isinstance(net, FCOS)
    scores = torch.sqrt(q * torch.sigmoid(out["bbox_ctrness"])) if fcos else q
    results = []
    for n, size in enumerate(batch.image_sizes):
        flat = scores[n].flatten()
        candidates = torch.where(flat > how.score_threshold)[0]
        top = flat[candidates].topk(min(len(candidates), _CANDIDATES)).indices
        candidates = candidates[top]
        n_classes = scores.shape[-1]
        where, labels = candidates // n_classes, candidates % n_classes
        codes, points = out["bbox_regression"][n][where], anchors[n][where]
        boxes = (
            net.box_coder.decode(codes, points)
            if fcos
            else net.box_coder.decode_single(codes, points)
        )
        per_class = samples[:, n][:, where].permute(1, 2, 0)  # (K, C, I)
        background = torch.prod(1 - per_class, dim=1, keepdim=True)
        probs = torch.cat([per_class, background], dim=1)
        probs = probs / probs.sum(1, keepdim=True)
        results.append(_keep(boxes, labels, flat[candidates], probs, size, how))
    return results


def _two_stage(
    net: Any, images: list[torch.Tensor], how: Decoding
) -> list[dict[str, torch.Tensor]]:
    """Faster and Mask R-CNN: a softmax over the classes and background of every proposal."""
    batch, _ = net.transform(images)
    features = net.backbone(batch.tensors)
    proposals, _ = net.rpn(batch, features)
    heads = net.roi_heads
    box_features = heads.box_head(heads.box_roi_pool(features, proposals, batch.image_sizes))
    logits, codes = heads.box_predictor(box_features)
    if how.mc_samples == 1:
        samples = torch.softmax(logits, -1)[None]
    else:
        with mc_dropout():
            samples = torch.stack(
                [
                    torch.softmax(heads.box_predictor.cls_score(box_features), -1)
                    for _ in range(how.mc_samples)
                ]
            )  # (I, P, C + 1)
    probs_all = torch.softmax(logits, -1)
    boxes_all = heads.box_coder.decode(codes, proposals).reshape(len(codes), -1, 4)  # (P, C + 1, 4)
    results = []
    start = 0
    for props, size in zip(proposals, batch.image_sizes, strict=True):
        stop = start + len(props)
        scores = probs_all[start:stop, 1:]  # background is column 0
        n_classes = scores.shape[-1]
        flat = scores.flatten()
        candidates = torch.where(flat > how.score_threshold)[0]
        top = flat[candidates].topk(min(len(candidates), _CANDIDATES)).indices
        candidates = candidates[top]
        where, labels = candidates // n_classes, candidates % n_classes
        boxes = boxes_all[start:stop, 1:][where, labels]
        sampled = samples[:, start:stop][:, where].permute(1, 2, 0)  # (K, C + 1, I)
        probs = torch.cat([sampled[:, 1:], sampled[:, :1]], dim=1)
        results.append(_keep(boxes, labels, flat[candidates], probs, size, how))
        start = stop
    return results


def _keep(
    boxes: torch.Tensor,
    labels: torch.Tensor,
    scores: torch.Tensor,
    probs: torch.Tensor,
    size: tuple[int, int],
    how: Decoding,
) -> dict[str, torch.Tensor]:
    """The boxes clipped to the image, degenerate ones dropped, after per-class NMS."""
    from torchvision.ops import boxes as box_ops

    boxes = box_ops.clip_boxes_to_image(boxes, size)
    whole = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes, labels, scores, probs = boxes[whole], labels[whole], scores[whole], probs[whole]
    keep = box_ops.batched_nms(boxes, scores, labels, how.nms_threshold)[: how.max_detections]
    return {
        "boxes": boxes[keep],
        "labels": labels[keep],
        "scores": scores[keep],
        "probs": probs[keep],
    }
