"""The SQL behind the maps: hazards and roads as GeoJSON text built in PostGIS, dossier rows.

GeoJSON is assembled by the database (``json_build_object``/``json_agg``) so that maps of
100,000 hazards need no per-point Python loop; coordinates are rounded to 6 decimals (~0.1 m).
Hazards without a position are not mapped (they are counted by :func:`unplaced_count`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text

from hazards.errors import NotFound

OPEN_STATUSES = ("identified", "review", "planned", "in_progress", "reopened")
DONE_STATUSES = ("reported_done", "verified")


@dataclass(frozen=True)
class HazardFilter:
    """Which hazards a map shows; ``None`` means no restriction on that field."""

    tiers: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    townships: tuple[str, ...] | None = None
    route: str | None = None
    batch_id: int | None = None


def _where(f: HazardFilter) -> tuple[str, dict[str, Any]]:
    """SQL conditions on ``h`` (hazards) and ``r`` (roads) for a filter, with parameters."""
    where = ["h.geom IS NOT NULL"]
    params: dict[str, Any] = {}
    if f.tiers is not None:
        where.append("coalesce(h.tier_override, h.tier, '') = ANY(:tiers)")
        params["tiers"] = list(f.tiers)
    if f.statuses is not None:
        where.append("h.status = ANY(:statuses)")
        params["statuses"] = list(f.statuses)
    if f.townships is not None:
        where.append("r.township = ANY(:townships)")
        params["townships"] = list(f.townships)
    if f.route is not None:
        where.append("r.route_code = :route")
        params["route"] = f.route
    if f.batch_id is not None:
        where.append(
            "EXISTS (SELECT 1 FROM batch_items bi WHERE bi.hazard_id = h.id AND bi.batch_id = :bid)"
        )
        params["bid"] = f.batch_id
    return " AND ".join(where), params


_CHAINAGE = (
    "CASE WHEN h.chainage_m IS NULL THEN NULL ELSE 'K' || (round(h.chainage_m)::bigint / 1000) "
    "|| '+' || lpad((round(h.chainage_m)::bigint % 1000)::text, 3, '0') END"
)

_LAST_EVENT = """
    LEFT JOIN LATERAL (
        SELECT concat_ws(' ', e.happened_on::text, coalesce(e.to_status, e.kind),
                         nullif(e.note, '')) AS text
        FROM hazard_events e WHERE e.hazard_id = h.id
        ORDER BY e.recorded_at DESC, e.id DESC LIMIT 1
    ) ev ON TRUE
    LEFT JOIN LATERAL (
        SELECT b.name FROM batch_items bi JOIN batches b ON b.id = bi.batch_id
        WHERE bi.hazard_id = h.id ORDER BY b.seq DESC, b.id DESC LIMIT 1
    ) bt ON TRUE
"""


def hazard_groups(engine: Engine, flt: HazardFilter) -> list[dict[str, Any]]:
    """Hazards as one GeoJSON FeatureCollection (text) per (tier, status), with counts and bbox.

    Each dict has ``tier`` ('' when unrated), ``status``, ``count``, ``bbox`` (west, south,
    east, north) and ``geojson``. Feature properties: ``id``, ``route``, ``ch`` (K+m),
    ``cat``, ``cat_raw``, ``desc``, ``tier``, ``status``, ``batch``, ``event``, ``cost``;
    null properties are left out.
    """
    where, params = _where(flt)
    sql = f"""
        WITH f AS (
            SELECT coalesce(h.tier_override, h.tier, '') AS tier, h.status, h.geom,
                   json_build_object(
                       'type', 'Feature',
                       'geometry', ST_AsGeoJSON(h.geom, 6)::json,
                       'properties', json_strip_nulls(json_build_object(
                           'id', h.public_id, 'route', r.route_code, 'ch', {_CHAINAGE},
                           'cat', h.category, 'cat_raw', h.category_raw,
                           'desc', nullif(h.description, ''),
                           'tier', coalesce(h.tier_override, h.tier), 'status', h.status,
                           'batch', bt.name, 'event', ev.text,
                           'cost', round(h.estimated_cost_cny)::bigint))
                   ) AS feature
            FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
            {_LAST_EVENT}
            WHERE {where}
            ORDER BY r.route_code, h.chainage_m, h.id
        )
        SELECT tier, status, count(*) AS n,
               ST_XMin(ST_Extent(geom)) AS w, ST_YMin(ST_Extent(geom)) AS s,
               ST_XMax(ST_Extent(geom)) AS e, ST_YMax(ST_Extent(geom)) AS nn,
               json_build_object('type', 'FeatureCollection', 'features', json_agg(feature))::text
                   AS geojson
        FROM f GROUP BY tier, status ORDER BY tier, status
    """
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    return [
        {
            "tier": r.tier,
            "status": r.status,
            "count": int(r.n),
            "bbox": (float(r.w), float(r.s), float(r.e), float(r.nn)),
            "geojson": r.geojson,
        }
        for r in rows
    ]


def unplaced_count(engine: Engine, flt: HazardFilter) -> int:
    """How many hazards match the filter but have no position (and so are not mapped)."""
    where, params = _where(flt)
    where = where.replace("h.geom IS NOT NULL", "h.geom IS NULL", 1)
    sql = f"SELECT count(*) FROM hazards h LEFT JOIN roads r ON r.id = h.road_id WHERE {where}"
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def road_layer(
    engine: Engine,
    *,
    townships: tuple[str, ...] | None = None,
    route: str | None = None,
    batch_id: int | None = None,
    simplify_deg: float = 1e-5,
) -> dict[str, Any]:
    """Routes as a GeoJSON FeatureCollection (text) with hazard counts, worst open tier and
    share remediated; ``count`` and ``bbox`` (None when no road) beside it."""
    where = ["NOT r.unassigned"]
    params: dict[str, Any] = {
        "tol": simplify_deg,
        "open": list(OPEN_STATUSES),
        "done": list(DONE_STATUSES),
    }
    if townships is not None:
        where.append("r.township = ANY(:townships)")
        params["townships"] = list(townships)
    if route is not None:
        where.append("r.route_code = :route")
        params["route"] = route
    if batch_id is not None:
        where.append(
            "r.id IN (SELECT h.road_id FROM hazards h JOIN batch_items bi ON bi.hazard_id = h.id "
            "WHERE bi.batch_id = :bid)"
        )
        params["bid"] = batch_id
    sql = f"""
        WITH g AS (
            SELECT r.id, ST_Collect(ST_SimplifyPreserveTopology(s.geom, :tol)
                                    ORDER BY s.part, s.from_m) AS geom
            FROM roads r JOIN road_segments s ON s.road_id = r.id
            WHERE {" AND ".join(where)} GROUP BY r.id
        ), st AS (
            SELECT h.road_id,
                   count(*) FILTER (WHERE h.status = ANY(:open)) AS n_open,
                   count(*) FILTER (WHERE h.status = ANY(:done)) AS n_done,
                   count(*) FILTER (WHERE h.status <> 'rejected') AS n_all,
                   min(CASE coalesce(h.tier_override, h.tier) WHEN 'I' THEN 1 WHEN 'II' THEN 2
                       WHEN 'III' THEN 3 END) FILTER (WHERE h.status = ANY(:open)) AS worst
            FROM hazards h WHERE h.road_id IN (SELECT id FROM g) GROUP BY h.road_id
        ), feat AS (
            SELECT g.geom, json_build_object(
                'type', 'Feature', 'geometry', ST_AsGeoJSON(g.geom, 6)::json,
                'properties', json_strip_nulls(json_build_object(
                    'route', r.route_code, 'name', r.name, 'township', r.township,
                    'class', r.road_class, 'km', round((r.length_m / 1000.0)::numeric, 2),
                    'open', coalesce(st.n_open, 0), 'done', coalesce(st.n_done, 0),
                    'total', coalesce(st.n_all, 0),
                    'worst', (ARRAY['I', 'II', 'III'])[st.worst],
                    'pct', CASE WHEN st.n_all > 0
                                THEN round(100.0 * st.n_done / st.n_all) END))
            ) AS feature
            FROM g JOIN roads r ON r.id = g.id LEFT JOIN st ON st.road_id = g.id
            ORDER BY r.route_code
        )
        SELECT count(*) AS n, ST_XMin(ST_Extent(geom)) AS w, ST_YMin(ST_Extent(geom)) AS s,
               ST_XMax(ST_Extent(geom)) AS e, ST_YMax(ST_Extent(geom)) AS nn,
               json_build_object('type', 'FeatureCollection', 'features',
                                 coalesce(json_agg(feature), '[]'::json))::text AS geojson
        FROM feat
    """
    with engine.connect() as conn:
        r = conn.execute(text(sql), params).one()
    bbox = None if not r.n else (float(r.w), float(r.s), float(r.e), float(r.nn))
    return {"count": int(r.n), "bbox": bbox, "geojson": r.geojson}


def find_batch(engine: Engine, name: str) -> dict[str, Any]:
    """A batch by name, with its hazard count and total cost; :class:`NotFound` if none."""
    sql = """
        SELECT b.id, b.name, b.plan_name, b.contractor, b.status, b.budget_cny, b.starts_on,
               b.due_on, count(bi.hazard_id) AS hazards, coalesce(sum(bi.cost_cny), 0) AS cost_cny
        FROM batches b LEFT JOIN batch_items bi ON bi.batch_id = b.id
        WHERE b.name = :name GROUP BY b.id ORDER BY b.id LIMIT 1
    """
    with engine.connect() as conn:
        row = conn.execute(text(sql), {"name": name}).mappings().one_or_none()
        if row is None:
            names = conn.execute(text("SELECT name FROM batches ORDER BY seq, id LIMIT 8"))
            known = ", ".join(n for (n,) in names)
    if row is None:
        hint = f" Known batches: {known}." if known else " No batch has been planned yet."
        raise NotFound(f"No batch named {name!r}.{hint}")
    return dict(row)


def road_hazard_rows(engine: Engine, road_id: int) -> pd.DataFrame:
    """The hazards of one road for its dossier table, ordered by chainage."""
    sql = f"""
        SELECT h.public_id AS id, h.chainage_m, {_CHAINAGE} AS chainage,
               coalesce(h.tier_override, h.tier) AS tier, h.status,
               coalesce(h.category_raw, h.category) AS category, h.description,
               bt.name AS batch, ev.text AS last_event, h.estimated_cost_cny AS cost_cny,
               s.part
        FROM hazards h LEFT JOIN road_segments s ON s.id = h.segment_id
        {_LAST_EVENT}
        WHERE h.road_id = :rid
        ORDER BY h.chainage_m NULLS LAST, h.id
    """
    with engine.connect() as conn:
        return pd.read_sql_query(text(sql), conn, params={"rid": road_id})


def road_parts(engine: Engine, road_id: int) -> pd.DataFrame:
    """The chainage ranges covered by a road's segments: ``part``, ``from_m``, ``to_m``."""
    sql = "SELECT part, from_m, to_m FROM road_segments WHERE road_id = :rid ORDER BY part, from_m"
    with engine.connect() as conn:
        return pd.read_sql_query(text(sql), conn, params={"rid": road_id})
