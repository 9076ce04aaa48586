"""The heuristic registry: names to heuristic functions, built-in and the user's own.

``al_widget.heuristics`` re-exports all of it; the loop, the selectors and the panel look
names up here (``get``, ``names``) and the panel watches it for new ones (``watch``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np

Heuristic = Callable[[np.ndarray], np.ndarray]

_REGISTRY: dict[str, Heuristic] = {}
_WATCHERS: list[Callable[[], Callable[[], None] | None]] = []
_BUILTIN: set[str] = set()


def _normalise(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"heuristic name must be a non-empty string, got {name!r}")
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def register(name: str, *, replace: bool = False) -> Callable[[Heuristic], Heuristic]:
    """Decorator that registers a heuristic under `name` and returns it unchanged.

    Re-running the cell that defines and registers a function replaces it (same module and
    function name); another function under a taken name needs ``replace=True``.

    Parameters
    ----------
    name : str
        The name to use it by (case, spaces and dashes are normalised: "My Score" is "my_score").
    replace : bool, default False
        Redefine a heuristic registered under `name` by another function; built-in names are
        never replaced.
    """
    key = _normalise(name)

    def decorator(fn: Heuristic) -> Heuristic:
        if not callable(fn):
            raise TypeError(f"heuristic {name!r} must be callable, got {type(fn).__name__}")
        if key in _BUILTIN:
            raise ValueError(f"{key!r} is a built-in heuristic; register yours under another name")
        if key in _REGISTRY and not replace and not _same_definition(_REGISTRY[key], fn):
            raise ValueError(
                f"a heuristic named {key!r} is already registered; pass replace=True to redefine it"
            )
        _REGISTRY[key] = fn
        _changed()
        return fn

    return decorator


def unregister(name: str) -> None:
    """Remove a user-registered heuristic.

    Parameters
    ----------
    name : str
        The name it was registered under.
    """
    key = _normalise(name)
    if key in _BUILTIN:
        raise ValueError(f"{key!r} is a built-in heuristic and cannot be removed")
    if key not in _REGISTRY:
        raise ValueError(f"no heuristic named {key!r}; registered: {names()}")
    del _REGISTRY[key]
    _changed()


def watch(fn: Callable[[], None]) -> Callable[[], None]:
    """Call ``fn()`` whenever a heuristic is registered or removed (on the registering thread).

    Parameters
    ----------
    fn : callable
        Called with no arguments; held weakly when it is a bound method, so a closed panel is
        not kept alive by the registry.
    """
    ref: Callable[[], Callable[[], None] | None]
    try:
        ref = weakref.WeakMethod(fn)  # type: ignore[arg-type]
    except TypeError:
        ref = lambda: fn  # noqa: E731 - a plain function is held strongly
    _WATCHERS.append(ref)
    return fn


def _changed() -> None:
    for ref in list(_WATCHERS):
        fn = ref()
        if fn is None:
            _WATCHERS.remove(ref)
        else:
            fn()


def _same_definition(old: Heuristic, new: Heuristic) -> bool:
    """True when `new` is `old` defined again (a re-run cell): same module and qualified name."""
    if getattr(new, "__qualname__", "").endswith("<lambda>"):
        return False  # two lambdas share a name without being the same definition
    return (getattr(old, "__module__", None), getattr(old, "__qualname__", None)) == (
        getattr(new, "__module__", None),
        getattr(new, "__qualname__", object()),
    )


def get(name: str | Heuristic) -> Heuristic:
    """The heuristic registered under `name` (a callable is returned as it is).

    Parameters
    ----------
    name : str or callable
        A registered name (see ``names()``) or a heuristic function.
    """
    if callable(name):
        return name
    key = _normalise(name)
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ValueError(f"unknown heuristic {name!r}; choose one of {names()}") from None


def names() -> list[str]:
    """The registered heuristic names, sorted."""
    return sorted(_REGISTRY)


def name_of(heuristic: str | Heuristic) -> str:
    """The registered name of a heuristic, or its function name.

    Parameters
    ----------
    heuristic : str or callable
        A registered name or a heuristic function.
    """
    if isinstance(heuristic, str):
        return _normalise(heuristic)
    for key, fn in _REGISTRY.items():
        if fn is heuristic:
            return key
    return getattr(heuristic, "__name__", repr(heuristic))


def register_builtin(name: str) -> Callable[[Heuristic], Heuristic]:
    """Decorator that registers one of al_widget's own heuristics (or selectors) under `name`.

    A built-in is never replaced nor removed, and `simulate`'s worker processes find it by
    importing al_widget rather than receiving it from the parent.

    Parameters
    ----------
    name : str
        The name to use it by, already normal (lower case, underscores).
    """

    def decorator(fn: Heuristic) -> Heuristic:
        register(name)(fn)
        _BUILTIN.add(name)
        return fn

    return decorator


def is_builtin(name: str) -> bool:
    """Whether `name` (normalised) is one of al_widget's own heuristics or selectors.

    Parameters
    ----------
    name : str
        A heuristic name, in any case, with spaces or dashes.
    """
    return _normalise(name) in _BUILTIN
