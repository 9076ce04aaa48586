"""ExportControl: write a dataset's labels to a path the user types, in a format its task allows."""

from __future__ import annotations

import contextlib
import html
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

import ipywidgets as widgets

from ..formats import Exported, write_coco, write_csv, write_masks, write_voc, write_yolo
from ..formats._atomic import ExportWarning, PathTaken
from .status import count

if TYPE_CHECKING:
    from ..dataset import Dataset


@dataclass(frozen=True)
class Format:
    """One export the control offers: the tasks it holds, what to type, the function writing it."""

    tasks: tuple[str, ...]
    placeholder: str
    write: Callable[..., Exported]


FORMATS = {
    "COCO": Format(
        ("detect", "segment", "instances"), "a .json file, e.g. labels/coco.json", write_coco
    ),
    "YOLO": Format(("detect",), "a folder, e.g. labels/yolo", write_yolo),
    "VOC": Format(("detect",), "a folder, e.g. labels/voc", write_voc),
    "PNG masks": Format(("segment",), "a folder, e.g. labels/masks", write_masks),
    "CSV": Format(("classify",), "a .csv file, e.g. labels.csv", write_csv),
}
"""The exports by name, in the order the dropdown lists them."""


def formats_for(task: str) -> list[str]:
    """The names of the exports that hold a `task` dataset's annotations."""
    return [name for name, spec in FORMATS.items() if task in spec.tasks]


class ExportControl(widgets.VBox):
    """A format, a path and an Export button over a Dataset; the line below says what happened.

    The export runs on the kernel's thread when the button is clicked (the only thread that
    touches this widget), from a consistent copy of the labels. Success names the path written
    and how many images and annotations it holds; a failure (an existing file without
    "overwrite", a folder that cannot be written, ...) is shown in words in the same line and
    raises nothing. What the export changed or lost on the way (images exported under another
    name, difficult flags the format has no field for, boxes moved onto whole pixels, a folder
    left behind: its `ExportWarning`s) follows in the same line, not in the Jupyter log, where
    a button's warnings go. Relative paths are relative to the kernel's working folder.

    Parameters
    ----------
    dataset : Dataset
        The dataset whose labels are exported; the formats offered are those of its task.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        names = formats_for(dataset.task)
        self.format = widgets.Dropdown(
            options=names, value=names[0], description="format", layout=_fill()
        )
        self.path = widgets.Text(
            placeholder=FORMATS[names[0]].placeholder,
            description="path",
            layout=_fill(),
        )
        self.overwrite = widgets.Checkbox(
            value=False, description="overwrite", indent=False, layout={"width": "auto"}
        )
        self.button = widgets.Button(description="Export", icon="download")
        self.result = widgets.HTML("")
        for widget, name in (
            (self.format, "format"),
            (self.path, "path"),
            (self.overwrite, "overwrite"),
            (self.button, "button"),
            (self.result, "result"),
        ):
            widget.add_class(f"alw-export-{name}")
        self.format.observe(self._on_format, names="value")
        self.button.on_click(self._on_click)
        super().__init__(
            [
                self.format,
                self.path,
                widgets.HBox([self.overwrite, self.button]),
                self.result,
            ]
        )
        self.add_class("alw-export")

    def export(self) -> Exported | None:
        """Export now with the format, path and overwrite shown; None (and the reason shown) on failure."""
        path = os.path.expanduser(self.path.value.strip())
        if not path:
            self._show(f"type where to write the {self.format.value} export", ok=False)
            return None
        path = os.path.abspath(path)  # every message names the path as the kernel reads it
        spec = FORMATS[self.format.value]
        self.button.disabled = True
        self._show(f"exporting to {path} …", ok=True)
        written, failure = None, ""
        with export_notes() as notes:
            try:
                written = spec.write(self.dataset, path, overwrite=self.overwrite.value)
            except PathTaken as error:  # the panel's way to overwrite is the checkbox
                failure = (
                    f"not exported: {error.path} already exists; tick “overwrite” to replace it "
                    "or choose another path"
                )
            except Exception as error:  # shown in words to the user, never raised into the log
                failure = f"not exported: {error}"
            finally:
                self.button.disabled = False
        if written is None:
            self._show("; ".join([failure, *notes]), ok=False)
            return None
        where = os.path.abspath(written.path)
        images = count(written.n_images, "image")
        text = f"wrote {where}: {images}, {count(written.n_annotations, 'annotation')}"
        self._show("; ".join([text, *notes]), ok=True)
        return written

    def _on_click(self, _button: Any) -> None:
        self.export()

    def _on_format(self, change: dict[str, Any]) -> None:
        self.path.placeholder = FORMATS[change["new"]].placeholder
        self.result.value = ""

    def _show(self, text: str, *, ok: bool) -> None:
        colour = "inherit" if ok else "var(--jp-error-color1, #d32f2f)"
        self.result.value = f'<span style="color: {colour}">{html.escape(text)}</span>'


@contextlib.contextmanager
def export_notes() -> Iterator[list[str]]:
    """Collect the notes of the `ExportWarning`s raised inside, every one (however the warning
    filters are set), instead of warning them; other warnings go on as they would have.

    The warning machinery is the process's: a warning another thread raises meanwhile goes on
    as well, and ``catch_warnings`` puts the filters back as they were on leaving.
    """
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("always", ExportWarning)
        show = warnings.showwarning

        def collect(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if isinstance(message, ExportWarning):
                notes.append(message.note)
            else:
                show(message, category, filename, lineno, file, line)

        warnings.showwarning = collect
        yield notes


def _fill() -> widgets.Layout:
    """As wide as the column it sits in (the panel's right column), never wider."""
    return widgets.Layout(width="auto", max_width="100%")
