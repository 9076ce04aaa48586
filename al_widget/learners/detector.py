"""The default detector: a tiny FCOS trained from scratch, or any torchvision detection model.

Its inputs' checks, the resize and the pooled features of `embed`, which the `InstanceSegmenter`
shares, are in ``_detection_inputs.py``.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from . import _detection_nets as nets
from . import _frozen as frozen
from ._checks import check_fitted, check_images, check_mc_samples
from ._detection_inputs import check_target, pooled_features, resize
from ._detection_outputs import Decoding, detect
from ._params import check_detection
from ._torch import choose_device, fit_steps
from .base import BoxTarget, Cancelled, Detections, ParamsMixin, Progress, ShouldStop

_PREDICT_BATCH = 16


class Detector(ParamsMixin):
    """An object detector with MC dropout that keeps training between rounds.

    By default a tiny FCOS (about 0.26 M parameters: six 3x3 convolutions from 32 to 64
    channels down to one stride-8 feature map, and a two-convolution FCOS head) trained from
    scratch; it learns simple objects in well under a minute on a CPU. Any torchvision
    detection model of the FCOS, RetinaNet, Faster R-CNN or Mask R-CNN families can be named
    instead, with pretrained weights when they can be downloaded.

    Each image is scaled, keeping its aspect ratio, so that its longest side is
    `longest_side` pixels; a batch is padded to its largest image. Predicted boxes are mapped
    back to each image's own pixels, so images of different sizes can be mixed in one call.

    Training continues from the last fit's weights (`warm_start`): each `fit` trains a copy
    of the network for a bounded number of steps and swaps it in when done, so a cancelled or
    failed fit keeps the previous model. The parameters follow scikit-learn's conventions:
    they are stored as given and checked by `fit`; `get_params`, `set_params` and
    `al_widget.learners.clone` work on them.

    **Class probabilities.** For FCOS and RetinaNet, the network gives every box an
    independent sigmoid score q_c per class, at the location the box comes from. The box's
    distribution over the C classes and the background is
    ``[q_1, ..., q_C, prod_c (1 - q_c)]`` normalised to sum to 1: the background weighs as
    much as "no class at all". For Faster and Mask R-CNN it is the network's own softmax over
    the classes and the background (moved from the first column to the last). A box's
    `label` is its class and its `score` the network's detection score: for FCOS
    ``sqrt(q_c * centerness)``, else q_c or the softmax probability.

    **Uncertainty.** A dropout layer sits before the layer that gives the class logits; it
    is active while training and, when ``mc_samples > 1``, while sampling. With
    ``mc_samples = I > 1`` the boxes, labels and scores come from one deterministic pass and
    each box's probabilities from I passes of the classification layers with dropout (MC
    dropout); with 1 everything is deterministic.

    Parameters
    ----------
    n_classes : int
        The number of classes C, at least 1; box labels are class ids in ``0 .. C - 1``.
    model : str, default "tiny_fcos"
        "tiny_fcos", or the name of a torchvision detection model, as
        ``torchvision.models.get_model`` takes it, such as
        "fasterrcnn_mobilenet_v3_large_320_fpn" or "fcos_resnet50_fpn". Its class predictor
        is replaced when its number of classes differs from `n_classes`. Or
        "frozen_resnet18" / "frozen_mobilenet_v3_large": a light FCOS head (one stride-16
        level) trained each round on that ImageNet backbone, which is frozen and whose features
        are cached per input, so that later epochs and rounds run the head only.
    weights : str or path, optional
        For a torchvision model: the name of its pretrained weights ("DEFAULT", "COCO_V1"...),
        downloaded into torch's hub cache on the first fit, or the path of a state dict file
        (``.pt``/``.pth``) saved from that model. None (the default) trains from scratch, the
        backbone included. For "tiny_fcos": None, or a state dict saved from ``net_``. For a
        frozen backbone: "DEFAULT" (ImageNet; random weights with a warning when they cannot
        be fetched), None (random), or the path of a state dict of torchvision's classification
        model of that name.
    longest_side : int, default 160
        The length in pixels of the longest side of every image as the network sees it.
    epochs : int, default 20
        Passes over the labeled images per fit, before `min_steps` and `max_steps` apply.
    min_steps : int, default 100
        The fewest optimizer steps per fit.
    max_steps : int, default 300
        The most optimizer steps per fit, which bounds a round's time; it wins over
        `min_steps` when smaller.
    batch_size : int, default 4
        Images per optimizer step (all of them when fewer are labeled).
    lr : float, default 2e-3
        Peak learning rate of AdamW; each fit warms up linearly, then decays on a cosine.
    weight_decay : float, default 1e-4
        AdamW's weight decay.
    dropout : float, default 0.1
        Dropout probability before the class logits, in [0, 1).
    hflip : bool, default True
        Flip half of the training images left to right (with their boxes).
    score_threshold : float, default 0.3
        Detections scoring at most this are left out, in [0, 1).
    nms_threshold : float, default 0.5
        Boxes of one class overlapping a better one by more than this IoU are left out.
    max_detections : int, default 100
        The most detections per image.
    warm_start : bool, default True
        Each fit continues from the last fit's network. False: each fit trains a new one.
    download_timeout : float, default 30.0
        Seconds to wait for the weights server before giving up.
    device : str or torch.device, optional
        Where to train and predict, such as ``"cpu"`` or ``"cuda:1"``. None: the GPU when
        torch sees one, else the CPU; chosen at each fit.
    seed : int, default 0
        Seeds the weights, batch order and flips; fit number k (from 0) uses ``seed + k``.

    Attributes
    ----------
    net_ : torch.nn.Module
        The trained torchvision detection network, in eval mode.
    device_ : torch.device
        The device `net_` lives on.
    n_fits_ : int
        How many fits completed.
    steps_ : int
        Optimizer steps the last fit took.

    Examples
    --------
    >>> data = al_widget.datasets.shapes(200)
    >>> targets = [{"boxes": b.xyxy, "labels": b.class_ids(data.classes)} for b in data.boxes]
    >>> model = Detector(3, max_steps=50).fit(list(data.images), targets)
    >>> model
    Detector(n_classes=3, max_steps=50)
    >>> found = model.predict(list(data.images[:2]), mc_samples=4)
    >>> found[0]["probs"].shape[1:]
    (4, 4)
    """

    task = "detect"

    net_: nn.Module
    device_: torch.device
    n_fits_: int
    steps_: int

    def __init__(
        self,
        n_classes: int,
        *,
        model: str = nets.TINY,
        weights: str | os.PathLike[str] | None = None,
        longest_side: int = 160,
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

    def _build(self) -> nn.Module:
        """A new network as the parameters describe it."""
        if frozen.is_frozen(self.model):
            return frozen.fcos(
                self.model, self.weights, self.n_classes, self.dropout, self.download_timeout
            )
        if self.model != nets.TINY:
            return nets.named(
                self.model,
                self.weights,
                self.n_classes,
                self.dropout,
                self.download_timeout,
            )
        net = nets.tiny_fcos(self.n_classes, self.dropout)
        if self.weights is not None:
            state = torch.load(os.fspath(self.weights), map_location="cpu", weights_only=True)
            net.load_state_dict(state)
        return net

    def fit(
        self,
        images: Sequence[np.ndarray],
        targets: Sequence[BoxTarget],
        progress: Progress = lambda fraction: None,
        should_stop: ShouldStop = lambda: False,
    ) -> Detector:
        """Train on the images and their boxes; the fitted state changes only when training completes.

        Parameters
        ----------
        images : sequence of numpy.ndarray
            (H_i, W_i, 3) uint8 RGB images, at least one; sizes may differ.
        targets : sequence of dict
            Per image, ``{"boxes": (K, 4) xyxy in that image's pixels, "labels": (K,) class
            ids in 0 .. n_classes - 1}``; K may be 0.
        progress : callable, optional
            Called with the fraction of training done after every step.
        should_stop : callable, optional
            Asked before every step; when it returns True, training stops with `Cancelled`.

        Returns
        -------
        Detector
            self, fitted.

        Raises
        ------
        Cancelled
            When `should_stop()` returned True; the previous fit (if any) is kept.
        ValueError
            For an invalid parameter, or images and targets that do not match.
        RuntimeError
            When pretrained weights were asked for and cannot be downloaded; the message
            names the alternatives.
        """
        self._check_params()
        check_images(images)
        if len(images) == 0 or len(images) != len(targets):
            raise ValueError(
                f"need one target per image and at least one image, got {len(images)} images "
                f"and {len(targets)} targets"
            )
        checked = [
            check_target(t, image.shape[:2], self.n_classes, k)
            for k, (image, t) in enumerate(zip(images, targets, strict=True))
        ]
        device = choose_device(self.device)
        previous = getattr(self, "net_", None) if self.warm_start else None
        n_fits = getattr(self, "n_fits_", 0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + n_fits)
            net = self._build() if previous is None else copy.deepcopy(previous)
            net = net.to(device)
            offset = 1 if nets.family_of(net) == nets.TWO_STAGE else 0
            pixels, boxes = [], []
            for image, (xyxy, _) in zip(images, checked, strict=True):
                resized, scale = resize(image, self.longest_side, device)
                pixels.append(resized.mul_(255).round_().to(torch.uint8))
                boxes.append(torch.as_tensor(xyxy * scale, dtype=torch.float32, device=device))
            labels = [torch.as_tensor(ids + offset, device=device) for _, ids in checked]
            rng = np.random.default_rng(self.seed + n_fits)
            steps = self._train(net, pixels, boxes, labels, rng, progress, should_stop)
        net.eval()
        self.net_, self.device_, self.n_fits_, self.steps_ = net, device, n_fits + 1, steps
        return self

    def _train(
        self,
        net: nn.Module,
        pixels: list[torch.Tensor],
        boxes: list[torch.Tensor],
        labels: list[torch.Tensor],
        rng: np.random.Generator,
        progress: Progress,
        should_stop: ShouldStop,
    ) -> int:
        n = len(pixels)
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
                image, xyxy = pixels[i].float().div_(255), boxes[i]
                if flip:
                    width = image.shape[-1]
                    image = image.flip(-1)
                    xyxy = torch.stack(
                        [width - xyxy[:, 2], xyxy[:, 1], width - xyxy[:, 0], xyxy[:, 3]], 1
                    )
                inputs.append(image)
                targets.append({"boxes": xyxy, "labels": labels[i]})
            losses = net(inputs, targets)
            loss = sum(losses.values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 10.0)
            optimizer.step()
            schedule.step()
            progress((step + 1) / steps)
        return steps

    @torch.no_grad()
    def predict(self, images: Sequence[np.ndarray], mc_samples: int = 1) -> list[Detections]:
        """Boxes with their labels, scores and class probabilities, one dict per image.

        Parameters
        ----------
        images : sequence of numpy.ndarray
            (H_i, W_i, 3) uint8 RGB images; sizes may differ, and there may be none.
        mc_samples : int, default 1
            I, the samples of each box's class probabilities: 1 for one deterministic pass,
            more for MC dropout samples (see the class docstring).

        Returns
        -------
        list of dict
            Per image, ``"boxes"``: float32 (K, 4) xyxy in that image's pixels, inside it and
            of positive area; ``"labels"``: int64 (K,) class ids; ``"scores"``: float32 (K,)
            in (score_threshold, 1], best first; ``"probs"``: float64 (K, C + 1, I),
            summing to 1 over the C classes and the background (last).

        Raises
        ------
        RuntimeError
            When the detector has not been fitted.
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
        out: list[Detections] = []
        for start in range(0, len(images), _PREDICT_BATCH):
            chunk = images[start : start + _PREDICT_BATCH]
            resized = [resize(image, self.longest_side, self.device_) for image in chunk]
            found = detect(net, [x for x, _ in resized], how)
            for image, (_, scale), result in zip(chunk, resized, found, strict=True):
                out.append(_to_image(result, scale, image.shape[:2]))
        return out

    @torch.no_grad()
    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Pooled backbone features, one row per image: the mean of each feature map (each FPN
        level) over its pixels, levels side by side. What the batch selectors (``coreset``,
        ``cluster_margin``, ``badge``) measure distances on.

        Parameters
        ----------
        images : sequence of numpy.ndarray
            (H_i, W_i, 3) uint8 RGB images (an (N, H, W, 3) array works too).

        Returns
        -------
        numpy.ndarray
            (n images, d) float32.
        """
        net = check_fitted(self, "net_")
        check_images(images)
        return pooled_features(net, images, self.longest_side, self.device_)


def _to_image(result: dict[str, torch.Tensor], scale: float, size: tuple[int, int]) -> Detections:
    """Detections at the network's scale as numpy arrays in the image's pixels."""
    height, width = size
    boxes = result["boxes"].cpu().numpy().astype(np.float32) / np.float32(scale)
    boxes = np.clip(boxes, 0, np.array([width, height, width, height], np.float32))
    whole = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    probs = result["probs"].cpu().numpy().astype(np.float64)[whole]
    return {
        "boxes": boxes[whole],
        "labels": result["labels"].cpu().numpy().astype(np.int64)[whole],
        "scores": result["scores"].cpu().numpy().astype(np.float32)[whole],
        "probs": probs / probs.sum(1, keepdims=True),
    }
