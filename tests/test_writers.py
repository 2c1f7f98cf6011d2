"""One writer at a time, corrections that leave the lifecycle alone, road replacement that
re-attaches (issue 16), on a real PostGIS with real parallel processes: the test holds a
writer's lock (or a hazard's row) to force the interleaving, starts the real ``hazards``
command twice, and releases it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest
from builders import GEOD, along, frame
from shapely.affinity import translate
from shapely.geometry import LineString, Point
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from hazards.db import store
from hazards.intake import import_survey

HEADER = ["序号", "路线编码", "桩号", "经度", "纬度", "隐患类型", "隐患描述", "风险等级"]


def _csv(path: Path, rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def _start(*args: str) -> subprocess.Popen[str]:
    """The real ``hazards`` command, started in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "hazards.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def _finish(p: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=180)
    assert "Traceback" not in out + err, out + err
    return p.returncode, out, err


def _waiting(engine, n: int, *, kind: str = "advisory", timeout: float = 90) -> None:
    """Wait until ``n`` backends wait for a lock of ``kind`` (advisory, tuple, transactionid)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with engine.connect() as conn:
            k = conn.execute(
                text(
                    "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE a.datname = current_database() AND NOT l.granted "
                    "AND (l.locktype = :k "
                    "OR (:k = 'row' AND l.locktype IN ('tuple', 'transactionid')))"
                ),
                {"k": kind},
            ).scalar_one()
        if k >= n:
            return
        time.sleep(0.1)
    raise AssertionError(f"{n} writers never came to wait")


def _import_args(path: Path, provider: str, *extra: str) -> list[str]:
    return ["survey", "import", str(path), "--provider", provider,
            "--surveyed-on", "2025-03-01", "--json", *extra]  # fmt: skip


# ----------------------------------------------------------------------------- one writer
def test_overlapping_surveys_imported_at_once_store_every_site_once(
    tmp_path: Path, net: dict, roads
) -> None:
    x1 = net["lines"]["X001"]
    common = [200, 400, 600, 800, 1000, 1200]
    a = _csv(tmp_path / "a.csv",
             [[i + 1, "X001", "", *along(x1, m), "急弯", f"a{i}", "一级"] for i, m in enumerate(common)])  # fmt: skip
    b_rows = [[i + 1, "X001", "", *along(x1, m), "急弯", f"b{i}", "二级"]
              for i, m in enumerate([*common, 1400, 1600])]  # fmt: skip
    b = _csv(tmp_path / "b.csv", b_rows)
    with roads.connect() as held:
        held.begin()
        store.writer_lock(held, "survey import", what="the survey import of held.csv by tester")
        pa, pb = _start(*_import_args(a, "甲公司")), _start(*_import_args(b, "乙公司"))
        _waiting(roads, 2)  # both imports are running and wait for the lock: now release it
        held.rollback()
    (ra, _, ea), (rb, _, eb) = _finish(pa), _finish(pb)
    assert (ra, rb) == (0, 0), ea + eb
    assert "Waiting for the survey import of held.csv by tester, started at" in ea
    hazards = store.list_hazards(roads)
    # The sites, computed from the files: 8 distinct places (6 shared, 2 only in b).
    places = {round(m) for m in [*common, 1400, 1600]}
    assert len(hazards) == len(places) == 8
    for i, h in enumerate(hazards):  # no two stored within the 5 m of a duplicate
        for g in hazards[i + 1 :]:
            assert GEOD.inv(h["lon"], h["lat"], g["lon"], g["lat"])[2] > 5
    with roads.connect() as conn:
        seen = conn.execute(
            text("SELECT count(*) FROM hazard_events WHERE kind = 'seen_again'")
        ).scalar_one()
    assert seen == len(common)


def test_the_same_file_imported_twice_at_once_is_one_survey(
    tmp_path: Path, net: dict, roads
) -> None:
    x1 = net["lines"]["X001"]
    path = _csv(tmp_path / "s.csv",
                [[k, "X001", "", *along(x1, 250 * k), "急弯", f"h{k}", "一级"] for k in (1, 2, 3)])  # fmt: skip
    with roads.connect() as held:
        held.begin()
        store.writer_lock(held, "survey import", what="held")
        p1, p2 = _start(*_import_args(path, "p")), _start(*_import_args(path, "p"))
        _waiting(roads, 2)
        held.rollback()
    r1, o1, e1 = _finish(p1)
    r2, o2, e2 = _finish(p2)
    assert (r1, r2) == (0, 0), e1 + e2
    reports = sorted(
        [json.loads(o1), json.loads(o2)],
        key=lambda r: r["already_imported"],
    )
    assert [r["already_imported"] for r in reports] == [False, True]
    assert reports[0]["added"] == 3 and reports[1]["survey_id"] == reports[0]["survey_id"]
    assert len(store.list_surveys(roads)) == 1 and len(store.list_hazards(roads)) == 3


def test_no_wait_refuses_at_once_and_changes_nothing(
    tmp_path: Path, net: dict, roads, run_hazards
) -> None:
    x1 = net["lines"]["X001"]
    path = _csv(tmp_path / "s.csv", [[1, "X001", "", *along(x1, 300), "急弯", "h", "一级"]])
    roads_file = tmp_path / "roads2.gpkg"  # X001 changed (its last piece gone): to replace
    frame(net["features"][:2] + net["features"][3:], "EPSG:4546").to_file(
        roads_file, engine="pyogrio"
    )
    with roads.connect() as held:
        held.begin()
        store.writer_lock(held, "survey import", what="the survey import of big.csv by 甲公司")
        store.writer_lock(held, "road load", what="the road load of county.gpkg")
        store.writer_lock(held, "plan commit", what="the commit of plan 2025")
        out = run_hazards(*_import_args(path, "p", "--no-wait"))
        roads_out = run_hazards("roads", "load", str(roads_file), "--replace", "--no-wait")
        plan_out = run_hazards("plan", "commit", "nothing", "--no-wait")
        held.rollback()
    for res, what in ((out, "the survey import of big.csv by 甲公司"),
                      (roads_out, "the road load of county.gpkg"),
                      (plan_out, "the commit of plan 2025")):  # fmt: skip
        assert res.returncode == 1, res.stdout + res.stderr
        assert "Traceback" not in res.stderr
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and what in lines[0] and "option --no-wait" in lines[0], lines
    assert store.list_surveys(roads) == [] and store.list_hazards(roads) == []
    with roads.connect() as conn:  # X001 not replaced: its 3 pieces are there still
        n = conn.execute(
            text(
                "SELECT count(*) FROM road_segments s JOIN roads r ON r.id = s.road_id "
                "WHERE r.route_code = 'X001'"
            )
        ).scalar_one()
    assert n == 3


def test_one_hazard_per_survey_row_is_a_constraint(tmp_path: Path, net: dict, roads) -> None:
    x1 = net["lines"]["X001"]
    path = _csv(tmp_path / "s.csv", [[1, "X001", "", *along(x1, 300), "急弯", "h", "一级"]])
    sid = import_survey(path, provider="p", surveyed_on="2025-03-01", engine=roads)["survey_id"]
    with pytest.raises(IntegrityError), roads.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO hazards (public_id, survey_id, source_line, admin_code) "
                "SELECT 'H999999', survey_id, source_line, admin_code FROM hazards "
                "WHERE survey_id = :s"
            ),
            {"s": sid},
        )
    assert len(store.list_hazards(roads)) == 1


# ----------------------------------------------------------------------------- corrections
def test_a_correction_racing_status_changes_keeps_them(tmp_path: Path, net: dict, roads) -> None:
    """Forced interleaving: the correction reads its hazards, then waits on a row the test
    holds; meanwhile the real ``status set`` commands change two of them; the correction then
    writes. The statuses and their events survive; only the survey's fields change."""
    x1 = net["lines"]["X001"]
    pts = {k: along(x1, 300 * k) for k in (1, 2, 3)}
    first = [[k, "X001", "", *pts[k], "急弯", f"h{k}", "一级"] for k in (1, 2, 3)]
    sid = import_survey(_csv(tmp_path / "a.csv", first), provider="p",
                        surveyed_on="2025-03-01", engine=roads)["survey_id"]  # fmt: skip
    ids = {h["source_row"]: h["id"] for h in store.list_hazards(roads)}
    far = along(x1, 300 * 2 + 1500)  # row 2 moved 1.5 km: a correction to review
    fixed = [
        [3, "X001", "", *pts[3], "急弯", "h3 corrected", "一级"],  # first: the row the test holds
        [1, "X001", "", *pts[1], "急弯", "h1 corrected", "二级"],
        [2, "X001", "", *far, "急弯", "h2 moved", "一级"],
    ]
    path = _csv(tmp_path / "a-fixed.csv", fixed)
    with roads.connect() as held:
        held.begin()
        held.execute(text("SELECT 1 FROM hazards WHERE public_id = :p FOR UPDATE"), {"p": ids["3"]})
        corr = _start(*_import_args(path, "p", "--corrects", str(sid)))
        _waiting(roads, 1, kind="row")  # it has read the hazards and waits for row 3
        for args in (
            ["status", "set", ids["1"], "--to", "rejected", "--note", "not a hazard"],
            ["status", "set", ids["2"], "--to", "planned"],
        ):
            done = subprocess.run([sys.executable, "-m", "hazards.cli", *args],
                                  capture_output=True, text=True, timeout=180)  # fmt: skip
            assert done.returncode == 0, done.stderr
        held.rollback()
    code, out, err = _finish(corr)
    assert code == 0, err
    after = {h["source_row"]: h for h in store.list_hazards(roads, survey=sid)}
    assert after["1"]["status"] == "rejected" and after["1"]["description"] == "h1 corrected"
    assert after["1"]["provided_tier"] == "II"
    assert after["2"]["status"] == "planned" and after["2"]["description"] == "h2"
    assert GEOD.inv(after["2"]["lon"], after["2"]["lat"], *pts[2])[2] < 1  # not moved
    assert after["3"]["description"] == "h3 corrected" and after["3"]["status"] == "identified"
    # The move of the planned hazard waits in review as a row of its own.
    held_rows = store.list_hazards(roads, review=True)
    assert len(held_rows) == 1 and ids["2"] in held_rows[0]["review_reason"]
    assert "in work" in held_rows[0]["review_reason"]
    with roads.connect() as conn:
        hist = conn.execute(
            text(
                "SELECT h.public_id, e.kind, e.from_status, e.to_status FROM hazard_events e "
                "JOIN hazards h ON h.id = e.hazard_id WHERE h.survey_id = :s ORDER BY e.id"
            ),
            {"s": sid},
        ).all()
    for pid, status in ((ids["1"], "rejected"), (ids["2"], "planned")):
        mine = [(k, f, t) for p, k, f, t in hist if p == pid]
        # its status event survives, and is still the last word on its status
        assert ("status", "identified", status) in mine
        assert [t for _, _, t in mine if t is not None][-1] == status, mine


# ----------------------------------------------------------------------------- road replacement
def test_replacing_a_route_reattaches_or_reviews_every_hazard(
    tmp_path: Path, net: dict, roads, run_hazards
) -> None:
    x1 = net["lines"]["X001"]
    pieces = [f for f in net["features"] if f["路线编码"] == "X001"]
    metres = [150, 900, 1700, 2500, 3000, 3400, 3800]  # the last piece starts near 2.77 km
    rows = [[k + 1, "X001", "", *along(x1, m), "急弯", f"h{k + 1}", "一级"] for k, m in enumerate(metres)]  # fmt: skip
    import_survey(_csv(tmp_path / "s.csv", rows), provider="p", surveyed_on="2025-03-01",
                  engine=roads)  # fmt: skip
    before = {h["source_row"]: h for h in store.list_hazards(roads)}
    assert len(before) == len(metres) and all(h["route_code"] == "X001" for h in before.values())
    # X001 again: its last piece gone, the rest shifted about 6 m east.
    shift = 0.00006
    kept = [dict(f, geometry=translate(f["geometry"], xoff=shift)) for f in pieces[:2]]
    others = [f for f in net["features"] if f["路线编码"] != "X001"]
    path = tmp_path / "roads-new.gpkg"
    frame([*kept, *others], "EPSG:4546").to_file(path, engine="pyogrio")
    out = run_hazards("roads", "load", str(path), "--replace", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["routes_replaced"] == ["X001"]
    # Independently: each hazard's distance to the new line, in the working metric CRS.
    new_line = gpd.GeoSeries(
        [translate(LineString(list(x1.coords)[:111]), xoff=shift)], crs=4490
    ).to_crs(4546)
    line = new_line.iloc[0]
    lines = gpd.GeoSeries([f["geometry"] for f in kept], crs=4490).to_crs(4546)
    pts = gpd.GeoSeries([Point(before[str(k + 1)]["lon"], before[str(k + 1)]["lat"])
                         for k in range(len(metres))], crs=4326).to_crs(4546)  # fmt: skip
    dist = [min(lines.distance(p)) for p in pts]
    near = [d <= 15 for d in dist]
    assert 0 < sum(near) < len(metres), dist  # both cases are exercised
    assert report["hazards_reattached"] == sum(near)
    assert report["hazards_to_review"] == len(metres) - sum(near)
    after = {h["source_row"]: h for h in store.list_hazards(roads)}
    with roads.connect() as conn:
        road_ids = conn.execute(text("SELECT count(*) FROM hazards WHERE road_id IS NULL")).scalar()
        events = conn.execute(
            text(
                "SELECT h.provider_row_id, e.note FROM hazard_events e JOIN hazards h "
                "ON h.id = e.hazard_id WHERE e.kind = 'road_reload' ORDER BY h.id"
            )
        ).all()
    assert road_ids == 0  # none left without a route
    assert len(events) == len(metres)
    for k, d in enumerate(dist):
        h = after[str(k + 1)]
        assert h["route_code"] == "X001" and h["chainage_m"] is not None
        assert abs(h["snap_distance_m"] - d) < 0.5, (h["snap_distance_m"], d)
        if near[k]:
            assert h["status"] == "identified"
            # its new chainage: along the new line, from one end or the other
            a = line.project(pts.iloc[k])
            assert min(abs(h["chainage_m"] - a), abs(h["chainage_m"] - (line.length - a))) < 1
        else:
            assert h["status"] == "review"
            reason = h["review_reason"]
            assert "was reloaded" in reason and "accept distance" in reason
            assert "it was at K" in reason and "now nearest K" in reason
    assert sorted(h["id"] for h in store.list_hazards(roads, review=True)) == sorted(
        after[str(k + 1)]["id"] for k in range(len(metres)) if not near[k]
    )
    # The whole route loaded again: the hazards the partial load sent to review are within
    # reach again, accepted as they were (they stayed in review, their reason naming the
    # line of the partial load, 0 m from the route).
    whole = tmp_path / "roads-whole.gpkg"
    frame(net["features"], "EPSG:4546").to_file(whole, engine="pyogrio")
    out = run_hazards("roads", "load", str(whole), "--replace", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hazards_reattached"] == len(metres)
    back = {h["source_row"]: h for h in store.list_hazards(roads)}
    assert {h["status"] for h in back.values()} == {"identified"}
    assert all(h["review_reason"] is None for h in back.values())
    assert store.list_hazards(roads, review=True) == []


def test_a_reload_that_moves_no_hazard_writes_no_history(
    tmp_path: Path, net: dict, roads, run_hazards
) -> None:
    """The network loaded again with --replace, its lines nudged 0.3 m (another CRS would do
    the same): the hazards stay at their chainage, and their histories get no 'road_reload'
    line each (a reload of an unchanged network left K0+397 -> K0+397 on every hazard)."""
    x1 = net["lines"]["X001"]
    rows = [[k + 1, "X001", "", *along(x1, m), "急弯", f"h{k + 1}", "一级"] for k, m in enumerate((300, 1200, 2100))]  # fmt: skip
    import_survey(_csv(tmp_path / "s.csv", rows), provider="p", surveyed_on="2025-03-01",
                  engine=roads)  # fmt: skip
    before = {h["source_row"]: h["chainage_m"] for h in store.list_hazards(roads)}
    nudged = [
        dict(f, geometry=translate(f["geometry"], yoff=0.0000027)) if f["路线编码"] == "X001" else f
        for f in net["features"]
    ]
    path = tmp_path / "roads-nudged.gpkg"
    frame(nudged, "EPSG:4546").to_file(path, engine="pyogrio")
    out = run_hazards("roads", "load", str(path), "--replace", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["routes_replaced"] == ["X001"] and report["hazards_reattached"] == 3
    after = {h["source_row"]: h["chainage_m"] for h in store.list_hazards(roads)}
    assert all(abs(after[k] - before[k]) < 0.5 for k in before), (before, after)
    with roads.connect() as conn:
        kinds = conn.execute(text("SELECT count(*) FROM hazard_events WHERE kind = 'road_reload'"))
        assert kinds.scalar_one() == 0


def test_a_reload_keeps_the_reason_a_hazard_was_in_review_for(
    tmp_path: Path, net: dict, roads, run_hazards
) -> None:
    """A hazard in review for the survey's reason (its stated 桩号 3.7 km from where it lies),
    sent to review by a reload and then back within reach: it stays in review for its own
    reason, which no reload overwrote or cleared."""
    x1 = net["lines"]["X001"]
    pieces = [f for f in net["features"] if f["路线编码"] == "X001"]
    rows = [
        [1, "X001", "K0+100", *along(x1, 3800), "急弯", "mismatch", "一级"],  # on the last piece
        [2, "X001", "", *along(x1, 3400), "急弯", "plain", "一级"],
    ]
    import_survey(_csv(tmp_path / "s.csv", rows), provider="p", surveyed_on="2025-03-01",
                  engine=roads)  # fmt: skip
    first = {h["source_row"]: h for h in store.list_hazards(roads)}
    own = first["1"]["review_reason"]
    assert first["1"]["status"] == "review" and own.startswith("stated chainage K0+100")
    assert first["2"]["status"] == "identified"
    # X001 without its last piece: both hazards are beyond reach and go to review
    others = [f for f in net["features"] if f["路线编码"] != "X001"]
    part = tmp_path / "roads-part.gpkg"
    frame([*pieces[:2], *others], "EPSG:4546").to_file(part, engine="pyogrio")
    out = run_hazards("roads", "load", str(part), "--replace", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hazards_to_review"] == 2
    mid = {h["source_row"]: h for h in store.list_hazards(roads)}
    assert mid["1"]["review_reason"].startswith(own + "; route X001 was reloaded from ")
    assert mid["2"]["review_reason"].startswith("route X001 was reloaded from ")
    # The same partial network again: the reload's part is written anew, not piled up.
    out = run_hazards("roads", "load", str(part), "--replace", "--json")
    assert out.returncode == 0, out.stderr
    again = {h["source_row"]: h for h in store.list_hazards(roads)}
    assert again["1"]["review_reason"].count("was reloaded") == 1
    assert again["1"]["review_reason"].startswith(own + "; ")
    # The whole route again: the reload's part goes; the survey's reason stays, in review.
    whole = tmp_path / "roads-whole.gpkg"
    frame(net["features"], "EPSG:4546").to_file(whole, engine="pyogrio")
    out = run_hazards("roads", "load", str(whole), "--replace", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hazards_reattached"] == 2
    back = {h["source_row"]: h for h in store.list_hazards(roads)}
    assert back["1"]["status"] == "review" and back["1"]["review_reason"] == own
    assert back["2"]["status"] == "identified" and back["2"]["review_reason"] is None
    assert [h["source_row"] for h in store.list_hazards(roads, review=True)] == ["1"]
