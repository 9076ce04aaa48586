"""The workshop kit: plots of curves, the toy's learned and true boundaries, and their angle."""

import io
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import al_widget as alw
from al_widget import workshop
from al_widget.datasets import Line
from al_widget.workshop.lines import line_of

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def toy():
    return alw.datasets.cats_vs_milkshakes(300, seed=0)


@pytest.fixture(scope="module")
def rgb(toy):
    return np.repeat(toy.images[..., None], 3, axis=3)


def _curve(heuristic, seed, accuracy, n_boxes=None):
    n = len(accuracy)
    return alw.Curve(
        heuristic,
        np.array([10, 20, 30][:n]),
        np.array(accuracy),
        np.zeros(n),
        np.zeros(n),
        seed,
        n_boxes=None if n_boxes is None else np.array(n_boxes),
        metric_name="accuracy" if n_boxes is None else "mAP",
    )


@pytest.fixture
def comparison():
    return alw.Comparison(
        {
            "random": [_curve("random", 0, [0.5, 0.6, 0.7]), _curve("random", 1, [0.5, 0.8, 0.9])],
            "margin": [_curve("margin", 0, [0.5, 0.9, 0.9]), _curve("margin", 1, [0.5, 0.7, 0.9])],
        }
    )


# -- curves ----------------------------------------------------------------------------------


def test_comparison_plot_draws_each_heuristic_s_mean_curve(comparison):
    ax = comparison.plot()
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"random (2 seeds)", "margin (2 seeds)"}
    np.testing.assert_allclose(lines["random (2 seeds)"].get_ydata(), [0.5, 0.7, 0.8])
    np.testing.assert_allclose(lines["margin (2 seeds)"].get_xdata(), [10, 20, 30])


def test_comparison_plot_shades_one_standard_deviation_around_each_mean(comparison):
    ax = comparison.plot()
    bands = ax.collections
    assert len(bands) == 2
    corners = bands[0].get_paths()[0].vertices
    assert corners[:, 1].min() == pytest.approx(0.5)  # mean 0.7 - std 0.1 at 20 labels is above
    assert corners[:, 1].max() == pytest.approx(0.9)  # mean 0.8 + std 0.1 at 30 labels


def test_comparison_plot_labels_its_axes_with_labeled_images_and_the_metric(comparison):
    ax = comparison.plot()
    assert ax.get_xlabel() == "labeled images"
    assert ax.get_ylabel() == "test accuracy (mean ± std)"


def test_plots_draw_into_the_axes_they_are_given(comparison):
    _, (left, right) = plt.subplots(1, 2)
    assert comparison.plot(ax=right) is right
    assert not left.get_lines()


def test_curve_plot_draws_the_metric_against_labeled_images():
    ax = _curve("margin", 3, [0.4, 0.6, 0.8]).plot()
    (line,) = ax.get_lines()
    assert line.get_label() == "margin (seed 3)"
    np.testing.assert_allclose(line.get_ydata(), [0.4, 0.6, 0.8])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("labeled images", "test accuracy")


def test_a_detection_curve_plots_against_boxes_drawn():
    ax = _curve("margin", 0, [0.1, 0.2, 0.3], n_boxes=[25, 61, 90]).plot(x="boxes")
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [25, 61, 90])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("boxes drawn", "test mAP")


def test_plotting_without_matplotlib_says_how_to_install_it(comparison, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "al_widget\[workshop\]"'):
        comparison.plot()


def test_without_matplotlib_a_comparison_still_shows_as_svg(comparison, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    assert comparison._repr_svg_().startswith("<svg")


# -- the line learner ------------------------------------------------------------------------


def test_dot_positions_find_the_toy_points_in_their_images(toy):
    np.testing.assert_allclose(workshop.dot_positions(toy.images), toy.points, atol=0.035)


def test_dot_positions_read_dots_cut_off_by_the_image_edge_where_they_are():
    points = np.array([[0.0, 0.0], [0.0, 0.5], [1.0, 1.0], [0.02, 0.98], [0.5, 0.5]])
    np.testing.assert_allclose(
        workshop.dot_positions(alw.datasets.render_points(points)), points, atol=0.005
    )


def test_the_line_learner_draws_its_boundary_straight_up_to_the_edges_of_the_square():
    steep = alw.datasets.cats_vs_milkshakes(
        400, tilt=40, seed=1
    )  # crosses the top and bottom edges
    learner = workshop.LineLearner().fit(steep.images, steep.labels)
    p = workshop.probabilities(learner)
    axis = np.linspace(0, 1, len(p))
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    distance = learner.line_.side(grid)
    drawn_off_its_line = (p.ravel() > 0.5) != (distance < 0)
    assert np.abs(distance[drawn_off_its_line]).max(initial=0) < 0.01


def test_fit_logistic_recovers_a_known_line():
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 1, (4000, 2))
    truth = Line((0.4, 0.5), 70.0)
    p = 1 / (1 + np.exp(-truth.side(points) / 0.05))
    weights = workshop.fit_logistic(points, rng.uniform(size=4000) < p, l2=0)
    found = line_of(weights)
    assert found.angle_to(truth) < 1.5
    assert abs(truth.side(np.array([found.point]))[0]) < 0.01


def test_the_line_learner_learns_the_true_line_from_the_whole_pool(toy, rgb):
    learner = workshop.LineLearner().fit(rgb, toy.labels)
    assert learner.line_.angle_to(toy.boundary) < 3
    assert np.mean(learner.predict_proba(rgb)[:, :, 0].argmax(1) == toy.labels) > 0.95


def test_the_learned_line_of_the_line_learner_is_its_own_line(toy, rgb):
    learner = workshop.LineLearner().fit(rgb[:40], toy.labels[:40])
    assert workshop.learned_line(learner).angle_to(learner.line_) < 0.5


def test_the_line_learner_repeats_its_prediction_for_every_mc_sample(toy, rgb):
    learner = workshop.LineLearner().fit(rgb, toy.labels)
    probs = learner.predict_proba(rgb[:5], mc_samples=3)
    assert probs.shape == (5, 2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1)
    np.testing.assert_array_equal(probs[:, :, 0], probs[:, :, 2])


def test_an_unfitted_line_learner_refuses_to_predict(rgb):
    with pytest.raises(RuntimeError, match="this LineLearner is not fitted yet: call fit first"):
        workshop.LineLearner().predict_proba(rgb[:2])


# -- boundaries ------------------------------------------------------------------------------


def test_angle_error_is_the_angle_between_the_learned_and_the_true_line(toy, rgb):
    learner = workshop.LineLearner().fit(rgb, toy.labels)
    expected = workshop.learned_line(learner).angle_to(toy.boundary)
    assert workshop.angle_error(learner, toy) == pytest.approx(expected)


def test_angle_error_needs_a_straight_true_boundary(rgb):
    moons = alw.datasets.moons(100)
    learner = workshop.LineLearner().fit(rgb[:100], moons.labels)
    with pytest.raises(ValueError, match="not a straight line"):
        workshop.angle_error(learner, moons)


def test_learn_boundary_labels_the_budget_starting_from_a_balanced_seed_set(toy):
    run = workshop.learn_boundary(toy, "margin", budget=12, learner=workshop.LineLearner())
    assert len(run.labeled) == len(set(run.labeled.tolist())) == 12
    assert sorted(toy.labels[run.labeled[:4]].tolist()) == [0, 0, 1, 1]
    assert len(run.queried) == 8
    assert run.angle_error == pytest.approx(run.line.angle_to(toy.boundary))
    assert 0.5 < run.agreement <= 1


def test_margin_queries_points_near_the_learned_line_random_anywhere(toy):
    runs = {
        name: workshop.learn_boundary(toy, name, budget=28, learner=workshop.LineLearner())
        for name in ("random", "margin")
    }
    distance = {name: np.abs(toy.boundary.side(toy.points[r.queried])) for name, r in runs.items()}
    assert distance["margin"].mean() < distance["random"].mean() / 2


def test_every_heuristic_starts_from_the_same_seed_set_for_a_seed(toy):
    first = {
        name: workshop.learn_boundary(toy, name, budget=8, seed=5, learner=workshop.LineLearner())
        for name in ("random", "margin")
    }
    assert first["random"].labeled[:4].tolist() == first["margin"].labeled[:4].tolist()


def test_an_impossible_toy_budget_is_refused(toy):
    with pytest.raises(ValueError, match=r"need 0 < seed_size \(4\) <= budget \(2\)"):
        workshop.learn_boundary(toy, budget=2, learner=workshop.LineLearner())


def test_a_toy_budget_that_is_not_an_int_is_refused(toy):
    with pytest.raises(ValueError, match=r"budget must be an int >= 1, got 10.0"):
        workshop.learn_boundary(toy, budget=10.0, learner=workshop.LineLearner())


def test_a_study_gives_every_run_its_own_learner(toy):
    study = workshop.boundary_study(
        toy, seeds=[0, 1], budget=8, learner=workshop.LineLearner(), progress=False
    )
    assert len({id(run.learner) for run in study.runs}) == 4


def test_a_study_tabulates_each_seed_s_errors_and_their_mean(toy):
    study = workshop.boundary_study(
        toy, seeds=[0, 1, 2], budget=12, learner=workshop.LineLearner(), progress=False
    )
    rows = study.table().splitlines()
    assert rows[0].split() == ["seed", "random", "margin", "closest"]
    assert [row.split()[0] for row in rows[1:]] == ["0", "1", "2", "mean"]
    mean, std = study.summary()["margin"]
    assert mean == pytest.approx(study.errors("margin").mean())
    assert f"{mean:.1f} ± {std:.1f}°" in rows[-1]
    assert sum(study.wins().values()) == 3


def test_plot_boundary_draws_the_true_line_where_the_toy_says(toy, rgb):
    learner = workshop.LineLearner().fit(rgb, toy.labels)
    ax = workshop.plot_boundary(learner, toy)
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    (true,) = dashed
    ends = np.column_stack([true.get_xdata(), true.get_ydata()])
    np.testing.assert_allclose(toy.boundary.side(ends), 0, atol=1e-9)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("fluffiness", "sweetness")


def test_plot_boundary_marks_the_queried_points(toy, rgb):
    learner = workshop.LineLearner().fit(rgb, toy.labels)
    ax = workshop.plot_boundary(learner, toy, queried=[3, 7])
    pool, marked = ax.collections[-2:]
    assert len(pool.get_offsets()) == len(toy.points)
    np.testing.assert_allclose(marked.get_offsets(), toy.points[[3, 7]])


def test_plot_boundary_of_a_loop_marks_the_loop_s_labeled_images(toy, loop_factory):
    loop = loop_factory(
        alw.Dataset(toy.images, list(toy.classes)), workshop.LineLearner(), "margin", None, 4
    )
    for i in [0, 1, 2, 3, 4, 5]:
        loop.commit(i, alw.Label(int(toy.labels[i])))
    loop.wait()
    marked = workshop.plot_boundary(loop, toy).collections[-1]
    np.testing.assert_allclose(marked.get_offsets(), toy.points[:6])


def test_a_study_plot_has_a_panel_per_seed_and_heuristic(toy):
    study = workshop.boundary_study(
        toy, seeds=[0, 1], budget=8, learner=workshop.LineLearner(), progress=False
    )
    fig = study.plot()
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 4
    assert titles[1].startswith("margin, seed 0: off by")
    assert len(study.plot_errors().patches) == 4


def test_a_run_after_n_labels_is_the_run_that_stopped_there(toy):
    run = workshop.learn_boundary(toy, "random", budget=16, seed=3, learner=workshop.LineLearner())
    shorter = workshop.learn_boundary(
        toy, "random", budget=8, seed=3, learner=workshop.LineLearner()
    )
    step = run.after(toy, 8)
    np.testing.assert_array_equal(step.labeled, shorter.labeled)
    assert step.angle_error == pytest.approx(shorter.angle_error)
    assert run.after(toy, 16).angle_error == pytest.approx(run.angle_error)


def test_a_run_after_more_labels_than_it_has_is_refused(toy):
    run = workshop.learn_boundary(toy, "margin", budget=8, learner=workshop.LineLearner())
    with pytest.raises(ValueError, match="n_labels must be from the seed set's 4 to the run's 8"):
        run.after(toy, 12)


def test_the_typical_seed_is_the_one_whose_gap_is_closest_to_the_mean_gap(toy):
    study = workshop.boundary_study(
        toy, seeds=range(5), budget=12, learner=workshop.LineLearner(), progress=False
    )
    gap = study.errors("random") - study.errors("margin")
    seed = study.typical_seed()
    assert abs(gap[seed] - gap.mean()) == pytest.approx(np.abs(gap - gap.mean()).min())


def test_plot_progress_draws_each_heuristic_after_each_label_count_with_its_error(toy):
    study = workshop.boundary_study(
        toy, seeds=[2], budget=12, learner=workshop.LineLearner(), progress=False
    )
    fig = study.plot_progress(2, counts=(4, 8, 12))
    titles = [ax.get_title() for ax in fig.axes]
    after_8 = study.run("margin", 2).after(toy, 8)
    assert titles[0].startswith("random, 4 labels: off by")
    assert titles[4] == f"margin, 8 labels: off by {after_8.angle_error:.1f}°"
    assert len(fig.axes[5].collections[-1].get_offsets()) == 12


@pytest.fixture(scope="module")
def small_study(toy):
    return workshop.boundary_study(
        toy, seeds=[0, 1], budget=8, learner=workshop.LineLearner(), progress=False
    )


@pytest.mark.parametrize(
    "ask",
    [
        lambda study: study.run("entropy", 0),
        lambda study: study.errors("entropy"),
        lambda study: study.typical_seed("entropy", "margin"),
    ],
    ids=["run", "errors", "typical_seed"],
)
def test_a_study_refuses_a_heuristic_it_has_no_runs_of_listing_those_it_has(small_study, ask):
    with pytest.raises(
        ValueError,
        match=r"no runs of heuristic 'entropy' in this study; it has runs of \['random', 'margin'\]",
    ):
        ask(small_study)


@pytest.mark.parametrize(
    "ask",
    [lambda study: study.run("margin", 7), lambda study: study.plot_progress(7, counts=(4,))],
    ids=["run", "plot_progress"],
)
def test_a_study_refuses_a_seed_it_has_no_runs_of_listing_its_seeds(small_study, ask):
    with pytest.raises(
        ValueError, match=r"no runs with seed 7 in this study; its seeds are \[0, 1\]"
    ):
        ask(small_study)


def test_a_study_finds_a_heuristic_however_its_name_is_capitalised(small_study):
    assert small_study.run("Margin", 1) is small_study.run("margin", 1)
    np.testing.assert_array_equal(small_study.errors("Random"), small_study.errors("random"))


def test_a_study_plot_of_one_seed_keeps_its_legend_inside_the_figure_below_the_panels(
    small_study,
):
    fig = small_study.plot(seeds=[0])
    fig.canvas.draw()
    legend = fig.legends[0].get_window_extent()
    assert 0 <= legend.x0 < legend.x1 <= fig.bbox.width
    assert legend.y0 >= 0
    assert all(legend.y1 <= ax.get_tightbbox().y0 + 1 for ax in fig.axes)


def test_a_study_refuses_a_toy_without_a_straight_true_boundary():
    with pytest.raises(
        ValueError, match="boundary_study compares each run's line with the toy's true"
    ):
        workshop.boundary_study(
            alw.datasets.moons(), budget=8, learner=workshop.LineLearner(), progress=False
        )


def test_a_study_refuses_one_heuristic_name_given_as_a_string(toy):
    with pytest.raises(ValueError, match=r"heuristics must be a list, got the string 'margin'"):
        workshop.boundary_study(
            toy, "margin", seeds=[0], budget=8, learner=workshop.LineLearner(), progress=False
        )


@pytest.mark.slow
def test_notebook_1_s_headline_shows_random_s_line_more_tilted_than_margin_s_on_the_typical_seed(
    tmp_path,
):
    """The article's picture, by a stated rule: the seed of the 20 whose gap is the mean gap."""
    toy = alw.datasets.cats_vs_milkshakes(400, tilt=10, seed=0)
    study = workshop.boundary_study(
        toy, seeds=range(20), budget=28, learner=workshop.LineLearner(), progress=False
    )
    seed = study.typical_seed()
    fig = study.plot_progress(seed, counts=(4, 8, 16, 28))
    fig.savefig(tmp_path / "headline.png", dpi=80)
    assert plt.imread(tmp_path / "headline.png").shape[:2] == (496, 896)
    random, margin = study.run("random", seed), study.run("margin", seed)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[3] == f"random, 28 labels: off by {random.angle_error:.1f}°"
    assert titles[7] == f"margin, 28 labels: off by {margin.angle_error:.1f}°"
    assert random.angle_error > margin.angle_error + 2  # visibly: degrees, not tenths

    def tilt(line):  # degrees off vertical
        return abs(90 - line.angle)

    assert tilt(random.line) > tilt(margin.line) > 0
    assert tilt(random.line) > tilt(toy.boundary)  # the article: random's line is too tilted


# -- heuristics over the simplex -------------------------------------------------------------


def test_on_two_classes_least_confidence_margin_and_entropy_rank_alike():
    p = np.random.default_rng(0).uniform(0, 1, 500)
    probs = np.stack([p, 1 - p], axis=1)
    orders = [
        np.argsort(-alw.heuristics.get(name)(probs), kind="stable")
        for name in ("least_confidence", "margin", "entropy")
    ]
    np.testing.assert_array_equal(orders[0], orders[1])
    np.testing.assert_array_equal(orders[0], orders[2])


def test_on_three_classes_margin_ranks_a_two_way_tie_above_least_confidence_s_choice():
    probs = np.array([[0.5, 0.5, 0.0], [0.4, 0.3, 0.3]])
    assert alw.heuristics.get("margin")(probs).argmax() == 0
    assert alw.heuristics.get("least_confidence")(probs).argmax() == 1


def test_the_simplex_grid_holds_every_3_class_prediction_in_steps():
    grid = workshop.simplex_grid(4)
    assert len(grid) == 15  # (4 + 1)(4 + 2) / 2
    np.testing.assert_allclose(grid.sum(axis=1), 1)
    assert {tuple(row) for row in grid} >= {(1.0, 0.0, 0.0), (0.25, 0.25, 0.5)}


def test_plot_simplex_shades_the_triangle_by_the_heuristic_s_score():
    ax = workshop.plot_simplex("entropy", resolution=30)
    (shading,) = [c for c in ax.collections if c.get_array() is not None]
    grid = workshop.simplex_grid(30)
    scores = alw.heuristics.get("entropy")(grid)
    assert shading.get_array().max() >= scores.max() - 0.1
    assert ax.get_title() == "entropy"
    assert [text.get_text() for text in ax.texts] == ["A", "B", "C"]


def test_plot_simplex_gives_the_heuristic_probabilities_with_a_samples_axis_as_the_loop_does():
    def top_doubt(probs):  # written for (N, C, I), as a heuristic's docstring promises
        return 1 - probs.mean(-1).max(1)

    ax = workshop.plot_simplex(top_doubt, resolution=6)
    (shading,) = [c for c in ax.collections if c.get_array() is not None]
    assert shading.get_array().max() == pytest.approx(2 / 3, abs=0.1)


def test_plot_simplex_refuses_a_heuristic_that_does_not_score_every_prediction():
    def short(probs):
        return np.zeros(5)

    with pytest.raises(
        ValueError, match=r"heuristic 'short' must return shape \(28,\), got \(5,\)"
    ):
        workshop.plot_simplex(short, resolution=6)


def test_the_simplex_grid_needs_a_positive_resolution():
    with pytest.raises(ValueError, match="resolution must be an int >= 1, got 0"):
        workshop.simplex_grid(0)


# -- labeling the toy in the panel -----------------------------------------------------------


def _toy_loop(toy, loop_factory):
    loop = loop_factory(
        alw.Dataset(toy.images, list(toy.classes)),
        workshop.LineLearner(),
        "margin",
        None,
        1,
        start=False,
    )
    for i in (*np.flatnonzero(toy.labels == 0)[:2], *np.flatnonzero(toy.labels == 1)[:2]):
        loop.commit(int(i), alw.Label(int(toy.labels[i])))
    loop.start()
    loop.wait()
    return loop


@pytest.mark.parametrize("draw", [workshop.plot_boundary, workshop.boundary_figure])
def test_drawing_a_loop_on_a_toy_that_is_not_its_pool_is_refused_naming_both_sizes(
    toy, loop_factory, draw
):
    loop = _toy_loop(toy, loop_factory)
    with pytest.raises(
        ValueError, match="toy must be the loop's pool: the loop has 300 images, the toy 100 points"
    ):
        draw(loop, alw.datasets.cats_vs_milkshakes(100, seed=0))


def test_plot_boundary_refuses_queried_points_outside_the_toy(toy, rgb):
    learner = workshop.LineLearner().fit(rgb, toy.labels)
    with pytest.raises(
        ValueError, match=r"queried must be point indices of the toy, 0 .. 299, got 300"
    ):
        workshop.plot_boundary(learner, toy, queried=[3, 300])


def test_the_boundary_beside_the_panel_is_redrawn_after_every_label(toy, loop_factory):
    loop = _toy_loop(toy, loop_factory)
    picture = workshop.watch_boundary(loop, toy)
    drawn = [bytes(picture.value)]
    for _ in range(3):
        i = int(loop.queue[0])
        loop.commit(i, alw.Label(int(toy.labels[i])))
        loop.wait()
        drawn.append(bytes(picture.value))
    assert all(png.startswith(b"\x89PNG") for png in drawn)
    assert len(set(drawn)) == 4


def test_the_live_boundary_is_titled_with_the_label_count_and_the_angle_error(toy, loop_factory):
    loop = _toy_loop(toy, loop_factory)
    (ax,) = workshop.boundary_figure(loop, toy).axes
    assert ax.get_title() == f"4 labels: off by {workshop.angle_error(loop, toy):.1f}°"
    png = workshop.boundary_png(loop, toy)
    assert plt.imread(io.BytesIO(png)).shape[:2] == (416, 360)


def test_notebook_5_s_panel_loop_redraws_the_boundary_as_the_student_labels():
    """Runs notebook 5's set-up cell, then labels as a student would: the top of the queue."""
    notebook = nbformat.read(ROOT / "notebooks" / "workshop" / "05_label_it_yourself.ipynb", 4)
    setup = next(cell.source for cell in notebook.cells if cell.cell_type == "code")
    scope = {}
    exec(setup, scope)
    loop, toy, picture = scope["loop"], scope["toy"], scope["picture"]
    try:
        assert sorted(toy.labels[loop.dataset.labeled].tolist()) == [0, 0, 1, 1]
        before = bytes(picture.value)
        asked = int(loop.queue[0])
        loop.commit(asked, alw.Label(int(toy.labels[asked])))
        loop.wait()
        assert len(loop.dataset.labeled) == 5
        assert bytes(picture.value) != before
        assert asked not in loop.queue.tolist()
    finally:
        loop.close()
