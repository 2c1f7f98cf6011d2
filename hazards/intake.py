"""A survey file → hazards in the inventory (the ``intake`` step): read, parse, reconcile, store.

The conductor of the survey pipeline. :func:`import_survey` reads the sheet
(:mod:`hazards.survey`), matches its rows onto the road network (:mod:`hazards.reconcile`) and
stores them (:mod:`hazards.db.store`), ``chunk_rows`` rows at a time, in one transaction. It
returns the accounting as a :class:`SurveyImportReport` (the ``--json`` of ``survey import``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypedDict

import pandas as pd

from hazards.errors import InputError, InputFileNotFound
from hazards.reconcile import Kept, Match, Network, reconcile
from hazards.survey import ParsedRow, Sheet, open_sheet, parse_chunk, sheet_headers

if TYPE_CHECKING:
    from sqlalchemy import Engine

CHUNK_ROWS = 50_000
"""Rows parsed, matched and stored at a time: bounds the memory of an import."""

PHASES = ("parse", "reconcile", "store")
"""The phases :func:`import_survey` times into its ``timings`` dict."""


class RejectedRow(TypedDict):
    """A rejected or duplicate row in the report: its row id, data-row number and reason."""

    row: str
    line: int
    reason: str | None


class SurveyImportReport(TypedDict):
    """The accounting of one survey import (``hazards survey import --json``; docs/survey.md).

    ``accepted + review + rejected + duplicates + empty == rows``; of the stored rows
    (accepted + review), ``added + updated + unchanged + seen_again`` say what became of them.
    """

    survey_id: int
    file: str
    provider: str
    surveyed_on: str
    encoding: str | None
    headers: dict[str, str]
    rows: int
    accepted: int
    review: int
    rejected: int
    duplicates: int
    empty: int
    rejected_by_reason: dict[str, int]
    rejected_file: str | None
    warnings: int
    added: int
    updated: int
    unchanged: int
    seen_again: int
    already_imported: bool
    rejected_rows: list[RejectedRow]
    duplicate_rows: list[RejectedRow]


def _raw_json(raw: dict[str, str]) -> str:
    """The row's cells as JSON with sorted keys: stored as ``raw``; its sha1 is ``content_hash``."""
    return json.dumps(raw, sort_keys=True, ensure_ascii=False)


class RejectedWriter:
    """The rejected rows with their original columns, ``source_row`` and ``rejected_reason``.

    UTF-8 with BOM so that Excel opens the Chinese text; the firm fixes and re-sends it. Rows
    go to ``NAME.part`` as they are rejected; :meth:`keep` renames it to ``path`` once the
    import has succeeded, :meth:`discard` removes it when it failed. No file without a row.
    """

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.columns = [c for c in columns if not c.startswith("_")]
        self._fh: IO[str] | None = None
        self._w: Any = None  # a csv writer (its type is private to the csv module)

    @property
    def used(self) -> bool:
        """Whether a row was written (so there is a file to keep)."""
        return self._fh is not None

    def write(self, row: ParsedRow, reason: str) -> None:
        """Add one rejected row, with the reason."""
        if self._w is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.part.open("w", encoding="utf-8-sig", newline="")
            self._w = csv.writer(self._fh)
            self._w.writerow([*self.columns, "source_row", "rejected_reason"])
        self._w.writerow([*(row.raw.get(c, "") for c in self.columns), row.row_id, reason])

    def keep(self) -> None:
        """The import succeeded: the file takes its name."""
        if self._fh is not None:
            self._fh.close()
            self.part.replace(self.path)

    def discard(self) -> None:
        """The import failed: no file is left behind."""
        if self._fh is not None:
            self._fh.close()
            self.part.unlink(missing_ok=True)


def _rejected_target(path: Path, explicit: str | Path | None) -> Path:
    if explicit:
        return Path(explicit)
    target = path.with_name(f"{path.stem}.rejected.csv")
    return target if os.access(path.parent, os.W_OK) else Path.cwd() / target.name


def _file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class _Known:
    """Hazards already in the database that rows may correct (the provider's own rows, by
    row id) or repeat (same route, part and category within ``duplicate_m``).

    Fetched once for the provider, then per route the first time a chunk meets it; only
    committed hazards are seen, so rows of the import itself never count as known.
    """

    def __init__(self, engine: Engine, provider: str) -> None:
        self.engine, self.provider = engine, provider
        self.own: dict[str, Any] = {}
        self.near: dict[tuple[str, int, str], list[tuple[float, int, str]]] = {}
        self._codes: set[str] = set()
        self._ids: set[int] = set()
        self._first = True

    def fetch(self, codes: set[str]) -> None:
        from hazards.db import store

        todo = sorted(codes - self._codes)
        if not todo and not self._first:
            return
        frame = store.known_hazards(
            self.engine, provider=self.provider if self._first else None, route_codes=todo
        )
        self._first = False
        self._codes.update(todo)
        for h in frame.itertuples(index=False):
            if h.id in self._ids:
                continue
            self._ids.add(h.id)
            if h.provider == self.provider and h.provider_row_id is not None:
                self.own.setdefault(str(h.provider_row_id), h)
            if h.route_code is not None and h.chainage_m is not None and not pd.isna(h.chainage_m):
                key = (h.route_code, int(h.part), h.category if isinstance(h.category, str) else "")
                self.near.setdefault(key, []).append((float(h.chainage_m), int(h.id), h.public_id))

    def repeated(
        self, route_code: str, part: int, category: str, chainage_m: float, within: float
    ) -> tuple[int, str] | None:
        for ch, hid, pid in self.near.get((route_code, part, category), ()):
            if abs(ch - chainage_m) <= within:
                return hid, pid
        return None


# Columns of a new hazard as :func:`import_survey` gives them to the store, in this order.
NEW_HAZARD_COLUMNS = (
    "admin_code",
    "provider_row_id",
    "source_line",
    "raw",
    "content_hash",
    "category",
    "category_raw",
    "description",
    "provided_tier",
    "tier",
    "status",
    "road_id",
    "segment_id",
    "chainage_m",
    "snap_distance_m",
    "match_method",
    "match_status",
    "review_reason",
    "warnings",
    "countermeasure",
    "provided_cost_cny",
    "length_m",
    "photo",
    "geom",
)


def _read_chunk(rows: Iterator[dict[str, str]], n: int) -> list[dict[str, str]]:
    """The next ``n`` rows of the sheet (fewer at its end)."""
    return list(itertools.islice(rows, n))


@contextmanager
def _timed(timings: dict[str, float] | None, phase: str) -> Iterator[None]:
    """Add the seconds spent inside the block to ``timings[phase]`` (when timings are kept)."""
    if timings is None:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - t0


def import_survey(
    path: str | Path,
    *,
    provider: str,
    surveyed_on: dt.date | str,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    rejected_path: str | Path | None = None,
    engine: Engine | None = None,
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Callable[[int], None] | None = None,
    timings: dict[str, float] | None = None,
) -> SurveyImportReport:
    """Read, reconcile and store a survey file; returns the accounting (``--json``).

    ``accepted + review + rejected + duplicates + empty == rows``. Importing the same file
    again changes nothing. Rows of a corrected file from the same provider update the hazard
    they came from (matched by the provider's row id) or are left alone when unchanged; a row
    repeating a hazard already known on the same route is linked to it as seen again.

    The sheet is read, matched and stored ``chunk_rows`` rows at a time, all in one
    transaction: a failure anywhere leaves the database as it was. ``on_progress`` is called
    with the number of rows done after each chunk. ``timings``, when given, accumulates the
    seconds spent in each phase under ``"parse"`` (hashing, opening, reading and parsing the
    sheet), ``"reconcile"`` (loading the network and matching) and ``"store"`` (looking up
    known hazards and writing).
    """
    from hazards.db import store
    from hazards.db.session import get_engine

    p = Path(path)
    who = (provider or "").strip()
    if not who:
        raise InputError(
            "The survey's provider is required: the name of the survey firm (e.g. 湖南某检测公司).",
            param="provider",
        )
    try:
        on = (
            surveyed_on
            if isinstance(surveyed_on, dt.date)
            else dt.date.fromisoformat(str(surveyed_on))
        )
    except ValueError as exc:
        raise InputError(
            f"The survey date {surveyed_on!r} is not a date; write it as YYYY-MM-DD.",
            param="surveyed_on",
        ) from exc
    if not p.is_file():
        raise InputFileNotFound(f"{p}: no such file. Check the path.")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if timings is not None:
        for phase in PHASES:
            timings.setdefault(phase, 0.0)
    with _timed(timings, "parse"):
        sha = _file_sha256(p)
    engine = engine or get_engine()
    earlier = store.survey_by_sha(engine, sha)
    if earlier is not None:
        before = dict(earlier["report"] or {})
        before.update(already_imported=True, survey_id=earlier["id"], added=0, updated=0)
        return before  # type: ignore[return-value]  # the report stored by that import
    with _timed(timings, "parse"):
        sh, stream = open_sheet(p, sheet=sheet, encoding=encoding, crs=crs)
    try:
        return _import_rows(
            p,
            sh,
            stream,
            provider=who,
            surveyed_on=on,
            sha=sha,
            mapping=mapping,
            crs=crs,
            rejected_path=rejected_path,
            engine=engine,
            chunk_rows=chunk_rows,
            on_progress=on_progress,
            timings=timings,
        )
    finally:
        close = getattr(stream, "close", None)  # the CSV file or the workbook
        if close is not None:
            close()


@dataclass
class _Tally:
    """What an import has counted so far, carried from chunk to chunk."""

    buckets: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("accepted", "review", "rejected", "duplicate", "empty"), 0
        )
    )
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("added", "updated", "unchanged", "seen_again"), 0)
    )
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    duplicate_rows: list[RejectedRow] = field(default_factory=list)
    warnings: int = 0


_STATUS_OF = {"accepted": "identified", "review": "review"}  # match status -> hazard status


def _sort_chunk(
    rows: list[ParsedRow],
    matches: list[Match],
    *,
    known: _Known,
    tally: _Tally,
    rejected: RejectedWriter,
    admin_code: str,
    duplicate_m: float,
) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]], list[tuple[int, str]]]:
    """Count a chunk's rows and split the stored ones into new hazards (``NEW_HAZARD_COLUMNS``
    tuples), corrections of the provider's own rows, and repeats of known hazards."""
    new: list[tuple[Any, ...]] = []
    updates: list[dict[str, Any]] = []
    seen: list[tuple[int, str]] = []
    for r, m in zip(rows, matches, strict=True):
        st = m.status
        tally.buckets[st] += 1
        if st == "rejected":
            key = m.reason_key or "other"
            tally.rejected_by_reason[key] = tally.rejected_by_reason.get(key, 0) + 1
            tally.rejected_rows.append({"row": r.row_id, "line": m.line, "reason": m.reason})
            rejected.write(r, m.reason or "")
        elif st == "duplicate":
            tally.duplicate_rows.append({"row": r.row_id, "line": m.line, "reason": m.reason})
        if st not in _STATUS_OF:
            continue
        warnings = r.warnings + m.warnings if m.warnings else r.warnings
        tally.warnings += len(warnings)
        raw_json = _raw_json(r.raw)
        digest = hashlib.sha1(raw_json.encode()).hexdigest()
        values = (
            admin_code,
            r.row_id,
            r.line,
            raw_json,
            digest,
            r.category,
            r.category_raw,
            r.description,
            r.provided_tier,
            r.provided_tier,
            _STATUS_OF[st],
            m.road_id,
            m.segment_id,
            m.chainage_m,
            m.snap_distance_m,
            m.match_method,
            st,
            m.reason if st == "review" else None,
            json.dumps(warnings, ensure_ascii=False) if warnings else "[]",
            r.countermeasure,
            r.provided_cost_cny,
            r.length_m,
            r.photo,
            None if m.lon is None else f"SRID=4326;POINT({m.lon!r} {m.lat!r})",
        )
        prev = known.own.get(r.row_id) if known.own else None
        if prev is not None:
            if prev.content_hash == digest:
                tally.counts["unchanged"] += 1
                continue
            upd = dict(zip(NEW_HAZARD_COLUMNS, values, strict=True))
            del upd["admin_code"], upd["provider_row_id"]
            if prev.status not in ("identified", "review"):
                del upd["status"]  # work has started on it: keep its lifecycle status
            updates.append({"hazard_id": int(prev.id), **upd})
            tally.counts["updated"] += 1
            continue
        hit = (
            known.repeated(m.route_code, m.part or 0, r.category or "", m.chainage_m, duplicate_m)
            if known.near and m.chainage_m is not None and m.route_code is not None
            else None
        )
        if hit is not None:
            seen.append((hit[0], f"row {r.row_id} repeats {hit[1]}"))
            tally.counts["seen_again"] += 1
            continue
        new.append(values)
        tally.counts["added"] += 1
    return new, updates, seen


def _import_rows(
    p: Path,
    sh: Sheet,
    stream: Iterator[dict[str, str]],
    *,
    provider: str,
    surveyed_on: dt.date,
    sha: str,
    mapping: dict[str, str] | None,
    crs: str | None,
    rejected_path: str | Path | None,
    engine: Engine,
    chunk_rows: int,
    on_progress: Callable[[int], None] | None,
    timings: dict[str, float] | None,
) -> SurveyImportReport:
    """The body of :func:`import_survey` once the file is open and known to be new."""
    from hazards.db import store
    from hazards.settings import get_settings

    headers = sheet_headers(sh, mapping=mapping)
    working = store.require_working_crs(engine)
    settings = get_settings()
    with _timed(timings, "reconcile"):
        network = Network.from_segments(store.network_segments(engine), working)
    known = _Known(engine, provider)
    rejected = RejectedWriter(_rejected_target(p, rejected_path), sh.columns)
    tally = _Tally()
    kept: Kept = {}  # the duplicate check's state, carried from chunk to chunk
    survey = {
        "admin_code": settings.admin_code,
        "provider": provider,
        "surveyed_on": surveyed_on,
        "source_name": p.name,
        "sha256": sha,
    }
    try:
        with store.survey_import_writer(engine, survey=survey, by=provider) as writer:
            line = 1
            while True:
                with _timed(timings, "parse"):
                    chunk = _read_chunk(stream, chunk_rows)
                    if not chunk:
                        break
                    rows = parse_chunk(chunk, headers=headers, start=line)
                line += len(rows)
                with _timed(timings, "reconcile"):
                    matches = reconcile(
                        rows,
                        network,
                        crs=None if sh.point_crs else crs,
                        settings=settings,
                        kept=kept,
                    )
                with _timed(timings, "store"):
                    known.fetch(
                        {m.route_code for m in matches if m.route_code and m.status in _STATUS_OF}
                    )
                new, updates, seen = _sort_chunk(
                    rows,
                    matches,
                    known=known,
                    tally=tally,
                    rejected=rejected,
                    admin_code=settings.admin_code,
                    duplicate_m=settings.duplicate_m,
                )
                with _timed(timings, "store"):
                    writer.add(NEW_HAZARD_COLUMNS, new, updates=updates, seen_again=seen)
                del chunk, rows, matches, new
                if on_progress is not None:
                    on_progress(line - 1)
            b = tally.buckets
            report: SurveyImportReport = {
                "survey_id": writer.survey_id,
                "file": str(p),
                "provider": provider,
                "surveyed_on": surveyed_on.isoformat(),
                "encoding": sh.encoding,
                "headers": headers,
                "rows": line - 1,
                "accepted": b["accepted"],
                "review": b["review"],
                "rejected": b["rejected"],
                "duplicates": b["duplicate"],
                "empty": b["empty"],
                "rejected_by_reason": tally.rejected_by_reason,
                "rejected_file": str(rejected.path) if rejected.used else None,
                "warnings": tally.warnings,
                "added": tally.counts["added"],
                "updated": tally.counts["updated"],
                "unchanged": tally.counts["unchanged"],
                "seen_again": tally.counts["seen_again"],
                "already_imported": False,
                "rejected_rows": tally.rejected_rows,
                "duplicate_rows": tally.duplicate_rows,
            }
            with _timed(timings, "store"):
                writer.finish(
                    rows_total=line - 1,
                    rows_accepted=b["accepted"],
                    rows_review=b["review"],
                    rows_rejected=b["rejected"],
                    rejected_file=report["rejected_file"],
                    report=dict(report),
                )
    except BaseException:
        rejected.discard()
        raise
    rejected.keep()
    return report
