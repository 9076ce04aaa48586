"""Which learner a loop trains: the user's, checked against the task, or the task's default."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .base import check_learner, task_of

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
# Images whose longer side is above this are photos, which get a pretrained backbone by default:
# the small CNN works at 64 px and the tiny FCOS at 160 px, so larger images are scaled down and
# lose what only a pretrained trunk would see; masks take detection's bound, the size the frozen
# segmenter works at (FROZEN_SEGMENTER_SIZE).
PHOTO_SIDE = {"classify": 64, "detect": 160, "segment": 160}
PHOTO_BACKBONE = "resnet18"
FROZEN_MODEL = "frozen_" + PHOTO_BACKBONE
FROZEN_SEGMENTER_SIZE = 160  # the frozen trunk works at stride 16: 10x10 features at 160 px
FIRST_TRIED = 16  # images tried for the size that tells photos (unreadable ones passed over)


def resolve(
    learner: Any,
    task: str,
    n_classes: int,
    seed: int,
    image_size: tuple[int, int] | None = None,
) -> Any:
    """`learner` when it is for `task`, a seeded default when it is None; else a ValueError.

    Small images (see `is_photo`) get a model trained from scratch: the small CNN
    (``Classifier``), the tiny FCOS (``Detector``), the small segmenter (``Segmenter``) or
    ``InstanceSegmenter``. Photos get a pretrained ``resnet18``: an ``EmbeddingClassifier`` on
    it for classes, and for boxes and masks a ``Detector`` or ``Segmenter`` with a light head
    retrained each round on the frozen backbone (``model="frozen_resnet18"``), whose features
    are cached. Its ImageNet weights are fetched at the first round when they are not in torch's
    cache yet; when that fails it goes on with random weights, with a warning. The choice is
    logged (INFO) once per loop.

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
        The (height, width) of the dataset's first image, which tells photos from small images.
    """
    if learner is None:
        from .. import learners

        if not is_photo(task, image_size):
            return getattr(learners, DEFAULTS[task])(n_classes, seed=seed, **ROUND_SETTINGS[task])
        assert image_size is not None
        name = "EmbeddingClassifier" if task == "classify" else DEFAULTS[task]
        log.info(
            "al_widget: the images are photos (the first is %dx%d pixels), so the default "
            "learner is %s on a pretrained %s backbone with its ImageNet weights (random weights, "
            "with a warning, if they cannot be fetched); pass learner= to choose another",
            image_size[1],
            image_size[0],
            name,
            PHOTO_BACKBONE,
        )
        if task == "classify":
            return learners.EmbeddingClassifier(
                n_classes, backbone=PHOTO_BACKBONE, if_unavailable="random", seed=seed
            )
        sizes = {"input_size": FROZEN_SEGMENTER_SIZE} if task == "segment" else {}
        return getattr(learners, DEFAULTS[task])(
            n_classes,
            model=FROZEN_MODEL,
            weights="DEFAULT",
            seed=seed,
            **sizes,
            **ROUND_SETTINGS[task],
        )
    check_learner(learner, task)
    if task_of(learner) != task:
        raise ValueError(
            f"{type(learner).__name__} is a learner for {task_of(learner)!r} but the dataset's "
            f"task is {task!r}; give a learner with task = {task!r} (see "
            "al_widget.learners.base), or leave learner=None for the default"
        )
    return learner


def is_photo(task: str, image_size: tuple[int, int] | None) -> bool:
    """Whether images of `image_size` are photos, for `task`'s default learner.

    Parameters
    ----------
    task : str
        The dataset's task; instance segmentation has no photo default (never a photo).
    image_size : (int, int) or None
        The (height, width) of the dataset's first image; None (unknown) is not a photo.
    """
    side = PHOTO_SIDE.get(task)
    return side is not None and image_size is not None and max(image_size) > side


def first_image_size(dataset: Any) -> tuple[int, int] | None:
    """The (height, width) of the dataset's first readable image among its first `FIRST_TRIED`;
    None when it is empty or none of them can be read.

    Parameters
    ----------
    dataset : Dataset
        The loop's dataset.
    """
    return dataset.readable_size(np.arange(min(len(dataset), FIRST_TRIED)))  # type: ignore[no-any-return]
