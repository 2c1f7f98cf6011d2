"""Connections: which database to use, the SQLAlchemy engine, and migrations on first use.

SQLAlchemy is imported inside the functions that use it: the quick read-only commands
(``chainage locate``) take a plain psycopg connection from :func:`quick_connection` and start in
a fraction of a second without it.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from hazards.db.server import ManagedServer, ServerInfo
from hazards.errors import DatabaseError, HazardsError, PermissionRefused
from hazards.settings import Settings, get_settings

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def managed_server(settings: Settings | None = None) -> ManagedServer:
    s = settings or get_settings()
    return ManagedServer(s.home, pg_bin=s.pg_bin, pg_user=s.pg_user, start_timeout=s.start_timeout)


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` URLs; use the psycopg 3 driver."""
    url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url.strip())
    if not url.startswith("postgresql+psycopg://"):
        raise DatabaseError(
            f"HAZARDS_DATABASE_URL must be a PostgreSQL URL such as "
            f"postgresql://user:password@host:5432/dbname, not {mask_url(url)!r}."
        )
    return url


def mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r":[^:@/]+@", ":***@", url)


def database_url(settings: Settings | None = None, *, start: bool = True) -> str:
    """The SQLAlchemy URL to use: ``HAZARDS_DATABASE_URL`` or the embedded cluster's."""
    s = settings or get_settings()
    if s.database_url:
        return normalise_url(s.database_url)
    server = managed_server(s)
    return server.url(started(server, s) if start else server.read_info())


def started(server: ManagedServer, settings: Settings) -> ServerInfo:
    """The embedded cluster started (:meth:`ManagedServer.ensure_running`), saying on stderr
    when it was made just now: a command run from another folder, or with ``HAZARDS_HOME``
    mistyped, would otherwise show an empty inventory (or import into it) without a word."""
    new = server.read_info() is None
    info = server.ensure_running()
    if server.port_moved and not new:  # the URLs given out (`db url --as`) name the old port
        was, now = server.port_moved
        sys.stderr.write(
            f"内置数据库原来的端口 {was} 被其他程序占用，现改用端口 {now}：请把新的连接地址"
            "（`hazards db url --as 用户名`）重新发给各位用户。\n"
            if settings.lang == "zh"
            else f"The embedded database's port {was} was taken by another program; it now "
            f"listens on {now}: give the logins their new URLs (`hazards db url --as NAME`).\n"
        )
    if new:
        sys.stderr.write(
            f"已在 {server.home} 新建内置数据库（那里原先没有数据库）。如果数据在别的文件夹，请在那里运行，"
            "或设置 HAZARDS_HOME。\n"
            if settings.lang == "zh"
            else f"Made a new embedded database in {server.home} (there was none). If your data "
            "is in another folder, run from there or set HAZARDS_HOME.\n"
        )
    return info


CONNECT_ARGS = {"connect_timeout": 10, "options": "-c jit=off"}
"""What every connection is opened with (the engines' and :func:`quick_connection`'s)."""


@functools.lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    engine = create_engine(url, pool_pre_ping=True, connect_args=dict(CONNECT_ARGS))
    event.listen(engine, "handle_error", _refused)
    return engine


def permission_refused(
    exc: BaseException, user: str | None, statement: str | None = None
) -> PermissionRefused | None:
    """PostgreSQL's "permission denied" (SQLSTATE 42501: a GRANT, a row-level security policy
    or ``hazards_record_completion`` said no) as a one-line :class:`PermissionRefused`; None
    for any other error. ``exc`` is the driver's error; ``statement``, the SQL refused (a
    query is told as reading, anything else as changing)."""
    if getattr(exc, "sqlstate", None) != "42501":
        return None
    reason = (str(exc).strip().splitlines() or ["permission denied"])[0].rstrip(".")
    table = re.search(
        r'permission denied for (?:table|view|relation) "?(\w+)|policy .* for table "(\w+)"', reason
    )
    what = ""
    if table is not None:
        name = table.group(1) or table.group(2)
        held = _TABLE_WORDS.get(name, name.replace("_", " "))
        verb = "read or change"
        if statement is not None:
            # a query, not one that locks rows to change them (FOR UPDATE/SHARE) nor a CTE that
            # writes
            query = re.match(r"\s*(?:SELECT|WITH)\b", statement, re.I) and not re.search(
                r"\b(?:UPDATE|INSERT|DELETE|SHARE)\b", statement, re.I
            )
            verb = "read" if query else "change"
        what = (
            f"its role may not {verb} {held}"
            if table.group(1)
            else f"its role may not make this change to {held}"
        )
        if table.group(2):  # a row-level security policy: its name means nothing to a user
            reason = f"row-level security of table {name}"
    return PermissionRefused(
        f"The database refused this for user {user or '(unknown)'}: "
        f"{what or 'its role does not allow it'} ({reason}). Ask the office's hazards "
        "administrator (`hazards users list` shows who may do what; see "
        "docs/shared-server.md)."
    )


_TABLE_WORDS = {
    "plans": "remediation plans",
    "batches": "batches",
    "batch_items": "the hazards of batches",
    "hazards": "hazards",
    "hazard_events": "hazards' histories",
    "hazard_history": "hazards' histories",
    "surveys": "surveys",
    "crashes": "crash records",
    "rechecks": "re-checks (回头看)",
    "user_contractors": "users' contractors",
    "route_aliases": "route aliases",
    "roads": "roads",
    "road_segments": "road segments",
    "writer_locks": "who is writing",
    "metadata": "the database's settings",
}
"""What each table holds, in a refusal's words."""


def _refused(context: Any) -> None:
    """The engines' ``handle_error`` hook: raise :func:`permission_refused`'s error instead."""
    orig = context.original_exception
    user = context.engine.url.username if context.engine is not None else None
    refused = permission_refused(orig, user, getattr(context, "statement", None))
    if refused is not None:
        raise refused from orig


def connect_check(engine: Engine) -> None:
    """Raise a one-paragraph :class:`DatabaseError` if the database cannot be reached."""
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # psycopg / SQLAlchemy OperationalError and friends
        raise _unreachable(engine.url.render_as_string(False), exc) from exc


def _unreachable(url: str, exc: Exception) -> DatabaseError:
    """:func:`connect_check`'s error: the database at ``url`` refused the connection."""
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()
    return DatabaseError(
        f"Cannot connect to the database at {mask_url(url)}: "
        f"{reason[0] if reason else exc.__class__.__name__}. Check that the server is "
        "running and that host, port, user, password and database name in "
        "HAZARDS_DATABASE_URL are right, or unset HAZARDS_DATABASE_URL to use the "
        "embedded database."
    )


def include_object(
    obj: Any, name: str | None, obj_type: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic autogenerate filter: only our tables, geometry-aware (GeoAlchemy2's helper)."""
    from geoalchemy2 import alembic_helpers

    from hazards.db.models import Base

    if obj_type == "table" and reflected and name not in Base.metadata.tables:
        return False  # PostGIS's spatial_ref_sys and anything else that is not ours
    return bool(alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to))


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*['\"]?([\w]+)['\"]?", re.M)


def quick_head_revision() -> str | None:
    """The head revision read from the migration files' ``revision``/``down_revision`` lines,
    without importing Alembic; None when they do not give exactly one head (then ask Alembic)."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {m.group(1): m.group(2) for m in _REVISION_LINE.finditer(path.read_text("utf-8"))}
        if "revision" not in found:
            return None  # a file we cannot read this way
        revisions.add(found["revision"])
        if found.get("down_revision") not in (None, "None"):
            downs.add(found["down_revision"])
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in ``alembic_version`` (one SQL); None if there is none yet."""
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except Exception:  # no alembic_version table: a new database
        return None
    return rows[0][0] if len(rows) == 1 else None


def migrate(engine: Engine, *, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (``head`` by default).

    On a shared server whose user may not create the PostGIS extension or tables, a
    :class:`DatabaseError` says which right is missing and the SQL an administrator runs.
    """
    from alembic import command
    from alembic.util.exc import CommandError

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except PermissionRefused as exc:
        raise DatabaseError(_setup_rights_message(engine, exc)) from None
    except CommandError as exc:
        at = current_revision(engine)
        if revision != "head" or at is None or "Can't locate revision" not in str(exc):
            raise
        raise DatabaseError(
            f'The database "{engine.url.database}" is at schema revision {at}, which this '
            f"hazards does not know: its newest is {head_revision()}. The database was set up "
            "by a newer hazards; use that version, or upgrade this one."
        ) from None


def _setup_rights_message(engine: Engine, exc: PermissionRefused) -> str:
    """What an administrator runs so that the schema can be set up (one paragraph)."""
    from sqlalchemy import text

    user, db = engine.url.username or "(this user)", engine.url.database or "(this database)"
    try:
        at = current_revision(engine)
        if at is not None:  # set up before: whether this user owns the tables it would change
            with engine.connect() as conn:
                owns = conn.execute(
                    text(
                        "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c "
                        "WHERE c.oid = to_regclass('alembic_version')"
                    )
                ).scalar()
            at = None if owns else at
    except Exception:  # the connection itself refused: the rights below say more
        at = None
    if at is not None:  # set up by an older hazards, owned by another: its owner upgrades it
        return (
            f'The database "{db}" is at schema revision {at} and this hazards needs '
            f'{head_revision()}; user "{user}" may not upgrade it (it does not own the '
            "tables). Its owner (or an admin login that owns them) runs `hazards db migrate` "
            "once; then run the command again."
        )
    cause = exc.__cause__
    reason = (str(cause).strip().splitlines() or [""])[0].rstrip(".") if cause else exc.message
    fixes = []
    try:
        with engine.connect() as conn:
            has_postgis = conn.execute(
                text("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'")
            ).scalar_one()
            may_create = conn.execute(
                text("SELECT has_schema_privilege(current_user, 'public', 'CREATE')")
            ).scalar_one()
    except Exception:  # the connection itself refused: say what the error said
        has_postgis, may_create = "extension" not in reason.lower(), "extension" in reason.lower()
    if not has_postgis:
        fixes.append("CREATE EXTENSION IF NOT EXISTS postgis;")
    if not may_create:
        fixes.append(f'GRANT CREATE ON SCHEMA public TO "{user}";')
    fix = " ".join(fixes) or f'GRANT ALL ON SCHEMA public TO "{user}";'
    return (
        f'The inventory\'s tables cannot be set up in database "{db}" as user "{user}": '
        f'{reason}. An administrator of that server runs, in database "{db}": {fix} '
        "Then run `hazards db migrate` again (or run it once as the database owner)."
    )


def downgrade(engine: Engine, *, revision: str = "base") -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def get_engine(settings: Settings | None = None, *, migrate_to_head: bool = True) -> Engine:
    """The engine of the configured database, started, reachable and migrated to head."""
    engine = _engine_for(database_url(settings))
    connect_check(engine)
    if not migrate_to_head:
        return engine
    # The usual case, already at head, is decided without importing Alembic (startup time).
    head = quick_head_revision()
    if head is not None and stored_revision(engine) == head:
        return engine
    if current_revision(engine) != head_revision():
        migrate(engine)
    return engine


_PLAIN_URL = re.compile(
    r"^postgresql\+psycopg://(?P<user>[^:/@?#\[\]]+):(?P<password>[^@/?#]*)"
    r"@(?P<host>[A-Za-z0-9.\-]+):(?P<port>\d{1,5})/(?P<dbname>[^/?#@]+)$"
)
"""The URLs :func:`quick_connection` opens itself: ``user:password@host:port/dbname``, no query
options (any other form goes through SQLAlchemy, which reads it as it always has)."""


def quick_connection(settings: Settings | None = None) -> psycopg.Connection[Any] | None:
    """A plain psycopg connection (autocommit, no SQLAlchemy) to the configured database when it
    is plainly ready to read, for the commands that must start at once (``chainage locate``).

    Ready means: the embedded server is up by :meth:`ManagedServer.running_quick` (its
    ``postmaster.pid`` names a live process on the recorded port; it is never started here),
    or ``HAZARDS_DATABASE_URL`` is a plain ``user:password@host:port/dbname`` URL; and the
    schema is at head. None when anything needs a closer look: the caller then uses
    :func:`get_engine`, which starts the server, migrates and reports problems as always. A
    database that refuses the connection raises :func:`connect_check`'s error.
    """
    s = settings or get_settings()
    try:
        if s.database_url:
            url = normalise_url(s.database_url)
        else:
            server = managed_server(s)
            info = server.running_quick()
            if info is None:
                return None
            url = server.url(info)
    except HazardsError:
        return None
    m = _PLAIN_URL.match(url)
    head = quick_head_revision()
    if m is None or head is None:
        return None
    import psycopg

    try:
        conn = psycopg.connect(
            host=m["host"],
            port=int(m["port"]),
            user=unquote(m["user"]),
            password=unquote(m["password"]),
            dbname=unquote(m["dbname"]),
            autocommit=True,
            **CONNECT_ARGS,  # type: ignore[arg-type]
        )
    except psycopg.OperationalError as exc:
        raise _unreachable(url, exc) from exc
    except psycopg.Error:
        return None
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except psycopg.Error:
        rows = []
    if len(rows) != 1 or rows[0][0] != head:
        conn.close()
        return None
    return conn
