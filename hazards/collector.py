"""Python's cycle collector held back while a province's rows are made and consumed.

A road load or a survey import makes millions of small objects (rows, cells, matches,
geometries) that hold no reference cycles and die together, chunk by chunk. With the default
thresholds the collector walks them again and again as they are made; at the bench's size L it
took 9 s of a 100 s survey import and 0.8 s of a 10 s road load.

At the end of a command the same search is what makes the interpreter's exit slow: it looks
for cycles among everything still alive before freeing it (:func:`before_exit`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLD = 1_000_000
"""Objects made (less those freed) between two collections of the youngest generation while
held back: more than a chunk of the survey import makes, so none runs within a chunk."""


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold to :data:`THRESHOLD` (never lower it) within the
    block; the thresholds as they were afterwards, whatever happens. Garbage with cycles is
    still collected, less often."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def before_exit() -> None:
    """Freeze everything alive (:func:`gc.freeze`), so that the interpreter's shutdown frees it
    without first searching it all for reference cycles: about 0.1 s of a quick command such as
    ``hazards chainage locate`` (0.4-0.5 s in all) on a 2-core machine. Objects are still freed
    as their last reference goes, and ``atexit`` work and ``weakref.finalize`` callbacks still
    run; but an object kept alive only through a reference cycle (a SQLAlchemy engine and its
    pooled connections, say) is never finalised: the operating system takes it back with the
    process. So whatever must be written or closed is closed explicitly before the command
    returns, as the package does (files, GeoPackages, transactions); nothing may rely on the
    garbage collector to flush it at exit."""
    gc.freeze()
