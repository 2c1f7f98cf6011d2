"""Work handed to a forked child process, to run on another core while the caller goes on.

A road load's route fingerprints are pure Python string work (hex, sort, join, SHA-1 of half a
million lines at the bench's size L) that needs nothing the rest of the load makes: a child
forked from the loading process sees the lines as they are (copy-on-write, nothing pickled on
the way in) and sends back only the fingerprints, while the parent assembles the routes.
Threads would not do: that work holds the interpreter lock.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether :func:`offload` forks here: a POSIX system, more than one core to run on, and no
    other thread running (a fork copies only the calling thread, and any lock another one
    holds stays held in the child)."""
    if not hasattr(os, "fork"):
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) > 1 and threading.active_count() == 1


class Offloaded(Generic[T]):
    """Work started by :func:`offload`: :meth:`result` waits for it; :meth:`cancel` stops a
    child whose result is no longer wanted (call it in a ``finally``; it does nothing once the
    result came back). ``forked``: whether a child does the work."""

    def __init__(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]):
        self._work = (fn, args, kwargs)
        self._child: Any = None
        self._receive: Any = None
        self.forked = False

    def _here(self) -> T:
        fn, args, kwargs = self._work
        return fn(*args, **kwargs)

    def _start(self) -> None:
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_answer, args=(send, *self._work), daemon=True)
        gc.freeze()  # the child neither collects nor copies what exists now
        try:
            child.start()
        except (OSError, AssertionError):  # no memory or processes left; a daemonic worker
            receive.close()
            return
        finally:
            gc.unfreeze()
            send.close()
        self._child, self._receive, self.forked = child, receive, True

    def result(self) -> T:
        """The work's result (or what it raised); done here when there is no child, or the
        child ended without a usable answer (killed, out of memory, a result that does not
        pickle)."""
        if self._child is None:
            return self._here()
        try:
            ok, value = self._receive.recv()
        except Exception:  # no answer (EOFError), or one that does not unpickle
            self.cancel()
            return self._here()
        self.cancel()
        if ok:
            return value  # type: ignore[no-any-return,unused-ignore]  # fn's result, unpickled
        raise value

    def cancel(self) -> None:
        """Stop the child (if still running) and let go of it and its pipe."""
        child, receive, self._child, self._receive = self._child, self._receive, None, None
        if child is None:
            return
        receive.close()
        if child.is_alive():
            child.terminate()
        child.join()


def offload(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Offloaded[T]:
    """Start ``fn(*args, **kwargs)`` in a forked child process; :meth:`Offloaded.result` waits
    for it and gives ``fn``'s result (sent back pickled), or raises what ``fn`` raised.

    ``fn`` must not change anything the caller relies on (it runs on a copy of this process)
    and its result should pickle. Where :func:`can_fork` is false, or the fork fails, ``fn``
    runs here when the result is asked for."""
    job = Offloaded(fn, args, kwargs)
    if can_fork():
        job._start()
    return job


def here(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Offloaded[T]:
    """The same work, done in this process when its result is asked for (no child)."""
    return Offloaded(fn, args, kwargs)


def _answer(send: Any, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> None:
    """The child's work: ``fn``'s result, or the exception it raised, sent back once. Ctrl-C is
    the parent's to handle (it stops the child)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        out: tuple[bool, Any] = (True, fn(*args, **kwargs))
    except Exception as exc:
        out = (False, exc)
    # an answer that does not pickle is not sent: the parent, seeing none, does the work itself
    with contextlib.suppress(Exception):
        send.send(out)
    send.close()
