"""The model's drafts in a real JupyterLab and Chromium: edited with the real mouse and keys, submitted.

notebooks/drafts.ipynb runs a detection loop whose detector proposes four fixed boxes on every
image and a segmentation loop whose segmenter finds bright colors; after a first round each panel
opens an image with the model's boxes as drafts, or its mask to paint over.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from . import harness
from .panel_driver import PanelDriver

pytestmark = pytest.mark.browser

SIZE = W, H = 160, 100  # the images of notebooks/drafts.ipynb
PRECISION = 0.1  # image pixels


@pytest.fixture(scope="module")
def page(lab: harness.LabServer, new_page: Any) -> Any:
    """The drafts notebook, opened and run once for this module."""
    page = new_page(height=1100)
    harness.open_notebook_in_workspace(page, lab, "drafts.ipynb", "drafts")
    for index in range(4):
        harness.run_cell(page, index)
    page.wait_for_selector(".alw-test-scored .alw-stage canvas")
    return page


def page_point(panel: PanelDriver, x: float, y: float) -> tuple[int, int]:
    """The whole page pixel nearest image point (x, y): the mouse lands exactly there."""
    px, py = panel.at(x, y)
    return round(px), round(py)


def test_drafts_accepted_moved_and_deleted_are_submitted_as_the_boxes_shown(page: Any) -> None:
    panel = PanelDriver(page, "detect", SIZE)
    shown = panel.ready()
    i = shown["current"]
    assert shown["boxes"] == []
    kept, moved, deleted, left = shown["drafts"]  # PROPOSED in the notebook, in its order

    # Accept: click a draft to select it, press A.
    page.mouse.click(*panel.at(30, 25))
    page.keyboard.press("a")
    state = panel.wait(lambda s: len(s["boxes"]) == 1)
    assert state["boxes"] == [{"xyxy": kept["xyxy"], "label": kept["label"]}]  # no confidence

    # Move: a click selects a draft, a drag on it then moves it (no need to accept it first);
    # the drag accepts it.
    mouse = page.mouse
    start = page_point(panel, 90, 25)
    end = page_point(panel, 90 + 7.3, 25 + 45)
    mouse.click(*start)
    mouse.move(*start)
    mouse.down()
    mouse.move(*end, steps=15)
    mouse.up()
    state = panel.wait(lambda s: len(s["boxes"]) == 2)
    scale = panel.scale()
    dx, dy = (end[0] - start[0]) / scale, (end[1] - start[1]) / scale
    x0, y0, x1, y1 = moved["xyxy"]
    assert state["boxes"][1]["label"] == moved["label"]
    assert state["boxes"][1]["xyxy"] == pytest.approx(
        [x0 + dx, y0 + dy, x1 + dx, y1 + dy], abs=PRECISION
    )
    assert state["drafts"] == [deleted, left]

    # Delete: click a draft to select it, press Delete.
    page.mouse.click(*panel.at(135, 25))
    page.keyboard.press("Delete")
    state = panel.wait(lambda s: len(s["drafts"]) == 1)
    assert state["drafts"] == [left]
    assert state["rejected"] == []
    # The last draft stays dashed and marked "?": the status line counts it apart from the boxes.
    assert "2 boxes, 1 draft " in panel.status()
    harness.screenshot(page, "drafts_before_submit", panel.root)

    # Enter with a draft still undecided stores the boxes drawn and accepted, not the draft,
    # and says it was dropped.
    at_submit = state["boxes"]
    page.keyboard.press("Enter")
    # The kernel handles widget messages beside the cell that reads its state: wait for the
    # notice too, said after the label is stored.
    state = panel.wait(lambda s: str(i) in s["labels"] and "dropped" in s["notice"])
    assert state["labels"][str(i)] == {
        "xyxy": [b["xyxy"] for b in at_submit],
        "labels": [b["label"] for b in at_submit],
    }
    assert state["error"] == ""
    assert state["current"] != i
    assert (
        f"image {i} stored what was drawn and accepted; 1 undecided draft dropped"
        in (state["notice"])
    )
    # The loop was told the four drafts shown: one accepted as is; the one moved off its
    # object, the one deleted and the one dropped count as deleted, the moved box as drawn
    # (as are the 8 boxes of images 0 and 1): 2 clicks saved, 3 spent.
    assert (
        "drafts saved 1 of 10 objects (1 click lost deleting wrong drafts)" in state["drafts_line"]
    )
    harness.screenshot(page, "drafts_after_submit", panel.root)


def test_strokes_over_the_models_mask_are_submitted_as_the_mask_shown(
    page: Any, lab: harness.LabServer
) -> None:
    panel = PanelDriver(page, "segment", SIZE)
    shown = panel.ready()
    i = shown["current"]
    page.keyboard.press("2")  # class "dog": digits count the paint classes, from class 1
    panel.drag((20, 70), (140, 70), steps=30)  # across the model's disc and the background
    panel.wait(lambda s: s["masks_received"] == 1)
    page.keyboard.press("e")  # the eraser
    panel.drag((125, 10), (125, 60), steps=15)  # across the model's bar
    state = panel.wait(lambda s: s["masks_received"] == 2)
    assert state["rejected"] == []
    harness.kernel_exec(page, "save_shown('segment')")
    predicted = np.load(lab.state_dir / "segment-predicted.npy")
    on_canvas = np.load(lab.state_dir / "segment-canvas.npy")
    harness.screenshot(page, "mask_draft_before_submit", panel.root)

    page.keyboard.press("Enter")
    panel.wait(lambda s: s["labels"].get(str(i)) == "mask")
    harness.kernel_exec(page, f"save_stored('segment', {i})")
    stored = np.load(lab.state_dir / "segment-stored.npy")

    np.testing.assert_array_equal(stored, on_canvas)
    assert (stored[68:73, 22:139] == 2).all()  # the stroke
    assert (predicted[12:59, 123:128] == 2).any()
    assert (stored[12:59, 123:128] == 0).all()  # the eraser's path
    yy, xx = np.mgrid[0:H, 0:W]
    stroke = (abs(yy + 0.5 - 70) <= 6) & (xx + 0.5 >= 14) & (xx + 0.5 <= 146)
    erased = (abs(xx + 0.5 - 125) <= 6) & (yy + 0.5 >= 4) & (yy + 0.5 <= 66)
    np.testing.assert_array_equal(stored[~(stroke | erased)], predicted[~(stroke | erased)])


def overlapping(a: list[float], b: list[float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def click_slider_at(page: Any, panel: PanelDriver, fraction: float) -> None:
    """Drag the draft threshold slider's handle to `fraction` of its track."""
    track = panel.root.locator(".alw-draft-threshold .noUi-target").bounding_box()
    handle = panel.root.locator(".alw-draft-threshold .noUi-handle").bounding_box()
    mouse = page.mouse
    mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    mouse.down()
    mouse.move(track["x"] + fraction * track["width"], track["y"] + track["height"] / 2, steps=10)
    mouse.up()


def test_the_slider_shows_drafts_with_their_confidence_in_labels_apart(page: Any) -> None:
    panel = PanelDriver(page, "scored", SIZE)
    state = panel.ready()
    # No submitted image has been compared with drafts: none is shown.
    assert state["threshold"] is None
    assert "no drafts yet" in state["drafts_line"]
    assert [label["text"] for label in panel.drawn_labels()] == []
    assert "4 hidden (no drafts yet)" in panel.status()

    click_slider_at(page, panel, 0.0)  # by hand: every draft
    state = panel.wait(lambda s: s["threshold"] is not None and s["threshold"] < 0.35)
    panel.wait_labels(4)
    labels = panel.drawn_labels()
    texts = [label["text"] for label in labels]
    assert texts == ["cat 0.92", "dog 0.81", "cat 0.64", "dog 0.35"]  # by confidence
    rects = [label["rect"] for label in labels]
    assert not any(overlapping(a, b) for k, a in enumerate(rects) for b in rects[k + 1 :])
    assert "set by hand" in state["drafts_line"]
    harness.screenshot(page, "drafts_all_shown", panel.root)

    # The slider at 0.7 hides the drafts below it.
    click_slider_at(page, panel, 0.7)
    state = panel.wait(lambda s: s["threshold"] is not None and 0.64 < s["threshold"] < 0.81)
    panel.wait_labels(2)
    assert [label["text"] for label in panel.drawn_labels()] == ["cat 0.92", "dog 0.81"]
    assert "2 hidden (below" in panel.status()
    harness.screenshot(page, "drafts_above_0.7", panel.root)

    # `,` lowers it by hand (the panel has the keyboard after a click on its header).
    panel.focus()
    for _ in range(2):
        page.keyboard.press(",")
    state = panel.wait(lambda s: s["threshold"] is not None and s["threshold"] <= 0.64)
    panel.wait_labels(3)


def test_shift_delete_rejects_every_draft(page: Any) -> None:
    panel = PanelDriver(page, "scored", SIZE)
    state = panel.ready()
    assert len(state["drafts"]) == 4
    page.mouse.click(*panel.at(155, 5))  # the canvas takes the keyboard (a click on no box)
    page.keyboard.press("Shift+Delete")
    state = panel.wait(lambda s: s["drafts"] == [])
    assert state["boxes"] == []
    assert state["rejected"] == []
    panel.wait_labels(0)
    harness.screenshot(page, "drafts_rejected", panel.root)


def accept_the_mask_draft(page: Any, lab: harness.LabServer, panel: PanelDriver) -> np.ndarray:
    """Press A on the segment panel's canvas; the model's mask it accepted."""
    harness.kernel_exec(page, "save_shown('segment')")
    predicted = np.load(lab.state_dir / "segment-predicted.npy")
    # The canvas takes the keyboard: a click with the eraser on the background changes nothing.
    harness.kernel_exec(page, "PANELS['segment'].canvas.tool = 'eraser'")
    page.mouse.click(*panel.at(2, 2))
    page.keyboard.press("a")
    panel.wait(lambda s: not s["mask_draft"])
    return predicted


def enter_stores(page: Any, lab: harness.LabServer, panel: PanelDriver, i: int) -> np.ndarray:
    """Press Enter on the segment panel; the mask it stored for image `i`."""
    panel.focus()
    page.keyboard.press("Enter")
    panel.wait(lambda s: s["labels"].get(str(i)) == "mask")
    harness.kernel_exec(page, f"save_stored('segment', {i})")
    return np.load(lab.state_dir / "segment-stored.npy")


def test_an_untouched_mask_draft_is_not_stored_by_enter_and_a_stores_it(
    page: Any, lab: harness.LabServer
) -> None:
    panel = PanelDriver(page, "segment", SIZE)
    state = panel.ready()
    i = state["current"]
    assert state["mask_draft"]
    assert "the model's mask is a draft" in panel.status()
    harness.screenshot(page, "mask_draft_untouched", panel.root)

    page.keyboard.press("Enter")
    state = panel.wait(lambda s: "is a draft, not stored" in s["error"])
    assert str(i) not in state["labels"]
    assert state["current"] == i

    predicted = accept_the_mask_draft(page, lab, panel)
    assert "is a draft" not in panel.status()
    harness.screenshot(page, "mask_draft_accepted", panel.root)
    np.testing.assert_array_equal(enter_stores(page, lab, panel, i), predicted)


def test_the_slider_hides_a_mask_drafts_regions_below_it_and_comma_shows_them_again(
    page: Any, lab: harness.LabServer
) -> None:
    panel = PanelDriver(page, "segment", SIZE)
    state = panel.ready()
    i = state["current"]
    assert state["mask_draft"]  # every region shown: the threshold is 0 by hand

    click_slider_at(page, panel, 0.9)  # above the segmenter's regions (confidence 0.8)
    state = panel.wait(lambda s: s["threshold"] > 0.8 and not s["mask_draft"])
    panel.wait_drawn(state["image_id"])
    harness.kernel_exec(page, "save_shown('segment')")
    assert not np.load(lab.state_dir / "segment-canvas.npy").any()
    assert state["current"] == i
    harness.screenshot(page, "mask_draft_hidden", panel.root)

    panel.focus()
    for _ in range(3):  # 0.05 a press: below 0.8 again
        page.keyboard.press(",")
    state = panel.wait(lambda s: s["threshold"] < 0.8 and s["mask_draft"])
    panel.wait_drawn(state["image_id"])
    harness.kernel_exec(page, "save_shown('segment')")
    np.testing.assert_array_equal(
        np.load(lab.state_dir / "segment-canvas.npy"),
        np.load(lab.state_dir / "segment-predicted.npy"),
    )
    harness.screenshot(page, "mask_draft_shown_again", panel.root)


def test_a_mask_draft_accepted_then_left_is_still_accepted_when_its_image_is_reopened(
    page: Any, lab: harness.LabServer
) -> None:
    panel = PanelDriver(page, "segment", SIZE)
    state = panel.ready()
    i = state["current"]
    assert state["mask_draft"]
    predicted = accept_the_mask_draft(page, lab, panel)

    panel.root.locator(".alw-queue img").first.click()  # another image, with its own draft
    state = panel.wait(lambda s: s["current"] != i and s["mask_draft"])
    panel.wait_drawn(state["image_id"])
    back = next(k for k, c in enumerate(panel.captions()) if c.startswith(f"#{i}\n"))
    panel.root.locator(".alw-queue img").nth(back).click()
    state = panel.wait(lambda s: s["current"] == i)
    panel.wait_drawn(state["image_id"])
    assert not state["mask_draft"]
    assert "an unsaved mask restored" in state["notice"]
    assert "is a draft" not in panel.status()
    harness.screenshot(page, "mask_draft_accepted_reopened", panel.root)
    np.testing.assert_array_equal(enter_stores(page, lab, panel, i), predicted)


def test_the_brush_on_a_4000x3000_photo_at_fit_zoom_is_as_wide_on_screen_as_its_size(
    page: Any, lab: harness.LabServer
) -> None:
    harness.run_cell(page, 4)
    size = (4000, 3000)
    panel = PanelDriver(page, "photo", size)
    state = panel.ready()
    scale = panel.scale()  # page pixels per image pixel: about 0.125
    assert scale < 0.2
    # The cursor circle shows the brush: 20 screen pixels across, wherever the pointer is.
    page.mouse.move(*panel.at(2000, 1500))
    assert "brush 20px on screen" in panel.status()
    harness.screenshot(page, "brush_on_a_photo", panel.root)
    panel.drag((1000, 1500), (3000, 1500), steps=20)
    panel.wait(lambda s: s["masks_received"] == 1)
    harness.kernel_exec(
        page, "np.save(STATE / 'photo-canvas.npy', PANELS['photo'].canvas.mask_array())"
    )
    painted = np.load(lab.state_dir / "photo-canvas.npy")
    rows = np.flatnonzero(painted[:, 2000])
    # 20 screen pixels are 20 / scale image pixels: about 160, where an image-pixel brush of
    # 20 would paint 20.
    assert abs(len(rows) - 20 / scale) <= 3
    assert state["rejected"] == []
