"""Crash history against the hazards (issue 17, items 4-5): where the hazards lie, the newest
crash, and the treated sites of a before/after evaluation."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import text

from hazards.db.sql import COUNTY_HAZARD
from hazards.db.store.batches import find_batch_row
from hazards.db.store.plans import find_plan
from hazards.settings import county

if TYPE_CHECKING:
    from sqlalchemy import Engine

_PLACE = """
    SELECT h.id, h.public_id, h.category, h.status, r.route_code, r.road_class,
           coalesce(s.part, 0) AS part, h.chainage_m, h.from_m, h.to_m
    FROM hazards h JOIN roads r ON r.id = h.road_id AND r.admin_code = :admin
    LEFT JOIN road_segments s ON s.id = h.segment_id
"""


def newest_crash(engine: Engine, *, admin_code: str | None = None) -> dt.date | None:
    """The date of the newest stored crash (None when there is none)."""
    admin_code = county(admin_code)
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT max(occurred_on) FROM crashes WHERE admin_code = :a"), {"a": admin_code}
        ).scalar()


def hazard_places(engine: Engine, *, statuses: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Each placed hazard that is not rejected (or whose status is one of ``statuses``): id,
    public_id, category, status, route_code, road_class, part, chainage_m, from_m and to_m (a
    linear hazard's range, else null), on the county's roads (as its crashes are); in id order."""
    where = "h.status = ANY(:st)" if statuses else "h.status <> 'rejected'"
    sql = f"{_PLACE} WHERE h.chainage_m IS NOT NULL AND {where} ORDER BY h.id"
    with engine.connect() as conn:
        params = {"st": list(statuses or ()), "admin": county()}
        return pd.read_sql(text(sql), conn, params=params)


def treated_sites(
    engine: Engine, *, plan: str | None = None, batch: str | None = None
) -> pd.DataFrame:
    """The verified hazards (of a plan's batches, or of one batch) with their place and the day
    the work was reported finished (``done_on``: the latest ``reported_done`` event; null
    when there is none); ``from_m``/``to_m`` a linear hazard's range (null for a point). Those
    on another county's roads are left out (they are compared with the county's crashes)."""
    where = ["h.status = 'verified'", COUNTY_HAZARD]
    params: dict[str, object] = {"admin": county()}
    with engine.connect() as conn:
        if plan is not None:  # the county's
            where.append(
                "EXISTS (SELECT 1 FROM batch_items bi JOIN batches b ON b.id = bi.batch_id "
                "WHERE bi.hazard_id = h.id AND b.plan_id = :plan)"
            )
            params["plan"] = find_plan(conn, plan)["id"]
        if batch is not None:
            where.append(
                "EXISTS (SELECT 1 FROM batch_items bi WHERE bi.hazard_id = h.id "
                "AND bi.batch_id = :batch)"
            )
            params["batch"] = find_batch_row(
                conn, batch, columns="id", hint="`hazards plan show PLAN` lists the batches."
            )["id"]
        sql = f"""
            SELECT h.id, h.public_id, h.category, r.route_code, r.road_class,
                   coalesce(s.part, 0) AS part, h.chainage_m, h.from_m, h.to_m,
                   (SELECT max(e.happened_on) FROM hazard_events e WHERE e.hazard_id = h.id
                     AND e.to_status = 'reported_done') AS done_on
            FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
            LEFT JOIN road_segments s ON s.id = h.segment_id
            WHERE {" AND ".join(where)} ORDER BY h.id
        """
        return pd.read_sql(text(sql), conn, params=params)
