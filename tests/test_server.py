"""The embedded cluster: start, share, recover after kill -9, stop; and the error paths."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from hazards.db.server import ManagedServer, find_postgres
from hazards.errors import MissingSoftware

TEST_HOME = Path(__file__).resolve().parents[1] / ".hazards-test"


@pytest.fixture
def own_home(pg_admin_url: str) -> Path:
    """A second embedded cluster of its own, for tests that kill or stop it."""
    home = TEST_HOME / f"own-{os.getpid()}"
    yield home
    server = ManagedServer(home)
    server.stop()
    info = server.read_info()
    shutil.rmtree(home, ignore_errors=True)
    if info and not info.pgdata.startswith(str(home)):
        shutil.rmtree(Path(info.pgdata).parent, ignore_errors=True)


def _status(run_hazards, home: Path) -> dict:
    proc = run_hazards("db", "status", "--json", env={"HAZARDS_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _url(run_hazards, home: Path) -> str:
    """The embedded cluster's URL with its password (`db status` masks it)."""
    proc = run_hazards("db", "url", "--show-password", env={"HAZARDS_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_status_json_starts_embedded_cluster(run_hazards, own_home: Path) -> None:
    data = _status(run_hazards, own_home)
    assert data["managed"] is True
    assert data["running"] is True
    assert data["postgres_version"].split(".")[0].isdigit()
    assert data["postgis_version"].startswith("3.")
    assert data["url"].startswith("postgresql")
    info = json.loads((own_home / "server.json").read_text())
    assert info["password"] not in json.dumps(data) and ":***@" in data["url"]  # masked
    # The server really answers at that URL (the password asked for), with PostGIS.
    url = _url(run_hazards, own_home)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT postgis_lib_version()").fetchone()[0] == data["postgis_version"]
    assert (Path(data["pgdata"]) / "PG_VERSION").is_file()
    info = json.loads((own_home / "server.json").read_text())
    assert oct((own_home / "server.json").stat().st_mode & 0o777) == "0o600"
    assert info["port"] == data["port"]


def test_recovers_after_kill_9(run_hazards, own_home: Path) -> None:
    first = _status(run_hazards, own_home)
    url = _url(run_hazards, own_home)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE survives (x int)")
        conn.execute("INSERT INTO survives VALUES (42)")
    pid = first["pid"]
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    server = ManagedServer(own_home)
    assert not server.is_running()
    second = _status(run_hazards, own_home)
    assert second["running"] is True
    assert second["pid"] != pid
    url = _url(run_hazards, own_home)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT x FROM survives").fetchone()[0] == 42


def test_stale_pid_file_after_reboot_is_cleared(run_hazards, own_home: Path) -> None:
    """A reboot leaves postmaster.pid naming a process that no longer exists (or is another)."""
    first = _status(run_hazards, own_home)
    server = ManagedServer(own_home)
    assert server.stop() is True
    pidfile = Path(first["pgdata"]) / "postmaster.pid"
    # Fake what a crash-then-reboot leaves: the pid file of a server whose pid is now another
    # (non-postgres) process: this test's own pid.
    lines = [str(os.getpid()), first["pgdata"], "0", str(first["port"]), "", "", "", "ready"]
    pidfile.write_text("\n".join(lines) + "\n")
    (own_home / "stopped").unlink()
    second = _status(run_hazards, own_home)
    assert second["running"] is True
    assert second["pid"] != os.getpid()


def test_two_processes_share_one_server(run_hazards, own_home: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda _: _status(run_hazards, own_home), range(2))
    assert a["running"] and b["running"]
    assert a["pid"] == b["pid"]
    assert a["port"] == b["port"]


def test_down_then_status_reports_stopped_until_up(run_hazards, own_home: Path) -> None:
    _status(run_hazards, own_home)
    env = {"HAZARDS_HOME": str(own_home)}
    assert run_hazards("db", "down", env=env).returncode == 0
    stopped = _status(run_hazards, own_home)
    assert stopped["running"] is False
    up = run_hazards("db", "up", "--json", env=env)
    assert up.returncode == 0, up.stderr
    data = json.loads(up.stdout)
    assert data["running"] is True
    assert data["schema_revision"] == data["schema_head"]


def test_missing_binaries_message_names_apt_and_conda(run_hazards, tmp_path: Path) -> None:
    empty = tmp_path / "nobin"
    empty.mkdir()
    with pytest.raises(MissingSoftware) as err:
        find_postgres(pg_bin=empty)
    assert "apt-get install postgresql-15 postgresql-15-postgis-3" in err.value.message
    assert "conda install -c conda-forge postgresql postgis" in err.value.message
    proc = run_hazards(
        "db", "status", env={"HAZARDS_HOME": str(tmp_path / "h"), "HAZARDS_PG_BIN": str(empty)}
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "apt-get install" in proc.stderr and "conda install" in proc.stderr


def test_unreachable_database_url_is_one_paragraph_exit_1(run_hazards) -> None:
    proc = run_hazards(
        "db", "status", env={"HAZARDS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    message = proc.stderr.strip()
    assert "\n\n" not in message
    assert "127.0.0.1" in message and "HAZARDS_DATABASE_URL" in message
    assert proc.stdout == ""


def test_database_url_set_starts_nothing(run_hazards, db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "never"
    proc = run_hazards(
        "db", "status", "--json", env={"HAZARDS_DATABASE_URL": db_url, "HAZARDS_HOME": str(home)}
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["managed"] is False and data["running"] is True
    password = db_url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password not in data["url"]  # a shared server's password is masked
    assert not home.exists()


def test_deleted_home_leaves_no_trap(run_hazards, own_home: Path) -> None:
    """Deleting HAZARDS_HOME (and its server.json) and starting again makes a fresh cluster."""
    first = _status(run_hazards, own_home)
    ManagedServer(own_home).stop()
    shutil.rmtree(own_home)
    second = _status(run_hazards, own_home)
    assert second["running"] is True
    old = Path(first["pgdata"])
    if not old.is_relative_to(own_home):  # root, with the cluster kept in a system folder
        aside = list(old.parent.glob("pgdata.orphaned-*"))
        assert aside, "the old cluster was not kept"
        for a in aside:
            shutil.rmtree(a, ignore_errors=True)


def test_a_new_home_says_it_made_a_new_database(run_hazards, own_home: Path) -> None:
    """A command run from another folder (or with HAZARDS_HOME mistyped) makes an empty
    database there: it says so, once; `db down` where there is none makes no folder."""
    env = {"HAZARDS_HOME": str(own_home)}
    first = run_hazards("list", "--json", env=env)
    assert first.returncode == 0 and json.loads(first.stdout) == [], first.stderr
    assert f"已在 {own_home} 新建内置数据库" in first.stderr
    again = run_hazards("list", "--json", env=env)
    assert again.returncode == 0 and "新建" not in again.stderr
    nothing = own_home.with_name(own_home.name + "-none")
    down = run_hazards("db", "down", env={"HAZARDS_HOME": str(nothing)})
    assert down.returncode == 0 and not nothing.exists(), down.stderr


def test_a_busy_port_is_said_when_the_server_moves_off_it(run_hazards, own_home: Path) -> None:
    """Another program on the server's port when it starts: it takes another, and says so (the
    URLs given to the logins name the old one)."""
    import socket

    first = _status(run_hazards, own_home)
    env = {"HAZARDS_HOME": str(own_home)}
    assert run_hazards("db", "down", env=env).returncode == 0
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", first["port"]))
        squatter.listen()
        up = run_hazards("db", "up", "--json", env=env)
        assert up.returncode == 0, up.stderr
        now = json.loads(up.stdout)["port"]
        assert now != first["port"]
        assert f"原来的端口 {first['port']} 被其他程序占用，现改用端口 {now}" in up.stderr
    again = run_hazards("db", "status", env=env)
    assert again.returncode == 0 and "端口" not in again.stderr  # said once


def test_a_moved_or_copied_home_keeps_its_own_cluster(run_hazards, own_home: Path) -> None:
    """A stopped HAZARDS_HOME moved elsewhere starts its cluster from there (server.json, which
    names the old path, was deleted and the cluster's password with it); a copy of it (a
    backup, as docs/shared-server.md suggests) runs its own cluster, not the original's."""
    import subprocess

    first = _status(run_hazards, own_home)
    if not Path(first["pgdata"]).is_relative_to(own_home):
        pytest.skip("the cluster is kept in a system folder here: it does not move with the home")
    with psycopg.connect(_url(run_hazards, own_home), autocommit=True) as conn:
        conn.execute("CREATE TABLE marker (x int)")
        conn.execute("INSERT INTO marker VALUES (1)")
    assert ManagedServer(own_home).stop() is True
    moved = own_home.with_name(own_home.name + "-moved")
    copy = own_home.with_name(own_home.name + "-copy")
    subprocess.run(["cp", "-a", str(own_home), str(copy)], check=True)  # owners kept
    own_home.rename(moved)
    try:
        for home in (moved, copy):  # stopped with `db down`: started again with `db up`
            up = run_hazards("db", "up", env={"HAZARDS_HOME": str(home)})
            assert up.returncode == 0, up.stderr
        at = _status(run_hazards, moved)
        assert at["running"] and Path(at["pgdata"]) == moved / "pgdata"
        assert json.loads((moved / "server.json").read_text())["pgdata"] == str(moved / "pgdata")
        other = _status(run_hazards, copy)
        assert other["running"] and Path(other["pgdata"]) == copy / "pgdata"
        assert other["port"] != at["port"] and other["pid"] != at["pid"]
        with psycopg.connect(_url(run_hazards, copy), autocommit=True) as conn:
            conn.execute("INSERT INTO marker VALUES (2)")
        with psycopg.connect(_url(run_hazards, moved)) as conn:
            assert conn.execute("SELECT array_agg(x) FROM marker").fetchone()[0] == [1]
    finally:
        for home in (moved, copy):
            ManagedServer(home).stop()
            shutil.rmtree(home, ignore_errors=True)


@pytest.mark.slow
def test_works_as_a_normal_user(tmp_path_factory) -> None:
    """As root, install the package for the unprivileged user `nobody` and start a cluster as it."""
    import subprocess

    if os.geteuid() != 0 or not Path("/usr/bin/python3").exists():
        pytest.skip("needs root (to act as another user) and /usr/bin/python3")
    base = Path("/tmp") / f"hazards-nobody-{os.getpid()}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir()
    repo = Path(__file__).resolve().parents[1]
    src = base / "src"
    shutil.copytree(
        repo, src, ignore=shutil.ignore_patterns(".venv", ".hazards*", "out", ".git", "__pycache__")
    )
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(base / "venv")], check=True)
    subprocess.run(
        [str(base / "venv" / "bin" / "pip"), "install", "-q", str(src)], check=True, timeout=600
    )
    (base / "hazards.toml").touch()  # its settings: the defaults
    subprocess.run(["chown", "-R", "nobody", str(base)], check=True)
    env = [
        "env",
        f"HAZARDS_HOME={base / 'home'}",
        f"HOME={base}",
        f"HAZARDS_CONFIG={base / 'hazards.toml'}",
    ]
    try:
        proc = subprocess.run(
            [
                "runuser",
                "-u",
                "nobody",
                "--",
                *env,
                str(base / "venv" / "bin" / "hazards"),
                "db",
                "status",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert data["running"] is True and data["pgdata"].startswith(str(base))
        owner = Path(data["pgdata"]).stat().st_uid
        import pwd

        assert pwd.getpwuid(owner).pw_name == "nobody"
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "nobody",
                "--",
                *env,
                str(base / "venv" / "bin" / "hazards"),
                "db",
                "down",
            ],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(base, ignore_errors=True)
