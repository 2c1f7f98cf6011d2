"""A survey sheet read, parsed and placed chunk by chunk up to each point's nearest segments
(the ``survey`` step and the first half of ``reconcile``, :func:`hazards.reconcile.start`),
for :mod:`hazards.intake` to finish matching (:func:`hazards.reconcile.finish`), sort and store.

:func:`matched_chunks` runs them in a child process where one can be forked
(:func:`hazards.offload.produce`), so that the importing process finishes, sorts and stores
each chunk while the child reads and places the next: a survey import is bound by the
interpreter, which one process holds at a time. The chunks cross as tuples of their rows' and
matches' fields, and the search's lists.
"""

from __future__ import annotations

import io
import itertools
import operator
import pickle
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import fields
from typing import TYPE_CHECKING

from hazards.collector import fewer_collections
from hazards.offload import produce
from hazards.reconcile import Match, Nearest, Network, Started, start
from hazards.survey import ParsedRow, parse_chunk, stored_raw

if TYPE_CHECKING:
    from hazards.settings import Settings


@contextmanager
def timed(
    timings: dict[str, float] | None,
    phase: str,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[None]:
    """Add the seconds spent inside the block to ``timings[phase]`` (when timings are kept), by
    ``clock``: the wall clock, or ``time.thread_time`` for work that waits for nothing but
    shares the interpreter with another thread (whose turns the wall clock would count)."""
    if timings is None:
        yield
        return
    t0 = clock()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + clock() - t0


Chunk = tuple[Started, dict[str, float], int]
"""A chunk placed up to the search for its points' nearest segments, the search done (its
``near`` a :class:`~hazards.reconcile.Nearest` or None: :func:`~hazards.reconcile.finish` makes
the matches), the seconds spent on it in ``parse`` and ``reconcile``, and the rows the import
brings as far as known then: the sheet's rows once it has ended (the child reads one chunk
ahead), else those read so far or ``chunk_rows``, whichever is more (what the first chunk's
length said before the first chunks were made smaller)."""

RAMP_MIN_ROWS = 2_500
"""The smallest chunk of the ramp that starts a sheet (:func:`chunk_sizes`)."""


def chunk_sizes(chunk_rows: int) -> Iterator[int]:
    """The rows of each chunk in turn: ``chunk_rows``, after smaller first chunks (a
    sixteenth, an eighth, a quarter, then a half of it, each from :data:`RAMP_MIN_ROWS` up).
    The importing process has nothing to store until the first chunk is read and placed, and
    the child places one chunk ahead: small first chunks start it sooner (docs/decisions.md,
    "a ramp of smaller first chunks")."""
    ramp = [chunk_rows // k for k in (16, 8, 4, 2) if chunk_rows // k >= RAMP_MIN_ROWS]
    yield from ramp
    yield from itertools.repeat(chunk_rows)


def matched_chunks(
    stream: Iterator[dict[str, str]],
    *,
    headers: dict[str, str],
    network: Network,
    settings: Settings,
    crs: str | None,
    chunk_rows: int,
    apart: bool,
) -> Generator[Chunk, None, None]:
    """The sheet's rows (``stream``: its rows as read) ``chunk_rows`` at a time (after a ramp of
    smaller first chunks: :func:`chunk_sizes`), parsed and placed up to their nearest segments
    (:data:`Chunk`: pass each to :func:`~hazards.reconcile.finish` in turn, with the same
    :class:`~hazards.reconcile.Kept`); read and placed in a child process with ``apart`` (where
    one can be forked), else here. Close the iterator to stop the child early."""
    return produce(
        _chunks,
        stream,
        headers=headers,
        network=network,
        settings=settings,
        crs=crs,
        chunk_rows=chunk_rows,
        pack=_pack,
        unpack=_unpack,
        apart=apart,
    )


def _chunks(
    stream: Iterator[dict[str, str]],
    *,
    headers: dict[str, str],
    network: Network,
    settings: Settings,
    crs: str | None,
    chunk_rows: int,
) -> Iterator[Chunk]:
    """:func:`matched_chunks`' work. A chunk's nearest-segment search (mostly C code) runs in a
    thread while the next chunk is read and parsed."""
    with fewer_collections(), ThreadPoolExecutor(1) as search:
        line = 1
        pending: Started | None = None
        spent = dict.fromkeys(("parse", "reconcile"), 0.0)
        sizes = chunk_sizes(chunk_rows)
        while True:
            with timed(spent, "parse"):
                chunk = list(itertools.islice(stream, next(sizes)))
                rows = parse_chunk(chunk, headers=headers, start=line) if chunk else []
            line += len(rows)
            with timed(spent, "reconcile"):
                started = (
                    start(rows, network, crs=crs, settings=settings, submit=search.submit)
                    if rows
                    else None
                )
            del chunk, rows
            if pending is not None:
                with timed(spent, "reconcile"):
                    pending.searched()  # the search's result crosses, not its future
                read = line - 1
                yield pending, spent, read if started is None else max(read, chunk_rows)
                spent = dict.fromkeys(spent, 0.0)
            pending = started
            if pending is None:
                return


_ROW_FIELDS = operator.attrgetter(*(f.name for f in fields(ParsedRow)))
_MATCH_FIELDS = operator.attrgetter(*(f.name for f in fields(Match)))
_NEAREST_FIELDS = operator.attrgetter(*(f.name for f in fields(Nearest)))


def _pack(chunk: Chunk) -> bytes:
    """A chunk as bytes, each row and match as the tuple of its fields (a dataclass with slots
    pickles several times slower), the search's result as its lists."""
    started, spent, read = chunk
    near = started.searched()
    return _dumps(
        (
            list(map(_row_fields, started.rows)),
            list(map(_MATCH_FIELDS, started.matches)),
            started.by_chainage,
            started.unknown,
            None if near is None else _NEAREST_FIELDS(near),
            spent,
            read,
        )
    )


def _dumps(obj: object) -> bytes:
    """``obj`` pickled without the pickler's memo (its "fast" mode): a chunk is a tree of
    tuples, lists and values, no object in it twice that must stay one, and none holding
    itself; the memo's bookkeeping took two thirds of the time (a chunk of 50,000 rows: 0.05 s
    against 0.14–0.22 s to dump, 0.10 against 0.14 s to load; docs/decisions.md)."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(obj)
    return out.getvalue()


_RAW, _RAW_TEXT, _RAW_HASH = (
    [f.name for f in fields(ParsedRow)].index(n) for n in ("raw", "raw_text", "raw_hash")
)


def _row_fields(row: ParsedRow) -> tuple[object, ...]:
    """A row to send, as the tuple of its fields: a row to store has its cells as their stored
    text and hash (:func:`~hazards.survey.stored_raw`, made here, where a core is free; one
    text crosses instead of a dict of cells, and :func:`~hazards.survey.row_cells` reads them
    back)."""
    values = _ROW_FIELDS(row)
    if row.empty:
        return values
    text, digest = stored_raw(row)
    out = list(values)
    out[_RAW], out[_RAW_TEXT], out[_RAW_HASH] = {}, text, digest
    return tuple(out)


def _unpack(body: bytes) -> Chunk:
    rows, matches, by_chainage, unknown, near, spent, read = pickle.loads(body)
    started = Started(
        list(itertools.starmap(ParsedRow, rows)),
        list(itertools.starmap(Match, matches)),
        by_chainage,
        unknown,
        None if near is None else Nearest(*near),
    )
    return started, spent, read
