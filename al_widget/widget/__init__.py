"""Widgets: the drawing canvas and the labeling panel."""

from .canvas import Canvas
from .panel import Panel

__all__ = ["Canvas", "Panel"]
