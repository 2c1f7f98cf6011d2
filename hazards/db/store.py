"""The only module that runs SQL: reading and writing the inventory in PostGIS."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from sqlalchemy import Engine, text

from hazards.db.session import get_engine
from hazards.errors import ConfigError, InputError, NotFound


def server_versions(engine: Engine | None = None) -> dict[str, str]:
    """PostgreSQL and PostGIS versions of the database in use."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    return {"PostgreSQL": str(pg).split()[0], "PostGIS": str(postgis)}


def get_metadata(engine: Engine, key: str) -> str | None:
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
            text(
                "INSERT INTO metadata (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING"
            ),
            {"k": WORKING_CRS_KEY, "v": crs_label(crs)},
        )
    return working_crs(engine) or crs


# ----------------------------------------------------------------------------- roads
def route_checksums(engine: Engine, *, admin_code: str = "") -> dict[str, str | None]:
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
        road_id = pd.Series(ids).reindex(segments["code"].to_numpy(dtype=object)).to_numpy(dtype=np.int64)
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(
            "COPY road_segments (township, admin_code, road_id, seq, part, from_m, to_m, length_m, "
            "source_row, source_file, geom) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.write(_COPY_SIGNATURE)
            step = 50_000
            for lo in range(0, len(segments), step):
                copy.write(_segment_copy_rows(segments.iloc[lo : lo + step], road_id[lo : lo + step],
                                              admin_code=admin_code, source=source))
            copy.write(b"\xff\xff")


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8


def _segment_copy_rows(segments: gpd.GeoDataFrame, road_id: np.ndarray, *, admin_code: str, source: str) -> bytes:
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
    rec = np.empty(n, dtype=np.dtype([
        ("la", ">i4"), *([("a", f"S{len(admin)}")] if admin else []),
        ("l1", ">i4"), ("road_id", ">i4"), ("l2", ">i4"), ("seq", ">i4"), ("l3", ">i4"), ("part", ">i4"),
        ("l4", ">i4"), ("from_m", ">f8"), ("l5", ">i4"), ("to_m", ">f8"), ("l6", ">i4"), ("length_m", ">f8"),
        ("l7", ">i4"), ("row", ">i4"), ("ls", ">i4"), *([("s", f"S{len(src)}")] if src else []),
        ("lg", ">i4"),
    ]))
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
        {label: r.grp if r.grp != "" else None, "routes": int(r.routes),
         "segments": int(r.segments), "length_km": round(float(r.length_km), 3)}
        for r in rows
    ]
    total_routes = sum(g["routes"] for g in groups)
    total_segments = sum(g["segments"] for g in groups)
    total_km = sum(float(r.length_km) for r in rows)
    return {
        "classes" if by == "class" else "townships": groups,
        "total": {"routes": total_routes, "segments": total_segments, "length_km": round(total_km, 3)},
        "unassigned_segments": int(un.segments),
        "unassigned_length_km": round(float(un.length_km), 3),
    }


def get_road(engine: Engine, code: str, *, admin_code: str = "") -> dict[str, Any]:
    """A road by route code, written as stored or not (``x 012`` finds ``X012``)."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM roads WHERE admin_code = :a AND route_code = upper(replace(trim(:c), ' ', ''))"),
            {"a": admin_code, "c": code},
        ).mappings().one_or_none()
        if row is None:
            near = conn.execute(
                text(
                    "SELECT route_code FROM roads WHERE admin_code = :a AND NOT unassigned AND "
                    "route_code ILIKE :p ORDER BY route_code LIMIT 5"
                ),
                {"a": admin_code, "c": code, "p": f"%{code.strip()[-3:]}%"},
            ).scalars().all()
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise NotFound(
                f"No road with route code {code!r} is loaded.{hint} "
                "`hazards roads summary` lists what is loaded."
            )
    return dict(row)


def route_townships(engine: Engine, road_id: int) -> list[str]:
    """The townships a route crosses, in chainage order (from its segments)."""
    with engine.connect() as conn:
        return list(conn.execute(
            text("SELECT township FROM road_segments WHERE road_id = :r AND township IS NOT NULL "
                 "GROUP BY township ORDER BY min(part), min(from_m)"), {"r": road_id}
        ).scalars().all())


def route_segments(engine: Engine, road_id: int) -> gpd.GeoDataFrame:
    """A route's segments in lon/lat, ordered by part and chainage."""
    sql = (
        "SELECT id, seq, part, from_m, to_m, length_m, source_row, geom FROM road_segments "
        "WHERE road_id = %(rid)s ORDER BY part, from_m, seq"
    )
    with engine.connect() as conn:
        return gpd.read_postgis(sql, conn, geom_col="geom", params={"rid": road_id})


# ----------------------------------------------------------------------------- surveys, hazards
def network_segments(engine: Engine, *, road_id: int | None = None, admin_code: str = "") -> gpd.GeoDataFrame:
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


def survey_by_sha(engine: Engine, sha256: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, report FROM surveys WHERE sha256 = :s"), {"s": sha256}
        ).mappings().one_or_none()
    return dict(row) if row else None


def known_hazards(engine: Engine, *, provider: str | None, route_codes: list[str]) -> pd.DataFrame:
    """Hazards that a new survey row may repeat: the provider's rows (when given), or on the
    given routes."""
    sql = """
        SELECT h.id, h.public_id, h.category, h.chainage_m, h.status, h.content_hash,
               h.provider_row_id, sv.provider, r.route_code, coalesce(s.part, 0) AS part
        FROM hazards h
        LEFT JOIN roads r ON r.id = h.road_id
        LEFT JOIN road_segments s ON s.id = h.segment_id
        LEFT JOIN surveys sv ON sv.id = h.survey_id
        WHERE h.status <> 'rejected' AND (sv.provider = :p OR r.route_code = ANY(:codes))
    """
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params={"p": provider, "codes": route_codes})


HAZARD_COLUMNS = (
    "id", "public_id", "admin_code", "survey_id", "provider_row_id", "source_line", "raw",
    "content_hash", "category", "category_raw", "description", "provided_tier", "tier",
    "status", "road_id", "segment_id", "chainage_m", "snap_distance_m", "match_method",
    "match_status", "review_reason", "warnings", "countermeasure", "provided_cost_cny",
    "length_m", "photo", "geom",
)


class SurveyImportWriter:
    """Writes one survey import inside the transaction of :func:`survey_import_writer`."""

    def __init__(self, conn: Any, survey_id: int, *, surveyed_on: Any, by: str) -> None:
        self.conn, self.survey_id, self.surveyed_on, self.by = conn, survey_id, surveyed_on, by
        self.added = 0

    def add(
        self,
        columns: Sequence[str],
        new: list[tuple[Any, ...]],
        *,
        updates: Sequence[dict[str, Any]] = (),
        seen_again: Sequence[tuple[int, str]] = (),
    ) -> list[str]:
        """Store new hazards (tuples in ``columns`` order; JSON columns as JSON text, ``geom``
        as EWKT) with their ``created`` events, corrections (hazard id + changed fields) and
        repeats (hazard id, note), each with its event. Returns the new hazards' public ids."""
        conn, sid = self.conn, self.survey_id
        unknown = set(columns) - set(HAZARD_COLUMNS)
        if unknown:
            raise ValueError(f"not columns of hazards: {sorted(unknown)}")
        public_ids: list[str] = []
        if new:
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cur:
                cur.execute("SELECT nextval(pg_get_serial_sequence('hazards', 'id')) FROM generate_series(1, %s)",
                            (len(new),))
                ids = [r[0] for r in cur.fetchall()]
                public_ids = [f"H{hid:06d}" for hid in ids]
                # Ids follow the rows as given (the sheet's order); the rows are written in road
                # and chainage order, so that each index is filled where it is already in memory
                # (in sheet order every row lands on a random page of a province-sized index).
                order = _road_order(columns, new)
                with cur.copy(f"COPY hazards (id, public_id, survey_id, {', '.join(columns)}) FROM STDIN") as copy:
                    for i in order.tolist():
                        copy.write_row((ids[i], public_ids[i], sid, *new[i]))
                # Their 'created' events, while their pages are still in memory.
                cur.execute(
                    "INSERT INTO hazard_events (hazard_id, kind, happened_on, by, to_status, note) "
                    "SELECT id, 'created', %(on)s, %(by)s, status, 'survey ' || %(sid)s || ' row ' || "
                    "coalesce(provider_row_id, source_line::text) FROM hazards "
                    "WHERE id BETWEEN %(lo)s AND %(hi)s AND survey_id = %(sid)s ORDER BY id",
                    {"on": self.surveyed_on, "by": self.by, "sid": sid, "lo": min(ids), "hi": max(ids)},
                )
            self.added += len(new)
        for u in updates:
            u = dict(u)
            hid = u.pop("hazard_id")
            old_status = conn.execute(
                text("SELECT status FROM hazards WHERE id = :h FOR UPDATE"), {"h": hid}
            ).scalar_one()
            geom = u.pop("geom", None)
            sets = ", ".join(
                f"{k} = CAST(:{k} AS jsonb)" if k in ("raw", "warnings") else f"{k} = :{k}" for k in u
            )
            conn.execute(
                text(
                    f"UPDATE hazards SET {sets}, version = version + 1, updated_at = now(), "
                    "geom = coalesce(ST_GeomFromEWKT(CAST(:geom AS text)), geom) WHERE id = :h"
                ),
                {**u, "h": hid, "geom": geom},
            )
            conn.execute(
                text(
                    "INSERT INTO hazard_events (hazard_id, kind, happened_on, by, from_status, "
                    "to_status, note) VALUES (:h, 'updated', :on, :by, :f, :t, :n)"
                ),
                {"h": hid, "on": self.surveyed_on, "by": self.by, "f": old_status,
                 "t": u.get("status", old_status), "n": f"corrected by survey {sid}"},
            )
        if seen_again:
            conn.execute(
                text(
                    "INSERT INTO hazard_events (hazard_id, kind, happened_on, by, note) "
                    "VALUES (:h, 'seen_again', :on, :by, :n)"
                ),
                [{"h": h, "on": self.surveyed_on, "by": self.by, "n": f"survey {sid}: {note}"}
                 for h, note in seen_again],
            )
        return public_ids

    def finish(self, *, report: dict[str, Any], **counts: Any) -> None:
        """The survey's counts and report."""
        import json

        sets = ", ".join(f"{k} = :{k}" for k in counts)
        self.conn.execute(
            text(f"UPDATE surveys SET {sets}, report = CAST(:report AS jsonb) WHERE id = :sid"),
            {**counts, "report": json.dumps(report, ensure_ascii=False, default=str), "sid": self.survey_id},
        )


def _road_order(columns: Sequence[str], rows: list[tuple[Any, ...]]) -> np.ndarray:
    """Positions of ``rows`` sorted by road and chainage (rows without a road first)."""
    n = len(rows)
    if "road_id" not in columns:
        return np.arange(n)
    r = list(columns).index("road_id")
    c = list(columns).index("chainage_m") if "chainage_m" in columns else r
    road = np.fromiter((row[r] or 0 for row in rows), dtype=np.int64, count=n)
    chainage = np.fromiter((row[c] or 0.0 for row in rows), dtype=np.float64, count=n)
    return np.lexsort((chainage, road))


@contextlib.contextmanager
def survey_import_writer(engine: Engine, *, survey: dict[str, Any], by: str) -> Iterator[SurveyImportWriter]:
    """One transaction for a whole survey import: the survey row first, then what the
    writer is given; committed when the block ends, rolled back if it raises."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL jit = off"))
        sid = conn.execute(
            text(
                "INSERT INTO surveys (admin_code, provider, surveyed_on, source_name, sha256, rows_total, "
                "rows_accepted, rows_review, rows_rejected) VALUES (:admin_code, :provider, :surveyed_on, "
                ":source_name, :sha256, 0, 0, 0, 0) RETURNING id"
            ),
            survey,
        ).scalar_one()
        yield SurveyImportWriter(conn, int(sid), surveyed_on=survey["surveyed_on"], by=by)


def list_surveys(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, provider, surveyed_on, source_name, rows_total, rows_accepted, "
                "rows_review, rows_rejected, rejected_file, imported_at FROM surveys ORDER BY id"
            )
        ).mappings().all()
    return [dict(r) for r in rows]


def list_hazards(
    engine: Engine,
    *,
    route: str | None = None,
    tier: str | None = None,
    status: str | None = None,
    survey: int | None = None,
    review: bool = False,
) -> list[dict[str, Any]]:
    """Hazards with the keys of ``hazards list --json`` (and the review reason)."""
    where = ["TRUE"]
    params: dict[str, Any] = {}
    if route:
        where.append("r.route_code = :route")
        params["route"] = route
    if tier:
        where.append("coalesce(h.tier_override, h.tier) = :tier")
        params["tier"] = tier
    if status:
        where.append("h.status = :status")
        params["status"] = status
    if survey is not None:
        where.append("h.survey_id = :survey")
        params["survey"] = survey
    if review:
        where.append("h.status = 'review'")
    sql = f"""
        SELECT h.public_id AS id, h.survey_id, coalesce(h.provider_row_id, h.source_line::text) AS source_row,
               r.route_code, h.chainage_m, h.snap_distance_m, h.match_method, h.category,
               h.category_raw, h.description, coalesce(h.tier_override, h.tier) AS tier,
               h.provided_tier, h.status, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
               h.review_reason, h.warnings, h.countermeasure, h.provided_cost_cny
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
        WHERE {' AND '.join(where)}
        ORDER BY r.route_code NULLS LAST, h.chainage_m NULLS LAST, h.id
    """
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).mappings().all()
    return [dict(r) for r in rows]


def get_hazard(engine: Engine, public_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return hazard_by_public_id(conn, public_id, lock=False)


def hazard_by_public_id(conn: Any, public_id: str, *, lock: bool = True) -> dict[str, Any]:
    row = conn.execute(
        text("SELECT id, status, version, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM hazards "
             "WHERE public_id = :p" + (" FOR UPDATE" if lock else "")),
        {"p": public_id},
    ).mappings().one_or_none()
    if row is None:
        raise NotFound(f"No hazard with id {public_id!r}. `hazards list` shows the ids.")
    return dict(row)


def resolve_review(
    engine: Engine,
    public_id: str,
    *,
    accept: bool,
    reason: str | None = None,
    placement: dict[str, Any] | None = None,
    by: str | None = None,
) -> dict[str, Any]:
    """Accept (optionally re-placed on another route) or reject a hazard waiting in review."""
    with engine.begin() as conn:
        h = hazard_by_public_id(conn, public_id)
        if h["status"] != "review":
            raise ConfigError(
                f"Hazard {public_id} is not waiting for review (its status is {h['status']})."
            )
        to = "identified" if accept else "rejected"
        sets = "status = :to, match_status = :ms, version = version + 1, updated_at = now()"
        params: dict[str, Any] = {"to": to, "ms": "accepted" if accept else "rejected", "h": h["id"]}
        if placement:
            sets += (", road_id = :road_id, segment_id = :segment_id, chainage_m = :chainage_m, "
                     "snap_distance_m = :snap_distance_m, match_method = :match_method")
            params.update(placement)
        conn.execute(text(f"UPDATE hazards SET {sets} WHERE id = :h"), params)
        conn.execute(
            text("INSERT INTO hazard_events (hazard_id, kind, by, from_status, to_status, note) "
                 "VALUES (:h, 'review', :by, 'review', :to, :note)"),
            {"h": h["id"], "by": by, "to": to, "note": reason or ("accepted" if accept else None)},
        )
    return {"id": public_id, "status": to}


# ----------------------------------------------------------------------------- scoring
def hazards_for_scoring(engine: Engine, *, chunk: int = 50_000) -> pd.DataFrame:
    """What the risk model reads of each hazard that is not rejected, in id order.

    Read in chunks through a server-side cursor; the text columns become categoricals, so
    millions of hazards take a few bytes each.
    """
    from pandas.api.types import union_categoricals

    sql = """
        SELECT id, category, description, provided_tier, tier_override, length_m
        FROM hazards WHERE status <> 'rejected' ORDER BY id
    """
    texts = ["category", "description", "provided_tier", "tier_override"]

    def categorical(values: np.ndarray) -> pd.Categorical:
        # Object categories in every chunk (a chunk of only NULLs would infer another dtype).
        present = pd.unique(values[pd.notna(values)])
        return pd.Categorical(values, categories=pd.Index(present, dtype=object))

    parts = []
    with engine.connect() as conn:
        conn = conn.execution_options(stream_results=True)
        for p in pd.read_sql(text(sql), conn, chunksize=chunk):
            parts.append({"id": p["id"].to_numpy(dtype="int64"),
                          "length_m": p["length_m"].to_numpy(dtype="float64", na_value=np.nan),
                          **{c: categorical(p[c].to_numpy(dtype=object)) for c in texts}})
    columns = ["id", *texts, "length_m"]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "id" else "float64" if c == "length_m"
                                          else "category") for c in columns})
    return pd.DataFrame({
        c: np.concatenate([p[c] for p in parts]) if c in ("id", "length_m")
        else union_categoricals([p[c] for p in parts])
        for c in columns
    })


# The stored result of one model (category and raised dimensions), shared by many hazards.
_MODEL_COLUMNS = ["score", "consequence", "likelihood", "exposure", "model_tier", "countermeasure_default", "unit"]


def write_scores(engine: Engine, scored: pd.DataFrame) -> int:
    """Store score, tier, risk dimensions and cost estimate of many hazards; return how many changed.

    The distinct models (score, dimensions, model tier, countermeasure, unit) go in as a small
    table; per hazard only its id, model, tier, quantity and cost, as one binary COPY built
    with numpy. One ``UPDATE`` writes the hazards whose values differ, so a recomputation that
    changes nothing writes nothing (``updated_at`` stays).
    """
    import json

    model_key = scored.groupby(_MODEL_COLUMNS, sort=False, observed=True, dropna=False).ngroup().to_numpy()
    _, first = np.unique(model_key, return_index=True)
    models = scored.iloc[first]
    risk = [
        json.dumps({"consequence": float(c), "likelihood": float(lk), "exposure": float(e), "model_tier": m})
        for c, lk, e, m in zip(models["consequence"], models["likelihood"], models["exposure"],
                               models["model_tier"], strict=True)
    ]
    tier = pd.Categorical(scored["tier"])
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE TEMP TABLE score_models (model int4 PRIMARY KEY, score float8, risk jsonb, cm text, unit text) "
            "ON COMMIT DROP"))
        conn.execute(
            text("INSERT INTO score_models SELECT * FROM unnest(CAST(:m AS int4[]), CAST(:s AS float8[]), "
                 "CAST(:r AS jsonb[]), CAST(:cm AS text[]), CAST(:u AS text[]))"),
            {"m": list(range(len(models))), "s": [float(v) for v in models["score"]], "r": risk,
             "cm": [str(v) for v in models["countermeasure_default"]], "u": [str(v) for v in models["unit"]]},
        )
        conn.execute(text(
            "CREATE TEMP TABLE score_rows (id int8, model int4, tier int2, qty float8, cost float8) ON COMMIT DROP"))
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy("COPY score_rows FROM STDIN (FORMAT binary)") as copy:
            copy.write(_binary_copy_rows([
                scored["id"].to_numpy(dtype=">i8"), model_key.astype(">i4"), tier.codes.astype(">i2"),
                scored["quantity"].to_numpy(dtype=">f8"), scored["estimated_cost_cny"].to_numpy(dtype=">f8"),
            ]))
        conn.execute(text("ANALYZE score_rows"))
        return int(conn.execute(
            text(
                """
                UPDATE hazards h SET score = m.score, tier = (CAST(:tiers AS text[]))[v.tier + 1],
                       risk = m.risk, countermeasure = coalesce(h.countermeasure, m.cm),
                       quantity = v.qty, unit = m.unit, estimated_cost_cny = v.cost, updated_at = now()
                FROM score_rows v JOIN score_models m ON m.model = v.model
                WHERE h.id = v.id
                  AND (h.score, h.tier, h.risk, h.countermeasure, h.quantity, h.unit, h.estimated_cost_cny)
                      IS DISTINCT FROM (m.score, (CAST(:tiers AS text[]))[v.tier + 1], m.risk,
                                        coalesce(h.countermeasure, m.cm), v.qty, m.unit, v.cost)
                """
            ),
            {"tiers": [str(t) for t in tier.categories]},
        ).rowcount)


def _binary_copy_rows(columns: list[np.ndarray]) -> bytes:
    """PostgreSQL binary COPY data of rows of fixed-width big-endian columns without NULLs."""
    n = len(columns[0])
    fields = [("n", ">i2")]
    for i, col in enumerate(columns):
        fields += [(f"len{i}", ">i4"), (f"v{i}", col.dtype.str)]
    rows = np.empty(n, dtype=np.dtype(fields))
    rows["n"] = len(columns)
    for i, col in enumerate(columns):
        rows[f"len{i}"] = col.dtype.itemsize
        rows[f"v{i}"] = col
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    return header + rows.tobytes() + (-1).to_bytes(2, "big", signed=True)


def tier_disagreements(engine: Engine) -> list[dict[str, Any]]:
    sql = """
        SELECT h.public_id AS id, r.route_code, h.chainage_m, h.category, h.provided_tier,
               h.risk->>'model_tier' AS model_tier, h.score, h.tier, h.tier_override,
               h.tier_override_reason
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
        WHERE h.status <> 'rejected' AND h.provided_tier IS NOT NULL
          AND h.risk ? 'model_tier' AND h.provided_tier <> h.risk->>'model_tier'
        ORDER BY h.id
    """
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql)).mappings().all()]


def set_tier_override(engine: Engine, public_id: str, *, tier: str, reason: str, by: str | None) -> dict[str, Any]:
    import json

    with engine.begin() as conn:
        h = hazard_by_public_id(conn, public_id)
        old = conn.execute(
            text("SELECT coalesce(tier_override, tier) FROM hazards WHERE id = :h"), {"h": h["id"]}
        ).scalar_one()
        conn.execute(
            text("UPDATE hazards SET tier_override = :t, tier_override_reason = :r, "
                 "version = version + 1, updated_at = now() WHERE id = :h"),
            {"t": tier, "r": reason, "h": h["id"]},
        )
        conn.execute(
            text("INSERT INTO hazard_events (hazard_id, kind, by, note, data) "
                 "VALUES (:h, 'tier_override', :by, :note, CAST(:data AS jsonb))"),
            {"h": h["id"], "by": by, "note": reason, "data": json.dumps({"from": old, "to": tier})},
        )
    return {"id": public_id, "tier": tier, "previous": old, "reason": reason}


def cost_pairs(engine: Engine) -> list[dict[str, Any]]:
    sql = """
        SELECT h.public_id AS id, r.route_code, h.category, h.countermeasure, h.quantity, h.unit,
               h.estimated_cost_cny, h.provided_cost_cny
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
        WHERE h.status <> 'rejected' AND h.provided_cost_cny IS NOT NULL
        ORDER BY h.id
    """
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql)).mappings().all()]


# ----------------------------------------------------------------------------- plans
OPEN_STATUSES = ("identified", "reopened")


def plan_candidates(engine: Engine) -> pd.DataFrame:
    """Open hazards that a plan may fund: id, route, township, chainage, tier, score, cost."""
    sql = """
        SELECT h.public_id AS id, r.route_code, r.township, h.chainage_m,
               coalesce(h.tier_override, h.tier) AS tier, h.score,
               coalesce(h.provided_cost_cny, h.estimated_cost_cny) AS cost
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
        WHERE h.status IN ('identified', 'reopened')
        ORDER BY h.public_id
    """
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn)


def plan_exists(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM plans WHERE name = :n"), {"n": name}).first() is not None


def save_plan(engine: Engine, report: dict[str, Any]) -> None:
    """Store a plan as a draft: the plans row, its batches and their items."""
    import json

    with engine.begin() as conn:
        pid = conn.execute(
            text("INSERT INTO plans (name, budget_cny, spent_cny, report) "
                 "VALUES (:n, :b, :s, CAST(:r AS jsonb)) RETURNING id"),
            {"n": report["name"], "b": report["budget_cny"], "s": report["spent_cny"],
             "r": json.dumps(report, ensure_ascii=False)},
        ).scalar_one()
        for b in report["batches"]:
            bid = conn.execute(
                text("INSERT INTO batches (plan_id, plan_name, name, seq, budget_cny, cost_cny) "
                     "VALUES (:p, :pn, :n, :seq, :b, :c) RETURNING id"),
                {"p": pid, "pn": report["name"], "n": b["name"], "seq": b["seq"],
                 "b": report["budget_cny"], "c": b["cost_cny"]},
            ).scalar_one()
            conn.execute(
                text("INSERT INTO batch_items (batch_id, hazard_id, cost_cny) "
                     "SELECT :b, h.id, v.cost FROM unnest(CAST(:ids AS text[]), CAST(:costs AS float8[])) "
                     "AS v(pid, cost) JOIN hazards h ON h.public_id = v.pid"),
                {"b": bid, "ids": [i["id"] for i in b["items"]], "costs": [i["cost_cny"] for i in b["items"]]},
            )


def list_plans(engine: Engine) -> list[dict[str, Any]]:
    sql = """
        SELECT p.name, p.status, p.budget_cny, p.spent_cny, count(DISTINCT b.id) AS batches,
               count(bi.hazard_id) AS hazards, p.created_at, p.committed_at
        FROM plans p LEFT JOIN batches b ON b.plan_id = p.id
        LEFT JOIN batch_items bi ON bi.batch_id = b.id
        GROUP BY p.id ORDER BY p.created_at, p.name
    """
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql)).mappings().all()]


def get_plan(engine: Engine, name: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, status, report FROM plans WHERE name = :n"), {"n": name}
        ).mappings().one_or_none()
    if row is None:
        raise NotFound(f"No plan named {name!r}. `hazards plan list` shows the plans.")
    return dict(row)


def _locked_plan(conn: Any, name: str) -> dict[str, Any]:
    plan = conn.execute(
        text("SELECT id, status FROM plans WHERE name = :n FOR UPDATE"), {"n": name}
    ).mappings().one_or_none()
    if plan is None:
        raise NotFound(f"No plan named {name!r}. `hazards plan list` shows the plans.")
    return dict(plan)


def commit_plan(engine: Engine, name: str, *, by: str | None = None) -> dict[str, Any]:
    """Make a draft plan binding: its hazards become ``planned`` (one event each)."""
    with engine.begin() as conn:
        plan = _locked_plan(conn, name)
        if plan["status"] != "draft":
            raise InputError(f"Plan {name!r} is already committed.")
        items = conn.execute(
            text("SELECT h.id, h.public_id, h.status, b.name AS batch FROM batch_items bi "
                 "JOIN batches b ON b.id = bi.batch_id JOIN hazards h ON h.id = bi.hazard_id "
                 "WHERE b.plan_id = :p ORDER BY h.id FOR UPDATE OF h"),
            {"p": plan["id"]},
        ).mappings().all()
        stale = [i["public_id"] for i in items if i["status"] not in OPEN_STATUSES]
        if stale:
            raise InputError(
                f"Plan {name!r} includes hazards that are no longer open ({', '.join(stale[:10])}"
                f"{' ...' if len(stale) > 10 else ''}): another plan or a status change took them. "
                "Drop the plan and create it again."
            )
        conn.execute(
            text("INSERT INTO hazard_events (hazard_id, kind, by, from_status, to_status, note) "
                 "SELECT h.id, 'status', :by, h.status, 'planned', 'plan ' || :n || ', batch ' || b.name "
                 "FROM batch_items bi JOIN batches b ON b.id = bi.batch_id JOIN hazards h ON h.id = bi.hazard_id "
                 "WHERE b.plan_id = :p"),
            {"by": by, "n": name, "p": plan["id"]},
        )
        conn.execute(
            text("UPDATE hazards h SET status = 'planned', version = version + 1, updated_at = now() "
                 "FROM batch_items bi JOIN batches b ON b.id = bi.batch_id "
                 "WHERE bi.hazard_id = h.id AND b.plan_id = :p"),
            {"p": plan["id"]},
        )
        conn.execute(text("UPDATE batches SET status = 'issued' WHERE plan_id = :p"), {"p": plan["id"]})
        conn.execute(text("UPDATE plans SET status = 'committed', committed_at = now() WHERE id = :p"), {"p": plan["id"]})
    return {"plan": name, "status": "committed", "hazards_planned": len(items)}


def drop_plan(engine: Engine, name: str) -> dict[str, Any]:
    with engine.begin() as conn:
        plan = _locked_plan(conn, name)
        if plan["status"] != "draft":
            raise InputError(f"Plan {name!r} is committed: its batches are under way and it cannot be dropped.")
        conn.execute(text("DELETE FROM plans WHERE id = :p"), {"p": plan["id"]})
    return {"plan": name, "dropped": True}


def route_risk(engine: Engine) -> pd.DataFrame:
    """Open hazards' scores with their route, township, chainage, and route lengths."""
    sql = """
        SELECT r.route_code, r.name, r.township, r.length_m, r.end_m, h.chainage_m, h.score,
               coalesce(h.tier_override, h.tier) AS tier
        FROM roads r LEFT JOIN hazards h ON h.road_id = r.id
             AND h.status IN ('identified', 'reopened', 'planned', 'in_progress', 'review')
        WHERE NOT r.unassigned
    """
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn)


# ----------------------------------------------------------------------------- lifecycle
def change_status(
    engine: Engine, refs: list[str], *, to: str, on: Any, by: str | None, note: str | None,
    evidence: str | None, expected_versions: dict[str, int] | None, check: Any, kind: str = "status",
    recheck: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Change the status of hazards, all or none, with one event each (see ``remediation``)."""
    from hazards.errors import ConflictError

    refs = list(dict.fromkeys(refs))
    with engine.begin() as conn:
        rows = conn.execute(
            text("SELECT h.id, h.public_id, h.status, h.version, "
                 "(SELECT max(happened_on) FROM hazard_events e WHERE e.hazard_id = h.id) AS last_on "
                 "FROM hazards h WHERE h.public_id = ANY(:p) ORDER BY h.id FOR UPDATE"),
            {"p": refs},
        ).mappings().all()
        found = {r["public_id"]: r for r in rows}
        missing = [p for p in refs if p not in found]
        if missing:
            raise NotFound(f"No hazard with id {', '.join(missing)}. `hazards list` shows the ids. Nothing was changed.")
        for p in refs:
            r = found[p]
            if expected_versions and p in expected_versions and expected_versions[p] != r["version"]:
                raise ConflictError(
                    f"Hazard {p} was changed by someone else since you read it (you read version "
                    f"{expected_versions[p]}, it is now version {r['version']}, status {r['status']}). "
                    "Nothing was changed: look at `hazards history " + p + "` and try again."
                )
            check(p, r["status"], to)
            if r["last_on"] is not None and on < r["last_on"]:
                raise InputError(
                    f"Hazard {p} last changed on {r['last_on']}; a change dated {on} would come before it. "
                    "Give --on a date on or after that. Nothing was changed."
                )
        out = []
        for p in refs:
            r = found[p]
            res = conn.execute(
                text("UPDATE hazards SET status = :to, version = version + 1, updated_at = now() "
                     "WHERE id = :id AND version = :v"),
                {"to": to, "id": r["id"], "v": r["version"]},
            )
            if res.rowcount != 1:
                raise ConflictError(f"Hazard {p} was changed by someone else meanwhile. Nothing was changed; try again.")
            conn.execute(
                text("INSERT INTO hazard_events (hazard_id, kind, happened_on, by, from_status, to_status, note, evidence) "
                     "VALUES (:h, :k, :on, :by, :f, :t, :n, :ev)"),
                {"h": r["id"], "k": kind, "on": on, "by": by, "f": r["status"], "t": to, "n": note, "ev": evidence},
            )
            if recheck is not None:
                planned = conn.execute(
                    text("SELECT id FROM rechecks WHERE hazard_id = :h AND result IS NULL ORDER BY id DESC LIMIT 1"),
                    {"h": r["id"]},
                ).scalar_one_or_none()
                params = {"h": r["id"], "on": recheck["on"], "res": recheck["result"], "by": recheck["by"], "n": recheck["note"]}
                if planned is None:
                    conn.execute(text("INSERT INTO rechecks (hazard_id, checked_on, result, by, note) "
                                      "VALUES (:h, :on, :res, :by, :n)"), params)
                else:
                    conn.execute(text("UPDATE rechecks SET checked_on = :on, result = :res, by = :by, note = :n "
                                      "WHERE id = :id"), {**params, "id": planned})
            out.append({"id": p, "from": r["status"], "to": to, "version": r["version"] + 1})
    return out


def hazard_history(engine: Engine, public_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        h = conn.execute(
            text("SELECT h.id AS _id, h.public_id AS id, h.status, h.version, coalesce(h.tier_override, h.tier) AS tier, "
                 "r.route_code, h.chainage_m, h.category, h.description, "
                 "(SELECT b.name FROM batch_items bi JOIN batches b ON b.id = bi.batch_id "
                 " WHERE bi.hazard_id = h.id ORDER BY b.id DESC LIMIT 1) AS batch "
                 "FROM hazards h LEFT JOIN roads r ON r.id = h.road_id WHERE h.public_id = :p"),
            {"p": public_id},
        ).mappings().one_or_none()
        if h is None:
            raise NotFound(f"No hazard with id {public_id!r}. `hazards list` shows the ids.")
        events = conn.execute(
            text("SELECT kind, happened_on, recorded_at, by, from_status, to_status, note, evidence "
                 "FROM hazard_events WHERE hazard_id = :h ORDER BY happened_on, recorded_at, id"),
            {"h": h["_id"]},
        ).mappings().all()
    out = {k: v for k, v in h.items() if k != "_id"}
    out["events"] = [dict(e) for e in events]
    return out


def finished_sites(engine: Engine, *, statuses: list[str], batch: str | None, road: str | None) -> pd.DataFrame:
    where = ["h.status = ANY(:st)"]
    params: dict[str, Any] = {"st": statuses}
    if batch:
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM batches WHERE name = :b"), {"b": batch}).first() is None:
                raise NotFound(f"No batch named {batch!r}. `hazards plan show PLAN` lists the batches.")
        where.append("b.name = :batch")
        params["batch"] = batch
    if road:
        get_road(engine, road)
        where.append("r.route_code = :road")
        params["road"] = road
    sql = f"""
        SELECT h.public_id AS id, r.route_code, r.name AS route_name, r.township, h.chainage_m,
               round(ST_X(h.geom)::numeric, 7)::float8 AS lon, round(ST_Y(h.geom)::numeric, 7)::float8 AS lat,
               h.category, h.description, b.name AS batch, h.status,
               (SELECT max(e.happened_on) FROM hazard_events e WHERE e.hazard_id = h.id
                 AND e.to_status = 'reported_done') AS done_on
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
        LEFT JOIN LATERAL (SELECT b.name FROM batch_items bi JOIN batches b ON b.id = bi.batch_id
                           WHERE bi.hazard_id = h.id ORDER BY b.id DESC LIMIT 1) b ON TRUE
        WHERE {' AND '.join(where)}
        ORDER BY r.route_code, h.chainage_m, h.public_id
    """
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params=params)


def record_planned_rechecks(engine: Engine, public_ids: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO rechecks (hazard_id, planned_on) SELECT h.id, current_date FROM hazards h "
                 "WHERE h.public_id = ANY(:p) AND NOT EXISTS (SELECT 1 FROM rechecks r "
                 "WHERE r.hazard_id = h.id AND r.result IS NULL)"),
            {"p": public_ids},
        )


def progress_frame(engine: Engine, *, as_of: Any = None) -> pd.DataFrame:
    """Hazards counted per status (now, or rebuilt from events on ``as_of``), tier, route,
    township and batch: ``n`` hazards and their summed ``cost`` per row (a province's
    millions of hazards come back as a few rows per route)."""
    status = "h.status"
    join = ""
    if as_of is not None:
        join = """
            JOIN (SELECT DISTINCT ON (e.hazard_id) e.hazard_id, e.to_status
                  FROM hazard_events e WHERE e.to_status IS NOT NULL AND e.happened_on <= :d
                  ORDER BY e.hazard_id, e.happened_on DESC, e.recorded_at DESC, e.id DESC) st
              ON st.hazard_id = h.id
        """
        status = "st.to_status"
    sql = f"""
        SELECT {status} AS status, coalesce(h.tier_override, h.tier) AS tier,
               r.route_code, r.township, r.length_m AS route_length_m, b.name AS batch,
               count(*) AS n, sum(coalesce(h.provided_cost_cny, h.estimated_cost_cny)) AS cost
        FROM hazards h {join}
        LEFT JOIN roads r ON r.id = h.road_id
        LEFT JOIN (SELECT DISTINCT ON (bi.hazard_id) bi.hazard_id, b.name
                   FROM batch_items bi JOIN batches b ON b.id = bi.batch_id
                   ORDER BY bi.hazard_id, b.id DESC) b ON b.hazard_id = h.id
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 3, 4, 6, 2, 1
    """
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params={"d": as_of} if as_of is not None else {})


# ----------------------------------------------------------------------------- contractors
def get_batch(engine: Engine, name: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, name, plan_name, contractor, starts_on, due_on, status, cost_cny FROM batches WHERE name = :n"),
            {"n": name},
        ).mappings().one_or_none()
    if row is None:
        raise NotFound(f"No batch named {name!r}. `hazards batch list` shows the batches.")
    return dict(row)


def list_batches(engine: Engine) -> list[dict[str, Any]]:
    sql = """
        SELECT b.name, b.plan_name, b.status, b.contractor, b.starts_on, b.due_on, b.cost_cny,
               count(bi.hazard_id) AS hazards
        FROM batches b LEFT JOIN batch_items bi ON bi.batch_id = b.id
        GROUP BY b.id ORDER BY b.plan_name, b.seq
    """
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql)).mappings().all()]


def update_batch(
    engine: Engine, name: str, *, contractor: str | None = None, starts_on: Any = None, due_on: Any = None
) -> dict[str, Any]:
    """Set a batch's contractor, start and due dates (the ones given)."""
    get_batch(engine, name)
    sets = {k: v for k, v in {"contractor": contractor, "starts_on": starts_on, "due_on": due_on}.items() if v is not None}
    if sets:
        with engine.begin() as conn:
            conn.execute(
                text(f"UPDATE batches SET {', '.join(f'{k} = :{k}' for k in sets)} WHERE name = :name"),
                {**sets, "name": name},
            )
    return get_batch(engine, name)


# One batch feature (text) per row, in the file's order; every export goes through it.
# psycopg binds the parameters into COPY on the client side, hence ``%%`` for modulo.
_BATCH_FEATURES_SQL = """
    SELECT json_build_object(
      'type', 'Feature',
      'id', h.public_id,
      'geometry', ST_AsGeoJSON(h.geom, 7)::json,
      'properties', json_build_object(
        'id', h.public_id, 'route_code', r.route_code, 'route_name', r.name,
        'township', r.township,
        'chainage', CASE WHEN h.chainage_m IS NULL THEN NULL ELSE
           'K' || (round(h.chainage_m)::bigint / 1000) || '+' ||
           lpad((round(h.chainage_m)::bigint %% 1000)::text, 3, '0') END,
        'chainage_m', round(h.chainage_m::numeric, 1),
        'category', h.category, 'description', h.description,
        'tier', coalesce(h.tier_override, h.tier), 'countermeasure', h.countermeasure,
        'quantity', h.quantity, 'unit', h.unit,
        'estimated_cost_cny', coalesce(h.provided_cost_cny, h.estimated_cost_cny),
        'batch', CAST(%(name)s AS text), 'due_date', to_char(CAST(%(due)s AS date), 'YYYY-MM-DD'),
        'status', h.status,
        'completed_on', NULL, 'note', NULL, 'evidence', NULL)
    )::text
    FROM batch_items bi JOIN hazards h ON h.id = bi.hazard_id
    LEFT JOIN roads r ON r.id = h.road_id
    WHERE bi.batch_id = %(bid)s AND h.geom IS NOT NULL
    ORDER BY r.route_code, h.chainage_m, h.public_id
"""


def _text_as_bytes_loader() -> type:
    """A psycopg loader that keeps binary ``text`` values as UTF-8 bytes (no decoding)."""
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    class TextAsBytes(Loader):
        format = Format.BINARY

        def load(self, data: Any) -> bytes:
            return bytes(data)

    return TextAsBytes


def write_batch_features(engine: Engine, name: str, out: BinaryIO, *, sample: int = 0) -> tuple[int, bytes]:
    """Write the batch as an RFC 7946 FeatureCollection (UTF-8) to ``out``, streamed from PostGIS.

    Each feature is built by PostGIS and copied to ``out`` as it arrives (``COPY ... TO STDOUT``),
    never decoded in Python. Returns the number of features and a FeatureCollection (bytes) of
    the first ``sample`` features with the same header, to check the output's shape cheaply.
    """
    import json

    batch = get_batch(engine, name)
    head = (json.dumps({"type": "FeatureCollection", "name": name, "batch": name},
                       ensure_ascii=False)[:-1] + ', "features": [\n').encode()
    tail = b"\n]}\n"
    out.write(head)
    first: list[bytes] = []
    n = 0
    with engine.begin() as conn:
        # A batch is usually exported right after its items were inserted, before autovacuum
        # has analyzed them: stale statistics give a serial nested-loop plan twice as slow.
        conn.execute(text("ANALYZE batch_items"))
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.adapters.register_loader("text", _text_as_bytes_loader())
            with cur.copy(f"COPY ({_BATCH_FEATURES_SQL}) TO STDOUT (FORMAT binary)",
                          {"name": name, "due": batch["due_on"], "bid": batch["id"]}) as copy:
                copy.set_types(["text"])
                for (feature,) in copy.rows():
                    if n:
                        out.write(b",\n")
                    out.write(feature)
                    if n < sample:
                        first.append(feature)
                    n += 1
    out.write(tail)
    return n, head + b",\n".join(first) + tail


def batch_feature_collection(engine: Engine, name: str) -> str:
    """The batch as an RFC 7946 FeatureCollection (text), as :func:`write_batch_features` writes it."""
    import io

    buf = io.BytesIO()
    write_batch_features(engine, name, buf)
    return buf.getvalue().decode("utf-8")


def completion_targets(engine: Engine, public_ids: list[str]) -> pd.DataFrame:
    """What a completion row is checked against: status, version, batch, contractor, point, last change."""
    sql = """
        SELECT h.public_id AS id, h.status, h.version, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
               b.name AS batch, b.contractor, b.starts_on,
               (SELECT max(e.happened_on) FROM hazard_events e WHERE e.hazard_id = h.id) AS last_on,
               (SELECT array_agg(DISTINCT e.to_status || ' ' || e.happened_on::text) FROM hazard_events e
                 WHERE e.hazard_id = h.id AND e.kind = 'completion') AS completions
        FROM hazards h
        LEFT JOIN LATERAL (SELECT b.name, b.contractor, b.starts_on FROM batch_items bi
                           JOIN batches b ON b.id = bi.batch_id
                           WHERE bi.hazard_id = h.id ORDER BY b.id DESC LIMIT 1) b ON TRUE
        WHERE h.public_id = ANY(:p)
    """
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params={"p": public_ids})
