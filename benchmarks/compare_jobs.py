"""Wall time of `compare` with its runs in one process (n_jobs=1) and in two (n_jobs=2).

Random vs margin on the bundled digits with the default CNN, the same runs both ways; the two
settings alternate (1, 2, 1, 2, ...) so that background load hits both alike. Also checks that
every curve is the same both ways.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import Figure, print_table, stats, write_json

import al_widget as alw


def timed_compare(images: np.ndarray, labels: np.ndarray, n_jobs: int, **kwargs: object) -> tuple:
    start = time.perf_counter()
    result = alw.compare(
        images, labels, ["random", "margin"], n_jobs=n_jobs, progress=False, **kwargs
    )
    return time.perf_counter() - start, result


def round_seconds(result: alw.Comparison) -> float:
    """Seconds the runs spent training and scoring, summed: it grows when runs share a core."""
    return float(
        sum(
            c.train_seconds.sum() + c.score_seconds.sum()
            for cs in result.curves.values()
            for c in cs
        )
    )


def same_curves(a: alw.Comparison, b: alw.Comparison) -> bool:
    return list(a.curves) == list(b.curves) and all(
        np.array_equal(x.n_labels, y.n_labels) and np.array_equal(x.accuracy, y.accuracy)
        for name in a.curves
        for x, y in zip(a.curves[name], b.curves[name], strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="seeds per heuristic")
    parser.add_argument("--budget", type=int, default=80)
    parser.add_argument("--trials", type=int, default=3, help="timings per setting")
    parser.add_argument("--quick", action="store_true", help="a smoke test: budget 30, 1 trial")
    args = parser.parse_args()
    budget, trials = (30, 1) if args.quick else (args.budget, args.trials)
    images, labels = alw.datasets.digits()
    kwargs = {"repeats": args.repeats, "seed_size": 20, "query_size": 10, "budget": budget}
    seconds: dict[int, list[float]] = {1: [], 2: []}
    busy: dict[int, list[float]] = {1: [], 2: []}
    results: dict[int, alw.Comparison] = {}
    for _ in range(trials):
        for n_jobs in (1, 2):
            took, results[n_jobs] = timed_compare(images, labels, n_jobs, **kwargs)
            seconds[n_jobs].append(took)
            busy[n_jobs].append(round_seconds(results[n_jobs]))
            print(f"n_jobs={n_jobs}: {took:.1f} s, rounds {busy[n_jobs][-1]:.1f} s", flush=True)
    one, two = (float(np.median(seconds[k])) for k in (1, 2))
    runs = 2 * args.repeats
    detail = f"{runs} runs (random, margin x {args.repeats} seeds), digits, budget {budget}"
    figures = [
        Figure("compare, n_jobs=1", one, "s", detail=f"median of {trials}; {detail}"),
        Figure("compare, n_jobs=2", two, "s", detail=f"median of {trials}; spawn included"),
        Figure("speed-up n_jobs=2 over 1", one / two, "x"),
        Figure(
            "train + score time of the runs, n_jobs=2 / 1",
            float(np.median(busy[2]) / np.median(busy[1])),
            "x",
            detail=f"{np.median(busy[1]):.1f} s / {np.median(busy[2]):.1f} s summed over the runs "
            "(it grows when the processes share the CPU)",
        ),
        Figure("curves equal, n_jobs=2 vs 1", float(same_curves(results[1], results[2])), ""),
    ]
    print_table("compare: runs in parallel processes", figures)
    write_json(
        "compare_jobs",
        figures,
        seconds=seconds,
        round_seconds=busy,
        stats={k: stats(v) for k, v in seconds.items()},
    )


if __name__ == "__main__":
    main()
