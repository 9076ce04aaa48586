"""Models behind the Learner protocol; `Classifier` is the default for classification (and
`EmbeddingClassifier` for photos), `Detector` for detection, `Segmenter` for segmentation,
`InstanceSegmenter` for instance segmentation."""

from ._weights import WeightsUnavailable
from .base import Cancelled, EmbeddingLearner, Learner, ParamsMixin, clone
from .classifier import Classifier
from .detector import Detector
from .embedding import EmbeddingClassifier
from .instance import InstanceSegmenter
from .segmenter import Segmenter

__all__ = [
    "Cancelled",
    "Classifier",
    "Detector",
    "EmbeddingClassifier",
    "EmbeddingLearner",
    "InstanceSegmenter",
    "Learner",
    "ParamsMixin",
    "Segmenter",
    "WeightsUnavailable",
    "clone",
]
