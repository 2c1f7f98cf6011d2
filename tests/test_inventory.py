"""Listing the inventory: hazards by route, tier, status and survey; the review queue; surveys."""

from __future__ import annotations

from hazards import inventory, remediation
from hazards.errors import NotFound


def test_list_hazards_filters_and_orders_along_routes(tracked) -> None:  # type: ignore[no-untyped-def]
    everything = inventory.list_hazards(engine=tracked)
    assert len(everything) == 8
    assert [h["route_code"] for h in everything] == ["X001"] * 4 + ["Y002"] * 4
    # ordered by chainage within a route: 200, 600, 1000, 1400 m (the fixture's placement)
    assert [round(h["chainage_m"]) for h in everything[:4]] == [200, 600, 1000, 1400]
    # a route code as people type it
    on_y002 = inventory.list_hazards(route=" y 002", engine=tracked)
    assert {h["route_code"] for h in on_y002} == {"Y002"} and len(on_y002) == 4
    assert {h["status"] for h in everything} == {"planned"}
    tier_i = inventory.list_hazards(tier="I", engine=tracked)
    assert {h["id"] for h in tier_i} == {h["id"] for h in everything if h["tier"] == "I"}
    assert len(inventory.list_hazards(survey=1, engine=tracked)) == 8
    with pytest.raises(NotFound, match="No survey with id 2"):  # not an empty list
        inventory.list_hazards(survey=2, engine=tracked)


def test_status_filter_follows_changes(tracked) -> None:  # type: ignore[no-untyped-def]
    first = inventory.list_hazards(engine=tracked)[0]["id"]
    remediation.set_status([first], to="in_progress", engine=tracked)
    assert [h["id"] for h in inventory.list_hazards(status="in_progress", engine=tracked)] == [
        first
    ]
    assert len(inventory.list_hazards(status="planned", engine=tracked)) == 7
    # on the command line, a status is its code or its Chinese word; anything else is refused
    from click.testing import CliRunner

    from hazards.cli import cli

    def ids(*args: str) -> list[str]:
        out = CliRunner().invoke(cli, ["list", "--json", *args])
        assert out.exit_code == 0, out.output
        return [h["id"] for h in json.loads(out.output)]

    assert ids("--status", "治理中") == ids("--status", "in_progress") == [first]
    assert (
        ids("--status", "施工中") == ids("--status", "ｉｎ_progress") == [first]
    )  # work list, NFKC
    assert len(ids("--status", "已计划")) == len(ids("--status", "Planned")) == 7
    bogus = CliRunner().invoke(cli, ["list", "--status", "bogus"])
    assert bogus.exit_code == 2 and "'bogus' is not a status" in bogus.output
    assert "planned (已计划)" in bogus.output


def test_review_queue_and_surveys(tracked) -> None:  # type: ignore[no-untyped-def]
    assert inventory.review_queue(engine=tracked) == []
    surveys = inventory.list_surveys(engine=tracked)
    assert len(surveys) == 1
    s = surveys[0]
    assert (
        s["provider"],
        s["rows_total"],
        s["rows_accepted"],
        s["rows_review"],
        s["rows_rejected"],
    ) == ("p", 8, 8, 0, 0)


# ----------------------------------------------------------------------------- GeoPackage extras
# (issue 21 item 2: crashes and linear hazard extents as layers, the .qgs project, QGIS itself)

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from sqlalchemy import text  # noqa: E402

from hazards.cli import cli  # noqa: E402
from hazards.gpkg import export_inventory  # noqa: E402

CRASHES = [("c1", "K", 100.0), ("c2", "A", 700.0), ("c3", "O", 1500.0)]


def _with_crashes_and_an_extent(engine) -> str:  # type: ignore[no-untyped-def]
    """Three crashes on X001 and one hazard made linear (200 m of X001 around it)."""
    with engine.begin() as conn:
        for crash_id, severity, metres in CRASHES:
            conn.execute(
                text(
                    "INSERT INTO crashes (source, crash_id, occurred_on, severity, route_code, "
                    "chainage_m, raw, content_hash, geom) SELECT 'test', :id, DATE '2025-05-01', "
                    ":sev, 'X001', :m, '{}'::jsonb, :hash, ST_LineInterpolatePoint(s.geom, "
                    "(:m - s.from_m) / (s.to_m - s.from_m)) FROM road_segments s "
                    "JOIN roads r ON r.id = s.road_id WHERE r.route_code = 'X001' "
                    "AND s.from_m <= :m AND s.to_m > :m LIMIT 1"
                ),
                {"id": crash_id, "hash": crash_id, "sev": severity, "m": metres},
            )
        return conn.execute(
            text(
                "UPDATE hazards h SET from_m = h.chainage_m - 100, to_m = h.chainage_m + 100, "
                "extent = ST_LineSubstring(s.geom, greatest(0, (h.chainage_m - 100 - s.from_m) / "
                "(s.to_m - s.from_m)), least(1, (h.chainage_m + 100 - s.from_m) / "
                "(s.to_m - s.from_m))) FROM road_segments s WHERE s.id = h.segment_id AND "
                "h.id = (SELECT min(id) FROM hazards) RETURNING h.public_id"
            )
        ).scalar_one()


def test_crashes_and_extents_become_layers(tracked, tmp_path: Path) -> None:
    import pyogrio

    from hazards.db.store.reports import inventory_counts

    linear = _with_crashes_and_an_extent(tracked)
    out = export_inventory(tmp_path / "i.gpkg", crs="4326", lang="en", engine=tracked)
    path = tmp_path / "i.gpkg"
    listed = dict(pyogrio.list_layers(path))
    assert listed["crashes"] == "Point" and listed["hazard_extents"] == "LineString"
    counts = {n: pyogrio.read_info(path, layer=n)["features"] for n in out["layers"]}
    assert counts == out["layers"] == inventory_counts(tracked)
    assert counts["crashes"] == len(CRASHES) and counts["hazard_extents"] == 1
    crashes = pyogrio.read_dataframe(path, layer="crashes")
    assert sorted(zip(crashes["crash_id"], crashes["severity"], strict=True)) == [
        (c, s) for c, s, _ in CRASHES
    ]
    ext = pyogrio.read_dataframe(path, layer="hazard_extents")
    assert list(ext["id"]) == [linear] and ext["chainage_from"].iloc[0].startswith("K0+")
    assert pyogrio.read_info(path, layer="crashes")["crs"] == "EPSG:4326"
    with sqlite3.connect(path) as con:
        styles = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall())
    assert set(styles) == set(out["layers"])
    crash_style = ET.fromstring(styles["crashes"].split(">", 1)[1])
    cats = crash_style.findall("renderer-v2/categories/category")
    assert crash_style.find("renderer-v2").get("attr") == "severity"
    assert [c.get("value") for c in cats] == ["K", "A", "B", "C", "O", ""]
    assert (
        ET.fromstring(styles["hazard_extents"].split(">", 1)[1]).find("renderer-v2").get("attr")
        == "tier"
    )


def test_qgis_project_has_a_datasource_per_layer(tracked, tmp_path: Path) -> None:
    _with_crashes_and_an_extent(tracked)
    res = CliRunner().invoke(
        cli, ["export", "qgis-project", "-o", str(tmp_path / "p.qgs"), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    page = (tmp_path / "p.qgs").read_text(encoding="utf-8")
    root = ET.fromstring(page.split("\n", 1)[1])  # after the DOCTYPE
    layers = root.findall("projectlayers/maplayer")
    names = {m.find("layername").text for m in layers}
    assert names == {"路网", "隐患", "隐患路段", "整治批次", "百米单元", "交通事故"}
    assert len(out["layers"]) == len(layers) == len(root.findall(".//layer-tree-layer"))
    for m in layers:
        assert m.find("provider").text == "postgres"
        source = m.find("datasource").text
        assert 'table="(SELECT row_number() OVER () AS fid' in source and "(geom)" in source
        assert "key='fid'" in source and "password=" not in source
        assert m.find("renderer-v2") is not None
    hazards = next(m for m in layers if m.find("layername").text == "隐患")
    assert hazards.find("renderer-v2").get("attr") == "tier"
    # the map in the working (metric) CRS, the layers in lon/lat as stored
    from hazards.db import store

    working = store.working_crs(tracked)
    project = root.find("projectCrs/spatialrefsys")
    assert project.find("authid").text == f"EPSG:{working.to_epsg()}"
    assert project.find("geographicflag").text == "false"
    assert {m.find("srs/spatialrefsys/authid").text for m in layers} == {"EPSG:4326"}
    res = CliRunner().invoke(
        cli, ["export", "qgis-project", "-o", str(tmp_path / "w.qgs"), "--with-password"]
    )
    assert res.exit_code == 0 and "password=" in (tmp_path / "w.qgs").read_text("utf-8")
    bad = CliRunner().invoke(cli, ["export", "qgis-project", "-o", str(tmp_path / "p.xml")])
    assert bad.exit_code == 1 and ".qgs" in bad.output and "--output" in bad.output


QGIS_SCRIPT = r"""
import json, sys
from qgis.core import QgsApplication, QgsProject, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
gpkg, qgs, names = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
out = {"gpkg": {}, "project": {}}
def describe(lyr):
    r = lyr.renderer()
    cats = r.categories() if r is not None and r.type() == "categorizedSymbol" else []
    return {
        "valid": lyr.isValid(),
        "features": lyr.featureCount(),
        "renderer": r.type() if r is not None else None,
        "attr": r.classAttribute() if cats else None,
        "categories": [[c.value(), c.label()] for c in cats],
        "colours": [c.symbol().color().name() for c in cats],
        "aliases": {f.name(): lyr.attributeAlias(i) for i, f in enumerate(lyr.fields())},
    }
for name in names:
    out["gpkg"][name] = describe(QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr"))
# the roads layer's named styles in layer_styles: load each, and draw each road with it
from qgis.core import QgsExpressionContext, QgsExpressionContextUtils, QgsRenderContext
from qgis.PyQt.QtXml import QDomDocument
roads = QgsVectorLayer(f"{gpkg}|layername=roads", "roads", "ogr")
related, ids, titles, _, _ = roads.listStylesInDatabase()
out["road_styles"] = []
for sid, title in list(zip(ids, titles))[:related]:
    qml, _ = roads.getStyleFromDatabase(sid)
    doc = QDomDocument()
    doc.setContent(qml)
    loaded, error = roads.importNamedStyle(doc)
    r = roads.renderer()
    def look(sym):
        return [sym.color().name(), sym.symbolLayer(0).penStyle() != 1]  # 1: solid
    if r.type() == "graduatedSymbol":
        classes = [[[x.lowerValue(), x.upperValue()], x.label(), *look(x.symbol())] for x in r.ranges()]
    else:
        classes = [[c.value(), c.label(), *look(c.symbol())] for c in r.categories()]
    ctx = QgsRenderContext()
    ctx.setExpressionContext(
        QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(roads))
    )
    r.startRender(ctx, roads.fields())
    drawn = {}
    for f in roads.getFeatures():
        ctx.expressionContext().setFeature(f)
        sym = r.symbolForFeature(f, ctx)
        drawn[f["route_code"]] = sym.color().name() if sym is not None else None
    r.stopRender(ctx)
    out["road_styles"].append({
        "title": title, "loaded": loaded, "error": error, "renderer": r.type(),
        "classes": classes,
        "drawn": drawn,
    })
if qgs:
    project = QgsProject.instance()
    out["project_read"] = project.read(qgs)
    for lyr in project.mapLayers().values():
        out["project"][lyr.name()] = describe(lyr)
        if lyr.name() == "路网":  # the road modes as the layer's named styles
            manager, modes = lyr.styleManager(), {}
            for style in manager.styles():
                manager.setCurrentStyle(style)
                modes[style] = [lyr.renderer().type(), lyr.renderer().classAttribute()]
            out["project_road_styles"] = modes
print("RESULT " + json.dumps(out, ensure_ascii=False))
app.exitQgis()
"""


def _qgis_python() -> str:
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        pytest.skip("QGIS test: no /usr/bin/python3 (Debian python3-qgis is not installed)")
    probe = subprocess.run(
        [python, "-c", "import qgis.core"],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    if probe.returncode != 0:
        pytest.skip("QGIS test: qgis is not importable (apt-get install python3-qgis)")
    return python


def test_qgis_opens_the_geopackage_and_the_project(tracked, tmp_path: Path, db_url: str) -> None:
    """QGIS itself (headless): each GeoPackage layer with its stored style's categories and zh
    names; the .qgs project's layers valid on the live database, with as many features."""
    from hazards import inventory, remediation
    from hazards.db.store.reports import inventory_counts
    from hazards.map_style import TIER_COLOURS

    python = _qgis_python()
    _with_crashes_and_an_extent(tracked)
    first = inventory.list_hazards(route="X001", engine=tracked)[0]["id"]
    for to in ("in_progress", "reported_done"):  # X001 25 % remediated, worst open tier III
        remediation.set_status([first], to=to, engine=tracked)
    out = export_inventory(tmp_path / "i.gpkg", lang="zh", engine=tracked)
    res = CliRunner().invoke(
        cli, ["export", "qgis-project", "-o", str(tmp_path / "p.qgs"), "--with-password"]
    )
    assert res.exit_code == 0, res.output
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    done = subprocess.run(
        [
            python,
            "-c",
            QGIS_SCRIPT,
            str(tmp_path / "i.gpkg"),
            str(tmp_path / "p.qgs"),
            json.dumps(list(out["layers"])),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    assert lines, (
        f"exit {done.returncode}: "
        + "\n".join(x for x in done.stderr.splitlines() if "Warning" not in x)[-3000:]
    )
    got = json.loads(lines[-1][len("RESULT ") :])
    gp = got["gpkg"]
    assert all(v["valid"] for v in gp.values())
    assert {k: v["features"] for k, v in gp.items()} == out["layers"]
    hz = gp["hazards"]
    assert hz["renderer"] == "categorizedSymbol" and hz["attr"] == "tier"
    assert [c[0] for c in hz["categories"]] == list(TIER_COLOURS)
    assert dict(hz["categories"])["I"] == "I级（高风险）"
    assert hz["colours"] == list(TIER_COLOURS.values())
    assert hz["aliases"]["tier"] == "风险等级"
    assert (
        gp["roads"]["attr"] == "road_class" and "县道" in dict(gp["roads"]["categories"]).values()
    )
    assert gp["cells"]["attr"] == "worst_tier" and gp["crashes"]["attr"] == "severity"
    assert gp["batches"]["renderer"] == "singleSymbol"
    assert got["project_read"] is True
    counts = inventory_counts(tracked)
    proj = got["project"]
    names = {
        "路网": "roads",
        "隐患": "hazards",
        "隐患路段": "hazard_extents",
        "整治批次": "batches",
        "百米单元": "cells",
        "交通事故": "crashes",
    }
    assert set(proj) == set(names)
    for title, layer in names.items():
        assert proj[title]["valid"], title
        assert proj[title]["features"] == counts[layer], title
    assert proj["隐患"]["attr"] == "tier" and proj["隐患"]["aliases"]["status"] == "状态"
    # the road modes: every named style loads, with map_style's classes, and draws each road in
    # the colour its numbers call for
    from hazards.map_style import LABELS, ROAD_STYLES, UNSURVEYED_STYLE

    modes = got["road_styles"]
    words = LABELS["zh"]
    assert [m["title"] for m in modes] == [
        "路网",
        words["roadsWorst"],
        words["roadsPct"],
        "道路：是否已排查",
    ]
    assert all(m["loaded"] and not m["error"] for m in modes)
    assert [m["renderer"] for m in modes] == [
        "categorizedSymbol",
        "categorizedSymbol",
        "graduatedSymbol",
        "categorizedSymbol",
    ]
    worst, pct, surveyed = modes[1:]
    styles = {**ROAD_STYLES["worst"], "unsurveyed": UNSURVEYED_STYLE}
    assert [[v, c, d] for v, _, c, d in worst["classes"]] == [
        [k, st["color"], bool(st.get("dashArray"))] for k, st in styles.items()
    ]
    pct_keys = ["unsurveyed", "clear", "p0", "p25", "p50", "p75", "p100"]
    pct_styles = {**ROAD_STYLES["pct"], "unsurveyed": UNSURVEYED_STYLE}
    assert [c for _, _, c, _ in pct["classes"]] == [pct_styles[k]["color"] for k in pct_keys]
    assert [c[0] for c in pct["classes"]][2:4] == [[0, 24], [25, 49]]
    assert surveyed["classes"][0][2:] == [UNSURVEYED_STYLE["color"], True]
    want = _expected_modes(tracked)
    for route, colour in worst["drawn"].items():
        assert colour == styles[_map_class("worst", want.get(route))]["color"], route
    for route, colour in pct["drawn"].items():
        assert colour == pct_styles[_map_class("pct", want.get(route))]["color"], route
    assert worst["drawn"]["X001"] == ROAD_STYLES["worst"]["III"]["color"]
    assert pct["drawn"]["X001"] == ROAD_STYLES["pct"]["p25"]["color"]
    assert surveyed["drawn"]["Y003"] == UNSURVEYED_STYLE["color"]
    project_modes = got["project_road_styles"]
    assert list(project_modes) == sorted(m["title"] for m in modes)  # QGIS lists them sorted
    assert project_modes["路网"] == ["categorizedSymbol", "road_class"]
    assert project_modes[words["roadsPct"]][0] == "graduatedSymbol"
    assert "worst_tier" in project_modes[words["roadsWorst"]][1]


# ----------------------------------------------------------------------------- road modes
# (issue 21 item 2, rest: the maps' road modes as further named styles of the roads layer)


def _road_mode_inventory(tracked, tmp_path: Path, lang: str = "zh") -> Path:  # type: ignore[no-untyped-def]
    """X001's first hazard (tier I) reported done; Y003 and the unnamed road never surveyed."""
    from hazards import inventory, remediation

    first = inventory.list_hazards(route="X001", engine=tracked)[0]["id"]
    for to in ("in_progress", "reported_done"):
        remediation.set_status([first], to=to, engine=tracked)
    export_inventory(tmp_path / "r.gpkg", lang=lang, engine=tracked)
    return tmp_path / "r.gpkg"


def _expected_modes(tracked) -> dict[str | None, dict]:  # type: ignore[no-untyped-def]
    """Per route, from the hazard list: open, remediated, not rejected, worst open tier, floor %."""
    from hazards import inventory
    from hazards.vocabulary import DONE_STATUSES, OPEN_STATUSES, TIERS

    out: dict[str | None, dict] = {}
    for h in inventory.list_hazards(engine=tracked):
        r = out.setdefault(h["route_code"], {"open": 0, "done": 0, "all": 0, "tiers": []})
        r["open"] += h["status"] in OPEN_STATUSES
        r["done"] += h["status"] in DONE_STATUSES
        r["all"] += h["status"] != "rejected"
        if h["status"] in OPEN_STATUSES and h["tier"] in TIERS:
            r["tiers"].append(TIERS.index(h["tier"]))
    for r in out.values():
        r["worst"] = TIERS[min(r["tiers"])] if r["tiers"] else None
        r["pct"] = (100 * r["done"]) // r["all"] if r["all"] else None
    return out


def _style(text_qml: str) -> ET.Element:
    return ET.fromstring(text_qml.split(">", 1)[1])  # after the DOCTYPE


def test_roads_carry_the_road_modes_attributes(tracked, tmp_path: Path) -> None:
    import pandas as pd
    import pyogrio

    path = _road_mode_inventory(tracked, tmp_path)
    roads = pyogrio.read_dataframe(path, layer="roads")
    want = _expected_modes(tracked)
    assert want["X001"]["pct"] == 25 and want["X001"]["worst"] == "III"
    assert want["Y002"]["worst"] == "I" and "Y003" not in want
    for _, row in roads.iterrows():
        code = row["route_code"] or None
        exp = want.get(code)
        assert bool(row["surveyed"]) is (exp is not None), code
        if exp is None:
            assert row["open_hazards"] == row["remediated"] == row["hazards"] == 0
            assert pd.isna(row["worst_tier"]) and pd.isna(row["pct_remediated"])
            continue
        tier = None if pd.isna(row["worst_tier"]) else row["worst_tier"]
        got = (row["open_hazards"], row["remediated"], row["hazards"], tier)
        assert got == (exp["open"], exp["done"], exp["all"], exp["worst"]), code
        assert int(row["pct_remediated"]) == exp["pct"], code
    unsurveyed = set(roads.loc[~roads["surveyed"].astype(bool), "route_code"])
    assert "Y003" in unsurveyed and len(unsurveyed) == 2  # and the unnamed road's U- code


def _map_class(mode: str, exp: dict | None) -> str:
    """The map_style key a road falls in, worked out from its numbers."""
    if exp is None:
        return "unsurveyed"
    if mode == "worst":
        return exp["worst"] or "clear"
    if exp["pct"] is None:
        return "clear"
    return "p100" if exp["pct"] == 100 else f"p{exp['pct'] // 25 * 25}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_road_mode_styles_follow_map_style(tracked, tmp_path: Path, lang: str) -> None:
    from hazards.gpkg import CLASS_COLOURS, LAYER_NAMES, PX_MM
    from hazards.map_style import LABELS, ROAD_STYLES, UNSURVEYED_STYLE

    path = _road_mode_inventory(tracked, tmp_path, lang)
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT styleName, styleQML, useAsDefault FROM layer_styles "
            "WHERE f_table_name = 'roads' ORDER BY id"
        ).fetchall()
    words = LABELS[lang]
    assert [r[0] for r in rows] == [
        LAYER_NAMES[lang]["roads"],
        words["roadsWorst"],
        words["roadsPct"],
        "道路：是否已排查" if lang == "zh" else "Roads: surveyed or not",
    ]
    assert [r[2] for r in rows] == [1, 0, 0, 0]  # one default, the modes selectable
    default, worst, pct, surveyed = (_style(r[1]) for r in rows)
    assert default.find("renderer-v2").get("attr") == "road_class"

    def symbol_of(root: ET.Element, index: str) -> dict[str, str]:
        sym = root.find(f"renderer-v2/symbols/symbol[@name='{index}']/layer/Option")
        return {o.get("name"): o.get("value") for o in sym}

    def rgb(hex_colour: str) -> str:
        h = hex_colour.lstrip("#")
        return ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"

    def check(opts: dict[str, str], style: dict) -> None:
        assert opts["line_color"] == rgb(style["color"])
        assert float(opts["line_width"]) == pytest.approx(style["weight"] * PX_MM)
        dashed = bool(style.get("dashArray"))
        assert (opts.get("line_style") == "dash") is dashed
        if dashed:
            d = [float(x) * PX_MM for x in style["dashArray"].split(",")]
            assert [float(x) for x in opts["customdash"].split(";")] == pytest.approx(d)

    # worst open tier: the map's colours, plus not surveyed grey dashed
    r = worst.find("renderer-v2")
    assert r.get("type") == "categorizedSymbol" and "worst_tier" in r.get("attr")
    cats = r.findall("categories/category")
    want = {**ROAD_STYLES["worst"], "unsurveyed": UNSURVEYED_STYLE}
    assert [c.get("value") for c in cats] == list(want)
    names = {**words["roadClasses"]["worst"], "unsurveyed": words["unsurveyed"]}
    assert [c.get("label") for c in cats] == [names[k] for k in want]
    for c in cats:
        check(symbol_of(worst, c.get("symbol")), want[c.get("value")])
    # % remediated: graduated, ranges in map_style's steps
    r = pct.find("renderer-v2")
    assert r.get("type") == "graduatedSymbol" and "pct_remediated" in r.get("attr")
    ranges = r.findall("ranges/range")
    bounds = [(float(x.get("lower")), float(x.get("upper"))) for x in ranges]
    assert bounds == [(-2, -2), (-1, -1), (0, 24), (25, 49), (50, 74), (75, 99), (100, 100)]
    keys = ["unsurveyed", "clear", "p0", "p25", "p50", "p75", "p100"]
    styles = {**ROAD_STYLES["pct"], "unsurveyed": UNSURVEYED_STYLE}
    labels = {**words["roadClasses"]["pct"], "unsurveyed": words["unsurveyed"]}
    assert [x.get("label") for x in ranges] == [labels[k] for k in keys]
    for x, k in zip(ranges, keys, strict=True):
        check(symbol_of(pct, x.get("symbol")), styles[k])
    # not surveyed: grey dashed; surveyed roads by class
    r = surveyed.find("renderer-v2")
    cats = r.findall("categories/category")
    assert [c.get("value") for c in cats] == ["unsurveyed", *CLASS_COLOURS]
    check(symbol_of(surveyed, cats[0].get("symbol")), UNSURVEYED_STYLE)
    assert symbol_of(surveyed, cats[1].get("symbol"))["line_color"] == rgb(
        CLASS_COLOURS["national"]
    )
    # every style keeps the zh/en field names of the new attributes
    alias = {a.get("field"): a.get("name") for a in worst.findall("aliases/alias")}
    if lang == "zh":
        assert alias["pct_remediated"] == "治理完成率(%)" and alias["surveyed"] == "已排查"


def test_road_mode_classes_of_each_road(tracked, tmp_path: Path) -> None:
    """Each road's class in each mode, evaluated from the style's own expression logic, is the
    one worked out from the hazard list."""
    import pandas as pd
    import pyogrio

    from hazards.gpkg import road_mode_classes

    path = _road_mode_inventory(tracked, tmp_path)
    roads = pyogrio.read_dataframe(path, layer="roads")
    want = _expected_modes(tracked)
    _, pct_classes = road_mode_classes("pct")
    keyed = dict(
        zip(
            [v for v, _, _ in pct_classes],
            ["unsurveyed", "clear", "p0", "p25", "p50", "p75", "p100"],
            strict=True,
        )
    )
    seen = set()
    for _, row in roads.iterrows():
        exp = want.get(row["route_code"] or None)
        worst = (
            "unsurveyed"
            if not row["surveyed"]
            else (None if pd.isna(row["worst_tier"]) else row["worst_tier"]) or "clear"
        )
        assert worst == _map_class("worst", exp)
        value = (
            -2
            if not row["surveyed"]
            else (-1 if pd.isna(row["pct_remediated"]) else int(row["pct_remediated"]))
        )
        (key,) = [k for (lo, hi), k in keyed.items() if lo <= value <= hi]
        assert key == _map_class("pct", exp)
        seen.add((worst, key))
    assert seen == {("III", "p25"), ("I", "p0"), ("unsurveyed", "unsurveyed")}


def test_a_route_or_survey_that_does_not_exist_is_refused_not_listed_empty(tracked) -> None:  # type: ignore[no-untyped-def]
    """`list --route X999` printed an empty table (exit 0), read as "no hazards on that road"."""
    from click.testing import CliRunner

    from hazards.cli import cli
    from hazards.errors import NotFound

    with pytest.raises(NotFound, match="No road with route code 'X999'"):
        inventory.list_hazards(route="X999", engine=tracked)
    with pytest.raises(NotFound):
        inventory.list_hazards(survey=99, engine=tracked)
    assert len(inventory.list_hazards(route="x 001", engine=tracked)) == 4
    out = CliRunner().invoke(cli, ["list", "--route", "X999"])
    assert out.exit_code == 1 and "X999" in out.output and "Traceback" not in out.output
    zh = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["progress"])
    assert zh.exit_code == 0 and "治理进度，按路线" in zh.output and " road" not in zh.output


def test_the_list_shows_an_unknown_category_with_the_surveys_word(roads, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`hazards list` showed a category the vocabulary does not know as 其他 alone; it shows
    the survey's word beside it (--json has it as category_raw)."""
    import csv

    from click.testing import CliRunner

    from hazards.cli import cli
    from hazards.intake import import_survey
    from hazards.settings import get_settings

    rows = [["序号", "路线编码", "桩号", "隐患类型"], [1, "X001", "K0+200", "树木遮挡"]]
    rows.append([2, "X001", "K0+600", "急弯"])
    with (tmp_path / "s.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    import_survey(tmp_path / "s.csv", provider="p", surveyed_on="2025-03-01", engine=roads)
    listed = {h["category_raw"]: h["category"] for h in inventory.list_hazards(engine=roads)}
    assert listed == {"树木遮挡": "other", "急弯": "sharp_curve"}
    for lang, other, curve in (
        ("zh", "其他（树木遮挡）", "急弯"),
        ("en", "other (树木遮挡)", "sharp_curve"),
    ):
        get_settings.cache_clear()  # the language is a setting, read once
        out = CliRunner().invoke(cli, ["list"], env={"HAZARDS_LANG": lang, "COLUMNS": "200"})
        assert out.exit_code == 0, out.output
        assert other in out.stdout and curve in out.stdout, out.stdout
        unknown = next(
            h["id"] for h in inventory.list_hazards(engine=roads) if h["category"] == "other"
        )
        shown = CliRunner().invoke(cli, ["history", unknown], env={"HAZARDS_LANG": lang})
        assert other in shown.stdout, shown.stdout  # its history says so too
    get_settings.cache_clear()
