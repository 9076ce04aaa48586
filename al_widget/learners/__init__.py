"""Models behind the Learner protocol; `Classifier` is the default for classification."""

from .base import Cancelled, Learner
from .classifier import Classifier

__all__ = ["Cancelled", "Classifier", "Learner"]
