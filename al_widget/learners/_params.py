"""Learner parameters by scikit-learn's conventions: get_params, set_params, repr and clone."""

from __future__ import annotations

import copy
import inspect
from typing import Any, TypeVar

import numpy as np

from .._numbers import check_int, is_number

L = TypeVar("L")
P = TypeVar("P", bound="ParamsMixin")


class ParamsMixin:
    """`get_params`, `set_params` and a scikit-learn style repr, read from `__init__`'s signature.

    A class using it follows scikit-learn's rules: every `__init__` parameter is a named
    parameter (no ``*args``) stored unchanged as an attribute of the same name, and `__init__`
    does nothing else. Fitted state goes in attributes ending with ``_``, set by `fit`.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        """The names of `__init__`'s parameters, in signature order."""
        if cls.__init__ is object.__init__:
            return []
        names = []
        for name, parameter in inspect.signature(cls.__init__).parameters.items():
            if name == "self" or parameter.kind is parameter.VAR_KEYWORD:
                continue
            if parameter.kind is parameter.VAR_POSITIONAL:
                raise TypeError(
                    f"{cls.__name__}.__init__ takes *{name}: a learner names every parameter "
                    "in its __init__ signature (scikit-learn's convention)"
                )
            names.append(name)
        return names

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The learner's parameters by name.

        Parameters
        ----------
        deep : bool, default True
            Also list the parameters of parameters that are learners themselves, as
            ``<parameter>__<name>``.

        Returns
        -------
        dict
            Parameter names mapped to their values.
        """
        params: dict[str, Any] = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            params[name] = value
        return params

    def set_params(self: P, **params: Any) -> P:
        """Set parameters by name (``<parameter>__<name>`` for a parameter's own); returns self.

        Parameters
        ----------
        **params
            New parameter values. Names that `__init__` does not take raise a ValueError.

        Returns
        -------
        self
        """
        valid = self._param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {name!r}; "
                    f"valid parameters: {', '.join(valid)}"
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        signature = inspect.signature(type(self).__init__).parameters
        shown = []
        for name in self._param_names():
            value, default = getattr(self, name), signature[name].default
            if default is inspect.Parameter.empty or not _same(value, default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def _same(value: Any, default: Any) -> bool:
    if value is default:
        return True
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False


def clone(learner: L) -> L:
    """An unfitted learner of the same class with equal (deep-copied) parameters.

    Parameters
    ----------
    learner : Learner
        A learner that follows scikit-learn's conventions: it has ``get_params()``, and its
        class can be built again from those parameters. It need not inherit `ParamsMixin`.

    Returns
    -------
    Learner
        A new, unfitted instance; `learner` itself is left as it was.

    Raises
    ------
    TypeError
        When `learner` has no ``get_params()`` method.
    """
    get_params = getattr(learner, "get_params", None)
    if not callable(get_params) or isinstance(learner, type):
        raise TypeError(
            f"cannot clone {learner!r}: it has no get_params() method. Follow scikit-learn's "
            "conventions (store each __init__ parameter as an attribute of the same name and "
            "add get_params(), e.g. by inheriting al_widget.learners.ParamsMixin), or pass a "
            "factory such as `lambda seed: MyLearner(...)`"
        )
    params = {key: value for key, value in get_params().items() if "__" not in key}
    copied = {
        key: clone(value)
        if hasattr(value, "get_params") and not isinstance(value, type)
        else copy.deepcopy(value)
        for key, value in params.items()
    }
    return type(learner)(**copied)


def check_training(learner: Any) -> None:
    """Refuse the training settings torch learners share, where the learner has them.

    ``lr`` > 0, ``weight_decay`` >= 0, ``dropout`` in [0, 1), ``download_timeout`` > 0.
    """
    if not learner.lr > 0:
        raise ValueError(f"lr must be positive, got {learner.lr!r}")
    if not learner.weight_decay >= 0:
        raise ValueError(f"weight_decay must be at least 0, got {learner.weight_decay!r}")
    dropout = getattr(learner, "dropout", None)
    if dropout is not None and not (isinstance(dropout, (int, float)) and 0 <= dropout < 1):
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    timeout = getattr(learner, "download_timeout", None)
    if timeout is not None and not timeout > 0:
        raise ValueError(f"download_timeout must be positive, got {timeout!r}")


def check_detection(learner: Any) -> None:
    """Refuse the settings detection learners share (``Detector``, ``InstanceSegmenter``):
    ``n_classes``, ``longest_side`` (>= 32), ``epochs``, ``min_steps``, ``max_steps``,
    ``batch_size`` and ``max_detections`` positive ints, an int ``seed``, a ``model`` name,
    ``score_threshold`` and ``nms_threshold`` in [0, 1), and ``check_training``'s."""
    check_int("n_classes", learner.n_classes, 1)
    check_int("longest_side", learner.longest_side, 32)
    for name in ("epochs", "min_steps", "max_steps", "batch_size"):
        check_int(name, getattr(learner, name), 1)
    check_int("max_detections", learner.max_detections, 1)
    check_int("seed", learner.seed, None)
    if not isinstance(learner.model, str):
        raise TypeError(f"model must be a model name (str), got {learner.model!r}")
    check_training(learner)
    for name in ("score_threshold", "nms_threshold"):
        value = getattr(learner, name)
        if not (isinstance(value, (int, float)) and 0 <= value < 1):
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")


def check_semi_supervised(learner: Any) -> None:
    """Refuse the semi-supervised settings: ``semi_supervised`` a bool, ``threshold`` in (0, 1],
    ``unlabeled_sample`` an int >= 0."""
    if not isinstance(learner.semi_supervised, (bool, np.bool_)):
        raise ValueError(f"semi_supervised must be True or False, got {learner.semi_supervised!r}")
    threshold = learner.threshold
    if not (is_number(threshold) and 0 < threshold <= 1):
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    check_int("unlabeled_sample", learner.unlabeled_sample, 0)
