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
from collections.abc import Iterable, Sequence
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


def _text(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:
        return np.full(n, None, dtype=object)
    out = series.astype(object).where(series.notna(), None).to_numpy()
    return np.array([None if v is None or str(v).strip() == "" else str(v).strip() for v in out], dtype=object)


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
    codes = np.array([None if c is None else c.upper().replace(" ", "") for c in codes], dtype=object)
    names = _text(gdf[roles["name"]] if "name" in roles else None, n)
    townships = _text(gdf[roles["township"]] if "township" in roles else None, n)
    field_class = _text(gdf[roles["class"]] if "class" in roles else None, n)
    classes = np.array(
        [
            road_class or normalise_class(fc) or class_from_code(code) or "other"
            for fc, code in zip(field_class, codes, strict=True)
        ],
        dtype=object,
    )

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
    geoms = np.where(has_z, shapely.force_2d(geoms), geoms)

    # Multi-lines: merged into one line when their parts join, else split into several lines.
    out_rows: list[int] = []
    out_geoms: list[Any] = []
    for ri in np.flatnonzero(~rejected).tolist():
        g = geoms[ri]
        if g.geom_type == "MultiLineString":
            merged = shapely.line_merge(g)
            if merged.geom_type == "LineString":
                issues.append(RowIssue(int(rows[ri]), "repaired", f"merged a MultiLineString of {len(g.geoms)} parts into one line"))
                out_rows.append(ri)
                out_geoms.append(merged)
            else:
                parts = list(merged.geoms)
                issues.append(RowIssue(int(rows[ri]), "repaired", f"split a MultiLineString into {len(parts)} separate lines"))
                out_rows.extend([ri] * len(parts))
                out_geoms.extend(parts)
        elif g.geom_type == "LinearRing":
            out_rows.append(ri)
            out_geoms.append(LineString(g.coords))
        else:
            out_rows.append(ri)
            out_geoms.append(g)
    src = np.array(out_rows, dtype=int)
    lines = np.array(out_geoms, dtype=object) if out_geoms else np.array([], dtype=object)

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
        dropped_rows = set(src[~keep]) - set(src[keep])
        rejected[list(dropped_rows)] = True
        src, lines = src[keep], lines[keep]

    # Exact duplicates: same code and the same line (either direction).
    if len(lines):
        key = [
            (codes[i] or "", w)
            for i, w in zip(src, shapely.to_wkb(shapely.normalize(lines)), strict=True)
        ]
        first: dict[tuple[str, bytes], int] = {}
        dup = np.zeros(len(lines), dtype=bool)
        for pos, kk in enumerate(key):
            if kk in first:
                dup[pos] = True
                issues.append(RowIssue(int(rows[src[pos]]), "rejected", f"exact duplicate of row {rows[src[first[kk]]]}"))
            else:
                first[kk] = pos
        dropped_rows = set(src[dup]) - set(src[~dup])
        rejected[list(dropped_rows)] = True
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


def _modes(features: pd.DataFrame, column: str) -> dict[str, str]:
    """Per route code, the most common value of ``column`` (the smallest on a tie)."""
    counts = features.dropna(subset=[column]).groupby(["code", column]).size().reset_index(name="n")
    counts = counts.sort_values(["code", "n", column], ascending=[True, False, True])
    return dict(counts.drop_duplicates("code")[["code", column]].itertuples(index=False, name=None))


def route_checksums(features: gpd.GeoDataFrame) -> dict[str, str]:
    """A fingerprint of each route's input (pieces and attributes), independent of row order."""
    wkb = shapely.to_wkb(shapely.normalize(np.asarray(features.geometry.array, dtype=object)), hex=True)
    items = pd.DataFrame({
        "code": features["code"].to_numpy(),
        "item": [f"{w}|{a}|{b}|{c}" for w, a, b, c in zip(wkb, features["name"], features["road_class"], features["township"], strict=True)],
    }).sort_values(["code", "item"])
    return {code: hashlib.sha1("\n".join(g).encode()).hexdigest() for code, g in items.groupby("code", sort=False)["item"]}


def build_routes(features: gpd.GeoDataFrame, *, tol: float = 0.5) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Group features (in a metric CRS) into routes and assemble each with chainage.

    Returns ``(roads, segments)``: one row per route (code, name, class, township, length_m,
    end_m, parts, gaps, gap_m, has_gap, has_branch, unassigned, checksum) and one row per
    segment (code, seq, part, from_m, to_m, length_m, row, geometry).
    """
    if features.crs is None or not features.crs.is_projected:
        raise ValueError("build_routes needs features in a projected (metric) CRS")
    road_rows: list[dict[str, Any]] = []
    seg_rows: list[dict[str, Any]] = []
    seg_geoms: list[LineString] = []
    names, classes, towns = (_modes(features, c) for c in ("name", "road_class", "township"))
    checksums = route_checksums(features)
    for code, group in features.groupby("code", sort=True):
        assembled = assemble_route(list(group.geometry), group["row"].tolist(), tol=tol)
        town_of_row = dict(zip(group["row"], group["township"], strict=True))
        road_rows.append(
            {
                "code": code,
                "name": names.get(code),
                "road_class": classes.get(code) or "other",
                "township": towns.get(code),
                "length_m": assembled.length_m,
                "end_m": assembled.end_m,
                "parts": assembled.parts,
                "gaps": assembled.gaps,
                "gap_m": assembled.gap_m,
                "has_gap": assembled.gaps > 0,
                "has_branch": assembled.parts > 1,
                "unassigned": bool(group["unassigned"].iloc[0]),
                "checksum": checksums[code],
            }
        )
        for seq, s in enumerate(assembled.segments):
            seg_rows.append(
                {"code": code, "seq": seq, "part": s.part, "from_m": s.from_m, "to_m": s.to_m,
                 "length_m": s.geometry.length, "row": s.row, "township": town_of_row.get(s.row)}
            )
            seg_geoms.append(s.geometry)
    roads = pd.DataFrame(road_rows)
    segments = gpd.GeoDataFrame(seg_rows, geometry=gpd.GeoSeries(seg_geoms, crs=features.crs))
    return roads, segments


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
        working = store.choose_and_record_working_crs(engine, raw)
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
        sel_segs = segments[segments["code"].isin(to_write)].to_crs(4326)
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
