"""The head of an `EmbeddingClassifier`, its base class: trained on embeddings (on the labels,
and on label propagation's soft targets for unlabeled ones), and class probabilities from it
(of embeddings, or of images: `predict_proba`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._checks import check_fitted, check_mc_samples
from ._embedding_nets import Head
from ._propagation import propagate
from ._torch import fit_steps
from .base import Cancelled, Progress, ShouldStop

log = logging.getLogger("al_widget")

_PREDICT_ROWS = 4096  # rows per head pass: temporaries stay in the CPU cache
MIN_UNLABELED = 1000  # fewer unlabeled embeddings than this: a fit trains on the labels only

H = TypeVar("H", bound="EmbeddingHeadMixin")


class EmbeddingHeadMixin:
    """The head of `EmbeddingClassifier` (its base class): `fit_embeddings` trains it,
    `predict_proba_embeddings` reads it (and `predict_proba`, on the images' embeddings).

    The parameters, the backbone and its embeddings are the classifier's (see its docstring).
    """

    # EmbeddingClassifier's parameters and backbone, read here.
    n_classes: int
    backbone: str | nn.Module
    head: str
    hidden: int
    dropout: float
    epochs: int
    min_steps: int
    max_steps: int
    batch_size: int
    lr: float
    weight_decay: float
    semi_supervised: bool
    threshold: float
    unlabeled_sample: int
    seed: int
    weights_: str
    embedding_dim_: int
    device_: torch.device
    # Set by fit_embeddings.
    head_: Head
    mean_: torch.Tensor
    scale_: torch.Tensor
    n_fits_: int
    semi_supervised_: dict[str, float] | None

    if TYPE_CHECKING:  # EmbeddingClassifier's

        def _check_params(self) -> None: ...

        def _ensure_backbone(self) -> nn.Module: ...

        def embed(self, images: np.ndarray) -> np.ndarray: ...

    def fit_embeddings(
        self: H,
        embeddings: np.ndarray,
        targets: np.ndarray,
        progress: Progress = lambda fraction: None,
        should_stop: ShouldStop = lambda: False,
        unlabeled: np.ndarray | None = None,
    ) -> H:
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
        check_fitted(self, "head_")
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
        head: Head = check_fitted(self, "head_")
        check_mc_samples(mc_samples)
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
