"""``hazards users`` and ``hazards db url --as``, and the CLI used as a contractor login: its
own batch out and its completions in, a one-line refusal for anything else, no password in any
output unless asked."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url
from test_roles import TODAY, _ids_of_batch, login, two_contractors  # noqa: F401 (fixtures)

from hazards.cli import cli

OUTPUTS: list[str] = []
"""Every output of the commands run in this module (checked for passwords at the end)."""
SECRETS: list[str] = []
"""Every password the tests of this module gave."""


def _cli(*args: str, input: str | None = None) -> object:
    result = CliRunner().invoke(cli, list(args), input=input)
    OUTPUTS.append(result.output)
    return result


def _run(run_hazards, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    proc = run_hazards(*args, env=env)
    OUTPUTS.extend([proc.stdout, proc.stderr])
    return proc


@pytest.fixture
def names(pg_admin_url: str) -> Iterator[list[str]]:
    """Unique user names for a test; whatever of them exists at the end is dropped."""
    made = [f"hzt_u_{uuid.uuid4().hex[:8]}" for _ in range(3)]
    yield made
    admin = make_url(pg_admin_url)
    with psycopg.connect(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        password=admin.password,
        dbname=admin.database,
        autocommit=True,
    ) as conn:
        for name in made:
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def _can_login(db_url: str, name: str, password: str) -> bool:
    u = make_url(db_url)
    try:
        with psycopg.connect(
            host=u.host, port=u.port, user=name, password=password, dbname=u.database
        ) as conn:
            return conn.execute("SELECT current_user").fetchone()[0] == name
    except psycopg.OperationalError:
        return False


def test_users_add_list_url_set_password_revoke(db_url: str, names, tmp_path: Path) -> None:
    name, other, _ = names
    secret = "Sekret-" + uuid.uuid4().hex
    SECRETS.append(secret)
    pw = tmp_path / "pw.txt"
    pw.write_text(secret + "\n", encoding="utf-8")

    added = _cli(
        "users",
        "add",
        name,
        "--role",
        "contractor",
        "--contractor",
        "路桥公司",
        "--password-file",
        str(pw),
    )
    assert added.exit_code == 0, added.output
    assert f"已添加用户 {name}：contractor（承包单位 路桥公司）" in added.output  # zh, the default
    assert _can_login(db_url, name, secret)
    # asked on the terminal (twice), never echoed
    typed = "Typed-" + uuid.uuid4().hex
    SECRETS.append(typed)
    prompted = _cli("users", "add", other, "--role", "viewer", input=f"{typed}\n{typed}\n")
    assert prompted.exit_code == 0, prompted.output
    assert typed not in prompted.output and _can_login(db_url, other, typed)

    table = _cli("users", "list")  # in zh: 是 under 可登录, not yes
    assert table.exit_code == 0 and "是" in table.output and "yes" not in table.output, table.output
    listed = _cli("users", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {r["name"]: r for r in json.loads(listed.output)}
    assert rows[name]["roles"] == ["contractor"] and rows[name]["contractor"] == "路桥公司"
    assert rows[other]["roles"] == ["viewer"] and rows[other]["contractor"] is None
    table = _cli("users", "list")
    assert name in table.output and "路桥公司" in table.output

    u = make_url(db_url)
    masked = _cli("db", "url", "--as", name)
    assert masked.exit_code == 0, masked.output
    assert masked.output.strip() == f"postgresql://{name}@{u.host}:{u.port}/{u.database}"
    with_file = _cli("db", "url", "--as", name, "--password-file", str(pw))
    assert with_file.output.strip() == f"postgresql://{name}:***@{u.host}:{u.port}/{u.database}"
    shown = CliRunner().invoke(
        cli, ["db", "url", "--as", name, "--password-file", str(pw), "--show-password"]
    )  # asked for: not collected for the password check
    with psycopg.connect(shown.output.strip()) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == name
    nobody = _cli("db", "url", "--as", "hzt_nobody_here")
    assert nobody.exit_code == 1 and "No database user 'hzt_nobody_here'" in nobody.output
    unknowable = _cli("db", "url", "--as", name, "--show-password")
    assert unknowable.exit_code == 1 and "only a hash" in unknowable.output

    new = tmp_path / "new.txt"
    SECRETS.append("Changed-" + uuid.uuid4().hex)
    new.write_text(SECRETS[-1], encoding="utf-8")
    changed = _cli("users", "set-password", name, "--password-file", str(new))
    assert changed.exit_code == 0, changed.output
    assert not _can_login(db_url, name, secret)
    assert _can_login(db_url, name, new.read_text(encoding="utf-8"))

    revoked = _cli("users", "revoke", name)
    assert revoked.exit_code == 0 and "已撤销" in revoked.output  # zh: revoked
    assert not _can_login(db_url, name, new.read_text(encoding="utf-8"))
    assert name not in {r["name"] for r in json.loads(_cli("users", "list", "--json").output)}
    with _engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM user_contractors")).scalar_one() == 0

    # mistakes: one line each, naming the option
    for args, words in [
        (
            ["users", "add", "Bad Name", "--role", "viewer", "--password-file", str(pw)],
            "cannot be a user name",
        ),
        (
            ["users", "add", "x_y", "--role", "contractor", "--password-file", str(pw)],
            "option --contractor",
        ),
        (
            [
                "users",
                "add",
                "x_y",
                "--role",
                "viewer",
                "--contractor",
                "A",
                "--password-file",
                str(pw),
            ],
            "Only a contractor login",
        ),
        (["users", "add", other, "--role", "viewer", "--password-file", str(pw)], "already exists"),
        (
            ["users", "add", "x_y", "--role", "viewer", "--password-file", str(tmp_path / "no")],
            "option --password-file",
        ),
        (["users", "revoke", "hzt_nobody_here"], "No hazards user"),
    ]:
        out = _cli(*args)
        assert out.exit_code == 1, (args, out.output)
        assert words in out.output and "Traceback" not in out.output, out.output
    short = tmp_path / "short.txt"
    short.write_text("abc", encoding="utf-8")
    out = _cli("users", "set-password", other, "--password-file", str(short))
    assert out.exit_code == 1 and "shorter than 8" in out.output


def test_a_login_made_again_after_a_restore_takes_its_contractor(
    db_url: str, names, tmp_path: Path
) -> None:
    """A restored database holds its contractors' records but not their logins (those are the
    server's): making the login again (as docs/scaling.md says) failed with a traceback on the
    record left behind; it now replaces it, and a login of another role drops it."""
    from sqlalchemy import create_engine, text

    name, other, _ = names
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:  # what the restore left: records of logins not on this server
            for n, firm in ((name, "旧公司"), (other, "旧公司")):
                conn.execute(
                    text("INSERT INTO user_contractors (role_name, contractor) VALUES (:n, :c)"),
                    {"n": n, "c": firm},
                )
        pw = tmp_path / "pw.txt"
        pw.write_text("Sekret-" + uuid.uuid4().hex + "\n", encoding="utf-8")
        SECRETS.append(pw.read_text().strip())
        args = ["users", "add", name, "--role", "contractor", "--contractor", "路桥公司"]
        made = _cli(*args, "--password-file", str(pw))
        assert made.exit_code == 0 and "Traceback" not in made.output, made.output
        # no batch names 路桥公司 in this database: a typo would leave the login seeing nothing
        assert "警告：还没有批次的承包单位是“路桥公司”" in made.output
        made = _cli("users", "add", other, "--role", "engineer", "--password-file", str(pw))
        assert made.exit_code == 0 and "警告" not in made.output, made.output
        with engine.connect() as conn:
            rows = dict(
                conn.execute(
                    text("SELECT role_name, contractor FROM user_contractors WHERE role_name IN "
                         "(:a, :b)"), {"a": name, "b": other},
                ).all()
            )  # fmt: skip
        assert rows == {name: "路桥公司"}
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM user_contractors WHERE role_name IN (:a, :b)"),
                         {"a": name, "b": other})  # fmt: skip
        engine.dispose()


def _engine(url: str):  # type: ignore[no-untyped-def]
    from hazards.db.session import _engine_for

    return _engine_for(url)


def test_the_cli_as_a_contractor(two_contractors, login, run_hazards, tmp_path: Path) -> None:  # noqa: F811
    engine, first, second = two_contractors
    mine = _ids_of_batch(engine, first)
    c = login("contractor", "路桥公司")
    env = {"HAZARDS_DATABASE_URL": c["url"]}

    who = _run(run_hazards, "users", "whoami", "--json", env=env)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["contractor"] == "路桥公司"
    assert json.loads(who.stdout)["reports_completions"] is True
    assert json.loads(who.stdout)["imports_completions"] is True

    out = tmp_path / "mine.geojson"
    exported = _run(run_hazards, "export", "batch", first, "-o", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr.strip() == ""  # not even the warning of ANALYZE by a non-owner
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {f["id"] for f in data["features"]} == mine

    done = sorted(mine)[:2]
    for f in data["features"]:
        if f["id"] in done:
            f["properties"].update(status="完成", completed_on=TODAY)
    report = tmp_path / "report.geojson"
    report.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    imported = _run(run_hazards, "import", "completion", str(report), "--json", env=env)
    assert imported.returncode == 0, imported.stderr
    result = json.loads(imported.stdout)
    assert result["applied"] == 2 and {c["id"] for c in result["changes"]} == set(done)
    again = _run(run_hazards, "import", "completion", str(report), "--json", env=env)
    assert json.loads(again.stdout)["applied"] == 0 and json.loads(again.stdout)["unchanged"] == 2
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT h.public_id, h.status, e.recorded_by, e.by FROM hazards h "
                "JOIN hazard_events e ON e.hazard_id = h.id AND e.kind = 'completion'"
            )
        ).all()
    assert {(r.public_id, r.status, r.recorded_by, r.by) for r in rows} == {
        (d, "reported_done", c["name"], "路桥公司") for d in done
    }
    history = _run(run_hazards, "history", done[0], "--json", env=env)
    assert history.returncode == 0, history.stderr
    last = json.loads(history.stdout)["events"][-1]
    assert (last["who"], last["by"], last["kind"]) == (c["name"], "路桥公司", "completion")
    table = _run(
        run_hazards, "history", done[0], env={**env, "COLUMNS": "200", "HAZARDS_LANG": "en"}
    )
    assert " who " in table.stdout and c["name"] in table.stdout

    other = sorted(_ids_of_batch(engine, second))[0]
    refusals = [
        ("export", "batch", second, "-o", str(tmp_path / "theirs.geojson")),
        ("plan", "drop", "P"),
        ("status", "set", sorted(mine)[3], "--to", "in_progress"),
        ("status", "set", other, "--to", "in_progress"),
        ("tiers", "set", sorted(mine)[3], "--tier", "I", "--reason", "x"),
        ("survey", "list"),
        ("users", "add", "hzt_never", "--role", "admin", "--password-file", str(report)),
        ("plan", "create", "--name", "Q", "--budget", "1000"),
        ("history", other),
    ]
    for args in refusals:
        proc = _run(run_hazards, *args, env=env)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        message = proc.stderr.strip()
        assert message.startswith("Error: ") and "\n" not in message, (args, message)
    assert not (tmp_path / "theirs.geojson").exists()
    # what it may read, it reads: its own batch and hazards only
    batches = _run(run_hazards, "batch", "list", "--json", env=env)
    assert batches.returncode == 0, batches.stderr
    assert [(b["name"], b["hazards"]) for b in json.loads(batches.stdout)] == [(first, 4)]
    listed = _run(run_hazards, "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert {h["id"] for h in json.loads(listed.stdout)} == mine
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM plans")).scalar_one() == 1
        assert (
            conn.execute(text("SELECT count(*) FROM hazards WHERE status = 'planned'")).scalar_one()
            == 6
        )


def test_db_status_and_url_mask_the_password(db_url: str, run_hazards) -> None:
    password = make_url(db_url).password
    assert password
    for args in (["db", "status"], ["db", "status", "--json"], ["db", "url"]):
        proc = _run(run_hazards, *args)
        assert proc.returncode == 0, proc.stderr
        assert password not in proc.stdout + proc.stderr
        assert "***" in proc.stdout
    shown = run_hazards("db", "url", "--show-password")
    assert shown.stdout.strip() == db_url.replace("postgresql+psycopg://", "postgresql://")


def test_no_output_of_this_module_holds_a_password(db_url: str) -> None:
    """Runs last in this module: every output collected above, checked for every password
    used (the test logins', the cluster's own)."""
    from test_roles import PASSWORD

    if not OUTPUTS:
        pytest.skip("checks the outputs of the other tests of this module: run them first")
    secrets = [PASSWORD, make_url(db_url).password, *SECRETS]
    for out in OUTPUTS:
        for s in secrets:
            assert s not in out
