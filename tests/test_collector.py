"""The cycle collector held back (hazards.collector)."""

from __future__ import annotations

import gc

import pytest

from hazards.collector import THRESHOLD, fewer_collections


def test_the_first_threshold_is_raised_within_and_restored_after() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (THRESHOLD, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
        with pytest.raises(RuntimeError), fewer_collections():
            raise RuntimeError("a failed load")
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(5 * THRESHOLD, 20, 30)  # never lowered
        with fewer_collections():
            assert gc.get_threshold() == (5 * THRESHOLD, 20, 30)
    finally:
        gc.set_threshold(*before)


def test_as_a_decorator_each_call_is_held_back() -> None:
    seen = []

    @fewer_collections()
    def load() -> None:
        seen.append(gc.get_threshold()[0])

    before = gc.get_threshold()
    load()
    load()
    assert seen == [max(before[0], THRESHOLD)] * 2
    assert gc.get_threshold() == before
