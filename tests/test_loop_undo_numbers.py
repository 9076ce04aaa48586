"""Who made a commit or skip can tell later whether an undo, anywhere, took it back
(``made_here``, ``in_force``), though the image was labeled again since; an observer can be
removed."""

from __future__ import annotations

import threading

import pytest

import al_widget as alw
from tests.conftest import CentroidLearner

CLASSES = ["dark", "bright"]


@pytest.fixture
def loop(two_class, loop_factory):
    return loop_factory(alw.Dataset(two_class[0], CLASSES), CentroidLearner(2), start=False)


def test_a_commit_stands_until_it_is_undone(loop):
    loop.commit(3, alw.Label("dark"))
    mine = loop.made_here
    assert mine is not None
    assert loop.in_force(mine)
    loop.undo()
    assert not loop.in_force(mine)


def test_a_commit_under_a_label_stored_over_it_stands_until_its_own_undo(loop):
    loop.commit(3, alw.Label("dark"))
    mine = loop.made_here
    loop.commit(3, alw.Label("bright"), replace=True)
    loop.undo()  # takes back the label stored over it
    assert loop.in_force(mine)


def test_a_redo_makes_the_commit_again_under_a_new_number(loop):
    loop.commit(3, alw.Label("dark"))
    first = loop.made_here
    loop.undo()
    loop.redo()
    assert loop.made_here != first
    assert loop.in_force(loop.made_here)
    assert not loop.in_force(first)


def test_a_skip_is_numbered_as_a_commit_is(loop):
    loop.skip(4)
    mine = loop.made_here
    loop.undo()
    assert mine is not None
    assert not loop.in_force(mine)


def test_each_thread_reads_the_number_of_its_own_last_commit(loop):
    loop.commit(3, alw.Label("dark"))
    mine = loop.made_here
    other = threading.Thread(target=loop.commit, args=(5, alw.Label("bright")))
    other.start()
    other.join()
    assert loop.made_here == mine


def test_a_removed_observer_is_no_longer_called(loop):
    heard: list[tuple[str, int]] = []
    observer = loop.on_undo(lambda action, i: heard.append((action, i)))
    loop.commit(3, alw.Label("dark"))
    loop.remove_observer(observer)
    loop.undo()
    assert heard == []
