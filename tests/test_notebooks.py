"""Every notebook in notebooks/ and notebooks/workshop/ runs top to bottom without an error, uses
only public names, and the workshop's text quotes what its code measures."""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import al_widget as alw
from al_widget import workshop

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "notebooks").glob("*/*.ipynb")])
WORKSHOP = [
    "01_cats_vs_milkshakes.ipynb",
    "02_heuristics.ipynb",
    "03_explore_vs_exploit.ipynb",
    "04_real_digits.ipynb",
    "05_label_it_yourself.ipynb",
]
# `._name` (a private module or attribute; dunders such as __file__ are fine), `import _name`,
# `from module import _name` and `from module import a, _name`.
PRIVATE = re.compile(r"\._[A-Za-z]|\bimport\s+_|\bimport\b[^\n#]*,\s*_[A-Za-z]")


def _ids(paths):
    return [str(p.relative_to(ROOT / "notebooks").with_suffix("")) for p in paths]


def _cells(path, kind):
    return [
        cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == kind
    ]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_without_errors(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    errors = [
        o
        for cell in notebook.cells
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors


def test_there_are_notebooks_to_run():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "photos.ipynb", *WORKSHOP}
    assert [p.name for p in (ROOT / "notebooks" / "workshop").glob("*.ipynb")] != []
    assert not (ROOT / "notebooks" / "workshop.ipynb").exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_no_notebook_uses_a_private_name(path):
    used = [
        line for cell in _cells(path, "code") for line in cell.splitlines() if PRIVATE.search(line)
    ]
    assert not used


@pytest.mark.parametrize(
    ("line", "private"),
    [
        ("from al_widget._svg import PALETTE", True),
        ("import al_widget._svg as svg", True),
        ("from al_widget.heuristics import _entropy", True),
        ("from al_widget.heuristics import margin, _entropy", True),
        ("svg = comparison._repr_svg_()", True),
        ("import _thread", True),
        ("places = [Path(alw.__file__).parent]", False),
        ("from al_widget import workshop", False),
        ("toy.points[:, 0], my_var._x", True),
    ],
)
def test_the_private_name_scan_flags_private_modules_and_attributes(line, private):
    assert bool(PRIVATE.search(line)) is private


@pytest.mark.parametrize("name", WORKSHOP)
def test_every_workshop_notebook_has_an_exercise_and_a_collapsed_solution(name):
    text = "\n".join(_cells(ROOT / "notebooks" / "workshop" / name, "markdown"))
    assert "## Exercise" in text
    solution = re.search(r"<details><summary>Solution</summary>(.*?)</details>", text, re.S)
    assert solution is not None
    assert "```python" in solution.group(1)


@pytest.mark.parametrize("name", WORKSHOP)
def test_no_workshop_notebook_repeats_a_code_cell(name):
    code = [c.strip() for c in _cells(ROOT / "notebooks" / "workshop" / name, "code")]
    assert sorted({c for c in code if code.count(c) > 1}) == []


def test_the_readme_counts_the_workshop_notebooks_as_there_are():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    words = {3: "three", 4: "four", 5: "five", 6: "six"}
    counts = re.findall(r"\b(three|four|five|six) (?:class )?notebooks\b", readme)
    assert counts
    assert set(counts) == {words[len(WORKSHOP)]}


@pytest.mark.slow
def test_notebook_1_and_the_readme_quote_the_28_label_angle_errors_measured_over_20_seeds():
    toy = alw.datasets.cats_vs_milkshakes(400, tilt=10, seed=0)
    study = workshop.boundary_study(
        toy, seeds=range(20), budget=28, learner=workshop.LineLearner(), progress=False
    )
    quoted = [f"{mean:.1f}° ± {std:.1f}°" for mean, std in study.summary().values()]
    notebook = "\n".join(_cells(ROOT / "notebooks" / "workshop" / WORKSHOP[0], "markdown"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in (notebook, readme):
        assert all(figure in text for figure in quoted), quoted


@pytest.mark.slow
def test_notebook_1_s_solution_quotes_the_angle_errors_measured_at_60_100_and_240_labels():
    toy = alw.datasets.cats_vs_milkshakes(400, tilt=10, seed=0)
    solution = _cells(ROOT / "notebooks" / "workshop" / WORKSHOP[0], "markdown")[-1]
    quoted = []
    for budget in (60, 100, 240):
        study = workshop.boundary_study(
            toy, seeds=range(20), budget=budget, learner=workshop.LineLearner(), progress=False
        )
        quoted += [f"{mean:.1f}° ± {std:.1f}°" for mean, std in study.summary().values()]
    assert all(figure in solution for figure in quoted), quoted


@pytest.mark.slow
def test_notebook_3_s_clumped_pool_is_one_where_ranking_100_misses_what_the_whole_pool_finds():
    """Notebook 3's reading of its table: on the clumped pool margin over a random 100 does no
    better than random while the whole pool pins the line; spread evenly, the 100 do as well."""
    median = {}
    for pool, clumped in (("clumped", 0.997), ("even", 0.0)):
        toy = alw.datasets.cats_vs_milkshakes(20_000, clumped=clumped, seed=0)
        for way, heuristic, pool_sample in (
            ("whole", "margin", None),
            ("100", "margin", 100),
            ("random", "random", 100),
        ):
            errors = [
                workshop.learn_boundary(
                    toy,
                    heuristic,
                    budget=28,
                    seed=seed,
                    learner=workshop.LineLearner(),
                    pool_sample=pool_sample,
                ).angle_error
                for seed in range(8)
            ]
            median[pool, way] = float(np.median(errors))
    assert median["clumped", "whole"] * 4 < median["clumped", "100"]
    assert median["clumped", "100"] >= 0.8 * median["clumped", "random"]
    assert median["even", "100"] <= 1.25 * median["even", "whole"]
