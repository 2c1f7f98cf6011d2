"""The only module that runs SQL: reading and writing the inventory in PostGIS."""

from __future__ import annotations

from sqlalchemy import Engine, text

from hazards.db.session import get_engine


def server_versions(engine: Engine | None = None) -> dict[str, str]:
    """PostgreSQL and PostGIS versions of the database in use."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    return {"PostgreSQL": str(pg).split()[0], "PostGIS": str(postgis)}


def get_metadata(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT value FROM metadata WHERE key = :k"), {"k": key}
        ).scalar_one_or_none()


def set_metadata(engine: Engine, key: str, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO metadata (key, value) VALUES (:k, :v) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"
            ),
            {"k": key, "v": value},
        )
