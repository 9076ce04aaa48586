"""Which learner a loop trains: the user's, checked against the task, or the task's default."""

from __future__ import annotations

from typing import Any

from .base import task_of

# The default learner of each task, by class name in this package (imported when needed), with
# the settings a loop's round uses: detection and segmentation warm-start, so a round trains at
# most 150 steps on top of the last (about 10 s at 128 px on 2 CPU cores) and the steps add up.
DEFAULTS = {"classify": "Classifier", "detect": "Detector", "segment": "Segmenter"}
ROUND_SETTINGS: dict[str, dict[str, Any]] = {
    "classify": {},
    "detect": {"min_steps": 60, "max_steps": 150},
    "segment": {"min_steps": 60, "max_steps": 150},
}


def resolve(learner: Any, task: str, n_classes: int, seed: int) -> Any:
    """`learner` when it is for `task`, a seeded default when it is None; else a ValueError.

    Parameters
    ----------
    learner : object or None
        The user's learner, or None for the task's default.
    task : {"classify", "detect", "segment"}
        The dataset's task.
    n_classes : int
        The dataset's number of classes, for the default.
    seed : int
        Seeds the default.
    """
    if learner is None:
        from .. import learners

        return getattr(learners, DEFAULTS[task])(n_classes, seed=seed, **ROUND_SETTINGS[task])
    if task_of(learner) != task:
        raise ValueError(
            f"{type(learner).__name__} is a learner for {task_of(learner)!r} but the dataset's "
            f"task is {task!r}; give a learner with task = {task!r} (see "
            "al_widget.learners.base), or leave learner=None for the default"
        )
    return learner
