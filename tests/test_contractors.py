"""The contractor round trip: batch out as GeoJSON/XLSX (hazards.contractors), completion report
back in (hazards.completions): one module, as each test goes out and back."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import jsonschema
import pytest
from click.testing import CliRunner
from pyproj import Geod
from sqlalchemy import text

from hazards.cli import cli
from hazards.completions import import_completion
from hazards.contractors import export_batch, schema, validate_collection
from hazards.errors import InputError

TODAY = dt.date.today().isoformat()


def _batch(engine) -> str:
    from hazards.db import store

    return store.list_batches(engine)[0]["name"]


def test_export_is_rfc7946_valid_against_the_schema_and_reads_back(tracked, tmp_path: Path) -> None:
    name = _batch(tracked)
    runner = CliRunner()
    assert (
        runner.invoke(
            cli, ["batch", "set", name, "--contractor", "路桥公司", "--due", "2026-12-31"]
        ).exit_code
        == 0
    )
    out = runner.invoke(cli, ["export", "batch", name, "-o", str(tmp_path / "b.geojson")])
    assert out.exit_code == 0, out.output
    data = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema()).validate(data)
    assert data["type"] == "FeatureCollection" and "crs" not in data
    for f in data["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90 and 112 < lon < 113  # lon/lat order
        assert f["id"] == f["properties"]["id"] and f["properties"]["batch"] == name
        assert f["properties"]["due_date"] == "2026-12-31"
        assert f["properties"]["chainage"].startswith("K")
    back = gpd.read_file(tmp_path / "b.geojson", engine="pyogrio")
    from hazards.db import store

    with tracked.connect() as conn:
        from sqlalchemy import text

        expected = (
            conn.execute(
                text(
                    "SELECT h.public_id FROM batch_items bi JOIN batches b ON b.id = bi.batch_id "
                    "JOIN hazards h ON h.id = bi.hazard_id WHERE b.name = :n ORDER BY 1"
                ),
                {"n": name},
            )
            .scalars()
            .all()
        )
    assert sorted(back["id"]) == expected and back.crs.to_epsg() == 4326
    export_batch(name, tmp_path / "b.xlsx", lang="en", engine=tracked)
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "b.xlsx").active
    head, header = _table(ws)
    assert (
        header[:3] == ["no", "id", "route_code"]
        and sorted(r[1] for r in list(ws.iter_rows(min_row=head + 1, values_only=True))[:-1])
        == expected
    )
    assert store.get_batch(tracked, name)["contractor"] == "路桥公司"


def test_a_broken_file_is_refused_with_the_schema_errors() -> None:
    with pytest.raises(InputError, match="features/0/id"):
        validate_collection(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "id": "X", "geometry": None, "properties": {}}],
            }
        )
    with pytest.raises(InputError):
        validate_collection({"type": "FeatureCollection", "crs": {}, "features": []})


def test_completion_round_trip_applies_exactly_the_valid_rows(tracked, tmp_path: Path) -> None:
    name = _batch(tracked)
    CliRunner().invoke(
        cli, ["batch", "set", name, "--contractor", "路桥公司", "--start", "2025-06-01"]
    )
    export_batch(name, tmp_path / "b.geojson", engine=tracked)
    data = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))
    feats = data["features"]
    assert len(feats) >= 4
    done = [feats[0], feats[1]]
    for f in done:
        f["properties"].update(status="完成", completed_on=TODAY, evidence="IMG_1.jpg")
    feats[2]["properties"].update(
        status="reported_done", completed_on="2025-05-01"
    )  # before the start
    moved = feats[3]
    lon, lat = moved["geometry"]["coordinates"]
    moved["geometry"]["coordinates"] = list(Geod(ellps="WGS84").fwd(lon, lat, 90, 50)[:2])
    moved["properties"].update(status="done", completed_on=TODAY)
    ghost = copy.deepcopy(feats[0])
    ghost["id"] = ghost["properties"]["id"] = "H999999"
    feats.append(ghost)
    path = tmp_path / "returned.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    dry = import_completion(path, dry_run=True, engine=tracked)
    assert dry["valid"] == 2 and dry["applied"] == 0
    # refused as a whole (three invalid rows, no --partial): the dry run promises no change
    assert dry["refused"] and dry["changes"] == [] and "would be refused" in dry["message"]
    partly = import_completion(path, dry_run=True, partial=True, engine=tracked)
    assert {c["id"] for c in partly["changes"]} == {done[0]["id"], done[1]["id"]}
    from hazards.remediation import history

    assert history(done[0]["id"], engine=tracked)["status"] == "planned"
    # all or nothing: three invalid rows, so nothing is applied, and the message says so
    whole = CliRunner().invoke(cli, ["import", "completion", str(path)])
    assert whole.exit_code == 1, whole.output
    said = whole.output.replace("\n", "")  # zh, the default language
    assert "未做任何更改：9 行中有 3 行无效" in said and "--partial" in said
    assert "Traceback" not in whole.output
    assert history(done[0]["id"], engine=tracked)["status"] == "planned"
    out = CliRunner().invoke(cli, ["import", "completion", str(path), "--json", "--partial"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["message"].startswith("2 hazards changed (2 to reported_done); 3 invalid")
    assert report["applied"] == 2 and {c["id"] for c in report["changes"]} == {
        done[0]["id"],
        done[1]["id"],
    }
    reasons = {r["id"]: r["reason"] for r in report["invalid_rows"]}
    assert set(reasons) == {feats[2]["id"], moved["id"], "H999999"}
    assert "before the batch start" in reasons[feats[2]["id"]]
    assert "moved 50 m" in reasons[moved["id"]]
    assert "unknown hazard id" in reasons["H999999"]
    assert report["not_reported"] == len(feats) - 5
    # the invalid rows as imported, the moved point where the file put it, to correct
    with Path(report["rejected_file"]).open(encoding="utf-8-sig", newline="") as fh:
        back = {r["id"]: r for r in csv.DictReader(fh)}
    assert set(back) == set(reasons)
    assert [float(back[moved["id"]][k]) for k in ("lon", "lat")] == moved["geometry"]["coordinates"]
    assert back[moved["id"]]["source_row"] == str(feats.index(moved) + 1)
    h = history(done[0]["id"], engine=tracked)
    assert (
        h["status"] == "reported_done"
        and h["events"][-1]["evidence"] == "IMG_1.jpg"
        and h["events"][-1]["by"] == "路桥公司"
    )
    again = import_completion(path, partial=True, engine=tracked)
    assert again["applied"] == 0 and again["unchanged"] == 2


def test_completion_from_xlsx(tracked, tmp_path: Path) -> None:
    import openpyxl

    name = _batch(tracked)
    export_batch(name, tmp_path / "w.xlsx", lang="en", engine=tracked)
    wb = openpyxl.load_workbook(tmp_path / "w.xlsx")
    ws = wb.active
    head, header = _table(ws)
    first = next(ws.iter_rows(min_row=head + 1, max_row=head + 1))
    first[header.index("status")].value = "已完成"
    first[header.index("completed_on")].value = TODAY
    wb.save(tmp_path / "w.xlsx")
    report = import_completion(tmp_path / "w.xlsx", engine=tracked)
    assert report["applied"] == 1 and report["invalid"] == 0


def test_a_report_applied_before_stays_applied_after_a_failed_recheck(
    tracked, tmp_path: Path
) -> None:
    from hazards.remediation import record_recheck

    name = _batch(tracked)
    export_batch(name, tmp_path / "b.geojson", engine=tracked)
    data = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))
    f = data["features"][0]
    f["properties"].update(status="完成", completed_on=TODAY)
    (tmp_path / "r.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert import_completion(tmp_path / "r.geojson", engine=tracked)["applied"] == 1
    record_recheck(f["id"], result="fail", engine=tracked)
    again = import_completion(tmp_path / "r.geojson", engine=tracked)
    assert (again["applied"], again["unchanged"], again["invalid"]) == (0, 1, 0)
    from hazards.planning import create_plan
    from hazards.remediation import history

    assert history(f["id"], engine=tracked)["status"] == "reopened"
    # a draft plan that takes the reopened site binds nothing: the report of the batch it is in
    # still holds (before: "hazard … belongs to batch D-1, not …", invalid), and its history
    # names that batch, until the draft is committed
    draft = create_plan(name="D", budget=1e9, engine=tracked)
    assert f["id"] in {i["id"] for b in draft["batches"] for i in b["items"]}
    again = import_completion(tmp_path / "r.geojson", engine=tracked)
    assert (again["applied"], again["unchanged"], again["invalid"]) == (0, 1, 0)
    assert history(f["id"], engine=tracked)["batch"] == name


def test_export_streams_the_whole_batch_and_leaves_nothing_half_written(
    tracked, tmp_path: Path
) -> None:
    from hazards.db import store
    from hazards.errors import NotFound

    name = _batch(tracked)
    out = tmp_path / "deep" / "b.geojson"
    report = export_batch(name, out, engine=tracked)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert report["hazards"] == len(data["features"]) == store.list_batches(tracked)[0]["hazards"]
    assert (data["name"], data["batch"]) == (name, name)
    keys = [
        (f["properties"]["route_code"], f["properties"]["chainage_m"], f["id"])
        for f in data["features"]
    ]
    assert keys == sorted(keys)  # by route and chainage, as a contractor walks the road
    assert json.loads(store.batch_feature_collection(tracked, name)) == data
    assert [p.name for p in out.parent.iterdir()] == ["b.geojson"]
    with pytest.raises(NotFound):
        export_batch("no-such-batch", tmp_path / "none" / "x.geojson", engine=tracked)
    assert not (tmp_path / "none").exists()


def test_an_export_that_breaks_the_schema_writes_no_file(
    tracked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hazards.contractors as contractors

    monkeypatch.setattr(
        contractors, "schema", lambda: {"type": "object", "required": ["not_there"]}
    )
    with pytest.raises(InputError, match="does not match the contractor file schema"):
        export_batch(_batch(tracked), tmp_path / "out" / "b.geojson", engine=tracked)
    assert list((tmp_path / "out").iterdir()) == []


# ----------------------------------------------------------------------------- the zh work list
@pytest.fixture
def planned_2025(tmp_path: Path, engine):
    """The ``tracked`` network and survey, with the plan committed on 2025-05-20 (so that
    completions dated July 2025 are after every hazard's last change)."""
    import csv

    from builders import frame, network

    from hazards.intake import import_survey
    from hazards.roads import load_roads

    frame(network()["features"], "EPSG:4546").to_file(tmp_path / "r.gpkg", engine="pyogrio")
    load_roads(tmp_path / "r.gpkg", engine=engine)
    rows = [["路线编码", "桩号", "隐患类型", "风险等级", "处置建议", "长度(m)", "估算金额(万元)"]]
    for i in range(6):
        metres = 200 + 400 * (i % 3)
        rows.append(
            [
                "X001" if i < 3 else "Y002",
                f"K{metres // 1000}+{metres % 1000:03d}",
                "临水临崖" if i % 2 else "急弯",
                "一级" if i in (0, 4) else "三级",
                {1: "增设警告标志", 3: "增设波形护栏"}.get(i, ""),
                "80" if i == 3 else "",
                "" if i == 1 else str(1 + i),
            ]
        )
    with (tmp_path / "s.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    report = import_survey(
        tmp_path / "s.csv", provider="p", surveyed_on="2025-03-01", engine=engine
    )
    assert report["accepted"] == 6
    runner = CliRunner()
    for args in (
        ["tiers", "compute"],
        ["plan", "create", "--name", "P", "--budget", "1e9", "--batches", "1"],
        ["plan", "commit", "P", "--on", "2025-05-20"],
    ):
        out = runner.invoke(cli, args)
        assert out.exit_code == 0, out.output
    name = _batch(engine)
    update = ["batch", "set", name, "--contractor", "某路桥公司", "--start", "2025-06-01"]
    assert runner.invoke(cli, [*update, "--due", "2025-10-31"]).exit_code == 0
    return engine


def _table(ws) -> tuple[int, list[str]]:
    """The header row number and header of a work list (below its header block)."""
    for row in ws.iter_rows(min_row=1, max_row=15):
        if row[1].value in ("隐患编号", "id"):
            return row[0].row, [c.value for c in row]
    raise AssertionError("no header row")


def test_the_zh_work_list_has_a_header_block_chinese_cells_a_status_list_and_totals(
    planned_2025, tmp_path: Path
) -> None:
    import openpyxl

    from hazards.vocabulary import CATEGORY_ZH, TIER_ZH

    engine = planned_2025
    name = _batch(engine)
    # a hazard's cost estimated again after the batch was planned (a cost library changed):
    # the header's amount is its rows' (before: the amount stored at planning, 3,000 off)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE hazards SET provided_cost_cny = coalesce(provided_cost_cny, 0) + 3000 "
                "WHERE id = (SELECT min(bi.hazard_id) FROM batch_items bi JOIN batches b "
                "ON b.id = bi.batch_id WHERE b.name = :n)"
            ),
            {"n": name},
        )
    out = CliRunner().invoke(cli, ["export", "batch", name, "-o", str(tmp_path / "w.xlsx")])
    assert out.exit_code == 0, out.output  # zh: the default language
    export_batch(name, tmp_path / "b.geojson", engine=engine)
    features = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))["features"]
    wb = openpyxl.load_workbook(tmp_path / "w.xlsx")
    assert wb.sheetnames == ["施工清单", "填写说明"]
    ws = wb["施工清单"]
    block = {r[c].value: r[c + 1].value for r in ws.iter_rows(min_row=2, max_row=5) for c in (0, 2)}
    assert block["批次"] == name and block["施工单位"] == "某路桥公司"
    assert block["开工日期"].date() == dt.date(2025, 6, 1)
    assert block["计划完工日期"].date() == dt.date(2025, 10, 31)
    assert block["隐患数（处）"] == len(features) == 6
    head, header = _table(ws)
    assert header[:3] == ["序号", "隐患编号", "路线编码"]
    assert {"桩号", "隐患类型", "风险等级", "整治措施", "数量", "单位", "状态", "完成日期"} <= set(
        header
    )
    assert ws.freeze_panes == f"C{head + 1}"
    rows = list(ws.iter_rows(min_row=head + 1, values_only=True))
    data, total = rows[:-1], rows[-1]
    by_id = {r[header.index("隐患编号")]: dict(zip(header, r, strict=True)) for r in data}
    assert sorted(by_id) == sorted(f["id"] for f in features)
    for f in features:
        row, p = by_id[f["id"]], f["properties"]
        assert row["隐患类型"] == CATEGORY_ZH[p["category"]]
        assert row["风险等级"] == TIER_ZH[p["tier"]] and row["状态"] == "未开工"
        assert row["估算费用（元）"] == pytest.approx(p["estimated_cost_cny"])
        assert (row["经度"], row["纬度"]) == pytest.approx((p["lon"], p["lat"]))  # the point
        assert row["计划完工日期"] == dt.datetime(2025, 10, 31)  # a date cell, as in the block
    due = header.index("计划完工日期") + 1
    assert {ws.cell(r, due).number_format for r in range(head + 1, head + 7)} == {"yyyy-mm-dd"}
    # the list as written (date cells in its rows) reads back: nothing to apply, nothing invalid
    back = import_completion(tmp_path / "w.xlsx", dry_run=True, engine=engine)
    assert (back["applied"], back["invalid"]) == (0, 0), back
    assert total[0] == "合计" and total[header.index("估算费用（元）")] == pytest.approx(
        sum(f["properties"]["estimated_cost_cny"] for f in features)
    )
    assert block["批次金额（元）"] == pytest.approx(total[header.index("估算费用（元）")])
    (dv,) = ws.data_validations.dataValidation
    col = openpyxl.utils.get_column_letter(header.index("状态") + 1)
    assert dv.type == "list" and dv.formula1 == '"未开工,施工中,已完成"'
    assert str(dv.sqref) == f"{col}{head + 1}:{col}{head + len(features)}"
    told = " ".join(c.value for c in wb["填写说明"]["A"])
    assert "2025年7月20日" in told
    # the office that issued the batch, whichever it is (a traffic police brigade too)
    assert "交回发包单位" in told and "交通运输局" not in told
    # One countermeasure per hazard with its own unit and quantity, labelled with its source:
    # the survey's 增设警告标志 has no quantity (the survey gave none), never the library's.
    signs = [r for r in by_id.values() if r["整治措施"] == "增设警告标志"]
    assert len(signs) == 1 and signs[0]["措施来源"] == "勘察"
    assert signs[0]["数量"] is None and signs[0]["单位"] is None
    library = [r for r in by_id.values() if r["措施来源"] == "成本库"]
    assert len(library) == 5 and all(r["数量"] and r["单位"] in ("米", "处") for r in library)
    # 增设波形护栏 names the library's measure (W-beam guardrail (波形护栏), per metre): its
    # quantity is the library's, from the hazard's 80 m.
    (rail,) = [r for r in by_id.values() if r["整治措施"] == "增设波形护栏"]
    assert (rail["措施来源"], rail["数量"], rail["单位"]) == ("成本库", 80.0, "米")
    en = export_batch(name, tmp_path / "en.xlsx", lang="en", engine=engine)
    ws_en = openpyxl.load_workbook(tmp_path / "en.xlsx")["work list"]
    _, header_en = _table(ws_en)
    assert en["lang"] == "en" and header_en[:3] == ["no", "id", "route_code"]


def test_a_returned_zh_work_list_with_typed_dates_imports(planned_2025, tmp_path: Path) -> None:
    import openpyxl

    from hazards.remediation import history

    engine = planned_2025
    name = _batch(engine)
    export_batch(name, tmp_path / "w.xlsx", lang="zh", engine=engine)
    wb = openpyxl.load_workbook(tmp_path / "w.xlsx")
    ws = wb.active
    head, header = _table(ws)
    rows = list(ws.iter_rows(min_row=head + 1, max_row=head + 4))
    status, day = header.index("状态"), header.index("完成日期")
    filled = [
        ("已完成", "2025/7/20", "reported_done", dt.date(2025, 7, 20)),
        ("已完成", "2025年7月21日", "reported_done", dt.date(2025, 7, 21)),
        ("已完成", dt.datetime(2025, 7, 22), "reported_done", dt.date(2025, 7, 22)),  # a date cell
        ("施工中", "2025.7.1", "in_progress", dt.date(2025, 7, 1)),
    ]
    for row, (word, typed, _to, _on) in zip(rows, filled, strict=True):
        row[status].value, row[day].value = word, typed
    # The guardrail run (80 m, centred on its 桩号): a contractor may report its start instead
    # of its point (40 m away); both are where the hazard is.
    export_batch(name, tmp_path / "b.geojson", engine=engine)
    features = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))["features"]
    (run,) = [f for f in features if f["geometry"]["type"] == "LineString"]
    (run_row,) = [r for r in rows if r[1].value == run["id"]]
    start = run["geometry"]["coordinates"][0]
    point = (run["properties"]["lon"], run["properties"]["lat"])
    assert Geod(ellps="WGS84").inv(*start, *point)[2] > 15  # farther than a move allows
    run_row[header.index("经度")].value, run_row[header.index("纬度")].value = start
    wb.save(tmp_path / "returned.xlsx")
    out = CliRunner().invoke(cli, ["import", "completion", str(tmp_path / "returned.xlsx")])
    assert out.exit_code == 0, out.output
    report = import_completion(tmp_path / "returned.xlsx", engine=engine)
    assert (report["applied"], report["unchanged"], report["invalid"]) == (0, 4, 0)
    for row, (_w, _t, to, on) in zip(rows, filled, strict=True):
        h = history(row[1].value, engine=engine)
        assert h["status"] == to and str(h["events"][-1]["happened_on"]) == on.isoformat()
        assert h["events"][-1]["by"] == "某路桥公司"
    # a date that is none of the forms is refused with the forms it could take
    ws.cell(head + 5, status + 1).value = "已完成"
    ws.cell(head + 5, day + 1).value = "下周"
    wb.save(tmp_path / "bad.xlsx")
    bad = import_completion(tmp_path / "bad.xlsx", dry_run=True, engine=engine)
    (reason,) = [r["reason"] for r in bad["invalid_rows"]]
    assert "'下周' is not a date" in reason and "2025年7月20日" in reason


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2025-07-20", dt.date(2025, 7, 20)),
        ("2025/7/20", dt.date(2025, 7, 20)),
        ("2025.7.20", dt.date(2025, 7, 20)),
        ("2025年7月20日", dt.date(2025, 7, 20)),
        ("２０２５年７月２０日", dt.date(2025, 7, 20)),
        ("2025-07-20T00:00:00", dt.date(2025, 7, 20)),
        (45858, dt.date(2025, 7, 20)),  # Excel's serial number of that day
        ("45858", dt.date(2025, 7, 20)),
        (dt.datetime(2025, 7, 20, 8, 30), dt.date(2025, 7, 20)),
        ("", None),
        (None, None),
    ],
)
def test_read_date_reads_the_forms_people_type(typed, day) -> None:
    from hazards.dates import read_date

    assert read_date(typed) == day


@pytest.mark.parametrize("typed", ["7/20/2025", "2025-02-30", "soon", 12, True])
def test_read_date_refuses_what_is_not_a_date(typed) -> None:
    from hazards.dates import read_date

    with pytest.raises(ValueError):
        read_date(typed)


def test_a_linear_hazard_row_takes_its_start_point_and_its_chainage_range(tmp_path: Path) -> None:
    import openpyxl

    from hazards.worklist import write_work_list

    line = {"type": "LineString", "coordinates": [[112.31, 28.91], [112.32, 28.92]]}
    point = {"type": "Point", "coordinates": [112.4, 28.8]}
    base = {"category": "roadside_water_or_cliff", "tier": "II", "status": "in_progress"}
    collection = {
        "features": [
            {
                "geometry": line,
                "properties": {**base, "id": "H000001", "from_m": 744.0, "to_m": 1073.0},
            },
            {
                "geometry": point,
                "properties": {**base, "id": "H000002", "from_m": None, "to_m": None},
            },
        ]
    }
    batch = {"name": "B", "contractor": None, "plan_name": "P", "cost_cny": None}
    assert write_work_list(collection, batch, tmp_path / "l.xlsx", lang="zh") == 2
    ws = openpyxl.load_workbook(tmp_path / "l.xlsx").active
    head, header = _table(ws)
    rows = [
        dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=head + 1, values_only=True)
    ]
    assert (rows[0]["起点桩号"], rows[0]["止点桩号"]) == ("K0+744", "K1+073")
    assert (rows[0]["经度"], rows[0]["纬度"]) == (112.31, 28.91)  # the start of the run
    assert (rows[1]["起点桩号"], rows[1]["经度"]) == (None, 112.4)
    assert rows[0]["状态"] == "施工中" and rows[0]["隐患类型"] == "临水临崖"
    assert rows[2]["序号"] == "合计"
    # without linear hazards, no range columns
    collection["features"] = collection["features"][1:]
    write_work_list(collection, batch, tmp_path / "p.xlsx", lang="zh")
    assert "起点桩号" not in _table(openpyxl.load_workbook(tmp_path / "p.xlsx").active)[1]


def test_an_undated_in_progress_report_does_not_block_the_completion_after_it(
    planned_2025, tmp_path: Path
) -> None:
    """The county imports an interim report late: 施工中 with no date. It is dated the batch
    start (2025-06-01, after the plan's commit on 2025-05-20), not the import day, so the
    contractor's next report, 已完成 on 2025-07-20, is applied rather than refused as before the
    hazard's last change."""
    from hazards.remediation import history

    engine = planned_2025
    export_batch(_batch(engine), tmp_path / "b.geojson", engine=engine)
    hid = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))["features"][0]["id"]
    interim = tmp_path / "interim.csv"
    interim.write_text(f"隐患编号,状态,完成日期\n{hid},施工中,\n", encoding="utf-8")
    assert import_completion(interim, engine=engine)["applied"] == 1
    done = tmp_path / "done.csv"
    done.write_text(f"隐患编号,状态,完成日期\n{hid},已完成,2025-07-20\n", encoding="utf-8")
    report = import_completion(done, engine=engine)
    assert (report["applied"], report["invalid_rows"]) == (1, []), report
    events = [
        (e["to_status"], str(e["happened_on"])) for e in history(hid, engine=engine)["events"][-2:]
    ]
    assert events == [("in_progress", "2025-06-01"), ("reported_done", "2025-07-20")]


def test_a_batch_of_a_draft_plan_is_exported_with_a_warning(tracked, tmp_path: Path) -> None:
    """A work list of a plan not committed yet: its hazards are not planned, so its
    contractor's report would be refused row by row. The export says so (and how to get a
    batch that can be reported); once the plan is committed it says nothing."""
    from hazards.intake import import_survey

    sheet = tmp_path / "more.csv"
    sheet.write_text("序号,路线编码,桩号,隐患类型,风险等级\n1,X001,K0+050,急弯,一级\n", "utf-8")
    import_survey(sheet, provider="q", surveyed_on="2025-04-01", engine=tracked)
    runner = CliRunner()
    made = runner.invoke(cli, ["plan", "create", "--name", "D", "--budget", "1e9", "--json"])
    assert made.exit_code == 0, made.output
    [batch] = [b["name"] for b in json.loads(made.output)["batches"]]
    out = runner.invoke(cli, ["export", "batch", batch, "-o", str(tmp_path / "d.xlsx")])
    assert out.exit_code == 0, out.output
    assert "尚未下达" in out.output and "hazards plan commit D" in out.output
    report = export_batch(batch, tmp_path / "d.geojson", engine=tracked)
    assert report["plan"] == "D" and "still a draft" in report["warnings"][0]
    # the contractor reports on it anyway: each row says the plan is not committed (before:
    # "is not in any batch")
    data = json.loads((tmp_path / "d.geojson").read_text(encoding="utf-8"))
    for f in data["features"]:
        f["properties"].update(status="完成", completed_on=TODAY)
    (tmp_path / "r.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    early = import_completion(tmp_path / "r.geojson", dry_run=True, engine=tracked)
    assert early["invalid"] == len(data["features"]) == 1
    assert f"is in batch {batch} of a plan not committed yet" in early["invalid_rows"][0]["reason"]
    recheck = runner.invoke(
        cli, ["recheck", "plan", "--batch", batch, "-o", str(tmp_path / "r.csv")]
    )
    assert recheck.exit_code == 1 and "not committed yet" in recheck.output, recheck.output
    assert runner.invoke(cli, ["plan", "commit", "D"]).exit_code == 0
    assert export_batch(batch, tmp_path / "d2.geojson", engine=tracked)["warnings"] == []


def test_invalid_rows_of_a_work_list_are_told_by_their_sheet_row_and_written_out(
    planned_2025, tmp_path: Path
) -> None:
    """A returned work list (its table below a header block) with a bad date and an unknown
    status, imported with --partial: each invalid row is told by its row in the sheet and the
    column as the sheet names it (完成日期, 状态); the others are applied; the invalid rows are
    written out with their cells, corrected, and imported again."""
    import openpyxl

    from hazards.remediation import history

    engine = planned_2025
    export_batch(_batch(engine), tmp_path / "w.xlsx", lang="zh", engine=engine)
    wb = openpyxl.load_workbook(tmp_path / "w.xlsx")
    ws = wb.active
    head, header = _table(ws)
    status, day = header.index("状态") + 1, header.index("完成日期") + 1
    good, late, odd = head + 1, head + 2, head + 3  # their rows in the sheet
    for r, word, typed in ((good, "已完成", "2025/7/20"), (late, "已完成", "2025年13月5日"),
                           (odd, "搞定了", "2025/7/21")):  # fmt: skip
        ws.cell(r, status).value, ws.cell(r, day).value = word, typed
    ids = {r: ws.cell(r, 2).value for r in (good, late, odd)}
    wb.save(tmp_path / "returned.xlsx")
    out = CliRunner().invoke(
        cli, ["import", "completion", str(tmp_path / "returned.xlsx"), "--partial"]
    )
    assert out.exit_code == 0, out.output
    said = out.output.replace("\n", "")
    assert (
        f"第 {late} 行（{ids[late]}）：完成日期 (completed_on) '2025年13月5日' is not a date"
        in said
    )
    assert f"第 {odd} 行（{ids[odd]}）：状态 (status) '搞定了' is not understood" in said
    back = tmp_path / "returned.rejected.csv"
    assert str(back) in said and history(ids[good], engine=engine)["status"] == "reported_done"
    with back.open(encoding="utf-8-sig", newline="") as fh:
        rejected = list(csv.DictReader(fh))
    assert [(r["隐患编号"], r["source_row"]) for r in rejected] == [
        (ids[late], str(late)),
        (ids[odd], str(odd)),
    ]
    assert "is not a date" in rejected[0]["rejected_reason"]
    due = {r.get("计划完工日期") for r in rejected}
    assert due and not any("T00:00:00" in (d or "") for d in due), due  # a date cell, as a day
    rejected[0]["完成日期"], rejected[1]["状态"] = "2025年8月5日", "施工中"
    with back.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rejected[0]))
        w.writeheader()
        w.writerows(rejected)
    again = import_completion(back, engine=engine)
    assert (again["applied"], again["invalid"]) == (2, 0), again
    assert history(ids[late], engine=engine)["status"] == "reported_done"
    assert history(ids[odd], engine=engine)["status"] == "in_progress"


def test_an_undated_in_progress_report_of_a_batch_not_begun_says_so(
    planned_2025, tmp_path: Path
) -> None:
    """A batch starting tomorrow: an undated 施工中 row was refused as "completed_on <start> is
    in the future", a date the contractor never wrote."""
    engine = planned_2025
    name = _batch(engine)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE batches SET starts_on = :d WHERE name = :n"), {"d": tomorrow, "n": name}
        )
    export_batch(name, tmp_path / "b.geojson", engine=engine)
    hid = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))["features"][0]["id"]
    interim = tmp_path / "interim.csv"
    interim.write_text(f"隐患编号,状态,完成日期\n{hid},施工中,\n", encoding="utf-8")
    (bad,) = import_completion(interim, dry_run=True, engine=engine)["invalid_rows"]
    assert (
        bad["reason"]
        == f"the batch starts on {tomorrow}, a day to come: no work can have begun on {hid}"
    )


@pytest.fixture
def two_firms(tmp_path: Path, engine):
    """The ``tracked`` network and survey, planned in two batches, one a route, each given
    to its own contractor from 2025-06-01: the two batches' names and their hazards' ids."""
    from builders import frame, network

    from hazards.intake import import_survey
    from hazards.roads import load_roads

    frame(network()["features"], "EPSG:4546").to_file(tmp_path / "r.gpkg", engine="pyogrio")
    load_roads(tmp_path / "r.gpkg", engine=engine)
    rows = [["路线编码", "桩号", "隐患类型", "风险等级"]]
    rows += [["X001" if i < 4 else "Y002", f"K0+{100 + 200 * (i % 4):03d}", "急弯", "一级"]
             for i in range(8)]  # fmt: skip
    with (tmp_path / "s.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    import_survey(tmp_path / "s.csv", provider="p", surveyed_on="2025-03-01", engine=engine)
    runner = CliRunner()
    for args in (
        [
            "plan",
            "create",
            "--name",
            "P",
            "--budget",
            "1e9",
            "--batches",
            "2",
            "--group-by",
            "road",
        ],
        ["plan", "commit", "P", "--on", "2025-05-20"],
        ["batch", "set", "P-1", "--contractor", "甲路桥公司", "--start", "2025-06-01"],
        ["batch", "set", "P-2", "--contractor", "乙交通设施公司", "--start", "2025-06-01"],
    ):
        out = runner.invoke(cli, args)
        assert out.exit_code == 0, out.output
    ids = {}
    for name in ("P-1", "P-2"):
        export_batch(name, tmp_path / f"{name}.geojson", engine=engine)
        feats = json.loads((tmp_path / f"{name}.geojson").read_text(encoding="utf-8"))["features"]
        ids[name] = [f["id"] for f in feats]
    assert len(ids["P-1"]) == len(ids["P-2"]) == 4
    return engine, ids


def test_a_report_as_contractors_write_it_applies_its_own_rows(two_firms, tmp_path: Path) -> None:
    """A GBK CSV with a title row, a section title, a blank row, the header repeated, a
    signature line, a stray site of another contractor, a site reported twice and the words
    已整改 and 完工（待验收）: the contractor's own rows apply; the stray and the repeat alone are invalid (the
    repeat told by the row it is first in), and are written out even when nothing applies."""
    from hazards.remediation import history

    tracked, ids = two_firms
    own, stray = ids["P-1"][:3], ids["P-2"][0]
    lines = [
        ["甲路桥公司 完工情况报告", "", "", "", ""],  # line 1
        ["序号", "隐患编号", "状态", "完成日期", "备注"],  # line 2
        ["一、琼湖街道", "", "", "", ""],  # 3: a section's title
        ["1", own[0], "已完成", TODAY, ""],  # 4
        ["2", own[1], "完工（待验收）", TODAY, ""],  # 5: the work list's word, less its 已
        ["", "", "", "", ""],  # 6: blank
        ["序号", "隐患编号", "状态", "完成日期", "备注"],  # 7: the header again (a new page)
        ["1", own[2], "已整改", TODAY, "护栏已装"],  # 8
        ["2", stray, "已完成", TODAY, ""],  # 9: another contractor's site
        ["3", own[0], "已完成", TODAY, "重复"],  # 10: reported again
        ["填表人：张工", "", "", "", ""],  # 11
        ["填表人：张工", "", "审核人：李工", "日期：2025年9月30日", ""],  # 12: its date in 完成日期
    ]
    path = tmp_path / "甲完工报告.csv"
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(lines)

    dry = import_completion(path, dry_run=True, partial=True, engine=tracked)
    assert [(c["id"], c["to"]) for c in dry["changes"]] == [(i, "reported_done") for i in own]
    assert history(own[0], engine=tracked)["status"] == "planned"  # a dry run changed nothing
    report = import_completion(path, partial=True, engine=tracked)
    assert (report["applied"], report["invalid"]) == (3, 2), report
    reasons = {r["line"]: r["reason"] for r in report["invalid_rows"]}
    assert set(reasons) == {9, 10}
    assert "is in a batch of 乙交通设施公司, not 甲路桥公司" in reasons[9]
    assert "reported again (first in row 4)" in reasons[10]
    assert all(history(i, engine=tracked)["status"] == "reported_done" for i in own)
    assert history(stray, engine=tracked)["status"] == "planned"
    with Path(report["rejected_file"]).open(encoding="utf-8-sig", newline="") as fh:
        assert [r["source_row"] for r in csv.DictReader(fh)] == ["9", "10"]
    # nothing applicable left: the invalid rows are still written out to be corrected
    Path(report["rejected_file"]).unlink()
    again = import_completion(path, partial=True, engine=tracked)
    assert (again["applied"], again["unchanged"], again["invalid"]) == (0, 3, 2)
    assert again["rejected_file"] and Path(again["rejected_file"]).is_file()


def test_a_report_on_a_workbooks_second_sheet_is_found(tracked, tmp_path: Path) -> None:
    """A contractor's workbook with a summary sheet (汇总) before the returned work list: the
    sheet whose header names the report's columns is read; --sheet names one."""
    import openpyxl

    export_batch(_batch(tracked), tmp_path / "w.xlsx", lang="zh", engine=tracked)
    wb = openpyxl.load_workbook(tmp_path / "w.xlsx")
    ws = wb.worksheets[0]
    head, header = _table(ws)
    row = next(ws.iter_rows(min_row=head + 1, max_row=head + 1))
    row[header.index("状态")].value, row[header.index("完成日期")].value = "已完成", TODAY
    summary = wb.create_sheet("汇总", 0)
    summary.append(["完工汇总"])
    summary.append(["完成数量", 1])
    wb.save(tmp_path / "report.xlsx")
    report = import_completion(tmp_path / "report.xlsx", dry_run=True, engine=tracked)
    assert (report["valid"], report["invalid"]) == (1, 0), report
    out = CliRunner().invoke(
        cli, ["import", "completion", str(tmp_path / "report.xlsx"), "--sheet", "汇总"]
    )
    assert out.exit_code == 1 and "(sheet 汇总): no 'id' column" in out.output, out.output


def test_a_batch_start_after_its_recorded_work_is_refused(two_firms, tmp_path: Path) -> None:
    """Work reported on 2025-07-20: the batch's start cannot then move to August (its records
    would come before the work began); on or before that day it may."""
    engine, ids = two_firms
    path = tmp_path / "r.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [["隐患编号", "状态", "完成日期"], [ids["P-1"][0], "已完成", "2025-07-20"]]
        )
    assert import_completion(path, engine=engine)["applied"] == 1
    runner = CliRunner()
    late = runner.invoke(cli, ["batch", "set", "P-1", "--start", "2025-08-01"])
    assert late.exit_code == 1 and "recorded from 2025-07-20" in late.output, late.output
    assert "--start" in late.output and "Traceback" not in late.output
    from hazards.db import store

    assert str(store.get_batch(engine, "P-1")["starts_on"]) == "2025-06-01"
    assert runner.invoke(cli, ["batch", "set", "P-1", "--start", "2025-07-20"]).exit_code == 0
    assert runner.invoke(cli, ["batch", "set", "P-2", "--start", "2025-09-01"]).exit_code == 0


def test_words_ids_and_a_stamped_signature_line_as_contractors_write_them(
    two_firms, tmp_path: Path
) -> None:
    """未施工 (not built yet) is not a report, as 未开工 is; an id typed in lower case is the
    hazard's; a signature line ``施工单位（盖章）`` with 填报日期 under 状态 and a date under 完成日期
    is not a row. Each of them refused the whole report before."""
    from hazards.remediation import history

    tracked, ids = two_firms
    own = ids["P-1"][:3]
    lines = [
        ["序号", "隐患编号", "状态", "完成日期"],
        ["1", own[0].lower(), "已完成", TODAY],
        ["2", f" {own[1]}", "未施工", ""],
        ["3", own[2], "已完成", TODAY],
        ["施工单位（盖章）：甲路桥公司", "", "填报日期：", "2025年9月30日"],
    ]
    path = tmp_path / "甲完工报告.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(lines)
    report = import_completion(path, engine=tracked)  # all or none: nothing refused now
    assert (report["applied"], report["invalid"], report["not_reported"]) == (2, 0, 1), report
    assert [history(i, engine=tracked)["status"] for i in own] == [
        "reported_done",
        "planned",
        "reported_done",
    ]


def test_two_imports_of_one_report_at_once_apply_it_once_and_both_succeed(
    tracked, tmp_path: Path
) -> None:
    """The same report imported from two shells at once: the second checked its rows before the
    first wrote them, and failed with "changed by someone else" (or, with --partial, listed
    every row as invalid). It now checks them again: what the other import applied is
    unchanged, the rest applied, every site reported done once."""
    import time

    from hazards.db import store
    from hazards.remediation import history

    name = _batch(tracked)
    set_batch = ["batch", "set", name, "--contractor", "路桥公司", "--start", "2025-06-01"]
    assert CliRunner().invoke(cli, set_batch).exit_code == 0
    collection = json.loads(store.batch_feature_collection(tracked, name))
    ids = [f["properties"]["id"] for f in collection["features"]][:2]
    path = tmp_path / "report.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [["隐患编号", "状态", "完成日期"], *[[i, "已完成", TODAY] for i in ids]]
        )
    from concurrent.futures import ThreadPoolExecutor

    from hazards.vocabulary import check_transition

    with tracked.connect() as held, ThreadPoolExecutor(1) as pool:
        held.begin()  # the other import, holding the first site as it writes it
        held.execute(text("SELECT 1 FROM hazards WHERE public_id = :p FOR UPDATE"), {"p": ids[0]})
        second = pool.submit(import_completion, path, engine=tracked)
        t0 = time.monotonic()
        waiting = 0
        while not waiting and not second.done() and time.monotonic() - t0 < 90:
            time.sleep(0.1)  # until it waits for the site: it has checked its rows
            waiting = held.execute(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE a.datname = current_database() AND NOT l.granted "
                    "AND l.locktype IN ('tuple', 'transactionid')"
                )
            ).scalar_one()
        assert waiting, second.result()
        store.change_status(
            tracked, [ids[0]], to="reported_done", on=dt.date.today(), by="甲", note="first",
            evidence=None, expected_versions=None, check=check_transition, kind="completion",
            conn=held,
        )  # fmt: skip
        held.commit()
        report = second.result(timeout=120)
    assert (report["applied"], report["unchanged"], report["invalid"]) == (1, 1, 0), report
    for i in ids:
        events = history(i, engine=tracked)["events"]
        assert [e["to_status"] for e in events].count("reported_done") == 1, events


def test_a_report_sent_again_with_another_completion_date_says_the_recorded_one_stands(
    tracked, tmp_path: Path
) -> None:
    """A report sent again with a corrected 完成日期 counted the row `unchanged` and said
    nothing: the recorded date stands, and the report (and the command) says so."""
    from hazards.remediation import history
    from hazards.settings import get_settings

    name = _batch(tracked)
    export_batch(name, tmp_path / "b.geojson", engine=tracked)
    data = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))
    f = data["features"][0]
    day = dt.date.fromisoformat(TODAY)
    f["properties"].update(status="完成", completed_on=TODAY)
    (tmp_path / "r.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    first = import_completion(tmp_path / "r.geojson", engine=tracked)
    assert (first["applied"], first["dates_kept"]) == (1, [])
    again = import_completion(tmp_path / "r.geojson", engine=tracked)  # the same date: nothing
    assert (again["applied"], again["unchanged"], again["dates_kept"]) == (0, 1, [])
    earlier = (day - dt.timedelta(days=1)).isoformat()
    f["properties"]["completed_on"] = earlier
    (tmp_path / "r.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    dry = import_completion(tmp_path / "r.geojson", dry_run=True, engine=tracked)
    assert [d["file"] for d in dry["dates_kept"]] == [earlier]
    redated = import_completion(tmp_path / "r.geojson", engine=tracked)
    assert "1 dated otherwise (listed)" in redated["message"]
    assert (redated["applied"], redated["unchanged"], redated["invalid"]) == (0, 1, 0)
    line = data["features"].index(f) + 1
    assert redated["dates_kept"] == [
        {"row": line, "line": line, "id": f["id"], "to": "reported_done", "recorded": TODAY,
         "file": earlier}
    ]  # fmt: skip
    events = history(f["id"], engine=tracked)["events"]
    assert [str(e["happened_on"]) for e in events if e["kind"] == "completion"] == [TODAY]
    for lang, words in (("zh", f"已于 {TODAY} 记为已完工（待验收），文件中的完成日期 {earlier} 未采用"),
                        ("en", f"reported_done on {TODAY} already; the file's completed_on {earlier}")):  # fmt: skip
        get_settings.cache_clear()  # the language is a setting, read once
        out = CliRunner().invoke(
            cli, ["import", "completion", str(tmp_path / "r.geojson")], env={"HAZARDS_LANG": lang}
        )
        assert out.exit_code == 0 and words in out.stdout.replace("\n", ""), out.output
    get_settings.cache_clear()
