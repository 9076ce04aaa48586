"""The default instance segmenter: a tiny FCOS with a mask head, or torchvision's Mask R-CNN."""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from . import _instance_nets as inets
from ._checks import check_fitted, check_images, check_mc_samples
from ._detection_inputs import check_target, pooled_features, resize
from ._detection_outputs import Decoding, detect
from ._params import check_detection
from ._torch import choose_device, fit_steps
from .base import (
    Cancelled,
    InstanceDetections,
    InstanceTarget,
    ParamsMixin,
    Progress,
    ShouldStop,
)

_PREDICT_BATCH = 16


class InstanceSegmenter(ParamsMixin):
    """An instance segmenter with MC dropout that keeps training between rounds.

    By default a tiny FCOS (the `Detector`'s, about 0.26 M parameters, one stride-8 level)
    with a class-agnostic mask head (about 30 k parameters) on its stride-4 and stride-8
    features: each object's box is cut out of those features (RoIAlign, 14x14), passes two
    3x3 convolutions and a 2x upsampling, then dropout and a 1x1 convolution to a 28x28 mask,
    which is pasted into the object's box. It is trained from scratch, boxes and masks together.
    Any torchvision Mask R-CNN can be named instead (``"maskrcnn_resnet50_fpn_v2"``...), with
    pretrained weights when they can be downloaded.

    Images are scaled, keeping their aspect ratio, so that their longest side is
    `longest_side` pixels; predicted boxes and masks come back at each image's own pixels.

    Training continues from the last fit's weights (`warm_start`): each `fit` trains a copy of
    the network and swaps it in when done, so a cancelled or failed fit keeps the previous
    model. The parameters follow scikit-learn's conventions (`get_params`, `set_params`,
    `al_widget.learners.clone`).

    **Uncertainty.** Dropout layers sit before the class logits and before the mask
    logits; with ``mc_samples = I > 1`` the boxes come from one deterministic pass and each
    object's class probabilities and mask from I passes of those layers with dropout (MC
    dropout): what MaskAL's semantic, spatial and occurrence uncertainty are computed from.

    Parameters
    ----------
    n_classes : int
        The number of classes C, at least 1; labels are class ids in ``0 .. C - 1``.
    model : str, default "tiny_maskfcos"
        "tiny_maskfcos", or a torchvision Mask R-CNN name as ``torchvision.models.get_model``
        takes it ("maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_v2"). Its class and mask
        predictors are replaced when its number of classes differs from `n_classes`.
    weights : str or path, optional
        For a torchvision model: the name of its pretrained weights ("DEFAULT", "COCO_V1"...),
        downloaded into torch's hub cache on the first fit, or the path of a state dict file
        saved from that model. None (the default) trains from scratch. For "tiny_maskfcos":
        None, or a state dict saved from ``net_``.
    longest_side : int, default 128
        The length in pixels of the longest side of every image as the network sees it.
    epochs : int, default 20
        Passes over the labeled images per fit, before `min_steps` and `max_steps` apply.
    min_steps : int, default 100
        The fewest optimizer steps per fit.
    max_steps : int, default 300
        The most optimizer steps per fit; it wins over `min_steps` when smaller.
    batch_size : int, default 4
        Images per optimizer step (all of them when fewer are labeled).
    lr : float, default 2e-3
        Peak learning rate of AdamW; each fit warms up linearly, then decays on a cosine.
    weight_decay : float, default 1e-4
        AdamW's weight decay.
    dropout : float, default 0.1
        Dropout probability of both MC dropout layers, in [0, 1).
    hflip : bool, default True
        Flip half of the training images left to right (with their boxes and masks).
    score_threshold : float, default 0.3
        Objects scoring at most this are left out, in [0, 1).
    nms_threshold : float, default 0.5
        Boxes of one class overlapping a better one by more than this IoU are left out.
    max_detections : int, default 100
        The most objects per image.
    warm_start : bool, default True
        Each fit continues from the last fit's network. False: each fit trains a new one.
    download_timeout : float, default 30.0
        Seconds to wait for the weights server before giving up.
    device : str or torch.device, optional
        Where to train and predict; None: the GPU when torch sees one, else the CPU.
    seed : int, default 0
        Seeds the weights, batch order and flips; fit number k (from 0) uses ``seed + k``.

    Attributes
    ----------
    net_ : torch.nn.Module
        The trained network, in eval mode.
    device_ : torch.device
        The device `net_` lives on.
    n_fits_ : int
        How many fits completed.
    steps_ : int
        Optimizer steps the last fit took.
    """

    task = "instances"

    def __init__(
        self,
        n_classes: int,
        *,
        model: str = inets.TINY,
        weights: str | os.PathLike[str] | None = None,
        longest_side: int = 128,
        epochs: int = 20,
        min_steps: int = 100,
        max_steps: int = 300,
        batch_size: int = 4,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
        dropout: float = 0.1,
        hflip: bool = True,
        score_threshold: float = 0.3,
        nms_threshold: float = 0.5,
        max_detections: int = 100,
        warm_start: bool = True,
        download_timeout: float = 30.0,
        device: str | torch.device | None = None,
        seed: int = 0,
    ) -> None:
        self.n_classes = n_classes
        self.model = model
        self.weights = weights
        self.longest_side = longest_side
        self.epochs = epochs
        self.min_steps = min_steps
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.hflip = hflip
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_detections = max_detections
        self.warm_start = warm_start
        self.download_timeout = download_timeout
        self.device = device
        self.seed = seed

    def _check_params(self) -> None:
        check_detection(self)

    def fit(
        self,
        images: Sequence[np.ndarray],
        targets: Sequence[InstanceTarget],
        progress: Progress = lambda fraction: None,
        should_stop: ShouldStop = lambda: False,
    ) -> InstanceSegmenter:
        """Train on the images and their objects; the fitted state changes only when training completes.

        Parameters
        ----------
        images : sequence of numpy.ndarray
            (H_i, W_i, 3) uint8 RGB images, at least one; sizes may differ.
        targets : sequence of dict
            Per image, ``{"boxes": (K, 4) xyxy, "labels": (K,) class ids in 0 .. n_classes - 1,
            "masks": (K, H_i, W_i) bool or uint8}``; K may be 0.
        progress : callable, optional
            Called with the fraction of training done after every step.
        should_stop : callable, optional
            Asked before every step; when it returns True, training stops with `Cancelled`.

        Returns
        -------
        InstanceSegmenter
            self, fitted.

        Raises
        ------
        Cancelled
            When `should_stop()` returned True; the previous fit (if any) is kept.
        ValueError
            For an invalid parameter, or images and targets that do not match.
        """
        self._check_params()
        check_images(images)
        if len(images) == 0 or len(images) != len(targets):
            raise ValueError(
                f"need one target per image and at least one image, got {len(images)} images "
                f"and {len(targets)} targets"
            )
        checked = [
            (
                *check_target(t, image.shape[:2], self.n_classes, k),
                _check_masks(t, image.shape[:2], k),
            )
            for k, (image, t) in enumerate(zip(images, targets, strict=True))
        ]
        device = choose_device(self.device)
        previous = getattr(self, "net_", None) if self.warm_start else None
        n_fits = getattr(self, "n_fits_", 0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + n_fits)
            net = self._build() if previous is None else copy.deepcopy(previous)
            net = net.to(device)
            offset = 0 if isinstance(net, inets.TinyMaskFcos) else 1
            samples = []
            for image, (xyxy, ids, masks) in zip(images, checked, strict=True):
                resized, scale = resize(image, self.longest_side, device)
                small = torch.from_numpy(masks).to(device)[:, None].float()
                if len(masks):
                    small = F.interpolate(small, size=resized.shape[-2:], mode="nearest")
                else:
                    small = small.new_zeros((0, 1, *resized.shape[-2:]))
                samples.append(
                    (
                        resized.mul_(255).round_().to(torch.uint8),
                        torch.as_tensor(xyxy * scale, dtype=torch.float32, device=device),
                        torch.as_tensor(ids + offset, device=device),
                        small[:, 0].to(torch.uint8),
                    )
                )
            rng = np.random.default_rng(self.seed + n_fits)
            steps = self._train(net, samples, rng, progress, should_stop)
        net.eval()
        self.net_, self.device_, self.n_fits_, self.steps_ = net, device, n_fits + 1, steps
        return self

    def _build(self) -> torch.nn.Module:
        return inets.build(
            self.model, self.weights, self.n_classes, self.dropout, self.download_timeout
        )

    def _train(
        self,
        net: torch.nn.Module,
        samples: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]],
        rng: np.random.Generator,
        progress: Progress,
        should_stop: ShouldStop,
    ) -> int:
        n = len(samples)
        batch = min(self.batch_size, n)
        steps = fit_steps(n, batch, self.epochs, self.min_steps, self.max_steps)
        warmup = max(1, min(50, steps // 5))

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            done = (step - warmup) / max(1, steps - warmup)
            return max(0.05, 0.5 * (1 + math.cos(math.pi * done)))

        parameters = [p for p in net.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            parameters, lr=self.lr, weight_decay=self.weight_decay, foreach=True
        )
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        net.train()
        order, cursor = rng.permutation(n), 0
        for step in range(steps):
            if should_stop():
                raise Cancelled(f"training stopped at step {step} of {steps}")
            if cursor + batch > n:
                order, cursor = rng.permutation(n), 0
            picked = order[cursor : cursor + batch]
            cursor += batch
            flips = rng.random(batch) < 0.5 if self.hflip else np.zeros(batch, bool)
            inputs, targets = [], []
            for i, flip in zip(picked, flips, strict=True):
                pixels, xyxy, labels, masks = samples[i]
                image = pixels.float().div_(255)
                if flip:
                    width = image.shape[-1]
                    image, masks = image.flip(-1), masks.flip(-1)
                    xyxy = torch.stack(
                        [width - xyxy[:, 2], xyxy[:, 1], width - xyxy[:, 0], xyxy[:, 3]], 1
                    )
                inputs.append(image)
                targets.append({"boxes": xyxy, "labels": labels, "masks": masks})
            loss = sum(inets.losses(net, inputs, targets).values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[union-attr]
            torch.nn.utils.clip_grad_norm_(parameters, 10.0)
            optimizer.step()
            schedule.step()
            progress((step + 1) / steps)
        return steps

    @torch.no_grad()
    def predict(
        self, images: Sequence[np.ndarray], mc_samples: int = 1
    ) -> list[InstanceDetections]:
        """Objects with their boxes, masks, labels, scores and MC samples, one dict per image.

        Parameters
        ----------
        images : sequence of numpy.ndarray
            (H_i, W_i, 3) uint8 RGB images; sizes may differ, and there may be none.
        mc_samples : int, default 1
            I, the samples of each object's class probabilities and mask: 1 for one
            deterministic pass, more for MC dropout samples.

        Returns
        -------
        list of dict
            Per image, with K objects, best first: ``"boxes"`` float32 (K, 4) xyxy in the
            image's pixels; ``"labels"`` int64 (K,) class ids; ``"scores"`` float32 (K,);
            ``"probs"`` float64 (K, C + 1, I), summing to 1 over the C classes and the
            background (last); ``"masks"`` bool (K, H_i, W_i), each object's pixels;
            ``"mask_samples"`` bool (K, I, 28, 28), each sample's mask on a grid over the
            object's box (the same grid for all of one object's samples).

        Raises
        ------
        RuntimeError
            When the model has not been fitted.
        """
        net = check_fitted(self, "net_")
        check_mc_samples(mc_samples)
        check_images(images)
        how = Decoding(
            float(self.score_threshold),
            float(self.nms_threshold),
            int(self.max_detections),
            int(mc_samples),
        )
        out: list[InstanceDetections] = []
        for start in range(0, len(images), _PREDICT_BATCH):
            chunk = images[start : start + _PREDICT_BATCH]
            resized = [resize(image, self.longest_side, self.device_) for image in chunk]
            xs = [x for x, _ in resized]
            found = detect(inets.detector_of(net), xs, how)
            boxes = [f["boxes"] for f in found]
            logits, drawn = inets.mask_logits(
                net, xs, boxes, [f["labels"] for f in found], int(mc_samples)
            )
            begin = 0
            for image, (_, scale), result in zip(chunk, resized, found, strict=True):
                k = len(result["boxes"])
                out.append(
                    _to_image(
                        result,
                        torch.sigmoid(logits[begin : begin + k]),
                        drawn[begin : begin + k] >= 0,
                        scale,
                        image.shape[:2],
                    )
                )
                begin += k
        return out

    @torch.no_grad()
    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Pooled backbone features, one row per image (as `Detector.embed`): what the batch
        selectors (``coreset``, ``cluster_margin``, ``badge``) measure distances on.

        Parameters
        ----------
        images : sequence of numpy.ndarray
            (H_i, W_i, 3) uint8 RGB images.

        Returns
        -------
        numpy.ndarray
            (n images, d) float32.
        """
        net = check_fitted(self, "net_")
        check_images(images)
        return pooled_features(inets.detector_of(net), images, self.longest_side, self.device_)


def _to_image(
    result: dict[str, torch.Tensor],
    mask_probs: torch.Tensor,
    samples: torch.Tensor,
    scale: float,
    size: tuple[int, int],
) -> InstanceDetections:
    """Objects at the network's scale as numpy arrays in the image's pixels."""
    height, width = size
    boxes = (result["boxes"] / scale).cpu()
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, width)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, height)
    whole = ((boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])).numpy()
    masks = inets.paste(mask_probs.cpu(), boxes, size).numpy()
    probs = result["probs"].cpu().numpy().astype(np.float64)[whole]
    return {
        "boxes": boxes.numpy().astype(np.float32)[whole],
        "labels": result["labels"].cpu().numpy().astype(np.int64)[whole],
        "scores": result["scores"].cpu().numpy().astype(np.float32)[whole],
        "probs": probs / probs.sum(1, keepdims=True),
        "masks": masks[whole],
        "mask_samples": samples.cpu().numpy()[whole],
    }


def _check_masks(target: InstanceTarget, size: tuple[int, int], k: int) -> np.ndarray:
    """An image's object masks as (K, H, W) bool, checked against its boxes and size."""
    if "masks" not in target:
        raise ValueError(f"target {k} must have 'masks' ((K, H, W), one per box)")
    masks = np.asarray(target["masks"])
    n = len(np.asarray(target["boxes"]).reshape(-1, 4))
    if masks.size == 0 and n == 0:
        return np.zeros((0, *size), bool)
    if masks.shape != (n, *size) or masks.dtype.kind not in "biu":
        raise ValueError(
            f"target {k}: masks must be ({n}, {size[0]}, {size[1]}) bool or uint8 (one per box, "
            f"at the image's size), got {masks.shape} {masks.dtype}"
        )
    return masks.astype(bool)
