"""Which images, in which order: a fingerprint of a dataset's image list for its journal's header.

Taken without opening an image file (a pool can be a million files):

- file paths: a hash of the names relative to the folder they are all in, so a folder that was
  moved (or is given by another path) still matches, while a file renamed, one put in place of
  another, or the same files in another order do not (~0.45 s for a million paths);
- an (N, H, W[, C]) array: its shape, dtype and a hash of all its bytes (SHA-256: 35 to 90 ms
  for the 70,000 MNIST images, 55 MB, on 2 busy CPU cores);
- other sequences (arrays or PIL images one by one, mixed items): none; only their number is
  checked.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from ._images import ArraySource, SequenceSource
from ._paths import PathTable


def fingerprint(source: ArraySource | SequenceSource) -> dict[str, Any] | None:
    """The fingerprint of an image source, as a JSON object; None when it has none (see above).

    Parameters
    ----------
    source : ArraySource or SequenceSource
        A dataset's images.
    """
    if isinstance(source, ArraySource):
        array = np.ascontiguousarray(source.array)
        return {
            "kind": "array",
            "shape": list(array.shape),
            "dtype": str(array.dtype),
            "sha256": hashlib.sha256(array.data).hexdigest(),
        }
    if isinstance(source.items, PathTable):
        folder, names = source.items.relative()
        return {
            "kind": "files",
            "folder": folder,
            "names_sha256": hashlib.sha256(names).hexdigest(),
        }
    return None


def difference(recorded: Any, given: dict[str, Any] | None) -> str | None:
    """How the images `given` differ from those a journal `recorded`, in words; None if they match.

    Parameters
    ----------
    recorded : object
        The ``images`` of a journal's header, as read (a crafted one is refused by name).
    given : dict or None
        The ``fingerprint`` of the images given now.
    """
    if not isinstance(recorded, dict) or recorded.get("kind") not in ("array", "files"):
        return f"its header's 'images' must be an al_widget image fingerprint, got {recorded!r}"
    if given is None or given["kind"] != recorded["kind"]:
        return f"it was written for {_described(recorded)}, got {_described(given)}"
    if recorded["kind"] == "files":
        if recorded.get("names_sha256") == given["names_sha256"]:
            return None
        return (
            f"the names of the files given (under {given['folder'] or 'no common folder'}) are "
            f"not those it was written for (under {recorded.get('folder') or 'no common folder'}), "
            "or not in the same order"
        )
    if [recorded.get("shape"), recorded.get("dtype")] != [given["shape"], given["dtype"]]:
        return f"it was written for {_described(recorded)}, got {_described(given)}"
    if recorded.get("sha256") != given["sha256"]:
        return (
            f"the pixels of the array given ({_described(given)}) are not those it was written for"
        )
    return None


def _described(found: dict[str, Any] | None) -> str:
    if found is None:
        return "a sequence of arrays or PIL images"
    if found["kind"] == "files":
        return f"image files under {found.get('folder') or 'no common folder'}"
    shape = "x".join(str(n) for n in found.get("shape") or [])
    return f"an array of shape {shape} ({found.get('dtype')})"
