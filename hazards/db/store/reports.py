"""Reports in the store: what the period report (``hazards report``) needs beside the progress
counts of :func:`hazards.db.store.progress_frame`: each route's class, the batches planned by a
date with their budgets, and the re-checks recorded in a period; and the inventory's layers
for the GeoPackage export (``hazards export inventory``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from hazards.db.sql import (
    BATCH_PLANNED_ON,
    COST_SOURCE,
    COUNTY_BATCH,
    COUNTY_HAZARD,
    EFFECTIVE_COST,
    EFFECTIVE_TIER,
    HAZARD_TOWNSHIP,
    PLANNED_BY,
    ROAD_HAZARDS,
    latest_batches,
)
from hazards.settings import county

if TYPE_CHECKING:
    from sqlalchemy import Engine


def route_classes(engine: Engine) -> dict[str, str]:
    """Each route's class by route code (roads without a code left out)."""
    sql = (
        "SELECT route_code, road_class FROM roads WHERE route_code IS NOT NULL AND admin_code = :a"
    )
    with engine.connect() as conn:
        return {r.route_code: r.road_class for r in conn.execute(text(sql), {"a": county()})}


def planned_batches(engine: Engine, *, until: dt.date) -> list[dict[str, Any]]:
    """The batches planned on or before ``until`` (:data:`~hazards.db.sql.PLANNED_BY`: their
    plan's commit dated then or earlier; a batch of no plan, by any event to ``planned`` of its
    hazards).
    In plan and batch order: name, plan, contractor, the batch's amount (``cost_cny``), status,
    and its plan's budget (``plan_budget_cny``; a batch's own ``budget_cny`` is its plan's).
    A plan committed after ``until`` is not listed, whatever hazards it took from earlier
    batches (their earlier planning is theirs)."""
    sql = f"""
        SELECT b.name, b.plan_name, b.contractor, b.cost_cny, b.status,
               p.budget_cny AS plan_budget_cny
        FROM batches b LEFT JOIN plans p ON p.id = b.plan_id
        LEFT JOIN {BATCH_PLANNED_ON} pd ON pd.batch_id = b.id
        WHERE {PLANNED_BY} AND EXISTS (
            SELECT 1 FROM batch_items bi JOIN hazard_events e ON e.hazard_id = bi.hazard_id
            WHERE bi.batch_id = b.id AND e.to_status = 'planned' AND e.happened_on <= :d)
          AND {COUNTY_BATCH}
        ORDER BY b.plan_name, b.seq, b.id
    """
    params = {"d": until, "admin": county()}
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings().all()]


def recheck_counts(engine: Engine, *, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The sites re-checked (a result recorded) from ``start`` to ``end`` inclusive, each once
    with its latest result of the period (a verified site checked again is one site, not two),
    counted per effective tier and result: ``tier``, ``result``, ``n``."""
    sql = f"""
        SELECT {EFFECTIVE_TIER} AS tier, rc.result, count(*) AS n
        FROM (SELECT DISTINCT ON (hazard_id) hazard_id, result FROM rechecks
              WHERE result IS NOT NULL AND checked_on BETWEEN :a AND :b
              ORDER BY hazard_id, checked_on DESC, id DESC) rc
        JOIN hazards h ON h.id = rc.hazard_id LEFT JOIN roads r ON r.id = h.road_id
        WHERE {COUNTY_HAZARD}
        GROUP BY 1, 2 ORDER BY 1, 2
    """
    params = {"a": start, "b": end, "admin": county()}
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings().all()]


_LAYER_SQL = {
    "roads": f"""
        SELECT s.id AS segment_id, r.route_code, r.name, r.road_class, s.township, s.part,
               s.section, s.from_m, s.to_m, s.length_m,
               coalesce(st.n_open, 0) AS open_hazards, coalesce(st.n_done, 0) AS remediated,
               coalesce(st.n_all, 0) AS hazards, st.worst_tier,
               CASE WHEN st.n_all > 0 THEN floor(100.0 * st.n_done / st.n_all)::int END
                   AS pct_remediated,
               st.road_id IS NOT NULL AS surveyed, ST_AsBinary(s.geom) AS wkb
        FROM road_segments s JOIN roads r ON r.id = s.road_id
        LEFT JOIN ({ROAD_HAZARDS}) st ON st.road_id = r.id
        WHERE r.admin_code = :admin
        ORDER BY r.route_code NULLS LAST, s.part, s.from_m, s.id
    """,
    "hazards": f"""
        SELECT h.public_id AS id, r.route_code, h.chainage_m, h.length_m,
               {HAZARD_TOWNSHIP} AS township, h.category, h.description,
               {EFFECTIVE_TIER} AS tier, h.status, {EFFECTIVE_COST} AS cost_cny,
               {COST_SOURCE} AS cost_source, lb.name AS batch, ST_AsBinary(h.geom) AS wkb
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id {latest_batches("lb")}
        WHERE {COUNTY_HAZARD}
        ORDER BY r.route_code NULLS LAST, h.chainage_m NULLS LAST, h.id
    """,
    "batches": f"""
        SELECT b.name, b.plan_name, b.contractor, b.status, b.cost_cny,
               (SELECT p.budget_cny FROM plans p WHERE p.id = b.plan_id) AS plan_budget_cny,
               b.starts_on::text AS starts_on, b.due_on::text AS due_on,
               count(bi.hazard_id) AS hazards,
               ST_AsBinary(ST_Multi(ST_Collect(h.geom))) AS wkb
        FROM batches b LEFT JOIN batch_items bi ON bi.batch_id = b.id
        LEFT JOIN hazards h ON h.id = bi.hazard_id
        WHERE {COUNTY_BATCH}
        GROUP BY b.id ORDER BY b.plan_name, b.seq, b.id
    """,
}


CELL_M = 100.0
"""The cells' length (m): the 100 m cells of route risk (:func:`hazards.scoring.route_ratings`)."""

_CELLS_SQL = """
    WITH c AS (
        SELECT r.id AS road_id, r.route_code, r.road_class, k AS cell,
               k * :m AS from_m, least((k + 1) * :m, r.end_m) AS to_m,
               greatest(1, ceil(r.end_m / :m)::int) AS n
        FROM roads r, generate_series(0, greatest(1, ceil(r.end_m / :m)::int) - 1) AS k
        WHERE NOT r.unassigned AND r.admin_code = :admin
    ), hz AS (
        SELECT h.road_id, least(greatest(floor(h.chainage_m / :m)::int, 0),
                                greatest(1, ceil(r.end_m / :m)::int) - 1) AS cell,
               count(*) AS open_hazards, coalesce(sum(h.score), 0) AS risk,
               min({tier}) AS worst_tier
        FROM hazards h JOIN roads r ON r.id = h.road_id
        WHERE h.status = ANY(:open) AND h.chainage_m IS NOT NULL
        GROUP BY 1, 2
    )
    SELECT c.route_code, c.road_class, c.cell, c.from_m, c.to_m,
           coalesce(hz.open_hazards, 0) AS open_hazards, coalesce(hz.risk, 0) AS risk,
           hz.worst_tier,
           (SELECT ST_AsBinary(ST_Multi(ST_Collect(ST_LineSubstring(s.geom,
                       greatest(0, (c.from_m - s.from_m) / (s.to_m - s.from_m)),
                       least(1, (c.to_m - s.from_m) / (s.to_m - s.from_m))) ORDER BY s.from_m)))
            FROM road_segments s WHERE s.road_id = c.road_id AND s.to_m > s.from_m
              AND s.from_m < c.to_m AND s.to_m > c.from_m) AS wkb
    FROM c LEFT JOIN hz ON hz.road_id = c.road_id AND hz.cell = c.cell
    ORDER BY c.route_code NULLS LAST, c.road_id, c.cell
""".replace("{tier}", EFFECTIVE_TIER)

_CRASHES_SQL = """
    SELECT c.crash_id, c.source, c.occurred_on::text AS occurred_on, c.severity, c.fatalities,
           c.injuries, c.crash_type, c.route_code, c.chainage_m, c.junction,
           ST_AsBinary(c.geom) AS wkb
    FROM crashes c WHERE c.admin_code = :admin ORDER BY c.occurred_on, c.source, c.crash_id
"""

_EXTENTS_SQL = f"""
    SELECT h.public_id AS id, r.route_code, h.from_m, h.to_m, h.length_m, h.category,
           {EFFECTIVE_TIER} AS tier, h.status, ST_AsBinary(ST_Transform(h.extent, 4326)) AS wkb
    FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
    WHERE h.extent IS NOT NULL AND {COUNTY_HAZARD}
    ORDER BY r.route_code NULLS LAST, h.from_m NULLS LAST, h.id
"""


def has_hazard_extents(engine: Engine) -> bool:
    """Whether the hazards table has the ``extent`` column of linear hazards (migration 0009)
    and at least one hazard with an extent."""
    sql = (
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'hazards' AND column_name = 'extent'"
    )
    with engine.connect() as conn:
        if conn.execute(text(sql)).first() is None:
            return False
        return (
            conn.execute(text("SELECT 1 FROM hazards WHERE extent IS NOT NULL LIMIT 1")).first()
            is not None
        )


def _frame(conn: Any, sql: str, params: dict[str, Any] | None = None) -> Any:
    import geopandas as gpd
    import pandas as pd
    import shapely

    frame = pd.read_sql(text(sql), conn, params=params)
    wkb = frame.pop("wkb").to_numpy()
    geoms = shapely.from_wkb([bytes(w) if w is not None else None for w in wkb])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=4326)


def inventory_layers(engine: Engine) -> dict[str, Any]:
    """The inventory as GeoDataFrames in EPSG:4326 (the stored CRS): ``roads`` (one feature per
    road segment, with its route, class, township and chainage range), ``hazards`` (points; the
    effective tier and cost, the latest batch, the segment's township; none lost: a hazard with
    no place has no geometry), ``batches`` (the points of their hazards as one multipoint),
    ``cells`` (the 100 m cells of every route, with their open hazards, risk and worst open
    tier; the piece of road under each), and when there are any, ``hazard_extents`` (the runs
    of linear hazards) and ``crashes``; the county's (:data:`~hazards.db.sql.COUNTY_HAZARD`,
    :data:`~hazards.db.sql.COUNTY_BATCH`, its roads and crashes)."""
    from hazards.vocabulary import OPEN_STATUSES

    out = {}
    admin = {"admin": county()}
    with engine.connect() as conn:
        for name, sql in _LAYER_SQL.items():
            out[name] = _frame(conn, sql, admin)
        cells = {"m": CELL_M, "open": list(OPEN_STATUSES), **admin}
        out["cells"] = _frame(conn, _CELLS_SQL, cells)
        if has_crashes(engine):
            out["crashes"] = _frame(conn, _CRASHES_SQL, admin)
    if has_hazard_extents(engine):
        with engine.connect() as conn:
            out["hazard_extents"] = _frame(conn, _EXTENTS_SQL, admin)
    return out


def inventory_counts(engine: Engine) -> dict[str, int]:
    """How many road segments, hazards, batches, 100 m cells (``ceil(end / 100)`` per route, at
    least one), crashes and hazards with an extent the database holds."""
    admin = {"admin": county(), "m": CELL_M}
    hazards = f"hazards h LEFT JOIN roads r ON r.id = h.road_id WHERE {COUNTY_HAZARD}"
    counted = {  # the county's, as inventory_layers reads them
        "roads": "road_segments s JOIN roads r ON r.id = s.road_id WHERE r.admin_code = :admin",
        "hazards": hazards,
        "batches": f"batches b WHERE {COUNTY_BATCH}",
        "crashes": "crashes c WHERE c.admin_code = :admin",
        "cells": "(SELECT greatest(1, ceil(end_m / :m)::int) AS n FROM roads "
        "WHERE NOT unassigned AND admin_code = :admin) c",
    }
    with engine.connect() as conn:
        out = {
            t: int(
                conn.execute(
                    text(
                        f"SELECT {'coalesce(sum(n), 0)' if t == 'cells' else 'count(*)'} FROM {f}"
                    ),
                    admin,
                ).scalar_one()
            )
            for t, f in counted.items()
        }
    if has_hazard_extents(engine):
        with engine.connect() as conn:
            sql = f"SELECT count(*) FROM {hazards} AND h.extent IS NOT NULL"
            out["hazard_extents"] = int(conn.execute(text(sql), admin).scalar_one())
    return out


def has_crashes(engine: Engine) -> bool:
    """Whether any crash record of the county is stored."""
    sql = "SELECT 1 FROM crashes WHERE admin_code = :a LIMIT 1"
    with engine.connect() as conn:
        return conn.execute(text(sql), {"a": county()}).first() is not None


def crashes_until(engine: Engine) -> dt.date | None:
    """The day of the newest crash stored (what the crash figures of a later period lack)."""
    with engine.connect() as conn:
        sql = "SELECT max(occurred_on) FROM crashes WHERE admin_code = :a"
        day: dt.date | None = conn.execute(text(sql), {"a": county()}).scalar()
        return day


def crash_counts(engine: Engine, *, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Crashes that happened from ``start`` to ``end`` inclusive, per class of the road they are
    attached to (``unattached`` when none) and severity (``""`` when unknown): ``class``,
    ``severity``, ``n``, ``fatalities``, ``injuries``."""
    sql = """
        SELECT coalesce(r.road_class, 'unattached') AS class, coalesce(c.severity, '') AS severity,
               count(*) AS n, coalesce(sum(c.fatalities), 0) AS fatalities,
               coalesce(sum(c.injuries), 0) AS injuries
        FROM crashes c LEFT JOIN roads r ON r.id = c.road_id
        WHERE c.occurred_on BETWEEN :a AND :b AND c.admin_code = :admin
        GROUP BY 1, 2 ORDER BY 1, 2
    """
    params = {"a": start, "b": end, "admin": county()}
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings().all()]
