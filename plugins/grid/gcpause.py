"""``paused_gc()``: no cyclic garbage collection while a long read or import runs on the thread pool.

Reading 20,000 Excel rows (or a year of events) allocates hundreds of thousands of objects, which
triggers a full collection of the *whole process* heap; it holds the GIL for as long as the heap is
big (measured 250–530 ms in the desktop with the grid pages open), and the GUI thread froze that long.
Reference counting still frees the rows; the collector runs again when the work is done. Nested and
concurrent uses keep it paused until the last one ends."""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = True


@contextmanager
def paused_gc():
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


def without_gc(fn):
    """Decorator: ``fn`` runs inside ``paused_gc()``."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with paused_gc():
            return fn(*args, **kwargs)
    return wrapper
