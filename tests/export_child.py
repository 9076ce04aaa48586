"""An export that is killed at random moments: writes one of two YOLO exports into a folder.

Run as ``python export_child.py FOLDER VERSION`` (VERSION 0 or 1): prints ``ready`` once its
dataset is built, then exports it into FOLDER with ``overwrite=True`` and prints ``done``.
The two versions label different images with different boxes, so every file but the classes
differs between them.
"""

from __future__ import annotations

import sys

import numpy as np

import al_widget as alw

N = 240


def dataset(version: int) -> alw.Dataset:
    """The dataset of `version`: N noise images, every other one labeled, offset by `version`."""
    rng = np.random.default_rng(5)
    images = rng.integers(0, 255, (N, 48, 48, 3), dtype=np.uint8)
    data = alw.Dataset(images, ["cat", "dog"], task="detect")
    for i in range(version, N, 2):
        data.annotate(
            i, alw.Boxes([[1, 2, 10 + i % 30, 20 + version]], ["dog" if i % 3 else "cat"])
        )
    return data


def main() -> None:
    folder, version = sys.argv[1], int(sys.argv[2])
    data = dataset(version)
    print("ready", flush=True)
    data.to_yolo(folder, overwrite=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
