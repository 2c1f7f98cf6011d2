"""Survey sheets → normalised rows (the ``survey`` step): reading, headers, cell parsing.

:func:`read_sheet` reads CSV (UTF-8, UTF-8 with BOM, GBK/GB18030 detected), XLSX, GeoJSON,
Shapefile and GeoPackage into raw text cells; :func:`recognise_headers` maps Chinese and
English headers to fields; :func:`parse_rows` turns every row into typed values plus the
problems found, never raising for a bad cell. Matching onto the network is
:mod:`hazards.reconcile`'s job.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomllib

from hazards.chainage import normalise_code, parse_chainage
from hazards.errors import HazardsError, InputError, InputFileNotFound

FIELDS: dict[str, tuple[str, ...]] = {
    "row_id": ("序号", "编号", "隐患编号", "id", "no", "row_id", "number", "source_row"),
    "route_code": ("路线编码", "路线编号", "路线代码", "路线代号", "route_code", "routecode", "route", "road_code", "code"),
    "route_name": ("路线名称", "道路名称", "route_name", "road_name"),
    "township": ("乡镇", "所属乡镇", "乡镇名称", "township", "town"),
    "chainage": ("桩号", "中心桩号", "位置桩号", "chainage", "stake", "station"),
    "lon": ("经度", "lon", "lng", "long", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
    "category": ("隐患类型", "隐患类别", "隐患分类", "category", "hazard_type", "type"),
    "description": ("隐患描述", "描述", "隐患情况", "description", "desc"),
    "risk_level": ("风险等级", "隐患等级", "risk_level", "risk", "tier", "level"),
    "countermeasure": ("处置建议", "整治措施", "治理措施", "整改措施", "countermeasure", "measure"),
    "cost_10k": ("估算金额(万元)", "估算金额（万元）", "估算金额万元", "投资估算(万元)", "cost_10k_cny"),
    "cost_cny": ("estimated_cost", "estimated_cost_cny", "cost_cny", "估算金额(元)", "估算金额（元）", "cost"),
    "length_m": ("长度(m)", "长度（m）", "长度(米)", "长度", "length_m", "length"),
    "photo": ("照片", "照片编号", "photo", "photos"),
}
SURVEY_FIELDS = tuple(FIELDS)

# The documented hazard vocabulary (docs/survey.md), with the Chinese survey terms mapped.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "sharp_curve": ("急弯", "急弯路段", "sharp curve", "sharp_curve", "curve"),
    "consecutive_curves": ("连续急弯", "连续弯道", "consecutive curves", "consecutive_curves"),
    "steep_grade": ("陡坡", "陡坡路段", "steep grade", "steep_grade", "steep slope"),
    "long_downgrade": ("连续下坡", "长下坡", "连续长下坡", "long downgrade", "long_downgrade"),
    "roadside_water_or_cliff": ("临水临崖", "临水", "临崖", "临水路段", "临崖路段", "roadside water or cliff", "roadside_water_or_cliff", "drop"),
    "dangerous_roadside": ("路侧险要", "路侧险要路段", "dangerous roadside", "dangerous_roadside"),
    "poor_sight_distance": ("视距不良", "视距不足", "poor sight distance", "poor_sight_distance"),
    "irregular_junction": ("交叉口不规范", "平交路口不规范", "交叉路口", "irregular junction", "irregular_junction", "junction"),
    "through_village": ("穿村过镇", "穿村过镇路段", "through village", "through_village"),
    "missing_signs_markings": ("标志标线缺失", "标志缺失", "标线缺失", "标志标线不全", "missing signs", "missing_signs_markings"),
    "pavement_defect": ("路面病害", "路面破损", "坑槽", "pavement defect", "pavement_defect"),
}
TIER_WORDS: dict[str, tuple[str, ...]] = {
    "I": ("i", "1", "一级", "一", "高", "高风险", "high", "重大", "ⅰ"),
    "II": ("ii", "2", "二级", "二", "中", "中风险", "medium", "较大", "ⅱ"),
    "III": ("iii", "3", "三级", "三", "低", "低风险", "low", "一般", "ⅲ"),
}


def _norm_header(name: Any) -> str:
    s = unicodedata.normalize("NFKC", str(name)).strip().lstrip("\ufeff").lower()
    return re.sub(r"[\s_\-]+", "", s)


def recognise_headers(columns: list[str], *, mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Which column holds each survey field. ``mapping`` (field → column) overrides or adds."""
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(_norm_header(c), c)
    found: dict[str, str] = {}
    taken: set[str] = set()
    for fld, aliases in FIELDS.items():
        for alias in aliases:
            col = by_norm.get(_norm_header(alias))
            if col is not None and col not in taken:
                found[fld] = col
                taken.add(col)
                break
    for fld, col in (mapping or {}).items():
        if fld not in FIELDS:
            raise InputError(
                f"Mapping: unknown field {fld!r}. Fields are: {', '.join(SURVEY_FIELDS)}."
            )
        if col not in columns:
            raise InputError(
                f"Mapping {fld}={col}: the sheet has no column {col!r}. "
                f"Its columns are: {', '.join(map(str, columns))}."
            )
        found = {k: v for k, v in found.items() if v != col}
        found[fld] = col
    return found


def load_mapping_file(path: str | Path) -> dict[str, str]:
    """A TOML mapping file: ``[columns]`` table (or top level) of field = "column"."""
    p = Path(path)
    if not p.is_file():
        raise InputFileNotFound(f"{p}: no such mapping file.")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not a valid UTF-8 TOML mapping file ({exc}).") from exc
    table = data.get("columns", data)
    return {str(k): str(v) for k, v in table.items() if not isinstance(v, dict)}


# ----------------------------------------------------------------------------- reading
@dataclass
class Sheet:
    """A survey sheet as text cells: header names and one dict per data row."""

    path: Path
    columns: list[str]
    rows: list[dict[str, str]]
    encoding: str | None = None
    sheet: str | None = None
    point_crs: str | None = None  # for GIS inputs: lon/lat came from the geometry


def decode_bytes(data: bytes, *, encoding: str | None, path: Path) -> tuple[str, str]:
    """Text of a CSV: the given encoding, else UTF-8 (with or without BOM), else GB18030."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(
                f"{path}: cannot be read as {encoding} ({exc}). Leave out --encoding to detect "
                "UTF-8 or GBK, or give the right one."
            ) from exc
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc), "utf-8" if enc == "utf-8-sig" else "gb18030"
        except UnicodeDecodeError:
            continue
    raise InputError(
        f"{path}: is neither UTF-8 nor GBK text. Save it as UTF-8 CSV, or give --encoding."
    )


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return repr(v) if v != int(v) else str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v).strip()


def _rows_from_table(table: Iterable[list[Any]], path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header (the first non-empty row) and one dict per data row, read as the rows come."""
    it = iter(table)
    first = next((r for r in it if any(_cell(c) for c in r)), None)
    if first is None:
        raise InputError(f"{path}: the sheet is empty (no header row).")
    header = [_cell(c) or f"column_{k + 1}" for k, c in enumerate(first)]
    seen: dict[str, int] = {}
    for k, h in enumerate(header):
        if h in seen:
            seen[h] += 1
            header[k] = f"{h}_{seen[h]}"
        else:
            seen[h] = 1
    width = len(header)
    rows = []
    for r in it:
        cells = [_cell(c) for c in r]
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        row = dict(zip(header, cells[:width], strict=True))
        extra = [c for c in cells[width:] if c]
        if extra:
            row["_extra"] = " | ".join(extra)
        rows.append(row)
    return header, rows


def read_sheet(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
) -> Sheet:
    """Read a survey file into text cells; see the module docstring."""
    p = Path(path)
    if not p.is_file():
        raise InputFileNotFound(f"{p}: no such file. Check the path.")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        text, enc = decode_bytes(p.read_bytes(), encoding=encoding, path=p)
        text = text.replace("\x00", "")  # NUL bytes (from broken exports) would stop the reader
        dialect: Any = csv.excel_tab if suffix == ".tsv" or ("\t" in text[:2000] and "," not in text[:2000]) else csv.excel
        try:
            columns, rows = _rows_from_table(csv.reader(io.StringIO(text, newline=""), dialect), p)
        except csv.Error as exc:
            raise InputError(f"{p}: not a readable CSV file ({exc}).") from exc
        return Sheet(p, columns, rows, encoding=enc)
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(f"{p}: not a readable Excel .xlsx file ({exc}).") from exc
        try:
            if sheet is None:
                ws = wb.worksheets[0]
            elif sheet in wb.sheetnames:
                ws = wb[sheet]
            else:
                raise InputError(f"{p} has no sheet {sheet!r}; its sheets are: {', '.join(wb.sheetnames)}.")
            columns, rows = _rows_from_table((list(r) for r in ws.iter_rows(values_only=True)), p)
            name = ws.title
        finally:
            wb.close()
        return Sheet(p, columns, rows, sheet=name)
    if suffix == ".xls":
        raise InputError(f"{p}: old Excel .xls files are not read. Save it as .xlsx or CSV in Excel.")
    return _read_gis(p, crs=crs)


def _read_gis(p: Path, *, crs: str | None) -> Sheet:
    import pyogrio

    from hazards.crs import parse_crs

    try:
        gdf = pyogrio.read_dataframe(p)
    except Exception as exc:
        raise InputError(
            f"{p}: cannot be read as a survey (CSV, XLSX, GeoJSON, Shapefile or GeoPackage): "
            f"{str(exc).splitlines()[0]}."
        ) from exc
    if crs:
        gdf = gdf.set_crs(parse_crs(crs), allow_override=True)
    if gdf.crs is None:
        raise InputError(f"{p} has no coordinate reference system. Say which with --crs, e.g. --crs EPSG:4490.")
    columns = [c for c in gdf.columns if c != "geometry"]
    rows = [{c: _cell(v) for c, v in zip(columns, values, strict=True)} for values in gdf[columns].itertuples(index=False)]
    geo = gdf.geometry
    has = ~(geo.isna() | geo.is_empty)
    pts = geo[has].to_crs(4326)
    pts = pts.where(pts.geom_type == "Point", pts.representative_point())
    for i, g in zip(np.flatnonzero(has.to_numpy()), pts, strict=True):
        rows[i]["_lon"], rows[i]["_lat"] = repr(g.x), repr(g.y)
    return Sheet(p, [*columns, "_lon", "_lat"], rows, point_crs="EPSG:4326")


# ----------------------------------------------------------------------------- cell parsing
_DMS = re.compile(
    r"""^\s*([NSEW东西南北]?)\s*(-?\d+(?:\.\d+)?)\s*(?:[°度d:\s])\s*(?:(\d+(?:\.\d+)?)\s*(?:['′’分m:\s])?\s*)?"""
    r"""(?:(\d+(?:\.\d+)?)\s*(?:["″”]|''|′′|秒|s)?)?\s*([NSEW东西南北]?)\s*$""",
    re.IGNORECASE,
)


def parse_coordinate(text: str) -> float | None:
    """Degrees from ``112.3585``, ``112°21'30.5"``, ``112 21 30.5``, ``112°21.5'``, ``E112°21'30"``.

    Returns None for an empty cell; raises ValueError for one that is not a coordinate.
    """
    s = unicodedata.normalize("NFKC", text).strip()
    if not s:
        return None
    try:
        value = float(s.replace(",", "."))
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number")
        return value
    except ValueError:
        pass
    m = _DMS.match(s)
    if not m:
        raise ValueError(f"{text!r} is not a coordinate (decimal degrees or degrees-minutes-seconds)")
    hemi = (m.group(1) or m.group(5) or "").upper()
    deg = float(m.group(2))
    minutes = float(m.group(3) or 0)
    seconds = float(m.group(4) or 0)
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"{text!r}: minutes and seconds must be below 60")
    value = abs(deg) + minutes / 60 + seconds / 3600
    if deg < 0 or hemi in ("S", "W", "南", "西"):
        value = -value
    return value


def parse_amount(text: str, *, unit: float = 1.0) -> float | None:
    """A money amount; ``3.5万`` and ``1,200`` understood. None when empty; ValueError if unclear."""
    s = unicodedata.normalize("NFKC", text).strip().replace(",", "").replace("¥", "").replace("元", "")
    s = s.replace("RMB", "").replace("CNY", "").strip()
    if not s:
        return None
    factor = unit
    if s.endswith("万"):
        s, factor = s[:-1].strip(), 10000.0
    value = float(s)  # raises ValueError
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{text!r} is not an amount ≥ 0")
    return value * factor


@functools.cache
def _category_words() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Normalised word → category, and the Chinese words to look for inside longer text."""
    exact: dict[str, str] = {}
    inside: list[tuple[str, str]] = []
    for cat, words in CATEGORIES.items():
        for w in words:
            exact.setdefault(_norm_header(w), cat)
            if re.search(r"[\u4e00-\u9fff]", w) and len(w) >= 2:
                inside.append((_norm_header(w), cat))
    return exact, inside


@functools.lru_cache(maxsize=4096)
def normalise_category(text: str) -> str | None:
    """The vocabulary term for a survey's category text; None when it is not known."""
    s = _norm_header(text)
    if not s:
        return None
    exact, inside = _category_words()
    if s in exact:
        return exact[s]
    # e.g. "急弯（无警示标志）": the longest word found, the earliest on a tie (连续急弯路段 → 连续急弯)
    found = [(len(word), -s.find(word), cat) for word, cat in inside if word in s]
    return max(found)[2] if found else None


@functools.lru_cache(maxsize=1024)
def normalise_tier(text: str) -> str | None:
    s = unicodedata.normalize("NFKC", text).strip().lower().replace("级风险", "级").replace("类", "")
    if s.endswith("级") and s[:-1] in ("i", "ii", "iii"):
        s = s[:-1]
    for tier, words in TIER_WORDS.items():
        if s in words:
            return tier
    return None


@dataclass(slots=True)
class ParsedRow:
    """One survey row: typed values, and what was wrong with its cells."""

    line: int  # 1-based data-row number in the sheet
    row_id: str
    raw: dict[str, str]
    empty: bool = False
    route_code: str | None = None
    route_name: str | None = None
    township: str | None = None
    chainage_m: float | None = None
    lon: float | None = None
    lat: float | None = None
    x: float | None = None
    y: float | None = None
    category: str | None = None
    category_raw: str | None = None
    description: str | None = None
    provided_tier: str | None = None
    countermeasure: str | None = None
    provided_cost_cny: float | None = None
    length_m: float | None = None
    photo: str | None = None
    errors: list[str] = field(default_factory=list)  # make the row unusable for its purpose
    warnings: list[str] = field(default_factory=list)


def _get(raw: dict[str, str], headers: dict[str, str], fld: str) -> str:
    col = headers.get(fld)
    return raw.get(col, "").strip() if col else ""


def parse_rows(sheet: Sheet, *, mapping: dict[str, str] | None = None) -> tuple[list[ParsedRow], dict[str, str]]:
    """Parse every row; returns the rows and the header → field recognition used."""
    columns = [c for c in sheet.columns if c not in ("_lon", "_lat")]
    headers = recognise_headers(columns, mapping=mapping)
    if sheet.point_crs:
        headers.setdefault("lon", "_lon")
        headers.setdefault("lat", "_lat")
    located = {"lon", "lat"} <= set(headers) or ({"route_code", "chainage"} <= set(headers))
    if not located and sheet.point_crs is None:
        raise InputError(
            f"{sheet.path}: no columns for where the hazards are. The sheet needs 经度/纬度 "
            f"(lon/lat) or 路线编码 + 桩号 (route code + chainage); its columns are: "
            f"{', '.join(columns)}. Name them with --map lon=COLUMN,lat=COLUMN or a --mapping file."
        )
    out: list[ParsedRow] = []
    for line, raw in enumerate(sheet.rows, start=1):
        values = raw if not any(k.startswith("_") for k in raw) else {k: v for k, v in raw.items() if not k.startswith("_")}
        rid = _get(raw, headers, "row_id") or str(line)
        row = ParsedRow(line=line, row_id=rid, raw=values)
        id_col = headers.get("row_id")
        if not any(v.strip() for k, v in values.items() if k != id_col):
            row.empty = True
            out.append(row)
            continue
        if raw.get("_extra"):
            row.warnings.append(f"cells beyond the last header were ignored: {raw['_extra'][:80]}")
        _parse_into(row, raw, headers)
        out.append(row)
    return out, headers


def _parse_into(row: ParsedRow, raw: dict[str, str], headers: dict[str, str]) -> None:
    code = _get(raw, headers, "route_code")
    row.route_code = normalise_code(code) if code else None
    row.route_name = _get(raw, headers, "route_name") or None
    row.township = _get(raw, headers, "township") or None
    ch = _get(raw, headers, "chainage")
    if ch:
        try:
            row.chainage_m = parse_chainage(ch)
        except HazardsError:
            row.errors.append(f"chainage {ch!r} (column {headers['chainage']}) is not understood; write it as K12+350")
    lon_t, lat_t = _get(raw, headers, "lon"), _get(raw, headers, "lat")
    if lon_t or lat_t:
        try:
            lon, lat = parse_coordinate(lon_t), parse_coordinate(lat_t)
            if lon is None or lat is None:
                raise ValueError("one of the two coordinates is empty")
            row.x, row.y = lon, lat
        except ValueError as exc:
            row.errors.append(
                f"coordinates ({headers.get('lon')}={lon_t!r}, {headers.get('lat')}={lat_t!r}) are not "
                f"usable: {exc}"
            )
    cat = _get(raw, headers, "category")
    row.category_raw = cat or None
    if cat:
        row.category = normalise_category(cat)
        if row.category is None:
            row.category = "other"
            row.warnings.append(f"category {cat!r} is not in the vocabulary; kept verbatim as 'other'")
    row.description = _get(raw, headers, "description") or None
    tier = _get(raw, headers, "risk_level")
    if tier:
        row.provided_tier = normalise_tier(tier)
        if row.provided_tier is None:
            row.warnings.append(f"risk level {tier!r} is not understood (use 一级/二级/三级, I/II/III, 1/2/3, 高/中/低); left empty")
    row.countermeasure = _get(raw, headers, "countermeasure") or None
    for fld, unit in (("cost_10k", 10000.0), ("cost_cny", 1.0)):
        text = _get(raw, headers, fld)
        if text and row.provided_cost_cny is None:
            try:
                row.provided_cost_cny = parse_amount(text, unit=unit)
            except ValueError:
                row.warnings.append(f"cost {text!r} (column {headers[fld]}) is not a number; left empty, not guessed")
    length = _get(raw, headers, "length_m")
    if length:
        try:
            value = float(unicodedata.normalize("NFKC", length).replace(",", "").rstrip("m米 "))
            if not math.isfinite(value) or value < 0:
                raise ValueError
            row.length_m = value
        except ValueError:
            row.warnings.append(f"length {length!r} is not a number of metres; left empty")
    row.photo = _get(raw, headers, "photo") or None


def rows_frame(rows: list[ParsedRow]) -> pd.DataFrame:
    """The parsed rows as a DataFrame (one row each, same order)."""
    import dataclasses

    return pd.DataFrame([dataclasses.asdict(r) for r in rows])


# ----------------------------------------------------------------------------- the whole step
def _content_hash(raw: dict[str, str]) -> str:
    import hashlib
    import json

    return hashlib.sha1(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def write_rejected_csv(sheet: Sheet, rows: list[ParsedRow], reasons: dict[int, str], path: Path) -> Path:
    """The rejected rows with their original columns, ``source_row`` and ``rejected_reason``.

    UTF-8 with BOM so that Excel opens the Chinese text; the firm fixes and re-sends it.
    """
    columns = [c for c in sheet.columns if not c.startswith("_")]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*columns, "source_row", "rejected_reason"])
        for r in rows:
            if r.line in reasons:
                w.writerow([*(r.raw.get(c, "") for c in columns), r.row_id, reasons[r.line]])
    return path


def _rejected_target(path: Path, explicit: str | Path | None) -> Path:
    if explicit:
        return Path(explicit)
    target = path.with_name(f"{path.stem}.rejected.csv")
    import os

    return target if os.access(path.parent, os.W_OK) else Path.cwd() / target.name


def import_survey(
    path: str | Path,
    *,
    provider: str,
    surveyed_on: Any,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    rejected_path: str | Path | None = None,
    engine: Any = None,
) -> dict[str, Any]:
    """Read, reconcile and store a survey file; returns the accounting (``--json``).

    ``accepted + review + rejected + duplicates + empty == rows``. Importing the same file
    again changes nothing. Rows of a corrected file from the same provider update the hazard
    they came from (matched by the provider's row id) or are left alone when unchanged; a row
    repeating a hazard already known on the same route is linked to it as seen again.
    Everything is stored in one transaction.
    """
    import datetime as dt
    import hashlib

    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.reconcile import Network, reconcile
    from hazards.settings import get_settings

    p = Path(path)
    if not provider or not provider.strip():
        raise InputError("--provider is required: the name of the survey firm (e.g. --provider 湖南某检测公司).")
    try:
        on = surveyed_on if isinstance(surveyed_on, dt.date) else dt.date.fromisoformat(str(surveyed_on))
    except ValueError as exc:
        raise InputError(f"--surveyed-on {surveyed_on!r} is not a date; write it as YYYY-MM-DD.") from exc
    if not p.is_file():
        raise InputFileNotFound(f"{p}: no such file. Check the path.")
    sha = hashlib.sha256(p.read_bytes()).hexdigest()
    sh = read_sheet(p, sheet=sheet, encoding=encoding, crs=crs)
    rows, headers = parse_rows(sh, mapping=mapping)
    engine = engine or get_engine()
    earlier = store.survey_by_sha(engine, sha)
    if earlier is not None:
        before = dict(earlier["report"] or {})
        before.update(already_imported=True, survey_id=earlier["id"], added=0, updated=0)
        return before
    working = store.require_working_crs(engine)
    segments = store.network_segments(engine)
    settings = get_settings()
    network = Network.from_segments(segments, working)
    matches = reconcile(rows, network, crs=None if sh.point_crs else crs, settings=settings)

    # Against what is already known: the provider's own rows (corrections), then repeats.
    known = store.known_hazards(
        engine, provider=provider.strip(),
        route_codes=sorted({m.route_code for m in matches if m.route_code}),
    )
    own = {str(k): v for k, v in known[known["provider"] == provider.strip()].groupby("provider_row_id")} if len(known) else {}
    new: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    seen: list[tuple[int, str]] = []
    counts = {"added": 0, "updated": 0, "unchanged": 0, "seen_again": 0}
    for r, m in zip(rows, matches, strict=True):
        if m.status not in ("accepted", "review"):
            continue
        values = {
            "admin_code": settings.admin_code, "provider_row_id": r.row_id, "source_line": r.line,
            "raw": r.raw, "content_hash": _content_hash(r.raw), "category": r.category,
            "category_raw": r.category_raw, "description": r.description,
            "provided_tier": r.provided_tier, "tier": r.provided_tier,
            "status": "identified" if m.status == "accepted" else "review",
            "road_id": m.road_id, "segment_id": m.segment_id, "chainage_m": m.chainage_m,
            "snap_distance_m": m.snap_distance_m, "match_method": m.match_method,
            "match_status": m.status, "review_reason": m.reason if m.status == "review" else None,
            "warnings": r.warnings + m.warnings, "countermeasure": r.countermeasure,
            "provided_cost_cny": r.provided_cost_cny, "length_m": r.length_m, "photo": r.photo,
            "lon": m.lon, "lat": m.lat,
        }
        previous = own.get(r.row_id)
        if previous is not None and len(previous):
            prev = previous.iloc[0]
            if prev["content_hash"] == values["content_hash"]:
                counts["unchanged"] += 1
            else:
                upd = {k: v for k, v in values.items() if k not in ("admin_code", "provider_row_id")}
                if prev["status"] not in ("identified", "review"):
                    upd.pop("status")  # work has started on it: keep its lifecycle status
                updates.append({"hazard_id": int(prev["id"]), **upd})
                counts["updated"] += 1
            continue
        if len(known) and m.chainage_m is not None:
            same = known[(known["route_code"] == m.route_code) & (known["part"] == (m.part or 0))
                         & (known["category"].fillna("") == (r.category or ""))]
            close = same[(same["chainage_m"] - m.chainage_m).abs() <= settings.duplicate_m]
            if len(close):
                seen.append((int(close.iloc[0]["id"]), f"row {r.row_id} repeats {close.iloc[0]['public_id']}"))
                counts["seen_again"] += 1
                continue
        new.append(values)
        counts["added"] += 1

    buckets = {k: sum(1 for m in matches if m.status == k) for k in ("accepted", "review", "rejected", "duplicate", "empty")}
    rejected_by_reason: dict[str, int] = {}
    for m in matches:
        if m.status == "rejected":
            rejected_by_reason[m.reason_key or "other"] = rejected_by_reason.get(m.reason_key or "other", 0) + 1
    reasons = {m.line: m.reason or "" for m in matches if m.status == "rejected"}
    rejected_file = None
    if reasons:
        rejected_file = str(write_rejected_csv(sh, rows, reasons, _rejected_target(p, rejected_path)))
    report: dict[str, Any] = {
        "survey_id": None,
        "file": str(p),
        "provider": provider.strip(),
        "surveyed_on": on.isoformat(),
        "encoding": sh.encoding,
        "headers": headers,
        "rows": len(rows),
        "accepted": buckets["accepted"],
        "review": buckets["review"],
        "rejected": buckets["rejected"],
        "duplicates": buckets["duplicate"],
        "empty": buckets["empty"],
        "rejected_by_reason": rejected_by_reason,
        "rejected_file": rejected_file,
        "warnings": sum(len(r.warnings) + len(m.warnings) for r, m in zip(rows, matches, strict=True) if m.status in ("accepted", "review")),
        **counts,
        "already_imported": False,
        "rejected_rows": [
            {"row": r.row_id, "line": m.line, "reason": m.reason}
            for r, m in zip(rows, matches, strict=True) if m.status == "rejected"
        ],
        "duplicate_rows": [
            {"row": r.row_id, "line": m.line, "reason": m.reason}
            for r, m in zip(rows, matches, strict=True) if m.status == "duplicate"
        ],
    }
    survey = {
        "admin_code": settings.admin_code, "provider": provider.strip(), "surveyed_on": on,
        "source_name": p.name, "sha256": sha, "rows_total": len(rows),
        "rows_accepted": buckets["accepted"], "rows_review": buckets["review"],
        "rows_rejected": buckets["rejected"], "rejected_file": rejected_file, "report": report,
    }
    sid, _ = store.write_survey_import(engine, survey=survey, new=new, updates=updates, seen_again=seen, by=provider.strip())
    report["survey_id"] = sid
    return report
