"""Road files → validated features → stored routes with chainage (the ``roads`` step of the flow).

:func:`read_road_file` reads any file GDAL opens (GeoPackage, Shapefile in UTF-8 or GBK,
GeoJSON, FlatGeobuf, OpenStreetMap) and recognises Chinese and English field names;
:func:`validate_features` reports every row that is rejected or repaired;
:func:`hazards.assembly.build_routes` (a pure step of its own) groups features by route code
and assembles each route into segments with from/to chainage; :func:`load_roads` does all of
it and stores the result; :func:`road_info` and :func:`road_summary` read it back.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from hazards.assembly import build_routes
from hazards.crs import crs_label, lines_to_lonlat, looks_like_lonlat, parse_crs, working_crs_for
from hazards.errors import InputError, InputFileNotFound
from hazards.vocabulary import CLASS_WORDS, CODE_PREFIX, ROAD_CLASSES

if TYPE_CHECKING:
    from sqlalchemy import Engine

# ----------------------------------------------------------------------------- fields
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    role: tuple(names.split())
    for role, names in {
        "code": "路线编码 路线编号 路线代码 路线代号 道路编码 编码 route_code routecode road_code "
        "roadcode code ref route lxbm lxdm lxbh",
        "name": "路线名称 道路名称 名称 route_name routename road_name name lxmc",
        "class": "行政等级 技术等级 道路等级 等级 road_class admin_class class highway xzdj",
        "township": "乡镇 乡镇名称 所属乡镇 township town xzmc",
    }.items()
}
"""The column names that may hold each role, first found wins (compared in lower case, with
spaces, ``-`` and ``_`` alike)."""
ROLES = tuple(FIELD_ALIASES)

UNASSIGNED_PREFIX = "U-"


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower())


def recognise_fields(
    columns: Iterable[str], *, mapping: dict[str, str] | None = None
) -> dict[str, str]:
    """Which column holds each role (code, name, class, township).

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
                "e.g. code=LXBM,name=LXMC.",
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


def normalise_class(value: Any) -> str | None:
    """``县道``/``county``/``X`` → ``county``; None when not recognised."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    v = str(value).strip().lower()
    return next((cls for cls, words in CLASS_WORDS.items() if v in words), None)


def class_from_code(code: str | None) -> str | None:
    """The class a route code's first letter gives (``X012`` → ``county``); None when none does."""
    if not code:
        return None
    return CODE_PREFIX.get(code.strip()[:1].upper())


# ----------------------------------------------------------------------------- reading
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
        return pyogrio.read_dataframe(path, layer=layer, **kwargs)


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


def _shapefile_encodings(path: Path) -> list[str]:
    """Encodings to try for a shapefile's text: its .cpg, its .dbf code page, else UTF-8 then GBK."""
    for cpg in (path.with_suffix(".cpg"), path.with_suffix(".CPG")):
        if cpg.exists():
            name = cpg.read_text(errors="replace").strip().lower().replace("-", "").replace("_", "")
            return [_CPG_ENCODINGS.get(name, name)]
    for dbf in (path.with_suffix(".dbf"), path.with_suffix(".DBF")):
        if dbf.exists():
            with dbf.open("rb") as fh:
                header = fh.read(32)
            if len(header) > 29 and header[29] in _LDID_ENCODINGS:
                return [_LDID_ENCODINGS[header[29]]]
    return ["utf-8", "gb18030"]


def _read_shapefile(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """A shapefile, with its text decoded by us rather than GDAL.

    GDAL cuts long field names at 10 bytes, which in UTF-8 can split a Chinese character,
    and guesses ISO-8859-1 when there is no .cpg. So the file is read byte for byte
    (as ISO-8859-1) and decoded here: in the .cpg's encoding, else the .dbf's code page, else
    UTF-8 and then GBK, whichever decodes every name and value.
    """
    gdf = _read(path, layer, "ISO-8859-1")
    text_cols = [
        c
        for c in gdf.columns
        if c != "geometry" and (gdf[c].dtype == object or pd.api.types.is_string_dtype(gdf[c]))
    ]
    for encoding in _shapefile_encodings(path):
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
        return out.rename(columns=names)
    return gdf


def _read_osm(path: Path) -> gpd.GeoDataFrame:
    gdf = _read(path, "lines", None)
    if "highway" not in gdf.columns:
        raise InputError(f"{path}: no OpenStreetMap ways with highway=* were found.")
    gdf = gdf[gdf["highway"].notna()].copy()
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
    try:
        if name.endswith((".osm.pbf", ".osm", ".pbf")):
            return _with_crs(_read_osm(path), path, crs)
        layers = _list_layers(path)
        lines = [n for n, t in layers if "line" in t.lower()]
        if layer is None and len(layers) > 1 and len(lines) != 1:
            names = ", ".join(f"{n} ({t})" for n, t in layers)
            msg = f"{path} has several layers: {names}. Say which layer to read."
            raise InputError(msg, param="layer")
        if layer is not None and layer not in [n for n, _ in layers]:
            names = ", ".join(n for n, _ in layers)
            msg = f"{path} has no layer {layer!r}; its layers are: {names}."
            raise InputError(msg, param="layer")
        layer = lines[0] if layer is None and len(layers) > 1 else layer
        gdf = _read_shapefile(path, layer) if name.endswith(".shp") else _read(path, layer, None)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(
            f"{path}: GDAL cannot read this as a GIS file ({str(exc).splitlines()[0]}). "
            "Road files can be GeoPackage, Shapefile, GeoJSON, FlatGeobuf or OpenStreetMap "
            ".osm.pbf."
        ) from exc
    return _with_crs(gdf, path, crs)


def _with_crs(gdf: gpd.GeoDataFrame, path: Path, crs: str | None) -> gpd.GeoDataFrame:
    """``gdf`` in ``crs`` when given, else as it is; an error when it has no CRS at all."""
    if crs:
        return gdf.set_crs(parse_crs(crs), allow_override=True)
    if gdf.crs is not None:
        return gdf
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


# ----------------------------------------------------------------------------- validation
@dataclass
class RowIssue:
    """What happened to one input row that was not loaded as it was."""

    row: int
    action: str  # "rejected" or "repaired"
    reason: str
    field: str = "geometry"


@dataclass
class Features:
    """Validated, normalised features: one LineString each, with their role attributes."""

    gdf: gpd.GeoDataFrame  # columns: row, code, name, road_class, township, unassigned, geometry
    issues: list[RowIssue]
    rows_read: int
    rejected_rows: list[int]


def _per_distinct(values: np.ndarray, fn: Callable[[Any], Any]) -> np.ndarray:
    """``fn`` of each value (None for a missing one), computed once per distinct value."""
    labels, uniques = pd.factorize(values)
    return np.array([*(fn(u) for u in uniques), fn(None)], dtype=object)[labels]


def _stripped(v: Any) -> str | None:
    return None if v is None or str(v).strip() == "" else str(v).strip()


def _text(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:
        return np.full(n, None, dtype=object)
    out = series.astype(object).where(series.notna(), None).to_numpy()
    if pd.api.types.infer_dtype(out, skipna=True) not in ("string", "empty"):
        # numbers, or mixed: 0.0 and -0.0, or 1, 1.0 and True, are one value but several texts
        return np.array([_stripped(v) for v in out], dtype=object)
    return _per_distinct(out, _stripped)


def validate_features(
    gdf: gpd.GeoDataFrame,
    *,
    mapping: dict[str, str] | None = None,
    road_class: str | None = None,
) -> Features:
    """Check every row; reject what cannot be a road, repair and report what can.

    Rows are numbered from 1 in file order. Rejected: missing or empty geometry, non-line
    geometry, non-finite coordinates, zero length, exact duplicates (same route code and the
    same line, in either direction). Repaired and reported: Z dropped, repeated vertices
    dropped, multi-lines merged or split, invalid lines made valid. Flagged: a line without a
    route code, loaded as its own unassigned road (``U-…``, from its geometry).

    ``mapping`` (role → field) overrides the recognised fields (:func:`recognise_fields`);
    ``road_class`` (``county``, ``县道``, ...) is given to every feature, else each feature's
    class comes from its class field, else its route code's prefix, else ``other``.
    """
    if road_class is not None and road_class not in ROAD_CLASSES:
        cls = normalise_class(road_class)
        if cls is None:
            raise InputError(
                f"{road_class!r} is not a road class. Use one of {', '.join(ROAD_CLASSES)} "
                "(or 县道, 乡道, 村道, ...).",
                param="road_class",
            )
        road_class = cls
    n = len(gdf)
    roles = recognise_fields(gdf.columns, mapping=mapping)
    rows = np.arange(1, n + 1)
    codes = _text(gdf[roles["code"]] if "code" in roles else None, n)
    codes = _per_distinct(codes, lambda c: None if c is None else c.upper().replace(" ", ""))
    names = _text(gdf[roles["name"]] if "name" in roles else None, n)
    townships = _text(gdf[roles["township"]] if "township" in roles else None, n)
    field_class = _text(gdf[roles["class"]] if "class" in roles else None, n)
    if road_class:
        classes = np.full(n, road_class, dtype=object)
    else:
        by_field = _per_distinct(field_class, normalise_class)
        by_code = _per_distinct(codes, class_from_code)
        classes = np.where(by_field != None, by_field, np.where(by_code != None, by_code, "other"))  # noqa: E711
        classes = classes.astype(object)

    issues: list[RowIssue] = []
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    rejected = np.zeros(n, dtype=bool)

    def note(i: Any, action: str, reason: str, column: str = "geometry") -> None:
        issues.append(RowIssue(int(rows[i]), action, reason, column))

    def reject(mask: np.ndarray, reason: str | Sequence[str]) -> None:
        for k, i in enumerate(np.flatnonzero(mask & ~rejected)):
            note(i, "rejected", reason if isinstance(reason, str) else reason[k])
        rejected[mask] = True

    missing = shapely.is_missing(geoms)
    reject(missing, "no geometry")
    reject(~missing & shapely.is_empty(geoms), "empty geometry")
    type_ids = shapely.get_type_id(geoms)
    non_line = ~rejected & ~np.isin(type_ids, [1, 2, 5])
    reject(non_line, [f"not a line but a {g.geom_type}" for g in geoms[non_line]])
    ok = ~rejected
    coords, idx = shapely.get_coordinates(geoms[ok], include_z=False, return_index=True)
    bad = np.zeros(n, dtype=bool)
    if len(coords):
        bad_local = np.unique(idx[~np.isfinite(coords).all(axis=1)])
        bad[np.flatnonzero(ok)[bad_local]] = True
    reject(bad, "coordinates that are not finite numbers (NaN or infinity)")

    has_z = ~rejected & shapely.has_z(geoms)
    for i in np.flatnonzero(has_z):
        note(i, "repaired", "dropped Z (heights) from the coordinates")
    geoms = geoms.copy()  # not to change the caller's geometries
    geoms[has_z] = shapely.force_2d(geoms[has_z])

    # Multi-lines: merged into one line when their parts join, else split into several lines.
    alive = np.flatnonzero(~rejected)
    for i in alive[shapely.get_type_id(geoms[alive]) != 1].tolist():
        g = geoms[i]
        if g.geom_type == "LinearRing":
            geoms[i] = LineString(g.coords)
            continue
        merged = geoms[i] = shapely.line_merge(g)
        if merged.geom_type == "LineString":
            note(i, "repaired", f"merged a MultiLineString of {len(g.geoms)} parts into one line")
        else:
            note(i, "repaired", f"split a MultiLineString into {len(merged.geoms)} separate lines")
    lines, part_of = shapely.get_parts(geoms[alive], return_index=True)
    src = alive[part_of]

    if len(lines):
        before = shapely.get_num_coordinates(lines)
        lines = shapely.remove_repeated_points(lines, tolerance=0.0)
        after = shapely.get_num_coordinates(lines)
        for k in np.flatnonzero(after < before):
            note(src[k], "repaired", f"dropped {before[k] - after[k]} repeated vertices")
        zero = (after < 2) | (shapely.length(lines) == 0)
        invalid = ~zero & ~shapely.is_valid(lines)
        for k in np.flatnonzero(invalid):
            fixed = shapely.make_valid(lines[k])
            fixed = shapely.line_merge(fixed) if fixed.geom_type == "MultiLineString" else fixed
            if fixed.geom_type == "LineString" and fixed.length > 0:
                lines[k] = fixed
                note(src[k], "repaired", "made an invalid line valid (make_valid)")
            else:
                zero[k] = True
        for k in np.flatnonzero(zero):
            note(src[k], "rejected", "zero-length line (all its vertices are the same point)")
        keep = ~zero
        # A multi-line whose every part was zero-length is rejected as a whole.
        rejected[np.setdiff1d(src[~keep], src[keep])] = True
        src, lines = src[keep], lines[keep]

    # Exact duplicates: same code and the same line (either direction).
    if len(lines):
        by_code = pd.factorize(codes[src])[0]
        by_line = pd.factorize(shapely.to_wkb(shapely.normalize(lines)))[0]
        key = pd.factorize((by_code + 1).astype(np.int64) * (int(by_line.max()) + 1) + by_line)[0]
        _, first_of_key = np.unique(key, return_index=True)
        first = first_of_key[key]
        dup = first != np.arange(len(lines))
        for pos in np.flatnonzero(dup).tolist():
            note(src[pos], "rejected", f"exact duplicate of row {rows[src[first[pos]]]}")
        rejected[np.setdiff1d(src[dup], src[~dup])] = True
        src, lines = src[~dup], lines[~dup]

    out = gpd.GeoDataFrame(
        {
            "row": rows[src],
            "code": codes[src],
            "name": names[src],
            "road_class": classes[src],
            "township": townships[src],
        },
        geometry=gpd.GeoSeries(lines, crs=gdf.crs),
    )
    unassigned = out["code"].isna()
    if unassigned.any():
        ids = [
            UNASSIGNED_PREFIX + hashlib.sha1(w).hexdigest()[:10].upper()
            for w in shapely.to_wkb(shapely.normalize(out.geometry.array[unassigned.to_numpy()]))
        ]
        out.loc[unassigned, "code"] = ids
        reason = "no route code: loaded as its own unassigned road"
        for r in out.loc[unassigned, "row"]:
            issues.append(RowIssue(int(r), "flagged", reason, field="code"))
    out["unassigned"] = unassigned.to_numpy()
    issues.sort(key=lambda it: (it.row, it.action))
    rejected_rows = sorted(int(rows[i]) for i in np.flatnonzero(rejected))
    return Features(gdf=out, issues=issues, rows_read=n, rejected_rows=rejected_rows)


# ----------------------------------------------------------------------------- the whole step
@dataclass
class LoadResult:
    """What ``hazards roads load`` did, row by row and route by route."""

    file: str
    layer: str | None
    source_crs: str
    working_crs: str
    rows_read: int
    rows_loaded: int
    rows_repaired: int
    rows_rejected: int
    routes_in_file: int
    unassigned_features: int
    routes_added: list[str] = field(default_factory=list)
    routes_replaced: list[str] = field(default_factory=list)
    routes_unchanged: list[str] = field(default_factory=list)
    routes_skipped: list[str] = field(default_factory=list)
    routes_with_gaps: list[str] = field(default_factory=list)
    routes_with_branches: list[str] = field(default_factory=list)
    length_km: float = 0.0
    issues: list[RowIssue] = field(default_factory=list)
    rejected_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of a load: every field above by name, ``issues`` as dicts (docs/roads.md)."""
        return asdict(self)


def write_rejected(
    gdf: gpd.GeoDataFrame, issues: list[RowIssue], rejected_rows: list[int], path: Path
) -> None:
    """Write the rejected input rows, with ``_row`` and ``_reason``, for fixing and re-import."""
    reasons: dict[int, list[str]] = {}
    for it in issues:
        if it.action == "rejected":
            reasons.setdefault(it.row, []).append(it.reason)
    idx = [r - 1 for r in rejected_rows]
    out = gdf.iloc[idx].copy()
    out.insert(0, "_row", rejected_rows)
    out.insert(1, "_reason", ["; ".join(reasons.get(r, [])) for r in rejected_rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    import pyogrio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(out, path, layer="rejected", geometry_type="Unknown")


def load_roads(
    path: str | Path,
    *,
    layer: str | None = None,
    mapping: dict[str, str] | None = None,
    road_class: str | None = None,
    crs: str | None = None,
    replace: bool = False,
    rejected_path: str | Path | None = None,
    engine: Engine | None = None,
) -> LoadResult:
    """Read, validate, assemble and store a road file; what it did as a :class:`LoadResult`.

    ``layer``, ``crs``: as for :func:`read_road_file`; ``mapping`` (role → field) and
    ``road_class``: as for :func:`validate_features`. The first load records the database's
    working metric CRS (:func:`hazards.crs.working_crs_for`, the ``working_crs`` setting
    first); later loads reuse it. Routes already in the database are left alone when their
    input is unchanged (loading the same file twice adds nothing); a route whose input changed
    is replaced only with ``replace``, else skipped and reported. Rejected rows are written
    to ``rejected_path`` (default ``NAME.rejected.gpkg`` in the current folder).
    """
    from hazards.db import store
    from hazards.db.session import get_engine

    path = Path(path)
    raw = read_road_file(path, layer=layer, crs=crs)
    feats = validate_features(raw, mapping=mapping, road_class=road_class)
    engine = engine or get_engine()
    working = store.working_crs(engine)
    if working is None:
        from hazards.settings import get_settings

        chosen = working_crs_for(raw.crs, raw.total_bounds, configured=get_settings().working_crs)
        working = store.record_working_crs(engine, chosen)
    if len(feats.gdf):
        metric = feats.gdf.to_crs(working)
    else:
        metric = feats.gdf.set_crs(working, allow_override=True)
    roads, segments = build_routes(metric) if len(metric) else (pd.DataFrame(), gpd.GeoDataFrame())
    existing = store.route_checksums(engine)
    repaired = {i.row for i in feats.issues if i.action == "repaired"} - set(feats.rejected_rows)
    result = LoadResult(
        file=str(path),
        layer=layer,
        source_crs=crs_label(raw.crs),
        working_crs=crs_label(working),
        rows_read=feats.rows_read,
        rows_loaded=int(feats.gdf["row"].nunique()) if len(feats.gdf) else 0,
        rows_repaired=len(repaired),
        rows_rejected=len(feats.rejected_rows),
        routes_in_file=int((~roads["unassigned"]).sum()) if len(roads) else 0,
        unassigned_features=int(roads["unassigned"].sum()) if len(roads) else 0,
        issues=feats.issues,
    )
    to_write: list[str] = []
    for r in roads.itertuples():
        old = existing.get(r.code)
        if old is None:
            result.routes_added.append(r.code)
            to_write.append(r.code)
        elif old == r.checksum:
            result.routes_unchanged.append(r.code)
        elif replace:
            result.routes_replaced.append(r.code)
            to_write.append(r.code)
        else:
            result.routes_skipped.append(r.code)
    if to_write:
        sel_roads = roads[roads["code"].isin(to_write)]
        sel_segs = lines_to_lonlat(segments[segments["code"].isin(to_write)])
        store.write_routes(engine, sel_roads, sel_segs, source=path.name, replace=True)
    if len(roads):
        result.routes_with_gaps = roads.loc[roads["has_gap"], "code"].tolist()
        result.routes_with_branches = roads.loc[roads["has_branch"], "code"].tolist()
        result.length_km = float(roads["length_m"].sum() / 1000)
    if feats.rejected_rows:
        default = Path.cwd() / f"{path.name.split('.')[0]}.rejected.gpkg"
        target = Path(rejected_path) if rejected_path else default
        write_rejected(raw, feats.issues, feats.rejected_rows, target)
        result.rejected_file = str(target)
    return result


# ----------------------------------------------------------------------------- reading back
def road_info(code: str, *, engine: Engine | None = None) -> dict[str, Any]:
    """A stored route: class, township, length, chainage range, and its parts with gaps."""
    from hazards.chainage import format_chainage, normalise_code
    from hazards.db import store
    from hazards.db.session import get_engine

    engine = engine or get_engine()
    road = store.get_road(engine, normalise_code(code))
    segs = store.route_segments(engine, road["id"])

    def span(lo: float, hi: float) -> dict[str, Any]:
        return {
            "from_m": round(lo, 1),
            "to_m": round(hi, 1),
            "from": format_chainage(lo),
            "to": format_chainage(hi),
        }

    parts = []
    for part, g in segs.groupby("part", sort=True):
        g = g.sort_values("from_m")
        gaps = []
        prev_to = None
        for s in g.itertuples():
            if prev_to is not None and s.from_m > prev_to + 0.01:
                gaps.append({**span(prev_to, s.from_m), "length_m": round(s.from_m - prev_to, 1)})
            prev_to = s.to_m if prev_to is None else max(prev_to, s.to_m)
        head = {"part": int(part), "kind": "main" if part == 0 else "branch"}
        extent = span(float(g["from_m"].min()), float(g["to_m"].max()))
        length_m = round(float(g["length_m"].sum()), 1)
        parts.append({**head, **extent, "segments": len(g), "length_m": length_m, "gaps": gaps})
    return {
        "route": road["route_code"],
        "name": road["name"],
        "class": road["road_class"],
        "township": road["township"],
        "townships": store.route_townships(engine, road["id"]),
        "unassigned": road["unassigned"],
        "length_m": round(road["length_m"], 1),
        "length_km": round(road["length_m"] / 1000, 3),
        "chainage_from": "K0+000",
        "chainage_to": format_chainage(road["end_m"]),
        "end_m": round(road["end_m"], 1),
        "segments": len(segs),
        "has_gap": road["has_gap"],
        "gap_m": round(road["gap_m"], 1),
        "has_branch": road["has_branch"],
        "parts": parts,
        "source": road["source"],
    }


def road_summary(*, by: str = "class", engine: Engine | None = None) -> dict[str, Any]:
    """Routes, segments and km per class (or township) and in total."""
    from hazards.db import store
    from hazards.db.session import get_engine

    if by not in ("class", "township"):
        raise InputError(f"Summary by {by!r}: use class or township.", param="by")
    return store.road_summary(engine or get_engine(), by=by)
