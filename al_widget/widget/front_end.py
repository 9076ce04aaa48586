"""The front end files a widget class gives anywidget: their text, which keeps no widget alive."""

from __future__ import annotations

import os
from pathlib import Path


def front_end(path: Path) -> str | Path:
    """The file at `path` (a widget's ``_esm`` or ``_css``) for anywidget: its text, or, with
    ``ANYWIDGET_HMR=1``, its path, which anywidget watches and reloads live once rebuilt.

    Given a path, anywidget links every widget of the class to the file's change signal, a
    class attribute, for as long as the process runs: a closed panel, held by its widgets'
    handlers, could then never be collected. Text links nothing.

    Parameters
    ----------
    path : Path
        The file, in ``js/`` (or the wheel's ``_static/``).
    """
    return path if os.environ.get("ANYWIDGET_HMR") == "1" else path.read_text(encoding="utf-8")
