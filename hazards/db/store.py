"""The only module that runs SQL: reading and writing the inventory in PostGIS."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from sqlalchemy import Engine, text

from hazards.db.session import get_engine
from hazards.errors import ConfigError, NotFound


def server_versions(engine: Engine | None = None) -> dict[str, str]:
    """PostgreSQL and PostGIS versions of the database in use."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    return {"PostgreSQL": str(pg).split()[0], "PostGIS": str(postgis)}


def get_metadata(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT value FROM metadata WHERE key = :k"), {"k": key}
        ).scalar_one_or_none()


def set_metadata(engine: Engine, key: str, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO metadata (key, value) VALUES (:k, :v) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"
            ),
            {"k": key, "v": value},
        )


# ----------------------------------------------------------------------------- working CRS
WORKING_CRS_KEY = "working_crs"


def working_crs(engine: Engine) -> CRS | None:
    """The database's working metric CRS, or None before the first road load."""
    value = get_metadata(engine, WORKING_CRS_KEY)
    return None if value is None else CRS.from_user_input(value)


def choose_and_record_working_crs(engine: Engine, data: gpd.GeoDataFrame) -> CRS:
    """Choose the working CRS for ``data`` (setting, else GK3/UTM zone of its centre), record it."""
    from hazards.crs import choose_working_crs, crs_label, parse_crs
    from hazards.settings import get_settings

    configured = get_settings().working_crs
    if configured:
        crs = parse_crs(configured, what="working_crs")
        if not crs.is_projected:
            raise ConfigError(
                f"working_crs {configured!r} is not a projected (metric) CRS. Use a UTM or "
                "Gauss-Krüger zone, e.g. EPSG:4546."
            )
    else:
        bounds = data.to_crs(4326).total_bounds
        lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        crs = choose_working_crs(data.crs, lon, lat)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO metadata (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING"
            ),
            {"k": WORKING_CRS_KEY, "v": crs_label(crs)},
        )
    return working_crs(engine) or crs


# ----------------------------------------------------------------------------- roads
def route_checksums(engine: Engine, *, admin_code: str = "") -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT route_code, checksum FROM roads WHERE admin_code = :a"), {"a": admin_code}
        ).all()
    return {r.route_code: r.checksum for r in rows}


def write_routes(
    engine: Engine,
    roads: pd.DataFrame,
    segments: gpd.GeoDataFrame,
    *,
    source: str,
    replace: bool = True,
    admin_code: str = "",
) -> None:
    """Insert routes and their segments (lon/lat); with ``replace``, same-code routes go first.

    Segments are streamed with COPY; everything is one transaction.
    """
    if segments.crs is None or segments.crs.to_epsg() != 4326:
        raise ValueError("segments must be in EPSG:4326")
    with engine.begin() as conn:
        if replace:
            conn.execute(
                text("DELETE FROM roads WHERE admin_code = :a AND route_code = ANY(:codes)"),
                {"a": admin_code, "codes": list(roads["code"])},
            )
        ids: dict[str, int] = {}
        for r in roads.itertuples():
            ids[r.code] = conn.execute(
                text(
                    "INSERT INTO roads (admin_code, route_code, name, road_class, township, "
                    "length_m, end_m, gap_m, parts, has_gap, has_branch, unassigned, source, "
                    "checksum) VALUES (:a, :code, :name, :cls, :town, :len, :end, :gap, :parts, "
                    ":has_gap, :has_branch, :un, :src, :ck) RETURNING id"
                ),
                {
                    "a": admin_code, "code": r.code, "name": r.name, "cls": r.road_class,
                    "town": r.township, "len": float(r.length_m), "end": float(r.end_m),
                    "gap": float(r.gap_m), "parts": int(r.parts), "has_gap": bool(r.has_gap),
                    "has_branch": bool(r.has_branch), "un": bool(r.unassigned), "src": source,
                    "ck": r.checksum,
                },
            ).scalar_one()
        wkb = shapely.to_wkb(np.asarray(segments.geometry.array, dtype=object), hex=True, include_srid=False)
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(
            "COPY road_segments (admin_code, road_id, seq, part, from_m, to_m, length_m, "
            "source_row, source_file, geom) FROM STDIN"
        ) as copy:
            for s, g in zip(segments.itertuples(), wkb, strict=True):
                copy.write_row(
                    (admin_code, ids[s.code], int(s.seq), int(s.part), float(s.from_m),
                     float(s.to_m), float(s.length_m), int(s.row), source, f"SRID=4326;{g}")
                )


def road_summary(engine: Engine, *, by: str = "class", admin_code: str = "") -> dict[str, Any]:
    """Routes, segments and km per class (or township) and in total."""
    key = {"class": "r.road_class", "township": "coalesce(r.township, '')"}[by]
    sql = f"""
        SELECT {key} AS grp, count(DISTINCT r.id) AS routes, count(s.id) AS segments,
               coalesce(sum(s.length_m), 0) / 1000.0 AS length_km
        FROM roads r JOIN road_segments s ON s.road_id = r.id
        WHERE r.admin_code = :a AND NOT r.unassigned
        GROUP BY 1 ORDER BY 1
    """
    unassigned_sql = """
        SELECT count(s.id) AS segments, coalesce(sum(s.length_m), 0) / 1000.0 AS length_km
        FROM roads r JOIN road_segments s ON s.road_id = r.id
        WHERE r.admin_code = :a AND r.unassigned
    """
    with engine.connect() as conn:
        rows = conn.execute(text(sql), {"a": admin_code}).all()
        un = conn.execute(text(unassigned_sql), {"a": admin_code}).one()
    label = "class" if by == "class" else "township"
    groups: list[dict[str, Any]] = [
        {label: r.grp if r.grp != "" else None, "routes": int(r.routes),
         "segments": int(r.segments), "length_km": round(float(r.length_km), 3)}
        for r in rows
    ]
    total_routes = sum(g["routes"] for g in groups)
    total_segments = sum(g["segments"] for g in groups)
    total_km = sum(float(r.length_km) for r in rows)
    return {
        "classes" if by == "class" else "townships": groups,
        "total": {"routes": total_routes, "segments": total_segments, "length_km": round(total_km, 3)},
        "unassigned_segments": int(un.segments),
        "unassigned_length_km": round(float(un.length_km), 3),
    }


def get_road(engine: Engine, code: str, *, admin_code: str = "") -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM roads WHERE admin_code = :a AND route_code = :c"),
            {"a": admin_code, "c": code},
        ).mappings().one_or_none()
        if row is None:
            near = conn.execute(
                text(
                    "SELECT route_code FROM roads WHERE admin_code = :a AND NOT unassigned AND "
                    "route_code ILIKE :p ORDER BY route_code LIMIT 5"
                ),
                {"a": admin_code, "c": code, "p": f"%{code.strip()[-3:]}%"},
            ).scalars().all()
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise NotFound(
                f"No road with route code {code!r} is loaded.{hint} "
                "`hazards roads summary` lists what is loaded."
            )
    return dict(row)


def route_segments(engine: Engine, road_id: int) -> gpd.GeoDataFrame:
    """A route's segments in lon/lat, ordered by part and chainage."""
    sql = (
        "SELECT id, seq, part, from_m, to_m, length_m, source_row, geom FROM road_segments "
        "WHERE road_id = %(rid)s ORDER BY part, from_m, seq"
    )
    with engine.connect() as conn:
        return gpd.read_postgis(sql, conn, geom_col="geom", params={"rid": road_id})
