"""OpenStreetMap road files (issue 22), on tests/data/osm_county.osm (made by
tests/data/make_osm.py): only vehicular ways are loaded, the rest counted by type; classes from
``highway`` (a Chinese ``ref`` first); routes from ``ref`` or street names, the gap limit
keeping a far same-name street apart; GeoPackages exported from OSM treated alike.

The answers (ways per type, refs, names, geodesic lengths) are read from the XML here with
ElementTree and pyproj, never from the loader.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from click.testing import CliRunner
from pyproj import Geod
from shapely.geometry import LineString
from sqlalchemy import text

from hazards.cli import cli
from hazards.errors import InputError
from hazards.osm import parse_highways
from hazards.roads import load_roads, road_info, road_summary

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "osm_county.osm"
GEOD = Geod(ellps="GRS80")
VEHICULAR = {
    *["motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential"],
    *["living_street", "service", "track"],
    *(f"{h}_link" for h in ["motorway", "trunk", "primary", "secondary", "tertiary"]),
}
"""The issue's list, written out here (not taken from hazards.vocabulary)."""
CLASS_OF = {  # docs/roads.md's table, written out here
    "trunk": "national",
    "primary": "provincial",
    "secondary": "county",
    "secondary_link": "county",
    "tertiary": "township",
    "unclassified": "village",
    "track": "village",
    "residential": "other",
    "living_street": "other",
    "service": "other",
}


def _ways() -> list[dict]:
    """Every way of the fixture: its tags and geodesic length (m)."""
    root = ET.parse(FIXTURE).getroot()
    nodes = {
        n.get("id"): (float(n.get("lon", "")), float(n.get("lat", ""))) for n in root.iter("node")
    }
    out = []
    for w in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in w.iter("tag")}
        pts = [nodes[nd.get("ref")] for nd in w.iter("nd")]
        out.append({**tags, "length_m": GEOD.geometry_length(LineString(pts)), "points": pts})
    return out


def _invoke(*args: str) -> Any:
    from hazards.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(cli, list(args))
    get_settings.cache_clear()
    return result


def _close(a: float, b: float, rel: float = 0.001) -> bool:
    return abs(a - b) <= rel * max(abs(b), 1.0)


def test_only_vehicular_ways_are_loaded_and_the_rest_counted_by_type(engine) -> None:
    ways = _ways()
    roads = [w for w in ways if w.get("highway") in VEHICULAR]
    expected_skipped = Counter(w.get("highway", "(no highway tag)") for w in ways if w not in roads)
    assert expected_skipped["footway"] == 3 and expected_skipped["(no highway tag)"] == 2
    result = load_roads(FIXTURE, engine=engine)
    assert result.skipped_by_type == dict(expected_skipped)
    assert result.rows_skipped == sum(expected_skipped.values()) == 11
    assert result.rows_read == len(ways)
    assert result.rows_loaded == len(roads) and result.rows_rejected == 0
    assert _close(result.length_km * 1000, sum(w["length_m"] for w in roads))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT class_raw FROM roads")).scalars().all()
    assert set(stored) <= VEHICULAR  # no footway, steps, railway ... stored as a road
    # ... and in the --json report
    out = _invoke("roads", "load", str(FIXTURE), "--json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["skipped_by_type"] == dict(expected_skipped)
    assert report["rows_skipped"] == 11


def test_classes_follow_the_mapping_and_chinese_refs_come_first(engine) -> None:
    load_roads(FIXTURE, engine=engine)
    g207, s308, x012 = (road_info(c, engine=engine) for c in ("G207", "S308", "X012"))
    # G207 is tagged trunk then primary: its ref says national
    assert g207["class"] == "national" and g207["class_source_value"] in ("trunk", "primary")
    # S308 is tagged secondary (county by the mapping): its ref says provincial
    assert s308["class"] == "provincial" and s308["class_source_value"] == "secondary"
    assert x012["class"] == "county" and x012["class_source_value"] == "secondary"
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT road_class, class_raw FROM roads WHERE unassigned")).all()
    unassigned = [w for w in _ways() if w.get("highway") in VEHICULAR and "ref" not in w]
    assert sorted(r.class_raw for r in rows) == sorted(w["highway"] for w in unassigned)
    for r in rows:
        assert r.road_class == CLASS_OF[r.class_raw], r


def test_ref_ways_form_routes_with_the_right_codes(engine) -> None:
    ways = _ways()
    result = load_roads(FIXTURE, engine=engine)
    refs = {w["ref"].split(";")[0] for w in ways if "ref" in w and w.get("highway") in VEHICULAR}
    assert refs == {"G207", "S308", "X012"}
    assert {c for c in result.routes_added if not c.startswith("U-")} == refs
    assert result.routes_in_file == 3
    for code in refs:
        info = road_info(code, engine=engine)
        truth = sum(w["length_m"] for w in ways if w.get("ref", "").split(";")[0] == code)
        assert _close(info["length_m"], truth), code
        assert len(info["sections"]) == 1 and not info["has_gap"]
    assert road_info("G207", engine=engine)["segments"] == 2  # two ways, joined: one part
    # the named streets without ref are unassigned roads by default
    assert result.unassigned_features == sum(
        1 for w in ways if w.get("highway") in VEHICULAR and "ref" not in w
    )


def test_named_streets_form_routes_and_a_far_namesake_is_a_section(engine) -> None:
    ways = _ways()
    out = _invoke("roads", "load", str(FIXTURE), "--osm-routes", "name", "--json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    named = {w.get("name") for w in ways if w.get("highway") in VEHICULAR and "ref" not in w}
    named.discard(None)
    assert named == {"城关路", "建设路", "幸福巷"}
    routes = {c for c in report["routes_added"] if not c.startswith("U-")}
    assert routes == {"G207", "S308", "X012", *named}
    assert report["routes_with_sections"] == ["城关路"]
    info = road_info("城关路", engine=engine)
    pieces = [w for w in ways if w.get("name") == "城关路"]
    assert len(info["sections"]) == 2
    assert sorted(round(s["length_m"]) for s in info["sections"]) == sorted(
        [round(pieces[2]["length_m"]), round(pieces[0]["length_m"] + pieces[1]["length_m"])]
    )
    assert any("城关路" in w and "max_gap_m" in w for w in report["warnings"])
    assert road_info("建设路", engine=engine)["class"] == "township"
    # a ref wins over the name: 国道207 is not a route of its own
    assert "国道207" not in routes


def test_summary_km_per_class_sum_to_the_loaded_length(engine) -> None:
    result = load_roads(FIXTURE, osm_routes="name", engine=engine)
    summary = road_summary(engine=engine)
    per_class = {c["class"]: c["length_km"] for c in summary["classes"] if c["length_km"]}
    assert set(per_class) == {"national", "provincial", "county", "township", "village", "other"}
    assert _close(sum(per_class.values()), result.length_km)
    assert _close(summary["total"]["length_km"], result.length_km)
    ways = _ways()
    truth_other = sum(w["length_m"] for w in ways if CLASS_OF.get(w.get("highway", "")) == "other")
    assert _close(per_class["other"] * 1000, truth_other, rel=0.002)
    out = _invoke("roads", "summary", "--json")
    assert out.exit_code == 0 and json.loads(out.output)["total"]["routes"] == 6


def test_highway_types_can_be_chosen(engine) -> None:
    ways = _ways()
    result = load_roads(FIXTURE, osm_highways="default,footway", engine=engine)
    assert "footway" not in result.skipped_by_type
    assert result.rows_loaded == sum(1 for w in ways if w.get("highway") in VEHICULAR | {"footway"})
    # footways have no class in the mapping: unknown, with the warning naming the value
    assert any("footway" in w for w in result.warnings)
    assert parse_highways("Primary, trunk") == ("primary", "trunk")
    with pytest.raises(InputError, match="not an OpenStreetMap highway value"):
        parse_highways("primary;trunk")
    out = _invoke("roads", "load", str(FIXTURE), "--osm-highways", "primary;x")
    assert out.exit_code == 1 and "--osm-highways" in out.output
    assert "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1


def test_only_chosen_types_load(engine) -> None:
    result = load_roads(FIXTURE, osm_highways=["trunk", "primary"], engine=engine)
    assert result.routes_added == ["G207"]
    ways = _ways()
    assert result.rows_skipped == sum(
        1 for w in ways if w.get("highway") not in ("trunk", "primary")
    )


def test_a_geopackage_exported_from_osm_is_treated_alike(engine, tmp_path: Path) -> None:
    ways = _ways()
    gdf = gpd.GeoDataFrame(
        [
            {
                "osm_id": str(k),
                "highway": w.get("highway"),
                "ref": w.get("ref"),
                "name": w.get("name"),
                "railway": w.get("railway"),
                "geometry": LineString(w["points"]),
            }
            for k, w in enumerate(ways)
        ],
        crs=4326,
    )
    path = tmp_path / "export.gpkg"
    gdf.to_file(path, engine="pyogrio")
    result = load_roads(path, osm_routes="name", engine=engine)
    expected = Counter(
        w.get("highway", "(no highway tag)") for w in ways if w.get("highway") not in VEHICULAR
    )
    assert result.skipped_by_type == dict(expected)
    routes = {c for c in result.routes_added if not c.startswith("U-")}
    assert routes == {"G207", "S308", "X012", "城关路", "建设路", "幸福巷"}
    assert road_info("S308", engine=engine)["class"] == "provincial"


def test_osm_options_on_a_file_that_is_not_osm(engine, tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"路线编码": ["X001"], "highway": ["县道"]},
        geometry=[LineString([(112.3, 28.8), (112.31, 28.8)])],
        crs=4490,
    )
    path = tmp_path / "county.gpkg"
    gdf.to_file(path, engine="pyogrio")
    result = load_roads(path, engine=engine)  # a highway column in another vocabulary
    assert result.skipped_by_type == {} and road_info("X001", engine=engine)["class"] == "county"
    out = _invoke("roads", "load", str(path), "--osm-routes", "name")
    assert out.exit_code == 1 and "--osm-routes" in out.output and "Traceback" not in out.output


def test_a_county_file_with_its_classes_in_osm_words_keeps_its_route_codes(
    engine, tmp_path: Path
) -> None:
    """路线编码 beside a ``highway`` column of OpenStreetMap words (secondary, tertiary,
    track): the file's own codes are the routes (it was taken for OSM data, whose codes come
    from ``ref``: every route lost, loaded as unassigned roads, without a word), and the words
    give the classes."""
    from builders import frame, network

    words = {"县道": "secondary", "乡道": "tertiary", "村道": "track"}
    feats = [
        {**{k: v for k, v in f.items() if k != "行政等级"}, "highway": words[f["行政等级"]]}
        for f in network()["features"]
    ]
    path = tmp_path / "county_osm_words.gpkg"
    frame(feats, "EPSG:4546").to_file(path, engine="pyogrio")
    result = load_roads(path, engine=engine)
    codes = {f["路线编码"] for f in feats if f["路线编码"]}
    assert (
        set(result.routes_added) - {c for c in result.routes_added if c.startswith("U-")} == codes
    )
    assert result.routes_in_file == len(codes) and result.skipped_by_type == {}
    assert result.unassigned_features == sum(1 for f in feats if not f["路线编码"])
    by_word = {"secondary": "county", "tertiary": "township", "track": "village"}
    for f in feats:
        if f["路线编码"]:
            assert road_info(f["路线编码"], engine=engine)["class"] == by_word[f["highway"]]


def test_a_county_file_with_ref_and_highway_keeps_its_route_names(engine, tmp_path: Path) -> None:
    """路线编码 renamed ``ref`` and 行政等级 ``highway`` (OSM words), 路线名称 kept: a county
    file still (its route names are its own), not OSM data whose names come from ``name``:
    the names were wiped from every route without a word."""
    from builders import frame, network

    words = {"县道": "secondary", "乡道": "tertiary", "村道": "track"}
    feats = [
        {
            "ref": f["路线编码"],
            "路线名称": f["路线名称"],
            "highway": words[f["行政等级"]],
            "geometry": f["geometry"],
        }
        for f in network()["features"]
    ]
    path = tmp_path / "county_ref.gpkg"
    frame(feats, "EPSG:4546").to_file(path, engine="pyogrio")
    load_roads(path, engine=engine)
    for f in feats:
        if f["ref"]:
            info = road_info(f["ref"], engine=engine)
            assert info["name"] == f["路线名称"] and info["class"] != "unknown", info


def test_the_text_report_names_the_skipped_types(engine) -> None:
    out = _invoke("roads", "load", str(FIXTURE))
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if x.startswith("跳过"))  # zh: skipped
    assert "footway 3" in line and "steps 2" in line and "(no highway tag) 2" in line


def test_an_ogr2ogr_export_with_other_tags_is_treated_alike(engine, tmp_path: Path) -> None:
    """GDAL's own export of the .osm (``ref`` inside ``other_tags``), as ``ogr2ogr`` writes it."""
    import pyogrio

    path = tmp_path / "lines.gpkg"
    pyogrio.write_dataframe(pyogrio.read_dataframe(FIXTURE, layer="lines"), path)
    direct = load_roads(FIXTURE, engine=engine).to_dict()
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE roads, road_segments CASCADE"))
    exported = load_roads(path, engine=engine).to_dict()
    for key in ("rows_read", "rows_loaded", "rows_skipped", "skipped_by_type", "routes_added"):
        assert exported[key] == direct[key], key
    assert road_info("G207", engine=engine)["class"] == "national"


def test_a_highway_type_no_way_has_is_named(engine) -> None:
    """--osm-highways primay loaded nothing of it and said nothing (a typo)."""
    result = load_roads(FIXTURE, osm_highways="default,primay,footway", engine=engine)
    (said,) = [w for w in result.warnings if "--osm-highways" in w]
    assert "primay" in said and "footway" not in said.split(";")[0]  # footways are in the file
    present = {w.get("highway") for w in _ways() if w.get("highway")}
    assert all(h in said for h in present)


def test_the_summary_lists_classes_in_administrative_order(engine) -> None:
    """国道, 省道, 县道 ... not by the classes' codes (县道, 国道, 其他道路, 省道)."""
    from hazards.vocabulary import ROAD_CLASSES

    load_roads(FIXTURE, engine=engine)
    out = _invoke("roads", "summary", "--json")
    classes = [g["class"] for g in json.loads(out.output)["classes"]]
    assert len(classes) >= 3 and classes == sorted(classes, key=ROAD_CLASSES.index)
    assert classes != sorted(classes)  # the codes' order would differ: the test can fail
