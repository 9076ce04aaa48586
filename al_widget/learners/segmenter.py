"""The default segmentation learner: a small U-Net with MC dropout in its head, or a torchvision model.

Its images are checked, resized and normalised by ``_segmentation_images.py``; its pooled features
(`embed`) are its base class's, in ``_segmenter_embedding.py``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._numbers import check_int
from ..annotations import IGNORE, unknown_class_value
from . import _frozen as frozen
from ._checks import check_fitted, check_image, check_mc_samples, check_not_one_image
from ._params import check_training
from ._segmentation_images import normalise_pixels, resize_image
from ._segmentation_nets import (
    UNET,
    UNet,
    class_logits,
    load_matching,
    net_part,
    sampling_head,
    torchvision_model,
)
from ._segmenter_embedding import SegmenterEmbeddingMixin
from ._torch import choose_device, fit_steps
from ._weights import is_path, read_state_dict
from .base import Cancelled, ParamsMixin, Progress, ShouldStop


class Segmenter(SegmenterEmbeddingMixin, ParamsMixin):
    """A per-pixel classifier with MC dropout: a small U-Net by default, or a torchvision model.

    The default network is a U-Net of width 8 (three levels, batch norm, about 0.12 M
    parameters) trained from scratch: on a CPU it learns simple scenes in a minute or two,
    where larger models without pretrained weights still predict background everywhere.
    Every image is resized to ``input_size`` by ``input_size`` (the aspect ratio is not kept),
    for training and prediction alike; the probabilities come at that working resolution.
    For MC dropout, the network runs once and only its head (dropout and the last layer) is
    sampled `mc_samples` times, so sampling costs little.

    Each `fit` trains on every label given. With `warm_start` (the default) it goes on from
    the previous fit's weights; either way the new weights are trained on a copy and replace
    the fitted ones only when training completes, so a cancelled or failed fit keeps the
    previous model. The parameters follow scikit-learn's conventions: they are stored as given
    and checked by `fit`; `get_params`, `set_params` and `al_widget.learners.clone` work on
    them.

    Parameters
    ----------
    n_classes : int
        The number of classes C, 2 to 255, class 0 the background; targets hold class ids
        in ``0 .. C - 1``, or ``al_widget.Mask.IGNORE`` (255) where a pixel is not labeled:
        the loss leaves those out.
    model : str, default "unet"
        "unet" for the small U-Net, or the name of a torchvision segmentation model, such as
        "lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large" or "fcn_resnet50" (see
        ``torchvision.models.list_models(module=torchvision.models.segmentation)``). Its last
        layers get C outputs. Or "frozen_resnet18" / "frozen_mobilenet_v3_large": a light
        head trained each round on that ImageNet backbone at stride 16, frozen, its features
        cached per input (`weights` as for the Detector's frozen backbones: "DEFAULT", None
        or a classification state dict); give it an `input_size` of 128 or more.
    weights : str or path-like, optional
        The initial weights. None: random (torchvision models get no pretrained backbone
        either). A torchvision weights name for `model` such as "DEFAULT" or
        "COCO_WITH_VOC_LABELS_V1": downloaded once into torch's cache (``$TORCH_HOME``), the
        class layers replaced by new ones for C classes. A path (`pathlib.Path`, or a string
        with a path separator or ending in ``.pt`` / ``.pth``): a state dict of the same
        architecture, for instance saved from a fitted Segmenter's ``net_``; class layers of
        another number of classes are replaced. Used by the first fit, and by every fit
        without `warm_start`.
    width : int, default 8
        The U-Net's channels at full resolution (doubling at each of its three levels below).
        Only for the U-Net.
    dropout : float, default 0.1
        Probability of the channel dropout (`torch.nn.Dropout2d`) on the features entering
        the head, in [0, 1); what `predict_proba` samples when ``mc_samples > 1``. A
        torchvision head's own dropout layers are sampled too.
    input_size : int, default 64
        The side of the square working resolution every image is resized to. The U-Net sees
        about 70 pixels around each pixel: objects much larger than that at the working
        resolution are learned far more slowly (on 128-pixel shapes, a 64 working size
        learns several times faster per CPU-second than 128).
    epochs : int, default 20
        Passes over the labeled images per fit, before `min_steps` and `max_steps` apply.
    min_steps : int, default 150
        The fewest optimizer steps per fit, so that small label sets still train enough.
    max_steps : int, default 400
        The most optimizer steps per fit, which bounds a round's time; it wins over
        `min_steps` when smaller.
    batch_size : int, default 8
        Images per optimizer step (all of them when fewer are labeled).
    lr : float, default 1e-2
        Peak learning rate of AdamW under a one-cycle schedule.
    weight_decay : float, default 1e-4
        AdamW's weight decay.
    flip : bool, default True
        Flip training images (and their class maps) left-right at random.
    warm_start : bool, default True
        Go on training the previous fit's network; when False, or when the architecture
        parameters changed since, a fit starts from `weights`.
    download_timeout : float, default 30.0
        Seconds to wait for the weights server before giving up (there is no retry).
    device : str or torch.device, optional
        Where to train and predict, such as ``"cpu"`` or ``"cuda:1"``. None: the GPU when
        torch sees one, else the CPU; chosen at each fit.
    seed : int, default 0
        Seeds the weights, batch order and flips; fit number k (from 0) uses ``seed + k``.

    Attributes
    ----------
    net_ : torch.nn.Module
        The trained network: a `UNet`, or the torchvision model (without its auxiliary head).
    device_ : torch.device
        The device `net_` lives on.
    input_size_ : tuple of (int, int)
        The (height, width) working resolution of the last fit.
    n_fits_ : int
        How many fits completed; the next fit is seeded with ``seed + n_fits_``.
    n_steps_ : int
        Optimizer steps of the last fit.

    Examples
    --------
    >>> data = al_widget.datasets.shapes(64, task="segment")
    >>> maps = [mask.class_map for mask in data.masks]
    >>> model = Segmenter(4, max_steps=50).fit(list(data.images), maps)
    >>> probs = model.predict_proba(list(data.images[:2]), mc_samples=8)
    >>> len(probs), probs[0].shape
    (2, (4, 64, 64, 8))
    """

    task = "segment"

    net_: nn.Module
    device_: torch.device
    input_size_: tuple[int, int]
    n_fits_: int
    n_steps_: int

    def __init__(
        self,
        n_classes: int,
        *,
        model: str = UNET,
        weights: str | os.PathLike[str] | None = None,
        width: int = 8,
        dropout: float = 0.1,
        input_size: int = 64,
        epochs: int = 20,
        min_steps: int = 150,
        max_steps: int = 400,
        batch_size: int = 8,
        lr: float = 1e-2,
        weight_decay: float = 1e-4,
        flip: bool = True,
        warm_start: bool = True,
        download_timeout: float = 30.0,
        device: str | torch.device | None = None,
        seed: int = 0,
    ) -> None:
        self.n_classes = n_classes
        self.model = model
        self.weights = weights
        self.width = width
        self.dropout = dropout
        self.input_size = input_size
        self.epochs = epochs
        self.min_steps = min_steps
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.flip = flip
        self.warm_start = warm_start
        self.download_timeout = download_timeout
        self.device = device
        self.seed = seed

    # -- fitting -------------------------------------------------------------------------------

    def fit(
        self,
        images: Sequence[np.ndarray],
        targets: Sequence[np.ndarray],
        progress: Progress = lambda fraction: None,
        should_stop: ShouldStop = lambda: False,
    ) -> Segmenter:
        """Train on images and their class maps; the fitted state changes only when training completes.

        Parameters
        ----------
        images : sequence of numpy.ndarray
            (H_i, W_i, 3) uint8 RGB images, at least one; sizes may differ (an (N, H, W, 3)
            array works too).
        targets : sequence of numpy.ndarray
            Per image, its (H_i, W_i) class map of ids in ``0 .. n_classes - 1`` (or a
            `al_widget.Mask`); pixels holding ``Mask.IGNORE`` (255) are not trained on.
        progress : callable, optional
            Called with the fraction of training done after every step, ending with 1.0.
        should_stop : callable, optional
            Asked before every step (and while downloading weights); when it returns True,
            training stops with `Cancelled`.

        Returns
        -------
        Segmenter
            self, fitted.

        Raises
        ------
        Cancelled
            When `should_stop()` returned True; the previous fit (if any) is kept.
        ValueError
            For an invalid parameter, or images and targets that do not match.
        RuntimeError
            When pretrained `weights` cannot be fetched.
        """
        self._check_params()
        x, y = self._training_set(images, targets)
        device = choose_device(self.device)
        n_fits = getattr(self, "n_fits_", 0)
        previous = getattr(self, "net_", None)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + n_fits)
            if (
                self.warm_start
                and previous is not None
                and self._architecture() == getattr(self, "_architecture_", None)
            ):
                net = copy.deepcopy(previous)
            else:
                net = self._build(should_stop)
            net = net.to(device)
            steps = self._train(net, x, y, device, progress, should_stop)
        net.eval()
        self.net_, self.device_ = net, device
        self.input_size_ = (self.input_size, self.input_size)
        self.n_fits_, self.n_steps_ = n_fits + 1, steps
        self._architecture_ = self._architecture()
        return self

    def _check_params(self) -> None:
        check_int("n_classes", self.n_classes, 2)
        if self.n_classes > IGNORE:
            raise ValueError(
                f"n_classes must be at most {IGNORE} (class maps are uint8, {IGNORE} marking "
                f"pixels not labeled), got {self.n_classes}"
            )
        for name in ("width", "input_size", "epochs", "min_steps", "max_steps", "batch_size"):
            check_int(name, getattr(self, name), 1)
        check_int("seed", self.seed, None)
        if not isinstance(self.model, str) or not self.model:
            raise ValueError(
                f"model must be 'unet' or a torchvision model name, got {self.model!r}"
            )
        check_training(self)

    def _architecture(self) -> tuple[Any, ...]:
        """The parameters that shape the network: a warm start needs them unchanged."""
        return (self.model, self.n_classes, self.width, self.dropout)

    def _training_set(
        self, images: Sequence[np.ndarray], targets: Sequence[np.ndarray]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images as (N, 3, s, s) uint8 and class maps as (N, s, s) int64, s = input_size."""
        check_not_one_image(images)
        if len(images) != len(targets) or len(images) == 0:
            raise ValueError(
                f"need one class map per image and at least one image, got {len(images)} images "
                f"and {len(targets)} class maps"
            )
        size = (self.input_size, self.input_size)
        xs, ys = [], []
        for k, (image, target) in enumerate(zip(images, targets, strict=True)):
            array = check_image(np.asarray(image), k)  # any array-like image
            class_map = np.asarray(getattr(target, "class_map", target))
            if class_map.shape != array.shape[:2]:
                raise ValueError(
                    f"class map {k} has shape {class_map.shape} but its image is "
                    f"{array.shape[:2]} (H, W)"
                )
            if class_map.dtype.kind not in "iub":
                raise ValueError(
                    f"class map {k} must hold integer class ids, got {class_map.dtype}"
                )
            if class_map.min() < 0 or unknown_class_value(class_map, self.n_classes) is not None:
                raise ValueError(
                    f"class map {k} holds ids {class_map.min()}..{class_map.max()}, outside "
                    f"0..{self.n_classes - 1} (and {IGNORE}, not labeled)"
                )
            xs.append(resize_image(array, size).round().clamp_(0, 255).to(torch.uint8))
            t = torch.from_numpy(class_map.astype(np.uint8))[None, None].float()
            ys.append(F.interpolate(t, size=size, mode="nearest")[0, 0].long())
        return torch.cat(xs), torch.stack(ys)

    def _build(self, should_stop: ShouldStop) -> nn.Module:
        """A new network for `model`, with `weights` loaded."""
        if self.model == UNET:
            net: nn.Module = UNet(self.n_classes, self.width, self.dropout)
            if self.weights is not None:
                if not is_path(self.weights):
                    raise ValueError(
                        f"weights for the U-Net must be None or a path to a state dict, got "
                        f"{self.weights!r}; named pretrained weights exist for torchvision models "
                        "(model='lraspp_mobilenet_v3_large', ...)"
                    )
                load_matching(net, read_state_dict(self.weights), self.n_classes, str(self.weights))
            return net
        if frozen.is_frozen(self.model):
            return frozen.FrozenSegNet(
                self.model, self.weights, self.n_classes, self.dropout, self.download_timeout
            )
        return torchvision_model(
            self.model, self.weights, self.n_classes, self.download_timeout, should_stop
        )

    def _train(
        self,
        net: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        device: torch.device,
        progress: Progress,
        should_stop: ShouldStop,
    ) -> int:
        n = len(x)
        batch = min(self.batch_size, n)
        steps = fit_steps(n, batch, self.epochs, self.min_steps, self.max_steps)
        optimizer = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.lr, total_steps=steps)
        net.train()
        order, cursor = torch.randperm(n), 0
        for step in range(steps):
            if should_stop():
                raise Cancelled(f"training stopped at step {step} of {steps}")
            if cursor + batch > n:
                order, cursor = torch.randperm(n), 0
            picked = order[cursor : cursor + batch]
            cursor += batch
            xb, yb = x[picked].to(device), y[picked].to(device)
            if self.flip:
                flipped = torch.rand(batch) < 0.5
                xb[flipped] = xb[flipped].flip(-1)
                yb[flipped] = yb[flipped].flip(-1)
            features = net_part(net, "backbone")(normalise_pixels(xb))
            logits = class_logits(
                net, features, net_part(net, "classifier"), self.dropout, xb.shape[-2:]
            )
            # The mean over the labeled pixels; a batch without any is NaN with zero gradients.
            loss = F.cross_entropy(logits, yb, ignore_index=IGNORE)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            progress((step + 1) / steps)
        return steps

    # -- prediction ----------------------------------------------------------------------------

    @torch.no_grad()
    def predict_proba(
        self, images: Sequence[np.ndarray], mc_samples: int = 1, batch_size: int = 16
    ) -> list[np.ndarray]:
        """Per image, class probabilities (C, h, w, I) at the working resolution, I = mc_samples.

        Parameters
        ----------
        images : sequence of numpy.ndarray
            (H_i, W_i, 3) uint8 RGB images of any sizes (an (N, H, W, 3) array works too);
            each is resized to ``input_size_``.
        mc_samples : int, default 1
            With 1, one deterministic pass; with more, the head's dropout is sampled that many
            times on the same features (MC dropout).
        batch_size : int, default 16
            Images per forward pass.

        Returns
        -------
        list of numpy.ndarray
            One float32 array per image, shape (n_classes, h, w, mc_samples) with (h, w) =
            ``input_size_``, summing to 1 over the classes.
        """
        net = check_fitted(self, "net_")
        check_mc_samples(mc_samples)
        check_not_one_image(images)
        size = self.input_size_
        dropout = self._architecture_[3]  # as fitted, whatever set_params changed since
        sampler = sampling_head(net, dropout) if mc_samples > 1 else None
        out: list[np.ndarray] = []
        for start in range(0, len(images), batch_size):
            chunk = [
                check_image(np.asarray(image), start + k)
                for k, image in enumerate(images[start : start + batch_size])
            ]
            x = torch.cat([resize_image(image, size) for image in chunk]).to(self.device_)
            features = net_part(net, "backbone")(normalise_pixels(x))
            if sampler is None:
                probs = F.softmax(
                    class_logits(net, features, net_part(net, "classifier"), 0.0, size), 1
                )[..., None]
            else:
                probs = torch.stack(
                    [
                        F.softmax(class_logits(net, features, sampler, dropout, size), 1)
                        for _ in range(mc_samples)
                    ],
                    dim=-1,
                )
            out.extend(probs.float().cpu().numpy())
        return out
