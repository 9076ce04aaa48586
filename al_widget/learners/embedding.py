"""A classifier for photos: a frozen pretrained backbone embeds each image once, a small head learns."""

from __future__ import annotations

import hashlib
import logging
import os
import threading

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._images import make_source
from ._embedding_nets import Head, build_backbone, to_input
from ._params import check_int, check_semi_supervised, check_training
from ._propagation import propagate
from ._torch import choose_device, fit_steps
from .base import Cancelled, ParamsMixin, Progress, ShouldStop
from .base import EmbeddingLearner as EmbeddingLearner

log = logging.getLogger("al_widget")

HEADS = ("linear", "mlp")
IF_UNAVAILABLE = ("raise", "random")
_BUILDING = threading.Lock()  # one backbone build at a time (executor threads may all call embed)
_PREDICT_ROWS = 4096  # rows per head pass: temporaries stay in the CPU cache
MIN_UNLABELED = 1000  # fewer unlabeled embeddings than this: a fit trains on the labels only


class EmbeddingClassifier(ParamsMixin):
    """A frozen backbone's embeddings and a small dropout head retrained each round.

    The backbone (a torchvision classification model by name, or any ``nn.Module``) is built
    once, frozen, with its last layer removed: ``embed(images)`` gives one vector per image.
    Each `fit` trains only the head (logistic regression or a one-hidden-layer MLP, both with
    dropout, so ``mc_samples > 1`` samples MC dropout for the ``variance`` and ``bald``
    heuristics). Inside an `ActiveLoop` the pool's embeddings are computed once and cached
    (``cache_dir=``), so a round costs a head fit and a pass over cached vectors.

    Parameters
    ----------
    n_classes : int
        The number of classes C, at least 2.
    backbone : str or torch.nn.Module, default "resnet18"
        A torchvision classification model name ("resnet18", "mobilenet_v3_small",
        "efficientnet_b0", ...) or a module mapping (n, 3, H, W) normalised images to (n, ...)
        features (flattened to (n, d)).
    weights : str, path or None, default "DEFAULT"
        "DEFAULT" (or another torchvision weights name such as "IMAGENET1K_V1"): the
        pretrained weights, downloaded once into torch's cache (``torch.hub.get_dir()``); None:
        random weights (seeded; for tests and offline use: resnet18's random features still
        tell colours and textures apart, mobilenet's and efficientnet's all but vanish); a
        path: a state dict to load, of the whole torchvision model or of the backbone without
        its last layer.
    head : {"linear", "mlp"}, default "linear"
        Logistic regression on the embeddings, or a small MLP with `hidden` units.
    hidden : int, default 256
        The MLP head's hidden units.
    dropout : float, default 0.3
        Dropout before the head's last layer (half as much on the embeddings for "mlp"); in
        [0, 1). What `predict_proba` samples when ``mc_samples > 1``.
    epochs : int, default 30
        Passes over the labeled embeddings per fit, before `min_steps` and `max_steps` apply.
    min_steps, max_steps : int, default 50 and 400
        Bounds on the head's optimizer steps per fit.
    batch_size : int, default 256
        Embeddings per head step; images per backbone pass in `embed`.
    semi_supervised : bool, default True
        A fit given at least 1,000 unlabeled embeddings (``unlabeled=``; inside an
        `ActiveLoop`, the cached embeddings of up to `unlabeled_sample` pool images each round)
        also learns from them by label propagation (Zhou et al. 2004): the labels spread over
        a 10-nearest-neighbour graph of the labeled and unlabeled embeddings, and each
        unlabeled embedding whose spread class distribution gives its top class at least
        `threshold` is a soft target for the head, weighted by its certainty (one minus its
        normalised entropy). It takes milliseconds to a few tenths of a second for a few
        thousand embeddings. The soft targets are training targets only, never stored. False
        (or fewer unlabeled embeddings): the fit is the supervised one, unchanged.
    threshold : float, default 0.5
        The share, in (0, 1], of an unlabeled embedding's spread label mass its top class
        needs for it to become a soft target.
    unlabeled_sample : int, default 2000
        How many unlabeled pool embeddings the loop passes to each fit, when `semi_supervised`.
    lr : float, default 1e-2
        AdamW's learning rate for the head.
    weight_decay : float, default 1e-3
        AdamW's weight decay.
    input_size : (int, int), default (224, 224)
        The (height, width) images are resized to for the backbone; the loop loads the pool at
        this size.
    if_unavailable : {"raise", "random"}, default "raise"
        When pretrained weights cannot be fetched: raise an error that names the
        alternatives, or go on with random weights (logged once as a warning).
    download_timeout : float, default 30.0
        Seconds to wait for the weights server; there is no retry.
    device : str or torch.device, optional
        Where the backbone and head run; None: the GPU when torch sees one, else the CPU.
    seed : int, default 0
        Seeds random backbone weights and the head; head fit k (from 0) uses ``seed + k``.

    Attributes
    ----------
    backbone_ : torch.nn.Module
        The frozen backbone, built at the first `embed` or `fit`.
    weights_ : str
        Which weights the backbone has: a URL's file name, a path, or "random".
    embedding_dim_ : int
        d, the length of an embedding.
    input_size_ : tuple of (int, int)
        The (height, width) the backbone reads.
    head_ : torch.nn.Module
        The trained head.
    n_fits_ : int
        Head fits completed.
    semi_supervised_ : dict or None
        What the last fit did with unlabeled embeddings: ``{"unlabeled": embeddings given,
        "pseudo_labels": how many became soft targets, "threshold": threshold}``; None when
        it trained on the labels only.

    Examples
    --------
    >>> model = EmbeddingClassifier(3, backbone="resnet18", weights=None, input_size=(64, 64))
    >>> model.fit(images, labels).predict_proba(images[:5], mc_samples=8).shape
    (5, 3, 8)
    """

    backbone_: nn.Module
    weights_: str
    embedding_dim_: int
    input_size_: tuple[int, int]
    device_: torch.device
    head_: Head
    mean_: torch.Tensor
    scale_: torch.Tensor
    n_fits_: int
    semi_supervised_: dict[str, float] | None

    def __init__(
        self,
        n_classes: int,
        *,
        backbone: str | nn.Module = "resnet18",
        weights: str | os.PathLike[str] | None = "DEFAULT",
        head: str = "linear",
        hidden: int = 256,
        dropout: float = 0.3,
        epochs: int = 30,
        min_steps: int = 50,
        max_steps: int = 400,
        batch_size: int = 256,
        lr: float = 1e-2,
        weight_decay: float = 1e-3,
        semi_supervised: bool = True,
        threshold: float = 0.5,
        unlabeled_sample: int = 2000,
        input_size: tuple[int, int] = (224, 224),
        if_unavailable: str = "raise",
        download_timeout: float = 30.0,
        device: str | torch.device | None = None,
        seed: int = 0,
    ) -> None:
        self.n_classes = n_classes
        self.backbone = backbone
        self.weights = weights
        self.head = head
        self.hidden = hidden
        self.dropout = dropout
        self.epochs = epochs
        self.min_steps = min_steps
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.semi_supervised = semi_supervised
        self.threshold = threshold
        self.unlabeled_sample = unlabeled_sample
        self.input_size = input_size
        self.if_unavailable = if_unavailable
        self.download_timeout = download_timeout
        self.device = device
        self.seed = seed

    # -- parameters ------------------------------------------------------------------------------

    def _check_params(self) -> None:
        check_int("n_classes", self.n_classes, 2)
        for name in ("hidden", "epochs", "min_steps", "max_steps", "batch_size"):
            check_int(name, getattr(self, name), 1)
        check_int("seed", self.seed, None)
        check_semi_supervised(self)
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if self.if_unavailable not in IF_UNAVAILABLE:
            raise ValueError(
                f"if_unavailable must be one of {IF_UNAVAILABLE}, got {self.if_unavailable!r}"
            )
        check_training(self)
        size = self.input_size
        if not (
            isinstance(size, (tuple, list))
            and len(size) == 2
            and all(isinstance(n, (int, np.integer)) and n >= 1 for n in size)
        ):
            raise ValueError(
                f"input_size must be a (height, width) pair of positive ints, got {size!r}"
            )
        if not isinstance(self.backbone, (str, nn.Module)):
            raise TypeError(
                f"backbone must be a torchvision model name or a torch.nn.Module, "
                f"got {type(self.backbone).__name__}"
            )

    # -- the backbone ----------------------------------------------------------------------------

    def _ensure_backbone(self) -> nn.Module:
        """The frozen backbone, built (and its weights fetched) on first use."""
        with _BUILDING:
            built = getattr(self, "backbone_", None)
            if built is not None:
                return built
            self._check_params()
            device = choose_device(self.device)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                net, weights = build_backbone(
                    self.backbone, self.weights, self.download_timeout, self.if_unavailable
                )
            net = net.to(device).eval()
            for parameter in net.parameters():
                parameter.requires_grad_(False)
            size = (int(self.input_size[0]), int(self.input_size[1]))
            with torch.no_grad():
                probe = net(torch.zeros(1, 3, *size, device=device))
            self.device_, self.input_size_, self.weights_ = device, size, weights
            self.embedding_dim_ = int(probe.reshape(1, -1).shape[1])
            self.backbone_ = net
            return net

    def embedding_key(self) -> str:
        """A short hash of the backbone's class, weights and input size: the embedding cache's key.

        Returns
        -------
        str
            Equal for two learners whose `embed` gives the same vectors, different when the
            backbone, its weights or the input size differ.
        """
        net = self._ensure_backbone()
        key = getattr(self, "embedding_key_", None)
        if key is None:
            digest = hashlib.sha1(f"{type(net).__qualname__} {self.input_size_}".encode())
            for name, tensor in net.state_dict().items():
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
            key = self.embedding_key_ = digest.hexdigest()[:16]
        return key

    @torch.no_grad()
    def embed(self, images: np.ndarray) -> np.ndarray:
        """The backbone's features of images, one vector each.

        Parameters
        ----------
        images : numpy.ndarray or sequence
            Images in any form a `Dataset` takes: an (n, H, W) grayscale or (n, H, W, 3|4)
            array of uint8 (or uint16, bool), or a sequence of such arrays, PIL images or file
            paths; resized to `input_size` as the loop reads them.

        Returns
        -------
        numpy.ndarray
            float32 embeddings, shape (n, embedding_dim_).

        Raises
        ------
        ImageError
            When `images` or one of them is not an image, naming which and why.
        """
        net = self._ensure_backbone()
        source = make_source(images)  # read as a Dataset reads them, so embeddings match the loop's
        out = np.empty((len(source), self.embedding_dim_), dtype=np.float32)
        for start in range(0, len(source), self.batch_size):
            chunk = np.arange(start, min(start + self.batch_size, len(source)))
            x = to_input(source.batch(chunk, self.input_size_), self.device_, self.input_size_)
            features = net(x).reshape(len(x), -1)
            out[start : start + len(x)] = features.float().cpu().numpy()
        return out

    # -- the head --------------------------------------------------------------------------------

    def fit(
        self,
        images: np.ndarray,
        targets: np.ndarray,
        progress: Progress = lambda fraction: None,
        should_stop: ShouldStop = lambda: False,
    ) -> EmbeddingClassifier:
        """Embed the images and train the head on them.

        Parameters
        ----------
        images : numpy.ndarray or sequence
            N >= 1 images in any form `embed` takes.
        targets : numpy.ndarray
            (N,) class ids in ``0 .. n_classes - 1``.
        progress : callable, optional
            Called with the fraction of head training done.
        should_stop : callable, optional
            Asked between steps; True stops training with `Cancelled`.

        Returns
        -------
        EmbeddingClassifier
            self, fitted.

        Raises
        ------
        WeightsUnavailable
            When pretrained weights were asked for and cannot be fetched (``if_unavailable=
            "raise"``); the message names the alternatives.
        """
        self._check_params()
        if len(images) == 0:
            raise ValueError("need at least one image to fit")
        return self.fit_embeddings(self.embed(images), targets, progress, should_stop)

    def fit_embeddings(
        self,
        embeddings: np.ndarray,
        targets: np.ndarray,
        progress: Progress = lambda fraction: None,
        should_stop: ShouldStop = lambda: False,
        unlabeled: np.ndarray | None = None,
    ) -> EmbeddingClassifier:
        """Train a new head on embeddings (from `embed`, or the loop's cache).

        Parameters
        ----------
        embeddings : numpy.ndarray
            (N, embedding_dim_) float embeddings, N >= 1.
        targets : numpy.ndarray
            (N,) class ids in ``0 .. n_classes - 1``.
        progress : callable, optional
            Called with the fraction of training done.
        should_stop : callable, optional
            Asked between steps; True stops training with `Cancelled`, the last head kept.
        unlabeled : numpy.ndarray, optional
            (M, embedding_dim_) embeddings without labels; with `semi_supervised` and
            M >= 1000, labels propagated to them are soft targets too (see the parameters).

        Returns
        -------
        EmbeddingClassifier
            self, fitted.
        """
        self._check_params()
        self._ensure_backbone()
        targets = np.asarray(targets, dtype=np.int64)
        z = np.asarray(embeddings, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.embedding_dim_:
            raise ValueError(
                f"embeddings must have shape (N, {self.embedding_dim_}), got {z.shape}"
            )
        if len(z) != len(targets) or len(z) == 0:
            raise ValueError(
                f"need one target per embedding and at least one, got {len(z)} and {len(targets)}"
            )
        if targets.min() < 0 or targets.max() >= self.n_classes:
            raise ValueError(
                f"targets must be class ids in 0..{self.n_classes - 1}, "
                f"got {targets.min()}..{targets.max()}"
            )
        if not np.isfinite(z).all():
            bad = np.flatnonzero(~np.isfinite(z).all(1))
            raise ValueError(f"embeddings has NaN or infinite values in rows {bad[:10].tolist()}")
        if len(z) > 1 and z.std(axis=0).max() < 1e-6 * max(1.0, float(np.abs(z).max())):
            log.warning(
                "al_widget: the %s backbone gives (nearly) the same embedding for every image "
                "(weights: %s); the head cannot tell them apart. Random weights do this for "
                "mobilenet and efficientnet: use pretrained weights, or backbone='resnet18'",
                self.backbone if isinstance(self.backbone, str) else type(self.backbone).__name__,
                self.weights_,
            )
        n_fits = getattr(self, "n_fits_", 0)
        x = torch.from_numpy(z).to(self.device_)
        y = torch.from_numpy(targets).to(self.device_)
        soft, report = None, None
        if self.semi_supervised and unlabeled is not None and len(unlabeled) >= MIN_UNLABELED:
            u = self._checked_unlabeled(unlabeled)
            # The head's input scaling from every embedding it trains on, not the few labeled.
            both = torch.cat([x, torch.from_numpy(u).to(self.device_)])
            mean, scale = both.mean(0), both.std(0, unbiased=False).clamp_min(1e-3)
            soft, report = self._soft_targets(z, targets, u, mean, scale)
        else:
            mean, scale = x.mean(0), x.std(0, unbiased=False).clamp_min(1e-3)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + n_fits)
            head = Head(self.embedding_dim_, self.n_classes, self.head, self.hidden, self.dropout)
            head = head.to(self.device_)
            self._train(head, (x - mean) / scale, y, progress, should_stop, soft)
        self.head_, self.mean_, self.scale_ = head.eval(), mean, scale
        self.n_fits_ = n_fits + 1
        self.semi_supervised_ = report
        return self

    def _checked_unlabeled(self, unlabeled: np.ndarray) -> np.ndarray:
        """`unlabeled` as float32 (M, d), refused unless d is the embedding's; non-finite rows out."""
        u = np.asarray(unlabeled, dtype=np.float32)
        if u.ndim != 2 or u.shape[1] != self.embedding_dim_:
            raise ValueError(f"unlabeled must have shape (M, {self.embedding_dim_}), got {u.shape}")
        return u[np.isfinite(u).all(1)]

    def _soft_targets(
        self,
        z: np.ndarray,
        targets: np.ndarray,
        u: np.ndarray,
        mean: torch.Tensor,
        scale: torch.Tensor,
    ) -> tuple[tuple[torch.Tensor, ...], dict[str, float]]:
        """Label propagation's soft targets for the confident unlabeled rows, and a report."""
        spread = propagate(z, targets, u, self.n_classes)
        kept = spread.targets.max(1) >= self.threshold
        xu = (torch.from_numpy(u[kept]).to(self.device_) - mean) / scale
        pu = torch.from_numpy(spread.targets[kept]).to(self.device_)
        wu = torch.from_numpy(spread.certainty[kept]).to(self.device_)
        report = {
            "unlabeled": len(u),
            "pseudo_labels": int(kept.sum()),
            "threshold": self.threshold,
        }
        return (xu, pu, wu), report

    def unlabeled_wanted(self) -> int:
        """How many unlabeled pool embeddings the loop should pass to a fit: 0 when not semi-supervised."""
        return int(self.unlabeled_sample) if self.semi_supervised else 0

    def _train(
        self,
        head: Head,
        x: torch.Tensor,
        y: torch.Tensor,
        progress: Progress,
        should_stop: ShouldStop,
        soft: tuple[torch.Tensor, ...] | None = None,
    ) -> None:
        n = len(x)
        m = 0 if soft is None else len(soft[0])
        batch = min(self.batch_size, n)
        # With soft targets the epochs count over them too: a few labels still train long enough.
        steps = fit_steps(max(n, m), batch, self.epochs, self.min_steps, self.max_steps)
        optimizer = torch.optim.AdamW(head.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
        head.train()
        order, cursor = torch.randperm(n), 0
        u_batch = min(self.batch_size, m)
        u_order, u_cursor = (torch.randperm(m), 0) if m else (None, 0)
        for step in range(steps):
            if should_stop():
                raise Cancelled(f"training stopped at step {step} of {steps}")
            if cursor + batch > n:
                order, cursor = torch.randperm(n), 0
            picked = order[cursor : cursor + batch].to(x.device)
            cursor += batch
            loss = F.cross_entropy(head(x[picked]), y[picked])
            if soft is not None and m:
                # The propagated labels: soft cross-entropy, each row weighted by its certainty.
                if u_cursor + u_batch > m:
                    u_order, u_cursor = torch.randperm(m), 0
                assert u_order is not None
                rows = u_order[u_cursor : u_cursor + u_batch].to(x.device)
                u_cursor += u_batch
                xu, pu, wu = (t[rows] for t in soft)
                soft_loss = -(pu * F.log_softmax(head(xu), 1)).sum(1)
                loss = loss + (wu * soft_loss).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if step % 20 == 0 or step == steps - 1:
                progress((step + 1) / steps)

    def predict_proba(self, images: np.ndarray, mc_samples: int = 1) -> np.ndarray:
        """Class probabilities (N, C, I) for N images, I = mc_samples.

        Parameters
        ----------
        images : numpy.ndarray or sequence
            Images in any form `embed` takes.
        mc_samples : int, default 1
            1: one deterministic pass; more: the head's dropout sampled that many times.

        Returns
        -------
        numpy.ndarray
            float32 probabilities summing to 1 over classes.
        """
        self._fitted()
        return self.predict_proba_embeddings(self.embed(images), mc_samples)

    @torch.no_grad()
    def predict_proba_embeddings(self, embeddings: np.ndarray, mc_samples: int = 1) -> np.ndarray:
        """Class probabilities (N, C, I) from embeddings, as `predict_proba` gives from images.

        Parameters
        ----------
        embeddings : numpy.ndarray
            (N, embedding_dim_) embeddings (float16 from the cache is fine).
        mc_samples : int, default 1
            As in `predict_proba`.

        Returns
        -------
        numpy.ndarray
            float32 probabilities, shape (N, n_classes, mc_samples).
        """
        head = self._fitted()
        if mc_samples < 1:
            raise ValueError(f"mc_samples must be >= 1, got {mc_samples}")
        out = np.empty((len(embeddings), self.n_classes, mc_samples), dtype=np.float32)
        for start in range(0, len(embeddings), _PREDICT_ROWS):
            block = np.ascontiguousarray(embeddings[start : start + _PREDICT_ROWS])
            # torch converts the cache's float16 several times faster than numpy does
            x = torch.from_numpy(block).to(self.device_, torch.float32)
            x = (x - self.mean_).div_(self.scale_)
            if mc_samples == 1:
                head.eval()
                out[start : start + len(x), :, 0] = F.softmax(head(x), 1).cpu().numpy()
                continue
            head.train()  # MC dropout: only dropout layers differ between train and eval
            probs = F.softmax(head(x.repeat(mc_samples, 1)), 1).reshape(mc_samples, len(x), -1)
            out[start : start + len(x)] = probs.permute(1, 2, 0).cpu().numpy()
            head.eval()
        return out

    def _fitted(self) -> Head:
        head = getattr(self, "head_", None)
        if head is None:
            raise RuntimeError("this EmbeddingClassifier is not fitted yet: call fit first")
        return head
