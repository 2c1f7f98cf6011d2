"""hazards.unassigned: a road without a route code, delivered again, is the road loaded before."""

from __future__ import annotations

from pathlib import Path

from builders import frame
from shapely.affinity import translate
from sqlalchemy import text

from hazards.roads import load_roads


def _unassigned(engine) -> list[tuple[str, float]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [
            (code, round(km, 6))
            for code, km in conn.execute(
                text(
                    "SELECT r.route_code, sum(s.length_m) / 1000 FROM roads r JOIN road_segments "
                    "s ON s.road_id = r.id WHERE r.unassigned GROUP BY 1 ORDER BY 1"
                )
            )
        ]


def _load(feats: list[dict], crs: str, path: Path, engine, **kw):  # type: ignore[no-untyped-def]
    frame(feats, crs).to_file(path, engine="pyogrio")
    return load_roads(path, engine=engine, **kw)


def test_a_road_without_a_code_delivered_again_is_not_loaded_twice(
    tmp_path: Path, net: dict, engine, run_hazards
) -> None:
    feats = net["features"]
    uncoded = [f for f in feats if not f["路线编码"]]
    assert len(uncoded) == 1  # the test network's one road without a route code
    first = _load(feats, "EPSG:4546", tmp_path / "a.gpkg", engine)
    before = _unassigned(engine)
    assert [c for c, _ in before] == [c for c in first.routes_added if c.startswith("U-")]
    code = before[0][0]
    # the same file in another CRS (to_crs, as a GIS would): coordinates off in the last digits
    import geopandas as gpd

    gpd.read_file(tmp_path / "a.gpkg").to_crs(4326).to_file(tmp_path / "b.gpkg")
    again = load_roads(tmp_path / "b.gpkg", engine=engine)
    assert not [c for c in again.routes_added if c.startswith("U-")], again.routes_added
    assert _unassigned(engine) == before
    assert any(code in w and "loaded before" in w for w in again.warnings), again.warnings
    said = run_hazards("roads", "load", str(tmp_path / "b.gpkg"))  # in zh, the lang setting
    assert said.returncode == 0 and "沿用原名：U-" in said.stdout and code in said.stdout, said
    # nudged 0.3 m east: the same road, changed (skipped), replaced with --replace
    nudged = [
        dict(f, geometry=translate(f["geometry"], xoff=0.000003)) if not f["路线编码"] else f
        for f in feats
    ]
    moved = _load(nudged, "EPSG:4546", tmp_path / "c.gpkg", engine)
    assert moved.routes_skipped == [code] and not moved.routes_added
    replaced = _load(nudged, "EPSG:4546", tmp_path / "d.gpkg", engine, replace=True)
    assert replaced.routes_replaced == [code] and not replaced.routes_added
    assert [c for c, _ in _unassigned(engine)] == [code]
    # delivered cut in two pieces: the same road (it was kept, and both halves added beside it)
    from shapely.ops import substring

    coded = [f for f in feats if f["路线编码"]]
    halves = [
        dict(f, geometry=substring(f["geometry"], a, b, normalized=True))
        for f in uncoded
        for a, b in ((0.0, 0.5), (0.5, 1.0))
    ]
    cut = _load([*coded, *halves], "EPSG:4546", tmp_path / "f.gpkg", engine)
    assert not [c for c in cut.routes_added if c.startswith("U-")], cut.routes_added
    assert cut.routes_skipped == [code]  # changed: its line now in two pieces
    whole_km = dict(_unassigned(engine))[code]
    _load([*coded, *halves], "EPSG:4546", tmp_path / "g.gpkg", engine, replace=True)
    assert [c for c, _ in _unassigned(engine)] == [code]
    assert abs(dict(_unassigned(engine))[code] - whole_km) < 0.002  # the two halves: the road
    # another road 20 m away is another road
    beside = [dict(f, geometry=translate(f["geometry"], yoff=0.00018)) for f in uncoded]
    other = _load([*feats, *beside], "EPSG:4546", tmp_path / "e.gpkg", engine)
    assert len([c for c in other.routes_added if c.startswith("U-")]) == 1
    assert len(_unassigned(engine)) == 2


def test_a_road_loaded_twice_can_be_dropped_unless_hazards_are_on_it(
    tmp_path: Path, net: dict, engine, run_hazards
) -> None:
    """`roads drop`: the copy an earlier version made of a road without a route code goes (and
    the network's km with it); a route with hazards on it is refused, nothing dropped."""
    import json

    from builders import along

    from hazards.intake import import_survey

    feats = net["features"]
    _load(feats, "EPSG:4546", tmp_path / "a.gpkg", engine)
    # the copy: the same road 20 m away, loaded as a second road without a code
    uncoded = [f for f in feats if not f["路线编码"]]
    beside = [dict(f, geometry=translate(f["geometry"], yoff=0.00018)) for f in uncoded]
    copy = _load([*feats, *beside], "EPSG:4546", tmp_path / "b.gpkg", engine)
    (extra,) = [c for c in copy.routes_added if c.startswith("U-")]
    before = dict(_unassigned(engine))
    path = tmp_path / "s.csv"
    path.write_text(
        "序号,路线编码,桩号,经度,纬度,隐患类型,隐患描述,风险等级\n"
        + "1,X001,,{},{},急弯,on X001,一级\n".format(*along(net["lines"]["X001"], 300)),
        encoding="utf-8",
    )
    import_survey(path, provider="p", surveyed_on="2025-03-01", engine=engine)
    refused = run_hazards("roads", "drop", extra, "X001", "--json")
    assert refused.returncode == 1 and "X001: 1 (H" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr and dict(_unassigned(engine)) == before
    dropped = run_hazards("roads", "drop", extra.lower(), "--json")
    assert dropped.returncode == 0, dropped.stderr
    out = json.loads(dropped.stdout)
    assert out["dropped"] == [extra] and out["km"] == round(before[extra], 3)
    assert extra not in dict(_unassigned(engine)) and len(_unassigned(engine)) == 1
    # a rejected hazard holds no road: X001 drops once its hazard is rejected
    (hid,) = [h["id"] for h in json.loads(run_hazards("list", "--json").stdout)]
    assert run_hazards("status", "set", hid, "--to", "rejected", "--note", "误报").returncode == 0
    gone = run_hazards("roads", "drop", "X001", "--json")
    assert gone.returncode == 0 and json.loads(gone.stdout)["dropped"] == ["X001"], gone.stderr
    (kept,) = json.loads(run_hazards("list", "--json").stdout)
    assert kept["id"] == hid and kept["status"] == "rejected" and kept["route_code"] is None
    unknown = run_hazards("roads", "drop", "Z999")
    assert unknown.returncode != 0 and "Z999" in unknown.stderr
