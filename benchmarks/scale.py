"""A million files: open, memory per image, first suggestion; scoring on Dask with 1 and 2 workers.

Generates the files on the fly in a temporary folder (removed afterwards): 1,000 distinct 28x28
MNIST digits written as PNG files, and the rest of the million as hard links to them spread over
folders of 1,000 (real, readable image files; making them takes seconds, not minutes). Then:

(a) the Dataset over the list of a million paths: construction time, memory per image
    (tracemalloc: what the Dataset holds once the caller's list is gone; RSS delta);
(b) ActiveLoop(...) to a first suggestion (``next()``, ``describe`` and the image read), with
    pool_sample=100 and None;
(c) with 20 labels, the time from asking for a round to the first model-ranked ranking on the
    whole million (pool_sample=None: it ranks the part scored so far while scoring goes on);
(d) scoring throughput of a fitted default Classifier on a pool of distinct PNG files
    (default 20,000): inline on one thread (as the loop's worker) vs a Dask LocalCluster of 1
    and 2 worker processes of one thread each, through ``client.get_executor()``.

    python benchmarks/scale.py [--quick] [--files 1000000] [--dask-pool 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import psutil
import torch
from _common import MNIST, Figure, print_table, write_json
from PIL import Image

from al_widget import ActiveLoop, Dataset, Label, scoring
from al_widget.datasets import DIGIT_CLASSES, mnist
from al_widget.learners import Classifier

DISTINCT = 1_000  # distinct PNG files; the rest of the million are hard links to them
PER_FOLDER = 1_000


def png_bytes(image: np.ndarray) -> bytes:
    """`image` encoded as PNG."""
    from io import BytesIO

    out = BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


def make_files(folder: Path, n: int, images: np.ndarray, distinct: int) -> list[str]:
    """`n` PNG files under `folder`/unlabeled (an unlabeled pool for ``Dataset.from_folder``):
    `distinct` written from `images`, the rest hard links to them."""
    paths: list[str] = []
    for start in range(0, n, PER_FOLDER):
        sub = folder / "unlabeled" / f"{start // PER_FOLDER:05d}"
        sub.mkdir(parents=True)
        for i in range(start, min(n, start + PER_FOLDER)):
            path = str(sub / f"{i:07d}.png")
            if i < distinct:
                with open(path, "wb") as out:
                    out.write(png_bytes(images[i % len(images)]))
            else:
                os.link(paths[i % distinct], path)
            paths.append(path)
    return paths


def rss() -> int:
    """This process's resident memory in bytes."""
    return int(psutil.Process().memory_info().rss)


def open_million(paths: list[str], repeats: int) -> dict[str, float]:
    """(a) Dataset construction time over `paths`, and what it holds per image."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        Dataset(paths, DIGIT_CLASSES)
        seconds.append(time.perf_counter() - start)
    copy = list(paths)  # a list the Dataset may keep or not; dropped below
    gc.collect()
    before_rss = rss()
    tracemalloc.start()
    dataset = Dataset(copy, DIGIT_CLASSES)
    del copy
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after_rss = rss()
    n = len(dataset)
    return {
        "seconds_median": statistics.median(seconds),
        "seconds_all": seconds,
        "tracemalloc_bytes_per_image": held / n,
        "tracemalloc_peak_bytes_per_image": peak / n,
        "rss_delta_bytes_per_image": (after_rss - before_rss) / n,
    }


def listing(folder: Path) -> dict[str, float]:
    """Seconds to list the files (os.walk, sorted) and to open the folder with Dataset.from_folder."""
    start = time.perf_counter()
    found = sorted(
        os.path.join(directory, name) for directory, _, names in os.walk(folder) for name in names
    )
    walked = time.perf_counter() - start
    start = time.perf_counter()
    dataset = Dataset.from_folder(folder, classes=DIGIT_CLASSES)
    opened = time.perf_counter() - start
    assert len(dataset) == len(found)
    return {"os_walk_sorted_seconds": walked, "from_folder_seconds": opened}


def first_suggestion(dataset: Dataset, pool_sample: int | None, repeats: int) -> dict[str, float]:
    """(b) Seconds from ActiveLoop(...) to a suggestion the panel can show: next, describe, pixels."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        loop = ActiveLoop(dataset, pool_sample=pool_sample)
        i = loop.next()
        assert i is not None
        loop.describe(i)
        dataset.image(i)
        seconds.append(time.perf_counter() - start)
        loop.close()
    return {"seconds_median": statistics.median(seconds), "seconds_all": seconds}


def first_model_ranking(dataset: Dataset, labels: np.ndarray, n_labels: int) -> dict[str, float]:
    """(c) With `n_labels` labeled, seconds from the round's start to its first ranking by a model."""
    published: list[tuple[float, int, int, int]] = []
    got = threading.Event()
    loop = ActiveLoop(dataset, pool_sample=None, query_size=n_labels, start=False)

    @loop.on_ranking
    def seen(ranking):  # worker thread
        published.append(
            (
                time.perf_counter(),
                ranking.model_version,
                len(ranking),
                getattr(ranking, "pending", 0),
            )
        )
        if ranking.model_version >= 1:
            got.set()

    started: list[float] = []
    loop.on_round_start(lambda number: started.append(time.perf_counter()))
    memory_before = rss()
    try:
        for i in range(n_labels):
            loop.commit(i, Label(int(labels[i % len(labels)])))
        asked = time.perf_counter()
        loop.start()
        got.wait(600)
        first = next(p for p in published if p[1] >= 1)
        found = {
            "seconds_from_ask": first[0] - asked,
            "seconds_from_round_start": first[0] - started[0],
            "ranked_in_first": first[2],
            "pending_in_first": first[3],
            "suggestion": loop.next(),
            "rss_delta_bytes_per_image": (rss() - memory_before) / len(dataset),
        }
    finally:
        loop.close(timeout=60)  # cancels the round still scoring the rest
    found["train_seconds"] = loop.history[0].train_seconds if loop.history else None
    return found


def fitted_classifier(images: np.ndarray, labels: np.ndarray) -> Classifier:
    """The default classifier fitted on 500 MNIST digits."""
    learner = Classifier(10, seed=0)
    return learner.fit(
        np.repeat(images[:500, :, :, None], 3, axis=3), labels[:500], lambda f: None, lambda: False
    )


def score_seconds(learner: Classifier, dataset: Dataset, executor: object) -> float:
    """Seconds to score the whole `dataset` through `executor` (chunks of 2048, as the loop)."""
    start = time.perf_counter()
    indices, _, broken = scoring.predict_pool(
        learner,
        dataset,
        np.arange(len(dataset)),
        mc_samples=1,
        executor=executor,  # type: ignore[arg-type]
        chunk_size=2048,
        should_stop=lambda: False,
    )
    assert len(indices) == len(dataset), broken
    return time.perf_counter() - start


def dask_scoring(paths: list[str], learner: Classifier, repeats: int) -> dict[str, object]:
    """(d) img/s inline (1 thread) vs a LocalCluster of 1 and 2 single-thread worker processes."""
    from distributed import Client, LocalCluster

    dataset = Dataset(paths, DIGIT_CLASSES)
    out: dict[str, object] = {"pool": len(paths)}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        score_seconds(learner, dataset, scoring.Inline())  # warm the page cache and torch
        inline = [score_seconds(learner, dataset, scoring.Inline()) for _ in range(repeats)]
    finally:
        torch.set_num_threads(threads)
    out["inline_seconds"] = inline
    out["inline_img_s"] = len(paths) / statistics.median(inline)
    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            executor = client.get_executor()
            score_seconds(learner, dataset, executor)  # workers import torch, warm up
            runs = [score_seconds(learner, dataset, executor) for _ in range(repeats)]
        out[f"dask{workers}_seconds"] = runs
        out[f"dask{workers}_img_s"] = len(paths) / statistics.median(runs)
    return out


def million_figures(
    folder: Path, args: argparse.Namespace, images: np.ndarray, labels: np.ndarray
) -> tuple[list[Figure], dict[str, object]]:
    """(a)-(c) on `args.files` files made under `folder` (removed afterwards)."""
    figures, extra = [], {}
    start = time.perf_counter()
    paths = make_files(folder, args.files, images, DISTINCT)
    extra["make_files_seconds"] = time.perf_counter() - start
    print(f"made {len(paths):,} files in {extra['make_files_seconds']:.1f} s")
    opened = open_million(paths, args.repeats)
    extra["open"] = opened
    figures.append(
        Figure(
            f"Dataset over {len(paths):,} paths: construction",
            opened["seconds_median"],
            "s",
            "< 1 s",
            opened["seconds_median"] < 1,
            f"median of {args.repeats}",
        )
    )
    figures.append(
        Figure(
            "memory per image beyond pixels (tracemalloc / RSS)",
            opened["tracemalloc_bytes_per_image"],
            "B",
            "<= 1 KiB",
            opened["tracemalloc_bytes_per_image"] <= 1024,
            f"RSS delta {opened['rss_delta_bytes_per_image']:.1f} B, "
            f"peak while building {opened['tracemalloc_peak_bytes_per_image']:.1f} B",
        )
    )
    listed = listing(folder)
    extra["listing"] = listed
    figures.append(
        Figure(
            f"Dataset.from_folder over {len(paths):,} files",
            listed["from_folder_seconds"],
            "s",
            "< 1 s",
            listed["from_folder_seconds"] < 1,
            f"os.walk + sort alone: {listed['os_walk_sorted_seconds']:.2f} s",
        )
    )
    dataset = Dataset(paths, DIGIT_CLASSES)
    for pool_sample in (100, None):
        found = first_suggestion(dataset, pool_sample, args.repeats)
        extra[f"first_suggestion_pool_sample_{pool_sample}"] = found
        figures.append(
            Figure(
                f"ActiveLoop(...) to first suggestion, pool_sample={pool_sample}",
                found["seconds_median"],
                "s",
                "< 1 s",
                found["seconds_median"] < 1,
                "next + describe + the image read; model version 0 (random)",
            )
        )
    digit_of = labels[np.arange(len(paths)) % DISTINCT % len(labels)]
    ranked = first_model_ranking(dataset, digit_of, args.labels)
    extra["first_model_ranking"] = ranked
    figures.append(
        Figure(
            f"{args.labels} labels: round start to first model-ranked ranking",
            ranked["seconds_from_round_start"],
            "s",
            "ranked while scoring goes on",
            ranked["pending_in_first"] > 0,
            f"train {ranked['train_seconds'] or 0:.2f} s; ranked {ranked['ranked_in_first']:,}, "
            f"{ranked['pending_in_first']:,} still to score",
        )
    )
    shutil.rmtree(folder)
    return figures, extra


def dask_figures(
    folder: Path, args: argparse.Namespace, images: np.ndarray, labels: np.ndarray
) -> tuple[list[Figure], dict[str, object]]:
    """(d) on `args.dask_pool` distinct files made under `folder`."""
    paths = make_files(folder, args.dask_pool, images, args.dask_pool)
    found = dask_scoring(paths, fitted_classifier(images, labels), args.repeats)
    inline, one, two = (float(found[f"{k}_img_s"]) for k in ("inline", "dask1", "dask2"))  # type: ignore[arg-type]
    figures = [
        Figure("scoring inline, 1 thread", inline, "img/s"),
        Figure("scoring Dask, 1 worker", one, "img/s"),
        Figure(
            "scoring Dask, 2 workers",
            two,
            "img/s",
            "compare",
            None,
            f"{two / one:.2f}x 1 worker, {two / inline:.2f}x inline",
        ),
    ]
    return figures, {"dask": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k files, a 4k Dask pool, 1 repeat")
    parser.add_argument("--files", type=int, default=1_000_000, help="files in the big pool")
    parser.add_argument(
        "--dask-pool", type=int, default=20_000, help="distinct files scored on Dask"
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each timing")
    parser.add_argument("--labels", type=int, default=20, help="labels before the first model")
    parser.add_argument("--no-dask", action="store_true", help="skip (d)")
    parser.add_argument("--dask-only", action="store_true", help="only (d)")
    args = parser.parse_args()
    if args.quick:
        args.files, args.dask_pool, args.repeats = 20_000, 4_000, 1
    images, labels = mnist(MNIST)
    load_before = os.getloadavg()
    figures: list[Figure] = []
    extra: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="al_widget_scale_") as tmp:
        parts = [] if args.dask_only else [(million_figures, "million")]
        parts += [] if args.no_dask else [(dask_figures, "pool")]
        for measure, name in parts:
            found, more = measure(Path(tmp) / name, args, images, labels)
            figures += found
            extra.update(more)
    extra["load_average_before"] = load_before
    extra["load_average_after"] = os.getloadavg()
    print_table("scale: a million files, Dask", figures)
    print(f"load average before {load_before}, after {extra['load_average_after']}")
    suffix = "_quick" if args.quick else "_dask" if args.dask_only else ""
    write_json("scale" + suffix, figures, **extra)


if __name__ == "__main__":
    main()
