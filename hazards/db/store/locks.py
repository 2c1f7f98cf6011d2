"""One writer at a time: PostgreSQL advisory locks per database and subject (survey import,
road load, plan commit), taken inside the writing transaction, with who holds them.

A writer calls :func:`writer_lock` first thing in its transaction. The lock is
``pg_advisory_xact_lock``: it is released when the transaction ends, however it ends (commit,
rollback, a killed client or server), so it can never go stale. Who holds it (a one-line
description and since when) is kept in the small ``writer_locks`` table, one row per subject
and server process, written by a short transaction of its own once the lock is held; a second
writer reads the row of the process that holds the lock (from ``pg_locks``) to say what it
waits for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from hazards.errors import ConflictError

if TYPE_CHECKING:
    from sqlalchemy import Connection

LOCK_CLASS = 0x4841_5A44  # 'HAZD': the first key of every lock of this tool
"""The first half of the two-int advisory lock key; the subject's number is the second."""

SUBJECTS: dict[str, int] = {"survey import": 1, "road load": 2, "plan commit": 3}
"""The subjects that have one writer at a time, with the second half of their lock key."""

WaitNotice = Callable[[dict[str, Any]], None]
"""Called once when a writer has to wait, with :func:`lock_holder`'s description and
``message``, the sentence to show (``Waiting for the survey import of a.csv by 某公司, started
at 2026-11-30 11:52:03 (one survey import at a time) ...``)."""


def lock_holder(conn: Connection, subject: str) -> dict[str, Any]:
    """Who holds the lock of ``subject``: ``subject``, ``pid``, ``what`` (the holder's
    description, None when unknown) and ``since`` (a datetime, None when unknown)."""
    row = (
        conn.execute(
            text(
                "SELECT l.pid, w.description, w.started_at FROM pg_locks l "
                "LEFT JOIN writer_locks w ON w.subject = :s AND w.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = CAST(:c AS oid) "
                "AND l.objid = CAST(:o AS oid) AND l.objsubid = 2 "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"s": subject, "c": LOCK_CLASS, "o": SUBJECTS[subject]},
        )
        .mappings()
        .first()
    )
    if row is None:
        return {"subject": subject, "pid": None, "what": None, "since": None}
    return {
        "subject": subject,
        "pid": row["pid"],
        "what": row["description"],
        "since": row["started_at"],
    }


def describe_holder(holder: dict[str, Any]) -> str:
    """``the survey import of a.csv by 某公司 started at 2026-11-30 11:52:03`` (what is known)."""
    what = holder.get("what") or f"another {holder['subject']}"
    since = holder.get("since")
    if isinstance(since, dt.datetime):
        return f"{what}, started at {since.astimezone().strftime('%Y-%m-%d %H:%M:%S')}"
    return what


def writer_lock(
    conn: Connection,
    subject: str,
    *,
    what: str,
    wait: bool = True,
    on_wait: WaitNotice | None = None,
) -> None:
    """Take the advisory lock of ``subject`` in ``conn``'s transaction (released when it ends).

    When another writer holds it: with ``wait``, ``on_wait`` is told who (once) and the call
    blocks until the lock is free; without, :class:`~hazards.errors.ConflictError` (``param``
    ``"wait"``) says who holds it and nothing is done. ``what`` describes this writer for the
    next one (``the survey import of a.csv by 某公司``)."""
    if subject not in SUBJECTS:
        raise ValueError(f"not a writer subject: {subject!r}")
    key = {"c": LOCK_CLASS, "o": SUBJECTS[subject]}
    got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:c, :o)"), key).scalar_one()
    if not got:
        holder = lock_holder(conn, subject)
        if not wait:
            raise ConflictError(
                f"Another {subject} is running: {describe_holder(holder)}. Nothing was "
                "changed; run it again when that one has finished, or let it wait.",
                param="wait",
            )
        if on_wait is not None:
            holder["message"] = (
                f"Waiting for {describe_holder(holder)} (one {subject} at a time) ..."
            )
            on_wait(holder)
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, :o)"), key)
    _record_holder(conn, subject, what)


def _record_holder(conn: Connection, subject: str, what: str) -> None:
    """Write who holds the lock now, in a short transaction of its own (so that a waiting writer
    sees it at once); a failure to write it never stops the writer."""
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    try:
        with conn.engine.begin() as other:
            other.execute(
                text(
                    "INSERT INTO writer_locks (subject, pid, description, started_at) "
                    "VALUES (:s, :p, :d, now()) ON CONFLICT (subject, pid) DO UPDATE SET "
                    "description = EXCLUDED.description, started_at = EXCLUDED.started_at"
                ),
                {"s": subject, "p": pid, "d": what[:500]},
            )
    except Exception:  # noqa: BLE001  # only the description for a waiting writer is lost
        return
