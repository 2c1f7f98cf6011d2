"""Users of a shared database: add, list, change the password of and revoke the login roles of
engineers, planners, contractors, viewers and admins (docs/shared-server.md).

What each role may do is decided by PostgreSQL (GRANTs and row-level security, migration
0005), not here: these verbs only manage the logins. They run as the connected user, which
must be allowed to manage roles: the embedded database's own user, or an admin login of a
shared server (``HAZARDS_DATABASE_URL``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hazards.errors import InputError, InputFileNotFound

if TYPE_CHECKING:
    from sqlalchemy import Engine

ROLE_HELP = {
    "viewer": "reads everything, changes nothing",
    "engineer": "review decisions, tiers and overrides, status changes, re-checks",
    "planner": "plans, batches and their contractors, exports",
    "contractor": "its own batches only: exports them, reports their completions",
    "admin": "everything: roads, surveys, users",
}
"""One line per role, for ``--help`` and ``users list`` (the database holds the rules)."""

MIN_PASSWORD = 8


def read_password_file(path: str | Path) -> str:
    """The password in the first line of ``path`` (its line break is not part of it)."""
    p = Path(path)
    try:
        first = p.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise InputFileNotFound(
            f"{p}: no such file. Write the password on the first line of a file only you can read.",
            param="password_file",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot be read ({exc}).", param="password_file") from None
    return first[0] if first else ""


def check_password(password: str) -> str:
    """``password`` if it is usable (at least 8 characters, no line break); else InputError."""
    if len(password) < MIN_PASSWORD or "\n" in password or "\r" in password:
        raise InputError(
            f"The password is shorter than {MIN_PASSWORD} characters (or holds a line break); "
            "choose a longer one.",
            param="password_file",
        )
    return password


def add_user(
    name: str,
    *,
    role: str,
    password: str,
    contractor: str | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Create the login ``name`` with ``role`` (a contractor login needs its ``contractor``:
    the name in the batches' contractor field)."""
    from hazards.db import users
    from hazards.db.session import get_engine

    if role not in users.ROLES:
        raise InputError(f"{role!r} is not a role: use {', '.join(users.ROLES)}.", param="role")
    contractor = (contractor or "").strip() or None
    if role == "contractor" and contractor is None:
        raise InputError(
            "A contractor login needs the contractor it works for (the name given to its "
            "batches with `batch set --contractor`).",
            param="contractor",
        )
    if role != "contractor" and contractor is not None:
        raise InputError(
            f"Only a contractor login has a contractor; {'an' if role[0] in 'aeiou' else 'a'} "
            f"{role} sees every batch.",
            param="contractor",
        )
    users.check_name(name)
    check_password(password)
    engine = engine or get_engine()
    out = users.add_user(engine, name, role=role, password=password, contractor=contractor)
    named = users.batch_contractors(engine) if contractor is not None else []
    if contractor is not None and contractor not in named:  # a typo would see nothing
        out["warning"] = (
            f"no batch names the contractor {contractor!r} yet, so {name} sees nothing until "
            "one does (`hazards batch set BATCH --contractor NAME`)"
            + (f"; the batches name: {', '.join(named[:10])}" if named else "")
            + ". Check the spelling."
        )
    return out


def list_users(*, engine: Engine | None = None) -> list[dict[str, Any]]:
    """Every login in a hazards role on this server: name, roles, contractor, login allowed."""
    from hazards.db import users
    from hazards.db.session import get_engine

    return users.list_users(engine or get_engine())


def set_password(name: str, *, password: str, engine: Engine | None = None) -> None:
    """Give the user ``name`` a new password."""
    from hazards.db import users
    from hazards.db.session import get_engine

    check_password(password)
    users.set_password(engine or get_engine(), name, password)


def revoke_user(name: str, *, engine: Engine | None = None) -> dict[str, Any]:
    """Take away the user's access (its login is dropped; its name stays in the history)."""
    from hazards.db import users
    from hazards.db.session import get_engine

    return users.revoke_user(engine or get_engine(), name)


def whoami(*, engine: Engine | None = None) -> dict[str, Any]:
    """The connected user: name, its hazards roles, its contractor, and how it reports."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.connected_user(engine or get_engine())
