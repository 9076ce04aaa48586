"""The tuning of a loop's worker thread, done on it as it starts (``RoundWorker``'s setup)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

_SWITCH_INTERVAL = 0.001
_WORKER_NICENESS = 10


def worker_setup() -> None:
    """Tune the worker thread: torch threads, the GIL switch interval, a lower CPU priority."""
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    # The kernel's thread gives up the GIL at every socket call and, with Python's default 5 ms
    # switch interval, can wait that long each time to get it back from a training round: a widget
    # reply makes ~20 such calls. A 1 ms interval keeps replies quick while a round trains.
    if sys.getswitchinterval() > _SWITCH_INTERVAL:
        sys.setswitchinterval(_SWITCH_INTERVAL)
    # A lower CPU priority for this thread only (Linux: a thread id is a process id for
    # setpriority), so the kernel, the Jupyter server and the browser preempt training.
    with contextlib.suppress(AttributeError, OSError):
        thread = threading.get_native_id()
        niceness = os.getpriority(os.PRIO_PROCESS, thread) + _WORKER_NICENESS
        os.setpriority(os.PRIO_PROCESS, thread, min(19, niceness))
