"""Tracking in the store: status changes with their events, a hazard's history, finished sites
and re-checks, progress counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import text

from hazards.db.sql import (
    COST_SOURCE,
    COUNTY_HAZARD,
    EFFECTIVE_COST,
    EFFECTIVE_TIER,
    FROM_TEXT,
    HAZARD_SEGMENT_JOIN,
    HAZARD_TOWNSHIP,
    LAST_CHANGE_ON,
    TO_TEXT,
    latest_batch,
    latest_batches,
)
from hazards.db.store.batches import find_batch_row
from hazards.db.store.roads import get_road
from hazards.errors import ConflictError, InputError, NotFound
from hazards.settings import county
from hazards.vocabulary import OPEN_STATUSES

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


def change_status(
    engine: Engine,
    refs: list[str],
    *,
    to: str,
    on: dt.date,
    by: str | None,
    note: str | None,
    evidence: str | None,
    expected_versions: dict[str, int] | None,
    check: Callable[[str, str, str], None],
    kind: str = "status",
    recheck: dict[str, Any] | None = None,
    conn: Connection | None = None,
) -> list[dict[str, Any]]:
    """Change the status of hazards, all or none, with one event each (see ``remediation``).

    Each change is checked with ``check(public_id, current, to)``; ``expected_versions``
    (public id → version read) turns on the conflict check; ``recheck`` (``on``, ``result``,
    ``by``, ``note``) also records a re-check result. With ``conn``, the changes are made in
    that connection's transaction (several calls then commit or roll back together)."""
    refs = list(dict.fromkeys(refs))
    with engine.begin() if conn is None else nullcontext(conn) as conn:
        rows = (
            conn.execute(
                text(
                    f"SELECT h.id, h.public_id, h.status, h.version, {LAST_CHANGE_ON} AS last_on "
                    "FROM hazards h WHERE h.public_id = ANY(:p) ORDER BY h.id FOR UPDATE"
                ),
                {"p": refs},
            )
            .mappings()
            .all()
        )
        found = {r["public_id"]: r for r in rows}
        missing = [p for p in refs if p not in found]
        if missing:
            raise NotFound(
                f"No hazard with id {', '.join(missing)}. `hazards list` shows the ids. Nothing was changed."
            )
        for p in refs:
            r = found[p]
            if (
                expected_versions
                and p in expected_versions
                and expected_versions[p] != r["version"]
            ):
                raise ConflictError(
                    f"Hazard {p} was changed by someone else since you read it (you read version "
                    f"{expected_versions[p]}, it is now version {r['version']}, status {r['status']}). "
                    "Nothing was changed: look at `hazards history " + p + "` and try again."
                )
            check(p, r["status"], to)
            if r["last_on"] is not None and on < r["last_on"]:
                raise InputError(
                    f"Hazard {p} last changed on {r['last_on']}; a change dated {on} would come before it. "
                    "Give a date on or after that. Nothing was changed.",
                    param="on",
                )
        out = []
        for p in refs:
            r = found[p]
            res = conn.execute(
                text(
                    "UPDATE hazards SET status = :to, version = version + 1, updated_at = now() "
                    "WHERE id = :id AND version = :v"
                ),
                {"to": to, "id": r["id"], "v": r["version"]},
            )
            if res.rowcount != 1:
                raise ConflictError(
                    f"Hazard {p} was changed by someone else meanwhile. Nothing was changed; try again."
                )
            conn.execute(
                text(
                    "INSERT INTO hazard_events (hazard_id, kind, happened_on, by, from_status, to_status, note, evidence) "
                    "VALUES (:h, :k, :on, :by, :f, :t, :n, :ev)"
                ),
                {
                    "h": r["id"],
                    "k": kind,
                    "on": on,
                    "by": by,
                    "f": r["status"],
                    "t": to,
                    "n": note,
                    "ev": evidence,
                },
            )
            if recheck is not None:
                planned = conn.execute(
                    text(
                        "SELECT id FROM rechecks WHERE hazard_id = :h AND result IS NULL ORDER BY id DESC LIMIT 1"
                    ),
                    {"h": r["id"]},
                ).scalar_one_or_none()
                params = {
                    "h": r["id"],
                    "on": recheck["on"],
                    "res": recheck["result"],
                    "by": recheck["by"],
                    "n": recheck["note"],
                }
                if planned is None:
                    conn.execute(
                        text(
                            "INSERT INTO rechecks (hazard_id, checked_on, result, by, note) "
                            "VALUES (:h, :on, :res, :by, :n)"
                        ),
                        params,
                    )
                else:
                    conn.execute(
                        text(
                            "UPDATE rechecks SET checked_on = :on, result = :res, by = :by, note = :n "
                            "WHERE id = :id"
                        ),
                        {**params, "id": planned},
                    )
            out.append({"id": p, "from": r["status"], "to": to, "version": r["version"] + 1})
    return out


def hazard_history(engine: Engine, public_id: str) -> dict[str, Any]:
    """A hazard's current state (effective tier, latest batch, effective cost and its source)
    and all its events, oldest first."""
    with engine.connect() as conn:
        h = (
            conn.execute(
                text(
                    f"SELECT h.id AS _id, h.public_id AS id, h.status, h.version, {EFFECTIVE_TIER} AS tier, "
                    "r.route_code, h.chainage_m, h.from_m, h.to_m, h.category, h.category_raw, "
                    "h.description, lb.name AS batch, "
                    f"{EFFECTIVE_COST} AS cost_cny, {COST_SOURCE} AS cost_source "
                    f"FROM hazards h LEFT JOIN roads r ON r.id = h.road_id {latest_batch('lb')} "
                    "WHERE h.public_id = :p"
                ),
                {"p": public_id},
            )
            .mappings()
            .one_or_none()
        )
        if h is None:
            raise NotFound(f"No hazard with id {public_id!r}. `hazards list` shows the ids.")
        events = (
            conn.execute(
                text(
                    "SELECT kind, happened_on, recorded_at, recorded_by AS who, by, from_status, "
                    "to_status, note, evidence "
                    "FROM hazard_history WHERE hazard_id = :h ORDER BY happened_on, recorded_at, id"
                ),
                {"h": h["_id"]},
            )
            .mappings()
            .all()
        )
    out = {k: v for k, v in h.items() if k != "_id"}
    out["events"] = [dict(e) for e in events]
    return out


def finished_sites(
    engine: Engine, *, statuses: list[str], batch: str | None, road: str | None
) -> pd.DataFrame:
    """Sites in ``statuses`` (of a batch, a road, or all), with their latest batch and the day
    they were reported done, ordered along each route; a linear hazard's range as stakes
    (``from_chainage``, ``to_chainage``) and its line (``extent``, WKB; null for a point)."""
    where = ["h.status = ANY(:st)"]
    params: dict[str, Any] = {"st": statuses}
    if batch:
        with engine.connect() as conn:  # the county's
            found = find_batch_row(
                conn,
                batch,
                columns="id, status, plan_name",
                hint="`hazards plan show PLAN` lists the batches.",
            )
        if found["status"] == "draft":  # its hazards are in no batch of theirs yet: none finished
            raise InputError(
                f"Batch {batch!r} belongs to plan {found['plan_name']}, not committed yet: "
                f"nothing of it can be finished. Commit the plan (`hazards plan commit "
                f"{found['plan_name']}`) first.",
                param="batch",
            )
        where.append("lb.id = :batch")
        params["batch"] = found["id"]
    if road:
        where.append("r.id = :road")
        params["road"] = get_road(engine, road)["id"]  # the county's; an alias finds its route
    sql = f"""
        SELECT h.public_id AS id, r.route_code, r.name AS route_name,
               {HAZARD_TOWNSHIP} AS township, round(h.chainage_m::numeric, 1)::float8 AS chainage_m,
               {FROM_TEXT} AS from_chainage, {TO_TEXT} AS to_chainage,
               round(ST_X(h.geom)::numeric, 7)::float8 AS lon, round(ST_Y(h.geom)::numeric, 7)::float8 AS lat,
               h.category, h.description, lb.name AS batch, h.status,
               (SELECT max(e.happened_on) FROM hazard_events e WHERE e.hazard_id = h.id
                 AND e.to_status = 'reported_done') AS done_on,
               ST_AsBinary(h.extent) AS extent
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
        {latest_batch("lb")}
        WHERE {" AND ".join(where)}
        ORDER BY r.route_code, h.chainage_m, h.public_id
    """
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params=params)


def record_planned_rechecks(engine: Engine, public_ids: list[str]) -> None:
    """Record a planned re-check (today) for each hazard that has no open one."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rechecks (hazard_id, planned_on) SELECT h.id, current_date FROM hazards h "
                "WHERE h.public_id = ANY(:p) AND NOT EXISTS (SELECT 1 FROM rechecks r "
                "WHERE r.hazard_id = h.id AND r.result IS NULL)"
            ),
            {"p": public_ids},
        )


def recheck_state(
    engine: Engine, public_ids: list[str]
) -> tuple[dict[str, str], set[tuple[str, dt.date, str]]]:
    """These hazards' statuses (by public id; an unknown id has none), and the re-checks
    recorded for them: (public id, day, result) each."""
    done = (
        "SELECT h.public_id, r.checked_on, r.result FROM rechecks r JOIN hazards h "
        "ON h.id = r.hazard_id WHERE h.public_id = ANY(:p) AND r.result IS NOT NULL"
    )
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT public_id, status FROM hazards WHERE public_id = ANY(:p)"),
            {"p": public_ids},
        )
        statuses = {str(i): str(s) for i, s in status}
        rows = conn.execute(text(done), {"p": public_ids})
        return statuses, {(str(i), d, str(res)) for i, d, res in rows}


def progress_frame(engine: Engine, *, as_of: dt.date | None = None) -> pd.DataFrame:
    """The county's hazards (:data:`COUNTY_HAZARD`) counted per status (now, or rebuilt from
    events on ``as_of``), tier, route, township and batch: ``n`` hazards and their summed ``cost`` per row (a province's
    millions of hazards come back as a few rows per route)."""
    status = "h.status"
    join = ""
    if as_of is not None:
        join = """
            JOIN (SELECT DISTINCT ON (e.hazard_id) e.hazard_id, e.to_status
                  FROM hazard_history e WHERE e.to_status IS NOT NULL AND e.happened_on <= :d
                  ORDER BY e.hazard_id, e.happened_on DESC, e.recorded_at DESC, e.id DESC) st
              ON st.hazard_id = h.id
        """
        status = "st.to_status"
    sql = f"""
        SELECT {status} AS status, {EFFECTIVE_TIER} AS tier,
               r.route_code, hs.township AS township, r.length_m AS route_length_m,
               lb.name AS batch,
               count(*) AS n, sum({EFFECTIVE_COST}) AS cost
        FROM hazards h {join}
        LEFT JOIN roads r ON r.id = h.road_id
        {HAZARD_SEGMENT_JOIN}
        {latest_batches("lb", as_of=as_of is not None)}
        WHERE {COUNTY_HAZARD}
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 3, 4, 6, 2, 1
    """
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params={"d": as_of, "admin": county()})


_REACH_GROUPS = {
    "road": "n.route_code",
    "township": "n.township",
    "tier": "n.tier",
    "batch": "n.batch",
}


def tier_one_reach(
    engine: Engine, *, reach_m: float, by: str, as_of: dt.date | None = None
) -> dict[str | None, float]:
    """Km of road within ``reach_m`` (along the route, either side) of an open tier I hazard,
    per group of ``by`` (road, township, tier, batch; a group without a value is ``—``) and in
    all (key ``None``): the road is the hazards' ``[start - reach_m, end + reach_m]`` (a linear
    hazard's start and end being its ``from_m``/``to_m``) cut to each segment of the hazard's
    own section and part (main line or branch), so gaps, other sections and branches leaving
    nearby add nothing; the stretches of a group are merged per line (road, section, part),
    so that overlapping stretches count once. Computed in the database (a province's tier I
    hazards reach millions of segments): only the sums come back."""
    status, join = "h.status", ""
    if as_of is not None:
        join = """
            JOIN (SELECT DISTINCT ON (e.hazard_id) e.hazard_id, e.to_status
                  FROM hazard_history e WHERE e.to_status IS NOT NULL AND e.happened_on <= :d
                  ORDER BY e.hazard_id, e.happened_on DESC, e.recorded_at DESC, e.id DESC) st
              ON st.hazard_id = h.id
        """
        status = "st.to_status"
    group = _REACH_GROUPS[by]
    # A line's stretches all have one route code, and one tier (I): merged per road or tier,
    # they are merged per line already, and their sum is the total (by grouping sets, not the
    # stretches taken twice). A line's stretches can be of several townships or batches.
    total_apart = by in ("township", "batch")
    sql = f"""
        WITH near AS (
            SELECT h.id, h.road_id, hs.section, hs.part, r.route_code,
                   hs.township,  -- the segment under the hazard: its township (HAZARD_TOWNSHIP)
                   {"lb.name" if by == "batch" else "NULL::text"} AS batch, 'I' AS tier,
                   coalesce(h.from_m, h.chainage_m) - :reach AS lo,
                   coalesce(h.to_m, h.chainage_m) + :reach AS hi
            FROM hazards h {join}
            JOIN road_segments hs ON hs.id = h.segment_id
            JOIN roads r ON r.id = h.road_id
            {latest_batches("lb") if by == "batch" else ""}
            WHERE {status} = ANY(:open) AND {EFFECTIVE_TIER} = 'I' AND h.chainage_m IS NOT NULL
        ),
        pieces AS (
            SELECT coalesce({group}, '—') AS g, n.road_id, n.section, n.part,
                   greatest(s.from_m, n.lo) AS lo, least(s.to_m, n.hi) AS hi
            FROM near n
            JOIN road_segments s ON s.road_id = n.road_id AND s.section = n.section
                 AND s.part = n.part AND s.from_m < n.hi AND s.to_m > n.lo
        ),
        both_ AS (
            SELECT g, road_id, section, part, lo, hi FROM pieces
            {"UNION ALL SELECT NULL, road_id, section, part, lo, hi FROM pieces" if total_apart else ""}
        ),
        marked AS (  -- the furthest end reached before each stretch on its line
            SELECT g, road_id, section, part, lo, hi,
                   max(hi) OVER (PARTITION BY g, road_id, section, part ORDER BY lo
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
            FROM both_
        ),
        runs AS (  -- stretches numbered by the merged run they belong to
            SELECT g, road_id, section, part, lo, hi,
                   sum(CASE WHEN reach IS NULL OR lo > reach THEN 1 ELSE 0 END)
                       OVER (PARTITION BY g, road_id, section, part ORDER BY lo
                             ROWS UNBOUNDED PRECEDING) AS run
            FROM marked
        )
        SELECT g, sum(hi - lo) / 1000.0 AS km FROM (
            SELECT g, road_id, section, part, run, min(lo) AS lo, max(hi) AS hi
            FROM runs GROUP BY g, road_id, section, part, run
        ) merged
        GROUP BY {"g" if total_apart else "GROUPING SETS ((g), ())"}
    """
    params: dict[str, Any] = {"reach": reach_m, "open": list(OPEN_STATUSES)}
    if as_of is not None:
        params["d"] = as_of
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    return {g: float(km) for g, km in rows if km is not None}  # no stretch: no grand total
