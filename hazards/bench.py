"""Benchmark suite (issue 9): deterministic synthetic networks and surveys, each step timed
through the library functions the CLI calls, beside the raw floor measured on the same data.

Run ``python -m hazards.bench --help``. Sizes: T (tiny, for the smoke test), S, M, L.
Results go to ``bench/results/bench-<stamp>.json`` and ``.md``, and ``latest.json`` / ``latest.md``.

Peak memory is the peak resident set size (VmHWM from /proc/self/status) of this Python process
during the step, reset before each step through /proc/self/clear_refs; where that is not
available, ``resource.getrusage`` max RSS (monotonic over the run). The PostgreSQL server's and
Chromium's memory is not included.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np

SIZES: dict[str, tuple[int, int]] = {
    "T": (500, 2_000),
    "S": (5_000, 20_000),
    "M": (50_000, 200_000),
    "L": (500_000, 2_000_000),
}
STEPS = (
    "road_load", "survey_parse", "survey_reconcile", "survey_store", "survey_import",
    "tiers", "plan_10k", "plan_100k", "export_100k", "progress", "map_build_100k", "map_open_100k",
)
# Steps run together: asking for any of them runs the whole group.
SURVEY_STEPS = ("survey_parse", "survey_reconcile", "survey_store", "survey_import")
SEGS_PER_ROUTE = 10
SEG_VERTICES = 9  # vertices per segment (25 m apart)
VERTEX_STEP_M = 25.0
ROUTES_PER_TOWNSHIP = 2_500  # ~100k survey rows per township at 40 rows per route
CRS = "EPSG:4546"  # CGCS2000 / 3-degree Gauss-Kruger CM 111E
HEADER = ["序号", "路线编码", "桩号", "经度", "纬度", "隐患类型", "隐患描述", "风险等级"]
CATEGORIES = ["急弯", "陡坡", "临水临崖", "交叉口", "视距不良", "路侧险要"]
DESCRIPTIONS = ["弯道视距不良，缺少警告标志", "长下坡无避险车道", "临崖路段无护栏", "平交口无减速带",
                "路侧有深沟", "连续弯道无标线"]
TIER_WORDS = ["一级", "二级", "三级"]
REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- memory, timing
def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


MEMORY_METHOD = (
    "VmHWM of the Python process, reset per step via /proc/self/clear_refs"
    if _reset_peak() else "resource.getrusage ru_maxrss (monotonic over the run)"
)


@dataclass
class Timer:
    seconds: float = 0.0
    peak_mb: float = 0.0


@contextlib.contextmanager
def measure(profile: Path | None = None) -> Iterator[Timer]:
    """Wall time and peak RSS of the block; with ``profile``, a cProfile dump and top list."""
    gc.collect()
    _reset_peak()
    t = Timer()
    prof = None
    if profile is not None:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start
        t.peak_mb = _peak_mb()
        if prof is not None and profile is not None:
            import pstats

            prof.disable()
            profile.parent.mkdir(parents=True, exist_ok=True)
            prof.dump_stats(str(profile.with_suffix(".prof")))
            buf = io.StringIO()
            st = pstats.Stats(prof, stream=buf)
            st.sort_stats("tottime").print_stats(25)
            st.sort_stats("cumulative").print_stats(35)
            profile.with_suffix(".txt").write_text(buf.getvalue())


# ----------------------------------------------------------------------------- synthetic data
@dataclass
class Dataset:
    size: str
    n_segments: int
    n_rows: int
    roads_path: Path
    survey_path: Path
    seg_xy: Any  # shapely LineStrings (EPSG:4546), in file order
    n_routes: int


def route_lines(n_routes: int) -> tuple[np.ndarray, np.ndarray]:
    """Curvy west-to-east routes on a grid around CM 111E, 28°N; returns (routes, segments)."""
    import shapely

    cols = min(136, max(1, math.ceil(math.sqrt(n_routes))))
    k = np.arange(n_routes)
    col, row = k % cols, k // cols
    x0 = 500_000.0 - cols * 2_200.0 / 2 + col * 2_200.0
    y0 = 3_100_000.0 + row * 500.0
    n_v = SEGS_PER_ROUTE * (SEG_VERTICES - 1) + 1
    t = np.arange(n_v) * VERTEX_STEP_M
    phase = (k * 0.7) % (2 * np.pi)
    xs = x0[:, None] + t[None, :]
    ys = y0[:, None] + 60.0 * np.sin(2 * np.pi * t[None, :] / 700.0 + phase[:, None])
    routes = shapely.linestrings(np.stack([xs, ys], axis=2))
    # Segments: vertices [8i, 8i+8] of each route (consecutive, sharing end points).
    starts = np.arange(SEGS_PER_ROUTE) * (SEG_VERTICES - 1)
    idx = starts[:, None] + np.arange(SEG_VERTICES)[None, :]
    sx = xs[:, idx].reshape(-1, SEG_VERTICES)
    sy = ys[:, idx].reshape(-1, SEG_VERTICES)
    segments = shapely.linestrings(np.stack([sx, sy], axis=2))
    return routes, segments


def route_code(k: int) -> str:
    return f"Y{k:06d}"


def township(k: int) -> str:
    return f"乡镇{k // ROUTES_PER_TOWNSHIP:03d}"


def generate(size: str, workdir: Path, *, seed: int = 9) -> Dataset:
    """Write ``roads-<size>.gpkg`` and ``survey-<size>.csv`` (deterministic for a seed)."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    import shapely
    from pyproj import Transformer

    n_segments, n_rows = SIZES[size]
    n_routes = n_segments // SEGS_PER_ROUTE
    routes, segs = route_lines(n_routes)
    workdir.mkdir(parents=True, exist_ok=True)
    roads_path = workdir / f"roads-{size}.gpkg"
    survey_path = workdir / f"survey-{size}.csv"
    rk = np.repeat(np.arange(n_routes), SEGS_PER_ROUTE)
    if not roads_path.exists():
        codes = np.array([route_code(k) for k in range(n_routes)], dtype=object)
        towns = np.array([township(k) for k in range(n_routes)], dtype=object)
        gdf = gpd.GeoDataFrame(
            {"路线编码": codes[rk], "路线名称": np.char.add("乡道", codes[rk].astype(str)).astype(object),
             "行政等级": "乡道", "乡镇": towns[rk]},
            geometry=gpd.GeoSeries(segs, crs=CRS),
        )
        tmp = roads_path.with_suffix(".tmp.gpkg")
        tmp.unlink(missing_ok=True)
        pyogrio.write_dataframe(gdf, tmp, layer="roads")
        tmp.rename(roads_path)
    if not survey_path.exists():
        rng = np.random.default_rng(seed)
        which = rng.integers(0, n_routes, n_rows)
        length = shapely.length(routes)
        d = rng.random(n_rows) * length[which]
        pts = shapely.line_interpolate_point(routes[which], d)
        x = shapely.get_x(pts)
        y = shapely.get_y(pts) + rng.uniform(-12.0, 12.0, n_rows)
        lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
        has_code = rng.random(n_rows) < 0.9
        has_ch = rng.random(n_rows) < 0.7
        dm = np.round(d).astype(int)
        ch = np.char.add(np.char.add(np.char.add("K", (dm // 1000).astype(str)), "+"),
                         np.char.zfill((dm % 1000).astype(str), 3))
        cat = rng.integers(0, len(CATEGORIES), n_rows)
        desc = rng.integers(0, len(DESCRIPTIONS), n_rows)
        tier = rng.integers(0, 3, n_rows)
        codes = np.array([route_code(k) for k in range(n_routes)], dtype=object)
        df = pd.DataFrame({
            "序号": np.arange(1, n_rows + 1),
            "路线编码": np.where(has_code, codes[which], ""),
            "桩号": np.where(has_ch, ch, ""),
            "经度": np.char.mod("%.7f", lon),
            "纬度": np.char.mod("%.7f", lat),
            "隐患类型": np.array(CATEGORIES, dtype=object)[cat],
            "隐患描述": np.array(DESCRIPTIONS, dtype=object)[desc],
            "风险等级": np.array(TIER_WORDS, dtype=object)[tier],
        })
        tmp = survey_path.with_suffix(".tmp.csv")
        df.to_csv(tmp, index=False, encoding="utf-8")
        tmp.rename(survey_path)
    return Dataset(size, n_segments, n_rows, roads_path, survey_path, segs, n_routes)


# ----------------------------------------------------------------------------- the database
@dataclass
class Db:
    admin_url: str  # SQLAlchemy URL of the 'postgres' database (admin)
    url: str  # the fresh database
    engine: Any


def _psycopg(url: str, dbname: str | None = None, autocommit: bool = True) -> Any:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                           dbname=dbname or u.database, autocommit=autocommit)


def admin_url_of(home: Path) -> str:
    """Start (or reuse) the embedded cluster under ``home``; its admin URL."""
    from hazards.db.server import ManagedServer

    server = ManagedServer(home)
    info = server.ensure_running()
    return server.url(info).rsplit("/", 1)[0] + "/postgres"


def fresh_database(admin_url: str, name: str) -> Db:
    from hazards.db.session import _engine_for, migrate

    with _psycopg(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    with _psycopg(url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    engine = _engine_for(url)
    migrate(engine)
    return Db(admin_url, url, engine)


def drop_database(db: Db) -> None:
    db.engine.dispose()
    name = db.url.rsplit("/", 1)[1]
    with _psycopg(db.admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _copy_binary(conn: Any, table: str, columns: list[str], types: list[str], rows: Any) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(types)
        for r in rows:
            cp.write_row(r)


# ----------------------------------------------------------------------------- floors
def floor_road_load(ds: Dataset, db: Db) -> float:
    """pyogrio read (arrow when pyarrow is installed) + binary COPY of the segments + GiST index."""
    import pyogrio
    import shapely

    t0 = time.perf_counter()
    try:
        import pyarrow  # noqa: F401

        _meta, table = pyogrio.read_arrow(ds.roads_path)
        wkb_col = table.column(table.schema.names[-1]).to_pylist()
        codes = table.column("路线编码").to_pylist()
    except ImportError:  # the raw numpy reader: WKB and field arrays, no GeoDataFrame
        _meta, _fids, geom, fields = pyogrio.raw.read(ds.roads_path)
        wkb_col = list(geom)
        codes = list(fields[0])
    geoms = shapely.from_wkb(wkb_col)
    geoms = shapely.set_srid(geoms, 4546)
    ewkb = shapely.to_wkb(geoms, include_srid=True)
    with _psycopg(db.url, autocommit=False) as conn:
        conn.execute("CREATE TEMP TABLE floor_segs (id int8, code text, geom geometry)")
        _copy_binary(conn, "floor_segs", ["id", "code", "geom"], ["int8", "text", "bytea"],
                     zip(range(len(codes)), codes, ewkb, strict=True))
        conn.execute("CREATE INDEX ON floor_segs USING gist (geom)")
        conn.commit()
    return time.perf_counter() - t0


def floor_parse(ds: Dataset) -> float:
    """pandas' C CSV reader with the coordinates as floats."""
    import pandas as pd

    t0 = time.perf_counter()
    df = pd.read_csv(ds.survey_path, dtype={"路线编码": str, "桩号": str}, keep_default_na=False)
    pd.to_numeric(df["经度"])
    return time.perf_counter() - t0


def floor_reconcile(ds: Dataset, db: Db) -> float:
    """Network read (binary COPY out + WKB decode) and the nearest-segment match: points to the
    working CRS, Hilbert-sorted, ``STRtree.query(predicate="dwithin")``, nearest per point, and
    ``line_locate_point``."""
    import geopandas as gpd
    import pandas as pd
    import shapely
    from pyproj import Transformer

    t0 = time.perf_counter()
    with _psycopg(db.url) as conn, conn.cursor() as cur:
        buf = io.BytesIO()
        with cur.copy("COPY (SELECT s.id, ST_AsHEXEWKB(ST_Transform(s.geom, 4546)) FROM road_segments s "
                      "ORDER BY s.id) TO STDOUT") as cp:
            for chunk in cp:
                buf.write(chunk)
    lines = buf.getvalue().decode().splitlines()
    wkb = [ln.split("\t", 1)[1] for ln in lines]
    segs = shapely.from_wkb(wkb)
    df = pd.read_csv(ds.survey_path, usecols=["经度", "纬度"])
    x, y = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(df["经度"].to_numpy(), df["纬度"].to_numpy())
    pts = shapely.points(x, y)
    order = np.argsort(gpd.GeoSeries(pts).hilbert_distance().to_numpy(), kind="stable")
    pts = pts[order]
    tree = shapely.STRtree(segs)
    pi, si = tree.query(pts, predicate="dwithin", distance=50.0)
    d = shapely.distance(pts[pi], segs[si])
    best = np.lexsort((d, pi))
    first = np.ones(len(best), dtype=bool)
    first[1:] = pi[best][1:] != pi[best][:-1]
    bp, bs = pi[best][first], si[best][first]
    shapely.line_locate_point(segs[bs], pts[bp])
    return time.perf_counter() - t0


def floor_store(ds: Dataset, db: Db, n: int) -> float:
    """Binary COPY of ``n`` points with the hazard's main text columns + GiST index."""
    import pandas as pd
    import shapely

    df = pd.read_csv(ds.survey_path, nrows=n, dtype=str, keep_default_na=False)
    t0 = time.perf_counter()
    pts = shapely.points(df["经度"].astype(float).to_numpy(), df["纬度"].astype(float).to_numpy())
    ewkb = shapely.to_wkb(shapely.set_srid(pts, 4326), include_srid=True)
    raw = [b"\x01" + json.dumps(r, ensure_ascii=False).encode() for r in df.to_dict("records")]
    with _psycopg(db.url, autocommit=False) as conn:
        conn.execute("CREATE TEMP TABLE floor_hz (id int8, public_id text, category text, "
                     "description text, raw jsonb, geom geometry)")
        rows = zip(range(1, len(df) + 1), (f"H{i:06d}" for i in range(1, len(df) + 1)),
                   df["隐患类型"], df["隐患描述"], raw, ewkb, strict=True)
        _copy_binary(conn, "floor_hz", ["id", "public_id", "category", "description", "raw", "geom"],
                     ["int8", "text", "text", "text", "bytea", "bytea"], rows)
        conn.execute("CREATE INDEX ON floor_hz USING gist (geom)")
        conn.execute("CREATE INDEX ON floor_hz (public_id)")
        conn.commit()
    return time.perf_counter() - t0


def schema_bound(db: Db, table: str, *, events: bool = False) -> float:
    """What the database alone spends storing the rows ``table`` now holds, in its real schema:
    the same rows inserted again (new ids) by one server-side ``INSERT ... SELECT``, with every
    index, foreign key and check of the table, logged like the real load; for hazards also
    their ``created`` events. No Python, no parsing: the bound of a load into this schema (the
    floors above use a temporary table with two indexes). Rolled back."""
    with _psycopg(db.url, autocommit=False) as conn:
        conn.execute("SET jit = off")
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND "
            "column_name NOT IN ('id', 'public_id') ORDER BY ordinal_position", (table,))]
        conn.execute(f"CREATE TEMP TABLE bound_src AS SELECT * FROM {table}")
        off = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
        pid = ", public_id" if table == "hazards" else ""
        pid_value = ", 'B' || id" if table == "hazards" else ""
        t0 = time.perf_counter()
        conn.execute(f"INSERT INTO {table} (id{pid}, {', '.join(cols)}) "
                     f"SELECT id + {off}{pid_value}, {', '.join(cols)} FROM bound_src")
        if events:
            conn.execute("INSERT INTO hazard_events (hazard_id, kind, happened_on, by, to_status, note) "
                         f"SELECT id + {off}, 'created', current_date, 'bench', status, 'bound' FROM bound_src")
        seconds = time.perf_counter() - t0
        conn.rollback()
    return seconds


def floor_tiers(db: Db) -> float:
    """COPY out the scoring columns, a vectorised score, COPY in, one UPDATE ... FROM (rolled back)."""
    t0 = time.perf_counter()
    with _psycopg(db.url, autocommit=False) as conn:
        with conn.cursor() as cur:
            ids = [r[0] for r in cur.execute("SELECT id FROM hazards WHERE status <> 'rejected'")]
        score = (np.arange(len(ids)) * 37 % 100).astype(float)
        conn.execute("CREATE TEMP TABLE floor_sc (id int8, score float8, tier text)")
        tiers = np.where(score >= 70, "I", np.where(score >= 40, "II", "III"))
        _copy_binary(conn, "floor_sc", ["id", "score", "tier"], ["int8", "float8", "text"],
                     zip(ids, score.tolist(), tiers.tolist(), strict=True))
        conn.execute("UPDATE hazards h SET score = v.score, tier = v.tier FROM floor_sc v WHERE h.id = v.id")
        conn.rollback()
    return time.perf_counter() - t0


def floor_plan(cands: Any, budget: float) -> float:
    """Vectorised greedy knapsack: tier order, then score/cost, cumulative cost under budget."""
    t0 = time.perf_counter()
    tier_rank = cands["tier"].map({"I": 0, "II": 1, "III": 2}).fillna(3).to_numpy()
    ratio = cands["score"].to_numpy() / np.maximum(cands["cost"].to_numpy(dtype=float), 1e-9)
    order = np.lexsort((-ratio, tier_rank))
    within = np.cumsum(cands["cost"].to_numpy(dtype=float)[order]) <= budget
    _ = order[within]
    return time.perf_counter() - t0


def floor_export(db: Db, batch_id: int, out: Path) -> float:
    """SQL ST_AsGeoJSON + json_agg of the batch's hazards, written as it comes."""
    sql = """
        SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg(json_build_object(
          'type', 'Feature', 'id', h.public_id, 'geometry', ST_AsGeoJSON(h.geom, 7)::json,
          'properties', json_build_object('id', h.public_id, 'route_code', r.route_code,
            'chainage_m', h.chainage_m, 'category', h.category, 'description', h.description,
            'tier', h.tier, 'estimated_cost_cny', h.estimated_cost_cny, 'status', h.status))))::text
        FROM batch_items bi JOIN hazards h ON h.id = bi.hazard_id LEFT JOIN roads r ON r.id = h.road_id
        WHERE bi.batch_id = %s AND h.geom IS NOT NULL
    """
    t0 = time.perf_counter()
    with _psycopg(db.url) as conn:
        conn.execute("SET jit = off")
        text_ = conn.execute(sql, (batch_id,)).fetchone()[0]
    out.write_text(text_, encoding="utf-8")
    return time.perf_counter() - t0


def floor_progress(db: Db) -> float:
    """One GROUP BY in SQL: counts per status and open cost per route."""
    sql = """
        SELECT r.route_code, count(*) FILTER (WHERE h.status = 'identified'),
               count(*) FILTER (WHERE h.status = 'verified'), count(*) FILTER (WHERE h.status = 'planned'),
               sum(coalesce(h.provided_cost_cny, h.estimated_cost_cny))
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id GROUP BY r.route_code
    """
    t0 = time.perf_counter()
    with _psycopg(db.url) as conn:
        conn.execute("SET jit = off")
        conn.execute(sql).fetchall()
    return time.perf_counter() - t0


def floor_map_build(db: Db, town: str, out: Path) -> float:
    """The map's hazards as one compact SQL-built GeoJSON text, written to a file."""
    sql = """
        SELECT json_agg(json_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(h.geom, 6)::json,
               'properties', json_build_object('id', h.public_id, 'tier', h.tier, 'status', h.status)))::text
        FROM hazards h JOIN roads r ON r.id = h.road_id WHERE r.township = %s AND h.geom IS NOT NULL
    """
    t0 = time.perf_counter()
    with _psycopg(db.url) as conn:
        conn.execute("SET jit = off")
        text_ = conn.execute(sql, (town,)).fetchone()[0] or "[]"
    out.write_text(f"<html><body><script>var d={text_};</script></body></html>", encoding="utf-8")
    return time.perf_counter() - t0


FLOOR_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0">
<canvas id="c" width="1000" height="750"></canvas><script>
var xy = new Float64Array(%s);
var c = document.getElementById('c').getContext('2d');
var w = %r, s = %r, e = %r, n = %r;
c.fillStyle = '#d7191c';
for (var i = 0; i < xy.length; i += 2) {
  c.fillRect((xy[i] - w) / (e - w) * 1000, (n - xy[i + 1]) / (n - s) * 750, 3, 3);
}
window.floorCount = xy.length / 2;
</script></body></html>"""


def floor_map_page(db: Db, town: str, out: Path) -> Path:
    """A plain canvas page drawing the same points from a flat coordinate array (the open floor)."""
    with _psycopg(db.url) as conn:
        rows = conn.execute(
            "SELECT ST_X(h.geom), ST_Y(h.geom) FROM hazards h JOIN roads r ON r.id = h.road_id "
            "WHERE r.township = %s AND h.geom IS NOT NULL", (town,)).fetchall()
    xy = np.array(rows, dtype=float).reshape(-1, 2) if rows else np.zeros((0, 2))
    w, s = (xy.min(axis=0) if len(xy) else (0.0, 0.0))
    e, n = (xy.max(axis=0) if len(xy) else (1.0, 1.0))
    flat = "[" + ",".join(f"{v:.6f}" for v in xy.ravel()) + "]"
    out.write_text(FLOOR_PAGE % (flat, float(w), float(s), float(e), float(n)), encoding="utf-8")
    return out


# ----------------------------------------------------------------------------- headless Chromium
def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Browser:
    """One headless Chromium tab over the DevTools protocol (as in tests/test_mapping.py)."""

    def __init__(self, exe: str) -> None:
        from urllib.request import urlopen

        from websockets.sync.client import connect

        self.profile = Path(tempfile.mkdtemp(prefix="hazards-bench-chromium-"))
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--window-size=1000,750", f"--user-data-dir={self.profile}",
                 "--remote-debugging-port=0", "about:blank"]
        self.proc = subprocess.Popen([exe, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("Chromium did not start")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.load(urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        self.ws = connect(url, max_size=None, open_timeout=10).__enter__()
        self._id = 0
        self.events: list[dict[str, Any]] = []
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method: str, timeout: float = 120, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=timeout))
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(str(msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def _navigate(self, url: str, timeout: float = 120) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the page did not load in {timeout:.0f} s")
            self.events.append(json.loads(self.ws.recv(timeout=timeout)))

    def open_seconds(self, url: str, count_js: str, expected: int) -> tuple[float, Any]:
        """Seconds from navigation to: load event, ``count_js`` reaching ``expected`` (the
        features are drawn), and two animation frames (the first render is on screen)."""
        self._navigate("about:blank")
        t0 = time.perf_counter()
        self._navigate(url)
        expr = ("new Promise(r => { const t0 = performance.now(); (function poll() {"
                " let n = 0; try { n = " + count_js + "; } catch (e) {}"
                " if (n >= " + str(int(expected)) + " || performance.now() - t0 > 60000)"
                " requestAnimationFrame(() => requestAnimationFrame(() => r(n)));"
                " else setTimeout(poll, 10); })(); })")
        res = self.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        return time.perf_counter() - t0, res.get("result", {}).get("value")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        self.proc.terminate()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


# ----------------------------------------------------------------------------- the run
@dataclass
class Run:
    out: Path
    steps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profile_dir: Path | None = None

    def add(self, step: str, size: str, seconds: float, floor: float | None, peak_mb: float, **extra: Any) -> None:
        rec = {"step": step, "size": size, "seconds": round(seconds, 4),
               "floor_seconds": None if floor is None else round(floor, 4),
               "ratio": None if not floor else round(seconds / floor, 2),
               "peak_mb": round(peak_mb, 1), **extra}
        self.steps.append(rec)
        ratio = "" if rec["ratio"] is None else f"  ratio {rec['ratio']:.2f}"
        fl = "" if floor is None else f"  floor {floor:8.2f} s"
        click.echo(f"  {size} {step:<18} {seconds:8.2f} s{fl}{ratio}  peak {peak_mb:7.0f} MB"
                   + (f"  {extra}" if extra else ""), err=True)

    def prof(self, size: str, step: str) -> Path | None:
        return None if self.profile_dir is None else self.profile_dir / f"profile-{size}-{step}"


def _wrap(module: Any, name: str, acc: dict[str, float], key: str) -> Callable[[], None]:
    """Replace ``module.name`` by a timing wrapper adding to ``acc[key]``; returns an undo."""
    orig = getattr(module, name)

    def timed(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return orig(*a, **k)
        finally:
            acc[key] = acc.get(key, 0.0) + time.perf_counter() - t0

    setattr(module, name, timed)
    return lambda: setattr(module, name, orig)


def bench_size(size: str, run: Run, *, admin_url: str, workdir: Path, steps: set[str],
               browser: Browser | None, keep_db: bool = False) -> None:
    from sqlalchemy import text

    from hazards import contractors, planning, reconcile, remediation, scoring, survey
    from hazards.db import store
    from hazards.mapping import overview_map
    from hazards.roads import load_roads
    from hazards.settings import get_settings

    t0 = time.perf_counter()
    ds = generate(size, workdir / "data")
    click.echo(f"[{size}] data: {ds.n_segments} segments, {ds.n_rows} survey rows "
               f"({time.perf_counter() - t0:.1f} s to generate or reuse)", err=True)
    db = fresh_database(admin_url, f"hazards_bench_{size.lower()}")
    os.environ["HAZARDS_DATABASE_URL"] = db.url
    get_settings.cache_clear()
    engine = db.engine
    n = ds.n_segments
    tmp = workdir / f"out-{size}"
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        # road load ------------------------------------------------------------------------
        with measure(run.prof(size, "road_load")) as t:
            res = load_roads(ds.roads_path, engine=engine, rejected_path=tmp / "roads.rejected.gpkg")
        fl = floor_road_load(ds, db)
        run.add("road_load", size, t.seconds, fl, t.peak_mb, n=n, routes=len(res.routes_added),
                schema_s=round(schema_bound(db, "road_segments"), 2))

        # survey import, instrumented: parse / reconcile / store from one real call -----------
        if steps & set(SURVEY_STEPS) or steps - {"road_load"}:
            acc: dict[str, float] = {}
            undo = [
                _wrap(survey, "_file_sha256", acc, "parse"), _wrap(survey, "open_sheet", acc, "parse"),
                _wrap(survey, "_read_chunk", acc, "parse"), _wrap(survey, "parse_chunk", acc, "parse"),
                _wrap(store, "network_segments", acc, "reconcile"),
                _wrap(reconcile.Network, "from_segments", acc, "reconcile"),
                _wrap(reconcile, "reconcile", acc, "reconcile"),
                _wrap(store, "known_hazards", acc, "store"),
                _wrap(store.SurveyImportWriter, "add", acc, "store"),
                _wrap(store.SurveyImportWriter, "finish", acc, "store"),
            ]
            try:
                with measure(run.prof(size, "survey_import")) as t:
                    rep = survey.import_survey(ds.survey_path, provider="基准检测公司", surveyed_on="2025-03-01",
                                               rejected_path=tmp / "survey.rejected.csv", engine=engine)
            finally:
                for u in undo:
                    u()
            stored = rep["accepted"] + rep["review"]
            f_parse = floor_parse(ds)
            f_rec = floor_reconcile(ds, db)
            f_store = floor_store(ds, db, stored)
            pk = t.peak_mb
            run.add("survey_parse", size, acc.get("parse", 0.0), f_parse, pk, n=ds.n_rows)
            run.add("survey_reconcile", size, acc.get("reconcile", 0.0), f_rec, pk, n=ds.n_rows)
            run.add("survey_store", size, acc.get("store", 0.0), f_store, pk, n=stored,
                    schema_s=round(schema_bound(db, "hazards", events=True), 2))
            run.add("survey_import", size, t.seconds, f_parse + f_rec + f_store, pk, n=ds.n_rows,
                    accepted=rep["accepted"], review=rep["review"], rejected=rep["rejected"],
                    duplicates=rep["duplicates"])

        # tiers ----------------------------------------------------------------------------
        if steps - {"road_load", *SURVEY_STEPS}:
            with measure(run.prof(size, "tiers")) as t:
                tr = scoring.compute_tiers(engine=engine)
            run.add("tiers", size, t.seconds, floor_tiers(db), t.peak_mb, n=tr["scored"])

        cands = store.plan_candidates(engine)
        for step, k in (("plan_10k", 10_000), ("plan_100k", 100_000)):
            if step not in steps:
                continue
            c = cands.sort_values("id").head(k).reset_index(drop=True)
            budget = float(c["cost"].sum()) * 0.3
            with measure(run.prof(size, step)) as t:
                pr = planning.plan(c, name=f"bench-{k}", budget=budget, batches=3, time_limit=30.0)
            run.add(step, size, t.seconds, floor_plan(c, budget), t.peak_mb, n=len(c), solver=pr["solver"],
                    gap=pr["optimality_gap"])

        town = township(0)
        if "export_100k" in steps or "map_build_100k" in steps or "map_open_100k" in steps:
            # One batch with (up to) 100k hazards of the first township; they become planned.
            with engine.begin() as conn:
                bid = conn.execute(text(
                    "INSERT INTO batches (plan_name, name, contractor, due_on) VALUES "
                    "('bench', 'bench-1', '某路桥公司', '2025-10-31') RETURNING id")).scalar_one()
                conn.execute(text(
                    "INSERT INTO batch_items (batch_id, hazard_id, cost_cny) SELECT :b, h.id, "
                    "coalesce(h.estimated_cost_cny, 0) FROM hazards h JOIN roads r ON r.id = h.road_id "
                    "WHERE r.township = :t AND h.geom IS NOT NULL ORDER BY h.id LIMIT 100000"),
                    {"b": bid, "t": town})
                conn.execute(text("UPDATE hazards SET status = 'planned' WHERE id IN "
                                  "(SELECT hazard_id FROM batch_items WHERE batch_id = :b)"), {"b": bid})
                nb = conn.execute(text("SELECT count(*) FROM batch_items WHERE batch_id = :b"), {"b": bid}).scalar_one()
            if "export_100k" in steps:
                with measure(run.prof(size, "export_100k")) as t:
                    contractors.export_batch("bench-1", tmp / "batch.geojson", engine=engine)
                fl = floor_export(db, bid, tmp / "batch-floor.geojson")
                run.add("export_100k", size, t.seconds, fl, t.peak_mb, n=int(nb),
                        mb=round((tmp / "batch.geojson").stat().st_size / 1e6, 1))

        if "progress" in steps:
            with measure(run.prof(size, "progress")) as t:
                remediation.progress(by="road", engine=engine)
            run.add("progress", size, t.seconds, floor_progress(db), t.peak_mb, n=ds.n_rows)

        if "map_build_100k" in steps or "map_open_100k" in steps:
            html = tmp / "overview.html"
            with measure(run.prof(size, "map_build_100k")) as t:
                m = overview_map(engine=engine, townships=[town], lang="zh")
                m.save(str(html))
                del m
            with engine.connect() as conn:
                nm = conn.execute(text("SELECT count(*) FROM hazards h JOIN roads r ON r.id = h.road_id "
                                       "WHERE r.township = :t AND h.geom IS NOT NULL"), {"t": town}).scalar_one()
            fl = floor_map_build(db, town, tmp / "overview-floor.html")
            html_mb = html.stat().st_size / 1e6
            run.add("map_build_100k", size, t.seconds, fl, t.peak_mb, n=int(nm), html_mb=round(html_mb, 1))
            if "map_open_100k" in steps:
                if browser is None:
                    run.notes.append(f"{size}: map_open_100k skipped (no Chromium or websockets, or --no-browser)")
                else:
                    floor_page = floor_map_page(db, town, tmp / "overview-floor-canvas.html")
                    fsec, _ = browser.open_seconds(floor_page.as_uri(), "window.floorCount", int(nm))
                    sec, count = browser.open_seconds(html.as_uri(), "HazardsMap.featureCount()", int(nm))
                    run.add("map_open_100k", size, sec, fsec, 0.0, n=int(nm), features=count,
                            html_mb=round(html_mb, 1))
    finally:
        os.environ.pop("HAZARDS_DATABASE_URL", None)
        get_settings.cache_clear()
        if not keep_db:
            drop_database(db)


# ----------------------------------------------------------------------------- report
def exponents(steps: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """Per step: k of time ∝ segments^k fitted on log-log over the sizes run (S/M/L; T too when
    alone), and the two-point k from M to L."""
    order = ["T", "S", "M", "L"]
    fit: dict[str, float] = {}
    ml: dict[str, float] = {}
    by: dict[str, dict[str, float]] = {}
    for s in steps:
        if s["seconds"] and s["seconds"] > 0:
            by.setdefault(s["step"], {})[s["size"]] = s["seconds"]
    for step, times in by.items():
        sizes = [z for z in order if z in times]
        if len(sizes) > 1 and "T" in sizes and any(z != "T" for z in sizes):
            sizes = [z for z in sizes if z != "T"]
        if len(sizes) >= 2:
            x = np.log([SIZES[z][0] for z in sizes])
            y = np.log([times[z] for z in sizes])
            fit[step] = round(float(np.polyfit(x, y, 1)[0]), 3)
        if "M" in times and "L" in times:
            ml[step] = round(math.log(times["L"] / times["M"]) / math.log(10), 3)
    return fit, ml


def machine_info(admin_url: str | None) -> dict[str, Any]:
    import geopandas
    import pyogrio
    import shapely

    info: dict[str, Any] = {
        "hostname": platform.node(), "platform": platform.platform(), "python": platform.python_version(),
        "cpus": os.cpu_count(), "shapely": shapely.__version__, "geos": shapely.geos_version_string,
        "geopandas": geopandas.__version__, "pyogrio": pyogrio.__version__,
        "gdal": pyogrio.__gdal_version_string__, "memory_method": MEMORY_METHOD,
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["mem_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    try:
        import pyarrow

        info["pyarrow"] = pyarrow.__version__
    except ImportError:
        info["pyarrow"] = None
    if admin_url:
        with contextlib.suppress(Exception), _psycopg(admin_url) as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    return info


def _num(v: Any) -> str:
    return "" if v is None else f"{v:.2f}"


def markdown(result: dict[str, Any]) -> str:
    lines = [f"# hazards bench — {result['started']}", ""]
    m = result["machine"]
    lines.append(f"Machine: {m.get('cpu', '?')}, {m.get('cpus')} cores, {m.get('mem_gb', '?')} GB; "
                 f"Python {m['python']}, PostgreSQL {m.get('postgresql', '?')}, shapely {m['shapely']} "
                 f"(GEOS {m['geos']}), GDAL {m['gdal']}, pyarrow {m.get('pyarrow')}. Peak memory: "
                 f"{m['memory_method']}.")
    lines += ["", "| step | size | n | seconds | floor s | ratio | peak MB | notes |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for s in result["steps"]:
        extra = {k: v for k, v in s.items() if k not in ("step", "size", "seconds", "floor_seconds", "ratio", "peak_mb", "n")}
        lines.append(
            f"| {s['step']} | {s['size']} | {s.get('n', '')} | {s['seconds']:.2f} | "
            f"{_num(s['floor_seconds'])} | {_num(s['ratio'])} | {s['peak_mb']:.0f} | "
            f"{', '.join(f'{k}={v}' for k, v in extra.items())} |")
    lines += ["", "Growth exponent k (time ∝ segments^k): fitted over the sizes run, and M→L.", "",
              "| step | k (fit) | k (M→L) |", "| --- | ---: | ---: |"]
    for step, k in result["exponents"].items():
        lines.append(f"| {step} | {k:.2f} | {result['exponents_ml'].get(step, '')} |")
    if result["notes"]:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in result["notes"]]
    return "\n".join(lines) + "\n"


def run_bench(sizes: list[str], *, out: Path, steps: list[str] | None = None, admin_url: str | None = None,
              home: Path | None = None, workdir: Path | None = None, browser: bool = True,
              profile: bool = False, keep_db: bool = False, write_latest: bool = True) -> dict[str, Any]:
    """Run the bench; returns the result dict (also written under ``out``)."""
    bad = [s for s in sizes if s not in SIZES]
    if bad:
        raise click.UsageError(f"--sizes: unknown {', '.join(bad)}; use {', '.join(SIZES)}.")
    chosen = set(steps or STEPS)
    unknown = chosen - set(STEPS)
    if unknown:
        raise click.UsageError(f"--steps: unknown {', '.join(sorted(unknown))}; steps are {', '.join(STEPS)}.")
    if chosen & set(SURVEY_STEPS):
        chosen |= set(SURVEY_STEPS)
    started = dt.datetime.now().replace(microsecond=0)
    if admin_url is None:
        admin_url = admin_url_of(home or Path(os.environ.get("HAZARDS_BENCH_HOME", REPO / ".hazards-bench")))
    workdir = workdir or Path(tempfile.gettempdir()) / "hazards-bench"
    run = Run(out=out, profile_dir=(out / f"profiles-{started:%Y%m%d-%H%M%S}") if profile else None)
    if profile:
        run.notes.append("cProfile was on: times are inflated by profiling overhead")
    br: Browser | None = None
    if browser and "map_open_100k" in chosen:
        exe = chromium()
        try:
            import websockets  # noqa: F401

            br = Browser(exe) if exe else None
        except Exception as exc:  # no websockets, or Chromium failed to start
            run.notes.append(f"Chromium not usable: {exc}")
        if br is None and exe is None:
            run.notes.append("Chromium not found: map_open_100k skipped (apt-get install chromium)")
    try:
        for size in sizes:
            bench_size(size, run, admin_url=admin_url, workdir=workdir, steps=chosen, browser=br, keep_db=keep_db)
    finally:
        if br is not None:
            br.close()
    fit, ml = exponents(run.steps)
    result = {
        "started": started.isoformat(), "sizes": sizes,
        "machine": machine_info(admin_url), "steps": run.steps, "exponents": fit,
        "exponents_ml": ml, "notes": run.notes,
    }
    out.mkdir(parents=True, exist_ok=True)
    stem = f"bench-{started:%Y%m%d-%H%M%S}-{''.join(sizes)}"
    (out / f"{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    (out / f"{stem}.md").write_text(markdown(result))
    if write_latest:
        (out / "latest.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
        (out / "latest.md").write_text(markdown(result))
    return result


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--sizes", default="S,M", show_default=True,
              help="Comma-separated sizes: T (500 segments, 2k rows), S (5k, 20k), M (50k, 200k), L (500k, 2M).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("bench/results"), show_default=True,
              help="Folder for the JSON and Markdown results (the newest also as latest.json).")
@click.option("--steps", default=None, help=f"Comma-separated steps to run (default all): {', '.join(STEPS)}. "
              "road_load always runs (the others need the network).")
@click.option("--workdir", type=click.Path(path_type=Path), default=None,
              help="Where the generated data and outputs go (default $TMPDIR/hazards-bench; data is reused between runs).")
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="HAZARDS_HOME of the embedded cluster the bench uses (default ./.hazards-bench).")
@click.option("--admin-url", default=None, help="Admin URL of a PostGIS server to use instead of the embedded one.")
@click.option("--no-browser", is_flag=True, help="Skip the map open time in headless Chromium.")
@click.option("--profile", is_flag=True, help="cProfile every step (times are inflated); writes profile-*.txt.")
@click.option("--keep-db", is_flag=True, help="Keep each size's database after the run.")
def main(sizes: str, out: Path, steps: str | None, workdir: Path | None, home: Path | None,
         admin_url: str | None, no_browser: bool, profile: bool, keep_db: bool) -> None:
    """Time each step of hazards through the library, beside its raw floor, at sizes S/M/L."""
    result = run_bench([s.strip().upper() for s in sizes.split(",") if s.strip()], out=out,
                       steps=[s.strip() for s in steps.split(",")] if steps else None,
                       admin_url=admin_url, home=home, workdir=workdir, browser=not no_browser,
                       profile=profile, keep_db=keep_db)
    click.echo(markdown(result))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
