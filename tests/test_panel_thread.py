"""One widget thread: the loop's worker hands its news to the kernel's event loop, never the widgets."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

import al_widget as alw
from al_widget.widget.canvas import Canvas
from al_widget.widget.handoff import Handoff
from al_widget.widget.info import Info
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


@pytest.mark.slow
def test_rankings_from_the_worker_touch_the_widgets_only_on_the_kernel_thread(monkeypatch):
    """Labels, browser fetches and rankings published by the worker, all at once: every change
    to the canvas's images kept ahead, the strip's rows and the words happens on the thread that
    built the panel, so none is read half-written (a fetch iterates the images kept ahead)."""
    touched: dict[str, set[int]] = {}

    def record(cls, name):
        original = getattr(cls, name)

        def wrapper(self, *args, **kwargs):
            touched.setdefault(f"{cls.__name__}.{name}", set()).add(threading.get_ident())
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, wrapper)

    for cls, name in [
        (Canvas, "prefetch"),
        (Canvas, "_keep"),
        (Canvas, "load"),
        (QueueStrip, "update"),
        (QueueStrip, "_send_row"),
        (Info, "_apply"),
        (alw.Panel, "_on_ranking"),
    ]:
        record(cls, name)
    rng = np.random.default_rng(0)
    labels = np.arange(400) % 2
    images = (labels[:, None, None] * 150 + rng.integers(0, 100, (400, 4, 4))).astype(np.uint8)
    loop = alw.ActiveLoop(alw.Dataset(images, CLASSES), CentroidLearner(2), query_size=1)
    published: set[int] = set()
    loop.on_ranking(lambda _: published.add(threading.get_ident()))
    stop = threading.Event()

    def retrain_often():
        while not stop.is_set():
            loop.retrain()
            stop.wait(0.001)

    async def main():
        panel = alw.Panel(loop)
        nudger = threading.Thread(target=retrain_often)
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
            nudger.join()
        assert await asyncio.to_thread(loop.wait, 30)
        for _ in range(50):
            await asyncio.sleep(0.001)
        panel.close()

    kernel = threading.get_ident()
    try:
        asyncio.run(main())
    finally:
        loop.close()
    assert published  # the worker published rankings
    assert kernel not in published
    assert set(touched) >= {
        "Panel._on_ranking",  # the panel heard of them
        "Canvas.prefetch",
        "Canvas._keep",
        "QueueStrip.update",
        "Info._apply",
    }
    assert {name: threads for name, threads in touched.items() if threads != {kernel}} == {}
