"""Label efficiency on MNIST (Gal et al. 2017 setup): labels each heuristic needs to reach 90% / 95%.

20 balanced seed labels, 10 acquired per round (`--query-size`), test accuracy on a held-out 20%
of the MNIST test set, mean curve over `--repeats` seeds, and each seed's own labels to 90% / 95%
(median, range).

By default the classifier is the loop's default, semi-supervised (`Classifier()`: it also learns
from 2,000 unlabeled pool images per round, warm-started, 300 steps a round); `--semi-supervised
off` measures the supervised classifier retrained from scratch each round, as below.
`--data digits` runs the bundled 8x8 digits (1,797 images) instead of MNIST.

Supervised (`--semi-supervised off`):
Random is also run past the budget with 50 labels per round (`--random-extend`): its model at n labels
does not depend on earlier rounds (weights reset each fit), so this only coarsens its curve.
Every heuristic trains the same Classifier with `--max-steps` (default 2000, about 40 epochs even at
1,500 labels) rather than the interactive default of 300 steps, so that random is not held back by
an undertrained model at larger label counts: the comparison is of the heuristics, not of the cap.

    python benchmarks/label_efficiency.py [--quick] [--budget 200] [--repeats 3] [--pool-sample 2000]
                                          [--semi-supervised on|off] [--data mnist|digits]

`--selectors coreset,cluster_margin,badge` adds diversity-aware batch selectors (al_widget.selectors,
each on margin) to the heuristics, in the same setup; results then go to `label_efficiency_selectors.*`
so that the heuristics-only results stay as they were.

`--heuristics random,margin,entropy,auto` adds the online choice among heuristics ("auto"); results
then go to `label_efficiency_auto.*`, with the labels each seed needed, "auto" beside the best
single heuristic in hindsight (target: within 10 % of its labels) and a chart of auto's weights.
`--auto-arms random,margin,entropy,cluster_margin` adds "auto_arms", the online choice among the
arms given (`al_widget.auto.Auto(arms=...)`), e.g. `--heuristics cluster_margin,auto_arms`.
`--quick` sets a small budget, 2 seeds and random,margin, unless given.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import MNIST, RESULTS, Figure, machine, print_table, write_json
from _paired import labels_ratio

from al_widget import Comparison, compare, heuristics, simulate
from al_widget.auto import Auto
from al_widget.datasets import digits, mnist
from al_widget.learners import Classifier

SEED = 20
GOALS = (0.90, 0.95)
TARGETS = {"mnist": (0.95, 100), "digits": (0.90, 40)}  # the design's: margin's labels to reach
ANCHOR = {
    "random": 835,
    "bald": 335,
    "variance ratios": 295,
}  # acquired labels to 95%, Gal et al. Table 1


def extended_random(
    images: np.ndarray, labels: np.ndarray, args: argparse.Namespace
) -> dict[str, object]:
    """Random's mean curve up to `--random-extend` labels, 50 per round."""
    curves = [
        simulate(
            images,
            labels,
            "random",
            budget=args.random_extend,
            query_size=50,
            seed=seed,
            pool_sample=args.pool_sample,
            learner=learner_factory(args.max_steps, int(labels.max()) + 1, args.semi),
            progress=False,
        )
        for seed in range(args.repeats)
    ]
    n = curves[0].n_labels
    mean = np.mean([c.accuracy for c in curves], axis=0)
    reach = {g: next((int(k) for k, a in zip(n, mean, strict=True) if a >= g), None) for g in GOALS}
    return {
        "n_labels": n,
        "mean": mean,
        "std": np.std([c.accuracy for c in curves], axis=0),
        "reach": reach,
    }


def learner_factory(max_steps: int, n_classes: int, semi: bool) -> Callable[[int], Classifier]:
    """A fresh default Classifier per run, seeded like the run, with the given step cap."""
    return lambda seed: Classifier(n_classes, max_steps=max_steps, semi_supervised=semi, seed=seed)


def spread(curves: list, goal: float) -> dict[str, Any]:
    """Each seed's labels to `goal` (None: not within the budget), their median and range."""
    each = [c.labels_to_reach(goal) for c in curves]
    reached = sorted(n for n in each if n is not None)
    missed = len(each) - len(reached)
    if missed:
        # A seed that never reached counts as above the budget: the median is known when
        # fewer than half missed.
        median = float(np.median(reached + [np.inf] * missed)) if missed < len(each) / 2 else None
    else:
        median = float(np.median(reached))
    return {
        "per_seed": each,
        "median": median,
        "min": reached[0] if reached else None,
        "max": None if missed else (reached[-1] if reached else None),
    }


def shown_spread(found: dict[str, Any], budget: int) -> str:
    """'median 80 (70-100), seeds [70, 80, 100]', with '> budget' for a seed that never reached."""
    above = f"> {budget}"
    each = [above if n is None else str(n) for n in found["per_seed"]]
    median, low, top = found["median"], found["min"], found["max"]
    return (
        f"median {above if median is None else f'{median:g}'} "
        f"({above if low is None else low}-{above if top is None else top}), "
        f"seeds [{', '.join(each)}]"
    )


def acquired(total: int | None) -> int | None:
    """Labels acquired beyond the seed set."""
    return None if total is None else total - SEED


def per_seed(result: Comparison, name: str, goal: float) -> list[int | None]:
    """The labels each seed's run of `name` needed to reach `goal` (None: not within budget)."""
    return [c.labels_to_reach(goal) for c in result.curves[name]]


def auto_figures(
    result: Comparison, names: list[str], budget: int, query_size: int
) -> list[Figure]:
    """ "auto" beside the best single heuristic in hindsight, per goal: on the mean curves, and
    as the mean of each seed's labels (paired by seed, with the seeds' spread)."""
    figures = []
    reach = {g: result.labels_to_reach(g) for g in GOALS}
    for g in GOALS:
        fixed = {n: reach[g][n] for n in names if n != "auto" and reach[g][n] is not None}
        mine = reach[g]["auto"]
        seeds = ", ".join(
            f"{n} {per_seed(result, n, g)}".replace("None", f"> {budget}") for n in names
        )
        if not fixed or mine is None:
            figures.append(
                Figure(f"auto / best single at {g:.0%}", None, "", "<= 1.10x", None, seeds)
            )
            continue
        best = min(fixed, key=lambda n: fixed[n] or 0)
        ratio = mine / fixed[best]
        figures.append(
            Figure(
                f"auto / best single ({best}) at {g:.0%}",
                ratio,
                "x",
                "<= 1.10x",
                ratio <= 1.10,
                f"{mine} vs {fixed[best]} labels (mean curves); per seed: {seeds}",
            )
        )
        paired = labels_ratio(
            per_seed(result, "auto", g), per_seed(result, best, g), budget + query_size
        )
        figures.append(
            Figure(
                f"auto / best single ({best}) at {g:.0%}, each seed's labels",
                paired.ratio,
                "x",
                "<= 1.10x",
                paired.ratio <= 1.10 and not paired.bound_below,
                paired.shown(),
            )
        )
    return figures


def main() -> None:
    """Run the comparison, print the table and curves, write JSON and SVG."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="bundled 8x8 digits, small budget")
    parser.add_argument(
        "--budget", type=int, default=None, help="labels per run, seed included (200; off: 500)"
    )
    parser.add_argument(
        "--semi-supervised",
        choices=("on", "off"),
        default="on",
        help="the classifier learns from unlabeled pool images too (the default) or not",
    )
    parser.add_argument("--data", choices=("mnist", "digits"), default="mnist")
    parser.add_argument("--repeats", type=int, help="seeds per heuristic (3)")
    parser.add_argument(
        "--pool-sample", type=int, default=2000, help="pool images scored per round (0: all)"
    )
    parser.add_argument(
        "--query-size", type=int, default=10, help="labels acquired per round (10, the default)"
    )
    parser.add_argument("--heuristics", help="comma-separated (random,margin,entropy,bald)")
    parser.add_argument(
        "--selectors", default="", help="batch selectors to add, e.g. coreset,cluster_margin,badge"
    )
    parser.add_argument(
        "--auto-arms",
        help="the arms of the heuristic 'auto_arms', e.g. random,margin,cluster_margin",
    )
    parser.add_argument(
        "--random-extend", type=int, default=None, help="0 to skip (default: 1500; 0 when on)"
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="training steps cap per round (default: 300 warm-started; off: 2000 from scratch)",
    )
    args = parser.parse_args()
    args.semi = args.semi_supervised == "on"
    if args.auto_arms:
        heuristics.register("auto_arms", replace=True)(Auto(arms=args.auto_arms.split(",")))
    # Semi-supervised fits warm-start, so a random run's model at n labels depends on the rounds
    # before it: random's curve is not extended with bigger rounds then.
    budget, max_steps, extend = (200, 300, 0) if args.semi else (500, 2000, 1500)
    defaults: dict[str, object] = {
        "budget": budget,
        "max_steps": max_steps,
        "random_extend": extend,
        "repeats": 3,
        "heuristics": "random,margin,entropy,bald",
    }
    if args.quick:  # fills in only the options not given
        args.data = "digits"
        defaults.update(budget=100, repeats=2, heuristics="random,margin")
        defaults["random_extend"] = min(extend, 400)
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.data == "digits":
        images, labels = digits()
        data = "digits (1,797 8x8: 1,437 pool / 360 test)"
    else:
        images, labels = mnist(MNIST)
        data = "MNIST t10k (8,000 pool / 2,000 test)"
    args.pool_sample = args.pool_sample or None
    names = args.heuristics.split(",") + [n for n in args.selectors.split(",") if n]
    stem = (
        "label_efficiency"
        + ("_digits" if args.data == "digits" and not args.quick else "")
        + ("" if args.semi else "_supervised")
        + ("_selectors" if args.selectors else "")
        + ("_auto" if "auto" in names else "")
        + ("_auto_arms" if "auto_arms" in names else "")
        + ("_quick" if args.quick else "")
        + ("" if args.query_size == 10 else f"_q{args.query_size}")
    )
    print(
        f"label efficiency on {data}: {names}, budget {args.budget}, {args.repeats} seeds, "
        f"{args.query_size} per round, "
        f"pool_sample={args.pool_sample}, max_steps={args.max_steps}, "
        f"semi_supervised={args.semi_supervised}; {machine()['note']}",
        flush=True,
    )

    started = time.perf_counter()
    result = compare(
        images,
        labels,
        names,
        repeats=args.repeats,
        budget=args.budget,
        seed_size=SEED,
        query_size=args.query_size,
        test_size=0.2,
        pool_sample=args.pool_sample,
        learner=learner_factory(args.max_steps, int(labels.max()) + 1, args.semi),
    )
    minutes = (time.perf_counter() - started) / 60
    print(result.table())
    reach = {g: result.labels_to_reach(g) for g in GOALS}
    extended = extended_random(images, labels, args) if args.random_extend > args.budget else None
    if extended is not None:
        print("random, extended (mean over seeds):", {g: extended["reach"][g] for g in GOALS})
        for g in GOALS:
            if reach[g].get("random") is None:
                reach[g]["random"] = extended["reach"][g]
    horizon = max(args.budget, args.random_extend)
    spreads = {str(g): {name: spread(result.curves[name], g) for name in names} for g in GOALS}
    for g in GOALS:
        for name in names:
            each = shown_spread(spreads[str(g)][name], args.budget)
            print(f"labels to {g:.0%}, {name}, each seed: {each}")

    figures = []
    for g in GOALS:
        for name in names:
            total = reach[g].get(name)
            limit = horizon if name == "random" else args.budget
            shown = f"> {limit}" if total is None else f"{acquired(total)} acquired + {SEED}"
            shown += "; " + shown_spread(spreads[str(g)][name], args.budget)
            figures.append(Figure(f"labels to {g:.0%}: {name}", total, "labels", "", None, shown))
    goal, most = TARGETS[args.data]
    if "margin" in names:
        total = reach[goal].get("margin")
        figures.append(
            Figure(
                f"labels to {goal:.0%}: margin (mean curve)",
                total,
                "labels",
                f"<= {most}",
                total is not None and total <= most,
                shown_spread(spreads[str(goal)]["margin"], args.budget),
            )
        )
    for name in [n for n in names if n != "random"]:
        mine, base = reach[0.95].get(name), reach[0.95].get("random")
        if mine is None:
            figures.append(
                Figure(
                    f"{name} / random at 95% (acquired)",
                    None,
                    "",
                    "<= 0.35x",
                    False,
                    f"{name} did not reach 95% within {args.budget} labels",
                )
            )
            continue
        bound = base is None
        ratio = acquired(mine) / acquired(base if base is not None else horizon)
        detail = (
            f"upper bound: random > {horizon}" if bound else f"total labels {mine / base:.2f}x"
        ) + "; Gal et al.: BALD 335/835 = 0.40, var ratios 295/835 = 0.35"
        figures.append(
            Figure(
                f"{name} / random at 95% (acquired)",
                ratio,
                "x",
                "<= 0.35x",
                ratio <= 0.35,
                ("< " if bound else "") + detail,
            )
        )
    if "auto" in names:
        figures += auto_figures(result, names, args.budget, args.query_size)
    rounds = [
        s
        for curves in result.curves.values()
        for c in curves
        for s in c.train_seconds + c.score_seconds
    ]
    figures.append(
        Figure(
            "round time (train + score), median",
            float(np.median(rounds)),
            "s",
            "",
            None,
            f"whole comparison {minutes:.1f} min",
        )
    )
    print_table(f"label efficiency, {data}", figures)

    RESULTS.mkdir(exist_ok=True)
    svg = Path(RESULTS / f"{stem}.svg")
    svg.write_text(result._repr_svg_())
    print(f"wrote {svg}")
    if "auto" in names:
        for curve in result.curves["auto"]:
            print(f"auto weights, seed {curve.seed}:")
            for arm, w in (curve.weights or {}).items():
                print(f"  {arm:>8} " + " ".join(f"{v:.2f}" for v in w))
        weights = Path(RESULTS / f"{stem}_weights.svg")
        weights.write_text(result.curves["auto"][0].weights_svg())
        print(f"wrote {weights}")
    curves = {
        name: {
            "n_labels": result.n_labels(name),
            "mean": result.mean(name),
            "std": result.std(name),
            "reach_per_seed": {str(g): per_seed(result, name, g) for g in GOALS},
            "weights": [
                {a: w.tolist() for a, w in (c.weights or {}).items()} for c in result.curves[name]
            ],
        }
        for name in names
    }
    write_json(
        stem,
        figures,
        args=vars(args),
        data=data,
        reach={str(g): r for g, r in reach.items()},
        spread=spreads,
        curves=curves,
        random_extended=extended,
        anchor_acquired_to_95=ANCHOR,
    )


if __name__ == "__main__":
    main()
