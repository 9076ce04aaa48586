"""Headless active learning with an oracle: learning curves, and heuristics compared with random."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import numpy as np
from tqdm.auto import tqdm

from . import heuristics
from ._images import make_source
from ._numbers import check_int, is_int
from .annotations import Annotation, Label, Mask, check_labels_a_pixel
from .curves import Curve
from .dataset import ANNOTATION_TYPES, Dataset, check_task
from .draft_log import oracle_savings
from .drafts import Savings
from .learners import Learner, clone
from .learners.base import check_learner, task_of
from .loop import ActiveLoop
from .metrics import check_ids
from .records import RoundRecord
from .tasks.base import check_eval_set


def _split(n: int, test_size: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size}")
    order = rng.permutation(n)
    n_test = max(1, round(n * test_size))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def _take(images: Any, indices: np.ndarray) -> Any:
    """The images at `indices`, of an array or of a sequence."""
    return images[indices] if isinstance(images, np.ndarray) else [images[i] for i in indices]


def balanced_seed(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` pool positions spread evenly over the classes, at random within each class."""
    by_class = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    picked = [
        group[k] for k in range(max(map(len, by_class))) for group in by_class if k < len(group)
    ]
    return np.array(picked[:size], dtype=np.int64)


def simulate(
    images: Any,
    labels: Sequence[int] | np.ndarray,
    heuristic: str | heuristics.Heuristic = "margin",
    seed_size: int = 20,
    query_size: int = 10,
    budget: int = 300,
    test_size: float = 0.2,
    seed: int = 0,
    learner: Learner | Callable[[int], Learner] | None = None,
    *,
    pool_sample: int | None = None,
    mc_samples: int | None = None,
    test: tuple[Any, Any] | None = None,
    classes: Sequence[str] | None = None,
    task: str = "classify",
    reduction: Any = None,
    progress: bool = True,
) -> Curve:
    """Run active learning with an oracle that knows `labels`; returns the learning curve.

    The oracle labels a class-balanced seed set, then each round's `query_size` top-ranked
    images, until `budget` images are labeled; after each round the model is measured on a
    held-out test set.

    Parameters
    ----------
    images : array or sequence of images
        The pool: an (N, H, W) or (N, H, W, 3) uint8 array, or a sequence of images (arrays,
        PIL images or paths), as `Dataset` takes.
    labels : sequence
        The truth for every image, one each: integer class ids ``0 .. C - 1`` for
        classification (C: ``len(classes)``, else the largest id + 1), `Boxes` for detection,
        `Mask` class maps for segmentation.
    heuristic : str or callable, default "margin"
        The acquisition heuristic, by name (see `al_widget.heuristics`) or as a function;
        "auto" learns which heuristic pays during the run (its weights are in the curve).
    seed_size : int, default 20
        Labels given before the first round (classification: spread evenly over the classes;
        else at random).
    query_size : int, default 10
        Labels given per round, the top of the ranking.
    budget : int, default 300
        Stop when this many images are labeled; ``seed_size <= budget <= pool size``.
    test_size : float, default 0.2
        The fraction of `images` held out as the test set (unless `test` is given).
    seed : int, default 0
        Seeds the split, the seed set, the loop and the learner.
    learner : Learner or callable, optional
        The model to train. An instance is never fitted itself: the run trains
        ``al_widget.learners.clone(learner)``, with its ``seed`` parameter (when it has one)
        set to `seed`, so the instance needs ``get_params()`` (scikit-learn's conventions).
        A callable ``learner(seed)`` returning a new learner works for any learner. None:
        a `Classifier` seeded with `seed`.
    pool_sample : int, optional
        Score a random sample of this many unlabeled images per round (None: all of them).
    mc_samples : int, optional
        MC dropout samples per image (None: as the heuristic needs).
    test : (images, labels), optional
        A separate test set; then all of `images` is the pool and `test_size` is unused.
    classes : sequence of str, optional
        Class names (default for classification: the ids as strings; needed for the others).
    task : {"classify", "detect", "segment"}, default "classify"
        What `labels` hold, and which default learner and metric (accuracy, mAP, mIoU) apply.
    reduction : str or callable, optional
        Detection and segmentation: how box / pixel scores reduce per image (see `ActiveLoop`).
    progress : bool, default True
        Show a progress bar.

    Returns
    -------
    Curve
        The test metric (with the boxes drawn, for detection), train and score times after
        each successful round; for "auto", each heuristic's weight after each round; for
        detection and segmentation, what each round's drafts saved the oracle on the images it
        labeled next (``Curve.drafts``: the drafts at or above the calibrated threshold; one
        saves its object at IoU >= 0.7 with it).

    Raises
    ------
    ValueError
        For labels that do not give one truth per image (or, classifying, are not integer
        class ids in ``0 .. C - 1``), a learner whose ``n_classes`` is not C, an impossible
        budget or test size; when unreadable images leave too few to reach the budget.
    TypeError
        For a learner class instead of an instance, a learner without `fit` and
        `predict_proba` taking the loop's arguments (`learners.base.check_learner`), or an
        instance that cannot be cloned.
    RuntimeError
        When a round fails (with the round's error).
    """
    classes_given = classes is not None
    truth, classes = checked_truth(images, labels, classes, task)
    run_learner = learner_for_run(learner, seed)
    _check_learner_classes(run_learner, classes, given=classes_given)
    rng = np.random.default_rng(seed)
    if test is None:
        train, held_out = _split(len(truth), test_size, rng)
        dataset = Dataset(_take(images, train), classes, task)
        pool_truth, test = _take(truth, train), (_take(images, held_out), _take(truth, held_out))
    else:
        check_eval_set(test, "test")
        dataset, pool_truth = Dataset(images, classes, task), truth
    check_budget(seed_size, budget, len(pool_truth))

    def oracle(i: int) -> Annotation:
        return Label(int(pool_truth[i])) if task == "classify" else pool_truth[i]

    saved: dict[int, Savings] = {}  # by the model version whose drafts were shown
    loop = ActiveLoop(
        dataset,
        run_learner,
        heuristic,
        pool_sample,
        query_size,
        mc_samples=mc_samples,
        reduction=reduction,
        eval_set=test,
        seed=seed,
        start=False,
    )
    bar = tqdm(
        total=budget,
        desc=f"{heuristics.name_of(heuristic)} (seed {seed})",
        disable=not progress,
        leave=False,
    )
    try:
        first = (
            balanced_seed(pool_truth, seed_size, rng)
            if task == "classify"
            else rng.permutation(len(pool_truth))[:seed_size]
        )
        for i in first:
            loop.commit(int(i), oracle(int(i)))
        bar.update(seed_size)
        loop.start()
        settle(loop)
        for batch in oracle_batches(loop, budget, query_size):
            for i in batch:
                if task != "classify":
                    model = loop.ranking.model_version
                    shown = loop.prediction(int(i), calibrated=True)
                    found = oracle_savings(shown, oracle(int(i)), classes)
                    saved[model] = saved.get(model, Savings()) + found
                loop.commit(int(i), oracle(int(i)))
            bar.update(len(batch))
    finally:
        bar.close()
        loop.close()
    rounds = [r for r in loop.history if r.retrained and r.ok]
    return Curve(
        heuristics.name_of(heuristic),
        np.array([r.n_labels for r in rounds]),
        np.array([r.metric for r in rounds]),
        np.array([r.train_seconds for r in rounds]),
        np.array([r.score_seconds for r in rounds]),
        seed,
        n_boxes=np.array([r.n_boxes for r in rounds]) if task == "detect" else None,
        metric_name=(rounds[-1].metric_name if rounds else None) or "accuracy",
        weights=_weights(rounds),
        drafts=None
        if task == "classify"
        else tuple(saved.get(r.model_version, Savings()) for r in rounds),
    )


def check_budget(seed_size: Any, budget: Any, pool_size: int) -> None:
    """Refuse a seed set size and budget that are not ints with 0 < seed_size <= budget <= pool.

    Parameters
    ----------
    seed_size, budget : int
        The labels given before the first round, and in all.
    pool_size : int
        The images there are to label.
    """
    check_int("seed_size", seed_size, 1)
    check_int("budget", budget, 1)
    if not seed_size <= budget <= pool_size:
        raise ValueError(
            f"need 0 < seed_size ({seed_size}) <= budget ({budget}) <= pool size ({pool_size})"
        )


def _weights(rounds: list[RoundRecord]) -> dict[str, np.ndarray] | None:
    """Each arm's weight after each round of an "auto" run (None for other heuristics)."""
    chosen = [r.auto for r in rounds]
    if not chosen or any(c is None for c in chosen):
        return None
    arms = list(chosen[-1].weights)  # type: ignore[union-attr]
    return {a: np.array([c.weights.get(a, np.nan) for c in chosen]) for a in arms}  # type: ignore[union-attr]


def checked_truth(
    images: Any, labels: Any, classes: Sequence[str] | None, task: str
) -> tuple[Any, list[str]]:
    """The oracle's truth, one per image, and the class names (given, or up to the largest id)."""
    truth = _truth(labels, task)
    n_images = len(make_source(images))
    if len(truth) != n_images:
        raise ValueError(
            f"labels must give one label per image: {n_images} images, got {len(truth)} labels"
        )
    names = _classes(classes, truth, task)
    if task == "classify":
        given = "" if classes is None else f" (classes={names})"
        check_ids("labels", truth, len(names), given)
    return truth, names


def _truth(labels: Any, task: str) -> Any:
    """The oracle's truth: class ids as an int array, or the annotations as a list."""
    check_task(task)
    if task == "classify":
        return _class_ids(labels)
    truth = list(labels)
    kind = ANNOTATION_TYPES[task]
    for k, item in enumerate(truth):
        if not isinstance(item, kind):
            raise ValueError(
                f"a {task!r} simulation needs {kind.__name__} truths, got {type(item).__name__} for image {k}"
            )
        if isinstance(item, Mask):  # the oracle commits it: it must be a label
            try:
                check_labels_a_pixel(item)
            except ValueError as error:
                raise ValueError(f"labels[{k}]: {error}") from None
    return truth


def _class_ids(labels: Any) -> np.ndarray:
    """`labels` as a 1-D int array, refused unless it holds integer class ids."""
    try:
        ids = np.asarray(labels)
    except ValueError as error:  # a ragged nesting of sequences
        raise ValueError(f"labels must be 1-D: one class id per image ({error})") from error
    if ids.ndim != 1:
        raise ValueError(f"labels must be 1-D: one class id per image, got shape {ids.shape}")
    if ids.size and ids.dtype.kind not in "iub":
        raise ValueError(
            f"labels must be integer class ids 0 .. C - 1 (class names go in classes=[...]), "
            f"got dtype {ids.dtype} with values like {ids[:1].tolist()[0]!r}"
        )
    return ids.astype(np.int64)


def _classes(classes: Sequence[str] | None, truth: Any, task: str) -> list[str]:
    if classes is not None:
        return list(classes)
    if task != "classify":
        raise ValueError(f"a {task!r} simulation needs classes=[...] (the class names)")
    return [str(c) for c in range(int(truth.max(initial=0)) + 1)]


def _check_learner_classes(learner: Any, classes: list[str], *, given: bool) -> None:
    """Refuse a learner whose ``n_classes`` is not the number of classes of the run."""
    n = getattr(learner, "n_classes", None)
    if not is_int(n) or n == len(classes):
        return
    if given:
        found = f"classes names {len(classes)}: {classes}"
    else:
        found = (
            f"the labels hold {len(classes)} classes (ids 0 .. {len(classes) - 1}; without "
            "classes=[...], the largest label sets the number of classes)"
        )
    raise ValueError(
        f"learner has n_classes={n}, but {found}; pass classes=[...] with the {n} class names, "
        f"or a learner with n_classes={len(classes)}"
    )


def learner_for_run(
    learner: Learner | Callable[[int], Learner] | None, seed: int
) -> Learner | None:
    """A learner of the run's own: the factory's, or an unfitted clone seeded with `seed`."""
    if learner is None:
        return None
    if isinstance(learner, type):
        check_learner(learner)  # a class is refused, never called as a factory
    factory = callable(learner) and not hasattr(learner, "fit")
    made = learner(seed) if factory else learner  # type: ignore[operator]
    check_learner(made, task_of(made))
    if factory:
        return cast(Learner, made)
    own: Any = clone(made)
    if "seed" in own.get_params():
        own.set_params(seed=seed)
    return cast(Learner, own)


def settle(loop: ActiveLoop) -> None:
    """Wait for `loop`'s round to end; a RuntimeError naming it if that round failed."""
    loop.wait()
    last = loop.history[-1] if loop.history else None
    if last is not None and not last.ok:
        raise RuntimeError(f"round {last.round} failed: {last.error}")


def oracle_batches(loop: ActiveLoop, budget: int, query_size: int) -> Iterator[np.ndarray]:
    """Each round's images for an oracle to label, until the dataset holds `budget` labels.

    Yields the top of the queue (at most `query_size` images, cut to the budget); once the
    caller has labeled them, waits for the round they start (`settle`).

    Parameters
    ----------
    loop : ActiveLoop
        A started loop whose first round has ended.
    budget : int
        The labels to reach.
    query_size : int
        The most images per round.

    Raises
    ------
    ValueError
        When the queue runs dry before the budget: the images left cannot be read
        (``loop.broken``); the error names them and the labels reached.
    """
    while (done := len(loop.dataset.labeled)) < budget:
        batch = loop.queue[: min(query_size, budget - done)]
        if not len(batch):
            broken = loop.broken
            reasons = "; ".join(broken[i] for i in sorted(broken)[:5])
            raise ValueError(
                f"the budget of {budget} labels cannot be reached: {done} images are labeled and "
                f"the {len(broken)} left could not be read ({reasons}); fix or remove them, or "
                f"lower budget to {done}"
            )
        yield batch
        settle(loop)
