"""Nothing lost: a labeler killed with SIGKILL at random moments, restarted from its journals."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from crash_child import CLASSES, annotation, images

import al_widget as alw

CHILD = Path(__file__).with_name("crash_child.py")
KILLS = 30


def run_until_killed(folder: Path, seed: int, rng: np.random.Generator) -> list[str]:
    """Start the child, let it label for a random while, SIGKILL it; the changes it reported."""
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(folder), str(seed)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=CHILD.parent,
    )
    lines = []
    try:
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + rng.uniform(0.01, 0.4)
        os.set_blocking(child.stdout.fileno(), False)
        while time.monotonic() < deadline:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        os.set_blocking(child.stdout.fileno(), True)
        lines = child.stdout.read().splitlines()
    finally:
        if child.poll() is None:
            child.kill()
    return [line for line in lines if line != "ready"]


@pytest.mark.slow
def test_no_reported_label_is_lost_across_thirty_sigkills(tmp_path):
    rng = np.random.default_rng(7)
    expected: dict[str, dict[int, bool]] = {task: {} for task in CLASSES}
    changes = 0
    for seed in range(KILLS):
        in_flight: tuple[str, int] | None = None
        for line in run_until_killed(tmp_path, seed, rng):
            task, change = line.split()
            if change[0] == "?":  # announced, not yet returned
                in_flight = (task, int(change[1:]))
                continue
            expected[task][int(change[1:])] = change[0] == "+"
            in_flight = None
            changes += 1
        for task, state in expected.items():
            ds = alw.Dataset.restore(tmp_path / f"{task}.jsonl", images(), read_only=True)
            labeled = set(ds.labeled.tolist())
            if in_flight is not None and in_flight[0] == task:
                # The change the kill interrupted may or may not have reached the journal (the
                # next run restores whichever it did): from here on the journal says which.
                state[in_flight[1]] = in_flight[1] in labeled
            for i, present in state.items():
                # A change the child printed had returned: it is on disk. An unprinted addition
                # of another image may be there too, so only reported ones are checked.
                if present:
                    assert i in labeled, f"{task}: label {i} lost after kill {seed}"
                    bound = annotation(task, i).bind(image_size=(8, 8), classes=ds.classes)
                    assert ds.annotation(i) == bound
                else:
                    assert i not in labeled, f"{task}: removal of {i} lost after kill {seed}"
    assert changes > 100, "the child barely labeled anything before each kill"
