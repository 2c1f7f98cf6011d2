"""Roads in the store: the working CRS and metadata, routes and their segments written and read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from sqlalchemy import text

from hazards.db.session import get_engine
from hazards.errors import InputError, NotFound

if TYPE_CHECKING:
    from sqlalchemy import Engine


def server_versions(engine: Engine | None = None) -> dict[str, str]:
    """PostgreSQL and PostGIS versions of the database in use."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    return {"PostgreSQL": str(pg).split()[0], "PostGIS": str(postgis)}


def get_metadata(engine: Engine, key: str) -> str | None:
    """The value recorded under ``key`` in the ``metadata`` table, or None."""
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT value FROM metadata WHERE key = :k"), {"k": key}
        ).scalar_one_or_none()


# ----------------------------------------------------------------------------- working CRS
WORKING_CRS_KEY = "working_crs"


def working_crs(engine: Engine) -> CRS | None:
    """The database's working metric CRS, or None before the first road load."""
    value = get_metadata(engine, WORKING_CRS_KEY)
    return None if value is None else CRS.from_user_input(value)


def require_working_crs(engine: Engine) -> CRS:
    """The working CRS; an error saying to load roads first when there is none yet."""
    crs = working_crs(engine)
    if crs is None:
        raise InputError(
            "No roads are loaded yet, so there is no network to work on. Load the road "
            "network first: `hazards roads load FILE`."
        )
    return crs


def record_working_crs(engine: Engine, crs: CRS) -> CRS:
    """Record ``crs`` as the working CRS unless one is recorded already; the recorded one."""
    from hazards.crs import crs_label

    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO metadata (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING"),
            {"k": WORKING_CRS_KEY, "v": crs_label(crs)},
        )
    return working_crs(engine) or crs


# ----------------------------------------------------------------------------- roads
def route_checksums(engine: Engine, *, admin_code: str = "") -> dict[str, str | None]:
    """Route code → checksum of every loaded route (a reload skips the unchanged ones)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT route_code, checksum FROM roads WHERE admin_code = :a"), {"a": admin_code}
        ).all()
    return {r.route_code: r.checksum for r in rows}


def write_routes(
    engine: Engine,
    roads: pd.DataFrame,
    segments: gpd.GeoDataFrame,
    *,
    source: str,
    replace: bool = True,
    admin_code: str = "",
) -> None:
    """Insert routes and their segments (lon/lat); with ``replace``, same-code routes go first.

    Segments are streamed with COPY; everything is one transaction.
    """
    if segments.crs is None or segments.crs.to_epsg() != 4326:
        raise ValueError("segments must be in EPSG:4326")
    with engine.begin() as conn:
        if replace:
            conn.execute(
                text("DELETE FROM roads WHERE admin_code = :a AND route_code = ANY(:codes)"),
                {"a": admin_code, "codes": list(roads["code"])},
            )
        rows = conn.execute(
            text(
                "INSERT INTO roads (admin_code, route_code, name, road_class, township, length_m, "
                "end_m, gap_m, parts, has_gap, has_branch, unassigned, source, checksum) "
                "SELECT :a, * FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), "
                "CAST(:cls AS text[]), CAST(:town AS text[]), CAST(:len AS float8[]), "
                "CAST(:end AS float8[]), CAST(:gap AS float8[]), CAST(:parts AS int[]), "
                "CAST(:has_gap AS bool[]), CAST(:has_branch AS bool[]), CAST(:un AS bool[]), "
                "CAST(:src AS text[]), CAST(:ck AS text[])) RETURNING id, route_code"
            ),
            {
                "a": admin_code,
                "code": [str(c) for c in roads["code"]],
                "name": [_text_or_none(v) for v in roads["name"]],
                "cls": [str(v) for v in roads["road_class"]],
                "town": [_text_or_none(v) for v in roads["township"]],
                "len": [float(v) for v in roads["length_m"]],
                "end": [float(v) for v in roads["end_m"]],
                "gap": [float(v) for v in roads["gap_m"]],
                "parts": [int(v) for v in roads["parts"]],
                "has_gap": [bool(v) for v in roads["has_gap"]],
                "has_branch": [bool(v) for v in roads["has_branch"]],
                "un": [bool(v) for v in roads["unassigned"]],
                "src": [source] * len(roads),
                "ck": [str(v) for v in roads["checksum"]],
            },
        ).all()
        ids = {code: rid for rid, code in rows}
        road_id = (
            pd.Series(ids).reindex(segments["code"].to_numpy(dtype=object)).to_numpy(dtype=np.int64)
        )
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cur,
            cur.copy(
                "COPY road_segments (township, admin_code, road_id, seq, part, from_m, to_m, length_m, "
                "source_row, source_file, geom) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy,
        ):
            copy.write(_COPY_SIGNATURE)
            step = 50_000
            for lo in range(0, len(segments), step):
                copy.write(
                    _segment_copy_rows(
                        segments.iloc[lo : lo + step],
                        road_id[lo : lo + step],
                        admin_code=admin_code,
                        source=source,
                    )
                )
            copy.write(b"\xff\xff")


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8


def _segment_copy_rows(
    segments: gpd.GeoDataFrame, road_id: np.ndarray, *, admin_code: str, source: str
) -> bytes:
    """Segments as rows of PostgreSQL's binary COPY format, built with array operations.

    A row is: the field count and the township (one encoded value per distinct township), the
    fixed-size fields as one big-endian record, then the geometry as EWKB.
    """
    n = len(segments)
    towns = segments["township"] if "township" in segments else pd.Series([None] * n)
    labels, uniques = pd.factorize(pd.Series(towns.to_numpy(dtype=object), dtype=object))
    head = np.array(
        [_copy_field(_text_or_none(u)) for u in uniques] + [_copy_field(None)], dtype=object
    )
    head = np.array([b"\x00\x0b" + h for h in head], dtype=object)
    admin = admin_code.encode()
    src = source.encode()
    rec = np.empty(
        n,
        dtype=np.dtype(
            [
                ("la", ">i4"),
                *([("a", f"S{len(admin)}")] if admin else []),
                ("l1", ">i4"),
                ("road_id", ">i4"),
                ("l2", ">i4"),
                ("seq", ">i4"),
                ("l3", ">i4"),
                ("part", ">i4"),
                ("l4", ">i4"),
                ("from_m", ">f8"),
                ("l5", ">i4"),
                ("to_m", ">f8"),
                ("l6", ">i4"),
                ("length_m", ">f8"),
                ("l7", ">i4"),
                ("row", ">i4"),
                ("ls", ">i4"),
                *([("s", f"S{len(src)}")] if src else []),
                ("lg", ">i4"),
            ]
        ),
    )
    rec["la"] = len(admin)
    if admin:
        rec["a"] = admin
    for k in ("l1", "l2", "l3", "l7"):
        rec[k] = 4
    for k in ("l4", "l5", "l6"):
        rec[k] = 8
    rec["road_id"] = road_id
    for k in ("seq", "part", "from_m", "to_m", "length_m", "row"):
        rec[k] = segments[k].to_numpy()
    rec["ls"] = len(src)
    if src:
        rec["s"] = src
    geoms = shapely.set_srid(np.asarray(segments.geometry.array, dtype=object), 4326)
    wkb = shapely.to_wkb(geoms, include_srid=True)
    rec["lg"] = np.fromiter(map(len, wkb), dtype=np.int64, count=n)
    parts = np.empty(3 * n, dtype=object)
    parts[0::3] = head[labels]
    parts[1::3] = rec.view(f"V{rec.dtype.itemsize}").tolist()
    parts[2::3] = wkb
    return b"".join(parts.tolist())


def _copy_field(value: str | None) -> bytes:
    if value is None:
        return b"\xff\xff\xff\xff"
    data = value.encode()
    return len(data).to_bytes(4, "big") + data


def _text_or_none(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and v != v) else str(v)


def road_summary(engine: Engine, *, by: str = "class", admin_code: str = "") -> dict[str, Any]:
    """Routes, segments and km per class (or township) and in total."""
    key = {"class": "r.road_class", "township": "coalesce(r.township, '')"}[by]
    sql = f"""
        SELECT {key} AS grp, count(DISTINCT r.id) AS routes, count(s.id) AS segments,
               coalesce(sum(s.length_m), 0) / 1000.0 AS length_km
        FROM roads r JOIN road_segments s ON s.road_id = r.id
        WHERE r.admin_code = :a AND NOT r.unassigned
        GROUP BY 1 ORDER BY 1
    """
    unassigned_sql = """
        SELECT count(s.id) AS segments, coalesce(sum(s.length_m), 0) / 1000.0 AS length_km
        FROM roads r JOIN road_segments s ON s.road_id = r.id
        WHERE r.admin_code = :a AND r.unassigned
    """
    with engine.connect() as conn:
        rows = conn.execute(text(sql), {"a": admin_code}).all()
        un = conn.execute(text(unassigned_sql), {"a": admin_code}).one()
    label = "class" if by == "class" else "township"
    groups: list[dict[str, Any]] = [
        {
            label: r.grp if r.grp != "" else None,
            "routes": int(r.routes),
            "segments": int(r.segments),
            "length_km": round(float(r.length_km), 3),
        }
        for r in rows
    ]
    total_routes = sum(g["routes"] for g in groups)
    total_segments = sum(g["segments"] for g in groups)
    total_km = sum(float(r.length_km) for r in rows)
    return {
        "classes" if by == "class" else "townships": groups,
        "total": {
            "routes": total_routes,
            "segments": total_segments,
            "length_km": round(total_km, 3),
        },
        "unassigned_segments": int(un.segments),
        "unassigned_length_km": round(float(un.length_km), 3),
    }


def get_road(engine: Engine, code: str, *, admin_code: str = "") -> dict[str, Any]:
    """A road by route code, written as stored or not (``x 012`` finds ``X012``)."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(
                    "SELECT * FROM roads WHERE admin_code = :a AND route_code = upper(replace(trim(:c), ' ', ''))"
                ),
                {"a": admin_code, "c": code},
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            near = (
                conn.execute(
                    text(
                        "SELECT route_code FROM roads WHERE admin_code = :a AND NOT unassigned AND "
                        "route_code ILIKE :p ORDER BY route_code LIMIT 5"
                    ),
                    {"a": admin_code, "c": code, "p": f"%{code.strip()[-3:]}%"},
                )
                .scalars()
                .all()
            )
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise NotFound(
                f"No road with route code {code!r} is loaded.{hint} "
                "`hazards roads summary` lists what is loaded."
            )
    return dict(row)


def route_townships(engine: Engine, road_id: int) -> list[str]:
    """The townships a route crosses, in chainage order (from its segments)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT township FROM road_segments WHERE road_id = :r AND township IS NOT NULL "
                    "GROUP BY township ORDER BY min(part), min(from_m)"
                ),
                {"r": road_id},
            )
            .scalars()
            .all()
        )


def route_segments(engine: Engine, road_id: int) -> gpd.GeoDataFrame:
    """A route's segments in lon/lat, ordered by part and chainage."""
    sql = (
        "SELECT id, seq, part, from_m, to_m, length_m, source_row, geom FROM road_segments "
        "WHERE road_id = %(rid)s ORDER BY part, from_m, seq"
    )
    with engine.connect() as conn:
        return gpd.read_postgis(sql, conn, geom_col="geom", params={"rid": road_id})


def network_segments(
    engine: Engine, *, road_id: int | None = None, admin_code: str = ""
) -> gpd.GeoDataFrame:
    """Every road segment (or one road's) with its route code, in lon/lat."""
    sql = (
        "SELECT s.id, s.road_id, r.route_code, s.part, s.from_m, s.to_m, ST_AsBinary(s.geom) AS wkb "
        "FROM road_segments s JOIN roads r ON r.id = s.road_id "
        "WHERE r.admin_code = :a AND (CAST(:rid AS int) IS NULL OR s.road_id = CAST(:rid AS int)) ORDER BY s.id"
    )
    with engine.connect() as conn:
        frame = pd.read_sql(text(sql), conn, params={"a": admin_code, "rid": road_id})
    # WKB decoded in one vectorised call (read_postgis decodes row by row)
    geoms = shapely.from_wkb(frame.pop("wkb").to_numpy())
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=4326))
