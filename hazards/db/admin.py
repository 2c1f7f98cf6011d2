"""Managing the database: status, start/stop of the embedded cluster, URL, migrations, backup
and restore."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from hazards.db import store
from hazards.db.session import (
    _engine_for,
    connect_check,
    current_revision,
    database_url,
    head_revision,
    managed_server,
    mask_url,
    migrate,
    normalise_url,
    started,
)
from hazards.errors import ConfigError, HazardsError, NotFound
from hazards.settings import Settings, get_settings


def status(settings: Settings | None = None, *, start: bool = True) -> dict[str, Any]:
    """Where the database is, whether it runs, its versions and schema revision.

    With the embedded cluster and ``start`` true, a server that is down (killed, rebooted) is
    started again, unless the user stopped it with ``hazards db down``.
    """
    s = settings or get_settings()
    head = head_revision()
    if s.database_url:
        url = normalise_url(s.database_url)
        engine = _engine_for(url)
        connect_check(engine)
        out: dict[str, Any] = {"managed": False, "running": True, "url": mask_url(url)}
    else:
        server = managed_server(s)
        if start and not server.stopped_marker.exists():
            started(server, s)
        info = server.read_info()
        running = server.is_running(info)
        out = {
            "managed": True,
            "running": running,
            "url": mask_url(server.url(info)) if info else None,
            "home": str(server.home),
            "pgdata": info.pgdata if info else None,
            "port": info.port if info else None,
            "pid": server.postmaster_pid(),
        }
        if not running:
            out.update(postgres_version=None, postgis_version=None, schema_revision=None)
            out["schema_head"] = head
            return out
        engine = _engine_for(server.url(info))
    versions = store.server_versions(engine)
    out["postgres_version"] = versions["PostgreSQL"]
    out["postgis_version"] = versions["PostGIS"]
    out["schema_revision"] = current_revision(engine)
    out["schema_head"] = head
    return out


def up(settings: Settings | None = None) -> dict[str, Any]:
    """Start the embedded cluster (made on first use) and bring the schema to head."""
    s = settings or get_settings()
    if not s.database_url:
        started(managed_server(s), s)
    upgrade(s)
    return status(s)


def down(settings: Settings | None = None) -> bool:
    """Stop the embedded cluster; returns whether it was running."""
    return managed_server(settings).stop()


def url(
    settings: Settings | None = None,
    *,
    show_password: bool = False,
    as_user: str | None = None,
    password: str | None = None,
) -> str:
    """The database URL (for psql, QGIS or ``HAZARDS_DATABASE_URL``), password masked unless
    ``show_password``.

    With ``as_user``, the URL of that user (which must exist on the server) for the same
    database: PostgreSQL keeps only a hash of its password, so the URL holds the ``password``
    given (masked unless ``show_password``) or none (psql and QGIS then ask for it).
    """
    from sqlalchemy.engine import URL, make_url

    u = make_url(database_url(settings))
    if as_user is not None:
        from hazards.db.users import role_exists

        if not role_exists(_engine_for(u.render_as_string(hide_password=False)), as_user):
            raise NotFound(
                f"No database user {as_user!r} on this server. `hazards users list` shows "
                "them; `hazards users add` makes one.",
                param="as_user",
            )
        if show_password and password is None:
            raise ConfigError(
                f"The password of {as_user} is not kept anywhere (PostgreSQL keeps only a "
                "hash of it), so it cannot be shown; give it in a password file.",
                param="password_file",
            )
        u = URL.create(
            u.drivername,
            username=as_user,
            password=password,
            host=u.host,
            port=u.port,
            database=u.database,
            query=u.query,
        )
    text = u.render_as_string(hide_password=not show_password)
    return text.replace("postgresql+psycopg://", "postgresql://")


def upgrade(settings: Settings | None = None) -> tuple[str | None, str | None]:
    """Apply pending migrations; returns (revision before, revision after)."""
    engine = _engine_for(database_url(settings))
    connect_check(engine)
    before = current_revision(engine)
    migrate(engine)
    return before, current_revision(engine)


# ------------------------------------------------------------------------ backup and restore

# The group roles the dump's grants and policies name (migration 0005); cluster-wide, so not in
# a dump of one database: restore makes those that are missing.
_GROUP_ROLES = (
    "hazards_viewer",
    "hazards_engineer",
    "hazards_planner",
    "hazards_contractor",
    "hazards_admin",
)


def _pg_tool(name: str, settings: Settings) -> str:
    """The path of PostgreSQL client program ``name`` (pg_dump, pg_restore).

    The embedded server's own binaries first (same version as the server), then those beside
    any PostgreSQL server found on this machine, then the PATH.
    """
    import shutil
    from pathlib import Path

    from hazards.db.server import find_postgres
    from hazards.errors import MissingSoftware

    candidates: list[Path] = []
    if not settings.database_url:
        info = managed_server(settings).read_info()
        if info is not None:
            candidates.append(Path(info.bindir) / name)
    with contextlib.suppress(HazardsError):
        candidates.append(find_postgres(pg_bin=settings.pg_bin).bindir / name)
    for path in candidates:
        if path.is_file():
            return str(path)
    found = shutil.which(name)
    if found:
        return found
    raise MissingSoftware(
        f"The PostgreSQL program {name} was not found (it comes with the PostgreSQL client: "
        "`sudo apt-get install postgresql-client`, or `conda install -c conda-forge postgresql`); "
        "set HAZARDS_PG_BIN to the folder that holds it."
    )


def _libpq(url_text: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for a PostgreSQL program, and its environment (the password goes
    in the environment, not on the command line where ``ps`` shows it)."""
    import os

    from sqlalchemy.engine import make_url

    u = make_url(url_text)
    args = ["--dbname", str(u.database or "")]
    if u.host:
        args += ["--host", u.host]
    if u.port:
        args += ["--port", str(u.port)]
    if u.username:
        args += ["--username", u.username]
    env = dict(os.environ)
    env["PGCONNECT_TIMEOUT"] = "10"
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args, env


def _run_tool(cmd: list[str], env: dict[str, str], what: str) -> str:
    import subprocess

    from hazards.errors import DatabaseError

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = " ".join(done.stderr.strip().splitlines()[-3:]) or f"exit {done.returncode}"
        raise DatabaseError(f"The {what} failed: {detail}")
    return done.stderr


def _our_table_counts(engine: Any) -> dict[str, int]:
    """Rows of each table of ours (by the models) that exists in the database."""
    from sqlalchemy import inspect, text

    from hazards.db.models import Base

    present = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for table in sorted(set(Base.metadata.tables) & present):
            counts[table] = int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
    return counts


def backup(output: str | os.PathLike[str], settings: Settings | None = None) -> dict[str, Any]:
    """Write the whole database (schema, data, grants and policies) to ``output``, a
    PostgreSQL custom-format dump made by ``pg_dump``; ``restore`` reads it back.

    The file is written beside ``output`` first and moved into place when complete, so a
    failed backup leaves no partial file. Login roles are cluster-wide and not in the dump
    (docs/scaling.md says how to keep them).
    """
    from pathlib import Path

    s = settings or get_settings()
    target = Path(output)
    if target.is_dir():
        raise ConfigError(f"{target} is a folder; give a file name for the backup.", param="output")
    target.parent.mkdir(parents=True, exist_ok=True)  # as every export makes its folder
    url_text = database_url(s)
    engine = _engine_for(url_text)
    connect_check(engine)
    partial = target.with_name(target.name + ".partial")
    args, env = _libpq(url_text)
    try:
        _run_tool(
            [_pg_tool("pg_dump", s), "--format=custom", "--file", str(partial), *args],
            env,
            "backup (pg_dump)",
        )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return {
        "file": str(target),
        "bytes": target.stat().st_size,
        "schema_revision": current_revision(engine),
        "tables": _our_table_counts(engine),
    }


def _restore_list(pg_restore: str, dump: str, env: dict[str, str], user: str) -> str:
    """The dump's table of contents, less what a non-owner cannot restore: the comment on the
    PostGIS extension (owned by whoever made it) and default privileges of another owner."""
    import subprocess

    toc = subprocess.run(
        [pg_restore, "--list", dump], env=env, capture_output=True, text=True, check=False
    )
    if toc.returncode != 0:
        from hazards.errors import InputError

        raise InputError(
            f"{dump} is not a backup made by `hazards db backup` (pg_dump custom format): "
            + " ".join(toc.stderr.strip().splitlines()[-2:]),
            param="file",
        )
    lines = []
    for line in toc.stdout.splitlines():
        fields = line.split()
        if " COMMENT - EXTENSION " in line or (
            " DEFAULT ACL " in line and fields and fields[-1] != user
        ):
            line = ";" + line
        lines.append(line)
    return "\n".join(lines) + "\n"


def restore(file: str | os.PathLike[str], settings: Settings | None = None) -> dict[str, Any]:
    """Restore a backup made by ``backup`` into the configured database, which must be empty
    (no tables of ours: a new database, or the embedded one of a new HAZARDS_HOME).

    One transaction: on any error nothing is restored. The group roles of migration 0005 are
    made first when missing; objects belong to the user restoring. A backup from an older
    schema is then migrated to head.
    """
    import tempfile
    from pathlib import Path

    from sqlalchemy import text

    s = settings or get_settings()
    dump = Path(file)
    if not dump.is_file():
        from hazards.errors import InputFileNotFound

        raise InputFileNotFound(f"No backup file {dump}.", param="file")
    url_text = database_url(s)
    engine = _engine_for(url_text)
    connect_check(engine)
    existing = _our_table_counts(engine)
    if existing:
        raise ConfigError(
            f"The database {mask_url(url_text)} already holds the inventory ({len(existing)} "
            "tables); restore goes into an empty database only. Create a new database and "
            "point HAZARDS_DATABASE_URL at it, or use a new HAZARDS_HOME for the embedded one.",
            param="file",
        )
    roles = ", ".join(f"'{g}'" for g in _GROUP_ROLES)
    with engine.begin() as conn:
        missing = (
            conn.execute(
                text(
                    f"SELECT g FROM unnest(ARRAY[{roles}]) g WHERE g NOT IN (SELECT rolname FROM pg_roles)"
                )
            )
            .scalars()
            .all()
        )
        for g in missing:
            conn.execute(text(f'CREATE ROLE "{g}" NOLOGIN'))
        user = str(conn.execute(text("SELECT current_user")).scalar_one())
    pg_restore = _pg_tool("pg_restore", s)
    args, env = _libpq(url_text)
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "toc.list"
        listing.write_text(_restore_list(pg_restore, str(dump), env, user), encoding="utf-8")
        _run_tool(
            [
                pg_restore,
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--use-list",
                str(listing),
                *args,
                str(dump),
            ],
            env,
            "restore (pg_restore)",
        )
    restored = current_revision(engine)
    migrate(engine)
    return {
        "file": str(dump),
        "database": mask_url(url_text).replace("postgresql+psycopg://", "postgresql://"),
        "restored_revision": restored,
        "schema_revision": current_revision(engine),
        "roles_made": list(missing),
        "tables": _our_table_counts(engine),
    }
