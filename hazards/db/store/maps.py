"""Maps in the store: hazards as rows for column encoding, roads as GeoJSON text built in
PostGIS, dossier rows.

Hazards come as one row each with integer micro-degree coordinates (6 decimals, ~0.1 m) and the
public id already split into prefix and number, so that :mod:`hazards.mapping` encodes 100,000
of them as columns with numpy/pandas and no per-point Python loop. Roads are GeoJSON assembled
by the database (``json_build_object``/``json_agg``). Hazards without a position are not
mapped (they are counted by :func:`unplaced_count`). Tier, cost, latest batch, last event and
chainage text come from :mod:`hazards.db.sql`, as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import text

from hazards.db.sql import (
    CHAINAGE_TEXT,
    COST_SOURCE,
    COUNTY_HAZARD,
    COUNTY_ROW,
    EFFECTIVE_COST,
    EFFECTIVE_TIER,
    HAZARD_TOWNSHIP,
    IN_TOWNSHIPS,
    last_event,
    latest_batch,
)
from hazards.db.store.counties import not_here
from hazards.errors import NotFound
from hazards.settings import county
from hazards.vocabulary import DONE_STATUSES, OPEN_STATUSES, TIERS

if TYPE_CHECKING:
    from sqlalchemy import Engine


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
    where = ["h.geom IS NOT NULL", COUNTY_HAZARD]  # the county's
    params: dict[str, Any] = {"admin": county()}
    if f.tiers is not None:
        where.append(f"coalesce({EFFECTIVE_TIER}, '') = ANY(:tiers)")
        params["tiers"] = list(f.tiers)
    if f.statuses is not None:
        where.append("h.status = ANY(:statuses)")
        params["statuses"] = list(f.statuses)
    if f.townships is not None:
        where.append(IN_TOWNSHIPS)
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


_EVENT_AND_BATCH = f"{last_event('ev')} {latest_batch('bt')}"


def hazard_columns(engine: Engine, flt: HazardFilter) -> pd.DataFrame:
    """The placed hazards matching ``flt`` as one row each, ready to be encoded as columns.

    Ordered by route, chainage and id, so that neighbours on a road follow each other (small
    coordinate deltas). Columns: ``tier`` ('' when unrated), ``status``, ``x``/``y`` (integer
    micro-degrees of longitude/latitude, i.e. 6 decimals), the public id split into
    ``id_prefix``, ``id_width`` and ``id_num`` (its trailing digits, at most 15, as a number;
    width 0 and number 0 when it has none), ``route``, ``ch`` (chainage in whole metres),
    ``cat``, ``cat_raw``, ``descr`` (null when empty), ``batch`` (latest), the last event as
    ``ev_day``, ``ev_what`` (new status or kind) and ``ev_note`` (the popup joins them with
    spaces), ``cost`` (the effective cost, whole yuan) and ``cost_src`` (``survey`` or
    ``library``, :data:`~hazards.vocabulary.COST_SOURCES`); for a linear hazard ``ch_from`` and
    ``ch_to`` (its chainage range, whole metres) and ``extent`` (its run along the road,
    GeoJSON LineString text, 6 decimals), null for a point; ``photo`` (the stored photo
    references, for :func:`hazards.photos.publish_photos`).
    """
    where, params = _where(flt)
    sql = f"""
        SELECT coalesce({EFFECTIVE_TIER}, '') AS tier, h.status,
               round(ST_X(h.geom) * 1e6)::bigint AS x, round(ST_Y(h.geom) * 1e6)::bigint AS y,
               left(h.public_id, length(h.public_id) - length(coalesce(d.digits, '')))
                   AS id_prefix,
               coalesce(length(d.digits), 0) AS id_width,
               coalesce(d.digits::bigint, 0) AS id_num,
               r.route_code AS route, round(h.chainage_m)::bigint AS ch,
               h.category AS cat, h.category_raw AS cat_raw,
               nullif(h.description, '') AS descr, bt.name AS batch,
               ev.day AS ev_day, ev.what AS ev_what, ev.note AS ev_note,
               round({EFFECTIVE_COST})::bigint AS cost, {COST_SOURCE} AS cost_src,
               round(h.from_m)::bigint AS ch_from, round(h.to_m)::bigint AS ch_to,
               ST_AsGeoJSON(h.extent, 6) AS extent, h.photo
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
        CROSS JOIN LATERAL (SELECT substring(h.public_id FROM '[0-9]{{1,15}}$') AS digits) d
        {_EVENT_AND_BATCH}
        WHERE {where}
        ORDER BY r.route_code, h.chainage_m, h.id
    """
    with engine.connect() as conn:
        conn.execute(text("SET LOCAL work_mem = '64MB'"))  # sort 100k wide rows in memory
        frame = pd.read_sql_query(text(sql), conn, params=params)
    for col in ("x", "y", "id_width", "id_num"):
        frame[col] = frame[col].astype("int64")
    for col in ("ch", "cost", "ch_from", "ch_to"):
        frame[col] = frame[col].astype("Int64")
    return frame


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
    share remediated; ``count`` and ``bbox`` (None when no road) beside it.

    Each feature's geometry is a MultiLineString of its segments in (part, from_m) order, and
    its ``parts`` property lists them in the same order as ``[part, from_m, to_m]`` (so the page
    can find a chainage); ``surveyed`` is false for a road with no hazard ever recorded on it
    (rejected ones included): the maps draw it as "not surveyed", not as "nothing open"."""
    where = ["TRUE"]  # every road, those without a route code (U-…) too
    params: dict[str, Any] = {
        "tol": simplify_deg,
        "open": list(OPEN_STATUSES),
        "done": list(DONE_STATUSES),
        "tiers": list(TIERS),
    }
    if townships is not None:  # the route's segments in those townships
        where.append("s.township = ANY(:townships)")
        params["townships"] = list(townships)
    if route is not None:  # the county's route of that code
        where.append("r.route_code = :route AND r.admin_code = :admin")
        params.update(route=route, admin=county())
    if batch_id is not None:
        where.append(
            "r.id IN (SELECT h.road_id FROM hazards h JOIN batch_items bi ON bi.hazard_id = h.id "
            "WHERE bi.batch_id = :bid)"
        )
        params["bid"] = batch_id
    in_batch = (  # a batch's roads are coloured by the batch's hazards only
        ""
        if batch_id is None
        else "AND h.id IN (SELECT hazard_id FROM batch_items WHERE batch_id = :bid)"
    )
    sql = f"""
        WITH g AS (
            SELECT r.id, ST_Collect(ST_SimplifyPreserveTopology(s.geom, :tol)
                                    ORDER BY s.part, s.from_m) AS geom,
                   json_agg(json_build_array(s.part, round(s.from_m::numeric, 1),
                                             round(s.to_m::numeric, 1))
                            ORDER BY s.part, s.from_m) AS parts
            FROM roads r JOIN road_segments s ON s.road_id = r.id
            WHERE {" AND ".join(where)} GROUP BY r.id
        ), st AS (
            SELECT h.road_id,
                   count(*) FILTER (WHERE h.status = ANY(:open)) AS n_open,
                   count(*) FILTER (WHERE h.status = ANY(:done)) AS n_done,
                   count(*) FILTER (WHERE h.status <> 'rejected') AS n_all,
                   min(array_position(CAST(:tiers AS text[]), CAST({EFFECTIVE_TIER} AS text)))
                       FILTER (WHERE h.status = ANY(:open)) AS worst
            FROM hazards h WHERE h.road_id IN (SELECT id FROM g) {in_batch} GROUP BY h.road_id
        ), feat AS (
            SELECT g.geom, json_build_object(
                'type', 'Feature', 'geometry', ST_AsGeoJSON(g.geom, 6)::json,
                'properties', json_strip_nulls(json_build_object(
                    'route', r.route_code, 'name', r.name, 'township', r.township,
                    'class', r.road_class, 'km', round((r.length_m / 1000.0)::numeric, 2),
                    'open', coalesce(st.n_open, 0), 'done', coalesce(st.n_done, 0),
                    'total', coalesce(st.n_all, 0),
                    'worst', (CAST(:tiers AS text[]))[st.worst],
                    'pct', CASE WHEN st.n_all > 0
                                THEN round(100.0 * st.n_done / st.n_all) END,
                    'surveyed', st.road_id IS NOT NULL, 'parts', g.parts))
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
    """The county's batch ``name``, with its hazard count and total cost; :class:`NotFound` if
    none, naming the county's batches (and where a batch of that name is)."""
    sql = f"""
        SELECT b.id, b.name, b.plan_name, b.contractor, b.status, b.budget_cny, b.starts_on,
               b.due_on, count(bi.hazard_id) AS hazards, coalesce(sum(bi.cost_cny), 0) AS cost_cny
        FROM batches b LEFT JOIN batch_items bi ON bi.batch_id = b.id
        WHERE b.name = :name AND b.{COUNTY_ROW} GROUP BY b.id
    """
    params = {"name": name, "admin": county()}
    with engine.connect() as conn:
        row = conn.execute(text(sql), params).mappings().one_or_none()
        if row is None:
            names = conn.execute(
                text(f"SELECT name FROM batches WHERE {COUNTY_ROW} ORDER BY seq, id LIMIT 8"),
                params,
            )
            known = ", ".join(n for (n,) in names)
            elsewhere = not_here(conn, "batches", name)
    if row is None:
        hint = f" Known batches: {known}." if known else " No batch has been planned yet."
        raise NotFound(f"No batch named {name!r}.{hint}{elsewhere}")
    return dict(row)


def road_hazard_rows(engine: Engine, road_id: int) -> pd.DataFrame:
    """The hazards of one road for its dossier table, ordered by chainage: effective tier,
    latest batch, last event, effective cost (``cost_cny``) and its ``cost_source``; a linear
    hazard's range (``from_m``, ``to_m``: null for a point) and the stored ``photo``."""
    sql = f"""
        SELECT h.public_id AS id, h.chainage_m, {CHAINAGE_TEXT} AS chainage,
               {EFFECTIVE_TIER} AS tier, h.status,
               coalesce(h.category_raw, h.category) AS category, h.description,
               bt.name AS batch, ev.text AS last_event, {EFFECTIVE_COST} AS cost_cny,
               {COST_SOURCE} AS cost_source, s.part, {HAZARD_TOWNSHIP} AS township,
               h.from_m, h.to_m, h.photo
        FROM hazards h LEFT JOIN road_segments s ON s.id = h.segment_id
        {_EVENT_AND_BATCH}
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
