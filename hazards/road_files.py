"""Reading road files: any file GDAL opens, shapefile text decoded right, clear one-line errors
for what is not a road layer, and coordinates checked against their CRS before anything else."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hazards.crs import check_plausible, looks_like_lonlat, parse_crs
from hazards.errors import InputError, InputFileNotFound
from hazards.fingerprints import wkb_line_keys

BYTES_AS_TEXT = "ISO-8859-1"
"""The encoding a shapefile's text is read in to get its bytes as they are (one byte, one
character), decoded here afterwards (:func:`_read_shapefile`)."""


def _list_layers(path: Path) -> list[tuple[str, str]]:
    import pyogrio

    return [(str(n), str(t)) for n, t in pyogrio.list_layers(path)]


def _read(path: Path, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    import pyogrio

    kwargs: dict[str, Any] = {}
    if encoding:
        kwargs["encoding"] = encoding
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a geometry GEOS cannot build (a line of one point) comes back empty: the row is
        # then rejected with its reason, not the whole file with a traceback
        if not encoding and have_arrow():  # column-wise: a province's file in half the time
            # its text kept in pyarrow's strings, as read (not made into Python strings)
            with pd.option_context("mode.string_storage", "pyarrow"):
                gdf = pyogrio.read_dataframe(path, layer=layer, on_invalid="ignore", use_arrow=True)
            if _valid_text(gdf):
                return gdf
            # text GDAL passed on undecoded (a zipped GBK shapefile without its code page):
            # read row by row, which decodes it as GDAL says, as without pyarrow
        return pyogrio.read_dataframe(path, layer=layer, on_invalid="ignore", **kwargs)


def _valid_text(gdf: gpd.GeoDataFrame) -> bool:
    """Whether every text column read through Arrow holds valid UTF-8 (pyarrow does not check
    what GDAL hands it, and the first use of a bad value would fail with a traceback)."""
    import pyarrow as pa

    for column in gdf.columns:
        if isinstance(gdf[column].dtype, pd.StringDtype):
            try:
                pa.array(gdf[column].array).validate(full=True)
            except (pa.ArrowInvalid, TypeError):
                return False
    return True


def have_arrow() -> bool:
    """Whether pyogrio can read a layer column by column: pyarrow is installed, and GDAL is
    3.6 or later (its Arrow stream; pyogrio refuses ``use_arrow`` with an older one)."""
    import importlib.util

    import pyogrio

    gdal = tuple(pyogrio.__gdal_version__)
    return importlib.util.find_spec("pyarrow") is not None and gdal >= (3, 6, 0)


def _decode(raw: str, encoding: str, *, name: bool) -> str:
    """Re-decode text GDAL read as ISO-8859-1 (byte for byte) in the real ``encoding``.

    A field name cut at the shapefile's 10-byte limit may end in part of a character
    (GDAL cuts ``路线编码`` in UTF-8 to ``路线编`` plus one stray byte); that part is dropped.
    """
    data = raw.encode("latin-1")
    if not name:
        return data.decode(encoding)
    for cut in range(4):
        try:
            return data[: len(data) - cut].decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError(encoding, data, 0, len(data), "not decodable")


_CPG_ENCODINGS = {
    **dict.fromkeys(("utf-8", "utf8", "65001"), "utf-8"),
    **dict.fromkeys(("gbk", "936", "cp936", "gb2312", "gb18030"), "gb18030"),
}
_LDID_ENCODINGS = {0x4D: "gb18030", 0x7A: "gb18030"}  # .dbf language driver ids for GBK


def _declared_encoding(path: Path) -> tuple[str | None, str, str] | None:
    """The encoding a shapefile says its text is in: (Python's codec for it, None when Python
    knows no such encoding; what it says; where it says so): its .cpg, else its .dbf's code
    page. None when it says nothing."""
    for cpg in (path.with_suffix(".cpg"), path.with_suffix(".CPG")):
        if cpg.exists():
            said = cpg.read_text(errors="replace").strip()
            key = said.lower().replace("-", "").replace("_", "").replace(" ", "")
            key = key.removeprefix("ansi")  # ANSI 936, ANSI 1252
            codec = _CPG_ENCODINGS.get(key) or _codec(said) or _codec(f"cp{key}")
            return codec, said, f"its {cpg.name}"
    for dbf in (path.with_suffix(".dbf"), path.with_suffix(".DBF")):
        if dbf.exists():
            with dbf.open("rb") as fh:
                header = fh.read(32)
            if len(header) > 29 and header[29] in _LDID_ENCODINGS:
                codec = _LDID_ENCODINGS[header[29]]
                return codec, codec, f"the code page of its {dbf.name}"
    return None


def _codec(name: str) -> str | None:
    """Python's name of the encoding ``name`` (``ISO-8859-1``, ``windows-1252``, ``cp936``);
    None when it knows none."""
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _shapefile_encodings(declared: str | None) -> list[str]:
    """Encodings to try for a shapefile's text, in turn: UTF-8 first (text in another encoding
    seldom decodes as UTF-8, while GBK decodes almost any bytes, UTF-8 text too, as the wrong
    characters), then the one it declares, then GBK."""
    return list(dict.fromkeys(["utf-8", *([declared] if declared else []), "gb18030"]))


def _check_shapefile_parts(path: Path) -> None:
    """Refuse a ``.shp`` whose ``.dbf`` (the attributes) or ``.shx`` (the index) is missing:
    its roads would load with no codes or names."""
    for part, holds in ((".dbf", "the attributes: route codes and names"), (".shx", "the index")):
        if not any(path.with_suffix(s).exists() for s in (part, part.upper())):
            raise InputError(
                f"{path}: its {part} file ({holds}) is missing beside it; copy the whole "
                f"shapefile ({path.stem}.shp, .shx, .dbf, .prj, .cpg) into one folder."
            )


def _read_shapefile(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """A shapefile, with its text decoded by us rather than GDAL.

    GDAL cuts long field names at 10 bytes, which in UTF-8 can split a Chinese character,
    and guesses ISO-8859-1 when there is no .cpg. So the file is read byte for byte
    (as ISO-8859-1) and decoded here: in the .cpg's encoding, else the .dbf's code page, else
    UTF-8 and then GBK, whichever decodes every name and value.
    """
    gdf = _read(path, layer, BYTES_AS_TEXT)
    text_cols = [
        c
        for c in gdf.columns
        if c != "geometry" and (gdf[c].dtype == object or pd.api.types.is_string_dtype(gdf[c]))
    ]
    declared = _declared_encoding(path)
    for encoding in _shapefile_encodings(declared[0] if declared else None):
        try:
            names = {c: _decode(c, encoding, name=True) for c in gdf.columns if c != "geometry"}
            values = {
                c: gdf[c]
                .astype(object)
                .map(lambda v, e=encoding: _decode(v, e, name=False) if isinstance(v, str) else v)
                for c in text_cols
            }
        except (UnicodeDecodeError, LookupError):
            continue
        out = gdf.copy()
        for c, series in values.items():
            out[c] = series
        out = out.rename(columns=names)
        if (
            declared is not None
            and declared[0] != _codec(encoding)
            and not _ascii_only(gdf, text_cols)  # then every encoding reads it alike
        ):
            said = (
                f"says its text is {declared[1]}, but it is not"
                if declared[0]
                else f"names {declared[1]!r}, an encoding unknown here"
            )
            out.attrs["read_warnings"] = [
                f"{path.name}: {declared[2]} {said}; it was read as "
                f"{_LABELS.get(encoding, encoding)}, which decodes all of it. Check the names, "
                f"and correct {declared[2].split()[-1]}."
            ]
        return out
    said = f"{declared[2]} says {declared[1]}; it is not that, " if declared else ""
    raise InputError(
        f"{path}: its text (names, route codes) cannot be read: {said}nor UTF-8 nor GBK. "
        f"Save the shapefile again with its code page (a .cpg file holding e.g. GBK or UTF-8), "
        "or as a GeoPackage."
    )


_LABELS = {"gb18030": "GBK (GB18030)", "utf-8": "UTF-8"}


def _ascii_only(gdf: gpd.GeoDataFrame, text_cols: list[str]) -> bool:
    """Whether the names and text values of ``gdf`` (as read, byte for byte) are all ASCII."""
    return all(str(c).isascii() for c in gdf.columns) and all(
        gdf[c].astype(object).map(lambda v: not isinstance(v, str) or v.isascii()).all()
        for c in text_cols
    )


def _read_osm(path: Path) -> gpd.GeoDataFrame:
    gdf = _read(path, "lines", None)
    if "highway" not in gdf.columns or not gdf["highway"].notna().any():
        raise InputError(f"{path}: no OpenStreetMap ways with highway=* were found.")
    gdf = gdf.copy()  # lines that are not highways stay, to be counted as skipped (hazards.osm)
    tags = gdf.get("other_tags", pd.Series(index=gdf.index, dtype=object)).fillna("")
    gdf["ref"] = tags.str.extract(r'"ref"=>"([^"]*)"', expand=False)
    keep = [c for c in ("osm_id", "name", "ref", "highway") if c in gdf.columns]
    return gdf[[*keep, "geometry"]].reset_index(drop=True)


def read_road_file(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a road file into a GeoDataFrame with its own CRS (or ``crs`` when given).

    Raises
    ------
    InputFileNotFound, InputError
        Missing file, unreadable format, several line layers and no ``layer``, or no CRS
        (``param="crs"``; the message says when the coordinates look like lon/lat).
    """
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputFileNotFound(f"{path}: no such file. Check the path.")
    name = path.name.lower()
    if path.is_dir() and not name.endswith(".gdb"):
        found = sorted(
            p.name for p in path.iterdir() if p.suffix.lower() in (".shp", ".gpkg", ".geojson")
        )
        hint = f" It holds {', '.join(found[:5])}." if found else ""
        raise InputError(
            f"{path} is a folder, not a road file. Give the road file itself (a Shapefile's "
            f".shp, a GeoPackage, GeoJSON, FlatGeobuf or .osm.pbf).{hint}"
        )
    if name.endswith(".shp"):
        _check_shapefile_parts(path)
    try:
        if name.endswith((".osm.pbf", ".osm", ".pbf")):
            return _with_crs(_read_osm(path), path, crs)
        layer = road_layer(path, layer)
        gdf = _read_shapefile(path, layer) if name.endswith(".shp") else _read(path, layer, None)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(
            f"{path}: GDAL cannot read this as a GIS file ({str(exc).splitlines()[0]}). "
            "Road files can be GeoPackage, Shapefile, GeoJSON, FlatGeobuf or OpenStreetMap "
            ".osm.pbf."
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise _table_error(path)
    types = shapely.get_type_id(np.asarray(gdf.geometry.array, dtype=object))
    if len(types) and not np.isin(types, [1, 2, 5]).any() and (types >= 0).any():
        kinds = ", ".join(sorted({str(t) for t in gdf.geometry.geom_type.dropna()}))
        raise InputError(
            f"{path}{f' layer {layer}' if layer else ''} holds {kinds} features, not lines: "
            "it is not a road network. Give the layer or file of road lines."
        )
    return _with_crs(gdf, path, crs)


def _table_error(path: Path) -> InputError:
    return InputError(
        f"{path} has no geometry: it is a table (such as a CSV), not a map layer. Roads "
        "must be lines in a GIS file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, .osm.pbf)."
    )


def road_layer(path: Path, layer: str | None) -> str | None:
    """The layer of ``path`` to read: ``layer``, else the only layer (None), else the only
    layer of lines among several; an :class:`InputError` naming the layers otherwise, or
    saying that a file of tables only (a CSV, in whatever encoding) holds no map layer."""
    layers = _list_layers(path)
    if layers and all(t == "None" for _, t in layers):  # no geometry type: tables
        raise _table_error(path)
    lines = [n for n, t in layers if "line" in t.lower()]
    if layer is None and len(layers) > 1 and len(lines) != 1:
        names = ", ".join(f"{n} ({t})" for n, t in layers)
        raise InputError(
            f"{path} has several layers: {names}. Say which layer to read.", param="layer"
        )
    if layer is not None and layer not in [n for n, _ in layers]:
        names = ", ".join(n for n, _ in layers)
        raise InputError(f"{path} has no layer {layer!r}; its layers are: {names}.", param="layer")
    return lines[0] if layer is None and len(layers) > 1 else layer


def file_line_keys(path: str | Path, layer: str | None = None) -> np.ndarray | None:
    """The keys (:func:`~hazards.fingerprints.line_keys`) of the lines of ``path``'s layer (as
    :func:`road_layer` chooses it), row for row, from its geometry's WKB alone
    (:func:`~hazards.fingerprints.wkb_line_keys`); None when it cannot
    be read that way (:func:`read_road_file` then says what is wrong). A large road load has
    them made by a forked child while it reads and checks the file
    (:func:`hazards.roads.load_roads`)."""
    import pyogrio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            options: dict[str, Any] = {
                "layer": road_layer(Path(path), layer),
                "columns": [],
                **_any_text(Path(path)),
            }
            if have_arrow():  # column-wise: the WKB without a round of Python objects
                _meta, table = pyogrio.raw.read_arrow(path, **options)
                wkb = table.column(table.num_columns - 1).to_numpy(zero_copy_only=False)
            else:
                _meta, _fids, wkb, _fields = pyogrio.raw.read(path, return_fids=False, **options)
        return wkb_line_keys(wkb)
    except Exception:  # noqa: BLE001 - the load reads the file itself and reports it
        return None


_COUNTED = (".gpkg", ".shp", ".fgb")
"""Formats that store their feature count (a GeoJSON file would be read through to count)."""


def count_features(path: Path, layer: str | None) -> int:
    """How many features the layer of ``path`` a load reads (:func:`road_layer`) holds; 0 when
    that is not known cheaply (a format that does not store it, a file GDAL cannot open, no
    layer to read: :func:`read_road_file` says what is wrong with it)."""
    import pyogrio

    if path.suffix.lower() not in _COUNTED or not path.is_file():
        return 0
    try:
        info = pyogrio.read_info(path, layer=road_layer(path, layer), **_any_text(path))
        return max(int(info["features"]), 0)
    except Exception:  # noqa: BLE001 - read_road_file reports it
        return 0


def _any_text(path: Path) -> dict[str, str]:
    """For reading a file's geometry alone: a shapefile's field names as bytes (ISO-8859-1), so
    that one cut in the middle of a character (10-byte .dbf names) does not stop the read (as
    :func:`_read_shapefile` reads them)."""
    return {"encoding": BYTES_AS_TEXT} if path.suffix.lower() == ".shp" else {}


def _sample_xy(gdf: gpd.GeoDataFrame, *, most: int = 50_000) -> np.ndarray:
    """The finite coordinates of ``gdf`` (N×2) to judge its CRS by: all of them, or when there
    are more than ``most``, those of an even sample of its lines (about ``most`` coordinates),
    of the lines holding the extremes (so the extent is exact) and of any line with a
    coordinate that is not finite."""
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    total = int(shapely.get_num_coordinates(geoms).sum())
    if total > most:
        box = shapely.bounds(geoms)
        # a line with a NaN coordinate can still have finite bounds (from its finite parts)
        finite = np.isfinite(box).all(axis=1) & np.isfinite(shapely.length(geoms))
        ok = np.flatnonzero(finite)
        ext = (
            ok[np.concatenate([box[ok].argmin(axis=0), box[ok].argmax(axis=0)])] if len(ok) else ok
        )
        lines = max(1, len(geoms) * most // total)
        even = np.linspace(0, len(geoms) - 1, lines).astype(np.int64)
        geoms = geoms[np.union1d(np.union1d(even, ext), np.flatnonzero(~finite))]
    xy = shapely.get_coordinates(geoms)
    return xy[np.isfinite(xy).all(axis=1)]


def _with_crs(gdf: gpd.GeoDataFrame, path: Path, crs: str | None) -> gpd.GeoDataFrame:
    """``gdf`` in ``crs`` when given, else as it is; an error when it has no CRS at all, or
    when the coordinates cannot be in it (:func:`hazards.crs.check_plausible`)."""
    if crs or gdf.crs is not None:
        out = gdf.set_crs(parse_crs(crs), allow_override=True) if crs else gdf
        check_plausible(out.crs, _sample_xy(out), what=str(path), declared=bool(crs))
        return out
    hint = ""
    bounds = gdf.geometry.total_bounds if len(gdf) else None
    if bounds is not None and np.isfinite(bounds).all() and looks_like_lonlat(bounds):
        hint = (
            " Its coordinates look like longitude/latitude degrees, so EPSG:4490 "
            "(CGCS2000) or EPSG:4326 (WGS84) is likely right."
        )
    raise InputError(
        f"{path} has no coordinate reference system (for a shapefile: no .prj file). "
        f"Say which CRS it is in, e.g. EPSG:4546 for CGCS2000 Gauss-Krüger CM 111E.{hint}",
        param="crs",
    )


# ----------------------------------------------------------------------------- fields
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    role: tuple(names.split())
    for role, names in {
        "code": "路线编码 路线编号 路线代码 路线代号 道路编码 编码 route_code routecode road_code "
        "roadcode code ref route lxbm lxdm lxbh",
        "name": "路线名称 道路名称 名称 route_name routename road_name name lxmc",
        "class": "行政等级 技术等级 道路等级 等级 road_class admin_class class highway xzdj",
        "township": "乡镇 乡镇名称 所属乡镇 township town xzmc",
        "aadt": "年平均日交通量 年均日交通量 交通量 aadt adt traffic_volume",
    }.items()
}
"""The column names that may hold each role, first found wins (compared in lower case, with
spaces, ``-`` and ``_`` alike)."""
ROLES = tuple(FIELD_ALIASES)
"""``aadt``: the annual average daily traffic (vehicles a day, both directions), a number; used
by the Empirical Bayes screening's safety performance function (docs/crashes.md)."""


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower())


def per_distinct(values: np.ndarray, *fns: Callable[[Any], Any]) -> list[np.ndarray]:
    """Each of ``fns`` of each value (of None for a missing one), computed once per distinct
    value (the values factorised once for all of them)."""
    labels, uniques = pd.factorize(values)
    distinct = uniques.tolist()
    return [np.array([*map(fn, distinct), fn(None)], dtype=object)[labels] for fn in fns]


def labels_of(keys: np.ndarray) -> np.ndarray:
    """Labels of ``keys`` (bytes) as :func:`pandas.factorize` gives them, made from their
    hashes (factorising the bytes themselves takes twice as long); keys that share a hash
    are compared, and a collision of two different keys falls back to the bytes."""
    labels = pd.factorize(np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys)))[0]
    first = np.empty(int(labels.max()) + 1 if len(labels) else 0, dtype=np.int64)
    first[labels[::-1]] = np.arange(len(labels) - 1, -1, -1)  # each label's first key
    again = np.flatnonzero(first[labels] != np.arange(len(labels)))
    if any(keys[i] != keys[j] for i, j in zip(again, first[labels[again]], strict=True)):
        return pd.factorize(keys)[0]
    return labels


def _stripped(v: Any) -> str | None:
    return None if v is None or str(v).strip() == "" else str(v).strip()


def parse_aadt(series: pd.Series | None, n: int) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """AADT values (vehicles a day) as floats, NaN where empty or not usable, and the
    ``(index, reason)`` of each value that is given but not a number above 0. Thousands
    separators and a unit after the number (``12,500 辆/日``, ``3400 veh/d``) are allowed."""
    out = np.full(n, np.nan)
    if series is None:
        return out, []
    text = series.astype(object).where(series.notna(), None).to_numpy()
    bad: list[tuple[int, str]] = []
    for i, v in enumerate(text):
        s = "" if v is None else str(v).strip()
        if not s:
            continue
        m = re.fullmatch(
            r"([+-]?[\d,，]*\.?\d+(?:[eE][+-]?\d+)?)\s*(?:辆\s*/\s*日|辆/天|pcu/d|veh/d|/d)?", s
        )
        number = float(m.group(1).replace(",", "").replace("，", "")) if m else math.nan
        if math.isfinite(number) and number > 0:
            out[i] = number
        else:
            bad.append(
                (i, f"AADT {s!r} is not a number of vehicles a day above 0: kept as unknown")
            )
    return out, bad


def field_text(series: pd.Series | None, n: int) -> np.ndarray:
    """A road file's field as stripped text, None where missing or blank (all None without
    the field)."""
    return field_values(series, n)[0]


def field_values(series: pd.Series | None, n: int, *fns: Callable[[Any], Any]) -> list[np.ndarray]:
    """:func:`field_text` of a road file's field, then each of ``fns`` of that text (of None
    where it is None), each computed once per distinct value (the field factorised once)."""
    if series is None:
        return [np.full(n, v, dtype=object) for v in (None, *(fn(None) for fn in fns))]
    if isinstance(series.dtype, pd.StringDtype):  # text as read: stripped once per distinct value
        labels, uniques = pd.factorize(series)
        # (as a list first: going through an Index of pyarrow strings costs ~1 µs a value)
        texts = [*map(_stripped, uniques.tolist()), None]
        return [np.array([*map(fn, texts)], dtype=object)[labels] for fn in (_same, *fns)]
    out = series.astype(object).where(series.notna(), None).to_numpy()
    if pd.api.types.infer_dtype(out, skipna=True) not in ("string", "empty"):
        # numbers, or mixed: 0.0 and -0.0, or 1, 1.0 and True, are one value but several texts
        text = np.array([_stripped(v) for v in out], dtype=object)
    else:
        text = per_distinct(out, _stripped)[0]
    return [text, *(per_distinct(text, *fns) if fns else [])]


def _same(v: Any) -> Any:
    return v


def recognise_fields(
    columns: Iterable[str], *, mapping: dict[str, str] | None = None
) -> dict[str, str]:
    """Which column holds each role (code, name, class, township, aadt).

    Exact names first (Chinese or English, any case), then Chinese names cut short by the
    shapefile's 10-byte field-name limit (``路线编`` for ``路线编码``). ``mapping`` (role →
    column) overrides.
    """
    cols = [c for c in columns if c != "geometry"]
    found: dict[str, str] = {}
    for role, aliases in FIELD_ALIASES.items():
        by_norm = {_norm(c): c for c in cols}
        for alias in aliases:
            if _norm(alias) in by_norm:
                found[role] = by_norm[_norm(alias)]
                break
        else:
            for alias in aliases:
                if not re.search(r"[\u4e00-\u9fff]", alias):
                    continue
                short = [c for c in cols if len(c) >= 3 and alias.startswith(c) and c != alias]
                if short:
                    found[role] = short[0]
                    break
    for role, column in (mapping or {}).items():
        if role not in ROLES:
            raise InputError(
                f"Field mapping: unknown role {role!r}. Roles are {', '.join(ROLES)}, "
                "e.g. code=LXBM,name=LXMC,aadt=AADT.",
                param="mapping",
            )
        if column not in cols:
            raise InputError(
                f"Field mapping {role}={column}: the file has no field {column!r}. "
                f"Its fields are: {', '.join(cols) or '(none)'}.",
                param="mapping",
            )
        found[role] = column
    return found


def parse_mapping(text: str | None) -> dict[str, str]:
    """``code=LXBM,name=LXMC`` → ``{"code": "LXBM", "name": "LXMC"}``."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise InputError(
                f"Field mapping {text!r}: write role=FIELD pairs separated by commas, "
                "e.g. code=LXBM,name=LXMC.",
                param="mapping",
            )
        role, column = item.split("=", 1)
        out[role.strip()] = column.strip()
    return out
