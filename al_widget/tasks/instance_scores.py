"""How uncertain an image's objects are, after MaskAL (Blok et al. 2022), and in words.

Each object found by the deterministic pass has, from I MC dropout passes, I class
distributions over the C classes and the background and I masks. Three certainties in [0, 1]:

- **semantic**: 1 minus the heuristic's score of its class probabilities (renormalised over the
  C classes, the background left out), scaled to [0, 1] by the heuristic's score of uniform
  probabilities (margin, entropy, least confidence; a heuristic scoring uniform probabilities 0,
  such as bald, is clipped to [0, 1] as it is);
- **occurrence**: how surely and consistently the passes find it: the mean over the passes of
  its probability of being an object, ``1 - p_background`` (an object found in every pass with
  0.9 has 0.9; one found in half the passes, background in the others, about 0.5);
- **spatial**: the mean IoU of its masks with their pixelwise majority, each pass weighted by
  how probably it finds the object.

An object's uncertainty is 1 minus their product. Soft occurrence rather than MaskAL's count of
passes above a threshold keeps weak detections apart: counted, every object below the threshold
in all passes was equally uncertain (1), and images tied at the top of the ranking. An image where nothing is found is the
background alone, and as uncertain as can be (1): the model may be missing every object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import heuristics

FOUND_AT = 0.5  # an object is found in a pass when it is at least this probably not background
_NAMED = 3  # the objects `explain` names


@dataclass(frozen=True)
class ObjectUncertainty:
    """Per object (K,): its semantic, spatial and occurrence uncertainty and their combination,
    each in [0, 1], higher = more uncertain."""

    semantic: np.ndarray
    spatial: np.ndarray
    occurrence: np.ndarray
    combined: np.ndarray
    passes_found: np.ndarray  # (K,) int: the passes in which it is more probably an object

    def __len__(self) -> int:
        return len(self.combined)


def semantic_uncertainty(probs: np.ndarray, heuristic: Any) -> np.ndarray:
    """(K,) the heuristic's score of each object's class probabilities, scaled to [0, 1].

    Parameters
    ----------
    probs : numpy.ndarray
        (K, C + 1, I) class probabilities per object and pass, the background last.
    heuristic : str or callable
        The heuristic (see `al_widget.heuristics`).
    """
    k, columns, samples = probs.shape
    if k == 0 or columns < 3:  # one class: nothing to confuse it with
        return np.zeros(k)
    classes = probs[:, :-1]
    classes = classes / np.maximum(classes.sum(axis=1, keepdims=True), 1e-12)
    scores = heuristics.apply(heuristic, classes)
    uniform = heuristics.apply(heuristic, np.full((1, columns - 1, samples), 1 / (columns - 1)))
    scale = float(uniform[0]) if uniform[0] > 1e-12 else 1.0
    return np.clip(scores / scale, 0.0, 1.0)  # type: ignore[no-any-return]


def found_in(probs: np.ndarray, found_at: float = FOUND_AT) -> np.ndarray:
    """(K, I) whether each pass finds each object: ``1 - p_background >= found_at``."""
    return 1.0 - probs[:, -1, :] >= found_at  # type: ignore[no-any-return]


def spatial_certainty(mask_samples: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(K,) the weighted mean IoU of each object's masks with their weighted pixelwise majority.

    Parameters
    ----------
    mask_samples : numpy.ndarray
        (K, I, ...) bool, each pass's mask of each object, on a grid shared by its passes.
    weights : numpy.ndarray
        (K, I) non-negative, how much each pass counts (its probability of finding the object);
        equal weights where an object's sum to 0.
    """
    k, samples = mask_samples.shape[:2]
    out = np.zeros(k)
    if not k:
        return out
    flat = mask_samples.reshape(k, samples, -1).astype(bool)
    for j in range(k):
        w = weights[j] if weights[j].sum() > 1e-12 else np.ones(samples)
        w = w / w.sum()
        majority = w @ flat[j] >= 0.5
        union = (flat[j] | majority).sum(axis=1)
        inter = (flat[j] & majority).sum(axis=1)
        out[j] = float(w @ np.where(union > 0, inter / np.maximum(union, 1), 1.0))
    return out


def object_uncertainty(
    probs: np.ndarray, mask_samples: np.ndarray, heuristic: Any
) -> ObjectUncertainty:
    """Each object's semantic, spatial, occurrence and combined uncertainty (module docstring).

    Parameters
    ----------
    probs : numpy.ndarray
        (K, C + 1, I) class probabilities per object and MC pass, the background last.
    mask_samples : numpy.ndarray
        (K, I, ...) bool masks per object and pass, on a grid shared by one object's passes.
    heuristic : str or callable
        Scores the class probabilities (the semantic part).
    """
    probs = np.asarray(probs, dtype=np.float64)
    mask_samples = np.asarray(mask_samples)
    if probs.ndim != 3 or mask_samples.shape[:2] != (probs.shape[0], probs.shape[2]):
        raise ValueError(
            f"need probs (K, C + 1, I) and mask_samples (K, I, ...) of the same K and I, got "
            f"{probs.shape} and {mask_samples.shape}"
        )
    objectness = np.clip(1.0 - probs[:, -1, :], 0.0, 1.0)  # (K, I)
    semantic = semantic_uncertainty(probs, heuristic)
    occurrence = 1.0 - objectness.mean(axis=1) if len(probs) else np.zeros(0)
    spatial = 1.0 - spatial_certainty(mask_samples, objectness)
    combined = 1.0 - (1.0 - semantic) * (1.0 - spatial) * (1.0 - occurrence)
    found = found_in(probs).sum(axis=1) if len(probs) else np.zeros(0, np.int64)
    return ObjectUncertainty(semantic, spatial, occurrence, combined, found)


def image_score(objects: ObjectUncertainty, how: Any) -> float:
    """One image's uncertainty: its objects' combined uncertainties reduced by `how`
    ('max', 'mean', 'top(q)'... see `heuristics.reduction`); 1.0 when nothing was found."""
    if not len(objects):
        return 1.0
    return float(heuristics.reduction(how)(objects.combined))


def explain(objects: ObjectUncertainty, classes: list[str], samples: int) -> str:
    """Which objects make an image uncertain, most uncertain first, in words.

    Parameters
    ----------
    objects : ObjectUncertainty
        The image's objects, in the order of its draft.
    classes : list of str
        The class name of each object.
    samples : int
        The MC passes behind the figures.
    """
    if not len(objects):
        return "no object found: the model may be missing every object in it"
    order = np.argsort(-objects.combined, kind="stable")[:_NAMED]
    parts = []
    for j in order.tolist():
        parts.append(
            f"object {j} ({classes[j]}) {objects.combined[j]:.2f}: class "
            f"{objects.semantic[j]:.2f}, mask {objects.spatial[j]:.2f}, occurrence "
            f"{objects.occurrence[j]:.2f} (found in {objects.passes_found[j]} of {samples} passes)"
        )
    more = len(objects) - len(order)
    tail = f"; {more} more object{'s' if more > 1 else ''}" if more else ""
    return "most uncertain: " + "; ".join(parts) + tail
