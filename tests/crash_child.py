"""A labeler that is killed at random moments: labels three journals, printing each change once made.

Run as ``python crash_child.py FOLDER SEED``. Each journal is restored when it exists (the chain
of restarts), else created; every change is announced (``task ?i``) before it is made and printed
(``task +i`` / ``task -i``) after it returns.
"""

from __future__ import annotations

import os
import sys

import numpy as np

import al_widget as alw

N = 400
CLASSES = {
    "classify": ["cat", "milkshake"],
    "detect": ["cat", "milkshake"],
    "segment": ["bg", "cat"],
}


def images() -> np.ndarray:
    return np.zeros((N, 8, 8), np.uint8)


def annotation(task: str, i: int) -> alw.Label | alw.Boxes | alw.Mask:
    """The label image `i` gets in `task`: the parent checks for exactly this."""
    if task == "classify":
        return alw.Label(CLASSES[task][i % 2])
    if task == "detect":
        return alw.Boxes([[0, 0, 1 + i % 7, 2]], [CLASSES[task][i % 2]])
    mask = np.zeros((8, 8), np.uint8)
    mask[: 1 + i % 8, : 1 + i % 5] = 1
    return alw.Mask(mask)


def open_journal(folder: str, task: str, sync: str) -> alw.Dataset:
    path = os.path.join(folder, f"{task}.jsonl")
    if os.path.exists(path):
        return alw.Dataset.restore(path, images(), journal_sync=sync)
    return alw.Dataset(images(), CLASSES[task], task, journal=path, journal_sync=sync)


def main() -> None:
    folder, seed = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(seed)
    sync = ("always", "round", "never")[seed % 3]
    datasets = {task: open_journal(folder, task, sync) for task in CLASSES}
    print("ready", flush=True)
    while True:
        task = str(rng.choice(list(CLASSES)))
        ds = datasets[task]
        labeled = ds.labeled
        if len(labeled) and rng.random() < 0.2:
            i = int(rng.choice(labeled))
            print(f"{task} ?{i}", flush=True)  # about to change: a kill now may land either way
            ds.remove(i)
            print(f"{task} -{i}", flush=True)
        else:
            i = int(rng.choice(ds.unlabeled))
            print(f"{task} ?{i}", flush=True)
            ds.annotate(i, annotation(task, i))
            print(f"{task} +{i}", flush=True)


if __name__ == "__main__":
    main()
