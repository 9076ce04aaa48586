"""Embedding classifier figures: a round on a cached 100k pool beside the CNN's round, and embedding speed.

(a) train + re-rank round (pool_sample=None, 500 labels) on a 100k pool (the MNIST test set tiled
    10 times), the default CNN `Classifier` and an `EmbeddingClassifier` whose embedding cache is
    full, one after the other in this process; round seconds from the loops' histories;
(b) embedding throughput (images/s through `embed_chunk`) of torchvision backbones at 224 px (the
    photos' default input size) and at 32 px, with the worker's torch threads and with all cores;
(c) the first fill of the cache in (a): seconds and images/s, as a loop computes it;
(d) opening a full 100k-row cache on disk (512-d, resnet18's length): `EmbeddingCache.bind`, which
    verifies the folder (meta.json, file lengths, a checksum per row) before it is used, beside
    mapping the same files without checks; the files are in the page cache (just written);
(e) what a round adds to find images changed while the loop is open: `recheck_files` on 100k
    ready rows backed by files (a stat each, no read; pool_sample=None), beside os.stat alone.

Backbones run with random weights (the machine may be offline); their speed does not depend on
the weights.

    python benchmarks/embeddings.py [--quick] [--pool 100000] [--labels 500] [--rounds 5]
    python benchmarks/embeddings.py --open-only    # (d) alone, about 10 s
    python benchmarks/embeddings.py --recheck-only    # (e) alone, about 10 s
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _common import MNIST, Figure, print_table, stats, write_json

from al_widget import ActiveLoop, Dataset, Label
from al_widget.datasets import DIGIT_CLASSES, mnist
from al_widget.embedding_cache import EmbeddingCache
from al_widget.embedding_fill import embed_chunk, file_stamps, recheck_files
from al_widget.learners import Classifier, EmbeddingClassifier

WORKER_THREADS = max(1, (os.cpu_count() or 2) - 1)
CACHED_BACKBONE = "resnet18"
CACHED_SIZE = (32, 32)


def tiled_mnist(n_pool: int) -> tuple[np.ndarray, np.ndarray]:
    """`n_pool` MNIST test images (the 10k set repeated) and their labels."""
    images, labels = mnist(MNIST)
    take = np.arange(n_pool) % len(images)
    return images[take], labels[take]


def round_times(learner: object, n_pool: int, n_labels: int, rounds: int) -> dict[str, object]:
    """Seconds of the loop's train + score rounds with `learner`, the first round apart."""
    images, labels = tiled_mnist(n_pool)
    loop = ActiveLoop(Dataset(images, DIGIT_CLASSES), learner, pool_sample=None, start=False)
    for i in np.random.default_rng(0).permutation(n_pool)[:n_labels]:
        loop.commit(int(i), Label(int(labels[i])))
    started = time.perf_counter()
    loop.start()
    try:
        loop.wait()
        first_wall = time.perf_counter() - started
        for _ in range(rounds):
            loop.retrain()
            loop.wait()
        done = [r for r in loop.history if r.ok and r.retrained]
    finally:
        loop.close()
    first, later = done[0], done[1:]
    total = [r.train_seconds + r.score_seconds for r in later]
    return {
        "round_s": stats(total),
        "train_s": stats([r.train_seconds for r in later]),
        "score_s": stats([r.score_seconds for r in later]),
        "first_round_s": first.train_seconds + first.score_seconds,
        "first_round_wall_s": first_wall,
        "n_scored": later[0].n_scored,
        "rounds": len(later),
    }


def throughput(backbone: str, size: int, n_images: int, repeats: int) -> dict[str, float]:
    """Images/s of `embed_chunk` for `backbone` at `size` px, per torch thread count."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n_images, size, size, 3), dtype=np.uint8)
    learner = EmbeddingClassifier(10, backbone=backbone, weights=None, input_size=(size, size))
    learner.embed(images[:2])  # builds the backbone
    out = {}
    for threads in sorted({WORKER_THREADS, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        embed_chunk(learner, images[: min(16, n_images)])  # warm-up
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            embed_chunk(learner, images)
            seconds.append(time.perf_counter() - start)
        out[f"threads={threads}"] = n_images / float(np.median(seconds))
    torch.set_num_threads(os.cpu_count() or 1)
    return out


def open_times(n_rows: int, dim: int, repeats: int) -> dict[str, Any]:
    """Seconds to open a full `n_rows` x `dim` cache folder: verified (`bind`) and mapped only."""
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        written = EmbeddingCache(n_rows, folder)
        written.bind("bench", dim)
        for first in range(0, n_rows, 10_000):
            rows = np.arange(first, min(first + 10_000, n_rows))
            hashes = rng.integers(1, 2**63, len(rows), dtype=np.uint64)
            written.put(rows, hashes, rng.standard_normal((len(rows), dim)).astype(np.float16))
        written.flush()
        del written
        verified, mapped = [], []
        for _ in range(repeats):
            cache = EmbeddingCache(n_rows, folder)
            start = time.perf_counter()
            cache.bind("bench", dim)
            verified.append(time.perf_counter() - start)
            assert cache.stored(np.arange(n_rows)).all(), "a written row failed its checksum"
            del cache
            start = time.perf_counter()
            for name in ("embeddings.npy", "hashes.npy", "checksums.npy"):
                np.load(Path(folder) / "bench" / name, mmap_mode="r+")
            mapped.append(time.perf_counter() - start)
    return {"verified_s": stats(verified), "mapped_s": stats(mapped), "rows": n_rows, "dim": dim}


def recheck_times(n_files: int, repeats: int) -> dict[str, Any]:
    """Seconds of `recheck_files` on `n_files` ready rows of (empty) files, and of os.stat alone."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [os.path.join(folder, f"{i:07d}.png") for i in range(n_files)]
        for path in paths:
            Path(path).touch()
        dataset = Dataset(paths, ["a", "b"])
        cache = EmbeddingCache(n_files)
        rows = np.arange(n_files)
        stamps = file_stamps(dataset, rows)
        cache.put(rows, np.ones(n_files, np.uint64), np.zeros((n_files, 8), np.float16), stamps)
        rechecked, stat = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            stale = recheck_files(cache, dataset, rows)
            rechecked.append(time.perf_counter() - start)
            assert not len(stale), "an untouched file was found changed"
            start = time.perf_counter()
            for path in paths:
                os.stat(path)
            stat.append(time.perf_counter() - start)
    return {"recheck_s": stats(rechecked), "stat_s": stats(stat), "files": n_files}


def main() -> None:
    """Run (a), (b), (c) and (d) (only (d) with --open-only), print the table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small pool and few images")
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5, help="rounds measured after the first")
    parser.add_argument("--throughput-images", type=int, default=128)
    parser.add_argument("--open-only", action="store_true", help="only (d), opening the cache")
    parser.add_argument(
        "--recheck-only", action="store_true", help="only (e), a round's check of the files"
    )
    args = parser.parse_args()
    if args.recheck_only:
        found = recheck_times(100_000, 5)
        recheck_s = found["recheck_s"]["p50"]
        figure = Figure(
            "(e) a round's check for changed files, 100k ready rows, median",
            recheck_s,
            "s",
            "",
            None,
            f"os.stat alone {found['stat_s']['p50']:.3f} s; {found['recheck_s']['n']} runs; "
            f"load average {os.getloadavg()[0]:.1f}",
        )
        print_table("embedding cache (benchmarks/embeddings.py --recheck-only)", [figure])
        write_json("embeddings_recheck", [figure], recheck=found)
        return
    opened = open_times(100_000, 512, 9)
    load = os.getloadavg()[0]
    verify_s, map_s = opened["verified_s"]["p50"], opened["mapped_s"]["p50"]
    opening = Figure(
        "(d) opening a full 100k-row cache (512-d): verify on open, median",
        verify_s,
        "s",
        "",
        None,
        f"mapping the files unchecked {map_s * 1e3:.1f} ms; {opened['verified_s']['n']} "
        f"runs, max {opened['verified_s']['max'] * 1e3:.0f} ms; load average {load:.1f}",
    )
    print("opening the cache:", opened, flush=True)
    if args.open_only:
        print_table("embedding cache (benchmarks/embeddings.py --open-only)", [opening])
        write_json("embeddings_open", [opening], opened=opened)
        return
    if args.quick:
        args.pool, args.labels, args.rounds, args.throughput_images = 5_000, 200, 2, 16
    print(f"pool {args.pool:,}, {args.labels} labels, {args.rounds} rounds measured", flush=True)

    cached = round_times(
        EmbeddingClassifier(
            10, backbone=CACHED_BACKBONE, weights=None, input_size=CACHED_SIZE, seed=0
        ),
        args.pool,
        args.labels,
        args.rounds,
    )
    print("embedding classifier, cache full:", cached, flush=True)
    cnn = round_times(Classifier(10), args.pool, args.labels, args.rounds)
    print("CNN:", cnn, flush=True)
    speeds = {
        f"{name} {size}px": throughput(name, size, args.throughput_images, 3)
        for name in ("resnet18", "mobilenet_v3_small", "efficientnet_b0")
        for size in (224, 32)
    }
    print(speeds, flush=True)

    emb_round, cnn_round = cached["round_s"]["p50"], cnn["round_s"]["p50"]
    ratio = cnn_round / emb_round
    figures = [
        Figure(
            f"(a) round, {args.pool // 1000}k pool, cache full (head + re-rank), median",
            emb_round,
            "s",
            "< 0.5 s",
            emb_round < 0.5,
            f"train {cached['train_s']['p50']:.3f} s + score {cached['score_s']['p50']:.3f} s, "
            f"{cached['n_scored']:,} scored, {cached['rounds']} rounds; {CACHED_BACKBONE} "
            f"{CACHED_SIZE[0]} px embeddings",
        ),
        Figure(
            f"(a) round, {args.pool // 1000}k pool, default CNN, median",
            cnn_round,
            "s",
            "",
            None,
            f"train {cnn['train_s']['p50']:.2f} s + score {cnn['score_s']['p50']:.2f} s",
        ),
        Figure("(a) CNN round / cached round", ratio, "x", ">= 10x", ratio >= 10, "same run"),
        Figure(
            "(c) first round with the cache empty (embeds the whole pool)",
            cached["first_round_s"],
            "s",
            "",
            None,
            f"{args.pool / cached['first_round_s']:,.0f} img/s in the loop, "
            f"{WORKER_THREADS} torch thread",
        ),
    ]
    figures.append(opening)
    for name, found in speeds.items():
        figures.append(
            Figure(
                f"(b) embedding throughput {name}",
                found[f"threads={WORKER_THREADS}"],
                "img/s",
                "",
                None,
                ", ".join(f"{k}: {v:,.0f}" for k, v in found.items()),
            )
        )
    print_table("embedding classifier (benchmarks/embeddings.py)", figures)
    write_json(
        "embeddings_quick" if args.quick else "embeddings",
        figures,
        args=vars(args),
        cached=cached,
        cnn=cnn,
        throughput=speeds,
        opened=opened,
    )


if __name__ == "__main__":
    main()
