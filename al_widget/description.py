"""What the panel shows about one image (``Description``), and why it is queued, in words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .annotations import Annotation
from .cold_start import TYPICAL
from .ranking import Ranking


@dataclass(frozen=True)
class Description:
    """What the panel shows about one image: its label, its score and rank, and why it is queued."""

    index: int
    labeled: bool
    annotation: Annotation | None
    score: float | None
    rank: int | None
    n_ranked: int
    predicted: int | None
    model_version: int
    heuristic: str
    why: str
    arm: str | None = None  # heuristic "auto": the heuristic that drew this query


def _rank_by_score(scores: np.ndarray, position: int) -> int:
    """The rank (1 = the highest) of ``scores[position]`` among `scores`, ties in queue order.

    Where the queue follows the scores (a greedy ranking) it is ``position + 1``; where
    something else leads it (the draws of "auto", a selector's batch) or orders it (a
    temperature), it is the rank the score itself earns.
    """
    score = scores[position]
    return int(np.count_nonzero(scores > score) + np.count_nonzero(scores[:position] == score)) + 1


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def describe(
    i: int,
    annotation: Annotation | None,
    ranking: Ranking,
    *,
    skipped: bool,
    broken: str | None,
    front: bool,
) -> Description:
    """What is known about image `i` under `ranking`, with why it is in the queue in words.

    Parameters
    ----------
    i : int
        A dataset index, checked.
    annotation : Annotation or None
        The label stored for image `i` (None: none).
    ranking : Ranking
        The ranking the image is described under.
    skipped : bool
        Whether the labeler skipped image `i`.
    broken : str or None
        Why image `i` could not be read (None: it could).
    front : bool
        Whether an undo brought image `i` back to the head of the queue.
    """
    position = ranking.position_of(i)
    score = None if position is None else float(ranking.scores[position])
    version = ranking.model_version
    if broken is not None:
        why = f"left out: the image could not be read ({broken})"
    elif annotation is not None:
        why = "already labeled"
    elif skipped:
        why = "skipped"
    elif front:
        why = "brought back by undo"
    elif version == 0 and ranking.heuristic == TYPICAL:
        why = "typical of its part of the pool: there is no model yet (TypiClust start)"
    elif version == 0:
        why = "picked at random: there is no model yet"
    elif position is None:
        why = f"not scored yet: model v{version} scored {len(ranking):,} other images"
        if ranking.pending:
            why += f" so far; {ranking.pending:,} still to score"
    elif ranking.drawn is not None and i in ranking.drawn.picks:
        pick = ranking.drawn.picks[i]
        k = ranking.drawn.order.index(i) + 1
        weights = ", ".join(f"{a} {w:.2f}" for a, w in ranking.drawn.weights.items())
        if pick.arm_probability is None:  # each query drew its own heuristic
            what = "random pick" if pick.arm == "random" else "top remaining choice"
            chance = f"chance {pick.probability:.3g}"
        else:  # the round follows one heuristic, drawn with chance arm_probability
            what = "random pick" if pick.arm == "random" else f"choice {k}"
            chance = f"the round's heuristic, drawn with chance {pick.arm_probability:.2f}"
        why = (
            f"query {k} of {len(ranking.drawn.order)} auto drew from the {len(ranking):,} "
            f"images model v{version} scored: {pick.arm}'s {what} ({chance}; weights {weights})"
        )
    else:
        so_far, to_go = "", ""
        scored_by = ranking.heuristic if ranking.drawn is None else ranking.drawn.scored_by
        if ranking.pending:
            so_far, to_go = " so far", f"; {ranking.pending:,} still to score"
        why = (
            f"the {_ordinal(_rank_by_score(ranking.scores, position))} most uncertain of "
            f"{len(ranking):,} images "
            f"model v{version} scored{so_far} ({scored_by} {score:.3f}{to_go})"
        )
        if i in ranking.reasons:  # instance segmentation: the objects behind the score
            why += f"; {ranking.reasons[i]}"
    return Description(
        index=i,
        labeled=annotation is not None,
        annotation=annotation,
        score=score,
        rank=position,
        n_ranked=len(ranking),
        predicted=ranking.predicted_of(i),
        model_version=version,
        heuristic=ranking.heuristic,
        why=why,
        arm=None if ranking.drawn is None else getattr(ranking.drawn.picks.get(i), "arm", None),
    )
