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
is refused with an error naming the selector. The built-in selectors' picks, and the geometry
they share, are in ``builtin_selectors.py``. This module imports numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import auto, heuristics
from .builtin_selectors import SHORTLIST as SHORTLIST
from .builtin_selectors import badge, cluster_margin, coreset

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


_registrar("coreset", "margin", False, builtin=True)(coreset)
_registrar("cluster_margin", "margin", False, builtin=True)(cluster_margin)
_registrar("badge", "margin", False, builtin=True)(badge)
