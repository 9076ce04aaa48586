"""What differs between classification, detection, segmentation and instance segmentation in a round: targets, scoring, drafts, metric."""

from __future__ import annotations

from .base import Measured, Scored, Task
from .classify import Classify
from .detect import Detect
from .instances import InstanceSegment
from .segment import Segment

BEHAVIOURS: dict[str, Task] = {
    "classify": Classify(),
    "detect": Detect(),
    "segment": Segment(),
    "instances": InstanceSegment(),
}

__all__ = ["BEHAVIOURS", "Measured", "Scored", "Task", "for_dataset"]


def for_dataset(task: str) -> Task:
    """The task behaviour of a dataset's task name."""
    return BEHAVIOURS[task]
