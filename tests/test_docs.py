"""The public API documents its parameters: numpydoc "Parameters" sections."""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Protocol

import pytest

PUBLIC_MODULES = (
    "al_widget",
    "al_widget.datasets",
    "al_widget.formats",
    "al_widget.heuristics",
    "al_widget.learners",
    "al_widget.selectors",
    "al_widget.widget",
)


def _public(module_name: str) -> dict[str, Any]:
    """The module's public functions and classes defined in al_widget (not re-exported ones)."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
    found = {}
    for name in names:
        obj = getattr(module, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__.startswith(
            "al_widget"
        ):
            found[f"{module_name}.{name}"] = obj
    return found


def _parameters(obj: Any) -> list[str]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):  # a builtin's, e.g. an exception class
        return []
    return [name for name in signature.parameters if name not in ("self", "cls")]


def _documented(obj: Any) -> bool:
    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj) and "__init__" in vars(obj):
        doc += "\n" + (inspect.getdoc(obj.__init__) or "")
    return "Parameters\n----------" in doc


def undocumented() -> list[str]:
    """Public functions and constructors taking parameters, without a Parameters section."""
    missing = []
    for module_name in PUBLIC_MODULES:
        for name, obj in _public(module_name).items():
            if inspect.isclass(obj) and Protocol in obj.__mro__:
                continue  # a protocol is implemented, never constructed
            if _parameters(obj) and not _documented(obj):
                missing.append(name)
    return sorted(set(missing))


def _public_methods(cls: type) -> dict[str, Any]:
    """The methods whose names do not start with an underscore that `cls` defines itself or
    takes from a base class of its own package (a base class that holds part of it)."""
    package = cls.__module__.split(".")[0]
    found: dict[str, Any] = {}
    for owner in cls.__mro__:
        if owner.__module__.split(".")[0] != package:
            continue
        for name, member in vars(owner).items():
            fn = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            if not name.startswith("_") and inspect.isfunction(fn):
                found.setdefault(name, fn)
    return found


def undocumented_methods() -> list[str]:
    """Public methods taking parameters, of the public classes (the widget's Panel and Canvas
    included), without a Parameters section."""
    missing = []
    for module_name in PUBLIC_MODULES:
        for obj in _public(module_name).values():
            if not inspect.isclass(obj):
                continue
            for method, fn in _public_methods(obj).items():
                if _parameters(fn) and "Parameters\n----------" not in (inspect.getdoc(fn) or ""):
                    missing.append(f"{obj.__module__}.{obj.__qualname__}.{method}")
    return sorted(set(missing))


def test_every_public_function_and_constructor_documents_its_parameters():
    assert undocumented() == []


def test_every_public_method_documents_its_parameters():
    assert undocumented_methods() == []


def test_the_method_check_sees_the_methods_a_class_defines():
    class Shown:
        def open(self, i):
            """Open image `i`."""

        @staticmethod
        def of(x):
            """One of `x`."""

        def _hidden(self, x):
            """Not public."""

    assert sorted(_public_methods(Shown)) == ["of", "open"]


class _Part:
    """A base class holding part of a class, as ``LoopViews`` holds ActiveLoop's views."""

    def describe(self, i):
        """Describe image `i`."""


def test_the_method_check_sees_the_methods_a_class_takes_from_a_base_of_its_package():
    class Whole(_Part, dict):
        def open(self, i):
            """Open image `i`."""

    assert sorted(_public_methods(Whole)) == ["describe", "open"]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_the_docs_check_sees_the_public_callables_of(module_name):
    assert _public(module_name)
