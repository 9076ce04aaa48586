"""What the panel says: pure functions from the loop's state to its lines, in HTML or plain words.

Nothing here touches a widget or the loop; the panel (``widget/panel.py``) reads the loop and
shows what these return.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .. import heuristics
from .._svg import line_chart
from ..drafts import Savings
from ..records import Criterion, RoundRecord, semi_supervised_note

METRIC_NAMES = {"accuracy": "test accuracy", "agreement": "agreement with your recent labels"}
"""How the learning curve names a round's metric (``RoundRecord.metric_name``); others as named."""
FINISHED_HINT = "nothing left to label (see the line above the image)"
"""Why an action has no image to act on once the queue is empty."""
BROKEN_NAMED = 3
"""How many unreadable images the broken-images line names; the rest are counted."""


def count(n: int, thing: str) -> str:
    """``"1 label"``, ``"3 labels"``: `n` and `thing`, plural unless one.

    Parameters
    ----------
    n : int
        How many.
    thing : str
        The singular noun.
    """
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def budget_words(budget: int) -> str:
    """Why labeling stopped at `budget`, and the two ways on.

    Parameters
    ----------
    budget : int
        The loop's budget, reached.
    """
    return (
        f"the budget of {count(budget, 'label')} is reached: raise it (loop.budget = …) "
        "or click “Continue past the budget”"
    )


def budget_notice(budget: int | None) -> str:
    """What the canvas says over an image at the budget `budget` (None: not reached, "").

    Parameters
    ----------
    budget : int or None
        The budget reached, or None.
    """
    return "" if budget is None else f"The budget of {count(budget, 'label')} is reached"


def header(i: int, why: str) -> str:
    """The header line shown with image `i`, queued for the reason `why`.

    Parameters
    ----------
    i : int
        The dataset index shown.
    why : str
        Why it is in the queue (``Description.why``).
    """
    return f"<b>image {i}</b> · {html.escape(why)}"


def nothing_left(stop_reason: str | None, unreadable: int) -> str:
    """The header once nothing is left to label: why, and what to do next.

    Parameters
    ----------
    stop_reason : str or None
        ``ActiveLoop.stop_reason``.
    unreadable : int
        How many images were left out because they could not be read.
    """
    reason = html.escape(stop_reason or "no image left to show")
    if unreadable:
        reason += f"; {count(unreadable, 'unreadable image')} left out, see loop.broken"
    return (
        f"<b>Nothing left to label</b> ({reason}). Next: export the labels (on the right), "
        "add images, raise the budget (<code>loop.budget = …</code>) or the target, or "
        "look at <code>loop.history</code>; Z brings back the last image."
    )


def status_line(
    history: Sequence[RoundRecord], labels: int, model_version: int, state: str, pending: int
) -> str:
    """The status line: rounds done (and failed), labels, model version, what the loop does,
    and what the last round learned from the pool (semi-supervised learners).

    Parameters
    ----------
    history : sequence of RoundRecord
        ``ActiveLoop.history``.
    labels : int
        How many images are labeled.
    model_version : int
        ``ActiveLoop.model_version``.
    state : str
        ``ActiveLoop.state``, or "closed" once the loop is closed.
    pending : int
        How many images the ranking has still to score (a big pool is ranked part by part).
    """
    trained = sum(r.ok and r.retrained for r in history)
    failed = sum(not r.ok and r.error != "cancelled" for r in history)
    # Rounds done count the trainings that worked; the progress bar numbers every round.
    done = f"{count(trained, 'round')} done" + (f" ({failed} failed)" if failed else "")
    if state == "closed":
        doing = "the loop is closed: make a new ActiveLoop on the dataset to go on labeling"
    else:
        doing = state if state == "idle" else f"round {len(history) + 1} {state}"
    still = f" · {pending:,} images still to rank" if pending else ""
    semi = semi_supervised_note(history)  # pseudo-labels the last round trained on, if any
    still += f" · {html.escape(semi)}" if semi else ""
    return f"{done} · {count(labels, 'label')} · model v{model_version} · {doing}{still}"


def stop_line(criteria: Iterable[Criterion], budget: int | None, stop_reason: str | None) -> str:
    """Where the loop stands against each stopping criterion set, then why labeling stopped.

    Empty (and so hidden) when no criterion is set and labeling goes on.

    Parameters
    ----------
    criteria : iterable of Criterion
        ``ActiveLoop.criteria()``.
    budget : int or None
        The budget, when reached and not labeled past.
    stop_reason : str or None
        ``ActiveLoop.stop_reason``.
    """
    lines = [f"{c} ({c.fraction:.0%})" for c in criteria]
    if budget is not None:
        lines.append(f"<b>{html.escape(budget_words(budget))}</b>")
    elif stop_reason is not None:
        lines.append(f"<b>done: {html.escape(stop_reason)}</b>")
    return " · ".join(lines)


def curve(history: Sequence[RoundRecord]) -> str:
    """The learning curve of the rounds that trained (an SVG), or a line saying it comes later.

    Parameters
    ----------
    history : sequence of RoundRecord
        ``ActiveLoop.history``.
    """
    rounds = [r for r in history if r.ok and r.retrained and r.metric is not None]
    if not rounds:
        return "<i>the learning curve appears after the first rounds</i>"
    name = rounds[-1].metric_name
    label = METRIC_NAMES.get(name or "", name or "metric")
    xs = tuple(r.n_labels for r in rounds)
    ys = tuple(r.metric for r in rounds)
    return line_chart(
        {label: (xs, ys, None)}, x_label="labels", y_label=label, width=360, height=200
    )


def auto_chart(history: Sequence[RoundRecord]) -> str:
    """Heuristic "auto": each heuristic's weight per round (an SVG) and its gain per label now;
    empty when no round ranked with "auto".

    Parameters
    ----------
    history : sequence of RoundRecord
        ``ActiveLoop.history``.
    """
    chosen = [(r.n_labels, r.auto) for r in history if r.ok and r.auto is not None]
    if not chosen:
        return ""
    last = chosen[-1][1]
    assert last is not None
    arms = list(last.weights)
    xs = [n for n, _ in chosen]
    series = {
        a: (xs, [c.weights.get(a, float("nan")) for _, c in chosen if c is not None], None)
        for a in arms
    }
    gains = last.gain_per_label
    words = ", ".join(
        f"{html.escape(a)} {'n/a' if gains.get(a) is None else f'{gains[a]:+.4f}'}" for a in arms
    )
    chart = line_chart(
        series,
        x_label="labels",
        y_label="weight in auto",
        width=360,
        height=160,
        y_range=(0.0, 1.0),
    )
    return (
        f"{chart}<div class='alw-auto-gain' style='font-size:11px;color:#555'>"
        f"estimated {html.escape(last.quality)} gain per label: {words}</div>"
    )


def broken_line(broken: Mapping[int, str], new: Sequence[int]) -> str:
    """Says which images could not be read since the last time: how many, the first ones.

    Parameters
    ----------
    broken : mapping
        ``ActiveLoop.broken``: each unreadable index with its reason.
    new : sequence of int
        The indices not named before, in `broken`.
    """
    first = "; ".join(broken[i] for i in new[:BROKEN_NAMED])
    more = f"; and {len(new) - BROKEN_NAMED:,} more" if len(new) > BROKEN_NAMED else ""
    return (
        f"{count(len(new), 'image')} could not be read and "
        f"{'was' if len(new) == 1 else 'were'} left out of the queue: {first}{more} "
        "(loop.broken lists them all)"
    )


def round_failed(record: RoundRecord) -> str:
    """The error line of a failed round.

    Parameters
    ----------
    record : RoundRecord
        The failed round's record.
    """
    return f"round {record.round} failed: {record.error} (labels are kept; labeling goes on)"


def keyless_classes(names: Sequence[str]) -> str:
    """The notice naming the classes named as a command key (``keys.named_class_keys``): the
    key keeps its command, and the class is clicked or picked by its digit; "" for none.

    Parameters
    ----------
    names : sequence of str
        The classes without their key.
    """
    if not names:
        return ""
    listed = ", ".join(repr(n) for n in names)
    one = len(names) == 1
    return (
        f"class{'' if one else 'es'} {listed} {'is' if one else 'are'} named as a key of the "
        f"panel, which keeps its command: click {'it' if one else 'them'} in the class buttons "
        f"(or press {'its' if one else 'their'} digit)"
    )


def drafts_line(savings: Savings, reason: str, manual: float | None) -> str:
    """The drafts line: what drafts saved so far and the threshold they are shown from, why.

    Parameters
    ----------
    savings : Savings
        ``loop.draft_savings``.
    reason : str
        ``loop.draft_reason``: the calibrated threshold and why.
    manual : float or None
        The threshold set by hand for the session, or None (the calibrated one is used).
    """
    clicks = savings.clicks
    net = (
        f"{count(clicks, 'click')}"
        if clicks >= 0
        else f"{count(-clicks, 'click')} lost deleting wrong drafts"
    )
    saved = f"drafts saved {savings.saved:,} of {count(savings.objects, 'object')} ({net})"
    if manual is None:
        why = reason
    else:
        why = f"drafts from {manual:.2f}, set by hand; the calibrated button goes back to: {reason}"
    style = "font-size:12px;color:#555;line-height:1.4;display:inline-block"
    return f"<span style='{style}'>{html.escape(f'{saved} · {why}')}</span>"


def notice_html(message: str) -> str:
    """A notice (not an error) in the panel's notice colour; "" for none.

    Parameters
    ----------
    message : str
        Plain words.
    """
    if not message:
        return ""
    return f"<span class='alw-notice' style='color:#05a'>{html.escape(message)}</span>"


def error_html(message: str) -> str:
    """An error line in red; "" for none.

    Parameters
    ----------
    message : str
        Plain words.
    """
    return f"<span style='color:#b00'>{html.escape(message)}</span>" if message else ""


def heuristic_options(
    chosen: str | heuristics.Heuristic, usable: Sequence[str]
) -> tuple[tuple[Any, ...], Any]:
    """The heuristic picker's options and value: the `usable` registered heuristics, and the
    loop's own (`chosen`), offered under its name when it is a function of the user's that is
    not registered. The options are names when each value is its own label, else (label,
    value) pairs.

    Parameters
    ----------
    chosen : str or callable
        ``ActiveLoop.heuristic``.
    usable : sequence of str
        The registered names that work for the loop (``selectors.usable_names``).
    """
    name = heuristics.name_of(chosen)
    options: list[tuple[str, Any]] = [(n, n) for n in usable]
    registered = name in heuristics.names() and (
        isinstance(chosen, str) or heuristics.get(name) is chosen
    )
    value: Any = name if registered or isinstance(chosen, str) else chosen
    if all(v is not value and v != value for _, v in options):
        label = name if all(n != name for n, _ in options) else f"{name} (your function)"
        options.append((label, value))
    plain = all(label == v for label, v in options)
    return (tuple(n for n, _ in options) if plain else tuple(options)), value
