"""Python's cycle collector held back while a province's rows are made and consumed.

A road load or a survey import makes millions of small objects (rows, cells, matches,
geometries) that hold no reference cycles and die together, chunk by chunk. With the default
thresholds the collector walks them again and again as they are made; at the bench's size L it
took 9 s of a 100 s survey import and 0.8 s of a 10 s road load.
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
