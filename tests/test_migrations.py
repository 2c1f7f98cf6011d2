"""The schema: a linear Alembic chain that matches the models, both ways."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from hazards.db.models import Base
from hazards.db.session import (
    MIGRATIONS,
    _engine_for,
    current_revision,
    downgrade,
    include_object,
    migrate,
)

OUR_TABLES = set(Base.metadata.tables)


def test_migration_chain_is_linear() -> None:
    script = ScriptDirectory(str(MIGRATIONS))
    heads = script.get_heads()
    bases = script.get_bases()
    assert len(heads) == 1, f"more than one head: {heads}"
    assert len(bases) == 1, f"more than one base: {bases}"
    revisions = list(script.walk_revisions())
    for rev in revisions:
        assert not isinstance(rev.down_revision, (tuple, list)), f"{rev.revision} is a merge"
        assert len(rev.nextrev) <= 1, f"{rev.revision} branches"
    assert len({r.revision for r in revisions}) == len(revisions)


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_empty_to_head_to_base_to_head(empty_db_url: str) -> None:
    engine = _engine_for(empty_db_url)
    assert not (_tables(engine) & OUR_TABLES)
    migrate(engine)
    assert _tables(engine) >= OUR_TABLES
    assert current_revision(engine) == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    downgrade(engine, revision="base")
    assert not (_tables(engine) & OUR_TABLES)
    assert current_revision(engine) is None
    migrate(engine)
    assert _tables(engine) >= OUR_TABLES


def test_autogenerate_finds_no_difference(engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_every_geometry_column_has_an_srid_and_a_gist_index(engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns")
        ).all()
        gist = conn.execute(
            text("SELECT tablename, indexdef FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")
        ).all()
    views = {(r.f_table_name, r.f_geometry_column): (r.srid, r.type) for r in rows}
    ours = {k: views.pop(k) for k in list(views) if k[0] in OUR_TABLES}
    assert views == {("batch_hazards", "geom"): (4326, "POINT")}  # a view: no index of its own
    assert ours == {
        ("road_segments", "geom"): (4326, "LINESTRING"),
        ("hazards", "geom"): (4326, "POINT"),
        ("hazards", "extent"): (4326, "LINESTRING"),
        ("crashes", "geom"): (4326, "POINT"),
    }
    indexed = {t for t, d in gist if "(geom)" in d}
    assert indexed == {"road_segments", "hazards", "crashes"}
    assert any(t == "hazards" and "(extent)" in d for t, d in gist)


def test_check_constraints_refuse_unknown_enum_values(engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO surveys (provider, surveyed_on, source_name, sha256) "
                "VALUES ('p', '2025-01-01', 'f.csv', 'x')"
            )
        )
    for column, value in [("tier", "IV"), ("status", "done-ish"), ("match_status", "maybe")]:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                text(f"INSERT INTO hazards (public_id, {column}) VALUES (:p, :v)"),
                {"p": f"H-{column}", "v": value},
            )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO roads (route_code, road_class) VALUES ('X1', 'motorway')"))


def test_hazard_events_are_append_only(engine) -> None:
    with engine.begin() as conn:
        hid = conn.execute(
            text("INSERT INTO hazards (public_id) VALUES ('H1') RETURNING id")
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO hazard_events (hazard_id, to_status, note) VALUES (:h, 'identified', 'n')"
            ),
            {"h": hid},
        )
    for statement in ("UPDATE hazard_events SET note = 'changed'", "DELETE FROM hazard_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT note FROM hazard_events")).scalar_one() == "n"


def _survey(conn: Connection) -> int:
    """A survey row (of 2024-03-01, by 某检测公司), as an import writes it; its id."""
    return int(
        conn.execute(
            text(
                "INSERT INTO surveys (provider, surveyed_on, source_name, sha256) "
                "VALUES ('某检测公司', '2024-03-01', 's.csv', 'x') RETURNING id"
            )
        ).scalar_one()
    )


def test_what_a_created_event_is_made_of_cannot_change(engine) -> None:
    """The view's created events are history as hazard_events is: the hazard's and survey's
    values they are made of cannot be changed, nor the hazard deleted (nor its survey, which
    would leave it without one) but by the drop of the survey. The rest of a hazard can."""
    with engine.begin() as conn:
        sid = _survey(conn)
        conn.execute(
            text(
                "INSERT INTO hazards (public_id, survey_id, source_line, created_status) "
                "VALUES ('H1', :s, 2, 'identified'), ('H2', :s, 3, NULL)"
            ),
            {"s": sid},
        )

    def created() -> list[tuple]:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text("SELECT happened_on, by, to_status, note FROM hazard_history")
                )
            ]

    before = created()
    assert [r[1:] for r in before] == [("某检测公司", "identified", f"survey {sid} row 2")]
    for statement in (
        "UPDATE hazards SET created_status = 'verified' WHERE public_id = 'H1'",
        "UPDATE hazards SET created_status = NULL WHERE public_id = 'H1'",
        "UPDATE hazards SET created_at = '2000-01-01' WHERE public_id = 'H1'",
        "UPDATE hazards SET source_line = 9 WHERE public_id = 'H1'",
        "UPDATE hazards SET survey_id = NULL WHERE public_id = 'H1'",
        "DELETE FROM hazards WHERE public_id = 'H1'",
        "DELETE FROM surveys",  # its hazards' survey_id set to NULL
        "UPDATE surveys SET provider = '另一公司'",
        "UPDATE surveys SET surveyed_on = '2020-01-01'",
    ):
        with pytest.raises(DBAPIError, match="created event"), engine.begin() as conn:
            conn.execute(text(statement))
    assert created() == before
    with engine.begin() as conn:  # the rest changes as before
        conn.execute(text("UPDATE hazards SET source_line = 8 WHERE public_id = 'H2'"))
        conn.execute(text("UPDATE hazards SET status = 'planned', score = 50"))
        conn.execute(text("UPDATE surveys SET rows_total = 2"))
        conn.execute(text("DELETE FROM hazards WHERE public_id = 'H2'"))
        conn.execute(text("SELECT set_config('hazards.dropping_survey', 'on', true)"))
        conn.execute(text("DELETE FROM hazards"))
        conn.execute(text("DELETE FROM surveys"))
    assert created() == []


def test_foreign_keys_hold(engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO road_segments (road_id, seq, from_m, to_m, length_m, geom) "
                "VALUES (999, 0, 0, 1, 1, ST_GeomFromText('LINESTRING(0 0, 1 1)', 4326))"
            )
        )


def test_hazard_pages_keep_room_for_hot_rescoring(engine) -> None:
    # Rescoring touches only unindexed columns; with room on the page the update is HOT.
    with engine.connect() as conn:
        options = conn.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = 'hazards'")
        ).scalar_one()
    assert "fillfactor=40" in options
    indexed = set()
    for ix in inspect(engine).get_indexes("hazards"):
        indexed |= set(ix["column_names"])
    assert not indexed & {
        "score",
        "tier",
        "risk",
        "countermeasure",
        "quantity",
        "unit",
        "estimated_cost_cny",
        "updated_at",
    }


def test_crashes_numbered_by_their_sheet_are_known_by_day_and_number(empty_db_url: str) -> None:
    """Migration 0014: a crash whose id was its row's 序号 (the rows' numbers, which start again
    in every sheet), or a hash of its cells, gets the id an import gives its row now (day,
    time and place); a crash with an id column of its own keeps it; two that would share an
    id are told apart; the cells stored as a JSON string become an object."""
    from hazards.crashes import _content_id

    engine = _engine_for(empty_db_url)
    migrate(engine, revision="0013")
    place = {"路线编码": "X001", "桩号": "K0+100"}
    rows = [  # crash_id, day, raw cells (stored as a JSON string, as imports did)
        ("3", "2025-03-07", {"序号": "3", "事故日期": "2025-03-07", **place}),
        ("4", "2025-03-08", {" 序 号 ": "4", "事故日期": "2025-03-08", "时刻": "14:20", **place}),
        ("A17", "2025-03-09", {"序号": "5", "事故编号": "A17", "事故日期": "2025-03-09"}),
        ("6", "2025-03-10", {"序号": "6", "事故编号": "6", "事故日期": "2025-03-10"}),
        ("7", "2025-03-11", {"序号": "7", "case_no": "C7", "事故日期": "2025-03-11"}),
        ("h:0123", "2025-03-12", {"日期": "2025-03-12", "经度": "112.5", "纬度": "28.5"}),
        (
            "h:4567",
            "2025-03-12",
            {"日期": "2025-03-12", "经度": "112.5", "纬度": "28.5", "天气": "雨"},
        ),
        (_content_id({"日期": "2025-03-13"}), "2025-03-13", {"日期": "2025-03-13"}),  # no place
        (
            "8",
            "2025-03-14",
            {"案号": "8", "事故日期": "2025-03-14", **place},
        ),  # --map crash_id=案号
    ]
    with engine.begin() as conn:
        for cid, day, raw in rows:
            conn.execute(
                text(
                    "INSERT INTO crashes (source, crash_id, occurred_on, raw, content_hash, "
                    "warnings) VALUES ('交警', :c, :d, to_jsonb(CAST(:r AS text)), 'x', "
                    "to_jsonb(CAST(:w AS text)))"
                ),
                {"c": cid, "d": day, "r": json.dumps(raw, ensure_ascii=False), "w": '["w"]'},
            )
    migrate(engine)
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT crash_id FROM crashes ORDER BY occurred_on")).scalars()
        assert list(ids) == [
            "2025-03-07 X001 K0+100", "2025-03-08 14:20 X001 K0+100", "A17", "6", "C7",
            "2025-03-12 112.500000,28.500000", "2025-03-12 112.500000,28.500000#2",
            _content_id({"日期": "2025-03-13"}), "8",
        ]  # fmt: skip
        kinds = conn.execute(text("SELECT DISTINCT jsonb_typeof(raw), warnings FROM crashes"))
        assert kinds.all() == [("object", ["w"])]  # the text stored inside jsonb, made what it says
    downgrade(engine, revision="0013")  # the ids stay
    migrate(engine)


def test_a_database_newer_than_hazards_or_not_ours_to_upgrade_is_one_line(
    empty_db_url: str,
) -> None:
    """A database set up by a newer hazards (a revision this one does not know) and an older
    database opened by a login that does not own its tables: each is a DatabaseError saying
    which revision the database is at and what to do (before: alembic's traceback 'Can't
    locate revision', and a GRANT CREATE ON SCHEMA that cannot fix 'must be owner')."""
    import uuid

    from sqlalchemy.engine import make_url

    from hazards.errors import DatabaseError

    engine = _engine_for(empty_db_url)
    migrate(engine, revision="0013")
    login = f"hzt_old_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE \"{login}\" LOGIN PASSWORD 'pw-{login}'"))
        conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{login}"'))
        conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{login}"'))
    url = make_url(empty_db_url).set(username=login, password=f"pw-{login}")
    theirs = _engine_for(url.render_as_string(hide_password=False))
    try:
        with pytest.raises(DatabaseError) as old:
            migrate(theirs)
        assert "is at schema revision 0013 and this hazards needs" in old.value.message
        assert "`hazards db migrate`" in old.value.message and "GRANT" not in old.value.message
    finally:
        theirs.dispose()
        with engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{login}"'))
            conn.execute(text(f'DROP ROLE "{login}"'))
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(DatabaseError) as newer:
        migrate(engine)
    assert "schema revision 0099, which this hazards" in newer.value.message
    assert "set up by a newer hazards" in newer.value.message


def test_route_codes_stored_with_xian_become_their_codes(empty_db_url: str) -> None:
    """Migration 0016: a route stored as X004线 (before 线 was read away) is X004 again, so
    that it can be named; one whose plain code is taken becomes Y002-2 (it was left, and could
    no longer be named: `roads rename Y002线` renamed Y002); aliases follow their routes, an
    alias written with 线 loses it; a crash's route code too."""
    engine = _engine_for(empty_db_url)
    migrate(engine, revision="0015")
    with engine.begin() as conn:
        for code in ("X004线", "Y002", "Y002线", "环城线"):
            conn.execute(text("INSERT INTO roads (route_code) VALUES (:c)"), {"c": code})
        conn.execute(
            text(
                "INSERT INTO crashes (source, crash_id, occurred_on, raw, content_hash, "
                "warnings, route_code) VALUES ('交警', '1', '2025-03-07', '{}', 'x', '[]', 'X004线')"
            )
        )
        for alias, code in (("县道四", "X004线"), ("X009线", "Y002"), ("Y002线", "Y002")):
            conn.execute(
                text("INSERT INTO route_aliases (alias, route_code) VALUES (:a, :c)"),
                {"a": alias, "c": code},
            )
    migrate(engine)
    with engine.connect() as conn:
        codes = conn.execute(text("SELECT route_code FROM roads ORDER BY id")).scalars().all()
        crash = conn.execute(text("SELECT route_code FROM crashes")).scalar_one()
        aliases = conn.execute(text("SELECT alias, route_code FROM route_aliases ORDER BY 1")).all()
    assert codes == ["X004", "Y002", "Y002-2", "环城线"] and crash == "X004"
    assert sorted(map(tuple, aliases)) == [("X009", "Y002"), ("县道四", "X004")]


def test_the_completion_function_leaves_a_reload_out_of_the_last_change(empty_db_url: str) -> None:
    """Migration 0017: the contractors' completion function, made by migration 0005 with the
    last-change rule of its day (every event), is made again with today's (a road reload that
    left the status is no change), so that an upgraded database refuses no report for it."""
    from hazards.db.sql import LAST_CHANGE_ON

    old = "(SELECT max(e.happened_on) FROM hazard_events e WHERE e.hazard_id = h.id)"
    engine = _engine_for(empty_db_url)
    migrate(engine, revision="0016")
    body = "SELECT pg_get_functiondef('hazards_record_completion'::regproc)"
    with engine.begin() as conn:  # the function as a database upgraded from before has it
        made = conn.execute(text(body)).scalar_one()
        assert "road_reload" in made  # 0005 run today: today's rule
        conn.execute(
            text(made.replace(LAST_CHANGE_ON.replace("hazard_history", "hazard_events"), old))
        )
        assert "road_reload" not in conn.execute(text(body)).scalar_one()
    migrate(engine)
    with engine.connect() as conn:
        assert "road_reload" in conn.execute(text(body)).scalar_one()


def test_stored_created_events_become_the_views_as_they_were(empty_db_url: str) -> None:
    """Migration 0018: the created events an import stored (as it wrote them before) are made
    by the ``hazard_history`` view from then on, the history read back the same (but their
    ids); one that the view would not make as it is (a note of another form) stays a row of
    its own. The downgrade writes the moved ones back."""
    engine = _engine_for(empty_db_url)
    migrate(engine, revision="0017")
    with engine.begin() as conn:
        sid = _survey(conn)
        for hid, row_id, status in (
            (1, "7", "identified"),
            (2, None, "review"),
            (3, "9", "identified"),
        ):
            conn.execute(
                text(
                    "INSERT INTO hazards (id, public_id, survey_id, provider_row_id, source_line, "
                    "status) VALUES (:h, :p, :s, :r, :h + 1, :st)"
                ),
                {"h": hid, "p": f"H{hid:06d}", "s": sid, "r": row_id, "st": status},
            )
        # as the import wrote them (hazard 3's note of another form), then a later change
        conn.execute(
            text(
                "INSERT INTO hazard_events (hazard_id, admin_code, kind, happened_on, by, "
                "to_status, note, data) SELECT id, admin_code, 'created', '2024-03-01', "
                "'某检测公司', status, CASE WHEN id = 3 THEN 'imported by hand' ELSE 'survey ' "
                "|| :s || ' row ' || coalesce(provider_row_id, source_line::text) END, "
                "jsonb_build_object('survey', CAST(:s AS int)) FROM hazards ORDER BY id"
            ),
            {"s": sid},
        )
        conn.execute(
            text(
                "INSERT INTO hazard_events (hazard_id, kind, happened_on, from_status, to_status) "
                "VALUES (1, 'status', '2024-04-01', 'identified', 'planned')"
            )
        )
    columns = (
        "hazard_id, admin_code, kind, happened_on, recorded_at, by, recorded_by, from_status, "
        "to_status, note, evidence, data"
    )
    order = "ORDER BY hazard_id, happened_on, recorded_at, id"

    def history(source: str) -> list[tuple]:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM {source} {order}"))]

    before = history("hazard_events")
    assert len(before) == 4 and before[0][9] == f"survey {sid} row 7"
    migrate(engine)
    assert history("hazard_history") == before
    with engine.connect() as conn:
        stored = conn.execute(text(f"SELECT hazard_id, kind FROM hazard_events {order}")).all()
        made = conn.execute(text("SELECT id, created_status FROM hazards ORDER BY id")).all()
        by = conn.execute(text("SELECT imported_by FROM surveys")).scalar_one()
    assert [tuple(r) for r in stored] == [(1, "status"), (3, "created")]
    assert [tuple(r) for r in made] == [(1, "identified"), (2, "review"), (3, None)]
    assert by == before[0][6] and by  # the login that stored the events
    downgrade(engine, revision="0017")
    assert sorted(history("hazard_events"), key=str) == sorted(before, key=str)
    migrate(engine)


def _county_db(engine, *, survey_code: str, crash_code: str) -> None:  # type: ignore[no-untyped-def]
    """At revision 0018: two routes (one with an alias and a segment) stored without a code, as
    road loads stored them, and a survey and a crash under the given codes."""
    migrate(engine, revision="0018")
    with engine.begin() as conn:
        for code in ("X001", "Y002"):
            conn.execute(text("INSERT INTO roads (route_code) VALUES (:c)"), {"c": code})
        conn.execute(
            text(
                "INSERT INTO road_segments (road_id, seq, from_m, to_m, length_m, geom) "
                "SELECT id, 0, 0, 100, 100, ST_GeomFromText('LINESTRING(111 27, 111.001 27)', "
                "4326) FROM roads WHERE route_code = 'X001'"
            )
        )
        conn.execute(
            text("INSERT INTO route_aliases (alias, route_code) VALUES ('县道一', 'X001')")
        )
        conn.execute(
            text(
                "INSERT INTO surveys (admin_code, provider, surveyed_on, source_name, sha256) "
                "VALUES (:a, '某检测公司', '2024-03-01', 's.csv', 'x')"
            ),
            {"a": survey_code},
        )
        conn.execute(
            text(
                "INSERT INTO crashes (admin_code, source, crash_id, occurred_on, raw, "
                "content_hash, warnings) VALUES (:a, '交警', '1', '2025-03-07', '{}', 'x', '[]')"
            ),
            {"a": crash_code},
        )


def _road_codes(engine) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {
            t: set(conn.execute(text(f"SELECT DISTINCT admin_code FROM {t}")).scalars())
            for t in ("roads", "road_segments", "route_aliases")
        }


def test_roads_stored_without_a_code_become_the_one_countys(empty_db_url: str) -> None:
    """Migration 0019: a database whose surveys, hazards and crashes are one county's (the
    code set) and whose roads were stored without a code (as every road load stored them) has
    its roads, segments and aliases under that code; the downgrade stores them without one
    again."""
    engine = _engine_for(empty_db_url)
    _county_db(engine, survey_code="430981", crash_code="430981")
    migrate(engine)
    assert _road_codes(engine) == {
        t: {"430981"} for t in ("roads", "road_segments", "route_aliases")
    }
    downgrade(engine, revision="0018")
    assert _road_codes(engine) == {t: {""} for t in ("roads", "road_segments", "route_aliases")}


@pytest.mark.parametrize(("survey_code", "crash_code"), [("430981", "430982"), ("", "430981")])
def test_roads_of_no_one_county_keep_no_code(
    empty_db_url: str, survey_code: str, crash_code: str
) -> None:
    """Migration 0019 leaves the roads without a code when the data is of two counties, or some
    of it of none: whose roads they are is not known (a command says how to give them a code)."""
    engine = _engine_for(empty_db_url)
    _county_db(engine, survey_code=survey_code, crash_code=crash_code)
    migrate(engine)
    assert _road_codes(engine) == {t: {""} for t in ("roads", "road_segments", "route_aliases")}


def _plans_db(engine, *, roads: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """At revision 0019: the routes ``roads`` (route code → county code), a hazard on each, and
    plans stored without a code, as every plan was: P1 funding the first route's hazard, P2
    every route's, P3 none (an empty batch); and P1 of the first county stored under its code."""
    migrate(engine, revision="0019")
    with engine.begin() as conn:
        for route, code in roads.items():
            conn.execute(
                text(
                    "WITH r AS (INSERT INTO roads (admin_code, route_code) VALUES (:a, :c) "
                    "RETURNING id) INSERT INTO hazards (public_id, road_id) SELECT :c, id FROM r"
                ),
                {"a": code, "c": route},
            )
        first = next(iter(roads))
        plans = {"P1": [first], "P2": list(roads), "P3": []}
        for name, funded in plans.items():
            conn.execute(
                text(
                    "WITH p AS (INSERT INTO plans (name, budget_cny, spent_cny, report) VALUES "
                    "(:n, 1, 0, '{}') RETURNING id), b AS (INSERT INTO batches (plan_id, "
                    "plan_name, name) SELECT id, :n, :n || '-1' FROM p RETURNING id) "
                    "INSERT INTO batch_items (batch_id, hazard_id) SELECT b.id, h.id FROM b, "
                    "hazards h WHERE h.public_id = ANY(:h)"
                ),
                {"n": name, "h": funded},
            )
        conn.execute(  # the first county's own P1 (a name that county uses already)
            text(
                "INSERT INTO plans (admin_code, name, budget_cny, spent_cny, report) "
                "VALUES (:a, 'P1', 1, 0, '{}')"
            ),
            {"a": roads[first] + "9"},
        )


def _plan_codes(engine) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.name, p.admin_code, b.admin_code FROM plans p "
                "LEFT JOIN batches b ON b.plan_id = p.id ORDER BY 1, 2"
            )
        ).all()
    out: dict[str, list[str]] = {}
    for name, plan, batch in rows:
        out.setdefault(name, []).append(f"{plan}/{batch}")
    return out


def test_plans_stored_without_a_code_become_their_hazards_countys(empty_db_url: str) -> None:
    """Migration 0020, two counties' roads: a plan (and its batch) funding one county's
    hazards takes its code; one funding both counties', or none, keeps no code; the downgrade
    leaves them (not all of one code)."""
    engine = _engine_for(empty_db_url)
    _plans_db(engine, roads={"X001": "430981", "X002": "430982"})
    with engine.begin() as conn:  # no clash with the first county's own P1 (another code)
        conn.execute(text("UPDATE plans SET admin_code = '430983' WHERE admin_code <> ''"))
    migrate(engine)
    assert _plan_codes(engine) == {
        "P1": ["430981/430981", "430983/None"], "P2": ["/"], "P3": ["/"]
    }  # fmt: skip
    downgrade(engine, revision="0019")
    assert _plan_codes(engine)["P1"] == ["430981/430981", "430983/None"]


def test_a_one_county_databases_plans_all_take_its_code(empty_db_url: str) -> None:
    """Migration 0020, one county's roads: every plan stored without a code takes it, funding
    hazards or not, unless the county has a plan of that name already (P1: kept without a
    code, not lost); the downgrade stores them without a code again when all have one."""
    engine = _engine_for(empty_db_url)
    _plans_db(engine, roads={"X001": "430981", "X002": "430981"})
    with engine.begin() as conn:
        conn.execute(text("UPDATE plans SET admin_code = '430981' WHERE admin_code <> ''"))
    migrate(engine)
    assert _plan_codes(engine) == {
        "P1": ["/", "430981/None"], "P2": ["430981/430981"], "P3": ["430981/430981"]
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM plans WHERE admin_code = ''"))
    downgrade(engine, revision="0019")
    assert _plan_codes(engine) == {"P1": ["/None"], "P2": ["/"], "P3": ["/"]}
