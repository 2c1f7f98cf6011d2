"""Bulk mode (hazards.db.store.bulk): a large import into a small inventory writes its rows and
then rebuilds the keys of ``hazards``, which end exactly as declared (``hazard_events``' stay as
they are: the import stores no event of its own, its hazards' created events are a view's); a
large road load into an empty network does the same for ``road_segments``.

That the results are the same as row by row is checked by tests/test_frozen_import.py (each
frozen import runs both ways); here: when bulk mode is taken, and what the tables keep.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from sqlalchemy import text

from hazards.db import store
from hazards.db.store.bulk import defer_keys, restore_keys, worth_deferring
from hazards.intake import import_survey
from hazards.roads import load_roads

SAMPLE = Path(__file__).resolve().parents[1] / "gis_data" / "sample"
TABLES = ("hazards", "hazard_events")  # the events' to see that they stay


def _keys(engine: Any, tables: tuple[str, ...] = TABLES) -> dict[str, Any]:
    """Each key of ``tables``: name → (object id, definition)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, c.oid, pg_get_indexdef(c.oid) FROM pg_index x "
                "JOIN pg_class c ON c.oid = x.indexrelid "
                "WHERE x.indrelid = ANY(CAST(:t AS regclass[])) "
                "UNION ALL SELECT conname, oid, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = ANY(CAST(:t AS regclass[]))"
            ),
            {"t": list(tables)},
        ).all()
    return {name: (int(oid), definition) for name, oid, definition in rows}


def _import(
    tmp_path: Path, engine: Any, name: str = "s.csv", lines: int | None = None, **kw: Any
) -> dict[str, Any]:
    """Import the sample survey (its first ``lines`` lines only, when given)."""
    shutil.copy(SAMPLE / "township_survey.csv", tmp_path / name)
    if lines is not None:
        kept = (tmp_path / name).read_bytes().splitlines(keepends=True)[:lines]
        (tmp_path / name).write_bytes(b"".join(kept))
    return dict(
        import_survey(
            tmp_path / name, provider="某检测公司", surveyed_on="2024-03-01", engine=engine, **kw
        )
    )


def _fingerprints(path: Path, crs: Any) -> dict[str, str]:
    """The routes' fingerprints of a road file in ``crs``, made by the library's steps one by
    one."""
    from hazards.assembly import build_routes
    from hazards.road_files import read_road_file
    from hazards.roads import validate_features

    feats = validate_features(read_road_file(path))
    roads, _segments = build_routes(feats.gdf.to_crs(crs), line_wkb=None)
    return dict(zip(roads["code"], roads["checksum"], strict=True))


def _rebuilt(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    """The keys whose object changed (dropped and made again)."""
    assert {k: v[1] for k, v in after.items()} == {k: v[1] for k, v in before.items()}
    return {k for k in before if before[k][0] != after[k][0]}


def test_bulk_import_rebuilds_every_secondary_key_as_declared(tmp_path: Path, engine) -> None:
    load_roads(SAMPLE / "county_roads.gpkg", engine=engine)
    before = _keys(engine)
    report = _import(tmp_path, engine, bulk_min_rows=1)
    rebuilt = _rebuilt(before, _keys(engine))
    # every unique constraint, index and foreign key of hazards; the primary key stays, and so
    # do the indexes kept online (the extent's, partial, and extents are cut after the keys are
    # made again; the roads' and statuses', filled chunk by chunk). The events' keys stay: the
    # import writes no event of its own (its hazards' created events are the view's)
    online = {"ix_hazards_extent", "ix_hazards_road_id", "ix_hazards_status"}
    expected = {
        name
        for name, (_, definition) in _keys(engine, ("hazards",)).items()
        if not definition.startswith("PRIMARY KEY")
        and not definition.startswith("CHECK")
        and not name.startswith("pk_")
    } - online
    assert online <= set(before) and rebuilt == expected
    assert {"uq_hazards_public_id", "fk_hazards_road_id_roads", "ix_hazards_geom"} <= rebuilt
    assert "fk_hazard_events_hazard_id_hazards" not in rebuilt
    stored = report["accepted"] + report["review"]
    with engine.connect() as conn:
        n, created, rows = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM hazards), "
                "(SELECT count(*) FROM hazard_history WHERE kind = 'created'), "
                "(SELECT count(*) FROM hazard_events)"
            )
        ).one()
        # the rebuilt keys work: a hazard found by public id through its unique index
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(
            conn.execute(text("EXPLAIN SELECT id FROM hazards WHERE public_id = 'H000001'"))
            .scalars()
            .all()
        )
    assert n == created == stored > 100
    assert rows == 0
    assert "uq_hazards_public_id" in plan


def test_a_bulk_import_indexes_the_linear_extents_it_cuts(tmp_path: Path, roads) -> None:
    """The extent index stays online in bulk mode (no row has an extent until the keys are made
    again); the extents cut at the end are in it, and a spatial query through it finds them."""
    data = Path(__file__).resolve().parent / "data"
    shutil.copy(data / "linear_survey.csv", tmp_path / "linear_survey.csv")
    before = _keys(roads)
    report = import_survey(
        tmp_path / "linear_survey.csv",
        provider="某检测公司",
        surveyed_on="2024-03-01",
        engine=roads,
        bulk_min_rows=1,
    )
    after = _keys(roads)
    assert "uq_hazards_public_id" in _rebuilt(before, after)
    assert after["ix_hazards_extent"] == before["ix_hazards_extent"]  # the same index, kept
    query = (
        "SELECT provider_row_id FROM hazards WHERE extent && "
        "(SELECT ST_Extent(extent) FROM hazards)::geometry ORDER BY 1"
    )
    with roads.connect() as conn:
        scanned = conn.execute(text(query)).scalars().all()
        conn.execute(text("SET enable_seqscan = off"))
        conn.execute(text("SET enable_bitmapscan = on"))
        indexed = conn.execute(text(query)).scalars().all()
        plan = "\n".join(conn.execute(text("EXPLAIN " + query)).scalars().all())
        cut = conn.execute(
            text("SELECT count(*) FROM hazards WHERE extent IS NOT NULL")
        ).scalar_one()
    assert report["accepted"] == 6 and cut == 4
    assert indexed == scanned and len(scanned) == cut
    assert "ix_hazards_extent" in plan


def test_small_or_second_imports_write_row_by_row(tmp_path: Path, engine) -> None:
    load_roads(SAMPLE / "county_roads.gpkg", engine=engine)
    before = _keys(engine)
    first = _import(tmp_path, engine)  # fewer rows than BULK_MIN_ROWS: row by row
    assert first["accepted"] > 100
    after_first = _keys(engine)
    assert _rebuilt(before, after_first) == set()
    # the inventory now holds more hazards than a second delivery brings
    second = _import(tmp_path, engine, name="part.csv", lines=40, bulk_min_rows=1)
    assert second["rows"] == 39
    assert _rebuilt(after_first, _keys(engine)) == set()


def test_a_broken_key_fails_the_load_and_leaves_the_table_as_it_was(engine) -> None:
    before = _keys(engine)
    with engine.connect() as conn:
        assert worth_deferring(conn, "hazards", incoming=5, min_rows=1)
        assert not worth_deferring(conn, "hazards", incoming=5, min_rows=6)
        conn.rollback()
        with pytest.raises(Exception, match="uq_hazards_public_id"), conn.begin():
            keys = defer_keys(conn, "hazards")
            conn.execute(
                text(
                    "INSERT INTO hazards (id, public_id, status, match_status) "
                    "VALUES (1, 'H1', 'identified', 'accepted'), "
                    "(2, 'H1', 'identified', 'accepted')"
                )
            )
            restore_keys(conn, keys)  # the duplicate public id breaks the unique key
    assert _keys(engine) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hazards")).scalar_one() == 0


def test_a_first_large_road_load_rebuilds_the_segments_keys_as_declared(
    tmp_path: Path, engine
) -> None:
    segments = ("road_segments", "hazards")
    before = _keys(engine, segments)
    res = load_roads(SAMPLE / "county_roads.gpkg", engine=engine, bulk_min_rows=1)
    rebuilt = _rebuilt(before, _keys(engine, segments))
    # every key of the segments but their check, the primary key with them (nothing reads a
    # segment by id before the keys are back), and the hazards' foreign key to it
    assert rebuilt == {
        name
        for name, (_, definition) in _keys(engine, ("road_segments",)).items()
        if not definition.startswith("CHECK")
    } | {"fk_hazards_segment_id_road_segments"}
    assert {"pk_road_segments", "fk_road_segments_road_id_roads"} <= rebuilt
    with engine.connect() as conn:
        n, routes = conn.execute(
            text("SELECT count(*), count(DISTINCT road_id) FROM road_segments")
        ).one()
    assert n >= routes == len(res.routes_added) > 10
    # the segments' ids were taken from their sequence at once, in a row as the default draws
    # them, and the sequence goes on after them
    with engine.connect() as conn:
        low, high = conn.execute(text("SELECT min(id), max(id) FROM road_segments")).one()
        after = conn.execute(text("SELECT nextval('road_segments_id_seq')")).scalar_one()
        conn.rollback()
    assert (low, high, after) == (1, n, n + 1)
    # written after their segments, the routes have the ids drawn for them in code order and
    # the fingerprints of their lines, as made apart from the load
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT route_code, id, checksum FROM roads ORDER BY id")).all()
    assert [r.route_code for r in stored] == sorted(res.routes_added)
    assert [r.id for r in stored] == list(range(1, len(stored) + 1))
    made = _fingerprints(SAMPLE / "county_roads.gpkg", store.working_crs(engine))
    assert {r.route_code: r.checksum for r in stored} == made
    again = load_roads(SAMPLE / "county_roads.gpkg", engine=engine, bulk_min_rows=1)
    assert (again.routes_added, sorted(again.routes_unchanged)) == ([], sorted(made))
    # a later load bringing fewer segments than the network holds keeps the keys up to date
    roads = gpd.read_file(SAMPLE / "county_roads.gpkg").iloc[:3]
    roads["路线编码"] = ["X901", "X902", "X903"]
    roads.to_file(tmp_path / "more.gpkg")
    after = _keys(engine, segments)
    more = load_roads(tmp_path / "more.gpkg", engine=engine, bulk_min_rows=1)
    assert more.routes_added == ["X901", "X902", "X903"]
    with engine.connect() as conn:
        added = conn.execute(
            text(
                "SELECT min(s.id) FROM road_segments s JOIN roads r ON r.id = s.road_id "
                "WHERE r.route_code = 'X901'"
            )
        ).scalar_one()
    assert added == n + 2  # (n + 1 was drawn above, and the sequence does not give it back)
    assert _rebuilt(after, _keys(engine, segments)) == set()


def test_the_segments_primary_key_stays_when_a_table_referencing_it_is_larger(engine) -> None:
    """The road load defers the segments' primary key only when every table whose foreign key
    refers to it (the hazards) holds no more rows than the load brings: each is checked again
    in full when that key is made again."""
    with engine.connect() as conn:
        conn.execute(
            text(
                "INSERT INTO hazards (id, public_id, status, match_status) "
                "SELECT g, 'H' || g, 'identified', 'accepted' FROM generate_series(1, 3) g"
            )
        )
        for incoming, deferred in ((2, False), (3, True)):
            with conn.begin_nested():
                keys = defer_keys(conn, "road_segments", primary=incoming)
                assert (keys.primary is not None) is deferred
                assert [r[:2] for r in keys.referencing] == (
                    [("hazards", "fk_hazards_segment_id_road_segments")] if deferred else []
                )
                restore_keys(conn, keys)
        conn.rollback()


def test_the_segments_primary_key_stays_while_another_session_uses_the_hazards(engine) -> None:
    """Deferring the primary key drops the hazards' foreign key, which locks the hazards: not
    while another session uses them (a survey import writing hazards, which then checks their
    segments, would wait for the road load while the road load waited for it: a deadlock).
    The lock is tried without waiting; in use, the key is kept and the load goes on."""
    import time

    with engine.connect() as survey, engine.connect() as road:
        survey.execute(text("LOCK TABLE hazards IN ROW EXCLUSIVE MODE"))  # a writer, mid-way
        road.execute(text("SET lock_timeout = '3s'"))  # (a wait would fail the test, not hang it)
        t0 = time.perf_counter()
        keys = defer_keys(road, "road_segments", primary=10)
        assert keys.primary is None and keys.referencing == []
        assert time.perf_counter() - t0 < 5  # not waited for
        road.execute(text("SELECT count(*) FROM road_segments"))  # the transaction goes on
        restore_keys(road, keys)
        road.rollback()
        survey.rollback()
        keys = defer_keys(road, "road_segments", primary=10)  # no one else: deferred
        assert keys.primary is not None
        road.rollback()
