"""One widget thread: the loop's worker hands its news to the kernel's event loop, never the widgets."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

import al_widget as alw
from al_widget.widget import canvas_messages
from al_widget.widget.canvas import Canvas
from al_widget.widget.handoff import Handoff
from al_widget.widget.info import Info
from al_widget.widget.loop_news import LoopNews
from al_widget.widget.thumbnails import QueueStrip
from tests.conftest import CentroidLearner

CLASSES = ["dark", "bright"]


def test_a_call_from_another_thread_runs_on_the_event_loop_s_thread_in_order():
    ran: list[tuple[int, int]] = []

    async def main():
        handoff = Handoff()
        worker = threading.Thread(
            target=lambda: [
                handoff.call(lambda n: ran.append((n, threading.get_ident())), n) for n in range(5)
            ]
        )
        worker.start()
        worker.join()
        assert ran == []  # queued, not run on the worker
        for _ in range(10):
            await asyncio.sleep(0)

    asyncio.run(main())
    assert ran == [(n, threading.get_ident()) for n in range(5)]


def test_a_call_on_the_event_loop_s_own_thread_runs_at_once():
    ran: list[int] = []

    async def main():
        Handoff().call(ran.append, 1)
        assert ran == [1]

    asyncio.run(main())


def test_calls_follow_the_thread_where_browser_messages_arrive():
    """A kernel subshell handles the browser's messages on its own thread and event loop: once
    a message arrived there (``adopt``), calls from other threads run there, and stay there."""
    ran: list[int] = []
    adopted = threading.Event()

    async def subshell(handoff):
        handoff.adopt()  # a browser message arrives on this thread
        adopted.set()
        for _ in range(200):
            if ran:
                return
            await asyncio.sleep(0.005)

    async def main():
        handoff = Handoff()
        other = threading.Thread(target=lambda: asyncio.run(subshell(handoff)))
        other.start()
        await asyncio.to_thread(adopted.wait, 5)
        handoff.adopt()  # a message on the main thread too: calls stay with the subshell
        await asyncio.to_thread(handoff.call, lambda: ran.append(threading.get_ident()))
        await asyncio.to_thread(other.join)
        return other.ident

    subshell_thread = asyncio.run(main())
    assert ran == [subshell_thread]


def test_without_an_event_loop_a_call_runs_at_once_on_the_calling_thread():
    handoff = Handoff()
    threads: list[int] = []
    worker = threading.Thread(
        target=lambda: handoff.call(lambda: threads.append(threading.get_ident()))
    )
    worker.start()
    worker.join()
    assert not handoff.deferred
    assert threads == [worker.ident]


def test_of_the_latest_calls_still_waiting_only_the_newest_of_each_function_runs_in_its_place():
    ran: list[tuple[str, int]] = []

    def ranked(n):
        ran.append(("ranked", n))

    def failed(n):
        ran.append(("failed", n))

    async def main():
        handoff = Handoff()

        def publish():
            for n in range(5):
                handoff.call_latest(ranked, n)
                handoff.call(failed, n)  # every plain call runs
            handoff.call_latest(ranked, 5)

        worker = threading.Thread(target=publish)
        worker.start()
        worker.join()
        assert ran == []  # queued, not run on the worker
        for _ in range(10):
            await asyncio.sleep(0)

    asyncio.run(main())
    assert ran == [("failed", n) for n in range(5)] + [("ranked", 5)]


def _images(n: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` tiny images, dark or bright by their class (the class index array)."""
    labels = np.arange(n) % 2
    rng = np.random.default_rng(0)
    images = (labels[:, None, None] * 150 + rng.integers(0, 100, (n, 4, 4))).astype(np.uint8)
    return images, labels


def _count_calls(monkeypatch, cls, name, calls: list[int]) -> None:
    """Record the thread of every call of ``cls.name`` in `calls`."""
    original = getattr(cls, name)

    def wrapper(self, *args, **kwargs):
        calls.append(threading.get_ident())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, wrapper)


def _run_as_kernel(main, timeout: float) -> int:
    """Run the coroutine function `main` in an event loop on a thread of its own (the kernel's
    thread); returns that thread's id. Fails, never hangs, when it has not ended in `timeout`
    seconds."""
    errors: list[BaseException] = []

    def run():
        try:
            asyncio.run(main())
        except BaseException as error:  # handed to the test's thread
            errors.append(error)

    kernel = threading.Thread(target=run, name="kernel", daemon=True)
    kernel.start()
    kernel.join(timeout)
    assert not kernel.is_alive(), f"the kernel's event loop was still busy after {timeout} s"
    if errors:
        raise errors[0]
    assert kernel.ident is not None
    return kernel.ident


def test_rankings_published_while_the_kernel_thread_is_busy_refresh_the_panel_once(monkeypatch):
    """A worker that publishes rankings faster than the kernel's thread refreshes the panel (a
    long cell, a slow refresh) leaves it one refresh to do, with the newest state, not one per
    ranking: a backlog that grew as long as the worker published kept the panel behind
    without end."""
    refreshes: list[int] = []
    _count_calls(monkeypatch, LoopNews, "ranked", refreshes)
    images, _ = _images(40)
    loop = alw.ActiveLoop(
        alw.Dataset(images, CLASSES), CentroidLearner(2), query_size=1, cold_start="random"
    )
    loop.commit(0, alw.Label("dark"))
    loop.commit(1, alw.Label("bright"))
    seen: dict[str, object] = {}

    async def main():
        panel = alw.Panel(loop)
        assert await asyncio.to_thread(loop.wait, 30)
        for _ in range(10):
            await asyncio.sleep(0)
        refreshes.clear()
        for _ in range(5):  # the kernel's thread is busy: nothing it was handed runs meanwhile
            loop.retrain()
            assert loop.wait(30)
        for _ in range(10):
            await asyncio.sleep(0)
        seen["trained"] = sum(r.ok and r.retrained for r in loop.history)
        seen["bar"] = panel.progress.description
        seen["status"] = panel.status.value
        panel.close()

    try:
        _run_as_kernel(main, timeout=90)
    finally:
        loop.close()
    assert len(refreshes) == 1
    assert seen["bar"] == "idle"
    assert f"{seen['trained']} rounds done" in str(seen["status"])  # the newest round's


@pytest.mark.slow
def test_rankings_from_the_worker_touch_the_widgets_only_on_the_kernel_thread(monkeypatch):
    """Labels, browser fetches and rankings published by the worker, all at once: every change
    to the canvas's images kept ahead, the strip's rows and the words happens on the thread that
    runs the kernel's event loop, so none is read half-written (a fetch iterates the images kept
    ahead)."""
    touched: dict[str, list[int]] = {}
    for cls, name in [
        (Canvas, "prefetch"),
        (Canvas, "_keep"),
        (Canvas, "load"),
        (QueueStrip, "update"),
        (QueueStrip, "_send_row"),
        (Info, "_apply"),
        (LoopNews, "ranked"),
    ]:
        _count_calls(monkeypatch, cls, name, touched.setdefault(f"{cls.__name__}.{name}", []))
    images, labels = _images(400)
    loop = alw.ActiveLoop(alw.Dataset(images, CLASSES), CentroidLearner(2), query_size=1)
    published: set[int] = set()
    loop.on_ranking(lambda _: published.add(threading.get_ident()))
    stop = threading.Event()

    def retrain_often():
        for _ in range(2000):  # bounded, should the labeling below stop early
            if stop.is_set():
                return
            loop.retrain()
            stop.wait(0.001)

    async def main():
        panel = alw.Panel(loop)
        nudger = threading.Thread(target=retrain_often, daemon=True)
        nudger.start()
        try:
            for _ in range(150):
                if panel.current is None:
                    break
                key = CLASSES[int(labels[panel.current])]
                panel.handle_key({"key": key, "image_id": panel.canvas.image_id})
                panel.canvas._handle_custom_msg({"kind": "fetch"}, [])
                panel.queue_strip._handle_custom_msg({"kind": "fetch"}, [])
                await asyncio.sleep(0)
        finally:
            stop.set()
            await asyncio.to_thread(nudger.join, 30)
        assert await asyncio.to_thread(loop.wait, 30)
        for _ in range(50):
            await asyncio.sleep(0.001)
        panel.close()

    try:
        kernel = _run_as_kernel(main, timeout=90)
    finally:
        stop.set()
        loop.close()
    assert published  # the worker published rankings
    assert kernel not in published
    assert {name for name, threads in touched.items() if threads} >= {
        "LoopNews.ranked",  # the panel heard of them
        "Canvas.prefetch",
        "Canvas._keep",
        "QueueStrip.update",
        "Info._apply",
    }
    assert {name: set(threads) - {kernel} for name, threads in touched.items()} == {
        name: set() for name in touched
    }


def test_the_image_shown_read_from_another_thread_while_a_key_moves_on_is_never_none(monkeypatch):
    """With JupyterLab 4.4+ a key is handled on a kernel subshell's thread while a cell runs on
    the main thread: a cell reading ``panel.current`` mid-key (the label stored, the next image
    loading) gets the image after the key, not the None between them."""
    images, _ = _images(10)
    loop = alw.ActiveLoop(alw.Dataset(images, CLASSES), CentroidLearner(2), query_size=50)
    try:
        panel = alw.Panel(loop)
        first = panel.current
        loading, release = threading.Event(), threading.Event()
        load = panel.canvas.load

        def slow_load(*args, **kwargs):
            loading.set()
            assert release.wait(10)
            return load(*args, **kwargs)

        monkeypatch.setattr(panel.canvas, "load", slow_load)
        panel.picker.value = 1
        key = threading.Thread(target=panel.submit)
        key.start()
        assert loading.wait(10)  # stored; the next image is loading
        seen: list[int | None] = []
        cell = threading.Thread(target=lambda: seen.append(panel.current))
        cell.start()
        cell.join(0.2)
        release.set()
        key.join(10)
        cell.join(10)
        assert seen == [panel.current]
        assert seen[0] is not None
        assert seen[0] != first
    finally:
        loop.close()


def _parse_then_wait(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Make the canvas's first parse of a browser message stop once parsed, until `go` is set
    (as a large patch takes a while to check): returns (parsed, go)."""
    parsed, go = threading.Event(), threading.Event()
    parse = canvas_messages.parse_message

    def parse_then_wait(*args, **kwargs):
        out = parse(*args, **kwargs)
        if not parsed.is_set():
            parsed.set()
            assert go.wait(10)
        return out

    monkeypatch.setattr(canvas_messages, "parse_message", parse_then_wait)
    return parsed, go


EDITS = {
    "detect": ({"kind": "boxes", "boxes": [{"xyxy": [1, 1, 4, 4], "label": 1}], "drafts": []}, []),
    "segment": (
        {"kind": "mask_patch", "rect": [1, 1, 3, 3], "encoding": "raw"},
        [np.ones(4, np.uint8).tobytes()],
    ),
}


@pytest.mark.parametrize("task", sorted(EDITS))
def test_an_edit_of_an_image_a_cell_moved_on_from_while_it_was_checked_is_refused_as_stale(
    task, gray_images, loop_factory, monkeypatch
):
    loop = loop_factory(alw.Dataset(gray_images, ["bg", "cat", "dog"], task=task), None)
    panel = alw.Panel(loop)
    parsed, go = _parse_then_wait(monkeypatch)
    content, buffers = EDITS[task]
    edit = content | {"image_id": panel.canvas.image_id}
    comm = threading.Thread(target=panel.canvas._handle_custom_msg, args=(edit, buffers))
    comm.start()  # the browser's message, on the comm's thread
    assert parsed.wait(10)
    panel.skip()  # a cell moves the panel on meanwhile
    go.set()
    comm.join(10)
    assert panel.canvas.boxes == []
    assert not panel.canvas.mask_array().any()
    assert panel.canvas.rejected[-1].startswith("stale message")
    panel.close()
