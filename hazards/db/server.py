"""The embedded default database: a private PostgreSQL + PostGIS cluster under ``HAZARDS_HOME``.

The cluster is made with the server binaries found on the machine (Debian packages, a conda
environment, or ``HAZARDS_PG_BIN``), listens on a free loopback port only (no unix socket, so
no stale socket files), and uses a random password kept in ``HAZARDS_HOME/server.json``
(mode 0600). As root, the server runs as an unprivileged system user (``postgres`` when it
exists, else a ``hazards`` system user is created). A file lock makes concurrent ``hazards``
processes share one server; a stale ``postmaster.pid`` left by ``kill -9`` or a reboot is
cleared before the next start.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hazards.errors import DatabaseError, MissingSoftware

DB_NAME = "hazards"
DB_USER = "hazards"

SERVER_CONF = """
# --- written by hazards (embedded cluster) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 60
shared_buffers = 128MB
jit = off
timezone = 'UTC'
log_timezone = 'UTC'
"""


# Given on every start (so clusters made by older versions get them too): a province's survey
# import writes GBs of WAL, and the default 1 GB max_wal_size would force checkpoints mid-import.
BULK_OPTIONS = "-c max_wal_size=4GB -c checkpoint_timeout=15min -c maintenance_work_mem=256MB"


def _install_hint(major: str | None = None) -> str:
    v = major or "15"
    return (
        f"Install them with `sudo apt-get install postgresql-{v} postgresql-{v}-postgis-3` "
        "(Debian/Ubuntu), or `conda install -c conda-forge postgresql postgis` in the active "
        "conda environment, or set HAZARDS_PG_BIN to the folder holding initdb and pg_ctl. "
        "To use an existing PostGIS server instead, set "
        "HAZARDS_DATABASE_URL=postgresql://user:password@host:5432/dbname."
    )


@dataclass(frozen=True)
class PgInstall:
    """PostgreSQL server binaries with PostGIS available."""

    bindir: Path
    sharedir: Path
    version: str  # full server version, e.g. "15.18"

    @property
    def major(self) -> str:
        return self.version.split(".")[0]

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


def _server_version(bindir: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+(?:\.\d+)?)", out)
    return m.group(1) if m else None


def _candidate_bindirs(pg_bin: Path | None) -> list[Path]:
    if pg_bin is not None:
        return [Path(pg_bin)]
    found: list[Path] = []
    conda = os.environ.get("CONDA_PREFIX")
    if conda:
        found.append(Path(conda) / "bin")
    which = shutil.which("initdb")
    if which:
        found.append(Path(which).resolve().parent)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    found.extend(debian)
    found.append(Path("/usr/local/pgsql/bin"))
    unique: list[Path] = []
    for p in found:
        if p not in unique:
            unique.append(p)
    return unique


def find_postgres(*, pg_bin: Path | None = None) -> PgInstall:
    """Find PostgreSQL server binaries that have PostGIS beside them.

    Raises
    ------
    MissingSoftware
        With the exact apt and conda commands when nothing usable is found.
    """
    without_postgis: PgInstall | None = None
    for bindir in _candidate_bindirs(pg_bin):
        if not all((bindir / t).is_file() for t in ("initdb", "pg_ctl", "postgres")):
            continue
        version = _server_version(bindir)
        if version is None:
            continue
        major = version.split(".")[0]
        shares = [
            bindir.parent / "share" / "postgresql",
            bindir.parent / "share",
            Path("/usr/share/postgresql") / major,
        ]
        for share in shares:
            if (share / "extension" / "postgis.control").is_file():
                return PgInstall(bindir=bindir, sharedir=share, version=version)
        without_postgis = without_postgis or PgInstall(bindir, shares[-1], version)
    if without_postgis is not None:
        raise MissingSoftware(
            f"PostgreSQL {without_postgis.version} is installed ({without_postgis.bindir}) but "
            f"PostGIS is not, so the embedded database cannot start. "
            + _install_hint(without_postgis.major)
        )
    where = f"in {pg_bin}" if pg_bin else "on this machine"
    raise MissingSoftware(
        f"No PostgreSQL server binaries (initdb, pg_ctl, postgres) were found {where}, so the "
        "embedded database cannot start. " + _install_hint()
    )


@dataclass
class ServerInfo:
    """What ``server.json`` records about the embedded cluster."""

    pgdata: str
    bindir: str
    port: int
    password: str
    user: str = DB_USER
    database: str = DB_NAME


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_postgres_process(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _pid_alive(pid)
    return b"postgres" in cmd or b"postmaster" in cmd


class ManagedServer:
    """The private cluster under ``home``; see the module docstring."""

    def __init__(
        self,
        home: Path,
        *,
        pg_bin: Path | None = None,
        pg_user: str | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.home = Path(home).absolute()
        self.pg_bin = pg_bin
        self.pg_user = pg_user
        self.start_timeout = start_timeout
        self.info_file = self.home / "server.json"
        self.lock_file = self.home / "server.lock"
        self.stopped_marker = self.home / "stopped"
        self.port_moved: tuple[int, int] | None = None
        """The port the server was to listen on, taken by another program, and the one it took
        instead when it last started (the logins' URLs name the old one)."""

    # ------------------------------------------------------------------ state on disk
    def read_info(self) -> ServerInfo | None:
        """``server.json``, its cluster this home's own (:meth:`_at_home`); None without one."""
        try:
            data = json.loads(self.info_file.read_text())
            return self._at_home(ServerInfo(**data))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise DatabaseError(
                f"{self.info_file} is damaged ({exc}). Stop any server still running from "
                f"{self.home}, then delete that folder to start afresh (this deletes the "
                "embedded database), or repair the file."
            ) from exc

    def _at_home(self, info: ServerInfo) -> ServerInfo:
        """``info`` with its cluster at ``home/pgdata`` when the folder was moved or copied:
        ``server.json`` names the cluster by its full path, which is then the old folder's
        (gone, or the original a copy was made from) while the cluster came along in
        ``pgdata``. A cluster kept in a system folder (:meth:`_choose_pgdata`) stays where it
        is. The new path is written down the next time the server starts (:meth:`_start`)."""
        own = self.home / "pgdata"
        recorded = Path(info.pgdata)
        moved = recorded != own and not recorded.is_relative_to(self.home)
        if moved and (own / "PG_VERSION").is_file():
            info.pgdata = str(own)
        return info

    def _write_info(self, info: ServerInfo) -> None:
        tmp = self.info_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(info), fh, indent=2)
        os.replace(tmp, self.info_file)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.lock_file, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ running commands
    def _service_user(self) -> pwd.struct_passwd | None:
        """The unprivileged user that runs the server when we are root (else None)."""
        if os.geteuid() != 0:
            return None
        name = self.pg_user or "postgres"
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        if self.pg_user is None:
            name = "hazards"
            try:
                return pwd.getpwnam(name)
            except KeyError:
                pass
        useradd = shutil.which("useradd")
        if useradd is None:
            raise DatabaseError(
                f"Running as root, the embedded PostgreSQL server must run as an unprivileged "
                f"user, but the user {name!r} does not exist and `useradd` is not available. "
                "Create a system user and set HAZARDS_PG_USER to its name."
            )
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)

    def _run(
        self, args: list[str], *, check: bool = True, detach: bool = False
    ) -> subprocess.CompletedProcess[str]:
        user = self._service_user()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "LANG": "C",
        }
        if user is not None:
            env["HOME"] = user.pw_dir if os.path.isdir(user.pw_dir) else "/"
        kwargs: dict[str, Any] = {}
        if user is not None:
            kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        proc = subprocess.run(
            args,
            capture_output=True,
            text=True,
            env=env,
            cwd="/",
            start_new_session=detach,
            timeout=self.start_timeout + 60,
            **kwargs,
        )
        if check and proc.returncode != 0:
            raise DatabaseError(
                f"`{Path(args[0]).name} {args[1]}` failed "
                f"for the embedded database in {self.home}: "
                f"{(proc.stderr or proc.stdout).strip()[-800:]}"
            )
        return proc

    # ------------------------------------------------------------------ cluster life
    def _choose_pgdata(self, user: pwd.struct_passwd | None) -> Path:
        preferred = self.home / "pgdata"
        if user is None:
            return preferred
        preferred.mkdir(parents=True, exist_ok=True)
        os.chown(preferred, user.pw_uid, user.pw_gid)
        os.chmod(preferred, 0o700)
        probe = subprocess.run(
            ["sh", "-c", 'test -w "$1" && test -x "$1"', "sh", str(preferred)],
            user=user.pw_uid,
            group=user.pw_gid,
            extra_groups=[],
            cwd="/",
            capture_output=True,
        )
        if probe.returncode == 0:
            return preferred
        # A parent folder (e.g. /root) is closed to the service user: keep the cluster in a
        # system folder keyed by HAZARDS_HOME, and record where in server.json.
        preferred.rmdir()
        key = hashlib.sha1(str(self.home).encode()).hexdigest()[:12]
        base = Path("/var/lib/hazards")
        base.mkdir(parents=True, exist_ok=True)
        os.chmod(base, 0o755)
        fallback = base / key / "pgdata"
        fallback.mkdir(parents=True, exist_ok=True)
        os.chmod(fallback.parent, 0o755)
        os.chown(fallback, user.pw_uid, user.pw_gid)
        os.chmod(fallback, 0o700)
        return fallback

    def _initdb(self, pg: PgInstall) -> ServerInfo:
        user = self._service_user()
        pgdata = self._choose_pgdata(user)
        if pgdata.exists() and any(pgdata.iterdir()) and not pgdata.is_relative_to(self.home):
            pgdata = self._set_aside_orphan(pg, pgdata)
        if pgdata.exists() and any(pgdata.iterdir()):
            raise DatabaseError(
                f"{pgdata} holds files but {self.info_file} is missing, so the embedded "
                f"database cannot be used safely. Move that folder away (it may hold data) "
                "and run the command again."
            )
        password = secrets.token_urlsafe(24)
        with tempfile.NamedTemporaryFile("w", delete=False, prefix="hazards-pw-") as fh:
            fh.write(password + "\n")
            pwfile = fh.name
        try:
            if user is not None:
                os.chown(pwfile, user.pw_uid, user.pw_gid)
            self._run(
                [
                    pg.tool("initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    DB_USER,
                    "--pwfile",
                    pwfile,
                    "--auth",
                    "scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale",
                    "C",
                    "--no-sync",
                ]
            )
        finally:
            os.unlink(pwfile)
        with open(pgdata / "postgresql.conf", "a") as fh:
            fh.write(SERVER_CONF)
        info = ServerInfo(
            pgdata=str(pgdata), bindir=str(pg.bindir), port=_free_port(), password=password
        )
        self._write_info(info)
        return info

    def _set_aside_orphan(self, pg: PgInstall, pgdata: Path) -> Path:
        """A system-folder cluster whose HAZARDS_HOME (and server.json) was deleted: keep its
        files under a dated name (nothing is deleted) and make a fresh, empty folder."""
        self._clear_stale_pid(pgdata)
        if self._postmaster_pid(pgdata) is not None:
            self._run(
                [pg.tool("pg_ctl"), "stop", "-D", str(pgdata), "-m", "fast", "-w"], check=False
            )
        aside = pgdata.with_name(f"pgdata.orphaned-{time.strftime('%Y%m%d%H%M%S')}")
        pgdata.rename(aside)
        user = self._service_user()
        pgdata.mkdir(mode=0o700)
        if user is not None:
            os.chown(pgdata, user.pw_uid, user.pw_gid)
        import warnings

        warnings.warn(
            f"{self.info_file} was missing, so the cluster it described was moved to {aside} "
            "and a new one is made.",
            stacklevel=2,
        )
        return pgdata

    def _clear_stale_pid(self, pgdata: Path) -> None:
        pidfile = pgdata / "postmaster.pid"
        try:
            first = pidfile.read_text().splitlines()[0].strip()
            pid = int(first)
        except (FileNotFoundError, IndexError, ValueError):
            return
        if not _pid_alive(pid) or not _is_postgres_process(pid):
            with contextlib.suppress(FileNotFoundError):
                pidfile.unlink()

    def _postmaster_pid(self, pgdata: Path) -> int | None:
        try:
            pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, IndexError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def _start(self, info: ServerInfo) -> None:
        recorded = Path(info.bindir)
        pg = find_postgres(pg_bin=self.pg_bin or (recorded if recorded.is_dir() else None))
        pgdata = Path(info.pgdata)
        if pg.bindir != Path(info.bindir):
            info.bindir = str(pg.bindir)
        if _port_in_use(info.port):
            self.port_moved = (info.port, _free_port())
            info.port = self.port_moved[1]
        self._write_info(info)
        log = pgdata / "server.log"
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while True:
            self._clear_stale_pid(pgdata)
            proc = self._run(
                [
                    pg.tool("pg_ctl"),
                    "start",
                    "-D",
                    str(pgdata),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    str(int(self.start_timeout)),
                    "-o",
                    f"-p {info.port} {BULK_OPTIONS}",
                ],
                check=False,
                detach=True,
            )
            if proc.returncode == 0:
                return
            last = (proc.stderr or proc.stdout).strip()
            with contextlib.suppress(OSError):
                last += "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-8:])
            # After kill -9 the old backends take a moment to notice and exit; a port taken in
            # between is simply replaced.
            if _port_in_use(info.port) and self._postmaster_pid(pgdata) is None:
                was = self.port_moved[0] if self.port_moved else info.port
                self.port_moved = (was, _free_port())
                info.port = self.port_moved[1]
                self._write_info(info)
            if time.monotonic() > deadline:
                break
            time.sleep(1.0)
        raise DatabaseError(
            f"The embedded PostgreSQL server in {pgdata} did not start. Its last messages:\n"
            f"{last[-1500:]}\nFix what they say, or stop the tool, move {self.home} away and "
            "run the command again to make a new cluster."
        )

    def _connect_admin(self, info: ServerInfo, dbname: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=info.port,
            user=info.user,
            password=info.password,
            dbname=dbname,
            connect_timeout=3,
            autocommit=True,
        )

    def is_running(self, info: ServerInfo | None = None) -> bool:
        info = info or self.read_info()
        if info is None:
            return False
        try:  # this home's cluster, not another answering there (a copy's original)
            with self._connect_admin(info) as conn:
                row = conn.execute("SHOW data_directory").fetchone()
                return bool(row) and Path(row[0]).resolve() == Path(info.pgdata).resolve()
        except Exception:
            return False

    def _ensure_database(self, info: ServerInfo) -> None:
        with self._connect_admin(info) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (info.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{info.database}"')
        with self._connect_admin(info, info.database) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def running_quick(self) -> ServerInfo | None:
        """The server's info if it is plainly up, checked without a database connection (no
        lock, no psycopg): ``postmaster.pid`` names a live process listening on the recorded
        port, which accepts a TCP connection, and no stop was asked for. None means "look
        properly" (:meth:`ensure_running`'s locked path), never "not running"."""
        if self.stopped_marker.exists():
            return None
        try:
            info = self.read_info()
        except DatabaseError:
            return None
        if info is None:
            return None
        try:
            lines = (Path(info.pgdata) / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, IndexError, ValueError):
            return None
        if port != info.port or not _pid_alive(pid) or not _port_in_use(port):
            return None
        return info

    def ensure_running(self) -> ServerInfo:
        """Make the cluster (first time) and start it if it is not running; return its info."""
        quick = self.running_quick()
        if quick is not None:
            return quick
        with self._locked():
            info = self.read_info()
            if info is not None and self.is_running(info):
                self.stopped_marker.unlink(missing_ok=True)
                return info
            if info is None or not (Path(info.pgdata) / "PG_VERSION").is_file():
                if info is not None:
                    # server.json without a cluster: start over.
                    self.info_file.unlink()
                pg = find_postgres(pg_bin=self.pg_bin)
                info = self._initdb(pg)
            self._start(info)
            self._ensure_database(info)
            self.stopped_marker.unlink(missing_ok=True)
            return info

    def stop(self) -> bool:
        """Stop the server (fast shutdown). Returns whether one was running."""
        if not self.info_file.exists():  # nothing here (and no folder made for nothing)
            return False
        with self._locked():
            info = self.read_info()
            if info is None:
                return False
            pgdata = Path(info.pgdata)
            self._clear_stale_pid(pgdata)
            self.stopped_marker.touch()
            if self._postmaster_pid(pgdata) is None:
                return False
            pg_ctl = Path(info.bindir) / "pg_ctl"
            proc = self._run(
                [str(pg_ctl), "stop", "-D", str(pgdata), "-m", "fast", "-w", "-t", "60"],
                check=False,
            )
            if proc.returncode != 0:
                pid = self._postmaster_pid(pgdata)
                if pid is not None:
                    os.kill(pid, signal.SIGQUIT)
            return True

    def url(self, info: ServerInfo | None = None) -> str:
        info = info or self.read_info()
        if info is None:
            raise DatabaseError(
                f"The embedded database in {self.home} has not been created yet. "
                "Run `hazards db up`."
            )
        return (
            f"postgresql+psycopg://{info.user}:{info.password}@127.0.0.1:{info.port}/"
            f"{info.database}"
        )

    def postmaster_pid(self) -> int | None:
        info = self.read_info()
        return None if info is None else self._postmaster_pid(Path(info.pgdata))
