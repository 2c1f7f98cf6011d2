"""A contractor's completion report back in: read (the batch's GeoJSON returned, or a CSV/XLSX
with at least ``id``/``隐患编号``, ``status``/``状态`` and ``completed_on``/``完成日期``, dates in
the forms :func:`hazards.dates.read_date` reads), every row checked, and the valid rows applied
in one transaction: all of them, or (when a row is invalid, unless the import is partial)
none. The batch going out is :mod:`hazards.contractors`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from hazards.cells import footer_row, is_total
from hazards.contractors import validate_collection
from hazards.dates import DATE_FORMS, read_date
from hazards.errors import ConflictError, HazardsError, InputError, InputFileNotFound
from hazards.vocabulary import (
    DONE_STATUSES,
    DONE_WORDS,
    NOT_REPORTED,
    STARTED_WORDS,
    TRANSITIONS,
    hazard_id,
)
from hazards.worklist import header_key, header_score

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

MAX_MOVE_M = 15.0


class CompletionReport(TypedDict):
    """What :func:`import_completion` returns (``hazards import completion --json``)."""

    file: str
    dry_run: bool
    partial: bool
    refused: bool  # a row was invalid and the import not partial: nothing was applied
    message: str  # what changed, in one sentence
    rows: int
    applied: int
    valid: int
    unchanged: int
    not_reported: int
    invalid: int
    changes: list[dict[str, Any]]  # id, from, to, on
    dates_kept: list[dict[str, Any]]  # row, line, id, to, recorded, file: a done row dated anew
    invalid_rows: list[dict[str, Any]]  # row, line (the file's row, or feature), id, reason
    rejected_file: str | None  # the invalid rows to correct and import again (when some applied)
    rejected_file_earlier: NotRequired[str]  # a different file that was there, kept as this


def _rows_from_file(path: Path, *, sheet: str | None = None) -> list[dict[str, Any]]:
    """The report's rows, each by its field (id, status, completed_on, ...) with ``_line``, its
    row in the sheet (the CSV line, the XLSX row) or its feature's number, ``_cells``, the
    row as the file has it, and ``_columns``, field → the file's name for it."""
    if not path.is_file():
        raise InputFileNotFound(f"{path}: no such file. Check the path.")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not valid UTF-8 JSON ({exc}).") from exc
        validate_collection(data, source=str(path))
        rows = []
        for n, f in enumerate(data["features"], start=1):
            props = dict(f.get("properties") or {})
            props["id"] = props.get("id") or f.get("id")
            coords = (f.get("geometry") or {}).get("coordinates") or [None, None]
            if isinstance(coords[0], list):  # a linear hazard's line: its point is lon/lat
                coords = [props.get("lon"), props.get("lat")]
            props["lon"], props["lat"] = coords[0], coords[1]
            # the row as imported (the point where the geometry puts it), lists as text
            as_read = {
                k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in props.items()
            }
            props.update(_line=n, _cells=as_read, _columns={})
            rows.append(props)
        return rows
    if suffix in (".csv", ".xlsx", ".xlsm", ".txt"):
        from hazards.sheets import open_sheet

        table, stream = open_sheet(path, sheet=sheet, score=header_score)
        cells = list(stream)
        keys = {c: header_key(c) or c for c in table.columns}
        columns = {k: c for c, k in keys.items() if k != c}
        if "id" not in keys.values():
            raise InputError(
                f"{path}{f' (sheet {table.sheet})' if table.sheet else ''}: no 'id' column "
                "(隐患编号). Return the work list with its id (隐患编号), status (状态) and "
                "completed_on (完成日期) columns"
                + (", or name the sheet that has them." if table.sheet else "."),
                param="sheet" if table.sheet else None,
            )
        id_header = next(c for c, k in keys.items() if k == "id")
        rows = []
        for r in cells:
            line = int(r.pop("_line"))
            row: dict[str, Any] = {keys.get(c, c): v for c, v in r.items()}
            rid = str(row.get("id") or "").strip()
            if not any(str(v or "").strip() for v in r.values()):
                continue  # an empty row (a form's bordered rows, a blank line)
            first = next((str(v).strip() for v in r.values() if str(v or "").strip()), "")
            if (
                rid == id_header.strip()
                or (not rid and any(map(is_total, row.values())))
                or (rid in ("", first) and footer_row([first], located=False))
            ):
                continue  # the header repeated (a page's), a totals row, a signature line
            row.update(_line=line, _cells=r, _columns=columns)
            rows.append(row)
        return rows
    raise InputError(
        f"{path}: completion reports can be GeoJSON, CSV or XLSX"
        + ("; save an old .xls as .xlsx in Excel." if suffix == ".xls" else ".")
    )


def _number(v: Any) -> float | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x


def import_completion(
    path: str | Path,
    *,
    dry_run: bool = False,
    partial: bool = False,
    by: str | None = None,
    rejected_path: str | Path | None = None,
    sheet: str | None = None,
    engine: Engine | None = None,
) -> CompletionReport:
    """Check every row of a contractor's report; apply the valid ones in one transaction.
    When some rows were applied and others were invalid (``partial``), the invalid ones are
    written to ``rejected_path`` (default ``NAME.rejected.csv`` beside the file) with their
    cells as the file has them and the reason, to correct and import again.

    All or nothing: when a row is invalid, nothing is applied (``refused`` in the report)
    unless ``partial``, which applies the valid rows and lists the others; a row that cannot be
    applied when its turn comes (the hazard changed meanwhile: another import of the same report
    at the same time) undoes what was applied, and the report is read and checked again (rows
    the other import applied are then ``unchanged``). ``dry_run`` checks and changes nothing. The report's
    ``message`` says exactly what changed. ``sheet``: the workbook's sheet to read (by default
    the one sheet whose header names the report's columns).

    A row is valid when its id is known, the hazard is in a batch (the row's ``batch`` when
    given) of the file's contractor, a completion date is given that is not before the batch
    start, the hazard's last change, nor in the future, its point has not moved more than
    15 m, and the status change is allowed. Rows already applied are ``unchanged``, so
    importing the same report twice changes nothing.

    Connected as a contractor login (which sees only its own batches and writes no table),
    the rows are applied through the database function ``hazards_record_completion``.
    """
    for _ in range(3):
        with suppress(_Meanwhile):  # checked again: another import applied rows meanwhile
            return _import_once(
                path, dry_run=dry_run, partial=partial, by=by, rejected_path=rejected_path,
                sheet=sheet, engine=engine,
            )  # fmt: skip
    raise ConflictError(
        f"{path}: its hazards kept changing while it was imported (other imports or status "
        "changes at the same time). Nothing was changed; import it again."
    )


class _Meanwhile(Exception):
    """A hazard of the report changed between its check and its change: check it again."""


def _import_once(
    path: str | Path,
    *,
    dry_run: bool = False,
    partial: bool = False,
    by: str | None = None,
    rejected_path: str | Path | None = None,
    sheet: str | None = None,
    engine: Engine | None = None,
) -> CompletionReport:
    """:func:`import_completion`, once."""
    from pyproj import Geod

    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.outfiles import rejected_target, write_rejected_rows

    p = Path(path)
    target = rejected_target(p, rejected_path, sheet=sheet)  # unwritable: refused now
    rows = _rows_from_file(p, sheet=sheet)
    engine = engine or get_engine()
    ids = [hazard_id(r.get("id")) for r in rows]
    known = store.completion_targets(engine, [i for i in ids if i]).set_index("id")
    for col in ("batch", "contractor", "starts_on"):  # missing: None, not NaN
        known[col] = known[col].astype(object).where(known[col].notna(), None)
    geod = Geod(ellps="WGS84")
    file_contractor, contractors = _file_contractor(rows, ids, known)
    valid: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    unchanged: list[str] = []
    dated_anew: list[dict[str, Any]] = []  # rows already applied that the file dates otherwise
    skipped: list[str] = []
    today = dt.date.today()
    first_row: dict[str, int] = {}
    headers: dict[str, str] = rows[0]["_columns"] if rows else {}
    unit = "feature" if p.suffix.lower() in (".geojson", ".json") else "row"

    def named(field: str) -> str:  # a field as the file names it: 完成日期 (completed_on)
        return f"{headers[field]} ({field})" if field in headers else field

    for line, (rid, row) in enumerate(zip(ids, rows, strict=True), start=1):

        def bad(reason: str, rid: str = rid, line: int = line, at: int = row["_line"]) -> None:
            invalid.append({"row": line, "line": at, "id": rid or None, "reason": reason})

        status_text = str(row.get("status") or "").strip().lower()
        if not status_text and not str(row.get("completed_on") or "").strip():
            skipped.append(rid)  # no status, no date: not a report (a section's title, a note)
            continue
        if not rid:
            bad("no hazard id")
            continue
        if rid not in known.index:
            bad(f"unknown hazard id {rid}")
            continue
        if rid in first_row:
            bad(
                f"hazard {rid} is reported again (first in {unit} {first_row[rid]}); report it once"
            )
            continue
        first_row[rid] = row["_line"]
        h = known.loc[rid]
        if status_text in NOT_REPORTED:
            skipped.append(rid)
            continue
        if status_text in DONE_WORDS:
            to = "reported_done"
        elif status_text in STARTED_WORDS:
            to = "in_progress"
        else:
            bad(
                f"{named('status')} {row.get('status')!r} is not understood; write "
                "reported_done (完成) or in_progress (施工中)"
            )
            continue
        row_batch = str(row.get("batch") or "").strip()
        draft = h.get("draft_batch")
        if isinstance(draft, str) and (h["batch"] is None or row_batch == draft):
            bad(
                f"hazard {rid} is in batch {draft} of a plan not committed yet: commit the plan "
                "(hazards plan commit) before its contractor reports"
            )
            continue
        if h["batch"] is None:
            bad(f"hazard {rid} is not in any batch")
            continue
        if row_batch and row_batch != h["batch"]:
            bad(f"hazard {rid} belongs to batch {h['batch']}, not {row_batch}")
            continue
        if file_contractor is None and len(contractors) > 1 and h["contractor"] is not None:
            bad(
                f"the file mixes batches of several contractors, as many rows each "
                f"({', '.join(contractors)}); send one contractor's report at a time"
            )
            continue
        if file_contractor and h["contractor"] not in (file_contractor, None):
            bad(
                f"hazard {rid} is in a batch of {h['contractor']}, not {file_contractor} (whose "
                f"sites most rows report); {h['contractor']} reports it in its own report"
            )
            continue
        if (
            h["status"] == to
            or (to == "in_progress" and h["status"] in DONE_STATUSES)
            or (to == "reported_done" and h["status"] == "verified")
        ):
            unchanged.append(rid)
            if dated := _dated_otherwise(row.get("completed_on"), h["completions"], to):
                dated_anew.append({"row": line, "line": row["_line"], "id": rid, "to": to, **dated})
            continue
        try:
            day = read_date(row.get("completed_on"))
        except ValueError:
            bad(
                f"{named('completed_on')} {row.get('completed_on')!r} is not a date; "
                f"write {DATE_FORMS}"
            )
            continue
        before = h["completions"] if isinstance(h["completions"], list) else []
        if day is not None and f"{to} {day.isoformat()}" in before:
            unchanged.append(rid)  # this report was applied before; what happened since stands
            continue
        if to == "reported_done" and day is None:
            bad(f"{named('completed_on')} is missing; give the completion date ({DATE_FORMS})")
            continue
        starts = h["starts_on"]
        if day is None:  # work begun, date not said: the earliest day it can be (not today,
            # which a later report's earlier completion date could then not follow)
            day = max((d for d in (starts, h["last_on"]) if d is not None), default=today)
            if day > today:
                bad(f"the batch starts on {day}, a day to come: no work can have begun on {rid}")
                continue
        if starts is not None and day < starts:
            bad(f"{named('completed_on')} {day} is before the batch start {starts}")
            continue
        if h["last_on"] is not None and day < h["last_on"]:
            bad(
                f"{named('completed_on')} {day} is before the hazard's last change ({h['last_on']})"
            )
            continue
        if day > today:
            bad(f"{named('completed_on')} {day} is in the future")
            continue
        lon, lat = _number(row.get("lon")), _number(row.get("lat"))
        if lon is not None or lat is not None:
            if lon is None or lat is None or not (math.isfinite(lon) and math.isfinite(lat)):
                bad("the point's coordinates are not numbers")
                continue
            moved = geod.inv(float(h["lon"]), float(h["lat"]), lon, lat)[2]
            if _number(h.get("start_lon")) is not None and math.isfinite(h["start_lon"]):
                # a linear hazard: a row may also give the start of its run
                start = geod.inv(float(h["start_lon"]), float(h["start_lat"]), lon, lat)[2]
                moved = min(moved, start)
            if moved > MAX_MOVE_M:
                bad(
                    f"the point was moved {moved:.0f} m (more than {MAX_MOVE_M:.0f} m); report the site where it is, or ask the county to re-survey it"
                )
                continue
        if to not in TRANSITIONS[h["status"]]:
            bad(f"hazard {rid} is {h['status']}; it cannot go to {to}")
            continue
        valid.append(
            {
                "row": line,
                "line": row["_line"],
                "id": rid,
                "from": h["status"],
                "to": to,
                "on": day.isoformat(),
                "note": row.get("note") or None,
                "evidence": row.get("evidence") or row.get("photos") or None,
                "version": int(h["version"]),
            }
        )
    refused = bool(invalid) and not partial
    applied = []
    if not dry_run and valid and not refused:
        applied = _apply(
            valid, invalid, p, by=by or file_contractor, partial=partial, engine=engine
        )
    kept = earlier = None  # the invalid rows, written out to be corrected when the others went
    if partial and invalid and not dry_run:
        kept, earlier = write_rejected_rows(rows, invalid, target)
    done = (valid if not refused else []) if dry_run else applied  # what it would change
    report: CompletionReport = {
        "file": str(p),
        "dry_run": dry_run,
        "partial": partial,
        "refused": refused,
        "message": "",
        "rows": len(rows),
        "applied": len(applied),
        "valid": len(valid),
        "unchanged": len(unchanged),
        "not_reported": len(skipped),
        "invalid": len(invalid),
        "changes": [{k: v[k] for k in ("id", "from", "to", "on")} for v in done],
        "dates_kept": dated_anew,
        "invalid_rows": sorted(invalid, key=lambda r: r["row"]),
        "rejected_file": kept,
    }
    if earlier is not None:
        report["rejected_file_earlier"] = earlier
    report["message"] = _message(report)
    return report


def _dated_otherwise(cell: Any, completions: Any, to: str) -> dict[str, str] | None:
    """``{"recorded", "file"}`` when a row reports a completion (``to``) already recorded
    under another date than the row's: the recorded one stands (a completion is history), and
    the report says so rather than counting the row unchanged alone. None otherwise."""
    try:
        day = read_date(cell)
    except ValueError:
        return None
    done = sorted(
        c.split(" ", 1)[1]
        for c in (completions if isinstance(completions, list) else [])
        if c.startswith(f"{to} ")
    )
    if day is None or not done or day.isoformat() in done:
        return None
    return {"recorded": done[-1], "file": day.isoformat()}


def _file_contractor(
    rows: list[dict[str, Any]], ids: list[str], known: pd.DataFrame
) -> tuple[str | None, list[str]]:
    """The contractor whose report the file is: the one whose sites most of its reporting rows
    (a status given, the id known) are in; None when two or more tie. And every
    contractor those rows name, most rows first. A stray row of another contractor's site
    is then that row's problem, not the whole file's."""
    from collections import Counter

    named = Counter(
        known.at[rid, "contractor"]
        for rid in dict.fromkeys(
            rid
            for rid, row in zip(ids, rows, strict=True)
            if rid in known.index
            and str(row.get("status") or "").strip().lower() not in NOT_REPORTED
        )
        if known.at[rid, "contractor"] is not None
    )
    ranked = named.most_common()
    if not ranked:
        return None, []
    tie = len(ranked) > 1 and ranked[0][1] == ranked[1][1]
    return (None if tie else ranked[0][0]), [c for c, _ in ranked]


def _apply(
    valid: list[dict[str, Any]],
    invalid: list[dict[str, Any]],
    path: Path,
    *,
    by: str | None,
    partial: bool,
    engine: Engine,
) -> list[dict[str, Any]]:
    """Apply the valid rows in one transaction; the rows applied. A row refused now (changed
    meanwhile) raises, undoing them all, or when ``partial`` goes to ``invalid``."""
    from contextlib import nullcontext

    from hazards.db import store
    from hazards.vocabulary import check_transition

    # A contractor login writes no table: each row goes through the database's
    # hazards_record_completion, which checks its batches and the transition table again.
    through_function = store.connected_user(engine)["reports_completions"]
    applied = []
    with engine.begin() as conn:
        for v in valid:
            note = v["note"] or f"completion report {path.name}"
            day = dt.date.fromisoformat(v["on"])
            try:
                with conn.begin_nested() if partial else nullcontext():
                    if through_function:
                        store.record_completion(
                            engine,
                            v["id"],
                            to=v["to"],
                            on=day,
                            by=by,
                            note=note,
                            evidence=v["evidence"],
                            version=v["version"],
                            conn=conn,
                        )
                    else:
                        store.change_status(
                            engine,
                            [v["id"]],
                            to=v["to"],
                            on=day,
                            by=by,
                            note=note,
                            evidence=v["evidence"],
                            expected_versions={v["id"]: v["version"]},
                            check=check_transition,
                            kind="completion",
                            conn=conn,
                        )
            except ConflictError:
                raise _Meanwhile from None  # all undone: the report is checked again
            except HazardsError as exc:
                reason = exc.message.split(" Nothing was changed")[0]
                if not partial:
                    raise type(exc)(
                        f"{path}: row {v['row']} ({v['id']}) cannot be applied: {reason} "
                        "Nothing was changed: no row of the report was applied. Import it again "
                        "(the rows are checked anew)."
                    ) from None
                invalid.append(
                    {"row": v["row"], "line": v["line"], "id": v["id"], "reason": reason}
                )
                continue
            applied.append(v)
    return applied


def _message(r: CompletionReport) -> str:
    """What the import changed, in one sentence."""
    if r["dry_run"] and r["refused"]:
        return (
            f"Dry run: nothing was changed; the import would be refused: {r['invalid']} row(s) are "
            f"invalid (listed). Fix them, or import it as partial to apply the {r['valid']} "
            "valid rows alone."
        )
    if r["dry_run"]:
        return f"Dry run: nothing was changed; {r['valid']} rows would be applied" + (
            f", {r['invalid']} rows are invalid." if r["invalid"] else "."
        )
    if r["refused"] and not r["valid"]:
        return (
            f"Nothing was changed: the {r['invalid']} reported rows are invalid (listed). Fix "
            "them and import the report again."
        )
    if r["refused"]:
        return (
            f"Nothing was changed: {r['invalid']} of the {r['rows']} rows are invalid (listed). "
            f"Fix them and import the report again, or import it as partial to apply the "
            f"{r['valid']} valid rows alone."
        )
    if not r["applied"]:
        return (
            "Nothing was changed: no row reports a new completion"
            + (f"; {len(r['dates_kept'])} dated otherwise (listed)" if r["dates_kept"] else "")
            + (f"; {r['invalid']} rows are invalid (listed)." if r["invalid"] else ".")
        )
    by_to: dict[str, int] = {}
    for c in r["changes"]:
        by_to[c["to"]] = by_to.get(c["to"], 0) + 1
    tos = ", ".join(f"{n} to {to}" for to, n in sorted(by_to.items()))
    rest = f"; {r['invalid']} invalid rows were not applied (listed)" if r["invalid"] else ""
    return f"{r['applied']} hazards changed ({tos}){rest}; nothing else was changed."
