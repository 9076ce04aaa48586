"""A panel's lock takes the news other threads post to it without their waiting: a call posted
runs at once when the lock is free, else as the thread holding it lets it go, and a thread
holding another panel's lock runs it only once it holds none."""

from __future__ import annotations

import threading

from al_widget.widget.panel_lock import PanelLock


def test_a_call_posted_to_a_free_lock_runs_at_once():
    lock, ran = PanelLock(), []
    lock.post(ran.append, "news")
    assert ran == ["news"]


def test_a_call_posted_while_another_thread_holds_the_lock_runs_as_it_lets_go():
    lock, ran = PanelLock(), []
    held, posted = threading.Event(), threading.Event()

    def holder() -> None:
        with lock:
            held.set()
            posted.wait(5)
            assert ran == []  # not yet: this thread holds the lock
        ran.append("after")  # the release ran the call first

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    lock.post(lambda: ran.append(threading.current_thread() is thread))
    posted.set()
    thread.join(5)
    assert ran == [True, "after"]


def test_a_call_posted_by_a_thread_holding_another_panel_s_lock_waits_until_it_holds_none():
    mine, other, ran = PanelLock(), PanelLock(), []
    with mine:
        other.post(lambda: ran.append("news"))
        assert ran == []
    assert ran == ["news"]


def test_a_call_that_raises_is_logged_and_the_next_still_runs(caplog):
    lock, ran = PanelLock(), []
    with lock:
        lock.post(lambda: 1 / 0)
        lock.post(lambda: ran.append("next"))
    assert ran == ["next"]
    assert "the panel's news raised" in caplog.text
