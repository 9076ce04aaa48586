"""Models behind the Learner protocol; `Classifier` is the default for classification,
`Detector` for detection, `Segmenter` for segmentation."""

from .base import Cancelled, Learner, ParamsMixin, clone
from .classifier import Classifier
from .detector import Detector
from .segmenter import Segmenter

__all__ = ["Cancelled", "Classifier", "Detector", "Learner", "ParamsMixin", "Segmenter", "clone"]
