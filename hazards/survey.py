"""Survey sheets → normalised rows (the ``survey`` step): headers, cell parsing.

:func:`read_sheet` reads a survey file into raw text cells (:mod:`hazards.sheets` does the
reading, this module says which row is the header); :func:`recognise_headers` maps Chinese and
English headers to fields; :func:`parse_rows` turns every row into typed values plus the
problems found, never raising for a bad cell. Matching onto the network is
:mod:`hazards.reconcile`'s job; :mod:`hazards.intake` conducts a whole import. Each cell is
parsed by :mod:`hazards.cells` (coordinates, chainages, amounts, categories and tier words).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import operator
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hazards import sheets
from hazards.cells import (
    LAT_WORDS,
    LON_WORDS,
    chainage_or_none,
    chainage_problem,
    footer_row,
    norm_header,
)
from hazards.cells import MAX_LENGTH_M as MAX_LENGTH_M
from hazards.cells import category_key as category_key
from hazards.cells import normalise_category as normalise_category
from hazards.cells import normalise_tier as normalise_tier
from hazards.cells import parse_amount as parse_amount
from hazards.cells import parse_coordinate as parse_coordinate
from hazards.cells import parse_point as parse_point
from hazards.chainage import format_chainage, normalise_code
from hazards.errors import InputError, InputFileNotFound
from hazards.sheets import Sheet as Sheet
from hazards.sheets import cell_text
from hazards.sheets import detect_encoding as detect_encoding

FIELDS: dict[str, tuple[str, ...]] = {
    "row_id": ("序号", "编号", "隐患编号", "id", "no", "row_id", "number", "source_row"),
    "route_code": (
        "路线编码",
        "路线编号",
        "路线代码",
        "路线代号",
        "route_code",
        "routecode",
        "route",
        "road_code",
        "code",
    ),
    "route_name": ("路线名称", "道路名称", "route_name", "road_name"),
    "township": ("乡镇", "所属乡镇", "乡镇名称", "township", "town"),
    "chainage": ("桩号", "中心桩号", "位置桩号", "chainage", "stake", "station"),
    "from_chainage": (
        "起点桩号",
        "起始桩号",
        "起桩号",
        "开始桩号",
        "from_chainage",
        "start_chainage",
        "chainage_from",
        "from_stake",
    ),
    "to_chainage": (
        "止点桩号",
        "终点桩号",
        "讫点桩号",
        "止桩号",
        "结束桩号",
        "to_chainage",
        "end_chainage",
        "chainage_to",
        "to_stake",
    ),
    "chainage_range": ("起止桩号", "起讫桩号", "桩号范围", "chainage_range"),
    "lon": LON_WORDS,
    "lat": LAT_WORDS,
    "category": ("隐患类型", "隐患类别", "隐患分类", "category", "hazard_type", "type"),
    "description": ("隐患描述", "描述", "隐患情况", "description", "desc"),
    "risk_level": ("风险等级", "隐患等级", "risk_level", "risk", "tier", "level"),
    "countermeasure": ("处置建议", "整治措施", "治理措施", "整改措施", "countermeasure", "measure"),
    "cost_10k": (
        "估算金额(万元)",
        "估算金额（万元）",
        "估算金额万元",
        "投资估算(万元)",
        "估算费用(万元)",
        "整治费用(万元)",
        "cost_10k_cny",
    ),
    "cost_cny": (
        "estimated_cost",
        "estimated_cost_cny",
        "cost_cny",
        "估算金额(元)",
        "估算金额（元）",
        "估算费用(元)",
        "整治费用(元)",
        "cost",
    ),
    "length_m": ("长度(m)", "长度（m）", "长度(米)", "长度", "length_m", "length"),
    "photo": ("照片", "照片编号", "photo", "photos"),
}
SURVEY_FIELDS = tuple(FIELDS)
HAZARD_FIELDS = ("category", "description", "risk_level", "countermeasure", "cost_10k", "cost_cny")
"""Fields that say what a hazard is: a survey sheet has at least one of them."""


def match_columns(
    columns: list[str],
    fields: dict[str, tuple[str, ...]],
    *,
    mapping: dict[str, str] | None = None,
    norm: Callable[[Any], str] = norm_header,
    what: str = "Fields",
    source: str = "sheet",
) -> dict[str, str]:
    """Which column holds each of ``fields`` (field → its header aliases), by normalised header;
    ``mapping`` (field → column) overrides or adds, and a field mapped to ``""`` is unmapped
    (an auto-detected column that is not that field). Used for surveys and crash files."""
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(norm(c), c)
    found: dict[str, str] = {}
    taken: set[str] = set()
    for fld, aliases in fields.items():
        for alias in aliases:
            col = by_norm.get(norm(alias))
            if col is not None and col not in taken:
                found[fld] = col
                taken.add(col)
                break
    for fld, col in (mapping or {}).items():
        if fld not in fields:
            raise InputError(
                f"Mapping: unknown field {fld!r}. {what} are: {', '.join(fields)}.",
                param="mapping",
            )
        if not col:
            found.pop(fld, None)
            continue
        if col not in columns:
            raise InputError(
                f"Mapping {fld}={col}: the {source} has no column {col!r}. "
                f"Its columns are: {', '.join(map(str, columns))}.",
                param="mapping",
            )
        found = {k: v for k, v in found.items() if v != col}
        found[fld] = col
    return found


def recognise_headers(
    columns: list[str], *, mapping: dict[str, str] | None = None
) -> dict[str, str]:
    """Which column holds each survey field. ``mapping`` (field → column) overrides or adds;
    a field mapped to ``""`` is unmapped (an auto-detected column that is not that field)."""
    return match_columns(columns, FIELDS, mapping=mapping)


def load_mapping_file(path: str | Path) -> dict[str, str]:
    """A TOML mapping file: ``[columns]`` table (or top level) of field = "column"."""
    p = Path(path)
    if not p.is_file():
        raise InputFileNotFound(f"{p}: no such mapping file.", param="mapping")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{p}: not a valid UTF-8 TOML mapping file ({exc}).", param="mapping"
        ) from exc
    table = data.get("columns", data)
    return {str(k): str(v) for k, v in table.items() if not isinstance(v, dict)}


def _header_score(cells: list[Any]) -> int:
    """How many survey fields a row's cells name (a header row names several)."""
    texts = [cell_text(c) for c in cells]
    return len(recognise_headers([t for t in texts if t]))


def open_sheet(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    layer: str | None = None,
    header_row: int | None = None,
) -> tuple[Sheet, Iterator[dict[str, str]]]:
    """:func:`hazards.sheets.open_sheet`, the header being the row naming the most survey
    fields among the first rows (unless ``header_row`` says which)."""
    return sheets.open_sheet(
        path,
        sheet=sheet,
        encoding=encoding,
        crs=crs,
        layer=layer,
        header_row=header_row,
        score=_header_score,
    )


def default_sheet(path: Path) -> str | None:
    """The sheet of a survey workbook read when none is named (see :func:`open_sheet`)."""
    return sheets.default_sheet_name(path, score=_header_score)


def read_sheet(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
) -> Sheet:
    """A survey file read into text cells, every row in memory; see :func:`open_sheet`."""
    return sheets.read_sheet(path, sheet=sheet, encoding=encoding, crs=crs, score=_header_score)


# ----------------------------------------------------------------------------- cell parsing
@dataclass(slots=True)
class ParsedRow:
    """One survey row: typed values, and what was wrong with its cells."""

    line: int  # 1-based data-row number in the sheet
    row_id: str
    raw: dict[str, str]
    empty: bool = False
    source_line: int | None = None  # its line (CSV) or row (XLSX) number in the file
    id_given: bool = False  # the row id is the sheet's (序号), not the data-row number
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
    from_m: float | None = None  # a linear hazard's stated range (起点桩号/止点桩号), ordered
    to_m: float | None = None
    at_middle: bool = False  # chainage_m is the middle of the stated range (no 桩号 given)
    errors: list[str] = field(default_factory=list)  # make the row unusable for its purpose
    warnings: list[str] = field(default_factory=list)
    # The row's :func:`raw_json` text and :func:`content_hash` when made ahead (by the process
    # that parsed it, :func:`hazards.matched_chunks.matched_chunks`; ``raw`` is then left empty
    # on the way): read them with :func:`stored_raw` and :func:`row_cells`.
    raw_text: str | None = None
    raw_hash: str | None = None


def header_rows(sheet: Sheet) -> str:
    """``row 3``, or ``rows 3–4`` for a header written over two rows."""
    if sheet.header_from is not None:
        return f"rows {sheet.header_from}–{sheet.header_row}"
    return f"row {sheet.header_row}"


def sheet_headers(sheet: Sheet, *, mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Field → column of a sheet; refuses a sheet with no columns saying where the hazards are."""
    columns = [c for c in sheet.columns if c not in ("_lon", "_lat")]
    headers = recognise_headers(columns, mapping=mapping)
    if sheet.point_crs:
        headers.setdefault("lon", "_lon")
        headers.setdefault("lat", "_lat")
    stakes = {"chainage", "from_chainage", "to_chainage", "chainage_range"}
    located = {"lon", "lat"} <= set(headers) or ("route_code" in headers and stakes & set(headers))
    at = f" (the column names were read from {header_rows(sheet)})" if sheet.header_row else ""
    if not located and sheet.point_crs is None:
        raise InputError(
            f"{sheet.path}: no columns for where the hazards are. The sheet needs 经度/纬度 "
            f"(lon/lat) or 路线编码 + 桩号 (route code + chainage); its columns are: "
            f"{', '.join(columns)}{at}. {_found_unasked(sheet) or ''}Name them in a column "
            "mapping (lon=COLUMN, lat=COLUMN), or give the number of the header row if another "
            "row holds the column names.",
            param="mapping",
        )
    if not set(headers) & set(HAZARD_FIELDS):
        raise InputError(
            f"{sheet.path}: no column says what the hazards are (隐患类型/隐患描述 category or "
            f"description, 风险等级, 处置建议 or 估算金额); its columns are: {', '.join(columns)}"
            f"{at}. {_found_unasked(sheet) or ''}This does not look like a hazard survey; if it "
            "is, name the column in a column mapping (category=COLUMN or description=COLUMN).",
            param="mapping",
        )
    return headers


def _found_unasked(sheet: Sheet) -> str | None:
    """When the header row was named: where the column names are found without it, if that
    header names more survey fields (a header over two rows, one row of which was named)."""
    if not sheet.header_given:
        return None
    try:
        found, rows = open_sheet(sheet.path, sheet=sheet.sheet)
        getattr(rows, "close", lambda: None)()
    except Exception:  # noqa: BLE001 - only a hint: the error it adds to is the one to tell
        return None
    if found.header_row == sheet.header_row and found.header_from == sheet.header_from:
        return None
    if _header_score(found.columns) <= _header_score(sheet.columns):
        return None
    return (
        f"Found unasked, the column names are in {header_rows(found)}: "
        f"{', '.join(found.columns)}; do not give the header row number. "
    )


def parse_rows(
    sheet: Sheet, *, mapping: dict[str, str] | None = None
) -> tuple[list[ParsedRow], dict[str, str]]:
    """Parse every row; returns the rows and the header → field recognition used."""
    headers = sheet_headers(sheet, mapping=mapping)
    return parse_chunk(sheet.rows, headers=headers), headers


_ABSENT = "\x00absent"  # the column of a field the sheet does not have: never a key of a row


def parse_chunk(
    raws: Iterable[dict[str, str]], *, headers: dict[str, str], start: int = 1
) -> list[ParsedRow]:
    """Parse rows (cells as read: stripped text) numbered from ``start``; never raises for a cell."""
    cols = {fld: headers.get(fld, _ABSENT) for fld in FIELDS}
    id_col = cols["row_id"]
    out: list[ParsedRow] = []
    private: bool | None = None  # the sheet has columns named _… (form exports: _id, _uuid …)
    for line, raw in enumerate(raws, start=start):
        physical = raw.pop("_line", None)
        if private is None:
            private = any(k.startswith("_") for k in raw)
        # Columns named _… are not part of the row's content (nor its hash): as before, and
        # the same for every row of the sheet. Only _extra and _lon/_lat vary from row to row.
        values = (
            raw
            if not (private or "_extra" in raw or "_lon" in raw or "_formulas" in raw)
            else {k: v for k, v in raw.items() if not k.startswith("_")}
        )
        given = raw.get(id_col)
        row = ParsedRow(
            line=line,
            row_id=given or str(line),
            raw=values,
            source_line=int(physical) if physical else line,
            id_given=bool(given),
        )
        if len("".join(values.values())) == len(values.get(id_col, "")):  # no cell but the row id
            row.empty = True
        else:
            if raw.get("_extra"):
                row.warnings.append(
                    f"cells beyond the last header were ignored: {raw['_extra'][:80]}"
                )
            if raw.get("_formulas"):
                row.warnings.append(
                    f"column(s) {raw['_formulas']} hold formulas saved without their values "
                    "(the file was not saved by Excel) and were read as empty; open the file "
                    "in Excel and save it, or paste the cells as values"
                )
            _parse_into(row, raw, cols)
            if row.route_code is None and footer_row(  # 合计, 填表人：…: not a hazard
                values.values(), located=row.x is not None or row.y is not None
            ):
                row = ParsedRow(
                    line, row.row_id, values, True, row.source_line, id_given=row.id_given
                )
        out.append(row)
    return out


def _parse_into(row: ParsedRow, raw: dict[str, str], cols: dict[str, str]) -> None:
    get = raw.get
    code = get(cols["route_code"])
    row.route_code = normalise_code(code) if code else None
    row.route_name = get(cols["route_name"]) or None
    row.township = get(cols["township"]) or None
    ch = get(cols["chainage"])
    if ch:
        row.chainage_m = chainage_or_none(ch)
        if row.chainage_m is None and _range_ends(ch) and not _stated_range(raw, cols):
            row.warnings.append(  # a range in the 桩号 column: read as 起止桩号 is
                f"桩号 {ch!r} (column {cols['chainage']}) is a range: read as 起止桩号"
            )
        elif row.chainage_m is None:
            row.errors.append(f"{chainage_problem(ch)} (column {cols['chainage']})")
        elif row.chainage_m < 100 and row.chainage_m % 1 and _BARE_NUMBER.match(ch):
            row.warnings.append(
                f"桩号 {ch!r} (column {cols['chainage']}) is read as {row.chainage_m:g} m, "
                f"{format_chainage(row.chainage_m, decimals=1)}; if it means kilometres, write "
                f"K{int(row.chainage_m)}+{row.chainage_m % 1 * 1000:03.0f}"
            )
    lon_t, lat_t = get(cols["lon"], ""), get(cols["lat"], "")
    if lon_t or lat_t:
        try:
            row.x, row.y = parse_point(lon_t, lat_t)
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
            row.warnings.append(
                f"category {cat!r} is not in the vocabulary; kept verbatim as 'other'"
            )
    row.description = get(cols["description"]) or None
    tier = get(cols["risk_level"])
    if tier:
        row.provided_tier = normalise_tier(tier)
        if row.provided_tier is None:
            row.warnings.append(
                f"risk level {tier!r} is not understood (use 一级/二级/三级, I/II/III, 1/2/3, 高/中/低); left empty"
            )
    row.countermeasure = get(cols["countermeasure"]) or None
    for fld, unit in (("cost_10k", 10000.0), ("cost_cny", 1.0)):
        text = get(cols[fld])
        if text and row.provided_cost_cny is None:
            try:
                row.provided_cost_cny = parse_amount(text, unit=unit)
            except ValueError as exc:
                why = str(exc) if str(exc).startswith(repr(text)) else f"{text!r} is not a number"
                row.warnings.append(f"cost {why} (column {cols[fld]}); left empty, not guessed")
    length = get(cols["length_m"])
    if length:
        try:
            value = float(unicodedata.normalize("NFKC", length).replace(",", "").rstrip("m米 "))
            if not math.isfinite(value) or value < 0:
                raise ValueError
            if value > MAX_LENGTH_M:
                row.warnings.append(
                    f"length {length!r} is more than {MAX_LENGTH_M:,.0f} m, not a plausible "
                    "hazard length; left empty"
                )
            else:
                row.length_m = value
        except ValueError:
            row.warnings.append(f"length {length!r} is not a number of metres; left empty")
    row.photo = get(cols["photo"]) or None
    _parse_range(row, raw, cols)


_BARE_NUMBER = re.compile(r"^\s*\d+\.\d+\s*$")  # a 桩号 without K, + or unit: km or m?
_RANGE_SPLIT = re.compile(r"\s*(?:~|～|〜|—+|–|−|至|到|(?<=\d)\s*-\s*(?=[Kk\d]))\s*")


def _stake(row: ParsedRow, text: str, column: str) -> float | None:
    """One chainage cell of a range; an error on the row when it is not understood."""
    value = chainage_or_none(text)
    if value is None:
        row.errors.append(
            f"chainage {text!r} (column {column}) is not understood; write it as K12+350"
        )
    return value


def _range_ends(text: str) -> tuple[str, str] | None:
    """The two stakes of a range cell (``K0+580~K0+909``, any of its dashes), None unless it
    splits into two that read as chainages."""
    ends = _RANGE_SPLIT.split(unicodedata.normalize("NFKC", text).strip())  # －: -
    if len(ends) != 2 or not all(ends) or any(chainage_or_none(e) is None for e in ends):
        return None
    return ends[0], ends[1]


def _stated_range(raw: dict[str, str], cols: dict[str, str]) -> bool:
    """Whether the row states a range in its own columns (起点桩号/止点桩号, 起止桩号)."""
    return any(raw.get(cols[f]) for f in ("from_chainage", "to_chainage", "chainage_range"))


def _parse_range(row: ParsedRow, raw: dict[str, str], cols: dict[str, str]) -> None:
    """A linear hazard's stated range: 起点桩号 + 止点桩号 (or one 起止桩号 cell such as
    ``K0+580~K0+909``), or one end with 长度. Ends in the wrong order are swapped, with a
    warning; equal ends are a point. A single 桩号 with 长度 (no range) is centred on it by
    :mod:`hazards.reconcile`, which knows where the row lies."""
    get = raw.get
    a_text, b_text = get(cols["from_chainage"], ""), get(cols["to_chainage"], "")
    a_col, b_col = cols["from_chainage"], cols["to_chainage"]
    both, where = get(cols["chainage_range"], ""), cols["chainage_range"]
    ch = get(cols["chainage"], "")
    if not both and row.chainage_m is None and ch and _range_ends(ch):  # a range in 桩号
        both, where = ch, cols["chainage"]
    if both and not (a_text or b_text):
        ends = _RANGE_SPLIT.split(unicodedata.normalize("NFKC", both).strip())  # －: -
        if len(ends) != 2 or not all(ends):
            row.errors.append(
                f"chainage range {both!r} (column {where}) is not understood; "
                "write it as K0+580~K0+909"
            )
            return
        a_text, b_text = ends
        a_col = b_col = where
    if not (a_text or b_text):
        return
    a = _stake(row, a_text, a_col) if a_text else None
    b = _stake(row, b_text, b_col) if b_text else None
    if (a_text and a is None) or (b_text and b is None):
        return
    length = row.length_m
    if a is None or b is None:
        given, col = (a, a_col) if a is not None else (b, b_col)
        assert given is not None
        if not length:
            row.warnings.append(
                f"only one end of the section is given (column {col}) and no length; "
                "taken as a point"
            )
            if row.chainage_m is None:
                row.chainage_m = given
            return
        a, b = (given, given + length) if a is not None else (max(given - length, 0.0), given)
    elif b < a:
        row.warnings.append(
            f"止点桩号 {b_text} is before 起点桩号 {a_text}; the two ends were swapped"
        )
        a, b = b, a
    elif length and abs(length - (b - a)) > max(5.0, 0.1 * (b - a)):
        row.warnings.append(
            f"length {length:g} m differs from the {b - a:g} m between the two ends; "
            "the ends are used"
        )
    if b - a < 0.5:  # the same stake twice: a point
        if row.chainage_m is None:
            row.chainage_m = a
        return
    row.from_m, row.to_m = a, b
    if row.chainage_m is None:
        row.chainage_m, row.at_middle = (a + b) / 2, True


def raw_json(raw: dict[str, str]) -> str:
    """The row's cells as JSON with sorted keys: stored as ``raw``; its sha1 is ``content_hash``.

    Exactly ``json.dumps(raw, sort_keys=True, ensure_ascii=False)`` (the hashes of earlier
    imports must stay valid), written the short way for the usual row of text cells: the keys
    of a sheet's rows are the same row after row, so their order and quoting are worked out
    once, as a template the quoted cells fill (:func:`_template`)."""
    shape = _template(tuple(raw))
    if shape is None:
        return json.dumps(raw, sort_keys=True, ensure_ascii=False)
    template, cells = shape
    try:
        return template % tuple(map(_quote, cells(raw)))
    except TypeError:  # a cell that is not text
        return json.dumps(raw, sort_keys=True, ensure_ascii=False)


_quote = json.encoder.encode_basestring  # json's own, in C


def stored_raw(row: ParsedRow) -> tuple[str, str]:
    """The row's ``raw`` as stored: its :func:`raw_json` text and :func:`content_hash`."""
    if row.raw_text is None or row.raw_hash is None:
        row.raw_text = raw_json(row.raw)
        row.raw_hash = content_hash(row.raw_text)
    return row.raw_text, row.raw_hash


def row_cells(row: ParsedRow) -> dict[str, str]:
    """The row's cells, also when only its stored text came with it (:func:`stored_raw`)."""
    if row.raw or row.raw_text is None:
        return row.raw
    cells: dict[str, str] = json.loads(row.raw_text)
    return cells


def content_hash(raw_text: str) -> str:
    """A row's ``content_hash``: the sha1 of its :func:`raw_json` text (what tells a corrected
    row from an unchanged one)."""
    return hashlib.sha1(raw_text.encode()).hexdigest()


@functools.lru_cache(maxsize=64)
def _template(
    keys: tuple[str, ...],
) -> tuple[str, Callable[[dict[str, str]], tuple[str, ...]]] | None:
    """For rows with these keys: the JSON text with a ``%s`` for each cell, keys sorted and
    quoted, and what takes a row's cells in that order; None unless all keys are text."""
    if not all(isinstance(k, str) for k in keys):
        return None
    order = sorted(keys)
    template = "{" + ", ".join(_quote(k).replace("%", "%%") + ": %s" for k in order) + "}"
    if len(order) < 2:  # itemgetter gives a tuple from two keys on
        return template, lambda row: tuple(row[k] for k in order)
    return template, operator.itemgetter(*order)
