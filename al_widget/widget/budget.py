"""The labeling budget as the panel applies it: reached, or gone past on the labeler's word."""

from __future__ import annotations

from ..loop import ActiveLoop


class BudgetGate:
    """Says whether the loop's budget stops labeling: reached, and not chosen to be gone past.

    Once ``loop.budget`` labels are stored, submits and label keys are refused until the
    budget is raised or the labeler chooses to go past it (``go_past``).

    Thread safety: none of its own; its owner (the Panel) calls it under the panel's lock, which
    so guards ``past``.

    Parameters
    ----------
    loop : ActiveLoop
        The loop whose budget and labels are counted.
    """

    def __init__(self, loop: ActiveLoop) -> None:
        self.loop = loop
        self.past: int | None = None  # the budget the labeler chose to label past

    def reached(self) -> int | None:
        """The loop's budget when it is reached and the labeler has not chosen to go past it."""
        budget = self.loop.budget
        if budget is None or len(self.loop.dataset.labeled) < budget or self.past == budget:
            return None
        return int(budget)

    def go_past(self) -> int | None:
        """Go on labeling past the budget, if reached (it stays as it is); returns it, or None."""
        budget = self.reached()
        if budget is not None:
            self.past = budget
        return budget
