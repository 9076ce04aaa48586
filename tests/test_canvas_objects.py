"""Instance mode on the Canvas, without a browser: per-object messages, their checks, loading."""

from __future__ import annotations

import re
import zlib
from typing import Any

import numpy as np
import pytest

from al_widget.widget._box_messages import MAX_BOXES
from al_widget.widget._protocol import ObjectEdit
from al_widget.widget.canvas import Canvas
from al_widget.widget.objects import masks_of, object_json, objects_from_masks, runs

W, H = 40, 30
CLASSES = ["cat", "dog", "cup"]


@pytest.fixture
def canvas() -> Canvas:
    c = Canvas(classes=CLASSES, mode="instance")
    c.load(np.zeros((H, W, 3), np.uint8))
    return c


def send(c: Canvas, content: dict[str, Any], buffers: list[Any] | None = None) -> None:
    """What the browser's model.send() delivers to the kernel."""
    c._handle_custom_msg({"image_id": c.image_id, **content}, buffers or [])


def rect_bits(mask: np.ndarray, rect: list[int]) -> bytes:
    x0, y0, x1, y1 = rect
    return mask[y0:y1, x0:x1].astype(np.uint8).tobytes()


def disc(cx: int, cy: int, r: int) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def object_msg(obj_id: int, mask: np.ndarray, label: int = 0, **extra: Any) -> dict[str, Any]:
    rect = [0, 0, W, H]
    return {"kind": "instance", "id": obj_id, "label": label, "draft": False, "rect": rect} | extra


def draw(c: Canvas, obj_id: int, mask: np.ndarray, label: int = 0, **extra: Any) -> None:
    """The browser's message for an object made or changed, its rect the object's bounds."""
    ys, xs = np.nonzero(mask)
    rect = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    content = object_msg(obj_id, mask, label, rect=rect) | extra
    send(c, content, [rect_bits(mask, rect)])


def masks(c: Canvas) -> np.ndarray:
    return masks_of(c.objects, width=W, height=H)


def test_an_instance_message_adds_one_object_with_its_mask_and_class(canvas: Canvas) -> None:
    seen: list[str] = []
    canvas.on_edit(seen.append)
    a = disc(10, 10, 5)
    draw(canvas, 1, a, label=2)
    assert [(o.id, o.label, o.draft) for o in canvas.objects] == [(1, 2, False)]
    assert np.array_equal(masks(canvas)[0], a)
    assert seen == ["instance"]
    assert canvas.received_by_kind["instance"] == 1


def test_touching_objects_of_one_class_stay_two_objects(canvas: Canvas) -> None:
    left = np.zeros((H, W), bool)
    left[5:20, 5:15] = True
    right = np.zeros((H, W), bool)
    right[5:20, 15:25] = True
    draw(canvas, 1, left)
    draw(canvas, 2, right)
    got = masks(canvas)
    assert np.array_equal(got[0], left)
    assert np.array_equal(got[1], right)


def test_a_second_message_for_an_id_replaces_that_object_only(canvas: Canvas) -> None:
    a, b = disc(10, 10, 5), disc(30, 20, 4)
    draw(canvas, 1, a)
    draw(canvas, 2, b)
    bigger = disc(10, 10, 7)
    draw(canvas, 1, bigger, label=1)
    assert [(o.id, o.label) for o in canvas.objects] == [(1, 1), (2, 0)]
    assert np.array_equal(masks(canvas)[0], bigger)
    assert np.array_equal(masks(canvas)[1], b)


def test_a_zlib_instance_message_is_inflated(canvas: Canvas) -> None:
    a = disc(20, 15, 9)
    rect = [0, 0, W, H]
    content = object_msg(5, a, rect=rect, encoding="zlib")
    send(canvas, content, [zlib.compress(rect_bits(a, rect))])
    assert np.array_equal(masks(canvas)[0], a)


def test_a_draft_flag_travels_with_the_object(canvas: Canvas) -> None:
    draw(canvas, 3, disc(10, 10, 3), draft=True)
    assert canvas.objects[0].draft is True


def test_instance_delete_removes_only_that_object(canvas: Canvas) -> None:
    draw(canvas, 1, disc(10, 10, 5))
    draw(canvas, 2, disc(30, 20, 4))
    send(canvas, {"kind": "instance_delete", "id": 1})
    assert [o.id for o in canvas.objects] == [2]


def test_instance_order_restacks_the_objects(canvas: Canvas) -> None:
    for k in (1, 2, 3):
        draw(canvas, k, disc(8 * k, 10, 3))
    send(canvas, {"kind": "instance_order", "order": [2, 3, 1]})
    assert [o.id for o in canvas.objects] == [2, 3, 1]


def test_fetch_answers_with_the_objects_as_the_browser_reads_them(canvas: Canvas) -> None:
    a = disc(12, 9, 4)
    draw(canvas, 7, a, label=1)
    sent: list[Any] = []
    canvas.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    send(canvas, {"kind": "fetch"})
    (state,) = [m for m in sent if m["kind"] == "state"]
    (obj,) = state["instances"]
    assert (obj["id"], obj["label"], obj["draft"]) == (7, 1, False)
    assert np.array_equal(decoded(obj), a)


def decoded(obj: dict[str, Any]) -> np.ndarray:
    """An object as js/src/objectsin.js's objectsOf reads it: runs over its rect."""
    x0, y0, x1, y1 = obj["rect"]
    flat = np.zeros((x1 - x0) * (y1 - y0), np.uint8)
    at = 0
    for i, n in enumerate(obj["runs"]):
        flat[at : at + n] = i % 2
        at += n
    out = np.zeros((H, W), bool)
    out[y0:y1, x0:x1] = flat.reshape(y1 - y0, x1 - x0) == 1
    return out


def test_runs_start_with_the_pixels_outside_the_object() -> None:
    assert runs(bytes([1, 1, 0, 1])) == [0, 2, 1, 1]
    assert runs(bytes([0, 0, 1])) == [2, 1]


def test_load_sends_each_object_tight_with_its_class_and_draft_flag() -> None:
    c = Canvas(classes=CLASSES, mode="instance")
    a, b = disc(10, 10, 5), disc(28, 18, 6)
    known = objects_from_masks([a], [2], width=W, height=H, n_classes=3)
    drafts = objects_from_masks(
        np.stack([b]), [1], width=W, height=H, n_classes=3, draft=True, first_id=2
    )
    c.load(np.zeros((H, W, 3), np.uint8), objects=known + drafts)
    loaded = c.loaded_instances
    assert [(o["id"], o["label"], o["draft"]) for o in loaded] == [(1, 2, False), (2, 1, True)]
    assert loaded[0]["rect"] == [5, 5, 16, 16]
    assert np.array_equal(decoded(loaded[0]), a)
    assert np.array_equal(decoded(loaded[1]), b)
    assert c.objects == tuple(known + drafts)


def test_a_new_image_starts_without_the_objects_of_the_one_before(canvas: Canvas) -> None:
    draw(canvas, 1, disc(10, 10, 5))
    canvas.load(np.zeros((H, W, 3), np.uint8))
    assert canvas.objects == ()
    assert canvas.loaded_instances == []


@pytest.mark.parametrize(
    ("masks_", "labels", "error"),
    [
        ([np.zeros((H, W), bool)], [0], r"instances\[0\]: its mask is empty"),
        ([disc(5, 5, 2)], [3], r"instances\[0\]: label must be a class id in \[0, 3\), got 3"),
        ([np.ones((H, W + 1), bool)], [0], r"instances\[0\]: mask must have shape \(30, 40\)"),
        ([disc(5, 5, 2)], [0, 1], "got 1 masks but 2 labels"),
    ],
)
def test_objects_from_bad_masks_are_refused_naming_the_object(
    masks_: list[np.ndarray], labels: list[int], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        objects_from_masks(masks_, labels, width=W, height=H, n_classes=3)


def test_load_refuses_two_objects_with_one_id() -> None:
    c = Canvas(classes=CLASSES, mode="instance")
    obj = objects_from_masks([disc(5, 5, 2)], [0], width=W, height=H, n_classes=3)[0]
    with pytest.raises(ValueError, match="distinct ids"):
        c.load(np.zeros((H, W, 3), np.uint8), objects=[obj, obj])


def test_load_refuses_an_object_outside_the_image() -> None:
    c = Canvas(classes=CLASSES, mode="instance")
    obj = ObjectEdit(4, 0, False, (30, 0, 50, 5), bytes(100))
    with pytest.raises(ValueError, match="object 4: rect must lie inside the 40x30 image"):
        c.load(np.zeros((H, W, 3), np.uint8), objects=[obj])


FULL = [0, 0, W, H]
ONES = bytes([1]) * (W * H)
BAD_MESSAGES = [
    ({"id": 3, "label": None, "rect": FULL}, [ONES], "instance 3 has no class"),
    (
        {"id": 3, "label": 3, "rect": FULL},
        [ONES],
        r"instance 3: label must be a class id in \[0, 3\)",
    ),
    ({"id": 3, "label": "cat", "rect": FULL}, [ONES], "instance 3: label must be a class id"),
    ({"id": 3, "label": 0, "rect": FULL}, [bytes(W * H)], "instance 3: its mask is empty"),
    (
        {"id": 3, "label": 0, "rect": FULL},
        [bytes([2]) * (W * H)],
        "instance 3: mask values must be 0 or 1, got 2",
    ),
    (
        {"id": 3, "label": 0, "rect": [0, 0, W + 1, H]},
        [ONES],
        "instance 3 rect must lie inside the 40x30 image",
    ),
    ({"id": 3, "label": 0, "rect": [5, 5, 5, 9]}, [b""], "instance 3 rect must have x0 < x1"),
    (
        {"id": 3, "label": 0, "rect": [0, 0, 2.5, 2]},
        [ONES],
        "instance 3 rect must be a list of 4 ints",
    ),
    ({"id": 3, "label": 0, "rect": FULL}, [ONES[:-1]], "instance 3 must have 40\\*30=1200 bytes"),
    ({"id": 3, "label": 0, "rect": FULL}, [], "instance 3 message must carry 1 buffer"),
    (
        {"id": 3, "label": 0, "rect": FULL, "encoding": "zlib"},
        [b"no zlib"],
        "instance 3 buffer is not zlib",
    ),
    (
        {"id": 3, "label": 0, "rect": FULL, "draft": "yes"},
        [ONES],
        "instance 3: draft must be true or false",
    ),
    ({"id": 0, "label": 0, "rect": FULL}, [ONES], r"instance id must be an int in \[1, "),
    ({"id": True, "label": 0, "rect": FULL}, [ONES], "instance id must be an int"),
]


@pytest.mark.parametrize(("content", "buffers", "error"), BAD_MESSAGES)
def test_a_bad_instance_message_is_refused_naming_the_object(
    canvas: Canvas, content: dict[str, Any], buffers: list[bytes], error: str
) -> None:
    draw(canvas, 3, disc(10, 10, 4))
    before = canvas.objects
    send(canvas, {"kind": "instance", **content}, buffers)
    assert canvas.objects == before
    assert canvas.rejected
    assert re.search(error, canvas.rejected[-1]), canvas.rejected


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ({"kind": "instance_delete", "id": 9}, "there is no object 9 to delete"),
        ({"kind": "instance_delete", "id": "1"}, "instance_delete id must be an int"),
        ({"kind": "instance_order", "order": [1]}, r"must name the objects held \(\[1, 2\]\)"),
        ({"kind": "instance_order", "order": [1, 1, 2]}, "must name each object once"),
        ({"kind": "instance_order", "order": "1,2"}, "instance_order order must be a list"),
    ],
)
def test_a_bad_delete_or_order_is_refused(
    canvas: Canvas, content: dict[str, Any], error: str
) -> None:
    draw(canvas, 1, disc(10, 10, 4))
    draw(canvas, 2, disc(30, 20, 4))
    before = canvas.objects
    send(canvas, content)
    assert canvas.objects == before
    assert re.search(error, canvas.rejected[-1]), canvas.rejected


def test_an_object_past_the_most_an_image_holds_is_refused(canvas: Canvas) -> None:
    objects = objects_from_masks(
        np.ones((MAX_BOXES, H, W), bool), [0] * MAX_BOXES, width=W, height=H, n_classes=3
    )
    canvas.load(np.zeros((H, W, 3), np.uint8), objects=objects)
    draw(canvas, MAX_BOXES + 1, disc(10, 10, 4))
    assert len(canvas.objects) == MAX_BOXES
    assert f"an image holds at most {MAX_BOXES} objects" in canvas.rejected[-1]


def test_an_instance_message_in_box_mode_is_refused(canvas: Canvas) -> None:
    canvas.mode = "box"
    draw(canvas, 1, disc(10, 10, 4))
    assert canvas.objects == ()
    assert "needs the canvas in 'instance' mode" in canvas.rejected[-1]


def test_an_instance_message_for_the_image_before_is_refused(canvas: Canvas) -> None:
    a = disc(10, 10, 4)
    content = object_msg(1, a, rect=FULL) | {"image_id": canvas.image_id - 1}
    canvas._handle_custom_msg(content, [rect_bits(a, FULL)])
    assert canvas.objects == ()
    assert "stale message" in canvas.rejected[-1]


def test_an_object_as_sent_is_read_back_as_the_same_mask() -> None:
    a = disc(15, 12, 6)
    (obj,) = objects_from_masks([a], [0], width=W, height=H, n_classes=1)
    assert np.array_equal(decoded(object_json(obj)), a)
