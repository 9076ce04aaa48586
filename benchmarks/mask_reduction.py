"""Masks: which reduction of per-pixel margins tracks an image's pixel error best.

The default Segmenter is trained on `shapes` for a few steps ("early") and then, warm-started,
for many more ("late"). At each stage every held-out image gets its pixel error (the fraction of
pixels whose most probable class, resized to the image, is wrong) and one uncertainty score per
reduction of its per-pixel margin scores (mean, max, top(0.01), top(0.05)). The table gives the
Spearman rank correlation of each score with the error, with a 95 % bootstrap interval: the
reduction that ranks images most like their error is the one active learning should sort by.

    python benchmarks/mask_reduction.py [--quick] [--early-steps 300] [--late-steps 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import Figure, print_table, write_json
from PIL import Image

import al_widget as alw
from al_widget import heuristics
from al_widget.learners import Segmenter
from al_widget.metrics import mean_iou

REDUCTIONS = ("mean", "max", "top(0.01)", "top(0.05)")


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    ranked = np.empty(len(values))
    ranked[order] = np.arange(len(values))
    for value in np.unique(values):
        tied = values == value
        ranked[tied] = ranked[tied].mean()
    return ranked


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of `a` and `b` (scipy's when installed)."""
    try:
        from scipy.stats import spearmanr
    except ImportError:
        return float(np.corrcoef(ranks(a), ranks(b))[0, 1])
    return float(spearmanr(a, b).statistic)


def bootstrap(
    scores: dict[str, np.ndarray], error: np.ndarray, n: int, seed: int
) -> dict[str, tuple[float, float, float, float]]:
    """Per reduction: Spearman with `error`, its 95 % bootstrap interval over images, and the
    share of resamples in which it beats 'mean' (the same resamples for every reduction)."""
    picks = np.random.default_rng(seed).integers(0, len(error), (n, len(error)))
    draws = {
        how: np.array([spearman(score[pick], error[pick]) for pick in picks])
        for how, score in scores.items()
    }
    found = {}
    for how, score in scores.items():
        low, high = np.nanpercentile(draws[how], [2.5, 97.5])
        beats = float((draws[how] > draws["mean"]).mean())
        found[how] = (spearman(score, error), float(low), float(high), beats)
    return found


def evaluate(
    model: Segmenter, test: alw.datasets.Shapes, resamples: int
) -> tuple[float, dict[str, tuple[float, float, float, float]]]:
    """mIoU on `test`, and per reduction what `bootstrap` finds of its rank correlation with
    the pixel error."""
    probs = model.predict_proba(list(test.images))
    truth = [mask.class_map for mask in test.masks]
    predicted = [
        np.asarray(
            Image.fromarray(p[..., 0].argmax(0).astype(np.uint8)).resize(
                (t.shape[1], t.shape[0]), Image.NEAREST
            )
        )
        for p, t in zip(probs, truth, strict=True)
    ]
    error = np.array([(p != t).mean() for p, t in zip(predicted, truth, strict=True)])
    stacked = np.stack(probs)
    scores = {how: heuristics.score_dense(stacked, "margin", how) for how in REDUCTIONS}
    return mean_iou(predicted, truth, len(test.classes)), bootstrap(scores, error, resamples, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--train", type=int, default=400, help="training images")
    parser.add_argument("--test", type=int, default=200, help="held-out images")
    parser.add_argument("--early-steps", type=int, default=300)
    parser.add_argument("--late-steps", type=int, default=2000, help="in all, early ones included")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the loop uses 1)")
    args = parser.parse_args()
    if args.quick:
        args.train, args.test, args.early_steps, args.late_steps, args.resamples = (
            40,
            30,
            20,
            60,
            100,
        )
    torch.set_num_threads(args.threads)
    train = alw.datasets.shapes(args.train, seed=1, task="segment")
    test = alw.datasets.shapes(args.test, seed=2, task="segment")
    images, maps = list(train.images), [mask.class_map for mask in train.masks]
    model = Segmenter(len(train.classes), seed=0)
    results, figures = {}, []
    done = 0
    for stage, steps in (("early", args.early_steps), ("late", args.late_steps)):
        model.set_params(min_steps=steps - done, max_steps=steps - done)
        start = time.process_time()
        model.fit(images, maps)
        cpu = time.process_time() - start
        done = steps
        miou, found = evaluate(model, test, args.resamples)
        results[stage] = {"steps": steps, "train_cpu_s": cpu, "miou": miou, "spearman": found}
        figures.append(
            Figure(
                f"mIoU after {steps} steps ({stage})",
                miou,
                "",
                detail=f"{cpu:.0f} CPU-s this stage",
            )
        )
        for how, (rho, low, high, beats) in found.items():
            figures.append(
                Figure(
                    f"Spearman(margin {how}, pixel error), {stage}",
                    rho,
                    "",
                    detail=f"95% CI {low:.2f}..{high:.2f}; above mean in {beats:.0%} of resamples",
                )
            )
    print_table(
        f"Reductions of per-pixel margin vs pixel error, {args.test} held-out shapes, "
        f"Segmenter() trained on {args.train}",
        figures,
    )
    print("\nreduction    " + "  ".join(f"{stage:>30}" for stage in results))
    for how in REDUCTIONS:
        cells = [
            "{:.2f} [{:.2f}, {:.2f}] > mean {:.0%}".format(*r["spearman"][how])
            for r in results.values()
        ]
        print(f"{how:<12} " + "  ".join(f"{c:>30}" for c in cells))
    write_json("mask_reduction", figures, results=results, args=vars(args))


if __name__ == "__main__":
    main()
