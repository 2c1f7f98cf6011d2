"""Survey rows → places on the road network (the ``reconcile`` step).

Every parsed row ends in exactly one bucket: ``accepted``, ``review``, ``rejected``,
``duplicate`` or ``empty``, with the reason. The rules (distances from settings):

- coordinates and a route code: nearest segment of that route; ≤ accept → accepted,
  ≤ review → review, farther → rejected; much nearer another route → review (conflict);
- coordinates, no route code: nearest segment of any route, same bands; two routes within
  the accept distance → review (ambiguous);
- route code and chainage, no coordinates: the point at that chainage (outside the route's
  range → rejected);
- both: stated and measured chainage differing by more than ``chainage_review_m`` → review;
- a route code not in the network: with coordinates within the review distance of a road →
  review, naming the nearest route; otherwise rejected;
- unusable coordinates with no route + chainage, or a point farther than ``match_outside_m``
  from every road → rejected;
- duplicates (:mod:`hazards.duplicates`): same route (and part), within ``duplicate_m``, and
  the same original category text (or both blank with the same description): points
  compared, never extents;
- linear hazards (起点桩号/止点桩号, or 长度 around the point): a stated range beyond the
  route part → rejected; a range from 长度 is centred on the point and cut at the part's ends.
Nearest segments are found with shapely's STRtree, in the working metric CRS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from hazards.chainage import END_SLACK_M, format_chainage, locate, stake_text
from hazards.crs import likely_fix, parse_crs, to_crs, transformer
from hazards.duplicates import Kept as Kept
from hazards.duplicates import mark_duplicates
from hazards.errors import InputError
from hazards.settings import Settings, get_settings
from hazards.survey import ParsedRow

CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)


@dataclass(slots=True)
class Match:
    """Where one survey row went, and why."""

    line: int
    status: str  # accepted | review | rejected | duplicate | empty
    reason: str | None = None
    reason_key: str | None = None  # short key of the reason, for the import's accounting
    route_code: str | None = None
    road_id: int | None = None
    segment_id: int | None = None
    part: int | None = None
    chainage_m: float | None = None
    snap_distance_m: float | None = None
    match_method: str | None = None
    lon: float | None = None
    lat: float | None = None
    from_m: float | None = None  # a linear hazard's chainage range on the route (part)
    to_m: float | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Network:
    """The road network in the working CRS, ready for matching (columns as numpy arrays)."""

    segments: gpd.GeoDataFrame  # id, road_id, route_code, part, from_m, to_m, geometry
    crs: CRS
    tree: shapely.STRtree
    by_route: dict[str, np.ndarray]  # route code -> positions of its segments
    geoms: np.ndarray
    ids: np.ndarray
    road_ids: np.ndarray
    codes: np.ndarray
    parts: np.ndarray
    from_m: np.ndarray
    # issue 14: route aliases (alias -> code) and each segment's township (None: not known)
    aliases: dict[str, str] = field(default_factory=dict)
    townships: np.ndarray | None = None
    names: dict[str, str] = field(default_factory=dict)  # route code -> the network's name
    # the route codes, each once, and each segment's route as its position there: routes are
    # compared as numbers, not strings
    route_index: pd.Index = field(default_factory=lambda: pd.Index([], dtype=object))
    code_nos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def from_segments(cls, segments: gpd.GeoDataFrame, crs: CRS) -> Network:
        # The aliases and names ride in attrs, which pandas deep-copies into every frame made
        # from this one (seconds for a province's 50,000 routes): read them, then work without.
        attrs, segments.attrs = segments.attrs, {}
        try:
            segs = to_crs(segments, crs).reset_index(drop=True)
        finally:
            segments.attrs = attrs
        geoms = np.asarray(segs.geometry.array, dtype=object)
        codes = segs["route_code"].astype(str).to_numpy()
        code_nos, code_list = pd.factorize(codes)
        by_route = (
            {str(k): np.asarray(v) for k, v in segs.groupby("route_code").indices.items()}
            if len(segs)
            else {}
        )
        return cls(
            segs,
            crs,
            shapely.STRtree(geoms),
            by_route,
            geoms,
            segs["id"].to_numpy(),
            segs["road_id"].to_numpy(),
            codes,
            segs["part"].to_numpy(),
            segs["from_m"].to_numpy(dtype=float),
            dict(attrs.get("route_aliases", {})),
            segs["township"].to_numpy(dtype=object) if "township" in segs else None,
            dict(attrs.get("route_names", {})),
            pd.Index(code_list, dtype=object),
            code_nos.astype(np.int64),
        )


_LONLAT_NAMES = ("wgs84", "cgcs2000", "epsg:4326", "epsg:4490")  # lon/lat as they are
_GCJ_NAMES = ("gcj02", "gcj-02", "gcj")  # phone apps' offset lon/lat


def check_point_crs(crs: str | None) -> None:
    """Refuse, before anything is read, a ``crs`` :func:`to_lonlat` could not use."""
    if crs is not None and crs.lower() not in (*_LONLAT_NAMES, *_GCJ_NAMES):
        parse_crs(crs)


def to_lonlat(rows: Sequence[Any], crs: str | None) -> None:
    """Fill ``lon``/``lat`` of ``rows`` (survey or crash rows: anything with ``x``, ``y``,
    ``lon``, ``lat``) from the parsed ``x``/``y`` in the input CRS (or GCJ-02)."""
    have = [r for r in rows if r.x is not None and r.y is not None]
    if not have:
        return
    if crs is None or crs.lower() in _LONLAT_NAMES:
        for r in have:
            r.lon, r.lat = r.x, r.y
        return
    if crs.lower() in _GCJ_NAMES:
        import prcoords

        for r in have:
            wgs = prcoords.gcj_wgs_bored((float(r.y), float(r.x)))
            r.lon, r.lat = wgs.lon, wgs.lat
        return
    src = parse_crs(crs)
    xs = np.array([r.x for r in have], dtype=float)
    ys = np.array([r.y for r in have], dtype=float)
    lon, lat = transformer(src, CRS.from_epsg(4326)).transform(xs, ys)
    for r, a, b in zip(have, lon, lat, strict=True):
        r.lon, r.lat = float(a), float(b)


ZERO_POINT = "coordinates 0, 0 are no place (what a GPS without a fix writes): ignored"
"""The warning of a row whose coordinates are 0, 0: it is placed by its route and 桩号."""


def _in_china(lon: float, lat: float) -> bool:
    return CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]


def reconcile(
    rows: list[ParsedRow],
    network: Network,
    *,
    crs: str | None = None,
    settings: Settings | None = None,
    kept: Kept | None = None,
    line_word: str = "line",
) -> list[Match]:
    """Match every row onto the network; one :class:`Match` per row, in order.

    ``kept`` carries the duplicate check from one chunk of a sheet to the next: pass the same
    one with every chunk. ``line_word`` names a row's place in the file in the reasons
    (``line`` of a CSV, ``row`` of a sheet). The same as :func:`start` then :func:`finish`.
    """
    started = start(rows, network, crs=crs, settings=settings)
    return finish(started, network, settings=settings, kept=kept, line_word=line_word)


@dataclass
class Started:
    """A chunk matched up to the search for each point's nearest segments (:func:`start`)."""

    rows: list[ParsedRow]
    matches: list[Match]
    by_chainage: list[int]
    unknown: set[int]  # rows with a point whose route code is not in the network
    near: Future[Nearest] | Nearest | None  # what _nearest found, or will

    def searched(self) -> Nearest | None:
        """What the search found, once it is done (waiting for it if it still runs)."""
        if isinstance(self.near, Future):
            self.near = self.near.result()
        return self.near


def start(
    rows: list[ParsedRow],
    network: Network,
    *,
    crs: str | None = None,
    settings: Settings | None = None,
    submit: Callable[..., Future[Nearest]] | None = None,
) -> Started:
    """The first half of :func:`reconcile`: each row sorted by how it can be placed, and the
    search for the points' nearest segments, run by ``submit`` (an executor's) when given:
    that search is mostly C code that lets the caller's thread go on meanwhile (e.g. with
    :func:`finish` of the chunk before). The chunks must then be finished in order."""
    s = settings or get_settings()
    to_lonlat(rows, crs)
    matches: list[Match] = []
    # Candidate points (lon/lat), with a swapped alternative where the order looks wrong.
    todo: list[tuple[int, float, float, bool]] = []
    by_chainage: list[int] = []
    unknown: set[int] = set()  # rows with coordinates whose route code is not in the network
    for k, r in enumerate(rows):
        r.route_code = network.aliases.get(r.route_code or "", r.route_code)  # alias -> code
        m = Match(line=r.line, status="pending", route_code=r.route_code)
        matches.append(m)
        if r.empty:
            m.status, m.reason = "empty", "empty row"
            continue
        blank = r.lon is not None and r.x == 0 and r.y == 0  # a GPS with no fix writes 0, 0
        if blank:
            r.lon = r.lat = None
            r.warnings = [*r.warnings, ZERO_POINT]
        if r.route_code is not None and r.route_code not in network.by_route:
            if r.lon is not None and r.lat is not None:
                unknown.add(k)  # placed by position, then sent to review (_unknown_route)
            else:
                m.status, m.reason_key = "rejected", "unknown_route"
                m.reason = (
                    f"route code {r.route_code!r} is not in the road network; correct the code "
                    "(or leave it empty to match by position)"
                )
                continue
        if r.lon is not None and r.lat is not None:
            lon, lat = r.lon, r.lat
            swapped = False
            if crs is None and not _in_china(lon, lat) and _in_china(lat, lon):
                lon, lat, swapped = lat, lon, True
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                if abs(r.x or 0) > 180 or abs(r.y or 0) > 180:
                    m.status, m.reason_key = "rejected", "bad_coordinates"
                    m.reason = f"coordinates ({r.x}, {r.y}) look projected, not degrees; " + (
                        "give the file's coordinate reference system when importing it (e.g. "
                        "EPSG:4546)"
                        if crs is None
                        else f"they are not in the CRS given ({crs}). "
                        + (likely_fix(parse_crs(crs), (r.x or 0, r.y or 0) * 2) or "Check it.")
                    )
                    continue
                outside = f"coordinates ({r.x}, {r.y}) are outside ±180/±90 degrees"
                if not (r.route_code in network.by_route and r.chainage_m is not None):
                    m.status, m.reason_key, m.reason = "rejected", "bad_coordinates", outside
                    continue
                # a typo in one of them (128° for 28°): placed by its route and 桩号, as a
                # row whose coordinates cannot be read, the typo said
                r.errors = [*r.errors, outside]
                by_chainage.append(k)
                continue
            todo.append((k, lon, lat, swapped))
        elif r.errors and not (r.route_code and r.chainage_m is not None):
            m.status, m.reason, m.reason_key = "rejected", "; ".join(r.errors), "unparsable"
        elif r.route_code and r.chainage_m is not None:
            by_chainage.append(k)
        else:
            m.status, m.reason_key = "rejected", "no_location"
            m.reason = (
                "no usable location: the row needs coordinates (经度/纬度) or a route code with "
                "a chainage (路线编码 + 桩号)" + (f" ({ZERO_POINT})" if blank else "")
            )
    near: Future[Nearest] | Nearest | None = None
    if todo:
        args = (rows, todo, network, s, unknown)
        near = submit(_nearest, *args) if submit is not None else _nearest(*args)
    return Started(rows, matches, by_chainage, unknown, near)


def finish(
    started: Started,
    network: Network,
    *,
    settings: Settings | None = None,
    kept: Kept | None = None,
    line_word: str = "line",
) -> list[Match]:
    """The second half of :func:`reconcile` (see there and :func:`start`): the matches."""
    s = settings or get_settings()
    rows, matches, unknown = started.rows, started.matches, started.unknown
    if started.by_chainage:
        _by_chainage(rows, matches, started.by_chainage, network)
    near = started.searched()
    if near is not None:
        _by_coordinates(rows, matches, near, s)
    for k in unknown:
        _unknown_route(rows[k], matches[k], s)
    _extents(rows, matches, network)
    mark_duplicates(
        rows,
        matches,
        duplicate_m=s.duplicate_m,
        kept=Kept() if kept is None else kept,
        line_word=line_word,
    )
    _check_townships(rows, matches, network)
    return matches


def _check_townships(rows: list[ParsedRow], matches: list[Match], network: Network) -> None:
    """Warn where the survey's 乡镇 differs from the township of the segment a row lands on
    (the hazard's township is the segment's; the survey's value stays in its raw row)."""
    if network.townships is None or not any(r.township for r in rows):
        return
    town_of = dict(zip(network.ids.tolist(), network.townships.tolist(), strict=True))
    for r, m in zip(rows, matches, strict=True):
        seg_town = town_of.get(m.segment_id) if m.segment_id is not None else None
        if r.township and seg_town and r.township.strip() != seg_town:
            m.warnings.append(
                f"乡镇 {r.township} differs from the township of the road segment here "
                f"({seg_town}); the hazard is counted in {seg_town}"
            )


def _unknown_route(r: ParsedRow, m: Match, s: Settings) -> None:
    """A row whose route code is not in the network, placed by its coordinates: near a road,
    to review naming the nearest route; else rejected as an unknown route."""
    code = r.route_code
    if m.status in ("accepted", "review"):
        m.status, m.reason_key = "review", "unknown_route"
        m.reason = (
            f"route code {code!r} is not in the road network; the point is "
            f"{m.snap_distance_m:.0f} m from route {m.route_code}: accept it there, or correct "
            "the code"
        )
    elif m.reason_key in ("too_far", "outside_network"):
        m.reason_key = "unknown_route"
        m.reason = (
            f"route code {code!r} is not in the road network and the point is not within "
            f"{s.match_review_m:.0f} m of a road ({m.reason}); correct the code or the coordinates"
        )


def _by_chainage(
    rows: list[ParsedRow], matches: list[Match], ks: list[int], network: Network
) -> None:
    """Rows with a route code and a chainage but no coordinates: the point at that chainage.
    Rows are taken route by route, and their points turned to lon/lat in one call."""
    placed: list[tuple[int, float, float]] = []
    codes = np.array([rows[k].route_code for k in ks], dtype=object)
    for code, sel in pd.Series(ks).groupby(codes).groups.items():
        pos = network.by_route[str(code)]
        segs = network.segments.iloc[pos]
        geoms = np.asarray(segs.geometry.array, dtype=object)
        from_m, to_m, parts = (
            segs["from_m"].to_numpy(),
            segs["to_m"].to_numpy(),
            segs["part"].to_numpy(),
        )
        for k in (ks[i] for i in sel):
            r, m = rows[k], matches[k]
            assert r.chainage_m is not None
            try:
                loc = locate(geoms, from_m, to_m, parts, r.chainage_m, route=str(code))
            except InputError as exc:
                m.status, m.reason, m.reason_key = "rejected", exc.message, "chainage_out_of_range"
                if r.at_middle and r.from_m is not None and r.to_m is not None:
                    m.reason_key = "range_out_of_route"
                    m.reason = (
                        f"起点桩号/止点桩号 {stake_text(r.from_m)}–{stake_text(r.to_m)} "
                        f"run beyond route {code} ({exc.message.split(': ', 1)[-1].rstrip('.')}); correct "
                        "the chainages or the route code"
                    )
                if r.errors:  # what else is wrong with the row (unreadable coordinates...)
                    m.reason = "; ".join([m.reason, *r.errors])
                continue
            j = pos[loc.segment_index]
            m.status, m.match_method = "accepted", "route+chainage"
            m.road_id, m.segment_id, m.part = (
                int(network.road_ids[j]),
                int(network.ids[j]),
                int(network.parts[j]),
            )
            m.chainage_m, m.snap_distance_m = loc.chainage_m, 0.0
            if loc.in_gap:
                m.warnings.append(
                    "the chainage falls in a gap of the road data; placed on the straight line over it"
                )
            # what could not be read (coordinates, a range) is said, as for a row placed by
            # its coordinates (_by_coordinates): the row was placed without it, by its 桩号
            m.warnings.extend(
                f"{e}; placed by its route and 桩号" if e.startswith("coordinates (") else e
                for e in r.errors
            )
            placed.append((k, loc.x, loc.y))
    if placed:
        xy = np.array([(x, y) for _, x, y in placed], dtype=float)
        lon, lat = transformer(network.crs, CRS.from_epsg(4326)).transform(xy[:, 0], xy[:, 1])
        for (k, _, _), a, b in zip(placed, lon.tolist(), lat.tolist(), strict=True):
            matches[k].lon, matches[k].lat = a, b


@dataclass(slots=True)
class Nearest:
    """What :func:`_nearest` found for each row with a point (``idx``: the rows), as Python
    lists: an element of a numpy array is a numpy scalar, several times slower to read."""

    idx: list[int]
    lon: list[float]
    lat: list[float]
    swapped: list[bool]
    on_network: list[bool]  # within match_outside_m of a road
    chain: list[float]  # chainage on the chosen segment
    d_use: list[float]  # distance to the chosen segment
    use_route: list[bool]  # the chosen segment is of the stated route
    route_d: list[float]  # distance to the stated route's nearest segment
    nearest_d: list[float]  # distance to the nearest segment of any route
    code: list[Any]  # the chosen segment's route code, road id, segment id and part
    road_id: list[int]
    segment_id: list[int]
    part: list[int]
    other_code: list[Any]  # the route of the nearest segment of any route
    near_pairs: dict[int, list[str]]  # point → the routes within match_accept_m, when several


def _nearest(
    rows: list[ParsedRow],
    todo: list[tuple[int, float, float, bool]],
    network: Network,
    s: Settings,
    unknown: set[int],
) -> Nearest:
    """Rows with coordinates: the nearest segment (of the stated route, when it has one that
    is in the network; ``unknown``: rows whose code is not, matched by position), as lists
    for :func:`_by_coordinates`. Mostly shapely's and numpy's C code, which lets other threads
    run meanwhile."""
    idx = np.array([t[0] for t in todo])
    lon = np.array([t[1] for t in todo])
    lat = np.array([t[2] for t in todo])
    swapped = np.array([t[3] for t in todo])
    x, y = transformer(CRS.from_epsg(4326), network.crs).transform(lon, lat)
    pts = shapely.points(x, y)
    n = len(pts)
    codes = network.codes
    stated = np.array(
        [(rows[k].route_code or "") if k not in unknown else "" for k in idx.tolist()],
        dtype=object,
    )
    # Every segment within the review distance, from one tree query with the points in
    # Hilbert order (neighbours in the array are neighbours on the ground: the tree's pages
    # stay in cache); the nearest of any route and of the stated route are picked from these.
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    order = (
        finite[np.argsort(gpd.GeoSeries(pts[finite]).hilbert_distance().to_numpy(), kind="stable")]
        if len(finite)
        else finite
    )
    qi, qs = network.tree.query(
        pts[order], predicate="dwithin", distance=max(s.match_review_m, s.match_accept_m)
    )
    qi = order[qi]
    qd = shapely.distance(pts[qi], network.geoms[qs])
    nearest_seg, nearest_d = _nearest_of_pairs(qi, qs, qd, n)
    stated_no = network.route_index.get_indexer(stated)  # -1: no code, or not in the network
    on_route = network.code_nos[qs] == stated_no[qi]
    route_seg, route_d = _nearest_of_pairs(qi[on_route], qs[on_route], qd[on_route], n)
    # Farther points: the nearest road anywhere (its distance goes into the message) ...
    beyond = finite[nearest_seg[finite] < 0]
    if len(beyond):
        (fi, fs), fd = network.tree.query_nearest(
            pts[beyond], return_distance=True, all_matches=False
        )
        nearest_seg[beyond[fi]] = fs
        nearest_d[beyond[fi]] = fd
    # ... and the nearest segment of the stated route, one distance matrix per route.
    with_code = np.flatnonzero((stated != "") & (route_seg < 0))
    for code, sel in pd.Series(with_code).groupby(stated[with_code]).groups.items():  # one pass
        sel = with_code[np.asarray(sel)]
        pos = network.by_route[str(code)]
        d = shapely.distance(pts[sel][:, None], network.geoms[pos][None, :])
        best = np.argmin(d, axis=1)
        route_seg[sel] = pos[best]
        route_d[sel] = d[np.arange(len(sel)), best]
    # Routes within the accept distance of each point (for ambiguity without a code).
    near_pairs = {}
    close = qd <= s.match_accept_m
    if close.any():
        near = pd.DataFrame({"p": qi[close], "code": codes[qs[close]]}).drop_duplicates()
        several = near[near["p"].map(near["p"].value_counts()) > 1]
        near_pairs = {int(p): sorted(g) for p, g in several.groupby("p")["code"]}
    use_route = stated != ""
    seg = np.where(use_route, route_seg, nearest_seg)
    d_use = np.where(use_route, route_d, nearest_d)
    on_network = np.isfinite(x) & np.isfinite(y) & (nearest_d <= s.match_outside_m)
    chain = np.full(n, np.nan)
    chain[on_network] = network.from_m[seg[on_network]] + shapely.line_locate_point(
        network.geoms[seg[on_network]], pts[on_network]
    )
    lon_, lat_, swapped_ = lon.tolist(), lat.tolist(), swapped.tolist()
    on_network_, chain_ = on_network.tolist(), chain.tolist()
    d_use_, use_route_, route_d_ = d_use.tolist(), use_route.tolist(), route_d.tolist()
    nearest_d_ = nearest_d.tolist()
    # each row's segment's route, road, id and part, looked up at once (not per row)
    at = np.where(seg >= 0, seg, 0)
    code_, road_, id_ = codes[at].tolist(), network.road_ids[at].tolist(), network.ids[at].tolist()
    part_ = network.parts[at].tolist()
    other_ = codes[np.where(nearest_seg >= 0, nearest_seg, 0)].tolist()
    return Nearest(
        idx.tolist(), lon_, lat_, swapped_, on_network_, chain_, d_use_, use_route_, route_d_,
        nearest_d_, code_, road_, id_, part_, other_, near_pairs,
    )  # fmt: skip


def _by_coordinates(
    rows: list[ParsedRow], matches: list[Match], near: Nearest, s: Settings
) -> None:
    """Place the rows with coordinates from what :func:`_nearest` found."""
    lon_, lat_, swapped_, on_network_ = near.lon, near.lat, near.swapped, near.on_network
    chain_, d_use_, use_route_, route_d_ = near.chain, near.d_use, near.use_route, near.route_d
    nearest_d_, code_, road_, id_ = near.nearest_d, near.code, near.road_id, near.segment_id
    part_, other_, near_pairs = near.part, near.other_code, near.near_pairs
    for j, k in enumerate(near.idx):
        r, m = rows[k], matches[k]
        m.lon, m.lat = float(lon_[j]), float(lat_[j])
        if swapped_[j]:
            m.warnings.append("latitude and longitude were swapped in the sheet; fixed")
        if not on_network_[j]:
            m.status, m.reason_key = "rejected", "outside_network"
            far = f"{nearest_d_[j] / 1000:.1f} km" if np.isfinite(nearest_d_[j]) else "far"
            m.reason = (
                f"the point is {far} from the nearest road, outside the "
                "network; check the coordinates"
            )
            if swapped_[j]:
                m.reason += " (they also look swapped, and do not land on the network either way)"
            continue
        m.route_code, m.road_id, m.segment_id = str(code_[j]), int(road_[j]), int(id_[j])
        m.part, m.chainage_m, m.snap_distance_m = int(part_[j]), chain_[j], d_use_[j]
        if use_route_[j]:
            m.match_method = "coords+route"
            band_of = f"route {r.route_code}"
            other_code = str(other_[j])
            if (  # on another road (within review of it) rather than on the one stated
                other_code != r.route_code
                and route_d_[j] > s.match_conflict_ratio * nearest_d_[j]
                and route_d_[j] - nearest_d_[j] > s.match_conflict_min_m
                and nearest_d_[j] <= s.match_review_m
            ):
                m.status, m.reason_key = "review", "conflict"
                m.reason = (
                    f"conflict: the point is {nearest_d_[j]:.0f} m from route {other_code} but "
                    f"{route_d_[j]:.0f} m from the stated route {r.route_code}"
                )
                continue
        else:
            m.match_method = "coords"
            band_of = f"the nearest road ({code_[j]})"
            if j in near_pairs:
                m.status, m.reason_key = "review", "ambiguous"
                m.reason = (
                    f"ambiguous: routes {', '.join(near_pairs[j])} are all within "
                    f"{s.match_accept_m:.0f} m and the row has no route code"
                )
                continue
        if d_use_[j] <= s.match_accept_m:
            m.status = "accepted"
        elif d_use_[j] <= s.match_review_m:
            m.status, m.reason_key = "review", "distance"
            m.reason = f"{d_use_[j]:.0f} m from {band_of} (accepted up to {s.match_accept_m:.0f} m)"
        else:
            m.status, m.reason_key = "rejected", "too_far"
            m.reason = (
                f"{d_use_[j]:.0f} m from {band_of}, beyond the {s.match_review_m:.0f} m limit; "
                "check the coordinates and the route code"
            )
            continue
        if r.chainage_m is not None and m.chainage_m is not None:
            m.match_method += "+chainage"
            diff = abs(r.chainage_m - m.chainage_m)
            if r.at_middle and r.from_m is not None and r.to_m is not None:  # within the range
                diff = max(r.from_m - m.chainage_m, m.chainage_m - r.to_m, 0.0)
            if diff > s.chainage_review_m and m.status == "accepted":
                m.status, m.reason_key = "review", "chainage_mismatch"
                m.reason = (
                    f"stated chainage {format_chainage(r.chainage_m)} and measured "
                    f"{format_chainage(m.chainage_m)} differ by {diff:.0f} m"
                )
        if r.errors:
            m.warnings.extend(r.errors)


def _extents(rows: list[ParsedRow], matches: list[Match], network: Network) -> None:
    """The chainage range of linear hazards, on the route part each row was placed on.

    A stated range (起点桩号/止点桩号) must lie on the part: a row whose range runs beyond it
    is rejected. A 长度 with a single point (a 桩号, or coordinates) is centred on that point
    and cut at the part's ends, with a warning. ``chainage_m`` stays the point (the middle of
    a stated range placed by chainage)."""
    ranges: dict[tuple[str, int], tuple[float, float]] = {}
    for r, m in zip(rows, matches, strict=True):
        if m.status not in ("accepted", "review") or m.route_code is None or m.chainage_m is None:
            continue
        if r.from_m is None and not r.length_m:
            continue
        key = (m.route_code, m.part or 0)
        if key not in ranges:
            pos = network.by_route[m.route_code]
            on = pos[network.parts[pos] == key[1]]
            ranges[key] = (
                float(network.from_m[on].min()),
                float(network.segments["to_m"].to_numpy()[on].max()),
            )
        lo, hi = ranges[key]
        where = f"route {m.route_code}" + (f" part {key[1]}" if key[1] else "")
        if r.from_m is not None and r.to_m is not None:
            if r.from_m < lo - END_SLACK_M or r.to_m > hi + END_SLACK_M:
                m.status, m.reason_key = "rejected", "range_out_of_route"
                m.reason = (
                    f"起点桩号/止点桩号 {stake_text(r.from_m)}–{stake_text(r.to_m)} "
                    f"run beyond {where}, which runs from {stake_text(lo)} to "
                    f"{stake_text(hi)}; correct the chainages or the route code"
                )
                continue
            m.from_m, m.to_m = max(r.from_m, lo), min(r.to_m, hi)
            continue
        assert r.length_m is not None
        half = r.length_m / 2
        m.from_m, m.to_m = max(m.chainage_m - half, lo), min(m.chainage_m + half, hi)
        if m.to_m - m.from_m < r.length_m - 0.5:
            ends = ["start"] * (m.chainage_m - half < lo) + ["end"] * (m.chainage_m + half > hi)
            m.warnings.append(
                f"the {r.length_m:g} m section centred on {format_chainage(m.chainage_m)} runs "
                f"past the {' and the '.join(ends)} of {where}; cut to {m.to_m - m.from_m:.0f} m"
            )
        if m.to_m - m.from_m < 0.5:
            m.from_m = m.to_m = None


def _nearest_of_pairs(
    pi: np.ndarray, si: np.ndarray, d: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``n`` points, the segment of the (point, segment, distance) pairs nearest
    to it: -1 and inf where it has none. Of equally near segments (a point off the outside of
    a bend, or off a junction) the first in the network's order wins."""
    seg = np.full(n, -1)
    dist = np.full(n, np.inf)
    if len(pi):
        best = np.lexsort((si, d, pi))
        first = np.ones(len(best), dtype=bool)
        first[1:] = pi[best][1:] != pi[best][:-1]
        b = best[first]
        seg[pi[b]] = si[b]
        dist[pi[b]] = d[b]
    return seg, dist


def place(m: Match, network: Network, seg: int, chainage_m: float, d: float) -> None:
    """Put ``m`` on segment ``seg`` (its route, road and part) at ``chainage_m``, ``d`` metres
    from the row's point."""
    m.route_code = str(network.codes[seg])
    m.road_id, m.segment_id, m.part = (
        int(network.road_ids[seg]),
        int(network.ids[seg]),
        int(network.parts[seg]),
    )
    m.chainage_m = chainage_m
    m.snap_distance_m = d
