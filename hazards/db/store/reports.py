"""Reports in the store: what the period report (``hazards report``) needs beside the progress
counts of :func:`hazards.db.store.progress_frame`: each route's class, the batches planned by a
date with their budgets, and the re-checks recorded in a period; and the inventory's layers
for the GeoPackage export (``hazards export inventory``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from hazards.db.sql import (
    COST_SOURCE,
    EFFECTIVE_COST,
    EFFECTIVE_TIER,
    HAZARD_TOWNSHIP,
    latest_batches,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine


def route_classes(engine: Engine) -> dict[str, str]:
    """Each route's class by route code (roads without a code left out)."""
    sql = "SELECT route_code, road_class FROM roads WHERE route_code IS NOT NULL"
    with engine.connect() as conn:
        return {r.route_code: r.road_class for r in conn.execute(text(sql))}


def planned_batches(engine: Engine, *, until: dt.date) -> list[dict[str, Any]]:
    """The batches at least one of whose hazards had been planned on or before ``until`` (an
    event to ``planned`` dated then or earlier), in plan and batch order: name, plan, contractor,
    the batch's amount (``cost_cny``), status, and its plan's budget (``plan_budget_cny``; a
    batch's own ``budget_cny`` is its plan's)."""
    sql = """
        SELECT b.name, b.plan_name, b.contractor, b.cost_cny, b.status,
               (SELECT p.budget_cny FROM plans p WHERE p.id = b.plan_id) AS plan_budget_cny
        FROM batches b
        WHERE EXISTS (SELECT 1 FROM batch_items bi JOIN hazard_events e ON e.hazard_id = bi.hazard_id
                      WHERE bi.batch_id = b.id AND e.to_status = 'planned' AND e.happened_on <= :d)
        ORDER BY b.plan_name, b.seq, b.id
    """
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), {"d": until}).mappings().all()]


def recheck_counts(engine: Engine, *, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Re-checks recorded (with a result) from ``start`` to ``end`` inclusive, counted per
    effective tier and result: ``tier``, ``result``, ``n``."""
    sql = f"""
        SELECT {EFFECTIVE_TIER} AS tier, rc.result, count(*) AS n
        FROM rechecks rc JOIN hazards h ON h.id = rc.hazard_id
        WHERE rc.result IS NOT NULL AND rc.checked_on BETWEEN :a AND :b
        GROUP BY 1, 2 ORDER BY 1, 2
    """
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), {"a": start, "b": end}).mappings().all()]


_LAYER_SQL = {
    "roads": """
        SELECT s.id AS segment_id, r.route_code, r.name, r.road_class, s.township, s.part,
               s.section, s.from_m, s.to_m, s.length_m, ST_AsBinary(s.geom) AS wkb
        FROM road_segments s JOIN roads r ON r.id = s.road_id
        ORDER BY r.route_code NULLS LAST, s.part, s.from_m, s.id
    """,
    "hazards": f"""
        SELECT h.public_id AS id, r.route_code, h.chainage_m, h.length_m,
               {HAZARD_TOWNSHIP} AS township, h.category, h.description,
               {EFFECTIVE_TIER} AS tier, h.status, {EFFECTIVE_COST} AS cost_cny,
               {COST_SOURCE} AS cost_source, lb.name AS batch, ST_AsBinary(h.geom) AS wkb
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id {latest_batches("lb")}
        ORDER BY r.route_code NULLS LAST, h.chainage_m NULLS LAST, h.id
    """,
    "batches": """
        SELECT b.name, b.plan_name, b.contractor, b.status, b.cost_cny,
               (SELECT p.budget_cny FROM plans p WHERE p.id = b.plan_id) AS plan_budget_cny,
               b.starts_on::text AS starts_on, b.due_on::text AS due_on,
               count(bi.hazard_id) AS hazards,
               ST_AsBinary(ST_Multi(ST_Collect(h.geom))) AS wkb
        FROM batches b LEFT JOIN batch_items bi ON bi.batch_id = b.id
        LEFT JOIN hazards h ON h.id = bi.hazard_id
        GROUP BY b.id ORDER BY b.plan_name, b.seq, b.id
    """,
}


def inventory_layers(engine: Engine) -> dict[str, Any]:
    """The inventory as GeoDataFrames in EPSG:4326 (the stored CRS): ``roads`` (one feature per
    road segment, with its route, class, township and chainage range), ``hazards`` (points; the
    effective tier and cost, the latest batch, the segment's township; none lost: a hazard with
    no place has no geometry) and ``batches`` (the points of their hazards as one multipoint)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    out = {}
    with engine.connect() as conn:
        for name, sql in _LAYER_SQL.items():
            frame = pd.read_sql(text(sql), conn)
            wkb = frame.pop("wkb").to_numpy()
            geoms = shapely.from_wkb([bytes(w) if w is not None else None for w in wkb])
            out[name] = gpd.GeoDataFrame(frame, geometry=geoms, crs=4326)
    return out


def inventory_counts(engine: Engine) -> dict[str, int]:
    """How many road segments, hazards and batches the database holds."""
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for t, table in (
                ("roads", "road_segments"),
                ("hazards", "hazards"),
                ("batches", "batches"),
            )
        }
