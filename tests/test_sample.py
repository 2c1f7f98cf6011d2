"""The committed sample county: shaped like the seed county, and loaded faithfully."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import Geod

from hazards.roads import load_roads, road_summary

SAMPLE = Path(__file__).resolve().parents[1] / "gis_data" / "sample"


@pytest.fixture(scope="module")
def sample() -> gpd.GeoDataFrame:
    return gpd.read_file(SAMPLE / "county_roads.gpkg", engine="pyogrio")


def test_sample_is_shaped_like_the_seed_county(sample: gpd.GeoDataFrame) -> None:
    assert sample.crs.to_epsg() == 4546
    codes = sample["路线编码"].fillna("")
    assert codes[codes.str.startswith("X")].nunique() == 29
    assert codes[codes.str.startswith("Y")].nunique() == 111
    assert (codes == "").sum() == json.loads((SAMPLE / "expected.json").read_text())["unassigned_features"]
    assert sample.groupby("路线编码").size().max() > 1  # several features per route


def test_sample_loads_as_29_county_and_111_township_roads(sample: gpd.GeoDataFrame, engine) -> None:
    result = load_roads(SAMPLE / "county_roads.gpkg", engine=engine)
    assert result.rows_rejected == 0 and result.rows_read == len(sample)
    summary = road_summary(engine=engine)
    classes = {c["class"]: c for c in summary["classes"]}
    assert classes["county"]["routes"] == 29
    assert classes["county"]["length_km"] == pytest.approx(261, abs=0.5)
    assert classes["township"]["routes"] == 111
    assert classes["township"]["length_km"] == pytest.approx(739, abs=0.5)
    assert summary["unassigned_segments"] == 3
    # Per route, against geodesic lengths of the file's own lines (independent of the loader).
    geod = Geod(ellps="GRS80")
    lonlat = sample.to_crs(4490)
    truth = lonlat.assign(m=[geod.geometry_length(g) for g in lonlat.geometry]).groupby("路线编码")["m"].sum()
    from hazards.db import store

    with engine.connect() as conn:
        from sqlalchemy import text

        loaded = dict(conn.execute(text("SELECT route_code, length_m FROM roads WHERE NOT unassigned")).all())
    assert set(loaded) == set(truth.index) - {""}
    for code, length in loaded.items():
        assert length == pytest.approx(truth[code], rel=1e-3), code
    assert sorted(c for c in loaded if store.get_road(engine, c)["has_gap"]) == ["X018", "Y119"]
