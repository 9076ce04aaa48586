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


def test_every_public_function_and_constructor_documents_its_parameters():
    assert undocumented() == []


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_the_docs_check_sees_the_public_callables_of(module_name):
    assert _public(module_name)
