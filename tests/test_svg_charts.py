"""The SVG learning-curve charts: valid SVG, whatever the metrics hold."""

import math
import xml.etree.ElementTree as ET

import numpy as np

from al_widget.curves import Comparison, Curve

SVG = "{http://www.w3.org/2000/svg}"
COORDINATES = ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy")


def _curve(accuracy, seed=0):
    accuracy = np.asarray(accuracy, float)
    zeros = np.zeros(len(accuracy))
    return Curve("margin", np.arange(1, len(accuracy) + 1) * 10, accuracy, zeros, zeros, seed)


def _numbers(svg):
    """Every coordinate the chart draws at, parsed from its elements' attributes."""
    found = []
    for element in ET.fromstring(svg).iter():
        found += [float(element.get(a)) for a in COORDINATES if element.get(a) is not None]
        for point in (element.get("points") or "").split():
            found += [float(v) for v in point.split(",")]
    return found


def _elements(svg, tag):
    return list(ET.fromstring(svg).iter(SVG + tag))


def test_a_curve_chart_draws_only_finite_coordinates_around_a_nan_metric():
    numbers = _numbers(_curve([0.5, np.nan, 0.7]).svg())
    assert numbers
    assert all(math.isfinite(v) for v in numbers)


def test_a_curve_chart_breaks_its_line_at_a_nan_metric():
    svg = _curve([0.5, 0.6, np.nan, 0.7, 0.8]).svg()
    lines = [line.get("points").split() for line in _elements(svg, "polyline")]
    assert [len(points) for points in lines] == [2, 2]
    assert len(_elements(svg, "circle")) == 4


def test_a_curve_chart_of_nan_metrics_only_draws_no_line():
    svg = _curve([np.nan, np.nan]).svg()
    assert _elements(svg, "polyline") == []
    assert _elements(svg, "circle") == []
    assert all(math.isfinite(v) for v in _numbers(svg))


def test_a_comparison_chart_draws_its_band_only_over_finite_spans():
    seeds = [_curve([0.5, 0.6, np.nan, 0.7, 0.8]), _curve([0.6, 0.7, 0.8, 0.9, 0.9], seed=1)]
    svg = Comparison({"margin": seeds}).svg()
    assert all(math.isfinite(v) for v in _numbers(svg))
    bands = [band.get("points").split() for band in _elements(svg, "polygon")]
    assert [len(points) for points in bands] == [4, 4]  # two spans of two points, both edges
