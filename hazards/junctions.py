"""Crashes onto the network (issue 17; the ``junctions`` step): the junction nodes, where three
or more approaches meet, found from the loaded geometry; and :func:`attach`, which puts each
crash (a :class:`CrashRow`, parsed by :mod:`hazards.crashes`) at its node and on its route.

Candidates are the segments' end points and the points where two segments cross; candidates
within :data:`SNAP_M` of each other are one node. A node's approaches: each segment ending
there counts 1, each segment passing through it counts 2 (a road going on both sides); two
pieces of one route meeting end to end make 2 approaches, not a junction; a T (a spur leaving
a road) makes 3, a crossing 4. Pure: works on a :class:`hazards.reconcile.Network`, in its
working metric CRS.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import CRS

from hazards.chainage import format_chainage, locate
from hazards.crs import transformer
from hazards.errors import InputError
from hazards.reconcile import CHINA_LAT, CHINA_LON, Network, to_lonlat

SNAP_M = 2.0
"""Road ends and crossings this close (m) are one node (digitising slack)."""


@dataclass
class Junctions:
    """The junction nodes: position in the working CRS and in lon/lat, approaches, and the
    routes meeting there with the node's chainage on each."""

    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    approaches: np.ndarray
    routes: list[dict[str, float]]  # route code → chainage (m) of the node on it
    tree: shapely.STRtree

    def key(self, i: int) -> str:
        """A node's id, from its position (the same node after a reload of the same roads)."""
        return f"J{self.lon[i]:.5f},{self.lat[i]:.5f}"

    def nearest(self, x: np.ndarray, y: np.ndarray, *, within_m: float) -> np.ndarray:
        """For each point (working CRS), the nearest node within ``within_m``: its index, or
        -1 when there is none."""
        out = np.full(len(x), -1)
        if not len(self.x) or not len(x):
            return out
        pts = shapely.points(x, y)
        (pi, ni), d = self.tree.query_nearest(pts, max_distance=within_m, return_distance=True)
        order = np.lexsort((ni, d, pi))  # the nearest first; of equals, the first node
        first = np.ones(len(order), dtype=bool)
        first[1:] = pi[order][1:] != pi[order][:-1]
        out[pi[order][first]] = ni[order][first]
        return out


def _clusters(points: np.ndarray, snap_m: float) -> np.ndarray:
    """A cluster label per point: points within ``snap_m`` of each other (transitively) share
    one (union-find over the pairs the tree finds)."""
    parent = np.arange(len(points))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    a, b = shapely.STRtree(points).query(points, predicate="dwithin", distance=snap_m)
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        if i < j:
            ri, rj = root(i), root(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return np.array([root(i) for i in range(len(points))])


def junction_nodes(network: Network, *, snap_m: float = SNAP_M) -> Junctions:
    """The nodes of ``network`` where three or more approaches meet."""
    geoms = network.geoms
    if not len(geoms):
        e = np.empty(0)
        return Junctions(e, e, e, e, e.astype(int), [], shapely.STRtree([]))
    starts, ends = shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)
    qi, qj = network.tree.query(geoms, predicate="intersects")
    keep = qi < qj
    crossings = shapely.get_parts(shapely.intersection(geoms[qi[keep]], geoms[qj[keep]]))
    crossings = crossings[shapely.get_type_id(crossings) == 0]  # points (not shared stretches)
    cand = np.concatenate([starts, ends, crossings])
    xy = shapely.get_coordinates(cand)
    label = _clusters(cand, snap_m)
    _, inverse = np.unique(label, return_inverse=True)
    n = int(inverse.max()) + 1
    cx = np.bincount(inverse, weights=xy[:, 0], minlength=n) / np.bincount(inverse, minlength=n)
    cy = np.bincount(inverse, weights=xy[:, 1], minlength=n) / np.bincount(inverse, minlength=n)
    centres = shapely.points(cx, cy)
    ni, si = network.tree.query(centres, predicate="dwithin", distance=snap_m)
    at_start = shapely.distance(centres[ni], starts[si]) <= snap_m
    at_end = shapely.distance(centres[ni], ends[si]) <= snap_m
    count = at_start.astype(int) + at_end.astype(int)
    count[count == 0] = 2  # passing through
    approaches = np.bincount(ni, weights=count, minlength=n).astype(int)
    is_node = approaches >= 3
    idx = np.flatnonzero(is_node)
    routes: dict[int, dict[str, float]] = {int(i): {} for i in idx}
    along = network.from_m[si] + shapely.line_locate_point(geoms[si], centres[ni])
    for i, s, m in zip(ni.tolist(), si.tolist(), along.tolist(), strict=True):
        if i in routes:
            code = str(network.codes[s])
            routes[i][code] = min(m, routes[i].get(code, m))
    lon, lat = transformer(network.crs, CRS.from_epsg(4326)).transform(cx[idx], cy[idx])
    return Junctions(
        cx[idx],
        cy[idx],
        np.asarray(lon),
        np.asarray(lat),
        approaches[idx],
        [routes[int(i)] for i in idx],
        shapely.STRtree(centres[idx]),
    )


# ----------------------------------------------------------------------------- crashes
@dataclass(slots=True)
class CrashRow:
    """One crash row: typed values, and what was wrong with it."""

    line: int  # its line (CSV) or row (XLSX) number in the file, or the feature number
    raw: dict[str, str]
    crash_id: str = ""
    id_given: bool = False
    empty: bool = False
    occurred_on: dt.date | None = None
    occurred_time: dt.time | None = None
    x: float | None = None
    y: float | None = None
    lon: float | None = None
    lat: float | None = None
    route_code: str | None = None
    chainage_m: float | None = None
    fatalities: int | None = None
    injuries: int | None = None
    serious: int | None = None
    minor: int | None = None
    severity: str | None = None
    crash_type: str | None = None
    weather: str | None = None
    light: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # set by attach()
    road_id: int | None = None
    segment_id: int | None = None
    part: int | None = None
    attached_route: str | None = None
    at_m: float | None = None
    snap_distance_m: float | None = None
    method: str | None = None
    junction: str | None = None  # the node's key (:meth:`Junctions.key`)
    junction_lon: float | None = None
    junction_lat: float | None = None


def attach(
    rows: list[CrashRow],
    network: Network,
    *,
    snap_m: float,
    crs: str | None = None,
    junctions: Junctions | None = None,
    junction_m: float = 0.0,
    chainage_warn_m: float = math.inf,
) -> None:
    """Place each usable crash: with coordinates, on the nearest segment (of its stated route
    when that route is within ``snap_m``, else of any route) within ``snap_m``, else left
    unattached (a 桩号 on the same route more than ``chainage_warn_m`` from where the point
    lies is a warning); with a route code and chainage only, at that chainage. Rows that
    cannot be placed at all get an error (they are rejected)."""
    to_lonlat([r for r in rows if not r.errors], crs)
    pts_rows: list[CrashRow] = []
    for r in rows:
        if r.empty or r.errors:
            continue
        if r.lon is not None and r.lat is not None:
            if crs is None and not _in_china(r.lon, r.lat) and _in_china(r.lat, r.lon):
                r.lon, r.lat = r.lat, r.lon
                r.warnings.append("latitude and longitude were swapped in the file; fixed")
            if not (-180 <= r.lon <= 180 and -90 <= r.lat <= 90):
                hint = (
                    " (they look projected: give the file's coordinate reference system)"
                    if abs(r.lon) > 180 or abs(r.lat) > 180
                    else ""
                )
                r.errors.append(f"coordinates ({r.x}, {r.y}) are outside ±180/±90 degrees{hint}")
                continue
            pts_rows.append(r)
        elif r.route_code and r.chainage_m is not None:
            _at_chainage(r, network)
        else:
            r.errors.append(
                "no usable location: the crash needs coordinates (经度/纬度) or a route code "
                "with a chainage (路线编码 + 桩号)"
            )
    if junctions is not None:
        _at_junctions(rows, network, junctions, junction_m)
    if not pts_rows:
        return
    if not len(network.geoms):
        for r in pts_rows:
            r.method = "unattached"
        return
    lon = np.array([r.lon for r in pts_rows], dtype=float)
    lat = np.array([r.lat for r in pts_rows], dtype=float)
    x, y = transformer(CRS.from_epsg(4326), network.crs).transform(lon, lat)
    pts = shapely.points(x, y)
    qi, qs = network.tree.query(pts, predicate="dwithin", distance=snap_m)
    d = shapely.distance(pts[qi], network.geoms[qs])
    stated = np.array(
        [network.aliases.get(r.route_code or "", r.route_code or "") for r in pts_rows],
        dtype=object,
    )
    nearest = _first_of(qi, qs, d, len(pts_rows))
    on_route = _first_of(qi, qs, d, len(pts_rows), keep=network.codes[qs] == stated[qi])
    for j, r in enumerate(pts_rows):
        best = on_route[j] if on_route[j] >= 0 else nearest[j]
        if best < 0:
            r.method = "unattached"
            continue
        if stated[j] and on_route[j] < 0:
            why = "is not within" if stated[j] in network.by_route else "is not loaded; within"
            r.warnings.append(
                f"route {r.route_code} {why} {snap_m:.0f} m; attached to the nearest route "
                f"({network.codes[qs[best]]})"
            )
        seg = int(qs[best])
        r.method = "coords"
        r.segment_id, r.road_id = int(network.ids[seg]), int(network.road_ids[seg])
        r.part, r.attached_route = int(network.parts[seg]), str(network.codes[seg])
        r.at_m = float(network.from_m[seg]) + float(
            shapely.line_locate_point(network.geoms[seg], pts[j])
        )
        r.snap_distance_m = float(d[best])
        if (
            r.chainage_m is not None
            and on_route[j] >= 0
            and abs(r.at_m - r.chainage_m) > chainage_warn_m
        ):
            r.warnings.append(
                f"桩号 {format_chainage(r.chainage_m)} is {abs(r.at_m - r.chainage_m):.0f} m from "
                f"where the coordinates lie on route {r.attached_route} "
                f"({format_chainage(r.at_m)}): placed by the coordinates; check the 桩号 or "
                "the coordinates"
            )


def _in_china(lon: float, lat: float) -> bool:
    return CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]


def _first_of(
    qi: np.ndarray, qs: np.ndarray, d: np.ndarray, n: int, *, keep: np.ndarray | None = None
) -> np.ndarray:
    """For each of ``n`` points, the position in the (point, segment, distance) pairs of its
    nearest segment (of equals, the first segment), among the pairs ``keep`` allows; -1 when
    it has none."""
    out = np.full(n, -1)
    pos = np.arange(len(qi)) if keep is None else np.flatnonzero(keep)
    if len(pos):
        order = pos[np.lexsort((qs[pos], d[pos], qi[pos]))]
        first = np.ones(len(order), dtype=bool)
        first[1:] = qi[order][1:] != qi[order][:-1]
        out[qi[order][first]] = order[first]
    return out


def _at_chainage(r: CrashRow, network: Network) -> None:
    code = network.aliases.get(r.route_code or "", r.route_code)
    if code not in network.by_route:
        r.errors.append(
            f"route code {r.route_code!r} is not in the road network and the row has no "
            "coordinates; correct the code or give 经度/纬度"
        )
        return
    assert r.chainage_m is not None
    pos = network.by_route[str(code)]
    segs = network.segments.iloc[pos]
    try:
        loc = locate(
            np.asarray(segs.geometry.array, dtype=object),
            segs["from_m"].to_numpy(),
            segs["to_m"].to_numpy(),
            segs["part"].to_numpy(),
            r.chainage_m,
            route=str(code),
        )
    except InputError as exc:
        r.errors.append(exc.message)
        return
    seg = int(pos[loc.segment_index])
    r.method = "route+chainage"
    r.segment_id, r.road_id = int(network.ids[seg]), int(network.road_ids[seg])
    r.part, r.attached_route = int(network.parts[seg]), str(code)
    r.at_m, r.snap_distance_m = r.chainage_m, 0.0
    lon, lat = transformer(network.crs, CRS.from_epsg(4326)).transform(loc.x, loc.y)
    r.lon, r.lat = float(lon), float(lat)


def _at_junctions(
    rows: list[CrashRow], network: Network, junctions: Junctions, junction_m: float
) -> None:
    """Mark the crashes within ``junction_m`` of a junction node as that node's."""
    placed = [r for r in rows if not r.empty and not r.errors and r.lon is not None]
    if not placed or not len(junctions.x):
        return
    lon = np.array([r.lon for r in placed], dtype=float)
    lat = np.array([r.lat for r in placed], dtype=float)
    x, y = transformer(CRS.from_epsg(4326), network.crs).transform(lon, lat)
    node = junctions.nearest(np.asarray(x), np.asarray(y), within_m=junction_m)
    for r, i in zip(placed, node.tolist(), strict=True):
        if i >= 0:
            r.junction = junctions.key(i)
            r.junction_lon, r.junction_lat = float(junctions.lon[i]), float(junctions.lat[i])
