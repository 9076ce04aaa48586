"""Models behind the Learner protocol; `Classifier` is the default for classification (and
`EmbeddingClassifier` for photos), `Detector` for detection, `Segmenter` for segmentation."""

from ._weights import WeightsUnavailable
from .base import Cancelled, EmbeddingLearner, Learner, ParamsMixin, clone
from .classifier import Classifier
from .detector import Detector
from .embedding import EmbeddingClassifier
from .segmenter import Segmenter

__all__ = [
    "Cancelled",
    "Classifier",
    "Detector",
    "EmbeddingClassifier",
    "EmbeddingLearner",
    "Learner",
    "ParamsMixin",
    "Segmenter",
    "WeightsUnavailable",
    "clone",
]
