"""Counties in one database: the road network of each is stored under its code (``admin_code``,
the ``HAZARDS_ADMIN_CODE`` setting), so two counties' routes of one code are two routes.

Roads stored without a code (before a county set its code, or by an earlier version, which
stored every road without one) are not seen under a code, nor roads stored under codes without
one: :func:`check_county` says so rather than letting a command find no network, and
:func:`adopt_roads` gives them a county's code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from hazards.db.store.locks import writer_lock
from hazards.errors import InputError
from hazards.settings import county

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

ROAD_TABLES = ("roads", "road_segments", "route_aliases")
"""The road network's tables: a county's rows of each carry its code."""
ADOPTED = (*ROAD_TABLES, "crashes")
"""What :func:`adopt_roads` gives the code: the network and the crashes placed on it (read
under the code, as their import stores them); and the plans and batches of its hazards
(:data:`_ADOPTABLE_PLANS`). Surveys and hazards keep theirs: a hazard's code is part of its
history (migration 0018), and hazards are found by their roads."""

_ADOPTABLE_PLANS = """
    SELECT g.plan_id, g.batch_id FROM (
        SELECT p.id AS plan_id, NULL::int AS batch_id FROM plans p WHERE p.admin_code = ''
        UNION ALL
        SELECT NULL, b.id FROM batches b WHERE b.admin_code = '' AND b.plan_id IS NULL
    ) g WHERE NOT EXISTS (
        SELECT 1 FROM batches b JOIN batch_items bi ON bi.batch_id = b.id
        JOIN hazards h ON h.id = bi.hazard_id LEFT JOIN roads r ON r.id = h.road_id
        WHERE (b.plan_id = g.plan_id OR b.id = g.batch_id)
          AND coalesce(r.admin_code, h.admin_code) NOT IN ('', :a))
"""
"""The plans stored without a county code (and batches of no plan) that :func:`adopt_roads`
gives county ``:a``'s code: those whose every hazard is on a road stored without a code or
under ``:a`` (or on none, stored so), as :data:`hazards.db.sql.COUNTY_HAZARD` reads them once
the roads have the code. A plan funding another county's hazards keeps no code."""

NAMED = {"plans": "plan", "batches": "batch"}
"""The tables whose rows a command names (``plan show NAME``, ``export batch NAME``): a name is
one county's (unique per code)."""


def not_here(conn: Connection, table: str, name: str, *, admin_code: str | None = None) -> str:
    """The end of a "no plan (batch) named ..." message: the county codes a row of that name is
    stored under, when not under ``admin_code`` (else the setting), with the code to set; else
    ""."""
    code = county(admin_code)
    codes = sorted(
        conn.execute(
            text(f"SELECT DISTINCT admin_code FROM {table} WHERE name = :n AND admin_code <> :a"),  # noqa: S608
            {"n": name, "a": code},
        ).scalars()
    )
    what = NAMED[table]
    named = [c for c in codes if c]
    if named:
        return (
            f" A {what} of that name is stored under county code {', '.join(named)}: to work "
            f"on it, set HAZARDS_ADMIN_CODE={named[0]}."
        )
    if codes:  # stored without a code only (before plans were stored under one)
        return (
            f" A {what} of that name is stored without a county code: if it is county "
            f"{code}'s, give it the code with `hazards roads adopt-code {code}`."
        )
    return ""


def plans_without_code(engine: Engine) -> int:
    """Plans (and batches of no plan) stored without a county code: under a code, no list shows
    them (``plan list`` says so)."""
    sql = (
        "SELECT (SELECT count(*) FROM plans WHERE admin_code = '') + (SELECT count(*) FROM "
        "batches WHERE admin_code = '' AND plan_id IS NULL)"
    )
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def county_routes(conn: Connection) -> dict[str, int]:
    """Routes stored per county code ('' for routes stored without one)."""
    rows = conn.execute(text("SELECT admin_code, count(*) FROM roads GROUP BY 1 ORDER BY 1"))
    return {str(code): int(n) for code, n in rows}


def check_county(engine: Engine, *, admin_code: str | None = None) -> None:
    """Nothing when the county (``admin_code``, else the setting) has roads, or when no road is
    stored without a code; else an :class:`InputError` saying that the roads stored without a
    code are not this county's and how to make them so (:func:`adopt_roads`). Without a code,
    when every road stored has one: an error naming the codes to set."""
    code = county(admin_code)
    with engine.connect() as conn:
        routes = county_routes(conn)
    if not code and routes and "" not in routes:
        codes = ", ".join(f"{c} ({n} routes)" for c, n in list(routes.items())[:5])
        raise InputError(
            "No county code is set (HAZARDS_ADMIN_CODE), and every route in this database "
            f"is stored under a county's code: {codes}. Set the county's code, e.g. "
            f"`export HAZARDS_ADMIN_CODE={next(iter(routes))}`, or `admin_code` in "
            "hazards.toml.",
            param="admin_code",
        )
    uncoded = routes.get("", 0)
    if not code or code in routes or not uncoded:
        return
    raise InputError(
        f"The county code is {code} (HAZARDS_ADMIN_CODE), but the {uncoded} route(s) in this "
        "database are stored without a county code, so county "
        f"{code} has no roads. If they are this county's roads, give them its code: "
        f"`hazards roads adopt-code {code}`. If they are another county's, give them that "
        "county's code the same way, then load this county's roads. Or unset "
        "HAZARDS_ADMIN_CODE to work on them as they are.",
        param="admin_code",
    )


def adopt_roads(engine: Engine, code: str) -> dict[str, Any]:
    """Give the road network stored without a county code (routes, their segments and
    aliases, and the crashes stored without one: :data:`ADOPTED`) the county code ``code``,
    with the plans and batches stored without one that fund its hazards
    (:data:`_ADOPTABLE_PLANS`), in one transaction (under the road load's lock); how many rows
    of each table, and ``plans_left``: plans (and batches of no plan) still without a code.
    Refused when ``code`` is empty, or when the county has a route, alias, crash (source and
    number), plan or batch of the same code or name already (nothing is changed)."""
    code = code.strip()
    if not code:
        raise InputError("Give the county code to store the roads under, e.g. 430981.")
    with engine.begin() as conn:
        writer_lock(conn, "road load", what=f"giving the roads the county code {code}")
        groups = conn.execute(text(_ADOPTABLE_PLANS), {"a": code}).all()
        plans = [p for p, _ in groups if p is not None]
        lone = [b for _, b in groups if b is not None]
        clash = list(
            conn.execute(
                text(
                    "SELECT a.route_code FROM roads a JOIN roads b ON b.route_code = a.route_code "
                    "AND b.admin_code = :a WHERE a.admin_code = '' UNION "
                    "SELECT a.alias FROM route_aliases a JOIN route_aliases b ON b.alias = a.alias "
                    "AND b.admin_code = :a WHERE a.admin_code = '' UNION "
                    "SELECT a.alias FROM route_aliases a JOIN roads b ON b.route_code = a.alias "
                    "AND b.admin_code = :a WHERE a.admin_code = '' UNION "
                    "SELECT a.route_code FROM roads a JOIN route_aliases b ON b.alias = "
                    "a.route_code AND b.admin_code = :a WHERE a.admin_code = '' UNION "
                    "SELECT 'crash ' || a.source || ' ' || a.crash_id FROM crashes a JOIN crashes b "
                    "ON b.source = a.source AND b.crash_id = a.crash_id AND b.admin_code = :a "
                    "WHERE a.admin_code = '' UNION "
                    "SELECT 'plan ' || a.name FROM plans a JOIN plans b ON b.name = a.name "
                    "AND b.admin_code = :a WHERE a.id = ANY(CAST(:p AS int[])) UNION "
                    "SELECT 'batch ' || a.name FROM batches a JOIN batches b ON b.name = a.name "
                    "AND b.admin_code = :a WHERE a.admin_code = '' AND (a.plan_id = ANY(CAST(:p AS int[])) OR "
                    "a.id = ANY(CAST(:l AS int[]))) ORDER BY 1 LIMIT 6"
                ),
                {"a": code, "p": plans, "l": lone},
            ).scalars()
        )
        if clash:
            shown = ", ".join(clash[:5]) + (", ..." if len(clash) > 5 else "")
            raise InputError(
                f"County {code} has routes, route aliases, crashes, plans or batches of the same "
                f"codes or names as ones stored without a county code: {shown}. Nothing was "
                "changed. Drop one of each first (`hazards roads drop CODE`; a draft plan with "
                "`hazards plan drop NAME`), with HAZARDS_ADMIN_CODE set to the county's code, "
                "or unset for the ones without a code. A committed plan cannot be dropped: "
                "the database's administrator must rename one of the two.",
                param="code",
            )
        moved = {}
        for table in ADOPTED:
            moved[table] = (
                conn.execute(
                    text(f"UPDATE {table} SET admin_code = :a WHERE admin_code = ''"), {"a": code}
                ).rowcount
                or 0
            )
        moved["plans"] = (
            conn.execute(
                text("UPDATE plans SET admin_code = :a WHERE id = ANY(CAST(:p AS int[]))"),
                {"a": code, "p": plans},
            ).rowcount
            or 0
        )
        moved["batches"] = (
            conn.execute(
                text(
                    "UPDATE batches SET admin_code = :a WHERE admin_code = '' AND "
                    "(plan_id = ANY(CAST(:p AS int[])) OR id = ANY(CAST(:l AS int[])))"
                ),
                {"a": code, "p": plans, "l": lone},
            ).rowcount
            or 0
        )
    return {"admin_code": code, **moved, "plans_left": plans_without_code(engine)}
