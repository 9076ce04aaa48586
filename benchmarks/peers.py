"""The same work done by al_widget and its peers, side by side in one run.

(a) heuristic scoring speed on one (N, C) probability array (and (N, C, 20) for BALD): al_widget.heuristics
    vs modAL's probability-level functions vs baal's heuristics, and agreement of their top-100 items;
(b) how long the user waits from commit to next image: a superintendent-style synchronous loop
    (commit -> fit on all labels -> rescore the pool -> next) vs al_widget's background ActiveLoop,
    same default classifier, 10k MNIST pool.

The peers are benchmark-only dependencies:  pip install modAL-python baal

    python benchmarks/peers.py [--quick] [--n 100000] [--commits 100] [--start-labels 400]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import torch
from _common import MNIST, Figure, machine, print_table, stats, timed_ms, write_json

from al_widget import ActiveLoop, Dataset, Label, heuristics
from al_widget.datasets import DIGIT_CLASSES, mnist
from al_widget.learners import Classifier

TOP = 100


def peer_scorers() -> tuple[dict[str, dict[str, Callable]], list[str]]:
    """Per heuristic, per library: a function from probs to an ordering (most uncertain first)."""
    mine = {
        "margin": heuristics.margin,
        "entropy": heuristics.entropy,
        "least_confidence": heuristics.least_confidence,
        "bald": heuristics.bald,
    }
    table: dict[str, dict[str, Callable]] = {
        name: {"al_widget": lambda p, fn=fn: np.argsort(-fn(p), kind="stable")}
        for name, fn in mine.items()
    }
    missing = []
    try:
        from modAL import uncertainty as md

        table["margin"]["modAL"] = lambda p: np.argsort(md._proba_margin(p), kind="stable")
        table["entropy"]["modAL"] = lambda p: np.argsort(-md._proba_entropy(p), kind="stable")
        table["least_confidence"]["modAL"] = lambda p: np.argsort(
            -md._proba_uncertainty(p), kind="stable"
        )
    except ImportError as error:
        missing.append(f"modAL: {error}")
    try:
        from baal.active import heuristics as bh

        for name, cls in (
            ("margin", bh.Margin),
            ("entropy", bh.Entropy),
            ("least_confidence", bh.Certainty),
            ("bald", bh.BALD),
        ):
            h = cls()
            table[name]["baal"] = lambda p, h=h: h.reorder_indices(h.get_uncertainties(p))
    except ImportError as error:
        missing.append(f"baal: {error}")
    return table, missing


def heuristic_speed(
    n: int, repeats: int
) -> tuple[dict[str, dict[str, dict[str, float]]], list[str]]:
    """Milliseconds per heuristic and library (score + order), and top-100 overlap with al_widget."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (n, 10, 20)).astype(np.float32)
    mc = np.exp(logits - logits.max(axis=1, keepdims=True))
    mc /= mc.sum(axis=1, keepdims=True)
    single = mc[:, :, 0].copy()
    table, missing = peer_scorers()
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, libraries in table.items():
        probs = mc if name == "bald" else single
        reference = libraries["al_widget"](probs)[:TOP]
        out[name] = {}
        for library, fn in libraries.items():
            fn(probs[:1000])  # warm-up
            times = [timed_ms(lambda: fn(probs))[0] for _ in range(repeats)]  # noqa: B023
            top = fn(probs)[:TOP]
            out[name][library] = {
                "ms": float(np.median(times)),
                "top100_agreement": len(np.intersect1d(top, reference)) / TOP,
            }
    return out, missing


def mnist_start(n_pool: int, start: int) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """A Dataset of `n_pool` MNIST images with `start` random ones labeled, its labels and the label order."""
    images, labels = mnist(MNIST)
    dataset = Dataset(images[:n_pool], DIGIT_CLASSES)
    order = np.random.default_rng(0).permutation(n_pool)
    for i in order[:start]:
        dataset.annotate(int(i), Label(int(labels[i])))
    return dataset, labels[:n_pool], order


def synchronous(n_pool: int, start: int, commits: int, every: int) -> dict[str, float]:
    """Superintendent-style: retrain on all labels and rescore the whole pool before showing the next image."""
    dataset, labels, _ = mnist_start(n_pool, start)
    learner = Classifier(10)
    torch.set_num_threads(os.cpu_count() or 1)  # the kernel's own thread, all cores

    def retrain_and_rank() -> np.ndarray:
        snap = dataset.snapshot()
        learner.fit(dataset.batch(snap.indices), snap.targets(DIGIT_CLASSES))
        pool = dataset.unlabeled
        return pool[np.argsort(-heuristics.margin(learner.predict_proba(dataset.batch(pool))))]

    queue = retrain_and_rank()
    waits = []
    for k in range(commits):
        i = int(queue[0])

        def step(i: int = i, k: int = k, queue: np.ndarray = queue) -> np.ndarray:
            dataset.annotate(i, Label(int(labels[i])))
            return retrain_and_rank() if (k + 1) % every == 0 else queue[1:]

        ms, queue = timed_ms(step)
        waits.append(ms)
    return stats(waits)


def background(n_pool: int, start: int, commits: int, think: float) -> dict[str, float]:
    """al_widget: commit + next on the ActiveLoop while its worker retrains and rescores the whole pool."""
    dataset, labels, _ = mnist_start(n_pool, start)
    loop = ActiveLoop(dataset, pool_sample=None)
    loop.wait()
    waits, busy = [], 0
    i = loop.next()
    try:
        for _ in range(commits):
            busy += loop.state != "idle"
            label = Label(int(labels[i]))
            ms, i = timed_ms(lambda: (loop.commit(i, label), loop.next())[1])  # noqa: B023
            waits.append(ms)
            time.sleep(think)
        rounds = len(loop.history)
    finally:
        loop.close()
    return {**stats(waits), "rounds": rounds, "worker_busy_fraction": busy / commits}


def main() -> None:
    """Run both comparisons and print/write the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument(
        "--n", type=int, default=100_000, help="rows of the probability array in (a)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pool", type=int, default=10_000, help="MNIST pool in (b)")
    parser.add_argument("--start-labels", type=int, default=400)
    parser.add_argument("--commits", type=int, default=100)
    parser.add_argument(
        "--think", type=float, default=0.05, help="seconds between al_widget commits"
    )
    args = parser.parse_args()
    if args.quick:
        args.n, args.repeats, args.pool, args.commits, args.start_labels = 20_000, 3, 1_000, 5, 50
    print(f"peers benchmark; {machine()['note']}", flush=True)

    speed, missing = heuristic_speed(args.n, args.repeats)
    for line in missing:
        print("left out:", line)
    figures = []
    for name, libraries in speed.items():
        ours = libraries["al_widget"]["ms"]
        for library, found in libraries.items():
            ratio = (
                "" if library == "al_widget" else f"{found['ms'] / ours:.2f}x al_widget's time; "
            )
            figures.append(
                Figure(
                    f"(a) {name} score+order, {library}",
                    found["ms"],
                    "ms",
                    "",
                    None,
                    f"{ratio}top-{TOP} agreement {found['top100_agreement']:.0%}",
                )
            )
    sync_each = synchronous(args.pool, args.start_labels, args.commits, 1)
    print("sync every commit", sync_each, flush=True)
    sync_ten = synchronous(args.pool, args.start_labels, args.commits, 10)
    print("sync every 10 commits", sync_ten, flush=True)
    ours = background(args.pool, args.start_labels, args.commits, args.think)
    print("al_widget", ours, flush=True)
    for label, found in (
        ("superintendent-style, retrain every commit", sync_each),
        ("superintendent-style, retrain every 10 commits", sync_ten),
        ("al_widget ActiveLoop (background)", ours),
    ):
        figures.append(
            Figure(
                f"(b) wait commit->next p50, {label}",
                found["p50"],
                "ms",
                "",
                None,
                f"p95 {found['p95']:,.1f} ms, mean {found['mean']:,.1f} ms, max {found['max']:,.1f} ms",
            )
        )
    for key in ("p50", "p95"):
        figures.append(
            Figure(
                f"(b) sync (every commit) / al_widget, {key}",
                sync_each[key] / ours[key],
                "x",
                "",
                None,
                f"every 10 commits: {sync_ten[key] / ours[key]:,.3g}x",
            )
        )
    print_table(
        f"al_widget vs peers ({args.pool // 1000}k MNIST pool, {args.start_labels} labels to start)",
        figures,
    )
    write_json(
        "peers",
        figures,
        heuristics=speed,
        left_out=missing,
        sync_every_commit=sync_each,
        sync_every_10=sync_ten,
        al_widget=ours,
        args=vars(args),
    )


if __name__ == "__main__":
    main()
