"""Connecting and migrating: a shared server where the user lacks rights gets one line saying
which right and the SQL an administrator runs, and nothing is created."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url


def _admin(url: str, dbname: str | None = None) -> psycopg.Connection:
    u = make_url(url)
    return psycopg.connect(
        host=u.host, port=u.port, user=u.username, password=u.password,
        dbname=dbname or u.database, autocommit=True,
    )  # fmt: skip


@pytest.fixture
def no_rights(pg_admin_url: str):  # type: ignore[no-untyped-def]
    """A login role and a database without PostGIS in which it may not create anything."""
    role, db, pw = (
        f"hz_nr_{uuid.uuid4().hex[:8]}",
        f"hz_nr_{uuid.uuid4().hex[:8]}",
        "pw-" + uuid.uuid4().hex,
    )
    with _admin(pg_admin_url) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{pw}'")
        conn.execute(f"CREATE DATABASE {db} TEMPLATE template0")
    u = make_url(pg_admin_url)
    url = f"postgresql+psycopg://{role}:{pw}@{u.host}:{u.port}/{db}"
    yield url, role, db
    with _admin(pg_admin_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        conn.execute(f"DROP ROLE IF EXISTS {role}")


def _tables(admin_url: str, db: str) -> list[str]:
    with _admin(admin_url, db) as conn:
        return [
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]


def test_missing_rights_name_the_sql_an_admin_runs(
    no_rights, pg_admin_url: str, run_hazards
) -> None:  # type: ignore[no-untyped-def]
    url, role, db = no_rights
    out = run_hazards("db", "migrate", env={"HAZARDS_DATABASE_URL": url})
    assert out.returncode == 1, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in out.stderr
    assert "CREATE EXTENSION IF NOT EXISTS postgis;" in lines[0]
    assert f'GRANT CREATE ON SCHEMA public TO "{role}";' in lines[0]
    assert f'database "{db}"' in lines[0]
    assert _tables(pg_admin_url, db) == []  # nothing was created


def test_after_the_admin_ran_it_the_schema_sets_up(
    no_rights, pg_admin_url: str, run_hazards
) -> None:  # type: ignore[no-untyped-def]
    url, role, db = no_rights
    with _admin(pg_admin_url, db) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    first = run_hazards("db", "migrate", env={"HAZARDS_DATABASE_URL": url})
    assert first.returncode == 1 and "CREATE EXTENSION" not in first.stderr
    assert f'GRANT CREATE ON SCHEMA public TO "{role}";' in first.stderr
    with _admin(pg_admin_url, db) as conn:
        conn.execute(f'GRANT CREATE ON SCHEMA public TO "{role}"')
    second = run_hazards("db", "migrate", env={"HAZARDS_DATABASE_URL": url})
    assert second.returncode == 0, second.stderr
    assert {"hazards", "roads", "alembic_version"} <= set(_tables(pg_admin_url, db))
