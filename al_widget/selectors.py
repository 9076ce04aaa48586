"""Diversity-aware batch selectors: which `k` images to ask for together, avoiding near-duplicates.

A heuristic scores each image alone, so its top 10 can be ten copies of one confusing image. A
selector picks the loop's next batch (``query_size`` images) from the scored pool as a whole:

- ``"coreset"``: k-center greedy (Sener & Savarese 2018): each pick is the pool image farthest
  (in embedding space) from every labeled image and every earlier pick. Pure diversity: the
  heuristic's scores only break the tie of the first pick when nothing is labeled.
- ``"cluster_margin"`` (Citovsky et al. 2021): the ``10 k`` most uncertain images by the
  heuristic are clustered (k-means on their embeddings) and picked round-robin, smallest cluster
  first, most uncertain first within a cluster.
- ``"badge"`` (Ash et al. 2020): k-means++ seeding on gradient embeddings
  ``(p - onehot(argmax p)) ⊗ h`` (the gradient of the loss, at the predicted label, with respect
  to the last layer's weights; h is the input of that layer): uncertain images have long
  gradients, different ones point apart.

**How a selector composes with a heuristic.** A selector is used by name wherever a heuristic
name is accepted (``ActiveLoop(heuristic="coreset")``, the panel's picker, ``simulate``), because
it is registered as a heuristic too: as such it scores with its *base heuristic* (``"margin"``
unless registered otherwise). A round scores the pool sample with the base heuristic, then the
selector picks ``query_size`` of the scored images; the published queue starts with that batch
in pick order, and the rest of the scored images follow by the base heuristic's score. So
``pool_sample`` bounds what a selector chooses from, as it bounds what a heuristic ranks.

**Your own selector, in a cell** (re-running the cell replaces it)::

    @alw.selectors.register("spread_margin", heuristic="margin")
    def spread_margin(batch, k, rng):
        # batch.scores (n,), batch.probs (n, C), batch.embeddings (n, d), batch.labeled (m, d)
        top = np.argsort(-batch.scores)[: 5 * k]
        return rng.choice(top, size=k, replace=False)   # k distinct positions into the pool

    loop.heuristic = "spread_margin"

A selector returns exactly ``min(k, n)`` distinct positions into the scored pool; anything else
is refused with an error naming the selector. This module imports numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import auto, heuristics

__all__ = [
    "Batch",
    "Selector",
    "badge",
    "check_usable",
    "cluster_margin",
    "coreset",
    "get",
    "names",
    "register",
    "unusable",
    "usable_names",
]

SHORTLIST = 10  # cluster_margin clusters the SHORTLIST * k most uncertain images
_KMEANS_ITERATIONS = 10
_CHUNK = 4096  # rows per block of pairwise distances


@dataclass(frozen=True)
class Batch:
    """What a selector chooses from: the scored pool, as positions 0 .. n - 1.

    Parameters
    ----------
    scores : numpy.ndarray
        (n,) the base heuristic's scores, higher = more uncertain.
    probs : numpy.ndarray
        (n, C) class probabilities (the mean over MC samples).
    embeddings : numpy.ndarray
        (n, d) float32 embeddings of the pool images (the learner's ``embed``).
    labeled : numpy.ndarray
        (m, d) float32 embeddings of the labeled images, m may be 0.
    """

    scores: np.ndarray
    probs: np.ndarray
    embeddings: np.ndarray
    labeled: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))

    def __post_init__(self) -> None:
        """Refuse parts that do not line up: row i of each is for pool image i."""
        n = len(self.scores)
        for name in ("probs", "embeddings"):
            rows = len(getattr(self, name))
            if rows != n:
                raise ValueError(
                    f"Batch: {name} has {rows} rows for {n} scores; each row must be for the "
                    "image scored at the same position"
                )

    def __len__(self) -> int:
        return len(self.scores)


SelectorFunction = Callable[[Batch, int, np.random.Generator], np.ndarray]  # pick(batch, k, rng)


@dataclass(frozen=True)
class Selector:
    """A registered batch selector: its name, its base heuristic and its pick function.

    Parameters
    ----------
    name : str
        The name it is registered under (and used by as a heuristic).
    pick : callable
        ``pick(batch, k, rng)``: up to `k` distinct positions into the `Batch`, in pick order.
    heuristic : str, default "margin"
        The base heuristic that scores the pool the selector picks from.
    """

    name: str
    pick: SelectorFunction
    heuristic: str = "margin"

    def select(self, batch: Batch, k: int, rng: np.random.Generator) -> np.ndarray:
        """`min(k, len(batch))` distinct positions into `batch`, in pick order; checked.

        Parameters
        ----------
        batch : Batch
            The scored pool.
        k : int
            The batch size (the loop's ``query_size``).
        rng : numpy.random.Generator
            The randomness a selector may use.
        """
        want = min(int(k), len(batch))
        if want <= 0:
            return np.zeros(0, np.int64)
        picked = np.asarray(self.pick(batch, want, rng))
        return check_picks(self.name, picked, want, len(batch))


_SELECTORS: dict[str, Selector] = {}


def check_picks(name: str, picked: np.ndarray, want: int, n: int) -> np.ndarray:
    """`picked` as int64 positions, refused unless they are `want` distinct ones in ``0 .. n-1``."""
    if picked.ndim != 1 or (picked.size and picked.dtype.kind not in "iu"):
        raise ValueError(
            f"selector {name!r} must return a 1-D array of int positions, got shape "
            f"{picked.shape} of {picked.dtype}"
        )
    picked = picked.astype(np.int64)
    if len(picked) != want:
        raise ValueError(f"selector {name!r} must pick exactly {want} images, picked {len(picked)}")
    outside = picked[(picked < 0) | (picked >= n)]
    if outside.size:
        raise ValueError(
            f"selector {name!r} picked positions outside the pool of {n}: {outside[:5].tolist()}"
        )
    values, counts = np.unique(picked, return_counts=True)
    if (counts > 1).any():
        raise ValueError(
            f"selector {name!r} picked the same image twice: positions {values[counts > 1][:5].tolist()}"
        )
    return picked


def register(
    name: str, *, heuristic: str = "margin", replace: bool = False
) -> Callable[[SelectorFunction], SelectorFunction]:
    """Decorator that registers ``pick(batch, k, rng) -> positions`` as a selector and a heuristic.

    The name then works wherever a heuristic name does; as a heuristic it scores with
    `heuristic`. Re-running the cell that defines it replaces it.

    Parameters
    ----------
    name : str
        The name (normalised as heuristic names are: "My Pick" is "my_pick").
    heuristic : str, default "margin"
        The registered heuristic that scores the pool before the selector picks.
    replace : bool, default False
        Redefine a selector or heuristic registered under `name` by another function.
    """
    heuristics.get(heuristic)  # refuses an unknown base heuristic now, listing the known ones
    if isinstance(heuristics.get(heuristic), _SelectorHeuristic):
        raise ValueError(f"the base heuristic of a selector must be a heuristic, got {heuristic!r}")
    return _registrar(name, heuristic, replace, builtin=False)


def _registrar(
    name: str, heuristic: str, replace: bool, builtin: bool
) -> Callable[[SelectorFunction], SelectorFunction]:
    def decorator(pick: SelectorFunction) -> SelectorFunction:
        if not callable(pick):
            raise TypeError(f"selector {name!r} must be callable, got {type(pick).__name__}")
        selector = Selector(heuristics.name_of(name), pick, heuristics.name_of(heuristic))
        scorer = _SelectorHeuristic(selector)
        if builtin:
            heuristics.register_builtin(selector.name)(scorer)
        else:
            heuristics.register(selector.name, replace=replace)(scorer)
        _SELECTORS[selector.name] = selector
        return pick

    return decorator


class _SelectorHeuristic:
    """A selector seen as a heuristic: scores with its base heuristic, carries the selector."""

    def __init__(self, selector: Selector) -> None:
        self.selector = selector
        self.__name__ = selector.name
        # so that re-running the defining cell counts as the same definition
        self.__module__ = getattr(selector.pick, "__module__", __name__)
        self.__qualname__ = getattr(selector.pick, "__qualname__", selector.name)

    def __call__(self, probs: np.ndarray) -> np.ndarray:
        return heuristics.get(self.selector.heuristic)(probs)


def of(heuristic: str | heuristics.Heuristic) -> Selector | None:
    """The selector behind a heuristic name or function, or None for a plain heuristic.

    Parameters
    ----------
    heuristic : str or callable
        What the loop was given as its heuristic.
    """
    fn = heuristics.get(heuristic)
    selector = getattr(fn, "selector", None)
    return selector if isinstance(selector, Selector) else None


def get(name: str) -> Selector:
    """The selector registered under `name`.

    Parameters
    ----------
    name : str
        A name from `names()`.
    """
    key = heuristics.name_of(name)
    if key not in _SELECTORS or of(key) is None:
        raise ValueError(f"unknown selector {name!r}; choose one of {names()}")
    return _SELECTORS[key]


def names() -> list[str]:
    """The registered selector names, sorted (each is also in ``heuristics.names()``)."""
    return sorted(key for key in _SELECTORS if key in heuristics.names() and of(key) is not None)


def unusable(heuristic: str | heuristics.Heuristic, task: str, learner: object) -> str | None:
    """Why `heuristic` cannot rank a `task` loop's pool with `learner`, or None when it can.

    A selector needs the learner's ``embed(images) -> (n, d)`` (pooled features: the
    ``Classifier``, ``EmbeddingClassifier``, ``Detector``, ``Segmenter`` and ``InstanceSegmenter``
    have it); its class probabilities per image are, for boxes and objects, the most uncertain
    one's and, for masks, the mean of the most uncertain pixels'. A plain heuristic works for every task.
    "auto" works where each of its arms does (``auto.Auto(arms=[...])``).

    Parameters
    ----------
    heuristic : str or callable
        A registered name or a heuristic function.
    task : str
        The dataset's task: "classify", "detect", "segment" or "instances".
    learner : object
        The loop's learner.
    """
    chooser = auto.of(heuristic)
    if chooser is not None:
        for arm in chooser.arms or ():  # the default arms are plain heuristics
            why = unusable(arm, task, learner)
            if why is not None:
                return f"of its arms, {why}"
        return None
    selector = of(heuristic)
    if selector is None or hasattr(learner, "embed"):
        return None
    return (
        f"the selector {selector.name!r} needs a learner with embed(images) -> (n, d) "
        f"(Classifier, EmbeddingClassifier, Detector, Segmenter, InstanceSegmenter); "
        f"{type(learner).__name__} on task {task!r} has not"
    )


def usable_names(task: str, learner: object) -> list[str]:
    """The registered heuristic names that can rank a `task` loop's pool with `learner`, sorted.

    Parameters
    ----------
    task : str
        The dataset's task.
    learner : object
        The loop's learner.
    """
    return [name for name in heuristics.names() if unusable(name, task, learner) is None]


def check_usable(heuristic: str | heuristics.Heuristic, task: str, learner: object) -> None:
    """Refuse a `heuristic` that cannot rank a `task` loop's pool with `learner` (``unusable``).

    Parameters
    ----------
    heuristic : str or callable
        A registered name or a heuristic function.
    task : str
        The dataset's task.
    learner : object
        The loop's learner.
    """
    why = unusable(heuristic, task, learner)
    if why is not None:
        raise ValueError(
            f"heuristic {heuristics.name_of(heuristic)!r} does not work here: {why}; "
            f"choose one of {usable_names(task, learner)}"
        )


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


_registrar("coreset", "margin", False, builtin=True)(coreset)
_registrar("cluster_margin", "margin", False, builtin=True)(cluster_margin)
_registrar("badge", "margin", False, builtin=True)(badge)
