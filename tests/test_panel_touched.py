"""What the labeler draws is stored against the pixels the canvas showed: a photo whose file
another program only touched since (its mode changed, its times set, a hard link made by a
backup tool, its bytes written again as they were) still holds those pixels, and is labeled.
The file's stamp (one stat) is the fast path; when it differs, the photo is read again and its
pixels compared with those shown (``tests/test_panel_replaced.py``: other pixels are refused)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.test_panel_turned_unsaved import click, held, leave
from tests.turned_panels import draw, press


def chmod(path: str) -> None:
    os.chmod(path, 0o600)


def utime_same(path: str) -> None:
    """Its times set to what they were: its ctime changes, nothing else."""
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def hard_link(path: str) -> None:
    """A backup tool's hard link beside it: its link count and ctime change."""
    os.link(path, path + ".backup")


def same_bytes(path: str) -> None:
    """Its bytes written again as they were (a sync tool): its mtime and ctime change."""
    Path(path).write_bytes(Path(path).read_bytes())


TOUCHES: dict[str, Callable[[str], None]] = {
    "chmod": chmod,
    "utime with the same times": utime_same,
    "hard link": hard_link,
    "the same bytes written again": same_bytes,
}


@pytest.mark.parametrize("touch", TOUCHES.values(), ids=TOUCHES.keys())
def test_a_label_drawn_on_a_photo_only_touched_since_it_was_shown_is_stored(
    photo_panels: Any, touch: Callable[[str], None]
) -> None:
    panel, paths, _ = photo_panels()
    shown = panel.current
    draw(panel, width=6)
    touch(paths[shown])
    press(panel, "Enter")
    assert panel.dataset.annotation(shown) is not None, panel.error_line.value


@pytest.mark.parametrize("touch", TOUCHES.values(), ids=TOUCHES.keys())
def test_unsaved_work_on_a_photo_only_touched_since_comes_back(
    photo_panels: Any, touch: Callable[[str], None]
) -> None:
    panel, paths, _ = photo_panels()
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    touch(paths[drawn_on])
    click(panel, drawn_on)
    assert held(panel), panel.error_line.value


def test_a_submit_on_a_photo_left_as_it_was_does_not_read_it_again(
    photo_panels: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel, _, _ = photo_panels()
    shown = panel.current
    draw(panel, width=6)
    reads: list[int] = []
    read = panel.dataset.oriented_image
    monkeypatch.setattr(panel.dataset, "oriented_image", lambda i: reads.append(i) or read(i))
    press(panel, "Enter")
    assert panel.dataset.annotation(shown) is not None
    assert shown not in reads
