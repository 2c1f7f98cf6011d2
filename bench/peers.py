"""What a user would do without ``hazards``, timed in the same run on the same data (the peer
column), and how long a command takes to start.

- road load: GDAL's ``ogr2ogr -f PostgreSQL`` (Debian ``gdal-bin``), COPY mode and a GiST index,
  as its defaults give;
- survey import: the obvious geopandas pipeline, ``read_csv`` → points → ``to_crs`` →
  ``read_postgis`` of the network → ``sjoin_nearest`` (50 m) → ``to_postgis``. It does less than
  the import (no chainage, no duplicates, no review, no events), so it is a generous peer;
- startup: ``hazards --help`` and ``hazards chainage locate`` as subprocesses, the median of
  several runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.data import CRS, Dataset
from bench.floors import Db, connect

OGR2OGR = "ogr2ogr"
PIPELINE = "geopandas read_csv→sjoin_nearest→to_postgis"


def _pg_dsn(url: str) -> str:
    """A GDAL ``PG:`` connection string from a SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    parts = {
        "host": u.host,
        "port": u.port or 5432,
        "dbname": u.database,
        "user": u.username,
        "password": u.password,
    }
    return "PG:" + " ".join(f"{k}='{v}'" for k, v in parts.items() if v is not None)


def have_ogr2ogr() -> bool:
    """Whether GDAL's command-line tools are installed (Debian ``gdal-bin``)."""
    return shutil.which(OGR2OGR) is not None


def peer_road_load(ds: Dataset, db: Db) -> float:
    """``ogr2ogr`` of the road file into a new table of the same database, index included."""
    cmd = [
        OGR2OGR,
        "-f",
        "PostgreSQL",
        _pg_dsn(db.url),
        str(ds.roads_path),
        "-nln",
        "peer_roads",
        "-lco",
        "GEOMETRY_NAME=geom",
        "-lco",
        "SPATIAL_INDEX=GIST",
        "-overwrite",
        "-gt",
        "65536",
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    seconds = time.perf_counter() - t0
    _check_rows(db, "peer_roads", ds.n_segments)
    return seconds


def _check_rows(db: Db, table: str, expected: int) -> None:
    """The peer really wrote every row (a peer that silently did less would flatter it)."""
    from bench.floors import connect

    with connect(db.url) as conn:
        got = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    if got is None or got[0] != expected:
        raise RuntimeError(f"peer wrote {got} rows to {table}, expected {expected}")


def peer_survey_import(ds: Dataset, db: Db) -> float:
    """The geopandas pipeline: points matched to the nearest segment within 50 m, written back."""
    import geopandas as gpd
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(db.url)
    t0 = time.perf_counter()
    df = pd.read_csv(ds.survey_path, dtype=str, keep_default_na=False)
    pts = gpd.GeoDataFrame(
        df,
        geometry=gpd.points_from_xy(pd.to_numeric(df["经度"]), pd.to_numeric(df["纬度"])),
        crs="EPSG:4326",
    ).to_crs(CRS)
    with engine.connect() as conn:
        net = gpd.read_postgis(
            "SELECT id AS segment_id, road_id, geom FROM road_segments", conn, geom_col="geom"
        ).to_crs(CRS)
    joined = gpd.sjoin_nearest(pts, net, how="left", max_distance=50.0, distance_col="snap_m")
    joined = joined[~joined.index.duplicated()].drop(columns="index_right")
    joined.to_postgis("peer_hazards", engine, if_exists="replace", index=False, chunksize=50_000)
    seconds = time.perf_counter() - t0
    engine.dispose()
    _check_rows(db, "peer_hazards", ds.n_rows)
    return seconds


def _median_seconds(cmd: list[str], *, env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def hazards_command() -> list[str]:
    """The installed ``hazards`` entry point beside this Python (else ``python -m
    hazards.cli``)."""
    exe = Path(sys.executable).with_name("hazards")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "hazards.cli"]


def settle(db: Db, *, vacuum: tuple[str, ...] = (), timeout: float = 120.0) -> float:
    """Let the database go idle before a start time is taken (the issue's "idle machine"):
    ``vacuum``'s tables are vacuumed first (the dead row versions an update or a rolled-back
    floor left in them, which the next step would otherwise walk past), a checkpoint writes
    out what the steps before left dirty, then this waits (at most ``timeout``) until no
    autovacuum worker is running, as after a province's load one analyses the new tables for
    a while. Returns the seconds waited."""
    t0 = time.perf_counter()
    with connect(db.url) as conn:
        for table in vacuum:
            conn.execute(psycopg.sql.SQL("VACUUM {}").format(psycopg.sql.Identifier(table)))
        with contextlib.suppress(psycopg.Error):  # a server where one may not (no superuser)
            conn.execute("CHECKPOINT")
        while time.perf_counter() - t0 < timeout:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            ).fetchone()
            if not row or not row[0]:
                break
            time.sleep(0.5)
    return time.perf_counter() - t0


def startup_help(*, runs: int = 7) -> float:
    """Median seconds of ``hazards --help``."""
    return _median_seconds([*hazards_command(), "--help"], env=dict(os.environ), runs=runs)


def startup_locate(db: Db, route: str, *, chainage: str = "K0+100", runs: int = 7) -> float:
    """Median seconds of ``hazards chainage locate ROUTE K0+100`` against the size's database."""
    env = dict(os.environ, HAZARDS_DATABASE_URL=db.url)
    cmd = [*hazards_command(), "chainage", "locate", route, chainage, "--json"]
    return _median_seconds(cmd, env=env, runs=runs)
