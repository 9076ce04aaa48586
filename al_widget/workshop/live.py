"""The toy's boundary beside the panel, redrawn whenever the loop publishes a new ranking."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ..datasets import Toy
from ..loop import ActiveLoop
from .boundary import angle_error, plot_boundary

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def boundary_figure(loop: ActiveLoop, toy: Toy, size: float = 4.5) -> Figure:
    """The loop's learned boundary on the toy (`plot_boundary`), in a figure made without pyplot
    (so any thread may draw it), titled with the label count and, where the toy's true boundary
    is a straight line, the angle error.

    Parameters
    ----------
    loop : ActiveLoop
        A loop on the toy's images whose learner has trained.
    toy : Toy
        The pool the loop labels.
    size : float, default 4.5
        The figure's width, in inches.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size, size + 0.7))
    FigureCanvasAgg(fig)
    ax = plot_boundary(loop, toy, fig.add_subplot())
    title = f"{len(loop.dataset.labeled)} labels"
    if toy.boundary is not None:
        title += f": off by {angle_error(loop, toy):.1f}°"
    ax.set_title(title)
    fig.tight_layout()
    return fig


def boundary_png(loop: ActiveLoop, toy: Toy, size: float = 4.5) -> bytes:
    """`boundary_figure` as PNG bytes (80 dots per inch).

    Parameters
    ----------
    loop : ActiveLoop
        A loop on the toy's images whose learner has trained.
    toy : Toy
        The pool the loop labels.
    size : float, default 4.5
        The figure's width, in inches.
    """
    buffer = io.BytesIO()
    boundary_figure(loop, toy, size).savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def watch_boundary(loop: ActiveLoop, toy: Toy) -> Any:
    """An image widget showing the loop's boundary on the toy, redrawn after every new ranking.

    Put it beside ``Panel(loop)``: each label the student gives retrains the learner, and the
    picture follows (``loop.on_ranking``; it runs on the loop's worker thread).

    Parameters
    ----------
    loop : ActiveLoop
        A loop on the toy's images, such as one with ``workshop.LineLearner()``.
    toy : Toy
        The pool the loop labels.

    Returns
    -------
    ipywidgets.Image
        The picture (empty until the learner has trained once).
    """
    import ipywidgets as widgets

    from ..widget.handoff import Handoff

    box = widgets.Layout(
        width="360px", height="416px", object_fit="contain", align_self="flex-start"
    )
    picture = widgets.Image(format="png", layout=box)
    handoff = Handoff()

    def redraw(ranking: Any = None) -> None:
        """Runs on the loop's worker thread (an on_ranking observer; once on the caller's thread
        at the start). The drawing (about 0.1 s) stays off the kernel's thread; the picture is
        set on the kernel's, as every widget is (``widget.handoff``)."""
        handoff.call(setattr, picture, "value", boundary_png(loop, toy))

    loop.on_ranking(redraw)
    if loop.history and loop.history[-1].ok:
        redraw()
    return picture
