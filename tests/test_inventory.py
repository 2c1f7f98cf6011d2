"""Listing the inventory: hazards by route, tier, status and survey; the review queue; surveys."""

from __future__ import annotations

from hazards import inventory, remediation


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
    assert inventory.list_hazards(survey=2, engine=tracked) == []


def test_status_filter_follows_changes(tracked) -> None:  # type: ignore[no-untyped-def]
    first = inventory.list_hazards(engine=tracked)[0]["id"]
    remediation.set_status([first], to="in_progress", engine=tracked)
    assert [h["id"] for h in inventory.list_hazards(status="in_progress", engine=tracked)] == [
        first
    ]
    assert len(inventory.list_hazards(status="planned", engine=tracked)) == 7


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
if qgs:
    project = QgsProject.instance()
    out["project_read"] = project.read(qgs)
    for lyr in project.mapLayers().values():
        out["project"][lyr.name()] = describe(lyr)
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
    from hazards.db.store.reports import inventory_counts
    from hazards.map_style import TIER_COLOURS

    python = _qgis_python()
    _with_crashes_and_an_extent(tracked)
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
    assert lines, done.stderr[-3000:]
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
