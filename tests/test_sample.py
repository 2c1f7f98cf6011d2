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
    assert (codes == "").sum() == json.loads((SAMPLE / "expected.json").read_text())[
        "unassigned_features"
    ]
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
    truth = (
        lonlat.assign(m=[geod.geometry_length(g) for g in lonlat.geometry])
        .groupby("路线编码")["m"]
        .sum()
    )
    from hazards.db import store

    with engine.connect() as conn:
        from sqlalchemy import text

        loaded = dict(
            conn.execute(text("SELECT route_code, length_m FROM roads WHERE NOT unassigned")).all()
        )
    assert set(loaded) == set(truth.index) - {""}
    for code, length in loaded.items():
        assert length == pytest.approx(truth[code], rel=1e-3), code
    assert sorted(c for c in loaded if store.get_road(engine, c)["has_gap"]) == ["X018", "Y119"]


@pytest.mark.parametrize("chunk_rows", [None, 7])
def test_sample_survey_lands_as_designed(engine, tmp_path, chunk_rows) -> None:
    """Every row of the committed survey ends where its generator meant it to, whether the
    file is taken whole or 7 rows at a time (duplicates then span chunks)."""
    from hazards.db import store
    from hazards.intake import CHUNK_ROWS, import_survey

    truth = json.loads((SAMPLE / "survey_expected.json").read_text())
    load_roads(SAMPLE / "county_roads.gpkg", engine=engine)
    progress: list[int] = []
    report = import_survey(
        SAMPLE / "township_survey.csv",
        provider="p",
        surveyed_on="2025-03-01",
        engine=engine,
        rejected_path=tmp_path / "rejected.csv",
        chunk_rows=chunk_rows or CHUNK_ROWS,
        on_progress=progress.append,
    )
    step = chunk_rows or CHUNK_ROWS
    assert progress == [min(k, truth["rows"]) for k in range(step, truth["rows"] + step, step)]
    d = truth["defects"]
    assert report["rows"] == truth["rows"] and report["encoding"] == "gb18030"
    assert report["review"] == len(d["off_road_review"])
    assert report["rejected"] == sum(
        len(d[k]) for k in ("off_road_reject", "outside_network", "unparsable", "unknown_route")
    )
    assert report["rejected_by_reason"] == {
        "too_far": len(d["off_road_reject"]),
        "outside_network": len(d["outside_network"]),
        "unparsable": len(d["unparsable"]),
        "unknown_route": len(d["unknown_route"]),
    }
    assert report["duplicates"] == len(d["exact_duplicates"]) + len(d["near_duplicates"])
    assert report["empty"] == len(d["empty"])
    assert {r["row"] for r in report["duplicate_rows"]} == set(d["exact_duplicates"]) | set(
        d["near_duplicates"]
    )
    assert {r["row"] for r in report["rejected_rows"]} == set(
        d["off_road_reject"] + d["outside_network"] + d["unparsable"] + d["unknown_route"]
    )
    got = {h["source_row"]: h for h in store.list_hazards(engine)}
    assert {h for h, v in got.items() if v["status"] == "review"} == set(d["off_road_review"])
    for row in truth["clean"]:
        h = got[row["row"]]
        assert h["status"] == "identified" and h["route_code"] == row["route"], row
        assert h["chainage_m"] == pytest.approx(row["from_start_m"], abs=1.0), row
    for rid in d["chainage_only"]:
        assert got[rid]["match_method"] == "route+chainage"
    for rid in d["swapped"] + d["dms"]:
        assert got[rid]["status"] == "identified" and got[rid]["snap_distance_m"] < 2.0
    assert len(got) == report["accepted"] + report["review"] == report["added"]
    from sqlalchemy import text

    with engine.connect() as conn:  # ids in sheet order, though rows are written in road order
        lines = conn.execute(text("SELECT source_line FROM hazards ORDER BY id")).scalars().all()
    assert lines == sorted(lines) and len(lines) == report["added"]
