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

`--part commit` times instead what a commit of a segmentation mask computes of its draft, under
the loop's session lock (``draft_log.outcome_of`` for the calibration, ``savings_of`` for the
savings), on a 4000 x 3000 photo: a large region drafted as stored (right, accepted), a 30-pixel
one shifted by 3 pixels (IoU 0.68: right, adjusted), a 5-pixel one the draft misses (drawn) and a
3-pixel stray region of a class not stored (wrong, deleted). Target: p95 under 100 ms, so that
Enter on a photo is not held up by a tenth of a second; and every region judged as it is.

    python benchmarks/drafts.py [--pool 300] [--budget 80] [--seeds 1] [--learner scratch|frozen] [--quick]
    python benchmarks/drafts.py --part commit [--calls 50]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import Figure, print_table, stats, write_json

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


def photo_masks() -> tuple[alw.Mask, alw.Mask]:
    """The draft and the stored mask of `--part commit` (4000 x 3000, classes a to d)."""
    stored = np.zeros((3000, 4000), np.uint8)
    stored[1000:2000, 1000:2000] = 1  # drafted as stored: accepted
    stored[100:130, 100:130] = 2  # drafted 3 pixels off, IoU 0.68: right, adjusted
    stored[7:12, 7:12] = 3  # not drafted: drawn
    draft = stored.copy()
    draft[100:130, 100:130] = 0
    draft[103:133, 103:133] = 2
    draft[7:12, 7:12] = 0
    draft[2501:2504, 3001:3004] = 4  # a class not stored: deleted
    return alw.Mask(draft), alw.Mask(stored)


def commit_part(args: argparse.Namespace) -> list[Figure]:
    from al_widget.draft_log import outcome_of, savings_of

    classes = ["background", "a", "b", "c", "d"]
    draft, stored = photo_masks()
    confidences = np.array([1.0, 0.9, 0.8, 0.7, 0.6])
    times = []
    for _ in range(args.calls):
        started = time.perf_counter()
        outcome = outcome_of(draft, confidences, stored, classes)
        savings = savings_of(draft, stored, classes)
        times.append(1000 * (time.perf_counter() - started))
    assert outcome is not None
    right = dict(zip(outcome.confidences.tolist(), outcome.right.tolist(), strict=True))
    judged = {classes[k]: right.get(float(confidences[k])) for k in range(1, 5)}
    expected = {"a": True, "b": True, "c": None, "d": False}
    found = stats(times)
    return [
        Figure(
            "commit of a segmentation photo: its draft compared (4000x3000, 4 class regions)",
            found["p50"],
            "ms",
            "< 100 ms",
            found["p95"] < 100,
            f"p95 {found['p95']:.1f} ms, max {found['max']:.1f} ms over {found['n']} commits; "
            f"regions judged right: {judged} (as they are: {judged == expected}); {savings} "
            "(as they are: 1 accepted, 1 adjusted, 1 deleted, 1 drawn)",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=300)
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--budget", type=int, default=80)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--tasks", default="detect,segment")
    parser.add_argument("--learner", choices=["scratch", "frozen"], default="scratch")
    parser.add_argument("--quick", action="store_true", help="pool 60, budget 30, test 20")
    parser.add_argument("--part", choices=["savings", "commit"], default="savings")
    parser.add_argument("--calls", type=int, default=50, help="commits timed in --part commit")
    args = parser.parse_args()
    if args.part == "commit":
        figures = commit_part(args)
        print_table("Drafts: a segmentation commit", figures)
        write_json("drafts_commit", figures)
        return
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
