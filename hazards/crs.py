"""Coordinate reference systems: reading them, choosing the working metric CRS, lon/lat checks."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from hazards.errors import ConfigError, InputError

if TYPE_CHECKING:
    import geopandas as gpd  # noqa: F401 - annotations only

CGCS2000 = 4490
GK3_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E; +1 per 3 degrees to CM 135E
GK3_FIRST_CM = 75
WGS84 = CRS.from_epsg(4326)


def parse_crs(text: str, *, what: str | None = None, param: str | None = "crs") -> CRS:
    """A CRS from ``EPSG:4546``, ``4546``, WKT or a PROJ string; a clear error otherwise.

    ``what`` names where the value came from in the message (e.g. ``"The working_crs
    setting"``); ``param`` is the library argument it came from, for the CLI to name its flag.
    """
    value = text.strip()
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:
        subject = f"{what} {text!r}" if what else repr(text)
        raise InputError(
            f"{subject} is not a coordinate reference system PROJ knows. Use an EPSG code "
            "such as EPSG:4490 (CGCS2000 lon/lat), EPSG:4546 (CGCS2000 3-degree Gauss-Krüger "
            "CM 111E) or EPSG:4326 (WGS84 lon/lat), or a WKT/PROJ definition.",
            param=param,
        ) from exc


def is_cgcs2000(crs: CRS) -> bool:
    """Whether ``crs`` is CGCS2000 or based on it (lon/lat or a Gauss-Krüger zone)."""
    geodetic = crs.geodetic_crs or crs
    if geodetic.to_epsg() == CGCS2000:
        return True
    names = f"{geodetic.name} {geodetic.datum.name if geodetic.datum else ''}"
    return any(
        k in names for k in ("China 2000", "China Geodetic Coordinate System 2000", "CGCS2000")
    )


def gk3_zone_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (CM form) containing ``lon``."""
    k = round((lon - GK3_FIRST_CM) / 3)
    k = min(max(k, 0), 20)
    return GK3_FIRST_EPSG + k


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone containing the point."""
    zone = int(math.floor((lon + 180) / 6)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def choose_working_crs(source: CRS, lon: float, lat: float) -> CRS:
    """The working metric CRS for data around ``lon, lat`` that came in ``source``.

    CGCS2000 data gets its 3-degree Gauss-Krüger zone (scale 1 on the central meridian, the
    zones Chinese road data is surveyed in); anything else gets its UTM zone.
    """
    if is_cgcs2000(source):
        return CRS.from_epsg(gk3_zone_epsg(lon))
    return CRS.from_epsg(utm_epsg(lon, lat))


def working_crs_for(
    source: CRS,
    bounds: tuple[float, float, float, float] | np.ndarray,
    *,
    configured: str | None = None,
) -> CRS:
    """The working metric CRS for data in ``source`` within ``bounds`` (in ``source``'s units).

    ``configured`` (the ``working_crs`` setting), when given, wins and must be projected;
    otherwise the zone of the centre of the data's lon/lat extent (:func:`choose_working_crs`).
    The database records the choice once (the first road load) and reuses it.
    """
    if configured:
        crs = parse_crs(configured, what="The working_crs setting", param=None)
        if not crs.is_projected:
            raise ConfigError(
                f"The working_crs setting {configured!r} is not a projected (metric) CRS. Use a UTM "
                "or Gauss-Krüger zone, e.g. EPSG:4546."
            )
        return crs
    w, s, e, n = lonlat_extent(source, bounds)
    return choose_working_crs(source, (w + e) / 2, (s + n) / 2)


def crs_label(crs: CRS) -> str:
    """``EPSG:4546`` when the CRS has an EPSG code, else its PROJ/WKT definition."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.to_wkt()


def looks_like_lonlat(bounds: tuple[float, float, float, float] | np.ndarray) -> bool:
    """Whether coordinates in these bounds could be longitude/latitude degrees."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


@functools.lru_cache(maxsize=32)
def transformer(src: CRS, dst: CRS) -> Transformer:
    """A cached lon/lat-ordered transformer from ``src`` to ``dst``.

    PROJ takes some 50–150 ms to choose the operation between lon/lat (EPSG:4326) and a
    CGCS2000 CRS, paid by every command that imports, loads or locates. So between EPSG:4326
    and another CRS, either way, the operation PROJ chose is kept in the user's cache folder
    (``$XDG_CACHE_HOME`` or ``~/.cache``, ``hazards/proj-pipelines.json``), keyed by the two
    CRSs in their order, the pyproj and PROJ versions, PROJ's network setting and the files of
    its data folders (a grid installed later is a new key), and rebuilt from there in a
    millisecond. Only a single operation that gives the same numbers as the chosen one, both
    ways, at points over the other CRS's area of use is kept; anything else is chosen afresh.
    One towards EPSG:4326 is a bare PROJ pipeline that knows no CRS: its ``transform_bounds``
    returns infinities. Use :func:`lonlat_extent` for a box.
    """
    from_wgs84, to_wgs84 = src.is_exact_same(WGS84), dst.is_exact_same(WGS84)
    if from_wgs84 == to_wgs84:  # neither, or both (no operation to choose)
        return Transformer.from_crs(src, dst, always_xy=True)
    return _remembered(src, dst, dst if from_wgs84 else src)


def lonlat_transformer(crs: CRS) -> Transformer:
    """:func:`transformer` from lon/lat (EPSG:4326) to ``crs``."""
    return transformer(WGS84, crs)


def lonlat_extent(
    crs: CRS, bounds: tuple[float, float, float, float] | np.ndarray
) -> tuple[float, float, float, float]:
    """The lon/lat extent (west, south, east, north) of the box ``bounds`` in ``crs``, its
    edges densified (PROJ's ``transform_bounds``, run backwards from lon/lat: the extent may
    differ from the one of the operation towards lon/lat in the last digits)."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    back = transformer(WGS84, crs).transform_bounds(minx, miny, maxx, maxy, direction="INVERSE")
    return back[0], back[1], back[2], back[3]


def to_crs(frame: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """``frame.to_crs(crs)`` through :func:`transformer`, whose operation is remembered between
    runs (geopandas chooses its own in every process): the same numbers, point by point."""
    import geopandas as gpd

    if frame.crs is None or frame.crs.is_exact_same(crs):
        return frame.to_crs(crs)
    moved = transform_geometries(np.asarray(frame.geometry.array, dtype=object), frame.crs, crs)
    out = frame.copy()
    out[frame.geometry.name] = gpd.GeoSeries(moved, index=frame.index, crs=crs)
    return out


def transform_geometries(geoms: np.ndarray, src: CRS, dst: CRS) -> np.ndarray:
    """``geoms`` (an array of shapely geometries or None) from ``src`` to ``dst`` through
    :func:`transformer`, flat and 3D ones apart as geopandas does: its numbers."""
    import shapely

    move = transformer(src, dst)
    flat = ~shapely.has_z(geoms)
    moved = np.empty_like(geoms)
    for keep, three in ((flat, False), (~flat, True)):
        if keep.any():
            moved[keep] = shapely.transform(
                geoms[keep], lambda c: np.column_stack(move.transform(*c.T)), include_z=three
            )
    return moved


def _remembered(src: CRS, dst: CRS, crs: CRS) -> Transformer:
    """:func:`transformer` between EPSG:4326 and ``crs`` (``src`` or ``dst``), its operation
    kept in the cache file: from lon/lat as PROJJSON (the operation with its CRSs), towards
    lon/lat as a PROJ pipeline (the PROJJSON of an inverse projection cannot be read back).
    The operation rebuilt from the file is returned on the run that writes it too, so that
    every run gets the same kind of transformer."""
    try:
        path = _pipeline_cache()
        key = _pipeline_key(src, dst)
    except (OSError, RuntimeError):  # no home folder (RuntimeError), PROJ's folders unreadable
        return Transformer.from_crs(src, dst, always_xy=True)
    try:
        known = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    except (OSError, ValueError):  # unreadable or damaged: chosen afresh and written again
        known = {}
    if not isinstance(known, dict):
        known = {}
    definition = known.get(key)
    if isinstance(definition, str):
        try:
            return Transformer.from_pipeline(definition)
        except Exception:  # a damaged entry: choose afresh below and rewrite it
            pass
    fresh = Transformer.from_crs(src, dst, always_xy=True)
    if not fresh.definition.startswith("proj="):  # not one pipeline: a choice per point
        return fresh
    definition = fresh.to_json() if crs is dst else fresh.definition
    rebuilt = _same_numbers(fresh, definition, crs, from_lonlat=crs is dst)
    if rebuilt is None:
        return fresh
    known[key] = definition
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(known, indent=1), "utf-8")
        os.replace(tmp, path)
    except OSError:  # a read-only home: no harm, just slower
        pass
    return rebuilt


def _pipeline_cache() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "hazards" / "proj-pipelines.json"


def _pipeline_key(src: CRS, dst: CRS) -> str:
    """What the operation PROJ chooses from ``src`` to ``dst`` depends on, hashed."""
    import pyproj
    import pyproj.datadir
    import pyproj.network

    folders = [*pyproj.datadir.get_data_dir().split(os.pathsep), pyproj.datadir.get_user_data_dir()]
    files: list[str] = []
    for folder in folders:
        try:
            with os.scandir(folder) as entries:
                files += sorted(
                    f"{e.name}:{e.stat().st_size}:{e.stat().st_mtime_ns}" for e in entries
                )
        except OSError:
            files.append(f"{folder}:absent")
    parts = [pyproj.__version__, pyproj.proj_version_str, str(pyproj.network.is_network_enabled())]
    pair = (
        ["EPSG:4326", dst.srs, "projjson"]
        if src.is_exact_same(WGS84)
        else [src.srs, "to EPSG:4326"]
    )
    raw = "\n".join([*parts, *folders, *files, *pair])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _same_numbers(
    fresh: Transformer, definition: str | None, crs: CRS, *, from_lonlat: bool
) -> Transformer | None:
    """The operation ``definition`` rebuilt, when it gives exactly ``fresh``'s numbers, both
    ways, in 2D and 3D, on a grid of points over ``crs``'s area of use; else None. ``fresh``
    goes from lon/lat to ``crs`` (``from_lonlat``) or back."""
    area = crs.area_of_use
    if definition is None or area is None or area.east < area.west:
        return None
    try:
        rebuilt = Transformer.from_pipeline(definition)
    except Exception:
        return None
    lon = np.repeat(np.linspace(area.west, area.east, 5), 5)
    lat = np.tile(np.linspace(area.south, area.north, 5), 5)
    x, y = (lon, lat) if from_lonlat else fresh.transform(lon, lat, direction="INVERSE")
    z = np.linspace(-100.0, 5000.0, len(lon))  # heights ride through as a road file's Z does
    there = fresh.transform(x, y, z)
    if not all(np.isfinite(v).all() for v in (x, y, *there)):
        return None
    same = all(
        np.array_equal(a, b)
        for ours, theirs in (
            (fresh.transform(x, y), rebuilt.transform(x, y)),
            (there, rebuilt.transform(x, y, z)),
            (
                fresh.transform(*there, direction="INVERSE"),
                rebuilt.transform(*there, direction="INVERSE"),
            ),
        )
        for a, b in zip(ours, theirs, strict=True)
    )
    return rebuilt if same else None


# ----------------------------------------------------------------------------- plausibility
AREA_MARGIN_DEG = 1.5
"""How far (degrees) data may reach beyond a CRS's area of use before it is refused: a county
straddling a zone edge is fine, coordinates in another zone or continent are not."""


def lonlat_bounds(crs: CRS, xy: np.ndarray) -> tuple[float, float, float, float] | None:
    """The lon/lat extent of the points ``xy`` (N×2, in ``crs``); None when any point does not
    transform to finite lon/lat (values the CRS cannot hold)."""
    if len(xy) == 0:
        return None
    lon, lat = transformer(crs, CRS.from_epsg(4326)).transform(xy[:, 0], xy[:, 1])
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return None
    if np.abs(lat).max() > 90 or np.abs(lon).max() > 360:
        return None
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def likely_fix(crs: CRS, bounds: tuple[float, float, float, float]) -> str | None:
    """The CGCS2000 Gauss-Krüger CRS metres most likely are in, by their eastings: with the
    zone number in front (8 digits, 37500000: zone 37) or without it (6 digits, 500000) where
    the CRS given or read expects the other; None when the eastings say nothing of it."""
    minx, miny, maxx, maxy = bounds
    if not (miny >= 1e6 and maxy <= 6e6):  # northings of China
        return None
    zone, other = int(minx // 1e6), int(maxx // 1e6)
    if zone == other and 25 <= zone <= 45:  # 3-degree zones 25-45: EPSG:4513-4533
        return (
            f"The eastings carry the zone number {zone} in front (x {minx:.0f}…): CGCS2000 "
            f"3-degree Gauss-Krüger zone {zone} is EPSG:{4513 + zone - 25}."
        )
    if zone == other and 13 <= zone <= 23:  # 6-degree zones 13-23: EPSG:4491-4501
        return (
            f"The eastings carry the zone number {zone} in front (x {minx:.0f}…): CGCS2000 "
            f"6-degree Gauss-Krüger zone {zone} is EPSG:{4491 + zone - 13}."
        )
    code = crs.to_epsg() or 0
    if minx >= 1e5 and maxx < 1e6 and (4513 <= code <= 4533 or 4491 <= code <= 4501):
        plain = code + 21 if code >= 4513 else code + 11  # the same zone without its number
        return (
            f"The eastings have no zone number in front (x {minx:.0f}…{maxx:.0f}), but "
            f"{crs_label(crs)} expects it: the same zone without it is EPSG:{plain}."
        )
    return None


def check_plausible(crs: CRS, xy: np.ndarray, *, what: str, declared: bool) -> None:
    """Refuse coordinates that cannot be in ``crs`` (raises :class:`InputError`, ``param="crs"``).

    Checked: values declared as degrees that are far beyond ±180/±90 (metres of a projected
    CRS), points that do not transform to finite lon/lat, and points outside the CRS's area of
    use (``pyproj``'s ``area_of_use``) by more than :data:`AREA_MARGIN_DEG`. ``xy`` are the
    finite coordinates (N×2); ``declared`` says the CRS was given by the user rather than read
    from the file (the message then says to check what was given).
    """
    if len(xy) == 0:
        return
    label = crs_label(crs) if crs.to_epsg() else crs.name
    where = "given" if declared else "recorded in the file"
    fix = (
        "Give the CRS the coordinates are really in (for a shapefile, check its .prj), e.g. "
        "EPSG:4546 for CGCS2000 Gauss-Krüger CM 111E, EPSG:4490 for CGCS2000 lon/lat."
    )
    x, y = xy[:, 0], xy[:, 1]  # (a column at a time: 15 times faster than along axis 0)
    minx, miny, maxx, maxy = float(x.min()), float(y.min()), float(x.max()), float(y.max())
    extent = f"x {minx:.6g}…{maxx:.6g}, y {miny:.6g}…{maxy:.6g}"
    fix = likely_fix(crs, (minx, miny, maxx, maxy)) or fix
    if crs.is_geographic and not looks_like_lonlat((minx, miny, maxx, maxy)):
        swapped = looks_like_lonlat((miny, minx, maxy, maxx))
        raise InputError(
            f"{what}: the CRS {where} ({label}) is in degrees, but the coordinates run over "
            f"{extent}: "
            + (
                "these look like latitude and longitude swapped (x holds the latitudes). Swap "
                "them in the file (a GeoJSON's positions are [longitude, latitude])."
                if swapped
                else f"these look like metres of a projected CRS. {fix}"
            ),
            param="crs",
        )
    box = lonlat_bounds(crs, xy)
    if box is None:
        raise InputError(
            f"{what}: coordinates ({extent}) do not convert from the CRS {where} ({label}) to "
            f"longitude/latitude (the result is not a finite position). {fix}",
            param="crs",
        )
    area = crs.area_of_use
    if area is None:
        return
    w, s, e, n = area.west, area.south, area.east, area.north
    if e < w:  # an area crossing the antimeridian: only the latitude is checked
        w, e = -180.0, 180.0
    m = AREA_MARGIN_DEG
    if box[0] < w - m or box[2] > e + m or box[1] < s - m or box[3] > n + m:
        raise InputError(
            f"{what}: in the CRS {where} ({label}) the coordinates lie at longitude "
            f"{box[0]:.3f}…{box[2]:.3f}, latitude {box[1]:.3f}…{box[3]:.3f}, outside the area "
            f"that CRS is made for ({area.name}: {w:.1f}…{e:.1f}E, {s:.1f}…{n:.1f}N). {fix}",
            param="crs",
        )


def check_working_area(working: CRS, box: tuple[float, float, float, float], *, what: str) -> None:
    """Refuse data (lon/lat extent ``box``) outside the working CRS's area of use: lengths
    measured there would be distorted. The message says how to change the working CRS."""
    area = working.area_of_use
    if area is None:
        return
    m = AREA_MARGIN_DEG
    if (
        box[0] < area.west - m
        or box[2] > area.east + m
        or box[1] < area.south - m
        or box[3] > area.north + m
    ):
        raise InputError(
            f"{what}: the data lie at longitude {box[0]:.3f}…{box[2]:.3f}, latitude "
            f"{box[1]:.3f}…{box[3]:.3f}, outside the area of the database's working CRS "
            f"{crs_label(working)} ({area.name}); lengths measured there would be wrong. "
            "If the roads already loaded were measured in a wrong zone, choose it again with "
            "`hazards db working-crs auto` (or `set CRS`) before loading."
        )


def check_configured(recorded: CRS, configured: str | None) -> None:
    """Refuse to go on when the ``working_crs`` setting names another CRS than the one the
    database measures in (:class:`ConfigError` with the way out)."""
    if not configured:
        return
    wanted = parse_crs(configured, what="The working_crs setting", param=None)
    if wanted == recorded or crs_label(wanted) == crs_label(recorded):
        return
    raise ConfigError(
        f"The working_crs setting (HAZARDS_WORKING_CRS or hazards.toml) is {configured}, but "
        f"this database measures lengths and chainages in {crs_label(recorded)}. Run `hazards "
        f"db working-crs set {configured}` to re-measure everything in {configured}, or unset "
        "the setting to keep the database's CRS."
    )


def auto_working_crs(*, cgcs2000: bool, box: tuple[float, float, float, float]) -> CRS:
    """The working CRS for data at the lon/lat extent ``box``: its CGCS2000 3-degree
    Gauss-Krüger zone when the data came in CGCS2000, else its UTM zone."""
    lon, lat = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return CRS.from_epsg(gk3_zone_epsg(lon) if cgcs2000 else utm_epsg(lon, lat))
