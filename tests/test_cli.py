"""The command line: every command explains itself; versions; the demo runs."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

import hazards
from hazards.cli import cli

REQUIRED_VERSIONS = {
    "python", "hazards", "GDAL", "PROJ", "GEOS", "shapely", "geopandas", "pyproj",
    "SQLAlchemy", "GeoAlchemy2", "PostgreSQL", "PostGIS",
}


def _walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


def test_every_command_and_option_has_help() -> None:
    runner = CliRunner()
    seen = []
    for path, command in _walk(cli):
        seen.append(" ".join(path))
        assert (command.help or "").strip(), f"`hazards {' '.join(path)}` has no help text"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert (param.help or "").strip(), f"{param.opts} of `{' '.join(path)}` has no help"
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output
    # The enumeration really walked the tree (db's subcommands at least).
    assert {"db status", "db up", "db down", "db url", "db migrate", "show-versions", "demo"} <= set(seen)


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"hazards, version {hazards.__version__}"


def test_show_versions_json_lists_everything(db_url: str, engine) -> None:
    from sqlalchemy import text

    result = CliRunner().invoke(cli, ["show-versions", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= REQUIRED_VERSIONS
    with engine.connect() as conn:
        assert data["PostgreSQL"] == conn.execute(text("SHOW server_version")).scalar_one().split()[0]
        assert data["PostGIS"] == conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    import shapely

    assert data["GEOS"] == shapely.geos_version_string


def test_show_versions_human_output(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["show-versions"])
    assert result.exit_code == 0, result.output
    for key in REQUIRED_VERSIONS:
        assert key in result.output


def test_usage_error_exits_2() -> None:
    result = CliRunner().invoke(cli, ["db", "status", "--no-such-option"])
    assert result.exit_code == 2


def test_db_migrate_reports_head(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["db", "migrate"])
    assert result.exit_code == 0, result.output
    from alembic.script import ScriptDirectory

    from hazards.db.session import MIGRATIONS

    assert f"already at {ScriptDirectory(str(MIGRATIONS)).get_current_head()}" in result.output


def test_db_url_prints_the_configured_url(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["db", "url"])
    assert result.exit_code == 0
    assert result.output.strip() == db_url.replace("postgresql+psycopg://", "postgresql://")
    masked = CliRunner().invoke(cli, ["db", "url", "--hide-password"]).output.strip()
    assert "***" in masked


def test_demo_loads_the_sample_and_second_run_reuses_it(db_url: str, tmp_path) -> None:
    first = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "o"), "--json"])
    assert first.exit_code == 0, first.output
    a = json.loads(first.output)
    assert a["roads_load"]["routes_added"] == 143 and a["roads_load"]["reused_existing"] is False
    classes = {c["class"]: c for c in a["summary_by_class"]["classes"]}
    assert (classes["county"]["routes"], classes["township"]["routes"]) == (29, 111)
    truth = json.loads((Path(__file__).resolve().parents[1] / "gis_data" / "sample" / "survey_expected.json").read_text())
    assert a["survey"]["rows"] == truth["rows"] and a["survey"]["already_imported"] is False
    assert a["plan"]["spent_cny"] <= a["plan"]["budget_cny"] and len(a["plan"]["batches"]) == 3
    assert a["plan"]["reused"] is False and a["tiers"]["scored"] == a["survey"]["added"]
    second = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "o"), "--json"])
    assert second.exit_code == 0, second.output
    b = json.loads(second.output)
    assert b["roads_load"]["reused_existing"] is True and b["roads_load"]["routes_added"] == 0
    assert b["summary_by_class"] == a["summary_by_class"]
    assert b["survey"]["already_imported"] is True and b["plan"]["reused"] is True
    assert b["plan"]["batches"] == a["plan"]["batches"]
    # The whole job: exports, completion, re-checks, maps, progress; every file it names exists.
    import geopandas as gpd

    assert a["completion"]["applied"] > 0 and a["completion"]["invalid"] == 1
    assert len(a["rechecks"]["failed"]) == 1 and a["rechecks"]["planned"] == a["completion"]["applied"]
    assert all(Path(f).is_file() for f in a["files"].values())
    batch_files = [f for k, f in a["files"].items() if k.startswith("batch ") and f.endswith(".geojson")]
    assert len(batch_files) == 3
    first = gpd.read_file(batch_files[0], engine="pyogrio")
    assert len(first) == a["plan"]["batches"][0]["hazards"] and first.crs.to_epsg() == 4326
    assert a["progress_by_tier"]["total"]["counts"]["verified"] == len(a["rechecks"]["passed"])
    assert a["progress_by_tier"]["total"]["counts"]["reopened"] == 1
    assert b["completion"]["applied"] == 0 and b["completion"]["unchanged"] == a["completion"]["applied"]
    assert b["progress_by_tier"] == a["progress_by_tier"]
    human = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "o")])
    assert human.exit_code == 0 and "reused" in human.output
    for path in b["files"].values():  # a later run names the same files (not the re-check list)
        assert path in human.output.replace("\n", "")
    assert set(b["files"]) == set(a["files"]) - {"re-check list"}
