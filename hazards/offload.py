"""Work handed to a forked child process, to run on another core while the caller goes on.

A road load's route fingerprints are pure Python string work (hex, sort, join, SHA-1 of half a
million lines at the bench's size L) that needs nothing the rest of the load makes: a child
forked from the loading process sees the lines as they are (copy-on-write, nothing pickled on
the way in) and sends back only the fingerprints, while the parent assembles the routes.
Threads would not do: that work holds the interpreter lock.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether :func:`offload` forks here: a POSIX system, more than one core to run on, and no
    other thread running (a fork copies only the calling thread, and any lock another one
    holds stays held in the child)."""
    if not hasattr(os, "fork"):
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) > 1 and threading.active_count() == 1


def offload(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Callable[[], T]:
    """Start ``fn(*args, **kwargs)`` in a forked child process; returns a function that waits
    for it and gives ``fn``'s result (sent back pickled), or raises what ``fn`` raised.

    ``fn`` must not change anything the caller relies on (it runs on a copy of this process)
    and its result must be picklable. Where :func:`can_fork` is false ``fn`` runs here and
    now; should the child die before it answers (killed, out of memory), ``fn`` runs here
    when the result is asked for."""
    if not can_fork():
        value = fn(*args, **kwargs)
        return lambda: value
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_answer, args=(send, fn, args, kwargs), daemon=True)
    child.start()
    send.close()

    def result() -> T:
        try:
            ok, value = receive.recv()
        except EOFError:  # the child is gone without an answer: do the work here
            child.join()
            return fn(*args, **kwargs)
        finally:
            receive.close()
        child.join()
        if ok:
            return value  # type: ignore[no-any-return,unused-ignore]  # fn's result, unpickled
        raise value

    return result


def _answer(send: Any, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> None:
    """The child's work: ``fn``'s result, or the exception it raised, sent back once."""
    try:
        out: tuple[bool, Any] = (True, fn(*args, **kwargs))
    except Exception as exc:
        out = (False, exc)
    send.send(out)
    send.close()
