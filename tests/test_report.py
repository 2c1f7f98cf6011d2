"""``hazards report``: every figure of the period report recomputed here from what other commands
show (``list --json``, ``history --json``, ``roads show``, ``batch list``, ``plan list``), the
statuses rebuilt from each hazard's history on the period's last day; the files it writes."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from hazards.cli import cli

END = "2025-12-31"


def _run(*args: str) -> object:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


@pytest.fixture
def history_2025(tmp_path: Path, engine):  # type: ignore[no-untyped-def]
    """Roads; 8 hazards surveyed 2025-03-01 on X001 (琼湖街道) and Y002 (草尾镇), planned in
    two batches on 2025-04-01, then worked on and re-checked in 2025 and 2026."""
    from builders import frame, network

    from hazards.intake import import_survey
    from hazards.planning import commit_plan, create_plan
    from hazards.remediation import record_recheck, set_status
    from hazards.roads import load_roads

    path = tmp_path / "roads.gpkg"
    frame(network()["features"], "EPSG:4546").to_file(path, engine="pyogrio")
    load_roads(path, engine=engine)
    rows = [["序号", "路线编码", "桩号", "隐患类型", "风险等级", "估算金额(万元)"]]
    for i in range(8):
        metres = 200 + 400 * (i % 4)
        rows.append(
            [
                i + 1,
                "X001" if i < 4 else "Y002",
                f"K{metres // 1000}+{metres % 1000:03d}",
                "临水临崖" if i % 2 else "急弯",
                "一级" if i in (0, 5) else "三级",
                str(1 + i),
            ]
        )
    with (tmp_path / "s.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    import_survey(tmp_path / "s.csv", provider="p", surveyed_on="2025-03-01", engine=engine)
    create_plan(name="P2025", budget=1e6, batches=2, engine=engine)
    commit_plan("P2025", on="2025-04-01", engine=engine)
    ids = [h["id"] for h in _run("list", "--json")]  # type: ignore[union-attr]
    a, b, c, d, e, *_ = ids
    set_status([d], to="in_progress", on="2025-05-01", engine=engine)
    set_status([a, b, c], to="reported_done", on="2025-06-01", engine=engine)
    record_recheck(a, result="pass", on="2025-09-01", engine=engine)
    record_recheck(b, result="fail", on="2025-09-02", engine=engine)
    set_status([e], to="reported_done", on="2026-01-15", engine=engine)  # after the period
    record_recheck(c, result="pass", on="2026-02-01", engine=engine)  # after the period
    return engine


def _expected() -> dict[str, dict]:
    """Every table of the 2025 report, computed from the other commands' JSON."""
    hazards = _run("list", "--json")
    routes = {r: _run("roads", "show", r, "--json") for r in {h["route_code"] for h in hazards}}
    status, batch, rechecks = {}, {}, []
    for h in hazards:
        hist = _run("history", h["id"], "--json")
        on_end = [e for e in hist["events"] if e["to_status"] and str(e["happened_on"]) <= END]
        if on_end:
            status[h["id"]] = on_end[-1]["to_status"]
        batch[h["id"]] = hist["batch"]
        for e in hist["events"]:
            if e["kind"] == "recheck" and "2025-01-01" <= str(e["happened_on"]) <= END:
                rechecks.append((h["tier"], e["to_status"] == "verified"))

    def figures(key) -> dict[str, dict]:
        out: dict[str, Counter] = defaultdict(Counter)
        for h in hazards:
            if h["id"] not in status:
                continue
            s, g = status[h["id"]], key(h)
            out[g]["found"] += s != "rejected"
            out[g]["planned"] += s in ("planned", "in_progress")
            out[g]["fixed"] += s in ("reported_done", "verified")
            out[g]["verified"] += s == "verified"
            out[g]["reopened"] += s == "reopened"
        return {g: dict(c) for g, c in out.items()}

    def with_pct(groups: dict[str, dict]) -> dict[str, dict]:
        total = Counter()
        for v in groups.values():
            total.update(v)
        groups = {**groups, "total": dict(total)}
        for v in groups.values():
            v["pct_fixed"] = round(100 * v["fixed"] / v["found"], 1) if v["found"] else 0.0
        return groups

    by_class = with_pct(figures(lambda h: routes[h["route_code"]]["class"]))
    by_town = with_pct(
        figures(
            lambda h: (
                routes[h["route_code"]]["townships"][0]["township"]
                if isinstance(routes[h["route_code"]]["townships"][0], dict)
                else routes[h["route_code"]]["townships"][0]
            )
        )
    )
    zero = dict.fromkeys(("found", "planned", "fixed", "verified", "reopened"), 0)
    # every tier has its row, II with zeros
    by_tier = with_pct(
        {t: zero | figures(lambda h: h["tier"]).get(t, {}) for t in ("I", "II", "III")}
    )
    batches = {}
    for b in _run("batch", "list", "--json"):
        mine = [i for i in status if batch[i] == b["name"]]
        fixed = sum(status[i] in ("reported_done", "verified") for i in mine)
        batches[b["name"]] = {
            "plan": b["plan_name"],
            "cost_cny": round(b["cost_cny"], 2),
            "hazards": len(mine),
            "fixed": fixed,
            "verified": sum(status[i] == "verified" for i in mine),
            "pct_fixed": round(100 * fixed / len(mine), 1) if mine else 0.0,
        }
    rc: dict[str, Counter] = defaultdict(Counter)
    for tier, passed in rechecks:
        for g in (tier, "total"):
            rc[g]["checked"] += 1
            rc[g]["passed"] += passed
            rc[g]["failed"] += not passed
    re_rows = {
        g: {**v, "pct_passed": round(100 * v["passed"] / v["checked"], 1)} for g, v in rc.items()
    }
    return {
        "by_class": by_class,
        "by_township": by_town,
        "by_tier": by_tier,
        "batches": batches,
        "rechecks": re_rows,
        "plans": {p["name"]: p["budget_cny"] for p in _run("plan", "list", "--json")},
    }


def _cells(table: dict) -> dict[str, dict]:
    first = table["columns"][0]
    return {
        r[first]: {c: r[c] for c in table["columns"][1:]} for r in [*table["rows"], table["total"]]
    }


def test_every_figure_agrees_with_list_and_history(history_2025) -> None:
    report = _run("report", "--year", "2025", "--json")
    assert (report["period_from"], report["period_to"], report["as_of"]) == ("2025-01-01", END, END)
    tables = {t["key"]: t for t in report["tables"]}
    want = _expected()
    for key in ("by_class", "by_township", "by_tier", "rechecks"):
        assert _cells(tables[key]) == want[key], key
    got = _cells(tables["batches"])
    total = got.pop("total")
    for name, row in got.items():
        assert {k: v for k, v in row.items() if k != "contractor"} == want["batches"][name]
    assert total["hazards"] == sum(b["hazards"] for b in want["batches"].values()) == 8
    assert total["fixed"] == sum(b["fixed"] for b in want["batches"].values())
    assert report["plan_budget_cny"] == sum(want["plans"].values()) == 1e6
    # the numbers themselves, for the record: 2025 ends with 2 fixed (1 verified), 1 reopened,
    # 5 planned (1 of them in progress)
    assert tables["by_tier"]["total"] == {
        "tier": "total",
        "found": 8,
        "planned": 5,
        "fixed": 2,
        "verified": 1,
        "reopened": 1,
        "pct_fixed": 25.0,
    }
    assert tables["rechecks"]["total"]["checked"] == 2
    # roads: routes and km per class as `roads summary` gives them
    summary = _run("roads", "summary", "--json")
    assert {r["class"]: (r["routes"], r["length_km"]) for r in tables["roads"]["rows"]} == {
        g["class"]: (g["routes"], round(g["length_km"], 3)) for g in summary["classes"]
    }
    assert tables["roads"]["total"]["routes"] == summary["total"]["routes"]
    # the narrative is made of the figures
    text = "".join(report["narrative"])
    assert "排查发现道路交通安全隐患8处" in text and "已整改2处，整改率25%" in text
    assert "复查2处，通过1处，未通过1处" in text


def test_a_later_day_sees_the_later_changes(history_2025) -> None:
    report = _run("report", "--from", "2025-01-01", "--to", "2026-06-30", "--lang", "en", "--json")
    total = {t["key"]: t for t in report["tables"]}["by_tier"]["total"]
    assert (total["fixed"], total["verified"], total["planned"]) == (3, 2, 4)
    assert "8 hazards found" in report["narrative"][1]


def test_the_files(history_2025, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    for suffix in (".md", ".html", ".xlsx"):
        res = CliRunner().invoke(
            cli, ["report", "--year", "2025", "-o", str(tmp_path / f"r{suffix}")]
        )
        assert res.exit_code == 0, res.output
    wb = load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == [
        "概况",
        "路网",
        "隐患-按公路等级",
        "隐患-按乡镇",
        "隐患-按风险等级",
        "整治批次",
        "回头看复查",
    ]
    tier = wb["隐患-按风险等级"]
    rows = list(tier.iter_rows(values_only=True))
    assert rows[0][:3] == ("风险等级", "排查发现(处)", "列入计划未完工(处)")
    assert rows[-1][:6] == ("合计", 8, 5, 2, 1, 1)
    assert "县道" in [r[0] for r in wb["隐患-按公路等级"].iter_rows(values_only=True)]
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "| 合计 | 8 | 5 | 2 | 1 | 1 | 25 |" in md
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "回头看复查" in page


def test_bad_periods_name_their_option(engine, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["report", "--year", "2025", "--from", "2025-01-01"])
    assert res.exit_code == 1 and "not both" in res.output and "--year" in res.output
    res = runner.invoke(cli, ["report", "--from", "2025-05-01", "--to", "2025-01-01"])
    assert res.exit_code == 1 and "--from" in res.output
    res = runner.invoke(cli, ["report", "--to", "31/12/2025"])
    assert res.exit_code == 1 and "YYYY-MM-DD" in res.output and "--to" in res.output
    res = runner.invoke(cli, ["report", "-o", str(tmp_path / "r.pdf")])
    assert res.exit_code == 1 and ".xlsx" in res.output and "--output" in res.output


def test_the_inventory_geopackage_reads_back_with_gdal(history_2025, tmp_path: Path) -> None:
    import pyogrio
    from sqlalchemy import text

    with history_2025.connect() as conn:
        want = {
            layer: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for layer, table in (
                ("roads", "road_segments"),
                ("hazards", "hazards"),
                ("batches", "batches"),
            )
        }
        srid = conn.execute(text("SELECT value FROM metadata WHERE key = 'working_crs'")).scalar()
    out = _run("export", "inventory", "-o", str(tmp_path / "inv.gpkg"), "--json")
    path = tmp_path / "inv.gpkg"
    layers = {name: kind for name, kind in pyogrio.list_layers(path)}
    assert layers.pop("layer_styles") is None  # the QGIS styles: a table without geometry
    assert layers == {"roads": "LineString", "hazards": "Point", "batches": "MultiPoint"}
    got = {name: pyogrio.read_info(path, layer=name)["features"] for name in layers}
    assert got == want == out["layers"]  # type: ignore[index]
    assert want["hazards"] == 8 and want["roads"] > 0 and want["batches"] > 0
    info = pyogrio.read_info(path, layer="hazards")
    assert srid and info["crs"] == srid, (srid, info["crs"])  # the working CRS by default
    hazards = pyogrio.read_dataframe(path, layer="hazards")
    listed = {h["id"]: h for h in _run("list", "--json")}  # type: ignore[union-attr]
    assert {r.id: (r.tier, r.status, r.route_code) for r in hazards.itertuples()} == {
        i: (h["tier"], h["status"], h["route_code"]) for i, h in listed.items()
    }
    assert set(hazards["township"]) == {"琼湖街道", "草尾镇"}
    roads = pyogrio.read_dataframe(path, layer="roads")
    assert roads["chainage_from"].str.match(r"^K\d+\+\d{3}$").all()
    batches = pyogrio.read_dataframe(path, layer="batches")
    assert batches["hazards"].sum() == sum(len(g.geoms) for g in batches.geometry if g is not None)
    _check_styles(path, pyogrio)
    wgs = _run("export", "inventory", "-o", str(tmp_path / "w.gpkg"), "--crs", "4490", "--json")
    assert wgs["crs"] == "EPSG:4490"  # type: ignore[index]
    res = CliRunner().invoke(cli, ["export", "inventory", "-o", str(tmp_path / "x.shp")])
    assert res.exit_code == 1 and ".gpkg" in res.output and "--output" in res.output


def test_an_empty_inventory_reports_zeros(engine) -> None:
    report = _run("report", "--year", "2025", "--lang", "en", "--json")
    tiers = {t["key"]: t for t in report["tables"]}["by_tier"]  # type: ignore[index]
    assert [r["tier"] for r in tiers["rows"]] == ["I", "II", "III"]
    assert tiers["total"]["found"] == 0 and tiers["total"]["pct_fixed"] == 0.0
    printed = CliRunner().invoke(cli, ["report", "--year", "2025"])
    assert printed.exit_code == 0 and "# 道路交通安全隐患排查整治情况报告" in printed.output
    assert "| 合计 | 0 | 0 | 0 | 0 | 0 | 0 |" in printed.output


def _check_styles(path: Path, pyogrio) -> None:  # type: ignore[no-untyped-def]
    """Each layer has one default QML style naming its own table and geometry column; the
    hazards' renderer has a category per tier with the maps' colour, labelled in Chinese."""
    import sqlite3
    import xml.etree.ElementTree as ET

    from hazards.map_style import TIER_COLOURS

    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault FROM layer_styles"
    ).fetchall()
    con.close()
    assert sorted(r[0] for r in rows) == ["batches", "hazards", "roads"]
    for name, geom_col, style, default in rows:
        assert geom_col == pyogrio.read_info(path, layer=name)["geometry_name"] and default == 1
        root = ET.fromstring(style.split(">", 1)[1])  # after the DOCTYPE
        assert root.tag == "qgis"
        renderer = root.find("renderer-v2")
        assert renderer is not None
        if name == "batches":
            assert renderer.get("type") == "singleSymbol"
            continue
        assert renderer.get("type") == "categorizedSymbol"
        cats = renderer.findall("categories/category")
        symbols = {s.get("name"): s for s in renderer.findall("symbols/symbol")}
        assert {c.get("symbol") for c in cats} == set(symbols)
        if name == "hazards":
            assert renderer.get("attr") == "tier"
            colours = {
                c.get("value"): symbols[c.get("symbol")]
                .find("layer/Option/Option[@name='color']")
                .get("value")
                for c in cats
            }
            assert colours == {
                t: ",".join(str(int(h[i : i + 2], 16)) for i in (1, 3, 5)) + ",255"
                for t, h in TIER_COLOURS.items()
            }
            from hazards.map_style import LABELS

            assert {c.get("value"): c.get("label") for c in cats} == LABELS["zh"]["tiers"]
        else:
            assert renderer.get("attr") == "road_class"
            assert "县道" in {c.get("label") for c in cats}


def test_qgis_loads_the_styles(history_2025, tmp_path: Path) -> None:
    qgis_core = pytest.importorskip(
        "qgis.core", reason="QGIS (python3-qgis) is not installed on this machine"
    )
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _run("export", "inventory", "-o", str(tmp_path / "inv.gpkg"))
    app = qgis_core.QgsApplication([], False)
    app.initQgis()
    layer = qgis_core.QgsVectorLayer(f"{tmp_path / 'inv.gpkg'}|layername=hazards", "h", "ogr")
    assert layer.isValid()
    layer.loadDefaultStyle()
    assert {c.value() for c in layer.renderer().categories()} == {"I", "II", "III", ""}
