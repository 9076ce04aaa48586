"""The journal's cost per label: annotate latency with journal_sync 'always', 'round' and 'never'.

Each policy labels the same images in turn (interleaved in blocks, so background load hits all
three alike); classification labels and 128x128 masks. Also the in-memory dataset with no journal.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _common import Figure, print_table, stats, timed_ms, write_json

import al_widget as alw

POLICIES = ("none", "never", "round", "always")


def make(policy: str, folder: Path, task: str, n: int, size: int) -> alw.Dataset:
    images = np.zeros((n, size, size), np.uint8)
    classes = ["background", "thing"]
    if policy == "none":
        return alw.Dataset(images, classes, task)
    path = folder / f"{policy}-{task}.jsonl"
    return alw.Dataset(images, classes, task, journal=path, journal_sync=policy)


def annotation(task: str, i: int, size: int) -> alw.Label | alw.Mask:
    if task == "classify":
        return alw.Label(i % 2)
    mask = np.zeros((size, size), np.uint8)
    mask[: 1 + i % size, : 1 + (i * 7) % size] = 1
    return alw.Mask(mask)


def measure(task: str, n: int, size: int, block: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {p: [] for p in POLICIES}
    with tempfile.TemporaryDirectory() as tmp:
        datasets = {p: make(p, Path(tmp), task, n, size) for p in POLICIES}
        for start in range(0, n, block):
            for policy, ds in datasets.items():
                for i in range(start, min(n, start + block)):
                    ms, _ = timed_ms(lambda ds=ds, i=i: ds.annotate(i, annotation(task, i, size)))
                    samples[policy].append(ms)
        for ds in datasets.values():
            ds.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=600)
    parser.add_argument("--block", type=int, default=20)
    args = parser.parse_args()
    figures = []
    raw = {}
    for task, size in (("classify", 8), ("segment", 128)):
        samples = measure(task, args.labels, size, args.block)
        raw[task] = {p: stats(v) for p, v in samples.items()}
        for policy in POLICIES:
            s = raw[task][policy]
            figures.append(
                Figure(
                    f"annotate, {task}, journal_sync={policy}"
                    if policy != "none"
                    else f"annotate, {task}, no journal",
                    s["p50"],
                    "ms",
                    detail=f"p95 {s['p95']:.3f} ms, n={s['n']}",
                )
            )
    print_table("Journal cost per label", figures)
    write_json("journal", figures, raw=raw)


if __name__ == "__main__":
    main()
