"""Work in a forked child process (hazards.offload)."""

from __future__ import annotations

import os
import pickle
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from hazards import offload as off


def _forks() -> None:
    """Skip unless :func:`offload` forks now (decided when it runs, as it is)."""
    if not off.can_fork():
        pytest.skip("no fork here now (one core, or another thread running)")


def _pid_and_sum(values: list[int], *, extra: int = 0) -> tuple[int, int]:
    return os.getpid(), sum(values) + extra


def _fails(what: str) -> None:
    raise ValueError(f"bad {what}")


def _sleeps(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_the_work_runs_in_another_process_and_its_result_comes_back() -> None:
    _forks()
    values = list(range(100_000))  # seen by the child as it is, not pickled
    job = off.offload(_pid_and_sum, values, extra=5)
    assert job.forked
    pid, total = job.result()
    assert pid != os.getpid()
    assert total == 100_000 * 99_999 // 2 + 5


def test_a_result_asked_for_again_is_the_same_and_not_made_again() -> None:
    """A caller that asks twice (the road load: to compare fingerprints, then to write them)
    gets the child's answer both times; work done here is done once."""
    _forks()
    job = off.offload(_pid_and_sum, [1, 2, 3])
    first = job.result()
    assert first[0] != os.getpid() and job.result() is first
    calls: list[int] = []
    local = off.here(lambda: calls.append(1) or len(calls))
    assert (local.result(), local.result(), calls) == (1, 1, [1])


def test_what_the_work_raises_is_raised_to_the_caller() -> None:
    _forks()
    job = off.offload(_fails, "line")
    assert job.forked
    with pytest.raises(ValueError, match="bad line"):
        job.result()


def test_a_child_without_an_answer_has_its_work_done_here() -> None:
    _forks()
    here = os.getpid()
    calls: list[int] = []

    def work() -> object:
        calls.append(os.getpid())
        if os.getpid() != here:
            return lambda: None  # a result that does not pickle: the child sends nothing
        return 7

    job = off.offload(work)
    assert job.forked
    assert job.result() == 7
    assert calls == [here]  # the child's call was on its own copy of the list


def test_a_result_no_longer_wanted_stops_the_child() -> None:
    _forks()
    job = off.offload(_sleeps, 60.0)
    child = job._child
    assert job.forked and child.is_alive()
    started = time.perf_counter()
    job.cancel()
    assert not child.is_alive() and time.perf_counter() - started < 10
    job.cancel()  # again: nothing left to stop


def test_when_the_fork_fails_the_work_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    _forks()

    def no_fork() -> int:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(os, "fork", no_fork)
    job = off.offload(_pid_and_sum, [1, 2, 3])
    assert not job.forked
    assert job.result() == (os.getpid(), 6)


def test_with_another_thread_running_the_work_runs_here() -> None:
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not off.can_fork()
        job = off.offload(_pid_and_sum, [1, 2, 3])
        assert not job.forked
        assert job.result() == (os.getpid(), 6)
    finally:
        stop.set()
        t.join()


def test_the_callers_database_connection_outlives_the_child(engine) -> None:
    """The child ends without closing what it inherited: the parent's connection (checked
    out, in a transaction) still works after the child is gone."""
    _forks()
    with engine.connect() as conn:
        conn.execute(text("CREATE TEMP TABLE seen (n int)"))
        conn.execute(text("INSERT INTO seen VALUES (1)"))
        job = off.offload(_pid_and_sum, [4, 5])
        assert job.forked
        assert job.result()[1] == 9
        assert conn.execute(text("SELECT count(*) FROM seen")).scalar_one() == 1
        conn.rollback()


# ----------------------------------------------------------------------------- produce
def _pids_then(n: int, *, then: str = "done") -> Iterator[tuple[int, int]]:
    """``n`` items (this process's id, the item's number), then: stop, raise, or die."""
    for k in range(n):
        yield os.getpid(), k
    if then == "raise":
        raise ValueError(f"bad row {n + 1}")
    if then == "die":
        os._exit(3)


def _produce(n: int, **kw: object) -> Iterator[tuple[int, int]]:
    return off.produce(_pids_then, n, pack=pickle.dumps, unpack=pickle.loads, **kw)


def test_a_stream_is_made_in_another_process_in_order() -> None:
    _forks()
    items = list(_produce(5))
    assert [k for _, k in items] == [0, 1, 2, 3, 4]
    assert {pid for pid, _ in items} != {os.getpid()} and len({pid for pid, _ in items}) == 1
    here = list(_produce(3, apart=False))
    assert here == [(os.getpid(), 0), (os.getpid(), 1), (os.getpid(), 2)]


def test_what_the_stream_raises_comes_after_its_items() -> None:
    _forks()
    got: list[int] = []
    with pytest.raises(ValueError, match="bad row 4"):
        for _, k in _produce(3, then="raise"):
            got.append(k)
    assert got == [0, 1, 2]


def test_a_stream_whose_child_dies_says_so() -> None:
    _forks()
    got: list[int] = []
    with pytest.raises(off.ChildLost, match="exit code 3"):
        for _, k in _produce(2, then="die"):
            got.append(k)
    assert got == [0, 1]


def test_closing_a_stream_stops_its_child() -> None:
    _forks()
    stream = _produce(10**9)
    pid, _ = next(stream)
    assert pid != os.getpid()
    stream.close()
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # the child is gone once close returns; allow for a slow reaper
            os.kill(pid, 0)
            time.sleep(0.1)


_ORPHAN = """
import os, pickle, signal, sys
from hazards import offload

def big():
    while True:
        yield os.getpid(), b"x" * 1_000_000  # more than a pipe holds: the child waits to send

stream = offload.produce(big, pack=pickle.dumps, unpack=pickle.loads)
pid, _ = next(stream)
print(pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # the caller dies without a word (OOM killer, kill -9)
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return any(line.split()[:2] == ["State:", "Z"] for line in fh)  # a zombie has ended
    except FileNotFoundError:
        return True


def test_a_stream_whose_caller_dies_ends_too() -> None:
    """The child would otherwise wait forever to send, holding the caller's database
    connections (their sockets are the child's too) and so its transaction and locks."""
    _forks()
    if not os.path.isdir("/proc"):
        pytest.skip("no /proc here to see the child")
    import subprocess
    import sys

    caller = subprocess.run(
        [sys.executable, "-c", _ORPHAN], capture_output=True, text=True, timeout=60
    )
    pid = int(caller.stdout.split()[0])
    for _ in range(100):
        if _gone(pid):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        raise AssertionError(f"the child {pid} outlived its caller")


_CTRL_C = """
import multiprocessing, os, pickle, signal, sys, time
from multiprocessing.process import BaseProcess
from hazards import offload

real_start = BaseProcess.start

def start(self):
    real_start(self)
    os.kill(self.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the child just forked
    os.kill(os.getpid(), signal.SIGINT)  # and the caller, as it forks

BaseProcess.start = start

def slow():
    time.sleep(30)
    return 1

def items():
    while True:
        time.sleep(30)
        yield 1

try:
    if sys.argv[1] == "offload":
        offload.offload(slow)
    else:
        next(offload.produce(items, pack=pickle.dumps, unpack=pickle.loads))
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
time.sleep(0.5)  # time for a child to say anything
print("children", len(multiprocessing.active_children()), flush=True)
"""


@pytest.mark.parametrize("how", ["offload", "produce"])
def test_ctrl_c_during_the_fork_stops_the_child_quietly(how: str) -> None:
    """Ctrl-C reaching both processes as the child is forked: the caller is interrupted and
    its child stopped, and the child prints nothing (no traceback of its own)."""
    _forks()
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _CTRL_C, how], capture_output=True, text=True, timeout=60
    )
    assert run.stdout.split() == ["interrupted", "children", "0"], run.stdout + run.stderr
    assert run.stderr == ""


@pytest.mark.parametrize("at", [1, 2, 3], ids=["reading the mask", "blocking", "after"])
def test_a_ctrl_c_at_any_point_of_the_fork_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    """A Ctrl-C already pending is raised by the mask call that lets it in (Python checks for
    signals after the call, once the mask has changed): raised at each of the fork's mask calls
    in turn, it leaves Ctrl-C unblocked, the collector unfrozen and no child running."""
    import gc
    import multiprocessing
    import signal

    _forks()
    real = signal.pthread_sigmask
    calls: list[int] = []

    def sigmask(how: int, mask: Any) -> Any:
        out = real(how, mask)
        calls.append(how)
        if len(calls) == at:
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(signal, "pthread_sigmask", sigmask)
    with pytest.raises(KeyboardInterrupt):
        off.offload(_sleeps, 30)
    monkeypatch.undo()
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, ())
    assert gc.get_freeze_count() == 0
    assert multiprocessing.active_children() == []
