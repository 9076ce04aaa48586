"""Drafts that save work: objects the model's drafts save an oracle, per 100 objects, as labels grow.

`simulate` on `shapes` scenes (128 px) with the task's default from-scratch learner (the tiny FCOS
`Detector`, the small U-Net `Segmenter`): before the oracle labels an image it takes the drafts at
or above the calibrated threshold, as the panel would show them; a draft saves its object when
it overlaps a true object of its class by IoU >= 0.7 (a mask: by class region), the other drafts
shown are deleted, the objects left are drawn. Per round (labels so far): the objects its drafts
saved and the drafts deleted, per 100 objects labeled next, the round time and the test metric.

`--learner frozen` runs the same with the frozen-backbone learners instead
(``model="frozen_resnet18"``, ``weights=None``: random backbone weights, since this machine
cannot download ImageNet's; their round times are what this measures, not their drafts).

    python benchmarks/drafts.py [--pool 300] [--budget 80] [--seeds 1] [--learner scratch|frozen] [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import Figure, print_table, write_json

import al_widget as alw


def run(task: str, args: argparse.Namespace, seed: int) -> tuple[alw.Curve, float]:
    data = alw.datasets.shapes(args.pool + args.test, size=128, seed=seed, task=task)
    pool, test = slice(0, args.pool), slice(args.pool, None)
    started = time.perf_counter()
    curve = alw.simulate(
        data.images[pool],
        data.annotations[pool],
        "margin",
        seed_size=10,
        query_size=10,
        budget=args.budget,
        test=(data.images[test], data.annotations[test]),
        seed=seed,
        pool_sample=100,
        learner=learner(task, len(data.classes), args.learner),
        task=task,
        classes=list(data.classes),
        progress=False,
    )
    return curve, time.perf_counter() - started


def learner(task: str, n_classes: int, kind: str) -> alw.learners.Learner | None:
    """None (the task's default from-scratch learner), or the frozen-backbone one."""
    if kind == "scratch":
        return None
    if task == "detect":
        return alw.learners.Detector(n_classes, model="frozen_resnet18", weights=None)
    return alw.learners.Segmenter(n_classes, model="frozen_resnet18", weights=None, input_size=128)


def table(task: str, curves: list[alw.Curve]) -> str:
    """Markdown rows: per round, drafts saved and deleted per 100 objects, metric, round time."""
    first = curves[0]
    rows = [
        f"| labels | drafts saved / 100 objects | drafts deleted / 100 objects | objects labeled next | test {first.metric_name} | round time |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in range(len(first.n_labels) - 1):  # the last round's drafts label nothing
        found = [c.drafts[r] for c in curves if c.drafts is not None and r < len(c.drafts)]
        objects = sum(s.objects for s in found)
        saved = 100 * sum(s.saved for s in found) / objects if objects else float("nan")
        deleted = 100 * sum(s.deleted for s in found) / objects if objects else float("nan")
        metric = np.mean([c.metric[r] for c in curves])
        seconds = np.mean([c.train_seconds[r] + c.score_seconds[r] for c in curves])
        rows.append(
            f"| {first.n_labels[r]} | {saved:.0f} | {deleted:.0f} | {objects} | {metric:.3f} | {seconds:.1f} s |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=300)
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--budget", type=int, default=80)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--tasks", default="detect,segment")
    parser.add_argument("--learner", choices=["scratch", "frozen"], default="scratch")
    parser.add_argument("--quick", action="store_true", help="pool 60, budget 30, test 20")
    args = parser.parse_args()
    if args.quick:
        args.pool, args.budget, args.test = 60, 30, 20
    figures, raw = [], {}
    for task in args.tasks.split(","):
        runs = [run(task, args, seed) for seed in range(args.seeds)]
        curves = [c for c, _ in runs]
        total = sum((c.draft_savings for c in curves), alw.drafts.Savings())
        print(f"\n{task}: {total} over {args.seeds} seed(s), {sum(s for _, s in runs):.0f} s")
        raw[task] = table(task, curves)
        print(raw[task])
        figures.append(
            Figure(
                f"{task} ({args.learner}): drafts saved per 100 objects, labels 10-{args.budget}",
                None if total.rate is None else 100 * total.rate,
                "",
                detail=str(total),
            )
        )
    print_table("Drafts", figures)
    write_json(f"drafts_{args.learner}", figures, raw=raw)


if __name__ == "__main__":
    main()
