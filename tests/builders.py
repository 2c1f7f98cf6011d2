"""Builders of small synthetic road data for the tests, with independently known answers.

Lines are made in CGCS2000 lon/lat around Yuanjiang (112.35E, 28.85N); their true lengths are
computed here with pyproj's geodesic (GRS80), never with the code under test.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import Geod
from shapely.geometry import LineString

GEOD = Geod(ellps="GRS80")
LON0, LAT0 = 112.35, 28.85


def curvy_line(
    start: tuple[float, float],
    *,
    n: int = 120,
    step_m: float = 25.0,
    seed: int = 0,
    heading: float = 60.0,
) -> LineString:
    """A smooth, curvy lon/lat line of about n * step_m metres."""
    rng = np.random.default_rng(seed)
    lon, lat = start
    pts = [(lon, lat)]
    h = heading
    turn = 0.0
    for _ in range(n):
        turn = 0.85 * turn + rng.normal(0, 2.0)
        h += turn
        lon, lat, _ = GEOD.fwd(lon, lat, h, step_m)
        pts.append((lon, lat))
    return LineString(pts)


def geodesic_length(line: LineString) -> float:
    return float(GEOD.geometry_length(line))


def split(line: LineString, at: list[int]) -> list[LineString]:
    """Split a line at vertex indices (pieces share the cut vertex)."""
    coords = list(line.coords)
    marks = [0, *at, len(coords) - 1]
    return [LineString(coords[a : b + 1]) for a, b in zip(marks[:-1], marks[1:], strict=True)]


def network() -> dict:
    """A little network: what to write to a file, and the true answers.

    - X001: one line cut into 3 pieces, the middle one digitised backwards;
    - Y002: a line with vertices 40..48 missing (a gap), in 2 pieces;
    - Y003: a main line in 2 pieces and a spur leaving at vertex 50 of the main line;
    - one feature without a route code.
    """
    x1 = curvy_line((LON0, LAT0), n=160, seed=1)
    p = split(x1, [50, 110])
    x1_pieces = [p[0], LineString(list(p[1].coords)[::-1]), p[2]]
    y2 = curvy_line((LON0 + 0.05, LAT0 + 0.02), n=100, seed=2, heading=10)
    c = list(y2.coords)
    y2_pieces = [LineString(c[:41]), LineString(c[48:])]
    gap_m = GEOD.inv(*c[40], *c[48])[2]
    y3 = curvy_line((LON0 - 0.05, LAT0 - 0.03), n=100, seed=3, heading=100)
    c3 = list(y3.coords)
    spur = curvy_line(c3[50], n=20, seed=4, heading=190)
    y3_pieces = [LineString(c3[:71]), LineString(c3[70:]), spur]
    un = curvy_line((LON0 + 0.1, LAT0 - 0.05), n=30, seed=5)
    features = []
    for code, name, cls, town, pieces in [
        ("X001", "城关—南大膳", "县道", "琼湖街道", x1_pieces),
        ("Y002", "草尾—新沙", "乡道", "草尾镇", y2_pieces),
        ("Y003", "共华—大通湖", "乡道", "共华镇", y3_pieces),
        ("", "无名村道", "村道", "南嘴镇", [un]),
    ]:
        for piece in pieces:
            features.append(
                {
                    "路线编码": code,
                    "路线名称": name,
                    "行政等级": cls,
                    "乡镇": town,
                    "geometry": piece,
                }
            )
    return {
        "features": features,
        "lines": {"X001": x1, "Y002": y2, "Y003": y3},
        "lengths": {
            "X001": geodesic_length(x1),
            "Y002": sum(geodesic_length(q) for q in y2_pieces),
            "Y003": geodesic_length(y3) + geodesic_length(spur),
        },
        "unassigned_length": geodesic_length(un),
        "gap_m": gap_m,
        "y3_junction_m": geodesic_length(LineString(c3[:51])),
        "y3_spur_m": geodesic_length(spur),
        "x1_vertex_80": (x1.coords[80], geodesic_length(LineString(list(x1.coords)[:81]))),
    }


def frame(features: list[dict], crs: str | int = 4490):  # type: ignore[no-untyped-def]
    import geopandas as gpd

    return gpd.GeoDataFrame(features, geometry="geometry", crs=4490).to_crs(crs)


def along(line: LineString, metres: float) -> tuple[float, float]:
    """The lon/lat point ``metres`` (geodesic) along a lon/lat line."""
    coords = list(line.coords)
    done = 0.0
    for (a, b), (c, d) in zip(coords[:-1], coords[1:], strict=True):
        az, _, step = GEOD.inv(a, b, c, d)
        if done + step >= metres:
            lon, lat, _ = GEOD.fwd(a, b, az, metres - done)
            return lon, lat
        done += step
    return coords[-1]


def offset_from_vertex(
    line: LineString, k: int, metres: float
) -> tuple[tuple[float, float], float]:
    """A point ``metres`` to the left of vertex ``k``, and the vertex's geodesic chainage."""
    coords = list(line.coords)
    az = GEOD.inv(*coords[k], *coords[k + 1])[0]
    lon, lat, _ = GEOD.fwd(*coords[k], az - 90, metres)
    return (lon, lat), geodesic_length(LineString(coords[: k + 1]))


def load_county(  # type: ignore[no-untyped-def]
    engine,
    folder,
    features: list[dict],
    survey: list[list[str]],
    statuses: dict[str, str],
) -> None:
    """A small county in ``engine``: ``features`` (EPSG:4546) loaded as roads, the survey
    ``survey`` (header row first) imported, and the hazards of the survey rows named in
    ``statuses`` (序号 → status) set to that status."""
    import csv

    from sqlalchemy import text

    from hazards.intake import import_survey
    from hazards.roads import load_roads

    roads = folder / "roads.gpkg"
    frame(features, "EPSG:4546").to_file(roads, engine="pyogrio")
    load_roads(roads, engine=engine)
    path = folder / "survey.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(survey)
    import_survey(path, provider="p", surveyed_on="2025-03-01", engine=engine)
    with engine.begin() as conn:
        for row, status in statuses.items():
            conn.execute(
                text("UPDATE hazards SET status = :s WHERE provider_row_id = :r"),
                {"s": status, "r": row},
            )


def route_frame(
    pieces: list[tuple[str, LineString]], crs: str | None = "EPSG:4546"
) -> gpd.GeoDataFrame:
    """Route pieces (code, metric line) as a validated features frame: row, code, name, class,
    township, unassigned."""
    return gpd.GeoDataFrame(
        {
            "row": np.arange(1, len(pieces) + 1),
            "code": [c for c, _ in pieces],
            "name": [f"{c} road" for c, _ in pieces],
            "road_class": "county",
            "township": [f"town {i % 2}" for i in range(len(pieces))],
            "unassigned": False,
        },
        geometry=gpd.GeoSeries([g for _, g in pieces], crs=crs),
    )
