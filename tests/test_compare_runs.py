"""compare: what it refuses before any run, and how a failed run is reported."""

import sys
import types

import numpy as np
import pytest

import al_widget as alw

from conftest import CentroidLearner


@pytest.fixture
def toy_pool():
    toy = alw.datasets.cats_vs_milkshakes(120, seed=0)
    return toy.images, toy.labels


def _compare(pool, heuristics, **kwargs):
    return alw.compare(
        *pool,
        heuristics,
        repeats=1,
        budget=8,
        seed_size=4,
        query_size=4,
        learner=CentroidLearner(2),
        progress=False,
        **kwargs,
    )


def test_compare_in_processes_refuses_a_heuristic_given_as_a_lambda(toy_pool, monkeypatch):
    started = []
    monkeypatch.setattr("al_widget.compare_runs.ProcessPoolExecutor", started.append)
    with pytest.raises(ValueError, match=r"does not pickle \(.*<lambda>.*\).*not a lambda"):
        _compare(toy_pool, ["random", lambda probs: np.zeros(len(probs))], n_jobs=2)
    assert started == []  # refused before any worker starts


def test_compare_in_processes_refuses_a_heuristic_function_from_a_notebook_cell(
    toy_pool, monkeypatch
):
    def cell_score(probs):
        return np.zeros(len(probs))

    notebook = types.ModuleType("__main__")  # a kernel's __main__: no __file__ to import
    cell_score.__module__, cell_score.__qualname__ = "__main__", "cell_score"
    notebook.cell_score = cell_score
    monkeypatch.setitem(sys.modules, "__main__", notebook)
    with pytest.raises(ValueError, match=r"cell_score is defined in a notebook cell"):
        _compare(toy_pool, ["random", cell_score], n_jobs=2)


class FailsOnSeed1(CentroidLearner):
    """Fails its third fit in the runs with seed 1 (module level: workers can import it)."""

    def __init__(self, n_classes, seed=0):
        super().__init__(n_classes)
        self.seed = seed

    def fit(self, images, targets, progress, should_stop):
        if self.seed == 1 and getattr(self, "n_fits_", 0) == 2:
            raise RuntimeError("fit blew up")
        return super().fit(images, targets, progress, should_stop)


def _compare_failing(pool, n_jobs):
    return alw.compare(
        *pool,
        ["random"],
        repeats=2,
        budget=20,
        seed_size=4,
        query_size=4,
        learner=FailsOnSeed1(2),
        progress=False,
        n_jobs=n_jobs,
    )


def test_a_failed_compare_run_is_named_by_its_heuristic_and_seed(toy_pool):
    with pytest.raises(RuntimeError, match=r"^random, seed 1: round 3 failed: .*fit blew up"):
        _compare_failing(toy_pool, n_jobs=1)


def test_a_failed_compare_run_chains_the_run_s_own_error(toy_pool):
    with pytest.raises(RuntimeError) as caught:
        _compare_failing(toy_pool, n_jobs=1)
    assert str(caught.value.__cause__).startswith("round 3 failed")


@pytest.mark.slow
def test_a_failed_compare_run_in_a_worker_process_is_named_by_its_heuristic_and_seed(toy_pool):
    with pytest.raises(RuntimeError, match=r"^random, seed 1: round 3 failed: .*fit blew up"):
        _compare_failing(toy_pool, n_jobs=2)
