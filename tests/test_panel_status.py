"""What the panel says, as pure functions of the loop's state (widget/status.py)."""

from __future__ import annotations

from al_widget.drafts import Savings
from al_widget.records import Criterion, RoundRecord
from al_widget.widget import image_notices, status, undo_notices


def record(round_: int, *, ok: bool = True, retrained: bool = True, metric=None, name=None):
    return RoundRecord(
        round=round_,
        model_version=round_,
        data_version=round_,
        n_labels=10 * round_,
        heuristic="margin",
        retrained=retrained,
        n_scored=100,
        train_seconds=0.1,
        score_seconds=0.1,
        metric=metric,
        metric_name=name,
        error=None if ok else "boom",
    )


def test_a_count_is_plural_unless_one():
    assert (status.count(1, "label"), status.count(1234, "label")) == ("1 label", "1,234 labels")


def test_the_status_line_counts_the_trainings_that_worked_and_the_failures():
    history = [record(1), record(2, ok=False), record(3, retrained=False)]
    line = status.status_line(history, labels=30, model_version=1, state="training", pending=0)
    assert line == "1 round done (1 failed) · 30 labels · model v1 · round 4 training"


def test_the_status_line_says_how_many_images_are_still_to_rank():
    line = status.status_line([], labels=1, model_version=0, state="idle", pending=2500)
    assert line == "0 rounds done · 1 label · model v0 · idle · 2,500 images still to rank"


def test_the_stop_line_names_the_budget_reached_before_the_criteria_met():
    criteria = [Criterion("budget", 5, 5)]
    line = status.stop_line(criteria, budget=5, stop_reason="budget reached")
    assert line.startswith("budget 5 / 5 (100%) · <b>the budget of 5 labels is reached")


def test_the_stop_line_is_empty_when_nothing_is_set_and_labeling_goes_on():
    assert status.stop_line([], budget=None, stop_reason=None) == ""


def test_the_budget_notice_is_empty_until_the_budget_is_reached():
    assert status.budget_notice(None) == ""
    assert status.budget_notice(1) == "The budget of 1 label is reached"


def test_the_header_escapes_why_the_image_is_queued():
    assert status.header(7, "a <b> reason") == "<b>image 7</b> · a &lt;b&gt; reason"


def test_nothing_left_names_the_unreadable_images_left_out():
    text = status.nothing_left("no unlabeled images left", unreadable=2)
    assert "no unlabeled images left; 2 unreadable images left out, see loop.broken" in text


def test_the_broken_line_names_three_images_and_counts_the_rest():
    broken = {i: f"image {i} is bad" for i in range(5)}
    line = status.broken_line(broken, [0, 1, 2, 3, 4])
    assert line.startswith("5 images could not be read and were left out of the queue: image 0")
    assert "image 2 is bad; and 2 more (loop.broken lists them all)" in line


def test_the_curve_waits_for_a_round_with_a_metric():
    assert "appears after the first rounds" in status.curve([record(1)])


def test_the_curve_names_the_latest_metric():
    svg = status.curve(
        [record(1, metric=0.5, name="accuracy"), record(2, metric=0.7, name="accuracy")]
    )
    assert "test accuracy" in svg


def test_the_undo_notice_says_what_came_back():
    assert undo_notices.undid("submit", 4, "2 boxes restored") == (
        "undid the submit of image 4: it is back to edit (2 boxes restored); Shift+Z redoes"
    )


def test_the_undo_notice_says_an_edit_since_an_earlier_undo_was_kept_and_offers_no_redo():
    assert undo_notices.undid("submit", 4, "1 unsaved box restored", kept=True) == (
        "undid the submit of image 4: it is back to edit with the edit made on it since an "
        "earlier undo, kept in place of the label undone (1 unsaved box restored)"
    )


def test_an_unregistered_function_is_offered_under_its_name():
    def mine(p):
        return p.mean(axis=2)[:, 0]

    shown, value = status.heuristic_options(mine, ["margin", "entropy"])
    assert shown == (("margin", "margin"), ("entropy", "entropy"), ("mine", mine))
    assert value is mine


def test_registered_names_are_offered_as_names():
    shown, value = status.heuristic_options("margin", ["margin", "entropy"])
    assert (shown, value) == (("margin", "entropy"), "margin")


def test_the_drafts_line_says_what_drafts_saved_and_the_calibrated_threshold():
    line = status.drafts_line(
        Savings(accepted=2, adjusted=1, deleted=1, drawn=3), "drafts from 0.62: why", None
    )
    assert "drafts saved 3 of 6 objects (4 clicks) · drafts from 0.62: why" in line


def test_the_drafts_line_says_a_threshold_set_by_hand_and_how_to_go_back():
    line = status.drafts_line(Savings(), "drafts from 0.62: why", 0.3)
    assert "drafts from 0.30, set by hand; the calibrated button goes back to: " in line
    assert "drafts from 0.62: why" in line


def test_the_dropped_notice_counts_the_undecided_drafts():
    assert "1 undecided draft dropped (not stored)" in image_notices.dropped_drafts(4, 1)
