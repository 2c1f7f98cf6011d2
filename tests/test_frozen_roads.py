"""Road loads frozen (issue 20): the sample county's roads and the real-shaped road fixtures,
loaded into a fresh database, give exactly the ``roads`` and ``road_segments`` rows, load reports
and rejected files recorded in ``tests/data/frozen/roads/`` before the road load was reworked.

A change to reading, validating, assembling or storing roads must leave these identical. Should
a change be *meant* to alter them, regenerate the expected files with
``HAZARDS_FREEZE=1 pytest tests/test_frozen_roads.py`` and say why in the commit.

What is compared: every stored route (code, name, classes, township, lengths, parts, sections,
flags, source, checksum) and segment (route, seq, part, section, from/to chainage, length, source
row and file, township, AADT, geometry as WKT); lengths are rounded to 0.1 mm and coordinates to
1e-9 degrees (0.1 mm), checksums kept exact. The normaliser removes only the temporary folder
in paths (``<tmp>``) and the repository folder (``<repo>``).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from builders import frame, network
from shapely.geometry import LineString, MultiLineString, Point

from hazards.roads import load_roads

DATA = Path(__file__).parent / "data"
FROZEN = DATA / "frozen" / "roads"
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "gis_data" / "sample"
FREEZE = os.environ.get("HAZARDS_FREEZE") == "1"


def _normalise(value: Any, tmp: Path) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v, tmp) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v, tmp) for v in value]
    if isinstance(value, str):
        return value.replace(str(tmp), "<tmp>").replace(str(REPO), "<repo>")
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


def _wkt(geom: Any) -> str | None:
    if geom is None:
        return None
    return shapely.to_wkt(geom, rounding_precision=9, trim=True)


def _stored(engine) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with engine.connect() as conn:
        roads = (
            conn.execute(
                text(
                    "SELECT route_code, name, road_class, class_raw, township, length_m, end_m, "
                    "gap_m, parts, sections, has_gap, has_branch, unassigned, source, checksum "
                    "FROM roads ORDER BY route_code"
                )
            )
            .mappings()
            .all()
        )
        segs = (
            conn.execute(
                text(
                    "SELECT r.route_code, s.seq, s.part, s.section, s.from_m, s.to_m, s.length_m, "
                    "s.source_row, s.source_file, s.township, s.aadt, ST_SRID(s.geom) AS srid, "
                    "ST_AsBinary(s.geom) AS wkb FROM road_segments s JOIN roads r "
                    "ON r.id = s.road_id ORDER BY r.route_code, s.seq"
                )
            )
            .mappings()
            .all()
        )
        meta = dict(conn.execute(text("SELECT key, value FROM metadata ORDER BY key")).all())
    out_segs = []
    for s in segs:
        d = dict(s)
        d["geom"] = _wkt(shapely.from_wkb(bytes(d.pop("wkb"))))
        out_segs.append(d)
    return {
        "roads": [dict(r) for r in roads],
        "road_segments": out_segs,
        "metadata": {k: v for k, v in meta.items() if k in ("working_crs", "source_crs")},
    }


def _rejected(path: str | None) -> list[dict[str, Any]] | None:
    if not path:
        return None
    import pyogrio

    df = pyogrio.read_dataframe(path)
    rows = []
    for rec, geom in zip(
        df.drop(columns="geometry").to_dict("records"), df.geometry.array, strict=True
    ):
        rec = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in rec.items()}
        rec["geometry"] = _wkt(geom) if geom is not None else None
        rows.append(rec)
    return rows


def _load(engine, tmp: Path, path: Path, **kw: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    res = load_roads(path, engine=engine, rejected_path=tmp / "out" / "rejected.gpkg", **kw)
    report = res.to_dict()
    return {"report": report, "rejected_rows": _rejected(report["rejected_file"])}


def _check(name: str, got: dict[str, Any], tmp: Path) -> None:
    got = json.loads(json.dumps(_normalise(got, tmp), ensure_ascii=False, default=str))
    path = FROZEN / f"{name}.json"
    if FREEZE:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        path.write_text(text, encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    for key in expected:
        assert got.get(key) == expected[key], f"{name}: {key} differs from the frozen result"
    assert got == expected


# ----------------------------------------------------------------------------- the fixtures
def _messy(tmp: Path) -> Path:
    """Every kind of row the validation rejects, repairs or flags, in lon/lat (EPSG:4490)."""
    good = LineString([(112.30, 28.80), (112.31, 28.81), (112.32, 28.81)])
    rows: list[tuple[Any, ...]] = [
        ("X010", "甲路", "县道", "甲镇", "3000", good),
        ("X010", "甲路", "县道", "甲镇", None, None),
        ("X010", "甲路", "县道", "甲镇", None, Point(112.3, 28.8)),
        ("X010", "甲路", "县道", "甲镇", None, LineString([(112.3, 28.8), (112.3, 28.8)])),
        ("X010", "甲路", "县道", "甲镇", None, LineString(list(good.coords)[::-1])),
        (
            "x 011",
            "乙路",
            "Locale",
            "乙乡",
            "12,500 辆/日",
            LineString([(112.40, 28.80), (112.40, 28.80), (112.41, 28.80)]),
        ),
        (
            "X012",
            None,
            "county",
            None,
            "很多",
            MultiLineString([[(112.5, 28.8), (112.51, 28.8)], [(112.51, 28.8), (112.52, 28.81)]]),
        ),
        ("X013", "丙路", "X", "丙镇", "0", LineString([(112.6, 28.8, 10), (112.61, 28.8, 12)])),
        (
            "X014",
            "丁路",
            "乡道",
            "丁镇",
            "800",
            MultiLineString([[(112.7, 28.8), (112.71, 28.8)], [(112.73, 28.8), (112.74, 28.81)]]),
        ),
        (None, "无号路", "村道", "甲镇", None, LineString([(112.35, 28.85), (112.36, 28.86)])),
        (None, "无号路二", "村道", "乙乡", None, LineString([(112.36, 28.86), (112.35, 28.85)])),
        (None, "无号路", "村道", "甲镇", None, LineString([(112.35, 28.85), (112.36, 28.86)])),
        ("Y020", "", "Artere", "", "abc", LineString([(112.2, 28.7), (112.21, 28.71)])),
        ("Y020", "", "Artere", "", None, LineString([(112.21, 28.71), (112.22, 28.71)])),
        ("Y020", "", "Artere", "", None, LineString([(112.25, 28.71), (112.26, 28.72)])),
        ("Y021", "戊路", "专用", "戊镇", "1e3", LineString([(112.1, 28.6), (112.11, 28.6)])),
        (
            "Y022",
            "己路",
            "乡道",
            "己镇",
            None,
            LineString([(112.0, 28.5), (112.01, 28.5), (112.01, 28.51), (112.0, 28.5)]),
        ),
    ]
    gdf = gpd.GeoDataFrame(
        {
            "路线编码": [r[0] for r in rows],
            "路线名称": [r[1] for r in rows],
            "行政等级": [r[2] for r in rows],
            "乡镇": [r[3] for r in rows],
            "年平均日交通量": [r[4] for r in rows],
        },
        geometry=[r[5] for r in rows],
        crs=4490,
    )
    path = tmp / "messy.gpkg"
    gdf.to_file(path, engine="pyogrio", geometry_type="Unknown")
    # a second layer: the load names the one it wants
    gdf.iloc[:2].to_file(path, layer="other", engine="pyogrio", geometry_type="Unknown")
    return path


@pytest.mark.parametrize("bulk_min_rows", [20_000, 1], ids=["row_by_row", "bulk"])
def test_sample_county_roads_are_frozen(tmp_path: Path, engine, bulk_min_rows: int) -> None:
    """The same stored rows whether the segments' keys are kept up to date row by row or made
    after the rows (bulk mode, taken by a first load of at least ``bulk_min_rows``)."""
    path = SAMPLE / "county_roads.gpkg"
    first = _load(engine, tmp_path, path, bulk_min_rows=bulk_min_rows)
    again = _load(engine, tmp_path, path, bulk_min_rows=bulk_min_rows)
    _check("sample_county", {"load": first, "again": again, "stored": _stored(engine)}, tmp_path)


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "network_4546_gpkg": ("network:EPSG:4546:roads.gpkg", {}),
    "network_4490_gbk_shp": ("network:EPSG:4490:roads.shp", {}),
    "us_county": ("us_county.geojson", {"class_map": {"locale": "village", "artere": "county"}}),
    "gap_10km": ("gap_10km.gpkg", {}),
    "concurrent": ("concurrent.gpkg", {}),
    "townships": ("townships.gpkg", {}),
    "projected_no_prj": ("projected_no_prj.shp", {"crs": "EPSG:4546"}),
    "osm_county": ("osm_county.osm", {}),
    "osm_county_names": ("osm_county.osm", {"osm_routes": "name"}),
    "tiny_osm": ("tiny.osm", {}),
    "messy": ("messy", {"layer": "messy"}),
    "messy_class": ("messy", {"layer": "messy", "road_class": "乡道"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_roads_are_frozen(tmp_path: Path, engine, name: str) -> None:
    source, kw = CASES[name]
    if source.startswith("network:"):
        _, crs_a, crs_b, file = source.split(":")
        path = tmp_path / file
        extra = {"encoding": "GBK"} if file.endswith(".shp") else {}
        frame(network()["features"], f"{crs_a}:{crs_b}").to_file(path, engine="pyogrio", **extra)
    elif source == "messy":
        path = _messy(tmp_path)
    else:
        path = DATA / source
    _check(name, {"load": _load(engine, tmp_path, path, **kw), "stored": _stored(engine)}, tmp_path)


def test_replacing_a_changed_route_is_frozen(tmp_path: Path, engine) -> None:
    feats = network()["features"]
    first = tmp_path / "roads.gpkg"
    frame(feats, "EPSG:4546").to_file(first, engine="pyogrio")
    changed = tmp_path / "changed.gpkg"
    frame([f for f in feats if f is not feats[2]], "EPSG:4546").to_file(changed, engine="pyogrio")
    got = {
        "first": _load(engine, tmp_path, first),
        "skipped": _load(engine, tmp_path, changed),
        "replaced": _load(engine, tmp_path, changed, replace=True),
        "stored": _stored(engine),
    }
    _check("replaced", got, tmp_path)
