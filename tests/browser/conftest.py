"""Fixtures for browser tests: one JupyterLab and one Chromium per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from . import harness


@pytest.fixture(scope="session")
def lab() -> Iterator[harness.LabServer]:
    """A JupyterLab server serving a copy of tests/browser/notebooks/."""
    server = harness.start_lab()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The system Chromium, driven by Playwright; fails (not skips) when it is missing."""
    try:
        harness.chromium_path()
    except RuntimeError as err:
        pytest.fail(str(err))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = harness.launch_browser(p)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def new_page(browser: Any) -> Iterator[Any]:
    """A factory for pages in a fresh browser context, closed at the end of the module."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 1000, scale: float = 1) -> Any:
        ctx = browser.new_context(
            viewport={"width": width, "height": height}, device_scale_factor=scale
        )
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()
