"""A small dependency-free SVG line chart for learning curves."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def _ticks(low: float, high: float, count: int = 5, *, integer: bool = False) -> np.ndarray:
    """Round tick values from ``low`` to ``high``; whole numbers only when ``integer``."""
    if high <= low:
        return np.array([low])
    raw = (high - low) / count
    step = 10 ** np.floor(np.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    if integer:
        step = max(1.0, float(np.ceil(step)))
    return np.arange(np.ceil(low / step) * step, high + step * 1e-9, step)


def _is_integer(values: np.ndarray) -> bool:
    return bool(values.size) and bool(np.all(np.isfinite(values) & (values == np.round(values))))


def finite_runs(finite: np.ndarray) -> list[slice]:
    """The runs of consecutive True values in the 1-D boolean `finite`, as slices.

    Parameters
    ----------
    finite : array of bool
        Which points can be drawn.
    """
    edges = np.diff(np.concatenate([[0], np.asarray(finite, np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [slice(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def line_chart(
    series: dict[str, tuple[Any, Any, Any]],
    *,
    x_label: str,
    y_label: str,
    width: int = 480,
    height: int = 280,
    title: str = "",
    y_range: tuple[float, float] | None = None,
) -> str:
    """An SVG chart with one line (and an optional ±spread band) per named series of (x, y, spread).

    A point whose x or y is not finite (a NaN metric) is left out and breaks the line there;
    the band covers only the spans where the spread is finite too.

    The chart sizes to its container: ``width`` 100% of it, at most ``width`` pixels, with the
    height following the aspect ratio (a ``viewBox``). Whole-number x values (label counts) get
    whole-number ticks.

    Parameters
    ----------
    series
        Name -> (x, y, spread or None), each a sequence of numbers.
    x_label, y_label
        The axis titles.
    width, height
        The drawing's size in pixels at full width (its aspect ratio).
    title
        A title above the plot; none when empty.
    y_range
        The y axis's (low, high), e.g. (0, 1) for weights; None: the data's range.
    """
    left, right, top, bottom = 52, 12, 26 if title else 12, 40
    xs = np.concatenate([np.asarray(x, float) for x, _, _ in series.values()] or [np.zeros(0)])
    xs = xs[np.isfinite(xs)]
    ys = np.concatenate(
        [
            np.asarray(y, float) + sign * np.asarray(s if s is not None else 0.0, float)
            for _, y, s in series.values()
            for sign in (-1, 1)
        ]
        or [np.zeros(0)]
    )
    ys = ys[np.isfinite(ys)]
    x0, x1 = (float(xs.min()), float(xs.max())) if xs.size else (0.0, 1.0)
    y0, y1 = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
    if y_range is not None:
        y0, y1 = float(y_range[0]), float(y_range[1])
    whole_x = _is_integer(xs)
    if x1 == x0:
        x0, x1 = (x0 - 1, x1 + 1) if whole_x else (x0 - 0.5, x1 + 0.5)
    if y1 == y0:
        y0, y1 = y0 - 0.05, y1 + 0.05
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(v: np.ndarray) -> np.ndarray:
        return left + (v - x0) / (x1 - x0) * plot_w

    def sy(v: np.ndarray) -> np.ndarray:
        return top + (1 - (v - y0) / (y1 - y0)) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMidYMid meet" style="max-width:{width}px;height:auto;display:block" '
        'font-family="sans-serif" font-size="11">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="white" stroke="#999"/>',
    ]
    if title:
        out.append(
            f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>'
        )
    for t in _ticks(x0, x1, integer=whole_x):
        out.append(
            f'<text x="{sx(t):.1f}" y="{top + plot_h + 14}" text-anchor="middle">{t:g}</text>'
        )
    for t in _ticks(y0, y1):
        y = sy(t)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{t:.3g}</text>')
    out.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text x="12" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + plot_h / 2})">{escape(y_label)}</text>'
    )
    for k, (name, (x_raw, y_raw, spread)) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        x, y = np.asarray(x_raw, float), np.asarray(y_raw, float)
        s = np.asarray(spread if spread is not None else np.nan, float) * np.ones_like(y)
        for part in finite_runs(np.isfinite(x) & np.isfinite(y)):
            px, py, ps = sx(x[part]), y[part], s[part]
            for span in finite_runs(np.isfinite(ps)) if spread is not None else []:
                if span.stop - span.start > 1:
                    upper = np.stack([px[span], sy(py[span] + ps[span])], 1)
                    lower = np.stack([px[span], sy(py[span] - ps[span])], 1)[::-1]
                    path = " ".join(f"{a:.1f},{b:.1f}" for a, b in np.concatenate([upper, lower]))
                    out.append(f'<polygon points="{path}" fill="{color}" opacity="0.15"/>')
            points = list(zip(px, sy(py), strict=True))
            line = " ".join(f"{a:.1f},{b:.1f}" for a, b in points)
            out.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
            for a, b in points:
                out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{color}"/>')
        out.append(
            f'<text x="{left + 8}" y="{top + 14 + 14 * k}" fill="{color}" font-weight="bold">{escape(name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
