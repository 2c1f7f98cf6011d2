"""A survey file → hazards in the inventory (the ``intake`` step): read, parse, reconcile, store.

The conductor of the survey pipeline. :func:`import_survey` reads the sheet
(:mod:`hazards.survey`), matches its rows onto the road network (:mod:`hazards.reconcile`) and
stores them (:mod:`hazards.db.store`), ``chunk_rows`` rows at a time, in one transaction. It
returns the accounting as a :class:`SurveyImportReport` (the ``--json`` of ``survey import``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from hazards.collector import fewer_collections
from hazards.dates import parse_past_day
from hazards.db.store.bulk import BULK_MIN_ROWS
from hazards.db.store.copy_rows import point_hex
from hazards.db.store.hazards import HAZARD_COLUMNS
from hazards.errors import HazardsError, InputError, InputFileNotFound
from hazards.known import (
    STATUS_OF,
    AlreadyImported,
    Known,
    correct,
    correction_check,
    first_import_check,
    held_reason,
    in_work,
    same_import,
)
from hazards.matched_chunks import matched_chunks, timed
from hazards.outfiles import RejectedWriter, rejected_target
from hazards.photos import all_found, resolve_photos
from hazards.reconcile import Kept, Match, Network, check_point_crs, finish
from hazards.route_names import NameCheck
from hazards.survey import (
    ParsedRow,
    Sheet,
    category_key,
    default_sheet,
    open_sheet,
    row_cells,
    sheet_headers,
    stored_raw,
)
from hazards.survey_report import MissingPhoto, RejectedRow, SurveyImportReport, WarningRow

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hazards.settings import Settings

CHUNK_ROWS = 50_000
"""Rows parsed, matched and stored at a time: bounds the memory of an import."""

APART_MIN_BYTES = 2_000_000
"""From this size of file (about 20,000 rows of a CSV survey) the sheet is read, parsed and
placed up to its points' nearest segments in a child process
(:func:`hazards.offload.produce`) while the import finishes matching and stores the chunks
before: a survey import is bound by the interpreter, and the machine's second core sat mostly
idle (docs/decisions.md)."""

PHASES = ("parse", "reconcile", "store")
"""The phases :func:`import_survey` times into its ``timings`` dict."""

FINISH_WALL = "finish_wall"
"""The ``timings`` entry of the wall clock of the matching finished in the importing process:
its ``reconcile`` share is its thread's CPU time (:func:`import_survey`)."""

WARNING_ROWS_LISTED = 1_000
"""Stored rows with warnings listed in the report (``warning_rows``), the first ones in the file:
a messy province survey warns on a sixth of its rows, and every hazard keeps its own
warnings (``hazards list --json``, the maps) whatever the report lists."""


def _file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# Columns of a new hazard as :func:`import_survey` gives them to the store, in this order:
# the store's columns but those it fills itself.
NEW_HAZARD_COLUMNS = tuple(c for c in HAZARD_COLUMNS if c not in ("id", "public_id", "survey_id"))


_NOT_CORRECTED = ("source_line", "status", "match_status", "review_reason")
"""Columns of a new hazard that a correction never sets as they are: the status belongs to
the lifecycle (a correction sends an ``identified`` hazard to review, nothing else); the
line is the row's place in its own survey's file."""


def survey_options(
    *,
    sheet: str | None = None,
    layer: str | None = None,
    header_row: int | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    photos: str | Path | None = None,
) -> dict[str, Any]:
    """The options that decide how a file is read, as recorded with its survey (the ones
    given): the same bytes read with the same options are the same survey."""
    given = {
        "photos": str(Path(photos).resolve()) if photos is not None else None,
        "sheet": sheet,
        "layer": layer,
        "header_row": header_row,
        "mapping": dict(sorted(mapping.items())) if mapping else None,
        "encoding": encoding,
        "crs": crs,
    }
    return {k: v for k, v in given.items() if v is not None}


def import_survey(
    path: str | Path,
    *,
    provider: str,
    surveyed_on: dt.date | str,
    sheet: str | None = None,
    layer: str | None = None,
    header_row: int | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    photos: str | Path | None = None,
    rejected_path: str | Path | None = None,
    corrects: int | None = None,
    replace: int | None = None,
    dry_run: bool = False,
    wait: bool = True,
    on_wait: Callable[[dict[str, Any]], None] | None = None,
    engine: Engine | None = None,
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Callable[[int], None] | None = None,
    timings: dict[str, float] | None = None,
    bulk_min_rows: int = BULK_MIN_ROWS,
) -> SurveyImportReport:
    """Read, reconcile and store a survey file; returns the accounting (``--json``).

    ``accepted + review + rejected + duplicates + empty == rows``. Each import is a new survey:
    rows never update hazards of another survey, except with ``corrects`` (a survey id): then
    a row updates the hazard of that survey with the same row id (序号), is left alone when
    unchanged, and goes to review when the correction moves the hazard to another route or
    farther than the review distance. A row repeating a hazard already known on the same route
    (same original category, within ``duplicate_m``) is linked to it as seen again.

    The same bytes read with the same options (:func:`survey_options`) again change nothing
    (the earlier report comes back with ``already_imported``); with other options the import
    is refused unless ``replace`` (the survey to drop in the same transaction, refused as
    :func:`drop_survey` refuses) or ``corrects`` is given. ``dry_run``: everything is read,
    matched and counted, nothing is written (nor the rejected file).

    One survey import (or correction) writes at a time in a database: another one running,
    this one waits for it (``on_wait`` is told what it waits for: ``subject``, ``what``,
    ``since``), then sees what it stored (the same file is then already imported, the same
    sites are seen again); with ``wait`` False it is refused at once
    (:class:`~hazards.errors.ConflictError`) and nothing is written.

    The sheet is read, matched and stored ``chunk_rows`` rows at a time, all in one
    transaction: a failure anywhere leaves the database as it was. ``on_progress`` is called
    with the number of rows done after each chunk. ``timings``, when given, accumulates the
    seconds spent in each phase under ``"parse"`` (hashing, opening, reading and parsing the
    sheet), ``"reconcile"`` (loading the network and matching) and ``"store"`` (looking up
    known hazards, sorting the rows into new hazards, corrections and repeats, and writing:
    the time this import waits for the database, which writes one chunk while the next is
    read and matched). A sheet read in a child process (from :data:`APART_MIN_BYTES`,
    :mod:`hazards.matched_chunks`) has its ``parse`` and the first half of its ``reconcile``
    timed there (the second half, :func:`hazards.reconcile.finish`, here, by this thread's
    CPU time: the writer thread shares the interpreter meanwhile, and the wall clock would
    count its turns; that wall clock is kept under :data:`FINISH_WALL`): they then overlap
    ``store``, and the waits for the child's next chunk count in no phase. An import
    of at least ``bulk_min_rows`` rows into an inventory that holds no more hazards writes in
    bulk mode (:mod:`hazards.db.store.bulk`): the same result, faster, with the hazards
    locked for reading until it commits.

    Photos (照片): paths in the photo column are looked for in ``photos`` (a folder), then
    beside the survey file; with ``photos`` given a bare photo number (``IMG_0012``) is looked
    for with the usual image suffixes too. Found photos are stored as absolute paths (URLs as
    they are); one not found is a warning on its hazard and a ``missing_photos`` entry (row,
    line, photo) in the report, and the hazard is imported all the same.
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
    on = parse_past_day(
        surveyed_on, param="surveyed_on", what="The survey date",
        fix="give the day the survey was made",
    )  # fmt: skip
    if on is None:
        raise InputError("The survey date is required (YYYY-MM-DD).", param="surveyed_on")
    if corrects is not None and replace is not None:
        raise InputError(
            "A file either corrects a survey or replaces one, not both.", param="replace"
        )
    if not p.is_file():
        raise InputFileNotFound(f"{p}: no such file. Check the path.")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if photos is not None and not Path(photos).is_dir():
        raise InputFileNotFound(
            f"{photos}: no such folder of photos. Give the folder the survey's photos are in.",
            param="photos",
        )
    if timings is not None:
        for phase in (*PHASES, FINISH_WALL):
            timings.setdefault(phase, 0.0)
    options = survey_options(
        sheet=sheet,
        layer=layer,
        header_row=header_row,
        mapping=mapping,
        encoding=encoding,
        crs=crs,
        photos=photos,
    )
    with timed(timings, "parse"):
        sha = _file_sha256(p)
    engine = engine or get_engine()
    for sid, param in ((corrects, "corrects"), (replace, "replace")):
        if sid is not None:
            try:
                refs = store.get_survey(engine, sid)["references"]
            except HazardsError as exc:
                exc.param = param
                raise
            if param == "replace" and refs:
                raise InputError(
                    f"Survey {sid} cannot be replaced: {'; '.join(refs)}. Nothing was changed.",
                    param="replace",
                )
    earlier = store.surveys_by_sha(engine, sha) if replace is None else []
    try:  # the same bytes read the same way before: said at once, the file not opened again
        same_import(earlier, options, corrects)
    except AlreadyImported as done:
        return cast(SurveyImportReport, {**done.report, "dry_run": dry_run})
    check_point_crs(crs)  # a wrong CRS, sheet or encoding told as such, first
    with timed(timings, "parse"):
        sh, stream = open_sheet(
            p, sheet=sheet, encoding=encoding, crs=crs, layer=layer, header_row=header_row
        )
    check = None
    try:
        if replace is None:
            read = sh.sheet
            check = (
                first_import_check(
                    p,
                    options,
                    sheet=read,
                    default_sheet=lambda: read if sheet is None else default_sheet(p),
                )
                if corrects is None
                else correction_check(options, corrects)
            )
            check(earlier)
        return _import_rows(
            p,
            sh,
            stream,
            provider=who,
            surveyed_on=on,
            sha=sha,
            mapping=mapping,
            crs=crs,
            photos_dir=photos,
            rejected_path=rejected_path,
            options=options,
            corrects=corrects,
            replace=replace,
            dry_run=dry_run,
            engine=engine,
            chunk_rows=chunk_rows,
            on_progress=on_progress,
            timings=timings,
            writer_options={
                "wait": wait,
                "on_wait": on_wait,
                "check": check,
                "bulk_min_rows": bulk_min_rows,
            },
            apart=p.stat().st_size >= APART_MIN_BYTES,
        )
    except AlreadyImported as done:  # now, or by an import that held the lock meanwhile
        # the report stored then, as this run asked for it
        return cast(SurveyImportReport, {**done.report, "dry_run": dry_run})
    finally:
        close = getattr(stream, "close", None)  # the CSV file or the workbook
        if close is not None:
            close()


def drop_survey(survey_id: int, *, engine: Engine | None = None) -> dict[str, Any]:
    """Remove a survey: its hazards (review items included), their events and the repeats it
    recorded on other hazards, in one transaction. Refused, listing them, when anything
    refers to its hazards (plans, batches, status changes, review decisions, re-checks, a
    correcting survey). Returns ``survey_id``, ``source_name``, ``hazards_removed``,
    ``repeats_removed``."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.drop_survey(engine or get_engine(), survey_id)


def show_survey(survey_id: int, *, engine: Engine | None = None) -> dict[str, Any]:
    """A survey as imported: its file, provider, date, options, counts, report, its hazards per
    status, and ``references`` (what would stop a drop; empty when it can be dropped)."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.get_survey(engine or get_engine(), survey_id)


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
    warning_rows: list[WarningRow] = field(default_factory=list)
    warnings: int = 0
    missing_photos: list[MissingPhoto] = field(default_factory=list)
    photo_dirs: tuple[Path, ...] = ()  # where relative photo paths are looked for, in order
    photo_numbers: bool = False  # bare photo numbers are looked for too (a folder was given)


def _sort_chunk(
    rows: list[ParsedRow],
    matches: list[Match],
    *,
    known: Known,
    tally: _Tally,
    rejected: RejectedWriter,
    settings: Settings,
    surveyed_on: dt.date,
) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]], list[tuple[int, str]]]:
    """Count a chunk's rows and split the stored ones into new hazards (``NEW_HAZARD_COLUMNS``
    tuples), corrections of the corrected survey's rows, and repeats of known hazards."""
    admin_code, duplicate_m = settings.admin_code, settings.duplicate_m
    review_m = settings.match_review_m
    new: list[tuple[Any, ...]] = []
    updates: list[dict[str, Any]] = []
    seen: list[tuple[int, str]] = []
    for r, m in zip(rows, matches, strict=True):
        prev = (
            known.corrected(r.row_id, m)
            if known.own and r.id_given and m.status in STATUS_OF
            else None
        )
        move = None
        if prev is not None:
            move = correct(r, m, prev, surveyed_on=surveyed_on, review_m=review_m)
            if m.status == "review" and in_work(prev.status) and not move:
                m.reason = held_reason(
                    prev.public_id, r.row_id, f"needs review ({m.reason})", prev.status
                )
        st = m.status
        tally.buckets[st] += 1
        line = r.source_line if r.source_line is not None else r.line
        if st == "rejected":
            key = m.reason_key or "other"
            tally.rejected_by_reason[key] = tally.rejected_by_reason.get(key, 0) + 1
            tally.rejected_rows.append({"row": r.row_id, "line": line, "reason": m.reason})
            rejected.write(row_cells(r), r.row_id, m.reason or "")
        elif st == "duplicate":
            tally.duplicate_rows.append({"row": r.row_id, "line": line, "reason": m.reason})
        if st not in STATUS_OF:
            continue
        warnings = r.warnings + m.warnings if m.warnings else r.warnings
        photo = r.photo
        if photo is not None:
            photo, missing = resolve_photos(
                photo, folders=tally.photo_dirs, check_bare=tally.photo_numbers
            )
            for ref in missing:
                tally.missing_photos.append({"row": r.row_id, "line": line, "photo": ref})
                warnings = [*warnings, f"photo {ref!r} not found; the hazard is kept without it"]
        linear = m.from_m is not None and m.to_m is not None
        if warnings:
            tally.warnings += len(warnings)
            if len(tally.warning_rows) < WARNING_ROWS_LISTED:
                tally.warning_rows.append(
                    {"row": r.row_id, "line": line, "warnings": list(warnings)}
                )
        raw_text, digest = stored_raw(r)
        values: tuple[Any, ...] = (
            admin_code,
            r.row_id,
            line,
            raw_text,
            digest,
            r.category,
            r.category_raw,
            r.description,
            r.provided_tier,
            r.provided_tier,
            STATUS_OF[st],
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
            m.to_m - m.from_m if linear else r.length_m,  # type: ignore[operator]
            photo,
            None if m.lon is None or m.lat is None else point_hex(m.lon, m.lat),
            m.from_m,
            m.to_m,
        )
        if prev is not None and st == "review" and in_work(prev.status):
            prev = None  # it waits in review as a row of its own; its hazard stays as it is
        if prev is not None:
            if prev.content_hash == digest:
                if photo is not None and all_found(photo) and not all_found(prev.photo):  # --photos
                    updates.append(
                        {"hazard_id": int(prev.id), "fields": {"photo": photo}, "photo": True}
                    )
                    tally.counts["updated"] += 1
                else:
                    tally.counts["unchanged"] += 1
                continue
            upd = dict(zip(NEW_HAZARD_COLUMNS, values, strict=True))
            for lifecycle in ("admin_code", "provider_row_id", *_NOT_CORRECTED):
                del upd[lifecycle]
            reason = m.reason if st == "review" else None
            held: tuple[Any, ...] = values
            if reason is not None:  # should work start on it meanwhile: a row of its own
                why = held_reason(prev.public_id, r.row_id, move or "needs review", "in work")
                held = tuple(
                    why if c == "review_reason" else v
                    for c, v in zip(NEW_HAZARD_COLUMNS, values, strict=True)
                )
            updates.append(
                {"hazard_id": int(prev.id), "fields": upd, "review": reason, "as_new": held}
            )
            tally.counts["updated"] += 1
            continue
        hit = (
            known.repeated(
                m.route_code,
                m.part or 0,
                category_key(r.category_raw, r.description, r.category),
                m.chainage_m,
                duplicate_m,
            )
            if known.near and m.chainage_m is not None and m.route_code is not None
            else None
        )
        if hit is not None and st == "review":  # in doubt (a route code not in the network):
            # the engineer decides, told what it repeats; counted in review, as it is
            values = tuple(
                f"{v}; it repeats {hit[1]} there (same category within {duplicate_m:g} m): "
                "reject it as a repeat if it is one"
                if c == "review_reason"
                else v
                for c, v in zip(NEW_HAZARD_COLUMNS, values, strict=True)
            )
        elif hit is not None:
            done = known.done.get(hit[0])
            seen.append(
                (hit[0], f"row {r.row_id} repeats {hit[1]}" + (f" ({done})" if done else ""))
            )
            tally.counts["seen_again"] += 1
            if done is not None:  # found again where the work is reported done: the re-check's
                tally.warnings += 1
                tally.warning_rows.append(
                    {"row": r.row_id, "line": line, "warnings": [
                        f"repeats {hit[1]}, which is {done}: the survey finds the hazard at a "
                        f"site reported fixed; check it (hazards history {hit[1]}, recheck)"
                    ]}
                )  # fmt: skip
            continue
        new.append(values)
        tally.counts["added"] += 1
    return new, updates, seen


class _DryWriter:
    """Stands for the store's writer in a dry run: takes everything, writes nothing."""

    survey_id = None
    diverted = 0

    def bulk_wanted(self, incoming: int) -> bool:
        return False

    def add(self, *args: Any, **kwargs: Any) -> None:
        return None

    def finish(self, **kwargs: Any) -> None:
        return None


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
    photos_dir: str | Path | None,
    rejected_path: str | Path | None,
    options: dict[str, Any],
    corrects: int | None,
    replace: int | None,
    dry_run: bool,
    engine: Engine,
    chunk_rows: int,
    on_progress: Callable[[int], None] | None,
    timings: dict[str, float] | None,
    writer_options: dict[str, Any],
    apart: bool,
) -> SurveyImportReport:
    """The body of :func:`import_survey` once the file is open and known to be new."""
    from hazards.db import store
    from hazards.settings import get_settings

    headers = sheet_headers(sh, mapping=mapping)
    if corrects is not None and "row_id" not in headers:
        raise InputError(
            f"{p}: a correction is matched to the rows of survey {corrects} by their row id "
            "(序号), and this sheet has no row id column; name it in the column mapping "
            "(row_id=COLUMN).",
            param="corrects",
        )
    working = store.require_working_crs(engine)
    settings = get_settings()
    with timed(timings, "reconcile"), fewer_collections():
        network = Network.from_segments(store.network_segments(engine), working)
    names = NameCheck(network.names)
    known = Known(engine, corrects, replace)
    target = rejected_target(p, rejected_path, sheet=options.get("sheet"))
    rejected = RejectedWriter(target, sh.columns, lang=settings.lang)
    tally = _Tally(
        photo_dirs=tuple(Path(d).resolve() for d in (photos_dir, p.parent) if d is not None),
        photo_numbers=photos_dir is not None,
    )
    line_word = "row" if sh.sheet is not None else "feature" if sh.point_crs else "line"
    row_crs = None if sh.point_crs else crs  # the CRS of the rows' coordinates, when not lon/lat
    survey = {
        "admin_code": settings.admin_code,
        "provider": provider,
        "surveyed_on": surveyed_on,
        "source_name": p.name,
        "sha256": sha,
        "options": options,
        "corrects_id": corrects,
    }
    writing: Any = (
        nullcontext(_DryWriter())
        if dry_run
        else store.survey_import_writer(
            engine,
            survey=survey,
            by=provider,
            replace=replace,
            srid=working.to_epsg(),
            **writer_options,
        )
    )

    def store_chunk(rows: list[ParsedRow], matches: list[Match], read: int) -> None:
        """Sort a matched chunk's rows and hand them to the writer (``read``: the rows the
        import brings as far as known, :data:`~hazards.matched_chunks.Chunk`, which decide
        bulk mode)."""
        with timed(timings, "store"):
            if writer.bulk_wanted(read):  # read what is known before locking it
                known.fetch(None)
                writer.start_bulk(read)
            known.fetch({m.route_code for m in matches if m.route_code and m.status in STATUS_OF})
            new, updates, seen = _sort_chunk(
                rows,
                matches,
                known=known,
                tally=tally,
                rejected=rejected,
                settings=settings,
                surveyed_on=surveyed_on,
            )
            writer.add(NEW_HAZARD_COLUMNS, new, updates=updates, seen_again=seen)

    # Read, parsed and placed in a child process where one can be forked, while this one
    # finishes matching, sorts and stores the chunks before.
    chunks = matched_chunks(
        stream,
        headers=headers,
        network=network,
        settings=settings,
        crs=row_crs,
        chunk_rows=chunk_rows,
        apart=apart,
    )
    kept = Kept()  # the duplicate check's memory, carried from chunk to chunk
    try:
        # chunks closed first (a failed import stops the child there; before the block, the
        # generator has not started, and no child runs): on the in-process path its collector
        # setting is inside this one's
        with writing as writer, fewer_collections(), closing(chunks):
            line = 1
            for started, spent, read in chunks:
                if timings is not None:
                    for phase, seconds in spent.items():
                        timings[phase] += seconds
                # timed by this thread's CPU: the writer thread takes its turns meanwhile
                with (
                    timed(timings, "reconcile", clock=time.thread_time),
                    timed(timings, FINISH_WALL),
                ):
                    matches = finish(
                        started, network, settings=settings, kept=kept, line_word=line_word
                    )
                    rows = started.rows
                    names.check(rows, matches)
                store_chunk(rows, matches, read)
                line += len(rows)
                if on_progress is not None:
                    on_progress(rows[-1].line)
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
                "rejected_file": str(rejected.path) if rejected.used and not dry_run else None,
                "warnings": tally.warnings,
                # corrections held in review (their hazard went into work meanwhile) are added
                "added": tally.counts["added"] + writer.diverted,
                "updated": tally.counts["updated"] - writer.diverted,
                "unchanged": tally.counts["unchanged"],
                "seen_again": tally.counts["seen_again"],
                "already_imported": False,
                "rejected_rows": tally.rejected_rows,
                "duplicate_rows": tally.duplicate_rows,
                "warning_rows": tally.warning_rows,
                "dry_run": dry_run,
                "options": options,
                "header_row": sh.header_row,
                "header_from": sh.header_from,
                "corrects": corrects,
                "replaced": replace,
                "missing_photos": tally.missing_photos,
                "route_name_mismatches": names.summary(),
            }
            with timed(timings, "store"):
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
    if dry_run:
        rejected.discard()
    elif (earlier := rejected.keep()) is not None:  # a file being corrected? (not stored)
        report["rejected_file_earlier"] = str(earlier)
    return report
