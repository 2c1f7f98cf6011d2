"""Roles enforced by PostgreSQL (migration 0005): real login roles connect with psycopg and issue
raw SQL, so every refusal here is the database's, not Python's.

Roles are cluster-wide and the test cluster is shared by concurrent sessions: every login has a
unique name and is dropped at the end of its test.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hazards.db.session import MIGRATIONS, _engine_for
from hazards.db.users import GROUPS
from hazards.vocabulary import STATUSES, TRANSITIONS

TODAY = dt.date.today().isoformat()
PASSWORD = "Pw-" + uuid.uuid4().hex  # one per session; greppable in outputs


def _migration_0005():  # type: ignore[no-untyped-def]
    path = MIGRATIONS / "versions" / "0005_roles.py"
    spec = importlib.util.spec_from_file_location("migration_0005", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def login(db_url: str, pg_admin_url: str) -> Iterator[Callable[..., dict]]:
    """Make a login role (unique name) through ``hazards.users.add_user``; dropped at the end.

    Returns name, url (SQLAlchemy URL with password) and connect() (a psycopg connection)."""
    from hazards.users import add_user

    made: list[str] = []
    base = make_url(db_url)

    def make(role: str, contractor: str | None = None) -> dict:
        name = f"hzt_{role[:4]}_{uuid.uuid4().hex[:8]}"
        add_user(
            name, role=role, contractor=contractor, password=PASSWORD, engine=_engine_for(db_url)
        )
        made.append(name)
        url = base.set(username=name, password=PASSWORD).render_as_string(hide_password=False)

        def connect() -> psycopg.Connection:
            return psycopg.connect(
                host=base.host,
                port=base.port,
                user=name,
                password=PASSWORD,
                dbname=base.database,
                autocommit=True,
            )

        return {"name": name, "url": url, "connect": connect}

    yield make
    admin = make_url(pg_admin_url)
    with psycopg.connect(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        password=admin.password,
        dbname=admin.database,
        autocommit=True,
    ) as conn:
        for name in made:
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture
def two_contractors(tracked):  # type: ignore[no-untyped-def]
    """The tracked plan's two batches, given to contractors 路桥公司 (first) and 安通 (second)."""
    from hazards.contractors import list_batches, update_batch

    batches = list_batches(engine=tracked)
    if len(batches) == 1:  # the planner put both routes in one batch: move Y002 to a second
        with tracked.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO batches (plan_id, plan_name, name, seq, status) "
                    "SELECT plan_id, plan_name, 'P-2', 2, status FROM batches"
                )
            )
            conn.execute(
                text(
                    "UPDATE batch_items SET batch_id = (SELECT id FROM batches WHERE name = 'P-2') "
                    "WHERE hazard_id IN (SELECT h.id FROM hazards h JOIN roads r "
                    "ON r.id = h.road_id WHERE r.route_code = 'Y002')"
                )
            )
        batches = list_batches(engine=tracked)
    assert [b["hazards"] for b in batches] == [4, 4]
    first, second = batches[0]["name"], batches[1]["name"]
    update_batch(first, contractor="路桥公司", starts_on="2025-01-01", engine=tracked)
    update_batch(second, contractor="安通", engine=tracked)
    return tracked, first, second


def _ids_of_batch(engine, name: str) -> set[str]:  # type: ignore[no-untyped-def]
    """The hazards of a batch, from the owner's export (another path than the policies)."""
    from hazards.contractors import export_batch

    out = Path(f"/tmp/hz-roles-{uuid.uuid4().hex}.geojson")
    try:
        export_batch(name, out, engine=engine)
        return {f["id"] for f in json.loads(out.read_text(encoding="utf-8"))["features"]}
    finally:
        out.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- the schema
def test_status_transitions_table_is_the_vocabulary(engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT from_status, to_status FROM status_transitions")).all()
    assert {(a, b) for a, b in rows} == {(a, b) for a in STATUSES for b in TRANSITIONS[a]}
    assert len(rows) == sum(len(v) for v in TRANSITIONS.values())


def test_migration_groups_are_the_library_groups_and_exist(engine) -> None:
    m = _migration_0005()
    assert set(m.GROUPS) == set(GROUPS.values())
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:g) AND NOT rolcanlogin"),
            {"g": list(GROUPS.values())},
        ).scalars()
        assert set(found) == set(GROUPS.values())
    # the statuses a contractor reports are the ones a completion report can ask for
    from hazards.vocabulary import DONE_WORDS, STARTED_WORDS

    assert set(m.CONTRACTOR_REPORTS) == {"reported_done", "in_progress"}
    assert "reported_done" in DONE_WORDS and "in_progress" in STARTED_WORDS


def test_the_owner_is_not_subject_to_row_level_security(two_contractors) -> None:
    engine, _, _ = two_contractors
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hazards")).scalar_one() == 8
        forced = conn.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                "WHERE relname IN ('hazards', 'batches', 'batch_items', 'hazard_events')"
            )
        ).all()
    assert len(forced) == 4 and all(r.relrowsecurity and not r.relforcerowsecurity for r in forced)


# ----------------------------------------------------------------------------- contractors
def test_a_contractor_sees_exactly_its_batches(two_contractors, login) -> None:
    engine, first, second = two_contractors
    mine = _ids_of_batch(engine, first)
    theirs = _ids_of_batch(engine, second)
    assert mine and theirs and not mine & theirs
    c = login("contractor", "路桥公司")
    with c["connect"]() as conn:
        seen = {r[0] for r in conn.execute("SELECT public_id FROM hazards")}
        assert seen == mine
        assert conn.execute("SELECT count(*) FROM hazards").fetchone()[0] == len(mine)
        assert [r[0] for r in conn.execute("SELECT name FROM batches")] == [first]
        assert {r[0] for r in conn.execute("SELECT DISTINCT batch_id FROM batch_items")} == {
            conn.execute("SELECT id FROM batches").fetchone()[0]
        }
        events = {
            r[0]
            for r in conn.execute(
                "SELECT h.public_id FROM hazard_events e JOIN hazards h ON h.id = e.hazard_id"
            )
        }
        assert events == mine  # every planned hazard has events; only its own are visible
        created = conn.execute(  # the view's created events: its hazards' only, all of them
            "SELECT h.public_id FROM hazard_history e JOIN hazards h ON h.id = e.hazard_id "
            "WHERE e.kind = 'created'"
        ).fetchall()
        assert sorted(r[0] for r in created) == sorted(mine)
        # of the surveys, those of its hazards only, and only what their events show
        surveys = conn.execute("SELECT id, provider FROM surveys").fetchall()
        assert {r[0] for r in surveys} == {
            r[0] for r in conn.execute("SELECT DISTINCT survey_id FROM hazards")
        }
        # the view for QGIS: its batch's hazards only, with the batch
        view = conn.execute("SELECT public_id, batch, contractor FROM batch_hazards").fetchall()
        assert {r[0] for r in view} == mine and {(r[1], r[2]) for r in view} == {
            (first, "路桥公司")
        }
        for refused in (
            "SELECT raw FROM hazards",  # the survey's raw row
            "SELECT * FROM surveys",
            "SELECT * FROM plans",
            "SELECT * FROM rechecks",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(refused)
    with login("contractor", "无批次公司")["connect"]() as conn:  # no batch: no survey
        assert conn.execute("SELECT count(*) FROM surveys").fetchone()[0] == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM surveys")).scalar_one() > 0
    # the other names of route codes, which `map road` and `roads show` look a code up in
    # (migration 0013); nothing of anyone's work
    as_contractor = _engine_for(c["url"])
    try:
        from hazards.db.store.roads import resolve_code

        assert resolve_code(as_contractor, "x001") == "X001"
    finally:
        as_contractor.dispose()


def test_a_contractor_cannot_change_tiers_or_other_contractors_rows(two_contractors, login) -> None:
    engine, first, second = two_contractors
    own = sorted(_ids_of_batch(engine, first))[0]
    other = sorted(_ids_of_batch(engine, second))[0]
    c = login("contractor", "路桥公司")
    with c["connect"]() as conn:
        for sql, args in [
            (
                "UPDATE hazards SET tier_override = 'I', tier_override_reason = 'x' "
                "WHERE public_id = %s",
                (own,),
            ),
            ("UPDATE hazards SET status = 'reported_done' WHERE public_id = %s", (own,)),
            (
                "UPDATE hazards SET tier_override = 'I', tier_override_reason = 'x' "
                "WHERE public_id = %s",
                (other,),
            ),
            (
                "INSERT INTO hazard_events (hazard_id, to_status) "
                "SELECT id, 'verified' FROM hazards WHERE public_id = %s",
                (own,),
            ),
            ("UPDATE batches SET contractor = '路桥公司'", ()),
            ("DELETE FROM batch_items", ()),
            ("INSERT INTO user_contractors VALUES (current_user, '安通')", ()),
        ]:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql, args)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tier_override, status FROM hazards WHERE public_id = ANY(:p)"),
            {"p": [own, other]},
        ).all()
        assert all(r.tier_override is None and r.status == "planned" for r in rows)
        assert conn.execute(text("SELECT count(DISTINCT contractor) FROM batches")).scalar() == 2


def test_a_completion_through_the_function_records_the_login(two_contractors, login) -> None:
    engine, first, second = two_contractors
    own = sorted(_ids_of_batch(engine, first))
    other = sorted(_ids_of_batch(engine, second))[0]
    c = login("contractor", "路桥公司")
    with engine.connect() as conn:
        version = conn.execute(
            text("SELECT version FROM hazards WHERE public_id = :p"), {"p": own[0]}
        ).scalar_one()
    call = "SELECT hazards_record_completion(%s, %s, %s, %s, %s, %s, %s)"
    with c["connect"]() as conn:
        new = conn.execute(
            call, (own[0], "reported_done", TODAY, "王工", "done", "IMG_1.jpg", version)
        ).fetchone()[0]
        assert new == version + 1
        # the same change again: reported_done → reported_done is not in the transition table
        with pytest.raises(psycopg.Error) as err:
            conn.execute(call, (own[0], "reported_done", TODAY, None, None, None, None))
        assert err.value.sqlstate == "HZ400" and "cannot go to" in str(err.value)
        # a status a contractor does not report, a stale version, another's hazard, the future
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(call, (own[1], "verified", TODAY, None, None, None, None))
        with pytest.raises(psycopg.Error) as err:
            conn.execute(call, (own[1], "in_progress", TODAY, None, None, None, 999))
        assert err.value.sqlstate == "HZ409"
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(call, (other, "reported_done", TODAY, None, None, None, None))
        tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
        with pytest.raises(psycopg.Error) as err:
            conn.execute(call, (own[1], "in_progress", tomorrow, None, None, None, None))
        assert err.value.sqlstate == "HZ400"
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT public_id, status FROM hazards WHERE public_id = ANY(:p)"),
            {"p": [own[0], own[1], other]},
        ).all()
        last = (
            conn.execute(
                text(
                    "SELECT e.kind, e.by, e.recorded_by, e.from_status, e.to_status, e.evidence "
                    "FROM hazard_events e JOIN hazards h ON h.id = e.hazard_id "
                    "WHERE h.public_id = :p ORDER BY e.id DESC LIMIT 1"
                ),
                {"p": own[0]},
            )
            .mappings()
            .one()
        )
    assert dict(status) == {own[0]: "reported_done", own[1]: "planned", other: "planned"}
    assert dict(last) == {
        "kind": "completion",
        "by": "王工",
        "recorded_by": c["name"],
        "from_status": "planned",
        "to_status": "reported_done",
        "evidence": "IMG_1.jpg",
    }
    from hazards.remediation import history

    events = history(own[0], engine=engine)["events"]
    assert events[-1]["who"] == c["name"] and events[-1]["by"] == "王工"
    # events written by the owner record the owner
    owner = make_url(str(engine.url)).username
    assert events[0]["who"] == owner


# ----------------------------------------------------------------------------- other roles
WRITES = [
    "UPDATE hazards SET tier_override = 'I', tier_override_reason = 'x'",
    "DELETE FROM hazards",
    "INSERT INTO hazard_events (hazard_id, to_status) SELECT id, 'planned' FROM hazards",
    "DELETE FROM plans",
    "UPDATE batches SET contractor = 'x'",
    "DELETE FROM batch_items",
    "DELETE FROM roads",
    "DELETE FROM road_segments",
    "DELETE FROM surveys",
    "INSERT INTO rechecks (hazard_id) SELECT id FROM hazards",
    "INSERT INTO metadata (key, value) VALUES ('k', 'v')",
    "DELETE FROM status_transitions",
    "INSERT INTO user_contractors VALUES ('x', 'y')",
    "TRUNCATE hazards CASCADE",
]


def test_a_viewer_reads_everything_and_writes_nothing(two_contractors, login) -> None:
    engine, _, _ = two_contractors
    v = login("viewer")
    with v["connect"]() as conn:
        assert conn.execute("SELECT count(*) FROM hazards").fetchone()[0] == 8
        assert conn.execute("SELECT count(*) FROM batches").fetchone()[0] == 2
        assert conn.execute("SELECT count(raw) FROM hazards").fetchone()[0] == 8
        for sql in WRITES:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql)
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT hazards_record_completion('x', 'reported_done', current_date)")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hazards")).scalar_one() == 8
        assert conn.execute(text("SELECT count(*) FROM plans")).scalar_one() == 1
    # told in the user's terms: a viewer may read hazards, it may not change them; a
    # contractor may not read crash records (before: "may not read or change" for both)
    from hazards.db import store
    from hazards.errors import PermissionRefused
    from hazards.remediation import set_status

    hid = sorted(_ids_of_batch(engine, two_contractors[1]))[0]
    c = login("contractor", "路桥公司")
    for who, act, words in (
        (v, lambda e: set_status([hid], to="in_progress", engine=e), "may not change hazards"),
        (c, lambda e: store.crash_frame(e), "may not read crash records"),
    ):
        as_login = _engine_for(who["url"])
        try:
            with pytest.raises(PermissionRefused) as no:
                act(as_login)
            assert f"its role {words}" in no.value.message, no.value.message
        finally:
            as_login.dispose()


def test_an_engineer_changes_statuses_but_cannot_drop_a_plan(two_contractors, login) -> None:
    from hazards.errors import PermissionRefused
    from hazards.planning import drop_plan
    from hazards.remediation import history, set_status

    engine, first, _ = two_contractors
    e = login("engineer")
    with e["connect"]() as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("DELETE FROM plans")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("DELETE FROM batches")
    as_engineer = _engine_for(e["url"])
    try:
        with pytest.raises(PermissionRefused, match="permission denied for table plans") as no:
            drop_plan("P", engine=as_engineer)
        assert "its role may not change remediation plans" in no.value.message
        hid = sorted(_ids_of_batch(engine, first))[0]
        set_status([hid], to="in_progress", by="李工", engine=as_engineer)
    finally:
        as_engineer.dispose()
    last = history(hid, engine=engine)["events"][-1]
    assert (last["who"], last["by"], last["to_status"]) == (e["name"], "李工", "in_progress")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM plans")).scalar_one() == 1


def test_a_planner_plans_but_sets_no_other_status_nor_tiers(two_contractors, login) -> None:
    from hazards.contractors import update_batch
    from hazards.errors import PermissionRefused
    from hazards.planning import commit_plan, create_plan, drop_plan
    from hazards.remediation import history, record_recheck, set_status

    engine, first, _ = two_contractors
    hid = sorted(_ids_of_batch(engine, first))[0]
    set_status([hid], to="reported_done", engine=engine)
    record_recheck(hid, result="fail", engine=engine)  # reopened: plannable again
    p = login("planner")
    as_planner = _engine_for(p["url"])
    try:
        assert update_batch(first, contractor="新公司", engine=as_planner)["contractor"] == "新公司"
        create_plan(name="Q", budget=1e9, batches=1, engine=as_planner)
        drop_plan("Q", engine=as_planner)  # a draft may be dropped
        create_plan(name="Q", budget=1e9, batches=1, engine=as_planner)
        commit_plan("Q", by="规划科", engine=as_planner)
        with pytest.raises(PermissionRefused, match="row-level security") as no:
            set_status([hid], to="in_progress", engine=as_planner)
        assert "its role may not make this change to hazards" in no.value.message
        assert "hazards_planner" not in no.value.message  # no policy's name
    finally:
        as_planner.dispose()
    last = history(hid, engine=engine)["events"][-1]
    assert (last["to_status"], last["who"], last["by"]) == ("planned", p["name"], "规划科")
    with p["connect"]() as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE hazards SET tier_override = 'I', tier_override_reason = 'x'")
        with pytest.raises(errors.InsufficientPrivilege):  # row-level security: not 'planned'
            conn.execute(
                "INSERT INTO hazard_events (hazard_id, to_status) "
                "SELECT id, 'verified' FROM hazards LIMIT 1"
            )


def test_an_admin_login_manages_users_and_everything(two_contractors, login) -> None:
    from hazards.contractors import update_batch
    from hazards.remediation import set_status
    from hazards.users import add_user, list_users, revoke_user

    engine, first, _ = two_contractors
    a = login("admin")
    as_admin = _engine_for(a["url"])
    viewer = f"hzt_view_{uuid.uuid4().hex[:8]}"
    second = f"hzt_adm_{uuid.uuid4().hex[:8]}"
    try:
        # another admin, made by an admin who is no superuser: without BYPASSRLS before PG 16
        # (refused before: "must be superuser to create bypassrls users")
        made = add_user(second, role="admin", password=PASSWORD, engine=as_admin)
        assert made["role"] == "admin" and made["bypass_rls"] is (_server_version(engine) >= 16)
        add_user(viewer, role="viewer", password=PASSWORD, engine=as_admin)
        assert {"name": viewer, "roles": ["viewer"]}.items() <= {
            u["name"]: u for u in list_users(engine=as_admin)
        }[viewer].items()
        assert revoke_user(viewer, engine=as_admin)["dropped"] is True
        update_batch(first, contractor="新公司", engine=as_admin)
        hid = sorted(_ids_of_batch(engine, first))[0]
        set_status([hid], to="in_progress", engine=as_admin)
        with as_admin.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM hazards")).scalar_one() == 8
            assert conn.execute(text("SELECT count(*) FROM user_contractors")).scalar_one() == 0
    finally:
        as_admin.dispose()
        with engine.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{viewer}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{second}"'))


def _server_version(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


@pytest.mark.parametrize("role", ["viewer", "engineer", "planner"])
def test_every_staff_login_knows_who_it_is(two_contractors, login, role: str) -> None:
    """``users whoami`` and an engineer's completion import ask the database who the login is,
    its contractor included (its own row of user_contractors, none for staff): refused for
    viewers, engineers and planners before migration 0012. The policy still hides the other
    logins' rows."""
    from hazards.db.store.completions import connected_user

    u = login(role)
    as_login = _engine_for(u["url"])
    try:
        me = connected_user(as_login)
    finally:
        as_login.dispose()
    assert (me["contractor"], me["groups"]) == (None, [f"hazards_{role}"])
    # who may import a completion report (an engineer, directly; before, only the function's
    # reports_completions was given, false for an engineer who imports them all the same)
    assert me["imports_completions"] is (role == "engineer")
    with u["connect"]() as conn:
        assert conn.execute("SELECT count(*) FROM user_contractors").fetchone()[0] == 0


def test_an_engineer_imports_a_completion_report(two_contractors, login, tmp_path: Path) -> None:
    from hazards.completions import import_completion

    engine, first, _ = two_contractors
    hid = sorted(_ids_of_batch(engine, first))[0]
    report = tmp_path / "done.csv"
    report.write_text(f"隐患编号,状态,完成日期\n{hid},已完成,{TODAY}\n", encoding="utf-8")
    e = login("engineer")
    as_engineer = _engine_for(e["url"])
    try:
        result = import_completion(report, engine=as_engineer)
    finally:
        as_engineer.dispose()
    assert result["applied"] == 1, result
    with engine.connect() as conn:
        status, who = conn.execute(
            text(
                "SELECT h.status, e.recorded_by FROM hazards h JOIN hazard_events e "
                "ON e.hazard_id = h.id WHERE h.public_id = :p ORDER BY e.id DESC LIMIT 1"
            ),
            {"p": hid},
        ).one()
    assert (status, who) == ("reported_done", e["name"])


def test_a_hazard_of_a_batch_without_a_contractor_is_reported_with_another(
    two_contractors, tmp_path: Path
) -> None:
    """A report of 路桥公司's batch that also reports a hazard of a batch given to no contractor
    yet: that row counts as 路桥公司's (the batch has no other contractor), not refused as "in a
    batch of nan"."""
    from hazards.completions import import_completion

    engine, first, second = two_contractors
    with engine.begin() as conn:
        conn.execute(text("UPDATE batches SET contractor = NULL WHERE name = :n"), {"n": second})
    mine, loose = sorted(_ids_of_batch(engine, first))[0], sorted(_ids_of_batch(engine, second))[0]
    report = tmp_path / "done.csv"
    report.write_text(
        f"隐患编号,状态,完成日期\n{mine},已完成,{TODAY}\n{loose},已完成,{TODAY}\n", encoding="utf-8"
    )
    result = import_completion(report, dry_run=True, engine=engine)
    assert (result["valid"], result["invalid_rows"]) == (2, []), result


def test_a_draft_plan_takes_no_hazard_from_its_contractors_batch(two_contractors, login) -> None:
    """A site of the first contractor's batch, reopened by a failed re-check and taken by a
    draft plan, is still that contractor's to report on (the completion function reads the
    latest batch of a committed plan, migration 0015): refused only by the transition table
    (a reopened site is planned again first), not as another's hazard (insufficient_privilege
    before: the draft's batch, with no contractor, counted as its batch)."""
    from hazards.planning import create_plan
    from hazards.remediation import record_recheck, set_status

    engine, first, _ = two_contractors
    hid = sorted(_ids_of_batch(engine, first))[0]
    set_status([hid], to="reported_done", engine=engine)
    record_recheck(hid, result="fail", engine=engine)
    draft = create_plan(name="D", budget=1e9, engine=engine)
    assert hid in {i["id"] for b in draft["batches"] for i in b["items"]}
    c = login("contractor", "路桥公司")
    call = "SELECT hazards_record_completion(%s, %s, %s, %s, %s, %s, %s)"
    with c["connect"]() as conn, pytest.raises(psycopg.Error) as err:
        conn.execute(call, (hid, "reported_done", TODAY, None, None, None, None))
    assert err.value.sqlstate == "HZ400" and "cannot go to" in str(err.value)


def test_a_contractor_draws_maps_of_its_hazards_without_the_crash_records(
    two_contractors, login, tmp_path: Path
) -> None:
    """A contractor login may not read crash records: its overview and road dossier are drawn
    without the crash layers (before: refused whole, "may not read or change crash records"),
    with its own batch's hazards only; staff still get the crash layer."""
    from browser import page_hazards

    from hazards.crash_maps import add_crash_layers, crash_dossier
    from hazards.db import store
    from hazards.db.store.crash_maps import may_read
    from hazards.mapping import overview_map

    engine, first, _ = two_contractors
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO crashes (source, crash_id, occurred_on, raw, content_hash, geom) "
                "SELECT 'p', 'c1', '2025-01-02', '{}', 'x', geom FROM hazards LIMIT 1"
            )
        )
    own = _ids_of_batch(engine, first)
    c = login("contractor", "路桥公司")
    theirs = _engine_for(c["url"])
    try:
        assert not may_read(theirs) and may_read(engine)
        m = add_crash_layers(overview_map(engine=theirs, lang="zh"), engine=theirs, lang="zh")
        assert {h["id"] for h in page_hazards(m.get_root().render())} == own
        page = crash_dossier("X001", engine=theirs, lang="zh").render()
        on_x001 = {h["id"] for h in store.list_hazards(engine, route="X001")}
        assert {h["id"] for h in page_hazards(page)} == on_x001 & own
    finally:
        theirs.dispose()
    staff = add_crash_layers(overview_map(engine=engine, lang="zh"), engine=engine, lang="zh")
    assert "c1" in staff.get_root().render()


def test_users_list_says_what_a_login_may_not_see(two_contractors, login) -> None:
    """users list as a viewer: the contractor logins' firms are hidden and said to be (they
    read as missing before); as a contractor: itself only, not the other firms' logins; as the
    owner: every firm."""
    from hazards.users import list_users

    engine, _, _ = two_contractors
    firm = login("contractor", "路桥公司")
    viewer = login("viewer")
    admin = login("admin")
    by_owner = {u["name"]: u for u in list_users(engine=engine)}
    assert by_owner[firm["name"]]["contractor"] == "路桥公司"
    assert not any(u["contractor_hidden"] for u in by_owner.values())
    as_admin = _engine_for(admin["url"])
    try:  # an admin reads every firm: nothing said hidden
        seen = {u["name"]: u for u in list_users(engine=as_admin)}
    finally:
        as_admin.dispose()
    assert seen[firm["name"]]["contractor"] == "路桥公司"
    assert not any(u["contractor_hidden"] for u in seen.values())
    for who, expect in ((viewer, None), (firm, [firm["name"]])):
        as_login = _engine_for(who["url"])
        try:
            seen = {u["name"]: u for u in list_users(engine=as_login)}
        finally:
            as_login.dispose()
        if expect is None:  # a viewer: every login, the firms hidden
            assert set(seen) == set(by_owner)
            assert seen[firm["name"]]["contractor"] is None
            assert seen[firm["name"]]["contractor_hidden"] is True
        else:
            assert list(seen) == expect and seen[firm["name"]]["contractor"] == "路桥公司"
