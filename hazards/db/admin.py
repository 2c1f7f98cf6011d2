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
            "url": server.url(info) if info else None,
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


def url(settings: Settings | None = None, *, hide_password: bool = False) -> str:
    u = database_url(settings).replace("postgresql+psycopg://", "postgresql://")
    return mask_url(u) if hide_password else u


def upgrade(settings: Settings | None = None) -> tuple[str | None, str | None]:
    """Apply pending migrations; returns (revision before, revision after)."""
    engine = _engine_for(database_url(settings))
    connect_check(engine)
    before = current_revision(engine)
    migrate(engine)
    return before, current_revision(engine)
