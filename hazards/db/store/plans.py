"""Plans in the store: the hazards a plan may fund, plans saved as drafts, committed or dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import text

from hazards.db.sql import (
    COUNTY_HAZARD,
    COUNTY_ROW,
    EFFECTIVE_COST,
    EFFECTIVE_TIER,
    HAZARD_TOWNSHIP,
    LAST_CHANGE_ON,
)
from hazards.db.store.counties import not_here
from hazards.db.store.locks import WaitNotice, writer_lock
from hazards.errors import ConflictError, InputError, NotFound
from hazards.settings import county
from hazards.vocabulary import PLANNABLE_STATUSES, check_transition

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


def plan_candidates(engine: Engine) -> pd.DataFrame:
    """The county's hazards that a plan may fund (the plannable statuses; :data:`COUNTY_HAZARD`):
    id, route, township, chainage,
    effective tier, score and effective cost, and a linear hazard's chainage range (``from_m``,
    ``to_m``; empty for a point)."""
    sql = f"""
        SELECT h.public_id AS id, r.route_code, {HAZARD_TOWNSHIP} AS township, h.chainage_m,
               {EFFECTIVE_TIER} AS tier, h.score, {EFFECTIVE_COST} AS cost, h.from_m, h.to_m
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
        WHERE h.status = ANY(:plannable) AND {COUNTY_HAZARD}
        ORDER BY h.public_id
    """
    params = {"plannable": list(PLANNABLE_STATUSES), "admin": county()}
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params=params)


def plan_exists(engine: Engine, name: str) -> bool:
    """Whether the county has a plan of that name (:data:`COUNTY_ROW`)."""
    sql = f"SELECT 1 FROM plans WHERE name = :n AND {COUNTY_ROW}"
    with engine.connect() as conn:
        return conn.execute(text(sql), {"n": name, "admin": county()}).first() is not None


def save_plan(engine: Engine, report: dict[str, Any]) -> None:
    """Store a plan as a draft, the county's: the plans row, its batches and their items."""
    import json

    admin = county()
    with engine.begin() as conn:
        pid = conn.execute(
            text(
                "INSERT INTO plans (admin_code, name, budget_cny, spent_cny, report) "
                "VALUES (:a, :n, :b, :s, CAST(:r AS jsonb)) ON CONFLICT DO NOTHING RETURNING id"
            ),
            {
                "a": admin,
                "n": report["name"],
                "b": report["budget_cny"],
                "s": report["spent_cny"],
                "r": json.dumps(report, ensure_ascii=False),
            },
        ).scalar_one_or_none()
        if pid is None:  # another command stored a plan of that name since it was checked
            raise ConflictError(
                f"A plan named {report['name']!r} was stored by another command meanwhile; "
                "nothing was stored. See it with `hazards plan show "
                f"{report['name']}`, or choose another name."
            )
        for b in report["batches"]:
            bid = conn.execute(
                text(
                    "INSERT INTO batches (admin_code, plan_id, plan_name, name, seq, budget_cny, "
                    "cost_cny) VALUES (:a, :p, :pn, :n, :seq, :b, :c) RETURNING id"
                ),
                {
                    "a": admin,
                    "p": pid,
                    "pn": report["name"],
                    "n": b["name"],
                    "seq": b["seq"],
                    "b": report["budget_cny"],
                    "c": b["cost_cny"],
                },
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO batch_items (batch_id, hazard_id, cost_cny) "
                    "SELECT :b, h.id, v.cost FROM unnest(CAST(:ids AS text[]), CAST(:costs AS float8[])) "
                    "AS v(pid, cost) JOIN hazards h ON h.public_id = v.pid"
                ),
                {
                    "b": bid,
                    "ids": [i["id"] for i in b["items"]],
                    "costs": [i["cost_cny"] for i in b["items"]],
                },
            )


def list_plans(engine: Engine) -> list[dict[str, Any]]:
    """The county's plans with their status, budget, spending, batch and hazard counts, oldest
    first."""
    sql = f"""
        SELECT p.name, p.status, p.budget_cny, p.spent_cny, count(DISTINCT b.id) AS batches,
               count(bi.hazard_id) AS hazards, p.created_at, p.committed_at
        FROM plans p LEFT JOIN batches b ON b.plan_id = p.id
        LEFT JOIN batch_items bi ON bi.batch_id = b.id
        WHERE p.{COUNTY_ROW}
        GROUP BY p.id ORDER BY p.created_at, p.name
    """
    with engine.connect() as conn:
        rows = conn.execute(text(sql), {"admin": county()}).mappings().all()
        return [dict(r) for r in rows]


def get_plan(engine: Engine, name: str) -> dict[str, Any]:
    """The county's plan ``name``: its ``id``, ``status`` and ``report`` (as created);
    :class:`NotFound` if none."""
    with engine.connect() as conn:
        return find_plan(conn, name, columns="id, status, report")


def find_plan(
    conn: Connection, name: str, *, columns: str = "id, status", lock: bool = False
) -> dict[str, Any]:
    """The ``columns`` of the county's plan ``name`` (``lock``: locked for update);
    :class:`NotFound` if none, saying where a plan of that name is (:func:`.counties.not_here`)."""
    row = (
        conn.execute(
            text(
                f"SELECT {columns} FROM plans WHERE name = :n AND {COUNTY_ROW}"
                + (" FOR UPDATE" if lock else "")
            ),
            {"n": name, "admin": county()},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(
            f"No plan named {name!r}. `hazards plan list` shows the plans."
            + not_here(conn, "plans", name)
        )
    return dict(row)


def _locked_plan(conn: Connection, name: str) -> dict[str, Any]:
    return find_plan(conn, name, lock=True)


def commit_plan(
    engine: Engine,
    name: str,
    *,
    by: str | None = None,
    on: Any = None,
    check: Callable[[str, str, str], None] = check_transition,
    wait: bool = True,
    on_wait: WaitNotice | None = None,
) -> dict[str, Any]:
    """Make a draft plan binding: its hazards become ``planned`` (one event each, dated ``on``,
    today by default), its batches ``issued``. Each hazard's change to ``planned`` is checked
    with ``check(public_id, current, to)`` (the transition table by default), and may not be
    dated before the hazard's last event; if any is refused, nothing changes. One plan commit
    at a time (:func:`~hazards.db.store.locks.writer_lock` with ``wait`` and ``on_wait``)."""
    with engine.begin() as conn:
        writer_lock(
            conn, "plan commit", what=f"the commit of plan {name}", wait=wait, on_wait=on_wait
        )
        plan = _locked_plan(conn, name)
        if plan["status"] != "draft":
            raise InputError(f"Plan {name!r} is already committed.")
        items = (
            conn.execute(
                text(
                    f"SELECT h.id, h.public_id, h.status, b.name AS batch, {LAST_CHANGE_ON} AS last_on "
                    "FROM batch_items bi "
                    "JOIN batches b ON b.id = bi.batch_id JOIN hazards h ON h.id = bi.hazard_id "
                    "WHERE b.plan_id = :p ORDER BY h.id FOR UPDATE OF h"
                ),
                {"p": plan["id"]},
            )
            .mappings()
            .all()
        )
        if not items:
            raise InputError(
                f"Plan {name!r} funds no hazard: committing it would bind nothing. Drop it "
                f"(hazards plan drop {name}) and create it again with a budget that funds work "
                "(in yuan: 3000000, or 300万)."
            )
        stale = [i["public_id"] for i in items if not _allowed(check, i["public_id"], i["status"])]
        if stale:
            raise InputError(
                f"Plan {name!r} includes hazards that are no longer open ({', '.join(stale[:10])}"
                f"{' ...' if len(stale) > 10 else ''}): another plan or a status change took them. "
                "Drop the plan and create it again."
            )
        if on is not None:
            late = [i for i in items if i["last_on"] is not None and i["last_on"] > on]
            if late:
                i = max(late, key=lambda i: i["last_on"])
                raise InputError(
                    f"Plan {name!r} cannot be committed on {on}: hazard {i['public_id']} last "
                    f"changed on {i['last_on']} ({len(late)} hazards changed after {on}). Give a "
                    "date on or after that. Nothing was changed.",
                    param="on",
                )
        conn.execute(
            text(
                "INSERT INTO hazard_events (hazard_id, kind, happened_on, by, from_status, to_status, note) "
                "SELECT h.id, 'status', coalesce(CAST(:on AS date), current_date), :by, h.status, "
                "'planned', 'plan ' || :n || ', batch ' || b.name "
                "FROM batch_items bi JOIN batches b ON b.id = bi.batch_id JOIN hazards h ON h.id = bi.hazard_id "
                "WHERE b.plan_id = :p"
            ),
            {"by": by, "n": name, "p": plan["id"], "on": on},
        )
        conn.execute(
            text(
                "UPDATE hazards h SET status = 'planned', version = version + 1, updated_at = now() "
                "FROM batch_items bi JOIN batches b ON b.id = bi.batch_id "
                "WHERE bi.hazard_id = h.id AND b.plan_id = :p"
            ),
            {"p": plan["id"]},
        )
        conn.execute(
            text("UPDATE batches SET status = 'issued' WHERE plan_id = :p"), {"p": plan["id"]}
        )
        conn.execute(
            text("UPDATE plans SET status = 'committed', committed_at = now() WHERE id = :p"),
            {"p": plan["id"]},
        )
    return {"plan": name, "status": "committed", "hazards_planned": len(items)}


def _allowed(check: Callable[[str, str, str], None], public_id: str, current: str) -> bool:
    """Whether ``check`` lets the hazard go from ``current`` to ``planned``."""
    try:
        check(public_id, current, "planned")
    except InputError:
        return False
    return True


def drop_plan(engine: Engine, name: str) -> dict[str, Any]:
    """Delete a draft plan with its batches; a committed plan cannot be dropped."""
    with engine.begin() as conn:
        plan = _locked_plan(conn, name)
        if plan["status"] != "draft":
            raise InputError(
                f"Plan {name!r} is committed: its batches are under way and it cannot be dropped."
            )
        conn.execute(text("DELETE FROM plans WHERE id = :p"), {"p": plan["id"]})
    return {"plan": name, "dropped": True}
