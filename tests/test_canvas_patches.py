"""Masks on large images: the browser sends patches, Python sends a display copy and a packed mask."""

from __future__ import annotations

import io
import re
import zlib
from typing import Any

import numpy as np
import pytest
from PIL import Image

from al_widget.widget._encoding import (
    DISPLAY_MAX_SIDE,
    compress_mask,
    encode_display,
    expand_mask,
)
from al_widget.widget.canvas import Canvas

W, H = 40, 30
BIG_H, BIG_W = 6000, 8000
MB = 1_000_000


def patch_msg(c: Canvas, rect: Any, **extra: Any) -> dict[str, Any]:
    return {"kind": "mask_patch", "image_id": c.image_id, "rect": rect, **extra}


def values(rect: list[int], fill: int) -> bytes:
    x0, y0, x1, y1 = rect
    return bytes([fill]) * ((x1 - x0) * (y1 - y0))


def send(c: Canvas, content: Any, buffers: list[Any]) -> None:
    """What the browser's model.send() delivers to the kernel."""
    c._handle_custom_msg(content, buffers)


@pytest.fixture
def loaded() -> np.ndarray:
    """The mask the canvas starts from: class 1 on the left half, background on the right."""
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[:, : W // 2] = 1
    return mask


@pytest.fixture
def canvas(loaded: np.ndarray) -> Canvas:
    c = Canvas(classes=["bg", "cat", "dog"])
    c.load(np.zeros((H, W, 3), dtype=np.uint8), mode="mask", mask=loaded)
    return c


@pytest.fixture
def outbox(canvas: Canvas, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, list[bytes]]]:
    """The custom messages the canvas sends the browser."""
    sent: list[tuple[Any, list[bytes]]] = []
    monkeypatch.setattr(
        canvas, "send", lambda content, buffers=None: sent.append((content, list(buffers or [])))
    )
    return sent


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A 6000x8000 photo-like image: smooth gradients, a disc and sensor noise."""
    yy, xx = np.ogrid[0:BIG_H, 0:BIG_W]
    rgb = np.empty((BIG_H, BIG_W, 3), dtype=np.uint8)
    rgb[..., 0] = (xx * 200 // BIG_W + 30).astype(np.uint8)
    rgb[..., 1] = (yy * 200 // BIG_H + 30).astype(np.uint8)
    rgb[..., 2] = ((xx + yy) * 150 // (BIG_W + BIG_H) + 60).astype(np.uint8)
    disc = (yy[:1800] - 900) ** 2 + (xx[:, :1800] - 900) ** 2 < 900**2
    rgb[1100:2900, 2100:3900][disc] = (200, 60, 40)
    noise = np.random.default_rng(0).integers(0, 12, (600, 800, 3), dtype=np.uint8)
    rgb += np.tile(noise, (10, 10, 1))
    return rgb


def test_a_patch_changes_exactly_its_rect(canvas: Canvas, loaded: np.ndarray) -> None:
    rect = [15, 4, 27, 11]
    send(canvas, patch_msg(canvas, rect), [memoryview(values(rect, 2))])
    expected = loaded.copy()
    expected[4:11, 15:27] = 2
    np.testing.assert_array_equal(canvas.mask_array(), expected)
    assert canvas.rejected == []


def test_a_patch_is_read_row_by_row(canvas: Canvas) -> None:
    rect = [0, 0, 3, 2]
    send(canvas, patch_msg(canvas, rect), [bytes([0, 1, 2, 2, 1, 0])])
    np.testing.assert_array_equal(canvas.mask_array()[:2, :3], [[0, 1, 2], [2, 1, 0]])


def test_a_patch_on_an_unpainted_image_leaves_the_rest_background() -> None:
    c = Canvas(classes=["bg", "cat"])
    c.load(np.zeros((H, W, 3), dtype=np.uint8), mode="mask")
    send(c, patch_msg(c, [38, 28, 40, 30]), [values([38, 28, 40, 30], 1)])
    mask = c.mask_array()
    assert mask[28:, 38:].tolist() == [[1, 1], [1, 1]]
    assert mask.sum() == 4


def test_a_zlib_patch_is_inflated_then_applied(canvas: Canvas, loaded: np.ndarray) -> None:
    rect = [0, 0, W, H]
    send(canvas, patch_msg(canvas, rect, encoding="zlib"), [zlib.compress(values(rect, 2))])
    assert (canvas.mask_array() == 2).all()


def test_an_undo_patch_puts_the_rect_back(canvas: Canvas, loaded: np.ndarray) -> None:
    rect = [10, 5, 30, 20]
    before = loaded[5:20, 10:30].tobytes()
    send(canvas, patch_msg(canvas, rect), [values(rect, 2)])
    send(canvas, patch_msg(canvas, rect), [before])
    np.testing.assert_array_equal(canvas.mask_array(), loaded)
    assert canvas.messages_received == 2


def test_a_patch_is_one_mask_edit_for_observers(canvas: Canvas) -> None:
    seen: list[str] = []
    canvas.on_edit(seen.append)
    send(canvas, patch_msg(canvas, [1, 1, 2, 2]), [b"\x02"])
    assert seen == ["mask"]
    assert canvas.received_by_kind == {"boxes": 0, "mask": 1}


RECT = [2, 3, 6, 5]  # 4 x 2 pixels
BAD_PATCHES = {
    "rect_missing": ({}, [values(RECT, 1)], r"rect must be a list of 4 ints \[x0, y0, x1, y1\]"),
    "rect_of_three": ({"rect": [1, 2, 3]}, [b"\x01"], "rect must be a list of 4 ints"),
    "float_corner": ({"rect": [2, 3, 6.5, 5]}, [b"\x01"], r"list of 4 ints .*got \[2, 3, 6.5, 5\]"),
    "bool_corner": ({"rect": [True, 3, 6, 5]}, [b"\x01"], "list of 4 ints"),
    "string_corner": ({"rect": ["2", 3, 6, 5]}, [b"\x01"], "list of 4 ints"),
    "empty_width": ({"rect": [4, 3, 4, 5]}, [b""], r"x0 < x1 and y0 < y1 \(not empty\)"),
    "reversed": ({"rect": [6, 5, 2, 3]}, [b"\x01"], "not empty"),
    "past_the_right_edge": (
        {"rect": [38, 0, 41, 1]},
        [b"\x01" * 3],
        r"inside the 40x30 image, got \[38, 0, 41, 1\]",
    ),
    "above_the_top": ({"rect": [0, -1, 1, 1]}, [b"\x01" * 2], "inside the 40x30 image"),
    "short_buffer": ({"rect": RECT}, [values(RECT, 1)[:-1]], r"4\*2=8 bytes for its rect, got 7"),
    "long_buffer": ({"rect": RECT}, [values(RECT, 1) + b"\x01"], "8 bytes for its rect, got 9"),
    "unknown_class": ({"rect": RECT}, [values(RECT, 3)], "mask_patch values must be < 3, got 3"),
    "no_buffer": ({"rect": RECT}, [], "mask_patch message must carry 1 buffer, got 0"),
    "two_buffers": ({"rect": RECT}, [values(RECT, 1)] * 2, "must carry 1 buffer, got 2"),
    "not_a_buffer": ({"rect": RECT}, [1.5], "mask_patch must be a byte buffer, got float"),
    "unknown_encoding": (
        {"rect": RECT, "encoding": "png"},
        [values(RECT, 1)],
        "encoding must be 'raw' or 'zlib', got 'png'",
    ),
    "not_zlib": ({"rect": RECT, "encoding": "zlib"}, [values(RECT, 1)], "not zlib data"),
    "zlib_too_long": (
        {"rect": RECT, "encoding": "zlib"},
        [zlib.compress(bytes(10**6))],
        "inflates to more than the 8 bytes of its rect",
    ),
    "zlib_cut_short": (
        {"rect": RECT, "encoding": "zlib"},
        [zlib.compress(values(RECT, 1))[:-4]],
        "cut short",
    ),
    "zlib_too_short": (
        {"rect": RECT, "encoding": "zlib"},
        [zlib.compress(b"\x01")],
        "8 bytes for its rect, got 1",
    ),
    "stale_image": ({"rect": RECT, "image_id": 0}, [values(RECT, 1)], "stale message"),
}


@pytest.mark.parametrize("case", sorted(BAD_PATCHES))
def test_a_bad_patch_is_refused_naming_the_problem_and_keeps_the_mask(
    canvas: Canvas, case: str
) -> None:
    extra, buffers, reason = BAD_PATCHES[case]
    before = canvas.mask
    content = {"kind": "mask_patch", "image_id": canvas.image_id, **extra}
    send(canvas, content, buffers)
    assert canvas.mask == before
    assert canvas.messages_received == 0
    assert len(canvas.rejected) == 1
    assert re.search(reason, canvas.rejected[0]), canvas.rejected[0]


def test_a_patch_outside_mask_mode_is_refused(canvas: Canvas) -> None:
    canvas.mode = "box"
    send(canvas, patch_msg(canvas, RECT), [values(RECT, 1)])
    assert canvas.rejected == [
        "a mask_patch message needs the canvas in 'mask' mode; it is in 'box'"
    ]


def test_a_mask_of_shapes_is_packed_as_its_runs() -> None:
    mask = np.zeros((H, W), np.uint8)
    mask[5:10, 20:30] = 2
    packed = compress_mask(mask.tobytes())
    runs = 1 + 2 * 5  # the background before, then per row the shape and the background after
    assert len(zlib.decompress(packed)) == 5 * runs
    assert expand_mask(packed, width=W, height=H) == mask.tobytes()


def test_a_speckled_mask_is_packed_whole_not_as_runs() -> None:
    mask = np.random.default_rng(0).integers(0, 3, (H, W), dtype=np.uint8)
    packed = compress_mask(mask.tobytes())
    assert len(zlib.decompress(packed)) == W * H
    assert expand_mask(packed, width=W, height=H) == mask.tobytes()


def test_a_mask_painted_everywhere_is_one_run() -> None:
    packed = compress_mask(bytes([1]) * (W * H))
    assert zlib.decompress(packed) == (W * H).to_bytes(4, "little") + b"\x01"


def test_the_loaded_mask_goes_to_the_browser_compressed(canvas: Canvas, loaded: np.ndarray) -> None:
    assert expand_mask(canvas.loaded_mask, width=W, height=H) == loaded.tobytes()


def test_an_all_background_mask_is_sent_empty(canvas: Canvas) -> None:
    canvas.load(np.zeros((H, W, 3), np.uint8), mask=np.zeros((H, W), np.uint8))
    assert canvas.loaded_mask == b""
    assert (canvas.mask_array() == 0).all()


def test_a_fetch_is_answered_with_the_patched_mask_compressed(
    canvas: Canvas, loaded: np.ndarray, outbox: list[tuple[Any, list[bytes]]]
) -> None:
    send(canvas, patch_msg(canvas, RECT), [values(RECT, 2)])
    send(canvas, {"kind": "fetch"}, [])
    ((content, (mask,)),) = outbox
    assert content["kind"] == "state"
    expected = loaded.copy()
    expected[3:5, 2:6] = 2
    assert expand_mask(mask, width=W, height=H) == expected.tobytes()


def test_a_small_image_is_sent_at_full_size(canvas: Canvas) -> None:
    assert Image.open(io.BytesIO(canvas.image)).size == (W, H)


def test_a_long_image_is_sent_shrunk_to_the_bound_and_keeps_its_size_in_pixels() -> None:
    c = Canvas(classes=["bg", "cat"])
    c.load(np.full((100, 2 * DISPLAY_MAX_SIDE + 10, 3), 90, np.uint8), mode="mask")
    shown = Image.open(io.BytesIO(c.image))
    assert max(shown.size) <= DISPLAY_MAX_SIDE
    assert shown.size == (-(-(2 * DISPLAY_MAX_SIDE + 10) // 3), -(-100 // 3))  # rounded up
    assert (c.width, c.height) == (2 * DISPLAY_MAX_SIDE + 10, 100)
    assert c.image_format == "jpeg"


def test_an_image_sent_ahead_is_the_same_display_copy_load_sends(
    canvas: Canvas, outbox: list[tuple[Any, list[bytes]]]
) -> None:
    long = np.full((100, DISPLAY_MAX_SIDE + 1, 3), 90, np.uint8)
    canvas.prefetch("long", long)
    ((content, (data,)),) = outbox
    assert (content["width"], content["height"]) == (DISPLAY_MAX_SIDE + 1, 100)
    assert max(Image.open(io.BytesIO(data)).size) <= DISPLAY_MAX_SIDE
    canvas.load(long)
    assert data == canvas.image
    canvas.load(long, key="long")
    assert (canvas.image, canvas.image_key) == (b"", "long")


def test_a_photo_turned_since_it_was_sent_ahead_is_sent_again_when_shown(canvas: Canvas) -> None:
    # The browser holds the copy sent ahead: shown for the turned photo, it would put what is
    # drawn on other pixels than those the orientation shown says
    before = np.zeros((H, H, 3), np.uint8)
    before[: H // 2, : H // 2] = 255
    canvas.prefetch("5", before, 1)
    canvas.load(np.rot90(before).copy(), key="5", orientation=6)
    assert canvas.image != b""
    assert canvas.orientation == 6


def test_an_image_sent_ahead_again_in_another_orientation_replaces_the_one_sent_before(
    canvas: Canvas, outbox: list[tuple[Any, list[bytes]]]
) -> None:
    before = np.zeros((H, H, 3), np.uint8)
    before[: H // 2, : H // 2] = 255
    canvas.prefetch("5", before, 1)
    canvas.prefetch("5", np.rot90(before).copy(), 6)
    assert [content["key"] for content, _ in outbox] == ["5", "5"]
    canvas.load(np.rot90(before).copy(), key="5", orientation=6)
    assert canvas.image == b""  # the browser has the copy sent last


def test_a_6000x8000_photo_is_sent_under_1_mb_with_its_mask_compressed(
    photo: np.ndarray,
) -> None:
    mask = np.zeros((BIG_H, BIG_W), dtype=np.uint8)
    mask[1000:3000, 2000:4000] = 1
    mask[4000:5500, 500:7500] = 2
    c = Canvas(classes=["bg", "cat", "dog"])
    c.load(photo, mode="mask", mask=mask)
    assert (c.width, c.height) == (BIG_W, BIG_H)
    assert len(c.image) < MB
    assert max(Image.open(io.BytesIO(c.image)).size) <= DISPLAY_MAX_SIDE
    assert len(c.loaded_mask) < MB
    assert expand_mask(c.loaded_mask, width=BIG_W, height=BIG_H) == mask.tobytes()


def test_a_patch_on_a_6000x8000_mask_lands_in_image_pixels() -> None:
    c = Canvas(classes=["bg", "cat"])
    c.load(np.zeros((BIG_H, BIG_W), np.uint8), mode="mask")
    rect = [7000, 5000, 7400, 5100]
    send(c, patch_msg(c, rect), [values(rect, 1)])
    mask = c.mask_array()
    assert mask[5000:5100, 7000:7400].all()
    assert int(mask.sum()) == 400 * 100


def test_the_display_copy_is_the_whole_image_box_filtered_without_seams() -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (301, DISPLAY_MAX_SIDE * 2 + 5, 3), dtype=np.uint8)  # factor 3
    data, fmt = encode_display(rgb, "mask")
    buf = io.BytesIO()
    Image.fromarray(rgb).reduce(3).save(buf, format="JPEG", quality=90)
    assert (fmt, data) == ("jpeg", buf.getvalue())


@pytest.mark.parametrize(
    ("value", "dtype", "reason"),
    [
        (3, np.uint8, "mask values must be < 3, got 3"),
        (3, np.int64, "mask values must be < 3, got 3"),
        (-1, np.int64, r"mask values must be class ids in \[0, 3\), got -1"),
        (257, np.int64, r"class ids in \[0, 3\), got 257"),  # not wrapped to class 1
    ],
)
def test_load_refuses_a_mask_value_that_names_no_class(
    canvas: Canvas, value: int, dtype: Any, reason: str
) -> None:
    mask = np.zeros((H, W), dtype=dtype)
    mask[2, 3] = value
    with pytest.raises(ValueError, match=reason):
        canvas.load(np.zeros((H, W, 3), np.uint8), mask=mask)


def void_bordered() -> np.ndarray:
    """Class 1 in a square with a void (255) border, as Pascal VOC's masks have."""
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[4:14, 4:14] = 255
    mask[6:12, 6:12] = 1
    return mask


def test_a_mask_with_ignore_pixels_goes_to_the_browser_with_them(canvas: Canvas) -> None:
    canvas.load(np.zeros((H, W, 3), np.uint8), mode="mask", mask=void_bordered())
    sent = expand_mask(canvas.loaded_mask, width=W, height=H)
    assert sent == void_bordered().tobytes()
    assert np.array_equal(canvas.mask_array(), void_bordered())


def test_a_patch_that_keeps_ignore_pixels_is_accepted(canvas: Canvas) -> None:
    canvas.load(np.zeros((H, W, 3), np.uint8), mode="mask", mask=void_bordered())
    rect = [4, 4, 14, 14]  # a stroke of class 2 over the square's middle, its border kept
    patch = void_bordered()[4:14, 4:14].copy()
    patch[8:10, 2:8] = 2
    send(canvas, patch_msg(canvas, rect), [patch.tobytes()])
    expected = void_bordered()
    expected[12:14, 6:12] = 2
    assert canvas.rejected == []
    assert np.array_equal(canvas.mask_array(), expected)
