"""The tasks a Dataset can be of, and the annotation type a dataset of each task holds; below
``dataset`` and ``_restore``, which both check a task."""

from __future__ import annotations

from . import annotations as ann

# the annotation type a dataset of each task holds (tasks.BEHAVIOURS maps the same names to how
# rounds treat them)
ANNOTATION_TYPES: dict[str, type[ann.Annotation]] = {
    "classify": ann.Label,
    "detect": ann.Boxes,
    "segment": ann.Mask,
    "instances": ann.Instances,
}


def check_task(task: object) -> str:
    """`task` if it names a task (a key of ``ANNOTATION_TYPES``); else refuse it, naming it and
    the tasks there are.

    Parameters
    ----------
    task : object
        What was given as a task (a journal's header may hold anything).
    """
    if not isinstance(task, str) or task not in ANNOTATION_TYPES:
        raise ValueError(f"unknown task {task!r:.80}; choose one of {sorted(ANNOTATION_TYPES)}")
    return task
