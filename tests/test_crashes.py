"""Crash records (issue 17) on a real PostGIS, with files built in the test: a GBK CSV with split
date columns, every row accounted (stored, unattached, rejected with the reason, empty), two
crashes 1 m apart kept apart, re-import idempotent, corrections counted; and network screening
per 100 m cell compared with an independent pandas recount of the planted crashes."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from builders import GEOD, along, frame, offset_from_vertex
from click.testing import CliRunner
from sqlalchemy import text

from hazards.cli import cli
from hazards.crashes import parse_crash_rows, parse_datetime, parse_time, recognise_headers
from hazards.screening import screen_sites

HEADER = ["事故编号", "年", "月", "日", "时", "分", "经度", "纬度", "路线编码", "桩号",
          "死亡人数", "受伤人数", "事故形态", "天气"]  # fmt: skip


def _in_english(args: list[str], **env: str):  # type: ignore[no-untyped-def]
    """``hazards ARGS`` with the lang setting en (the settings read again before and after)."""
    from hazards.settings import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, args, env={"HAZARDS_LANG": "en", **env})
    finally:
        get_settings.cache_clear()


def _gbk_csv(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def _import(path: Path, *args: str) -> dict:
    out = CliRunner().invoke(
        cli, ["crashes", "import", str(path), "--source", "县交警大队", "--json", *args]
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    kinds = ("stored", "unattached", "rejected", "empty")
    assert sum(report[k] for k in kinds) == report["rows"], report
    return report


# ----------------------------------------------------------------------------- parsing
@pytest.mark.parametrize(
    ("text_", "date", "time"),
    [
        ("2023-05-06 14:30", dt.date(2023, 5, 6), dt.time(14, 30)),
        ("2023/5/6", dt.date(2023, 5, 6), None),
        ("2023年5月6日14时30分", dt.date(2023, 5, 6), dt.time(14, 30)),
        ("2023-05-06T14:30:00", dt.date(2023, 5, 6), dt.time(14, 30)),
        ("20230506", dt.date(2023, 5, 6), None),
        # an Excel date cell read as its serial number (day 0 is 1899-12-30), with a time
        ("45052", dt.date(1899, 12, 30) + dt.timedelta(days=45052), None),
        ("45052.6041667", dt.date(2023, 5, 6), dt.time(14, 30)),
        ("45052.0", dt.date(2023, 5, 6), None),
    ],
)
def test_dates_in_one_column(text_: str, date: dt.date, time: dt.time | None) -> None:
    assert parse_datetime(text_) == (date, time)


def test_bad_dates_and_times_are_refused() -> None:
    for bad in ("2023-02-30", "昨天", "5/6/2023", "123", "99999"):  # not plausible serials
        with pytest.raises(ValueError):
            parse_datetime(bad)
    assert parse_time("1430") == dt.time(14, 30)
    assert parse_time("8时5分") == dt.time(8, 5)


def test_severity_from_class_and_counts() -> None:
    cols = ["编号", "事故时间", "经度", "纬度", "事故等级", "死亡人数", "重伤", "受伤人数"]
    headers = recognise_headers(cols)
    assert headers["severity"] == "事故等级" and headers["serious"] == "重伤"
    raws = [
        ["1", "2023-01-01", "112", "29", "财产损失事故", "", "", ""],
        ["2", "2023-01-01", "112", "29", "一般", "1", "", ""],  # a death wins over 一般
        ["3", "2023-01-01", "112", "29", "", "0", "2", ""],
        ["4", "2023-01-01", "112", "29", "", "0", "0", "0"],
        ["5", "2023-01-01", "112", "29", "B", "", "", ""],
        ["6", "2030-01-01", "112", "29", "", "", "", ""],  # in the future
    ]
    rows = parse_crash_rows(
        [{**dict(zip(cols, r, strict=True)), "_line": str(k)} for k, r in enumerate(raws, 2)],
        headers=headers,
        today=dt.date(2026, 1, 1),
    )
    assert [r.severity for r in rows[:5]] == ["O", "K", "A", "O", "B"]
    assert rows[5].errors and "future" in rows[5].errors[0]


# ----------------------------------------------------------------------------- import
def test_gbk_csv_with_split_dates_every_row_accounted_and_idempotent(
    tmp_path: Path, net: dict, roads
) -> None:
    x1 = net["lines"]["X001"]
    lon, lat = along(x1, 1000.0)
    near_lon, near_lat, _ = GEOD.fwd(lon, lat, 0, 1.0)  # 1 m north: another crash
    (far_lon, far_lat), _ = offset_from_vertex(x1, 80, 800.0)
    rows = [
        ["A1", 2023, 5, 6, 14, 30, lon, lat, "", "", 1, 0, "正面碰撞", "雨"],
        ["A2", 2023, 5, 6, 16, 5, near_lon, near_lat, "", "", 0, 2, "追尾", "晴"],
        ["A3", 2024, 1, 2, "", "", far_lon, far_lat, "", "", 0, 1, "单车事故", ""],
        ["A4", 2024, 3, 4, 8, 0, "东经一百", lat, "", "", 0, 0, "刮撞行人", ""],
        ["", "", "", "", "", "", "", "", "", "", "", "", "", ""],
        ["A5", 2024, 7, 8, 21, 15, "", "", "X001", "K2+050", 0, 1, "侧面碰撞", "阴"],
    ]
    path = _gbk_csv(tmp_path / "事故.csv", rows)
    report = _import(path)
    assert {k: report[k] for k in ("rows", "stored", "unattached", "rejected", "empty")} == {
        "rows": 6,
        "stored": 3,
        "unattached": 1,
        "rejected": 1,
        "empty": 1,
    }
    assert report["added"] == 4 and report["encoding"] == "gb18030"
    assert report["unattached_rows"][0]["row"] == "A3"
    (bad,) = report["rejected_rows"]
    assert bad["row"] == "A4" and bad["line"] == 5 and "东经一百" in bad["reason"]
    with open(report["rejected_file"], encoding="utf-8-sig") as fh:
        rejected = list(csv.DictReader(fh))
    # the file goes back to the police in the lang setting (zh): the reason in Chinese
    assert [r["事故编号"] for r in rejected] == ["A4"] and "无法使用" in rejected[0][
        "rejected_reason"
    ]

    with roads.connect() as conn:
        db = {
            r.crash_id: r
            for r in conn.execute(
                text(
                    "SELECT crash_id, occurred_on, occurred_time, severity, route_code, "
                    "chainage_m, road_id, crash_type, ST_Distance(geom::geography, "
                    "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS d FROM crashes"
                ),
                {"lon": lon, "lat": lat},
            )
        }
    assert set(db) == {"A1", "A2", "A3", "A5"}  # 1 m apart on the same day: two crashes
    assert db["A1"].occurred_on == dt.date(2023, 5, 6) and db["A1"].occurred_time == dt.time(14, 30)
    assert db["A3"].occurred_time is None and db["A3"].road_id is None
    assert db["A1"].severity == "K" and db["A2"].severity == "B"
    assert db["A1"].route_code == "X001" and abs(db["A1"].chainage_m - 1000.0) < 5
    assert abs(db["A2"].d - 1.0) < 0.05 and db["A2"].crash_type == "追尾"
    assert db["A5"].route_code == "X001" and db["A5"].chainage_m == 2050.0

    again = _import(path)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 4)
    rows[1][11] = 3  # the police corrected A2's injuries
    again = _import(_gbk_csv(tmp_path / "事故.csv", rows))
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 1, 3)
    with roads.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM crashes")).scalar() == 4
        assert conn.execute(text("SELECT injuries FROM crashes WHERE crash_id='A2'")).scalar() == 3

    rows[1][11] = 2
    human = CliRunner().invoke(cli, ["crashes", "import", str(path), "--source", "县交警大队"])
    assert human.exit_code == 0 and "未匹配道路：A3" in human.output, human.output
    assert "拒收：第 5 行" in human.output  # zh, the default
    en = _in_english(["crashes", "import", str(path), "--source", "县交警大队"])
    assert en.exit_code == 0 and "unattached: A3" in en.output, en.output
    assert "rejected: line 5" in en.output
    dry = _import(_gbk_csv(tmp_path / "事故.csv", rows), "--dry-run")
    assert (dry["added"], dry["updated"], dry["unchanged"], dry["dry_run"]) == (0, 1, 3, True)
    with roads.connect() as conn:
        assert conn.execute(text("SELECT injuries FROM crashes WHERE crash_id='A2'")).scalar() == 3


def test_a_file_saying_neither_where_nor_when_is_refused(tmp_path: Path, roads) -> None:
    path = _gbk_csv(tmp_path / "x.csv", [["1", "a"]], header=["编号", "备注"])
    out = CliRunner().invoke(cli, ["crashes", "import", str(path), "--source", "s"])
    assert out.exit_code == 1
    assert "no columns for where" in out.output and "nor when" in out.output
    assert "Traceback" not in out.output


# ----------------------------------------------------------------------------- screening
def test_screening_counts_per_cell_equal_a_pandas_recount(tmp_path: Path, net: dict, roads) -> None:
    x1 = net["lines"]["X001"]
    rnd = random.Random(17)
    length = net["lengths"]["X001"]
    planted = []
    # cell centres (chainage measured in the working CRS differs from the geodesic by < 10 m)
    for k in range(60):
        cell = rnd.randrange(int(length // 100) - 1)
        planted.append((f"R{k}", cell * 100 + 50.0, rnd.choice("KABCO")))
    for k in range(8):  # a planted black spot: 8 crashes in one cell
        planted.append((f"B{k}", 3050.0, rnd.choice("AB")))
    weights = {"K": 542, "A": 542, "B": 11, "C": 11, "O": 1}  # docs/crashes.md
    severity_word = {"K": "K", "A": "A", "B": "B", "C": "C", "O": "O"}
    rows = []
    for cid, m, sev in planted:
        lon, lat = along(x1, m)
        rows.append([cid, "2024-06-01 10:00", lon, lat, severity_word[sev]])
    path = tmp_path / "crashes.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["事故编号", "事故时间", "经度", "纬度", "事故等级"], *rows])
    report = _import(path)
    assert report["stored"] == len(planted)

    expect = pd.DataFrame(planted, columns=["id", "m", "sev"])
    expect["cell"] = (expect["m"] // 100).astype(int)
    expect["ksi"] = expect["sev"].isin(["K", "A"]).astype(int)
    expect["epdo"] = expect["sev"].map(weights)
    recount = expect.groupby("cell").agg(n=("id", "size"), ksi=("ksi", "sum"), epdo=("epdo", "sum"))

    for measure in ("count", "ksi", "epdo"):
        out = CliRunner().invoke(cli, ["screen", "--unit", "cell", "--measure", measure, "--json"])
        assert out.exit_code == 0, out.output
        got = json.loads(out.output)
        assert got["unit"] == "cell" and got["measure"] == measure
        sites = got["sites"]
        assert {s["from_m"] // 100 for s in sites} == set(recount.index)
        for s in sites:
            cell = int(s["from_m"] // 100)
            assert s["route"] == "X001" and s["to_m"] - s["from_m"] <= 100
            assert (s["crashes"], s["ksi"], s["epdo"]) == tuple(recount.loc[cell]), s
            want = {"count": s["crashes"], "ksi": s["ksi"], "epdo": s["epdo"]}[measure]
            assert s["value"] == want
        values = [s["value"] for s in sites]
        assert values == sorted(values, reverse=True)
    top = json.loads(
        CliRunner().invoke(cli, ["screen", "--measure", "count", "--top", "1", "--json"]).output
    )["sites"]
    assert len(top) == 1 and top[0]["from_m"] == 3000.0 and top[0]["crashes"] >= 8
    eb = json.loads(
        CliRunner().invoke(cli, ["screen", "--measure", "eb-excess", "--top", "1", "--json"]).output
    )["sites"]
    assert eb[0]["from_m"] == 3000.0 and eb[0]["value"] > 0  # the planted black spot first

    out = CliRunner().invoke(
        cli, ["screen", "--unit", "window", "--window-m", "500", "--step-m", "100", "--json"]
    )
    windows = {s["from_m"]: s for s in json.loads(out.output)["sites"] if s["from_m"] % 100 == 0}
    want = {}
    for start in range(0, int(length), 100):
        inside = expect[(expect["m"] >= start) & (expect["m"] < start + 500)]
        if len(inside) and start + 500 <= length:
            want[float(start)] = (len(inside), int(inside["ksi"].sum()), int(inside["epdo"].sum()))
    assert {m: (s["crashes"], s["ksi"], s["epdo"]) for m, s in windows.items()} == want
    assert all(s["to_m"] - s["from_m"] == 500 for s in windows.values())

    table = CliRunner().invoke(cli, ["screen", "--unit", "window", "--top", "3"])
    assert table.exit_code == 0 and "K3+" in table.output, table.output
    both = CliRunner().invoke(cli, ["screen", "--csv", "--json"])  # not JSON silently
    assert both.exit_code == 2 and "choose one" in both.output, both.output
    gpkg = tmp_path / "black spots.gpkg"
    out = CliRunner().invoke(cli, ["screen", "--measure", "ksi", "-o", str(gpkg), "--csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(out.output.splitlines()))
    back = gpd.read_file(gpkg, engine="pyogrio")
    assert len(back) == len(rows) == len(recount)
    assert back["crashes"].sum() == len(planted) == sum(int(r["crashes"]) for r in rows)
    metres = back.to_crs("EPSG:4546").geometry.length
    assert ((metres - (back["to_m"] - back["from_m"])).abs() < 1).all()  # the cells' stretches

    routes = json.loads(CliRunner().invoke(cli, ["screen", "--unit", "route", "--json"]).output)[
        "sites"
    ]
    x = next(s for s in routes if s["route"] == "X001")
    assert x["crashes"] == len(planted)
    assert x["value"] == pytest.approx(len(planted) / (x["to_m"] / 1000), rel=1e-3)
    none = json.loads(CliRunner().invoke(cli, ["screen", "--to", "2024-05-31", "--json"]).output)
    assert none["crashes"] == 0 and none["sites"] == []


def test_screening_with_an_admin_code_set(
    tmp_path: Path, net: dict, roads, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a county's code set (``HAZARDS_ADMIN_CODE``) the crashes are stored under it, as
    the roads are (these, loaded before the code was set, given it by `roads adopt-code`):
    screening reads both under it. It once read the roads under the code while the road load
    stored them without one, found none, and stopped with a traceback."""
    from hazards.settings import get_settings

    monkeypatch.setenv("HAZARDS_ADMIN_CODE", "430981")
    get_settings.cache_clear()
    assert CliRunner().invoke(cli, ["roads", "adopt-code", "430981"]).exit_code == 0
    x1 = net["lines"]["X001"]
    rows = [[f"B{k}", "2024-06-01 10:00", *along(x1, 3050.0 + k), "A"] for k in range(5)]
    rows.append(["R1", "2024-06-02 10:00", *along(x1, 850.0), "O"])
    path = tmp_path / "crashes.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["事故编号", "事故时间", "经度", "纬度", "事故等级"], *rows])
    assert _import(path)["stored"] == 6
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT admin_code, count(*) FROM crashes GROUP BY 1")).all()
    assert stored == [("430981", 6)]
    for measure in ("count", "eb-excess"):
        out = CliRunner().invoke(cli, ["screen", "--measure", measure, "--json"])
        assert out.exit_code == 0 and "Traceback" not in out.output, out.output
        sites = json.loads(out.output)["sites"]
        assert (sites[0]["route"], sites[0]["from_m"], sites[0]["crashes"]) == ("X001", 3000.0, 5)
    assert sum(s["crashes"] for s in sites) == 6
    gpkg = tmp_path / "spots.gpkg"
    out = CliRunner().invoke(cli, ["screen", "--measure", "ksi", "-o", str(gpkg)])
    assert out.exit_code == 0, out.output
    back = gpd.read_file(gpkg, engine="pyogrio")
    assert sorted(back["crashes"]) == [1, 5]
    metres = back.to_crs("EPSG:4546").geometry.length
    assert ((metres - (back["to_m"] - back["from_m"])).abs() < 1).all()
    risk = CliRunner().invoke(cli, ["risk", "routes", "--json"])  # the routes' ends read alike
    assert risk.exit_code == 0, risk.output
    x = next(r for r in json.loads(risk.output)["routes"] if r["route"] == "X001")
    assert (x["crashes"], x["ksi"]) == (6, 5)
    listed = CliRunner().invoke(cli, ["crashes", "list", "--route", "X001", "--json"])
    assert listed.exit_code == 0, listed.output  # the route found under the code
    assert sorted(c["crash_id"] for c in json.loads(listed.output)) == [
        "B0", "B1", "B2", "B3", "B4", "R1"
    ]  # fmt: skip


def test_screen_sites_is_pure_and_clips_the_last_cell() -> None:
    crashes = pd.DataFrame(
        {
            "route_code": ["R", "R", "R", "S"],
            "part": [0, 0, 0, 0],
            "chainage_m": [10.0, 99.9, 250.0, 5.0],
            "severity": ["K", None, "O", "C"],
        }
    )
    ends = pd.DataFrame({"route_code": ["R", "S"], "part": [0, 0], "end_m": [250.0, 80.0]})
    sites = screen_sites(crashes, ends, unit="cell", measure="epdo")
    by_id = {s["id"]: s for s in sites}
    assert by_id["R/0/0"]["epdo"] == 542 + 1 and by_id["R/0/0"]["crashes"] == 2
    assert by_id["R/0/2"]["to_m"] == 250.0 and by_id["S/0/0"]["to_m"] == 80.0
    assert sites[0]["id"] == "R/0/0"


def test_xlsx_with_a_title_row_and_a_geopackage_of_points(tmp_path: Path, net: dict, roads) -> None:
    import openpyxl
    from shapely.geometry import Point

    x1 = net["lines"]["X001"]
    lon, lat = along(x1, 500.0)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某县2024年道路交通事故统计表"])
    ws.append(["事故编号", "事故时间", "经度", "纬度", "事故等级", "事故形态"])
    ws.append(["X1", dt.datetime(2024, 3, 1, 7, 45), lon, lat, "伤人事故", "追尾"])
    ws.append(["X2", "2024年3月2日", lon, lat, "财产损失事故", "刮擦"])
    ws.append(["合计", None, None, None, None, "2起"])  # a totals row: not a crash
    wb.save(tmp_path / "c.xlsx")
    report = _import(tmp_path / "c.xlsx")
    assert (report["rows"], report["stored"], report["added"]) == (3, 2, 2)
    assert (report["rejected"], report["empty"], report["rejected_file"]) == (0, 1, None)

    gdf = gpd.GeoDataFrame(
        {"ST_CASE": ["G1", "G2"], "DATE": ["2024-04-01", "2024-04-02"], "FATALS": [2, 0]},
        geometry=[Point(lon, lat), Point(lon + 0.2, lat)],  # the second ~20 km away
        crs=4326,
    ).to_crs("EPSG:4546")
    gdf.to_file(tmp_path / "c.gpkg", layer="crashes", engine="pyogrio")
    report = _import(tmp_path / "c.gpkg")
    assert (report["stored"], report["unattached"]) == (1, 1)
    with roads.connect() as conn:
        sev = dict(conn.execute(text("SELECT crash_id, severity FROM crashes")).all())
    assert sev == {"X1": "B", "X2": "O", "G1": "K", "G2": "O"}
    assert conn.closed


# ----------------------------------------------------------------------------- junctions
def test_junction_nodes_of_a_crossing_a_tee_and_a_route_in_pieces() -> None:
    import numpy as np
    from pyproj import CRS
    from shapely.geometry import LineString

    from hazards.junctions import junction_nodes
    from hazards.reconcile import Network

    x0, y0 = 500000.0, 3300000.0
    lines = [
        ("A", 0.0, LineString([(x0, y0), (x0 + 1000, y0)])),
        ("A", 1000.0, LineString([(x0 + 1000, y0), (x0 + 2000, y0)])),  # end to end: no node
        ("B", 0.0, LineString([(x0 + 500, y0 - 500), (x0 + 500, y0 + 500)])),  # a crossing
        ("C", 0.0, LineString([(x0 + 1500, y0 + 0.5), (x0 + 1500, y0 + 800)])),  # a tee
    ]
    segs = gpd.GeoDataFrame(
        {
            "id": [1, 2, 3, 4],
            "road_id": [1, 1, 2, 3],
            "route_code": [c for c, _, _ in lines],
            "part": 0,
            "from_m": [m for _, m, _ in lines],
            "to_m": [m + g.length for _, m, g in lines],
        },
        geometry=[g for _, _, g in lines],
        crs=4546,
    )
    j = junction_nodes(Network.from_segments(segs, CRS.from_epsg(4546)))
    got = sorted(zip((j.x - x0).round(1).tolist(), j.approaches.tolist(), j.routes, strict=True))
    assert got == [(500.0, 4, {"A": 500.0, "B": 500.0}), (1500.0, 3, {"A": 1500.0, "C": 0.0})]
    i500 = int(np.argmin(abs(j.x - x0 - 500)))  # the crossing's index
    near = j.nearest(
        np.array([x0 + 510, x0 + 1500, x0 + 100]), np.array([y0, y0 + 15, y0]), within_m=20
    )
    assert near.tolist() == [i500, 1 - i500, -1]


def test_crashes_on_a_junction_are_counted_once_at_the_node(
    tmp_path: Path, net: dict, roads
) -> None:
    y3 = net["lines"]["Y003"]
    node = y3.coords[50]  # where the spur leaves the main line: three approaches
    rows = []
    for k in range(6):
        lon, lat, _ = GEOD.fwd(*node, 60 * k, 3.0 + k)  # 3..8 m around the node
        rows.append([f"J{k}", "2024-02-0" + str(k + 1), lon, lat])
    lon, lat = along(y3, 300.0)
    rows.append(["N1", "2024-02-09", lon, lat])  # on the road, away from the node
    path = tmp_path / "j.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["事故编号", "事故时间", "经度", "纬度"], *rows])
    report = _import(path)
    assert (report["stored"], report["junction"], report["rejected"]) == (7, 6, 0)
    with roads.connect() as conn:
        keys = dict(conn.execute(text("SELECT crash_id, junction FROM crashes")).all())
    assert len({keys[f"J{k}"] for k in range(6)}) == 1 and keys["N1"] is None

    out = CliRunner().invoke(cli, ["screen", "--unit", "junction", "--json"])
    assert out.exit_code == 0, out.output
    (site,) = json.loads(out.output)["sites"]
    assert site["crashes"] == 6 and site["value"] == 6
    assert GEOD.inv(site["lon"], site["lat"], *node)[2] < 3
    assert "Y003" in site["routes"] and site["route"] == "Y003"
    assert abs(site["from_m"] - net["y3_junction_m"]) < 10
    cells = json.loads(CliRunner().invoke(cli, ["screen", "--json"]).output)["sites"]
    assert sum(s["crashes"] for s in cells) == 7  # each crash in one cell: counted once


# ----------------------------------------------------------------------------- Empirical Bayes
def test_eb_excess_of_a_hand_worked_example() -> None:
    # One class, four 100 m cells with 5, 1, 0, 0 crashes (docs/crashes.md, worked by hand):
    # mu = 6 crashes / 0.4 km x 0.1 km = 1.5 per cell;
    # k = [(5-1.5)^2-5 + (1-1.5)^2-1 + 1.5^2 + 1.5^2] / (4 x 1.5^2) = 11/9;
    # w = 1/(1 + 11/9 x 1.5) = 6/17; E = 6/17 x 1.5 + 11/17 x N; excess = E - 1.5.
    crashes = pd.DataFrame(
        {
            "route_code": ["R"] * 6,
            "part": [0] * 6,
            "chainage_m": [10.0, 20.0, 30.0, 40.0, 50.0, 150.0],
            "severity": ["O"] * 6,
        }
    )
    ends = pd.DataFrame(
        {"route_code": ["R"], "part": [0], "end_m": [400.0], "road_class": ["county"]}
    )
    sites = {s["id"]: s for s in screen_sites(crashes, ends, unit="cell", measure="eb-excess")}
    w = 6 / 17
    for cell, n in (("R/0/0", 5), ("R/0/1", 1)):
        expected = w * 1.5 + (1 - w) * n
        assert sites[cell]["predicted"] == pytest.approx(1.5)
        assert sites[cell]["k"] == pytest.approx(11 / 9, abs=1e-4)
        assert sites[cell]["expected"] == pytest.approx(expected, abs=1e-4)
        assert sites[cell]["value"] == pytest.approx(expected - 1.5, abs=1e-4)
    assert list(sites) == ["R/0/0", "R/0/1"]  # ranked by the excess
    with pytest.raises(Exception, match="junctions"):
        screen_sites(crashes, ends, unit="junction", measure="eb-excess")


def test_without_roads_the_import_says_to_load_them_and_an_unknown_route_is_rejected(
    tmp_path: Path, engine
) -> None:
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [["事故编号", "事故时间", "路线编码", "桩号"], ["1", "2024-01-01", "Z999", "K1+000"]]
        )
    out = CliRunner().invoke(cli, ["crashes", "import", str(path), "--source", "交警"])
    assert out.exit_code == 1 and "No roads are loaded" in out.output


def test_a_route_code_not_in_the_network_without_coordinates_is_rejected(
    tmp_path: Path, roads
) -> None:
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["事故编号", "事故时间", "路线编码", "桩号"],
                ["1", "2024-01-01", "Z999", "K1+000"],
                ["2", "2024-01-01", "X001", "K999+000"],
                ["3", "2024-01-01", "X001", "K0+100"],
            ]
        )
    report = _import(path)
    assert (report["stored"], report["rejected"]) == (1, 2)
    reasons = [r["reason"] for r in report["rejected_rows"]]
    assert "Z999" in reasons[0] and "not in the road network" in reasons[0]
    assert "outside route X001" in reasons[1]


def test_who_may_read_and_write_crashes(engine) -> None:
    want = {
        ("hazards_viewer", "SELECT"): True,
        ("hazards_viewer", "INSERT"): False,
        ("hazards_engineer", "INSERT"): True,
        ("hazards_engineer", "UPDATE"): True,
        ("hazards_engineer", "DELETE"): False,
        ("hazards_planner", "SELECT"): True,
        ("hazards_planner", "INSERT"): False,
        ("hazards_contractor", "SELECT"): False,
        ("hazards_admin", "DELETE"): True,
    }
    with engine.connect() as conn:
        got = {
            (role, what): conn.execute(
                text("SELECT has_table_privilege(:r, 'crashes', :w)"), {"r": role, "w": what}
            ).scalar_one()
            for role, what in want
        }
    assert got == want


def test_an_id_alone_is_an_empty_row_and_swapped_coordinates_are_fixed() -> None:
    from pyproj import CRS, Transformer
    from shapely.geometry import LineString

    from hazards.junctions import attach
    from hazards.reconcile import Network

    cols = ["事故编号", "事故时间", "经度", "纬度"]
    x0, y0 = 500000.0, 3300000.0
    lon, lat = Transformer.from_crs(4546, 4326, always_xy=True).transform(x0 + 50, y0 + 3)
    raws = [["7", "", "", ""], ["8", "2024-01-01", str(lat), str(lon)]]  # lat/lon swapped
    rows = parse_crash_rows(
        [{**dict(zip(cols, r, strict=True)), "_line": str(k)} for k, r in enumerate(raws, 2)],
        headers=recognise_headers(cols),
    )
    assert rows[0].empty and not rows[1].empty
    segs = gpd.GeoDataFrame(
        {"id": [1], "road_id": [1], "route_code": ["A"], "part": [0], "from_m": [0.0]},
        geometry=[LineString([(x0, y0), (x0 + 100, y0)])],
        crs=4546,
    ).assign(to_m=100.0)
    attach(rows, Network.from_segments(segs, CRS.from_epsg(4546)), snap_m=30)
    r = rows[1]
    assert (r.attached_route, round(r.at_m), round(r.snap_distance_m)) == ("A", 50, 3)
    assert any("swapped" in w for w in r.warnings)


# ----------------------------------------------------------------------------- crash-informed risk
def _survey(tmp_path: Path, engine, rows: list[list]) -> None:
    from hazards.intake import import_survey

    path = tmp_path / "survey.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["序号", "路线编码", "桩号", "隐患类型", "风险等级"], *rows])
    report = import_survey(path, provider="p", surveyed_on="2025-03-01", engine=engine)
    assert report["accepted"] == len(rows), report


def _crash_csv(path: Path, rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [["事故编号", "事故时间", "路线编码", "桩号", "死亡人数", "受伤人数"], *rows]
        )
    return path


def test_a_fatal_crash_beside_a_tier_iii_hazard_lifts_it_and_tiers_diff_lists_it(
    tmp_path: Path, settings_file: Path, roads
) -> None:
    # X001 is the only county road (4 km). Three surveyed tier III hazards: H1 at K0+800
    # (a fatal crash 20 m away), H2 at K2+000 (inside a planted black spot of 4 crashes),
    # H3 at K1+200 (a fatal crash 200 m away: farther than fatal_m = 50, no lift).
    _survey(
        tmp_path,
        roads,
        [
            [1, "X001", "K0+800", "路面破损", "三级"],  # the model agrees: III (38.3)
            [2, "X001", "K2+000", "路面破损", "三级"],
            [3, "X001", "K1+200", "路面破损", "三级"],
        ],
    )
    runner = CliRunner()
    out = json.loads(runner.invoke(cli, ["tiers", "compute", "--json"]).output)
    assert out["tiers"] == {"I": 0, "II": 0, "III": 3} and out["crash_lifted"] == 0
    crashes = [
        ["F1", "2024-05-01", "X001", "K0+820", 1, 0],
        ["F2", "2024-06-01", "X001", "K1+400", 1, 0],
        *[[f"S{k}", f"2024-0{k + 1}-10", "X001", f"K{(1980 + 20 * k) // 1000}+"
           f"{(1980 + 20 * k) % 1000:03d}", 0, 1] for k in range(4)],  # K1+980..K2+040
        *[[f"U{k}", f"2023-0{k + 1}-10", "X001", f"K3+{480 + 20 * k}", 0, 1]
          for k in range(4)],  # K3+480..K3+540: nobody surveyed there
    ]  # fmt: skip
    report = _import(_crash_csv(tmp_path / "c.csv", crashes))
    assert report["stored"] == 10

    out = runner.invoke(cli, ["tiers", "compute", "--json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert got["crash_lifted"] == 2 and got["tiers"] == {"I": 0, "II": 2, "III": 1}
    start = dt.date(2024, 6, 1) - dt.timedelta(days=1095)  # 1096 days up to the newest, F2
    assert got["crash_period"] == {"from": start.isoformat(), "to": "2024-06-01"}
    diff = json.loads(runner.invoke(cli, ["tiers", "diff", "--json"]).output)
    by_id = {d["id"]: d for d in diff}
    assert set(by_id) == {"H000001", "H000002"}
    h1, h2 = by_id["H000001"], by_id["H000002"]
    assert (h1["base_tier"], h1["tier"], h1["why"]) == ("III", "II", "crash")
    assert "fatal crash F1" in h1["crash_reason"] and "20 m" in h1["crash_reason"]
    assert "死亡事故" in h1["crash_reason"]
    assert (h2["base_tier"], h2["tier"]) == ("III", "II") and "black spot" in h2["crash_reason"]
    assert "事故多发点段" in h2["crash_reason"] and "(4 crashes)" in h2["crash_reason"]
    # the score gains score_points (10) over the model's
    with roads.connect() as conn:
        scores = dict(conn.execute(text("SELECT public_id, score FROM hazards")).all())
    assert scores["H000001"] == pytest.approx(scores["H000003"] + 10)
    table = runner.invoke(cli, ["tiers", "diff"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "H000001" in table.output
    # zh (the default): the why and the crash reason all Chinese, as the JSON's facts
    assert "死亡事故 F1" in table.output and "相距 20 米" in table.output, table.output
    assert "（4 起事故）" in table.output and "事故记录上调" in table.output
    assert not re.search(r"black spot|fatal crash|crashes\)|survey/model", table.output)
    en = _in_english(["tiers", "diff"], COLUMNS="250")
    assert en.exit_code == 0 and "fatal crash F1" in en.output and "(4 crashes)" in en.output

    # black spots without a surveyed hazard: the K3+480..K3+540 cluster only
    out = runner.invoke(cli, ["crashes", "sites-to-survey", "--json"])
    assert out.exit_code == 0, out.output
    todo = json.loads(out.output)
    assert todo["black_spots"] == 2
    (site,) = todo["sites"]
    assert site["route"] == "X001" and site["from_m"] <= 3480 and site["to_m"] >= 3540
    assert site["crashes"] == 4 and site["to_m"] - site["from_m"] <= 1000
    human = runner.invoke(cli, ["crashes", "sites-to-survey"])
    assert human.exit_code == 0 and "K3+" in human.output, human.output

    # route risk carries the crash figures: 10 crashes, 2 fatal (K+A = 2) in 1096 days
    risk = json.loads(runner.invoke(cli, ["risk", "routes", "--json"]).output)
    x = next(r for r in risk["routes"] if r["route"] == "X001")
    assert (x["crashes"], x["ksi"], x["fatal"], x["black_spots"]) == (10, 2, 2, 2)
    assert x["crash_points"] == pytest.approx(50 * 2 / (1096 / 365.25), abs=0.05)
    want = (x["open_risk"] + x["crash_points"]) / x["length_km"]
    assert x["total_risk_per_km"] == pytest.approx(want, abs=0.01)
    assert risk["routes"][0]["route"] == "X001"

    # the weight is configurable: lift 0 and no points and crash history changes nothing
    settings_file.write_text("[scoring.crashes]\nlift = 0\nscore_points = 0\n", encoding="utf-8")
    got = json.loads(runner.invoke(cli, ["tiers", "compute", "--json"]).output)
    assert got["tiers"] == {"I": 0, "II": 0, "III": 3}
    assert json.loads(runner.invoke(cli, ["tiers", "diff", "--json"]).output) == []
    settings_file.write_text("[scoring.crashes]\nlift = -1\n", encoding="utf-8")
    bad = runner.invoke(cli, ["tiers", "compute"])
    assert bad.exit_code == 1 and "lift" in bad.output and "Traceback" not in bad.output


def test_crashes_list_filters_by_route_period_and_severity(tmp_path: Path, roads) -> None:
    rows = [
        ["L1", "2024-01-05", "X001", "K0+100", 1, 0],
        ["L2", "2024-02-05", "X001", "K0+200", 0, 1],
        ["L3", "2024-03-05", "Y002", "K0+300", 0, 0],
    ]
    _import(_crash_csv(tmp_path / "l.csv", rows))

    def ids(*args: str) -> list[str]:
        out = CliRunner().invoke(cli, ["crashes", "list", "--json", *args])
        assert out.exit_code == 0, out.output
        return [r["crash_id"] for r in json.loads(out.output)]

    assert ids() == ["L1", "L2", "L3"]
    assert ids("--route", "x001") == ["L1", "L2"]
    assert ids("--from", "2024-02-01") == ["L2", "L3"]
    assert ids("--to", "2024-02-05") == ["L1", "L2"]
    assert ids("--severity", "KA") == ["L1"] and ids("--severity", "o") == ["L3"]
    bad = CliRunner().invoke(cli, ["crashes", "list", "--severity", "Z"])
    assert bad.exit_code == 1 and "KABCO" in bad.output and "--severity" in bad.output
    human = CliRunner().invoke(cli, ["crashes", "list", "--route", "X001"])
    assert human.exit_code == 0 and "L2" in human.output and "K0+200" in human.output


def test_a_crash_id_repeated_in_one_file_is_rejected_on_the_later_row(
    tmp_path: Path, roads
) -> None:
    rows = [
        ["D1", "2024-01-05", "X001", "K0+100", 0, 1],
        ["D2", "2024-01-05", "X001", "K0+150", 0, 0],
        ["D1", "2024-03-09", "X001", "K1+100", 1, 0],  # another crash given the same id
    ]
    report = _import(_crash_csv(tmp_path / "d.csv", rows))
    assert (report["stored"], report["rejected"]) == (2, 1)
    (bad,) = report["rejected_rows"]
    assert bad["line"] == 4 and "line 4" in bad["reason"] and "line 2" in bad["reason"]
    with open(report["rejected_file"], encoding="utf-8-sig") as fh:
        (rejected,) = list(csv.DictReader(fh))
    assert rejected["桩号"] == "K1+100" and "given again" in rejected["rejected_reason"]
    with roads.connect() as conn:
        kept = conn.execute(text("SELECT chainage_m FROM crashes WHERE crash_id = 'D1'")).all()
    assert kept == [(100.0,)]  # the first row's crash, not merged with the later one


def test_crash_reasons_and_the_lift_are_pure() -> None:
    import numpy as np

    from hazards.crash_risk import CrashRiskConfig, crash_reasons, lift_tiers

    places = pd.DataFrame(
        {
            "route_code": ["A", "A", "A", "B", "A"],
            "part": [0, 0, 1, 0, 0],
            "chainage_m": [100.0, 300.0, 140.0, float("nan"), 520.0],
        }
    )
    crashes = pd.DataFrame(
        {
            "crash_id": ["k1", "b1"],
            "occurred_on": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)],
            "route_code": ["A", "A"],
            "part": [0, 0],
            "chainage_m": [140.0, 120.0],
            "severity": ["K", "B"],
        }
    )
    spot = {"route": "A", "part": 0, "from_m": 500.0, "to_m": 900.0, "from": "K0+500",
            "to": "K0+900", "crashes": 5}  # fmt: skip
    why = crash_reasons(places, crashes, [spot], config=CrashRiskConfig()).tolist()
    assert why[0] == "死亡事故 fatal crash k1 (2024-01-01) 40 m"  # |140 − 100| ≤ 50
    assert why[1] is None and why[2] is None and why[3] is None  # 160 m; another part; unplaced
    assert why[4].startswith("事故多发点段 black spot A K0+500–K0+900 (5 crashes)")
    tight = crash_reasons(places, crashes, [], config=CrashRiskConfig(fatal_m=30))
    assert tight.isna().all()
    tiers = np.array(["III", "II", "I", "III"], dtype=object)
    hit = np.array([True, True, True, False])
    assert lift_tiers(tiers, hit, lift=1).tolist() == ["II", "I", "I", "III"]
    assert lift_tiers(tiers, hit, lift=2).tolist() == ["I", "I", "I", "III"]
    assert lift_tiers(tiers, hit, lift=0).tolist() == tiers.tolist()


# ----------------------------------------------------------------------------- EB with AADT
def _aadt_example() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """docs/crashes.md's worked example with traffic: six 100 m cells of one county road, the
    first three on a section of AADT 2,000 (3, 0, 0 crashes), the last three of AADT 8,000
    (6, 2, 1 crashes)."""
    chainages = [10, 20, 30, 310, 320, 330, 340, 350, 360, 410, 420, 550]
    crashes = pd.DataFrame(
        {
            "route_code": ["R"] * len(chainages),
            "part": [0] * len(chainages),
            "chainage_m": [float(m) for m in chainages],
            "severity": ["O"] * len(chainages),
        }
    )
    ends = pd.DataFrame(
        {"route_code": ["R"], "part": [0], "end_m": [600.0], "road_class": ["county"]}
    )
    volumes = pd.DataFrame(
        {
            "route_code": ["R", "R"],
            "part": [0, 0],
            "from_m": [0.0, 300.0],
            "to_m": [300.0, 600.0],
            "aadt": [2000.0, 8000.0],
        }
    )
    return crashes, ends, volumes


def test_eb_excess_with_aadt_of_a_hand_worked_example() -> None:
    # Worked by hand (docs/crashes.md): Y = 2 years, L = 0.1 km. Two AADT values, so the
    # Poisson SPF passes through each section's own rate: 3 / (0.3 x 2) = 5 per km-year at
    # 2,000 and 9 / 0.6 = 15 at 8,000: b1 = ln 3 / ln 4, b0 = ln 5 - b1 ln 2000; mu = 1 and 3.
    # k = [(3-1)^2-3 + 1 + 1 + (6-3)^2-6 + (2-3)^2-2 + (1-3)^2-1] / (3x1 + 3x9) = 8/30;
    # w = 1/(1 + 8/30) = 15/19 (quiet), 1/(1 + 24/30) = 5/9 (busy); E = w mu + (1 - w) N.
    crashes, ends, volumes = _aadt_example()
    populations: list[dict] = []
    sites = screen_sites(
        crashes, ends, unit="cell", measure="eb-excess", volumes=volumes, years=2.0,
        populations=populations,
    )  # fmt: skip
    got = {s["id"]: s for s in sites}
    b1 = math.log(3) / math.log(4)
    assert populations == [
        {
            "road_class": "county",
            "aadt": True,
            "sites": 6,
            "crashes": 12,
            "km": 0.6,
            "b0": pytest.approx(math.log(5) - b1 * math.log(2000), abs=1e-5),
            "b1": pytest.approx(b1, abs=1e-5),
            "k": pytest.approx(8 / 30, abs=1e-5),
        }
    ]
    for cell, n, mu, w, aadt in (
        ("R/0/0", 3, 1.0, 15 / 19, 2000.0),
        ("R/0/3", 6, 3.0, 5 / 9, 8000.0),
        ("R/0/4", 2, 3.0, 5 / 9, 8000.0),
        ("R/0/5", 1, 3.0, 5 / 9, 8000.0),
    ):
        expected = w * mu + (1 - w) * n
        assert got[cell]["aadt"] == aadt
        assert got[cell]["predicted"] == pytest.approx(mu, abs=1e-4)
        assert got[cell]["expected"] == pytest.approx(expected, abs=1e-4)
        assert got[cell]["value"] == pytest.approx(expected - mu, abs=1e-4)
    assert got["R/0/0"]["expected"] == pytest.approx(27 / 19, abs=1e-4)  # 1.42 in the docs
    assert got["R/0/3"]["expected"] == pytest.approx(39 / 9, abs=1e-4)  # 4.33
    assert [s["id"] for s in sites] == ["R/0/3", "R/0/0", "R/0/4", "R/0/5"]
    # without traffic: per km-year, mu = 12 / 0.6 x 0.1 = 2, the busy fifth cell as predicted
    plain = {s["id"]: s for s in screen_sites(crashes, ends, unit="cell", measure="eb-excess")}
    assert plain["R/0/4"]["predicted"] == pytest.approx(2.0) and "aadt" not in plain["R/0/4"]
    assert plain["R/0/4"]["value"] == pytest.approx(0.0, abs=1e-9)


def test_a_window_takes_the_length_weighted_aadt_and_unknown_traffic_is_its_own_population() -> (
    None
):
    from hazards.screening import site_aadt

    _, _, volumes = _aadt_example()
    sites = pd.DataFrame(
        {
            "route_code": ["R", "R", "R", "S"],
            "part": [0, 0, 0, 0],
            "from_m": [100.0, 0.0, 500.0, 0.0],
            "to_m": [600.0, 300.0, 700.0, 100.0],
        }
    )
    got = site_aadt(sites, volumes)
    # 200 m at 2,000 and 300 m at 8,000; all 2,000; 100 m known at 8,000 (beyond: unknown)
    assert got[:3].tolist() == pytest.approx([(200 * 2000 + 300 * 8000) / 500, 2000, 8000])
    assert math.isnan(got[3])
    from hazards.screening import eb_estimates

    eb = eb_estimates(
        np.array([3.0, 0.0, 1.0, 0.0]),
        np.array([0.1, 0.1, 0.1, 0.1]),
        np.array(["county"] * 4, dtype=object),
        aadt=np.array([1000.0, 4000.0, np.nan, np.nan]),
    )
    assert [(g["aadt"], g["sites"], g["crashes"]) for g in eb["groups"]] == [
        (False, 2, 1),
        (True, 2, 3),
    ]
    assert eb["predicted"][2:].tolist() == pytest.approx([0.5, 0.5])  # per km-year, apart


def test_spf_fit_is_the_poisson_maximum_found_another_way() -> None:
    """The Newton fit against a profile-likelihood search: for a given b1 the best b0 is
    ln(sum N / sum(e AADT^b1)), and the profile is maximised over b1 by golden sections."""
    from hazards.screening import fit_spf

    rng = np.random.default_rng(7)
    aadt = np.repeat([800.0, 2500.0, 6000.0, 15000.0], 25)
    exposure = rng.uniform(0.1, 0.5, len(aadt)) * 3
    counts = rng.poisson(exposure * 0.02 * aadt**0.6).astype(float)

    def profile(b1: float) -> float:
        b0 = math.log(counts.sum() / (exposure * aadt**b1).sum())
        mu = exposure * math.exp(b0) * aadt**b1
        return float((counts * np.log(mu) - mu).sum())

    lo, hi = -3.0, 3.0
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if profile(a) < profile(b):
            lo = a
        else:
            hi = b
    b1 = (lo + hi) / 2
    b0 = math.log(counts.sum() / (exposure * aadt**b1).sum())
    got_b0, got_b1, ok = fit_spf(counts, exposure, aadt)
    assert ok and got_b1 == pytest.approx(b1, abs=1e-6) and got_b0 == pytest.approx(b0, abs=1e-6)
    assert 0.4 < got_b1 < 0.8  # near the true 0.6
    # crashes only where the traffic is highest: no maximum, so per km-year
    assert fit_spf(np.array([0.0, 0.0, 4.0]), np.ones(3), np.array([1e3, 2e3, 4e3]))[2] is False
    assert fit_spf(np.zeros(3), np.ones(3), np.array([1e3, 2e3, 4e3]))[0] == -math.inf


def test_screen_uses_the_aadt_loaded_with_the_roads(tmp_path: Path, engine) -> None:
    """A road file with 交通量 per section, crashes by 路线编码 + 桩号: `screen --measure
    eb-excess --json` predicts with the SPF of the loaded volumes (the hand-worked example)."""
    from shapely.geometry import LineString

    from hazards.roads import load_roads

    roads = gpd.GeoDataFrame(
        {"路线编码": ["X050", "X050"], "行政等级": ["县道", "县道"], "交通量": [2000, 8000]},
        geometry=[
            LineString([(500000, 3300000), (500300, 3300000)]),
            LineString([(500300, 3300000), (500600, 3300000)]),
        ],
        crs="EPSG:4546",
    )
    roads.to_file(tmp_path / "roads.gpkg", engine="pyogrio")
    assert load_roads(tmp_path / "roads.gpkg", engine=engine).aadt_km == pytest.approx(0.6)
    crashes, _, _ = _aadt_example()
    rows = [
        [f"C{i}", f"2023-0{1 + i % 6}-10", "X050", f"K0+{int(m):03d}"]
        for i, m in enumerate(crashes["chainage_m"])
    ]
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["事故编号", "事故时间", "路线编码", "桩号"], *rows])
    assert _import(path)["stored"] == 12
    out = CliRunner().invoke(
        cli,
        ["screen", "--measure", "eb-excess", "--from", "2023-01-01", "--to", "2024-12-31",
         "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert got["years"] == pytest.approx(731 / 365.25, abs=1e-4)
    (population,) = got["populations"]
    assert population["aadt"] is True
    assert population["b1"] == pytest.approx(math.log(3) / math.log(4), abs=1e-5)
    sites = {s["id"]: s for s in got["sites"]}
    assert sites["X050/0/3"]["expected"] == pytest.approx(39 / 9, abs=1e-3)
    assert sites["X050/0/0"]["aadt"] == 2000.0 and sites["X050/0/0"]["predicted"] == 1.0


def test_the_same_crashes_under_another_source_are_named(tmp_path: Path, roads) -> None:
    """Re-importing a sheet under another source name would count every crash twice: the
    import says how many are already stored, and under which source; warnings are listed."""
    rows = [
        ["S1", "2024-01-05", "X001", "K0+100", 0, 1],
        ["S2", "2024-01-06", "X001", "K0+150", 0, 0],
        ["S3", "2024-01-07", "X001", "K0+200", 0, 0],
    ]
    first = _import(_crash_csv(tmp_path / "s.csv", rows))
    assert first["added"] == 3 and first["other_sources"] == {}
    again = CliRunner().invoke(
        cli, ["crashes", "import", str(tmp_path / "s.csv"), "--source", "市交警支队", "--dry-run"]
    )
    assert again.exit_code == 0, again.output
    assert "其中 3 起事故" in again.output and "'县交警大队'" in again.output
    changed = [*rows[:2], ["S3", "2024-02-07", "X001", "K0+200", 0, 0]]  # S3: another day
    out = CliRunner().invoke(
        cli,
        ["crashes", "import", str(_crash_csv(tmp_path / "t.csv", changed)), "--source", "市交警支队",
         "--json", "--dry-run"],
    )  # fmt: skip
    report = json.loads(out.output)
    assert report["other_sources"] == {"县交警大队": 2} and report["added"] == 3
    assert report["warnings"] == sum(len(w["warnings"]) for w in report["warning_rows"])


def test_screen_distinct_windows_never_overlap_and_the_worst_stays_first(
    tmp_path: Path, roads
) -> None:
    """`screen --unit window --distinct`: a hand-made cluster of 5 crashes (K1+000–K1+080) and
    one of 3 (K2+500–K2+540) on X001, one crash alone on Y002. Without --distinct the cluster
    fills five overlapping windows; with it each stretch is one window, worst first, none
    overlapping another, and the maps' black spots are the same windows (one rule)."""
    from hazards.crash_maps import black_spots

    rows = [
        [f"A{k}", "2024-03-0" + str(k + 1), "X001", f"K1+0{20 * k:02d}", 0, 1] for k in range(5)
    ]
    rows += [
        [f"B{k}", "2024-04-0" + str(k + 1), "X001", f"K2+5{20 * k:02d}", 0, 1] for k in range(3)
    ]
    rows += [["C0", "2024-05-01", "Y002", "K0+300", 0, 1]]
    assert _import(_crash_csv(tmp_path / "c.csv", rows))["stored"] == 9
    runner = CliRunner()
    every = json.loads(runner.invoke(cli, ["screen", "--unit", "window", "--json"]).output)
    assert every["distinct"] is False
    assert sum(s["crashes"] == 5 for s in every["sites"]) == 5  # the cluster, five times
    out = runner.invoke(cli, ["screen", "--unit", "window", "--distinct", "--json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    sites = got["sites"]
    assert got["distinct"] is True
    for i, a in enumerate(sites):
        for b in sites[i + 1 :]:
            assert not (
                a["route"] == b["route"]
                and a["part"] == b["part"]
                and a["from_m"] < b["to_m"]
                and b["from_m"] < a["to_m"]
            ), (a, b)
    first = sites[0]
    assert (first["route"], first["crashes"], first["rank"]) == ("X001", 5, 1)
    assert first["from_m"] <= 1000 and first["to_m"] >= 1080  # the whole cluster in it
    assert first["id"] == every["sites"][0]["id"]  # the worst window of all stays first
    assert sites[1]["crashes"] == 3 and sites[1]["from_m"] <= 2500 <= 2540 <= sites[1]["to_m"]
    assert [s["rank"] for s in sites] == list(range(1, len(sites) + 1))
    assert sum(s["crashes"] for s in sites) <= 9  # no crash counted twice
    top = json.loads(
        runner.invoke(
            cli, ["screen", "--unit", "window", "--distinct", "--top", "2", "--json"]
        ).output
    )
    assert [s["id"] for s in top["sites"]] == [s["id"] for s in sites[:2]]
    spots = black_spots(min_crashes=1, top=100)
    assert [s["id"] for s in spots["sites"]] == [s["id"] for s in sites]
    page = tmp_path / "screen.html"
    drawn = runner.invoke(
        cli, ["map", "screen", "--distinct", "--offline", "--lang", "en", "-o", str(page)]
    )
    assert drawn.exit_code == 0, drawn.output
    html = page.read_text(encoding="utf-8")
    assert all(f'"{s["id"]}"' in html for s in sites)
    left = {s["id"] for s in every["sites"]} - {s["id"] for s in sites}
    assert left and not any(f'"{i}"' in html for i in left)  # the overlapping ones not drawn


def test_sheets_numbered_from_one_each_keep_their_own_crashes(tmp_path: Path, roads) -> None:
    """A police workbook: one sheet a year, each numbered 序号 1, 2, ... The 序号 only numbers
    the rows: a crash with no id of its own is known by its day, time and place. The second
    year's 1-3 are crashes of their own (before, they overwrote the first year's: 新增 0，更新
    3); another sheet's crash 1 of the same day elsewhere too; the same sheet again, or
    numbered again with a late crash put in, adds only that crash; a corrected casualty count
    updates its crash."""
    import openpyxl

    header = ["序号", "事故日期", "路线编码", "桩号", "死亡人数", "受伤人数"]
    wb = openpyxl.Workbook()
    y25 = wb.active
    y25.title = "2025年"
    y25.append(header)
    for n, (day, stake) in enumerate(
        [("2025-03-07", "K0+220"), ("2025-04-01", "K0+260"), ("2025-05-02", "K0+300")], start=1
    ):
        y25.append([n, day, "X001", stake, 0, 1])
    y26 = wb.create_sheet("2026年")
    y26.append(header)
    for n, (day, stake) in enumerate(
        [("2026-01-07", "K1+220"), ("2026-02-01", "K1+260"), ("2026-03-02", "K1+300")], start=1
    ):
        y26.append([n, day, "X001", stake, 1, 0])
    y26.append([1, "2026-01-07", "X001", "K1+500", 0, 2])  # another section from 1, same day
    town = wb.create_sheet("草尾镇")  # a township's sheet: its crash 1 on 2025-03-07 too
    town.append(header)
    town.append([1, "2025-03-07", "Y002", "K0+100", 0, 1])
    path = tmp_path / "事故统计.xlsx"
    wb.save(path)

    first = _import(path, "--sheet", "2025年")
    assert (first["added"], first["updated"]) == (3, 0)
    second = _import(path, "--sheet", "2026年")
    assert (second["added"], second["updated"], second["rejected"]) == (4, 0, 0)
    third = _import(path, "--sheet", "草尾镇")
    assert (third["added"], third["updated"]) == (1, 0)
    again = _import(path, "--sheet", "2025年")
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 3)
    with roads.connect() as conn:
        got = conn.execute(text("SELECT crash_id FROM crashes ORDER BY crash_id")).scalars().all()
    assert got == [
        "2025-03-07 X001 K0+220", "2025-03-07 Y002 K0+100", "2025-04-01 X001 K0+260",
        "2025-05-02 X001 K0+300", "2026-01-07 X001 K1+220", "2026-01-07 X001 K1+500",
        "2026-02-01 X001 K1+260", "2026-03-02 X001 K1+300",
    ]  # fmt: skip
    with roads.connect() as conn:  # the row's cells as an object (was a JSON string in jsonb)
        kinds = conn.execute(
            text("SELECT DISTINCT jsonb_typeof(raw), raw->>'路线编码', jsonb_typeof(warnings) "
                 "FROM crashes WHERE raw->>'路线编码' = 'X001'")
        ).all()  # fmt: skip
    assert kinds == [("object", "X001", "array")]
    y25.cell(row=3, column=6, value=3)  # 2025's crash 2: three injured, not one
    y25.insert_rows(3)  # and a late crash put in as row 2, the others numbered again
    for col, value in enumerate([2, "2025-03-20", "X001", "K0+240", 0, 1], start=1):
        y25.cell(row=3, column=col, value=value)
    for row, n in ((4, 3), (5, 4)):
        y25.cell(row=row, column=1, value=n)
    wb.save(path)
    fixed = _import(path, "--sheet", "2025年")
    # the late crash added; crash 2 updated (its count); crashes 1 and 3 unchanged (crash 3's
    # row is numbered 4 now: a number is no change of the crash); no crash twice
    assert (fixed["added"], fixed["updated"], fixed["unchanged"]) == (1, 1, 2)
    with roads.connect() as conn:
        assert (
            conn.execute(
                text("SELECT injuries FROM crashes WHERE crash_id = '2025-04-01 X001 K0+260'")
            ).scalar_one()
            == 3
        )
        assert conn.execute(text("SELECT count(*) FROM crashes")).scalar_one() == 9


def test_a_black_spot_holds_what_its_windows_hold_not_the_crash_at_its_end() -> None:
    """Windows are [s, s + 500) except the one ending at the route part's end: a black-spot
    stretch merged from them holds the same crashes, so a crash at exactly the stretch's end
    (a whole-km stake, K3+000) is not counted, nor is a hazard there lifted; a stretch at the
    part's end holds its end. Before, 4 crashes were counted on A K2+100–K3+000, 3 in its windows."""
    from hazards.crash_risk import CrashRiskConfig, black_spots, crash_reasons

    at = {"A": [2520.0, 2560.0, 2590.0, 3000.0, 6000.0], "B": [600.0, 700.0, 800.0, 900.0, 1000.0]}
    crashes = pd.DataFrame(
        [
            {"crash_id": f"{r}{i}", "occurred_on": dt.date(2024, 1, 1), "route_code": r,
             "part": 0, "chainage_m": c, "severity": "B"}
            for r, cs in at.items() for i, c in enumerate(cs)
        ]
    )  # fmt: skip
    ends = pd.DataFrame({"route_code": ["A", "B"], "part": [0, 0], "end_m": [9000.0, 1000.0]})
    spots = {s["route"]: s for s in black_spots(crashes, ends, config=CrashRiskConfig())}
    a, b = spots["A"], spots["B"]
    assert (a["from_m"], a["to_m"], b["from_m"], b["to_m"]) == (2100.0, 3000.0, 400.0, 1000.0)
    # counted by hand: [from, to), and the end too where the part ends there
    assert a["crashes"] == sum(2100 <= c < 3000 for c in at["A"]) == 3
    assert b["crashes"] == sum(400 <= c <= 1000 for c in at["B"]) == 5
    places = pd.DataFrame(
        {"route_code": ["A", "A", "B"], "part": [0, 0, 0], "chainage_m": [2999.0, 3000.0, 1000.0]}
    )
    why = crash_reasons(places, crashes.iloc[:0], [a, b], config=CrashRiskConfig()).tolist()
    assert (
        why[0].startswith("事故多发点段") and why[1] is None and why[2].startswith("事故多发点段")
    )


def test_police_date_layouts_are_read_as_they_are_meant(tmp_path: Path, roads) -> None:
    """Date cells with the time in its own column (the cell's midnight is no time: before, every
    crash was at 00:00 and the 时刻 column was ignored); 年 = 25 for 2025 (stored as year 25
    before), a year before 1970 refused; 2025年/3月/7日 cells; 时间 holding date and time; a
    month 13 named with its columns."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["事故日期", "时刻", "路线编码", "桩号", "受伤人数"])
    ws.append([dt.datetime(2025, 9, 12), "21:30", "X001", "K0+100", 1])
    ws.append([dt.datetime(2025, 9, 13), dt.time(22, 15), "X001", "K0+200", 1])
    ws.append([dt.datetime(2025, 9, 14), None, "X001", "K0+300", 1])  # no time given
    wb.save(tmp_path / "cells.xlsx")
    report = _import(tmp_path / "cells.xlsx")
    assert (report["stored"], report["rejected"]) == (3, 0), report
    split = _gbk_csv(
        tmp_path / "split.csv",
        [["Y1", "25", "3", "7", "", "", "", "", "X001", "K0+400", 0, 1, "", ""],
         ["Y2", "1925", "3", "7", "", "", "", "", "X001", "K0+500", 0, 1, "", ""],
         ["Y3", "2025年", "3月", "8日", "14时", "", "", "", "X001", "K0+600", 0, 1, "", ""],
         ["Y4", "2025", "13", "1", "", "", "", "", "X001", "K0+700", 0, 1, "", ""]],
    )  # fmt: skip
    report = _import(split)
    assert (report["stored"], report["rejected"]) == (2, 2), report
    why = {r["row"]: r["reason"] for r in report["rejected_rows"]}
    assert "1925-03-07 is before 1970" in why["Y2"]
    assert "2025-13-1 (columns 年/月/日) is not a day" in why["Y4"]
    warned = {r["row"]: r["warnings"] for r in report["warning_rows"]}
    assert warned["Y1"] == ["the year 25 (column 年) was read as 2025"]
    one = tmp_path / "one.csv"
    one.write_text("时间,路线编码,桩号\n2025-03-09 14:20,X001,K0+800\n", encoding="utf-8")
    assert _import(one)["stored"] == 1
    # a 日期 with 时间 holding the date and time again; a date Excel saved to CSV as
    # "2025/3/7 0:00" beside its 时刻: each takes the time of its time column
    two = tmp_path / "two.csv"
    two.write_text(
        "日期,时间,路线编码,桩号\n2025-03-10,2025-03-10 09:05,X001,K0+900\n"
        "2025/3/11 0:00,2025-03-12 10:00,X001,K1+000\n",
        encoding="utf-8",
    )
    report = _import(two)
    assert (report["stored"], report["rejected"]) == (1, 1), report
    assert "another day than the crash's date 2025-03-11" in report["rejected_rows"][0]["reason"]
    three = tmp_path / "three.csv"
    three.write_text("事故日期,时刻,路线编码,桩号\n2025/3/13 0:00,14:20,X001,K1+100\n", "utf-8")
    assert _import(three)["stored"] == 1
    with roads.connect() as conn:
        got = dict(
            conn.execute(
                text("SELECT chainage_m, concat(occurred_on, ' ', occurred_time) FROM crashes")
            ).all()
        )
    assert got == {
        100.0: "2025-09-12 21:30:00", 200.0: "2025-09-13 22:15:00", 300.0: "2025-09-14 ",
        400.0: "2025-03-07 ", 600.0: "2025-03-08 14:00:00", 800.0: "2025-03-09 14:20:00",
        900.0: "2025-03-10 09:05:00", 1100.0: "2025-03-13 14:20:00",
    }  # fmt: skip


def test_a_header_over_two_rows_and_a_sheets_rejected_file_of_its_own(
    tmp_path: Path, roads
) -> None:
    """A police sheet's header over two rows (事故编号, 事故形态, 事故等级 merged down over the
    row that splits 地点 and 伤亡): every column is read (before, the upper row's columns were
    lost: no id, no crash type, a 死亡事故 with blank counts stored without severity). A sheet
    imported with --sheet writes its rejected rows to NAME.SHEET.rejected.csv, so another
    sheet's import does not overwrite them; --header-row names the header row."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "四季度"
    ws.append(["某县2025年第四季度道路交通事故统计表"])
    ws.append(["事故编号", "事故时间", "地点", None, "事故形态", "事故等级", "伤亡", None])
    ws.append([None, None, "路线编码", "桩号", None, None, "死亡人数", "受伤人数"])
    for cells in ("A2:A3", "B2:B3", "C2:D2", "E2:E3", "F2:F3", "G2:H2"):
        ws.merge_cells(cells)
    ws.append(["Q1", "2025-10-03", "X001", "K0+100", "追尾", "死亡事故", None, None])
    ws.append(["Q2", "2025-11-05", "X001", "K0+300", "刮擦", "财产损失事故", 0, 0])
    ws.append(["Q3", "2025-11-06", "X999", "K0+300", "刮擦", "财产损失事故", 0, 0])  # unknown route
    other = wb.create_sheet("三季度")
    other.append(["说明：本表由交警大队填报"])
    other.append(["填报单位：某县公安局交警大队"])
    other.append(["事故编号", "事故时间", "路线编码", "桩号", "受伤人数"])
    other.append(["T1", "2025-08-03", "X999", "K0+100", 1])  # unknown route
    path = tmp_path / "事故.xlsx"
    wb.save(path)

    q4 = _import(path, "--sheet", "四季度")
    assert (q4["stored"], q4["rejected"]) == (2, 1), q4
    assert q4["rejected_file"] == str(tmp_path / "事故.四季度.rejected.csv")
    with roads.connect() as conn:
        got = conn.execute(
            text("SELECT crash_id, crash_type, severity FROM crashes ORDER BY crash_id")
        ).all()
    assert got == [("Q1", "追尾", "K"), ("Q2", "刮擦", "O")]
    q3 = _import(path, "--sheet", "三季度", "--header-row", "3")
    assert (q3["stored"], q3["rejected"]) == (0, 1), q3
    assert q3["rejected_file"] == str(tmp_path / "事故.三季度.rejected.csv")
    for name, row in (("四季度", "Q3"), ("三季度", "T1")):  # each sheet's file kept
        with open(tmp_path / f"事故.{name}.rejected.csv", encoding="utf-8-sig") as fh:
            assert [r["source_row"] for r in csv.DictReader(fh)] == [row]


def test_crash_settings_of_the_wrong_kind_are_refused() -> None:
    """[scoring.crashes]: a lift of 1.5 is refused, not cut to 1; a negative lift says that 0
    is allowed (it said "must be above 0"); text is not a number."""
    from hazards.crash_risk import crash_config
    from hazards.errors import ConfigError

    assert crash_config({"lift": 0, "score_points": 0}).lift == 0
    for table, words in (
        ({"lift": 1.5}, "must be a whole number"),
        ({"lift": -1}, "must be 0 or more"),
        ({"years": 0}, "must be above 0"),
        ({"fatal_m": "50"}, "must be a number"),
        ({"lift": True}, "must be a whole number"),
    ):
        with pytest.raises(ConfigError, match=words):
            crash_config(table)


def test_an_unnumbered_sheet_under_another_source_is_named_too(tmp_path: Path, roads) -> None:
    """A police sheet with only 序号 (its crashes known by day, time and place) imported again
    under another source name: the crashes already stored are counted and the source named
    (only sheets with a crash id of their own were compared)."""
    path = tmp_path / "2022.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [["序号", "事故日期", "时刻", "路线编码", "桩号", "死亡人数", "受伤人数"],
             ["1", "2022-03-05", "14:20", "X001", "K0+100", "0", "1"],
             ["2", "2022-04-06", "9:05", "X001", "K0+300", "0", "0"]]
        )  # fmt: skip
    first = _import(path)
    assert first["added"] == 2
    out = CliRunner().invoke(
        cli,
        ["crashes", "import", str(path), "--source", "沅江县公安局交警大队", "--json", "--dry-run"],
    )
    assert json.loads(out.output)["other_sources"] == {"县交警大队": 2}


def test_a_rejected_crash_says_which_cell_is_wrong() -> None:
    """A 桩号 with a letter O, a 30 February, a 日 left empty: each reason names its column and
    value (they said 'no usable location' or Python's 'day is out of range for month');
    受伤/受伤事故 are an injury crash's class (B), not a warning each."""
    cols = ["序号", "事故日期", "年", "月", "日", "路线编码", "桩号", "经度", "纬度", "事故等级"]
    headers = recognise_headers(cols)
    raws = [
        ["1", "2025-03-07", "", "", "", "X003", "K2+1OO", "", "", "受伤"],
        ["2", "2025年2月30日", "", "", "", "X003", "K2+100", "", "", "受伤事故"],
        ["3", "", "2025", "3", "", "X003", "K2+100", "", "", "死亡"],
        ["4", "2025-03-07", "", "", "", "X003", "K2+1OO", "112.35", "28.85", "受伤"],
    ]
    rows = parse_crash_rows(
        [{**dict(zip(cols, r, strict=True)), "_line": str(k)} for k, r in enumerate(raws, 2)],
        headers=headers,
        today=dt.date(2026, 1, 1),
    )
    assert "'K2+1OO' (column 桩号) is not understood" in rows[0].errors[0]
    assert "'2025年2月30日' (column 事故日期) is not a date" in rows[1].errors[0]
    assert "(日 empty)" in rows[2].errors[0]
    assert rows[3].errors == [] and "K2+1OO" in rows[3].warnings[0]  # its point is used
    assert rows[0].severity == "B" and rows[1].severity == "B"
    assert not [w for r in rows for w in r.warnings if "severity" in w]


def test_casualty_headers_with_their_unit_are_read_and_a_total_column_is_named(
    tmp_path: Path, net: dict, roads
) -> None:
    """Police exports write the unit after a count (死亡人数(人), 受伤人数（人）): read as the
    counts. A column of deaths and injuries together (伤亡人数) cannot be split: named in the
    report and on the terminal, not dropped without a word."""
    assert recognise_headers(["死亡人数(人)", "受伤人数（人）", "重伤数", "轻伤(人)"]) == {
        "fatalities": "死亡人数(人)",
        "injuries": "受伤人数（人）",
        "serious": "重伤数",
        "minor": "轻伤(人)",
    }
    lon, lat = along(net["lines"]["X001"], 500.0)
    path = tmp_path / "units.csv"
    header = ["事故编号", "事故时间", "经度", "纬度", "死亡人数(人)", "受伤人数（人）", "伤亡人数"]  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, ["U1", "2024-05-01 08:00", lon, lat, 2, 3, 5]])
    report = _import(path)
    assert report["headers"]["fatalities"] == "死亡人数(人)"
    assert report["unread_columns"] == ["伤亡人数"]
    with roads.connect() as conn:
        got = conn.execute(
            text("SELECT fatalities, injuries, severity FROM crashes WHERE crash_id = 'U1'")
        ).one()
    assert tuple(got) == (2, 3, "K")
    human = CliRunner().invoke(
        cli, ["crashes", "import", str(path), "--source", "县交警大队", "--dry-run"]
    )
    flat = human.output.replace("\n", "")  # the console wraps long lines
    assert human.exit_code == 0 and "列 '伤亡人数' 涉及死亡或受伤" in flat, human.output


@pytest.mark.parametrize("admin", ["", "430981"])
def test_replacing_a_route_measures_its_crashes_again(
    tmp_path: Path, net: dict, roads, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """X001 delivered again 400 m longer at its start and without its last piece: a crash placed
    by its coordinates gets its chainage on the new line (it was left at the old one, and
    screening put a black spot 400 m from its crashes); one placed by route and 桩号 keeps its
    stake, its point moving to that stake on the new line; one on the piece gone is kept,
    attached to no road. Likewise for a county with its code set (the crashes stored under
    it were left as they were: the road load stored the roads without it)."""
    from shapely.geometry import LineString, Point

    from hazards.roads import load_roads
    from hazards.settings import get_settings

    if admin:
        monkeypatch.setenv("HAZARDS_ADMIN_CODE", admin)
        get_settings.cache_clear()
        assert CliRunner().invoke(cli, ["roads", "adopt-code", admin]).exit_code == 0

    x1 = net["lines"]["X001"]
    pieces = [f for f in net["features"] if f["路线编码"] == "X001"]
    c1, c3 = along(x1, 1000.0), along(x1, 3700.0)  # the last piece starts near 2.77 km
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["事故编号", "事故时间", "经度", "纬度", "路线编码", "桩号"],
                ["C1", "2024-05-01", *c1, "", ""],
                ["C2", "2024-05-02", "", "", "X001", "K2+000"],
                ["C3", "2024-05-03", *c3, "", ""],
            ]
        )
    assert _import(path)["stored"] == 3
    # 400 m more at the start, heading west from it (a piece of its own, touching the first)
    start = x1.coords[0]
    west = [GEOD.fwd(*start, 270, 400.0 - k * 100)[:2] for k in range(4)]
    ext = LineString([*west, start])
    first = dict(pieces[0], geometry=LineString([*ext.coords, *pieces[0]["geometry"].coords[1:]]))
    others = [f for f in net["features"] if f["路线编码"] != "X001"]
    new = tmp_path / "roads-new.gpkg"
    frame([first, pieces[1], *others], "EPSG:4546").to_file(new, engine="pyogrio")
    res = load_roads(new, engine=roads, replace=True)
    assert res.routes_replaced == ["X001"]
    # Independently: the new line in the working CRS, and each crash's place on it.
    cut = len(pieces[0]["geometry"].coords) + len(pieces[1]["geometry"].coords) - 1
    line = (
        gpd.GeoSeries([LineString([*ext.coords, *list(x1.coords)[1:cut]])], crs=4490)
        .to_crs(4546)
        .iloc[0]
    )
    pts = gpd.GeoSeries([Point(*c1), Point(*c3)], crs=4490).to_crs(4546)
    near = [line.distance(p) for p in pts]
    assert near[0] < 1 and near[1] > 30  # C3's piece is gone: beyond the crash snap distance
    assert (res.crashes_reattached, res.crashes_unattached) == (2, 1)
    with roads.connect() as conn:
        got = {
            r.crash_id: r
            for r in conn.execute(
                text(
                    "SELECT c.crash_id, c.route_code, c.chainage_m, c.match_method, "
                    "c.segment_id, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, "
                    "EXISTS (SELECT 1 FROM road_segments s WHERE s.id = c.segment_id "
                    "AND s.road_id = c.road_id) AS on_segment FROM crashes c"
                )
            )
        }
    a = line.project(pts.iloc[0])
    ch = got["C1"].chainage_m
    assert got["C1"].on_segment and min(abs(ch - a), abs(ch - (line.length - a))) < 1, (ch, a)
    assert got["C2"].on_segment and got["C2"].chainage_m == 2000.0
    p2 = gpd.GeoSeries([Point(got["C2"].lon, got["C2"].lat)], crs=4326).to_crs(4546).iloc[0]
    b = line.project(p2)
    assert line.distance(p2) < 0.5 and min(abs(b - 2000.0), abs(line.length - b - 2000.0)) < 1
    assert got["C3"].route_code is None and got["C3"].segment_id is None
    assert got["C3"].match_method == "unattached"
    assert GEOD.inv(got["C3"].lon, got["C3"].lat, *c3)[2] < 0.01  # its position kept
    # Importing the file again finds them where the reload put them: nothing moves.
    again = _import(path)
    assert (again["added"], again["stored"], again["unattached"]) == (0, 2, 1)
    # The whole route delivered again (its last piece back): C3, kept unattached, is near it
    # again and attached to it, as an import would (it stayed unattached for good, missing
    # from screening until the crash file was imported again).
    whole = tmp_path / "roads-whole.gpkg"
    frame(net["features"], "EPSG:4546").to_file(whole, engine="pyogrio")
    back = load_roads(whole, engine=roads, replace=True)
    assert (back.crashes_reattached, back.crashes_unattached) == (3, 0)
    with roads.connect() as conn:
        row3 = conn.execute(
            text(
                "SELECT route_code, match_method, snap_distance_m, chainage_m, EXISTS (SELECT 1 "
                "FROM road_segments s WHERE s.id = c.segment_id AND s.road_id = c.road_id) "
                "FROM crashes c WHERE crash_id = 'C3'"
            )
        ).one()
    assert row3[0] == "X001" and row3[1] == "coords" and row3[2] < 1 and row3[4]
    assert abs(row3[3] - 3700.0) < 5  # its place along the whole route again


def test_a_stake_far_from_where_the_coordinates_lie_is_a_warning(
    tmp_path: Path, net: dict, roads
) -> None:
    """A crash sheet giving both: the point 1,000 m along X001 with 桩号 K1+000 agrees; with
    K2+000 it is 1,000 m off (more than chainage_review_m): placed by the coordinates, with a
    warning naming both stakes (it was placed 1 km from its stake without a word)."""
    lon, lat = along(net["lines"]["X001"], 1000.0)
    path = tmp_path / "both.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["事故编号", "事故时间", "经度", "纬度", "路线编码", "桩号"],
                ["B1", "2024-05-01", lon, lat, "X001", "K1+000"],
                ["B2", "2024-05-02", lon, lat, "X001", "K2+000"],
            ]
        )
    report = _import(path)
    assert report["stored"] == 2
    [row] = report["warning_rows"]
    assert row["row"] == "B2"
    [said] = row["warnings"]
    assert said.startswith("桩号 K2+000 is 100") and "on route X001 (K1+00" in said


def test_a_sheet_sent_again_renumbered_updates_only_the_crashes_that_changed(
    tmp_path: Path, net: dict, roads
) -> None:
    """The police re-send the year's sheet with a late crash put in at the top (every 序号 moves
    on) and one casualty count corrected: one crash added, one updated, the others unchanged
    (every one counted as updated, the two real corrections lost among them)."""
    x1 = net["lines"]["X001"]
    crashes = [(f"A{k}", f"2024-05-{k:02d}", *along(x1, 200.0 * k), "0") for k in range(1, 6)]

    def sheet(name: str, rows: list[tuple]) -> Path:
        path = tmp_path / name
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(
                [["序号", "事故编号", "事故时间", "经度", "纬度", "受伤人数"]]
                + [[n, *r] for n, r in enumerate(rows, start=1)]
            )
        return path

    first = _import(sheet("a.csv", crashes))
    assert (first["added"], first["updated"]) == (5, 0)
    again = [("A0", "2024-04-30", *along(x1, 50.0), "0"), *crashes]
    again[3] = (*again[3][:4], "2")  # A3: 0 -> 2 injured
    second = _import(sheet("b.csv", again))
    assert (second["added"], second["updated"], second["unchanged"]) == (1, 1, 4), second


def test_ids_filled_in_a_sheet_sent_again_are_the_same_crashes(
    tmp_path: Path, net: dict, roads
) -> None:
    """A sheet without 事故编号 (its crashes known by day, time and place), sent again with the
    ids filled in: the same crashes, now known by their ids; none added (all were, twice)."""
    x1 = net["lines"]["X001"]
    rows = [(f"2024-05-{k:02d} 08:00", *along(x1, 300.0 * k), "1") for k in range(1, 4)]

    def sheet(name: str, ids: list[str] | None) -> Path:
        path = tmp_path / name
        head = ["事故时间", "经度", "纬度", "受伤人数"]
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(
                [["事故编号", *head] if ids else head]
                + [[ids[k], *r] if ids else list(r) for k, r in enumerate(rows)]
            )
        return path

    first = _import(sheet("a.csv", None))
    assert first["added"] == 3
    ids = ["4309812024001", "4309812024002", "4309812024003"]
    again = _import(sheet("b.csv", ids))
    assert (again["added"], again["updated"]) == (0, 3), again
    with roads.connect() as conn:
        stored = conn.execute(text("SELECT crash_id FROM crashes ORDER BY crash_id")).scalars()
        assert list(stored) == ids
