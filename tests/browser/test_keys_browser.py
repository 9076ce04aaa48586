"""The key path in a real JupyterLab and Chromium: what a key labels, and what the panel shows.

notebooks/keys.ipynb holds the panels: ``twice`` (classify), ``detect_twice`` and
``segment_twice``, all with a 400 ms dwell (keys 140 ms apart stay well inside it however busy
the machine); ``fast`` (classify at the default dwell, a model trained: the picker shows its
class); ``reranked`` (classify; a new ranking putting another image first is published whenever a
key or click reaches the kernel, before the panel acts on it).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from al_widget.datasets import DIGIT_CLASSES

from . import harness
from .panel_driver import SETTLE, PanelDriver

pytestmark = pytest.mark.browser

DWELL_S = 0.4  # the dwell of the *_twice panels
HUMAN_S = 0.3  # a fast human's time per label

RECORD_FRAMES = """(root) => {
    // One record per frame the canvas draws (draw() sets these attributes inside the animation
    // frame; this observer runs right after it, before the frame is painted): which image, and
    // what the header, the picker and the queue strip show in that same frame.
    const stage = root.querySelector('.alw-stage');
    window.__frames = [];
    new MutationObserver(() => {
        const buttons = [...root.querySelectorAll('.alw-picker button')];
        window.__frames.push({
            t: performance.now(),
            key: stage.dataset.imageKey || '',
            loaded: stage.dataset.imageLoaded || '',
            header: root.querySelector('.alw-info-header').innerText,
            strip: root.querySelector('.alw-strip').dataset.indices || '',
            picker: buttons.findIndex((b) => b.classList.contains('mod-active')),
        });
    }).observe(stage, {attributes: true, attributeFilter: ['data-image-key', 'data-image-loaded']});
}"""

NOW_SHOWN = """(root) => {
    const buttons = [...root.querySelectorAll('.alw-picker button')];
    return {
        header: root.querySelector('.alw-info-header').innerText,
        strip: root.querySelector('.alw-strip').dataset.indices || '',
        picker: buttons.findIndex((b) => b.classList.contains('mod-active')),
    };
}"""


@pytest.fixture(scope="module")
def page(lab: harness.LabServer, new_page: Any) -> Any:
    """The keys notebook, opened and run once for this module."""
    page = new_page(height=1100)
    harness.open_notebook_in_workspace(page, lab, "keys.ipynb", "keys")
    for index in range(6):
        harness.run_cell(page, index, timeout=120)
    page.wait_for_selector(".alw-test-reranked .alw-stage canvas")
    return page


def settled(panel: PanelDriver, before: dict[str, Any], moved: int = 1) -> dict[str, Any]:
    """Wait until `moved` more images are labeled or skipped than in `before` and the panel shows
    another image; then let whatever else the browser sent reach the kernel."""
    done = len(before["labels"]) + len(before["skipped"]) + moved
    panel.wait(
        lambda s: len(s["labels"]) + len(s["skipped"]) >= done and s["current"] != before["current"]
    )
    time.sleep(SETTLE)
    return panel.info()


def ready(panel: PanelDriver, dwell: float) -> dict[str, Any]:
    """The panel focused, its image on screen for longer than the dwell, and the next one
    decoded in the browser (sent ahead right after the image)."""
    state = panel.ready()
    panel.root.locator(".alw-stage:not([data-ahead-ready=''])[data-ahead-ready]").wait_for()
    time.sleep(dwell + 0.1)
    return state


# -- 1. a key pressed twice labels once ----------------------------------------------------


@pytest.mark.parametrize("gap_ms", [0, 30, 80, 140])
@pytest.mark.parametrize(
    ("name", "key"),
    [("twice", "1"), ("segment_twice", "n"), ("detect_twice", "n"), ("twice", "s")],
    ids=["classify digit", "segment N", "detect N", "skip S"],
)
def test_a_labeling_key_pressed_twice_leaves_the_next_image_untouched(
    page: Any, name: str, key: str, gap_ms: int
) -> None:
    panel = PanelDriver(page, name)
    before = ready(panel, DWELL_S)
    page.keyboard.press(key)
    if gap_ms:
        page.wait_for_timeout(gap_ms)
    page.keyboard.press(key)
    after = settled(panel, before)
    first, second = before["current"], after["current"]
    acted = set(after["labels"]) | {str(i) for i in after["skipped"]}
    assert acted - ({str(i) for i in before["skipped"]} | set(before["labels"])) == {str(first)}
    assert str(second) not in after["labels"]
    assert second not in after["skipped"]
    assert after["error"] == ""


def test_a_key_dropped_by_the_dwell_shows_a_cue_and_is_counted(page: Any) -> None:
    panel = PanelDriver(page, "twice")
    before = ready(panel, DWELL_S)
    page.keyboard.press("2")
    page.keyboard.press("2")  # on the next image, painted at once: inside its dwell
    cue = panel.root.locator(".alw-dropped")
    cue.wait_for(state="visible")
    assert "2 ignored" in cue.inner_text()
    harness.screenshot(page, "keys_dropped_cue", panel.root)
    after = settled(panel, before)
    assert after["dropped_keys"] == before["dropped_keys"] + 1
    assert str(after["current"]) not in after["labels"]
    cue.wait_for(state="hidden")  # brief


def test_a_held_key_labels_one_image(page: Any) -> None:
    panel = PanelDriver(page, "twice")
    before = ready(panel, DWELL_S)
    page.keyboard.down("3")
    page.wait_for_timeout(int(DWELL_S * 1000) + 300)
    page.keyboard.down("3")  # held: the browser repeats the keydown, with `repeat` set
    page.keyboard.down("3")
    page.keyboard.up("3")
    after = settled(panel, before)
    assert len(after["labels"]) == len(before["labels"]) + 1
    assert str(after["current"]) not in after["labels"]


def test_a_double_click_on_skip_skips_one_image(page: Any) -> None:
    panel = PanelDriver(page, "twice")
    before = ready(panel, DWELL_S)
    panel.root.locator(".alw-act-skip").dblclick()
    after = settled(panel, before)
    assert after["skipped"] == sorted([*before["skipped"], before["current"]])
    assert after["current"] not in after["skipped"]


def test_a_fast_labeler_at_300_ms_per_label_stores_every_label(page: Any) -> None:
    panel = PanelDriver(page, "fast")
    before = ready(panel, 0.15)
    n = 20
    for k in range(n):
        page.keyboard.press(str(k % 10))
        page.wait_for_timeout(int(HUMAN_S * 1000))
    after = settled(panel, before, n)
    assert len(after["labels"]) == len(before["labels"]) + n
    assert after["dropped_keys"] == before["dropped_keys"]
    assert after["error"] == ""


def test_enter_on_an_unpainted_mask_never_shows_another_image(page: Any) -> None:
    """A mask submit of nothing painted is refused by the kernel: the browser does not show the
    next image early for it (and flash back to this one when the refusal comes)."""
    panel = PanelDriver(page, "segment_twice")
    before = ready(panel, DWELL_S)
    page.evaluate(RECORD_FRAMES, panel.root.element_handle())
    page.keyboard.press("Enter")
    after = panel.wait(lambda s: "nothing painted" in s["error"])
    time.sleep(SETTLE)
    harness.screenshot(page, "keys_enter_unpainted_mask", panel.root)
    frames = page.evaluate("window.__frames")
    assert {f["key"] for f in frames} <= {str(before["current"])}
    assert panel.stage.get_attribute("data-image-key") == str(before["current"])
    assert after["current"] == before["current"]
    assert str(before["current"]) not in after["labels"]


def test_enter_on_a_painted_mask_shows_the_next_image_before_the_kernel_answers(
    page: Any,
) -> None:
    panel = PanelDriver(page, "segment_twice")
    before = ready(panel, DWELL_S)
    panel.drag((20, 20), (60, 40))  # a brush stroke, sent before the key
    page.evaluate(RECORD_FRAMES, panel.root.element_handle())
    page.keyboard.press("Enter")
    after = settled(panel, before)
    shown_then = str(after["current"])
    frames = page.evaluate("window.__frames")
    first = next(f for f in frames if f["key"] == shown_then)
    assert first["loaded"] == f"early-{shown_then}"  # painted before the kernel answered
    assert after["labels"][str(before["current"])] == "Mask"


# -- 3b. the whole panel moves in one frame ------------------------------------------------


@pytest.mark.parametrize(
    "how", ["digit key", "Enter (the model's class)", "Submit button", "Skip button"]
)
def test_the_whole_panel_moves_in_the_frame_that_paints_the_next_image(page: Any, how: str) -> None:
    panel = PanelDriver(page, "fast")
    before = ready(panel, 0.15)
    page.evaluate(RECORD_FRAMES, panel.root.element_handle())
    if how == "digit key":
        page.keyboard.press("4")
    elif how.startswith("Enter"):
        assert before["picker_index"] is not None  # the model's class, shown by the picker
        page.keyboard.press("Enter")
    else:
        name = "submit" if how == "Submit button" else "skip"
        panel.root.locator(f".alw-act-{name}").click()
    after = settled(panel, before)
    shown_then = str(after["current"])
    frames = page.evaluate("window.__frames")
    first = next(f for f in frames if f["key"] == shown_then)
    assert first["loaded"] == f"early-{shown_then}"  # painted before the kernel answered
    now = panel.root.evaluate(NOW_SHOWN)
    assert f"image {shown_then} ·" in first["header"]
    assert first["header"] == now["header"]
    assert first["strip"] == now["strip"] == ",".join(str(i) for i in after["queue"])
    expected = -1 if after["picker_index"] is None else after["picker_index"]
    assert first["picker"] == now["picker"] == expected
    # Every frame from the key on shows an image: the one before, then the next one.
    assert [f["key"] for f in frames if not f["key"]] == []
    assert {f["key"] for f in frames} <= {str(before["current"]), shown_then}


# -- 2. a painted image stays ----------------------------------------------------------------


def test_an_image_painted_early_is_never_replaced_by_a_ranking_published_meanwhile(
    page: Any,
) -> None:
    panel = PanelDriver(page, "reranked")
    before = ready(panel, 0.15)
    page.evaluate(RECORD_FRAMES, panel.root.element_handle())
    n = 12
    for k in range(n):
        page.keyboard.press(str(k % 10))
        page.wait_for_timeout(int(HUMAN_S * 1000))
    after = settled(panel, before, n)
    frames = page.evaluate("window.__frames")
    painted: list[str] = []
    for f in frames:
        if f["key"] and (not painted or painted[-1] != f["key"]):
            painted.append(f["key"])
    labeled = set(after["labels"]) - set(before["labels"])
    assert len(labeled) == n
    # Frames are recorded from the first key on: each image painted was labeled in turn (none
    # was replaced before the labeler could answer it); the last one is the one shown now.
    assert len(painted) == n
    assert {str(before["current"]), *painted[:-1]} == labeled
    assert painted[-1] == str(after["current"])
    assert after["loaded"][-n:] == painted  # the kernel loaded each one painted early


# -- 3. what the picker highlights is what Enter stores ---------------------------------------

MISMATCH = """p = PANELS["fast"]
k = p._editor.picker_with(p.loop.describe(int(p.canvas.ahead_key)).predicted)
p.picker.index = None if k < 0 else k  # loading the next image changes nothing on the picker
forced = (k + 1) % len(p.picker.options)
p.canvas.ahead_picker = forced  # what the browser highlights with the next image, early
print(forced)"""


def test_the_picker_shows_the_kernel_s_class_for_an_image_painted_early(page: Any) -> None:
    # The browser highlights a class with the image it paints early that the kernel does not
    # give it (a ranking published after the browser had the class), and the kernel's picker
    # holds its class already, so it sends nothing when it loads the image.
    panel = PanelDriver(page, "fast")
    before = ready(panel, 0.15)
    forced = int(harness.kernel_exec(page, MISMATCH))
    page.keyboard.press("4")
    after = settled(panel, before)
    panel.wait_drawn(after["image_id"])
    held = -1 if after["picker_index"] is None else after["picker_index"]
    assert held != forced
    assert panel.root.evaluate(NOW_SHOWN)["picker"] == held
    harness.screenshot(page, "keys_picker_after_early_image", panel.root)
    if held >= 0:  # Enter stores the class highlighted
        page.keyboard.press("Enter")
        stored = panel.wait(lambda s: str(after["current"]) in s["labels"])
        assert stored["labels"][str(after["current"])] == DIGIT_CLASSES[held]


SLOW_ANSWER = """p = PANELS["fast"]
import time
p.__dict__.pop("_act_on_key", None)
act = p._act_on_key


def late(event):  # the answer to a key reaches the browser 0.8 s late (a slow network)
    with p.canvas.hold_sync(), p.picker.hold_sync():
        act(event)
        time.sleep(0.8)


p._act_on_key = late
held = p.picker.index
k = p._editor.picker_with(p.loop.describe(int(p.canvas.ahead_key)).predicted)
print(next(c for c in range(len(p.picker.options)) if c not in (held, k)))"""


def test_a_class_picked_on_an_image_painted_early_stays_highlighted(page: Any) -> None:
    # The labeler picks a class on the image painted early, before the kernel's answer to the
    # key arrives: the kernel, which loaded the image, takes the pick, and the picker goes on
    # highlighting it once the answer arrives, though the answer named the model's class.
    panel = PanelDriver(page, "fast")
    before = ready(panel, 0.15)
    pick = int(harness.kernel_exec(page, SLOW_ANSWER))
    try:
        page.keyboard.press("4")
        panel.root.locator(".alw-picker button").nth(pick).click()
        after = settled(panel, before)
        panel.wait_drawn(after["image_id"])
        time.sleep(SETTLE)
    finally:
        harness.kernel_exec(page, 'PANELS["fast"].__dict__.pop("_act_on_key", None)')
    held = panel.wait(lambda s: s["picker_index"] == pick)["picker_index"]
    assert panel.root.evaluate(NOW_SHOWN)["picker"] == held
    panel.focus()
    time.sleep(0.3)  # the dwell
    page.keyboard.press("Enter")  # stores the class highlighted
    stored = panel.wait(lambda s: str(after["current"]) in s["labels"])
    assert stored["labels"][str(after["current"])] == DIGIT_CLASSES[held]
