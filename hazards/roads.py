"""Road files → validated features → routes with chainage (the ``roads`` step of the flow).

:func:`read_road_file` reads any file GDAL opens (GeoPackage, Shapefile in UTF-8 or GBK,
GeoJSON, FlatGeobuf, OpenStreetMap) and recognises Chinese and English field names;
:func:`validate_features` reports every row that is rejected or repaired; :func:`build_routes`
groups features by route code and assembles each route into segments with from/to chainage;
:func:`load_roads` does all of it and stores the result.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString
from shapely.ops import substring

from hazards.crs import crs_label, looks_like_lonlat, parse_crs
from hazards.errors import InputError, InputFileNotFound

# ----------------------------------------------------------------------------- fields
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "code": (
        "路线编码", "路线编号", "路线代码", "路线代号", "道路编码", "编码",
        "route_code", "routecode", "road_code", "roadcode", "code", "ref", "route",
        "lxbm", "lxdm", "lxbh",
    ),
    "name": ("路线名称", "道路名称", "名称", "route_name", "routename", "road_name", "name", "lxmc"),
    "class": (
        "行政等级", "技术等级", "道路等级", "等级",
        "road_class", "admin_class", "class", "highway", "xzdj",
    ),
    "township": ("乡镇", "乡镇名称", "所属乡镇", "township", "town", "xzmc"),
}
ROLES = tuple(FIELD_ALIASES)

ROAD_CLASSES = ("national", "provincial", "county", "township", "village", "special", "other")
CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "national": ("国道", "国", "national", "g"),
    "provincial": ("省道", "省", "provincial", "s"),
    "county": ("县道", "县", "county", "x"),
    "township": ("乡道", "乡", "township", "y"),
    "village": ("村道", "村", "village", "c"),
    "special": ("专用公路", "专用道", "专用", "special", "z"),
    "other": ("other", "其他"),
}
CODE_PREFIX = {"G": "national", "S": "provincial", "X": "county", "Y": "township",
               "C": "village", "Z": "special"}
UNASSIGNED_PREFIX = "U-"


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower())


def recognise_fields(columns: Iterable[str], *, mapping: dict[str, str] | None = None) -> dict[str, str]:
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
                f"--map: unknown role {role!r}. Roles are {', '.join(ROLES)}, "
                "e.g. --map code=LXBM,name=LXMC."
            )
        if column not in cols:
            raise InputError(
                f"--map {role}={column}: the file has no field {column!r}. "
                f"Its fields are: {', '.join(cols) or '(none)'}."
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
            raise InputError(f"--map {text!r}: write role=FIELD pairs separated by commas, e.g. code=LXBM,name=LXMC.")
        role, column = item.split("=", 1)
        out[role.strip()] = column.strip()
    return out


def normalise_class(value: Any) -> str | None:
    """``县道``/``county``/``X`` → ``county``; None when not recognised."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    v = str(value).strip().lower()
    if not v:
        return None
    for cls, words in CLASS_WORDS.items():
        if v in words:
            return cls
    return None


def class_from_code(code: str | None) -> str | None:
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


_CPG_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "gbk": "gb18030",
                  "936": "gb18030", "cp936": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030"}
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
        c for c in gdf.columns
        if c != "geometry" and (gdf[c].dtype == object or pd.api.types.is_string_dtype(gdf[c]))
    ]
    for encoding in _shapefile_encodings(path):
        try:
            names = {c: _decode(c, encoding, name=True) for c in gdf.columns if c != "geometry"}
            values = {
                c: gdf[c].astype(object).map(
                    lambda v, e=encoding: _decode(v, e, name=False) if isinstance(v, str) else v
                )
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
        (the message suggests ``--crs`` and says when the coordinates look like lon/lat).
    """
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputFileNotFound(f"{path}: no such file. Check the path.")
    name = path.name.lower()
    try:
        if name.endswith((".osm.pbf", ".osm", ".pbf")):
            gdf = _read_osm(path)
        else:
            if layer is None:
                layers = _list_layers(path)
                lines = [n for n, t in layers if "line" in t.lower()]
                if len(layers) > 1:
                    if len(lines) == 1:
                        layer = lines[0]
                    else:
                        names = ", ".join(f"{n} ({t})" for n, t in layers)
                        raise InputError(
                            f"{path} has several layers: {names}. Say which with --layer NAME."
                        )
            elif layer not in [n for n, _ in _list_layers(path)]:
                names = ", ".join(n for n, _ in _list_layers(path))
                raise InputError(f"{path} has no layer {layer!r}; its layers are: {names}.")
            if name.endswith(".shp"):
                gdf = _read_shapefile(path, layer)
            else:
                gdf = _read(path, layer, None)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(
            f"{path}: GDAL cannot read this as a GIS file ({str(exc).splitlines()[0]}). "
            "Road files can be GeoPackage, Shapefile, GeoJSON, FlatGeobuf or OpenStreetMap "
            ".osm.pbf."
        ) from exc
    if crs:
        target = parse_crs(crs)
        gdf = gdf.set_crs(target, allow_override=True)
    elif gdf.crs is None:
        hint = ""
        bounds = gdf.geometry.total_bounds if len(gdf) else None
        if bounds is not None and np.isfinite(bounds).all() and looks_like_lonlat(bounds):
            hint = (
                " Its coordinates look like longitude/latitude degrees, so --crs EPSG:4490 "
                "(CGCS2000) or --crs EPSG:4326 (WGS84) is likely right."
            )
        raise InputError(
            f"{path} has no coordinate reference system (for a shapefile: no .prj file). "
            f"Say which it is with --crs, e.g. --crs EPSG:4546 for CGCS2000 Gauss-Krüger "
            f"CM 111E.{hint}"
        )
    return gdf


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
    dropped, multi-lines merged or split, invalid lines made valid.
    """
    if road_class is not None and road_class not in ROAD_CLASSES:
        cls = normalise_class(road_class)
        if cls is None:
            raise InputError(
                f"--class {road_class!r} is not a road class. Use one of {', '.join(ROAD_CLASSES)} "
                "(or 县道, 乡道, 村道, ...)."
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

    def reject(mask: np.ndarray, reason: str | Sequence[str]) -> None:
        for k, i in enumerate(np.flatnonzero(mask & ~rejected)):
            issues.append(RowIssue(int(rows[i]), "rejected", reason if isinstance(reason, str) else reason[k]))
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
        issues.append(RowIssue(int(rows[i]), "repaired", "dropped Z (heights) from the coordinates"))
    if has_z.any():
        geoms = geoms.copy()
        geoms[has_z] = shapely.force_2d(geoms[has_z])

    # Multi-lines: merged into one line when their parts join, else split into several lines.
    alive = np.flatnonzero(~rejected)
    special = np.flatnonzero(shapely.get_type_id(geoms[alive]) != 1)
    pieces: dict[int, list[Any]] = {}
    for p in special.tolist():
        ri = int(alive[p])
        g = geoms[ri]
        if g.geom_type == "MultiLineString":
            merged = shapely.line_merge(g)
            if merged.geom_type == "LineString":
                issues.append(RowIssue(int(rows[ri]), "repaired", f"merged a MultiLineString of {len(g.geoms)} parts into one line"))
                pieces[p] = [merged]
            else:
                pieces[p] = list(merged.geoms)
                issues.append(RowIssue(int(rows[ri]), "repaired", f"split a MultiLineString into {len(pieces[p])} separate lines"))
        else:  # LinearRing
            pieces[p] = [LineString(g.coords)]
    counts = np.ones(len(alive), dtype=int)
    counts[special] = [len(pieces[p]) for p in special.tolist()]
    src = np.repeat(alive, counts)
    lines = np.empty(int(counts.sum()), dtype=object)
    at = np.cumsum(counts) - counts
    plain = np.ones(len(alive), dtype=bool)
    plain[special] = False
    lines[at[plain]] = geoms[alive[plain]]
    for p, parts in pieces.items():
        for j, part in enumerate(parts):
            lines[at[p] + j] = part

    if len(lines):
        before = shapely.get_num_coordinates(lines)
        lines = shapely.remove_repeated_points(lines, tolerance=0.0)
        after = shapely.get_num_coordinates(lines)
        for k in np.flatnonzero(after < before):
            issues.append(RowIssue(int(rows[src[k]]), "repaired", f"dropped {before[k] - after[k]} repeated vertices"))
        zero = (after < 2) | (shapely.length(lines) == 0)
        invalid = ~zero & ~shapely.is_valid(lines)
        for k in np.flatnonzero(invalid):
            fixed = shapely.make_valid(lines[k])
            fixed = shapely.line_merge(fixed) if fixed.geom_type == "MultiLineString" else fixed
            if fixed.geom_type == "LineString" and fixed.length > 0:
                lines[k] = fixed
                issues.append(RowIssue(int(rows[src[k]]), "repaired", "made an invalid line valid (make_valid)"))
            else:
                zero[k] = True
        for k in np.flatnonzero(zero):
            issues.append(RowIssue(int(rows[src[k]]), "rejected", "zero-length line (all its vertices are the same point)"))
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
            issues.append(RowIssue(int(rows[src[pos]]), "rejected", f"exact duplicate of row {rows[src[first[pos]]]}"))
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
        for r in out.loc[unassigned, "row"]:
            issues.append(RowIssue(int(r), "flagged", "no route code: loaded as its own unassigned road", field="code"))
    out["unassigned"] = unassigned.to_numpy()
    issues.sort(key=lambda it: (it.row, it.action))
    return Features(gdf=out, issues=issues, rows_read=n, rejected_rows=sorted(int(rows[i]) for i in np.flatnonzero(rejected)))


# ----------------------------------------------------------------------------- assembly
class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True


def _cluster_points(points: np.ndarray, tol: float) -> np.ndarray:
    """Label points that lie within ``tol`` of each other (transitively) with one id."""
    pts = shapely.points(points)
    tree = shapely.STRtree(pts)
    a, b = tree.query(pts, predicate="dwithin", distance=tol)
    uf = _UnionFind(len(points))
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        if i < j:
            uf.union(i, j)
    roots = np.array([uf.find(i) for i in range(len(points))])
    _, labels = np.unique(roots, return_inverse=True)
    return labels


def _split_at_junctions(lines: list[LineString], rows: list[int], tol: float) -> tuple[list[LineString], list[int]]:
    """Split lines where another line's loose end touches them (a branch leaving mid-line)."""
    if len(lines) < 2:
        return lines, rows
    ends = np.array([[ln.coords[0], ln.coords[-1]] for ln in lines]).reshape(-1, 2)
    labels = _cluster_points(ends, tol)
    degree = np.bincount(labels)
    loose = np.flatnonzero(degree[labels] == 1)
    arr = np.array(lines, dtype=object)
    tree = shapely.STRtree(arr)
    pts = shapely.points(ends[loose])
    qi, li = tree.query(pts, predicate="dwithin", distance=tol)
    cuts: dict[int, list[float]] = {}
    for q, j in zip(qi.tolist(), li.tolist(), strict=True):
        own = loose[q] // 2
        if j == own:
            continue
        s = float(arr[j].project(pts[q]))
        if tol < s < arr[j].length - tol:
            cuts.setdefault(j, []).append(s)
    if not cuts:
        return lines, rows
    new_lines: list[LineString] = []
    new_rows: list[int] = []
    for j, ln in enumerate(lines):
        if j not in cuts:
            new_lines.append(ln)
            new_rows.append(rows[j])
            continue
        marks = [0.0, *sorted(set(cuts[j])), ln.length]
        for s0, s1 in zip(marks[:-1], marks[1:], strict=True):
            if s1 - s0 > 0:
                new_lines.append(substring(ln, s0, s1))
                new_rows.append(rows[j])
    return new_lines, new_rows


@dataclass
class AssembledSegment:
    geometry: LineString  # oriented with increasing chainage
    row: int
    part: int
    from_m: float
    to_m: float


@dataclass
class AssembledRoute:
    segments: list[AssembledSegment]
    length_m: float  # sum of the pieces' lengths (road actually present)
    end_m: float  # chainage at the end of the main line
    parts: int
    gaps: int
    gap_m: float


def assemble_route(lines: Sequence[LineString], rows: Sequence[int], *, tol: float = 0.5) -> AssembledRoute:
    """Chain one route's pieces and give each its from/to chainage.

    The main line is the longest chain through the pieces (part 0), from the end that most of
    its length is digitised from. Pieces that do not touch are joined by the shortest
    straight-line gaps, and chainage runs on across each gap by its straight-line length
    (stakes are physical). A spur leaving the main line is its own part, its chainage starting
    at the main line's chainage where it leaves.
    """
    lines, rows = _split_at_junctions(list(lines), list(rows), tol)
    m = len(lines)
    lengths = np.array([ln.length for ln in lines])
    if m == 1:
        ln = lines[0]
        seg = AssembledSegment(ln, rows[0], 0, 0.0, float(lengths[0]))
        return AssembledRoute([seg], float(lengths[0]), float(lengths[0]), 1, 0, 0.0)
    ends = np.array([[ln.coords[0], ln.coords[-1]] for ln in lines]).reshape(-1, 2)
    node_of_end = _cluster_points(ends, tol)
    n_nodes = int(node_of_end.max()) + 1
    node_xy = np.zeros((n_nodes, 2))
    node_xy[node_of_end] = ends
    # edges: (u, v, weight, piece index or -1 for a gap)
    edges: list[tuple[int, int, float, int]] = [
        (int(node_of_end[2 * k]), int(node_of_end[2 * k + 1]), float(lengths[k]), k) for k in range(m)
    ]
    uf = _UnionFind(n_nodes)
    tree_edges: list[tuple[int, int, float, int]] = []
    extra: list[tuple[int, int, float, int]] = []
    for edge in sorted(edges, key=lambda t: (-t[2], t[3])):
        (tree_edges if uf.union(edge[0], edge[1]) else extra).append(edge)
    # Join separate components by the shortest straight gaps (Kruskal over component pairs).
    comps: dict[int, list[int]] = {}
    for node in range(n_nodes):
        comps.setdefault(uf.find(node), []).append(node)
    n_gaps = 0
    if len(comps) > 1:
        degree = np.zeros(n_nodes, dtype=int)
        for u, v, _, _ in edges:
            degree[u] += 1
            degree[v] += 1
        cands: list[tuple[float, int, int]] = []
        keys = sorted(comps)
        ends_of = {
            c: (np.array([x for x in comps[c] if degree[x] == 1]) if any(degree[x] == 1 for x in comps[c]) else np.array(comps[c]))
            for c in keys
        }
        for ai, a in enumerate(keys):
            for b in keys[ai + 1 :]:
                na, nb = ends_of[a], ends_of[b]
                d = np.linalg.norm(node_xy[na][:, None, :] - node_xy[nb][None, :, :], axis=2)
                i, j = np.unravel_index(int(np.argmin(d)), d.shape)
                cands.append((float(d[i, j]), int(na[i]), int(nb[j])))
        for d, u, v in sorted(cands):
            if uf.union(u, v):
                tree_edges.append((u, v, d, -1))
                n_gaps += 1
    adj: dict[int, list[tuple[int, float, int]]] = {x: [] for x in range(n_nodes)}
    for u, v, w, k in tree_edges:
        adj[u].append((v, w, k))
        adj[v].append((u, w, k))

    def farthest(start: int) -> tuple[int, dict[int, float], dict[int, tuple[int, int]]]:
        dist = {start: 0.0}
        parent: dict[int, tuple[int, int]] = {}
        stack = [start]
        while stack:
            x = stack.pop()
            for y, w, k in adj[x]:
                if y not in dist:
                    dist[y] = dist[x] + w
                    parent[y] = (x, k)
                    stack.append(y)
        far = max(sorted(dist), key=lambda z: dist[z])
        return far, dist, parent

    a, _, _ = farthest(0)
    b, _, parent = farthest(a)
    path = [b]
    path_edges: list[int] = []
    while path[-1] != a:
        x, k = parent[path[-1]]
        path_edges.append(k)
        path.append(x)
    # path runs b -> a; orient by the digitised direction of most of its length
    agree = 0.0
    total = 0.0
    for (x, y), k in zip(zip(path[:-1], path[1:], strict=True), path_edges, strict=True):
        if k < 0:
            continue
        total += lengths[k]
        if node_of_end[2 * k] == x and node_of_end[2 * k + 1] == y:
            agree += lengths[k]
    if agree < total / 2 or (agree == total / 2 and tuple(node_xy[path[0]]) > tuple(node_xy[path[-1]])):
        path.reverse()
        path_edges.reverse()
    chain: dict[int, float] = {path[0]: 0.0}
    part_of: dict[int, int] = {path[0]: 0}
    on_path = set(path)
    for (x, y), e in zip(zip(path[:-1], path[1:], strict=True), path_edges, strict=True):
        w = next(wt for z, wt, kk in adj[x] if z == y and kk == e)
        chain[y] = chain[x] + w
        part_of[y] = 0
    # Branches: everything hanging off the main line, in order of where it leaves it.
    next_part = 1
    for x in sorted(path, key=lambda z: chain[z]):
        for y, _w, _k in sorted(adj[x], key=lambda t: (t[2], t[0])):
            if y in on_path or y in chain:
                continue
            part = next_part
            next_part += 1
            stack = [(x, y)]
            while stack:
                p, q = stack.pop()
                w = next(w for z, w, _ in adj[p] if z == q)
                chain[q] = chain[p] + w
                part_of[q] = part
                stack.extend((q, r) for r, _, _ in adj[q] if r not in chain)
    segments: list[AssembledSegment] = []
    for u, v, w, k in tree_edges + extra:
        if k < 0:
            continue
        ln = lines[k]
        start, end = int(node_of_end[2 * k]), int(node_of_end[2 * k + 1])
        lo = start if chain[start] <= chain[end] else end
        f = chain[lo]
        if (u, v, w, k) in extra:  # closes a loop: its own part, measured from its lower end
            part = next_part
            next_part += 1
        else:  # a branch edge joins the main line (part 0) and its branch's part
            part = max(part_of[start], part_of[end])
        geom = ln if lo == start else shapely.reverse(ln)
        segments.append(AssembledSegment(geom, rows[k], part, float(f), float(f + lengths[k])))
    segments.sort(key=lambda s: (s.part, s.from_m, s.row))
    gap_m = sum(w for _, _, w, k in tree_edges if k < 0)
    return AssembledRoute(
        segments=segments,
        length_m=float(lengths.sum()),
        end_m=float(chain[path[-1]]),
        parts=next_part,
        gaps=n_gaps,
        gap_m=float(gap_m),
    )


# ----------------------------------------------------------------------------- fast assembly
# Most routes are one chain of pieces without branches or gaps. For those, assemble_route's
# result is fixed by a few array facts (the chain order, each piece's direction, the majority
# direction), so they are assembled for all routes at once below; the rest go through
# assemble_route one by one. tests/test_roads.py checks both give the same segments.


def _route_groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows grouped by route code as ``groupby("code", sort=True)`` groups them.

    Returns ``(order, route, start, uniques)``: ``order`` lists the rows route by route (file
    order within a route), ``route[i]`` is the route of row ``order[i]``, route ``r`` is
    ``order[start[r]:start[r + 1]]``, and ``uniques`` are the sorted codes.
    """
    labels, uniques = pd.factorize(pd.Series(codes, dtype=object), sort=True)
    order = np.argsort(labels, kind="stable")
    route = labels[order]
    start = np.searchsorted(route, np.arange(len(uniques) + 1))
    return order, route, start, np.asarray(uniques, dtype=object)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of the pairs ``(a, b)`` over ``n`` items, labelled by their smallest item."""
    label = np.arange(n)
    while len(a):
        m = np.minimum(label[a], label[b])
        if (label[a] == m).all() and (label[b] == m).all():
            break
        np.minimum.at(label, a, m)
        np.minimum.at(label, b, m)
        label = label[label]
    while True:
        nxt = label[label]
        if (nxt == label).all():
            return label
        label = nxt


def _end_nodes(ends: np.ndarray, route: np.ndarray, *, tol: float) -> np.ndarray:
    """A node id per piece end: ends within ``tol`` of each other (transitively) in one route share one.

    The same partition as :func:`_cluster_points` on each route's ends. Ends that coincide
    exactly are grouped by sorting; only routes where two distinct points could be within
    ``tol`` (close neighbours both when sorted by x and by y) are searched with a tree.
    """
    n = len(ends)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = np.lexsort((ends[:, 1], ends[:, 0], route))
    ks, rs = ends[key], route[key]
    new = np.ones(n, dtype=bool)
    new[1:] = (rs[1:] != rs[:-1]) | (ks[1:, 0] != ks[:-1, 0]) | (ks[1:, 1] != ks[:-1, 1])
    node = np.empty(n, dtype=np.int64)
    node[key] = np.cumsum(new) - 1
    nxy, nroute = ks[new], rs[new]
    n_nodes = len(nxy)
    n_routes = int(route.max()) + 1
    suspect = np.ones(n_routes, dtype=bool)
    for axis in (0, 1):
        o = np.lexsort((nxy[:, axis], nroute))
        near = (nroute[o][1:] == nroute[o][:-1]) & (np.diff(nxy[o, axis]) <= tol)
        suspect &= np.bincount(nroute[o][1:][near], minlength=n_routes) > 0
    cand = np.flatnonzero(suspect[nroute])
    if len(cand) == 0:
        return node
    pts = shapely.points(nxy[cand])
    a, b = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=tol)
    keep = (a < b) & (nroute[cand[a]] == nroute[cand[b]])
    label = _components(n_nodes, cand[a[keep]], cand[b[keep]])
    _, label = np.unique(label, return_inverse=True)
    return label[node]


@dataclass
class _Chains:
    """Routes assembled by :func:`_assemble_chains` (``simple``) and their pieces' places."""

    simple: np.ndarray  # per route: assembled here (else it needs assemble_route)
    pos: np.ndarray  # per piece of a simple route: its place along the route (0 = first)
    flip: np.ndarray  # per piece: reversed to run with increasing chainage


def _assemble_chains(
    lines: np.ndarray, lengths: np.ndarray, route: np.ndarray, start: np.ndarray, *, tol: float
) -> _Chains:
    """Find the routes that are one chain of pieces and orient and order their pieces.

    ``lines`` are grouped by route (route ``r`` is ``lines[start[r]:start[r + 1]]``). A route is
    simple when it has one piece, or when its pieces' ends (clustered within ``tol``) form one
    path: every node joins at most two pieces, the pieces are connected and not a loop, no loose
    end touches another piece (which assemble_route would split there), and the majority
    direction is not a near tie. For those the result equals :func:`assemble_route`'s: the pieces
    in path order, from the end most of the length is digitised from.
    """
    n = len(lines)
    n_routes = len(start) - 1
    count = np.diff(start)
    pos = np.zeros(n, dtype=np.int64)
    flip = np.zeros(n, dtype=bool)
    simple = count == 1
    multi = np.flatnonzero(count[route] >= 2)
    if len(multi) == 0:
        return _Chains(simple, pos, flip)
    sub = lines[multi]
    sroute = route[multi]
    coords = shapely.get_coordinates(sub)
    nc = shapely.get_num_coordinates(sub)
    last = np.cumsum(nc) - 1
    ends = np.empty((2 * len(sub), 2))
    ends[0::2] = coords[last - nc + 1]
    ends[1::2] = coords[last]
    end_route = np.repeat(sroute, 2)
    node = _end_nodes(ends, end_route, tol=tol)
    degree = np.bincount(node)
    node_route = np.zeros(len(degree), dtype=np.int64)
    node_route[node] = end_route
    ok = count >= 2
    # one path: nodes = pieces + 1, degrees <= 2
    ok &= np.bincount(node_route, minlength=n_routes) == count + 1
    ok &= ~(np.bincount(node_route, weights=degree > 2, minlength=n_routes) > 0)
    # Walk the chains: a state is an end a piece is entered from; the next state is the other
    # end of the node the piece is left at. List ranking by pointer jumping gives, per state,
    # the pieces left to walk and the last state reached.
    e = len(ends)
    o = np.argsort(node, kind="stable")
    partner = np.full(e, -1, dtype=np.int64)
    pair = np.flatnonzero(node[o][1:] == node[o][:-1])
    pair = pair[degree[node[o[pair]]] == 2]
    partner[o[pair]] = o[pair + 1]
    partner[o[pair + 1]] = o[pair]
    nxt = partner[np.arange(e) ^ 1]
    rank = np.ones(e, dtype=np.int64)
    reach = np.arange(e)
    for _ in range(int(np.ceil(np.log2(max(int(count.max()), 2)))) + 2):
        has = nxt >= 0
        if not has.any():
            break
        j = np.where(has, nxt, 0)
        rank = rank + np.where(has, rank[j], 0)
        reach = np.where(has, reach[j], reach)
        nxt = np.where(has, nxt[j], -1)
    ok &= ~(np.bincount(end_route, weights=nxt >= 0, minlength=n_routes) > 0)
    # the walk from each route's first loose end covers all its pieces
    loose = np.flatnonzero(degree[node] == 1)
    first_loose = np.full(n_routes, e, dtype=np.int64)
    np.minimum.at(first_loose, end_route[loose], loose)
    ok &= first_loose < e
    t = np.where(ok, first_loose, 0)
    ok &= rank[t] == count
    # a loose end within tol of another piece of its route: assemble_route may split there
    loose = loose[ok[end_route[loose]]]
    lx, ly = ends[loose, 0], ends[loose, 1]
    lr = end_route[loose]
    own = multi[loose // 2]
    cand_piece = np.repeat(start[lr], count[lr]) + (
        np.arange(int(count[lr].sum())) - np.repeat(np.cumsum(count[lr]) - count[lr], count[lr])
    )
    cand_end = np.repeat(np.arange(len(loose)), count[lr])
    bounds = shapely.bounds(lines)[cand_piece]
    px, py = lx[cand_end], ly[cand_end]
    inbox = ((cand_piece != own[cand_end]) & (px >= bounds[:, 0] - tol) & (px <= bounds[:, 2] + tol)
             & (py >= bounds[:, 1] - tol) & (py <= bounds[:, 3] + tol))
    if inbox.any():
        hit = shapely.dwithin(shapely.points(px[inbox], py[inbox]), lines[cand_piece[inbox]], tol)
        ok[lr[cand_end[inbox][hit]]] = False
    # Each piece on the walk from the first loose end, in its walking direction.
    ends_on = reach == reach[t][end_route]
    ends_on &= ok[end_route]
    state = np.flatnonzero(ends_on)
    piece = state // 2  # index into sub
    forward = state % 2 == 0  # entered from its start: digitised in walking direction
    proute = sroute[piece]
    walk_pos = count[proute] - rank[state]
    plen = lengths[multi[piece]]
    total = np.bincount(proute, weights=plen, minlength=n_routes)
    agree = np.bincount(proute, weights=np.where(forward, plen, 0.0), minlength=n_routes)
    tie = np.abs(agree - total / 2) <= 1e-9 * total
    ok &= ~tie
    keep = ok[proute]
    piece, forward, proute, walk_pos = piece[keep], forward[keep], proute[keep], walk_pos[keep]
    same = agree[proute] > total[proute] / 2
    gi = multi[piece]
    pos[gi] = np.where(same, walk_pos, count[proute] - 1 - walk_pos)
    flip[gi] = forward != same
    simple |= ok
    return _Chains(simple, pos, flip)


def _modes(features: pd.DataFrame, column: str) -> dict[str, str]:
    """Per route code, the most common value of ``column`` (the smallest on a tie)."""
    counts = features.dropna(subset=[column]).groupby(["code", column]).size().reset_index(name="n")
    counts = counts.sort_values(["code", "n", column], ascending=[True, False, True])
    return dict(counts.drop_duplicates("code")[["code", column]].itertuples(index=False, name=None))


def route_checksums(features: gpd.GeoDataFrame) -> dict[str, str]:
    """A fingerprint of each route's input (pieces and attributes), independent of row order.

    The SHA-1 of the route's lines ``WKB-hex|name|class|township`` (normalised geometry),
    sorted and joined by newlines.
    """
    geoms = np.asarray(features.geometry.array, dtype=object)
    wkb = np.array([w.hex().upper() for w in shapely.to_wkb(shapely.normalize(geoms))], dtype=object)
    name, cls, town = (features[c].to_numpy(dtype=object) for c in ("name", "road_class", "township"))
    suffix = np.array([f"|{a}|{b}|{c}" for a, b, c in zip(name, cls, town, strict=True)], dtype=object)
    items = (wkb + suffix).tolist() if len(wkb) else []
    order, _route, start, codes = _route_groups(features["code"].to_numpy(dtype=object))
    items = [items[i] for i in order.tolist()]
    bounds = start.tolist()
    return {
        code: hashlib.sha1("\n".join(sorted(items[lo:hi])).encode()).hexdigest()
        for code, lo, hi in zip(codes.tolist(), bounds[:-1], bounds[1:], strict=True)
    }


def build_routes(
    features: gpd.GeoDataFrame, *, tol: float = 0.5, fast: bool = True
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Group features (in a metric CRS) into routes and assemble each with chainage.

    Returns ``(roads, segments)``: one row per route (code, name, class, township, length_m,
    end_m, parts, gaps, gap_m, has_gap, has_branch, unassigned, checksum) and one row per
    segment (code, seq, part, from_m, to_m, length_m, row, geometry). Routes that are one
    chain of pieces are assembled for all routes at once; the others (branches, gaps, loops,
    junctions) one by one with :func:`assemble_route`, which is used for all with ``fast=False``.
    """
    if features.crs is None or not features.crs.is_projected:
        raise ValueError("build_routes needs features in a projected (metric) CRS")
    order, route, start, uniques = _route_groups(features["code"].to_numpy(dtype=object))
    geoms = np.asarray(features.geometry.array, dtype=object)[order]
    rows = features["row"].to_numpy()[order]
    towns = features["township"].to_numpy(dtype=object)[order]
    lengths = shapely.length(geoms)
    count = np.diff(start)
    n_routes = len(uniques)
    if fast:
        chains = _assemble_chains(geoms, lengths, route, start, tol=tol)
    else:
        chains = _Chains(np.zeros(n_routes, dtype=bool), np.zeros(len(geoms), dtype=np.int64),
                         np.zeros(len(geoms), dtype=bool))
    length_m = np.zeros(n_routes)
    end_m = np.zeros(n_routes)
    parts = np.ones(n_routes, dtype=np.int64)
    gaps = np.zeros(n_routes, dtype=np.int64)
    gap_m = np.zeros(n_routes)

    # Simple routes: pieces in chain order, chainage by a running sum along each route.
    sp = np.flatnonzero(chains.simple[route])
    s_route = route[sp]
    s_first = np.zeros(n_routes, dtype=np.int64)
    s_first[chains.simple] = np.cumsum(count[chains.simple]) - count[chains.simple]
    dest = s_first[s_route] + chains.pos[sp]
    s_piece = np.empty(len(sp), dtype=np.int64)
    s_piece[dest] = sp
    s_len = lengths[s_piece]
    s_from = np.empty(len(sp))
    s_to = np.empty(len(sp))
    simple_routes = np.flatnonzero(chains.simple)
    for c in np.unique(count[simple_routes]):
        rs = simple_routes[count[simple_routes] == c]
        cs = np.cumsum(s_len[s_first[rs][:, None] + np.arange(c)], axis=1)
        at = s_first[rs][:, None] + np.arange(c)
        s_to[at] = cs
        s_from[at[:, 1:]] = cs[:, :-1]
        s_from[at[:, 0]] = 0.0
        end_m[rs] = cs[:, -1]
        length_m[rs] = lengths[start[rs][:, None] + np.arange(c)].sum(axis=1)
    s_geom = geoms[s_piece]
    s_flip = chains.flip[s_piece]
    s_geom[s_flip] = shapely.reverse(s_geom[s_flip])
    seg = {
        "route": route[s_piece], "seq": chains.pos[s_piece], "part": np.zeros(len(sp), dtype=np.int64),
        "from_m": s_from, "to_m": s_to, "row": rows[s_piece], "township": towns[s_piece],
        "geometry": s_geom,
    }

    # The others, one by one.
    slow: dict[str, list[Any]] = {k: [] for k in seg}
    for r in np.flatnonzero(~chains.simple).tolist():
        lo, hi = int(start[r]), int(start[r + 1])
        assembled = assemble_route(list(geoms[lo:hi]), rows[lo:hi].tolist(), tol=tol)
        town_of_row = dict(zip(rows[lo:hi].tolist(), towns[lo:hi], strict=True))
        length_m[r], end_m[r] = assembled.length_m, assembled.end_m
        parts[r], gaps[r], gap_m[r] = assembled.parts, assembled.gaps, assembled.gap_m
        for seq, s in enumerate(assembled.segments):
            for k, v in (("route", r), ("seq", seq), ("part", s.part), ("from_m", s.from_m),
                         ("to_m", s.to_m), ("row", s.row), ("township", town_of_row.get(s.row)),
                         ("geometry", s.geometry)):
                slow[k].append(v)
    for k in seg:
        seg[k] = np.concatenate([seg[k], np.asarray(slow[k], dtype=seg[k].dtype)])
    by = np.lexsort((seg["seq"], seg["route"]))
    seg = {k: v[by] for k, v in seg.items()}

    names, classes, townships = (_modes(features, c) for c in ("name", "road_class", "township"))
    checksums = route_checksums(features)
    codes = uniques.tolist()
    roads = pd.DataFrame({
        "code": codes,
        "name": [names.get(c) for c in codes],
        "road_class": [classes.get(c) or "other" for c in codes],
        "township": [townships.get(c) for c in codes],
        "length_m": length_m,
        "end_m": end_m,
        "parts": parts,
        "gaps": gaps,
        "gap_m": gap_m,
        "has_gap": gaps > 0,
        "has_branch": parts > 1,
        "unassigned": features["unassigned"].to_numpy(dtype=bool)[order][start[:-1]],
        "checksum": [checksums[c] for c in codes],
    })
    segments = gpd.GeoDataFrame(
        {
            "code": uniques[seg["route"]].tolist(),
            "seq": seg["seq"],
            "part": seg["part"],
            "from_m": seg["from_m"],
            "to_m": seg["to_m"],
            "length_m": shapely.length(seg["geometry"]),
            "row": seg["row"],
            "township": seg["township"].tolist(),
        },
        geometry=gpd.GeoSeries(seg["geometry"], crs=features.crs),
    )
    return roads, segments


# ----------------------------------------------------------------------------- the whole step
def _lines_to_lonlat(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``lines.to_crs(4326)`` for a frame of LineStrings, rebuilt from one coordinate transform."""
    from pyproj import Transformer

    geoms = np.asarray(lines.geometry.array, dtype=object)
    if len(geoms) == 0 or (shapely.get_type_id(geoms) != 1).any() or shapely.has_z(geoms).any():
        return lines.to_crs(4326)
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    lon, lat = Transformer.from_crs(lines.crs, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    name = lines.geometry.name
    out = gpd.GeoDataFrame(
        lines.drop(columns=name),
        geometry=gpd.GeoSeries(shapely.linestrings(np.column_stack([lon, lat]), indices=idx),
                               index=lines.index, crs=4326, name=name),
    )
    return out[list(lines.columns)]


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
        return asdict(self)


def write_rejected(gdf: gpd.GeoDataFrame, issues: list[RowIssue], rejected_rows: list[int], path: Path) -> None:
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
    engine: Any = None,
) -> LoadResult:
    """Read, validate, assemble and store a road file; see the module docstring.

    Routes already in the database are left alone when their input is unchanged (loading
    the same file twice adds nothing); a route whose input changed is replaced only with
    ``replace``, else skipped and reported.
    """
    from hazards.db import store
    from hazards.db.session import get_engine

    path = Path(path)
    raw = read_road_file(path, layer=layer, crs=crs)
    feats = validate_features(raw, mapping=mapping, road_class=road_class)
    engine = engine or get_engine()
    working = store.working_crs(engine)
    if working is None:
        from hazards.crs import working_crs_for
        from hazards.settings import get_settings

        chosen = working_crs_for(raw.crs, raw.total_bounds, configured=get_settings().working_crs)
        working = store.record_working_crs(engine, chosen)
    metric = feats.gdf.to_crs(working) if len(feats.gdf) else feats.gdf.set_crs(working, allow_override=True)
    roads, segments = build_routes(metric) if len(metric) else (pd.DataFrame(), gpd.GeoDataFrame())
    existing = store.route_checksums(engine)
    result = LoadResult(
        file=str(path),
        layer=layer,
        source_crs=crs_label(raw.crs),
        working_crs=crs_label(working),
        rows_read=feats.rows_read,
        rows_loaded=int(feats.gdf["row"].nunique()) if len(feats.gdf) else 0,
        rows_repaired=len({i.row for i in feats.issues if i.action == "repaired"} - set(feats.rejected_rows)),
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
        sel_segs = _lines_to_lonlat(segments[segments["code"].isin(to_write)])
        store.write_routes(engine, sel_roads, sel_segs, source=path.name, replace=True)
    if len(roads):
        result.routes_with_gaps = roads.loc[roads["has_gap"], "code"].tolist()
        result.routes_with_branches = roads.loc[roads["has_branch"], "code"].tolist()
        result.length_km = float(roads["length_m"].sum() / 1000)
    if feats.rejected_rows:
        target = Path(rejected_path) if rejected_path else Path.cwd() / f"{path.name.split('.')[0]}.rejected.gpkg"
        write_rejected(raw, feats.issues, feats.rejected_rows, target)
        result.rejected_file = str(target)
    return result


# ----------------------------------------------------------------------------- reading back
def road_info(code: str, *, engine: Any = None) -> dict[str, Any]:
    """A stored route: class, township, length, chainage range, and its parts with gaps."""
    from hazards.chainage import format_chainage, normalise_code
    from hazards.db import store
    from hazards.db.session import get_engine

    engine = engine or get_engine()
    road = store.get_road(engine, normalise_code(code))
    segs = store.route_segments(engine, road["id"])
    parts = []
    for part, g in segs.groupby("part", sort=True):
        g = g.sort_values("from_m")
        gaps = []
        prev_to = None
        for s in g.itertuples():
            if prev_to is not None and s.from_m > prev_to + 0.01:
                gaps.append({"from_m": round(prev_to, 1), "to_m": round(s.from_m, 1),
                             "from": format_chainage(prev_to), "to": format_chainage(s.from_m),
                             "length_m": round(s.from_m - prev_to, 1)})
            prev_to = s.to_m if prev_to is None else max(prev_to, s.to_m)
        lo, hi = float(g["from_m"].min()), float(g["to_m"].max())
        parts.append({
            "part": int(part), "kind": "main" if part == 0 else "branch",
            "from_m": round(lo, 1), "to_m": round(hi, 1),
            "from": format_chainage(lo), "to": format_chainage(hi),
            "segments": len(g), "length_m": round(float(g["length_m"].sum()), 1), "gaps": gaps,
        })
    return {
        "route": road["route_code"], "name": road["name"], "class": road["road_class"],
        "township": road["township"], "townships": store.route_townships(engine, road["id"]),
        "unassigned": road["unassigned"],
        "length_m": round(road["length_m"], 1), "length_km": round(road["length_m"] / 1000, 3),
        "chainage_from": "K0+000", "chainage_to": format_chainage(road["end_m"]),
        "end_m": round(road["end_m"], 1),
        "segments": len(segs), "has_gap": road["has_gap"], "gap_m": round(road["gap_m"], 1),
        "has_branch": road["has_branch"], "parts": parts, "source": road["source"],
    }


def road_summary(*, by: str = "class", engine: Any = None) -> dict[str, Any]:
    """Routes, segments and km per class (or township) and in total."""
    from hazards.db import store
    from hazards.db.session import get_engine

    if by not in ("class", "township"):
        raise InputError(f"--by {by!r}: use class or township.")
    return store.road_summary(engine or get_engine(), by=by)
