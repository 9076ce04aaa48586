"""Models behind the Learner protocol; `Classifier` is the default for classification."""

from .base import Cancelled, Learner, ParamsMixin, clone
from .classifier import Classifier

__all__ = ["Cancelled", "Classifier", "Learner", "ParamsMixin", "clone"]
