import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import al_widget as alw
from al_widget.learners import Classifier

from conftest import BrightIsSquare, CentroidLearner


@pytest.fixture(scope="module")
def digits():
    return alw.datasets.digits()


def test_simulate_returns_one_point_per_round_from_seed_to_budget(two_class):
    images, labels = two_class
    curve = alw.simulate(
        images,
        labels,
        "margin",
        seed_size=4,
        query_size=4,
        budget=16,
        learner=CentroidLearner(2),
        progress=False,
    )
    assert curve.n_labels.tolist() == [4, 8, 12, 16]
    assert curve.accuracy.shape == (4,)
    assert np.all((curve.accuracy >= 0) & (curve.accuracy <= 1))
    assert curve.train_seconds.shape == (4,)


def test_the_last_query_is_cut_to_the_budget(two_class):
    images, labels = two_class
    curve = alw.simulate(
        images,
        labels,
        seed_size=4,
        query_size=5,
        budget=12,
        learner=CentroidLearner(2),
        progress=False,
    )
    assert curve.n_labels.tolist() == [4, 9, 12]


def test_the_seed_set_covers_every_class(two_class):
    images, labels = two_class
    curve = alw.simulate(
        images,
        labels,
        seed_size=2,
        query_size=2,
        budget=2,
        learner=CentroidLearner(2),
        progress=False,
    )
    assert curve.accuracy[0] > 0.9


def test_a_learner_factory_gets_the_seed(two_class):
    images, labels = two_class
    seeds = []

    def factory(seed):
        seeds.append(seed)
        return CentroidLearner(2)

    alw.simulate(
        images, labels, seed_size=4, query_size=4, budget=8, learner=factory, seed=7, progress=False
    )
    assert seeds == [7]


def test_an_impossible_budget_is_refused(two_class):
    images, labels = two_class
    with pytest.raises(ValueError, match=r"need 0 < seed_size \(20\) <= budget \(10\)"):
        alw.simulate(images, labels, seed_size=20, budget=10, progress=False)


def test_an_unknown_task_is_refused_naming_the_tasks(two_class):
    with pytest.raises(ValueError, match=r"unknown task 'count'; choose one of \['classify'"):
        alw.simulate(*two_class, task="count", learner=CentroidLearner(2), progress=False)


@pytest.mark.parametrize(
    ("given", "refused"),
    [({"budget": 12.0}, "budget must be an int >= 1, got 12.0"),
     ({"seed_size": 4.0}, "seed_size must be an int >= 1, got 4.0")],
)  # fmt: skip
def test_a_budget_or_seed_set_size_that_is_not_an_int_is_refused(two_class, given, refused):
    sizes = {"seed_size": 4, "budget": 12} | given
    with pytest.raises(ValueError, match=refused):
        alw.simulate(*two_class, learner=CentroidLearner(2), progress=False, **sizes)


def test_a_test_set_of_images_alone_is_refused_asking_for_images_and_labels(two_class):
    images, labels = two_class
    with pytest.raises(ValueError, match=r"test must be \(images, labels\).*got an array"):
        alw.simulate(
            images, labels, seed_size=4, budget=8, test=images[:10], learner=CentroidLearner(2),
            progress=False,
        )  # fmt: skip


def test_a_failing_round_stops_the_simulation_with_its_reason(two_class):
    class Broken(CentroidLearner):
        def fit(self, *args):
            raise RuntimeError("no GPU on purpose")

    images, labels = two_class
    with pytest.raises(RuntimeError, match="round 1 failed: RuntimeError: no GPU on purpose"):
        alw.simulate(images, labels, seed_size=4, budget=8, learner=Broken(2), progress=False)


def test_curve_labels_to_reach_is_the_first_label_count_at_the_goal():
    curve = alw.Curve(
        "margin", np.array([10, 20, 30]), np.array([0.5, 0.91, 0.89]), np.zeros(3), np.zeros(3)
    )
    assert curve.labels_to_reach(0.9) == 20
    assert curve.labels_to_reach(0.95) is None


@pytest.mark.parametrize("goal", [95, -0.1, float("nan")])
def test_curve_labels_to_reach_refuses_a_goal_outside_zero_to_one(goal):
    curve = alw.Curve("margin", np.array([10, 20]), np.array([0.5, 0.91]), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"accuracy must be a number in \[0, 1\].*0.95, not 95"):
        curve.labels_to_reach(goal)


def test_comparison_labels_to_reach_refuses_a_goal_outside_zero_to_one():
    curve = alw.Curve("margin", np.array([10, 20]), np.array([0.5, 0.91]), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"accuracy must be a number in \[0, 1\], got 95"):
        alw.Comparison({"margin": [curve]}).labels_to_reach(95)


def test_compare_runs_every_heuristic_on_the_same_seeds_and_plots(two_class):
    images, labels = two_class
    result = alw.compare(
        images,
        labels,
        ["random", "entropy"],
        repeats=2,
        seed_size=4,
        query_size=4,
        budget=12,
        learner=lambda seed: CentroidLearner(2),
        progress=False,
    )
    assert set(result.curves) == {"random", "entropy"}
    assert [c.seed for c in result.curves["entropy"]] == [0, 1]
    assert result.mean("random").shape == (3,)
    assert "labels" in result.table()
    assert result._repr_svg_().startswith("<svg")


@pytest.mark.slow
def test_margin_needs_fewer_labels_than_random_to_reach_90_percent_on_digits(digits):
    images, labels = digits
    result = alw.compare(
        images,
        labels,
        ["random", "margin"],
        repeats=3,
        seed_size=20,
        query_size=10,
        budget=150,
        # The supervised classifier: learning from the pool too, both reach 90% within a round
        # or two of the seed set, which leaves nothing to tell the heuristics apart.
        learner=Classifier(10, semi_supervised=False),
        progress=False,
    )
    reach = result.labels_to_reach(0.90)
    print(result.table())
    print(reach)
    assert reach["margin"] is not None
    assert reach["random"] is None or reach["margin"] < reach["random"]


def test_a_learner_without_the_protocol_is_refused(two_class):
    images, labels = two_class
    with pytest.raises(
        TypeError,
        match=r"learner must have fit\(images, targets, progress, should_stop\) and predict_proba\(images, mc_samples\)",
    ):
        alw.simulate(images, labels, seed_size=4, budget=8, learner=object(), progress=False)


def test_a_learner_class_is_refused_saying_to_write_an_instance(two_class):
    with pytest.raises(
        TypeError,
        match=r"learner must be an instance, got the class CentroidLearner; write CentroidLearner\(\)",
    ):
        alw.simulate(*two_class, seed_size=4, budget=8, learner=CentroidLearner, progress=False)


def test_compare_gives_every_run_its_own_unfitted_clone_of_the_classifier(digits):
    images, labels = digits
    fitted = []

    class Recording(Classifier):
        def fit(self, *args, **kwargs):
            fitted.append(self)
            return super().fit(*args, **kwargs)

    mine = Recording(10, min_steps=5, max_steps=5)
    given = mine.get_params()
    alw.compare(
        images[:200],
        labels[:200],
        ["random", "margin"],
        repeats=2,
        seed_size=10,
        query_size=10,
        budget=20,
        learner=mine,
        progress=False,
    )
    assert len({id(model) for model in fitted}) == 4  # `fitted` keeps them alive: ids are unique
    assert all(model is not mine for model in fitted)
    assert not hasattr(mine, "net_")
    assert mine.get_params() == given


def test_each_run_s_clone_is_seeded_with_the_run_s_seed(two_class):
    images, labels = two_class
    fitted = []

    class SeededCentroid(CentroidLearner):
        def __init__(self, n_classes, seed=0):
            super().__init__(n_classes)
            self.seed = seed

        def fit(self, *args):
            fitted.append(self)
            return super().fit(*args)

    mine = SeededCentroid(2, seed=99)
    alw.compare(
        images,
        labels,
        ["random", "entropy"],
        repeats=2,
        seed_size=4,
        query_size=4,
        budget=8,
        learner=mine,
        progress=False,
    )
    seeds = {(id(model), model.seed) for model in fitted}
    assert sorted(seed for _, seed in seeds) == [0, 0, 1, 1]
    assert mine.seed == 99


def test_simulate_leaves_the_given_learner_unfitted(two_class):
    images, labels = two_class
    mine = CentroidLearner(2)
    alw.simulate(images, labels, seed_size=4, budget=8, learner=mine, progress=False)
    assert not hasattr(mine, "n_fits_")


def test_a_learner_instance_without_get_params_is_refused_with_the_factory_hint(two_class):
    class Plain:
        def fit(self, images, targets, progress, should_stop):
            return self

        def predict_proba(self, images, mc_samples=1):
            return np.full((len(images), 2, mc_samples), 0.5)

    images, labels = two_class
    with pytest.raises(TypeError, match=r"no get_params\(\) method.*lambda seed"):
        alw.simulate(images, labels, seed_size=4, budget=8, learner=Plain(), progress=False)


def test_a_sequence_of_images_is_split_into_pool_and_test_set(two_class):
    images, labels = two_class
    curve = alw.simulate(
        list(images),
        labels,
        seed_size=4,
        query_size=4,
        budget=8,
        learner=CentroidLearner(2),
        progress=False,
    )
    assert curve.n_labels.tolist() == [4, 8]


@pytest.fixture
def toy_pool():
    toy = alw.datasets.cats_vs_milkshakes(120, seed=0)
    return toy.images, toy.labels


@pytest.mark.slow
def test_compare_in_two_processes_gives_every_curve_it_gives_in_one(toy_pool):
    images, labels = toy_pool
    kwargs = {"repeats": 3, "seed_size": 4, "query_size": 4, "budget": 20, "progress": False}
    kwargs["learner"] = CentroidLearner(2)
    one = alw.compare(images, labels, ["random", "margin"], n_jobs=1, **kwargs)
    two = alw.compare(images, labels, ["random", "margin"], n_jobs=2, **kwargs)
    assert list(two.curves) == list(one.curves)
    for name in one.curves:
        assert [c.seed for c in two.curves[name]] == [0, 1, 2]
        for alone, parallel in zip(one.curves[name], two.curves[name], strict=True):
            np.testing.assert_array_equal(parallel.n_labels, alone.n_labels)
            np.testing.assert_array_equal(parallel.accuracy, alone.accuracy)
    assert len({tuple(c.accuracy) for c in one.curves["random"]}) > 1  # the seeds do differ


def test_compare_in_processes_refuses_a_learner_factory_that_does_not_pickle(toy_pool):
    images, labels = toy_pool
    with pytest.raises(ValueError, match=r"does not pickle.*not a lambda"):
        alw.compare(
            images,
            labels,
            repeats=2,
            budget=8,
            seed_size=4,
            n_jobs=2,
            progress=False,
            learner=lambda seed: CentroidLearner(2),
        )


def test_compare_in_processes_refuses_a_heuristic_defined_in_a_notebook_cell(toy_pool, monkeypatch):
    def notebook_score(probs):
        return np.zeros(len(probs))

    notebook = types.ModuleType("__main__")  # a kernel's __main__: no __file__ to import
    notebook_score.__module__, notebook_score.__qualname__ = "__main__", "notebook_score"
    notebook.notebook_score = notebook_score
    monkeypatch.setitem(sys.modules, "__main__", notebook)
    alw.heuristics.register("notebook_score")(notebook_score)
    try:
        with pytest.raises(ValueError, match=r"notebook_score is defined in a notebook cell"):
            alw.compare(
                *toy_pool,
                ["notebook_score"],
                repeats=2,
                budget=8,
                seed_size=4,
                n_jobs=2,
                learner=CentroidLearner(2),
                progress=False,
            )
    finally:
        alw.heuristics.unregister("notebook_score")


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, True])
def test_compare_refuses_a_number_of_jobs_that_is_not_a_positive_int_or_minus_one(toy_pool, n_jobs):
    with pytest.raises(ValueError, match="n_jobs must be a positive int or -1"):
        alw.compare(*toy_pool, repeats=1, budget=8, seed_size=4, n_jobs=n_jobs, progress=False)


def test_compare_workers_share_the_cpus_out_among_themselves(monkeypatch):
    from al_widget.compare_runs import worker_threads

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert [worker_threads(n) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]


def test_a_compare_worker_runs_torch_on_its_share_of_the_cpus():
    import torch

    from al_widget.compare_runs import _start_worker

    before = torch.get_num_threads()
    try:
        _start_worker(None, None, {}, {}, 1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def run(images, labels, **kwargs):
    """A tiny simulation: 4 seed labels, 4 per round, to 8."""
    options = {"seed_size": 4, "query_size": 4, "budget": 8, "progress": False}
    return alw.simulate(images, labels, **{"learner": CentroidLearner(2), **options, **kwargs})


def test_labels_shorter_than_the_images_are_refused_naming_both_counts(two_class):
    images, labels = two_class
    with pytest.raises(ValueError, match="one label per image: 60 images, got 40 labels"):
        run(images, labels[:40])


def test_labels_longer_than_the_images_are_refused_naming_both_counts(two_class):
    images, labels = two_class
    with pytest.raises(ValueError, match="one label per image: 50 images, got 60 labels"):
        run(images[:50], labels)


def test_labels_that_are_not_one_dimensional_are_refused_with_their_shape(two_class):
    images, labels = two_class
    with pytest.raises(ValueError, match=r"labels must be 1-D.*got shape \(60, 2\)"):
        run(images, np.stack([labels, labels], axis=1))


@pytest.mark.parametrize(
    ("labels", "found"),
    [
        (np.arange(60) % 2 + 0.5, "got dtype float64 with values like 0.5"),
        (np.where(np.arange(60) % 2, "bright", "dark"), "got dtype <U6 with values like 'dark'"),
    ],
    ids=["fractions", "class names"],
)
def test_labels_that_are_not_integer_class_ids_are_refused(two_class, labels, found):
    with pytest.raises(ValueError, match=rf"labels must be integer class ids .*{found}"):
        run(two_class[0], labels)


def test_negative_labels_are_refused_before_any_round(two_class):
    images, labels = two_class
    with pytest.raises(ValueError, match=r"labels holds class ids -1\.\.1, outside 0\.\.1"):
        run(images, np.where(np.arange(60) == 5, -1, labels))


def test_a_truth_mask_that_labels_no_pixel_is_refused_before_any_round():
    images = np.zeros((40, 8, 8, 3), np.uint8)
    images[:, 2:6, 2:6] = 200
    truth = [alw.Mask((image[..., 0] > 100).astype(np.uint8)) for image in images]
    truth[7] = alw.Mask(np.full((8, 8), alw.Mask.IGNORE, np.uint8))
    with pytest.raises(ValueError, match=r"labels\[7\]: a mask must label at least one pixel"):
        alw.simulate(
            images,
            truth,
            seed_size=4,
            query_size=4,
            budget=30,
            test_size=0.1,
            learner=BrightIsSquare(),
            task="segment",
            classes=["bg", "square"],
            progress=False,
        )


def test_labels_beyond_the_classes_given_are_refused_naming_the_classes(two_class):
    images, labels = two_class
    with pytest.raises(
        ValueError, match=r"class ids 0\.\.1 \(classes=\['dark'\]\), outside 0\.\.0"
    ):
        run(images, labels, classes=["dark"], learner=CentroidLearner(1))


def test_a_learner_with_more_classes_than_the_labels_hold_is_refused_naming_both(two_class):
    images, labels = two_class
    with pytest.raises(
        ValueError, match=r"learner has n_classes=3, but the labels hold 2 classes \(ids 0 \.\. 1;"
    ):
        run(images, labels, learner=CentroidLearner(3))


def test_a_learner_with_other_classes_than_those_given_is_refused_naming_both(two_class):
    images, labels = two_class
    with pytest.raises(ValueError, match=r"n_classes=3, but classes names 2: \['dark', 'bright'\]"):
        run(images, labels, classes=["dark", "bright"], learner=CentroidLearner(3))


def test_compare_refuses_labels_that_do_not_match_the_images_before_any_run(two_class):
    images, labels = two_class
    made = []
    with pytest.raises(ValueError, match="one label per image: 60 images, got 30 labels"):
        alw.compare(
            images, labels[:30], ["random"], repeats=1, budget=8, seed_size=4, progress=False,
            learner=lambda seed: made.append(seed) or CentroidLearner(2),
        )  # fmt: skip
    assert made == []


@pytest.mark.parametrize("repeats", [0, -1])
def test_compare_refuses_fewer_than_one_repeat(two_class, repeats):
    with pytest.raises(ValueError, match=f"repeats must be an int >= 1, got {repeats}"):
        alw.compare(*two_class, repeats=repeats, budget=8, seed_size=4, progress=False)


def test_compare_refuses_an_empty_list_of_heuristics(two_class):
    with pytest.raises(ValueError, match=r"heuristics must name at least one heuristic, got \(\)"):
        alw.compare(*two_class, (), repeats=1, budget=8, seed_size=4, progress=False)


def test_compare_refuses_one_heuristic_name_as_a_string_showing_the_list_to_write(two_class):
    with pytest.raises(
        ValueError, match=r"heuristics must be a list, got the string 'margin'; write \['margin'\]"
    ):
        alw.compare(*two_class, "margin", repeats=1, budget=8, seed_size=4, progress=False)


def test_compare_refuses_a_heuristic_named_twice(two_class):
    with pytest.raises(
        ValueError, match="heuristics must be distinct, got 'margin' more than once"
    ):
        alw.compare(
            *two_class, ["margin", "Margin"], repeats=1, budget=8, seed_size=4, progress=False
        )


def test_compare_refuses_an_unknown_heuristic_before_any_run(two_class):
    made = []
    with pytest.raises(ValueError, match="unknown heuristic 'margni'"):
        alw.compare(
            *two_class, ["random", "margni"], repeats=1, budget=8, seed_size=4, progress=False,
            learner=lambda seed: made.append(seed) or CentroidLearner(2),
        )  # fmt: skip
    assert made == []


def test_compare_keys_the_curves_by_each_heuristic_s_registered_name(two_class):
    def ratio(probs):
        top = np.sort(probs.mean(-1), axis=1)
        return top[:, -2] / top[:, -1]

    result = alw.compare(
        *two_class, ["Random", ratio], repeats=1, budget=8, seed_size=4, progress=False,
        learner=CentroidLearner(2),
    )  # fmt: skip
    assert list(result.curves) == ["random", "ratio"]
    assert result.mean("ratio").shape == (2,)


def test_compare_refuses_a_seed_and_points_to_repeats(two_class):
    with pytest.raises(
        ValueError, match=r"compare runs seeds 0 .. repeats - 1, got seed=3; use repeats"
    ):
        alw.compare(
            *two_class, ["margin"], repeats=1, budget=8, seed_size=4, seed=3, progress=False
        )


def test_an_empty_comparison_reads_as_having_no_curves():
    assert str(alw.Comparison()) == "no curves: this comparison is empty"


@pytest.mark.parametrize("draw", ["svg", "plot"])
def test_an_empty_comparison_refuses_to_draw_a_chart(draw):
    with pytest.raises(ValueError, match="this comparison has no curves to draw"):
        getattr(alw.Comparison(), draw)()


def test_an_empty_comparison_shows_as_text_in_a_notebook():
    assert alw.Comparison()._repr_svg_() is None


@pytest.mark.parametrize("method", ["mean", "std", "n_labels", "x"])
def test_a_comparison_names_an_unknown_heuristic_and_the_known_ones(method):
    curve = alw.Curve("margin", np.array([4, 8]), np.array([0.5, 0.6]), np.zeros(2), np.zeros(2))
    comparison = alw.Comparison({"random": [curve], "margin": [curve]})
    with pytest.raises(
        ValueError,
        match=r"no curves of heuristic 'entropy' in this comparison; "
        r"it has curves of \['random', 'margin'\]",
    ):
        getattr(comparison, method)("entropy")


def test_a_pool_whose_unreadable_images_keep_the_budget_out_of_reach_is_refused_naming_them(
    two_class, tmp_path
):
    from PIL import Image

    from al_widget.simulate import balanced_seed

    images, labels = two_class
    images, labels = images[:12], labels[:12]
    first = balanced_seed(labels, 4, np.random.default_rng(0))
    corrupt = next(i for i in range(12) if i not in first)
    paths = []
    for k, image in enumerate(images):
        path = tmp_path / f"{k:02d}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    Path(paths[corrupt]).write_bytes(b"not a png")
    with pytest.raises(
        ValueError, match=rf"11 images are labeled.*{corrupt:02d}\.png.*budget to 11"
    ):
        alw.simulate(
            paths,
            labels,
            seed_size=4,
            query_size=4,
            budget=12,
            test=(images, labels),
            learner=CentroidLearner(2),
            progress=False,
        )


def _run(n_labels, accuracy, seed=0):
    n = len(n_labels)
    return alw.Curve(
        "margin", np.array(n_labels), np.array(accuracy), np.zeros(n), np.zeros(n), seed
    )


def test_a_comparison_refuses_a_heuristic_whose_curves_stop_at_other_label_counts():
    mixed = alw.Comparison(
        {"margin": [_run([4, 8, 12], [0.5, 0.6, 0.7]), _run([4, 12], [0.5, 0.7], 1)]}
    )
    with pytest.raises(ValueError, match=r"curves of 'margin' must share their label counts"):
        mixed.mean("margin")


def test_a_comparison_table_shows_each_heuristic_at_its_own_label_counts():
    both = alw.Comparison(
        {
            "12 per round": [_run([4, 16, 28], [0.5, 0.8, 0.9])],
            "4 per round": [_run([4, 8, 12, 16], [0.5, 0.6, 0.7, 0.75])],
        }
    )
    rows = both.table().splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["4", "8", "12", "16", "28"]
    assert rows[3].split() == ["16", "0.800", "±", "0.000", "0.750", "±", "0.000"]
    assert rows[1].split() == ["8", "0.600", "±", "0.000"]
    assert rows[1].endswith(f"{'0.600 ± 0.000':>17}")
    assert len(rows[1]) == len(rows[3])
    assert rows[4].split() == ["28", "0.900", "±", "0.000"]
