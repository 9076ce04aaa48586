"""Active learning on images inside JupyterLab: label what the model is least sure about."""

from . import auto, datasets, formats, heuristics, learners, selectors
from .annotations import Boxes, Instances, Label, Mask
from .compare_runs import compare
from .curves import Comparison, Curve
from .dataset import Dataset, ImageError
from .loop import ActiveLoop
from .ranking import Ranking
from .records import Criterion, RoundRecord
from .simulate import simulate

__version__ = "0.1.0"

__all__ = [
    "ActiveLoop",
    "Boxes",
    "Canvas",
    "Comparison",
    "Criterion",
    "Curve",
    "Dataset",
    "ImageError",
    "Instances",
    "Label",
    "Mask",
    "Panel",
    "Ranking",
    "RoundRecord",
    "__version__",
    "auto",
    "compare",
    "datasets",
    "formats",
    "heuristics",
    "learners",
    "selectors",
    "simulate",
]


_WIDGETS = ("Canvas", "Panel")
_LAZY_MODULES = ("widget",)


def __getattr__(name: str) -> object:
    # The widgets import ipywidgets/anywidget: load them only when asked for. (The formats are
    # imported above: they register the readers and writers behind Dataset.from_* / to_*.)
    if name in _WIDGETS:
        from . import widget

        return getattr(widget, name)
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'al_widget' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_LAZY_MODULES))
