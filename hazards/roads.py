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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from hazards.assembly import build_routes, start_fingerprints
from hazards.chainage import END_SLACK_M, format_chainage
from hazards.collector import fewer_collections
from hazards.crs import (
    WGS84,
    check_configured,
    check_working_area,
    crs_label,
    lonlat_extent,
    to_crs,
    transformer,
    working_crs_for,
)
from hazards.db.store.bulk import BULK_MIN_ROWS
from hazards.errors import InputError
from hazards.fingerprints import line_keys, single_parts
from hazards.network import road_info, road_summary
from hazards.offload import Offloaded, offload
from hazards.osm import highway_classes, osm_roads
from hazards.outfiles import write_rejected_features
from hazards.road_files import (
    FIELD_ALIASES,
    ROLES,
    count_features,
    field_text,
    field_values,
    file_line_keys,
    labels_of,
    parse_aadt,
    parse_mapping,
    read_road_file,
    recognise_fields,
)
from hazards.unassigned import known_unassigned
from hazards.vocabulary import (
    ROAD_CLASSES,
    class_from_code,
    normalise_class,
    normalise_code,
    parse_class_map,
    read_road_class,
)

__all__ = [
    "FIELD_ALIASES",
    "ROLES",
    "load_roads",
    "parse_mapping",
    "read_road_file",
    "recognise_fields",
    "road_info",
    "road_summary",
    "validate_features",
]

if TYPE_CHECKING:
    from sqlalchemy import Engine

UNASSIGNED_PREFIX = "U-"
ZERO_LENGTH = "zero-length line (all its vertices are the same point)"
KEYS_APART_MIN = 50_000
"""Lines from which a road load makes its lines' keys in a forked child (:mod:`hazards.offload`)
while it checks them: below this, a fork costs more than it saves."""


# ----------------------------------------------------------------------------- validation
@dataclass
class RowIssue:
    """What happened to one input row that was not loaded as it was."""

    row: int
    action: str  # "rejected", "repaired" or "flagged"
    reason: str
    field: str = "geometry"


@dataclass
class Features:
    """Validated, normalised features: one LineString each, with their role attributes."""

    gdf: gpd.GeoDataFrame  # row, code, name, road_class, class_raw, township, aadt, unassigned,
    # geometry
    issues: list[RowIssue]
    rows_read: int
    rejected_rows: list[int]
    unmapped_classes: dict[str, int] = field(default_factory=dict)
    """Class-field values that say no road class (value → features): loaded with the class
    their route code gives, else ``unknown``."""
    line_wkb: np.ndarray | None = None
    """Each line of ``gdf`` normalised (:func:`shapely.normalize`) as WKB, in ``gdf``'s CRS:
    the duplicate check's key, which the route fingerprints reuse in that CRS."""


def _with_repeats(
    lines: np.ndarray, *, coords: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Which of ``lines`` have a vertex with the same x and y as the one before it.
    ``coords``: their 2D coordinates and line index as :func:`shapely.get_coordinates` gives
    them, when already at hand."""
    xy, idx = coords or shapely.get_coordinates(lines, return_index=True)
    x, y = xy[:, 0], xy[:, 1]  # (compared column by column: numpy's all over rows is slow)
    same = (x[1:] == x[:-1]) & (y[1:] == y[:-1]) & (idx[1:] == idx[:-1])
    out = np.zeros(len(lines), dtype=bool)
    out[idx[1:][same]] = True
    return out


def _line_keys(
    lines: np.ndarray,
    src: np.ndarray,
    fresh: np.ndarray,
    keys: Offloaded[np.ndarray | None] | None,
    *,
    rows: int,
) -> np.ndarray:
    """The keys of ``lines`` (from rows ``src`` of a file of ``rows`` rows): ``keys``' (made
    for the file's rows) for those still as in the file (``fresh``), made here for the others,
    or for all when ``keys`` do not match the lines (not one per row, or not the same on an
    even sample: e.g. a file changed meanwhile)."""
    made = keys.result() if keys is not None else None
    at = np.flatnonzero(fresh)[:: max(1, int(fresh.sum()) // 1000)]
    if made is None or len(made) != rows or not (line_keys(lines[at]) == made[src[at]]).all():
        return line_keys(lines)
    out = np.empty(len(lines), dtype=object)
    out[fresh] = made[src[fresh]]
    out[~fresh] = line_keys(lines[~fresh])
    return out


def validate_features(
    gdf: gpd.GeoDataFrame,
    *,
    mapping: dict[str, str] | None = None,
    road_class: str | None = None,
    class_map: dict[str, str] | None = None,
    code_first: bool = False,
    keys: Offloaded[np.ndarray | None] | None = None,
) -> Features:
    """Check every row; reject what cannot be a road, repair and report what can.

    Rows are numbered from 1 in file order. Rejected: missing or empty geometry, non-line
    geometry, non-finite coordinates, zero length, exact duplicates (same route code and the
    same line, in either direction; rows without a route code only when all their attributes
    match too). Repaired and reported: Z dropped, repeated vertices dropped, multi-lines merged
    or split, invalid lines made valid. Flagged: a line without a route code, loaded as its own
    unassigned road (``U-…``, from its geometry; ``-2``, ``-3`` for same-geometry others); an
    AADT that is not a number above 0 (the row loads, its AADT unknown: :func:`parse_aadt`).

    ``mapping`` (role → field) overrides the recognised fields (:func:`recognise_fields`);
    ``road_class`` (``county``, ``县道``, ...) is given to every feature, else each feature's
    class comes from its class field (through ``class_map``, the file's value in lower case →
    class, see :func:`parse_class_map`, then the usual words), else from a Chinese route code
    (:func:`class_from_code`), else ``unknown``; with ``code_first`` (OpenStreetMap: ``ref``
    G207 over ``highway=primary``) a Chinese route code's class comes before the field's. The
    field's own value is kept as ``class_raw``. ``keys``: the keys of ``gdf``'s lines
    (:func:`~hazards.fingerprints.line_keys`, row for row) being made elsewhere meanwhile
    (:func:`file_line_keys`); the keys of lines repaired here are made again.
    """
    if road_class is not None:
        road_class = read_road_class(road_class, param="road_class")
    n = len(gdf)
    roles = recognise_fields(gdf.columns, mapping=mapping)
    rows = np.arange(1, n + 1)
    _, codes, by_code = field_values(
        gdf[roles["code"]] if "code" in roles else None,
        n,
        lambda c: None if c is None else normalise_code(c),
        lambda c: None if c is None else class_from_code(normalise_code(c)),
    )
    names = field_text(gdf[roles["name"]] if "name" in roles else None, n)
    townships = field_text(gdf[roles["township"]] if "township" in roles else None, n)
    aadt, bad_aadt = parse_aadt(gdf[roles["aadt"]] if "aadt" in roles else None, n)
    unmapped: dict[str, int] = {}
    class_field = gdf[roles["class"]] if "class" in roles else None
    if road_class:
        field_class = field_text(class_field, n)
        classes = np.full(n, road_class, dtype=object)
    else:
        cmap = class_map or {}

        def by_value(v: Any) -> str | None:
            return None if v is None else cmap.get(str(v).lower()) or normalise_class(v)

        field_class, by_field = field_values(class_field, n, by_value)
        has_field, has_code = pd.notna(by_field), pd.notna(by_code)
        classes = np.where(has_field, by_field, np.where(has_code, by_code, "unknown"))
        if code_first:
            classes = np.where(has_code, by_code, classes)
        classes = classes.astype(object)
        said = ~has_field & pd.notna(field_class) & ~(has_code & code_first)
        unmapped = {str(k): int(v) for k, v in pd.Series(field_class[said]).value_counts().items()}

    issues = [RowIssue(int(rows[i]), "flagged", why, field="aadt") for i, why in bad_aadt]
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
    if len(coords) and not np.isfinite(coords).all():
        bad_local = np.unique(idx[~np.isfinite(coords).all(axis=1)])
        bad[np.flatnonzero(ok)[bad_local]] = True
    reject(bad, "coordinates that are not finite numbers (NaN or infinity)")

    has_z = ~rejected & shapely.has_z(geoms)
    for i in np.flatnonzero(has_z):
        note(i, "repaired", "dropped Z (heights) from the coordinates")
    geoms = geoms.copy()  # not to change the caller's geometries
    geoms[has_z] = shapely.force_2d(geoms[has_z])
    geoms[~rejected] = single_parts(geoms[~rejected])  # as file_line_keys reads them
    touched = has_z.copy()  # rows whose line is no longer the file's (their keys are made again)

    # Multi-lines: merged into one line when their parts join, else split into several lines.
    alive = np.flatnonzero(~rejected)
    nothing_left = np.zeros(n, dtype=bool)  # every part one point: nothing of it to load
    for i in alive[shapely.get_type_id(geoms[alive]) != 1].tolist():
        g, touched[i] = geoms[i], True
        if g.geom_type == "LinearRing":
            geoms[i] = LineString(g.coords)
            continue
        merged = geoms[i] = shapely.line_merge(g)
        if merged.is_empty:
            nothing_left[i] = True
        elif merged.geom_type == "LineString":
            note(i, "repaired", f"merged a MultiLineString of {len(g.geoms)} parts into one line")
        else:
            note(i, "repaired", f"split a MultiLineString into {len(merged.geoms)} separate lines")
    reject(nothing_left, ZERO_LENGTH)
    alive = alive[~rejected[alive]]
    if (shapely.get_type_id(geoms[alive]) == 1).all():  # lines only: no parts to take apart
        lines, src = geoms[alive], alive
    else:
        lines, part_of = shapely.get_parts(geoms[alive], return_index=True)
        src = alive[part_of]

    if len(lines):
        before = shapely.get_num_coordinates(lines)
        after = before.copy()
        # the finiteness check's coordinates are these lines' own when none of the lines it
        # read was rejected, changed or split since (a province's file: 80 MB not read again)
        same = not touched.any() and np.array_equal(src, np.flatnonzero(ok))
        # the GEOS pass only on lines that have a repeat
        rep = _with_repeats(lines, coords=(coords, idx) if same else None)
        lines[rep] = shapely.remove_repeated_points(lines[rep], tolerance=0.0)
        after[rep] = shapely.get_num_coordinates(lines[rep])
        touched[src[rep]] = True
        for k in np.flatnonzero(after < before):
            note(src[k], "repaired", f"dropped {before[k] - after[k]} repeated vertices")
        zero = (after < 2) | (shapely.length(lines) == 0)
        invalid = ~zero & ~shapely.is_valid(lines)
        for k in np.flatnonzero(invalid):
            fixed = shapely.make_valid(lines[k])
            fixed = shapely.line_merge(fixed) if fixed.geom_type == "MultiLineString" else fixed
            if fixed.geom_type == "LineString" and fixed.length > 0:
                lines[k], touched[src[k]] = fixed, True
                note(src[k], "repaired", "made an invalid line valid (make_valid)")
            else:
                zero[k] = True
        for k in np.flatnonzero(zero):
            note(src[k], "rejected", ZERO_LENGTH)
        if zero.any():  # a multi-line whose every part was zero-length is rejected as a whole
            keep = ~zero
            rejected[np.setdiff1d(src[zero], src[keep])] = True
            src, lines = src[keep], lines[keep]

    # Exact duplicates: same code and the same line (either direction); without a code, the
    # same line and the same attributes.
    if len(lines):
        key_code = codes.copy()
        no_code = np.flatnonzero(codes == None)  # noqa: E711
        if len(no_code):  # rows are hashed one by one: the hashes of the uncoded rows only
            attrs = pd.util.hash_pandas_object(
                pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).iloc[no_code].astype(str),
                index=False,
            ).to_numpy()
            key_code[no_code] = [f"\0{a}" for a in attrs]
        by_code = pd.factorize(key_code[src])[0]
        line_wkb = _line_keys(lines, src, ~touched[src], keys, rows=n)
        by_line = labels_of(line_wkb)
        key = pd.factorize((by_code + 1).astype(np.int64) * (int(by_line.max()) + 1) + by_line)[0]
        _, first_of_key = np.unique(key, return_index=True)
        first = first_of_key[key]
        dup = first != np.arange(len(lines))
        for pos in np.flatnonzero(dup).tolist():
            note(src[pos], "rejected", f"exact duplicate of row {rows[src[first[pos]]]}")
        if dup.any():
            rejected[np.setdiff1d(src[dup], src[~dup])] = True
            src, lines, line_wkb = src[~dup], lines[~dup], line_wkb[~dup]
    else:
        line_wkb = np.empty(0, dtype=object)

    out = gpd.GeoDataFrame(
        {
            "row": rows[src],
            "code": codes[src],
            "name": names[src],
            "road_class": classes[src],
            "class_raw": field_class[src],
            "township": townships[src],
            "aadt": aadt[src],
        },
        geometry=gpd.GeoSeries(lines, crs=gdf.crs),
    )
    unassigned = out["code"].isna()
    if unassigned.any():
        ids = [
            UNASSIGNED_PREFIX + hashlib.sha1(w).hexdigest()[:10].upper()
            for w in line_wkb[unassigned.to_numpy()]
        ]
        nth = pd.Series(ids).groupby(ids).cumcount().to_numpy()  # same line, other attributes
        out.loc[unassigned, "code"] = [
            i if k == 0 else f"{i}-{k + 1}" for i, k in zip(ids, nth, strict=True)
        ]
        reason = "no route code: loaded as its own unassigned road"
        for r in out.loc[unassigned, "row"]:
            issues.append(RowIssue(int(r), "flagged", reason, field="code"))
    out["unassigned"] = unassigned.to_numpy()
    issues.sort(key=lambda it: (it.row, it.action))
    rejected_rows = sorted(int(rows[i]) for i in np.flatnonzero(rejected))
    return Features(
        gdf=out,
        issues=issues,
        rows_read=n,
        rejected_rows=rejected_rows,
        unmapped_classes=unmapped,
        line_wkb=line_wkb,
    )


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
    routes_renumbered: list[str] = field(default_factory=list)  # a loaded route's lines, new code
    routes_with_gaps: list[str] = field(default_factory=list)
    routes_with_branches: list[str] = field(default_factory=list)
    routes_with_sections: list[str] = field(default_factory=list)
    length_km: float = 0.0
    issues: list[RowIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejected_file: str | None = None
    rows_skipped: int = 0
    skipped_by_type: dict[str, int] = field(default_factory=dict)
    """OpenStreetMap lines not loaded (not vehicular roads): ``highway`` value → count."""
    hazards_reattached: int = 0
    """Hazards of replaced routes kept on the new line (within the accept distance)."""
    hazards_to_review: int = 0
    """Hazards of replaced routes farther than that from the new line: sent to review."""
    crashes_reattached: int = 0
    """Crashes of replaced routes measured again on the new line (their chainage follows it)."""
    crashes_unattached: int = 0
    """Crashes of replaced routes the new line no longer reaches: kept, attached to no road."""
    aadt_km: float = 0.0
    """Km of the file's routes whose segments have an AADT (0 when the file has no AADT field)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of a load: every field above by name, ``issues`` as dicts (docs/roads.md)."""
        return asdict(self)


@contextmanager
def _python_strings() -> Iterator[None]:
    """Text that pandas infers within the block kept as Python strings, as without pyarrow:
    a road load makes its frames from arrays of Python strings and reads them back as such,
    and with pyarrow's strings each way is a conversion (a second at the bench's size L)."""
    with pd.option_context("mode.string_storage", "python"):
        yield


@fewer_collections()
@_python_strings()
def load_roads(
    path: str | Path,
    *,
    layer: str | None = None,
    mapping: dict[str, str] | None = None,
    road_class: str | None = None,
    class_map: dict[str, str] | None = None,
    crs: str | None = None,
    replace: bool = False,
    rejected_path: str | Path | None = None,
    osm_highways: str | Sequence[str] | None = None,
    osm_routes: str = "ref",
    wait: bool = True,
    on_wait: Callable[[dict[str, Any]], None] | None = None,
    engine: Engine | None = None,
    bulk_min_rows: int = BULK_MIN_ROWS,
) -> LoadResult:
    """Read, validate, assemble and store a road file; what it did as a :class:`LoadResult`.

    ``layer``, ``crs``: as for :func:`read_road_file` (coordinates that cannot be in the CRS
    are refused before anything is written); ``mapping`` (role → field), ``road_class`` and
    ``class_map`` (the ``[class_map]`` table of hazards.toml first, then this):
    as for :func:`validate_features`. The first load that writes records the database's
    working metric CRS (:func:`hazards.crs.working_crs_for`, the ``working_crs`` setting
    first); later loads reuse it, and refuse data outside its area or a ``working_crs``
    setting naming another CRS. Pieces of a route more than the ``max_gap_m`` setting apart
    are separate sections (a warning names both ends). Routes already in the database are
    left alone when their input is unchanged (loading the same file twice adds nothing); a
    route whose input changed is replaced only with ``replace``, else skipped and reported.
    Rejected rows are written to ``rejected_path`` (default ``NAME.rejected.gpkg`` in the
    current folder). OpenStreetMap data (``.osm``/``.osm.pbf``, or a table with a ``highway``
    column of OSM values): only the ``osm_highways`` types are loaded (default: vehicular
    roads), the rest counted in ``skipped_by_type``; routes from ``ref``, or with
    ``osm_routes="name"`` also street names (:func:`hazards.osm.select_roads`). The hazards
    of a replaced route are measured again on its new line in the same transaction: within
    the ``match_accept_m`` setting they stay attached (a ``road_reload`` event records the new
    chainage), beyond it they go to review with the old and new positions
    (``hazards_reattached``, ``hazards_to_review``); their crashes too (``crashes_reattached``,
    or ``crashes_unattached`` beyond the crash snap distance). One road load writes at a time: with
    ``wait`` it waits (``on_wait`` told for what), else it is refused at once
    (:class:`~hazards.errors.ConflictError`). A load of at least ``bulk_min_rows`` segments
    into a network that holds no more writes them in bulk mode: the segments' keys are made
    after the rows (:func:`hazards.db.store.write_routes`).
    """
    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.settings import config_table, get_settings

    settings = get_settings()
    path = Path(path)
    if rejected_path and Path(rejected_path).is_dir():  # refused before anything is loaded
        raise InputError(
            f"{rejected_path} is a folder; give a file name for the rejected rows "
            f"(e.g. {Path(rejected_path) / 'roads.rejected.gpkg'}).",
            param="rejected_path",
        )
    # A large file's lines' keys are made from its geometry by a child on another core while
    # the file is read and checked (forked now, before the parent holds the file in memory).
    keys = (
        offload(file_line_keys, path, layer)
        if count_features(path, layer) >= KEYS_APART_MIN
        else None
    )
    if keys is not None and not keys.forked:  # no child: they are made with the checks
        keys = None
    try:
        raw = read_road_file(path, layer=layer, crs=crs)
        read_notes = list(raw.attrs.get("read_warnings", ()))  # e.g. a .cpg that is wrong
        fields = recognise_fields(raw.columns, mapping=mapping)
        osm, raw, mapping = osm_roads(raw, mapping, osm_highways, osm_routes, fields=fields)
        cmap = {**parse_class_map(config_table("class_map")), **(class_map or {})}
        cmap = {**(osm.class_map if osm else highway_classes(raw)), **cmap}
        feats = validate_features(
            raw,
            mapping=mapping,
            road_class=road_class,
            class_map=cmap,
            code_first=osm is not None,
            keys=None if osm else keys,
        )
    finally:
        if keys is not None:
            keys.cancel()  # nothing to stop once they came back
    engine = engine or get_engine()
    store.check_county(engine)  # the roads stored without a code are not the county's
    working = store.working_crs(engine)
    recorded = working is not None
    if working is not None:
        check_configured(working, settings.working_crs)
    if len(feats.gdf):
        box = lonlat_extent(raw.crs, feats.gdf.total_bounds)
        if working is None:
            working = working_crs_for(
                raw.crs, feats.gdf.total_bounds, configured=settings.working_crs
            )
        else:
            check_working_area(working, box, what=str(path))
        metric = to_crs(feats.gdf, working)
        # the lines' own coordinates are all finite; a transform's may not be
        transformed = not working.is_exact_same(feats.gdf.crs)
        if transformed and not np.isfinite(shapely.get_coordinates(metric.geometry.array)).all():
            raise InputError(
                f"{path}: some coordinates are not finite after transforming them to the "
                f"working CRS {crs_label(working)}; nothing was loaded. Check the file's CRS.",
                param="crs",
            )
    else:
        bounds = raw.total_bounds  # nothing loadable: nothing is written either
        if working is None and np.isfinite(bounds).all():
            working = working_crs_for(raw.crs, bounds, configured=settings.working_crs)
        working = working or raw.crs
        metric = feats.gdf.set_crs(working, allow_override=True)
    metric, same = known_unassigned(metric, engine=engine)
    # The routes' fingerprints are made while the routes are assembled (and, for a load of
    # new routes, while they are written).
    line_wkb = feats.line_wkb if metric.crs.is_exact_same(feats.gdf.crs) else None
    pending = start_fingerprints(metric, line_wkb=line_wkb) if len(metric) else None
    try:
        roads, segments = (
            build_routes(metric, max_gap=settings.max_gap_m, fingerprints=pending)
            if pending is not None
            else (pd.DataFrame(), gpd.GeoDataFrame())
        )
        if len(segments):  # a segment's AADT is its input row's (docs/roads.md, "Traffic volume")
            segments["aadt"] = segments["row"].map(feats.gdf.groupby("row")["aadt"].first())
        existing = store.route_checksums(engine)
        repaired = {i.row for i in feats.issues if i.action == "repaired"} - set(
            feats.rejected_rows
        )
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
        result.warnings.extend([*read_notes, *same])
        if osm is not None:
            result.rows_skipped = sum(osm.skipped.values())
            result.rows_read += result.rows_skipped
            result.skipped_by_type = osm.skipped
            result.warnings.extend(osm.warnings())
        to_write: list[str] = []
        codes = roads["code"].tolist() if len(roads) else []
        # The fingerprints are asked for here only when routes of the file are in the database:
        # a load of new routes alone has them asked for while it writes (write_routes).
        codeset = set(codes)
        made = pending.result() if pending is not None and existing.keys() & codeset else None
        elsewhere = {v: k for k, v in existing.items() if v and k not in codeset}
        for code in codes:
            old = existing.get(code)
            if old is None and made is not None and made[code] in elsewhere:  # renumbered?
                was = elsewhere[made[code]]
                result.routes_renumbered.append(code)
                result.warnings.append(
                    f"route {code} was not loaded: its lines and attributes are those of route "
                    f"{was}, loaded before and not in this file. If {was} was renumbered "
                    f"{code}, run `hazards roads rename {was} {code}` (its hazards follow) and "
                    "load the file again."
                )
            elif old is None:
                result.routes_added.append(code)
                to_write.append(code)
            elif made is not None and old == made[code]:
                result.routes_unchanged.append(code)
            elif replace:
                result.routes_replaced.append(code)
                to_write.append(code)
            else:
                result.routes_skipped.append(code)
        gone = sorted(existing.keys() - codeset) if existing.keys() & codeset else []
        if gone:  # a later delivery of the network without them: they stay as they are
            result.warnings.append(
                f"{len(gone)} route(s) loaded before are not in this file and stay as they were: "
                f"{', '.join(gone[:10])}{', ...' if len(gone) > 10 else ''}."
            )
        if result.routes_replaced:  # a replacement much shorter than the route: part of it?
            before = store.route_lengths(engine, result.routes_replaced)
            now = roads.set_index("code")["length_m"]
            for code in result.routes_replaced:
                if now[code] < 0.5 * before.get(code, 0.0):
                    result.warnings.append(
                        f"route {code}: replaced by {now[code] / 1000:.2f} km of road where it "
                        f"had {before[code] / 1000:.2f} km. If the file holds only part of it "
                        "(a rejected-rows file does), load the whole route's lines: correct the "
                        "rows in the original file and load that again."
                    )
        if to_write:
            sel_roads = roads[roads["code"].isin(to_write)]
            sel_segs = segments[segments["code"].isin(to_write)]  # stored in lon/lat by the store
            if not recorded:
                working = store.record_working_crs(engine, working, source=raw.crs)
            moved = store.write_routes(
                engine,
                sel_roads,
                sel_segs,
                source=path.name,
                replace=True,
                accept_m=settings.match_accept_m,
                wait=wait,
                on_wait=on_wait,
                bulk_min_rows=bulk_min_rows,
                checksums=pending.result if pending is not None else None,
                crash_reach=(settings.crash_snap_m, END_SLACK_M),
            )
            result.hazards_reattached = moved["reattached"]
            result.hazards_to_review = moved["review"]
            result.crashes_reattached = moved["crashes_reattached"]
            result.crashes_unattached = moved["crashes_unattached"]
    finally:
        if pending is not None:
            pending.cancel()  # nothing to stop once they came back
    result.working_crs = crs_label(working)
    if feats.unmapped_classes:
        values = ", ".join(f"{k} ({v})" for k, v in list(feats.unmapped_classes.items())[:10])
        first = next(iter(feats.unmapped_classes))
        result.warnings.append(
            f"class values that name no road class (the value is kept): {values}; those rows "
            "have the class their route code gives (X… county, Y… township, …), else unknown. "
            f'Map the values to classes with a class map, e.g. --class-map "{first}=CLASS" '
            f"(CLASS one of {', '.join(c for c in ROAD_CLASSES if c != 'unknown')})."
        )
    bad_aadt = [i.row for i in feats.issues if i.field == "aadt"]
    if bad_aadt:
        result.warnings.append(
            f"an AADT that is not a number of vehicles a day above 0 on {len(bad_aadt)} row(s) "
            f"({', '.join(map(str, bad_aadt[:10]))}{', ...' if len(bad_aadt) > 10 else ''}): "
            "loaded with the AADT unknown. Correct the values and load the file again, "
            "replacing its routes."
        )
    if len(roads):
        result.routes_with_gaps = roads.loc[roads["has_gap"], "code"].tolist()
        result.routes_with_branches = roads.loc[roads["has_branch"], "code"].tolist()
        result.routes_with_sections = roads.loc[roads["sections"] > 1, "code"].tolist()
        result.length_km = float(roads["length_m"].sum() / 1000)
        known = segments["aadt"].notna()
        result.aadt_km = round(float(segments.loc[known, "length_m"].sum() / 1000), 3)
        to_lonlat = transformer(working, WGS84)
        for r in roads[roads["sections"] > 1].itertuples():
            for b in r.breaks:
                a, z = (
                    "section {} at {} ({:.6f}, {:.6f})".format(
                        e["section"],
                        format_chainage(e["chainage_m"]),
                        *to_lonlat.transform(*e["xy"]),
                    )
                    for e in b["ends"]
                )
                result.warnings.append(
                    f"route {r.code}: a gap of {b['length_m'] / 1000:.2f} km (longer than "
                    f"max_gap_m {settings.max_gap_m:.0f} m) is not bridged, between {a} and "
                    f"{z}: each section has its own chainage from K0+000."
                )
    if feats.rejected_rows:
        target = Path(rejected_path or Path.cwd() / f"{path.name.split('.')[0]}.rejected.gpkg")
        reasons: dict[int, list[str]] = {}
        for it in feats.issues:
            if it.action == "rejected":
                reasons.setdefault(it.row, []).append(it.reason)
        if note := write_rejected_features(raw, reasons, feats.rejected_rows, target):
            result.warnings.append(note)  # a different file there was set aside
        result.rejected_file = str(target)
    return result
