"""Shared fixtures: a real PostgreSQL + PostGIS for the tests, started by the tests themselves.

The test cluster is the embedded one, under ``.hazards-test`` in the checkout (or the server in
``HAZARDS_TEST_DATABASE_URL``, an admin URL of a PostGIS server you run yourself). Each test that
needs a database gets a fresh one, copied from a template that is made once per session.
Under ``CI=true`` a database that cannot start fails the run; elsewhere those tests are skipped
with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from hazards.errors import HazardsError
from hazards.settings import get_settings

REPO = Path(__file__).resolve().parents[1]
TEST_HOME = REPO / ".hazards-test"
# Per test session, so that two sessions sharing the test cluster do not clash.
EMPTY_TEMPLATE = f"hz_tpl_empty_{os.getpid()}"
SCHEMA_TEMPLATE = f"hz_tpl_schema_{os.getpid()}"


def _admin_conn(url: str, dbname: str | None = None) -> psycopg.Connection:
    u = make_url(url)
    return psycopg.connect(
        host=u.host,
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        dbname=dbname or u.database,
        autocommit=True,
    )


@pytest.fixture(autouse=True)
def settings_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """No test reads the developer's own settings or starts a cluster in the checkout: each
    reads its own settings file (``HAZARDS_CONFIG``), empty (the defaults) until the test
    writes settings into it; it lies outside ``tmp_path``, which the test has to itself."""
    for name in list(os.environ):
        if name.startswith("HAZARDS_") and name != "HAZARDS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HAZARDS_HOME", str(tmp_path / "home"))
    cfg = tmp_path_factory.mktemp("settings") / "hazards.toml"
    cfg.touch()
    monkeypatch.setenv("HAZARDS_CONFIG", str(cfg))
    get_settings.cache_clear()
    yield cfg
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """An admin URL of a running PostgreSQL with PostGIS available."""
    external = os.environ.get("HAZARDS_TEST_DATABASE_URL")
    if external:
        yield external.replace("postgresql://", "postgresql+psycopg://")
        return
    from hazards.db.server import ManagedServer

    server = ManagedServer(TEST_HOME)
    started_here = not server.is_running()
    try:
        info = server.ensure_running()
    except HazardsError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"The test database could not start (CI=true, so this fails): {exc}")
        pytest.skip(f"no PostgreSQL + PostGIS for the tests: {exc}")
    url = server.url(info).rsplit("/", 1)[0] + "/postgres"
    with _admin_conn(url) as conn:
        for name in (SCHEMA_TEMPLATE, EMPTY_TEMPLATE):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{EMPTY_TEMPLATE}"')
    with _admin_conn(url, EMPTY_TEMPLATE) as conn:
        conn.execute("CREATE EXTENSION postgis")
    with _admin_conn(url) as conn:
        conn.execute(f'CREATE DATABASE "{SCHEMA_TEMPLATE}" TEMPLATE "{EMPTY_TEMPLATE}"')
    from hazards.db.session import _engine_for, migrate

    schema_url = url.rsplit("/", 1)[0] + f"/{SCHEMA_TEMPLATE}"
    engine = _engine_for(schema_url)
    migrate(engine)
    engine.dispose()
    yield url
    with _admin_conn(url) as conn:
        for name in (SCHEMA_TEMPLATE, EMPTY_TEMPLATE):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if started_here:
        server.stop()


def _fresh_database(admin_url: str, template: str) -> Iterator[str]:
    name = f"hz_t_{uuid.uuid4().hex[:10]}"
    with _admin_conn(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    from hazards.db.session import _engine_for

    _engine_for(url).dispose()
    with _admin_conn(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh database with PostGIS installed and no tables of ours."""
    yield from _fresh_database(pg_admin_url, EMPTY_TEMPLATE)


@pytest.fixture
def db_url(pg_admin_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database, also set as HAZARDS_DATABASE_URL for library and CLI."""
    for url in _fresh_database(pg_admin_url, SCHEMA_TEMPLATE):
        monkeypatch.setenv("HAZARDS_DATABASE_URL", url)
        get_settings.cache_clear()
        yield url


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    from hazards.db.session import get_engine

    return get_engine()


@pytest.fixture
def run_hazards():  # type: ignore[no-untyped-def]
    """Run the real ``hazards`` command in a subprocess, as a user would."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "hazards.cli", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )

    return run


@pytest.fixture
def other_engine(pg_admin_url: str):  # type: ignore[no-untyped-def]
    """A second fresh, migrated database (not the configured one), for side-by-side runs."""
    from hazards.db.session import _engine_for

    for url in _fresh_database(pg_admin_url, SCHEMA_TEMPLATE):
        yield _engine_for(url)


@pytest.fixture
def tracked(tmp_path: Path, engine):
    """Roads, 8 hazards placed by chainage (X001 x4, Y002 x4), scored, all in one committed plan."""
    import csv

    from builders import frame, network
    from click.testing import CliRunner

    from hazards.cli import cli
    from hazards.intake import import_survey
    from hazards.roads import load_roads

    path = tmp_path / "roads.gpkg"
    frame(network()["features"], "EPSG:4546").to_file(path, engine="pyogrio")
    load_roads(path, engine=engine)
    rows = [["序号", "路线编码", "桩号", "隐患类型", "风险等级", "估算金额(万元)"]]
    for i in range(8):
        metres = 200 + 400 * (i % 4)  # both routes are longer than 2 km
        rows.append(
            [
                i + 1,
                "X001" if i < 4 else "Y002",
                f"K{metres // 1000}+{metres % 1000:03d}",
                "临水临崖" if i % 2 else "急弯",
                "一级" if i in (0, 5) else "三级",
                str(1 + i),
            ]
        )
    with (tmp_path / "s.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    report = import_survey(
        tmp_path / "s.csv", provider="p", surveyed_on="2025-03-01", engine=engine
    )
    assert report["accepted"] == 8
    runner = CliRunner()
    assert (
        runner.invoke(
            cli, ["plan", "create", "--name", "P", "--budget", "1e9", "--batches", "2"]
        ).exit_code
        == 0
    )
    assert runner.invoke(cli, ["plan", "commit", "P"]).exit_code == 0
    return engine


@pytest.fixture(scope="module")
def net() -> dict:
    """The test network of tests/builders.py (two routes, a branch, a gap), as GeoJSON-like."""
    from builders import network

    return network()


@pytest.fixture
def roads(tmp_path: Path, net: dict, engine):  # type: ignore[no-untyped-def]
    """The test network loaded into the test database (EPSG:4546); the engine."""
    from builders import frame

    from hazards.roads import load_roads

    path = tmp_path / "roads.gpkg"
    frame(net["features"], "EPSG:4546").to_file(path, engine="pyogrio")
    load_roads(path, engine=engine)
    return engine
