"""Instance segmentation: round time of the default learner, and active (MaskAL) vs random labeling.

(a) Round time (train + score) of the default ``InstanceSegmenter`` at 128 px on one CPU
    thread (``torch.set_num_threads(1)``): a loop on a `shapes(task="instances")` pool with
    pool_sample=100, oracle labels, rounds at 60, 70, 80 labels. Target: < 15 s a round. Wall
    time and the process's CPU time (on a shared machine the wall time includes waiting for a
    core; the CPU time is what one free core would take).
(b) Label efficiency: `compare` of "margin" (the instance task scores with MaskAL's semantic,
    spatial and occurrence uncertainty, the semantic part by margin) against "random", over
    --repeats seeds; mask mAP@[.5:.95] on held-out shapes against labeled images, the labels
    each needs to reach --target (mean curve and per seed), and the spread.

(c) Commit cost on a photo (``--part compare``): what a commit of an instance image computes of
    its drafts, under the loop's session lock (``draft_log.outcome_of`` for the calibration and
    ``savings_of`` for the savings): 30 model objects against 30 stored ones of about 30 x 30
    pixels, each shifted a few pixels, on a 4000 x 3000 image. Target: a few milliseconds, so that
    Enter on a photo is not held up (before the objects were compared by their run lengths, each
    comparison decoded every mask: 48 ms measured for one, and IoUs off by a factor of two on
    objects this small).

    python benchmarks/instances.py [--part rounds|curves|compare|all] [--quick] [--repeats 3]

--quick: 96 px, a 200-image pool, 3 seeds, 10 + 10 per round up to 60 labels (a few minutes
on two cores); figures at 128 px need the full run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import Figure, print_table, stats, write_json

import al_widget as alw
from al_widget.learners import InstanceSegmenter


def rounds_part(args: argparse.Namespace) -> list[Figure]:
    torch.set_num_threads(1)
    data = alw.datasets.shapes(args.pool, size=128, seed=0, task="instances")
    truth = data.annotations
    ds = alw.Dataset(data.images, list(data.classes), "instances")
    loop = alw.ActiveLoop(ds, pool_sample=100, query_size=10, seed=0, start=False)
    for i in range(args.labels - 10):
        loop.commit(i, truth[i])
    loop.start()
    assert loop.wait()
    cpu = []  # the process's CPU seconds a round: one torch thread, so a core's time, load or not
    for _ in range(args.rounds):
        started = time.process_time()
        for i in loop.queue[:10]:
            loop.commit(int(i), truth[int(i)])
        assert loop.wait()
        cpu.append(time.process_time() - started)
    loop.close()
    done = [r for r in loop.history if r.retrained][-args.rounds :]
    failed = [r.error for r in done if not r.ok]
    assert not failed, failed
    total = stats([r.train_seconds + r.score_seconds for r in done])
    train = stats([r.train_seconds for r in done])
    score = stats([r.score_seconds for r in done])
    labels = ", ".join(str(r.n_labels) for r in done)
    core = stats(cpu)
    return [
        Figure(
            f"round (train + score), instances, 128 px, one thread, {labels} labels, pool sample 100",
            total["p50"],
            "s",
            "< 15 s",
            total["p50"] < 15,
            f"median of {total['n']}; train {train['p50']:.2f} s, score {score['p50']:.2f} s "
            f"(8 MC passes), max {total['max']:.2f} s",
        ),
        Figure(
            f"CPU time of a round, instances, 128 px, one thread, {labels} labels",
            core["p50"],
            "s",
            "< 15 s",
            core["p50"] < 15,
            f"median of {core['n']}, max {core['max']:.2f} s: what one free core would take",
        ),
    ]


def photo_objects(n: int, shift: int, size: tuple[int, int] = (3000, 4000)) -> alw.Instances:
    """`n` squares of 30 pixels spread over a photo-sized image, each moved by `shift` pixels."""
    masks = np.zeros((n, *size), bool)
    for k in range(n):
        y, x = 90 * k + 50 + shift, 120 * k + 60 + shift
        masks[k, y : y + 30, x : x + 30] = True
    return alw.Instances(masks, ["thing"] * n)


def compare_part(args: argparse.Namespace) -> list[Figure]:
    from al_widget.draft_log import outcome_of, savings_of

    drafts, stored = photo_objects(30, 0), photo_objects(30, 3)
    confidences = np.linspace(0.5, 0.95, 30)
    outcome_of(drafts, confidences, stored, ["thing"])  # the first call imports the COCO codec
    times = []
    for _ in range(args.calls):
        started = time.perf_counter()
        outcome = outcome_of(drafts, confidences, stored, ["thing"])
        savings = savings_of(drafts, stored, ["thing"])
        times.append(1000 * (time.perf_counter() - started))
    right = 0 if outcome is None else int(outcome.right.sum())
    found = stats(times)
    return [
        Figure(
            "commit of an instance photo: its drafts compared (30 vs 30 objects, 4000x3000)",
            found["p50"],
            "ms",
            "< 10 ms",
            found["p95"] < 10,
            f"p95 {found['p95']:.2f} ms, max {found['max']:.2f} ms over {found['n']} commits; "
            f"drafts judged right: {right} of 30, counted adjusted: {savings.adjusted} of 30 "
            "(each overlaps its object by IoU 0.68: all 30 are both)",
        )
    ]


def labels_to_reach(labels: np.ndarray, metric: np.ndarray, target: float) -> int | None:
    reached = np.flatnonzero(metric >= target)
    return int(labels[reached[0]]) if len(reached) else None


def curves_part(args: argparse.Namespace) -> tuple[list[Figure], dict[str, object]]:
    size = 96 if args.quick else 128
    data = alw.datasets.shapes(args.pool + args.test, size=size, seed=1, task="instances")
    pool, test = slice(0, args.pool), slice(args.pool, None)
    learner = InstanceSegmenter(3, longest_side=size, min_steps=60, max_steps=args.steps)
    started = time.perf_counter()
    result = alw.compare(
        data.images[pool],
        data.annotations[pool],
        ["random", "margin"],
        repeats=args.repeats,
        task="instances",
        classes=list(data.classes),
        learner=learner,
        test=(data.images[test], data.annotations[test]),
        seed_size=10,
        query_size=10,
        budget=args.budget,
        pool_sample=100,
        progress=False,
    )
    seconds = time.perf_counter() - started
    table = result.table()
    print(f"\ninstances ({result.metric_name}, {args.repeats} seeds, {size} px)")
    print(table)
    figures = []
    per_seed: dict[str, list[int | None]] = {}
    for name, curves in result.curves.items():
        per_seed[name] = [labels_to_reach(c.n_labels, c.metric, args.target) for c in curves]
        mean, std = result.mean(name)[-1], result.std(name)[-1]
        figures.append(
            Figure(
                f"instances: {result.metric_name} at {args.budget} labels, {name}",
                float(mean),
                "",
                detail=f"± {std:.3f} over {args.repeats} seeds; run {seconds:.0f} s",
            )
        )
    for name, reach in result.labels_to_reach(args.target).items():
        seeds = ", ".join("-" if r is None else str(r) for r in per_seed[name])
        figures.append(
            Figure(
                f"instances: labels to {result.metric_name} {args.target}, {name} (mean curve)",
                None if reach is None else float(reach),
                "labels",
                detail=f"per seed: {seeds} (-: not within {args.budget})",
            )
        )
    return figures, {"table": table, "labels_to_target": per_seed, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["rounds", "curves", "compare", "all"], default="all")
    parser.add_argument("--calls", type=int, default=50, help="commits timed in --part compare")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--labels", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--pool", type=int, default=None)
    parser.add_argument("--test", type=int, default=None)
    parser.add_argument("--steps", type=int, default=150, help="most training steps a round")
    parser.add_argument("--target", type=float, default=None, help="mask mAP to reach")
    args = parser.parse_args()
    quick = {"budget": 60, "pool": 200, "test": 60, "target": 0.2}
    full = {"budget": 120, "pool": 500, "test": 150, "target": 0.4}
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.quick:
        args.rounds = min(args.rounds, 2)
    figures: list[Figure] = []
    raw: dict[str, object] = {}
    if args.part in ("rounds", "all"):
        figures += rounds_part(args)
    if args.part in ("curves", "all"):
        more, raw = curves_part(args)
        figures += more
    if args.part in ("compare", "all"):
        figures += compare_part(args)
    print_table("Instance segmentation", figures)
    write_json(f"instances_{args.part}{'_quick' if args.quick else ''}", figures, raw=raw)


if __name__ == "__main__":
    main()
