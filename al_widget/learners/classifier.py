"""The default learner: a small CNN with dropout, trained from scratch on CPU in seconds."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._numbers import check_int
from . import _semi
from ._checks import check_fitted, check_mc_samples
from ._params import check_semi_supervised, check_training
from ._torch import choose_device, fit_steps
from .base import Cancelled, ParamsMixin, Progress, ShouldStop

HIDDEN = 128  # units of the head's hidden layer: the length of `Classifier.embed`'s vectors
MIN_UNLABELED = 1000  # fewer unlabeled images than this: a fit trains on the labels only


class _Net(nn.Module):
    def __init__(self, in_channels: int, n_classes: int, width: int, dropout: float) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Dropout(dropout / 2),
            nn.Linear(2 * width * 16, HIDDEN),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(HIDDEN, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Classifier(ParamsMixin):
    """A small CNN image classifier with MC dropout, trained from scratch in seconds on a CPU.

    Two convolution blocks and a dropout head. Each `fit` trains a new network, seeded with
    ``seed + n_fits_``, or with `warm_start` goes on training the last one.

    Semi-supervised (the default): a fit given at least 1,000 unlabeled images (``unlabeled=``;
    inside an `ActiveLoop`, a random sample of `unlabeled_sample` pool images each round) also
    learns from them, in the spirit of FixMatch (Sohn et al. 2020). The labeled images are
    weakly augmented (shifted); each unlabeled image the network predicts with probability at
    least `threshold` gets that class as the target of a strongly augmented view (rotated,
    sheared, rescaled, contrast changed, a square cut out). Such a fit always goes on training
    the previous network (warm start) for `max_steps` steps, so the model keeps what earlier
    rounds learned and a round stays within seconds on one CPU core. The pseudo-labels are
    training targets only: nothing is stored; `semi_supervised_` counts them. With
    ``semi_supervised=False`` (or fewer unlabeled images) the fit is the supervised one,
    unchanged. The network reads
    images scaled to `input_size` (by default the size of the images it is fitted on), as one
    channel when every image it is fitted on is gray. The parameters follow scikit-learn's
    conventions: they are stored as given and checked by `fit`; `get_params`, `set_params`
    and `al_widget.learners.clone` work on them.

    Parameters
    ----------
    n_classes : int
        The number of classes C, at least 2; targets are class ids in ``0 .. C - 1``.
    width : int, default 16
        Channels of the first convolution (the second has twice as many).
    epochs : int, default 40
        Passes over the labeled images per fit, before `min_steps` and `max_steps` apply.
    min_steps : int, default 150
        The fewest optimizer steps per fit, so that small label sets still train enough.
    max_steps : int, default 300
        The most optimizer steps per fit, which bounds a round's time; it wins over
        `min_steps` when smaller.
    batch_size : int, default 32
        Images per optimizer step (all of them when fewer are labeled).
    lr : float, default 5e-3
        Peak learning rate of AdamW under a one-cycle schedule.
    weight_decay : float, default 1e-4
        AdamW's weight decay.
    dropout : float, default 0.5
        Dropout probability of the head's last layer (half as much before the first); in
        [0, 1). It is what `predict_proba` samples when ``mc_samples > 1``.
    warm_start : bool, default False
        Go on training the previous fit's network instead of starting a new one; the image
        size and channels stay those the network was first fitted with. (A semi-supervised
        fit always does.)
    semi_supervised : bool, default True
        Learn from unlabeled images too, when a fit is given at least 1,000 (see above).
    threshold : float, default 0.95
        The confidence, in (0, 1], a prediction on an unlabeled image needs to become its
        pseudo-label.
    unlabeled_sample : int, default 2000
        How many unlabeled pool images the loop passes to each fit (a new random sample each
        round; fewer when the pool is smaller), when `semi_supervised`.
    input_size : tuple of (int, int), optional
        The (height, width) images are scaled to, for training and prediction. None: the
        size of the images `fit` gets.
    device : str or torch.device, optional
        Where to train and predict, such as ``"cpu"`` or ``"cuda:1"``. None: the GPU when
        torch sees one, else the CPU; chosen at each fit.
    seed : int, default 0
        Seeds the weights and the batch order; fit number k (from 0) uses ``seed + k``.

    Attributes
    ----------
    net_ : torch.nn.Module
        The trained network.
    device_ : torch.device
        The device `net_` lives on.
    gray_ : bool
        Whether the network reads one channel (the images it was fitted on were all gray).
    input_size_ : tuple of (int, int)
        The (height, width) the network was trained at; the loop loads the pool at this size.
    n_fits_ : int
        How many fits completed; the next fit is seeded with ``seed + n_fits_``.
    semi_supervised_ : dict or None
        What the last fit did with unlabeled images: ``{"unlabeled": images given,
        "pseudo_labels": how many of them were a confident target at least once,
        "threshold": threshold}``; None when it trained on the labels only.

    Examples
    --------
    >>> images, labels = al_widget.datasets.digits()
    >>> rgb = np.repeat(images[..., None], 3, axis=3)
    >>> model = Classifier(10, max_steps=50).fit(rgb[:100], labels[:100])
    >>> model
    Classifier(n_classes=10, max_steps=50)
    >>> model.predict_proba(rgb[:5], mc_samples=4).shape
    (5, 10, 4)
    """

    net_: _Net
    device_: torch.device
    gray_: bool
    input_size_: tuple[int, int]
    n_fits_: int
    semi_supervised_: dict[str, float] | None

    def __init__(
        self,
        n_classes: int,
        *,
        width: int = 16,
        epochs: int = 40,
        min_steps: int = 150,
        max_steps: int = 300,
        batch_size: int = 32,
        lr: float = 5e-3,
        weight_decay: float = 1e-4,
        dropout: float = 0.5,
        warm_start: bool = False,
        semi_supervised: bool = True,
        threshold: float = 0.95,
        unlabeled_sample: int = 2000,
        input_size: tuple[int, int] | None = None,
        device: str | torch.device | None = None,
        seed: int = 0,
    ) -> None:
        self.n_classes = n_classes
        self.width = width
        self.epochs = epochs
        self.min_steps = min_steps
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.warm_start = warm_start
        self.semi_supervised = semi_supervised
        self.threshold = threshold
        self.unlabeled_sample = unlabeled_sample
        self.input_size = input_size
        self.device = device
        self.seed = seed

    def _check_params(self) -> None:
        check_int("n_classes", self.n_classes, 2)
        for name in ("width", "epochs", "min_steps", "max_steps", "batch_size"):
            check_int(name, getattr(self, name), 1)
        check_semi_supervised(self)
        check_int("seed", self.seed, None)
        check_training(self)
        if self.input_size is not None and not (
            len(self.input_size) == 2
            and all(isinstance(n, (int, np.integer)) and n >= 1 for n in self.input_size)
        ):
            raise ValueError(
                f"input_size must be None or a (height, width) pair of positive ints, "
                f"got {self.input_size!r}"
            )

    def fit(
        self,
        images: np.ndarray,
        targets: np.ndarray,
        progress: Progress = lambda fraction: None,
        should_stop: ShouldStop = lambda: False,
        unlabeled: np.ndarray | None = None,
    ) -> Classifier:
        """Train on the images; the fitted state changes only when training completes.

        Parameters
        ----------
        images : numpy.ndarray
            (N, H, W, 3) uint8 images, N >= 1.
        targets : numpy.ndarray
            (N,) class ids in ``0 .. n_classes - 1``.
        progress : callable, optional
            Called with the fraction of training done, every 10 steps and at the end.
        should_stop : callable, optional
            Asked before every step; when it returns True, training stops with `Cancelled`.
        unlabeled : numpy.ndarray, optional
            (M, H, W, 3) uint8 images without labels; with `semi_supervised` and M >= 1000,
            the fit learns from them too (see the class docstring).

        Returns
        -------
        Classifier
            self, fitted.

        Raises
        ------
        Cancelled
            When `should_stop()` returned True; the previous fit (if any) is kept.
        ValueError
            For an invalid parameter, or images and targets that do not match.
        """
        self._check_params()
        targets = np.asarray(targets, dtype=np.int64)
        if len(images) != len(targets) or len(images) == 0:
            raise ValueError(
                f"need one target per image and at least one image, got {len(images)} and {len(targets)}"
            )
        if targets.min() < 0 or targets.max() >= self.n_classes:
            raise ValueError(
                f"targets must be class ids in 0..{self.n_classes - 1}, got {targets.min()}..{targets.max()}"
            )
        device = choose_device(self.device)
        semi = self.semi_supervised and unlabeled is not None and len(unlabeled) >= MIN_UNLABELED
        previous = getattr(self, "net_", None) if self.warm_start or semi else None
        if previous is None:
            gray = bool(
                (images[..., 0] == images[..., 1]).all()
                and (images[..., 1] == images[..., 2]).all()
            )
            size = self.input_size or images.shape[1:3]
            input_size = (int(size[0]), int(size[1]))
        else:
            gray, input_size = self.gray_, self.input_size_
        n_fits = getattr(self, "n_fits_", 0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + n_fits)
            if previous is None:
                net = _Net(1 if gray else 3, self.n_classes, self.width, self.dropout)
            else:
                net = copy.deepcopy(previous)
            net = net.to(device)
            x = _to_tensor(images, device, gray, input_size)
            y = torch.from_numpy(targets).to(device)
            report = None
            if semi:
                assert unlabeled is not None
                report = _semi.train(
                    net,
                    x,
                    y,
                    _to_tensor(unlabeled, device, gray, input_size),
                    steps=self.max_steps,
                    batch=min(self.batch_size, len(x)),
                    lr=self.lr,
                    weight_decay=self.weight_decay,
                    threshold=float(self.threshold),
                    progress=progress,
                    should_stop=should_stop,
                )
            else:
                self._train(net, x, y, progress, should_stop)
        self.net_, self.device_, self.gray_, self.input_size_ = net, device, gray, input_size
        self.n_fits_ = n_fits + 1
        self.semi_supervised_ = None if report is None else report.as_dict()
        return self

    def unlabeled_wanted(self) -> int:
        """How many unlabeled pool images the loop should pass to `fit`: 0 when not semi-supervised."""
        return int(self.unlabeled_sample) if self.semi_supervised else 0

    def _train(
        self,
        net: _Net,
        x: torch.Tensor,
        y: torch.Tensor,
        progress: Progress,
        should_stop: ShouldStop,
    ) -> None:
        n = len(x)
        batch = min(self.batch_size, n)
        steps = fit_steps(n, batch, self.epochs, self.min_steps, self.max_steps)
        optimizer = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.lr, total_steps=steps)
        net.train()
        order = torch.randperm(n)
        cursor = 0
        for step in range(steps):
            if should_stop():
                raise Cancelled(f"training stopped at step {step} of {steps}")
            if cursor + batch > n:
                order, cursor = torch.randperm(n), 0
            picked = order[cursor : cursor + batch].to(x.device)
            cursor += batch
            loss = F.cross_entropy(net(x[picked]), y[picked])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if step % 10 == 0 or step == steps - 1:
                progress((step + 1) / steps)

    @torch.no_grad()
    def predict_proba(
        self, images: np.ndarray, mc_samples: int = 1, batch_size: int = 1024
    ) -> np.ndarray:
        """Class probabilities of shape (N, C, I) for (N, H, W, 3) uint8 images, I = mc_samples.

        Parameters
        ----------
        images : numpy.ndarray
            (N, H, W, 3) uint8 images of any size; they are scaled to `input_size_`.
        mc_samples : int, default 1
            With 1, one deterministic pass; with more, the dropout head is sampled that many
            times (MC dropout) on the same features.
        batch_size : int, default 1024
            Images per forward pass.

        Returns
        -------
        numpy.ndarray
            float32 probabilities, shape (N, n_classes, mc_samples), summing to 1 over classes.
        """
        net = check_fitted(self, "net_")
        check_mc_samples(mc_samples)
        net.eval()
        out = np.empty((len(images), self.n_classes, mc_samples), dtype=np.float32)
        for start in range(0, len(images), batch_size):
            x = _to_tensor(
                images[start : start + batch_size], self.device_, self.gray_, self.input_size_
            )
            features = net.features(x)
            if mc_samples == 1:
                out[start : start + len(features), :, 0] = (
                    F.softmax(net.head(features), 1).cpu().numpy()
                )
                continue
            net.head.train()
            repeated = features.repeat(mc_samples, 1)
            probs = F.softmax(net.head(repeated), 1).reshape(mc_samples, len(features), -1)
            out[start : start + len(features)] = probs.permute(1, 2, 0).cpu().numpy()
            net.head.eval()
        return out

    @torch.no_grad()
    def embed(self, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """The network's penultimate features: what its last layer reads, one vector per image.

        They change with every fit (the whole network trains), so the loop computes them when a
        batch selector needs them instead of caching them.

        Parameters
        ----------
        images : numpy.ndarray
            (N, H, W, 3) uint8 images of any size; they are scaled to `input_size_`.
        batch_size : int, default 1024
            Images per forward pass.

        Returns
        -------
        numpy.ndarray
            float32 features, shape (N, HIDDEN) = (N, 128).
        """
        net = check_fitted(self, "net_")
        net.eval()
        penultimate = net.head[:-1]  # dropout, linear, relu, dropout: eval mode, deterministic
        out = []
        for start in range(0, len(images), batch_size):
            x = _to_tensor(
                images[start : start + batch_size], self.device_, self.gray_, self.input_size_
            )
            out.append(penultimate(net.features(x)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, HIDDEN), np.float32)


def _to_tensor(
    images: np.ndarray, device: torch.device, gray: bool, size: tuple[int, int]
) -> torch.Tensor:
    """(N, H, W, 3) uint8 images as an (N, 1 or 3, *size) float tensor in [-1, 1] on `device`."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    x = x[..., :1] if gray else x
    x = x.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    if tuple(x.shape[2:]) != size:
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    return x
