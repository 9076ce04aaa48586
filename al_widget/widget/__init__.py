"""Widgets: the drawing canvas and the labeling panel."""
