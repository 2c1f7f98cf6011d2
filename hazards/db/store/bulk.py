"""Bulk mode: a large load into a small table writes its rows first and its keys after.

A table's secondary indexes and its foreign keys cost most of a load when they are kept up to
date row by row: a GiST insertion and three foreign-key look-ups per hazard. Built once after
the rows are in (a sorted index build, one join per foreign key) they cost a fraction of that,
*when the table was small before the load*: each rebuild reads the whole table. So a load
defers a table's keys (:func:`defer_keys`) only when the table holds no more rows than the load
brings and the user owns the table (only its owner may drop and re-create its keys); the
primary key stays, so the rows can still be found by id and referenced, unless the load asks
for it to go too (the road load, which reads no segment by id until its keys are back).
:func:`restore_keys` re-creates every deferred index and constraint from its own definition,
as the database printed it, in the same transaction: the table ends exactly as it was declared, and a row
that breaks a key fails the load as it would have row by row.

While its keys are deferred the table is locked (``ACCESS EXCLUSIVE``) until the load
commits: other sessions wait to read it. The measurements behind the rule are in
docs/decisions.md ("Bulk survey imports").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

if TYPE_CHECKING:
    from sqlalchemy import Connection

BULK_MIN_ROWS = 5_000
"""Rows a load must bring before its table's keys are deferred: below this, keeping them up
to date costs about as little as rebuilding them (into empty tables, docs/decisions.md: a
survey import of 1,000 rows took as long either way, of 2,500 rows 0.06 s less in bulk mode, of
5,000 rows 0.19 s less; a road load of 1,000 segments 0.02 s more, 2,500 0.02 s less, 5,000
0.04 s less)."""


BULK_ONLINE = (
    "ix_hazards_extent",
    "ix_hazards_road_id",
    "ix_hazards_status",
)
"""Indexes a survey import keeps up to date in bulk mode (docs/decisions.md): the extents'
(partial; no row has one until the keys are made again, then the extents are cut), and those
each chunk fills in order (roads in road order, a few statuses), which
the writer absorbs while the next chunk is read and matched, where a build at the end reads
the whole table (2.6 GB at 2 million hazards) for each. Not the points' GiST index: kept up
to date it took four times the server's time of a sorted build at the end (9.5 µs a row
against 2.4), at a moment when the import has both cores busy."""


@dataclass
class DeferredKeys:
    """The keys of ``table`` dropped by :func:`defer_keys`, as their definitions."""

    table: str
    unique: list[tuple[str, str]] = field(default_factory=list)  # name, constraint definition
    indexes: list[tuple[str, str]] = field(default_factory=list)  # name, CREATE INDEX statement
    foreign: list[tuple[str, str]] = field(default_factory=list)  # name, constraint definition
    primary: tuple[str, str] | None = None  # name, constraint definition
    # other tables' foreign keys to the primary key: table, name, constraint definition
    referencing: list[tuple[str, str, str]] = field(default_factory=list)


def worth_deferring(conn: Connection, table: str, *, incoming: int, min_rows: int) -> bool:
    """Whether a load of ``incoming`` rows into ``table`` should defer its keys: at least
    ``min_rows`` rows, no fewer than the table holds now, and a user who owns the table."""
    if incoming < min_rows:
        return False
    owner = conn.execute(
        text(
            "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c "
            "WHERE c.oid = CAST(:t AS regclass)"
        ),
        {"t": table},
    ).scalar_one()
    if not owner:
        return False
    # Counted up to one past the load's size: a province-sized table is not read through.
    held = conn.execute(
        text(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT :n) t"),  # noqa: S608
        {"n": incoming + 1},
    ).scalar_one()
    return int(held) <= incoming


def defer_keys(
    conn: Connection, table: str, *, keep: Collection[str] = (), primary: int = 0
) -> DeferredKeys:
    """Lock ``table`` and drop its unique constraints, secondary indexes and foreign keys (not
    the primary key, nor those named in ``keep``: ones the load gives no entry to or fills in
    order, :data:`BULK_ONLINE`), keeping their definitions for :func:`restore_keys`.

    ``primary``: the rows the load brings, for a load that reads nothing of the table by id
    before its keys are made again (the road load): the primary key is deferred too, with the
    other tables' foreign keys to it, when each of those tables is the user's, holds no more
    rows than that (each is checked again in one pass when it is re-made) and is not in use
    by another session now (it is then locked until the load commits)."""
    conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
    keys = DeferredKeys(table)
    for name, kind, definition in conn.execute(
        text(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('u', 'f') ORDER BY conname"
        ),
        {"t": table},
    ):
        if name not in keep:
            (keys.unique if kind == "u" else keys.foreign).append((name, definition))
    keys.indexes = [
        (name, definition)
        for name, definition in conn.execute(
            text(
                "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = CAST(:t AS regclass) "
                "AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid) ORDER BY i.relname"
            ),
            {"t": table},
        )
        if name not in keep
    ]
    if primary:
        _defer_primary(conn, keys, primary)
    for other, name, _ in keys.referencing:
        conn.execute(text(f'ALTER TABLE {other} DROP CONSTRAINT "{name}"'))
    for name, _ in keys.foreign + keys.unique + ([keys.primary] if keys.primary else []):
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in keys.indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    return keys


def _defer_primary(conn: Connection, keys: DeferredKeys, incoming: int) -> None:
    """Add ``keys.table``'s primary key, and the foreign keys to it, to what is deferred, when
    every table holding such a foreign key is the user's and small (see :func:`defer_keys`)."""
    found = conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'p'"
        ),
        {"t": keys.table},
    ).first()
    if found is None:
        return
    referencing = [
        (str(other), name, definition)
        for other, name, definition in conn.execute(
            text(
                "SELECT CAST(conrelid AS regclass), conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE confrelid = CAST(:t AS regclass) AND contype = 'f' "
                "AND conrelid <> confrelid ORDER BY 1, 2"
            ),
            {"t": keys.table},
        )
    ]
    others = sorted({r[0] for r in referencing})
    for other in others:
        if not worth_deferring(conn, other, incoming=incoming, min_rows=0):
            return
    # Their foreign keys are dropped, which locks them too: only when no one is using them
    # now (NOWAIT). Waiting here, with the table locked already, could deadlock with a writer
    # of theirs that then reads the table (a survey import checking its segment ids).
    try:
        with conn.begin_nested():
            for other in others:
                conn.execute(text(f"LOCK TABLE {other} IN ACCESS EXCLUSIVE MODE NOWAIT"))
    except OperationalError:
        return  # in use: the primary key is kept up row by row, as before
    keys.primary = (found[0], found[1])
    keys.referencing = referencing


def reserve_ids(conn: Connection, table: str, n: int) -> int:
    """The first of ``n`` consecutive ids of ``table``'s ``id`` column, taken from its sequence
    at once, for a load that gives each row its id (the column's default would call the
    sequence once a row: 0.3 s of a 500,000-segment COPY). Only while the table's keys are
    deferred: its lock then keeps every other writer out, so no one draws from the sequence
    in between."""
    first = int(
        conn.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"), {"t": table}
        ).scalar_one()
    )
    if n > 1:
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :last)"),
            {"t": table, "last": first + n - 1},
        )
    return first


def draw_ids(conn: Connection, table: str, n: int, *, held: bool = False) -> list[int]:
    """``n`` new ids of ``table``'s ``id`` column from its sequence, in the order drawn (as its
    default would draw them row by row), in one statement, for rows written with them. The
    sequence is named as a constant (``nextval`` of a name looked up per row cost 6 µs a row
    against 0.7). Drawn together the ids are consecutive, sent back as their ends, unless
    another session drew ids meanwhile: then (only then) the ids themselves come back.

    ``held``: this transaction holds ``table`` in ``ACCESS EXCLUSIVE`` mode (:func:`defer_keys`),
    so no other session's insert draws from the sequence meanwhile: a sequence counting by one,
    without a cache of values per session, is moved past the ``n`` ids at once (``setval``):
    the same ids as drawn one by one, without the 2.7 µs each ``nextval`` costs (5.6 s of a
    2-million-row import)."""
    from psycopg import sql

    if n < 1:
        return []
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(
            "SELECT s, q.seqincrement, q.seqcache FROM pg_get_serial_sequence(%s, 'id') s "
            "JOIN pg_sequence q ON q.seqrelid = s::regclass",
            (table,),
        )
        row = cur.fetchone()
        assert row is not None
        seq, step, cache = sql.Literal(row[0]), row[1], row[2]
        if held and step == 1 and cache == 1:  # no values cached ahead by any session
            cur.execute(sql.SQL("SELECT setval({0}, nextval({0}) + %s - 1)").format(seq), (n,))
            last = cur.fetchone()
            assert last is not None
            return list(range(last[0] - n + 1, last[0] + 1))
        cur.execute(
            sql.SQL(
                "SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL "
                "ELSE array_agg(v ORDER BY v) END "
                "FROM (SELECT nextval({}) AS v FROM generate_series(1, %s)) s"
            ).format(seq),
            (n,),
        )
        got = cur.fetchone()
        assert got is not None
        lo, hi, drawn = got
    return list(range(lo, hi + 1)) if drawn is None else list(drawn)


def restore_keys(conn: Connection, keys: DeferredKeys) -> None:
    """Re-create what :func:`defer_keys` dropped: unique constraints, indexes, then foreign
    keys (each checked in one pass over the table), the primary key first and the other
    tables' foreign keys to it last."""
    t = keys.table
    if keys.primary:
        conn.execute(text(f'ALTER TABLE {t} ADD CONSTRAINT "{keys.primary[0]}" {keys.primary[1]}'))
    for name, definition in keys.unique:
        conn.execute(text(f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {definition}'))
    for _, statement in keys.indexes:
        conn.execute(text(statement))
    for name, definition in keys.foreign:
        conn.execute(text(f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {definition}'))
    for other, name, definition in keys.referencing:
        conn.execute(text(f'ALTER TABLE {other} ADD CONSTRAINT "{name}" {definition}'))
