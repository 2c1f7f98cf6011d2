"""Police crash records → crashes in the database (the ``crashes`` step): read, parse, attach,
store.

A crash file (CSV UTF-8/GBK, XLSX, GeoPackage, GeoJSON, Shapefile: read by
:mod:`hazards.sheets`) is not a survey: a crash is never merged with another crash (two crashes
1 m apart on the same day are two crashes), and a crash far from every road is kept,
unattached, not rejected. :func:`parse_crash_rows` turns each row into a :class:`CrashRow`
(id, date and time, place, casualties, KABCO severity, type, weather, light) and the problems
found; :func:`hazards.junctions.attach` puts each located crash at its junction node (within
``junction_m``) and on the nearest route within ``crash_snap_m``;
:func:`import_crashes` conducts a whole import, chunk by chunk, in one transaction. The same
crash id from the same source again is the same crash (updated when its row changed).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast

from hazards import sheets
from hazards.cells import footer_row
from hazards.chainage import format_chainage, normalise_code, parse_chainage
from hazards.crash_columns import CRASH_FIELDS as CRASH_FIELDS
from hazards.crash_columns import FIELDS as FIELDS
from hazards.crash_columns import header_score, norm_crash_text, unread_casualty_columns
from hazards.crash_columns import recognise_headers as recognise_headers
from hazards.dates import COMPACT_DAY_PATTERN, DAY_PATTERN, serial_datetime
from hazards.db.store.copy_rows import point_hex
from hazards.errors import HazardsError, InputError
from hazards.junctions import CrashRow as CrashRow
from hazards.junctions import attach as attach
from hazards.junctions import junction_nodes
from hazards.outfiles import RejectedWriter, rejected_target
from hazards.reconcile import Network
from hazards.survey import load_mapping_file as load_mapping_file
from hazards.survey import parse_point
from hazards.vocabulary import SEVERITIES

if TYPE_CHECKING:
    from sqlalchemy import Engine


# fmt: off
SEVERITY_WORDS: dict[str, str] = {
    "k": "K", "a": "A", "b": "B", "c": "C", "o": "O",
    "fatal": "K", "serious": "A", "seriousinjury": "A", "minor": "B", "minorinjury": "B",
    "slight": "B", "possible": "C", "possibleinjury": "C", "pdo": "O", "propertydamage": "O",
    "propertydamageonly": "O",
    "死亡事故": "K", "死亡": "K", "特大": "K", "特大事故": "K", "重大": "A", "重大事故": "A",
    "伤人事故": "B", "伤人": "B", "受伤事故": "B", "受伤": "B", "轻伤": "B", "轻伤事故": "B",
    "重伤": "A", "重伤事故": "A",
    "一般": "B", "一般事故": "B", "轻微": "C", "轻微事故": "C",
    "财产损失事故": "O", "财产损失": "O", "财损": "O",
}
# fmt: on
"""Severity text → KABCO (docs/crashes.md): 重大 (1-2 deaths or 3+ serious injuries) is taken
as A unless the row counts a death; casualty counts always win over a milder class."""

EPDO_WEIGHTS: dict[str, float] = {"K": 542.0, "A": 542.0, "B": 11.0, "C": 11.0, "O": 1.0}
"""Equivalent property-damage-only weights per KABCO class (HSM Part B, chapter 4's example:
fatal and serious crash costs over the PDO cost ≈ 542, other injury ≈ 11)."""

CHUNK_ROWS = 50_000


def crash_headers(sheet: sheets.Sheet, *, mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Field → column of a crash file; refused when it says neither where nor when."""
    columns = [c for c in sheet.columns if c not in ("_lon", "_lat")]
    headers = recognise_headers(columns, mapping=mapping)
    if sheet.point_crs:
        headers.setdefault("lon", "_lon")
        headers.setdefault("lat", "_lat")
    located = {"lon", "lat"} <= set(headers) or {"route_code", "chainage"} <= set(headers)
    if (
        "time" in headers
        and not {"datetime", "year"} & set(headers)
        and norm_crash_text(headers["time"]) == "时间"
        and not (mapping or {}).get("time")
    ):  # a 时间 column beside no date column holds the date and time (2025-03-07 14:20)
        headers["datetime"] = headers.pop("time")
    dated = "datetime" in headers or {"year", "month", "day"} <= set(headers)
    missing = []
    if not located:
        missing.append("where (经度/纬度 lon/lat, or 路线编码 + 桩号 route code + chainage)")
    if not dated:
        missing.append("when (事故时间 date, or 年/月/日 year/month/day columns)")
    if missing:
        raise InputError(
            f"{sheet.path}: no columns for {' nor '.join(missing)}; its columns are: "
            f"{', '.join(columns)}. Name them in a column mapping (e.g. lon=COLUMN, "
            "datetime=COLUMN).",
            param="mapping",
        )
    return headers


_DATE = re.compile(  # the day as dates.DAY_PATTERN, then maybe a time (14:30, 14时30分)
    rf"^\s*{DAY_PATTERN}"
    r"(?:[\sT]*(\d{1,2})\s*[:时点]\s*(\d{1,2})?\s*分?(?:\s*[:]\s*(\d{1,2}(?:\.\d*)?)\s*秒?)?)?\s*$"
)
_COMPACT = re.compile(rf"^\s*{COMPACT_DAY_PATTERN}(?:\s*(\d{{2}})(\d{{2}})(\d{{2}})?)?\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})\s*[:时点]\s*(\d{1,2})?\s*分?(?:\s*:\s*\d{1,2}(?:\.\d*)?)?\s*$")


def parse_datetime(text: str) -> tuple[dt.date, dt.time | None]:
    """A date and maybe a time from ``2023-05-06 14:30``, ``2023/5/6``, ``2023年5月6日14时30分``,
    ``20230506``, ``2023-05-06T14:30:00`` or an Excel date serial (``45420.6041667``, a date
    cell read as a number); ValueError when it is none of them."""
    s = unicodedata.normalize("NFKC", text).strip()
    m = _DATE.match(s) or _COMPACT.match(s)
    if not m:
        try:  # an Excel date serial (a date cell read as a number): 45420.6041667
            return serial_datetime(float(s))
        except ValueError:
            raise ValueError(f"{text!r} is not a date (write it as 2023-05-06 14:30)") from None
    y, mo, d, h, mi = (int(g) if g else None for g in m.groups()[:5])
    assert y is not None and mo is not None and d is not None
    date = dt.date(y, mo, d)  # raises ValueError for 2023-02-30
    return date, (dt.time(h, mi or 0) if h is not None else None)


def parse_time(text: str) -> dt.time:
    """``14:30``, ``14时30分``, ``1430`` or ``14`` → a time; ValueError otherwise."""
    s = unicodedata.normalize("NFKC", text).strip()
    if re.fullmatch(r"\d{3,4}", s):
        return dt.time(int(s[:-2]), int(s[-2:]))
    if re.fullmatch(r"\d{1,2}", s):
        return dt.time(int(s))
    m = _TIME.match(s)
    if not m:
        raise ValueError(f"{text!r} is not a time of day (write it as 14:30)")
    return dt.time(int(m.group(1)), int(m.group(2) or 0))


def _count(text: str) -> int:
    s = unicodedata.normalize("NFKC", text).strip().rstrip("人 ")
    value = float(s)
    if not math.isfinite(value) or value < 0 or value != int(value) or value > 10_000:
        raise ValueError
    return int(value)


def worst(*severities: str | None) -> str | None:
    """The worst of the given KABCO classes (None when none is given)."""
    given = [s for s in severities if s]
    return min(given, key=SEVERITIES.index) if given else None


def when_and_where(row: CrashRow) -> str | None:
    """The id of a crash the sheet gives no id of its own (a 序号 only numbers the rows, from 1
    again in every sheet, file or section): its day, time and place as the row gives them,
    ``2025-03-07 14:20 X001 K0+100`` (or ``… 112.261365,28.763361``). A corrected casualty
    count keeps it, a sheet numbered again keeps it, another sheet's crash 1 has its own; None
    without a day or a place (the row is rejected)."""
    if row.occurred_on is None:
        return None
    if row.route_code and row.chainage_m is not None:
        place = f"{row.route_code} {format_chainage(row.chainage_m)}"
    elif row.x is not None and row.y is not None:
        place = f"{row.x:.6f},{row.y:.6f}"
    else:
        return None
    time = f" {row.occurred_time:%H:%M}" if row.occurred_time is not None else ""
    return f"{row.occurred_on.isoformat()}{time} {place}"


def _content_id(raw: dict[str, str]) -> str:
    text = json.dumps(raw, sort_keys=True, ensure_ascii=False)
    return "h:" + hashlib.sha1(text.encode()).hexdigest()[:16]


def parse_crash_rows(
    raws: Iterable[dict[str, str]], *, headers: dict[str, str], today: dt.date | None = None
) -> list[CrashRow]:
    """Parse rows as read (each with its ``_line``); never raises for a bad cell."""
    today = today or dt.date.today()
    out: list[CrashRow] = []
    for k, raw in enumerate(raws, start=1):
        line = int(raw.pop("_line", "") or k)
        values = {c: v for c, v in raw.items() if not c.startswith("_") or c in ("_lon", "_lat")}
        row = CrashRow(line=line, raw=values)  # with a GIS point's _lon/_lat
        get = functools.partial(_cell, raw, headers)
        given = get("crash_id")
        numbers = (headers.get("crash_id"), headers.get("row_no"))
        if not any(v for c, v in values.items() if c not in numbers) or footer_row(
            values.values(), located=any(get(f) for f in ("route_code", "lon", "lat"))
        ):  # nothing but an id or a number, or the sheet's 合计 row
            row.empty = True
            out.append(row)
            continue
        row.crash_id, row.id_given = (given, True) if given else (_content_id(row.raw), False)
        _parse_when(row, get, today, headers)
        _parse_where(row, get, headers)
        if not given:
            row.crash_id = when_and_where(row) or row.crash_id
        _parse_what(row, get, headers)
        out.append(row)
    return out


def _cell(raw: dict[str, str], headers: dict[str, str], fld: str) -> str:
    return raw.get(headers[fld], "") if fld in headers else ""


_MIDNIGHT_CELL = re.compile(r"T00:00(?::00(?:\.0+)?)?$")
"""A date cell's text (``2025-09-12T00:00:00``, :func:`hazards.sheets.cell_text`): a day with
no time of day, not a crash at midnight."""

EARLIEST_YEAR = 1970
"""Crash records from before this year are taken for a mistyped year."""


_MIDNIGHT = dt.time(0, 0)


def _time_of(text: str, day: dt.date | None) -> dt.time | None:
    """A time column's cell: a time of day (14:30), or a date and time of the crash's day
    (a 时间 column written 2025-03-07 14:20 beside its 日期 column)."""
    try:
        return parse_time(text)
    except ValueError:
        try:
            on, at = parse_datetime(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a time of day (write it as 14:30)") from None
        if day is not None and on != day:
            raise ValueError(f"{text!r} is another day than the crash's date {day}") from None
        return at


def _part(get: Any, headers: dict[str, str], fld: str, unit: str) -> int:
    """A 年/月/日/时/分 cell as a number (``2025年``, ``3月`` and ``7日`` too)."""
    text = get(fld)
    try:
        return _count(unicodedata.normalize("NFKC", text).strip().removesuffix(unit))
    except ValueError:
        raise ValueError(f"{text!r} (column {headers[fld]}) is not a number") from None


def _parse_when(row: CrashRow, get: Any, today: dt.date, headers: dict[str, str]) -> None:
    text = get("datetime")
    try:
        if text:
            try:
                row.occurred_on, row.occurred_time = parse_datetime(text)
            except ValueError as exc:
                raise ValueError(
                    f"{text!r} (column {headers.get('datetime')}) is not a date: {exc}"
                ) from None
            if _MIDNIGHT_CELL.search(text.strip()):  # a date cell: its time is not known here
                row.occurred_time = None
        elif any(get(f) for f in ("year", "month", "day")):
            missing = [headers[f] for f in ("year", "month", "day") if f in headers and not get(f)]
            if missing or not {"year", "month", "day"} <= set(headers):
                raise ValueError(
                    "the year, month and day columns must all be filled"
                    + (f" ({', '.join(missing)} empty)" if missing else "")
                )
            year, month, day = (_part(get, headers, f, u) for f, u in zip(
                ("year", "month", "day"), "年月日", strict=True))  # fmt: skip
            if year < 100:  # 25 for 2025: the century of the records, said
                full = 2000 + year if 2000 + year <= today.year else 1900 + year
                row.warnings.append(
                    f"the year {year} (column {headers['year']}) was read as {full}"
                )
                year = full
            try:
                row.occurred_on = dt.date(year, month, day)
            except ValueError as exc:
                cols = "/".join(headers[f] for f in ("year", "month", "day"))
                raise ValueError(
                    f"{year}-{month}-{day} (columns {cols}) is not a day: {exc}"
                ) from None
        else:
            row.errors.append("no date: the crash needs its date (事故时间, or 年/月/日)")
            return
        t = get("time")
        if t and row.occurred_time in (None, _MIDNIGHT):  # a date's 0:00 is no time of day
            row.occurred_time = _time_of(t, row.occurred_on)
        if get("hour") and row.occurred_time is None:
            hour = _part(get, headers, "hour", "时")
            minute = _part(get, headers, "minute", "分") if get("minute") else 0
            row.occurred_time = dt.time(hour, minute)
    except ValueError as exc:
        why = str(exc) or "not a number"
        row.errors.append(f"date or time not understood: {why}")
        return
    if row.occurred_on is not None and row.occurred_on > today:
        row.errors.append(f"the date {row.occurred_on} is in the future; correct it")
    elif row.occurred_on is not None and row.occurred_on.year < EARLIEST_YEAR:
        row.errors.append(
            f"the date {row.occurred_on} is before {EARLIEST_YEAR}: the year looks mistyped; "
            "correct it"
        )


def _parse_where(row: CrashRow, get: Any, headers: dict[str, str]) -> None:
    code = get("route_code")
    row.route_code = normalise_code(code) if code else None
    ch = get("chainage")
    bad_chainage = None
    if ch:
        try:
            row.chainage_m = parse_chainage(ch)
        except HazardsError:
            bad_chainage = (
                f"chainage {ch!r} (column {headers.get('chainage')}) is not understood; write it "
                "as K12+350"
            )
    lon_t, lat_t = get("lon"), get("lat")
    if lon_t or lat_t:
        try:
            row.x, row.y = parse_point(lon_t, lat_t)
        except ValueError as exc:
            row.errors.append(
                f"coordinates ({headers.get('lon')}={lon_t!r}, {headers.get('lat')}={lat_t!r}) "
                f"are not usable: {exc}"
            )
    if bad_chainage:  # the crash's only place: why it has none; else said, the point used
        (row.errors if row.x is None else row.warnings).append(bad_chainage)


def _parse_what(row: CrashRow, get: Any, headers: dict[str, str]) -> None:
    for fld in ("fatalities", "injuries", "serious", "minor"):
        text = get(fld)
        if text:
            try:
                setattr(row, fld, _count(text))
            except ValueError:
                row.warnings.append(
                    f"{fld} {text!r} (column {headers[fld]}) is not a count of people; left empty"
                )
    sev = get("severity")
    given = None
    if sev:
        given = SEVERITY_WORDS.get(norm_crash_text(sev))
        if given is None:
            row.warnings.append(
                f"severity {sev!r} is not understood (KABCO letters, 死亡事故/伤人事故/财产损失事故, "
                "特大/重大/一般/轻微); taken from the casualty counts"
            )
    counted = next((sev for n, sev in ((row.fatalities, "K"), (row.serious, "A")) if n), None)
    counted = counted or ("B" if (row.injuries or row.minor) else None)
    row.severity = worst(given, counted)
    counts = [row.fatalities, row.injuries, row.serious, row.minor]
    if row.severity is None and any(c is not None for c in counts) and not any(counts):
        row.severity = "O"  # casualties counted, and none
    row.crash_type = get("crash_type") or None
    row.weather = get("weather") or None
    row.light = get("light") or None


# ----------------------------------------------------------------------------- the import
class CrashImportReport(TypedDict):
    """The accounting of one crash import (``hazards crashes import --json``; docs/crashes.md).

    ``stored + unattached + rejected + empty == rows``; of the kept rows (stored +
    unattached), ``added + updated + unchanged`` say what became of them; ``junction`` of them
    are junction crashes (within ``junction_m`` of a node).
    """

    file: str
    source: str
    encoding: str | None
    headers: dict[str, str]
    rows: int
    stored: int
    unattached: int
    rejected: int
    empty: int
    junction: int
    added: int
    updated: int
    unchanged: int
    rejected_file: str | None
    rejected_file_earlier: NotRequired[str]  # a different file that was there, kept as this
    unread_columns: list[str]  # columns about casualties that no field reads
    rejected_rows: list[dict[str, Any]]
    unattached_rows: list[dict[str, Any]]
    warnings: int
    warning_rows: list[dict[str, Any]]
    other_sources: dict[str, int]
    dry_run: bool


# fmt: off
CRASH_COLUMNS = (
    "admin_code", "source", "crash_id", "source_file", "source_line", "occurred_on",
    "occurred_time", "fatalities", "injuries", "serious_injuries", "minor_injuries", "severity",
    "crash_type", "weather", "light", "route_code", "road_id", "segment_id", "part", "chainage_m",
    "snap_distance_m", "match_method", "junction", "junction_lon", "junction_lat", "raw", "content_hash", "warnings", "geom",
)
# fmt: on
"""The columns of a crash as :func:`import_crashes` gives them to the store, in this order."""


def _values(
    r: CrashRow, *, admin_code: str, source: str, file: str, row_no: str | None = None
) -> tuple[Any, ...]:
    """A crash's row for :class:`~hazards.db.store.crashes.CrashWriter` (``raw`` and
    ``warnings`` as the object and list they are stored as; the hash of ``raw``'s text, but
    for the ``row_no`` column: a sheet renumbered is the same crashes, not updated ones)."""
    raw = json.dumps(
        {k: v for k, v in r.raw.items() if k != row_no}, sort_keys=True, ensure_ascii=False
    )
    return (
        admin_code,
        source,
        r.crash_id,
        file,
        r.line,
        r.occurred_on,
        r.occurred_time,
        r.fatalities,
        r.injuries,
        r.serious,
        r.minor,
        r.severity,
        r.crash_type,
        r.weather,
        r.light,
        r.attached_route,
        r.road_id,
        r.segment_id,
        r.part,
        r.at_m,
        r.snap_distance_m,
        r.method,
        r.junction,
        r.junction_lon,
        r.junction_lat,
        r.raw,
        hashlib.sha1(raw.encode()).hexdigest(),
        list(r.warnings),
        None if r.lon is None or r.lat is None else point_hex(r.lon, r.lat),
    )


def import_crashes(
    path: str | Path,
    *,
    source: str,
    sheet: str | None = None,
    layer: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    header_row: int | None = None,
    rejected_path: str | Path | None = None,
    dry_run: bool = False,
    engine: Engine | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> CrashImportReport:
    """Read, attach and store a crash file; returns the accounting (``--json``).

    Every row is stored (attached to a route within ``crash_snap_m``), unattached (kept, with
    its position, farther from every road), rejected (with the reason, written to
    ``NAME.rejected.csv``) or empty. ``source`` names who keeps the records (e.g. 县交警大队):
    a crash id given again by the same source is the same crash, updated when its row changed
    (``updated``) and left alone otherwise (``unchanged``); rows without an id are known by
    their content. ``header_row``: the row of the column names (else found below any title
    rows; a header over two rows, cells merged down, is read as one). ``dry_run``: everything
    is read and counted, nothing is written. One transaction: a failure leaves the database as
    it was.
    """
    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.settings import get_settings

    who = (source or "").strip()
    if not who:
        raise InputError(
            "The crashes' source is required: who keeps the records (e.g. 县公安局交警大队).",
            param="source",
        )
    p = Path(path)
    sh, stream = sheets.open_sheet(
        p,
        sheet=sheet,
        encoding=encoding,
        crs=crs,
        layer=layer,
        header_row=header_row,
        score=header_score,
    )
    try:
        headers = crash_headers(sh, mapping=mapping)
        engine = engine or get_engine()
        settings = get_settings()
        working = store.require_working_crs(engine)
        network = Network.from_segments(store.network_segments(engine), working)
        junctions = junction_nodes(network)
        rejected = RejectedWriter(
            rejected_target(p, rejected_path, sheet=sheet), sh.columns, lang=settings.lang
        )
        counts = ("rows", "stored", "unattached", "rejected", "empty", "junction", "added")
        report = cast(
            CrashImportReport,
            {
                "file": str(p),
                "source": who,
                "encoding": sh.encoding,
                "headers": headers,
                **dict.fromkeys((*counts, "updated", "unchanged", "warnings"), 0),
                "rejected_file": None,
                "unread_columns": unread_casualty_columns(sh.columns, headers),
                "rejected_rows": [],
                "unattached_rows": [],
                "warning_rows": [],
                "other_sources": {},
                "dry_run": dry_run,
            },
        )
        seen: dict[str, int] = {}  # crash id → its line, within this file
        try:
            with store.crash_writer(engine, dry_run=dry_run) as writer:
                while chunk := list(itertools.islice(stream, chunk_rows)):
                    rows = parse_crash_rows(chunk, headers=headers)
                    attach(
                        rows,
                        network,
                        snap_m=settings.crash_snap_m,
                        crs=None if sh.point_crs else crs,
                        junctions=junctions,
                        junction_m=settings.junction_m,
                        chainage_warn_m=settings.chainage_review_m,
                    )
                    keep = _sort(rows, report, rejected, seen)
                    placed = [(when_and_where(r), r.crash_id) for r in keep if r.id_given]
                    writer.adopt(  # 事故编号 filled in for crashes stored without one
                        who, [(a, b) for a, b in placed if a], admin_code=settings.admin_code
                    )
                    values = [
                        _values(
                            r,
                            admin_code=settings.admin_code,
                            source=who,
                            file=p.name,
                            row_no=headers.get("row_no"),
                        )
                        for r in keep
                    ]
                    added, updated = writer.add(CRASH_COLUMNS, values)
                    ids = [(r.crash_id, r.occurred_on) for r in keep]  # own ids or day+place
                    for other, n in writer.elsewhere(
                        who, ids, admin_code=settings.admin_code
                    ).items():
                        report["other_sources"][other] = report["other_sources"].get(other, 0) + n
                    report["added"] += added
                    report["updated"] += updated
                    report["unchanged"] += len(values) - added - updated
        except BaseException:
            rejected.discard()
            raise
        if dry_run:
            rejected.discard()
        else:
            earlier = rejected.keep()
            report["rejected_file"] = str(rejected.path) if rejected.used else None
            if earlier is not None:
                report["rejected_file_earlier"] = str(earlier)
        return report
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def _sort(
    rows: list[CrashRow],
    report: CrashImportReport,
    rejected: RejectedWriter,
    seen: dict[str, int],
) -> list[CrashRow]:
    """Count a chunk's rows into the report; the rows to store (attached or not)."""
    keep = []
    for r in rows:
        report["rows"] += 1
        if r.empty:
            report["empty"] += 1
            continue
        if r.crash_id in seen:
            if r.id_given:  # the later row is refused, never merged with the earlier one
                r.errors.insert(
                    0,
                    f"crash id {r.crash_id} on line {r.line} is given again: line "
                    f"{seen[r.crash_id]} already has it; give each crash its own id",
                )
            else:  # the same row twice, with no id: both kept, told apart by their order
                n = 2
                while f"{r.crash_id}#{n}" in seen:
                    n += 1
                r.crash_id = f"{r.crash_id}#{n}"
        seen.setdefault(r.crash_id, r.line)
        if r.errors:
            reason = "; ".join(r.errors)
            report["rejected"] += 1
            report["rejected_rows"].append({"row": r.crash_id, "line": r.line, "reason": reason})
            rejected.write(r.raw, r.crash_id or str(r.line), reason)
            continue
        report["warnings"] += len(r.warnings)
        if r.warnings:
            report["warning_rows"].append(
                {"row": r.crash_id, "line": r.line, "warnings": list(r.warnings)}
            )
        if r.method == "unattached":
            report["unattached"] += 1
            report["unattached_rows"].append(
                {"row": r.crash_id, "line": r.line, "lon": r.lon, "lat": r.lat}
            )
        else:
            report["stored"] += 1
        report["junction"] += r.junction is not None
        keep.append(r)
    return keep


# ----------------------------------------------------------------------------- listing
def list_crashes(
    *,
    route: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    severity: str | list[str] | None = None,
    engine: Engine | None = None,
) -> list[dict[str, Any]]:
    """The stored crashes (attached or not), by date: of ``route`` (a code or an alias), with
    dates in [``date_from``, ``date_to``], of the KABCO class(es) ``severity`` (``"KA"`` or
    ``["K", "A"]``)."""
    from hazards.db import store
    from hazards.db.session import get_engine

    if date_from and date_to and date_from > date_to:
        raise InputError(
            f"The period starts ({date_from}) after it ends ({date_to}); swap the dates.",
            param="date_from",
        )
    classes = None
    if severity:
        classes = [c.upper() for c in (list(severity) if isinstance(severity, str) else severity)]
        bad = [c for c in classes if c not in SEVERITIES]
        if bad:
            raise InputError(
                f"Unknown severity {', '.join(bad)}: use KABCO letters (K fatal, A serious "
                "injury, B minor injury, C possible injury, O property damage only), e.g. KA.",
                param="severity",
            )
    engine = engine or get_engine()
    code = store.get_road(engine, route)["route_code"] if route else None
    rows = store.list_crashes(
        engine,
        route=code,
        date_from=date_from,
        date_to=date_to,
        severities=classes,
    )
    for r in rows:
        r["occurred_on"] = r["occurred_on"].isoformat()
        r["occurred_time"] = r["occurred_time"].strftime("%H:%M") if r["occurred_time"] else None
    return rows
