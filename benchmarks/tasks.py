"""Detection and segmentation: round time next to classification's, and label efficiency vs random.

(a) Round time (train + score) with the default learners at 128 px and pool_sample=100, on a
    1,000-image `shapes` pool with 50 labels (oracle), beside the default classifier's round on
    1,000 MNIST digits with 50 labels, in the same run. Target: <= 10 s per round.
(b) Label efficiency: `compare` of the task's default reduction (max over boxes, top(0.01) over
    pixels, with margin) against random, over --repeats seeds; mAP / mIoU on 200 held-out
    shapes against labeled images and, for detection, boxes drawn. SVG charts are written
    beside this file for the README.

    python benchmarks/tasks.py [--part rounds|curves|all] [--repeats 3] [--budget 100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import MNIST, Figure, print_table, stats, write_json

import al_widget as alw

HERE = Path(__file__).resolve().parent


def oracle_loop(task: str, n_labels: int, rounds: int) -> list[alw.RoundRecord]:
    """Records of `rounds` retraining rounds of the task's default learner after `n_labels` labels."""
    if task == "classify":
        images, labels = alw.datasets.mnist(MNIST)
        images, truth = images[:1000], [alw.Label(int(v)) for v in labels[:1000]]
        classes = alw.datasets.DIGIT_CLASSES
    else:
        data = alw.datasets.shapes(1000, size=128, seed=0, task=task)
        images, truth, classes = data.images, data.annotations, list(data.classes)
    ds = alw.Dataset(images, classes, task)
    loop = alw.ActiveLoop(ds, pool_sample=100, query_size=10, seed=0, start=False)
    for i in range(n_labels - 10):
        loop.commit(i, truth[i])
    loop.start()
    assert loop.wait()
    for _ in range(rounds):
        for i in loop.queue[:10]:
            loop.commit(int(i), truth[int(i)])
        assert loop.wait()
    loop.close()
    done = [r for r in loop.history if r.retrained]
    failed = [r.error for r in done if not r.ok]
    assert not failed, failed
    return done[-rounds:]


def rounds_part(args: argparse.Namespace) -> list[Figure]:
    figures = []
    for task in ("classify", "detect", "segment"):
        records = oracle_loop(task, args.labels, args.rounds)
        total = stats([r.train_seconds + r.score_seconds for r in records])
        train = stats([r.train_seconds for r in records])
        score = stats([r.score_seconds for r in records])
        figures.append(
            Figure(
                f"round (train + score), {task}, {args.labels}-{args.labels + 10 * args.rounds} labels, pool sample 100",
                total["p50"],
                "s",
                "<= 10 s" if task != "classify" else "",
                total["p50"] <= 10 if task != "classify" else None,
                f"median of {total['n']}; train {train['p50']:.2f} s, score {score['p50']:.2f} s, max {total['max']:.2f} s",
            )
        )
    return figures


def curves_part(args: argparse.Namespace) -> tuple[list[Figure], dict[str, object]]:
    figures, raw = [], {}
    for task, reduction in (("detect", "max"), ("segment", "top(0.01)")):
        data = alw.datasets.shapes(args.pool + 200, size=128, seed=1, task=task)
        pool, test = slice(0, args.pool), slice(args.pool, None)
        started = time.perf_counter()
        result = alw.compare(
            data.images[pool],
            data.annotations[pool],
            ["random", "margin"],
            repeats=args.repeats,
            task=task,
            classes=list(data.classes),
            reduction=reduction,
            test=(data.images[test], data.annotations[test]),
            seed_size=10,
            query_size=10,
            budget=args.budget,
            pool_sample=100,
            progress=False,
        )
        seconds = time.perf_counter() - started
        axes = ["labels", "boxes"] if task == "detect" else ["labels"]
        for x in axes:
            (HERE / f"tasks_{task}_{x}.svg").write_text(result.svg(x=x))
        final = {name: (result.mean(name)[-1], result.std(name)[-1]) for name in result.curves}
        raw[task] = {
            "table": result.table(),
            "boxes_table": result.table("boxes") if task == "detect" else None,
            "seconds": seconds,
        }
        print(f"\n{task} ({result.metric_name}, reduction {reduction}, {args.repeats} seeds)")
        print(raw[task]["table"])
        if task == "detect":
            print(raw[task]["boxes_table"])
        for name, (mean, std) in final.items():
            figures.append(
                Figure(
                    f"{task}: {result.metric_name} at {args.budget} labels, {name}",
                    float(mean),
                    "",
                    detail=f"± {std:.3f} over {args.repeats} seeds; run {seconds:.0f} s",
                )
            )
    return figures, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["rounds", "curves", "all"], default="all")
    parser.add_argument("--labels", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--pool", type=int, default=1000)
    args = parser.parse_args()
    figures: list[Figure] = []
    raw: dict[str, object] = {}
    if args.part in ("rounds", "all"):
        figures += rounds_part(args)
    if args.part in ("curves", "all"):
        more, raw = curves_part(args)
        figures += more
    print_table("Detection and segmentation", figures)
    write_json(f"tasks_{args.part}", figures, raw=raw)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
