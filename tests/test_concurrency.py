"""Several threads label, undo, skip, replace, retrain and change settings at once: nothing is lost."""

import tempfile
import threading
from collections import defaultdict
from pathlib import Path

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import al_widget as alw

from conftest import CentroidLearner

CLASSES = ["dark", "bright"]
OPS = ["commit", "commit", "replace", "undo", "skip", "retrain", "heuristic"]


class ConcurrentLabeling(RuleBasedStateMachine):
    """Bursts of operations from 2-4 threads, checked between bursts."""

    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.labels = np.arange(40) % 2
        self.images = (self.labels[:, None, None] * 150 + rng.integers(0, 100, (40, 3, 3))).astype(
            np.uint8
        )
        self.folder = tempfile.TemporaryDirectory()
        self.journal = Path(self.folder.name) / "labels.jsonl"
        dataset = alw.Dataset(self.images, CLASSES, journal=self.journal)
        self.loop = alw.ActiveLoop(dataset, CentroidLearner(2), query_size=2, pool_sample=8)
        self.offered: dict[int, set[int]] = defaultdict(set)
        self.version = 0
        self.errors: list[BaseException] = []

    def act(self, op: str, rng: np.random.Generator) -> None:
        loop = self.loop
        try:
            if op == "commit":
                i = loop.next()
                if i is not None:
                    self.offered[i].add(int(self.labels[i]))
                    loop.commit(i, alw.Label(int(self.labels[i])))
            elif op == "replace":
                labeled = loop.dataset.labeled
                if len(labeled):
                    i = int(rng.choice(labeled))
                    self.offered[i].add(1 - int(self.labels[i]))
                    loop.commit(i, alw.Label(1 - int(self.labels[i])), replace=True)
            elif op == "undo":
                loop.undo()
            elif op == "skip":
                i = loop.next()
                if i is not None:
                    loop.skip(i)
            elif op == "retrain":
                loop.retrain()
            else:
                loop.heuristic = str(rng.choice(["margin", "entropy", "least_confidence"]))
        except ValueError as error:
            if "already labeled" not in str(error):  # two threads took the same head
                self.errors.append(error)
        except BaseException as error:
            self.errors.append(error)

    @rule(
        ops=st.lists(st.sampled_from(OPS), min_size=2, max_size=12),
        threads=st.integers(2, 4),
        seed=st.integers(0, 99),
    )
    def burst(self, ops, threads, seed):
        start = threading.Barrier(threads)

        def work(k):
            rng = np.random.default_rng([seed, k])
            start.wait()
            for op in ops[k::threads]:
                self.act(op, rng)

        workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(10)
        assert not any(worker.is_alive() for worker in workers), "a thread hung"
        assert not self.errors, self.errors

    @invariant()
    def every_label_is_one_that_was_committed(self):
        ds = self.loop.dataset
        for i in ds.labeled.tolist():
            assert ds.annotation(i).class_id(CLASSES) in self.offered[i]

    @invariant()
    def versions_only_grow(self):
        assert self.loop.dataset.version >= self.version
        self.version = self.loop.dataset.version
        data_versions = [r.data_version for r in self.loop.history]
        assert data_versions == sorted(data_versions)

    @invariant()
    def the_queue_has_no_duplicate_labeled_or_skipped_image(self):
        queue = self.loop.queue.tolist()
        assert len(queue) == len(set(queue))
        assert not set(queue) & set(self.loop.dataset.labeled.tolist())
        assert not set(queue) & self.loop.skipped

    @invariant()
    def the_journal_equals_memory(self):
        ds = self.loop.dataset
        on_disk = alw.Dataset.restore(self.journal, self.images, read_only=True)
        assert on_disk.labeled.tolist() == ds.labeled.tolist()
        assert all(on_disk.annotation(i) == ds.annotation(i) for i in ds.labeled.tolist())

    def teardown(self):
        closing = threading.Thread(target=self.loop.close)
        closing.start()
        self.act("commit", np.random.default_rng(0))  # may land before or after close
        closing.join(10)
        self.errors = [e for e in self.errors if "the loop is closed" not in str(e)]
        assert not self.errors, self.errors
        assert not closing.is_alive(), "close() hung"
        self.loop.dataset.close()
        self.folder.cleanup()


TestConcurrentLabeling = ConcurrentLabeling.TestCase
TestConcurrentLabeling.settings = settings(max_examples=15, stateful_step_count=8, deadline=None)
