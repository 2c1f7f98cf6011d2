"""``hazards report``: every figure of the period report recomputed here from what other commands
show (``list --json``, ``history --json``, ``roads show``, ``batch list``, ``plan list``), the
statuses rebuilt from each hazard's history on the period's last day; the files it writes."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
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
    status, batch, rechecks = {}, {}, {}
    for h in hazards:
        hist = _run("history", h["id"], "--json")
        on_end = [e for e in hist["events"] if e["to_status"] and str(e["happened_on"]) <= END]
        if on_end:
            status[h["id"]] = on_end[-1]["to_status"]
        batch[h["id"]] = hist["batch"]
        for e in hist["events"]:
            if e["kind"] == "recheck" and "2025-01-01" <= str(e["happened_on"]) <= END:
                # a site once, with its latest re-check of the period
                rechecks[h["id"]] = (h["tier"], e["to_status"] == "verified")

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
            v["pct_fixed"] = round(100 * v["fixed"] / v["found"], 1) if v["found"] else None
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
            "pct_fixed": round(100 * fixed / len(mine), 1) if mine else None,
        }
    rc: dict[str, Counter] = defaultdict(Counter)
    for tier, passed in rechecks.values():
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
    assert tables["roads"]["total"]["length_km"] == summary["total"]["length_km"]  # not a sum
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
    en = CliRunner().invoke(
        cli, ["report", "--year", "2025", "--lang", "en", "-o", str(tmp_path / "e.md")]
    )  # the line says it in the report's language (it was Chinese whatever --lang said)
    assert en.output.startswith("report 2025-01-01 – 2025-12-31 written to"), en.output
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
    # a period not begun (a typo'd year) is refused, not reported with today's figures
    next_year = str(dt.date.today().year + 1)
    res = runner.invoke(cli, ["report", "--year", next_year])
    assert res.exit_code == 1 and "has not begun" in res.output and "--year" in res.output
    res = runner.invoke(
        cli, ["report", "--from", f"{next_year}-01-01", "--to", f"{next_year}-02-01"]
    )
    assert res.exit_code == 1 and "after today" in res.output and "--from" in res.output
    # the language of the report is the lang setting's unless --lang says
    from hazards.settings import get_settings

    get_settings.cache_clear()
    try:
        en = runner.invoke(cli, ["report", "--json"], env={"HAZARDS_LANG": "en"})
    finally:
        get_settings.cache_clear()
    assert en.exit_code == 0 and json.loads(en.output)["lang"] == "en"


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
        ends = conn.execute(text("SELECT end_m FROM roads WHERE NOT unassigned")).scalars().all()
    want["cells"] = sum(max(1, math.ceil(e / 100)) for e in ends)  # 100 m cells per route
    out = _run("export", "inventory", "-o", str(tmp_path / "inv.gpkg"), "--json")
    path = tmp_path / "inv.gpkg"
    layers = {name: kind for name, kind in pyogrio.list_layers(path)}
    assert layers.pop("layer_styles") is None  # the QGIS styles: a table without geometry
    assert layers == {
        "roads": "LineString",
        "hazards": "Point",
        "batches": "MultiPoint",
        "cells": "MultiLineString",
    }  # no crash and no linear hazard in this database: no such layers
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
    _check_cells(path, pyogrio, history_2025)
    _check_styles(path, pyogrio)
    wgs = _run("export", "inventory", "-o", str(tmp_path / "w.gpkg"), "--crs", "4490", "--json")
    assert wgs["crs"] == "EPSG:4490"  # type: ignore[index]
    res = CliRunner().invoke(cli, ["export", "inventory", "-o", str(tmp_path / "x.shp")])
    assert res.exit_code == 1 and ".gpkg" in res.output and "--output" in res.output


def _check_cells(path: Path, pyogrio, engine) -> None:  # type: ignore[no-untyped-def]
    """The cells agree with route risk (`tiers routes`): per route the cells at risk and the
    riskiest cell; their lengths add up to the road's; every open hazard sits in one cell."""
    from hazards.scoring import route_ratings

    cells = pyogrio.read_dataframe(path, layer="cells")
    roads = pyogrio.read_dataframe(path, layer="roads")
    ratings = {r["route"]: r for r in route_ratings(engine=engine)["routes"]}
    for code, g in cells.groupby("route_code"):
        assert (g["risk"] > 0).sum() == ratings[code]["cells_at_risk"]
        assert round(g["risk"].max(), 1) == ratings[code]["worst_cell_risk"]
        assert list(g["cell"]) == list(range(len(g))) == list(range(ratings[code]["cells"]))
        assert g["open_hazards"].sum() == ratings[code]["open_hazards"]
        on_road = roads[roads["route_code"] == code]
        assert abs(g.geometry.length.sum() - on_road.geometry.length.sum()) < 1.0  # metres
    listed = _run("list", "--json")
    open_ = [h for h in listed if h["status"] not in ("reported_done", "verified", "rejected")]
    assert cells["open_hazards"].sum() == len(open_)
    assert set(cells["worst_tier"].dropna()) <= {"I", "II", "III"}
    assert cells["chainage_from"].iloc[1] == "K0+100"


def test_a_site_re_checked_twice_is_one_site_re_checked(tracked) -> None:
    """A verified site checked again (the police's own look after the office's) is one site of
    the year's re-checks, with its latest result: it was two, and the pass rate moved."""
    site = _run("list", "--json")[0]["id"]  # type: ignore[index]
    for args in (  # today: the plan was committed today
        ["status", "set", site, "--to", "in_progress"],
        ["status", "set", site, "--to", "reported_done"],
        ["recheck", "record", site, "--result", "pass"],
        # as the re-check sheet says it (复查结果（合格/不合格）), its id as typed
        ["recheck", "record", site.lower(), "--result", "合格"],
    ):
        out = CliRunner().invoke(cli, args)
        assert out.exit_code == 0, (args, out.output)
    year = str(dt.date.today().year)
    report = _run("report", "--year", year, "--lang", "en", "--json")
    rechecks = {t["key"]: t for t in report["tables"]}["rechecks"]  # type: ignore[index]
    assert (rechecks["total"]["checked"], rechecks["total"]["passed"]) == (1, 1)


def test_an_empty_inventory_reports_zeros(engine) -> None:
    report = _run("report", "--year", "2025", "--lang", "en", "--json")
    tiers = {t["key"]: t for t in report["tables"]}["by_tier"]  # type: ignore[index]
    assert [r["tier"] for r in tiers["rows"]] == ["I", "II", "III"]
    # a rate of nothing is no rate: null in JSON, a dash in the tables, not said in the text
    assert tiers["total"]["found"] == 0 and tiers["total"]["pct_fixed"] is None
    rechecks = {t["key"]: t for t in report["tables"]}["rechecks"]  # type: ignore[index]
    assert rechecks["total"]["checked"] == 0 and rechecks["total"]["pct_passed"] is None
    assert "no site was re-checked" in report["narrative"][-1]  # type: ignore[index]
    assert not any("%" in p for p in report["narrative"])  # type: ignore[union-attr]
    printed = CliRunner().invoke(cli, ["report", "--year", "2025"])
    assert printed.exit_code == 0 and "# 道路交通安全隐患排查整治情况报告" in printed.output
    assert "| 合计 | 0 | 0 | 0 | 0 | 0 | — |" in printed.output
    assert "未开展回头看复查。" in printed.output and "通过率" not in printed.output.split("##")[0]


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
    layers = {n for n, _ in pyogrio.list_layers(path)} - {"layer_styles"}
    # one default style per layer; the roads' road modes follow as further named styles
    # (checked in tests/test_inventory.py)
    rows = [r for r in rows if r[3] == 1]
    assert sorted(r[0] for r in rows) == sorted(layers)  # one style per layer
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
            # the status in the outline, as on the maps: colour, width and dash by status
            defined = symbols["0"].find("layer/data_defined_properties")
            exprs = {
                o.get("name"): o.find("Option[@name='expression']").get("value")
                for o in defined.findall("Option/Option[@name='properties']/Option")
            }
            assert set(exprs) == {"outlineColor", "outlineWidth", "outlineStyle"}
            assert "WHEN 'planned' THEN '#1f5fbf'" in exprs["outlineColor"]
            aliases = {a.get("field"): a.get("name") for a in root.findall("aliases/alias")}
            assert aliases["tier"] == "风险等级" and aliases["status"] == "状态"
            status_map = root.find("fieldConfiguration/field[@name='status']/editWidget")
            assert status_map.get("type") == "ValueMap"
            pairs = {
                o.get("value"): o.get("name")
                for o in status_map.findall("config/Option/Option/Option/Option")
            }
            assert pairs["planned"] == "已计划" and pairs["verified"] == "已验收"
        elif name == "cells":
            assert renderer.get("attr") == "worst_tier"
            assert {c.get("value") for c in cats} == {"I", "II", "III", ""}
        else:
            assert renderer.get("attr") == "road_class"
            assert "县道" in {c.get("label") for c in cats}
            assert root.find("labeling/settings/text-style").get("fieldName") == "route_code"


# ----------------------------------------------------------------------------- charts, Word, crashes
from browser import Page, browser_fixture, distinct_colours  # noqa: E402, F401  (fixture)

MONTH_ENDS_2025 = [
    f"2025-{m:02d}-{d}"
    for m, d in zip(range(1, 13), (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), strict=True)
]


def test_tier_series_agrees_with_history(history_2025) -> None:
    """Found and fixed per tier at every month end, recomputed from each hazard's history."""
    report = _run("report", "--year", "2025", "--json")
    series = report["series"]  # type: ignore[index]
    assert series["dates"] == MONTH_ENDS_2025
    hazards = _run("list", "--json")
    events = {h["id"]: _run("history", h["id"], "--json")["events"] for h in hazards}  # type: ignore[index]
    for i, day in enumerate(MONTH_ENDS_2025):
        for tier in ("I", "II", "III"):
            found = fixed = 0
            for h in hazards:  # type: ignore[union-attr]
                past = [
                    e["to_status"]
                    for e in events[h["id"]]
                    if e["to_status"] and str(e["happened_on"]) <= day
                ]
                if h["tier"] != tier or not past:
                    continue
                found += past[-1] != "rejected"
                fixed += past[-1] in ("reported_done", "verified")
            assert (series["found"][tier][i], series["fixed"][tier][i]) == (found, fixed), (
                day,
                tier,
            )
    assert (
        series["fixed"]["I"][4] < series["fixed"]["I"][5]
        or series["fixed"]["III"][4] < series["fixed"]["III"][5]
    )


def test_html_charts_show_in_chromium(history_2025, browser: Page, tmp_path: Path) -> None:
    import base64

    for lang in ("zh", "en"):
        out = tmp_path / f"r-{lang}.html"
        res = CliRunner().invoke(cli, ["report", "--year", "2025", "--lang", lang, "-o", str(out)])
        assert res.exit_code == 0, res.output
        page = out.read_text(encoding="utf-8")
        assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
        browser.open(out.as_uri())
        imgs = browser.js(
            "[...document.querySelectorAll('figure.chart img')].map(i => "
            "[i.complete, i.naturalWidth, i.naturalHeight, i.alt])"
        )
        assert len(imgs) == 2 and all(c and w > 100 and h > 100 for c, w, h, _ in imgs), imgs
        assert browser.errors() == []
        assert all(u.startswith(("file:", "data:")) for u in browser.requests())
        for k in range(2):  # each chart drawn: many colours, not a blank box
            rect = browser.js(
                f"(() => {{ const i = document.querySelectorAll('figure.chart img')[{k}];"
                " i.scrollIntoView(); const r = i.getBoundingClientRect();"
                " return [r.x + scrollX, r.y + scrollY, r.width, r.height]; })()"
            )
            shot = browser.call(
                "Page.captureScreenshot",
                format="png",
                clip={"x": rect[0], "y": rect[1], "width": rect[2], "height": rect[3], "scale": 1},
            )
            assert distinct_colours(base64.b64decode(shot["data"])) > 20


def test_word_file(history_2025, tmp_path: Path) -> None:
    from docx import Document

    res = CliRunner().invoke(cli, ["report", "--year", "2025", "-o", str(tmp_path / "r.docx")])
    assert res.exit_code == 0, res.output
    report = _run("report", "--year", "2025", "--json")
    doc = Document(str(tmp_path / "r.docx"))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert report["title"] in text and all(p in text for p in report["narrative"])  # type: ignore[index]
    assert len(doc.inline_shapes) == 2  # the two charts
    assert len(doc.tables) == len(report["tables"])  # type: ignore[index]
    tier = doc.tables[3]
    assert [c.text for c in tier.rows[-1].cells][:6] == ["合计", "8", "5", "2", "1", "1"]


def test_crash_table_when_crashes_exist(history_2025) -> None:
    from sqlalchemy import text

    crashes = [  # (id, date, severity, fatalities, injuries, on X001?)
        ("a", "2025-02-01", "K", 1, 2, True),
        ("b", "2025-07-01", "A", 0, 1, True),
        ("c", "2025-08-01", "O", 0, 0, False),
        ("d", "2025-09-01", None, None, 3, True),
        ("e", "2026-01-10", "K", 2, 0, True),  # after the period
    ]
    assert "crash_table" not in {
        t["key"] for t in _run("report", "--year", "2025", "--json")["tables"]
    }  # type: ignore[index]
    with history_2025.begin() as conn:
        road = conn.execute(
            text("SELECT id, road_class FROM roads WHERE route_code = 'X001'")
        ).one()
        for cid, day, sev, dead, hurt, on_road in crashes:
            conn.execute(
                text(
                    "INSERT INTO crashes (source, crash_id, occurred_on, severity, fatalities, "
                    "injuries, road_id, raw, content_hash) VALUES ('t', :id, CAST(:d AS date), "
                    ":s, :f, :i, :r, '{}'::jsonb, :h)"
                ),
                {
                    "id": cid,
                    "h": cid,
                    "d": day,
                    "s": sev,
                    "f": dead,
                    "i": hurt,
                    "r": road.id if on_road else None,
                },
            )
    report = _run("report", "--year", "2025", "--lang", "en", "--json")
    table = {t["key"]: t for t in report["tables"]}["crash_table"]  # type: ignore[index]
    got = _cells(table)
    assert got[road.road_class] == {
        "K": 1,
        "A": 1,
        "B": 0,
        "C": 0,
        "O": 0,
        "unknown": 1,
        "crashes": 3,
        "fatalities": 1,
        "injuries": 6,
    }
    assert got["unattached"]["O"] == 1 and got["unattached"]["crashes"] == 1
    assert got["total"]["crashes"] == 4 and got["total"]["fatalities"] == 1
    assert (
        "4 crashes: 1 fatal, 1 with serious injuries; 1 killed, 6 injured."
        in report["narrative"][-1]
    )  # type: ignore[index]
    zh = _run("report", "--year", "2025", "--json")
    assert "发生道路交通事故4起" in zh["narrative"][-1]  # type: ignore[index]
    assert "截至" not in zh["narrative"][-1]  # the records run past 2025: nothing to say
    assert "未关联道路" in CliRunner().invoke(cli, ["report", "--year", "2025"]).output
    # 2026: the records stop on 2026-01-10; the year's figures say so, not "1 crash" flat
    later = _run("report", "--year", "2026", "--json")
    assert later["crashes_until"] == "2026-01-10"  # type: ignore[index]
    assert "（事故数据截至2026年1月10日，此后的事故尚未录入）" in later["narrative"][-1]  # type: ignore[index]
    en = _run("report", "--year", "2026", "--lang", "en", "--json")
    assert "the crash records run to 2026-01-10" in en["narrative"][-1]  # type: ignore[index]


def test_a_cjk_font_installed_after_matplotlib_listed_its_fonts_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """matplotlib's cached font list, made before fonts-noto-cjk was installed, knew no CJK
    font, and the Word report's charts drew a box for every Chinese character."""
    from matplotlib import font_manager

    from hazards.report_charts import CJK_FONTS, cjk_font

    cjk = [p for p in font_manager.findSystemFonts() if "cjk" in p.lower() or "wqy" in p.lower()]
    if not cjk:
        pytest.skip("no CJK font installed here")
    # the list as cached before those files were installed: none of their faces in it
    stale = [f for f in font_manager.fontManager.ttflist if f.fname not in cjk]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    assert cjk_font() in CJK_FONTS[:-1]


def test_a_plan_committed_after_the_period_is_not_in_its_report(history_2025) -> None:
    """2025's report lists the batches planned by its last day, with their hazards as of then: a
    plan committed in 2026 that takes the site reopened in 2025 changes nothing of it (before,
    it was listed, with its budget in the narrative's plans and amounts, and the site it took
    was counted out of its 2025 batch)."""
    from hazards.planning import commit_plan, create_plan

    before = _run("report", "--year", "2025", "--lang", "en", "--json")
    rows = {t["key"]: t for t in before["tables"]}["batches"]["rows"]  # type: ignore[index]
    assert {r["plan"] for r in rows} == {"P2025"}
    create_plan(name="P2026", budget=1e6, batches=1, engine=history_2025)
    commit_plan("P2026", on="2026-03-01", engine=history_2025)
    after = _run("report", "--year", "2025", "--lang", "en", "--json")
    rows_after = {t["key"]: t for t in after["tables"]}["batches"]["rows"]  # type: ignore[index]
    assert [r["batch"] for r in rows_after] == [r["batch"] for r in rows]
    # the same report: the batches, their hazards (each as of the period's end) and the words
    assert rows_after == rows
    assert after["narrative"] == before["narrative"]  # type: ignore[index]
    later = _run("report", "--year", "2026", "--lang", "en", "--json")
    assert "P2026" in {r["plan"] for r in {t["key"]: t for t in later["tables"]}["batches"]["rows"]}  # type: ignore[index]
