"""Crashes (issue 17): writing an import's crashes, reading them for screening."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from hazards.settings import county

_TYPES = {
    "source_line": "int",
    "occurred_on": "date",
    "occurred_time": "time",
    "fatalities": "int",
    "injuries": "int",
    "serious_injuries": "int",
    "minor_injuries": "int",
    "road_id": "int",
    "segment_id": "int",
    "part": "int",
    "chainage_m": "float8",
    "snap_distance_m": "float8",
    "junction_lon": "float8",
    "junction_lat": "float8",
    "raw": "jsonb",
    "warnings": "jsonb",
}
"""Column types of ``crashes`` that are not text (for reading a chunk from JSON)."""

_KEY = ("admin_code", "source", "crash_id")
_COMPARED = ("content_hash", "route_code", "segment_id", "chainage_m", "junction", "geom")
"""A crash given again is updated when one of these differs (its row, or where it attaches)."""


class CrashWriter:
    """Adds the crashes of one import, chunk by chunk, in its transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> tuple[int, int]:
        """Insert new crashes, update those given again whose row or place changed; returns
        (added, updated) (the others are unchanged)."""
        if not rows:
            return 0, 0
        data = json.dumps(
            [dict(zip(columns, r, strict=True)) for r in rows], ensure_ascii=False, default=str
        )
        record = ", ".join(
            f"{c} {'text' if c == 'geom' else _TYPES.get(c, 'text')}" for c in columns
        )
        # geom: hex EWKB (copy_rows.point_hex) or EWKT, both read by the cast
        select = ", ".join("CAST(t.geom AS geometry)" if c == "geom" else f"t.{c}" for c in columns)
        update = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in _KEY)
        changed = " OR ".join(
            f"crashes.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in _COMPARED if c in columns
        )
        sql = (
            f"INSERT INTO crashes ({', '.join(columns)}) "
            f"SELECT {select} FROM jsonb_to_recordset(CAST(:data AS jsonb)) AS t({record}) "
            f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {update}, updated_at = now() "
            f"WHERE {changed} RETURNING (xmax = 0) AS inserted"
        )
        flags = [bool(r[0]) for r in self.conn.execute(text(sql), {"data": data})]
        added = sum(flags)
        return added, len(flags) - added

    def adopt(self, source: str, pairs: list[tuple[str, str]], *, admin_code: str) -> int:
        """Give stored crashes of ``source`` known by their day, time and place (a sheet that
        gave them no id) the id a later sheet gives them (``pairs``: (day-time-place id, own
        id)), unless that id is stored already; how many. The police filling in 事故编号 in a
        sheet sent again is the same crashes, not new ones."""
        if not pairs:
            return 0
        sql = (
            "UPDATE crashes c SET crash_id = t.own FROM jsonb_to_recordset(CAST(:p AS jsonb)) "
            "AS t(placed text, own text) WHERE c.admin_code = :a AND c.source = :s "
            "AND c.crash_id = t.placed AND NOT EXISTS (SELECT 1 FROM crashes x WHERE "
            "x.admin_code = :a AND x.source = :s AND x.crash_id = t.own)"
        )
        data = json.dumps([{"placed": a, "own": b} for a, b in pairs], ensure_ascii=False)
        return int(
            self.conn.execute(text(sql), {"p": data, "a": admin_code, "s": source}).rowcount or 0
        )

    def elsewhere(
        self, source: str, keys: list[tuple[str, Any]], *, admin_code: str
    ) -> dict[str, int]:
        """Of ``keys`` (crash id, day), how many are stored under another source, per source:
        the same crash from two sources would be counted twice."""
        if not keys:
            return {}
        sql = (
            "SELECT c.source, count(*) FROM crashes c JOIN jsonb_to_recordset(CAST(:k AS jsonb)) "
            "AS k(crash_id text, day date) ON c.crash_id = k.crash_id AND c.occurred_on = k.day "
            "WHERE c.admin_code = :a AND c.source <> :s GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        k = json.dumps([{"crash_id": i, "day": str(d)} for i, d in keys], ensure_ascii=False)
        rows = self.conn.execute(text(sql), {"k": k, "a": admin_code, "s": source})
        return {str(r[0]): int(r[1]) for r in rows}


@contextmanager
def crash_writer(engine: Engine, *, dry_run: bool = False) -> Iterator[CrashWriter]:
    """A :class:`CrashWriter` in one transaction: committed at the end, or rolled back on an
    error or in a dry run (the counts are then what the import would have done)."""
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            yield CrashWriter(conn)
        except BaseException:
            tx.rollback()
            raise
        if dry_run:
            tx.rollback()
        else:
            tx.commit()


def crash_frame(
    engine: Engine,
    *,
    admin_code: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    attached: bool = True,
) -> pd.DataFrame:
    """Crashes (attached to a route, unless ``attached`` is False) with the dates in
    [``date_from``, ``date_to``]: source, crash_id, occurred_on, severity, casualties,
    route_code, part, chainage_m, lon, lat."""
    admin_code = county(admin_code)
    sql = (
        "SELECT source, crash_id, occurred_on, occurred_time, severity, fatalities, injuries, "
        "serious_injuries, minor_injuries, crash_type, route_code, part, chainage_m, "
        "junction, junction_lon, junction_lat, "
        "ST_X(geom) AS lon, ST_Y(geom) AS lat FROM crashes WHERE admin_code = :a "
        "AND (CAST(:f AS date) IS NULL OR occurred_on >= CAST(:f AS date)) "
        "AND (CAST(:t AS date) IS NULL OR occurred_on <= CAST(:t AS date)) "
        + ("AND road_id IS NOT NULL " if attached else "")
        + "ORDER BY source, crash_id"
    )
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params={"a": admin_code, "f": date_from, "t": date_to})


def list_crashes(
    engine: Engine,
    *,
    admin_code: str | None = None,
    route: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    severities: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Stored crashes (attached or not) by date: of one route, in a period, of some KABCO
    classes; each with its place (route, chainage, junction, lon/lat) and casualties."""
    admin_code = county(admin_code)
    sql = (
        "SELECT source, crash_id, occurred_on, occurred_time, severity, fatalities, injuries, "
        "crash_type, weather, light, route_code, chainage_m, junction, match_method, "
        "round(ST_X(geom)::numeric, 7)::float8 AS lon, round(ST_Y(geom)::numeric, 7)::float8 "
        "AS lat, source_file, source_line FROM crashes WHERE admin_code = :a "
        "AND (CAST(:r AS text) IS NULL OR route_code = CAST(:r AS text)) "
        "AND (CAST(:f AS date) IS NULL OR occurred_on >= CAST(:f AS date)) "
        "AND (CAST(:t AS date) IS NULL OR occurred_on <= CAST(:t AS date)) "
        "AND (CAST(:s AS text[]) IS NULL OR severity = ANY(CAST(:s AS text[]))) "
        "ORDER BY occurred_on, occurred_time NULLS FIRST, source, crash_id"
    )
    params = {"a": admin_code, "r": route, "f": date_from, "t": date_to, "s": severities}
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings().all()]


def route_ends(engine: Engine, *, admin_code: str | None = None) -> pd.DataFrame:
    """Each loaded route and part with where its chainage ends (``end_m``) and its class."""
    admin_code = county(admin_code)
    sql = (
        "SELECT r.route_code, s.part, max(s.to_m) AS end_m, r.road_class FROM road_segments s "
        "JOIN roads r ON r.id = s.road_id WHERE r.admin_code = :a "
        "GROUP BY r.route_code, s.part, r.road_class ORDER BY r.route_code, s.part"
    )
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params={"a": admin_code})
