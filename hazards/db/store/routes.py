"""Routes read back from the store: a route's segments (as a GeoDataFrame, or as plain arrays for
the commands that must start at once), the whole network, a route's townships and the network's.

SQLAlchemy is imported inside the functions: :func:`quick_route_lines` reads over a plain
psycopg connection, so ``chainage locate`` does not load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from hazards.settings import county

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg
    from sqlalchemy import Engine


def route_townships(engine: Engine, road_id: int) -> list[str]:
    """The townships a route crosses, in chainage order (from its segments)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT township FROM road_segments WHERE road_id = :r AND township IS NOT NULL "
                    "GROUP BY township ORDER BY min(part), min(from_m)"
                ),
                {"r": road_id},
            )
            .scalars()
            .all()
        )


def township_spans(
    engine: Engine, names: tuple[str, ...], *, admin_code: str | None = None
) -> dict[tuple[str, int], list[tuple[float, float]]]:
    """Where the roads run through the townships ``names``: (route code, part) → its chainage
    ranges there (from its segments)."""
    admin_code = county(admin_code)
    from sqlalchemy import text

    sql = (
        "SELECT r.route_code, s.part, s.from_m, s.to_m FROM road_segments s JOIN roads r "
        "ON r.id = s.road_id WHERE r.admin_code = :a AND s.township = ANY(:t)"
    )
    out: dict[tuple[str, int], list[tuple[float, float]]] = {}
    with engine.connect() as conn:
        for code, part, lo, hi in conn.execute(text(sql), {"a": admin_code, "t": list(names)}):
            out.setdefault((code, int(part)), []).append((float(lo), float(hi)))
    return out


def townships(engine: Engine, *, admin_code: str | None = None) -> list[str]:
    """Every township of the county's road network (of its segments), sorted."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT DISTINCT s.township FROM road_segments s JOIN roads r "
                    "ON r.id = s.road_id WHERE r.admin_code = :a AND s.township IS NOT NULL "
                    "ORDER BY 1"
                ),
                {"a": county(admin_code)},
            )
            .scalars()
            .all()
        )


def route_segments(engine: Engine, road_id: int) -> gpd.GeoDataFrame:
    """A route's segments in lon/lat, ordered by part and chainage."""
    import geopandas as gpd

    sql = (
        "SELECT id, seq, part, section, from_m, to_m, length_m, source_row, township, geom "
        "FROM road_segments "
        "WHERE road_id = %(rid)s ORDER BY part, from_m, seq"
    )
    with engine.connect() as conn:
        return gpd.read_postgis(sql, conn, geom_col="geom", params={"rid": road_id})


def route_lines(engine: Engine, road_id: int) -> dict[str, np.ndarray]:
    """A route's segments in lon/lat as arrays (``geometry`` shapely lines, ``from_m``, ``to_m``,
    ``part``), ordered by part and chainage: :func:`route_segments` without pandas, for the
    commands that must start at once (``chainage locate``, ``chainage measure``)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text(_LINES_SQL.format(rid=":rid")), {"rid": road_id}).all()
    return _lines(rows)


_LINES_SQL = (
    "SELECT ST_AsBinary(geom), from_m, to_m, part FROM road_segments "
    "WHERE road_id = {rid} ORDER BY part, from_m, seq"
)

# The lookup of store.roads.get_road (the route itself, else the route an alias names, of the
# county) in one statement; tests/test_chainage.py checks that both find the same routes.
_ROAD_SQL = (
    "SELECT id, route_code FROM roads WHERE admin_code = %(a)s AND route_code = COALESCE(("
    "SELECT a.route_code FROM route_aliases a WHERE a.admin_code = %(a)s AND a.alias = %(c)s "
    "AND NOT EXISTS (SELECT 1 FROM roads r WHERE r.admin_code = %(a)s AND r.route_code = %(c)s)"
    "), %(c)s)"
)


def quick_route_lines(
    conn: psycopg.Connection[Any], code: str, *, admin_code: str | None = None
) -> tuple[dict[str, Any], str, dict[str, np.ndarray]] | None:
    """The road (``id``, ``route_code``) of the normalised route code ``code`` (or the route an
    alias of it names) of the county (``admin_code``, else the setting), the recorded working CRS (its text) and :func:`route_lines`, read over
    a plain psycopg connection (:func:`hazards.db.session.quick_connection`), without
    SQLAlchemy. None when the route is not found, no working CRS is recorded or the database
    says no: the caller then takes the ordinary path, whose errors say what is wrong."""
    import psycopg

    try:
        road = conn.execute(_ROAD_SQL, {"a": county(admin_code), "c": code}).fetchone()
        # the key of store.roads.WORKING_CRS_KEY (that module loads SQLAlchemy)
        crs = conn.execute("SELECT value FROM metadata WHERE key = 'working_crs'").fetchone()
        if road is None or crs is None:
            return None
        rows = conn.execute(_LINES_SQL.format(rid="%(rid)s"), {"rid": road[0]}).fetchall()
    except psycopg.Error:
        return None
    return {"id": road[0], "route_code": road[1]}, str(crs[0]), _lines(rows)


def _lines(rows: Any) -> dict[str, np.ndarray]:
    """:func:`route_lines`'s arrays from its query's rows."""
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    return {
        "geometry": shapely.from_wkb(np.asarray(columns[0], dtype=object)),
        "from_m": np.asarray(columns[1], dtype=float),
        "to_m": np.asarray(columns[2], dtype=float),
        "part": np.asarray(columns[3], dtype=np.int64),
    }


def network_segments(
    engine: Engine, *, road_id: int | None = None, admin_code: str | None = None
) -> gpd.GeoDataFrame:
    """Every road segment (or one road's) with its route code and township, in lon/lat; the
    route aliases (alias → route code) ride along in ``attrs["route_aliases"]``, the routes'
    names (route code → name) in ``attrs["route_names"]``."""
    admin_code = county(admin_code)
    import geopandas as gpd
    import pandas as pd
    from sqlalchemy import text

    from hazards.db.store.roads import alias_map

    sql = (
        "SELECT s.id, s.road_id, r.route_code, s.part, s.from_m, s.to_m, s.township, "
        "ST_AsBinary(s.geom) AS wkb "
        "FROM road_segments s JOIN roads r ON r.id = s.road_id "
        "WHERE r.admin_code = %s AND (%s::int IS NULL OR s.road_id = %s::int) ORDER BY s.id"
    )
    with engine.connect() as conn:
        # in binary (WKB as bytes, not hex) over the driver's cursor, the columns made here
        # rather than by pandas' read_sql: at 500,000 segments 2.9 s against 4.3-4.7 s
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor(binary=True) as cur:
            cur.execute(sql, (admin_code, road_id, road_id))
            names = [d.name for d in cur.description or ()][:-1]  # and the WKB
            rows = cur.fetchall()
        aliases = alias_map(conn, admin_code=admin_code)
        names_of = conn.execute(
            text("SELECT route_code, name FROM roads WHERE admin_code = :a AND name <> ''"),
            {"a": admin_code},
        ).all()
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * (len(names) + 1)
    wkb = np.array(columns.pop(), dtype=object)
    frame = pd.DataFrame(
        {n: _numbers(c) if n in _NUMBERS else list(c) for n, c in zip(names, columns, strict=True)},
        dtype=None if rows else object,
    )
    # WKB decoded in one vectorised call (read_postgis decodes row by row)
    geoms = shapely.from_wkb(wkb)
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=4326))
    out.attrs["route_aliases"] = aliases
    out.attrs["route_names"] = {str(code): str(name) for code, name in names_of}
    return out


_NUMBERS = frozenset(("id", "road_id", "part", "from_m", "to_m"))


def _numbers(values: Any) -> Any:
    """A column of numbers as a numpy array, or as a list (for pandas to type, as it would
    have) when it holds a NULL."""
    array = np.array(values)
    return array if array.dtype.kind in "iuf" else list(values)


# ----------------------------------------------------------------------------- aliases


def unassigned_like(
    engine: Engine,
    lines: dict[str, bytes],
    *,
    srid: int,
    within_m: float,
    admin_code: str | None = None,
) -> dict[str, str]:
    """For each line of a file without a route code (``lines``: its ``U-`` code → its WKB in the
    working CRS ``srid``), the unassigned road loaded before that is the same line within
    ``within_m`` (the Hausdorff distance between the line and that road's segments, in the
    working CRS), or of which the line is a piece (it lies within ``within_m`` of that road
    all along: the road delivered cut in two): ``{its code: the road's code}``, the nearest
    first. A line already loaded under its own code is not asked for, nor given to."""
    admin_code = county(admin_code)
    from sqlalchemy import text

    if not lines:
        return {}
    sql = """
        WITH inc AS (
            SELECT c AS code, ST_SetSRID(ST_GeomFromWKB(w), :srid) AS g
            FROM unnest(CAST(:codes AS text[]), CAST(:wkbs AS bytea[])) AS t(c, w)
        ), near AS (
            SELECT DISTINCT inc.code, s.road_id FROM inc
            JOIN road_segments s
              ON s.geom && ST_Transform(ST_Expand(inc.g, :tol), 4326)
        )
        SELECT code, route_code, d FROM (
            SELECT near.code, r.route_code, i.g,
                   ST_Transform(ST_Collect(s.geom ORDER BY s.seq), :srid) AS old
            FROM near
            JOIN inc i ON i.code = near.code
            JOIN roads r ON r.id = near.road_id AND r.unassigned AND r.admin_code = :a
            JOIN road_segments s ON s.road_id = r.id
            GROUP BY near.code, i.g, r.route_code
        ) m, LATERAL (SELECT ST_HausdorffDistance(m.g, m.old) AS d) h
        WHERE h.d <= :tol OR ST_Covers(ST_Buffer(m.old, :tol), m.g)
        ORDER BY d, code
    """
    with engine.connect() as conn:
        none_yet = "SELECT NOT EXISTS (SELECT 1 FROM roads WHERE unassigned AND admin_code = :a)"
        if conn.execute(text(none_yet), {"a": admin_code}).scalar_one():  # a first load
            return {}
        known = {
            c
            for (c,) in conn.execute(
                text("SELECT route_code FROM roads WHERE admin_code = :a AND route_code = ANY(:c)"),
                {"a": admin_code, "c": list(lines)},
            )
        }
        ask = {c: w for c, w in lines.items() if c not in known}
        if not ask:
            return {}
        rows = conn.execute(
            text(sql),
            {
                "codes": list(ask),
                "wkbs": list(ask.values()),
                "srid": srid,
                "tol": within_m,
                "a": admin_code,
            },
        ).all()
    out: dict[str, str] = {}
    for code, road, _d in rows:  # nearest first; several lines may be pieces of one road
        if code not in out and road not in known:
            out[code] = road
    return out
