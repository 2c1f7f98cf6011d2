"""Database users: login roles in the ``hazards_*`` groups of migration 0005, their passwords and
the contractor each contractor login works for.

Roles are cluster-wide in PostgreSQL (one login serves every database of the server); the
contractor of a login is recorded in the database (``user_contractors``). Passwords never reach
the server in clear: the SCRAM-SHA-256 verifier is computed here (libpq's
``PQencryptPasswordConn``) and only it is sent, so no server log or statement statistic holds
a password.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hazards.errors import ConflictError, InputError, NotFound

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

GROUPS: dict[str, str] = {
    "viewer": "hazards_viewer",
    "engineer": "hazards_engineer",
    "planner": "hazards_planner",
    "contractor": "hazards_contractor",
    "admin": "hazards_admin",
}
"""The role a user is given (``--role``) → the group role of the database (migration 0005)."""

ROLES = tuple(GROUPS)

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def check_name(name: str) -> str:
    """The user name if it is a plain PostgreSQL name that is not reserved; else InputError."""
    if not _NAME.fullmatch(name or ""):
        raise InputError(
            f"{name!r} cannot be a user name: use lower-case letters, digits and _ (starting "
            "with a letter or _), at most 63 characters, e.g. lu_qiao or zhang_wei.",
            param="name",
        )
    if name.startswith(("pg_", "hazards_")) or name in ("public", "postgres"):
        raise InputError(
            f"{name!r} is reserved (pg_*, hazards_*, public, postgres); choose another name.",
            param="name",
        )
    return name


def _ident(name: str) -> str:
    """``name`` quoted as an identifier for statements that take no parameters."""
    if "%" in name or "\x00" in name:
        raise InputError(f"{name!r} cannot be a user name.", param="name")
    return '"' + name.replace('"', '""') + '"'


def _verifier(conn: Connection, name: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of ``password`` for ``name``, computed on this side."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return bytes(
        raw.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
    ).decode()


def _literal(value: str) -> str:
    # Only verifiers go through here: base64, digits, '$' and ':' (checked, never a quote).
    if not re.fullmatch(r"[A-Za-z0-9+/=$:-]+", value):
        raise ValueError("unexpected characters in a password verifier")
    return f"'{value}'"


def _role(conn: Connection, name: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            text(
                "SELECT r.rolname AS name, r.rolcanlogin AS login, r.rolsuper AS superuser, "
                "ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g "
                "ON g.oid = m.roleid WHERE m.member = r.oid AND g.rolname = ANY(:groups) "
                "ORDER BY 1) AS groups FROM pg_roles r WHERE r.rolname = :n"
            ),
            {"n": name, "groups": list(GROUPS.values())},
        )
        .mappings()
        .one_or_none()
    )
    return None if row is None else dict(row)


def role_exists(engine: Engine, name: str) -> bool:
    """Whether the cluster has a role called ``name``."""
    with engine.connect() as conn:
        return _role(conn, name) is not None


def add_user(
    engine: Engine, name: str, *, role: str, password: str, contractor: str | None = None
) -> dict[str, Any]:
    """Create the login ``name`` in the group of ``role`` (and record its contractor)."""
    group = GROUPS[role]
    check_name(name)
    with engine.begin() as conn:
        if _role(conn, name) is not None:
            raise ConflictError(
                f"A database user {name!r} already exists on this server (users are shared "
                "by every database of the server). Choose another name, or change its "
                "password with `hazards users set-password`.",
            )
        me = conn.execute(
            text(
                "SELECT rolsuper, rolbypassrls, current_setting('server_version_num')::int "
                "AS version FROM pg_roles WHERE rolname = current_user"
            )
        ).one()
        # Only a superuser may give BYPASSRLS before PostgreSQL 16; from 16 on, a role that
        # has it (and CREATEROLE) too.
        bypass = bool(me.rolsuper or (me.rolbypassrls and me.version >= 160000))
        extra = ""
        if role == "admin":
            # Admins create users (CREATEROLE is an attribute: not inherited from the group);
            # BYPASSRLS lets them load surveys (COPY into hazards), when we may grant it.
            extra = " CREATEROLE" + (" BYPASSRLS" if bypass else "")
        conn.exec_driver_sql(
            f'CREATE ROLE "{name}" LOGIN{extra} PASSWORD {_literal(_verifier(conn, name, password))} '
            f'IN ROLE "{group}"'
        )
        # A record of a login of that name that no longer exists (a database restored on
        # another server: the dump holds the records, not the logins) is not this login's.
        conn.execute(text("DELETE FROM user_contractors WHERE role_name = :n"), {"n": name})
        if contractor is not None:
            conn.execute(
                text("INSERT INTO user_contractors (role_name, contractor) VALUES (:n, :c)"),
                {"n": name, "c": contractor},
            )
    return {
        "name": name,
        "role": role,
        "contractor": contractor,
        "bypass_rls": role == "admin" and bypass,
    }


def batch_contractors(engine: Engine) -> list[str]:
    """The contractors the batches name (what a contractor login's contractor must match)."""
    with engine.connect() as conn:
        sql = "SELECT DISTINCT contractor FROM batches WHERE contractor IS NOT NULL ORDER BY 1"
        return list(conn.execute(text(sql)).scalars())


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """Every role in a ``hazards_*`` group: name, roles, contractor (of this database; None and
    ``contractor_hidden`` where the caller may not read it: contractor names are shown to
    admins), whether it may log in, and when its password expires. A contractor login is
    shown itself only (not the other firms' logins)."""
    sql = """
        SELECT r.rolname AS name,
               array_agg(g.rolname::text ORDER BY g.rolname) AS groups,
               (SELECT uc.contractor FROM user_contractors uc WHERE uc.role_name = r.rolname)
                 AS contractor,
               r.rolcanlogin AS login, r.rolvaliduntil AS valid_until
        FROM pg_roles r
        JOIN pg_auth_members m ON m.member = r.oid
        JOIN pg_roles g ON g.oid = m.roleid
        WHERE g.rolname = ANY(:groups)
        GROUP BY r.oid, r.rolname, r.rolcanlogin, r.rolvaliduntil
        ORDER BY r.rolname
    """
    by_group = {g: r for r, g in GROUPS.items()}
    with engine.connect() as conn:
        rows = conn.execute(text(sql), {"groups": list(GROUPS.values())}).mappings().all()
        me, admin, contractor_login = conn.execute(
            text(
                "SELECT current_user, pg_has_role(current_user, :a, 'MEMBER') OR r.rolsuper "
                "OR has_table_privilege('user_contractors', 'UPDATE'), "
                "pg_has_role(current_user, :c, 'MEMBER') "
                "FROM pg_roles r WHERE r.rolname = current_user"
            ),
            {"c": GROUPS["contractor"], "a": GROUPS["admin"]},
        ).one()
        contractor_login = contractor_login and not admin
    out = []
    for r in rows:
        if contractor_login and r["name"] != me:
            continue
        roles = [by_group[g] for g in r["groups"]]
        # every contractor login has a contractor: one not read is hidden from this login
        # (an admin reads them all: none is another database's contractor login here)
        hidden = "contractor" in roles and r["contractor"] is None and not admin
        out.append(
            {
                "name": r["name"],
                "roles": roles,
                "contractor": r["contractor"],
                "contractor_hidden": hidden,
                "login": r["login"],
                "valid_until": r["valid_until"],
            }
        )
    return out


def _hazards_user(conn: Connection, name: str) -> dict[str, Any]:
    found = _role(conn, name)
    if found is None or not found["groups"]:
        raise NotFound(
            f"No hazards user {name!r} on this server. `hazards users list` shows them.",
            param="name",
        )
    return found


def set_password(engine: Engine, name: str, password: str) -> None:
    """Give the hazards user ``name`` a new password."""
    with engine.begin() as conn:
        _hazards_user(conn, name)
        conn.exec_driver_sql(
            f"ALTER ROLE {_ident(name)} PASSWORD {_literal(_verifier(conn, name, password))}"
        )


def revoke_user(engine: Engine, name: str) -> dict[str, Any]:
    """Take away the user's access: its contractor record goes and its login is dropped; a
    role that still owns something elsewhere (``DROP ROLE`` refuses) loses its groups and its
    right to log in instead. Events keep its name (``recorded_by`` is text)."""
    with engine.begin() as conn:
        found = _hazards_user(conn, name)
        me = conn.execute(text("SELECT current_user")).scalar_one()
        if me == name:
            raise InputError(
                f"You are connected as {name}; connect as another administrator to revoke it.",
                param="name",
            )
        conn.execute(text("DELETE FROM user_contractors WHERE role_name = :n"), {"n": name})
        dropped = True
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(f"DROP ROLE {_ident(name)}")
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != "2BP01":  # dependent objects
                raise
            dropped = False
            conn.exec_driver_sql(f"REVOKE {', '.join(found['groups'])} FROM {_ident(name)}")
            conn.exec_driver_sql(f"ALTER ROLE {_ident(name)} NOLOGIN")
    return {"name": name, "dropped": dropped, "roles": found["groups"]}
