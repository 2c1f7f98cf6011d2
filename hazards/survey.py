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
import hashlib
import itertools
import json
import math
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
    """A survey sheet as text cells: header names and one dict per data row.

    From :func:`open_sheet`, ``rows`` is empty and the rows come from the iterator it returns
    (a province's survey need not fit in memory); :func:`read_sheet` fills it.
    """

    path: Path
    columns: list[str]
    rows: list[dict[str, str]]
    encoding: str | None = None
    sheet: str | None = None
    point_crs: str | None = None  # for GIS inputs: lon/lat came from the geometry


def _decode_error(path: Path, encoding: str) -> str | None:
    """Why the whole file does not decode as ``encoding`` (None when it does), read in blocks."""
    import codecs

    dec = codecs.getincrementaldecoder(encoding)()
    offset = 0
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 22):
                dec.decode(block)
                offset += len(block)
            dec.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return f"{exc.reason} at byte {offset + exc.start}"
    return None


def detect_encoding(path: Path, *, encoding: str | None = None) -> tuple[str, str]:
    """(codec to read with, name to report) of a CSV: the given one, else UTF-8, else GB18030."""
    import codecs

    if encoding:
        hint = "Leave out --encoding to detect UTF-8 or GBK, or give the right one."
        try:
            if not codecs.lookup(encoding)._is_text_encoding:  # e.g. hex, rot13
                raise LookupError(f"{encoding!r} is not a text encoding")
        except LookupError as exc:
            raise InputError(f"{path}: {exc}. {hint}") from exc
        why = _decode_error(path, encoding)
        if why:
            raise InputError(f"{path}: cannot be read as {encoding} ({why}). {hint}")
        return encoding, encoding
    if _decode_error(path, "utf-8-sig") is None:
        return "utf-8-sig", "utf-8"
    if _decode_error(path, "gb18030") is None:
        return "gb18030", "gb18030"
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


def _header(it: Iterator[list[Any]], path: Path) -> list[str]:
    """The first non-empty row, as unique column names."""
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
    return header


def _dict_rows(it: Iterator[list[Any]], header: list[str], *, text: bool = False) -> Iterator[dict[str, str]]:
    """One dict per data row, as the rows come; cells beyond the header go to ``_extra``.
    ``text``: the cells are all strings already (CSV)."""
    width = len(header)
    for r in it:
        cells = [c.strip() for c in r] if text else [_cell(c) for c in r]
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        row = dict(zip(header, cells[:width], strict=True))
        if len(cells) > width:
            extra = [c for c in cells[width:] if c]
            if extra:
                row["_extra"] = " | ".join(extra)
        yield row


def _csv_table(p: Path, enc: str, dialect: Any) -> Generator[list[str], None, None]:
    with p.open("r", encoding=enc, newline="") as fh:
        # NUL bytes (from broken exports) would stop the reader
        lines = (ln.replace("\x00", "") if "\x00" in ln else ln for ln in fh)
        try:
            yield from csv.reader(lines, dialect)
        except csv.Error as exc:
            raise InputError(f"{p}: not a readable CSV file ({exc}).") from exc


def _xlsx_table(wb: Any, ws: Any) -> Generator[list[Any], None, None]:
    try:
        for r in ws.iter_rows(values_only=True):
            yield list(r)
    finally:
        wb.close()


def open_sheet(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
) -> tuple[Sheet, Iterator[dict[str, str]]]:
    """The sheet's header (``rows`` left empty) and an iterator over its data rows.

    CSV and XLSX are streamed; GIS files are read whole.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileNotFound(f"{p}: no such file. Check the path.")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        codec, enc = detect_encoding(p, encoding=encoding)
        with p.open("r", encoding=codec, newline="") as fh:
            head = fh.read(4000).replace("\x00", "")[:2000]
        dialect: Any = csv.excel_tab if suffix == ".tsv" or ("\t" in head and "," not in head) else csv.excel
        table = _csv_table(p, codec, dialect)
        try:
            columns = _header(table, p)
        except InputError:
            table.close()
            raise
        return Sheet(p, columns, [], encoding=enc), _dict_rows(table, columns, text=True)
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(f"{p}: not a readable Excel .xlsx file ({exc}).") from exc
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            names = ", ".join(wb.sheetnames)
            wb.close()
            raise InputError(f"{p} has no sheet {sheet!r}; its sheets are: {names}.")
        table = _xlsx_table(wb, ws)
        try:
            columns = _header(table, p)
        except InputError:
            table.close()
            raise
        return Sheet(p, columns, [], sheet=ws.title), _dict_rows(table, columns)
    if suffix == ".xls":
        raise InputError(f"{p}: old Excel .xls files are not read. Save it as .xlsx or CSV in Excel.")
    sh = _read_gis(p, crs=crs)
    rows, sh.rows = sh.rows, []
    return sh, iter(rows)


def read_sheet(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
) -> Sheet:
    """Read a survey file into text cells, every row in memory; see :func:`open_sheet`."""
    sh, rows = open_sheet(path, sheet=sheet, encoding=encoding, crs=crs)
    sh.rows = list(rows)
    return sh


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


def sheet_headers(sheet: Sheet, *, mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Field → column of a sheet; refuses a sheet with no columns saying where the hazards are."""
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
    return headers


def parse_rows(sheet: Sheet, *, mapping: dict[str, str] | None = None) -> tuple[list[ParsedRow], dict[str, str]]:
    """Parse every row; returns the rows and the header → field recognition used."""
    headers = sheet_headers(sheet, mapping=mapping)
    return parse_chunk(sheet.rows, headers=headers), headers


_ABSENT = "\x00absent"  # the column of a field the sheet does not have: never a key of a row


def parse_chunk(raws: Iterable[dict[str, str]], *, headers: dict[str, str], start: int = 1) -> list[ParsedRow]:
    """Parse rows (cells as read: stripped text) numbered from ``start``; never raises for a cell."""
    cols = {fld: headers.get(fld, _ABSENT) for fld in FIELDS}
    id_col = cols["row_id"]
    out: list[ParsedRow] = []
    private: bool | None = None  # the sheet has columns named _… (form exports: _id, _uuid …)
    for line, raw in enumerate(raws, start=start):
        if private is None:
            private = any(k.startswith("_") for k in raw)
        # Columns named _… are not part of the row's content (nor its hash): as before, and
        # the same for every row of the sheet. Only _extra and _lon/_lat vary from row to row.
        values = raw if not (private or "_extra" in raw or "_lon" in raw) else {k: v for k, v in raw.items() if not k.startswith("_")}
        row = ParsedRow(line=line, row_id=raw.get(id_col) or str(line), raw=values)
        if len("".join(values.values())) == len(values.get(id_col, "")):  # no cell but the row id
            row.empty = True
        else:
            if raw.get("_extra"):
                row.warnings.append(f"cells beyond the last header were ignored: {raw['_extra'][:80]}")
            _parse_into(row, raw, cols)
        out.append(row)
    return out


@functools.lru_cache(maxsize=65536)
def _chainage_cached(text: str) -> float | None:
    try:
        return parse_chainage(text)
    except HazardsError:
        return None


def _degrees(text: str) -> float | None:
    """:func:`parse_coordinate`, with plain decimal numbers taken the short way."""
    try:
        value = float(text)
    except ValueError:
        return parse_coordinate(text)
    return value if math.isfinite(value) else parse_coordinate(text)


def _parse_into(row: ParsedRow, raw: dict[str, str], cols: dict[str, str]) -> None:
    get = raw.get
    code = get(cols["route_code"])
    row.route_code = normalise_code(code) if code else None
    row.route_name = get(cols["route_name"]) or None
    row.township = get(cols["township"]) or None
    ch = get(cols["chainage"])
    if ch:
        row.chainage_m = _chainage_cached(ch)
        if row.chainage_m is None:
            row.errors.append(f"chainage {ch!r} (column {cols['chainage']}) is not understood; write it as K12+350")
    lon_t, lat_t = get(cols["lon"], ""), get(cols["lat"], "")
    if lon_t or lat_t:
        try:
            lon, lat = _degrees(lon_t), _degrees(lat_t)
            if lon is None or lat is None:
                raise ValueError("one of the two coordinates is empty")
            row.x, row.y = lon, lat
        except ValueError as exc:
            row.errors.append(
                f"coordinates ({cols['lon']}={lon_t!r}, {cols['lat']}={lat_t!r}) are not "
                f"usable: {exc}"
            )
    cat = get(cols["category"])
    row.category_raw = cat or None
    if cat:
        row.category = normalise_category(cat)
        if row.category is None:
            row.category = "other"
            row.warnings.append(f"category {cat!r} is not in the vocabulary; kept verbatim as 'other'")
    row.description = get(cols["description"]) or None
    tier = get(cols["risk_level"])
    if tier:
        row.provided_tier = normalise_tier(tier)
        if row.provided_tier is None:
            row.warnings.append(f"risk level {tier!r} is not understood (use 一级/二级/三级, I/II/III, 1/2/3, 高/中/低); left empty")
    row.countermeasure = get(cols["countermeasure"]) or None
    for fld, unit in (("cost_10k", 10000.0), ("cost_cny", 1.0)):
        text = get(cols[fld])
        if text and row.provided_cost_cny is None:
            try:
                row.provided_cost_cny = parse_amount(text, unit=unit)
            except ValueError:
                row.warnings.append(f"cost {text!r} (column {cols[fld]}) is not a number; left empty, not guessed")
    length = get(cols["length_m"])
    if length:
        try:
            value = float(unicodedata.normalize("NFKC", length).replace(",", "").rstrip("m米 "))
            if not math.isfinite(value) or value < 0:
                raise ValueError
            row.length_m = value
        except ValueError:
            row.warnings.append(f"length {length!r} is not a number of metres; left empty")
    row.photo = get(cols["photo"]) or None


# ----------------------------------------------------------------------------- the whole step
CHUNK_ROWS = 50_000  # rows parsed, matched and stored at a time: bounds the memory of an import


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
        self._fh: Any = None
        self._w: Any = None

    @property
    def used(self) -> bool:
        return self._fh is not None

    def write(self, row: ParsedRow, reason: str) -> None:
        if self._w is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.part.open("w", encoding="utf-8-sig", newline="")
            self._w = csv.writer(self._fh)
            self._w.writerow([*self.columns, "source_row", "rejected_reason"])
        self._w.writerow([*(row.raw.get(c, "") for c in self.columns), row.row_id, reason])

    def keep(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self.part.replace(self.path)

    def discard(self) -> None:
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

    def __init__(self, engine: Any, provider: str) -> None:
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
        frame = store.known_hazards(self.engine, provider=self.provider if self._first else None, route_codes=todo)
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

    def repeated(self, route_code: str, part: int, category: str, chainage_m: float, within: float) -> tuple[int, str] | None:
        for ch, hid, pid in self.near.get((route_code, part, category), ()):
            if abs(ch - chainage_m) <= within:
                return hid, pid
        return None


# Columns of a new hazard as :func:`import_survey` gives them to the store, in this order.
NEW_HAZARD_COLUMNS = (
    "admin_code", "provider_row_id", "source_line", "raw", "content_hash", "category",
    "category_raw", "description", "provided_tier", "tier", "status", "road_id", "segment_id",
    "chainage_m", "snap_distance_m", "match_method", "match_status", "review_reason",
    "warnings", "countermeasure", "provided_cost_cny", "length_m", "photo", "geom",
)


def _read_chunk(rows: Iterator[dict[str, str]], n: int) -> list[dict[str, str]]:
    """The next ``n`` rows of the sheet (fewer at its end)."""
    return list(itertools.islice(rows, n))


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
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Read, reconcile and store a survey file; returns the accounting (``--json``).

    ``accepted + review + rejected + duplicates + empty == rows``. Importing the same file
    again changes nothing. Rows of a corrected file from the same provider update the hazard
    they came from (matched by the provider's row id) or are left alone when unchanged; a row
    repeating a hazard already known on the same route is linked to it as seen again.

    The sheet is read, matched and stored ``chunk_rows`` rows at a time, all in one
    transaction: a failure anywhere leaves the database as it was. ``on_progress`` is called
    with the number of rows done after each chunk.
    """
    import datetime as dt

    from hazards.db import store
    from hazards.db.session import get_engine

    p = Path(path)
    who = (provider or "").strip()
    if not who:
        raise InputError("--provider is required: the name of the survey firm (e.g. --provider 湖南某检测公司).")
    try:
        on = surveyed_on if isinstance(surveyed_on, dt.date) else dt.date.fromisoformat(str(surveyed_on))
    except ValueError as exc:
        raise InputError(f"--surveyed-on {surveyed_on!r} is not a date; write it as YYYY-MM-DD.") from exc
    if not p.is_file():
        raise InputFileNotFound(f"{p}: no such file. Check the path.")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    sha = _file_sha256(p)
    engine = engine or get_engine()
    earlier = store.survey_by_sha(engine, sha)
    if earlier is not None:
        before = dict(earlier["report"] or {})
        before.update(already_imported=True, survey_id=earlier["id"], added=0, updated=0)
        return before
    sh, stream = open_sheet(p, sheet=sheet, encoding=encoding, crs=crs)
    try:
        return _import_rows(p, sh, stream, provider=who, surveyed_on=on, sha=sha, mapping=mapping, crs=crs,
                            rejected_path=rejected_path, engine=engine, chunk_rows=chunk_rows,
                            on_progress=on_progress)
    finally:
        close = getattr(stream, "close", None)  # the CSV file or the workbook
        if close is not None:
            close()


@dataclass
class _Tally:
    """What an import has counted so far, carried from chunk to chunk."""

    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("accepted", "review", "rejected", "duplicate", "empty"), 0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("added", "updated", "unchanged", "seen_again"), 0))
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    rejected_rows: list[dict[str, Any]] = field(default_factory=list)
    duplicate_rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: int = 0


_STATUS_OF = {"accepted": "identified", "review": "review"}  # match status -> hazard status


def _sort_chunk(
    rows: list[ParsedRow], matches: list[Any], *, known: _Known, tally: _Tally, rejected: RejectedWriter,
    admin_code: str, duplicate_m: float,
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
            admin_code, r.row_id, r.line, raw_json, digest, r.category,
            r.category_raw, r.description, r.provided_tier, r.provided_tier, _STATUS_OF[st],
            m.road_id, m.segment_id, m.chainage_m, m.snap_distance_m, m.match_method, st,
            m.reason if st == "review" else None,
            json.dumps(warnings, ensure_ascii=False) if warnings else "[]",
            r.countermeasure, r.provided_cost_cny, r.length_m, r.photo,
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
        hit = (known.repeated(m.route_code, m.part or 0, r.category or "", m.chainage_m, duplicate_m)
               if known.near and m.chainage_m is not None and m.route_code is not None else None)
        if hit is not None:
            seen.append((hit[0], f"row {r.row_id} repeats {hit[1]}"))
            tally.counts["seen_again"] += 1
            continue
        new.append(values)
        tally.counts["added"] += 1
    return new, updates, seen


def _import_rows(
    p: Path, sh: Sheet, stream: Iterator[dict[str, str]], *, provider: str, surveyed_on: Any, sha: str,
    mapping: dict[str, str] | None, crs: str | None, rejected_path: str | Path | None, engine: Any,
    chunk_rows: int, on_progress: Callable[[int], None] | None,
) -> dict[str, Any]:
    """The body of :func:`import_survey` once the file is open and known to be new."""
    from hazards.db import store
    from hazards.reconcile import Network, reconcile
    from hazards.settings import get_settings

    headers = sheet_headers(sh, mapping=mapping)
    working = store.require_working_crs(engine)
    settings = get_settings()
    network = Network.from_segments(store.network_segments(engine), working)
    known = _Known(engine, provider)
    rejected = RejectedWriter(_rejected_target(p, rejected_path), sh.columns)
    tally = _Tally()
    kept: dict[Any, Any] = {}  # the duplicate check's state, carried from chunk to chunk
    survey = {"admin_code": settings.admin_code, "provider": provider, "surveyed_on": surveyed_on,
              "source_name": p.name, "sha256": sha}
    try:
        with store.survey_import_writer(engine, survey=survey, by=provider) as writer:
            line = 1
            while chunk := _read_chunk(stream, chunk_rows):
                rows = parse_chunk(chunk, headers=headers, start=line)
                line += len(rows)
                matches = reconcile(rows, network, crs=None if sh.point_crs else crs, settings=settings, kept=kept)
                known.fetch({m.route_code for m in matches if m.route_code and m.status in _STATUS_OF})
                new, updates, seen = _sort_chunk(rows, matches, known=known, tally=tally, rejected=rejected,
                                                 admin_code=settings.admin_code, duplicate_m=settings.duplicate_m)
                writer.add(NEW_HAZARD_COLUMNS, new, updates=updates, seen_again=seen)
                del chunk, rows, matches, new
                if on_progress is not None:
                    on_progress(line - 1)
            b = tally.buckets
            report: dict[str, Any] = {
                "survey_id": writer.survey_id, "file": str(p), "provider": provider,
                "surveyed_on": surveyed_on.isoformat(), "encoding": sh.encoding, "headers": headers,
                "rows": line - 1, "accepted": b["accepted"], "review": b["review"], "rejected": b["rejected"],
                "duplicates": b["duplicate"], "empty": b["empty"],
                "rejected_by_reason": tally.rejected_by_reason,
                "rejected_file": str(rejected.path) if rejected.used else None,
                "warnings": tally.warnings, **tally.counts, "already_imported": False,
                "rejected_rows": tally.rejected_rows, "duplicate_rows": tally.duplicate_rows,
            }
            writer.finish(
                rows_total=line - 1, rows_accepted=b["accepted"], rows_review=b["review"],
                rows_rejected=b["rejected"], rejected_file=report["rejected_file"], report=report,
            )
    except BaseException:
        rejected.discard()
        raise
    rejected.keep()
    return report
