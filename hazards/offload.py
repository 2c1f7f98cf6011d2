"""Work handed to a forked child process, to run on another core while the caller goes on.

A road load's route fingerprints are pure Python string work (hex, sort, join, SHA-1 of half a
million lines at the bench's size L) that needs nothing the rest of the load makes: a child
forked from the loading process sees the lines as they are (copy-on-write, nothing pickled on
the way in) and sends back only the fingerprints, while the parent assembles the routes.
Threads would not do: that work holds the interpreter lock.

:func:`produce` does the same for a stream: a survey import's reading, parsing and search for
each point's nearest segments run in a child, chunk after chunk, while the importing process
finishes the matching, sorts and stores the chunks the child has sent.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

from hazards.errors import HazardsError

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
        self._made: tuple[T] | None = None  # the result, once it came back or was made here
        self.forked = False

    def _here(self) -> T:
        fn, args, kwargs = self._work
        return fn(*args, **kwargs)

    def _start(self) -> None:
        started = _fork(_answer, *self._work)
        if started is not None:
            self._child, self._receive = started
            self.forked = True

    def result(self) -> T:
        """The work's result (or what it raised); done here when there is no child, or the
        child ended without a usable answer (killed, out of memory, a result that does not
        pickle). Asked for again, the same result: the work is not done twice."""
        if self._made is None:
            self._made = (self._result(),)
        return self._made[0]

    def _result(self) -> T:
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
        _stop(child, receive)


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


def _fork(target: Callable[..., None], *args: Any) -> tuple[Any, Any] | None:
    """A forked child running ``target(send, receive, *args)`` (the two ends of a new pipe:
    the child sends, and lets go of the caller's end first, :func:`_child_start`), and the
    caller's end; None when the fork fails (no memory or processes left; a daemonic worker)."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=target, args=(send, receive, *args), daemon=True)
    mask = None
    try:
        # Ctrl-C held back over the fork: the child ignores it before it lets it in, and the
        # caller gets it once it holds the child, to stop it. (A Ctrl-C already pending is
        # raised by either call, after it changed the mask: the first changes nothing.)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, ())
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        gc.freeze()  # the child neither collects nor copies what exists now
        try:
            child.start()
        finally:
            gc.unfreeze()
            send.close()
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a Ctrl-C meanwhile is raised here
    except BaseException as exc:
        send.close()
        _stop(child, receive)
        if mask is not None:  # last: a Ctrl-C held back meanwhile is raised here
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if isinstance(exc, (OSError, AssertionError)) and child.pid is None:
            return None  # the fork failed: the work is done in this process
        raise
    return child, receive


def _stop(child: Any, receive: Any) -> None:
    """Let go of a child's pipe and stop the child if it still runs (or was never started)."""
    receive.close()
    if child.pid is None:
        return
    if child.is_alive():
        child.terminate()
    child.join()


def _answer(
    send: Any, receive: Any, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any
) -> None:
    """The child's work: ``fn``'s result, or the exception it raised, sent back once. Ctrl-C is
    the parent's to handle (it stops the child)."""
    _child_start(receive)
    try:
        out: tuple[bool, Any] = (True, fn(*args, **kwargs))
    except Exception as exc:
        out = (False, exc)
    # an answer that does not pickle is not sent: the parent, seeing none, does the work itself
    with contextlib.suppress(Exception):
        send.send(out)
    send.close()


class ChildLost(HazardsError, RuntimeError):
    """The child of :func:`produce` ended without finishing (killed, out of memory)."""


def produce(
    fn: Callable[..., Iterator[T]],
    /,
    *args: Any,
    pack: Callable[[T], bytes],
    unpack: Callable[[bytes], T],
    apart: bool = True,
    **kwargs: Any,
) -> Generator[T, None, None]:
    """The items of the generator ``fn(*args, **kwargs)``, made in a forked child while the
    caller consumes them (with ``apart`` and where :func:`can_fork`; else made here, as the
    caller asks for them). Each item crosses as ``pack``'s bytes, made whole by ``unpack``; the
    child makes at most one item ahead of the caller (it waits to hand it over). What ``fn``
    raises is raised here, after the items before it. A child that ends without finishing
    raises :class:`ChildLost`. Closing the iterator (or leaving a loop over it) stops the child.

    ``fn`` runs on a copy of this process: it must not use what the caller uses meanwhile
    (open database connections, files the caller reads)."""
    started = _fork(_stream, fn, args, kwargs, pack) if apart and can_fork() else None
    if started is None:
        yield from fn(*args, **kwargs)
        return
    child, receive = started
    try:
        while True:
            try:
                message = receive.recv_bytes()
            except EOFError:
                child.join(5)
                raise ChildLost(
                    f"the child process ended before its work was done (exit code "
                    f"{child.exitcode}: killed, or out of memory?)"
                ) from None
            kind, body = message[:1], message[1:]
            if kind == b"i":
                yield unpack(body)
            elif kind == b"e":
                raise pickle.loads(body)
            else:  # b"d": done
                return
    finally:
        _stop(child, receive)


def _stream(
    send: Any,
    receive: Any,
    fn: Callable[..., Iterator[Any]],
    args: Any,
    kwargs: Any,
    pack: Any,
) -> None:
    """The child of :func:`produce`: each item sent as it is made, then ``d`` (done) or ``e``
    and the exception (pickled; an exception that does not pickle goes as a RuntimeError
    saying what it was)."""
    _child_start(receive)
    try:
        for item in fn(*args, **kwargs):
            send.send_bytes(b"i" + pack(item))
        send.send_bytes(b"d")
    except BrokenPipeError:  # the caller stopped listening
        pass
    except Exception as exc:
        try:
            body = pickle.dumps(exc)
            pickle.loads(body)  # the caller must be able to make it again
        except Exception:
            body = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        with contextlib.suppress(Exception):
            send.send_bytes(b"e" + body)
    send.close()


def _child_start(receive: Any) -> None:
    """First thing in a child: let go of the caller's end of the pipe (so that, should the
    caller die, the child's next send fails and it ends, rather than keeping the caller's
    database connections open), and leave Ctrl-C to the caller, which stops the child (held
    back since the fork, :func:`_fork`, and ignored from now on)."""
    receive.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
