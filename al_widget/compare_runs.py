"""compare: every heuristic run over the same seeds, in this process in turn or in worker
processes (spawned: torch and fork do not mix), each run a `simulate`."""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import sys
import types
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import heuristics
from ._class_refs import check_names
from ._numbers import check_int, is_int
from .curves import Comparison, Curve
from .simulate import checked_truth, simulate


def compare(
    images: Any,
    labels: Sequence[int] | np.ndarray,
    heuristics: Sequence[str] = ("random", "margin"),
    repeats: int = 3,
    progress: bool = True,
    *,
    n_jobs: int = 1,
    **kwargs: Any,
) -> Comparison:
    """Learning curves of each heuristic over `repeats` seeds (the same seeds for every heuristic).

    Every run (one heuristic, one seed) is a `simulate` with its own learner: a clone of
    the ``learner`` given in `kwargs` with the run's seed, or the factory's learner for it.
    With ``n_jobs > 1`` the runs share that many worker processes (started with "spawn": torch
    and fork do not mix) and each gives the same curve as it does with ``n_jobs=1``.

    Parameters
    ----------
    images : array or sequence of images
        The pool, as for `simulate`.
    labels : sequence of int
        The class id of every image.
    heuristics : sequence of str or callable, default ("random", "margin")
        The heuristics to compare, by name or as functions: a list of one or more distinct
        ones (one heuristic alone is ``["margin"]``, not ``"margin"``).
    repeats : int, default 3
        Runs per heuristic, with seeds ``0 .. repeats - 1``; at least 1.
    progress : bool, default True
        Show a progress bar over the runs.
    n_jobs : int, default 1
        Worker processes to run on (-1: one per CPU; 1: every run in this process, in turn).
        Everything a run needs is pickled to the workers: the images, a learner instance or a
        module-level factory (not a lambda), and every heuristic, registered under a name or
        given as a module-level function (not a lambda).
        A heuristic or learner defined in a notebook cell (or a Python prompt) lives in
        ``__main__``, which a spawned worker cannot import: ``compare`` refuses it with a
        `ValueError`; move it to a ``.py`` module and import it, or use ``n_jobs=1``. A script
        that calls ``compare`` with ``n_jobs > 1`` must do so under
        ``if __name__ == "__main__":``.
    **kwargs
        Passed to every `simulate` call: ``seed_size``, ``query_size``, ``budget``,
        ``learner`` (an instance, left unfitted, or a factory ``lambda seed: ...``), etc.;
        not ``seed`` (the runs' seeds are ``0 .. repeats - 1``).

    Returns
    -------
    Comparison
        The curves per heuristic, in seed order, keyed by each heuristic's registered name
        (``heuristics.name_of``: "Random" as "random", a function by its name).

    Raises
    ------
    ValueError
        For ``repeats`` below 1 or a ``seed``; for `heuristics` given as one string, empty,
        naming one twice or naming an unknown one; for labels `simulate` refuses; for ``n_jobs`` below 1
        (other than -1), or, with ``n_jobs > 1``, for something a worker could not unpickle.
    ValueError, TypeError or RuntimeError
        When a run fails (as `simulate` raises, say a RuntimeError for a failed round): its
        message names the run ("margin, seed 1: round 3 failed: ..."), the run's own error is
        chained to it, and the other runs are dropped (with ``n_jobs > 1``, those not yet
        started are cancelled).
    """
    check_int("repeats", repeats, 1)
    if "seed" in kwargs:
        raise ValueError(
            f"compare runs seeds 0 .. repeats - 1, got seed={kwargs['seed']!r}; use repeats "
            "to choose how many"
        )
    names = check_heuristics(heuristics)
    checked_truth(images, labels, kwargs.get("classes"), kwargs.get("task", "classify"))
    runs = [(name, seed) for seed in range(repeats) for name in names]
    workers = _workers(n_jobs, len(runs))
    bar = tqdm(total=len(runs), desc="compare", disable=not progress)
    try:
        if workers == 1:
            curves = []
            for name, seed in runs:
                try:
                    curve = simulate(images, labels, name, seed=seed, progress=False, **kwargs)
                except Exception as error:
                    raise _run_failed(error, name, seed) from error
                curves.append(curve)
                bar.update(1)
        else:
            curves = _in_processes(images, labels, runs, kwargs, workers, bar.update)
    finally:
        bar.close()
    result = Comparison()
    for curve in curves:  # keyed by the heuristic's registered name, as the curve holds it
        result.curves.setdefault(curve.heuristic, []).append(curve)
    return result


def check_heuristics(wanted: Any) -> list[Any]:
    """`wanted` as a list, refused unless it names one or more distinct known heuristics.

    Parameters
    ----------
    wanted : sequence of str or callable
        The heuristics to compare, by name or as functions.
    """
    found = check_names(wanted, "heuristics", allow_ids=True)
    if not found:
        raise ValueError(f"heuristics must name at least one heuristic, got {wanted!r}")
    names = [heuristics.name_of(h) for h in found]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"heuristics must be distinct, got {', '.join(map(repr, repeated))} more than once"
        )
    for h in found:
        heuristics.get(h)  # an unknown name is refused before any run
    return found


def _workers(n_jobs: int, n_runs: int) -> int:
    if not is_int(n_jobs) or (n_jobs < 1 and n_jobs != -1):
        raise ValueError(f"n_jobs must be a positive int or -1 (one per CPU), got {n_jobs!r}")
    wanted = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
    return max(1, min(wanted, n_runs))


# compare(n_jobs > 1): worker processes get the pool, the simulate arguments and the heuristics
# registered by name once, when they start, then run (heuristic, seed) pairs.
_SHARED: dict[str, Any] = {}


def _start_worker(
    images: Any, labels: Any, kwargs: dict[str, Any], registered: dict, threads: int
) -> None:
    import torch

    torch.set_num_threads(threads)  # the workers share the CPUs instead of each taking all
    for name, fn in registered.items():
        heuristics.register(name, replace=True)(fn)
    _SHARED.update(images=images, labels=labels, kwargs=kwargs)


def _run_in_worker(name: str, seed: int) -> Curve:
    return simulate(
        _SHARED["images"], _SHARED["labels"], name, seed=seed, progress=False, **_SHARED["kwargs"]
    )


def _in_processes(
    images: Any,
    labels: Any,
    runs: list[tuple[str, int]],
    kwargs: dict[str, Any],
    workers: int,
    on_done: Callable[[int], object],
) -> list[Curve]:
    """The curve of every (heuristic, seed) run, in `runs` order, from `workers` processes."""
    registered = {
        heuristics.name_of(name): heuristics.get(name)
        for name, _ in runs
        if isinstance(name, str) and not heuristics.is_builtin(name)
    }
    given = {heuristics.name_of(name): name for name, _ in runs if not isinstance(name, str)}
    shared = (images, labels, kwargs, registered, worker_threads(workers))
    _check_spawnable((*shared, given))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=shared
    ) as pool:
        futures: list[Future[Curve]] = [pool.submit(_run_in_worker, n, s) for n, s in runs]
        run_of = dict(zip(futures, runs, strict=True))
        try:
            for future in as_completed(futures):
                error = future.exception()
                if error is not None:
                    raise _run_failed(error, *run_of[future]) from error
                on_done(1)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return [future.result() for future in futures]


def _run_failed(error: BaseException, heuristic: Any, seed: int) -> Exception:
    """`error`, raised by the run of `heuristic` with `seed`, restated naming that run.

    Parameters
    ----------
    error : BaseException
        What the run raised.
    heuristic : str or callable
        The run's heuristic.
    seed : int
        The run's seed.

    Returns
    -------
    Exception
        A ValueError, TypeError or RuntimeError as `error` is one (else a RuntimeError) whose
        message starts with the run: "margin, seed 1: round 3 failed: ...".
    """
    kind = next((k for k in (ValueError, TypeError) if isinstance(error, k)), RuntimeError)
    return kind(f"{heuristics.name_of(heuristic)}, seed {seed}: {error}")


def worker_threads(workers: int) -> int:
    """The torch threads each of `workers` processes gets: the CPUs shared out, at least one."""
    return max(1, (os.cpu_count() or 1) // workers)


class _MainFinder(pickle.Pickler):
    """Pickles to nowhere, noting the functions and classes it meets that live in __main__."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL)
        self.found: list[str] = []

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (type, types.FunctionType)) and obj.__module__ == "__main__":
            self.found.append(obj.__qualname__)
        return NotImplemented


def _check_spawnable(shared: tuple[Any, ...]) -> None:
    """Refuse, naming it, what a spawned worker could not unpickle."""
    finder = _MainFinder()
    try:
        finder.dump(shared)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        raise ValueError(
            f"compare(n_jobs > 1) sends the images, the learner and the heuristics to worker "
            f"processes, and one of them does not pickle ({error}); pass a learner instance or a "
            "factory, and heuristics, defined at the top level of a module (not a lambda), or "
            "use n_jobs=1"
        ) from error
    if finder.found and getattr(sys.modules["__main__"], "__file__", None) is None:
        raise ValueError(
            f"compare(n_jobs > 1): {', '.join(sorted(set(finder.found)))} is defined in a "
            "notebook cell (or at a Python prompt), which worker processes cannot import; move "
            "it to a .py module and import it from there, or use n_jobs=1"
        )
