"""The cycle collector held back (hazards.collector)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

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


def test_before_exit_freezes_and_what_is_open_is_still_closed(tmp_path: Path) -> None:
    """After before_exit() everything alive is frozen, yet what is freed by its last
    reference still is: a file left open in a global (its text still in its buffer) is
    written out and closed at exit; atexit and weakref.finalize callbacks still run. (An
    object kept alive only by a reference cycle is not finalised: see before_exit.)"""
    out = tmp_path / "left-open.txt"
    code = (
        "import gc, sys, weakref\n"
        "from hazards.collector import before_exit\n"
        f"held = open({str(out)!r}, 'w', encoding='utf-8')\n"
        "held.write('路线 X001 ' * 1000)\n"
        "class Box: pass\n"
        "box = Box()\n"
        "weakref.finalize(box, print, 'finalized')\n"
        "before_exit()\n"
        "print('frozen', gc.get_freeze_count() > 1000)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.split() == ["frozen", "True", "finalized"]
    assert out.read_text(encoding="utf-8") == "路线 X001 " * 1000
