"""Batches in the store: listed, read and updated, streamed out as the contractor's GeoJSON, and
what a completion report is checked against."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import TYPE_CHECKING, Any, BinaryIO

import pandas as pd
from sqlalchemy import text

from hazards.db.sql import (
    CHAINAGE_TEXT,
    COST_SOURCE,
    COUNTERMEASURE_SOURCE,
    COUNTY_ROW,
    EFFECTIVE_COST,
    EFFECTIVE_TIER,
    FROM_TEXT,
    HAZARD_TOWNSHIP,
    LAST_CHANGE_ON,
    TO_TEXT,
    latest_batch,
)
from hazards.db.store.counties import not_here
from hazards.errors import InputError, NotFound
from hazards.settings import county

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


# ----------------------------------------------------------------------------- contractors
def get_batch(engine: Engine, name: str) -> dict[str, Any]:
    """The county's batch ``name`` (id, plan, contractor, dates, status, cost);
    :class:`NotFound` if none."""
    with engine.connect() as conn:
        return find_batch_row(conn, name)


def find_batch_row(
    conn: Connection,
    name: str,
    *,
    columns: str = "id, name, plan_name, contractor, starts_on, due_on, status, cost_cny",
    hint: str = "`hazards batch list` shows the batches.",
) -> dict[str, Any]:
    """The ``columns`` of the county's batch ``name`` (:data:`COUNTY_ROW`); :class:`NotFound`
    if none, with ``hint`` and where a batch of that name is (:func:`.counties.not_here`)."""
    row = (
        conn.execute(
            text(f"SELECT {columns} FROM batches WHERE name = :n AND {COUNTY_ROW}"),
            {"n": name, "admin": county()},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"No batch named {name!r}. {hint}" + not_here(conn, "batches", name))
    return dict(row)


def list_batches(engine: Engine) -> list[dict[str, Any]]:
    """The county's batches, in plan and batch order, with their hazard counts."""
    sql = f"""
        SELECT b.name, b.plan_name, b.status, b.contractor, b.starts_on, b.due_on, b.cost_cny,
               count(bi.hazard_id) AS hazards
        FROM batches b LEFT JOIN batch_items bi ON bi.batch_id = b.id
        WHERE b.{COUNTY_ROW}
        GROUP BY b.id ORDER BY b.plan_name, b.seq
    """
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), {"admin": county()}).mappings().all()]


def update_batch(
    engine: Engine,
    name: str,
    *,
    contractor: str | None = None,
    starts_on: dt.date | None = None,
    due_on: dt.date | None = None,
) -> dict[str, Any]:
    """Set a batch's contractor, start and due dates (the ones given). A start after the first
    day work on its sites was recorded (since its plan was committed) is refused: those
    records would then come before the work began."""
    batch = get_batch(engine, name)
    sets = {
        k: v
        for k, v in {"contractor": contractor, "starts_on": starts_on, "due_on": due_on}.items()
        if v is not None
    }
    if sets:
        with engine.begin() as conn:
            first = (
                conn.execute(text(_FIRST_WORK_SQL), {"b": batch["id"]}).scalar()
                if starts_on is not None
                else None
            )
            if first is not None and starts_on is not None and starts_on > first:
                raise InputError(
                    f"Batch {name}: work on its sites was recorded from {first} (in progress or "
                    f"done); a start on {starts_on} would put that work before the batch began. "
                    f"Give a start on or before {first}. Nothing was changed.",
                    param="starts_on",
                )
            conn.execute(
                text(f"UPDATE batches SET {', '.join(f'{k} = :{k}' for k in sets)} WHERE id = :id"),
                {**sets, "id": batch["id"]},
            )
    return get_batch(engine, name)


_FIRST_WORK_SQL = f"""
    SELECT min(e.happened_on) FROM batches b
    JOIN plans p ON p.id = b.plan_id
    JOIN batch_items bi ON bi.batch_id = b.id
    JOIN hazards h ON h.id = bi.hazard_id
    {latest_batch("lb")}
    JOIN hazard_events e ON e.hazard_id = h.id AND e.recorded_at >= p.committed_at
      AND e.to_status IN ('in_progress', 'reported_done')
    WHERE b.id = :b AND lb.id = b.id"""
"""The first day work was recorded on a batch's sites (those it binds), since its plan was
committed."""


# One batch feature (text) per row, in the file's order; every export goes through it. A
# linear hazard's geometry is its extent (a LineString), a point hazard's its point; both
# carry the point as lon/lat and the range as from/to chainages (null for a point).
# psycopg binds the parameters into COPY on the client side (no ``%`` in the fragments).
_BATCH_FEATURES_SQL = f"""
    SELECT json_build_object(
      'type', 'Feature',
      'id', h.public_id,
      'geometry', ST_AsGeoJSON(coalesce(h.extent, h.geom), 7)::json,
      'properties', json_build_object(
        'id', h.public_id, 'route_code', r.route_code, 'route_name', r.name,
        'township', {HAZARD_TOWNSHIP},
        'chainage', {CHAINAGE_TEXT},
        'chainage_m', round(h.chainage_m::numeric, 1),
        'from_chainage', {FROM_TEXT}, 'to_chainage', {TO_TEXT},
        'from_m', round(h.from_m::numeric, 1), 'to_m', round(h.to_m::numeric, 1),
        'length_m', round(h.length_m::numeric, 1),
        'lon', round(ST_X(h.geom)::numeric, 7), 'lat', round(ST_Y(h.geom)::numeric, 7),
        'category', h.category, 'description', h.description,
        'tier', {EFFECTIVE_TIER}, 'countermeasure', h.countermeasure,
        'quantity', h.quantity, 'unit', h.unit, 'countermeasure_source', {COUNTERMEASURE_SOURCE},
        'estimated_cost_cny', {EFFECTIVE_COST}, 'cost_source', {COST_SOURCE},
        'batch', CAST(%(name)s AS text), 'due_date', to_char(CAST(%(due)s AS date), 'YYYY-MM-DD'),
        'status', h.status,
        'completed_on', NULL, 'note', NULL, 'evidence', NULL)
    )::text
    FROM batch_items bi JOIN hazards h ON h.id = bi.hazard_id
    LEFT JOIN roads r ON r.id = h.road_id
    WHERE bi.batch_id = %(bid)s AND h.geom IS NOT NULL
    ORDER BY r.route_code, h.chainage_m, h.public_id
"""


def _text_as_bytes_loader() -> type:
    """A psycopg loader that keeps binary ``text`` values as UTF-8 bytes (no decoding)."""
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    class TextAsBytes(Loader):
        format = Format.BINARY

        def load(self, data: Any) -> bytes:
            return bytes(data)

    return TextAsBytes


def write_batch_features(
    engine: Engine, name: str, out: BinaryIO, *, sample: int = 0
) -> tuple[int, bytes]:
    """Write the batch as an RFC 7946 FeatureCollection (UTF-8) to ``out``, streamed from PostGIS.

    Each feature is built by PostGIS and copied to ``out`` as it arrives (``COPY ... TO STDOUT``),
    never decoded in Python. Returns the number of features and a FeatureCollection (bytes) of
    the first ``sample`` features with the same header, to check the output's shape cheaply.
    """
    batch = get_batch(engine, name)
    head = (
        json.dumps({"type": "FeatureCollection", "name": name, "batch": name}, ensure_ascii=False)[
            :-1
        ]
        + ', "features": [\n'
    ).encode()
    tail = b"\n]}\n"
    out.write(head)
    first: list[bytes] = []
    n = 0
    with engine.begin() as conn:
        # A batch is usually exported right after its items were inserted, before autovacuum
        # has analyzed them: stale statistics give a serial nested-loop plan twice as slow.
        conn.execute(text("ANALYZE batch_items"))
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.adapters.register_loader("text", _text_as_bytes_loader())
            with cur.copy(
                f"COPY ({_BATCH_FEATURES_SQL}) TO STDOUT (FORMAT binary)",
                {"name": name, "due": batch["due_on"], "bid": batch["id"]},
            ) as copy:
                copy.set_types(["text"])
                for (feature,) in copy.rows():
                    if n:
                        out.write(b",\n")
                    out.write(feature)
                    if n < sample:
                        first.append(feature)
                    n += 1
    out.write(tail)
    return n, head + b",\n".join(first) + tail


def batch_feature_collection(engine: Engine, name: str) -> str:
    """The batch as an RFC 7946 FeatureCollection (text), as :func:`write_batch_features` writes it."""
    buf = io.BytesIO()
    write_batch_features(engine, name, buf)
    return buf.getvalue().decode("utf-8")


def completion_targets(engine: Engine, public_ids: list[str]) -> pd.DataFrame:
    """What a completion row is checked against: status, version, latest batch, its contractor
    and start, point (and a linear hazard's start: the work list's lon/lat), last change,
    earlier completions, and the latest batch of a draft plan it is in (``draft_batch``, which
    binds nothing yet)."""
    sql = f"""
        SELECT h.public_id AS id, h.status, h.version, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
               ST_X(ST_StartPoint(h.extent)) AS start_lon, ST_Y(ST_StartPoint(h.extent)) AS start_lat,
               lb.name AS batch, lb.contractor, lb.starts_on, {LAST_CHANGE_ON} AS last_on,
               (SELECT array_agg(DISTINCT e.to_status || ' ' || e.happened_on::text) FROM hazard_events e
                 WHERE e.hazard_id = h.id AND e.kind = 'completion') AS completions,
               db.name AS draft_batch
        FROM hazards h
        {latest_batch("lb")} {latest_batch("db", draft=True)}
        WHERE h.public_id = ANY(:p)
    """
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params={"p": public_ids})
