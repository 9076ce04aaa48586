"""The files of an embedding cache's key folder: ``meta.json`` read, and the three arrays
(``embeddings.npy``, ``hashes.npy``, ``checksums.npy``) memory-mapped once their headers and
lengths prove them whole. What does not prove it raises `Untrusted`, saying what is wrong; an
OSError that proves no damage (too many open files, an I/O error) is raised as it is.

The files are the cache's own only where ``meta.json`` says so (``check_own``): it is written
first and replaced whole, never removed, so a folder holding the cache's files holds it. Older
versions removed it before making the arrays: a folder they were stopped in holds nothing but the
arrays, each with the header the cache writes for the dataset, which proves them its own.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, Literal

import numpy as np

Mode = Literal["r+", "c"]  # written to the file, or in memory only (copy on write)


class Untrusted(Exception):
    """A cache folder that does not prove it belongs; says what is wrong."""


def read_meta(folder: Path) -> dict[str, Any]:
    """The object in ``folder/meta.json``; `Untrusted` when it is missing or not one.

    Parameters
    ----------
    folder : Path
        A key's folder.
    """
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except FileNotFoundError:
        raise Untrusted("meta.json is missing") from None
    except ValueError as error:  # not JSON, or not UTF-8; another OSError is no proof of damage
        raise Untrusted(f"meta.json cannot be read ({error})") from None
    if not isinstance(meta, dict):
        raise Untrusted(f"meta.json must hold an object, got {type(meta).__name__}")
    return meta


ARRAYS = ("embeddings.npy", "hashes.npy", "checksums.npy")  # with meta.json, a key's files
OWN = ("key", "n_images")  # what every meta.json the cache wrote holds, in every version


def check_own(folder: Path, n_images: int) -> None:
    """Refuse a key's `folder` whose files the cache cannot tell for its own: a ``meta.json``
    that is not a JSON object naming a key and a number of images, as every one the cache
    wrote is; or, without a ``meta.json``, one of the arrays, unless an older version left the
    folder so (see `left_unfinished`). Such a file may be the user's, and the cache would
    replace it: it is left as it is, and the error names it.

    Parameters
    ----------
    folder : Path
        A key's folder.
    n_images : int
        The dataset's length.
    """
    try:
        text = (folder / "meta.json").read_bytes()
    except FileNotFoundError:
        found = [name for name in ARRAYS if os.path.lexists(folder / name)]
        if found and not left_unfinished(folder, n_images):
            _refuse(
                folder,
                found[0],
                "is there without the meta.json the cache writes first, and the folder holds "
                "other files or arrays of another kind than the cache's for this dataset",
            )
        return
    try:
        meta = json.loads(text)
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or any(field not in meta for field in OWN):
        _refuse(
            folder, "meta.json", "is not one the cache wrote (a JSON object with key and n_images)"
        )


def _refuse(folder: Path, name: str, why: str) -> None:
    raise FileExistsError(
        f"embedding cache {folder}: {name} {why}; it is left as it is: move it away, or give "
        f"the loop another cache_dir (if the folder is an old cache's, delete {folder})"
    )


def left_unfinished(folder: Path, n_images: int) -> bool:
    """Whether `folder`, a key's folder without ``meta.json``, is one an older version was
    stopped in while making its arrays (it removed ``meta.json`` first, then wrote the arrays
    one by one): it holds nothing but array files named as the cache's, each with the header
    the cache writes for a dataset of `n_images` (``embeddings.npy`` float16 (n, d),
    ``hashes.npy`` and ``checksums.npy`` uint64 (n,), C order) and at most the bytes that
    header promises (one cut short too), or nothing at all (one stopped before its header,
    which holds nothing to lose). A user's file is never so, in the folder the cache names
    after the key: such a folder is the cache's, and is made anew.

    Parameters
    ----------
    folder : Path
        A key's folder.
    n_images : int
        The dataset's length.
    """
    with os.scandir(folder) as entries:
        names = [entry.name for entry in entries]
    if not names or any(name not in ARRAYS for name in names):
        return False
    for name in names:
        size = (folder / name).stat().st_size
        if not size:
            continue
        try:
            shape, fortran, dtype, offset = _header(folder / name)
        except Untrusted:
            return False
        rows = name == ARRAYS[0]
        wanted = np.dtype(np.float16 if rows else np.uint64)
        if dtype != wanted or fortran or len(shape) != 1 + rows or shape[0] != n_images:
            return False
        if (rows and shape[1] < 1) or size > offset + int(np.prod(shape)) * wanted.itemsize:
            return False
    return True


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    """Put `meta` in ``folder/meta.json`` whole: written beside it, then renamed over it, so
    that it is never missing nor cut short (`check_own` takes such a file for another's).

    Parameters
    ----------
    folder : Path
        A key's folder.
    meta : dict
        What to write: ``format``, ``key``, ``n_images`` and, once the arrays are made, ``dim``.
    """
    temporary, made = folder / f".meta.json.{secrets.token_hex(4)}.part", False
    try:
        with open(temporary, "x", encoding="utf-8") as file:
            made = True
            file.write(json.dumps(meta))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, folder / "meta.json")
    except BaseException:
        if made and os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def array_files(n: int, dim: int) -> list[tuple[str, np.dtype[Any], tuple[int, ...]]]:
    """Each array file of a cache folder: name, dtype and shape.

    Parameters
    ----------
    n : int
        The dataset's length.
    dim : int
        The embeddings' length.
    """
    kinds = [(np.float16, (n, dim)), (np.uint64, (n,)), (np.uint64, (n,))]
    return [(name, np.dtype(t), shape) for name, (t, shape) in zip(ARRAYS, kinds, strict=True)]


def map_files(folder: Path, n: int, dim: int, mode: Mode) -> list[np.memmap[Any, Any]]:
    """The rows, hashes and checksums of `folder`, memory-mapped in `mode` (see `_map`).

    Parameters
    ----------
    folder : Path
        A key's folder.
    n, dim : int
        The dataset's length and the embeddings' length, which the files must have.
    mode : {"r+", "c"}
        Writes go to the files, or stay in memory (copy on write).
    """
    return [_map(folder / name, dtype, shape, mode) for name, dtype, shape in array_files(n, dim)]


def _map(
    path: Path, dtype: np.dtype[Any], shape: tuple[int, ...], mode: Mode
) -> np.memmap[Any, Any]:
    """`path` memory-mapped in `mode` ("r+"; "c": written in memory only), once its header and
    length match `dtype` and `shape`.

    numpy maps a file shorter than its header promises and reads zeros past the end, so the
    length is checked here; `Untrusted` says what does not match. An OSError other than a
    missing file (too many open files, an I/O error) is raised as it is.
    """
    found_shape, fortran, found_dtype, offset = _header(path)
    differs = [
        f"{what} {found}, expected {wanted}"
        for what, found, wanted in (
            ("dtype", np.dtype(found_dtype), dtype),
            ("shape", tuple(found_shape), shape),
            ("memory order", "Fortran" if fortran else "C", "C"),
        )
        if found != wanted
    ]
    if differs:
        raise Untrusted(f"{path.name} has {'; '.join(differs)}")
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    size = path.stat().st_size
    if size != expected:
        raise Untrusted(f"{path.name} has {size} bytes, its header promises {expected}")
    return np.memmap(path, dtype, mode, offset, shape)


def _header(path: Path) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """The shape, Fortran order and dtype a ``.npy`` file's header gives, and where its data
    starts; `Untrusted` when it is missing or has no readable header. Another OSError (too many
    open files, an I/O error) is no proof of damage: it goes up."""
    try:
        with open(path, "rb") as file:
            version = np.lib.format.read_magic(file)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(file)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(file)
            return tuple(shape), bool(fortran), np.dtype(dtype), file.tell()
    except FileNotFoundError:
        raise Untrusted(f"{path.name} is missing") from None
    except ValueError as error:
        raise Untrusted(f"{path.name} has no readable header ({error})") from None
