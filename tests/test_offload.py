"""Work in a forked child process (hazards.offload)."""

from __future__ import annotations

import os
import threading

import pytest

from hazards import offload as off

needs_fork = pytest.mark.skipif(not off.can_fork(), reason="no fork here (or one core)")


def _pid_and_sum(values: list[int], *, extra: int = 0) -> tuple[int, int]:
    return os.getpid(), sum(values) + extra


def _fails(what: str) -> None:
    raise ValueError(f"bad {what}")


def _dies() -> int:
    os._exit(3)  # the child gone without an answer


@needs_fork
def test_the_work_runs_in_another_process_and_its_result_comes_back() -> None:
    values = list(range(100_000))  # seen by the child as it is, not pickled
    result = off.offload(_pid_and_sum, values, extra=5)
    pid, total = result()
    assert pid != os.getpid()
    assert total == 100_000 * 99_999 // 2 + 5


@needs_fork
def test_what_the_work_raises_is_raised_to_the_caller() -> None:
    result = off.offload(_fails, "line")
    with pytest.raises(ValueError, match="bad line"):
        result()


@needs_fork
def test_a_child_that_dies_has_its_work_done_here() -> None:
    calls: list[int] = []

    def work() -> int:
        calls.append(os.getpid())
        if len(calls) == 1 and os.getpid() != here:
            _dies()
        return 7

    here = os.getpid()
    # the first call runs in the child (its list is the child's copy) and dies there
    result = off.offload(work)
    assert result() == 7
    assert calls == [here]  # then the work ran here, once


def test_with_another_thread_running_the_work_runs_here() -> None:
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not off.can_fork()
        pid, total = off.offload(_pid_and_sum, [1, 2, 3])()
        assert (pid, total) == (os.getpid(), 6)
    finally:
        stop.set()
        t.join()
