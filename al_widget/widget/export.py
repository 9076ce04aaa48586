"""ExportControl: write a dataset's labels to a path the user types, in a format its task allows."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..formats import Exported, write_coco, write_csv, write_masks, write_voc, write_yolo
from ..formats._atomic import PathTaken
from ..formats._export import renamed_note
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
    raises nothing. Relative paths are relative to the kernel's working folder.

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
        try:
            written = spec.write(self.dataset, path, overwrite=self.overwrite.value)
        except PathTaken as error:  # the panel's way to overwrite is the checkbox
            self._show(
                f"not exported: {error.path} already exists; tick “overwrite” to replace it "
                "or choose another path",
                ok=False,
            )
            return None
        except Exception as error:  # shown in words to the user, never raised into the log
            self._show(f"not exported: {error}", ok=False)
            return None
        finally:
            self.button.disabled = False
        where = os.path.abspath(written.path)
        images = count(written.n_images, "image")
        text = f"wrote {where}: {images}, {count(written.n_annotations, 'annotation')}"
        if written.renamed:
            text += f"; {renamed_note(written.renamed)}"
        self._show(text, ok=True)
        return written

    def _on_click(self, _button: Any) -> None:
        self.export()

    def _on_format(self, change: dict[str, Any]) -> None:
        self.path.placeholder = FORMATS[change["new"]].placeholder
        self.result.value = ""

    def _show(self, text: str, *, ok: bool) -> None:
        colour = "inherit" if ok else "var(--jp-error-color1, #d32f2f)"
        self.result.value = f'<span style="color: {colour}">{html.escape(text)}</span>'


def _fill() -> widgets.Layout:
    """As wide as the column it sits in (the panel's right column), never wider."""
    return widgets.Layout(width="auto", max_width="100%")
