"""The command line: every command explains itself; library errors name the flag; `--help`
starts without the heavy libraries; versions; the demo runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import hazards
from hazards.cli import cli
from hazards.cli._common import HazardsCommand, HazardsGroup, describe_param
from hazards.errors import InputError

PACKAGE = Path(__file__).resolve().parents[1] / "hazards"

REQUIRED_VERSIONS = {
    "python",
    "hazards",
    "GDAL",
    "PROJ",
    "GEOS",
    "shapely",
    "geopandas",
    "pyproj",
    "SQLAlchemy",
    "GeoAlchemy2",
    "PostgreSQL",
    "PostGIS",
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
    assert {
        "db status",
        "db up",
        "db down",
        "db url",
        "db migrate",
        "show-versions",
        "demo",
    } <= set(seen)
    assert {
        "list",
        "map overview",
        "plan commit",
        "batch set",
        "recheck record",
        "progress",
    } <= set(seen)


def test_every_command_maps_library_errors() -> None:
    """Every leaf command marks the errors it lets through with its flag (HazardsCommand)."""
    for path, command in _walk(cli):
        if not isinstance(command, click.Group):
            assert isinstance(command, HazardsCommand), (
                f"`hazards {' '.join(path)}` is a plain click command"
            )


def test_help_imports_no_heavy_library() -> None:
    """`hazards --help` (and importing the CLI) loads neither SQLAlchemy, GeoAlchemy2, geopandas
    nor the other heavy libraries: the commands import them when they run."""
    heavy = {
        "sqlalchemy",
        "geoalchemy2",
        "geopandas",
        "pandas",
        "shapely",
        "pyproj",
        "folium",
        "rich",
        "numpy",
    }
    code = (
        "import sys\n"
        "from hazards.cli import cli\n"
        "try:\n"
        "    cli(['--help'], prog_name='hazards')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        f"print(sorted({{m for m in sys.modules if m.split('.')[0] in {sorted(heavy)!r}}}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    *help_text, loaded = proc.stdout.strip().splitlines()
    assert "Usage: hazards" in help_text[0]
    assert loaded == "[]"


def test_cli_calls_step_verbs_not_the_store() -> None:
    """The commands call the library's step verbs; only `hazards db` may use hazards.db.admin."""
    for module in sorted((PACKAGE / "cli").glob("*.py")):
        text = module.read_text(encoding="utf-8")
        assert "hazards.db import store" not in text and "db.store" not in text, module.name
        assert "get_engine" not in text, module.name
        if module.name != "db.py":
            assert "hazards.db" not in text, module.name


def test_library_error_gets_the_flag() -> None:
    """A library error about an argument (``param``) is printed with the flag that sets it."""

    @click.group(cls=HazardsGroup)
    def top() -> None:
        """Top."""

    @top.command("plan")
    @click.option("--budget", type=float, help="Budget.")
    @click.option("--tiers", "tier_list", help="Tiers.")
    @click.option("-o", "--output", help="Output.")
    @click.argument("refs", nargs=-1)
    @click.option("--param", "which", help="Which parameter the error is about.")
    def plan(budget: float, tier_list: str, output: str, refs: tuple[str, ...], which: str) -> None:
        """Plan."""
        raise InputError(f"The {which} is wrong.", param=which or None)

    runner = CliRunner()
    for which, hint in (
        ("budget", " (option --budget)"),
        ("tiers", " (option --tiers)"),
        ("path", " (option -o/--output)"),
        ("output", " (option -o/--output)"),
        ("refs", " (argument REFS)"),
        ("elsewhere", ""),
        ("", ""),
    ):
        out = runner.invoke(top, ["plan", "--param", which])
        assert out.exit_code == 1
        assert out.output == f"Error: The {which} is wrong.{hint}\n"
    assert describe_param(top.commands["plan"], None) is None


def test_bad_date_names_the_flag() -> None:
    """`status set --on notadate`: the library's message, then the option it came from."""
    out = CliRunner().invoke(
        cli, ["status", "set", "H000001", "--to", "verified", "--on", "notadate"]
    )
    assert out.exit_code == 1, out.output
    assert "'notadate' is not a date" in out.output
    assert out.output.rstrip().endswith("(option --on)")


def test_batch_start_names_the_flag(db_url: str) -> None:
    """`batch set X --start notadate`: the library validates the date; the CLI names --start."""
    out = CliRunner().invoke(cli, ["batch", "set", "NO-SUCH-BATCH", "--start", "notadate"])
    assert out.exit_code == 1, out.output
    assert "'notadate' is not a date" in out.output and out.output.rstrip().endswith(
        "(option --start)"
    )
    due = CliRunner().invoke(cli, ["batch", "set", "NO-SUCH-BATCH", "--due", "31/12/2025"])
    assert due.exit_code == 1 and due.output.rstrip().endswith("(option --due)"), due.output


def test_python_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hazards.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"hazards, version {hazards.__version__}"


def test_main_freezes_what_the_command_leaves_before_exit() -> None:
    """main() freezes what is alive before the interpreter exits however the command ends
    (click always ends by SystemExit: here a successful --version and a usage error); atexit
    work still runs after it."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count()))\n"
        "sys.argv = ['hazards'] + sys.argv[1:]\n"
        "from hazards.cli import main\n"
        "main()\n"
    )
    for args, code_expected in ((["--version"], 0), (["no-such-command"], 2)):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == code_expected, proc.stderr
        last = proc.stdout.strip().splitlines()[-1].split()
        assert last[0] == "frozen" and int(last[1]) > 1000, proc.stdout


def test_each_command_alone_has_all_its_subcommands() -> None:
    """A user's process imports only the module of the command asked for (COMMANDS): each
    command, looked up alone in a fresh interpreter, has every subcommand it has once every
    module is loaded (a group extended from another module would lose those)."""
    from hazards.cli import COMMANDS

    def names(command: click.Command) -> list[str]:
        return sorted("/".join(path) for path, _ in _walk(command))

    everything = {name: names(cli.commands[name]) for name in COMMANDS}
    code = (
        "import json, sys, click\n"
        "from hazards.cli import cli\n"
        "def walk(c, path=()):\n"
        "    yield '/'.join(path)\n"
        "    if isinstance(c, click.Group):\n"
        "        for n, sub in c.commands.items():\n"
        "            yield from walk(sub, (*path, n))\n"
        "cmd = cli.get_command(click.Context(cli), sys.argv[1])\n"
        "print(json.dumps(sorted(walk(cmd))))\n"
    )
    for name in COMMANDS:
        proc = subprocess.run(
            [sys.executable, "-c", code, name], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == everything[name], name


def test_a_mapping_shows_metres_to_the_decimetre_and_degrees_whole(capsys, monkeypatch) -> None:
    """`history` showed a chainage as 396.9858093344653: metres (keys *_m) are shown to one
    decimal, other numbers (degrees) as they are; --json is not touched."""
    from hazards.cli._common import echo_mapping

    monkeypatch.setenv("COLUMNS", "200")
    echo_mapping({"chainage_m": 396.9858093344653, "offset_m": 0.04, "lon": 112.1981809})
    out = capsys.readouterr().out
    assert "397.0" in out and "396.98" not in out and "0.0" in out and "112.1981809" in out


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
        assert (
            data["PostgreSQL"] == conn.execute(text("SHOW server_version")).scalar_one().split()[0]
        )
        assert data["PostGIS"] == conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    import shapely

    assert data["GEOS"] == shapely.geos_version_string


def test_show_versions_does_not_start_a_stopped_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the embedded server down (`hazards db down`, or never started), show-versions says
    so rather than starting one (it started a cluster before)."""
    from hazards.settings import get_settings

    monkeypatch.delenv("HAZARDS_DATABASE_URL", raising=False)
    monkeypatch.setenv("HAZARDS_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["show-versions", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["PostgreSQL"].startswith("not running")
    assert not (tmp_path / "home").exists()


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

    # in the default language (zh): "the schema is already HEAD"
    assert f"数据库结构已是 {ScriptDirectory(str(MIGRATIONS)).get_current_head()}" in result.output


def test_db_url_prints_the_configured_url(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["db", "url", "--show-password"])
    assert result.exit_code == 0
    assert result.output.strip() == db_url.replace("postgresql+psycopg://", "postgresql://")
    password = db_url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
    for args in (["db", "url"], ["db", "url", "--hide-password"]):  # masked unless asked
        masked = CliRunner().invoke(cli, args).output.strip()
        assert masked == result.output.strip().replace(f":{password}@", ":***@")


def test_demo_loads_the_sample_and_second_run_reuses_it(db_url: str, tmp_path) -> None:
    first = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "o"), "--json"])
    assert first.exit_code == 0, first.output
    a = json.loads(first.output)
    assert a["roads_load"]["routes_added"] == 143 and a["roads_load"]["reused_existing"] is False
    classes = {c["class"]: c for c in a["summary_by_class"]["classes"]}
    assert (classes["county"]["routes"], classes["township"]["routes"]) == (29, 111)
    truth = json.loads(
        (
            Path(__file__).resolve().parents[1] / "gis_data" / "sample" / "survey_expected.json"
        ).read_text()
    )
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
    assert (
        len(a["rechecks"]["failed"]) == 1 and a["rechecks"]["planned"] == a["completion"]["applied"]
    )
    assert all(Path(f).is_file() for f in a["files"].values())
    batch_files = [
        f for k, f in a["files"].items() if k.startswith("batch ") and f.endswith(".geojson")
    ]
    assert len(batch_files) == 3
    first = gpd.read_file(batch_files[0], engine="pyogrio")
    assert len(first) == a["plan"]["batches"][0]["hazards"] and first.crs.to_epsg() == 4326
    assert a["progress_by_tier"]["total"]["counts"]["verified"] == len(a["rechecks"]["passed"])
    assert a["progress_by_tier"]["total"]["counts"]["reopened"] == 1
    assert (
        b["completion"]["applied"] == 0
        and b["completion"]["unchanged"] == a["completion"]["applied"]
    )
    assert b["progress_by_tier"] == a["progress_by_tier"]
    human = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "o")])
    assert human.exit_code == 0 and "沿用" in human.output, human.output  # zh, the default
    for path in b["files"].values():  # a later run names the same files (not the re-check list)
        assert path in human.output.replace("\n", "")
    assert set(b["files"]) == set(a["files"]) - {"re-check list"}
    # By hand, after the demo: one more site of batch 1 reported done, on a day after the demo's
    # re-check day. A later run re-checks what it can and leaves that one alone (no error).
    from sqlalchemy import create_engine, text

    with create_engine(db_url).connect() as conn:
        planned = (
            conn.execute(
                text(
                    "SELECT h.public_id FROM hazards h JOIN batch_items bi ON bi.hazard_id = h.id "
                    "JOIN batches b ON b.id = bi.batch_id WHERE b.name = :b "
                    "AND h.status = 'planned' ORDER BY 1"
                ),
                {"b": a["plan"]["batches"][0]["name"]},
            )
            .scalars()
            .all()
        )
    assert planned
    done = CliRunner().invoke(
        cli, ["status", "set", planned[0], "--to", "reported_done", "--on", "2025-07-20"]
    )
    assert done.exit_code == 0, done.output
    third = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "o"), "--json"])
    assert third.exit_code == 0, third.output
    c = json.loads(third.output)
    assert c["rechecks"]["skipped"] == [planned[0]] and c["rechecks"]["planned"] == 1


def test_database_commands_at_head_skip_alembic(db_url: str) -> None:
    """Startup (issue 20): the head revision is read from the migration files as Alembic reads
    it, and a database already at head is opened without importing Alembic."""
    from hazards.db.session import head_revision, quick_head_revision

    assert quick_head_revision() == head_revision()
    code = (
        "import sys; from hazards.db.session import get_engine, stored_revision, "
        "quick_head_revision; e = get_engine(); "
        "print(stored_revision(e) == quick_head_revision(), 'alembic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["True", "False"], out.stderr


# ----------------------------------------------------------------------------- tables
def _cells(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line)


@pytest.fixture
def lang(monkeypatch: pytest.MonkeyPatch):
    """Set the ``lang`` setting for one test: ``lang("en")``."""
    from hazards.settings import get_settings

    def set_lang(value: str) -> None:
        monkeypatch.setenv("HAZARDS_LANG", value)
        get_settings.cache_clear()

    yield set_lang
    monkeypatch.delenv("HAZARDS_LANG", raising=False)
    get_settings.cache_clear()


def test_an_80_column_progress_by_batch_keeps_full_batch_names(tracked, lang) -> None:
    from sqlalchemy import text

    long_names = [
        "2025年第一批县道安全隐患整治工程-A标段",
        "2025年第二批乡道安全隐患整治工程-B标段",
    ]
    with tracked.begin() as conn:
        ids = conn.execute(text("SELECT id FROM batches ORDER BY id")).scalars().all()
        long_names = long_names[: len(ids)]
        for i, name in zip(ids, long_names, strict=True):
            conn.execute(text("UPDATE batches SET name = :n WHERE id = :i"), {"n": name, "i": i})
    runner = CliRunner()
    lang("zh")
    out = runner.invoke(cli, ["progress", "--by", "batch"], env={"COLUMNS": "80"})
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert max(_cells(line) for line in lines) <= 80
    for name in long_names:  # each whole, on one line of the table
        assert any(name in line for line in lines), out.output
    assert "…" not in out.output
    assert "未显示的列" in out.output  # the columns left out are named
    batches = runner.invoke(cli, ["batch", "list"], env={"COLUMNS": "80"})
    assert max(_cells(line) for line in batches.output.splitlines()) <= 80
    assert all(any(n in line for line in batches.output.splitlines()) for n in long_names)
    as_json = json.loads(runner.invoke(cli, ["progress", "--by", "batch", "--json"]).output)
    total = as_json["total"]["remaining_cost_cny"]
    assert isinstance(total, float)  # --json: raw numbers
    assert f"{total / 1e4:,.2f} 万元" in out.output  # the table: 万元 with separators
    lang("en")
    wide = runner.invoke(cli, ["progress", "--by", "batch"], env={"COLUMNS": "250"})
    assert f"CNY {total:,.0f}" in wide.output and "km_near_open_tier_I" in wide.output
    assert "not shown" not in wide.output


def test_money_has_one_format() -> None:
    from hazards.cli._common import money

    assert money(36819500.0, lang="zh") == "3,681.95 万元"
    assert money(36819500.0, lang="en") == "CNY 36,819,500"
    assert money(None, lang="zh") == "" and money(float("nan"), lang="en") == ""


def test_fit_columns_drops_the_least_important_first_and_never_narrows_keys() -> None:
    from hazards.cli._common import fit_columns

    cells = {
        "id": ["id", "H000001", "H000002"],
        "name": ["name", "南嘴至新湾公路", "X"],
        "description": ["description", "临水路段未设护栏 长约329米 需增设波形护栏"],
        "count": ["count", "12", "3"],
        "note": ["note", "long enough to be wrapped at its words"],
    }
    shown, widths = fit_columns(cells, width=60, keep={"id", "name"}, drop=["note"])
    assert shown == ["id", "name", "description", "count"]
    assert widths["id"] == 7 and widths["name"] == 14
    assert sum(widths.values()) + 3 * len(shown) + 1 <= 60
    shown, _ = fit_columns(cells, width=200, keep={"id"}, drop=["note"])
    assert shown == list(cells)


def test_chainage_measure_warns_beyond_the_review_distance_and_strict_exits_1(
    tracked, net: dict
) -> None:
    from pyproj import Geod

    lon, lat = net["lines"]["X001"].coords[80]
    runner = CliRunner()
    near = runner.invoke(cli, ["chainage", "measure", "X001", str(lon), str(lat), "--strict"])
    assert near.exit_code == 0, near.output
    assert "warning" not in near.output
    far_lon, far_lat, _ = Geod(ellps="WGS84").fwd(lon, lat, 0, 5000)  # ~5 km away
    args = ["chainage", "measure", "X001", str(far_lon), str(far_lat)]
    loose = runner.invoke(cli, [*args, "--json"])
    assert loose.exit_code == 0
    data = json.loads(loose.stdout)
    assert data["beyond_review"] is True and data["review_m"] == 50.0 and data["offset_m"] > 1000
    assert "beyond the review distance" in loose.stderr or "超出核查距离" in loose.stderr
    strict = runner.invoke(cli, [*args, "--strict"])
    assert strict.exit_code == 1 and "Traceback" not in strict.output
    assert f"{data['offset_m']:,.1f}" in strict.output


def test_the_top_group_loads_each_command_module_when_asked() -> None:
    """The top group's table of commands (hazards.cli.COMMANDS) names each command by its own
    name; a fresh interpreter that looks up one command imports its module and no other."""
    from hazards.cli import COMMANDS

    assert {name: command.name for name, command in cli.commands.items()} == {
        name: name for name in COMMANDS
    }
    code = (
        "import sys, click; from hazards.cli import cli; "
        "cli.get_command(click.Context(cli), 'chainage'); "
        "print(sorted(m for m in sys.modules if m.startswith('hazards.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        out.stdout.strip()
        == "['hazards.cli._common', 'hazards.cli._words', 'hazards.cli.chainage']"
    )


def test_a_timestamp_cell_is_shown_to_the_second_in_local_time() -> None:
    """`plan list` showed created_at as 2026-12-02 10:15:08.123456+00:00."""
    import datetime as dt

    from hazards.cli._common import _cell

    when = dt.datetime(2026, 12, 2, 10, 15, 8, 123456, tzinfo=dt.UTC)
    shown = _cell("created_at", when, "zh")
    assert shown == when.astimezone().strftime("%Y-%m-%d %H:%M:%S") and "." not in shown


def test_risk_routes_says_when_it_lists_only_the_riskiest_40(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It showed 40 of 140 routes under a title saying (40), without a word."""
    import hazards.scoring

    routes = [{"rank": k, "route": f"X{k:03d}", "name": "", "length_km": 1.0} for k in range(1, 46)]
    monkeypatch.setattr(
        hazards.scoring, "route_ratings", lambda: {"routes": routes, "townships": []}
    )
    out = CliRunner(env={"COLUMNS": "200", "HAZARDS_LANG": "zh"}).invoke(cli, ["risk", "routes"])
    assert out.exit_code == 0, out.output
    assert "仅列出风险最高的 40 条，共 45 条路线" in out.output and "X041" not in out.output


def test_a_connection_the_server_ends_is_one_line_not_a_traceback(db_url: str) -> None:
    """`hazards db down` (or a restart) while a command runs: the server ends its connection
    (AdminShutdown, here by pg_terminate_backend) and the command says so in one line."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))

    @click.group(cls=HazardsGroup)
    def top() -> None:
        pass

    @top.command("work")
    def work() -> None:
        with engine.connect() as conn, engine.connect() as admin:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            conn.execute(text("SELECT 1"))

    @top.command("other")
    def other() -> None:
        raise RuntimeError("a bug of ours")

    try:
        out = CliRunner().invoke(top, ["work"])
        assert out.exit_code == 1, out.output
        assert "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1
        assert "connection to the database was lost" in out.output
        assert "terminating connection due to administrator command" in out.output
        bug = CliRunner().invoke(top, ["other"])  # anything else is not dressed up as one
        assert isinstance(bug.exception, RuntimeError)
    finally:
        engine.dispose()


def _commands(group: click.Group, path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def test_every_group_shows_examples_that_are_real_commands() -> None:
    """Each command group's --help ends with examples (a newcomer's first question), and every
    example names a command that exists with options it has."""
    import shlex

    examples = 0
    for path, command in _commands(cli):
        text = command.help or ""
        if isinstance(command, click.Group) and len(path) == 1:
            assert "Examples:" in text, f"hazards {path[0]} --help gives no example"
        lines = text.split("Examples:", 1)[1].splitlines() if "Examples:" in text else []
        for line in lines[1:]:
            if not line.strip():
                break
            words = shlex.split(line.strip())
            assert words[0] == "hazards", line
            examples += 1
            target: click.Command = cli
            for word in words[1:]:
                if isinstance(target, click.Group) and word in target.commands:
                    target = target.commands[word]
            assert not isinstance(target, click.Group), line
            options = {o for p in target.params for o in (*p.opts, *p.secondary_opts)}
            for word in words[1:]:
                if word.startswith("-"):
                    assert word.split("=")[0] in options, (line, word)
    assert examples >= 40
