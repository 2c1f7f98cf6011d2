"""Survey intake that never overwrites, never guesses silently and can be undone (issue 15), on a
real PostGIS with files built in the test: survey identity and corrections, GIS layers, drop,
title rows above the header, unknown route codes near a road, duplicates on the original
category, dry runs, and past-dated work."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from builders import GEOD, along, offset_from_vertex
from click.testing import CliRunner
from sqlalchemy import text

from hazards.cli import cli
from hazards.db import store
from hazards.errors import InputError
from hazards.intake import drop_survey, import_survey, show_survey

HEADER = ["序号", "路线编码", "桩号", "经度", "纬度", "隐患类型", "隐患描述", "风险等级"]


def _csv(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def _import(path: Path, engine, **kw) -> dict:
    kw.setdefault("provider", "某检测公司")
    kw.setdefault("surveyed_on", "2025-03-01")
    report = import_survey(path, engine=engine, **kw)
    buckets = ("accepted", "review", "rejected", "duplicates", "empty")
    assert sum(report[k] for k in buckets) == report["rows"], report
    return report


def _by_survey(engine, survey_id: int) -> dict[str, dict]:
    return {h["source_row"]: h for h in store.list_hazards(engine, survey=survey_id)}


def _cli_list(runner: CliRunner) -> list[dict]:
    out = runner.invoke(cli, ["list", "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


# ----------------------------------------------------------------------------- identity
def test_two_deliveries_numbered_from_one_are_two_surveys_and_corrects_names_one(
    tmp_path: Path, net: dict, roads
) -> None:
    x1, y2 = net["lines"]["X001"], net["lines"]["Y002"]
    p1, p2 = along(x1, 300), along(x1, 900)
    q1, q2 = along(y2, 400), along(y2, 1200)
    first = [
        [1, "X001", "", *p1, "急弯", "first firm, row 1", "一级"],
        [2, "X001", "", *p2, "陡坡", "first firm, row 2", "二级"],
    ]
    second = [
        [1, "Y002", "", *q1, "临水临崖", "second delivery, row 1", "一级"],
        [2, "Y002", "", *q2, "视距不良", "second delivery, row 2", "三级"],
    ]
    a = _import(_csv(tmp_path / "a.csv", first), roads)
    b = _import(_csv(tmp_path / "b.csv", second), roads)
    assert (b["added"], b["updated"], b["unchanged"]) == (2, 0, 0)
    ha, hb = _by_survey(roads, a["survey_id"]), _by_survey(roads, b["survey_id"])
    assert {k: (h["route_code"], h["category_raw"]) for k, h in ha.items()} == {
        "1": ("X001", "急弯"),
        "2": ("X001", "陡坡"),
    }
    assert {k: h["route_code"] for k, h in hb.items()} == {"1": "Y002", "2": "Y002"}
    # A correction of the first delivery: row 2's text changes; only survey a's row 2 moves on.
    fixed = [first[0], [*first[1][:6], "first firm, row 2 corrected", "二级"]]
    c = _import(_csv(tmp_path / "a-fixed.csv", fixed), roads, corrects=a["survey_id"])
    assert (c["added"], c["updated"], c["unchanged"], c["corrects"]) == (0, 1, 1, a["survey_id"])
    assert _by_survey(roads, a["survey_id"])["2"]["description"] == "first firm, row 2 corrected"
    assert _by_survey(roads, b["survey_id"]) == hb  # the other delivery's 1 and 2 untouched
    # A correction moving row 1 two kilometres along X001 goes to review, with the reason.
    far = along(x1, 2300)
    assert net["lengths"]["X001"] > 2400
    moved = [[1, "X001", "", *far, "急弯", "first firm, row 1", "一级"], fixed[1]]
    m = _import(_csv(tmp_path / "a-moved.csv", moved), roads, corrects=a["survey_id"])
    assert (m["review"], m["updated"], m["unchanged"]) == (1, 1, 1)
    h1 = _by_survey(roads, a["survey_id"])["1"]
    d = GEOD.inv(*p1, *far)[2]  # 2 km along the curvy road, less as the crow flies
    assert d > 1000 and h1["status"] == "review"
    assert f"moves it {d / 1000:.1f} km" in h1["review_reason"], h1["review_reason"]
    with roads.connect() as conn:
        kinds = conn.execute(
            text(
                "SELECT e.kind FROM hazard_history e JOIN hazards h ON h.id = e.hazard_id "
                "WHERE h.public_id = :p ORDER BY e.id"
            ),
            {"p": h1["id"]},
        ).scalars()
        assert list(kinds) == ["created", "updated"]


def test_the_same_correction_imported_twice_changes_nothing(
    tmp_path: Path, net: dict, roads
) -> None:
    """A correction file imported again (same bytes, same survey corrected, same options) gives
    the earlier report back, as a first import does: no second survey, no event. Correcting
    another survey with it is a correction of its own."""
    x1 = net["lines"]["X001"]
    first = [
        [1, "X001", "", *along(x1, 300), "急弯", "row 1", "一级"],
        [2, "X001", "", *along(x1, 900), "陡坡", "row 2", "二级"],
    ]
    a = _import(_csv(tmp_path / "a.csv", first), roads)
    other = _import(_csv(tmp_path / "o.csv", first[:1]), roads, provider="另一公司")
    fixed = _csv(tmp_path / "a-fixed.csv", [first[0], [*first[1][:6], "row 2 fixed", "二级"]])

    def counts() -> tuple[int, int]:
        with roads.connect() as conn:
            return (
                conn.execute(text("SELECT count(*) FROM surveys")).scalar_one(),
                conn.execute(text("SELECT count(*) FROM hazard_events")).scalar_one(),
            )

    c = _import(fixed, roads, corrects=a["survey_id"])
    assert (c["updated"], c["unchanged"], c["already_imported"]) == (1, 1, False)
    before = counts()
    again = _import(fixed, roads, corrects=a["survey_id"])
    assert again["already_imported"] is True and again["survey_id"] == c["survey_id"]
    assert (again["added"], again["updated"]) == (0, 0)
    assert counts() == before  # no survey, no event
    elsewhere = _import(fixed, roads, corrects=other["survey_id"])
    assert elsewhere["already_imported"] is False and elsewhere["corrects"] == other["survey_id"]
    assert counts()[0] == before[0] + 1


def test_a_correction_dated_before_the_hazard_refuses_changes_only(
    tmp_path: Path, net: dict, roads
) -> None:
    """A correction surveyed before its hazard last changed is refused for a changed row, but
    a row identical to the hazard is simply unchanged: there is nothing to put in order."""
    x1 = net["lines"]["X001"]
    first = [
        [1, "X001", "", *along(x1, 300), "急弯", "row 1", "一级"],
        [2, "X001", "", *along(x1, 900), "陡坡", "row 2", "二级"],
    ]
    a = _import(_csv(tmp_path / "a.csv", first), roads, surveyed_on="2025-03-01")
    fixed = _csv(tmp_path / "a-fixed.csv", [first[0], [*first[1][:6], "row 2 fixed", "二级"]])
    c = _import(fixed, roads, corrects=a["survey_id"], surveyed_on="2025-02-20")
    assert (c["unchanged"], c["updated"], c["rejected"]) == (1, 0, 1), c
    assert c["rejected_by_reason"] == {"correction_out_of_order": 1}
    assert [r["row"] for r in c["rejected_rows"]] == ["2"]
    assert _by_survey(roads, a["survey_id"])["2"]["description"] == "row 2"  # not changed


def test_a_road_reload_does_not_hold_back_a_correction_of_the_survey(
    tmp_path: Path, net: dict, roads
) -> None:
    """The yearly network, loaded again with --replace, measures every hazard of a changed
    route again (a ``road_reload`` event, dated today); a correction of the survey, surveyed
    after the survey and before that reload, still applies: re-measuring is no change of the
    hazard (it was refused as "last changed today")."""
    from builders import frame
    from shapely.affinity import translate

    from hazards.roads import load_roads

    x1 = net["lines"]["X001"]
    first = [
        [1, "X001", "", *along(x1, 300), "急弯", "row 1", "一级"],
        [2, "X001", "", *along(x1, 900), "陡坡", "row 2", "二级"],
    ]
    a = _import(_csv(tmp_path / "a.csv", first), roads, surveyed_on="2025-03-01")
    nudged = [  # X001 0.3 m east: both hazards stay attached, at their chainage
        dict(f, geometry=translate(f["geometry"], xoff=0.000003)) if f["路线编码"] == "X001" else f
        for f in net["features"]
    ]
    path = tmp_path / "roads-2026.gpkg"
    frame(nudged, "EPSG:4546").to_file(path, engine="pyogrio")
    reload = load_roads(path, replace=True, engine=roads)
    assert reload.routes_replaced == ["X001"] and reload.hazards_reattached == 2
    fixed = _csv(tmp_path / "a-fixed.csv", [first[0], [*first[1][:6], "row 2 fixed", "二级"]])
    c = _import(fixed, roads, corrects=a["survey_id"], surveyed_on="2025-03-05")
    assert (c["unchanged"], c["updated"], c["rejected"]) == (1, 1, 0), c
    assert _by_survey(roads, a["survey_id"])["2"]["description"] == "row 2 fixed"


def test_a_typo_in_a_coordinate_falls_back_to_the_route_and_chainage(
    tmp_path: Path, net: dict, roads
) -> None:
    """纬度 128°52' for 28°52' (outside ±90): a row with its route and 桩号 is placed by them,
    the typo said, as a row whose coordinate cannot be read at all; without a 桩号 it is
    rejected as before."""
    x1 = net["lines"]["X001"]
    lon, lat = along(x1, 700)
    rows = [
        [1, "X001", "K0+700", lon, lat + 100, "急弯", "typo", "一级"],
        [2, "X001", "", lon, lat + 100, "急弯", "typo, no stake", "一级"],
        [3, "X001", "K0+900", "112.3.5", lat, "陡坡", "unreadable", "一级"],  # as before
    ]
    report = _import(_csv(tmp_path / "s.csv", rows), roads)
    assert (report["accepted"], report["rejected"]) == (2, 1), report
    assert report["rejected_by_reason"] == {"bad_coordinates": 1}
    assert [r["row"] for r in report["rejected_rows"]] == ["2"]
    got = _by_survey(roads, report["survey_id"])
    assert got["1"]["chainage_m"] == 700.0 and got["1"]["route_code"] == "X001"
    assert GEOD.inv(got["1"]["lon"], got["1"]["lat"], lon, lat)[2] < 1  # where 桩号 K0+700 is
    assert any(
        "outside ±180/±90" in w and w.endswith("placed by its route and 桩号")
        for w in got["1"]["warnings"]
    ), got["1"]["warnings"]
    assert any(w.endswith("placed by its route and 桩号") for w in got["3"]["warnings"])
    assert got["3"]["chainage_m"] == 900.0


def test_a_point_far_from_every_road_is_rejected_not_a_conflict(
    tmp_path: Path, net: dict, roads
) -> None:
    """A point 300 m from Y002 and kilometres from its stated route X001 is near no road: rejected
    as too far (it went to review as a "conflict" of routes, and never back to the firm);
    within review of the other road it is a conflict, as before."""
    import geopandas as gpd
    from shapely.geometry import Point

    lines = gpd.GeoSeries(net["lines"], crs=4490).to_crs(4546)
    y2 = net["lines"]["Y002"]

    def placed(metres: float) -> tuple[float, float]:
        """A point ``metres`` to one side of a vertex of Y002, away from X001 and all else."""
        for k in range(1, len(y2.coords) - 1):
            for side in (metres, -metres):
                p, _ = offset_from_vertex(y2, k, side)
                d = lines.distance(gpd.GeoSeries([Point(p)], crs=4490).to_crs(4546).iloc[0])
                if d["X001"] > 5 * metres and d.drop("Y002").min() > 3 * metres:
                    return p
        raise AssertionError("no such point on the test network")

    far, near = placed(300.0), placed(30.0)
    rows = [
        [1, "X001", "", *far, "急弯", "far from every road", "一级"],
        [2, "X001", "", *near, "急弯", "on Y002, said X001", "一级"],
    ]
    report = _import(_csv(tmp_path / "s.csv", rows), roads)
    assert [r["row"] for r in report["rejected_rows"]] == ["1"]
    assert report["rejected_by_reason"] == {"too_far": 1}
    assert "beyond the 50 m limit" in report["rejected_rows"][0]["reason"]
    (held,) = store.list_hazards(roads, review=True)
    assert held["source_row"] == "2" and held["review_reason"].startswith("conflict:")


def test_same_bytes_other_options_ask_for_replace(tmp_path: Path, net: dict, roads) -> None:
    p = along(net["lines"]["X001"], 300)
    path = _csv(tmp_path / "s.csv", [[1, "X001", "", *p, "急弯", "备注", "一级"]])
    first = _import(path, roads)
    assert _import(path, roads)["already_imported"] is True
    # on the command line under another provider: said to stay as imported then
    again = CliRunner().invoke(
        cli,
        ["survey", "import", str(path), "--provider", "另一公司", "--surveyed-on", "2025-04-01"],
    )
    said = again.output.replace("\n", "")
    assert again.exit_code == 0 and "已作为勘察批次" in said, again.output
    assert "某检测公司，勘察日期 2025-03-01（而非 另一公司，2025-04-01）" in said, again.output
    assert f"--replace {first['survey_id']}" in said
    with pytest.raises(InputError) as info:
        _import(path, roads, mapping={"description": "隐患类型"})
    assert info.value.param == "replace" and f"survey {first['survey_id']}" in info.value.message
    again = _import(path, roads, mapping={"description": "隐患类型"}, replace=first["survey_id"])
    assert again["replaced"] == first["survey_id"] and again["added"] == 1
    assert [s["id"] for s in store.list_surveys(roads)] == [again["survey_id"]]
    assert show_survey(again["survey_id"], engine=roads)["options"] == {
        "mapping": {"description": "隐患类型"}
    }


# ----------------------------------------------------------------------------- not a survey
def test_road_file_refused_and_layers_named(tmp_path: Path, net: dict, roads) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    with pytest.raises(InputError) as info:
        _import(tmp_path / "roads.gpkg", roads)
    assert "LineString" in info.value.message and "not points" in info.value.message
    x1 = net["lines"]["X001"]
    hz = gpd.GeoDataFrame(
        {"隐患类型": ["急弯", "陡坡"], "路线编码": ["X001", "X001"]},
        geometry=[Point(along(x1, 300)), Point(along(x1, 900))],
        crs=4490,
    )
    decoy = gpd.GeoDataFrame(
        {"name": ["library a", "library b", "library c"], "type": ["library"] * 3},
        geometry=[Point(along(x1, d)) for d in (100, 500, 700)],
        crs=4490,
    )
    path = tmp_path / "two.gpkg"
    decoy.to_file(path, layer="decoy", engine="pyogrio")
    hz.to_file(path, layer="hazards", engine="pyogrio")
    with pytest.raises(InputError) as info:
        _import(path, roads)
    msg = info.value.message
    assert info.value.param == "layer"
    assert "decoy (3 features" in msg and "hazards (2 features" in msg, msg
    report = _import(path, roads, layer="hazards")
    assert (report["accepted"], report["added"]) == (2, 2)
    assert {h["category_raw"] for h in store.list_hazards(roads)} == {"急弯", "陡坡"}


def test_sheet_without_hazard_columns_is_refused(tmp_path: Path, net: dict, roads) -> None:
    p = along(net["lines"]["X001"], 300)
    path = _csv(tmp_path / "libraries.csv", [["图书馆", *p]], header=["name", "lon", "lat"])
    with pytest.raises(InputError) as info:
        _import(path, roads)
    assert "no column says what the hazards are" in info.value.message
    assert store.list_surveys(roads) == []


# ----------------------------------------------------------------------------- drop
def test_drop_restores_the_prior_state_and_refuses_when_planned(
    tmp_path: Path, net: dict, roads
) -> None:
    x1 = net["lines"]["X001"]
    runner = CliRunner()
    base = _import(
        _csv(tmp_path / "a.csv", [[1, "X001", "", *along(x1, 300), "急弯", "a", "一级"]]), roads
    )
    before = _cli_list(runner)
    # The second survey adds one hazard, repeats the first survey's, and has one row to review.
    (rlon, rlat), _ = offset_from_vertex(x1, 100, 30.0)
    rows = [
        [1, "X001", "", *along(x1, 300), "急弯", "seen again", "一级"],
        [2, "X001", "", *along(x1, 1500), "陡坡", "new", "二级"],
        [3, "X001", "", rlon, rlat, "视距不良", "30 m off: review", "三级"],
    ]
    b = _import(_csv(tmp_path / "b.csv", rows), roads)
    assert (b["added"], b["seen_again"], b["review"]) == (2, 1, 1)
    shown = runner.invoke(cli, ["survey", "show", str(b["survey_id"]), "--json"])
    assert shown.exit_code == 0 and json.loads(shown.output)["references"] == []
    told = runner.invoke(cli, ["survey", "show", str(b["survey_id"])]).output  # in zh, the default
    assert f"勘察批次 {b['survey_id']}：b.csv" in told and "其隐患未被引用" in told, told
    assert "共 3 行：接收 2，待核查 1，拒收 0" in told and "隐患：待治理 1，待核查 1" in told, told
    out = runner.invoke(cli, ["survey", "drop", str(b["survey_id"])])
    assert out.exit_code == 0, out.output
    assert "删除隐患 2 处，删除对其他隐患的重复记录 1 条" in out.output
    assert _cli_list(runner) == before
    with roads.connect() as conn:
        kinds = conn.execute(text("SELECT kind FROM hazard_history ORDER BY id")).scalars().all()
    assert kinds == ["created"]
    # A plan including the first survey's hazard blocks its drop, and says so.
    assert runner.invoke(cli, ["plan", "create", "--name", "P", "--budget", "1e9"]).exit_code == 0
    planned = _cli_list(runner)  # (planning estimated its cost)
    refused = runner.invoke(cli, ["survey", "drop", str(base["survey_id"])])
    assert refused.exit_code != 0 and "plan P, batch P-1" in refused.output, refused.output
    assert "Traceback" not in refused.output
    assert _cli_list(runner) == planned
    with pytest.raises(InputError):
        drop_survey(base["survey_id"], engine=roads)


# ----------------------------------------------------------------------------- headers
def test_xlsx_with_a_merged_title_row_and_header_row(tmp_path: Path, net: dict, roads) -> None:
    import openpyxl

    x1 = net["lines"]["X001"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["沅江市乡道安全隐患排查表（2025年3月）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append([])
    ws.append(HEADER)
    ws.append([1, "X001", "", *along(x1, 300), "急弯", "a", "一级"])
    ws.append([2, "X001", "", *along(x1, 900), "陡坡", "b", "二级"])
    path = tmp_path / "排查表.xlsx"
    wb.save(path)
    with pytest.raises(InputError) as info:
        _import(path, roads, header_row=1)  # the title row holds no column names
    assert "row 1" in info.value.message and info.value.param == "mapping"
    report = _import(path, roads, dry_run=True)
    assert (report["accepted"], report["header_row"], report["rows"]) == (2, 3, 2)
    assert report["header_from"] is None  # a header on one row
    assert _import(path, roads, header_row=3)["accepted"] == 2


def test_a_header_over_two_rows_is_reported_as_two_rows(tmp_path: Path, net: dict, roads) -> None:
    """A header over rows 2-3 (位置 over 经度/纬度) is read as one and reported as rows 2-3
    (``header_from``; "列名取自第 2–3 行" on the terminal), not as row 3: given back alone,
    ``--header-row 3`` reads that row only (the way to refuse a row above merged in wrongly),
    and its import says which columns are missing."""
    x1 = net["lines"]["X001"]
    path = tmp_path / "s.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["某县乡道隐患排查表", "", "", "", "", ""],
                ["序号", "路线编码", "位置", "", "隐患类型", "风险等级"],
                ["", "", "经度", "纬度", "", ""],
                [1, "X001", *along(x1, 300), "急弯", "一级"],
            ]
        )
    report = _import(path, roads, dry_run=True)
    assert (report["accepted"], report["header_from"], report["header_row"]) == (1, 2, 3)
    out = CliRunner(env={"HAZARDS_LANG": "zh", "COLUMNS": "200"}).invoke(
        cli,
        [
            "survey",
            "import",
            str(path),
            "--provider",
            "甲",
            "--surveyed-on",
            "2025-03-01",
            "--dry-run",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "列名取自第 2–3 行（两行表头）" in out.stdout
    with pytest.raises(InputError) as info:
        _import(path, roads, header_row=3, dry_run=True)
    assert "row 3" in info.value.message  # 经度/纬度 alone: no column says what the hazards are
    assert "column names are in rows 2–3" in info.value.message  # ... and where, unasked
    assert "do not give the header row number" in info.value.message
    with pytest.raises(InputError, match="where the hazards are") as info:
        _import(path, roads, header_row=2, dry_run=True)  # 位置 alone: no 经度/纬度
    assert "read from row 2)" in info.value.message
    assert "are in rows 2–3: 序号, 路线编码, 经度, 纬度" in info.value.message


# ----------------------------------------------------------------------------- route codes
def test_route_codes_not_in_the_network_near_a_road_go_to_review(
    tmp_path: Path, net: dict, roads
) -> None:
    """A crash file's ROUTE holds a route type (1-8), not a code."""
    x1 = net["lines"]["X001"]
    rows = [
        [100 + k, 3, *reversed(offset_from_vertex(x1, k, 8.0)[0]), "rear-end"]
        for k in (20, 60, 100)
    ]
    (flon, flat), _ = offset_from_vertex(x1, 130, 600.0)
    rows.append([104, 3, flat, flon, "far from any road"])
    header = ["CRASH_ID", "ROUTE", "LATITUDE", "LONGITUDE", "DESCRIPTION"]
    path = _csv(tmp_path / "crashes.csv", rows, header=header)
    r = _import(path, roads)
    assert (r["review"], r["rejected"], r["rejected_by_reason"]) == (3, 1, {"unknown_route": 1})
    queue = [h for h in store.list_hazards(roads) if h["status"] == "review"]
    assert len(queue) == 3 and all(h["route_code"] == "X001" for h in queue)
    assert all("'3'" in h["review_reason"] and "route X001" in h["review_reason"] for h in queue)
    unmapped = _import(path, roads, mapping={"route_code": ""}, replace=r["survey_id"])
    assert (unmapped["accepted"], unmapped["rejected"]) == (3, 1)
    assert "route_code" not in unmapped["headers"]


# ----------------------------------------------------------------------------- duplicates
def test_duplicates_need_the_same_original_category(tmp_path: Path, net: dict, roads) -> None:
    x1 = net["lines"]["X001"]
    (lon, lat), _ = offset_from_vertex(x1, 40, 1.0)
    (lon2, lat2), _ = offset_from_vertex(x1, 40, 2.0)  # 1 m from the first
    rows = [
        [81, "X001", "", lon, lat, "路面积水", "standing water", "二级"],
        [82, "X001", "", lon2, lat2, "落石", "rockfall", "一级"],
        [90, "X001", "", lon2, lat2, " 路面积水", "standing water again", "二级"],
    ]
    r = _import(_csv(tmp_path / "d.csv", rows), roads)
    assert (r["accepted"], r["duplicates"]) == (2, 1)
    assert {h["category_raw"] for h in store.list_hazards(roads)} == {"路面积水", "落石"}
    dup = r["duplicate_rows"][0]
    assert (dup["row"], dup["line"]) == ("90", 4)  # the header is line 1
    assert "序号 81 (line 2)" in dup["reason"], dup["reason"]


# ----------------------------------------------------------------------------- dry run
def test_dry_run_writes_nothing(tmp_path: Path, net: dict, roads) -> None:
    x1 = net["lines"]["X001"]
    rows = [
        [1, "X001", "", *along(x1, 300), "急弯", "a", "一级"],
        [2, "Q999", "K0+100", "", "", "急弯", "unknown route", "一级"],
    ]
    path = _csv(tmp_path / "s.csv", rows)
    dry = _import(path, roads, dry_run=True)
    assert (dry["dry_run"], dry["survey_id"], dry["accepted"], dry["rejected"]) == (
        True,
        None,
        1,
        1,
    )
    assert dry["rejected_rows"][0]["row"] == "2" and dry["rejected_file"] is None
    assert not (tmp_path / "s.rejected.csv").exists()
    assert store.list_surveys(roads) == [] and store.list_hazards(roads) == []
    real = _import(path, roads)
    assert real["rejected_file"] == str(tmp_path / "s.rejected.csv")
    assert [h["id"] for h in store.list_hazards(roads)] == ["H000001"]
    out = CliRunner().invoke(
        cli,
        ["survey", "import", str(path), "--provider", "p", "--surveyed-on", "2025-03-01",
         "--replace", str(real["survey_id"]), "--dry-run"],
    )  # fmt: skip
    assert out.exit_code == 0 and "试运行，未写入任何数据" in out.output, out.output
    assert "'Q999'" in out.output and len(store.list_surveys(roads)) == 1
    assert f"替换勘察批次 {real['survey_id']}" in out.output  # says which survey it replaces


# ----------------------------------------------------------------------------- backfill
def test_past_dated_plan_status_and_completion_in_order(tmp_path: Path, roads) -> None:
    rows = [[k, "X001", f"K0+{100 * k:03d}", "", "", "急弯", f"h{k}", "一级"] for k in (1, 2, 3)]
    _import(_csv(tmp_path / "s.csv", rows), roads, surveyed_on="2024-03-01")
    runner = CliRunner()

    def run(*args: str) -> str:
        out = runner.invoke(cli, list(args))
        return f"{out.exit_code}|{out.output}"

    assert run("plan", "create", "--name", "2024", "--budget", "1e9").startswith("0|")
    early = run("plan", "commit", "2024", "--on", "2024-02-01")
    assert early.startswith("1|") and "last changed on 2024-03-01" in early
    assert "option --on" in early
    assert run("plan", "commit", "2024", "--on", "2024-05-20").startswith("0|")
    assert run("batch", "set", "2024-1", "--start", "2024-06-01", "--due", "2024-05-01")[0] != "0"
    assert run("batch", "set", "2024-1", "--start", "2024-06-01", "--due", "2024-10-31")[0] == "0"
    assert run("status", "set", "H000001", "--to", "in_progress", "--on", "2024-06-15")[0] == "0"
    late = run("status", "set", "H000002", "--to", "in_progress", "--on", "2024-05-01")
    assert late.startswith("1|") and "last changed on 2024-05-20" in late
    report = tmp_path / "done.csv"
    report.write_text(
        "id,status,completed_on\nH000001,完成,2024-09-01\nH000002,完成,2024-05-30\n",
        encoding="utf-8",
    )
    refused = run("import", "completion", str(report), "--json")  # all or nothing
    assert refused.startswith("1|") and '"applied": 0' in refused, refused
    done = run("import", "completion", str(report), "--json", "--partial")
    assert done.startswith("0|"), done
    body = json.loads(done.split("|", 1)[1])
    assert body["applied"] == 1 and [r["id"] for r in body["invalid_rows"]] == ["H000002"]
    assert "2024-06-01" in body["invalid_rows"][0]["reason"]  # before the batch start
    with roads.connect() as conn:
        events = conn.execute(
            text(
                "SELECT h.public_id, e.happened_on::text, e.to_status FROM hazard_history e "
                "JOIN hazards h ON h.id = e.hazard_id WHERE h.public_id = 'H000001' ORDER BY e.id"
            )
        ).all()
    assert [tuple(e)[1:] for e in events] == [
        ("2024-03-01", "identified"),
        ("2024-05-20", "planned"),
        ("2024-06-15", "in_progress"),
        ("2024-09-01", "reported_done"),
    ]


# ----------------------------------------------------------------------------- linear hazards
DATA = Path(__file__).parent / "data"


def _linear_import(tmp_path: Path, engine) -> tuple[dict, dict[str, dict]]:
    """tests/data/linear_survey.csv (title rows, 起点桩号/止点桩号, 长度, 照片) imported with
    its photo folder, from a copy in ``tmp_path`` (the rejected file is written beside it)."""
    import shutil

    shutil.copy(DATA / "linear_survey.csv", tmp_path / "linear_survey.csv")
    shutil.copytree(DATA / "linear_photos", tmp_path / "linear_photos")
    report = _import(tmp_path / "linear_survey.csv", engine, photos=tmp_path / "linear_photos")
    return report, _by_survey(engine, report["survey_id"])


def test_linear_hazards_get_their_range_and_a_line_along_the_route(
    tmp_path: Path, net: dict, roads
) -> None:
    import shapely
    from builders import geodesic_length
    from shapely.geometry import LineString

    report, got = _linear_import(tmp_path, roads)
    assert report["header_row"] == 3
    assert report["accepted"] == 6 and report["rejected"] == 1, report
    # row 5: K3+900-K4+500 runs beyond X001 (about 4.0 km): rejected naming the fields and fix
    (rej,) = report["rejected_rows"]
    assert rej["row"] == "5" and rej["line"] == 8
    assert "起点桩号/止点桩号" in rej["reason"] and "correct the chainages" in rej["reason"]
    one, two, three, four = got["1"], got["2"], got["3"], got["4"]
    assert (one["from_m"], one["to_m"]) == (580.0, 909.0)
    assert (one["from_chainage"], one["to_chainage"]) == ("K0+580", "K0+909")
    assert one["chainage_m"] == pytest.approx(744.5)  # the middle: no 桩号 was given
    assert one["length_m"] == pytest.approx(329.0)
    # a single 桩号 with 长度 is centred on it; the point stays the 桩号
    assert (two["from_m"], two["to_m"], two["chainage_m"]) == (1400.0, 1600.0, 1500.0)
    # ends given backwards: swapped, with a warning
    assert (three["from_m"], three["to_m"]) == (2100.0, 2300.0)
    assert any("swapped" in w for w in three["warnings"])
    # point hazards stay points
    assert got["6"]["from_m"] is None and got["6"]["to_chainage"] is None
    with roads.connect() as conn:
        lines = {
            pid: shapely.from_wkt(wkt)
            for pid, wkt in conn.execute(
                text(
                    "SELECT provider_row_id, ST_AsText(extent) FROM hazards "
                    "WHERE survey_id = :s AND extent IS NOT NULL"
                ),
                {"s": report["survey_id"]},
            )
        }
    assert set(lines) == {"1", "2", "3", "4"}
    for row, h in (("1", one), ("2", two), ("3", three), ("4", four)):
        line = lines[row]
        # its length on the ellipsoid equals the chainage difference (metres)
        assert geodesic_length(line) == pytest.approx(h["to_m"] - h["from_m"], abs=1.0), row
        # it lies on the route: its ends are the points at the two chainages (builders.along
        # measures geodesically along the drawn line, independently of the code)
        route = net["lines"][h["route_code"]]
        if row != "4":  # Y002 has a gap before K1+400: stakes along the data differ there
            for end, metres in ((line.coords[0], h["from_m"]), (line.coords[-1], h["to_m"])):
                lon, lat = along(route, metres)
                assert GEOD.inv(end[0], end[1], lon, lat)[2] < 1.0, (row, metres)
        assert LineString(route.coords).distance(line) < 1e-6


def test_linear_hazards_export_as_linestrings_as_long_as_their_range(
    tmp_path: Path, net: dict, roads
) -> None:
    """Acceptance (issue 18): a survey with 起点桩号/止点桩号 yields LineString exports whose
    length equals the chainage difference within 1 m, measured on the exported lon/lat with
    pyproj's geodesic; the file passes the schema and reads back with GDAL."""
    import geopandas as gpd

    from hazards.contractors import export_batch, validate_collection

    report, got = _linear_import(tmp_path, roads)
    runner = CliRunner()
    out = runner.invoke(cli, ["plan", "create", "--name", "L", "--budget", "1e9", "--batches", "1"])
    assert out.exit_code == 0, out.output
    assert runner.invoke(cli, ["plan", "commit", "L"]).exit_code == 0
    (batch,) = [b["name"] for b in store.list_batches(roads) if b["plan_name"] == "L"]
    export_batch(batch, tmp_path / "b.geojson", engine=roads)
    data = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))
    validate_collection(data)
    feats = {f["id"]: f for f in data["features"]}
    by_row = {h["source_row"]: h["id"] for h in got.values()}
    lines = 0
    for row, pid in by_row.items():
        f, h = feats[pid], got[row]
        p = f["properties"]
        assert (p["from_m"], p["to_m"]) == (h["from_m"], h["to_m"])
        assert (p["from_chainage"], p["to_chainage"]) == (h["from_chainage"], h["to_chainage"])
        assert (p["lon"], p["lat"]) == (pytest.approx(h["lon"]), pytest.approx(h["lat"]))
        if h["from_m"] is None:
            assert f["geometry"]["type"] == "Point"
            continue
        lines += 1
        assert f["geometry"]["type"] == "LineString"
        lons, lats = zip(*f["geometry"]["coordinates"], strict=True)
        assert all(-180 <= x <= 180 for x in lons) and all(-90 <= y <= 90 for y in lats)
        metres = GEOD.line_length(lons, lats)
        assert metres == pytest.approx(h["to_m"] - h["from_m"], abs=1.0), (row, metres)
    assert lines == 4
    back = gpd.read_file(tmp_path / "b.geojson", engine="pyogrio")
    assert sorted(set(back.geom_type)) == ["LineString", "Point"]
    assert back.crs.to_epsg() == 4326
    # returned with the linear hazards done, it imports (their point is in lon/lat)
    from hazards.completions import import_completion

    args = ["batch", "set", batch, "--contractor", "路桥公司", "--start", "2025-06-01"]
    assert runner.invoke(cli, args).exit_code == 0
    linear = [f for f in data["features"] if f["geometry"]["type"] == "LineString"]
    for f in linear:
        f["properties"].update(status="done", completed_on=dt.date.today().isoformat())
    (tmp_path / "back.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    done = import_completion(tmp_path / "back.geojson", engine=roads)
    assert done["applied"] == len(linear) == 4, done["invalid_rows"]


def test_a_linear_hazard_outside_its_route_or_reversed_is_reported(tmp_path: Path, roads) -> None:
    rows = [
        ["1", "X001", "K0+100", "K0+050", "临水临崖"],  # reversed: swapped, warned
        ["2", "X001", "K0+100", "K9+000", "临水临崖"],  # beyond X001: rejected
        ["3", "Y003", "K0+010", "", "急弯"],  # one end, no length: a point, warned
    ]
    path = _csv(tmp_path / "r.csv", rows, ["序号", "路线编码", "起点桩号", "止点桩号", "隐患类型"])
    report = _import(path, roads)
    assert (report["accepted"], report["rejected"]) == (2, 1)
    assert report["rejected_by_reason"] == {"range_out_of_route": 1}
    got = _by_survey(roads, report["survey_id"])
    assert (got["1"]["from_m"], got["1"]["to_m"]) == (50.0, 100.0)
    assert got["3"]["from_m"] is None and got["3"]["chainage_m"] == 10.0
    assert any("taken as a point" in w for w in got["3"]["warnings"])
    rejected = (tmp_path / "r.rejected.csv").read_text(encoding="utf-8-sig")
    assert "K9+000" in rejected and "请更正桩号或路线编码" in rejected  # lang zh: the firm's words


def test_a_length_near_the_route_end_is_cut_there(tmp_path: Path, roads) -> None:
    """Cut at the end it runs past: the start (it said "the end" for both)."""
    from hazards.roads import road_info

    end_m = road_info("X001", engine=roads)["end_m"]  # the main line's last stake
    c = int(end_m) - 30  # 30 m before it, 50 m either side asked
    rows = [
        ["1", "X001", "K0+030", "100", "临水临崖"],
        ["2", "X001", f"K{c // 1000}+{c % 1000:03d}", "100", "临水临崖"],
    ]
    path = _csv(tmp_path / "c.csv", rows, ["序号", "路线编码", "桩号", "长度(m)", "隐患类型"])
    report = _import(path, roads)
    got = _by_survey(roads, report["survey_id"])
    h = got["1"]
    assert (h["from_m"], h["to_m"], h["length_m"]) == (0.0, 80.0, 80.0)
    assert [w for w in h["warnings"] if "cut to" in w] == [
        "the 100 m section centred on K0+030 runs past the start of route X001; cut to 80 m"
    ]
    shown = CliRunner().invoke(cli, ["history", h["id"]], env={"COLUMNS": "200"}).stdout
    assert "起止桩号" in shown and "K0+000–K0+080" in shown, shown  # its section, as stakes
    h = got["2"]
    assert h["from_m"] == c - 50 and h["to_m"] == pytest.approx(end_m, abs=0.1)
    (cut,) = [w for w in h["warnings"] if "cut to" in w]
    assert f"runs past the end of route X001; cut to {end_m - (c - 50):.0f} m" in cut


def test_survey_photos_are_found_and_missing_ones_warned(tmp_path: Path, roads) -> None:
    report, got = _linear_import(tmp_path, roads)
    folder = (tmp_path / "linear_photos").resolve()
    assert got["1"]["photo"] == str(folder / "IMG_0001.jpg")  # relative to the survey file
    assert got["2"]["photo"] == str(folder / "IMG_0002.JPG")  # a bare number, upper-case suffix
    assert got["6"]["photo"] == "https://example.org/photos/6.jpg"  # a URL, as it is
    # not delivered: the hazard is imported, the report names the row, line and photo
    assert got["7"]["status"] == "identified"
    assert report["missing_photos"] == [
        {"row": "7", "line": 10, "photo": "linear_photos/not_delivered.jpg"}
    ]
    assert any("not_delivered.jpg" in w for w in got["7"]["warnings"])
    assert report["options"]["photos"] == str(folder)
    # the report lists every stored row with warnings, as its hazard keeps them
    warned = {h["source_row"]: h["warnings"] for h in got.values() if h["warnings"]}
    assert {w["row"]: w["warnings"] for w in report["warning_rows"]} == warned
    assert "7" in warned and report["warnings"] == sum(map(len, warned.values()))
    assert {w["row"]: w["line"] for w in report["warning_rows"]}["7"] == 10


def test_the_report_lists_the_first_rows_with_warnings(tmp_path: Path, roads, monkeypatch) -> None:
    """Only the first WARNING_ROWS_LISTED rows with warnings are listed; all are counted."""
    from hazards import intake

    monkeypatch.setattr(intake, "WARNING_ROWS_LISTED", 2)
    report, got = _linear_import(tmp_path, roads)
    # the file's 序号 run 1, 2, 3... in its order
    warned = sorted(int(h["source_row"]) for h in got.values() if h["warnings"])
    assert len(warned) > 2  # the file warns on more rows than are listed
    assert [w["row"] for w in report["warning_rows"]] == [str(n) for n in warned[:2]]
    assert report["warnings"] == sum(len(h["warnings"]) for h in got.values())


def test_survey_import_photos_option_on_the_command_line(tmp_path: Path, roads) -> None:
    import shutil

    shutil.copy(DATA / "linear_survey.csv", tmp_path / "s.csv")
    runner = CliRunner()
    args = ["survey", "import", str(tmp_path / "s.csv"), "--provider", "p"]
    args += ["--surveyed-on", "2025-03-01", "--photos", str(DATA / "linear_photos")]
    out = runner.invoke(cli, args)
    assert out.exit_code == 0, out.output
    # beside the survey there is no linear_photos/ now: both relative paths are missing
    said = out.output.replace("\n", "")  # zh, the default language; lines wrapped by width
    assert "第 1 条（第 4 行）：找不到照片 linear_photos/IMG_0001.jpg" in said
    assert "第 7 条（第 10 行）：找不到照片 linear_photos/not_delivered.jpg" in said
    # and each row's warnings, as its hazard keeps them
    assert re.search(
        r"警告：第 7 条（第 10 行）：[^警]*未找到照片 'linear_photos/not_delivered\.jpg'", said
    ), said
    out = runner.invoke(
        cli,
        [
            "survey",
            "import",
            str(tmp_path / "s.csv"),
            "--provider",
            "p",
            "--surveyed-on",
            "2025-03-01",
            "--photos",
            str(tmp_path / "no"),
        ],
    )
    assert out.exit_code != 0 and "no such folder of photos" in out.output
    assert "--photos" in out.output


def test_linear_hazards_reach_the_map_rows_the_strip_and_the_quantities(
    tmp_path: Path, net: dict, roads
) -> None:
    import re

    from hazards.db.store.maps import HazardFilter
    from hazards.mapping import road_dossier

    report, got = _linear_import(tmp_path, roads)
    cols = store.hazard_columns(roads, HazardFilter(route="X001"))
    one = cols[cols["ch"] == 744].iloc[0]  # the middle of K0+580–K0+909 (744.5, rounded)
    assert (int(one["ch_from"]), int(one["ch_to"])) == (580, 909)
    extent = json.loads(one["extent"])
    assert extent["type"] == "LineString"
    lons, lats = zip(*extent["coordinates"], strict=True)
    assert GEOD.line_length(lons, lats) == pytest.approx(329.0, abs=1.0)
    assert one["photo"].endswith("IMG_0001.jpg")
    point = cols[cols["ch"] == 300].iloc[0]
    assert pd.isna(point["ch_from"]) and pd.isna(point["extent"])
    road = store.get_road(roads, "X001")
    rows = store.road_hazard_rows(roads, road["id"])
    assert sorted(zip(rows["from_m"].dropna(), rows["to_m"].dropna(), strict=True)) == [
        (580.0, 909.0),
        (1400.0, 1600.0),
        (2100.0, 2300.0),
    ]
    # the dossier's strip draws each range as a bar from x(from) to x(to), on the route's scale
    page = road_dossier("X001", engine=roads).render()
    svg = re.search(r'<svg class="hz-strip" viewBox="0 0 (\d+) 130".*?</svg>', page, re.S)
    assert svg is not None
    width = int(svg.group(1))
    bars = re.findall(
        r'<rect class="hz-strip-extent" x="([\d.]+)" y="[\d.-]+" width="([\d.]+)"', svg.group(0)
    )
    assert len(bars) == 3
    end = float(road["end_m"]) if road.get("end_m") else float(road["length_m"])
    span = width - 60
    want = sorted((40 + span * a / end, span * (b - a) / end) for a, b in
                  ((580, 909), (1400, 1600), (2100, 2300)))  # fmt: skip
    for (x, w), (wx, ww) in zip(sorted((float(x), float(w)) for x, w in bars), want, strict=True):
        assert x == pytest.approx(wx, abs=0.2) and w == pytest.approx(ww, abs=0.3)
    # per-metre countermeasures: the library's guardrail (per m) takes the range's length
    rows = [["1", "X001", "K1+000", "K1+250", "临水临崖"]]
    header = ["序号", "路线编码", "起点桩号", "止点桩号", "隐患类型"]
    sid = _import(_csv(tmp_path / "q.csv", rows, header), roads)["survey_id"]
    out = CliRunner().invoke(cli, ["plan", "create", "--name", "Q", "--budget", "1e9"])
    assert out.exit_code == 0, out.output
    with roads.connect() as conn:
        qty, unit = conn.execute(
            text("SELECT quantity, unit FROM hazards WHERE survey_id = :s"), {"s": sid}
        ).one()
    assert (qty, unit) == (250.0, "m")


def test_a_correction_moves_a_linear_hazards_range_and_its_line(tmp_path: Path, roads) -> None:
    header = ["序号", "路线编码", "起点桩号", "止点桩号", "隐患类型"]
    first = _import(
        _csv(tmp_path / "a.csv", [["1", "X001", "K0+580", "K0+909", "临水临崖"]], header), roads
    )
    fixed = _csv(tmp_path / "b.csv", [["1", "X001", "K0+600", "K0+620", "临水临崖"]], header)
    second = _import(fixed, roads, corrects=first["survey_id"])
    assert second["updated"] == 1
    h = _by_survey(roads, first["survey_id"])["1"]
    assert (h["from_m"], h["to_m"], h["length_m"]) == (600.0, 620.0, 20.0)
    with roads.connect() as conn:
        wkt = conn.execute(
            text("SELECT ST_AsText(extent) FROM hazards WHERE public_id = :p"), {"p": h["id"]}
        ).scalar_one()
    import shapely
    from builders import geodesic_length

    assert geodesic_length(shapely.from_wkt(wkt)) == pytest.approx(20.0, abs=1.0)


# ----------------------------------------------------------------------------- route names
def test_same_road_rule_on_real_shaped_names() -> None:
    from hazards.route_names import places, same_road

    assert places("X001 南大膳至万子湖公路", code="X001") == ["南大膳", "万子湖"]
    # two roads sharing one end are two roads
    assert not same_road("城关—南大膳", "X001 南大膳至万子湖公路", code="X001")
    assert not same_road("草尾—新沙", "城关—南大膳", code="X001")
    for said in ("万子湖至南大膳", "南大膳-万子湖线", "南大膳", "X001", "", "（南大膳~万子湖）"):
        assert same_road(said, "X001 南大膳至万子湖公路", code="X001"), said
    assert same_road("城关镇至南大膳", "城关—南大膳") and same_road("环城路", "环城公路")


def test_a_route_name_that_disagrees_with_the_network_is_warned_not_held(
    tmp_path: Path, net: dict, roads
) -> None:
    """The network calls X001 城关—南大膳; a survey calling it 南大膳至万子湖公路 most likely has
    the wrong route code: its rows are accepted, each with a warning, and summed up per route."""
    x1, y2 = net["lines"]["X001"], net["lines"]["Y002"]
    header = ["序号", "路线编码", "路线名称", "经度", "纬度", "隐患类型", "隐患描述", "风险等级"]
    rows = []
    names = ["X001 南大膳至万子湖公路"] * 3 + ["城关至南大膳", "X001城关-南大膳线", ""]
    for k, (vertex, name) in enumerate(zip((10, 30, 50, 70, 90, 110), names, strict=True)):
        (lon, lat), _ = offset_from_vertex(x1, vertex, 5.0)
        rows.append([k + 1, "X001", name, lon, lat, "临水临崖", f"第{k + 1}处", "III"])
    (lon, lat), _ = offset_from_vertex(y2, 20, 5.0)
    rows.append([7, "Y002", "草尾—新沙乡道", lon, lat, "急弯陡坡", "第7处", "II"])
    path = _csv(tmp_path / "names.csv", rows, header=header)
    dry = _import(path, roads, dry_run=True)
    assert (dry["accepted"], dry["review"], dry["rejected"]) == (7, 0, 0)
    assert dry["route_name_mismatches"] == [
        {
            "route_code": "X001",
            "survey_name": "X001 南大膳至万子湖公路",
            "network_name": "城关—南大膳",
            "rows": 3,
        }
    ]
    assert dry["warnings"] == 3
    runner = CliRunner()
    args = ["survey", "import", str(path), "--provider", "某检测公司"]
    args += ["--surveyed-on", "2025-03-01"]
    out = runner.invoke(cli, args)
    assert out.exit_code == 0, out.output
    line = "X001：勘察表的路线名称为 X001 南大膳至万子湖公路，路网中为 城关—南大膳（3 行）"
    assert line in out.output.replace("\n", "") and out.output.count("勘察表的路线名称") == 1
    got = {h["source_row"]: h for h in store.list_hazards(roads)}
    assert len(got) == 7 and not any(h["status"] == "review" for h in got.values())
    warned = {row for row, h in got.items() if any("路线名称" in w for w in h["warnings"])}
    assert warned == {"1", "2", "3"}
    assert "check the route code" in " ".join(got["1"]["warnings"])


def test_a_survey_numbered_again_in_each_section_is_corrected_row_by_row(
    tmp_path: Path, net: dict, roads
) -> None:
    """A delivery numbered from 1 again in each township's section (一、… 1, 2, 3; 二、… 1, 2,
    3): its correction changes two costs, and exactly those two hazards change. Each corrected
    row is the hazard with its 序号 on its own route (the first in row order took section 2's
    row 1 as well, and sent it to review as a 2 km move)."""
    x1, y2 = net["lines"]["X001"], net["lines"]["Y002"]
    header = [*HEADER, "估算金额(元)"]
    rows = [
        *(
            [k, "X001", "", *along(x1, 300 * k), "急弯", f"A{k}", "一级", 1000 * k]
            for k in (1, 2, 3)
        ),
        *(
            [k, "Y002", "", *along(y2, 300 * k), "陡坡", f"B{k}", "二级", 100 * k]
            for k in (1, 2, 3)
        ),
    ]
    first = _import(_csv(tmp_path / "s.csv", rows, header), roads)
    assert first["added"] == 6
    fixed = [list(r) for r in rows]
    fixed[0][-1], fixed[3][-1] = 1111, 111  # section 1's row 1 and section 2's row 1
    c = _import(_csv(tmp_path / "s-fixed.csv", fixed, header), roads, corrects=first["survey_id"])
    assert (c["updated"], c["unchanged"], c["review"], c["added"]) == (2, 4, 0, 0), c
    got = {
        (h["route_code"], h["description"]): (h["provided_cost_cny"], h["status"])
        for h in store.list_hazards(roads, survey=first["survey_id"])
    }
    want = {("X001", f"A{k}"): (1000.0 * k, "identified") for k in (1, 2, 3)}
    want |= {("Y002", f"B{k}"): (100.0 * k, "identified") for k in (1, 2, 3)}
    want[("X001", "A1")], want[("Y002", "B1")] = (1111.0, "identified"), (111.0, "identified")
    assert got == want


def test_the_second_sheet_of_a_workbook_is_a_survey_of_its_own(
    tmp_path: Path, net: dict, roads
) -> None:
    """A delivery in one workbook, a sheet per batch of the survey: its second sheet, imported
    after its first, is a survey of its own (it was refused as the first sheet's survey read
    another way, whose suggested fixes, --replace or --corrects, would have dropped or
    overwritten the first sheet). Each sheet imported again changes nothing; without --sheet
    the workbook is refused, its two sheets of data named."""
    import openpyxl

    x1, y2 = net["lines"]["X001"], net["lines"]["Y002"]
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "第一批"
    second = wb.create_sheet("第二批")
    first.append(HEADER)
    second.append(HEADER)
    for k in (1, 2):
        first.append([k, "X001", "", *along(x1, 400 * k), "急弯", f"A{k}", "一级"])
        second.append([k, "Y002", "", *along(y2, 400 * k), "陡坡", f"B{k}", "二级"])
    path = tmp_path / "delivery.xlsx"
    wb.save(path)
    with pytest.raises(InputError, match="2 sheets of data \\(第一批, 第二批\\)"):
        _import(path, roads)  # the first sheet alone would leave the second out unsaid
    a = _import(path, roads, sheet="第一批")
    b = _import(path, roads, sheet="第二批")
    assert (a["added"], b["added"], b.get("already_imported", False)) == (2, 2, False)
    assert a["survey_id"] != b["survey_id"]
    assert {h["description"] for h in _by_survey(roads, b["survey_id"]).values()} == {"B1", "B2"}
    for kw, earlier in (({"sheet": "第一批"}, a), ({"sheet": "第二批"}, b)):
        again = _import(path, roads, **kw)
        assert (again["already_imported"], again["survey_id"]) == (True, earlier["survey_id"])
    from click.testing import CliRunner

    from hazards.cli import cli

    listed = json.loads(CliRunner().invoke(cli, ["survey", "list", "--json"]).output)
    assert [(s["source_name"], s["sheet"]) for s in listed] == [
        ("delivery.xlsx", "第一批"),
        ("delivery.xlsx", "第二批"),
    ]
    shown = CliRunner().invoke(cli, ["survey", "import", str(path), "--sheet", "第二批",
                                     "--provider", "p", "--surveyed-on", "2025-03-01"])  # fmt: skip
    assert "（工作表 第二批） 已作为勘察批次" in shown.output.replace("\n", ""), shown.output


def test_a_correction_that_fixes_why_a_row_went_to_review_takes_it_out(
    tmp_path: Path, net: dict, roads
) -> None:
    """A row whose route code was typed wrong (X00l for X001) went to review; the firm's
    correction fixes the code, and the row now matches: its hazard is identified, its review
    reason gone, as the correction's report counts it (accepted), with an updated event from
    review. A correction that leaves a row in doubt leaves its hazard in review."""
    x1 = net["lines"]["X001"]
    (lon, lat), _ = offset_from_vertex(x1, 60, 2.0)
    rows = [
        [1, "X00L", "", lon, lat, "急弯", "typo in the code", "一级"],
        [2, "Q999", "", *along(x1, 1500), "陡坡", "unknown code", "二级"],
    ]
    first = _import(_csv(tmp_path / "s.csv", rows), roads)
    before = _by_survey(roads, first["survey_id"])
    assert [before[k]["status"] for k in ("1", "2")] == ["review", "review"]
    fixed = [[1, "X001", *rows[0][2:]], [*rows[1][:6], "unknown code, more text", "二级"]]
    c = _import(_csv(tmp_path / "s2.csv", fixed), roads, corrects=first["survey_id"])
    assert (c["accepted"], c["review"], c["updated"]) == (1, 1, 2), c
    after = _by_survey(roads, first["survey_id"])
    assert (after["1"]["status"], after["1"]["route_code"], after["1"]["review_reason"]) == (
        "identified",
        "X001",
        None,
    )
    assert after["2"]["status"] == "review" and "Q999" in after["2"]["review_reason"]
    with roads.connect() as conn:
        last = conn.execute(
            text(
                "SELECT e.kind, e.from_status, e.to_status FROM hazard_events e JOIN hazards h "
                "ON h.id = e.hazard_id WHERE h.public_id = :p ORDER BY e.id DESC LIMIT 1"
            ),
            {"p": after["1"]["id"]},
        ).one()
    assert tuple(last) == ("updated", "review", "identified")


def test_a_workbook_whose_first_tab_is_a_chart_is_one_survey_however_its_sheet_is_named(
    tmp_path: Path, net: dict, roads
) -> None:
    """The first tab a chart: an import without --sheet reads the first worksheet, 数据; with
    --sheet 数据 it is the same rows, not a survey of its own (found by a review: the chart's
    name was taken for the sheet read)."""
    import openpyxl
    from openpyxl.chart import BarChart, Reference

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(HEADER)
    ws.append([1, "X001", "", *along(net["lines"]["X001"], 400), "急弯", "A1", "一级"])
    chart = wb.create_chartsheet("图表", 0)
    bars = BarChart()
    bars.add_data(Reference(ws, min_col=8, min_row=1, max_row=2))
    chart.add_chart(bars)
    path = tmp_path / "with-chart.xlsx"
    wb.save(path)
    assert openpyxl.load_workbook(path).sheetnames[0] == "图表"
    first = _import(path, roads)
    assert first["added"] == 1
    with pytest.raises(InputError, match="already imported as survey"):
        _import(path, roads, sheet="数据")


def test_a_correction_of_a_survey_numbered_in_sections_adds_what_was_rejected(
    tmp_path: Path, net: dict, roads
) -> None:
    """Numbered from 1 in each section, the survey's section 1 row 1 was rejected (a 桩号
    beyond its route's end) and only section 2's row 1 (Y002) stored. The correction fixes
    section 1's row: that row is added (it took section 2's hazard before, moved it to X001
    and sent it to review, and section 2's own row then corrected it again). A row of the
    correction repeating a 序号 whose hazards are all taken is a row of its own too."""
    rows = [
        [1, "X001", "K99+000", "", "", "急弯", "A1 beyond the end", "一级"],
        [2, "X001", "K0+800", "", "", "急弯", "A2", "一级"],
        [1, "Y002", "K0+300", "", "", "陡坡", "B1", "二级"],
    ]
    first = _import(_csv(tmp_path / "s.csv", rows), roads)
    assert (first["accepted"], first["rejected"]) == (2, 1)
    fixed = [[1, "X001", "K1+000", "", "", "急弯", "A1 fixed", "一级"], rows[1], rows[2],
             [2, "X001", "K1+900", "", "", "急弯", "A2 again", "一级"]]  # fmt: skip
    c = _import(_csv(tmp_path / "s2.csv", fixed), roads, corrects=first["survey_id"])
    assert (c["added"], c["updated"], c["unchanged"], c["review"]) == (2, 0, 2, 0), c
    got = {h["description"]: (h["route_code"], h["status"]) for h in store.list_hazards(roads)}
    assert got == {
        "A2": ("X001", "identified"),
        "B1": ("Y002", "identified"),
        "A1 fixed": ("X001", "identified"),
        "A2 again": ("X001", "identified"),
    }


def test_a_site_worded_another_way_next_year_is_seen_again(roads) -> None:  # type: ignore[no-untyped-def]
    """Another firm words the category differently (陡坡路段 for 陡坡, 急弯路段 for 急弯): the
    same site is seen again, not made twice; unknown words (路面积水, 落石) stay apart."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        first = _csv(Path(tmp) / "2024.csv", [
            [1, "X001", "K1+000", "", "", "陡坡", "", "二级"],
            [2, "X001", "K2+000", "", "", "急弯", "", "一级"],
            [3, "X001", "K3+000", "", "", "路面积水", "", "三级"],
        ])  # fmt: skip
        second = _csv(Path(tmp) / "2025.csv", [
            [1, "X001", "K1+002", "", "", "陡坡路段", "", "二级"],
            [2, "X001", "K2+001", "", "", "急弯路段", "", "一级"],
            [3, "X001", "K3+001", "", "", "落石", "", "三级"],
        ])  # fmt: skip
        a = _import(first, roads)
        b = _import(second, roads)
    assert (a["added"], b["added"], b["seen_again"]) == (3, 1, 2), b
    from hazards.cells import category_key

    # a text naming two hazards is neither (it would have merged with either)
    assert category_key("急弯陡坡", None) not in (
        category_key("急弯", None),
        category_key("陡坡", None),
    )
    assert category_key("急弯,视距不良", None) != category_key("视距不良", None)


def test_photos_delivered_after_the_survey_are_taken_by_a_correction(tmp_path: Path, roads) -> None:
    """The survey came without its photo folder (names only); the folder comes later: the same
    file imported as a correction with --photos takes the photos (it changed nothing: the rows
    were the same), a hazard in review staying in review."""
    import shutil

    shutil.copy(DATA / "linear_survey.csv", tmp_path / "linear_survey.csv")
    first = _import(tmp_path / "linear_survey.csv", roads)
    before = _by_survey(roads, first["survey_id"])
    named = {k: h["photo"] for k, h in before.items() if h["photo"]}
    assert named and not any(Path(p).is_absolute() for p in named.values())
    from hazards.remediation import history, set_status

    set_status([before["1"]["id"]], to="planned", on="2025-04-01", engine=roads)  # after it
    statuses = {k: "planned" if k == "1" else h["status"] for k, h in before.items()}
    shutil.copytree(DATA / "linear_photos", tmp_path / "linear_photos")
    again = _import(tmp_path / "linear_survey.csv", roads, corrects=first["survey_id"],
                    photos=tmp_path / "linear_photos")  # fmt: skip
    assert (again["updated"], again["added"]) == (2, 0), again  # the two files in the folder
    after = _by_survey(roads, first["survey_id"])
    assert {k: Path(after[k]["photo"]).name for k in ("1", "2")} == {
        "1": "IMG_0001.jpg",
        "2": "IMG_0002.JPG",
    }
    assert all(Path(after[k]["photo"]).is_file() for k in ("1", "2"))
    assert after["6"]["photo"] == named["6"]  # a URL, as it was
    assert {k: h["status"] for k, h in after.items()} == statuses
    # the photo's event changes no status and is not dated before the planning (it was dated
    # the survey's day, planned → planned, and progress --as-of counted it planned too early)
    last = history(before["1"]["id"], engine=roads)["events"][-1]
    assert (last["kind"], last["to_status"], str(last["happened_on"])) == (
        "updated",
        None,
        "2025-04-01",
    )
    # the same correction without the folder: the photos found stay (not their bare names)
    shutil.rmtree(tmp_path / "linear_photos")
    third = _import(tmp_path / "linear_survey.csv", roads, corrects=first["survey_id"])
    assert third["updated"] == 0, third
    assert {k: h["photo"] for k, h in _by_survey(roads, first["survey_id"]).items()} == {
        k: h["photo"] for k, h in after.items()
    }


@pytest.mark.parametrize("named_first", [False, True])
def test_the_sheet_of_data_named_or_not_is_one_survey(
    tmp_path: Path, net: dict, roads, named_first: bool
) -> None:
    """A workbook whose notes sheet (填表说明) comes first: imported without --sheet (its sheet
    of data read) and with --sheet 数据, in either order, is one survey (it became two, the same
    rows twice: the check took the first sheet for the one read without --sheet)."""
    import openpyxl

    x1 = net["lines"]["X001"]
    wb = openpyxl.Workbook()
    wb.active.title = "填表说明"
    wb.active.append(["本表由检测单位填写，坐标为 CGCS2000"])
    data = wb.create_sheet("数据")
    data.append(HEADER)
    for k in (1, 2):
        data.append([k, "X001", "", *along(x1, 400 * k), "急弯", f"A{k}", "一级"])
    path = tmp_path / "delivery.xlsx"
    wb.save(path)
    kws = [{"sheet": "数据"}, {}] if named_first else [{}, {"sheet": "数据"}]
    first = _import(path, roads, **kws[0])
    with pytest.raises(InputError, match="already imported as survey") as err:
        _import(path, roads, **kws[1])
    assert str(first["survey_id"]) in err.value.message
    assert len(store.list_hazards(roads)) == 2
