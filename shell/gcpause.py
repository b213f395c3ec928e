"""``paused_gc()``: no cyclic garbage collection while long work runs (no Qt here).

Reading 20,000 Excel rows, a year of events or a 10,000-member roster allocates hundreds of thousands
of objects, which triggers a full collection of the *whole process* heap; it holds the GIL for as long
as the heap is big (measured 200–530 ms in the desktop with a large street open), and the GUI thread
froze that long. Reference counting still frees the rows; the collector runs again when the work is
done. Nested and concurrent uses keep it paused until the last one ends. The desktop's task runner
(``shell/ui/tasks.py``) runs all thread-pool work inside it; services and ledgers use it too, so the
command line gets the same."""
from __future__ import annotations

import functools
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
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with paused_gc():
            return fn(*args, **kwargs)
    return wrapper


def gc_paused_rows(rows):
    """The rows of a ledger, with the collector paused from the first row to the last: the report
    engine pulls them while it lays out every page, so the pause covers the whole rendering."""
    with paused_gc():
        yield from rows
