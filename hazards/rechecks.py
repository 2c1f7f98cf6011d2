"""Re-check sheets brought back (回头看): the results a team wrote into the site list of
``recheck plan`` (复查结果, 复查日期, 复查人, 情况说明), recorded row by row.

Each row with a result is recorded as :func:`hazards.remediation.record_recheck` records one
(pass → verified, fail → reopened); a row without a result is a site not visited, and left.
A row that cannot be recorded (no id, a result or day not understood, a site not finished)
is written to a rejected-rows file with its reason, and the others are recorded all the same.
Importing the same sheet again records nothing twice: a re-check of the same site, day and
result is already there.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from hazards.dates import parse_past_day, read_date
from hazards.errors import HazardsError, InputError, PermissionRefused
from hazards.vocabulary import DONE_STATUSES, RECHECK_WORDS, hazard_id

if TYPE_CHECKING:
    from sqlalchemy import Engine

HEADERS = {
    "隐患编号": "id",
    "id": "id",
    "复查结果": "result",
    "result": "result",
    "复查日期": "checked_on",
    "checked_on": "checked_on",
    "复查人": "checked_by",
    "checked_by": "checked_by",
    "情况说明": "note",
    "note": "note",
}
"""A re-check sheet's columns (zh or en, as ``recheck plan`` writes them: a header's words in
brackets, ``复查结果（合格/不合格）``, are a hint and not part of its name) → their key."""


class RecheckImport(TypedDict):
    """What :func:`import_rechecks` did."""

    file: str
    rows: int
    recorded: int
    passed: int
    failed: int
    unchanged: int
    not_visited: int
    rejected: int
    rejected_file: str | None
    rejected_file_earlier: NotRequired[str]  # a different file that was there, kept as this
    invalid: list[dict[str, Any]]


def header_key(name: Any) -> str | None:
    """The key of a re-check sheet's column name (:data:`HEADERS`), None when unknown."""
    text = unicodedata.normalize("NFKC", str(name or "")).strip().lower()
    return HEADERS.get(text.split("(")[0].strip())


def _text(value: Any) -> str:
    """A cell as text: NFKC (full-width Ｈ０００１４ is H00014), stripped."""
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def _score(cells: list[Any]) -> int:
    """How many re-check columns a row names (to find the header row below a title)."""
    return len({header_key(c) for c in cells} - {None})


def import_rechecks(
    path: str | Path,
    *,
    sheet: str | None = None,
    on: str | dt.date | None = None,
    by: str | None = None,
    rejected_path: str | Path | None = None,
    engine: Engine | None = None,
) -> RecheckImport:
    """Record the re-checks of a filled-in site list (CSV or XLSX, title rows above the header
    allowed; ``sheet``: which sheet of a workbook).

    A row's day is its 复查日期 (checked_on), else ``on``; its person its 复查人 (checked_by),
    else ``by``. Rows that cannot be recorded are written to ``rejected_path`` (default
    ``NAME.rejected.csv`` beside the file) with their line and reason, and listed in
    ``invalid``; a file without an id or a result column is refused before anything is
    recorded."""
    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.outfiles import rejected_target, write_rejected_rows
    from hazards.remediation import record_recheck
    from hazards.sheets import open_sheet

    p = Path(path)
    if p.suffix.lower() not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm"):
        raise InputError(
            f"{p}: a re-check sheet is read from CSV or XLSX (the site list of `hazards "
            "recheck plan -o NAME.csv`, filled in)"
            + ("; save an old .xls as .xlsx in Excel." if p.suffix.lower() == ".xls" else ".")
        )
    target = rejected_target(p, rejected_path, sheet=sheet)  # unwritable: refused now
    default_day = parse_past_day(on, param="on", fix="give the day the re-checks were made")
    table, stream = open_sheet(p, sheet=sheet, score=_score)
    keys = {c: header_key(c) for c in table.columns}
    missing = [k for k in ("id", "result") if k not in keys.values()]
    if missing:
        raise InputError(
            f"{p}{f' (sheet {table.sheet})' if table.sheet else ''}: no "
            f"{' or '.join(missing)} column ({', '.join(f'{h}' for h in table.columns[:8])} "
            "found). Bring back the site list of `hazards recheck plan` with its 隐患编号 (id) "
            "and 复查结果 (result) columns filled in."
        )
    rows: list[dict[str, Any]] = []
    id_header = _text(next(c for c, k in keys.items() if k == "id"))
    for r in stream:
        line = int(r.pop("_line"))
        for old in ("source_row", "rejected_reason"):  # a rejected-rows file: replaced anew
            r.pop(old, None)
        row = {k: r[c] for c, k in keys.items() if k}
        if not _text(row.get("id")) and not _text(row.get("result")):
            continue  # a blank line, a title or a signature line: no site
        if _text(row.get("id")) == id_header:
            continue  # the header repeated (a printed page's)
        rows.append({**row, "_line": line, "_cells": r})
    engine = engine or get_engine()
    ids = [hazard_id(r.get("id")) for r in rows]
    statuses, done = store.recheck_state(engine, [i for i in ids if i])
    lines: dict[str, list[int]] = {}  # an id's lines (written twice: told on every one)
    for rid, row in zip(ids, rows, strict=True):
        if rid and _text(row.get("result")):
            lines.setdefault(rid, []).append(int(row["_line"]))
    out: RecheckImport = {
        "file": str(p),
        "rows": len(rows),
        "recorded": 0,
        "passed": 0,
        "failed": 0,
        "unchanged": 0,
        "not_visited": 0,
        "rejected": 0,
        "rejected_file": None,
        "invalid": [],
    }
    for n, (rid, row) in enumerate(zip(ids, rows, strict=True), start=1):

        def bad(reason: str, n: int = n, row: dict[str, Any] = row, rid: str = rid) -> None:
            out["invalid"].append(
                {"row": n, "line": row["_line"], "id": rid or None, "reason": reason}
            )

        said = _text(row.get("result"))
        if not said:
            out["not_visited"] += 1
            continue
        result = RECHECK_WORDS.get(said.lower())
        if not rid:
            bad("no hazard id (隐患编号)")
            continue
        if result is None:
            bad(f"复查结果 (result) {said!r} is not understood; write 合格 (pass) or 不合格 (fail)")
            continue
        if len(lines[rid]) > 1:
            on_lines = ", ".join(map(str, lines[rid]))
            bad(f"hazard {rid} has a result on lines {on_lines}: keep the one re-check made")
            continue
        if rid not in statuses:
            bad(f"unknown hazard id {rid} (隐患编号)")
            continue
        try:
            day = read_date(row.get("checked_on"))
        except ValueError:
            bad(f"复查日期 (checked_on) {row.get('checked_on')!r} is not a date; write 2025-07-20")
            continue
        field = "复查日期 (checked_on)" if day else "--on"  # where a refused day came from
        day = day or default_day
        if day is None:
            bad("no 复查日期 (checked_on): write the day of the re-check, or give --on")
            continue
        if (rid, day, result) in done:
            out["unchanged"] += 1
            continue
        if statuses[rid] not in DONE_STATUSES:
            again = " (it failed a re-check: its work is to be done again)"
            bad(
                f"hazard {rid} is {statuses[rid]}{again if statuses[rid] == 'reopened' else ''}: "
                "only finished sites (reported done, or verified) are re-checked"
            )
            continue
        who = _text(row.get("checked_by")) or by
        note = _text(row.get("note")) or None
        try:
            record_recheck(rid, result=result, on=day, by=who, note=note, engine=engine)
        except PermissionRefused:
            raise  # the login's, not the row's (the rows recorded so far stay recorded)
        except HazardsError as exc:  # e.g. a day before the work was reported done
            said = f"{field}: " if getattr(exc, "param", None) == "on" else ""
            bad(said + str(exc).replace(" Nothing was changed.", ""))
            continue
        out["recorded"] += 1
        if result == "pass":
            out["passed"] += 1
        else:
            out["failed"] += 1
    out["rejected"] = len(out["invalid"])
    if out["invalid"]:
        out["rejected_file"], earlier = write_rejected_rows(rows, out["invalid"], target)
        if earlier is not None:
            out["rejected_file_earlier"] = earlier
    return out
