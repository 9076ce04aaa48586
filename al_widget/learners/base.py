"""The Learner protocol: what the loop needs from a model, and what it promises in return."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._numbers import check_int
from ._params import ParamsMixin, clone

Progress = Callable[[float], None]
ShouldStop = Callable[[], bool]

__all__ = [
    "BoxTarget",
    "Cancelled",
    "DetectionLearner",
    "Detections",
    "EmbeddingLearner",
    "InstanceDetections",
    "InstanceLearner",
    "InstanceTarget",
    "Learner",
    "ParamsMixin",
    "Progress",
    "SegmentationLearner",
    "ShouldStop",
    "check_learner",
    "clone",
    "input_size_of",
    "task_of",
    "unlabeled_wanted",
]


class Cancelled(Exception):
    """Raised by a learner that stopped training because `should_stop()` said so."""


@runtime_checkable
class Learner(Protocol):
    """A model the loop can train on labeled images and ask for class probabilities.

    Any object with these two methods is a learner; nothing needs to be inherited. Two
    optional parts make it a good citizen:

    **scikit-learn's conventions.** `__init__` only stores its parameters, unchanged, as
    attributes of the same names; `fit` validates them, chooses the device and sets the fitted
    state in attributes ending with ``_`` (``net_``, ``n_fits_``...), and returns ``self``.
    With ``get_params()`` (and ``set_params()`` for a ``seed`` parameter), for instance by
    inheriting `ParamsMixin`, the learner can be cloned: `al_widget.simulate` and
    `al_widget.compare` give each run ``clone(learner)`` and never fit the instance they are
    given. Without ``get_params()`` they need a factory, ``learner=lambda seed: ...``.

    **Input size.** The loop loads (and resizes) images for `fit` and `predict_proba` at the
    size the learner asks for: the fitted attribute ``input_size_``, else the parameter
    ``input_size``, each a ``(height, width)`` pair of ints or None. When both are missing or
    None, a batch comes at its first image's size (every image of an array dataset has the
    same size). A learner that sets ``input_size_`` in `fit` gets the pool at that size, and
    should still accept other sizes from direct calls.

    **Threads.** The `ActiveLoop` calls `fit` and `predict_proba` from its one worker thread,
    never `fit` concurrently with another of its calls. When the loop is given an `executor`,
    `predict_proba` runs on the executor's threads instead, possibly on several chunks of the
    pool at once. User code may also call `predict_proba` from the notebook, for instance on
    ``loop.learner`` between rounds.

    **Errors.** Raising `Cancelled` from `fit` (or `predict_proba`) ends the round cleanly:
    the round is recorded in ``loop.history`` as cancelled (``error == "cancelled"``), no
    label is lost, the published ranking stays, and a later round trains on every label
    again. Any other exception
    fails the round: it is recorded in the history with its type and message, an ``error``
    event is sent, and labeling goes on with the previous ranking. Either way the learner
    should keep its last complete fitted state (train a new model aside and swap it in when
    done), because the loop goes on ranking with it.

    **Unlabeled images (optional).** A classifier with a method ``unlabeled_wanted() -> int``
    that returns n > 0 learns from the pool too: each round the loop passes up to n images
    of the unlabeled pool, a new random sample each round, loaded as for `fit`, as the
    keyword argument ``unlabeled`` of `fit` ((M, H, W, 3) uint8, M >= 0). They are training
    inputs only (pseudo-labels, consistency): the loop never stores anything learned from
    them. A learner may report what it did with them in a fitted attribute
    ``semi_supervised_ = {"unlabeled": M, "pseudo_labels": k, "threshold": t}`` (or None),
    which the round's record in ``loop.history`` copies. Learners without the method are
    called as before.

    The tasks: classification is described here. A learner without a ``task`` attribute is a
    classifier. Detection, segmentation and instance segmentation learners set ``task = "detect"`` /
    ``"segment"`` / ``"instances"`` and follow `DetectionLearner` / `SegmentationLearner` /
    `InstanceLearner` below; the loop refuses a learner whose
    task is not its dataset's.
    """

    def fit(
        self, images: np.ndarray, targets: np.ndarray, progress: Progress, should_stop: ShouldStop
    ) -> object:
        """Train on the labeled images; called once per round with every label so far.

        Parameters
        ----------
        images : numpy.ndarray
            The labeled images, shape (N, H, W, 3), dtype uint8, RGB, N >= 1. Grayscale
            images come with three equal channels. All have the learner's input size when it
            has one (see the class docstring).
        targets : numpy.ndarray
            For classification, the class ids, shape (N,), dtype int64, each in
            ``0 .. n_classes - 1`` (the index into ``dataset.classes``). Every class may not
            be present yet, early rounds especially.
        progress : callable
            ``progress(fraction)`` reports how far training is, ``fraction`` a float in
            [0, 1] that never decreases, ending with 1.0 when training is done. It is cheap
            (the loop throttles what reaches the widget); a few calls per second is plenty,
            and a call every few batches is fine.
        should_stop : callable
            ``should_stop()`` returns True when the loop wants the round to end (the user
            cancelled it, or the loop is closing). Call it between batches, at least every
            second or so, and raise `Cancelled` as soon as it returns True.

        Returns
        -------
        self
            By scikit-learn's convention; the loop ignores the value.

        Raises
        ------
        Cancelled
            When `should_stop()` returned True: the round ends cleanly, nothing is lost.
        """
        ...

    def predict_proba(self, images: np.ndarray, mc_samples: int = 1) -> np.ndarray:
        """Class probabilities for images, with `mc_samples` stochastic samples each.

        Parameters
        ----------
        images : numpy.ndarray
            Shape (N, H, W, 3), dtype uint8, as for `fit`; N may be 0 and may be large (the
            loop sends the pool in chunks of ``chunk_size``, 2048 by default).
        mc_samples : int, default 1
            I, the number of samples per image. With 1 the prediction should be
            deterministic; with more, each sample is a draw from the model's uncertainty
            (for instance MC dropout), used by the ``variance`` and ``bald`` heuristics.
            A learner without stochastic predictions repeats its one prediction I times.

        Returns
        -------
        numpy.ndarray
            Float probabilities, shape (N, C, I), C the number of classes, each
            ``[n, :, i]`` non-negative and summing to 1 over C.

        Raises
        ------
        RuntimeError
            When the learner has not been fitted; the loop only calls it after a fit.
        """
        ...


BoxTarget = dict[str, np.ndarray]
"""One image's boxes for `DetectionLearner.fit`: ``{"boxes": float (K, 4) xyxy in that image's
pixels, "labels": int64 (K,) class ids}`` (torchvision's target layout); K may be 0."""

Detections = dict[str, np.ndarray]
"""One image's detections from `DetectionLearner.predict`: ``{"boxes": float (K, 4) xyxy in that
image's pixels, "labels": int64 (K,), "scores": float (K,) in [0, 1], "probs": float
(K, C + 1, I)}``; ``probs[k, :, i]`` sums to 1 over the C classes plus background (last column)."""


@runtime_checkable
class DetectionLearner(Protocol):
    """A model that finds boxes: trained on `BoxTarget`s, predicting `Detections` with uncertainty.

    Everything in `Learner` about conventions, threads, progress, `Cancelled` and errors holds.
    Images come as a list of (H_i, W_i, 3) uint8 arrays at their own sizes (they may differ);
    the learner resizes to its working size and maps boxes back to each image's pixels.

    The loop scores an image from its boxes' ``probs`` with the heuristic and the reduction
    (``max`` by default); an image with no box counts as one box of uniform probabilities, so
    that finding nothing is uncertain, not certain. The boxes become the panel's editable drafts.
    """

    task: str  # "detect"

    def fit(
        self,
        images: list[np.ndarray],
        targets: list[BoxTarget],
        progress: Progress,
        should_stop: ShouldStop,
    ) -> object:
        """Train on the labeled images and their boxes (an image may have none)."""
        ...

    def predict(self, images: list[np.ndarray], mc_samples: int = 1) -> list[Detections]:
        """One `Detections` per image, with `mc_samples` samples of each box's class probabilities."""
        ...


@runtime_checkable
class SegmentationLearner(Protocol):
    """A model that labels pixels: trained on class maps, predicting per-pixel probabilities.

    Everything in `Learner` about conventions, threads, progress, `Cancelled` and errors holds.
    Images come as a list of (H_i, W_i, 3) uint8 arrays at their own sizes; targets as a list of
    (H_i, W_i) uint8 class maps (class 0 is the background; 255, ``Mask.IGNORE``, where a pixel is
    not labeled: leave those out of the loss, e.g. with ``ignore_index=255``). The probabilities
    may come at the learner's working resolution (h, w); the loop resizes the most probable class
    to the image's size for the panel's draft and scores the image with the heuristic per pixel
    and the reduction (``top(0.01)``, the mean of the most uncertain 1 % of pixels, by default).
    """

    task: str  # "segment"

    def fit(
        self,
        images: list[np.ndarray],
        targets: list[np.ndarray],
        progress: Progress,
        should_stop: ShouldStop,
    ) -> object:
        """Train on the labeled images and their class maps."""
        ...

    def predict_proba(self, images: list[np.ndarray], mc_samples: int = 1) -> list[np.ndarray]:
        """Per image, float probabilities (C, h, w, I) summing to 1 over C."""
        ...


InstanceTarget = dict[str, np.ndarray]
"""One image's objects for `InstanceLearner.fit`: ``{"boxes": float (K, 4) xyxy, "labels": int64
(K,) class ids from 0, "masks": uint8 (K, H, W) at the image's pixels}`` (``Instances.to_target(
classes, first_label=0)``); K may be 0."""

InstanceDetections = dict[str, np.ndarray]
"""One image's objects from `InstanceLearner.predict`: the `Detections` keys, plus ``"masks"``: bool
(K, H, W) at the image's pixels, and ``"mask_samples"``: bool (K, I, ...), each object's mask in each
of the I passes on a grid of the learner's choosing (the same for all passes of one object)."""


@runtime_checkable
class InstanceLearner(Protocol):
    """A model that finds objects, each a mask and a class: trained on `InstanceTarget`s,
    predicting `InstanceDetections` with MC samples of each object's class and mask.

    Everything in `Learner` about conventions, threads, progress, `Cancelled` and errors holds.
    Images come as a list of (H_i, W_i, 3) uint8 arrays at their own sizes. The loop scores an
    image with MaskAL's uncertainty (``tasks.instance_scores``): per object, its class
    uncertainty (the heuristic), how much its mask changes between passes and in how many passes
    it is found (``1 - p_background >= 0.5``); an image where nothing is found scores 1. Objects
    with an empty mask, or the mask of a better object, are left out of the drafts.
    """

    task: str  # "instances"

    def fit(
        self,
        images: list[np.ndarray],
        targets: list[InstanceTarget],
        progress: Progress,
        should_stop: ShouldStop,
    ) -> object:
        """Train on the labeled images and their objects (an image may have none)."""
        ...

    def predict(self, images: list[np.ndarray], mc_samples: int = 1) -> list[InstanceDetections]:
        """One `InstanceDetections` per image, with `mc_samples` samples of each object's class
        probabilities and mask."""
        ...


# How the loop calls a classifier's methods: the number of positional arguments each must take.
_CALLS = {"fit": 4, "predict_proba": 2}
_PROTOCOL = (
    "fit(images, targets, progress, should_stop) and "
    "predict_proba(images, mc_samples) -> (N, C, I) probabilities"
)


def check_learner(learner: Any, task: str = "classify") -> None:
    """Refuse a learner class instead of an instance, or a learner the loop cannot call.

    The one check of a user's learner, run by the loop and by `simulate` before any round:
    a classifier needs ``fit`` and ``predict_proba`` taking the loop's arguments (a
    scikit-learn estimator's ``fit(X, y)`` does not); for the other tasks, ``fit`` (their
    prediction methods are checked when called).

    Parameters
    ----------
    learner : object
        The learner given.
    task : str, default "classify"
        The dataset's task.

    Raises
    ------
    TypeError
        Naming the class to instantiate, or the missing or uncallable method, the protocol
        and where it is described.
    """
    if isinstance(learner, type):
        name = learner.__name__
        raise TypeError(f"learner must be an instance, got the class {name}; write {name}()")
    wanted = _CALLS if task == "classify" else {"fit": _CALLS["fit"]}
    for method, n_args in wanted.items():
        found = getattr(learner, method, None)
        if not callable(found):
            raise TypeError(
                f"learner must have {_PROTOCOL} (see al_widget/learners/base.py), got "
                f"{type(learner).__name__} without {method}()"
            )
        try:
            signature = inspect.signature(found)
        except (TypeError, ValueError):  # a builtin or extension method: nothing to read
            continue
        try:
            signature.bind(*range(n_args))
        except TypeError:
            raise TypeError(
                f"{type(learner).__name__}.{method}{signature} cannot be called as the loop "
                f"calls it: a learner has {_PROTOCOL} (see al_widget/learners/base.py; a "
                "scikit-learn estimator needs a wrapper class with these methods)"
            ) from None


def task_of(learner: Any) -> str:
    """The task a learner is for: its ``task`` attribute, else "classify"."""
    return str(getattr(learner, "task", "classify"))


def unlabeled_wanted(learner: Any) -> int:
    """How many unlabeled pool images a learner's `fit` takes per round (0: none, the default)."""
    wanted = getattr(learner, "unlabeled_wanted", None)
    if not callable(wanted):
        return 0
    n = wanted()
    check_int(f"what {type(learner).__name__}.unlabeled_wanted() returns", n, 0)
    return int(n)


def input_size_of(learner: Any) -> tuple[int, int] | None:
    """The (height, width) a learner wants its images at: `input_size_`, else `input_size`."""
    size = getattr(learner, "input_size_", None)
    if size is None:
        size = getattr(learner, "input_size", None)
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        return (int(size), int(size))  # a square working size, as Segmenter's input_size
    return (int(size[0]), int(size[1]))


@runtime_checkable
class EmbeddingLearner(Protocol):
    """A learner whose images go through a fixed embedding, so embeddings can be cached.

    The loop keeps the embeddings of the pool in an embedding cache (``ActiveLoop(...,
    cache_dir=...)``) for a learner with these methods, and trains and scores it on them.
    """

    def embedding_key(self) -> str:
        """Identifies the embedding (backbone, its weights, input size); changes when they do."""
        ...

    def embed(self, images: np.ndarray) -> np.ndarray:
        """(n, d) float embeddings of (n, H, W, 3) uint8 images.

        Parameters
        ----------
        images : numpy.ndarray
            (n, H, W, 3) uint8 images.
        """
        ...

    def fit_embeddings(
        self,
        embeddings: np.ndarray,
        targets: np.ndarray,
        progress: Progress,
        should_stop: ShouldStop,
    ) -> object:
        """Train on embeddings as `fit` trains on images.

        A learner with ``unlabeled_wanted()`` (see ``learners.base.Learner``) also gets, as
        ``unlabeled=``, the cached (M, d) embeddings of a random sample of the unlabeled pool.

        Parameters
        ----------
        embeddings : numpy.ndarray
            (n, d) embeddings of the labeled images.
        targets : numpy.ndarray
            (n,) int64 class ids.
        progress : callable
            Receives the fraction of training done, in [0, 1].
        should_stop : callable
            Returns True when training should stop (raise `Cancelled`).
        """
        ...

    def predict_proba_embeddings(self, embeddings: np.ndarray, mc_samples: int = 1) -> np.ndarray:
        """(n, C, I) probabilities from embeddings, as `predict_proba` from images.

        Parameters
        ----------
        embeddings : numpy.ndarray
            (n, d) embeddings.
        mc_samples : int, default 1
            MC dropout samples (I) per embedding.
        """
        ...
