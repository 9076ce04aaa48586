"""Label propagation on embeddings (Zhou et al. 2004): soft class targets for unlabeled vectors.

The labeled and unlabeled embeddings are the nodes of a k-nearest-neighbour graph (Euclidean,
with Zhou et al.'s Gaussian weights ``exp(-d^2 / sigma^2)``, sigma^2 the mean squared distance
to the k-th neighbour); the labels spread along its edges by the iteration
``F <- alpha S F + (1 - alpha) Y`` with the symmetrically normalised affinities S. A few thousand
nodes take milliseconds to a few tenths of a second. What comes out is a training target only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

NEIGHBOURS = 10  # k of the kNN graph
ALPHA = 0.99  # how far labels spread (Zhou et al.'s alpha): close to 1, far
ITERATIONS = 100  # hops the labels travel: a kNN graph of a few thousand nodes is that wide
_ROWS = 1024  # similarity rows computed at once


@dataclass(frozen=True)
class Propagated:
    """Soft targets for the unlabeled rows and how sure each is."""

    targets: np.ndarray  # (M, C) float32, rows sum to 1
    certainty: np.ndarray  # (M,) float32 in [0, 1]: 1 - entropy / log C of each row


def propagate(
    labeled: np.ndarray, classes: np.ndarray, unlabeled: np.ndarray, n_classes: int
) -> Propagated:
    """Spread the labels of `labeled` embeddings over a kNN graph that includes `unlabeled`.

    Parameters
    ----------
    labeled : numpy.ndarray
        (N, d) embeddings with labels, N >= 1.
    classes : numpy.ndarray
        (N,) their class ids in ``0 .. n_classes - 1``.
    unlabeled : numpy.ndarray
        (M, d) embeddings without labels.
    n_classes : int
        C.

    Returns
    -------
    Propagated
        The unlabeled rows' class distributions (uniform where no label reached) and their
        certainty.
    """
    z = torch.from_numpy(np.concatenate([labeled, unlabeled]).astype(np.float32))
    z = z - z.mean(0)
    n, k = len(z), min(NEIGHBOURS, len(z) - 1)
    found = torch.empty(n, k, dtype=torch.int64)
    distance = torch.empty(n, k)
    squares = (z * z).sum(1)
    for start in range(0, n, _ROWS):
        part = (
            squares[start : start + _ROWS, None]
            + squares[None]
            - 2 * z[start : start + _ROWS] @ z.T
        )
        part[torch.arange(len(part)), torch.arange(start, start + len(part))] = float("inf")
        near, found[start : start + _ROWS] = part.topk(k, dim=1, largest=False)
        distance[start : start + _ROWS] = near.clamp_min(0)
    weight = torch.exp(-distance / distance[:, -1].mean().clamp_min(1e-12))
    # The graph is symmetric, W + W^T (i is j's neighbour or j is i's), applied without building
    # it: W F gathers each row's neighbours, W^T F adds each row into its neighbours'.
    rows = torch.arange(n).repeat_interleave(k)
    flat, w = found.flatten(), weight.flatten()
    degree = weight.sum(1).index_add_(0, flat, w).clamp_min(1e-12)
    scale = degree.rsqrt()

    def spread(f: torch.Tensor) -> torch.Tensor:
        g = f * scale[:, None]
        out = (weight[:, :, None] * g[found]).sum(1)
        out.index_add_(0, flat, w[:, None] * g[rows])
        return out * scale[:, None]

    y = torch.zeros(n, n_classes)
    y[torch.arange(len(labeled)), torch.from_numpy(np.asarray(classes, np.int64))] = 1.0
    f = y.clone()
    for _ in range(ITERATIONS):
        f = ALPHA * spread(f) + (1 - ALPHA) * y
    mass = f[len(labeled) :].clamp_min(0)
    total = mass.sum(1, keepdim=True)
    reached = total > 1e-20  # nothing reaches a node cut off from every label: uniform
    targets = torch.where(reached, mass / total.clamp_min(1e-20), 1.0 / n_classes)
    entropy = -(targets * targets.clamp_min(1e-12).log()).sum(1)
    certainty = 1 - entropy / float(np.log(n_classes))
    return Propagated(targets.numpy(), certainty.clamp(0, 1).numpy())
