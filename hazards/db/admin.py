"""Managing the database: status, start/stop of the embedded cluster, URL, migrations."""

from __future__ import annotations

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
)
from hazards.errors import ConfigError, NotFound
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
            server.ensure_running()
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
        managed_server(s).ensure_running()
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
