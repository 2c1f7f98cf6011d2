"""The floors of the benchmark: what the data allows, measured with the database's own tools.

Each floor does the same work as a step of ``hazards`` on the same data, by the shortest path:
pandas' C reader, binary ``COPY``, one server-side SQL statement. This is the benchmark's SQL,
written here with psycopg and kept out of the ``hazards`` package (whose SQL lives in
``hazards/db``). The scratch databases each size runs in are made and dropped here as well.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.data import CRS, SRID, Dataset

if TYPE_CHECKING:
    import pandas as pd
    import psycopg


@dataclass
class Db:
    """A scratch database of the benchmark: its URL and its server's admin URL (SQLAlchemy form)."""

    admin_url: str  # the 'postgres' database of the server
    url: str  # the fresh database

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[1]


def connect(url: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    """A psycopg connection from a SQLAlchemy URL (``postgresql+psycopg://…``)."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return psycopg.connect(
        host=u.host,
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        dbname=u.database,
        autocommit=autocommit,
    )


def create_database(admin_url: str, name: str) -> Db:
    """A fresh, empty database ``name`` with PostGIS (an older one of that name is dropped)."""
    with connect(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Db(admin_url, admin_url.rsplit("/", 1)[0] + f"/{name}")
    with connect(db.url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return db


def drop_database(db: Db) -> None:
    """Drop the scratch database (its connections are closed by force)."""
    with connect(db.admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


def server_version(admin_url: str) -> str | None:
    """PostgreSQL's version number, e.g. ``15.18``."""
    with connect(admin_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else None


def _copy_binary(
    conn: psycopg.Connection[Any],
    table: str,
    columns: list[str],
    types: list[str],
    rows: Iterable[Any],
) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as cp,
    ):
        cp.set_types(types)
        for r in rows:
            cp.write_row(r)


# ----------------------------------------------------------------------------- roads
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
    geoms = shapely.set_srid(geoms, SRID)
    ewkb = shapely.to_wkb(geoms, include_srid=True)
    with connect(db.url, autocommit=False) as conn:
        conn.execute("CREATE TEMP TABLE floor_segs (id int8, code text, geom geometry)")
        _copy_binary(
            conn,
            "floor_segs",
            ["id", "code", "geom"],
            ["int8", "text", "bytea"],
            zip(range(len(codes)), codes, ewkb, strict=True),
        )
        conn.execute("CREATE INDEX ON floor_segs USING gist (geom)")
        conn.commit()
    return time.perf_counter() - t0


# ----------------------------------------------------------------------------- the survey
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
    with connect(db.url) as conn, conn.cursor() as cur:
        buf = io.BytesIO()
        with cur.copy(
            f"COPY (SELECT s.id, ST_AsHEXEWKB(ST_Transform(s.geom, {SRID})) FROM road_segments s "
            "ORDER BY s.id) TO STDOUT"
        ) as cp:
            for chunk in cp:
                buf.write(chunk)
    lines = buf.getvalue().decode().splitlines()
    wkb = [ln.split("\t", 1)[1] for ln in lines]
    segs = shapely.from_wkb(wkb)
    df = pd.read_csv(ds.survey_path, usecols=["经度", "纬度"])
    x, y = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(
        df["经度"].to_numpy(), df["纬度"].to_numpy()
    )
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
    with connect(db.url, autocommit=False) as conn:
        conn.execute(
            "CREATE TEMP TABLE floor_hz (id int8, public_id text, category text, "
            "description text, raw jsonb, geom geometry)"
        )
        rows = zip(
            range(1, len(df) + 1),
            (f"H{i:06d}" for i in range(1, len(df) + 1)),
            df["隐患类型"],
            df["隐患描述"],
            raw,
            ewkb,
            strict=True,
        )
        _copy_binary(
            conn,
            "floor_hz",
            ["id", "public_id", "category", "description", "raw", "geom"],
            ["int8", "text", "text", "text", "bytea", "bytea"],
            rows,
        )
        conn.execute("CREATE INDEX ON floor_hz USING gist (geom)")
        conn.execute("CREATE INDEX ON floor_hz (public_id)")
        conn.commit()
    return time.perf_counter() - t0


def _keys_sql(conn: Any, table: str) -> tuple[list[str], list[str]]:
    """The statements that drop the unique constraints, secondary indexes and foreign keys of
    ``table`` (not its primary key, nor the extent index a bulk import keeps online), and those
    that make them again (in that order), from the catalog."""
    drop: list[str] = []
    unique: list[str] = []
    foreign: list[str] = []
    for name, kind, definition in conn.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
        (table,),
    ):
        drop.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        (unique if kind == "u" else foreign).append(
            f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        )
    indexes = []
    for name, definition in conn.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i "
        "ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
        "AND i.relname <> 'ix_hazards_extent'",
        (table,),
    ):
        drop.append(f'DROP INDEX "{name}"')
        indexes.append(definition)
    return drop, unique + indexes + foreign


def schema_bound(db: Db, table: str, *, bulk: bool = False) -> float:
    """What the database alone spends storing the rows ``table`` now holds, in its real schema:
    the same rows inserted again (new ids) by one server-side ``INSERT ... SELECT``, with every
    index, foreign key and check of the table, logged like the real load. No Python, no
    parsing: the bound of a load into this schema (the floors above use a temporary table with
    two indexes). With ``bulk``, into the emptied table with its keys made after the rows, as
    a bulk import does (``hazards.db.store.bulk``). Rolled back."""
    with connect(db.url, autocommit=False) as conn:
        conn.execute("SET jit = off")
        cols = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND "
                "column_name NOT IN ('id', 'public_id') ORDER BY ordinal_position",
                (table,),
            )
        ]
        conn.execute(f"CREATE TEMP TABLE bound_src AS SELECT * FROM {table}")
        row = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()
        off = row[0] if row else 0
        pid = ", public_id" if table == "hazards" else ""
        pid_value = ", 'B' || id" if table == "hazards" else ""
        values = list(cols)
        if table == "hazards":  # one hazard per survey row (a unique key): new line numbers
            row = conn.execute("SELECT coalesce(max(source_line), 0) FROM hazards").fetchone()
            values = [
                f"source_line + {row[0] if row else 0}" if c == "source_line" else c for c in cols
            ]
        drop: list[str] = []
        make: list[str] = []
        if bulk:
            conn.execute(f"TRUNCATE {table} CASCADE")
            drop, make = _keys_sql(conn, table)
        t0 = time.perf_counter()
        for statement in drop:
            conn.execute(statement)
        conn.execute(
            f"INSERT INTO {table} (id{pid}, {', '.join(cols)}) "
            f"SELECT id + {off}{pid_value}, {', '.join(values)} FROM bound_src"
        )
        for statement in make:
            conn.execute(statement)
        seconds = time.perf_counter() - t0
        conn.rollback()
    return seconds


# ----------------------------------------------------------------------------- scores and plans
def floor_tiers(db: Db) -> float:
    """COPY out the scoring columns, a vectorised score, COPY in, one UPDATE ... FROM (rolled back)."""
    t0 = time.perf_counter()
    with connect(db.url, autocommit=False) as conn:
        with conn.cursor() as cur:
            ids = [r[0] for r in cur.execute("SELECT id FROM hazards WHERE status <> 'rejected'")]
        score = (np.arange(len(ids)) * 37 % 100).astype(float)
        conn.execute("CREATE TEMP TABLE floor_sc (id int8, score float8, tier text)")
        tiers = np.where(score >= 70, "I", np.where(score >= 40, "II", "III"))
        _copy_binary(
            conn,
            "floor_sc",
            ["id", "score", "tier"],
            ["int8", "float8", "text"],
            zip(ids, score.tolist(), tiers.tolist(), strict=True),
        )
        conn.execute(
            "UPDATE hazards h SET score = v.score, tier = v.tier FROM floor_sc v WHERE h.id = v.id"
        )
        conn.rollback()
    return time.perf_counter() - t0


def floor_plan(cands: pd.DataFrame, budget: float) -> float:
    """Vectorised greedy knapsack: tier order, then score/cost, cumulative cost under budget."""
    t0 = time.perf_counter()
    tier_rank = cands["tier"].map({"I": 0, "II": 1, "III": 2}).fillna(3).to_numpy()
    ratio = cands["score"].to_numpy() / np.maximum(cands["cost"].to_numpy(dtype=float), 1e-9)
    order = np.lexsort((-ratio, tier_rank))
    within = np.cumsum(cands["cost"].to_numpy(dtype=float)[order]) <= budget
    _ = order[within]
    return time.perf_counter() - t0


# ----------------------------------------------------------------------------- export, progress
def floor_export(db: Db, batch: str, out: Path) -> float:
    """SQL ST_AsGeoJSON + json_agg of the batch's hazards, written as it comes."""
    sql = """
        SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg(json_build_object(
          'type', 'Feature', 'id', h.public_id, 'geometry', ST_AsGeoJSON(h.geom, 7)::json,
          'properties', json_build_object('id', h.public_id, 'route_code', r.route_code,
            'chainage_m', h.chainage_m, 'category', h.category, 'description', h.description,
            'tier', h.tier, 'estimated_cost_cny', h.estimated_cost_cny, 'status', h.status))))::text
        FROM batches b JOIN batch_items bi ON bi.batch_id = b.id JOIN hazards h ON h.id = bi.hazard_id
        LEFT JOIN roads r ON r.id = h.road_id
        WHERE b.name = %s AND h.geom IS NOT NULL
    """
    t0 = time.perf_counter()
    with connect(db.url) as conn:
        conn.execute("SET jit = off")
        row = conn.execute(sql, (batch,)).fetchone()
    out.write_text((row[0] if row else None) or "", encoding="utf-8")
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
    with connect(db.url) as conn:
        conn.execute("SET jit = off")
        conn.execute(sql).fetchall()
    return time.perf_counter() - t0


# ----------------------------------------------------------------------------- maps
def township_hazards(db: Db, town: str) -> int:
    """How many hazards of the township's roads have a point (what its map must draw)."""
    with connect(db.url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM hazards h JOIN roads r ON r.id = h.road_id "
            "WHERE r.township = %s AND h.geom IS NOT NULL",
            (town,),
        ).fetchone()
    return int(row[0]) if row else 0


def floor_map_build(db: Db, town: str, out: Path) -> float:
    """The map's hazards as one compact SQL-built GeoJSON text, written to a file."""
    sql = """
        SELECT json_agg(json_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(h.geom, 6)::json,
               'properties', json_build_object('id', h.public_id, 'tier', h.tier, 'status', h.status)))::text
        FROM hazards h JOIN roads r ON r.id = h.road_id WHERE r.township = %s AND h.geom IS NOT NULL
    """
    t0 = time.perf_counter()
    with connect(db.url) as conn:
        conn.execute("SET jit = off")
        row = conn.execute(sql, (town,)).fetchone()
    text_ = (row[0] if row else None) or "[]"
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
    with connect(db.url) as conn:
        rows = conn.execute(
            "SELECT ST_X(h.geom), ST_Y(h.geom) FROM hazards h JOIN roads r ON r.id = h.road_id "
            "WHERE r.township = %s AND h.geom IS NOT NULL",
            (town,),
        ).fetchall()
    xy = np.array(rows, dtype=float).reshape(-1, 2) if rows else np.zeros((0, 2))
    w, s = xy.min(axis=0) if len(xy) else (0.0, 0.0)
    e, n = xy.max(axis=0) if len(xy) else (1.0, 1.0)
    flat = "[" + ",".join(f"{v:.6f}" for v in xy.ravel()) + "]"
    out.write_text(FLOOR_PAGE % (flat, float(w), float(s), float(e), float(n)), encoding="utf-8")
    return out
