"""The store (hazards.db.store) on a real PostGIS: its names, the shared SQL rules (effective
tier and cost, latest batch, chainage text), plan commits and review decisions through the
transition table, and library messages without command-line flags."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from pyproj import CRS
from sqlalchemy import text

from hazards import vocabulary
from hazards.db import sql, store
from hazards.errors import ConfigError, InputError, NotFound

PACKAGE = Path(__file__).resolve().parents[1] / "hazards"


def _ids(engine, where: str = "TRUE") -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return list(
            conn.execute(text(f"SELECT public_id FROM hazards WHERE {where} ORDER BY id")).scalars()
        )


def _new_batch(engine, plan: str, name: str, seq: int, hazard: str) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        bid = conn.execute(
            text(
                "INSERT INTO batches (plan_name, name, seq, status) "
                "VALUES (:p, :n, :s, 'issued') RETURNING id"
            ),
            {"p": plan, "n": name, "s": seq},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO batch_items (batch_id, hazard_id) SELECT :b, id FROM hazards WHERE public_id = :h"
            ),
            {"b": bid, "h": hazard},
        )


# ----------------------------------------------------------------------------- the package
def test_every_public_name_of_the_submodules_is_reexported() -> None:
    modules = [p.stem for p in (PACKAGE / "db" / "store").glob("*.py") if p.stem != "__init__"]
    assert {"roads", "routes", "hazards", "maps"} <= set(modules)
    for module in modules:
        tree = ast.parse((PACKAGE / "db" / "store" / f"{module}.py").read_text(encoding="utf-8"))
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        for name in (n for n in names if not n.startswith("_")):
            assert getattr(store, name) is getattr(getattr(store, module), name), (module, name)


def test_no_store_module_over_700_lines() -> None:
    for path in (PACKAGE / "db" / "store").glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 700, path.name


def test_each_rule_is_written_once() -> None:
    """The rules' SQL text appears in hazards/db/sql.py and nowhere else in the package."""
    rules = (
        "tier_override, h.tier)",
        "provided_cost_cny, h.estimated",
        "ORDER BY bi.hazard_id, b.",
        "ORDER BY b.id DESC",
        "ORDER BY b.seq DESC",
    )
    for path in PACKAGE.rglob("*.py"):
        if path.name == "sql.py" or "migrations" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        for rule in (*rules, "IN ('identified'", "IN ('reported_done'"):
            assert rule not in source, (path, rule)


def test_route_codes_pass_as_one_json_text(engine) -> None:
    """:data:`sql.CODES` gives back exactly the codes bound with :func:`sql.codes_param`: quotes,
    commas, braces, backslashes, Chinese, spaces and an empty code included, in order."""
    codes = ["Y001", 'X"2', "a,b", "{c}", "d\\e", "乡道 C012", " ", "", "NULL", "x'y"]
    with engine.connect() as conn:
        got = conn.execute(
            text(f"SELECT {sql.CODES}"), {"codes": sql.codes_param(codes)}
        ).scalar_one()
        assert got == codes
        assert (
            conn.execute(
                text(f"SELECT 'a,b' = ANY({sql.CODES})"), {"codes": sql.codes_param(["a", "b"])}
            ).scalar_one()
            is False
        )


def test_a_point_as_hex_ewkb_reads_back_as_the_same_floats(engine) -> None:
    """:func:`store.point_hex` gives PostGIS the point as EWKT of the floats' repr would (the
    survey import's earlier form): SRID 4326 and the exact same coordinates."""
    points = [(112.4713768, 28.7013829), (-0.1, 51.5), (179.99999999999997, -89.5), (0.0, -0.0)]
    with engine.connect() as conn:
        for lon, lat in points:
            got = conn.execute(
                text(
                    "SELECT ST_SRID(g), ST_X(g), ST_Y(g), ST_Equals(g, ST_GeomFromEWKT(:t)) "
                    "FROM (SELECT CAST(CAST(:g AS text) AS geometry) AS g) s"
                ),
                {"g": store.point_hex(lon, lat), "t": f"SRID=4326;POINT({lon!r} {lat!r})"},
            ).one()
            assert tuple(got) == (4326, lon, lat, True)


@pytest.mark.parametrize("encoding", ["UTF8", "EUC_CN"])
def test_binary_copy_stores_what_a_text_copy_stores(engine, encoding: str) -> None:
    """:func:`copy_rows.binary_copy` (the survey writer's) takes the rows a text COPY takes,
    JSON as its text and points as hex EWKB or EWKB bytes, and stores the same values: compared
    column by column with the same rows copied as text, NULLs, Chinese, quotes, tabs,
    backslashes and booleans included, also when the client's encoding is not UTF-8. A column
    the table lacks is refused, and the connection's own JSON dumper is left as it was."""
    from psycopg.pq import Format

    from hazards.db.store.copy_rows import binary_copy

    cols = ("n", "big", "x", "label", "code", "flag", "doc", "plain", "g")
    rows = [
        (1, 2**40, 0.1, "急弯\t\\ 'q'", "X001", True, '{"序号": "1", "a": [1.5, null]}',
         '[1, "b"]', store.point_hex(112.4713768, 28.7013829)),
        (None, None, None, None, None, None, None, None, None),
        (-7, 0, float("-inf"), "", "", False, "[]", "{}",
         bytes.fromhex(store.point_hex(-0.1, 51.5))),
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TEMP TABLE t (k text, n int4, big int8, x float8, label text, "
                "code varchar(8), flag bool, doc jsonb, plain json, g geometry(Point, 4326))"
            )
        )
        raw = conn.connection.driver_connection
        raw.execute(f"SET client_encoding TO '{encoding}'")
        jsonb = raw.adapters.types["jsonb"].oid
        own = raw.adapters.get_dumper_by_oid(jsonb, Format.BINARY)
        with raw.cursor() as cur:
            with binary_copy(cur, "t", ("k", *cols)) as copy:
                for r in rows:
                    copy.write_row(("binary", *r))
            with cur.copy(f"COPY t (k, {', '.join(cols)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(("text", *(v.hex() if isinstance(v, bytes) else v for v in r)))
            with (
                pytest.raises(ValueError, match="not columns of t"),
                binary_copy(cur, "t", ("nope",)),
            ):
                pass
        assert raw.adapters.get_dumper_by_oid(jsonb, Format.BINARY) is own
        raw.execute("SET client_encoding TO 'UTF8'")
        got = conn.execute(
            text(
                "SELECT k, n, big, x, label, code, flag, doc::text, plain::text, ST_AsEWKT(g) "
                "FROM t ORDER BY k, n NULLS LAST"
            )
        ).all()
    binary, as_text = got[:3], got[3:]
    assert [r[0] for r in binary] == ["binary"] * 3 and [r[0] for r in as_text] == ["text"] * 3
    assert [r[1:] for r in binary] == [r[1:] for r in as_text]
    assert binary[1][1:] == (1, 2**40, 0.1, "急弯\t\\ 'q'", "X001", True,
                             '{"a": [1.5, null], "序号": "1"}', '[1, "b"]',
                             "SRID=4326;POINT(112.4713768 28.7013829)")  # fmt: skip
    assert binary[0][6] is False and binary[2][1:] == (None,) * 9


@pytest.mark.parametrize(
    ("crs", "admin", "ids"), [(4546, "", None), (4326, "430521", [91, 92, 95])]
)
def test_segments_copy_rows_are_read_by_postgis_as_geopandas_transforms_them(
    engine, crs: int, admin: str, ids: list[int] | None
) -> None:
    """:func:`store.segment_copy_rows` writes each line's WKB from its coordinates, transformed
    to lon/lat all at once: PostGIS reads the very coordinates geopandas' ``to_crs`` gives, and
    every other field as given (the ids too, when given)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from hazards.crs import transformer
    from hazards.db.store.copy_rows import (
        BINARY_HEADER,
        BINARY_TRAILER,
        segment_copy_sql,
        segment_tails,
    )

    x0, y0 = (500_000.0, 3_170_000.0) if crs == 4546 else (112.4, 28.6)
    step = 250.0 if crs == 4546 else 0.002
    lines = np.array(
        [
            shapely.LineString([(x0, y0), (x0 + step, y0 + step / 3)]),
            shapely.LineString([(x0 + k * step, y0 + (k % 3) * step) for k in range(7)]),
            shapely.LineString(
                [(x0 - 3 * step, y0), (x0 - 2 * step, y0), (x0 - 2 * step, y0 - step)]
            ),
        ],
        dtype=object,
    )
    township = np.array(["城关镇", None, "南大膳镇"], dtype=object)
    aadt = np.array([1200.0, np.nan, 35.5])
    cols = {
        "seq": np.array([1, 2, 1]),
        "part": np.array([1, 1, 2]),
        "section": np.array([1, 1, 1]),
        "from_m": np.array([0.0, 263.5, 0.0]),
        "to_m": np.array([263.5, 1800.25, 500.0]),
        "length_m": np.array([263.5, 1536.75, 500.0]),
        "row": np.array([3, 1, 2]),
    }
    data = (
        BINARY_HEADER
        + store.segment_copy_rows(
            cols,
            segment_tails(township, aadt),
            lines,
            np.array([7, 7, 9]),
            admin_code=admin,
            source="路网 2025.gpkg",
            to_lonlat=None if crs == 4326 else transformer(CRS(crs), CRS(4326)),
            ids=None if ids is None else np.array(ids),
        )
        + BINARY_TRAILER
    )
    with engine.connect() as conn:
        conn.execute(text("CREATE TEMP TABLE s (LIKE road_segments INCLUDING DEFAULTS)"))
        cur = conn.connection.driver_connection.cursor()
        with cur.copy(segment_copy_sql("s", ids=ids is not None)) as copy:
            copy.write(data)
        got = conn.execute(
            text(
                "SELECT township, aadt, admin_code, road_id, seq, part, section, from_m, to_m, "
                "length_m, source_row, source_file, ST_SRID(geom), ST_AsBinary(geom), id FROM s "
                "ORDER BY id"
            )
        ).all()
        conn.rollback()
    expected = gpd.GeoSeries(lines, crs=crs).to_crs(4326)
    assert [tuple(r[:13]) for r in got] == [
        (
            t,
            None if np.isnan(a) else a,
            admin,
            rid,
            *(cols[k][i] for k in cols),
            "路网 2025.gpkg",
            4326,
        )
        for i, (t, a, rid) in enumerate(zip(township, aadt, [7, 7, 9], strict=True))
    ]
    back = shapely.from_wkb([bytes(r[13]) for r in got])
    assert np.array_equal(shapely.get_coordinates(back), shapely.get_coordinates(expected.array))
    assert shapely.get_num_points(back).tolist() == [2, 7, 3]
    # without ids, the column's default draws them in turn
    assert [r[14] for r in got] == (ids or [got[0][14] + k for k in range(3)])


def test_network_segments_read_as_geopandas_reads_them(tracked, engine) -> None:
    """:func:`store.network_segments` (its own binary read) gives the frame geopandas'
    ``read_postgis`` gives for the same rows: the same columns, types, values and lon/lat
    geometries, a segment without a township, one road's, and none."""
    import geopandas as gpd
    import pandas as pd

    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE road_segments SET township = NULL WHERE id = (SELECT min(id) FROM road_segments)"
            )
        )
        road = conn.execute(text("SELECT max(road_id) FROM road_segments")).scalar_one()

    def expected(where: str) -> gpd.GeoDataFrame:
        with engine.connect() as conn:
            return gpd.read_postgis(
                text(
                    "SELECT s.id, s.road_id, r.route_code, s.part, s.from_m, s.to_m, s.township, "
                    f"s.geom AS geometry FROM road_segments s JOIN roads r ON r.id = s.road_id "
                    f"WHERE r.admin_code = '' {where} ORDER BY s.id"
                ),
                conn,
                geom_col="geometry",
            )

    got = store.network_segments(engine)
    assert got["township"].isna().sum() == 1 and len(got) > 2
    pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(expected("")))
    assert got.crs == "EPSG:4326"
    one = store.network_segments(engine, road_id=road)
    assert set(one["road_id"]) == {road}
    pd.testing.assert_frame_equal(
        pd.DataFrame(one), pd.DataFrame(expected(f"AND s.road_id = {int(road)}"))
    )
    none = store.network_segments(engine, road_id=-1)
    assert len(none) == 0 and list(none.columns) == list(got.columns)
    assert set(map(str, none.drop(columns="geometry").dtypes)) == {"object"}  # as read_sql gave
    with engine.connect() as conn:
        named = dict(
            conn.execute(text("SELECT route_code, name FROM roads WHERE name <> ''")).all()
        )
    assert got.attrs["route_names"] == named and got.attrs["route_aliases"] == {}


def test_segments_copy_rows_refuse_lines_postgis_would_not_store(engine) -> None:
    """A segment that is not a 2D LineString is a programming error, said before the COPY."""
    import numpy as np
    import shapely

    from hazards.db.store.copy_rows import segment_tails

    for geom in (
        shapely.LineString([(0, 0, 1), (1, 1, 1)]),
        shapely.MultiLineString([[(0, 0), (1, 1)]]),
    ):
        with pytest.raises(ValueError, match="2D LineStrings"):
            store.segment_copy_rows(
                {
                    k: np.zeros(1)
                    for k in ("seq", "part", "section", "from_m", "to_m", "length_m", "row")
                },
                segment_tails(np.array([None], dtype=object), np.array([np.nan])),
                np.array([geom], dtype=object),
                np.array([1]),
                admin_code="",
                source="x",
            )


def test_new_hazard_ids_are_drawn_in_order_consecutive_or_not(engine) -> None:
    """A chunk's ids come from the sequence in the order drawn: as a range when they are
    consecutive, fetched one by one when they are not (here: a sequence counting by 3)."""
    with engine.connect() as conn:
        ids = store.draw_ids(conn, "hazards", 4)
        assert ids == list(range(ids[0], ids[0] + 4))
        conn.execute(text("ALTER SEQUENCE hazards_id_seq INCREMENT BY 3"))
        spaced = store.draw_ids(conn, "hazards", 4)
        assert spaced == [spaced[0] + 3 * k for k in range(4)] and spaced[0] > ids[-1]
        conn.rollback()  # the increment as it was (the ids drawn stay used)


def test_ids_drawn_for_a_held_table_move_the_sequence_past_them_at_once(engine) -> None:
    """In bulk mode (the table locked by the import) a chunk's ids are the ones the sequence
    would give next, one by one, and it goes on after them; a sequence counting by 3 is drawn
    from one id at a time, as before."""
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE hazards IN ACCESS EXCLUSIVE MODE"))
        first = store.draw_ids(conn, "hazards", 1)[0]
        assert store.draw_ids(conn, "hazards", 5, held=True) == list(range(first + 1, first + 6))
        assert store.draw_ids(conn, "hazards", 1) == [first + 6]
        conn.execute(text("ALTER SEQUENCE hazards_id_seq INCREMENT BY 3"))
        assert store.draw_ids(conn, "hazards", 3, held=True) == [first + 9, first + 12, first + 15]
        conn.rollback()


def test_ids_drawn_for_a_held_table_never_move_a_cached_sequence_back(engine) -> None:
    """A sequence caching values per session has given this one values beyond its next id: the
    held draw takes them one by one, and the sequence stays past every value handed out."""
    with engine.connect() as conn:
        conn.execute(text("ALTER SEQUENCE hazards_id_seq CACHE 10"))
        conn.commit()
    try:
        with engine.connect() as conn:
            conn.execute(text("LOCK TABLE hazards IN ACCESS EXCLUSIVE MODE"))
            first = store.draw_ids(conn, "hazards", 1)[0]  # values up to first + 9 handed out
            held = store.draw_ids(conn, "hazards", 3, held=True)
            assert held == list(range(first + 1, first + 4))
            last = conn.execute(text("SELECT last_value FROM hazards_id_seq")).scalar_one()
            assert last >= first + 9
            conn.rollback()
    finally:
        with engine.connect() as conn:
            conn.execute(text("ALTER SEQUENCE hazards_id_seq CACHE 1"))
            conn.commit()


# ----------------------------------------------------------------------------- shared rules
def test_effective_cost_and_tier_in_lists_and_history(tracked) -> None:
    first = _ids(tracked)[0]
    with tracked.begin() as conn:
        conn.execute(
            text(
                "UPDATE hazards SET provided_cost_cny = NULL, estimated_cost_cny = 777, "
                "tier_override = 'II', tier_override_reason = 'seen on site' WHERE public_id = :p"
            ),
            {"p": first},
        )
        stored = dict(conn.execute(text("SELECT public_id, provided_cost_cny FROM hazards")).all())
    listed = {h["id"]: h for h in store.list_hazards(tracked)}
    assert (listed[first]["cost_cny"], listed[first]["cost_source"], listed[first]["tier"]) == (
        777,
        "library",
        "II",
    )
    for hid, provided in stored.items():
        if provided is not None:
            assert (listed[hid]["cost_cny"], listed[hid]["cost_source"]) == (provided, "survey")
    hist = store.hazard_history(tracked, first)
    assert (hist["cost_cny"], hist["cost_source"], hist["tier"]) == (777, "library", "II")
    assert [h["id"] for h in store.list_hazards(tracked, tier="II")].count(first) == 1


def test_latest_batch_is_the_last_one_put_in_not_the_highest_seq(tracked) -> None:
    hid = _ids(tracked)[0]
    before = store.hazard_history(tracked, hid)["batch"]
    assert before is not None and before.startswith("P-")
    _new_batch(tracked, "Q", "Q-9", 9, hid)
    _new_batch(tracked, "R", "R-1", 1, hid)  # put in last, with the lowest seq
    assert store.hazard_history(tracked, hid)["batch"] == "R-1"
    assert store.completion_targets(tracked, [hid]).iloc[0]["batch"] == "R-1"
    flt = store.HazardFilter()
    frame = store.hazard_columns(tracked, flt)
    number = int(hid[1:])
    assert frame.loc[frame["id_num"] == number, "batch"].item() == "R-1"
    road = store.get_road(
        tracked,
        "X001" if hid in {r["id"] for r in store.list_hazards(tracked, route="X001")} else "Y002",
    )
    rows = store.road_hazard_rows(tracked, road["id"])
    assert rows.loc[rows["id"] == hid, "batch"].item() == "R-1"
    progress = store.progress_frame(tracked)
    assert progress.loc[progress["batch"] == "R-1", "n"].sum() == 1
    assert progress.loc[progress["batch"] == "Q-9", "n"].sum() == 0
    # a batch of a draft plan binds nothing: put in last, it is not the hazard's batch
    _new_batch(tracked, "S", "S-1", 1, hid)
    with tracked.begin() as conn:
        conn.execute(text("UPDATE batches SET status = 'draft' WHERE name = 'S-1'"))
    assert store.hazard_history(tracked, hid)["batch"] == "R-1"
    assert store.completion_targets(tracked, [hid]).iloc[0]["batch"] == "R-1"
    progress = store.progress_frame(tracked)
    assert progress.loc[progress["batch"] == "S-1", "n"].sum() == 0


def test_chainage_text_and_last_event(tracked) -> None:
    road = store.get_road(tracked, "X001")
    rows = store.road_hazard_rows(tracked, road["id"])
    assert list(rows["chainage"]) == ["K0+200", "K0+600", "K1+000", "K1+400"]
    assert all(
        e.endswith("planned plan P, batch " + b)
        for e, b in zip(rows["last_event"], rows["batch"], strict=True)
    )
    with tracked.connect() as conn:
        got = (
            conn.execute(
                text(
                    f"SELECT {sql.CHAINAGE_TEXT} FROM (VALUES (12345.4), (999.6), (NULL)) "
                    "AS h(chainage_m)"
                )
            )
            .scalars()
            .all()
        )
    assert got == ["K12+345", "K1+000", None]


def test_status_sets_come_from_the_vocabulary(tracked) -> None:
    assert store.plan_candidates(tracked).empty  # all planned: none plannable
    risk = store.route_risk(tracked)
    assert risk["score"].notna().sum() == len(_ids(tracked))  # planned is open
    hid = _ids(tracked)[0]
    with tracked.begin() as conn:
        conn.execute(
            text("UPDATE hazards SET status = 'reopened' WHERE public_id = :p"), {"p": hid}
        )
    assert list(store.plan_candidates(tracked)["id"]) == [hid]
    assert set(vocabulary.PLANNABLE_STATUSES) == {"identified", "reopened"}


# ----------------------------------------------------------------------------- transitions
def test_commit_plan_checks_each_hazard_with_the_transition_table(tracked) -> None:
    from hazards.planning import create_plan

    hid = _ids(tracked)[0]
    with tracked.begin() as conn:
        conn.execute(
            text("UPDATE hazards SET status = 'reopened' WHERE public_id = :p"), {"p": hid}
        )
    create_plan(name="Q", budget=1e9, batches=1, engine=tracked)
    seen: list[tuple[str, str, str]] = []
    with tracked.begin() as conn:  # someone rejects it meanwhile
        conn.execute(
            text("UPDATE hazards SET status = 'rejected' WHERE public_id = :p"), {"p": hid}
        )
    with pytest.raises(InputError, match="no longer open .* Drop the plan and create it again"):
        store.commit_plan(
            tracked, "Q", check=lambda *a: (seen.append(a), vocabulary.check_transition(*a))
        )
    assert seen == [(hid, "rejected", "planned")]
    assert store.get_plan(tracked, "Q")["status"] == "draft"
    with tracked.begin() as conn:
        conn.execute(
            text("UPDATE hazards SET status = 'reopened' WHERE public_id = :p"), {"p": hid}
        )
    out = store.commit_plan(tracked, "Q", by="me")
    assert out == {"plan": "Q", "status": "committed", "hazards_planned": 1}
    assert store.hazard_history(tracked, hid)["status"] == "planned"
    with pytest.raises(InputError, match="already committed"):
        store.commit_plan(tracked, "Q")


def test_resolve_review_takes_the_outcome_and_checks_it(tracked) -> None:
    first, second = _ids(tracked)[:2]
    with tracked.begin() as conn:
        conn.execute(
            text("UPDATE hazards SET status = 'review' WHERE public_id = ANY(:p)"),
            {"p": [first, second]},
        )
    seen: list[tuple[str, str, str]] = []
    out = store.resolve_review(tracked, first, accept=True, check=lambda *a: seen.append(a))
    assert out == {"id": first, "status": vocabulary.REVIEW_OUTCOME[True]} and seen == [
        (first, "review", "identified")
    ]

    def refuse(public_id: str, current: str, to: str) -> None:
        raise InputError(f"{public_id}: no")

    with pytest.raises(InputError, match="no"):
        store.resolve_review(tracked, second, accept=False, reason="dup", check=refuse)
    assert store.get_hazard(tracked, second)["status"] == "review"  # nothing changed
    assert store.resolve_review(tracked, second, accept=False, reason="dup")["status"] == "rejected"
    with pytest.raises(ConfigError, match="not waiting for review"):
        store.resolve_review(tracked, second, accept=True)


def test_change_status_messages_name_the_argument_not_a_flag(tracked) -> None:
    hid = _ids(tracked)[0]
    with pytest.raises(InputError) as err:
        store.change_status(
            tracked,
            [hid],
            to="in_progress",
            on=dt.date(2000, 1, 1),
            by=None,
            note=None,
            evidence=None,
            expected_versions=None,
            check=vocabulary.check_transition,
        )
    assert err.value.param == "on" and "--" not in err.value.message
    with pytest.raises(NotFound):
        store.change_status(
            tracked,
            ["H999999"],
            to="in_progress",
            on=dt.date.today(),
            by=None,
            note=None,
            evidence=None,
            expected_versions=None,
            check=vocabulary.check_transition,
        )


# ----------------------------------------------------------------------------- batches, maps
def test_batch_features_carry_the_effective_values(tracked) -> None:
    import json

    name = store.list_batches(tracked)[0]["name"]
    data = json.loads(store.batch_feature_collection(tracked, name))
    with tracked.connect() as conn:
        stored = {
            r[0]: r[1:]
            for r in conn.execute(
                text(
                    "SELECT public_id, provided_cost_cny, coalesce(tier_override, tier) FROM hazards"
                )
            )
        }
    assert data["features"]
    for f in data["features"]:
        p = f["properties"]
        assert (p["estimated_cost_cny"], p["tier"], p["batch"]) == (*stored[f["id"]], name)
        assert p["chainage"] is not None and p["chainage"].startswith("K")


def test_road_layer_worst_open_tier(tracked) -> None:
    import json

    layer = store.road_layer(tracked)
    props = {
        f["properties"]["route"]: f["properties"] for f in json.loads(layer["geojson"])["features"]
    }
    with tracked.connect() as conn:
        worst = dict(
            conn.execute(
                text(
                    "SELECT r.route_code, min(coalesce(h.tier_override, h.tier)) FROM hazards h "
                    "JOIN roads r ON r.id = h.road_id GROUP BY 1"
                )
            ).all()
        )
    for route, tier in worst.items():
        assert props[route]["worst"] == tier and props[route]["open"] == 4
    with tracked.connect() as conn:  # every road, the one without a route code (U-…) too
        roads = conn.execute(text("SELECT count(*) FROM roads")).scalar_one()
    assert "worst" not in props["Y003"] and layer["count"] == roads == 4
    with pytest.raises(NotFound, match="P-1"):
        store.find_batch(tracked, "nope")
