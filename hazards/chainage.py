"""Chainage (桩号): ``K12+350`` parsing and formatting, and measuring along a route's segments.

A route's segments carry ``from_m``/``to_m`` along the route (see :mod:`hazards.assembly`);
the functions here locate a chainage on them and measure the chainage of a point, in the
working metric CRS. :func:`normalise_code` is how route codes are written everywhere.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point

from hazards.errors import InputError
from hazards.vocabulary import normalise_code as normalise_code

if TYPE_CHECKING:
    from pyproj import CRS
    from sqlalchemy import Engine

_K_RE = re.compile(r"^\s*[Kk]?\s*(\d+)\s*\+\s*(\d+(?:\.\d*)?)\s*(?:m|米)?\s*$")
_PLAIN_RE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*(m|米)?\s*$")
_KM_RE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*(?:km|公里|千米)\s*$", re.IGNORECASE)
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋．Ｋｋ　", "0123456789+.Kk ")


def parse_chainage(text: str | float | int) -> float:
    """Metres from ``K12+350``, ``K12+350.5``, ``12+350``, ``k0+080``, ``K12+350m``, plain metres
    ``12350`` (``12350m``, ``12350米``) or kilometres with their unit (``12.35km``, ``12.35公里``).

    Full-width digits and ``＋`` (as typed with a Chinese input method) are accepted.

    >>> parse_chainage("K12+350")
    12350.0
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
        if not math.isfinite(value) or value < 0:
            raise InputError(f"Chainage {text!r} must be a finite number of metres ≥ 0.")
        return value
    s = str(text).translate(_FULLWIDTH)
    m = _K_RE.match(s)
    if m:
        km, metres = int(m.group(1)), float(m.group(2))
        if metres >= 1000:
            raise InputError(
                f"Chainage {text!r}: the metres after '+' must be below 1000 "
                f"(write K{km + int(metres // 1000)}+{metres % 1000:03.0f})."
            )
        return km * 1000.0 + metres
    m = _PLAIN_RE.match(s)
    if m:
        return float(m.group(1))
    m = _KM_RE.match(s)
    if m:  # 9.25km, 9.25 公里
        return round(float(m.group(1)) * 1000.0, 6)
    raise InputError(
        f"Chainage {text!r} is not understood. Write it as K12+350 (12 km 350 m), "
        "K12+350.5, 12+350, or plain metres such as 12350."
    )


def format_chainage(metres: float, *, decimals: int = 0) -> str:
    """``K12+350`` for 12350 m (rounded to ``decimals`` places of metres).

    >>> format_chainage(12350.4)
    'K12+350'
    """
    if not math.isfinite(metres):
        raise ValueError(f"chainage must be finite, not {metres}")
    sign = "-" if metres < 0 else ""
    total = round(abs(metres), decimals)
    km = int(total // 1000)
    rest = total - km * 1000
    width = 3 if decimals == 0 else 4 + decimals
    return f"{sign}K{km}+{rest:0{width}.{decimals}f}"


@dataclass(frozen=True)
class Located:
    """A point on a route at a chainage (working CRS coordinates)."""

    chainage_m: float
    x: float
    y: float
    part: int
    segment_index: int
    in_gap: bool = False


@dataclass(frozen=True)
class Measured:
    """Where a point falls along a route."""

    chainage_m: float
    offset_m: float
    x: float  # the nearest point on the route
    y: float
    part: int
    segment_index: int


END_SLACK_M = 0.5
"""How far beyond a route's end a chainage may be and still be its end: stakes are written in
whole metres (K6+443 on a route 6,442.97 m long is its end)."""


def stake_text(metres: float) -> str:
    """A chainage as a message gives it: whole metres, or tenths when it is not whole
    (K8+949.7, where K8+950 would say a route ends where the stake is refused)."""
    return format_chainage(metres, decimals=0 if abs(metres - round(metres)) < 0.05 else 1)


def locate(
    geoms: np.ndarray,
    from_m: np.ndarray,
    to_m: np.ndarray,
    parts: np.ndarray,
    chainage_m: float,
    *,
    part: int = 0,
    route: str = "",
) -> Located:
    """The point at ``chainage_m`` on the given part of a route.

    ``geoms`` are the route's segments in the working CRS, each oriented with increasing
    chainage. In a gap between two segments the point is placed on the straight line over the
    gap (stakes continue across it) and ``in_gap`` is true. A chainage at most
    :data:`END_SLACK_M` beyond an end of the part is placed at that end (its ``chainage_m``).
    """
    sel = np.flatnonzero(parts == part)
    if sel.size == 0:
        raise InputError(f"Route {route} has no part {part}.", param="part")
    order = sel[np.argsort(from_m[sel], kind="stable")]
    lo, hi = float(from_m[order].min()), float(to_m[order].max())
    if not (lo - END_SLACK_M <= chainage_m <= hi + END_SLACK_M):
        raise InputError(
            f"Chainage {stake_text(chainage_m)} is outside route {route}"
            f"{'' if part == 0 else f' part {part}'}: it runs from {stake_text(lo)} "
            f"to {stake_text(hi)}."
        )
    chainage_m = min(max(chainage_m, lo), hi)  # a whole-metre stake at an end is the end
    for i in order:
        if from_m[i] - 1e-6 <= chainage_m <= to_m[i] + 1e-6:
            line: LineString = geoms[i]
            along = min(max(chainage_m - from_m[i], 0.0), line.length)
            p = line.interpolate(along)
            return Located(chainage_m, p.x, p.y, part, int(i))
    # In a gap: between the end of the previous segment and the start of the next.
    prev = max((i for i in order if to_m[i] < chainage_m), key=lambda i: to_m[i])
    nxt = min((i for i in order if from_m[i] > chainage_m), key=lambda i: from_m[i])
    a = shapely.get_point(geoms[prev], -1)
    b = shapely.get_point(geoms[nxt], 0)
    span = from_m[nxt] - to_m[prev]
    t = (chainage_m - to_m[prev]) / span if span > 0 else 0.0
    return Located(
        chainage_m, a.x + t * (b.x - a.x), a.y + t * (b.y - a.y), part, int(prev), in_gap=True
    )


def measure(
    geoms: np.ndarray,
    from_m: np.ndarray,
    parts: np.ndarray,
    x: float,
    y: float,
) -> Measured:
    """Chainage and offset (distance to the route) of the point ``x, y`` (working CRS)."""
    p = Point(x, y)
    distances = shapely.distance(geoms, p)
    i = int(np.argmin(distances))
    line: LineString = geoms[i]
    along = float(line.project(p))
    q = line.interpolate(along)
    return Measured(
        chainage_m=float(from_m[i]) + along,
        offset_m=float(distances[i]),
        x=q.x,
        y=q.y,
        part=int(parts[i]),
        segment_index=i,
    )


# ----------------------------------------------------------------------------- on stored routes
class _Stored:
    """Where :func:`locate_on_route` and :func:`measure_on_route` read a route: the quick path
    (a plain psycopg connection, no SQLAlchemy: ``chainage locate`` starts at once) when no
    engine is given and the database is plainly ready, else the engine as everywhere else."""

    def __init__(self, engine: Engine | None) -> None:
        from hazards.db.session import get_engine, quick_connection

        self.engine = engine
        self.conn = quick_connection() if engine is None else None
        if self.engine is None and self.conn is None:
            self.engine = get_engine()

    def close(self) -> None:
        """Close the quick connection, if one is open."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def route(self, code: str) -> tuple[dict[str, Any], dict[str, Any], CRS]:
        """A stored route, its segments (arrays, lines in the working CRS), and that CRS."""
        if self.conn is not None:
            quick = self._quick_route(code)
            if quick is not None:
                return quick
            from hazards.db.session import get_engine

            self.engine = get_engine()  # it says what is wrong (no such route, no roads...)
        assert self.engine is not None
        return _route_geometry(code, self.engine)

    def _quick_route(self, code: str) -> tuple[dict[str, Any], dict[str, Any], CRS] | None:
        from pyproj import CRS

        from hazards.crs import check_configured
        from hazards.db.store.routes import quick_route_lines
        from hazards.settings import get_settings

        assert self.conn is not None
        found = quick_route_lines(self.conn, normalise_code(code))
        self.close()
        if found is None:
            return None
        road, crs_text, segs = found
        crs = CRS.from_user_input(crs_text)  # as store.roads.require_working_crs reads it
        check_configured(crs, get_settings().working_crs)
        return road, _to_working(segs, crs), crs


def _route_geometry(code: str, engine: Engine) -> tuple[dict[str, Any], dict[str, Any], CRS]:
    """A stored route, its segments (arrays, lines in the working CRS), and that CRS."""
    from hazards.db.store.roads import get_road, require_working_crs
    from hazards.db.store.routes import route_lines

    road = get_road(engine, normalise_code(code))
    crs = require_working_crs(engine)
    segs = route_lines(engine, road["id"])
    return road, _to_working(segs, crs), crs


def _to_working(segs: dict[str, Any], crs: CRS) -> dict[str, Any]:
    """The segments' lon/lat lines (``segs["geometry"]``) in the working CRS ``crs``."""
    from hazards.crs import WGS84, transform_geometries

    segs["geometry"] = transform_geometries(np.asarray(segs["geometry"]), WGS84, crs)
    return segs


def locate_on_route(
    code: str, chainage: str | float, *, part: int = 0, engine: Engine | None = None
) -> dict[str, Any]:
    """Point at a chainage of a stored route, as lon/lat and working-CRS x/y.

    ``part`` 0 is the main line, 1, 2, ... its branches. Keys: ``route``, ``chainage``,
    ``chainage_m``, ``part``, ``lon``, ``lat``, ``x``, ``y``, ``crs``, ``in_gap``.
    """
    from hazards.crs import crs_label, lonlat_transformer

    stored = _Stored(engine)
    try:
        metres = parse_chainage(chainage)
        road, segs, crs = stored.route(code)
    finally:
        stored.close()
    loc = locate(
        segs["geometry"],
        segs["from_m"],
        segs["to_m"],
        segs["part"],
        metres,
        part=part,
        route=road["route_code"],
    )
    # one transformer both ways: making a second costs as much as the query
    lon, lat = lonlat_transformer(crs).transform(loc.x, loc.y, direction="INVERSE")
    return {
        "route": road["route_code"],
        "chainage": format_chainage(metres, decimals=0 if metres == round(metres) else 1),
        "chainage_m": metres,
        "part": loc.part,
        "lon": round(float(lon), 7),
        "lat": round(float(lat), 7),
        "x": round(loc.x, 3),
        "y": round(loc.y, 3),
        "crs": crs_label(crs),
        "in_gap": loc.in_gap,
    }


def measure_on_route(
    code: str, lon: float, lat: float, *, engine: Engine | None = None
) -> dict[str, Any]:
    """Chainage and offset of the point ``lon, lat`` (WGS84/CGCS2000) along a stored route.

    Keys: ``route``, ``chainage``, ``chainage_m``, ``offset_m``, ``part``, ``lon``, ``lat``,
    ``x``, ``y``, ``on_road_lon``, ``on_road_lat`` (the nearest point on the route), ``crs``,
    ``review_m`` (the ``match_review_m`` setting) and ``beyond_review`` (the offset is larger:
    a survey point there would be rejected, the point is probably not on this road).
    """
    from hazards.crs import crs_label, lonlat_transformer
    from hazards.settings import get_settings

    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(
            f"({lon}, {lat}) is not a longitude/latitude pair: longitude must be within ±180 "
            "and latitude within ±90. Give LON then LAT in decimal degrees."
        )
    stored = _Stored(engine)
    try:
        road, segs, crs = stored.route(code)
    finally:
        stored.close()
    x, y = lonlat_transformer(crs).transform(lon, lat)
    m = measure(
        segs["geometry"],
        segs["from_m"],
        segs["part"],
        x,
        y,
    )
    snap_lon, snap_lat = lonlat_transformer(crs).transform(m.x, m.y, direction="INVERSE")
    review_m = get_settings().match_review_m
    return {
        "route": road["route_code"],
        "chainage": format_chainage(m.chainage_m),
        "chainage_m": round(m.chainage_m, 3),
        "offset_m": round(m.offset_m, 3),
        "part": m.part,
        "lon": lon,
        "lat": lat,
        "x": round(float(x), 3),
        "y": round(float(y), 3),
        "on_road_lon": round(float(snap_lon), 7),
        "on_road_lat": round(float(snap_lat), 7),
        "crs": crs_label(crs),
        "review_m": review_m,
        "beyond_review": bool(m.offset_m > review_m),
    }
