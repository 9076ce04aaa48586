"""How far a model agreed with a label the labeler stored: the loop's metric without an eval_set."""

from __future__ import annotations

from collections.abc import Sequence

from . import metrics
from .annotations import Annotation, Boxes, Label, Mask
from .instances import Instances
from .ranking import Ranking


def agreement(ranking: Ranking, i: int, stored: Annotation, classes: Sequence[str]) -> float | None:
    """How far the model behind `ranking` agreed with the label `stored` on image `i`, in [0, 1].

    A class: 1 when it is the class predicted, else 0. Boxes: their F1 against the model's
    boxes (``metrics.box_f1``, IoU >= 0.5, same class). A mask: the mean IoU of the model's
    mask with it over every pixel it labels (``metrics.mean_iou``). Objects: their F1 against
    the model's objects (``metrics.matched_f1``, mask IoU >= 0.5, same class). None when the
    model offered nothing for image `i`.
    """
    predicted = ranking.predicted_of(i)
    if predicted is not None and isinstance(stored, Label):
        return float(predicted == stored.class_id(classes))
    draft = ranking.drafts.get(i)
    if isinstance(draft, Boxes) and isinstance(stored, Boxes):
        return metrics.box_f1(
            draft.xyxy, draft.class_ids(classes), stored.xyxy, stored.class_ids(classes)
        )
    if (
        isinstance(draft, Mask)
        and isinstance(stored, Mask)
        and draft.class_map.shape == stored.class_map.shape
    ):
        return metrics.mean_iou(draft.class_map, stored.class_map, len(classes))
    if isinstance(draft, Instances) and isinstance(stored, Instances) and draft.size == stored.size:
        return metrics.matched_f1(
            draft.ious(stored), draft.class_ids(classes), stored.class_ids(classes)
        )
    return None
