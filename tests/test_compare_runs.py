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
