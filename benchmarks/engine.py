"""Engine figures: commit -> next latency, round time, scoring throughput, memory per image, reply time.

(a) `loop.commit(i, Label)` + `loop.next()` on a 100k pool of random 28x28 images while the worker retrains;
(b) train + re-rank round on 10k MNIST with 500 labels (pool_sample=None), from the loop's history;
(c) images/s of the default classifier's predict_proba on 28x28 (1 thread like the worker, and all cores);
(d) memory per pooled image beyond its pixels (tracemalloc, and RSS) for a 100k Dataset + ActiveLoop;
(e) time of a widget-handler-like call on the main thread while a round trains (GIL contention).

    python benchmarks/engine.py [--quick] [--pool 100000] [--commits 500]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from typing import Any

import numpy as np
import psutil
import torch
from _common import MNIST, Figure, machine, print_table, stats, timed_ms, write_json

from al_widget import ActiveLoop, Dataset, Label
from al_widget.datasets import DIGIT_CLASSES, mnist
from al_widget.learners import Classifier

WORKER_THREADS = max(1, (os.cpu_count() or 2) - 1)


def random_pool(n: int, seed: int = 0) -> np.ndarray:
    """`n` random 28x28 uint8 images."""
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def commit_latency(
    images: np.ndarray, pool_sample: int | None, commits: int, think: float
) -> dict[str, object]:
    """Milliseconds of commit + next per label, at a labeling pace of one per `think` seconds."""
    rng = np.random.default_rng(1)
    loop = ActiveLoop(Dataset(images, DIGIT_CLASSES), pool_sample=pool_sample)
    waits, busy = [], 0
    i = loop.next()
    try:
        for _ in range(commits):
            busy += loop.state != "idle"
            label = Label(int(rng.integers(10)))
            ms, i = timed_ms(lambda: (loop.commit(i, label), loop.next())[1])  # noqa: B023
            waits.append(ms)
            time.sleep(think)
        rounds = len(loop.history)
    finally:
        loop.close()
    return {**stats(waits), "rounds_finished": rounds, "worker_busy_fraction": busy / commits}


def mnist_loop(
    n_pool: int, n_labels: int, pool_sample: int | None = None, learner: Any = None
) -> tuple[ActiveLoop, np.ndarray]:
    """A started loop on `n_pool` MNIST images with `n_labels` of them labeled by the oracle."""
    images, labels = mnist(MNIST)
    images, labels = images[:n_pool], labels[:n_pool]
    loop = ActiveLoop(Dataset(images, DIGIT_CLASSES), learner, pool_sample=pool_sample, start=False)
    for i in np.random.default_rng(0).permutation(n_pool)[:n_labels]:
        loop.commit(int(i), Label(int(labels[i])))
    loop.start()
    return loop, labels


def round_time(
    n_pool: int, n_labels: int, rounds: int, semi_supervised: bool = True
) -> dict[str, object]:
    """Seconds of train + score per round, from the loop's history over `rounds` retrains.

    The default classifier (semi-supervised: it also trains on 2,000 unlabeled pool images), or
    with ``semi_supervised=False`` the supervised one.
    """
    learner = None if semi_supervised else Classifier(10, semi_supervised=False)
    loop, _ = mnist_loop(n_pool, n_labels, learner=learner)
    try:
        loop.wait()
        for _ in range(rounds - 1):
            loop.retrain()
            loop.wait()
        done = [r for r in loop.history if r.ok and r.retrained]
    finally:
        loop.close()
    total = [r.train_seconds + r.score_seconds for r in done]
    return {
        "round_s": stats(total),
        "train_s": stats([r.train_seconds for r in done]),
        "score_s": stats([r.score_seconds for r in done]),
        "in_loop_images_per_s": float(np.median([r.n_scored / r.score_seconds for r in done])),
        "n_scored": done[0].n_scored,
        "n_pseudo_labels": [r.n_pseudo_labels for r in done],
    }


def throughput(n_images: int, repeats: int) -> dict[str, float]:
    """Images/s of predict_proba on 28x28 MNIST, per thread count and number of MC samples."""
    images, labels = mnist(MNIST)
    pool = Dataset(images[:n_images], DIGIT_CLASSES).batch(np.arange(n_images))
    learner = Classifier(10)
    learner.fit(pool[:500], labels[:500])
    out = {}
    for threads in sorted({WORKER_THREADS, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        for mc in (1, 20):
            learner.predict_proba(pool[:256], mc)  # warm-up
            seconds = [
                timed_ms(lambda mc=mc: learner.predict_proba(pool, mc))[0] / 1e3
                for _ in range(repeats)
            ]
            out[f"threads={threads} mc={mc}"] = n_images / float(np.median(seconds))
    return out


def memory(n_pool: int, n_labels: int) -> dict[str, float]:
    """Bytes per pooled image beyond its pixels: steady after a full-pool round, and the round's peak."""
    images = random_pool(n_pool)
    rng = np.random.default_rng(2)
    process = psutil.Process()
    out = {}
    for pool_sample in (100, None):
        rss0 = process.memory_info().rss
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        loop = ActiveLoop(Dataset(images, DIGIT_CLASSES), pool_sample=pool_sample, start=False)
        for i in rng.choice(n_pool, n_labels, replace=False):
            loop.commit(int(i), Label(int(rng.integers(10))))
        tracemalloc.reset_peak()
        loop.start()
        loop.wait()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = process.memory_info().rss - rss0
        loop.close()
        key = f"pool_sample={pool_sample}"
        out[f"{key} steady B/img"] = (current - base) / n_pool
        out[f"{key} round peak B/img"] = (peak - base) / n_pool
        out[f"{key} RSS delta B/img"] = rss / n_pool
        del loop
    return out


def reply_time(n_pool: int, n_labels: int, seconds: float, every: float) -> dict[str, object]:
    """Milliseconds of a handler-like call on the main thread while the worker trains and scores."""
    loop, _ = mnist_loop(n_pool, n_labels)
    by_state: dict[str, list[float]] = {"training": [], "scoring": [], "idle": []}
    stop = time.perf_counter() + seconds

    def handler() -> object:
        head = loop.queue[:8]
        i = loop.next()
        return head, loop.dataset.annotation(int(i)), loop.state, loop.progress, loop.model_version

    try:
        while time.perf_counter() < stop:
            if loop.state == "idle":
                loop.retrain()
            state = loop.state
            by_state[state].append(timed_ms(handler)[0])
            time.sleep(every)
        rounds = len(loop.history)
    finally:
        loop.close()
    busy = by_state["training"] + by_state["scoring"]
    return {
        "training_ms": stats(by_state["training"]),
        "scoring_ms": stats(by_state["scoring"]),
        "busy_ms": stats(busy),
        "idle_ms": stats(by_state["idle"]),
        "rounds": rounds,
    }


def main() -> None:
    """Run the five measurements and print/write the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--pool", type=int, default=100_000, help="random pool for (a) and (d)")
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--think", type=float, default=0.05, help="seconds between commits in (a)")
    parser.add_argument("--mnist-pool", type=int, default=10_000)
    parser.add_argument("--labels", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--reply-seconds", type=float, default=30.0)
    args = parser.parse_args()
    if args.quick:
        args.pool, args.commits, args.think = 10_000, 60, 0.01
        args.mnist_pool, args.rounds, args.reply_seconds = 2_000, 2, 5.0
    print(f"engine benchmark; worker torch threads = {WORKER_THREADS}; {machine()['note']}")

    a = {}
    for pool_sample in (100, None):
        a[f"pool_sample={pool_sample}"] = commit_latency(
            random_pool(args.pool), pool_sample, args.commits, args.think
        )
        print("(a)", pool_sample, a[f"pool_sample={pool_sample}"])
    b = round_time(args.mnist_pool, args.labels, args.rounds)
    print("(b)", b)
    b_off = round_time(args.mnist_pool, args.labels, args.rounds, semi_supervised=False)
    print("(b) supervised", b_off)
    c = throughput(args.mnist_pool, 1 if args.quick else 3)
    print("(c)", c)
    d = memory(args.pool, 100)
    print("(d)", d)
    e = reply_time(args.mnist_pool, args.labels, args.reply_seconds, 0.01)
    print("(e)", e)

    pool_k = f"{args.pool // 1000}k"
    figures = []
    for key, found in a.items():
        figures.append(
            Figure(
                f"(a) commit+next p95, {pool_k} pool, {key}",
                found["p95"],
                "ms",
                "p95 <= 20 ms",
                found["p95"] <= 20,
                f"p50 {found['p50']:.2f} ms, max {found['max']:.1f} ms, {found['n']} commits, "
                f"worker busy {found['worker_busy_fraction']:.0%}, {found['rounds_finished']} rounds",
            )
        )
    for kind, found, goal in (("semi-supervised", b, 10.0), ("supervised", b_off, 3.0)):
        rs = found["round_s"]
        figures.append(
            Figure(
                f"(b) train+re-rank round, {kind}, {args.labels} labels, "
                f"{args.mnist_pool // 1000}k MNIST pool",
                rs["p50"],
                "s",
                f"<= {goal:g} s",
                rs["p50"] <= goal,
                f"p95 {rs['p95']:.2f} s; train p50 {found['train_s']['p50']:.2f} s, score p50 "
                f"{found['score_s']['p50']:.2f} s ({found['n_scored']} images), {rs['n']} rounds, "
                f"{WORKER_THREADS} torch thread",
            )
        )
    figures.append(
        Figure(
            "(c) scoring in the loop (load + predict + rank)",
            b["in_loop_images_per_s"],
            "img/s",
            ">= 5,000 img/s",
            b["in_loop_images_per_s"] >= 5000,
            f"worker, {WORKER_THREADS} thread, mc_samples=1",
        )
    )
    for key, rate in c.items():
        target = ">= 5,000 img/s" if "mc=1" in key else ""
        figures.append(
            Figure(
                f"(c) predict_proba {key}", rate, "img/s", target, rate >= 5000 if target else None
            )
        )
    figures.append(
        Figure(
            f"(d) memory per image, steady, {pool_k} pool, pool_sample=None",
            d["pool_sample=None steady B/img"],
            "B",
            "<= 1 KiB",
            d["pool_sample=None steady B/img"] <= 1024,
            f"default pool_sample=100: {d['pool_sample=100 steady B/img']:.1f} B; RSS delta {d['pool_sample=None RSS delta B/img']:.0f} B",
        )
    )
    figures.append(
        Figure(
            "(d) memory per image, peak during a full-pool round",
            d["pool_sample=None round peak B/img"],
            "B",
            "(transient)",
            None,
            f"pool_sample=100: {d['pool_sample=100 round peak B/img']:.0f} B (tracemalloc; torch buffers not traced)",
        )
    )
    for key, label in (("training_ms", "training"), ("busy_ms", "training or scoring")):
        found = e[key]
        if found.get("n"):
            figures.append(
                Figure(
                    f"(e) handler call p95 while {label}",
                    found["p95"],
                    "ms",
                    "p95 <= 50 ms",
                    found["p95"] <= 50,
                    f"p50 {found['p50']:.2f} ms, max {found['max']:.1f} ms, {found['n']} calls",
                )
            )
    print_table("al_widget engine", figures)
    write_json(
        "engine",
        figures,
        commit_latency=a,
        round=b,
        throughput=c,
        memory=d,
        reply=e,
        args=vars(args),
    )


if __name__ == "__main__":
    main()
