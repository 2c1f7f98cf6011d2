"""Crashes for maps (issue 17): the crash points of a map, a route's crashes for its dossier
strip. Reads what :mod:`hazards.db.store.crashes` wrote; coordinates in lon/lat."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import text

from hazards.settings import county

if TYPE_CHECKING:
    from sqlalchemy import Engine

_COLUMNS = (
    "c.source, c.crash_id, c.occurred_on, c.occurred_time, c.severity, c.fatalities, "
    "c.injuries, c.serious_injuries, c.minor_injuries, c.crash_type, c.weather, c.light, "
    "c.route_code, c.part, c.chainage_m, c.junction, (c.road_id IS NOT NULL) AS attached"
)


def _where(
    *,
    admin_code: str,
    route: str | None,
    townships: tuple[str, ...] | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> tuple[str, dict[str, Any]]:
    where = [
        "c.admin_code = :a",
        "(CAST(:f AS date) IS NULL OR c.occurred_on >= CAST(:f AS date))",
        "(CAST(:t AS date) IS NULL OR c.occurred_on <= CAST(:t AS date))",
    ]
    params: dict[str, Any] = {"a": admin_code, "f": date_from, "t": date_to}
    if route is not None:  # attached to the route, as the screening counts them
        where.append("c.route_code = :route AND c.road_id IS NOT NULL")
        params["route"] = route
    if townships is not None:  # attached to a segment of those townships
        where.append(
            "EXISTS (SELECT 1 FROM road_segments s WHERE s.id = c.segment_id "
            "AND s.township = ANY(:towns))"
        )
        params["towns"] = list(townships)
    return " AND ".join(where), params


def crash_points(
    engine: Engine,
    *,
    admin_code: str | None = None,
    route: str | None = None,
    townships: tuple[str, ...] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> pd.DataFrame:
    """The crashes with a position (attached or not; only those attached to ``route`` when
    given, or to a segment of ``townships``) with dates in [``date_from``, ``date_to``]: the
    crash's fields and ``lon``/``lat`` (its recorded position), mildest first and fatal last
    (the drawing order)."""
    admin_code = county(admin_code)
    where, params = _where(
        admin_code=admin_code,
        route=route,
        townships=townships,
        date_from=date_from,
        date_to=date_to,
    )
    sql = (
        f"SELECT {_COLUMNS}, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat FROM crashes c "
        f"WHERE c.geom IS NOT NULL AND {where} "
        "ORDER BY array_position(ARRAY['O','C','B','A','K'], c.severity) NULLS FIRST, "
        "c.occurred_on, c.source, c.crash_id"
    )
    with engine.connect() as conn:
        return pd.read_sql_query(text(sql), conn, params=params)


def route_crashes(
    engine: Engine,
    route: str,
    *,
    admin_code: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> pd.DataFrame:
    """The crashes attached to ``route`` with a chainage (positioned or located by 桩号 only),
    ordered by chainage: for the dossier's chainage strip."""
    admin_code = county(admin_code)
    where, params = _where(
        admin_code=admin_code, route=route, townships=None, date_from=date_from, date_to=date_to
    )
    sql = (
        f"SELECT {_COLUMNS} FROM crashes c WHERE c.chainage_m IS NOT NULL AND {where} "
        "ORDER BY c.chainage_m, c.occurred_on, c.crash_id"
    )
    with engine.connect() as conn:
        return pd.read_sql_query(text(sql), conn, params=params)


def may_read(engine: Engine) -> bool:
    """Whether the connected user may read the crash records (a contractor login may not)."""
    with engine.connect() as conn:
        return bool(
            conn.execute(text("SELECT has_table_privilege('crashes', 'SELECT')")).scalar_one()
        )
