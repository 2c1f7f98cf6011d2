"""What a contractor login calls: who is connected, and a completion recorded through the
database's ``hazards_record_completion`` (``SECURITY DEFINER``, migration 0005).

A contractor's role may read its own batches (row-level security) but not write any table; the
function checks its contractor, the transition table (``status_transitions``), the version read
and the dates, then changes the status and appends the event with the login in ``recorded_by``.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hazards.errors import ConflictError, InputError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

COMPLETION_FUNCTION = "hazards_record_completion(text, text, date, text, text, text, integer)"


def connected_user(engine: Engine) -> dict[str, Any]:
    """The connected database user: ``user``, ``superuser``, its ``groups`` (the ``hazards_*``
    roles it belongs to), its ``contractor`` (contractor logins), whether it may change hazards
    directly (``writes_hazards``), whether it reports completions through the function
    (``reports_completions``: it may call it and may not write the hazards), and whether it may
    import a completion report at all (``imports_completions``: one way or the other)."""
    sql = f"""
        SELECT current_user AS user, r.rolsuper AS superuser,
               ARRAY(SELECT g.rolname::text FROM pg_roles g
                      WHERE g.rolname LIKE 'hazards\\_%' AND NOT g.rolcanlogin
                        AND pg_has_role(current_user, g.oid, 'MEMBER')
                      ORDER BY 1) AS groups,
               (SELECT uc.contractor FROM user_contractors uc
                 WHERE uc.role_name = current_user) AS contractor,
               has_table_privilege('hazards', 'UPDATE') AS writes_hazards,
               has_function_privilege('{COMPLETION_FUNCTION}', 'EXECUTE') AS may_report
        FROM pg_roles r WHERE r.rolname = current_user
    """
    with engine.connect() as conn:
        row = dict(conn.execute(text(sql)).mappings().one())
    row["groups"] = [] if row["superuser"] else list(row["groups"])
    row["reports_completions"] = bool(row.pop("may_report")) and not row["writes_hazards"]
    row["imports_completions"] = bool(row["writes_hazards"] or row["reports_completions"])
    return row


def record_completion(
    engine: Engine,
    public_id: str,
    *,
    to: str,
    on: dt.date,
    by: str | None,
    note: str | None,
    evidence: str | None,
    version: int | None,
    conn: Connection | None = None,
) -> int:
    """Record one completion (``to`` is ``in_progress`` or ``reported_done``) through the
    database function, as the connected contractor login; returns the hazard's new version.

    The function's refusals become :class:`~hazards.errors.InputError` (transition, dates),
    :class:`~hazards.errors.ConflictError` (changed since read) or, for a hazard outside the
    contractor's batches, :class:`~hazards.errors.PermissionRefused` (SQLSTATE 42501).
    With ``conn``, in that connection's transaction."""
    try:
        with engine.begin() if conn is None else nullcontext(conn) as conn:
            return int(
                conn.execute(
                    text("SELECT hazards_record_completion(:p, :to, :on, :by, :note, :ev, :v)"),
                    {
                        "p": public_id,
                        "to": to,
                        "on": on,
                        "by": by,
                        "note": note,
                        "ev": evidence,
                        "v": version,
                    },
                ).scalar_one()
            )
    except DBAPIError as exc:
        state = getattr(exc.orig, "sqlstate", None)
        message = (str(exc.orig).strip().splitlines() or [""])[0]
        if state == "HZ409":
            raise ConflictError(message + " Nothing was changed; read it again.") from None
        if state == "HZ400":
            raise InputError(message) from None
        raise
