"""Shared helpers for the benchmarks: percentiles, a results table, JSON output, machine notes."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
MNIST = ROOT / "al_widget" / "data" / "mnist-t10k"  # al_widget.datasets.MNIST_TEST_SET


@dataclass
class Figure:
    """One measured figure, its design target and whether it meets it (None: no target)."""

    name: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None
    detail: str = ""

    def cells(self) -> list[str]:
        """The figure as table cells."""
        verdict = {True: "met", False: "NOT met", None: ""}[self.met]
        shown = "n/a" if self.value is None else f"{self.value:,.4g} {self.unit}".strip()
        return [self.name, shown, self.target, verdict, self.detail]


def stats(samples: Sequence[float]) -> dict[str, float]:
    """Median, p95, mean, max and count of `samples`."""
    array = np.asarray(samples, dtype=np.float64)
    if not array.size:
        return {"n": 0}
    return {
        "n": int(array.size),
        "p50": float(np.percentile(array, 50)),
        "p95": float(np.percentile(array, 95)),
        "mean": float(array.mean()),
        "max": float(array.max()),
    }


def timed_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Milliseconds `fn()` took, and its result."""
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1e3, result


def machine() -> dict[str, Any]:
    """Where and when the figures were taken."""
    import torch

    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "commit": _commit(),
        "note": f"shared {os.cpu_count()}-core machine (other jobs may run): timings are noisy",
    }


def _commit() -> str:
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return found.stdout.strip() or "unknown"


def print_table(title: str, figures: Sequence[Figure]) -> None:
    """Print the figures as an aligned text table."""
    rows = [["figure", "measured", "target", "verdict", "detail"], *[f.cells() for f in figures]]
    widths = [max(len(row[k]) for row in rows) for k in range(5)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}\n{line}")
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print(line)
    print(line)
    print(machine()["note"])


def write_json(name: str, figures: Sequence[Figure], **extra: Any) -> Path:
    """Write the figures (and any extra data) to benchmarks/results/<name>.json."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"machine": machine(), "figures": [asdict(f) for f in figures], **extra}
    path.write_text(json.dumps(payload, indent=2, default=_plain))
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
