"""The Canvas widget and its browser protocol, without a browser."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import comm
import numpy as np
import pytest
import traitlets

from al_widget.widget import keys
from al_widget.widget._box_messages import MAX_BOXES, parse_boxes
from al_widget.widget._encoding import expand_mask
from al_widget.widget._mask_messages import parse_mask
from al_widget.widget._protocol import parse_message
from al_widget.widget._refusal import ProtocolError
from al_widget.widget.canvas import Canvas, palette

from conftest import DEEP, from_deep_stack, nested

W, H = 40, 30


class Frontend(comm.base_comm.BaseComm):
    """The browser's end of a widget's comm: its copy of the model, and what reached it."""

    def __init__(self, **kwargs: Any) -> None:
        self.model: dict[str, Any] = {}
        self.updates: list[dict[str, Any]] = []
        self.custom_sent: list[tuple[dict[str, Any], list[bytes]]] = []
        super().__init__(**kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        data = data or {}
        if data.get("method") == "custom":
            self.custom_sent.append((data["content"], [bytes(b) for b in buffers or []]))
        elif "state" in data:
            state = dict(data["state"])
            for path, buf in zip(data.get("buffer_paths", []), buffers or [], strict=True):
                state[path[0]] = bytes(buf)
            if msg_type == "comm_msg" and data.get("method") == "update":
                self.updates.append(state)
            self.model.update(state)

    def custom(self, content: Any, buffers: list[Any] | None = None) -> None:
        """Send a custom message from the browser, as model.send() does."""
        data = {"method": "custom", "content": content}
        self.handle_msg({"content": {"data": data}, "buffers": buffers or []})

    def update(self, state: dict[str, Any], buffers: dict[str, Any] | None = None) -> None:
        """Send a state update from the browser, as model.save_changes() does."""
        buffers = buffers or {}
        data = {"method": "update", "state": state, "buffer_paths": [[k] for k in buffers]}
        self.handle_msg({"content": {"data": data}, "buffers": list(buffers.values())})

    def shown(self) -> tuple[list[Any], list[Any], bytes]:
        """What the browser starts editing from: the loaded boxes, drafts and mask it holds."""
        m = self.model
        return m["loaded_boxes"], m["loaded_drafts"], m["loaded_mask"]


@pytest.fixture(autouse=True)
def frontend(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give every widget made in a test a Frontend as its comm (comm's documented hook)."""
    monkeypatch.setattr(comm, "create_comm", Frontend)


@pytest.fixture
def canvas() -> Canvas:
    c = Canvas(classes=["bg", "cat", "dog"])
    c.load(np.zeros((H, W, 3), dtype=np.uint8), mode="box")
    return c


@pytest.fixture
def mask_canvas() -> Canvas:
    c = Canvas(classes=["bg", "cat", "dog"])
    c.load(np.zeros((H, W, 3), dtype=np.uint8), mode="mask")
    return c


def browser(c: Canvas) -> Frontend:
    assert isinstance(c.comm, Frontend)
    return c.comm


def boxes_msg(c: Canvas, boxes: Any, **extra: Any) -> dict[str, Any]:
    return {"kind": "boxes", "image_id": c.image_id, "boxes": boxes, "drafts": [], **extra}


def mask_msg(c: Canvas) -> dict[str, Any]:
    return {"kind": "mask", "image_id": c.image_id, "width": W, "height": H}


def snapshot(c: Canvas) -> tuple[Any, ...]:
    return (list(c.boxes), list(c.drafts), c.mask, c.messages_received)


def test_load_sets_image_traits_and_bumps_image_id() -> None:
    c = Canvas(classes=["a", "b"])
    c.load(np.full((H, W, 3), 7, dtype=np.uint8), mode="mask")
    assert (c.width, c.height, c.mode, c.image_id) == (W, H, "mask", 1)
    assert c.image_format == "png"
    assert c.image.startswith(b"\x89PNG")


def test_load_encodes_large_photo_as_jpeg() -> None:
    c = Canvas(classes=["a"])
    rng = np.random.default_rng(0)
    c.load(rng.integers(0, 255, (400, 600, 3), dtype=np.uint8), mode="box")
    assert c.image_format == "jpeg"
    assert c.image.startswith(b"\xff\xd8")


def test_load_replaces_boxes_drafts_and_mask(canvas: Canvas) -> None:
    browser(canvas).custom(boxes_msg(canvas, [{"xyxy": [1, 1, 5, 5], "label": 1}]))
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[2, 3] = 2
    canvas.load(
        np.zeros((H, W, 3), dtype=np.uint8),
        drafts=(np.array([[0, 0, 10, 10]]), np.array([2])),
        mask=mask,
    )
    assert canvas.boxes == []
    assert canvas.drafts == [{"xyxy": [0.0, 0.0, 10.0, 10.0], "label": 2}]
    assert canvas.mask_array()[2, 3] == 2


def test_load_sends_one_state_update(canvas: Canvas) -> None:
    front = browser(canvas)
    front.updates.clear()
    canvas.load(
        np.ones((H + 1, W + 1, 3), dtype=np.uint8), boxes=[{"xyxy": [1, 1, 5, 5], "label": 1}]
    )
    assert len(front.updates) == 1
    assert {"image_id", "width", "height", "loaded_boxes", "image"} <= set(front.updates[0])
    assert front.updates[0]["image"].startswith(b"\x89PNG")


def test_load_refuses_box_outside_image(canvas: Canvas) -> None:
    with pytest.raises(ValueError, match="inside the 40x30 image"):
        canvas.load(
            np.zeros((H, W, 3), dtype=np.uint8), boxes=[{"xyxy": [0, 0, 50, 5], "label": 0}]
        )


def test_load_refuses_mask_of_wrong_shape(canvas: Canvas) -> None:
    with pytest.raises(ValueError, match=r"mask must have shape \(30, 40\)"):
        canvas.load(np.zeros((H, W, 3), dtype=np.uint8), mask=np.zeros((3, 3), dtype=np.uint8))


def test_load_refuses_float_image(canvas: Canvas) -> None:
    with pytest.raises(ValueError, match="image must be uint8, got float64"):
        canvas.load(np.zeros((H, W, 3)))


def test_load_converts_grayscale_to_rgb(canvas: Canvas) -> None:
    canvas.load(np.zeros((H, W), dtype=np.uint8))
    assert (canvas.width, canvas.height) == (W, H)


def test_colors_default_to_one_distinct_color_per_class() -> None:
    c = Canvas(classes=[f"c{i}" for i in range(15)])
    assert len(c.colors) == 15
    assert len(set(c.colors)) == 15


def test_colors_given_are_kept_and_extended() -> None:
    c = Canvas(classes=["a", "b", "c"], colors=["red"])
    assert c.colors[0] == "red"
    assert c.colors[1:] == palette(3)[1:]


def test_brush_size_below_one_is_refused() -> None:
    with pytest.raises(Exception, match="brush_size must be >= 1"):
        Canvas(brush_size=0)


def test_valid_boxes_message_updates_boxes_and_drafts_and_calls_observers(
    canvas: Canvas,
) -> None:
    seen: list[str] = []
    canvas.on_edit(seen.append)
    draft = {"xyxy": [0, 0, 4, 4], "label": 1}
    browser(canvas).custom(
        boxes_msg(canvas, [{"xyxy": [1, 2.5, 10, 20], "label": 2}], drafts=[draft])
    )
    assert canvas.boxes == [{"xyxy": [1.0, 2.5, 10.0, 20.0], "label": 2}]
    assert canvas.drafts == [{"xyxy": [0.0, 0.0, 4.0, 4.0], "label": 1}]
    assert seen == ["boxes"]
    assert canvas.messages_received == 1
    assert canvas.received_by_kind == {"boxes": 1, "mask": 0}


def test_valid_mask_message_updates_mask(mask_canvas: Canvas) -> None:
    data = np.zeros((H, W), dtype=np.uint8)
    data[5:8, 10:12] = 2
    browser(mask_canvas).custom(mask_msg(mask_canvas), [memoryview(data.tobytes())])
    np.testing.assert_array_equal(mask_canvas.mask_array(), data)
    assert mask_canvas.received_by_kind["mask"] == 1


def test_accepted_edit_is_not_sent_back_to_the_browser(canvas: Canvas) -> None:
    front = browser(canvas)
    front.custom(boxes_msg(canvas, [{"xyxy": [1, 2, 10, 20], "label": 2}]))
    canvas.mode = "mask"
    front.updates.clear()
    front.custom(mask_msg(canvas), [bytes(W * H)])
    assert canvas.messages_received == 2
    assert front.updates == []
    assert front.custom_sent == []


def test_a_synced_trait_changed_in_python_is_sent(canvas: Canvas) -> None:
    front = browser(canvas)
    front.updates.clear()
    canvas.tool = "eraser"
    assert front.updates == [{"tool": "eraser"}]


@pytest.mark.parametrize("name", ["boxes", "drafts", "mask"])
def test_edit_state_is_read_only_in_python_load_replaces_it(canvas: Canvas, name: str) -> None:
    with pytest.raises(traitlets.TraitError, match="read-only"):
        setattr(canvas, name, getattr(canvas, name))


@pytest.mark.parametrize("name", ["boxes", "drafts", "mask"])
def test_edit_state_is_not_synced(canvas: Canvas, name: str) -> None:
    assert name not in browser(canvas).model


def test_on_edit_returns_the_function_for_use_as_decorator(canvas: Canvas) -> None:
    def fn(kind: str) -> None: ...

    assert canvas.on_edit(fn) is fn


def test_box_array_and_mask_array_shapes(canvas: Canvas) -> None:
    xyxy, labels = canvas.box_array()
    assert xyxy.shape == (0, 4)
    assert labels.shape == (0,)
    assert canvas.mask_array().shape == (H, W)
    canvas.load(np.zeros((H, W, 3), dtype=np.uint8), boxes=[{"xyxy": [1, 2, 3, 4], "label": 1}])
    xyxy, labels = canvas.box_array()
    np.testing.assert_array_equal(xyxy, [[1, 2, 3, 4]])
    np.testing.assert_array_equal(labels, [1])


BAD_MESSAGES = {
    "not_a_dict": (lambda c: ["kind", "boxes"], "message must be a dict, got list"),
    "unknown_kind": (lambda c: {"kind": "polygon", "image_id": c.image_id}, "kind must be one of"),
    "missing_kind": (lambda c: {"image_id": c.image_id}, "kind must be one of"),
    "stale_image_id": (
        lambda c: {**boxes_msg(c, []), "image_id": c.image_id - 1},
        "stale message: image_id must be",
    ),
    "boxes_not_a_list": (lambda c: boxes_msg(c, {"xyxy": [1, 1, 2, 2]}), "boxes must be a list"),
    "box_not_a_dict": (lambda c: boxes_msg(c, [[1, 1, 2, 2]]), r"boxes\[0\] must be a dict"),
    "three_coordinates": (
        lambda c: boxes_msg(c, [{"xyxy": [1, 1, 2], "label": 0}]),
        "list of 4 numbers",
    ),
    "nan_coordinate": (
        lambda c: boxes_msg(c, [{"xyxy": [1, float("nan"), 5, 5], "label": 0}]),
        "finite numbers",
    ),
    "int_too_large_for_a_float": (
        lambda c: boxes_msg(c, [{"xyxy": [1, 1, 10**400, 5], "label": 0}]),
        "finite numbers",
    ),
    "string_coordinate": (
        lambda c: boxes_msg(c, [{"xyxy": [1, "2", 5, 5], "label": 0}]),
        "finite numbers",
    ),
    "box_outside_image": (
        lambda c: boxes_msg(c, [{"xyxy": [1, 1, 41, 5], "label": 0}]),
        "inside the 40x30 image",
    ),
    "negative_coordinate": (
        lambda c: boxes_msg(c, [{"xyxy": [-1, 1, 4, 5], "label": 0}]),
        "inside the 40x30 image",
    ),
    "zero_area_box": (
        lambda c: boxes_msg(c, [{"xyxy": [3, 1, 3, 5], "label": 0}]),
        "non-zero area",
    ),
    "unknown_label": (
        lambda c: boxes_msg(c, [{"xyxy": [1, 1, 4, 5], "label": 3}]),
        r"label must be an int in \[0, 3\)",
    ),
    "float_label": (
        lambda c: boxes_msg(c, [{"xyxy": [1, 1, 4, 5], "label": 1.0}]),
        "label must be an int",
    ),
    "bad_draft": (
        lambda c: boxes_msg(c, [], drafts=[{"xyxy": [1, 1, 4, 5], "label": -1}]),
        r"drafts\[0\].label",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_MESSAGES))
def test_malformed_boxes_message_is_refused_and_changes_nothing(
    canvas: Canvas, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    make, reason = BAD_MESSAGES[case]
    seen: list[str] = []
    canvas.on_edit(seen.append)
    before = snapshot(canvas)
    with caplog.at_level(logging.WARNING, logger="al_widget"):
        browser(canvas).custom(make(canvas))
    assert snapshot(canvas) == before
    assert seen == []
    assert len(canvas.rejected) == 1
    assert re.search(reason, canvas.rejected[0]), canvas.rejected[0]
    assert re.search(reason, caplog.text)


@pytest.mark.parametrize(
    ("buffers", "reason"),
    [
        ([bytes(W * H - 1)], "mask must have 40\\*30=1200 bytes, got 1199"),
        ([bytes([3]) * (W * H)], "mask values must be < 3, got 3"),
        ([], "mask message must carry 1 buffer, got 0"),
        ([bytes(W * H), bytes(W * H)], "must carry 1 buffer, got 2"),
    ],
    ids=["wrong_length", "value_out_of_range", "no_buffer", "two_buffers"],
)
def test_malformed_mask_message_is_refused_and_changes_nothing(
    mask_canvas: Canvas, buffers: list[bytes], reason: str
) -> None:
    before = snapshot(mask_canvas)
    browser(mask_canvas).custom(mask_msg(mask_canvas), buffers)
    assert snapshot(mask_canvas) == before
    assert len(mask_canvas.rejected) == 1
    assert re.search(reason, mask_canvas.rejected[0]), mask_canvas.rejected[0]


def test_an_int_coordinate_too_large_for_a_float_is_shown_cut_short(canvas: Canvas) -> None:
    browser(canvas).custom(boxes_msg(canvas, [{"xyxy": [1, 1, 10**400, 5], "label": 0}]))
    (reason,) = canvas.rejected
    assert reason.startswith("boxes[0].xyxy must hold finite numbers, got [1, 1, 1000")
    assert reason.endswith("...")
    assert len(reason) < 150


@pytest.mark.parametrize(
    ("mode", "kind"),
    [("box", "mask"), ("mask", "boxes"), ("classify", "boxes"), ("classify", "mask")],
)
def test_an_edit_of_another_modes_kind_is_refused_and_changes_nothing(
    canvas: Canvas, mode: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    canvas.load(np.zeros((H, W, 3), dtype=np.uint8), mode=mode)
    seen: list[str] = []
    canvas.on_edit(seen.append)
    before = snapshot(canvas)
    with caplog.at_level(logging.WARNING, logger="al_widget"):
        if kind == "boxes":
            browser(canvas).custom(boxes_msg(canvas, [{"xyxy": [1, 1, 4, 5], "label": 1}]))
        else:
            browser(canvas).custom(mask_msg(canvas), [bytes([1]) * (W * H)])
    assert snapshot(canvas) == before
    assert seen == []
    expected = {"boxes": "'box'", "mask": "'mask'"}[kind]
    assert canvas.rejected == [
        f"a {kind} message needs the canvas in {expected} mode; it is in {mode!r}"
    ]
    assert canvas.rejected[0] in caplog.text


def test_a_fetch_is_answered_in_every_mode(canvas: Canvas) -> None:
    canvas.load(np.zeros((H, W, 3), dtype=np.uint8), mode="classify")
    browser(canvas).custom({"kind": "fetch"})
    assert len(browser(canvas).custom_sent) == 1
    assert canvas.rejected == []


def test_more_boxes_than_the_bound_are_refused_before_any_is_parsed(canvas: Canvas) -> None:
    before = snapshot(canvas)
    browser(canvas).custom(boxes_msg(canvas, [None] * (MAX_BOXES + 1)))
    assert snapshot(canvas) == before
    assert canvas.rejected == [
        f"an image holds at most {MAX_BOXES} boxes and drafts together, "
        f"got {MAX_BOXES + 1} boxes and 0 drafts"
    ]


def test_the_bound_counts_boxes_and_drafts_together(canvas: Canvas) -> None:
    box = {"xyxy": [1, 1, 4, 5], "label": 1}
    browser(canvas).custom(boxes_msg(canvas, [box] * 600, drafts=[box] * (MAX_BOXES - 599)))
    assert canvas.boxes == []
    assert canvas.rejected[0].endswith(f"got 600 boxes and {MAX_BOXES - 599} drafts")


def test_exactly_the_bound_of_boxes_is_accepted(canvas: Canvas) -> None:
    box = {"xyxy": [1, 1, 4, 5], "label": 1}
    browser(canvas).custom(boxes_msg(canvas, [box] * 600, drafts=[box] * (MAX_BOXES - 600)))
    assert canvas.rejected == []
    assert (len(canvas.boxes), len(canvas.drafts)) == (600, MAX_BOXES - 600)


def test_a_flood_of_boxes_is_refused_quickly(canvas: Canvas) -> None:
    flood = boxes_msg(canvas, [{"xyxy": [1, 1, 4, 5], "label": 1}] * 200_000)
    start = time.perf_counter()
    browser(canvas).custom(flood)
    assert time.perf_counter() - start < 0.5  # parsing each box took seconds
    assert canvas.boxes == []
    assert len(canvas.rejected) == 1


def test_the_bound_is_sent_to_the_browser_and_read_only(canvas: Canvas) -> None:
    assert browser(canvas).model["max_boxes"] == MAX_BOXES
    with pytest.raises(traitlets.TraitError, match="read-only"):
        canvas.max_boxes = 5


def test_load_refuses_more_boxes_than_the_bound(canvas: Canvas) -> None:
    xyxy = np.tile([1.0, 1.0, 4.0, 5.0], (MAX_BOXES + 1, 1))
    image = np.zeros((H, W, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=f"at most {MAX_BOXES} boxes and drafts together"):
        canvas.load(image, boxes=(xyxy, np.ones(MAX_BOXES + 1, int)))


def test_load_keeps_the_first_drafts_that_fit_beside_the_boxes_and_warns(
    canvas: Canvas, caplog: pytest.LogCaptureFixture
) -> None:
    xyxy = np.array([[1.0, 1.0, 4.0 + k % 30, 5.0] for k in range(MAX_BOXES)])
    with caplog.at_level(logging.WARNING, logger="al_widget"):
        canvas.load(
            np.zeros((H, W, 3), dtype=np.uint8),
            boxes=[{"xyxy": [1, 1, 4, 5], "label": 1}],
            drafts=(xyxy, np.ones(MAX_BOXES, int)),
        )
    assert [d["xyxy"] for d in canvas.drafts] == xyxy[: MAX_BOXES - 1].tolist()
    assert browser(canvas).shown()[1] == canvas.drafts
    assert f"first {MAX_BOXES - 1} of {MAX_BOXES} drafts" in caplog.text


def test_mask_message_with_wrong_size_fields_is_refused(mask_canvas: Canvas) -> None:
    browser(mask_canvas).custom({**mask_msg(mask_canvas), "width": W + 1}, [bytes(W * H)])
    assert mask_canvas.rejected == ["mask size must be 40x30, got 41x30"]
    assert mask_canvas.mask == b""


def test_parse_message_refuses_stale_image_id() -> None:
    with pytest.raises(ProtocolError, match="image_id must be 2, got 1"):
        parse_message(
            {"kind": "boxes", "image_id": 1, "boxes": []},
            [],
            image_id=2,
            mode="box",
            width=4,
            height=4,
            n_classes=1,
        )


def test_protocol_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="non-zero area"):
        parse_boxes([{"xyxy": [1, 1, 1, 2], "label": 0}], width=4, height=4, n_classes=1)


def test_parse_mask_accepts_memoryview() -> None:
    assert parse_mask(memoryview(bytes(4)), width=2, height=2, n_classes=2) == bytes(4)


def test_parse_mask_refuses_non_buffer() -> None:
    with pytest.raises(ProtocolError, match="mask must be a byte buffer, got float"):
        parse_mask(1.5, width=2, height=2, n_classes=2)


def test_load_after_browser_edits_shows_exactly_the_loaded_state(canvas: Canvas) -> None:
    front = browser(canvas)
    front.custom(boxes_msg(canvas, [{"xyxy": [1, 2, 10, 20], "label": 2}]))
    canvas.mode = "mask"
    front.custom(mask_msg(canvas), [bytes([1]) * (W * H)])
    assert canvas.messages_received == 2
    canvas.load(np.zeros((H, W, 3), dtype=np.uint8))
    assert front.model["image_id"] == canvas.image_id
    assert front.shown() == ([], [], b"")
    assert (canvas.boxes, canvas.drafts, canvas.mask) == ([], [], b"")


def test_load_of_boxes_the_browser_drew_still_makes_the_browser_start_afresh(
    canvas: Canvas,
) -> None:
    box = {"xyxy": [1.0, 2.0, 10.0, 20.0], "label": 2}
    front = browser(canvas)
    front.custom(boxes_msg(canvas, [box]))
    before = front.model["image_id"]
    canvas.load(np.zeros((H, W, 3), dtype=np.uint8), boxes=[box])
    assert front.model["image_id"] == before + 1
    assert front.shown() == ([box], [], b"")
    assert canvas.boxes == [box]


def test_fetch_is_answered_with_the_current_boxes_drafts_and_mask(canvas: Canvas) -> None:
    seen: list[str] = []
    canvas.on_edit(seen.append)
    front = browser(canvas)
    box = {"xyxy": [1.0, 2.0, 10.0, 20.0], "label": 2}
    front.custom(boxes_msg(canvas, [box]))
    canvas.mode = "mask"
    front.custom(mask_msg(canvas), [bytes([2]) * (W * H)])
    front.custom({"kind": "fetch"})
    content = {
        "kind": "state",
        "image_id": canvas.image_id,
        "boxes": [box],
        "drafts": [],
        "instances": [],
    }
    ((sent, (mask,)),) = front.custom_sent
    assert sent == content
    assert expand_mask(mask, width=W, height=H) == bytes([2]) * (W * H)  # see test_canvas_patches
    assert canvas.messages_received == 2
    assert seen == ["boxes", "mask"]


def test_browser_state_update_cannot_set_boxes_or_mask(canvas: Canvas) -> None:
    browser(canvas).update(
        {"tool": "eraser", "boxes": [{"xyxy": [0, 0, 1e9, 1], "label": 99}]},
        buffers={"mask": memoryview(b"\x05")},
    )
    assert canvas.tool == "eraser"
    assert canvas.boxes == []
    assert canvas.mask == b""


def test_browser_state_update_converts_memoryview_bytes(canvas: Canvas) -> None:
    browser(canvas).update({}, buffers={"image": memoryview(b"\x89PNG")})
    assert canvas.image == b"\x89PNG"


def test_keymap_sends_the_canvas_keys_of_the_key_table(canvas: Canvas) -> None:
    assert canvas.keymap == keys.canvas_keymap()
    assert browser(canvas).model["keymap"] == keys.canvas_keymap()


def test_mask_mode_never_makes_the_background_the_active_class() -> None:
    canvas = Canvas(classes=["background", "cat"], mode="mask")
    assert canvas.active_class == 1
    canvas.active_class = 0
    assert canvas.active_class == 1


def test_a_finished_canvas_refuses_edits(canvas: Canvas) -> None:
    canvas.finished = "Nothing left to label"
    canvas._handle_custom_msg(
        {"kind": "boxes", "image_id": canvas.image_id, "boxes": [], "drafts": []}, []
    )
    assert canvas.messages_received == 0
    assert canvas.rejected


def test_an_edit_refused_on_the_image_shown_starts_the_browser_afresh_from_the_canvas(
    canvas: Canvas,
) -> None:
    kept = [{"xyxy": [1.0, 1.0, 5.0, 5.0], "label": 1}]
    browser(canvas).custom(boxes_msg(canvas, kept))
    made_on = canvas.image_id
    canvas.finished = "Nothing left to label"
    browser(canvas).custom(boxes_msg(canvas, [*kept, {"xyxy": [6, 6, 9, 9], "label": 2}]))
    assert canvas.boxes == kept
    assert browser(canvas).model["image_id"] == made_on + 1  # the view starts afresh
    assert browser(canvas).shown()[0] == kept


def test_a_malformed_edit_of_the_image_shown_starts_the_browser_afresh_from_the_canvas(
    canvas: Canvas,
) -> None:
    made_on = canvas.image_id
    browser(canvas).custom(boxes_msg(canvas, [{"xyxy": [1, 1, 5, 5], "label": 9}]))
    assert canvas.rejected
    assert browser(canvas).model["image_id"] == made_on + 1
    assert browser(canvas).shown()[0] == []


def test_a_stale_edit_leaves_the_browser_as_it_is(canvas: Canvas) -> None:
    made_on = canvas.image_id
    browser(canvas).custom(boxes_msg(canvas, [], image_id=made_on - 1))
    assert canvas.rejected
    assert browser(canvas).model["image_id"] == made_on


def test_an_early_key_whose_observer_fails_still_sends_the_browser_back(canvas: Canvas) -> None:
    def fails(event: dict[str, Any]) -> None:
        raise ValueError("an observer's bug")

    canvas.on_key(fails)
    browser(canvas).custom({"kind": "key", "key": "s", "early": True, "painted": "7"})
    assert browser(canvas).custom_sent[-1][0] == {"kind": "stay", "image_id": canvas.image_id}


@pytest.mark.parametrize("field", ["shown", "painted"], ids=["shown", "painted"])
@pytest.mark.parametrize(
    "value",
    ["\u00b2", "9" * 5000, "7\n", 7],
    ids=["superscript two", "5000 digits", "newline", "an int"],
)
def test_a_key_naming_its_image_by_no_image_key_is_refused(
    canvas: Canvas, field: str, value: Any
) -> None:
    heard: list[Any] = []
    canvas.on_key(heard.append)
    browser(canvas).custom({"kind": "key", "key": "s", "early": True, field: value})
    assert heard == []
    assert f"{field} must be an image key" in canvas.rejected[-1]


def test_a_refused_early_key_sends_the_browser_back(canvas: Canvas) -> None:
    browser(canvas).custom({"kind": "key", "key": "s", "early": True, "painted": "9" * 5000})
    assert canvas.rejected
    assert browser(canvas).custom_sent[-1][0] == {"kind": "stay", "image_id": canvas.image_id}


def test_key_messages_reach_the_key_observers(canvas: Canvas) -> None:
    heard = []
    canvas.on_key(heard.append)
    canvas._handle_custom_msg({"kind": "key", "key": "Z", "shiftKey": True}, [])
    canvas._handle_custom_msg({"kind": "key", "key": 5}, [])
    assert heard == [
        {"key": "Z", "shiftKey": True, "ctrlKey": False, "altKey": False, "metaKey": False}
    ]


FORGED: dict[str, Any] = {
    "message nested deep": lambda c: nested(DEEP),
    "kind nested deep": lambda c: {"kind": nested(DEEP)},
    "kind a list": lambda c: {"kind": [1]},
    "kind a dict": lambda c: {"kind": {"a": 1}},
    "need key a list": lambda c: {"kind": "need", "key": [1]},
    "need key a dict": lambda c: {"kind": "need", "key": {"a": 1}},
    "need key nested deep": lambda c: {"kind": "need", "key": nested(DEEP)},
    "key a list": lambda c: {"kind": "key", "key": [1]},
    "key nested deep": lambda c: {"kind": "key", "key": nested(DEEP)},
    "action a list": lambda c: {"kind": "action", "action": ["submit"]},
    "action nested deep": lambda c: {"kind": "action", "action": nested(DEEP)},
    "action's key a list": lambda c: {"kind": "action", "action": "submit", "key": [1]},
    "image_id nested deep": lambda c: boxes_msg(c, [], image_id=nested(DEEP)),
    "boxes nested deep": lambda c: boxes_msg(c, nested(DEEP)),
    "xyxy nested deep": lambda c: boxes_msg(c, [{"xyxy": nested(DEEP), "label": 0}]),
    "label nested deep": lambda c: boxes_msg(c, [{"xyxy": [1, 1, 4, 5], "label": nested(DEEP)}]),
    "drafts nested deep": lambda c: boxes_msg(c, [], drafts=nested(DEEP)),
}


@pytest.mark.parametrize("case", sorted(FORGED))
def test_a_forged_message_is_refused_with_a_short_logged_reason(
    canvas: Canvas, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[Any] = []
    canvas.on_key(heard.append)
    canvas.on_edit(heard.append)
    before = snapshot(canvas)
    message = FORGED[case](canvas)
    with caplog.at_level(logging.WARNING, logger="al_widget"):
        from_deep_stack(lambda: canvas._on_browser_msg(canvas, message, []))
    assert snapshot(canvas) == before
    assert heard == []
    (reason,) = canvas.rejected
    assert len(reason) < 200
    assert reason in caplog.text


@pytest.mark.parametrize(
    "content",
    [
        {"rect": nested(DEEP)},
        {"rect": [0, 0, 2, 2], "encoding": nested(DEEP)},
        {"rect": [0, 0, 2, 2], "encoding": ["zlib"]},
    ],
    ids=["rect nested deep", "encoding nested deep", "encoding a list"],
)
def test_a_forged_mask_patch_is_refused_with_a_short_reason(
    mask_canvas: Canvas, content: dict[str, Any]
) -> None:
    before = snapshot(mask_canvas)
    message = {"kind": "mask_patch", "image_id": mask_canvas.image_id, **content}
    from_deep_stack(lambda: mask_canvas._on_browser_msg(mask_canvas, message, [bytes(4)]))
    assert snapshot(mask_canvas) == before
    (reason,) = mask_canvas.rejected
    assert len(reason) < 200


def test_a_refusal_shows_a_value_nested_deep_a_few_levels_down() -> None:
    with pytest.raises(ProtocolError, match=r"got \[\[\[\[\.\.\.\]\]\]\]$"):
        from_deep_stack(
            lambda: parse_message(
                {"kind": nested(DEEP)}, [], image_id=1, mode="box", width=W, height=H, n_classes=2
            )
        )


def test_a_draft_keeps_its_confidence_through_the_protocol() -> None:
    parsed = parse_boxes(
        [{"xyxy": [0, 0, 2, 2], "label": 0, "score": 0.25}], width=4, height=4, n_classes=1
    )
    assert parsed == [{"xyxy": [0.0, 0.0, 2.0, 2.0], "label": 0, "score": 0.25}]


@pytest.mark.parametrize("score", [1.5, -0.1, "high", True])
def test_a_draft_confidence_outside_0_to_1_is_refused(score: object) -> None:
    with pytest.raises(ProtocolError, match=r"drafts\[0\]\.score must be a number in \[0, 1\]"):
        parse_boxes(
            [{"xyxy": [0, 0, 2, 2], "label": 0, "score": score}],
            width=4,
            height=4,
            n_classes=1,
            name="drafts",
        )
