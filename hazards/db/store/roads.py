"""Roads in the store: the working CRS and metadata, routes and their segments written and read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import CRS
from sqlalchemy import text

from hazards.db.session import get_engine
from hazards.db.sql import CODES, ROAD_HAZARDS, SEGMENT_KM, codes_param
from hazards.db.store.bulk import (
    BULK_MIN_ROWS,
    defer_keys,
    draw_ids,
    reserve_ids,
    restore_keys,
    worth_deferring,
)
from hazards.db.store.copy_rows import (
    BINARY_HEADER,
    BINARY_TRAILER,
    COPY_CHUNK,
    ROAD_COPY_COLUMNS,
    SEGMENT_COLUMNS,
    binary_copy,
    road_copy_rows,
    segment_copy_rows,
    segment_copy_sql,
    segment_tails,
)
from hazards.db.store.counties import check_county
from hazards.db.store.locks import WaitNotice, writer_lock
from hazards.db.store.reattach import hold_hazards, reattach_hazards, replaced_crashes
from hazards.errors import InputError, NotFound
from hazards.settings import county
from hazards.vocabulary import ROAD_CLASSES, normalise_code

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from sqlalchemy import Connection, Engine


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
SOURCE_CRS_KEY = "source_crs"


def working_crs(engine: Engine) -> CRS | None:
    """The database's working metric CRS, or None before the first road load."""
    value = get_metadata(engine, WORKING_CRS_KEY)
    return None if value is None else CRS.from_user_input(value)


def require_working_crs(engine: Engine) -> CRS:
    """The working CRS; an error saying to load roads first when there is none yet, or that
    the roads stored are not the county's (:func:`~.counties.check_county`)."""
    from hazards.crs import check_configured
    from hazards.settings import get_settings

    crs = working_crs(engine)
    if crs is None:
        raise InputError(
            "No roads are loaded yet, so there is no network to work on. Load the road "
            "network first: `hazards roads load FILE`."
        )
    check_configured(crs, get_settings().working_crs)
    check_county(engine)
    return crs


def record_working_crs(engine: Engine, crs: CRS, *, source: CRS | None = None) -> CRS:
    """Record ``crs`` as the working CRS unless one is recorded already; the recorded one.

    ``source``, the CRS the first roads came in, is recorded beside it (``db working-crs
    auto`` chooses a Gauss-Krüger zone for CGCS2000 data, else a UTM zone)."""
    from hazards.crs import crs_label

    values = {WORKING_CRS_KEY: crs_label(crs)}
    if source is not None:
        values[SOURCE_CRS_KEY] = crs_label(source)
    with engine.begin() as conn:
        for k, v in values.items():
            conn.execute(
                text(
                    "INSERT INTO metadata (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING"
                ),
                {"k": k, "v": v},
            )
    return working_crs(engine) or crs


# ----------------------------------------------------------------------------- roads
def route_checksums(engine: Engine, *, admin_code: str | None = None) -> dict[str, str | None]:
    """Route code → checksum of every loaded route (a reload skips the unchanged ones)."""
    admin_code = county(admin_code)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT route_code, checksum FROM roads WHERE admin_code = :a"), {"a": admin_code}
        ).all()
    return {r.route_code: r.checksum for r in rows}


def route_lengths(
    engine: Engine, codes: list[str], *, admin_code: str | None = None
) -> dict[str, float]:
    """Route code → length (m) of the loaded routes among ``codes``."""
    admin_code = county(admin_code)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT route_code, length_m FROM roads WHERE admin_code = :a "
                f"AND route_code = ANY({CODES})"
            ),
            {"a": admin_code, "codes": codes_param(codes)},
        ).all()
    return {r.route_code: float(r.length_m) for r in rows}


def write_routes(
    engine: Engine,
    roads: pd.DataFrame,
    segments: gpd.GeoDataFrame,
    *,
    source: str,
    replace: bool = True,
    admin_code: str | None = None,
    accept_m: float = 15.0,
    wait: bool = True,
    on_wait: WaitNotice | None = None,
    bulk_min_rows: int = BULK_MIN_ROWS,
    checksums: Callable[[], Mapping[str, str]] | None = None,
    crash_reach: tuple[float, float] | None = None,
) -> dict[str, int]:
    """Insert routes and their segments; with ``replace``, same-code routes go first,
    and their hazards are measured again on the new routes (:mod:`.reattach`: kept within
    ``accept_m``, else to review), and with ``crash_reach`` (crash snap distance, slack past
    a route's end) their crashes: ``reattached``, ``review``, ``crashes_…`` counts.

    Segments are stored in lon/lat: given in another CRS (the working CRS), their coordinates
    are transformed chunk by chunk (:func:`.copy_rows.segment_copy_rows`) while the chunks
    before are streamed to the server with a binary COPY (written by a background thread, so
    the encoding and the server's inserting overlap). A load of at least ``bulk_min_rows``
    segments into a table that holds no more writes in bulk mode (:mod:`.bulk`): the
    segments' keys are made once after the rows. ``checksums``: the routes' fingerprints by
    code, when ``roads`` has no ``checksum`` column: asked for as late as possible (in bulk
    mode after the segments, whose routes' ids are then drawn first), so that they can be
    made meanwhile. Everything is one transaction, under the road load lock (one road load at
    a time: :func:`~hazards.db.store.locks.writer_lock` with ``wait`` and ``on_wait``).
    """
    admin_code = county(admin_code)
    import pandas as pd

    if segments.crs is None:
        raise ValueError("segments must have a CRS")
    codes = list(map(str, roads["code"].to_numpy(dtype=object).tolist()))
    with engine.begin() as conn:
        writer_lock(
            conn, "road load", what=f"the road load of {source}", wait=wait, on_wait=on_wait
        )
        held = hold_hazards(conn, codes, admin_code=admin_code) if replace else 0
        these = {"a": admin_code, "codes": codes_param(codes)}
        if replace:
            conn.execute(
                text(f"DELETE FROM roads WHERE admin_code = :a AND route_code = ANY({CODES})"),
                these,
            )
        deferred = (
            defer_keys(conn, "road_segments", primary=len(segments))
            if worth_deferring(
                conn, "road_segments", incoming=len(segments), min_rows=bulk_min_rows
            )
            else None
        )
        later = checksums is not None and deferred is not None
        if later:  # the routes' ids drawn now, and the routes written after their segments
            ids = dict(zip(codes, draw_ids(conn, "roads", len(codes)), strict=True))
        else:
            _copy_roads(conn, _checksummed(roads, codes, checksums), codes, admin_code, source)
            ids = dict(  # the routes' new ids (route codes are unique within an admin code)
                conn.execute(
                    text(
                        "SELECT route_code, id FROM roads "
                        f"WHERE admin_code = :a AND route_code = ANY({CODES})"
                    ),
                    these,
                ).all()
            )
        road_id = (
            pd.Series(ids).reindex(segments["code"].to_numpy(dtype=object)).to_numpy(dtype=np.int64)
        )
        n = len(segments)
        # in bulk mode the segments' ids are taken at once (the table is locked meanwhile)
        first = reserve_ids(conn, "road_segments", n) if deferred is not None and n else None
        _copy_segments(
            conn,
            segments,
            road_id,
            None if first is None else np.arange(first, first + n, dtype=np.int64),
            admin_code=admin_code,
            source=source,
        )
        if later:
            routes = _checksummed(roads, codes, checksums)
            _copy_roads(conn, routes, codes, admin_code, source, ids=[ids[c] for c in codes])
        if deferred is not None:
            restore_keys(conn, deferred)
        crashes = {"reattached": 0, "unattached": 0}
        if replace and crash_reach is not None:
            snap, slack = crash_reach
            crashes = replaced_crashes(
                conn, codes, snap_m=snap, slack_m=slack, admin_code=admin_code
            )
        moved = (
            reattach_hazards(conn, accept_m=accept_m, source=source, admin_code=admin_code)
            if held
            else {"reattached": 0, "review": 0}
        )
        return {**moved, **{f"crashes_{k}": v for k, v in crashes.items()}}


def _checksummed(
    roads: pd.DataFrame, codes: list[str], checksums: Callable[[], Mapping[str, str]] | None
) -> pd.DataFrame:
    """``roads`` with their ``checksum`` from ``checksums`` (asked for now), when given."""
    if checksums is None:
        return roads
    made = checksums()
    return roads.assign(checksum=[made[c] for c in codes])


def _copy_roads(
    conn: Connection,
    roads: pd.DataFrame,
    codes: list[str],
    admin_code: str,
    source: str,
    *,
    ids: list[int] | None = None,
) -> None:
    """COPY the routes (binary rows, :func:`.copy_rows.road_copy_rows`); ``ids``: their ids,
    drawn before (else the column's default draws them)."""
    from psycopg.copy import QueuedLibpqWriter

    raw = conn.connection.driver_connection
    assert raw is not None
    rows = road_copy_rows(roads, codes, admin_code=admin_code, source=source, ids=ids)
    with (
        raw.cursor() as cur,
        binary_copy(
            cur,
            "roads",
            (*(("id",) if ids is not None else ()), *ROAD_COPY_COLUMNS),
            writer=QueuedLibpqWriter(cur),  # rows made while the server inserts
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _copy_segments(
    conn: Connection,
    segments: gpd.GeoDataFrame,
    road_id: np.ndarray,
    ids: np.ndarray | None,
    *,
    admin_code: str,
    source: str,
) -> None:
    """COPY the segments in lon/lat, chunk by chunk (binary rows,
    :func:`.copy_rows.segment_copy_rows`), with their ``ids`` when given."""
    from psycopg.copy import QueuedLibpqWriter

    from hazards.crs import transformer

    raw = conn.connection.driver_connection
    assert raw is not None
    crs = segments.crs
    to_lonlat = None if crs.to_epsg() == 4326 else transformer(crs, CRS(4326))
    n = len(segments)
    cols = {
        k: segments[k].to_numpy() if k in segments else np.full(n, default)
        for k, default in SEGMENT_COLUMNS.items()
    }
    geoms = np.asarray(segments.geometry.array, dtype=object)
    tails = segment_tails(cols["township"], cols["aadt"])
    with (
        raw.cursor() as cur,
        cur.copy(segment_copy_sql(ids=ids is not None), writer=QueuedLibpqWriter(cur)) as copy,
    ):
        copy.write(BINARY_HEADER)
        for lo in range(0, n, COPY_CHUNK):
            part = slice(lo, lo + COPY_CHUNK)
            copy.write(
                segment_copy_rows(
                    {k: v[part] for k, v in cols.items()},
                    tails[part],
                    geoms[part],
                    road_id[part],
                    admin_code=admin_code,
                    source=source,
                    to_lonlat=to_lonlat,
                    ids=None if ids is None else ids[part],
                )
            )
        copy.write(BINARY_TRAILER)


def road_summary(
    engine: Engine, *, by: str = "class", admin_code: str | None = None
) -> dict[str, Any]:
    """Routes, segments and km per class (or per segment township) and in total.

    Unassigned roads (no route code) count in their group and the totals, and are also given
    apart (``unassigned_roads``, ``unassigned_km``). By township, a route counts in every
    township it crosses, with the km of its segments there (:data:`hazards.db.sql.SEGMENT_KM`
    is the rule). ``total.unique_length_km`` counts carriageway shared by several routes once.
    """
    admin_code = county(admin_code)
    check_county(engine, admin_code=admin_code)
    key = {"class": "r.road_class", "township": "coalesce(s.township, '')"}[by]
    # classes in administrative order (国道, 省道, 县道, ...), townships by name
    order = (
        "array_position(CAST(:classes AS text[]), min(r.road_class)), 1" if by == "class" else "1"
    )
    sql = f"""
        SELECT {key} AS grp,
               count(DISTINCT r.id) FILTER (WHERE NOT r.unassigned) AS routes,
               count(DISTINCT r.id) FILTER (WHERE r.unassigned) AS unassigned_roads,
               count(s.id) AS segments, {SEGMENT_KM} AS length_km,
               coalesce(sum(s.length_m) FILTER (WHERE r.unassigned), 0) / 1000.0 AS unassigned_km,
               array_agg(DISTINCT r.class_raw) FILTER (WHERE r.class_raw IS NOT NULL) AS raw
        FROM roads r JOIN road_segments s ON s.road_id = r.id
        WHERE r.admin_code = :a
        GROUP BY 1 ORDER BY {order}
    """
    total_sql = f"""
        SELECT count(DISTINCT r.id) FILTER (WHERE NOT r.unassigned) AS routes,
               count(DISTINCT r.id) FILTER (WHERE r.unassigned) AS unassigned_roads,
               count(s.id) AS segments, {SEGMENT_KM} AS length_km,
               count(s.id) FILTER (WHERE r.unassigned) AS unassigned_segments,
               coalesce(sum(s.length_m) FILTER (WHERE r.unassigned), 0) / 1000.0 AS unassigned_km
        FROM roads r JOIN road_segments s ON s.road_id = r.id
        WHERE r.admin_code = :a
    """
    with engine.connect() as conn:
        rows = conn.execute(text(sql), {"a": admin_code, "classes": list(ROAD_CLASSES)}).all()
        t = conn.execute(text(total_sql), {"a": admin_code}).one()
        overlap_km = shared_length_m(conn, admin_code=admin_code) / 1000
    label = "class" if by == "class" else "township"
    groups: list[dict[str, Any]] = []
    for r in rows:
        g: dict[str, Any] = {
            label: r.grp if r.grp != "" else None,
            "routes": int(r.routes),
            "unassigned_roads": int(r.unassigned_roads),
            "segments": int(r.segments),
            "length_km": _km(r.length_km),
            "unassigned_km": _km(r.unassigned_km),
        }
        if by == "class":
            g["source_values"] = sorted(r.raw or [])
        groups.append(g)
    total_km = _km(t.length_km)
    return {
        "classes" if by == "class" else "townships": groups,
        "total": {
            "routes": int(t.routes),
            "unassigned_roads": int(t.unassigned_roads),
            "segments": int(t.segments),
            "length_km": total_km,
            "unique_length_km": _km(max(float(t.length_km or 0) - overlap_km, 0.0)),
        },
        "unassigned_segments": int(t.unassigned_segments),
        "unassigned_length_km": _km(t.unassigned_km),
    }


def list_routes(
    engine: Engine,
    *,
    road_class: str | None = None,
    township: str | None = None,
    admin_code: str | None = None,
) -> list[dict[str, Any]]:
    """The county's routes, coded ones by class (国道 first, :data:`ROAD_CLASSES`) and route
    code, then the unassigned roads, each with its segments and its hazards
    (:data:`hazards.db.sql.ROAD_HAZARDS`: not rejected, and open); only those of
    ``road_class``, or with a segment in ``township``."""
    admin_code = county(admin_code)
    check_county(engine, admin_code=admin_code)
    where = ["r.admin_code = :a"]
    if road_class is not None:
        where.append("r.road_class = :cls")
    if township is not None:
        where.append(
            "EXISTS (SELECT 1 FROM road_segments t WHERE t.road_id = r.id AND t.township = :town)"
        )
    sql = f"""
        SELECT r.route_code, r.name, r.road_class, r.class_raw, r.township, r.length_m,
               r.end_m, r.sections, r.has_gap, r.has_branch, r.unassigned, r.source,
               (SELECT count(*) FROM road_segments s WHERE s.road_id = r.id) AS segments,
               coalesce(h.n_all, 0) AS hazards, coalesce(h.n_open, 0) AS open_hazards
        FROM roads r LEFT JOIN ({ROAD_HAZARDS}) h ON h.road_id = r.id
        WHERE {" AND ".join(where)}
        ORDER BY r.unassigned, array_position(CAST(:classes AS text[]), r.road_class),
                 r.route_code
    """
    params = {"a": admin_code, "cls": road_class, "town": township, "classes": list(ROAD_CLASSES)}
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(sql), params).mappings()]


def _km(value: Any) -> float:
    """A km figure for JSON: rounded to metres, 0.0 for a missing or non-finite value."""
    v = float(value or 0.0)
    return round(v, 3) if np.isfinite(v) else 0.0


def shared_length_m(conn: Connection, *, admin_code: str | None = None) -> float:
    """Metres (geodesic) of carriageway stored more than once: each segment's length that lies
    on the segments of routes loaded before it (lower id), counted once however many share it."""
    admin_code = county(admin_code)
    sql = """
        SELECT coalesce(sum(ST_Length(ST_CollectionExtract(ov, 2)::geography)), 0) FROM (
            SELECT ST_Intersection(a.geom, ST_Union(b.geom)) AS ov
            FROM road_segments a
            JOIN road_segments b ON b.geom && a.geom AND b.road_id < a.road_id
                 AND b.admin_code = a.admin_code AND ST_Relate(a.geom, b.geom, '1********')
            WHERE a.admin_code = :a
            GROUP BY a.id, a.geom
        ) x
    """
    return float(conn.execute(text(sql), {"a": admin_code}).scalar_one())


def resolve_code(engine: Engine, code: str, *, admin_code: str | None = None) -> str:
    """The stored route code ``code`` stands for: itself normalised (``x 012`` → ``X012``) or
    the route an alias of that spelling names."""
    admin_code = county(admin_code)
    norm = normalise_code(code)
    with engine.connect() as conn:
        target = conn.execute(
            text(
                "SELECT a.route_code FROM route_aliases a WHERE a.admin_code = :a "
                "AND a.alias = :c AND NOT EXISTS (SELECT 1 FROM roads r WHERE "
                "r.admin_code = :a AND r.route_code = :c)"
            ),
            {"a": admin_code, "c": norm},
        ).scalar_one_or_none()
    return target or norm


def get_road(engine: Engine, code: str, *, admin_code: str | None = None) -> dict[str, Any]:
    """A road by route code, written as stored or not (``x 012`` finds ``X012``), or by alias."""
    admin_code = county(admin_code)
    with engine.connect() as conn:
        row = (
            conn.execute(
                text("SELECT * FROM roads WHERE admin_code = :a AND route_code = :c"),
                {"a": admin_code, "c": resolve_code(engine, code, admin_code=admin_code)},
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            check_county(engine, admin_code=admin_code)  # none of the county's: say why
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
                "`hazards roads list` lists what is loaded; `hazards roads alias add` "
                "makes another code name a route."
            )
    return dict(row)


def add_aliases(
    engine: Engine,
    pairs: list[tuple[str, str]],
    *,
    note: str | None = None,
    admin_code: str | None = None,
) -> list[dict[str, str]]:
    """Record ``(alias, route code)`` pairs (both normalised); an alias given again is moved to
    the new route. Every route must be loaded, and an alias may not be a loaded route's own
    code. One transaction: all or nothing."""
    admin_code = county(admin_code)
    norm = [(normalise_code(a), normalise_code(c)) for a, c in pairs]
    with engine.begin() as conn:
        loaded = set(
            conn.execute(
                text("SELECT route_code FROM roads WHERE admin_code = :a"), {"a": admin_code}
            ).scalars()
        )
        for k, (alias, code) in enumerate(norm, start=1):
            where = f" (pair {k}: {pairs[k - 1][0]},{pairs[k - 1][1]})" if len(norm) > 1 else ""
            if code not in loaded:
                raise NotFound(
                    f"No route {code!r} is loaded, so {alias!r} cannot name it{where}. "
                    "`hazards roads list` lists what is loaded."
                )
            if alias in loaded:
                raise InputError(
                    f"{alias!r} is the code of a loaded route, so it cannot be an alias of "
                    f"{code}{where}. To renumber a route use `hazards roads rename`.",
                    param="alias",
                )
            if alias == code:
                raise InputError(f"{alias!r} cannot be an alias of itself{where}.", param="alias")
        conn.execute(
            text(
                "INSERT INTO route_aliases (admin_code, alias, route_code, note) "
                "SELECT :a, * FROM unnest(CAST(:al AS text[]), CAST(:co AS text[]), "
                "CAST(:no AS text[])) ON CONFLICT (admin_code, alias) DO UPDATE SET "
                "route_code = EXCLUDED.route_code, note = EXCLUDED.note"
            ),
            {
                "a": admin_code,
                "al": [a for a, _ in norm],
                "co": [c for _, c in norm],
                "no": [note] * len(norm),
            },
        )
    return [{"alias": a, "route": c} for a, c in norm]


def list_aliases(engine: Engine, *, admin_code: str | None = None) -> list[dict[str, Any]]:
    """Every alias with its route, ordered by route then alias."""
    admin_code = county(admin_code)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT alias, route_code AS route, note, created_at::date::text AS added "
                "FROM route_aliases WHERE admin_code = :a ORDER BY route_code, alias"
            ),
            {"a": admin_code},
        ).mappings()
        return [dict(r) for r in rows]


def alias_map(conn: Connection, *, admin_code: str | None = None) -> dict[str, str]:
    """Alias → route code, for matching survey rows."""
    admin_code = county(admin_code)
    rows = conn.execute(
        text("SELECT alias, route_code FROM route_aliases WHERE admin_code = :a"),
        {"a": admin_code},
    ).all()
    return {a: c for a, c in rows}


def rename_route(
    engine: Engine, old: str, new: str, *, by: str | None = None, admin_code: str | None = None
) -> dict[str, Any]:
    """Re-key route ``old`` as ``new`` (a renumbering, 调后编号), keep ``old`` as an alias of it,
    move the aliases of ``old`` to ``new``, and record a ``route_renamed`` event in the history
    of every hazard on the route. One transaction."""
    admin_code = county(admin_code)
    import json

    road = get_road(engine, old, admin_code=admin_code)
    old_code, new_code = road["route_code"], normalise_code(new)
    with engine.begin() as conn:
        taken = conn.execute(
            text("SELECT 1 FROM roads WHERE admin_code = :a AND route_code = :n"),
            {"a": admin_code, "n": new_code},
        ).first()
        if taken is not None:
            raise InputError(
                f"Route {new_code} is already loaded: {old_code} cannot take its code.",
                param="new",
            )
        conn.execute(
            text("UPDATE roads SET route_code = :n WHERE id = :id"),
            {"n": new_code, "id": road["id"]},
        )
        for sql in (
            "DELETE FROM route_aliases WHERE admin_code = :a AND alias = :n",
            "UPDATE route_aliases SET route_code = :n WHERE admin_code = :a AND route_code = :o",
        ):
            conn.execute(text(sql), {"a": admin_code, "n": new_code, "o": old_code})
        conn.execute(
            text(
                "INSERT INTO route_aliases (admin_code, alias, route_code, note) "
                "VALUES (:a, :o, :n, :note) ON CONFLICT (admin_code, alias) DO UPDATE SET "
                "route_code = EXCLUDED.route_code, note = EXCLUDED.note"
            ),
            {"a": admin_code, "o": old_code, "n": new_code, "note": f"renamed to {new_code}"},
        )
        events = conn.execute(
            text(
                "INSERT INTO hazard_events (hazard_id, kind, by, note, data) "
                "SELECT h.id, 'route_renamed', :by, :note, CAST(:data AS jsonb) "
                "FROM hazards h WHERE h.road_id = :id"
            ),
            {
                "id": road["id"],
                "by": by,
                "note": f"route {old_code} renumbered {new_code}",
                "data": json.dumps({"from": old_code, "to": new_code}),
            },
        ).rowcount
    return {"route": new_code, "old": old_code, "hazards": int(events or 0)}


def aadt_ranges(engine: Engine, *, admin_code: str | None = None) -> pd.DataFrame:
    """The road segments with an AADT: route_code, part, from_m, to_m, aadt (vehicles a day),
    by route, part and chainage (empty when no road file mapped an AADT field)."""
    admin_code = county(admin_code)
    import pandas as pd

    sql = (
        "SELECT r.route_code, s.part, s.from_m, s.to_m, s.aadt FROM road_segments s "
        "JOIN roads r ON r.id = s.road_id WHERE r.admin_code = :a AND s.aadt IS NOT NULL "
        "ORDER BY r.route_code, s.part, s.from_m"
    )
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params={"a": admin_code})
