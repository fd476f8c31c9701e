"""The garbage collector while a week is built.

Building a week makes hundreds of thousands of container objects (slots, requests, their
frozensets and tuples) that all live on. The cyclic collector, counting allocations, runs over
and over meanwhile, each full pass walking everything built so far: about a third of reading
the programme week (1.3–1.5 s, 0.9–1.0 s without it) and of exporting it from the database.
Such objects form no garbage cycles while they are built, so the collector can wait.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (reference counting goes on as always).

    Nested and concurrent blocks are counted: the collector runs again when the last one ends,
    and only if it was running when the first began."""
    global _paused
    with _lock:
        if _paused == 0 and not gc.isenabled():
            paused_here = False  # someone else turned it off: leave it as found
        else:
            paused_here = True
            _paused += 1
            gc.disable()
    try:
        yield
    finally:
        if paused_here:
            with _lock:
                _paused -= 1
                if _paused == 0:
                    gc.enable()
