"""A classifier for photos: a frozen pretrained backbone embeds each image once, a small head learns.

The head's training and its probabilities (from embeddings, and from images: ``predict_proba``)
are the base class's, in ``_embedding_head.py``.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import torch
from torch import nn

from .._images import make_source
from .._numbers import check_int
from ._embedding_head import MIN_UNLABELED as MIN_UNLABELED
from ._embedding_head import EmbeddingHeadMixin
from ._embedding_nets import backbone_key, build_backbone, to_input
from ._params import check_semi_supervised, check_training
from ._torch import choose_device
from .base import EmbeddingLearner as EmbeddingLearner
from .base import ParamsMixin, Progress, ShouldStop

HEADS = ("linear", "mlp")
IF_UNAVAILABLE = ("raise", "random")
_BUILDING = threading.Lock()  # one backbone build at a time (executor threads may all call embed)


class EmbeddingClassifier(EmbeddingHeadMixin, ParamsMixin):
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
        """A short hash of the backbone's layers, weights and buffers and the input size: the
        embedding cache's key.

        The backbone is hashed as ``repr`` shows it (its layers' types and hyper-parameters),
        with the name, shape, dtype and values of every parameter and buffer (persistent or
        not, such as a normalisation's mean and std). Code that ``repr`` does not show, a
        changed ``forward`` above all, leaves the key as it was.

        Returns
        -------
        str
            Equal for two learners whose `embed` gives the same vectors, different when the
            backbone's layers, its weights or buffers, or the input size differ.
        """
        net = self._ensure_backbone()
        key = getattr(self, "embedding_key_", None)
        if key is None:
            key = self.embedding_key_ = backbone_key(net, self.input_size_)
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
