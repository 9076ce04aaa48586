"""Models behind the Learner protocol; `Classifier` is the default for classification,
`Detector` for detection."""

from .base import Cancelled, Learner, ParamsMixin, clone
from .classifier import Classifier
from .detector import Detector

__all__ = ["Cancelled", "Classifier", "Detector", "Learner", "ParamsMixin", "clone"]
