"""The lifecycle, history, conflicts, re-checks and progress, against a real PostGIS."""

from __future__ import annotations

import csv
import datetime as dt
import json
import threading
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from hazards.cli import cli
from hazards.errors import ConflictError, InputError
from hazards.remediation import history, plan_rechecks, progress, record_recheck, set_status
from hazards.vocabulary import CATEGORY_ZH, STATUS_ZH

TODAY = dt.date.today()


def _status(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT public_id, status FROM hazards")).all())


def _events(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM hazard_events")).scalar_one()


def test_the_status_always_equals_the_last_event(tracked) -> None:
    ids = sorted(_status(tracked))
    set_status(ids[:3], to="in_progress", engine=tracked)
    set_status(ids[:2], to="reported_done", engine=tracked)
    set_status(ids[:1], to="verified", engine=tracked)
    with tracked.connect() as conn:
        last = dict(
            conn.execute(
                text(
                    "SELECT DISTINCT ON (h.public_id) h.public_id, e.to_status FROM hazard_events e "
                    "JOIN hazards h ON h.id = e.hazard_id WHERE e.to_status IS NOT NULL "
                    "ORDER BY h.public_id, e.happened_on DESC, e.recorded_at DESC, e.id DESC"
                )
            ).all()
        )
    assert last == _status(tracked)
    h = history(ids[0], engine=tracked)
    assert [e["to_status"] for e in h["events"]] == [
        "identified",
        "planned",
        "in_progress",
        "reported_done",
        "verified",
    ]


def test_illegal_transitions_exit_1_and_change_nothing(tracked) -> None:
    ids = sorted(_status(tracked))
    before, n = _status(tracked), _events(tracked)
    out = CliRunner().invoke(cli, ["status", "set", ids[0], "--to", "verified"])
    assert (
        out.exit_code == 1
        and "cannot go to verified" in out.output
        and "Traceback" not in out.output
    )
    # all or none: one illegal change among legal ones changes nothing
    set_status([ids[1]], to="in_progress", engine=tracked)
    before, n = _status(tracked), _events(tracked)
    with pytest.raises(InputError, match="cannot go to in_progress"):
        set_status([ids[2], ids[1]], to="in_progress", engine=tracked)
    assert _status(tracked) == before and _events(tracked) == n
    with pytest.raises(InputError, match="reason"):
        set_status([ids[3]], to="rejected", engine=tracked)
    with pytest.raises(InputError, match="future"):
        set_status([ids[3]], to="in_progress", on=TODAY + dt.timedelta(days=1), engine=tracked)
    with pytest.raises(InputError, match="before it"):
        set_status([ids[3]], to="in_progress", on="2025-01-01", engine=tracked)
    assert _status(tracked) == before and _events(tracked) == n


def test_two_people_at_once_the_second_gets_a_conflict(tracked) -> None:
    hid = sorted(_status(tracked))[0]
    version = history(hid, engine=tracked)["version"]
    results: list[object] = []

    def change(to: str) -> None:
        try:
            results.append(
                set_status([hid], to=to, expected_versions={hid: version}, engine=tracked)
            )
        except ConflictError as exc:
            results.append(exc)

    threads = [
        threading.Thread(target=change, args=(to,)) for to in ("in_progress", "reported_done")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    assert len(conflicts) == 1 and "changed by someone else" in conflicts[0].message
    assert len(history(hid, engine=tracked)["events"]) == 3  # created, planned, one change
    stale = CliRunner().invoke(
        cli, ["status", "set", hid, "--to", "reported_done", "--expect-version", str(version)]
    )
    assert stale.exit_code == 1 and "changed by someone else" in stale.output


def test_recheck_plan_sample_and_record(tracked, tmp_path: Path) -> None:
    ids = sorted(_status(tracked))
    set_status(ids, to="reported_done", engine=tracked)
    a = plan_rechecks(sample_pct=50, seed=7, engine=tracked)
    b = plan_rechecks(sample_pct=50, seed=7, engine=tracked)
    assert list(a["id"]) == list(b["id"]) and len(a) == 4
    assert list(a.sort_values(["route_code", "chainage_m"])["id"]) == list(a["id"])
    runner = CliRunner()
    for suffix in (".csv", ".geojson"):
        out = runner.invoke(
            cli, ["recheck", "plan", "--road", "X001", "-o", str(tmp_path / f"r{suffix}"), "--json"]
        )
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["ids"] == sorted(
            ids[:4]
        )  # X001's four sites, along the route
    back = gpd.read_file(tmp_path / "r.geojson", engine="pyogrio")
    assert list(back["id"]) == sorted(ids[:4]) and back.crs.to_epsg() == 4326
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    # for the re-check team: in the lang setting (zh), with empty columns to fill in on site
    assert [r["隐患编号"] for r in rows] == sorted(ids[:4])
    assert [r["序号"] for r in rows] == ["1", "2", "3", "4"]
    assert {r["路线编码"] for r in rows} == {"X001"} and {r["状态"] for r in rows} == {
        STATUS_ZH["reported_done"]
    }
    cats = dict(zip(back["id"], back["category"], strict=True))  # the GeoJSON keeps English
    assert [r["隐患类型"] for r in rows] == [CATEGORY_ZH[cats[r["隐患编号"]]] for r in rows]
    assert list(rows[0])[-4:] == ["复查结果（合格/不合格）", "复查日期", "复查人", "情况说明"]
    assert all(r[c] == "" for r in rows for c in list(rows[0])[-4:])
    en = runner.invoke(
        cli, ["recheck", "plan", "--road", "X001", "--lang", "en", "-o", str(tmp_path / "e.csv")]
    )
    assert en.exit_code == 0, en.output
    with (tmp_path / "e.csv").open(encoding="utf-8-sig") as fh:
        en_rows = list(csv.DictReader(fh))
    assert [r["id"] for r in en_rows] == sorted(ids[:4])
    assert [r["category"] for r in en_rows] == [cats[r["id"]] for r in en_rows]
    assert {r["status"] for r in en_rows} == {"reported_done"}
    assert list(en_rows[0])[-4:] == ["result (pass/fail)", "checked_on", "checked_by", "note"]
    assert record_recheck(ids[0], result="pass", engine=tracked)["to"] == "verified"
    assert (
        record_recheck(ids[1], result="fail", note="guardrail missing", engine=tracked)["to"]
        == "reopened"
    )
    set_status([ids[1]], to="planned", engine=tracked)  # reopened → planned again
    with tracked.connect() as conn:
        rc = conn.execute(
            text("SELECT result, count(*) FROM rechecks WHERE result IS NOT NULL GROUP BY result")
        ).all()
    assert dict(rc) == {"pass": 1, "fail": 1}
    # A verified site looked at again (recheck plan --include-verified) passes: it stays
    # verified, and the re-check is recorded (it was refused: "verified; it cannot go to
    # verified"); another change of a verified site still goes through the transition table.
    again = record_recheck(ids[0], result="pass", note="second look", engine=tracked)
    assert (again["from"], again["to"]) == ("verified", "verified")
    last = history(ids[0], engine=tracked)["events"][-1]
    assert (last["kind"], last["to_status"], last["note"]) == ("recheck", "verified", "second look")
    with tracked.connect() as conn:
        passes = conn.execute(
            text(
                "SELECT count(*) FROM rechecks r JOIN hazards h ON h.id = r.hazard_id "
                "WHERE h.public_id = :p AND r.result = 'pass'"
            ),
            {"p": ids[0]},
        ).scalar_one()
    assert passes == 2
    with pytest.raises(InputError, match="cannot go to verified"):
        record_recheck(ids[1], result="pass", engine=tracked)  # planned: not a verified site


def test_progress_matches_independent_counts_and_as_of(tracked, tmp_path: Path) -> None:
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    ids = sorted(_status(tracked))
    set_status(ids[:4], to="reported_done", engine=tracked)  # all of X001
    set_status(ids[:2], to="verified", engine=tracked)
    set_status([ids[7]], to="in_progress", engine=tracked)
    out = progress(by="road", engine=tracked)
    x1 = next(g for g in out["groups"] if g["group"] == "X001")
    y2 = next(g for g in out["groups"] if g["group"] == "Y002")
    assert x1["counts"]["verified"] == 2 and x1["counts"]["reported_done"] == 2
    assert (x1["pct_remediated"], x1["pct_verified"]) == (100.0, 50.0)
    assert y2["counts"] == {**{s: 0 for s in y2["counts"]}, "planned": 3, "in_progress": 1}
    with tracked.connect() as conn:
        costs = dict(
            conn.execute(
                text(
                    "SELECT public_id, coalesce(provided_cost_cny, estimated_cost_cny) FROM hazards"
                )
            ).all()
        )
        lengths = dict(conn.execute(text("SELECT route_code, length_m FROM roads")).all())
        tiers = dict(
            conn.execute(text("SELECT public_id, coalesce(tier_override, tier) FROM hazards")).all()
        )
    assert y2["remaining_cost_cny"] == pytest.approx(sum(costs[i] for i in ids[4:]))
    assert x1["remaining_cost_cny"] == 0
    # Y002 still carries an open tier I hazard (row 6: 一级); X001's tier I one is done.
    assert tiers[ids[5]] == "I"
    # The km near an open tier I hazard: the road within 500 m of it along the route, either
    # side, computed here from the stored segments of its section (the gap on Y002 and the
    # road beyond its start do not count).
    with tracked.connect() as conn:
        chainage = dict(conn.execute(text("SELECT public_id, chainage_m FROM hazards")).all())
        segments = conn.execute(
            text(
                "SELECT s.from_m, s.to_m FROM road_segments s JOIN hazards h "
                "ON h.road_id = s.road_id WHERE h.public_id = :p AND (s.section, s.part) = "
                "(SELECT section, part FROM road_segments WHERE id = h.segment_id)"
            ),
            {"p": ids[5]},
        ).all()

    def near_km(lo: float, hi: float) -> float:
        return sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in segments) / 1000

    c5 = chainage[ids[5]]
    assert out["near_m"] == 500.0 and lengths["Y002"] > 2000
    assert y2["km_near_open_tier_I"] == pytest.approx(near_km(c5 - 500, c5 + 500), abs=1e-3)
    assert x1["km_near_open_tier_I"] == 0 and 0.5 < y2["km_near_open_tier_I"] <= 1.0
    # A second open tier I hazard 400 m on: the stretches overlap and count once.
    from hazards.db import store

    store.set_tier_override(tracked, ids[6], tier="I", reason="test", by=None)
    c6 = chainage[ids[6]]
    both = progress(by="tier", near_m=300, engine=tracked)
    tier_i = next(g for g in both["groups"] if g["group"] == "I")
    expected = near_km(min(c5, c6) - 300, max(c5, c6) + 300)
    assert tier_i["km_near_open_tier_I"] == pytest.approx(expected, abs=1e-3)
    assert both["total"]["km_near_open_tier_I"] == pytest.approx(expected, abs=1e-3)
    assert expected < 2 * near_km(c5 - 300, c5 + 300)  # not the sum of the two
    with tracked.begin() as conn:  # the model's tier again, for the checks below
        conn.execute(text("UPDATE hazards SET tier_override = NULL, tier_override_reason = NULL"))
    assert out["total"]["hazards"] == 8
    by_tier = progress(by="tier", engine=tracked)
    assert {g["group"]: g["hazards"] for g in by_tier["groups"]} == {"I": 2, "III": 6}
    # The state yesterday, rebuilt from the events: everything was identified (not yet planned).
    past = progress(by="road", as_of=yesterday, engine=tracked)
    assert {g["group"]: g["counts"]["identified"] for g in past["groups"]} == {"X001": 4, "Y002": 4}
    assert progress(by="road", as_of="2025-02-01", engine=tracked)["total"]["hazards"] == 0
    cli_out = CliRunner().invoke(
        cli, ["progress", "--by", "batch", "--csv", str(tmp_path / "p.csv"), "--json"]
    )
    assert cli_out.exit_code == 0, cli_out.output
    assert sum(g["hazards"] for g in json.loads(cli_out.output)["groups"]) == 8
    with (tmp_path / "p.csv").open(encoding="utf-8-sig") as fh:
        assert [r["batch"] for r in csv.DictReader(fh)][-1] == "total"


def test_a_sample_is_at_least_its_share_and_dates_are_read_as_typed(tracked) -> None:
    """50 % of 5 finished sites is 3 (round() gave 2: less than asked); a re-check dated
    2025/7/20 or 2025年7月21日, as the work lists accept it, is read (it was refused: only
    YYYY-MM-DD)."""
    ids = sorted(_status(tracked))
    set_status(ids[:5], to="reported_done", engine=tracked)
    assert len(plan_rechecks(sample_pct=50, seed=1, engine=tracked)) == 3
    assert len(plan_rechecks(sample_pct=40, seed=1, engine=tracked)) == 2
    runner = CliRunner()
    d = TODAY
    for hid, typed in (
        (ids[0], f"{d.year}/{d.month}/{d.day}"),
        (ids[1], f"{d.year}年{d.month}月{d.day}日"),
    ):
        out = runner.invoke(cli, ["recheck", "record", hid, "--result", "pass", "--on", typed])
        assert out.exit_code == 0, out.output
        assert history(hid, engine=tracked)["events"][-1]["happened_on"] == d
    bad = runner.invoke(cli, ["recheck", "record", ids[2], "--result", "pass", "--on", "下周"])
    assert bad.exit_code == 1 and "'下周' is not a date" in bad.output


def test_progress_as_of_a_day_to_come_is_refused(tracked) -> None:
    """`progress --as-of 2030-01-01` answered with today's statuses as if they were then's."""
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    with pytest.raises(InputError, match="in the future") as err:
        progress(as_of=tomorrow, engine=tracked)
    assert err.value.param == "as_of"
    out = CliRunner().invoke(cli, ["progress", "--as-of", tomorrow])
    assert out.exit_code == 1 and "--as-of" in out.output and "Traceback" not in out.output
    assert progress(as_of=TODAY.isoformat(), engine=tracked)["as_of"] == TODAY.isoformat()


def test_a_linear_site_is_rechecked_as_its_run(roads, tmp_path: Path) -> None:
    """A 120 m guardrail run finished: the re-check list gives its two stakes (CSV) and its
    line (GeoJSON), where it gave its middle alone, as a point, with a 13-decimal chainage."""
    from hazards.intake import import_survey

    path = tmp_path / "s.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["序号", "路线编码", "起点桩号", "止点桩号", "隐患类型"],
                [1, "X001", "K1+000", "K1+120", "临水临崖"],
                [2, "X001", "K2+000", "", "急弯"],
            ]
        )
    import_survey(path, provider="p", surveyed_on="2025-03-01", engine=roads)
    ids = sorted(_status(roads))
    set_status(ids, to="planned", engine=roads)
    set_status(ids, to="reported_done", engine=roads)
    out = CliRunner().invoke(cli, ["recheck", "plan", "-o", str(tmp_path / "r.csv")])
    assert out.exit_code == 0, out.output
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as fh:
        rows = {r["隐患编号"]: r for r in csv.DictReader(fh)}
    run, point = rows[ids[0]], rows[ids[1]]
    assert (run["起点桩号"], run["止点桩号"], run["桩号（米）"]) == ("K1+000", "K1+120", "1060.0")
    assert (point["起点桩号"], point["止点桩号"]) == ("", "")
    assert "extent" not in run
    CliRunner().invoke(cli, ["recheck", "plan", "-o", str(tmp_path / "r.geojson")])
    back = gpd.read_file(tmp_path / "r.geojson", engine="pyogrio").set_index("id")
    assert back.geometry[ids[0]].geom_type == "LineString"
    assert back.to_crs(4546).geometry[ids[0]].length == pytest.approx(120, abs=0.5)
    assert back.geometry[ids[1]].geom_type == "Point"
