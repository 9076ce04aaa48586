"""The editor in instance mode, without a browser: drafts loaded as objects, edits read back as
Instances (the browser's messages sent as js/src/instancetool.js sends them)."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np
import pytest

from al_widget._images import OrientedImage
from al_widget.instances import Instances
from al_widget.widget.canvas import Canvas
from al_widget.widget.editor import Editor
from al_widget.widget.unsaved import from_annotation

W, H = 40, 30
CLASSES = ["cat", "dog", "cup"]
IMAGE = OrientedImage(np.zeros((H, W, 3), np.uint8), None)  # an image in memory


def square(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    out = np.zeros((H, W), bool)
    out[y0:y1, x0:x1] = True
    return out


A, B, C = square(2, 2, 12, 12), square(12, 2, 22, 12), square(25, 15, 35, 25)  # A, B touch


@pytest.fixture
def editor() -> Editor:
    canvas = Canvas(classes=CLASSES, mode="instance")
    picker = widgets.ToggleButtons(options=[(c, k) for k, c in enumerate(CLASSES)], value=0)
    return Editor(canvas, picker, "instances", CLASSES, [0, 1, 2])


def send(canvas: Canvas, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
    canvas._handle_custom_msg({"image_id": canvas.image_id, **content}, buffers or [])


def send_object(canvas: Canvas, obj_id: int, mask: np.ndarray, label: int) -> None:
    """An object made or changed in the browser, accepted (not a draft)."""
    rect = [0, 0, W, H]
    content = {"kind": "instance", "id": obj_id, "label": label, "draft": False, "rect": rect}
    send(canvas, content, [mask.astype(np.uint8).tobytes()])


def test_each_draft_object_loads_as_one_editable_draft(editor: Editor) -> None:
    draft = Instances(np.stack([A, B, C]), ["cat", "cat", "dog"])
    editor.open(IMAGE, 0, None, draft, None)
    loaded = editor.canvas.loaded_instances
    assert [(o["id"], o["label"], o["draft"]) for o in loaded] == [
        (1, 0, True),
        (2, 0, True),
        (3, 1, True),
    ]


def test_a_submit_with_only_undecided_drafts_is_refused_saying_what_to_do(editor: Editor) -> None:
    editor.open(IMAGE, 0, None, Instances(np.stack([A, C]), ["cat", "dog"]), None)
    with pytest.raises(ValueError, match=r"no objects: accept drafts \(A, or Shift\+A for all\)"):
        editor.annotation()
    assert editor.undecided() == 2


def test_a_submit_without_objects_is_refused(editor: Editor) -> None:
    editor.open(IMAGE, 0, None, None, None)
    with pytest.raises(ValueError, match="no objects: draw one"):
        editor.annotation()


def test_drafts_accepted_edited_and_deleted_make_the_instances_submitted(editor: Editor) -> None:
    editor.open(IMAGE, 0, None, Instances(np.stack([A, B, C]), ["cat", "cat", "dog"]), None)
    canvas = editor.canvas
    send_object(canvas, 1, A, 0)  # A: accepted as it is
    edited = B | square(22, 2, 26, 8)
    send_object(canvas, 2, edited, 2)  # painted into, and made a cup
    send(canvas, {"kind": "instance_delete", "id": 3})
    got = editor.annotation()
    assert isinstance(got, Instances)
    assert got.classes == ("cat", "cup")
    assert np.array_equal(got.masks, np.stack([A, edited]))


def test_touching_objects_drawn_of_one_class_are_submitted_as_two(editor: Editor) -> None:
    editor.open(IMAGE, 0, None, None, None)
    send_object(editor.canvas, 1, A, 1)
    send_object(editor.canvas, 2, B, 1)
    got = editor.annotation()
    assert isinstance(got, Instances)
    assert len(got) == 2
    assert np.array_equal(got.masks, np.stack([A, B]))


def test_a_labeled_image_opens_with_its_objects_accepted(editor: Editor) -> None:
    editor.open(IMAGE, 0, Instances(np.stack([C, A]), ["dog", "cup"]), None, None)
    assert [(o["label"], o["draft"]) for o in editor.canvas.loaded_instances] == [
        (1, False),
        (2, False),
    ]
    assert editor.annotation() == Instances(np.stack([C, A]), ["dog", "cup"])


def test_the_picker_shows_the_class_of_the_object_selected(editor: Editor) -> None:
    editor.canvas.active_class = 2  # what the browser sets when an object of class 2 is clicked
    assert editor.picker.value == 2


def test_work_left_unsubmitted_comes_back_with_its_objects(editor: Editor) -> None:
    editor.open(IMAGE, 0, None, None, None)
    send_object(editor.canvas, 1, A, 1)
    editor.keep_unsaved(0)
    editor.open(IMAGE, 1, None, None, None)
    assert editor.canvas.objects == ()
    restored = editor.open(IMAGE, 0, None, None, None)
    assert restored == "1 unsaved object restored"
    assert [(o["id"], o["label"]) for o in editor.canvas.loaded_instances] == [(1, 1)]


def test_an_undone_submit_comes_back_as_its_objects() -> None:
    work = from_annotation(Instances(np.stack([A, B]), ["cat", "dog"]), CLASSES)
    assert [(o.label, o.draft) for o in work.objects] == [(0, False), (1, False)]
    assert work.summary() == "2 unsaved objects"
