"""Several counties in one database: each county's road network under its code
(``HAZARDS_ADMIN_CODE``), roads stored without a code refused under one, and given a code."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import pytest
from builders import LAT0, LON0, along, curvy_line, frame, geodesic_length
from click.testing import CliRunner
from sqlalchemy import text

from hazards.cli import cli
from hazards.errors import InputError
from hazards.intake import import_survey
from hazards.qgis_project import layer_queries
from hazards.roads import load_roads
from hazards.settings import get_settings

A, B = "430981", "430982"
LINE_A = curvy_line((LON0, LAT0), n=80, seed=3)  # county A's X001, about 2 km
LINE_B = curvy_line((LON0 + 0.05, LAT0 + 0.03), n=40, seed=4)  # county B's X001, about 1 km
LINE_B2 = curvy_line((LON0 + 0.05, LAT0 - 0.02), n=30, seed=5)  # county B's Y009


def _as(monkeypatch: pytest.MonkeyPatch, code: str | None) -> None:
    """Work as county ``code`` (None: no code set)."""
    if code is None:
        monkeypatch.delenv("HAZARDS_ADMIN_CODE", raising=False)
    else:
        monkeypatch.setenv("HAZARDS_ADMIN_CODE", code)
    get_settings.cache_clear()


def _roads_file(path: Path, routes: dict[str, object]) -> Path:
    features = [
        {"路线编码": code, "路线名称": f"{code} 路", "行政等级": "县道", "geometry": line}
        for code, line in routes.items()
    ]
    frame(features, "EPSG:4546").to_file(path, engine="pyogrio")
    return path


def _stored(engine) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT admin_code, route_code FROM roads ORDER BY 1, 2"))
        return [tuple(r) for r in rows]


def _length(code: str) -> float:
    out = CliRunner().invoke(cli, ["roads", "show", code, "--json"])
    assert out.exit_code == 0, out.output
    return float(json.loads(out.output)["length_km"]) * 1000


@pytest.fixture
def two_counties(tmp_path: Path, engine, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """County A's network (X001) and county B's (its own X001, and Y009), each loaded under
    its code; the load results."""
    _as(monkeypatch, A)
    first = load_roads(_roads_file(tmp_path / "a.gpkg", {"X001": LINE_A}), engine=engine)
    _as(monkeypatch, B)
    second = load_roads(
        _roads_file(tmp_path / "b.gpkg", {"X001": LINE_B, "Y009": LINE_B2}), engine=engine
    )
    return first, second


def test_two_counties_routes_of_one_code_are_two_routes(
    two_counties, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """County B's X001 is added beside county A's (it used to be read as A's X001 changed, and
    skipped); each county's commands see its own."""
    first, second = two_counties
    assert first.routes_added == ["X001"]
    assert second.routes_added == ["X001", "Y009"]
    assert second.routes_skipped == [] and second.routes_replaced == []
    assert _stored(engine) == [(A, "X001"), (B, "X001"), (B, "Y009")]
    with engine.connect() as conn:
        segments = conn.execute(
            text(
                "SELECT r.admin_code, count(*) FROM road_segments s JOIN roads r "
                "ON r.id = s.road_id WHERE s.admin_code = r.admin_code GROUP BY 1 ORDER BY 1"
            )
        ).all()
    assert [tuple(r) for r in segments] == [(A, 1), (B, 2)]
    assert _length("X001") == pytest.approx(geodesic_length(LINE_B), rel=0.002)
    _as(monkeypatch, A)
    assert _length("X001") == pytest.approx(geodesic_length(LINE_A), rel=0.002)
    out = CliRunner().invoke(cli, ["roads", "show", "Y009"])
    assert out.exit_code == 1 and "Traceback" not in out.output  # B's route, not A's


def test_a_countys_survey_is_matched_to_its_own_roads(
    two_counties, tmp_path: Path, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A survey of county B places a hazard given as X001 K0+500 on B's X001, and one at a
    point on A's road on no road of B's."""
    _as(monkeypatch, B)
    path = tmp_path / "s.csv"
    lon, lat = along(LINE_A, 700.0)
    rows = [
        ["序号", "路线编码", "桩号", "经度", "纬度", "隐患类型", "风险等级"],
        ["1", "X001", "K0+500", "", "", "急弯", "一级"],
        ["2", "", "", f"{lon:.7f}", f"{lat:.7f}", "急弯", "二级"],
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    report = import_survey(path, provider="p", surveyed_on="2025-03-01", engine=engine)
    with engine.connect() as conn:
        placed = dict(
            conn.execute(
                text(
                    "SELECT h.provider_row_id, r.admin_code FROM hazards h "
                    "LEFT JOIN roads r ON r.id = h.road_id"
                )
            ).all()
        )
    assert placed.get("1") == B
    assert placed.get("2") is None  # near A's X001 only: not county B's
    assert report["accepted"] + report["review"] + report["rejected"] == 2


def _survey(path: Path, rows: list[list[str]]) -> Path:
    header = ["序号", "路线编码", "桩号", "经度", "纬度", "隐患类型", "风险等级"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def test_a_hazard_at_the_same_stake_of_another_countys_route_is_not_a_repeat(
    two_counties, tmp_path: Path, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """County A's and county B's surveys (files of the same bytes) each find a sharp bend at
    X001 K0+500 of their own X001: two surveys and two hazards (B's file was taken for A's
    imported already), each listed, and its route rated, as its county's only."""
    reports = {}
    for code in (A, B):
        _as(monkeypatch, code)
        path = _survey(tmp_path / f"{code}.csv", [["1", "X001", "K0+500", "", "", "急弯", "一级"]])
        reports[code] = import_survey(path, provider="p", surveyed_on="2025-03-01", engine=engine)
    assert [(r["added"], r["duplicates"]) for r in reports.values()] == [(1, 0), (1, 0)]
    assert reports[A]["survey_id"] != reports[B]["survey_id"]
    with engine.connect() as conn:
        ids = dict(
            conn.execute(
                text(
                    "SELECT r.admin_code, h.public_id FROM hazards h JOIN roads r "
                    "ON r.id = h.road_id"
                )
            ).all()
        )
    assert set(ids) == {A, B}
    for code in (A, B):
        _as(monkeypatch, code)
        out = CliRunner().invoke(cli, ["list", "--route", "X001", "--json"])
        assert out.exit_code == 0, out.output
        assert [h["id"] for h in json.loads(out.output)] == [ids[code]]
        out = CliRunner().invoke(cli, ["risk", "routes", "--json"])
        assert out.exit_code == 0, out.output
        routes = json.loads(out.output)["routes"]
        x1 = [r for r in routes if r["route"] == "X001"]
        line = LINE_A if code == A else LINE_B  # its county's X001 (2 km, 1 km)
        assert len(x1) == 1 and abs(x1[0]["length_km"] - geodesic_length(line) / 1000) < 0.06
        assert len(routes) == (1 if code == A else 2)


def test_roads_stored_without_a_code_are_refused_under_one_until_given_it(
    tmp_path: Path, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Roads loaded before the county set its code: its commands say so and how to give them
    the code (no traceback, nothing found wrongly empty); `roads adopt-code` gives it."""
    _as(monkeypatch, None)
    load_roads(_roads_file(tmp_path / "a.gpkg", {"X001": LINE_A}), engine=engine)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO route_aliases (alias, route_code) VALUES ('县道一', 'X001')")
        )
        conn.execute(  # a crash imported without the code (stored without it)
            text(
                "INSERT INTO crashes (source, crash_id, occurred_on, raw, content_hash, warnings) "
                "VALUES ('交警', '1', '2025-03-07', '{}', 'x', '[]')"
            )
        )
    _as(monkeypatch, A)
    for args in (["roads", "summary"], ["chainage", "locate", "X001", "K0+100"]):
        out = CliRunner().invoke(cli, args)
        assert out.exit_code == 1 and "Traceback" not in out.output, out.output
        assert "stored without a county code" in out.output
        assert f"hazards roads adopt-code {A}" in out.output
    with pytest.raises(InputError, match="adopt-code"):
        load_roads(_roads_file(tmp_path / "b.gpkg", {"Y009": LINE_B2}), engine=engine)
    assert _stored(engine) == [("", "X001")]  # the refused load stored nothing
    out = CliRunner().invoke(cli, ["roads", "adopt-code", A, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {
        "admin_code": A, "roads": 1, "road_segments": 1, "route_aliases": 1, "crashes": 1,
        "plans": 0, "batches": 0, "plans_left": 0,
    }  # fmt: skip
    assert _stored(engine) == [(A, "X001")]
    assert _length("县道一") == pytest.approx(geodesic_length(LINE_A), rel=0.002)
    out = CliRunner().invoke(cli, ["roads", "summary", "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["total"]["routes"] == 1, out.output


def test_adopting_a_code_whose_county_has_the_same_route_changes_nothing(
    two_counties, engine
) -> None:
    """Routes without a code beside the counties' (no command stores them so now: a database
    of an earlier version): giving them B's code, when B has an X001 too, is refused, naming
    it, and changes nothing; an empty code is refused."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO roads (route_code) VALUES ('X001')"))
    out = CliRunner().invoke(cli, ["roads", "adopt-code", B])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "X001" in out.output and "Nothing was changed" in out.output
    assert _stored(engine) == [("", "X001"), (A, "X001"), (B, "X001"), (B, "Y009")]
    out = CliRunner().invoke(cli, ["roads", "adopt-code", "  "])
    assert out.exit_code == 1 and "county code" in out.output


def test_a_new_working_crs_measures_each_countys_routes_apart(
    two_counties, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The working CRS is the database's: a change measures again every county's routes, each
    county's X001 on its own (assembled together they would be one route with a gap)."""
    before = {}
    for code in (A, B):
        _as(monkeypatch, code)
        before[code] = _length("X001")
    ends = (
        "SELECT r.admin_code, r.route_code, s.to_m FROM road_segments s "
        "JOIN roads r ON r.id = s.road_id"
    )
    with engine.connect() as conn:
        old_ends = {(a, c): m for a, c, m in conn.execute(text(ends))}
    out = CliRunner().invoke(cli, ["db", "working-crs", "set", "EPSG:32649", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["routes"] == 3
    with engine.connect() as conn:
        parts = conn.execute(text("SELECT admin_code, route_code, parts FROM roads")).all()
    assert {p for *_, p in parts} == {1}
    with engine.connect() as conn:
        new_ends = {(a, c): m for a, c, m in conn.execute(text(ends))}
    assert new_ends.keys() == old_ends.keys() == {(A, "X001"), (B, "X001"), (B, "Y009")}
    for key, m in new_ends.items():  # measured again (Gauss-Krüger to UTM: a few in 10,000)
        assert 1e-5 < abs(m - old_ends[key]) / m < 2e-3, (key, m, old_ends[key])
    for code in (A, B):
        _as(monkeypatch, code)
        assert _length("X001") == pytest.approx(before[code], rel=0.002)
        assert _length("X001") != pytest.approx(before[A if code == B else B], rel=0.05)


def test_without_a_code_roads_stored_under_codes_are_refused_naming_them(
    two_counties, tmp_path: Path, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every road stored under a county's code and none set: commands say which codes to set
    (they found no network, and a road load stored the network again without a code)."""
    _as(monkeypatch, None)
    out = CliRunner().invoke(cli, ["roads", "summary"])
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    assert f"{A} (1 routes), {B} (2 routes)" in out.output
    assert f"HAZARDS_ADMIN_CODE={A}" in out.output
    with pytest.raises(InputError, match="No county code is set"):
        load_roads(_roads_file(tmp_path / "c.gpkg", {"X001": LINE_B2}), engine=engine)
    assert _stored(engine) == [(A, "X001"), (B, "X001"), (B, "Y009")]


def _import_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """County A's two hazards on its X001, county B's one on its Y009: each county's ids."""
    rows = {
        A: [["1", "X001", "K0+300", "", "", "急弯", "一级"], ["2", "X001", "K1+300", "", "", "临水临崖", "二级"]],
        B: [["1", "Y009", "K0+200", "", "", "急弯", "一级"]],
    }  # fmt: skip
    ids = {}
    for code, survey in rows.items():
        _as(monkeypatch, code)
        path = _survey(tmp_path / f"{code}.csv", survey)
        report = import_survey(path, provider="p", surveyed_on="2025-03-01", engine=engine)
        assert report["added"] == len(survey)
        with engine.connect() as conn:
            ids[code] = sorted(
                conn.execute(
                    text(
                        "SELECT h.public_id FROM hazards h JOIN roads r ON r.id = h.road_id "
                        "WHERE r.admin_code = :a"
                    ),
                    {"a": code},
                ).scalars()
            )
    return ids


def test_each_countys_list_plan_and_progress_hold_its_own_hazards(
    two_counties, tmp_path: Path, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """County A has two hazards, county B one: each county's `list`, plan, `progress` and
    inventory export (and its QGIS project's layers) hold its own (B's plan funded A's hazards as well)."""
    mine = _import_both(tmp_path, monkeypatch, engine)
    assert [len(mine[A]), len(mine[B])] == [2, 1]
    runner = CliRunner()
    for code in (A, B):
        _as(monkeypatch, code)
        out = runner.invoke(cli, ["list", "--json"])
        assert out.exit_code == 0, out.output
        assert sorted(h["id"] for h in json.loads(out.output)) == mine[code]
        out = runner.invoke(
            cli, ["plan", "create", "--name", f"P{code}", "--budget", "1e9", "--json"]
        )
        assert out.exit_code == 0, out.output
        plan = json.loads(out.output)
        items = [*(i for b in plan["batches"] for i in b["items"]), *plan["unfunded"]["items"]]
        assert sorted(i["id"] for i in items) == mine[code], plan
        out = runner.invoke(cli, ["progress", "--json"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["total"]["hazards"] == len(mine[code]), out.output
        gpkg = tmp_path / f"inventory-{code}.gpkg"
        out = runner.invoke(cli, ["export", "inventory", "-o", str(gpkg), "--json"])
        assert out.exit_code == 0, out.output
        back = {n: gpd.read_file(gpkg, layer=n, engine="pyogrio") for n in ("roads", "hazards")}
        assert sorted(back["hazards"]["id"]) == mine[code]
        assert len(back["roads"]) == (1 if code == A else 2)  # one segment a route
        assert json.loads(out.output)["layers"]["hazards"] == len(mine[code])
        queries = layer_queries(engine)  # the QGIS project's layers: the same rows
        with engine.connect() as conn:
            ids = conn.execute(text(f"SELECT q.id FROM ({queries['hazards'][0]}) q")).scalars()
            assert sorted(ids) == mine[code]
        out = runner.invoke(cli, ["report", "--year", "2025", "--json"])
        assert out.exit_code == 0 and "Traceback" not in out.output, out.output


def test_two_counties_plans_of_one_name_are_two_plans(
    two_counties, tmp_path: Path, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both counties name their plan 2026 (B's was refused: "a plan named '2026' exists"); each
    county's plan and batch list, plan show, batch export, batch update and plan commit are
    its own; a name the county has not, but another county has, is refused saying where."""
    ids = _import_both(tmp_path, monkeypatch, engine)
    runner = CliRunner()
    for code in (A, B):
        _as(monkeypatch, code)
        out = runner.invoke(cli, ["plan", "create", "--name", "2026", "--budget", "1e9", "--json"])
        assert out.exit_code == 0, out.output
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT admin_code, name FROM batches ORDER BY 1, 2")).all()
    assert [tuple(r) for r in stored] == [(A, "2026-1"), (B, "2026-1")]
    for code in (A, B):
        _as(monkeypatch, code)
        out = runner.invoke(cli, ["plan", "list", "--json"])
        assert out.exit_code == 0, out.output
        assert [(p["name"], p["hazards"]) for p in json.loads(out.output)] == [
            ("2026", len(ids[code]))
        ]
        out = runner.invoke(cli, ["batch", "list", "--json"])
        assert [(b["name"], b["hazards"]) for b in json.loads(out.output)] == [
            ("2026-1", len(ids[code]))
        ]
        out = runner.invoke(cli, ["plan", "show", "2026", "--json"])
        assert out.exit_code == 0, out.output
        shown = [i["id"] for b in json.loads(out.output)["batches"] for i in b["items"]]
        assert sorted(shown) == ids[code]
    _as(monkeypatch, B)
    out = runner.invoke(cli, ["plan", "create", "--name", "仅乙", "--budget", "1e9"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["plan", "commit", "2026"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["batch", "set", "2026-1", "--contractor", "乙公司"])
    assert out.exit_code == 0, out.output
    path = tmp_path / "b.geojson"
    out = runner.invoke(cli, ["export", "batch", "2026-1", "-o", str(path)])
    assert out.exit_code == 0, out.output
    assert sorted(gpd.read_file(path, engine="pyogrio")["id"]) == ids[B]
    with engine.connect() as conn:
        status = dict(conn.execute(text("SELECT public_id, status FROM hazards")).all())
        firms = conn.execute(
            text("SELECT admin_code, contractor FROM batches WHERE name = '2026-1' ORDER BY 1")
        ).all()
    assert status == {**dict.fromkeys(ids[A], "identified"), **dict.fromkeys(ids[B], "planned")}
    assert [tuple(r) for r in firms] == [(A, None), (B, "乙公司")]
    _as(monkeypatch, A)
    for args in (["plan", "show", "仅乙"], ["plan", "commit", "仅乙"], ["export", "batch", "仅乙-1", "-o", str(tmp_path / "x.geojson")]):  # fmt: skip
        out = runner.invoke(cli, args)
        assert out.exit_code == 1 and "Traceback" not in out.output, out.output
        assert f"county code {B}: to work on it, set HAZARDS_ADMIN_CODE={B}" in out.output
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT status FROM plans WHERE name = '仅乙'")).scalar() == "draft"
        )


def test_adopting_a_code_brings_the_plans_stored_without_one(
    tmp_path: Path, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan made before the county set its code is the county's after `roads adopt-code`
    (its list and show find it); one funding another county's hazard stays without a code, and
    the county's `plan list` says one is left out; a plan of the same name under the code
    refuses the adoption."""
    _as(monkeypatch, None)
    load_roads(_roads_file(tmp_path / "a.gpkg", {"X001": LINE_A}), engine=engine)
    import_survey(
        _survey(tmp_path / "s.csv", [["1", "X001", "K0+300", "", "", "急弯", "一级"]]),
        provider="p",
        surveyed_on="2025-03-01",
        engine=engine,
    )
    runner = CliRunner()
    out = runner.invoke(cli, ["plan", "create", "--name", "2025", "--budget", "1e9"])
    assert out.exit_code == 0, out.output
    with engine.begin() as conn:  # county B's hazard on no road, in a plan without a code
        conn.execute(
            text(
                "WITH h AS (INSERT INTO hazards (public_id, admin_code) VALUES ('HB', :b) "
                "RETURNING id), p AS (INSERT INTO plans (name, budget_cny, spent_cny, report) "
                "VALUES ('乙', 1, 0, '{}') RETURNING id), b AS (INSERT INTO batches (plan_id, "
                "plan_name, name) SELECT id, '乙', '乙-1' FROM p RETURNING id) "
                "INSERT INTO batch_items (batch_id, hazard_id) SELECT b.id, h.id FROM b, h"
            ),
            {"b": B},
        )
        conn.execute(  # the county's own plan 2025 (stored under its code)
            text(
                "INSERT INTO plans (admin_code, name, budget_cny, spent_cny, report) "
                "VALUES (:a, '2025', 1, 0, '{}')"
            ),
            {"a": A},
        )
    out = runner.invoke(cli, ["roads", "adopt-code", A])
    assert out.exit_code == 1 and "plan 2025" in out.output, out.output
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM plans WHERE admin_code = :a"), {"a": A})
    out = runner.invoke(cli, ["roads", "adopt-code", A, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) | {"roads": 0, "road_segments": 0} == {
        "admin_code": A, "roads": 0, "road_segments": 0, "route_aliases": 0, "crashes": 0,
        "plans": 1, "batches": 1, "plans_left": 1,
    }  # fmt: skip
    _as(monkeypatch, A)
    out = runner.invoke(cli, ["plan", "list", "--json"])
    assert out.exit_code == 0, out.output
    assert [(p["name"], p["hazards"]) for p in json.loads(out.stdout)] == [("2025", 1)]
    assert "1 个计划未记县级代码" in out.stderr  # the interface speaks Chinese by default
    assert f"adopt-code {A}" in out.stderr
    out = runner.invoke(cli, ["plan", "show", "乙"])
    assert out.exit_code == 1 and "stored without a county code" in out.output, out.output
