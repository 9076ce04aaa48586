"""Active learning on images inside JupyterLab."""

__version__ = "0.1.0"
