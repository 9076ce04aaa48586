"""The built-in batch selectors' picks, ``coreset``, ``cluster_margin`` and ``badge``, and the
geometry they share: distances to the nearest center, k-center greedy, k-means++ seeding, k-means.

`al_widget.selectors` registers them (and names them: ``selectors.coreset`` ...); its docstring
says what each picks. At run time this module imports numpy only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .selectors import Batch


SHORTLIST = 10  # cluster_margin clusters the SHORTLIST * k most uncertain images
_KMEANS_ITERATIONS = 10
_CHUNK = 4096  # rows per block of pairwise distances


# -- geometry ------------------------------------------------------------------------------------


def _sq_distances(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """(n,) squared distance of each point to its nearest center; inf when there is no center."""
    nearest = np.full(len(points), np.inf)
    if not len(centers):
        return nearest
    center_norms = (centers * centers).sum(1)
    for start in range(0, len(points), _CHUNK):
        block = points[start : start + _CHUNK]
        d = (block * block).sum(1)[:, None] + center_norms[None] - 2.0 * block @ centers.T
        nearest[start : start + len(block)] = np.maximum(d.min(1), 0.0)
    return nearest


def _as_float(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


def _farthest_first(
    points: np.ndarray, nearest: np.ndarray, k: int, first: int | None = None
) -> np.ndarray:
    """k-center greedy: each pick the point farthest from the centers so far (`nearest` updated)."""
    picked: list[int] = []
    nearest = nearest.copy()
    for _ in range(k):
        i = first if first is not None and not picked else int(np.argmax(nearest))
        picked.append(i)
        nearest = np.minimum(nearest, _sq_distances(points, points[i : i + 1]))
        nearest[picked] = -1.0  # never again, even among exact duplicates
    return np.array(picked, np.int64)


def _kmeans_pp(
    norms_a: np.ndarray,
    a: np.ndarray,
    h: np.ndarray,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """k-means++ seeding on the outer products a_i ⊗ h_i, never forming them.

    ``|a_i ⊗ h_i - a_j ⊗ h_j|² = |a_i|²|h_i|² + |a_j|²|h_j|² - 2 (a_i·a_j)(h_i·h_j)``.
    """
    sq_norms = norms_a * (h * h).sum(1)
    first = int(np.argmax(sq_norms))  # BADGE starts from the longest gradient
    picked = [first]
    nearest = np.full(len(a), np.inf)
    for _ in range(k - 1):
        j = picked[-1]
        d = sq_norms + sq_norms[j] - 2.0 * (a @ a[j]) * (h @ h[j])
        nearest = np.minimum(nearest, np.maximum(d, 0.0))
        weights = nearest.copy()
        weights[picked] = 0.0
        total = weights.sum()
        if total > 0 and np.isfinite(total):
            i = int(rng.choice(len(weights), p=weights / total))
        else:  # every unpicked point coincides with a pick: any of them
            rest = np.setdiff1d(np.arange(len(a)), picked)
            i = int(rng.choice(rest))
        picked.append(i)
    return np.array(picked, np.int64)


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Cluster labels (n,) of `points` into at most `k` clusters: k-means++ then Lloyd steps."""
    n = len(points)
    if k >= n:
        return np.arange(n)
    centers = points[[int(rng.integers(n))]]
    for _ in range(k - 1):
        d = _sq_distances(points, centers)
        total = d.sum()
        i = int(rng.choice(n, p=d / total)) if total > 0 else int(rng.integers(n))
        centers = np.vstack([centers, points[i]])
    labels = np.zeros(n, np.int64)
    for _ in range(_KMEANS_ITERATIONS):
        norms = (centers * centers).sum(1)
        d = (points * points).sum(1)[:, None] + norms[None] - 2.0 * points @ centers.T
        labels = d.argmin(1)
        for c in range(len(centers)):
            members = points[labels == c]
            if len(members):
                centers[c] = members.mean(0)
    return labels


# -- the built-in selectors ----------------------------------------------------------------------


def coreset(batch: Batch, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-center greedy over the pool, starting from the labeled images' embeddings.

    Parameters
    ----------
    batch : Batch
        The scored pool; uses ``embeddings`` and ``labeled`` (and ``scores`` when nothing is
        labeled: the first pick is the most uncertain image).
    k : int
        How many to pick, at most ``len(batch)``.
    rng : numpy.random.Generator
        Unused: k-center greedy is deterministic.
    """
    points = _as_float(batch.embeddings)
    labeled = _as_float(batch.labeled) if batch.labeled.size else np.zeros((0, points.shape[1]))
    nearest = _sq_distances(points, labeled)
    first = int(np.argmax(batch.scores)) if not len(labeled) else None
    return _farthest_first(points, nearest, k, first)


def cluster_margin(batch: Batch, k: int, rng: np.random.Generator) -> np.ndarray:
    """Round-robin over k-means clusters of the ``SHORTLIST * k`` most uncertain images.

    Parameters
    ----------
    batch : Batch
        The scored pool; uses ``scores`` and ``embeddings``.
    k : int
        How many to pick, at most ``len(batch)``.
    rng : numpy.random.Generator
        Seeds the clustering.
    """
    by_score = np.lexsort((rng.random(len(batch)), -_as_float(batch.scores)))
    shortlist = by_score[: max(k, SHORTLIST * k)]
    labels = _kmeans(_as_float(batch.embeddings)[shortlist], k, rng)
    # within a cluster, shortlist order = most uncertain first; clusters smallest first
    clusters = [shortlist[labels == c] for c in np.unique(labels)]
    clusters.sort(key=len)
    picked: list[int] = []
    depth = 0
    while len(picked) < k:
        for members in clusters:
            if depth < len(members) and len(picked) < k:
                picked.append(int(members[depth]))
        depth += 1
    return np.array(picked, np.int64)


def badge(batch: Batch, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding on the gradient embeddings ``(p - onehot(argmax p)) ⊗ h``.

    Parameters
    ----------
    batch : Batch
        The scored pool; uses ``probs`` and ``embeddings`` as h: the learner's ``embed``, which
        is the input of the last layer for the CNN ``Classifier`` and for an
        ``EmbeddingClassifier`` with the linear head (with ``head="mlp"`` it is the input of
        the hidden layer instead, an approximation).
    k : int
        How many to pick, at most ``len(batch)``.
    rng : numpy.random.Generator
        Draws the k-means++ seeds.
    """
    probs = _as_float(batch.probs)
    a = probs.copy()
    a[np.arange(len(a)), probs.argmax(1)] -= 1.0
    return _kmeans_pp((a * a).sum(1), a, _as_float(batch.embeddings), k, rng)
