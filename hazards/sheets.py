"""Files → text cells (the ``sheets`` step): CSV, XLSX and GIS layers read as rows of text (the
rejected rows go back to the firm through :mod:`hazards.outfiles`).

:func:`open_sheet` streams CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK/GB18030 detected;
the separator sniffed; an unclosed quote refused) and XLSX (formulas without values marked),
finding
the header row among the first rows (title rows, merged cells and blank rows may come first),
and reads GeoJSON, Shapefile and GeoPackage point layers whole (line and polygon layers are
refused; a multi-layer file needs the layer named). What the cells mean is
:mod:`hazards.survey`'s job.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hazards.csv_records import csv_records
from hazards.errors import InputError, InputFileNotFound


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
    header_row: int | None = None  # the header's line (CSV) or row (XLSX) number in the file
    header_from: int | None = None  # the upper row of a header written over two (and header_row)
    header_given: bool = False  # header_row was named (--header-row), not found
    layer: str | None = None  # the layer read, for GIS inputs


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
    """(codec to read with, name to report) of a CSV: the given one, else UTF-16 when the file
    starts with its byte-order mark (Excel's "Unicode text"), else UTF-8, else GB18030."""
    import codecs

    if encoding:
        hint = "Give no encoding to detect UTF-8 or GBK, or give the right one."
        try:
            if not codecs.lookup(encoding)._is_text_encoding:  # e.g. hex, rot13
                raise LookupError(f"{encoding!r} is not a text encoding")
        except LookupError as exc:
            raise InputError(f"{path}: {exc}. {hint}", param="encoding") from exc
        why = _decode_error(path, encoding)
        if why:
            raise InputError(
                f"{path}: cannot be read as {encoding} ({why}). {hint}", param="encoding"
            )
        return encoding, encoding
    with path.open("rb") as fh:
        bom = fh.read(4)
    if bom.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not bom.startswith(
        codecs.BOM_UTF32_LE
    ):
        why = _decode_error(path, "utf-16")
        if why:
            raise InputError(
                f"{path}: starts as UTF-16 text but cannot be read as UTF-16 ({why}). Save it "
                "again from Excel as CSV UTF-8.",
                param="encoding",
            )
        return "utf-16", "utf-16"
    if _decode_error(path, "utf-8-sig") is None:
        return "utf-8-sig", "utf-8"
    if _decode_error(path, "gb18030") is None:
        return "gb18030", "gb18030"
    raise InputError(
        f"{path}: is neither UTF-8, UTF-16 nor GBK text. Save it as UTF-8 CSV, or give its "
        "encoding.",
        param="encoding",
    )


DELIMITERS = (",", ";", "\t", "|")
"""The cell separators a CSV may use; :func:`sniff_delimiter` picks one."""


def sniff_delimiter(head: str, *, default: str = ",") -> str:
    """The separator of the CSV text ``head`` (its first lines): of :data:`DELIMITERS`, the one
    found most often on the first line that holds any of them (the header row, or a title row
    exported with its empty cells), quoted text not counted; ``default`` on a tie or when none
    is found. Data rows are not counted: their cells may hold any character (a decimal comma
    in a ';' file, a stray tab or ';' in a ',' file)."""
    # only CR/LF end a CSV line (str.splitlines would also split at \x1c-\x1e, \x85, ...)
    for line in re.split(r"\r\n|\n|\r", head)[:20]:
        clean = re.sub(r'"[^"]*"', "", line)
        counts = {d: clean.count(d) for d in DELIMITERS}
        if any(counts.values()):
            return max(DELIMITERS, key=lambda d: (counts[d], d == default))
    return default


class Uncomputed:
    """An XLSX formula cell saved without its value (written by a program that does not
    compute formulas): read as empty, and named in the row's ``_formulas``."""

    __slots__ = ("formula",)

    def __init__(self, formula: str) -> None:
        self.formula = formula


def cell_text(v: Any) -> str:
    """A cell as stripped text (numbers without a useless ``.0``, dates ISO, empty for None
    and for a formula without its value)."""
    if v is None or isinstance(v, Uncomputed):
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return repr(v) if v != int(v) else str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v).strip()


HEADER_SCAN = 12
"""Rows looked at for the header row (title rows, notes and blank rows may come first)."""


def _header(
    it: Iterator[tuple[int, list[Any]]],
    path: Path,
    *,
    header_row: int | None = None,
    score: Callable[[list[Any]], int] | None = None,
) -> tuple[list[str], int, int | None, list[tuple[int, list[Any]]]]:
    """The header row as unique column names, its line number, the line number of the upper
    row of a header written over two rows (else None), and the rows read past it.

    With ``header_row`` (1-based line or row number), that row. Otherwise, of the first
    :data:`HEADER_SCAN` non-empty rows, the one ``score`` rates highest (at least 2: the number
    of fields it names; the earliest on a tie), else the first non-empty row.
    """
    seen_rows: list[tuple[int, list[Any]]] = []
    first: list[Any] | None = None
    at, top = 0, None
    if header_row is not None:
        if header_row < 1:
            raise InputError(
                f"The header row must be 1 or more, not {header_row}.", param="header_row"
            )
        for n, r in it:
            if n >= header_row:
                first, at = r, n
                break
        if first is None or not any(cell_text(c) for c in first):
            raise InputError(
                f"{path}: row {header_row} is {'empty' if first is not None else 'past the end'}; "
                "give the number of the row holding the column names.",
                param="header_row",
            )
    else:
        candidates: list[int] = []  # positions in seen_rows of the non-empty rows
        for n, r in it:
            if any(cell_text(c) for c in r):
                candidates.append(len(seen_rows))
            if candidates:
                seen_rows.append((n, r))
            if len(candidates) >= HEADER_SCAN:
                break
        if not candidates:
            raise InputError(f"{path}: the sheet is empty (no header row).")
        rate = score or (lambda _cells: 0)
        scores = {k: rate(seen_rows[k][1]) for k in candidates}
        best = max(candidates, key=lambda k: (scores[k], -k))
        if scores[best] < 2:
            best = candidates[0]
        at, first = seen_rows[best]
        # A header over two rows (cells merged down from the upper one, sub-headers in the
        # lower): each column named by its lower cell, else its upper one, when the two rows
        # together name more fields than the best row alone.
        last = best
        for upper, lower in ((best - 1, best), (best, best + 1)):
            if (
                upper < 0
                or lower >= len(seen_rows)
                or seen_rows[lower][0] != seen_rows[upper][0] + 1
            ):
                continue
            both = _two_rows(seen_rows[upper][1], seen_rows[lower][1], rate)
            if both is not None and rate(both) > rate(first):
                top, at, first, last = seen_rows[upper][0], seen_rows[lower][0], both, lower
        seen_rows = seen_rows[last + 1 :]
    header = [cell_text(c) or f"column_{k + 1}" for k, c in enumerate(first)]
    seen: dict[str, int] = {}
    for k, h in enumerate(header):
        if h in seen:
            seen[h] += 1
            header[k] = f"{h}_{seen[h]}"
        else:
            seen[h] = 1
    return header, at, top, seen_rows


def _two_rows(
    upper: list[Any], lower: list[Any], rate: Callable[[list[Any]], int]
) -> list[Any] | None:
    """The cells of a header written over two rows: the lower row's, and the upper row's where
    the lower is empty (a cell merged down); None unless each row names two columns or more.
    A name the lower row repeats under groups of the upper one (桩号 under 起点 and under 终点,
    the group's cell merged across them) is joined to its group's name where ``rate`` knows
    the two together (起点桩号, 终点桩号); else the first keeps it (the next is ``桩号_2``)."""
    up, low = [cell_text(c) for c in upper], [cell_text(c) for c in lower]
    if sum(map(bool, up)) < 2 or sum(map(bool, low)) < 2:
        return None
    width = max(len(up), len(low))
    up, low = up + [""] * (width - len(up)), low + [""] * (width - len(low))
    repeated = {b for b in low if b and low.count(b) > 1}
    group, out = "", []
    for a, b in zip(up, low, strict=True):
        group = a or group  # a group's name, merged across the columns after it
        joined = group + b
        out.append(joined if b in repeated and group and rate([joined]) > 0 else (b or a))
    return out


def _dict_rows(
    it: Iterator[tuple[int, list[Any]]], header: list[str], *, text: bool = False
) -> Iterator[dict[str, str]]:
    """One dict per data row, as the rows come; cells beyond the header go to ``_extra``, the
    row's line (CSV) or row (XLSX) number in the file to ``_line``. ``text``: the cells are all
    strings already (CSV)."""
    width = len(header)
    strip = str.strip
    for n, r in it:
        if text and len(r) == width:  # the usual CSV row: as many cells as the header
            row = dict(zip(header, map(strip, r), strict=False))  # as wide: checked above
            row["_line"] = str(n)
            yield row
            continue
        cells = [c.strip() for c in r] if text else [cell_text(c) for c in r]
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        row = dict(zip(header, cells[:width], strict=True))
        if len(cells) > width:
            extra = [c for c in cells[width:] if c]
            if extra:
                row["_extra"] = " | ".join(extra)
        if not text:
            missing = [h for h, c in zip(header, r, strict=False) if isinstance(c, Uncomputed)]
            if missing:
                row["_formulas"] = ", ".join(missing)
        row["_line"] = str(n)
        yield row


def _default_sheet(wb: Any, path: Path, score: Callable[[list[Any]], int] | None) -> Any:
    """The sheet read when none is named: of the visible sheets (a hidden 填表说明 is not the
    data), the only one, or the only one whose header names fields (``score`` at least 2 in
    its first rows), or the first when none does (its header is then told what it lacks).
    Several sheets of data (one a township, say) are refused, named: reading the first alone
    would leave the others out without a word."""
    visible = [ws for ws in wb.worksheets if ws.sheet_state == "visible"] or wb.worksheets
    if len(visible) == 1 or score is None:
        return visible[0]
    with_data = [ws for ws in visible if _header_score(ws, score) >= 2]
    if len(with_data) <= 1:
        return (with_data or visible)[0]
    names = [ws.title for ws in with_data]
    wb.close()
    raise InputError(
        f"{path} has {len(names)} sheets of data ({', '.join(names)}); import them one at a "
        f"time, naming each (e.g. --sheet {names[0]}): each sheet is a delivery of its own, "
        "its rows told by their row in it.",
        param="sheet",
    )


def _header_score(ws: Any, score: Callable[[list[Any]], int]) -> int:
    """The best ``score`` of a sheet's first :data:`HEADER_SCAN` rows."""
    rows = ws.iter_rows(min_row=1, max_row=HEADER_SCAN, values_only=True)
    return max((score(list(r)) for r in rows), default=0)


def _xlsx_table(
    wb: Any, ws: Any, formulas: Any = None
) -> Generator[tuple[int, list[Any]], None, None]:
    """(Excel row number, cells) of each row. ``formulas``: the same sheet read for its
    formulas, to mark the formula cells saved without a value as :class:`Uncomputed`."""
    try:
        rows = ws.iter_rows(min_row=1, values_only=True)
        if formulas is None:
            for n, r in enumerate(rows, start=1):
                yield n, list(r)
            return
        both = zip(rows, formulas.iter_rows(min_row=1, values_only=True), strict=False)
        for n, (r, f) in enumerate(both, start=1):
            cells = list(r)
            for k, (v, g) in enumerate(zip(cells, f, strict=False)):
                if v is None and isinstance(g, str) and g.startswith("="):
                    cells[k] = Uncomputed(g)
            yield n, cells
    finally:
        wb.close()
        if formulas is not None:
            formulas.parent.close()


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _sheet_xml(p: Path, sheet_xml: str | None) -> tuple[bool, bytes]:
    """One pass over a sheet's XML: whether it holds a formula cell (an ``<f>`` element), and
    its ``<mergeCells>`` element and what follows (openpyxl's streaming reader has no merges).
    Without the sheet's path, whether any sheet of the workbook holds a formula."""
    import zipfile

    formula, merges = False, b""
    with zipfile.ZipFile(p) as z:
        names = (
            [sheet_xml.lstrip("/")]
            if sheet_xml
            else [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        )
        for name in names:
            try:
                fh = z.open(name)
            except KeyError:
                continue
            with fh:
                tail = b""
                while block := fh.read(1 << 20):
                    if merges:
                        merges += block
                        continue
                    both = tail + block
                    formula = formula or re.search(rb"<(?:\w+:)?f[ >/]", both) is not None
                    at = both.find(b"mergeCells") if sheet_xml else -1
                    if at >= 0:
                        merges = both[at:]
                    tail = block[-16:]
    return formula, merges


def _merged_down(merges: bytes, *, below: int) -> dict[int, list[tuple[int, int]]]:
    """The cells merged down over data rows (a route code or township written once for the
    rows it covers), of a sheet's ``merges`` (:func:`_sheet_xml`): their first row →
    ``(column index, last row)``, of the one-column merges that start below the header row
    ``below`` (a note or title merged across columns is not a value of each row it covers)."""
    from openpyxl.utils import column_index_from_string

    found: dict[int, list[tuple[int, int]]] = {}
    for a_col, a_row, b_col, b_row in _MERGE.findall(merges):
        first, last = int(a_row), int(b_row)
        if first > below and last > first and a_col == b_col:  # one column: a value, not a note
            col = column_index_from_string(a_col.decode()) - 1
            found.setdefault(first, []).append((col, last))
    return found


def _filled_down(
    rows: Iterator[tuple[int, list[Any]]], merged: dict[int, list[tuple[int, int]]]
) -> Iterator[tuple[int, list[Any]]]:
    """``rows`` with each cell merged down given the value of the merge's first cell, as the
    sheet shows it (the file keeps the value in the first cell only)."""
    if not merged:
        yield from rows
        return
    open_fills: dict[int, tuple[int, Any]] = {}  # column → (last row, value)
    for n, cells in rows:
        for col, last in merged.get(n, ()):
            if col < len(cells):
                open_fills[col] = (last, cells[col])
        for col, (last, value) in list(open_fills.items()):
            if n > last:
                del open_fills[col]
            elif col < len(cells) and cells[col] is None:
                cells[col] = value
            elif col >= len(cells):
                cells.extend([None] * (col - len(cells)) + [value])
        yield n, cells


def default_sheet_name(p: Path, *, score: Callable[[list[Any]], int] | None = None) -> str | None:
    """The sheet of workbook ``p`` that :func:`open_sheet` reads when none is named (rated by
    ``score``); of a workbook with several sheets of data (refused now), its first worksheet,
    the one imports read before; None when it cannot be read."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception:
        return None
    try:
        return str(_default_sheet(wb, p, score).title)
    except InputError:
        return str(wb.worksheets[0].title) if wb.worksheets else None
    finally:
        wb.close()


def open_sheet(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    layer: str | None = None,
    header_row: int | None = None,
    score: Callable[[list[Any]], int] | None = None,
) -> tuple[Sheet, Iterator[dict[str, str]]]:
    """The sheet's header (``rows`` left empty) and an iterator over its data rows.

    CSV and XLSX are streamed; GIS files are read whole (``layer``: which layer of a
    multi-layer file; ``sheet`` is taken as the layer's name too). ``header_row``: the
    1-based row number of the column names, found among the first rows when not given (the
    row ``score`` rates highest; :func:`hazards.survey.open_sheet` rates by survey fields).
    Each row dict carries its line (CSV) or row (XLSX) number in the file under ``_line``.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileNotFound(f"{p}: no such file. Check the path.")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm") and layer:
        raise InputError(f"{p} is a sheet, not a GIS file: it has no layers.", param="layer")
    if suffix in (".csv", ".txt", ".tsv"):
        if sheet:
            raise InputError(f"{p} is a CSV file: it has no sheets.", param="sheet")
        codec, enc = detect_encoding(p, encoding=encoding)
        with p.open("r", encoding=codec, newline="") as fh:
            head = fh.read(4000).replace("\x00", "")[:2000]
        delimiter = "\t" if suffix == ".tsv" else sniff_delimiter(head)
        dialect: Any = type("sniffed", (csv.excel,), {"delimiter": delimiter})
        table = csv_records(p, codec, dialect)
        try:
            columns, at, top, ahead = _header(table, p, header_row=header_row, score=score)
        except InputError:
            table.close()
            raise
        rows = _dict_rows(itertools.chain(ahead, table), columns, text=True)
        sh = Sheet(
            p,
            columns,
            [],
            encoding=enc,
            header_row=at,
            header_from=top,
            header_given=header_row is not None,
        )
        return sh, _closing(rows, table)
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(f"{p}: not a readable Excel .xlsx file ({exc}).") from exc
        if sheet is None:
            ws = _default_sheet(wb, p, score)
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            names = ", ".join(wb.sheetnames)
            wb.close()
            raise InputError(f"{p} has no sheet {sheet!r}; its sheets are: {names}.", param="sheet")
        formulas = None
        has_formulas, merges = _sheet_xml(p, getattr(ws, "_worksheet_path", None))
        if has_formulas:
            fwb = openpyxl.load_workbook(p, read_only=True, data_only=False)
            formulas = fwb[ws.title]
        table = _xlsx_table(wb, ws, formulas)
        try:
            columns, at, top, ahead = _header(table, p, header_row=header_row, score=score)
        except InputError:
            table.close()
            raise
        merged = _merged_down(merges, below=at)
        rows = _dict_rows(_filled_down(itertools.chain(ahead, table), merged), columns)
        sh = Sheet(
            p,
            columns,
            [],
            sheet=ws.title,
            header_row=at,
            header_from=top,
            header_given=header_row is not None,
        )
        return sh, _closing(rows, table)
    if suffix == ".xls":
        raise InputError(
            f"{p}: old Excel .xls files are not read. Save it as .xlsx or CSV in Excel."
        )
    sh = _read_gis(p, crs=crs, layer=layer or sheet)
    features, sh.rows = sh.rows, []
    return sh, iter(features)


def _closing(
    rows: Iterator[dict[str, str]], table: Generator[Any, None, None]
) -> Generator[dict[str, str], None, None]:
    """``rows``, closing ``table`` (the file or the workbook) when closed or done."""
    try:
        yield from rows
    finally:
        table.close()


def read_sheet(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    score: Callable[[list[Any]], int] | None = None,
) -> Sheet:
    """Read a sheet into text cells, every row in memory; see :func:`open_sheet`."""
    sh, rows = open_sheet(path, sheet=sheet, encoding=encoding, crs=crs, score=score)
    sh.rows = list(rows)
    for r in sh.rows:
        r.pop("_line", None)
    return sh


_NOT_POINTS = ("line", "polygon", "surface", "curve")


def _layer_list(p: Path) -> list[tuple[str, str]]:
    """(name, geometry type) of each layer of a GIS file."""
    import pyogrio

    try:
        return [(str(n), str(g)) for n, g in pyogrio.list_layers(p)]
    except Exception as exc:
        raise _unreadable(p, exc) from exc


def _unreadable(p: Path, exc: Exception) -> InputError:
    """A file GDAL cannot read as a layer: what the tool reads, and GDAL's reason unless it
    only says the format is unknown (its advice on driver prefixes is not the user's)."""
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    unknown = "not recognized as" in why or "not recognised as" in why
    return InputError(
        f"{p}: cannot be read: the file is read as a table (CSV, XLSX) or a layer of points "
        "(GeoJSON, Shapefile, GeoPackage)" + ("; this is none of them." if unknown else f": {why}.")
    )


def _describe_layers(p: Path, layers: list[tuple[str, str]]) -> str:
    import pyogrio

    out = []
    for name, geom in layers:
        try:
            n = int(pyogrio.read_info(p, layer=name)["features"])
        except Exception:
            n = -1
        count = f"{n} features" if n >= 0 else "features not counted"
        out.append(f"{name} ({count}, {geom or 'no geometry'})")
    return "; ".join(out)


def _refuse_non_points(p: Path, layer: str | None, geom: str) -> None:
    if any(w in geom.lower() for w in _NOT_POINTS):
        where = f"{p}" + (f", layer {layer}," if layer else "")
        raise InputError(
            f"{where} holds {geom} features, not points: hazard sites and crashes are points "
            "(a road file is loaded as the road network instead, with hazards roads load)."
        )


def _read_gis(p: Path, *, crs: str | None, layer: str | None = None) -> Sheet:
    import pyogrio

    from hazards.crs import parse_crs

    layers = _layer_list(p)
    names = [n for n, _ in layers]
    if layer is not None and layer not in names:
        raise InputError(
            f"{p} has no layer {layer!r}; its layers are: {_describe_layers(p, layers)}.",
            param="layer",
        )
    if layer is None and len(layers) > 1:
        raise InputError(
            f"{p} has {len(layers)} layers: say which one to read. Its layers are: "
            f"{_describe_layers(p, layers)}.",
            param="layer",
        )
    chosen = layer if layer is not None else (names[0] if names else None)
    if chosen is not None:
        _refuse_non_points(p, layer, dict(layers).get(chosen, ""))
    try:
        gdf = pyogrio.read_dataframe(p, layer=chosen)
    except Exception as exc:
        raise _unreadable(p, exc) from exc
    kinds = set(gdf.geometry.dropna().geom_type) if len(gdf) else set()
    if kinds and not any("Point" in k for k in kinds):
        _refuse_non_points(p, layer, "/".join(sorted(kinds)))
    if crs:
        gdf = gdf.set_crs(parse_crs(crs), allow_override=True)
    if gdf.crs is None:
        raise InputError(
            f"{p} has no coordinate reference system. Say which it is (e.g. EPSG:4490).",
            param="crs",
        )
    columns = [c for c in gdf.columns if c != "geometry"]
    rows = [
        {c: cell_text(v) for c, v in zip(columns, values, strict=True)}
        for values in gdf[columns].itertuples(index=False)
    ]
    geo = gdf.geometry
    has = ~(geo.isna() | geo.is_empty)
    pts = geo[has].to_crs(4326)
    other = (pts.geom_type != "Point").to_numpy()
    if other.any():  # a line or polygon: a point on it (points as they are: NaN ones warned)
        with np.errstate(invalid="ignore"):
            pts.iloc[np.flatnonzero(other)] = pts[other].representative_point()
    for i, g in zip(np.flatnonzero(has.to_numpy()), pts, strict=True):
        rows[i]["_lon"], rows[i]["_lat"] = repr(g.x), repr(g.y)
    return Sheet(p, [*columns, "_lon", "_lat"], rows, point_crs="EPSG:4326", layer=chosen)
