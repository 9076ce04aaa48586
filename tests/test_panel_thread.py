"""One widget thread: the loop's worker hands its news to the kernel's event loop, never the widgets."""

from __future__ import annotations

import asyncio
import threading

from al_widget.widget.handoff import Handoff

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
