"""`hazards db backup` / `hazards db restore` (issue 24): a real pg_dump of a tracked inventory,
restored into a new empty database made here, reads back the same."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url


def _admin(url: str, dbname: str) -> psycopg.Connection:
    u = make_url(url)
    return psycopg.connect(
        host=u.host,
        port=u.port,
        user=u.username,
        password=u.password,
        dbname=dbname,
        autocommit=True,
    )


@pytest.fixture
def new_database(pg_admin_url: str) -> Iterator[str]:
    """A brand-new database (plain CREATE DATABASE: no PostGIS, no tables), dropped at the end."""
    name = f"hz_restore_{uuid.uuid4().hex[:10]}"
    with _admin(pg_admin_url, "postgres") as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    with _admin(pg_admin_url, "postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _json(run_hazards, url: str, *args: str):
    done = run_hazards(*args, env={"HAZARDS_DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_backup_then_restore_reads_back_the_same(
    tracked, db_url: str, new_database: str, run_hazards, tmp_path: Path
) -> None:
    dump = tmp_path / "备份" / "2025" / "hazards.dump"  # a folder not made yet, as exports make
    made = _json(run_hazards, db_url, "db", "backup", "-o", str(dump), "--json")
    assert dump.is_file() and dump.stat().st_size == made["bytes"] > 0
    assert not list(dump.parent.glob("*.partial"))
    assert made["tables"]["hazards"] == 8

    restored = _json(run_hazards, new_database, "db", "restore", str(dump), "--json")
    assert restored["tables"] == made["tables"]
    assert restored["schema_revision"] == made["schema_revision"]

    # what a user sees: the list, the batches and the history are the same
    original = _json(run_hazards, db_url, "list", "--json")
    again = _json(run_hazards, new_database, "list", "--json")
    assert len(original) == 8
    assert again == original
    assert _json(run_hazards, new_database, "batch", "list", "--json") == _json(
        run_hazards, db_url, "batch", "list", "--json"
    )
    # the roles' policies and grants came along (migrations 0005, 0018)
    u = make_url(new_database)
    with _admin(new_database, str(u.database)) as conn:
        rls = conn.execute(
            "SELECT relname FROM pg_class WHERE relrowsecurity ORDER BY 1"
        ).fetchall()
        policies = conn.execute("SELECT count(*) FROM pg_policies").fetchone()
        granted = conn.execute(
            "SELECT has_table_privilege('hazards_viewer', 'hazards', 'SELECT'), "
            "has_table_privilege('hazards_viewer', 'hazards', 'UPDATE')"
        ).fetchone()
    assert [r[0] for r in rls] == [
        "batch_items",
        "batches",
        "hazard_events",
        "hazards",
        "surveys",  # migration 0018: a contractor reads its hazards' only
        "user_contractors",
    ]
    assert policies is not None and policies[0] > 0
    assert granted == (True, False)


def test_restore_refuses_a_database_that_is_not_empty(
    db_url: str, run_hazards, tmp_path: Path
) -> None:
    dump = tmp_path / "h.dump"
    assert run_hazards("db", "backup", "-o", str(dump)).returncode == 0
    done = run_hazards("db", "restore", str(dump))
    assert done.returncode != 0
    assert "empty database" in done.stderr and "Traceback" not in done.stderr


def test_restore_of_a_file_that_is_not_a_backup(
    new_database: str, run_hazards, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a dump\n", encoding="utf-8")
    done = run_hazards("db", "restore", str(bad), env={"HAZARDS_DATABASE_URL": new_database})
    assert done.returncode != 0
    assert "not a backup" in done.stderr and "Traceback" not in done.stderr
    missing = run_hazards(
        "db", "restore", str(tmp_path / "nope.dump"), env={"HAZARDS_DATABASE_URL": new_database}
    )
    assert missing.returncode != 0 and "nope.dump" in missing.stderr


def test_backup_password_is_not_on_the_command_line() -> None:
    from hazards.db.admin import _libpq

    args, env = _libpq("postgresql+psycopg://u:s3cret@h:5433/db")
    assert "s3cret" not in " ".join(args)
    assert env["PGPASSWORD"] == "s3cret"
    assert os.environ.get("PGPASSWORD") != "s3cret"
