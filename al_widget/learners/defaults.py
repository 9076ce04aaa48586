"""Which learner a loop trains: the user's, checked against the task, or the task's default."""

from __future__ import annotations

import logging
from typing import Any

from .._images import ImageError
from .base import task_of

log = logging.getLogger("al_widget")

# The default learner of each task, by class name in this package (imported when needed), with
# the settings a loop's round uses: detection and segmentation warm-start, so a round trains at
# most 150 steps on top of the last (about 10 s at 128 px on 2 CPU cores) and the steps add up.
DEFAULTS = {
    "classify": "Classifier",
    "detect": "Detector",
    "segment": "Segmenter",
    "instances": "InstanceSegmenter",
}
ROUND_SETTINGS: dict[str, dict[str, Any]] = {
    "classify": {},
    "detect": {"min_steps": 60, "max_steps": 150},
    "segment": {"min_steps": 60, "max_steps": 150},
    "instances": {"min_steps": 60, "max_steps": 150},
}
SMALL_SIDE = 64  # classification images whose longer side is at most this keep the small CNN
PHOTO_BACKBONE = "resnet18"


def resolve(
    learner: Any,
    task: str,
    n_classes: int,
    seed: int,
    image_size: tuple[int, int] | None = None,
) -> Any:
    """`learner` when it is for `task`, a seeded default when it is None; else a ValueError.

    The default for classification is the small CNN (``Classifier``) for small images (longer
    side at most ``SMALL_SIDE`` pixels, or size unknown) and, for photos, an
    ``EmbeddingClassifier`` on a pretrained ``resnet18``: its ImageNet weights are fetched at the
    first round when they are not in torch's cache yet, and when that fails it goes on with
    random weights, with a warning. The choice is logged (INFO) once per loop.

    Parameters
    ----------
    learner : object or None
        The user's learner, or None for the task's default.
    task : {"classify", "detect", "segment", "instances"}
        The dataset's task.
    n_classes : int
        The dataset's number of classes, for the default.
    seed : int
        Seeds the default.
    image_size : (int, int), optional
        The (height, width) of the dataset's first image, which picks classification's default.
    """
    if learner is None:
        from .. import learners

        if task == "classify" and image_size is not None and max(image_size) > SMALL_SIDE:
            log.info(
                "al_widget: the images are photos (the first is %dx%d pixels), so the default "
                "learner is EmbeddingClassifier(backbone=%r) on its pretrained ImageNet weights "
                "(random weights if they cannot be fetched); pass learner= to choose another",
                image_size[1],
                image_size[0],
                PHOTO_BACKBONE,
            )
            return learners.EmbeddingClassifier(
                n_classes, backbone=PHOTO_BACKBONE, if_unavailable="random", seed=seed
            )
        return getattr(learners, DEFAULTS[task])(n_classes, seed=seed, **ROUND_SETTINGS[task])
    if task_of(learner) != task:
        raise ValueError(
            f"{type(learner).__name__} is a learner for {task_of(learner)!r} but the dataset's "
            f"task is {task!r}; give a learner with task = {task!r} (see "
            "al_widget.learners.base), or leave learner=None for the default"
        )
    return learner


def first_image_size(dataset: Any) -> tuple[int, int] | None:
    """The (height, width) of the dataset's first image; None when it is empty or unreadable.

    Parameters
    ----------
    dataset : Dataset
        The loop's dataset.
    """
    if not len(dataset):
        return None
    try:
        return tuple(dataset.image_size(0))  # type: ignore[return-value]
    except ImageError:
        return None
