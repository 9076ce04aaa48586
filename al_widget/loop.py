"""ActiveLoop: one object over the labeling session (user's thread) and the round worker (worker thread)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, Literal

import numpy as np

from . import heuristics, scoring, selectors
from ._numbers import check_int
from .annotations import Annotation
from .cold_start import check_cold_start
from .dataset import Dataset
from .learners import Learner
from .learners.defaults import first_image_size, resolve
from .loop_checks import check_reason, checked_shown
from .loop_views import LoopViews
from .round_worker import Callback, RoundWorker
from .rounds import RoundRunner, random_ranking
from .session import SHOWN_AT_THRESHOLD, Session, Undone
from .settings import SETTING_DOCS, Settings


def _setting(name: str) -> property:
    def get(self: ActiveLoop) -> Any:
        return getattr(self._worker.settings, name)

    def set(self: ActiveLoop, value: Any) -> None:
        self._worker.change(**{name: value})

    return property(get, set, doc=SETTING_DOCS[name])


def _observer(event: str, when: str) -> Callable[[ActiveLoop, Callback], Callback]:
    def on(self: ActiveLoop, fn: Callback) -> Callback:
        return self._worker.observe(event, fn)

    on.__doc__ = (
        f"Call {when}; runs on the worker thread. Returns fn (a decorator).\n\n"
        "Parameters\n----------\nfn : callable\n    The observer; one that raises is logged.\n"
    )
    return on


class ActiveLoop(LoopViews):
    """Pool-based active learning over a Dataset, retraining in one background thread.

    The user's thread labels through the loop (``next``, ``commit``, ``skip``, ``undo``, ``redo``); a worker
    thread retrains the learner and re-ranks the pool. They share only the Dataset (locked) and the
    immutable Ranking and RoundRecord the worker publishes. Lock order: panel → session → round worker →
    dataset.

    Parameters
    ----------
    dataset : Dataset
        The images to label and the annotations so far.
    learner : optional
        The model to train, following the protocol of the dataset's task
        (``al_widget.learners.base``); by default a small CNN ``Classifier``, a tiny FCOS
        ``Detector`` or a small U-Net ``Segmenter``.
    heuristic : str or callable, default "margin"
        A registered heuristic name (``al_widget.heuristics.names()``) or a function from
        probabilities (N, C, I) to scores (N,), higher = more uncertain. The names include the
        batch selectors (``al_widget.selectors.names()``: "coreset", "cluster_margin",
        "badge"), whose batch of ``query_size`` diverse images leads the queue; they need a
        learner with ``embed`` (the default learners of every task have it;
        ``selectors.usable_names``), and are refused with a ValueError elsewhere. "auto" learns
        which heuristic pays while you label (``al_widget.auto``) among random, margin, entropy,
        and bald and variance when ``mc_samples >= 2`` (or ``al_widget.auto.Auto(arms=[...])``):
        with an ``eval_set`` each round's ``query_size`` queries are one heuristic's top
        choices, without one each query is drawn from its own heuristic's, and each heuristic's
        weight follows the gain its queries brought (``loop.bandit``; per round in
        ``history[k].auto``).
    pool_sample : int or None, default 100
        How many unlabeled images each round scores, at random (explore); None scores the whole
        pool (exploit).
    query_size : int, default 10
        How many new labels start a round.
    budget : int, optional
        Stop after this many labels.
    rounds : int, optional
        Stop after this many successful training rounds.
    target : float, optional
        Stop once the round's metric (accuracy on ``eval_set``, else agreement with recent labels)
        reaches this value, in [0, 1] as the metrics are; never before a round measured one.
    mc_samples : int, optional
        MC-dropout samples per image when scoring; by default 20 for ``variance`` and ``bald``,
        else 1.
    temperature : float, optional
        Sample the queue with probability ~ score ** (1 / temperature) (power sampling); None or 0
        ranks greedily.
    reduction : str or callable, optional
        Detection and segmentation: how per-box / per-pixel uncertainty becomes one score per
        image: "max" (boxes' default), "sum", "mean", "top(q)" (the mean of the top fraction q
        of pixels; masks' default "top(0.01)") or a function.
    eval_set : (images, annotations), optional
        A held-out set measured after each round: class labels (accuracy), ``Boxes`` (mAP and
        AP50) or ``Mask`` (mean IoU).
    executor : concurrent.futures.Executor, optional
        Scores pool chunks through ``executor.map`` (e.g. a Dask ``client.get_executor()``);
        by default in the worker thread.
    chunk_size : int, default 2048
        Images per scoring chunk (at most 256 per embedding chunk).
    cache_dir : path, optional
        For a learner with cacheable embeddings (``learners.EmbeddingClassifier``): the folder
        where the pool's embeddings are kept (memory-mapped, float16), so that a new loop or a
        kernel restart reuses them; None keeps them in memory for this loop's life.
    cold_start : {"typical", "random"}, default "typical"
        The queue before any model, when the dataset has no labels yet. "typical": with a
        learner whose embeddings are cached (``learners.EmbeddingClassifier``) a first round
        embeds a sample of the pool (``pool_sample`` images, at most 1,000) and queues typical
        images first, one from each part of the pool (TypiClust, Hacohen et al. 2022); other
        learners start at random. "random": random order, and no round before the first labels.
    seed : int, default 0
        Seeds the default learner, the pool samples and tie-breaks.
    start : bool, default True
        Start the worker thread now (else call ``start()``).
    """

    def __init__(
        self,
        dataset: Dataset,
        learner: Learner | None = None,
        heuristic: str | heuristics.Heuristic = "margin",
        pool_sample: int | None = 100,
        query_size: int = 10,
        budget: int | None = None,
        rounds: int | None = None,
        target: float | None = None,
        *,
        mc_samples: int | None = None,
        temperature: float | None = None,
        reduction: str | Callable[[np.ndarray], float] | None = None,
        eval_set: tuple[Any, Any] | None = None,
        executor: Executor | None = None,
        chunk_size: int = 2048,
        cache_dir: str | os.PathLike[str] | None = None,
        cold_start: str = "typical",
        seed: int = 0,
        start: bool = True,
    ) -> None:
        settings = Settings(
            heuristic, pool_sample, query_size, mc_samples, temperature, budget, rounds, target
        ).changed(reduction=reduction)
        check_int("chunk_size", chunk_size, 1)
        check_cold_start(cold_start)
        learner = resolve(
            learner, dataset.task, len(dataset.classes), seed, first_image_size(dataset)
        )
        selectors.check_usable(heuristic, dataset.task, learner)
        self.dataset = dataset
        # The user's thread draws from this one: the first random queue, and picks past its end.
        rng = np.random.default_rng([seed, 1])
        self._session = Session(dataset, rng)
        runner = RoundRunner(
            dataset,
            learner,
            executor=executor or scoring.Inline(),
            chunk_size=chunk_size,
            eval_set=eval_set,
            rng=np.random.default_rng(seed),
            cache_dir=cache_dir,
        )
        initial = random_ranking(self._session.candidates(), pool_sample, dataset.version, rng)
        self._worker = RoundWorker(
            dataset,
            runner,
            settings,
            initial,
            candidates=self._session.candidates,
            report_broken=self._session.report_broken,
            agreement=self._session.agreement,
        )
        if cold_start == "typical" and runner.strategy.cold_starts and not len(dataset.labeled):
            # A learner with cached embeddings can choose the first images before any label:
            # typical ones, spread over the pool (the round embeds a sample of the pool).
            self._worker.rerank()
        if start:
            self.start()

    def __repr__(self) -> str:
        return (
            f"ActiveLoop({self.dataset!r}, heuristic={heuristics.name_of(self.heuristic)!r}, "
            f"pool_sample={self.pool_sample}, model_version={self.model_version}, state={self.state!r})"
        )

    # -- settings (any thread; each checked when given) -----------------------------------------

    @property
    def heuristic(self) -> str | heuristics.Heuristic:
        """The acquisition heuristic (a name or a function); setting it re-ranks now.

        One that cannot rank this loop's pool (a batch selector in detection, say) is refused
        with a ValueError naming those that can.
        """
        return self._worker.settings.heuristic

    @heuristic.setter
    def heuristic(self, value: str | heuristics.Heuristic) -> None:
        selectors.check_usable(value, self.dataset.task, self.learner)
        self._worker.change(heuristic=value)

    pool_sample = _setting("pool_sample")
    query_size = _setting("query_size")
    mc_samples = _setting("mc_samples")
    temperature = _setting("temperature")
    budget = _setting("budget")
    rounds = _setting("rounds")
    target = _setting("target")
    reduction = _setting("reduction")

    # -- acting --------------------------------------------------------------------------------

    def commit(
        self,
        i: int,
        annotation: Annotation,
        *,
        replace: bool = False,
        shown: Annotation | object | None = SHOWN_AT_THRESHOLD,
        orientation: int | Literal["file"] | None = "file",
    ) -> Annotation:
        """Label image `i`; returns the annotation as stored, at once: retraining is in the background.

        For detection, segmentation and instances the model's drafts for `i` are compared
        with what is stored: ``draft_threshold`` is recalibrated and ``draft_savings`` counts
        the drafts `shown` that were accepted, adjusted or deleted, and the objects drawn.

        Parameters
        ----------
        i : int
            A dataset index.
        annotation : Label, Boxes, Mask or Instances
            The annotation, of the dataset's task.
        replace : bool, default False
            Replace an existing annotation instead of refusing it.
        shown : Boxes, Mask, Instances or None, optional
            The drafts the labeler saw (None: none); by default those at or above
            ``draft_threshold`` (``prediction(i, calibrated=True)``).
        orientation : int, None or "file", default "file"
            The EXIF orientation of the pixels the label was drawn on, which the journal
            records with it (``Dataset.annotate``): "file" reads the one image `i`'s file has
            now, for a label drawn on the image as it is; what showed the image gives the one
            it read the pixels in (``Dataset.oriented_image``).
        """
        shown = checked_shown(shown, self.dataset, i)  # before anything is stored
        self._worker.check_open()
        stored = self._session.commit(
            i, annotation, self.ranking, replace=replace, shown=shown, orientation=orientation
        )
        self._worker.labels_changed(+1)
        return stored

    def skip(self, i: int) -> None:
        """Leave image `i` out of the queue (``undo`` brings it back).

        Parameters
        ----------
        i : int
            The dataset index of the image, still to label.
        """
        self._worker.check_open()
        self._session.skip(i)

    def undo(self) -> int | None:
        """Undo the last commit or skip; that image goes back to the head of the queue."""
        self._worker.check_open()
        undone = self._session.undo()
        if undone is None:
            return None
        action, i = undone
        self._worker.undone(action, i)
        return i

    def redo(self) -> int | None:
        """Commit or skip again what the latest ``undo`` took back; returns that image's index, or
        None when there is nothing to redo (a commit or skip since an undo clears what it took).

        All or nothing, like ``undo``: when the label cannot be stored (``JournalError``), the
        error is raised and nothing changed.
        """
        self._worker.check_open()
        redone = self._session.redo(self.ranking)
        if redone is None:
            return None
        action, i = redone
        if action == "commit":
            self._worker.labels_changed(+1)
        return i

    @property
    def to_undo(self) -> tuple[str, int] | None:
        """What ``undo`` would take back: ``(action, index)`` (``action`` is "commit" or
        "skip"), or None: a panel reads the image first, and refuses an undo it cannot show."""
        return self._session.to_undo()

    @property
    def undone(self) -> Undone | None:
        """What ``redo`` would make again: the latest undo's ``(action, index, annotation)``
        (``action`` is "commit" or "skip"), or None."""
        return self._session.undone()

    def edited_since_undo(self, i: int) -> bool:
        """Whether image `i`, brought back by an undo ``redo`` would make again, was edited
        since in a panel on this loop (``note_edited``): redo would overwrite the edit.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        return self._session.edited_since_undo(i)

    def note_edited(self, i: int) -> None:
        """Say that image `i` was edited since the undo that brought it back (a panel does, on
        each edit): every panel on the loop then refuses to redo it.

        Parameters
        ----------
        i : int
            A dataset index; nothing is noted when no undo ``redo`` would make again brought
            it back.
        """
        self._session.note_edited(i)

    @property
    def undone_drafts(self) -> Annotation | None:
        """The model's drafts the labeler was shown when the commit ``redo`` would make again was
        made (``commit``'s `shown`), or None: a panel counts what they save when it is
        submitted again."""
        return self._session.undone_drafts()

    @property
    def undone_drawn_in(self) -> int | None:
        """The EXIF orientation of the pixels the label of the commit ``redo`` would make again
        was drawn on, as the journal recorded it (``Dataset.drawn_in``), or None: a panel that
        brings the label back to edit does not show it on the photo turned since."""
        return self._session.undone_drawn_in()

    def mark_broken(self, i: int, reason: str) -> None:
        """Leave image `i` out of the queue because it cannot be shown or read.

        Parameters
        ----------
        i : int
            The dataset index of the image.
        reason : str
            Why it cannot be shown or read.
        """
        i = self.dataset.check_index(i)
        check_reason(i, reason)
        # Allowed once closed too: it stores no label, and a panel still open reads images.
        self._session.report_broken({i: reason})

    def retrain(self) -> None:
        """Start a round (train and re-rank) now, whatever the number of new labels."""
        self._worker.retrain()

    def cancel(self) -> None:
        """Stop the running round's training at its next batch; nothing labeled is lost.

        The labels it was training on stay untrained: ``wait()`` returns False for them rather
        than train again, until another label, undo, re-ranking setting or ``retrain()``.
        """
        self._worker.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a finished round reflects every label and setting so far; False on timeout.

        Every label needs a round that trained on it (one that only re-ranked, after a
        ``heuristic`` or ``pool_sample`` change, is not enough): wait starts it if none is due.
        It returns False, without training again, when ``cancel()`` stopped that round.

        Parameters
        ----------
        timeout : float, optional
            The most seconds to wait (None: no limit).

        Raises
        ------
        RuntimeError
            Called on the loop's worker thread (in an observer: it would wait for itself), before
            ``start()`` (a loop made with ``start=False``), or after ``close()``.
        """
        return self._worker.wait(timeout)

    def start(self) -> None:
        """Start the background worker (done by the constructor unless start=False)."""
        self._worker.start()

    def close(self, timeout: float = 10.0) -> bool:
        """Stop the worker: the running round is cancelled; safe to call twice.

        Parameters
        ----------
        timeout : float, default 10.0
            The most seconds to wait for the running round to stop.
        """
        return self._worker.close(timeout)

    def __enter__(self) -> ActiveLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- observers (each returns fn, so it works as a decorator) --------------------------------

    on_round_start = _observer("round_start", "fn(round_number) when a round starts")
    on_progress = _observer("progress", "fn(fraction) as training advances")
    on_ranking = _observer("ranking", "fn(ranking) when a new ranking is published")
    on_error = _observer("error", "fn(record) when a round fails")

    def on_undo(self, fn: Callback) -> Callback:
        """Call fn(action, index) when ``undo`` takes back a commit or skip (action "commit" or
        "skip"), whoever undid it (a panel, a cell); runs on the thread that undid it. Returns
        fn (a decorator).

        Parameters
        ----------
        fn : callable
            Receives the action undone and the image's index.
        """
        return self._worker.observe("undo", fn)

    def remove_observer(self, fn: Callable[..., Any]) -> None:
        """Stop calling `fn`, an observer given to any ``on_*`` (a closed panel drops its own).

        Parameters
        ----------
        fn : callable
            The observer; nothing happens when it observes nothing.
        """
        self._worker.unobserve(fn)

    def on_settings(self, fn: Callback) -> Callback:
        """Call fn(settings) when a setting changes (``loop.budget = 300``); runs on the thread
        that changed it. Returns fn (a decorator).

        Parameters
        ----------
        fn : callable
            Receives the new `Settings`.
        """
        return self._worker.observe("settings", fn)
