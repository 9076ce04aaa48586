"""The canvas and the class picker as one editing surface: load an image, read the label back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from .._images import OrientedImage
from ..annotations import Annotation, Boxes, Label, Mask
from ..draft_log import shown_draft
from ..drafts import Threshold
from ..instances import Instances
from . import draftbar, keys
from ._protocol import ObjectEdit
from .canvas import Canvas
from .layout import MODE_OF_TASK
from .objects import instances_of, objects_of
from .unsaved import Frame, Work, difficult_flags


class Editor:
    """Loads an image on the canvas with its annotation, the model's draft or unsaved work, and
    reads back what the canvas and the picker hold.

    Unsaved work is kept per image (``unsaved``): what was on the canvas when the labeler left
    an image without submitting it, or what an undo took back, with the size and orientation of
    the pixels it was drawn on; it is dropped, not shown, on pixels read otherwise since
    (``drop_unfit``).

    A segmentation image opens with the model's class regions at or above the canvas's
    ``draft_threshold`` as its mask draft, an instance image with the model's objects at or
    above it as drafts; while the image is untouched, a new threshold shows what it keeps
    instead (``show_drafts``).

    Thread safety: none of its own; its owner (the Panel) calls it under the panel's lock, which
    so guards ``unsaved``, ``_loaded``, ``from_work``, ``loading``, ``_model``, ``_shown``,
    ``_opened_drafts`` and ``_difficult``.

    Parameters
    ----------
    canvas : Canvas
        The canvas.
    picker : ipywidgets.ToggleButtons
        The class picker, whose values are class ids.
    task : str
        The dataset's task: "classify", "detect", "segment" or "instances".
    classes : sequence of str
        The dataset's classes.
    choices : sequence of int
        The classes the picker offers, in order (in segmentation, from class 1).
    """

    def __init__(
        self,
        canvas: Canvas,
        picker: widgets.ToggleButtons,
        task: str,
        classes: Sequence[str],
        choices: Sequence[int],
    ) -> None:
        self.canvas, self.picker, self.task = canvas, picker, task
        self.classes, self.choices = list(classes), list(choices)
        self.unsaved: dict[int, Work] = {}
        # The classes named as a key, and those named as a command key, which get none.
        self.named_keys, self.keyless = keys.named_class_keys(
            self.classes, self.choices, MODE_OF_TASK[task]
        )
        self._loaded = Work()  # what the image on the canvas was loaded with
        # Whether it opened with the work left on it (``unsaved``), not from its label or drafts
        self.from_work = False
        self.loading = False  # True while `open` loads an image: its changes are no edits
        self._shown: Mask | Instances | None = None  # the model's regions or objects shown
        self._opened_drafts: list[dict[str, Any]] = []  # the model's boxes the image opened with
        # The boxes marked difficult in the label the image was loaded with (as the canvas
        # holds them): the canvas does not show the mark, the label read back keeps it
        self._difficult: list[dict[str, Any]] = []
        # The image on the canvas, its index, the model's whole mask or objects, and the
        # confidence of each region or object
        self._model: tuple[OrientedImage, int, Mask | Instances, np.ndarray | None] | None = None
        if task in ("segment", "instances"):
            canvas.observe(lambda _: self.show_drafts(), "draft_threshold")
        if task == "instances":
            # The picker shows the class of the object selected on the canvas; picking another
            # recolours it (js/src/instancetool.js).
            canvas.observe(self._follow_class, "active_class")

    def _follow_class(self, change: dict[str, object]) -> None:
        if change["new"] in self.choices:
            self.picker.value = change["new"]

    def open(
        self,
        image: OrientedImage,
        i: int,
        known: Annotation | None,
        draft: Annotation | None,
        predicted: int | None,
        *,
        confidences: np.ndarray | None = None,
    ) -> str:
        """Load image `i` (`image`: its pixels and the orientation they were read in) with the
        work left on it, else as ``load_known``; returns what came back with it, in words (""
        for nothing)."""
        work = self.unsaved.get(i)
        restored = ""
        self.loading = True
        try:
            if work is not None:
                self.load_work(image, i, work)
                restored = f"{work.summary()} restored" if work.summary() else ""
            else:
                self.load_known(image, i, known, draft, predicted, confidences=confidences)
            self._loaded = self.work()
            self.from_work = work is not None
        finally:
            self.loading = False
        return restored

    @property
    def loaded(self) -> Work:
        """What the image on the canvas was loaded with (``open``; for an image opened from its
        label or drafts, with the drafts a new threshold shows since: ``show_drafts``)."""
        return self._loaded

    def drop_unfit(self, i: int, image: OrientedImage) -> Work | None:
        """Drop the work left on image `i` when it was drawn on other pixels than `image` (its
        photo turned or replaced since by another program: ``Work.fits``), so that ``open``
        shows the image as if none were left; returns the work dropped, or None.

        Parameters
        ----------
        i : int
            The image about to be opened.
        image : OrientedImage
            Its pixels as read now, and the orientation they were read in.
        """
        work = self.unsaved.get(i)
        if work is None or work.fits(image):
            return None
        del self.unsaved[i]
        return work

    def keep_unsaved(self, i: int) -> None:
        """Keep the work on image `i`, which is being left unsubmitted, if there is any."""
        work = self.work()
        if i in self.unsaved or work != self._loaded:
            self.unsaved[i] = work

    def load_known(
        self,
        image: OrientedImage,
        i: int,
        known: Annotation | None,
        draft: Annotation | None,
        predicted: int | None,
        *,
        confidences: np.ndarray | None = None,
    ) -> None:
        """Load image `i` with its annotation `known`, else the model's boxes, mask or objects
        `draft` as drafts (boxes with their `confidences`, the canvas hides those below its
        threshold); in classification the picker shows the class, else the `predicted` one."""
        classes = self.classes
        boxes = mask = None
        drafts: list[dict[str, Any]] | None = None
        objects = None
        if isinstance(known, Boxes):
            boxes = (known.xyxy, known.class_ids(classes))
        elif isinstance(draft, Boxes):
            # The model's boxes, to accept or fix.
            drafts = draftbar.draft_dicts(draft, confidences, classes)
        self._shown = self._model = None
        if known is None and isinstance(draft, (Mask, Instances)):
            # The model's regions or objects at or above the threshold: drafts, to accept,
            # paint over, fix or delete.
            self._model = (image, i, draft, confidences)
            self._shown = self._draft_at_threshold()
        if isinstance(known, Mask):
            mask = known.class_map
        elif isinstance(self._shown, Mask):
            mask = self._shown.class_map
        if isinstance(known, Instances):
            objects = objects_of(known, classes)
        elif isinstance(self._shown, Instances):
            objects = self._object_drafts(self._shown)
        self.canvas.load(
            image.pixels,
            boxes=boxes,
            drafts=drafts,
            mask=mask,
            objects=objects,
            key=str(i),
            mask_draft=isinstance(self._shown, Mask),
            orientation=image.orientation,
            stamp=image.stamp,
        )
        self._opened_drafts = list(self.canvas.loaded_drafts)
        flags = known.difficult if isinstance(known, Boxes) else ()
        self._difficult = [b for b, f in zip(self.canvas.boxes, flags, strict=False) if f]
        if self.task == "classify":
            self.picker.value = known.class_id(classes) if isinstance(known, Label) else predicted

    def load_work(self, image: OrientedImage, i: int, work: Work) -> None:
        """Load image `i` with the work left on it earlier (and the drafts it was opened with)."""
        self._model = None
        self._shown = work.shown_draft()
        self._opened_drafts = list(work.opened_drafts)
        h, w = image.pixels.shape[:2]
        self.canvas.load(
            image.pixels,
            boxes=work.box_dicts(),
            drafts=work.draft_dicts(),
            mask=work.mask_array(h, w),
            objects=work.objects,
            key=str(i),
            mask_draft=work.mask_draft,
            orientation=image.orientation,
            stamp=image.stamp,
        )
        self._difficult = [b for b, f in zip(self.canvas.boxes, work.difficult, strict=False) if f]
        if work.class_id is not None and (work.class_id in self.choices):
            self.picker.value = work.class_id
        elif self.task == "classify":
            self.picker.value = None

    def work(self) -> Work:
        """What the canvas and the picker hold now."""
        canvas = self.canvas
        return Work.of(
            canvas.boxes,
            canvas.drafts,
            canvas.mask,
            self.picker.value,
            canvas.objects,
            canvas.mask_draft,
            self._shown,
            self._opened_drafts,
            difficult_flags(canvas.boxes, self._difficult),
            Frame((canvas.height, canvas.width), canvas.orientation, canvas.stamp),
        )

    def annotation(self) -> Annotation:
        """The annotation the canvas and the picker hold; a ValueError says what is missing."""
        if self.task == "classify":
            if self.picker.value is None:
                raise ValueError("pick a class first (click it, or press its digit)")
            return Label(self.classes[self.picker.value])
        if self.task == "detect":
            # Undecided drafts are not stored (``undecided`` counts them).
            xyxy, labels = self.canvas.box_array()
            if not len(xyxy) and self.undecided():
                raise ValueError(
                    "no boxes: accept drafts (A, or Shift+A for all), draw some, or press N "
                    "(No objects) if there is nothing to box here"
                )
            if not len(xyxy):
                raise ValueError(
                    "no boxes: draw some, or press N (No objects) if there is nothing to box here"
                )
            difficult = difficult_flags(self.canvas.boxes, self._difficult)
            # Drawn on the canvas's size: refused if the image has another now (``Boxes.bind``)
            drawn_on = (self.canvas.height, self.canvas.width)
            return Boxes(xyxy, [int(v) for v in labels], canvas_size=drawn_on, difficult=difficult)
        if self.task == "instances":
            canvas = self.canvas
            return instances_of(
                canvas.objects, self.classes, width=canvas.width, height=canvas.height
            )
        if self.canvas.mask_draft:
            raise ValueError(
                "the model's mask is a draft, not stored: accept it (A), paint over it, or "
                "press N (all background)"
            )
        class_map = self.canvas.mask_array()
        if not class_map.any():
            # All background is stored on purpose only (N), as "no boxes" is in detection.
            raise ValueError(
                "nothing painted: paint the classes here, or press N (all background) if "
                "there is nothing to paint"
            )
        return Mask(class_map)

    def _draft_at_threshold(self) -> Mask | Instances | None:
        """The model's mask regions or objects the canvas's threshold shows (all of them when
        the learner gave no confidences); None when none is shown."""
        assert self._model is not None
        _, _, draft, confidences = self._model
        if confidences is None:
            return draft
        return shown_draft(draft, confidences, self._threshold())  # type: ignore[return-value]

    def _threshold(self) -> Threshold:
        return Threshold(self.canvas.draft_threshold, "")

    def _object_drafts(self, shown: Instances) -> list[ObjectEdit]:
        """The objects `shown` as drafts on the canvas, each with its confidence."""
        assert self._model is not None
        confidences = self._model[3]
        scores = None
        if confidences is not None:
            scores = np.asarray(confidences, np.float64)[self._threshold().keeps(confidences)]
        return objects_of(shown, self.classes, draft=True, scores=scores)

    def show_drafts(self) -> None:
        """Show the model's mask regions or objects at the canvas's threshold now, if the image
        is untouched since it opened (its mask draft neither accepted nor painted over, no
        object accepted, drawn or deleted)."""
        if self._model is None or self.work() != self._loaded:
            return
        if isinstance(self._shown, Mask) and not self.canvas.mask_draft:
            return  # accepted (A): the labeler's now
        shown = self._draft_at_threshold()
        if _same_draft(self._shown, shown):
            return
        image, i, _, _ = self._model
        self._shown = shown
        pixels, turn, stamp = image
        if self.task == "instances":
            objects = [] if shown is None else self._object_drafts(shown)  # type: ignore[arg-type]
            self.canvas.load(pixels, objects=objects, key=str(i), orientation=turn, stamp=stamp)
        else:
            mask = shown.class_map if isinstance(shown, Mask) else None
            drafted = mask is not None
            self.canvas.load(
                pixels, mask=mask, key=str(i), mask_draft=drafted, orientation=turn, stamp=stamp
            )
        self._loaded = self.work()

    def shown_mask(self) -> Mask | None:
        """The model's mask regions the image was loaded with as a draft (for
        ``loop.commit(shown=...)``), or None."""
        return self._shown if isinstance(self._shown, Mask) else None

    def shown_objects(self) -> Instances | None:
        """The model's objects the image was loaded with as drafts (for
        ``loop.commit(shown=...)``), or None."""
        return self._shown if isinstance(self._shown, Instances) else None

    def undecided(self) -> int:
        """How many drafts on the canvas are shown and neither accepted nor rejected: a submit
        drops them (they are not stored)."""
        if self.task == "instances":
            return sum(o.draft for o in self.canvas.objects)
        return len(draftbar.shown(self.canvas.drafts, self.canvas.draft_threshold))

    def shown_drafts(self) -> Boxes | None:
        """The drafts the labeler saw on the image (those it was opened with, at the canvas's
        threshold now), for ``loop.commit(shown=...)``; None when there were none."""
        return draftbar.as_boxes(draftbar.shown(self._opened_drafts, self.canvas.draft_threshold))

    def class_for_key(self, key: str) -> int | None:
        """The class a key's chord (``keys.chord``) picks: a class named as the key
        (``keys.class_chord``: Shift+A picks ``"A"``), else the digit's (see keys.DIGITS).

        Digits count the classes the picker offers (in segmentation, from class 1). A class
        named as a command key (``keyless``) gets no key: the command wins.
        """
        if key in self.named_keys:
            return self.named_keys[key]
        k = keys.class_index(key)
        return self.choices[k] if k is not None and k < len(self.choices) else None

    def picked_differs(self, picked: int | None) -> tuple[str | None, str | None] | None:
        """In classify mode, when the browser's picker highlighted another class than the
        picker holds (a new ranking's prediction for an image painted early, ``ahead_picker``):
        that class and the picker's, by name (None: none). None when they agree, or `picked` is
        None.

        Parameters
        ----------
        picked : int or None
            The index of the picker's button the browser highlighted (-1: none), as a submit
            names it.
        """
        index = self.picker.index
        if picked is None or self.task != "classify" or picked == (-1 if index is None else index):
            return None
        seen = self.choices[picked] if 0 <= picked < len(self.choices) else None
        now = self.picker.value
        return (
            None if seen is None else self.classes[seen],
            None if now is None else self.classes[now],
        )

    def picker_with(self, predicted: int | None) -> int | None:
        """The picker's button active with a fresh image the model predicts `predicted` for
        (-1: none), as ``load_known`` sets it; None where the picker keeps its class (boxes
        and masks)."""
        if self.task != "classify":
            return None
        return self.choices.index(predicted) if predicted in self.choices else -1


def _same_draft(a: Mask | Instances | None, b: Mask | Instances | None) -> bool:
    """Whether two drafts shown are the same (both none, equal masks, or equal objects)."""
    if a is None or b is None:
        return a is b
    if isinstance(a, Mask) and isinstance(b, Mask):
        return np.array_equal(a.class_map, b.class_map)
    return a == b
