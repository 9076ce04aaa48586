"""The first images to label, before any model: typical ones, spread over the pool (TypiClust).

Hacohen et al. 2022 ("Active learning on a budget", TypiClust): with very few labels, the
images worth labeling first are typical ones (in a dense region of the embedding space) from
different parts of the pool. The pool's embeddings are clustered (k-means, as many clusters as
images wanted); from each cluster, largest first, comes its most typical image, typicality being
the inverse mean distance to its nearest neighbours. Pure numpy.
"""

from __future__ import annotations

import numpy as np

TYPICAL = "typical"  # the ranking's heuristic name for a cold-start ranking
CHOICES = (TYPICAL, "random")  # ActiveLoop(cold_start=...)
NEIGHBOURS = 20  # typicality: the mean distance to this many nearest neighbours
ITERATIONS = 20  # k-means (Lloyd) iterations: few are needed for a seed choice
_ROWS = 2048  # distance rows computed at once


def check_cold_start(cold_start: object) -> None:
    """Refuse a `cold_start` that is not one of `CHOICES`, listing them."""
    if cold_start not in CHOICES:
        raise ValueError(
            f"cold_start must be one of {', '.join(map(repr, CHOICES))}, got {cold_start!r}"
        )


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) squared Euclidean distances, never negative."""
    found = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T
    return np.maximum(found, 0)


def typicality(embeddings: np.ndarray, neighbours: int = NEIGHBOURS) -> np.ndarray:
    """Each row's inverse mean distance to its `neighbours` nearest other rows (higher: denser).

    Parameters
    ----------
    embeddings : numpy.ndarray
        (n, d) float vectors.
    neighbours : int, default 20
        How many neighbours (fewer when there are fewer rows).
    """
    n = len(embeddings)
    k = min(neighbours, n - 1)
    if k < 1:
        return np.ones(n)
    out = np.empty(n)
    for start in range(0, n, _ROWS):
        d = np.sqrt(_squared_distances(embeddings[start : start + _ROWS], embeddings))
        d[np.arange(len(d)), np.arange(start, start + len(d))] = np.inf
        near = np.partition(d, k - 1, axis=1)[:, :k]
        out[start : start + len(d)] = 1.0 / (near.mean(1) + 1e-12)
    return out


def kmeans(embeddings: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Cluster ids (n,) of `k` k-means clusters (k-means++ start, `ITERATIONS` Lloyd steps)."""
    n = len(embeddings)
    centres = [embeddings[rng.integers(n)]]
    closest = _squared_distances(embeddings, centres[0][None])[:, 0]
    for _ in range(1, k):
        total = closest.sum()
        pick = rng.choice(n, p=closest / total) if total > 0 else rng.integers(n)
        centres.append(embeddings[pick])
        closest = np.minimum(closest, _squared_distances(embeddings, embeddings[pick][None])[:, 0])
    c = np.stack(centres)
    for _ in range(ITERATIONS):
        labels = _squared_distances(embeddings, c).argmin(1)
        for j in range(k):
            members = embeddings[labels == j]
            if len(members):
                c[j] = members.mean(0)
    return np.asarray(_squared_distances(embeddings, c).argmin(1))


def typical_and_spread(
    embeddings: np.ndarray, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """TypiClust's choice of `k` rows to label first, and every row's typicality.

    Parameters
    ----------
    embeddings : numpy.ndarray
        (n, d) float vectors of the candidate images.
    k : int
        How many to choose (at most n).
    rng : numpy.random.Generator
        Seeds k-means.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The chosen row positions, the most typical of the largest cluster first, one per
        cluster; and the (n,) typicality of every row (within its own cluster).
    """
    z = np.asarray(embeddings, dtype=np.float64)
    n = len(z)
    k = min(k, n)
    if k < 1:
        return np.zeros(0, np.int64), np.ones(n)
    clusters = kmeans(z, k, rng)
    typical = np.zeros(n)
    chosen = []
    sizes = np.bincount(clusters, minlength=k)
    for j in np.argsort(-sizes, kind="stable"):
        members = np.flatnonzero(clusters == j)
        if not len(members):
            continue
        typical[members] = typicality(z[members])
        chosen.append(members[typical[members].argmax()])
    return np.asarray(chosen, dtype=np.int64), typical
