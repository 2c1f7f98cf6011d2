"""Loading roads: formats, field names, CRS, validation, routes and chainage, summaries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from builders import frame
from click.testing import CliRunner
from pyproj import CRS
from shapely.geometry import LineString, MultiLineString, Point

from hazards.cli import cli
from hazards.errors import InputError
from hazards.road_files import _sample_xy, field_text, field_values, labels_of
from hazards.roads import (
    _with_repeats,
    load_roads,
    parse_mapping,
    read_road_file,
    recognise_fields,
    road_info,
    road_summary,
    validate_features,
)

DATA = Path(__file__).parent / "data"
CUSTOM_TM = (
    "+proj=tmerc +lat_0=0 +lon_0=112.2 +k=0.9999 +x_0=350000 +y_0=-3000000 "
    "+ellps=GRS80 +units=m +no_defs"
)


def _write(tmp_path: Path, net: dict, crs, name: str = "roads.gpkg", **kw) -> Path:
    path = tmp_path / name
    frame(net["features"], crs).to_file(path, engine="pyogrio", **kw)
    return path


def _check_lengths(net: dict, engine) -> None:
    total_true = 0.0
    total_loaded = 0.0
    for code, true in net["lengths"].items():
        info = road_info(code, engine=engine)
        assert info["length_m"] == pytest.approx(true, rel=1e-3), code
        total_true += true
        total_loaded += info["length_m"]
    assert total_loaded == pytest.approx(total_true, rel=1e-3)


def test_gauss_kruger_file_lengths_match_geodesic(tmp_path: Path, net: dict, engine) -> None:
    path = _write(tmp_path, net, "EPSG:4546")
    result = load_roads(path, engine=engine)
    assert result.source_crs == "EPSG:4546"
    assert result.working_crs == "EPSG:4546"
    _check_lengths(net, engine)


def test_custom_non_epsg_crs_lengths_match_geodesic(tmp_path: Path, net: dict, engine) -> None:
    custom = CRS.from_proj4(CUSTOM_TM)
    assert custom.to_epsg() is None
    path = _write(tmp_path, net, custom)
    result = load_roads(path, engine=engine)
    assert not result.source_crs.startswith("EPSG:")
    assert result.working_crs == "EPSG:32649"  # not CGCS2000-based: its UTM zone
    _check_lengths(net, engine)


def test_cgcs2000_lonlat_gets_its_gauss_kruger_zone(tmp_path: Path, net: dict, engine) -> None:
    path = _write(tmp_path, net, "EPSG:4490")
    assert load_roads(path, engine=engine).working_crs == "EPSG:4546"
    _check_lengths(net, engine)


def test_chainage_runs_continuously_along_a_route_cut_in_pieces(
    tmp_path: Path, net: dict, engine
) -> None:
    load_roads(_write(tmp_path, net, "EPSG:4546"), engine=engine)
    info = road_info("X001", engine=engine)
    assert info["segments"] == 3 and len(info["parts"]) == 1 and not info["has_gap"]
    assert info["chainage_to"] == info["parts"][0]["to"]
    assert info["end_m"] == pytest.approx(net["lengths"]["X001"], rel=1e-3)
    from hazards.db import store

    segs = store.route_segments(engine, store.get_road(engine, "X001")["id"])
    assert segs["from_m"].iloc[0] == 0
    assert segs["from_m"].iloc[1:].to_numpy() == pytest.approx(segs["to_m"].iloc[:-1].to_numpy())
    # A known vertex sits at its independently measured chainage.
    (lon, lat), true_m = net["x1_vertex_80"]
    measured = CliRunner().invoke(
        cli, ["chainage", "measure", "X001", str(lon), str(lat), "--json"]
    )
    assert measured.exit_code == 0, measured.output
    data = json.loads(measured.output)
    assert data["chainage_m"] == pytest.approx(true_m, rel=1e-3)
    assert data["offset_m"] < 0.01


def test_gap_continues_chainage_by_straight_line(tmp_path: Path, net: dict, engine) -> None:
    load_roads(_write(tmp_path, net, "EPSG:4546"), engine=engine)
    info = road_info("Y002", engine=engine)
    assert info["has_gap"] is True
    (gap,) = info["parts"][0]["gaps"]
    assert gap["length_m"] == pytest.approx(net["gap_m"], rel=2e-3)
    assert info["end_m"] == pytest.approx(net["lengths"]["Y002"] + net["gap_m"], rel=1e-3)
    assert info["length_m"] == pytest.approx(net["lengths"]["Y002"], rel=1e-3)


def test_branch_is_measured_from_where_it_leaves(tmp_path: Path, net: dict, engine) -> None:
    load_roads(_write(tmp_path, net, "EPSG:4546"), engine=engine)
    info = road_info("Y003", engine=engine)
    assert info["has_branch"] is True
    main, branch = info["parts"]
    assert main["kind"] == "main" and branch["kind"] == "branch"
    assert branch["from_m"] == pytest.approx(net["y3_junction_m"], rel=1e-3)
    assert branch["to_m"] - branch["from_m"] == pytest.approx(net["y3_spur_m"], rel=1e-3)
    assert main["segments"] == 3  # the piece the spur leaves from is cut at the junction


def test_summary_json_counts_routes_and_unassigned(tmp_path: Path, net: dict, engine) -> None:
    load_roads(_write(tmp_path, net, "EPSG:4546"), engine=engine)
    result = CliRunner().invoke(cli, ["roads", "summary", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    classes = {c["class"]: c for c in data["classes"]}
    assert classes["county"]["routes"] == 1 and classes["county"]["segments"] == 3
    assert classes["township"]["routes"] == 2 and classes["township"]["segments"] == 6
    assert classes["township"]["length_km"] == pytest.approx(
        (net["lengths"]["Y002"] + net["lengths"]["Y003"]) / 1000, rel=1e-3
    )
    # the unassigned road counts in its class and in the totals, and is given apart
    assert data["total"]["routes"] == 3 and data["total"]["unassigned_roads"] == 1
    assert data["total"]["segments"] == 10
    assert data["total"]["length_km"] == pytest.approx(
        (sum(net["lengths"].values()) + net["unassigned_length"]) / 1000, rel=1e-3
    )
    assert data["total"]["unique_length_km"] == pytest.approx(data["total"]["length_km"], abs=1e-3)
    assert data["unassigned_segments"] == 1
    assert data["unassigned_length_km"] == pytest.approx(net["unassigned_length"] / 1000, rel=1e-3)
    by_town = road_summary(by="township", engine=engine)
    # the unassigned road's township (南嘴镇) counts too
    assert {t["township"] for t in by_town["townships"]} == {
        "琼湖街道",
        "草尾镇",
        "共华镇",
        "南嘴镇",
    }


def test_loading_twice_adds_nothing_and_replace_replaces(tmp_path: Path, net: dict, engine) -> None:
    from sqlalchemy import text

    path = _write(tmp_path, net, "EPSG:4546")
    first = load_roads(path, engine=engine)
    assert sorted(c for c in first.routes_added if not c.startswith("U-")) == [
        "X001",
        "Y002",
        "Y003",
    ]

    def counts():
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT (SELECT count(*) FROM roads), (SELECT count(*) FROM road_segments)")
            ).one()

    before = counts()
    again = load_roads(path, engine=engine)
    assert again.routes_added == [] and len(again.routes_unchanged) == 4
    assert counts() == before
    # Change X001 (drop its last piece): without --replace it is skipped, with it replaced.
    feats = [
        f for f in net["features"] if not (f["路线编码"] == "X001" and f is net["features"][2])
    ]
    changed = tmp_path / "changed.gpkg"
    frame(feats, "EPSG:4546").to_file(changed, engine="pyogrio")
    skipped = load_roads(changed, engine=engine)
    assert skipped.routes_skipped == ["X001"] and counts() == before
    replaced = load_roads(changed, engine=engine, replace=True)
    assert replaced.routes_replaced == ["X001"]
    assert road_info("X001", engine=engine)["segments"] == 2
    assert counts() == (before[0], before[1] - 1)
    assert not [w for w in replaced.warnings if "replaced by" in w]  # most of it: no warning
    # One piece alone (as a corrected rejected-rows file holds): replaced, and warned about
    whole = road_info("X001", engine=engine)["length_km"]
    piece = [f for f in feats if f["路线编码"] == "X001"][:1]
    frame(piece, "EPSG:4546").to_file(tmp_path / "piece.gpkg", engine="pyogrio")
    shrunk = load_roads(tmp_path / "piece.gpkg", engine=engine, replace=True)
    part = road_info("X001", engine=engine)["length_km"]
    (warning,) = [w for w in shrunk.warnings if "replaced by" in w]
    assert f"replaced by {part:.2f} km of road where it had {whole:.2f} km" in warning


def test_every_feature_is_accounted_for(tmp_path: Path, engine) -> None:
    good = LineString([(112.30, 28.80), (112.31, 28.81), (112.32, 28.81)])
    rows = [
        ("X010", good),  # 1 loaded
        ("X010", None),  # 2 no geometry
        ("X010", Point(112.3, 28.8)),  # 3 not a line
        ("X010", LineString([(112.3, 28.8), (112.3, 28.8)])),  # 4 zero length
        ("X010", LineString(list(good.coords)[::-1])),  # 5 duplicate of 1
        (
            "X011",
            LineString([(112.40, 28.80), (112.40, 28.80), (112.41, 28.80)]),
        ),  # 6 repeated vertex
        (
            "X012",
            MultiLineString([[(112.5, 28.8), (112.51, 28.8)], [(112.51, 28.8), (112.52, 28.81)]]),
        ),  # 7 merged
        ("X013", LineString([(112.6, 28.8, 10), (112.61, 28.8, 12)])),  # 8 Z dropped
    ]
    gdf = gpd.GeoDataFrame({"code": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=4490)
    path = tmp_path / "messy.gpkg"
    gdf.to_file(path, engine="pyogrio", geometry_type="Unknown")
    rejected_file = tmp_path / "out" / "messy.rejected.gpkg"
    result = load_roads(path, engine=engine, rejected_path=rejected_file)
    assert result.rows_read == 8
    assert result.rows_rejected == 4 and result.rows_loaded == 4
    assert result.rows_repaired == 3
    by_row = {(i.row, i.action): i.reason for i in result.issues}
    assert by_row[(2, "rejected")] == "no geometry"
    assert "Point" in by_row[(3, "rejected")]
    assert "zero-length" in by_row[(4, "rejected")]
    assert by_row[(5, "rejected")] == "exact duplicate of row 1"
    assert "repeated" in by_row[(6, "repaired")]
    assert "merged" in by_row[(7, "repaired")]
    assert "Z" in by_row[(8, "repaired")]
    back = gpd.read_file(rejected_file, engine="pyogrio")
    assert back["_row"].tolist() == [2, 3, 4, 5]
    assert back["_reason"].str.len().min() > 0
    assert road_summary(engine=engine)["total"]["routes"] == 4

    # loaded again: the same rejected rows replace the file; one being corrected is kept
    again = load_roads(path, engine=engine, rejected_path=rejected_file)
    assert not [w for w in again.warnings if "kept as" in w]
    assert [p.name for p in rejected_file.parent.iterdir()] == ["messy.rejected.gpkg"]
    back.loc[0, "_reason"] = "fixed by hand"
    back.to_file(rejected_file, layer="rejected", engine="pyogrio", geometry_type="Unknown")
    third = load_roads(path, engine=engine, rejected_path=rejected_file)
    kept = rejected_file.with_name("messy.rejected.1.gpkg")
    assert f"{rejected_file} differed from the rows rejected now: kept as {kept}" in third.warnings
    assert gpd.read_file(kept, engine="pyogrio")["_reason"][0] == "fixed by hand"
    assert gpd.read_file(rejected_file, engine="pyogrio")["_reason"][0] == "no geometry"


def _messy_rows() -> list[tuple[str, object]]:
    """Rows of every kind a road file can hold: loaded, rejected, repaired, duplicated."""
    good = LineString([(112.30, 28.80), (112.31, 28.81), (112.32, 28.81)])
    return [
        ("X010", good),
        ("X010", None),
        ("X010", LineString([(112.3, 28.8), (112.3, 28.8)])),
        ("X010", LineString(list(good.coords)[::-1])),  # a duplicate of row 1, drawn backwards
        ("X011", LineString([(112.40, 28.80), (112.40, 28.80), (112.41, 28.80)])),
        ("X011", LineString([(112.41, 28.80), (112.42, 28.80)])),
        (
            "X012",
            MultiLineString([[(112.5, 28.8), (112.51, 28.8)], [(112.51, 28.8), (112.52, 28.81)]]),
        ),
        ("X012", MultiLineString([[(112.6, 28.9), (112.6, 28.9)]])),  # zero length in a multi
        ("X013", LineString([(112.6, 28.8, 10), (112.61, 28.8, 12)])),
        ("X013", LineString([(112.6, 28.8), (112.61, 28.8)])),  # a duplicate of row 9 once 2D
        ("X014", MultiLineString([[(112.7, 28.8), (112.71, 28.8)]])),  # one part: not a repair
    ]


def test_the_lines_keys_made_apart_are_the_same(tmp_path: Path, monkeypatch, engine) -> None:
    """A large load makes its lines' keys from the file's geometry in a forked child while it
    reads and checks the file: the same issues, duplicates and route fingerprints as when they
    are made in process, for repaired rows too; keys that do not match the lines are not used."""
    import hazards.roads as roads_mod
    from hazards import offload
    from hazards.fingerprints import line_keys, single_parts
    from hazards.road_files import count_features, file_line_keys

    rows = _messy_rows()
    gdf = gpd.GeoDataFrame({"code": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=4490)
    path = tmp_path / "messy.gpkg"
    gdf.to_file(path, engine="pyogrio", geometry_type="Unknown", promote_to_multi=False)
    assert count_features(path, None) == len(rows)
    back = read_road_file(path)
    made = file_line_keys(path)
    as_read = single_parts(np.asarray(back.geometry.array, dtype=object))
    assert made.tolist() == line_keys(as_read).tolist()
    assert shapely.get_type_id(back.geometry.array[[7, 10]]).tolist() == [5, 5]  # rows 8, 11
    assert shapely.get_type_id(as_read[[7, 10]]).tolist() == [1, 1]

    here = validate_features(back)
    apart = validate_features(back, keys=offload.here(file_line_keys, path))
    wrong = validate_features(back, keys=offload.here(lambda: made[::-1].copy()))
    for other in (apart, wrong):
        assert other.issues == here.issues and other.rejected_rows == here.rejected_rows
        assert other.line_wkb.tolist() == here.line_wkb.tolist()
    assert here.rejected_rows == [2, 3, 4, 8, 10]
    assert sorted({i.row for i in here.issues if i.action == "repaired"}) == [5, 7, 9]

    jobs: list = []

    def watched(*args, **kwargs):
        jobs.append(offload.offload(*args, **kwargs))
        return jobs[-1]

    monkeypatch.setattr(roads_mod, "KEYS_APART_MIN", 1)
    monkeypatch.setattr(roads_mod, "offload", watched)
    result = load_roads(path, engine=engine, rejected_path=tmp_path / "rejected.gpkg")
    assert [j.forked for j in jobs] == [True]
    assert result.rows_rejected == 5 and result.rows_loaded == 6 and result.rows_repaired == 3
    assert [(i.row, i.action, i.reason) for i in result.issues] == [
        (i.row, i.action, i.reason) for i in here.issues
    ]
    fingerprints = {r["route_code"]: r["checksum"] for r in _checksums(engine)}
    monkeypatch.setattr(roads_mod, "KEYS_APART_MIN", 10**9)
    again = load_roads(path, engine=engine, rejected_path=tmp_path / "rejected.gpkg")
    assert (
        sorted(again.routes_unchanged)
        == sorted(fingerprints)
        == ["X010", "X011", "X012", "X013", "X014"]
    )


@pytest.mark.parametrize(
    ("suffix", "counted"),
    [(".gpkg", True), (".shp", True), (".fgb", True), (".geojson", False)],
)
@pytest.mark.parametrize("arrow", [True, False], ids=["arrow", "rows"])
def test_the_lines_keys_of_each_format(
    tmp_path: Path, monkeypatch, suffix: str, counted: bool, arrow: bool
) -> None:
    """The child reads the geometry alone, row for row as the load reads the file: a shapefile
    whose Chinese field names GDAL cuts mid-character too. A format that does not store its
    feature count (GeoJSON: counting reads it through) is not forked for. The same with
    pyarrow (GDAL's column-wise reader) and without."""
    import hazards.road_files as road_files
    from hazards.fingerprints import line_keys, single_parts
    from hazards.road_files import count_features, file_line_keys

    monkeypatch.setattr(road_files, "have_arrow", lambda: arrow)

    lines = [
        LineString([(112.3 + i / 100, 28.8), (112.3 + i / 100, 28.81 + i / 1000)]) for i in range(7)
    ]
    gdf = gpd.GeoDataFrame(
        {"路线编码": [f"X{i:03d}" for i in range(7)], "路线名称": ["某某公路"] * 7},
        geometry=[*lines[:6], MultiLineString([lines[6]])],
        crs=4490,
    )
    path = tmp_path / f"roads{suffix}"
    gdf.to_file(path, engine="pyogrio")
    assert count_features(path, None) == (7 if counted else 0)
    back = read_road_file(path)
    made = file_line_keys(path)
    assert made is not None
    assert made.tolist() == line_keys(single_parts(np.asarray(back.geometry.array))).tolist()
    # the lines written (a FlatGeobuf file holds them in its spatial index's order; GeoJSON
    # writes coordinates as decimal text, to 15 digits)
    written = shapely.from_wkb(sorted(made.tolist()))
    expected = shapely.from_wkb(sorted(line_keys(np.asarray(lines, dtype=object)).tolist()))
    assert shapely.equals_exact(written, expected, tolerance=1e-9).all()
    assert file_line_keys(tmp_path / "missing.gpkg") is None


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".fgb", ".geojson"])
def test_a_road_file_reads_the_same_with_and_without_pyarrow(
    tmp_path: Path, monkeypatch, suffix: str
) -> None:
    """GDAL's column-wise reader (with pyarrow) gives the frame the row-wise one gives: the
    same columns, Chinese text, blanks, numbers and lines, row for row."""
    import hazards.road_files as road_files

    lines = [LineString([(112.3 + i / 100, 28.8), (112.31 + i / 100, 28.81)]) for i in range(4)]
    gdf = gpd.GeoDataFrame(
        {
            "路线编码": ["X001", None, "Y002", "X001"],
            "路线名称": ["某某公路", "", "乡道 二", None],
            "AADT": [1200.0, None, 35.5, 0.0],
            "车道": [2, 4, 1, 2],
        },
        geometry=[*lines[:3], MultiLineString([lines[3], lines[0]])],
        crs=4490,
    )
    path = tmp_path / f"roads{suffix}"
    gdf.to_file(path, engine="pyogrio")
    read = {}
    for arrow in (True, False):
        monkeypatch.setattr(road_files, "have_arrow", lambda a=arrow: a)
        read[arrow] = read_road_file(path)
    by_arrow, by_rows = read[True], read[False]
    assert list(by_arrow.columns) == list(by_rows.columns)
    assert by_arrow.crs == by_rows.crs == CRS.from_epsg(4490)
    for column in by_rows.columns.drop("geometry"):
        assert by_arrow[column].astype(object).where(by_arrow[column].notna(), None).tolist() == (
            by_rows[column].astype(object).where(by_rows[column].notna(), None).tolist()
        ), column
    assert shapely.equals_exact(
        np.asarray(by_arrow.geometry.array), np.asarray(by_rows.geometry.array), tolerance=0
    ).all()
    codes = by_rows.iloc[:, 0]  # a shapefile cuts the name; FlatGeobuf orders the rows
    assert sorted(codes[codes.notna()].tolist()) == ["X001", "X001", "Y002"]


def test_text_gdal_hands_on_undecoded_reads_as_without_pyarrow(tmp_path: Path, monkeypatch) -> None:
    """A zipped shapefile in GBK with no code page (no .cpg, none in the .dbf): GDAL hands its
    text on undecoded, which pyarrow does not check; the file is then read row by row, as
    without pyarrow, rather than failing later with a traceback."""
    import zipfile

    import hazards.road_files as road_files

    gdf = gpd.GeoDataFrame(
        {"lxbm": ["X001"], "lxmc": ["路线一"]},
        geometry=[LineString([(110, 30), (110.1, 30.1)])],
        crs=4490,
    )
    shp = tmp_path / "r.shp"
    gdf.to_file(shp, engine="pyogrio", encoding="gbk")
    shp.with_suffix(".cpg").unlink()
    dbf = bytearray(shp.with_suffix(".dbf").read_bytes())
    dbf[29] = 0  # the .dbf's language driver: none
    shp.with_suffix(".dbf").write_bytes(bytes(dbf))
    path = tmp_path / "roads.zip"
    with zipfile.ZipFile(path, "w") as z:
        for ext in ("shp", "shx", "dbf", "prj"):
            z.write(shp.with_suffix(f".{ext}"), f"r.{ext}")
    read = {}
    for arrow in (True, False):
        monkeypatch.setattr(road_files, "have_arrow", lambda a=arrow: a)
        read[arrow] = read_road_file(path)
        feats = validate_features(read[arrow])  # the text is used: no UnicodeDecodeError
        assert feats.rejected_rows == [] and feats.gdf["code"].tolist() == ["X001"]
    assert read[True]["lxmc"].tolist() == read[False]["lxmc"].tolist()


def test_the_lines_keys_of_a_geopackage_of_several_layers(tmp_path: Path) -> None:
    """A delivery's GeoPackage with a layer of points beside the roads: the child reads the
    layer of lines, as the load does; with two layers of lines and none named, no count."""
    from hazards.fingerprints import line_keys
    from hazards.road_files import count_features, file_line_keys

    lines = [LineString([(112.3 + i / 100, 28.8), (112.31 + i / 100, 28.81)]) for i in range(5)]
    roads = gpd.GeoDataFrame(
        {"路线编码": [f"X{i:03d}" for i in range(5)]}, geometry=lines, crs=4490
    )
    points = gpd.GeoDataFrame({"名称": ["桥"] * 3}, geometry=[Point(112.3, 28.8)] * 3, crs=4490)
    path = tmp_path / "delivery.gpkg"
    points.to_file(path, layer="bridges", engine="pyogrio")
    roads.to_file(path, layer="roads", engine="pyogrio")
    assert count_features(path, None) == 5 and count_features(path, "bridges") == 3
    made = file_line_keys(path)
    assert made is not None and made.tolist() == line_keys(np.asarray(lines, dtype=object)).tolist()
    roads.to_file(path, layer="roads_old", engine="pyogrio")
    assert count_features(path, None) == 0 and file_line_keys(path) is None
    assert count_features(path, "roads_old") == 5


def _checksums(engine) -> list[dict]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(text("SELECT route_code, checksum FROM roads")).mappings()
        ]


def test_the_repeat_finder_picks_every_line_geos_would_change() -> None:
    """Only lines :func:`_with_repeats` picks get the GEOS pass: every line that
    ``remove_repeated_points`` changes must be among them (a few two-point lines GEOS keeps
    as they are may be picked too, with no harm)."""
    rng = np.random.default_rng(7)
    lines = np.array(
        [
            shapely.linestrings(rng.integers(0, 3, (rng.integers(2, 9), 2)).astype(float))
            for _ in range(5000)
        ],
        dtype=object,
    )
    picked = _with_repeats(lines)
    changed = ~shapely.equals_identical(shapely.remove_repeated_points(lines, 0.0), lines)
    assert changed.sum() > 1000
    assert not (changed & ~picked).any()
    assert (picked & ~changed).sum() < 0.1 * picked.sum()


def test_repeated_vertices_are_dropped_from_lines_as_read_and_as_repaired() -> None:
    """Repeated vertices are found on the lines as read (from the coordinates the finiteness
    check reads) and again on lines the checks changed: a line in Z, the parts of a split
    multi-line, a multi-line of one part. No loaded line keeps one, and each row that had
    some says how many."""
    rows = [
        LineString([(112.40, 28.80), (112.40, 28.80), (112.41, 28.80), (112.41, 28.80)]),  # 2
        LineString([(112.5, 28.8), (112.51, 28.8)]),  # none
        LineString([(112.6, 28.8, 1), (112.6, 28.8, 2), (112.61, 28.8, 3)]),  # Z: 1
        MultiLineString(
            [[(112.7, 28.8), (112.7, 28.8), (112.71, 28.8)], [(112.8, 28.9), (112.81, 28.9)]]
        ),  # split (GEOS's line merge drops the repeat itself)
        MultiLineString([[(112.9, 28.8), (112.91, 28.8), (112.91, 28.8)]]),  # one part: 1
    ]
    gdf = gpd.GeoDataFrame({"code": [f"X{i:03d}" for i in range(5)]}, geometry=rows, crs=4490)
    feats = validate_features(gdf)
    xy, idx = shapely.get_coordinates(np.asarray(feats.gdf.geometry.array), return_index=True)
    assert not ((xy[1:] == xy[:-1]).all(axis=1) & (idx[1:] == idx[:-1])).any()
    dropped = {i.row: i.reason for i in feats.issues if "repeated" in i.reason}
    assert dropped == {
        1: "dropped 2 repeated vertices",
        3: "dropped 1 repeated vertices",
        5: "dropped 1 repeated vertices",
    }
    assert any(i.row == 4 and "split" in i.reason for i in feats.issues)
    assert feats.rejected_rows == [] and len(feats.gdf) == 6


def test_the_crs_check_of_a_large_file_sees_its_whole_extent() -> None:
    """A file of more coordinates than the check samples: the coordinates it judges the CRS
    by reach exactly as far as the file's own, and are all finite, even where a line's NaN
    vertex leaves it bounds that reach past its finite points. A small file: every one."""
    rng = np.random.default_rng(3)
    n = 150_000
    starts = rng.uniform([400_000, 3_100_000], [600_000, 3_250_000], (n, 2))
    coords = np.stack([starts, starts + rng.normal(0, 300, (n, 2))], axis=1)
    geoms = shapely.linestrings(coords)
    geoms[17] = shapely.linestrings([[0.5, 1.5], [np.nan, 2.0]])  # the only one below 400 km
    # finite bounds reaching y = 3,000,000 though no finite point of it is below 3.2 million
    geoms[5] = shapely.linestrings([[450_000, 3_200_000], [np.nan, 3_000_000], [450_010, 3.2e6]])
    geoms[8] = shapely.linestrings([[500_000, 3_050_000], [500_010, 3_240_000]])  # the real min
    every = shapely.get_coordinates(geoms)
    every = every[np.isfinite(every).all(axis=1)]
    xy = _sample_xy(gpd.GeoDataFrame(geometry=geoms, crs=4546))
    assert len(xy) < len(every) * 0.8
    assert np.isfinite(xy).all()
    np.testing.assert_array_equal(xy.min(axis=0), every.min(axis=0))
    np.testing.assert_array_equal(xy.max(axis=0), every.max(axis=0))
    assert [0.5, 1.5] in xy.tolist() and [500_000, 3_050_000] in xy.tolist()
    small = gpd.GeoDataFrame(geometry=geoms[:1000], crs=4546)
    part = shapely.get_coordinates(geoms[:1000])
    np.testing.assert_array_equal(_sample_xy(small), part[np.isfinite(part).all(axis=1)])


def test_no_crs_is_refused_naming_the_file_and_crs(tmp_path: Path, net: dict, run_hazards) -> None:
    path = tmp_path / "noprj.shp"
    frame(net["features"], 4490).to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink()
    proc = run_hazards(
        "roads", "load", str(path), env={"HAZARDS_DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert str(path) in proc.stderr and "--crs" in proc.stderr  # the CLI names the flag
    assert "longitude/latitude" in proc.stderr
    with pytest.raises(InputError, match="no coordinate reference system") as err:
        read_road_file(path)
    assert err.value.param == "crs" and "--" not in err.value.message
    assert "EPSG:4490" in err.value.message  # lon/lat coordinates: the likely CRS is named
    assert read_road_file(path, crs="EPSG:4490").crs.to_epsg() == 4490


@pytest.mark.parametrize("encoding", ["UTF-8", "GBK"])
def test_shapefile_chinese_without_cpg(tmp_path: Path, net: dict, encoding: str, engine) -> None:
    path = tmp_path / "roads.shp"
    frame(net["features"], "EPSG:4546").to_file(path, engine="pyogrio", encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    raw = read_road_file(path)
    roles = recognise_fields(raw.columns)
    assert set(roles) == {"code", "name", "class", "township"}
    if encoding == "UTF-8":  # 10-byte limit: 路线编码 (12 bytes) is cut to 路线编
        assert roles["code"] == "路线编"
    load_roads(path, engine=engine)
    info = road_info("Y002", engine=engine)
    assert (
        info["name"] == "草尾—新沙" and info["township"] == "草尾镇" and info["class"] == "township"
    )


@pytest.mark.parametrize("suffix", [".geojson", ".fgb"])
def test_geojson_and_flatgeobuf(tmp_path: Path, net: dict, suffix: str, engine) -> None:
    path = _write(
        tmp_path, net, "EPSG:4326" if suffix == ".geojson" else "EPSG:4546", name="r" + suffix
    )
    result = load_roads(path, engine=engine)
    assert result.routes_in_file == 3 and result.unassigned_features == 1
    _check_lengths(net, engine)


@pytest.mark.parametrize("name", ["tiny.osm", "tiny.osm.pbf"])
def test_openstreetmap_ways_with_ref(engine, name: str) -> None:
    result = load_roads(DATA / name, engine=engine)
    assert {"X012", "Y105"} <= set(result.routes_added)
    assert len(result.routes_added) == 3
    assert result.unassigned_features == 1  # the way without ref
    info = road_info("X012", engine=engine)
    assert info["class"] == "county" and info["name"] == "城关路"
    # Two ways of X012 joined at node 3: one route, one part.
    assert info["segments"] == 2 and len(info["parts"]) == 1


def test_field_mapping_and_class_option(tmp_path: Path, engine) -> None:
    gdf = gpd.GeoDataFrame(
        {"LX": ["Z001"], "MC": ["专用线"]},
        geometry=[LineString([(112.3, 28.8), (112.31, 28.8)])],
        crs=4490,
    )
    path = tmp_path / "m.gpkg"
    gdf.to_file(path, engine="pyogrio")
    load_roads(path, engine=engine, mapping={"code": "LX", "name": "MC"}, road_class="乡道")
    info = road_info("z001", engine=engine)
    assert info["class"] == "township" and info["name"] == "专用线"
    with pytest.raises(InputError, match="no field 'NOPE'"):
        load_roads(path, engine=engine, mapping={"code": "NOPE"})


def test_locate_then_measure_round_trip(tmp_path: Path, net: dict, engine) -> None:
    load_roads(_write(tmp_path, net, "EPSG:4546"), engine=engine)
    runner = CliRunner()
    for code, k in [
        ("X001", "K0+000"),
        ("X001", "K1+250"),
        ("X001", "2+999.5"),
        ("Y002", "K1+050"),
        ("Y003", "K0+777"),
    ]:
        loc = runner.invoke(cli, ["chainage", "locate", code, k, "--json"])
        assert loc.exit_code == 0, loc.output
        a = json.loads(loc.output)
        assert {"route", "chainage_m", "lon", "lat"} <= set(a)
        back = runner.invoke(
            cli, ["chainage", "measure", code, str(a["lon"]), str(a["lat"]), "--json"]
        )
        assert back.exit_code == 0, back.output
        b = json.loads(back.output)
        assert {"route", "chainage_m", "lon", "lat", "offset_m"} <= set(b)
        if not a["in_gap"]:
            assert b["chainage_m"] == pytest.approx(a["chainage_m"], abs=0.5)
            assert b["offset_m"] < 0.5
    out = runner.invoke(cli, ["chainage", "locate", "X001", "K99+000"])
    assert out.exit_code == 1 and "outside route X001" in out.output
    missing = runner.invoke(cli, ["roads", "show", "X999"])
    assert missing.exit_code == 1 and "No road with route code 'X999'" in missing.output


def test_chainage_locate_starts_without_pandas(tmp_path: Path, net: dict, engine) -> None:
    """The quick commands (issue 20: start in under half a second) load neither pandas nor
    geopandas: the store loads its subjects on first use; nor SQLAlchemy (a plain psycopg
    connection reads the route), nor the other command modules."""
    load_roads(_write(tmp_path, net, "EPSG:4546"), engine=engine)
    res = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "hazards.cli",
            "chainage",
            "locate",
            "X001",
            "K1+250",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "X001 K1+250" in res.stdout or "K1+250" in res.stdout
    loaded = {
        line.rsplit("|", 1)[1].strip()
        for line in res.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "hazards.db.store.routes" in loaded and "shapely" in loaded
    heavy = {"pandas", "geopandas", "sqlalchemy", "alembic", "hazards.db.store.roads"}
    assert not (heavy | {"hazards.db.store.hazards", "hazards.cli.survey"}) & loaded


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "roads.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(InputError, match="GDAL cannot read"):
        read_road_file(bad)
    with pytest.raises(FileNotFoundError):
        read_road_file(tmp_path / "missing.shp")


def test_townships_crossed_in_chainage_order(tmp_path: Path, net: dict, engine) -> None:
    feats = [dict(f) for f in net["features"]]
    x1 = [f for f in feats if f["路线编码"] == "X001"]
    for f, town in zip(x1, ["琼湖街道", "南大膳镇", "南大膳镇"], strict=True):
        f["乡镇"] = town
    path = tmp_path / "towns.gpkg"
    frame(feats, "EPSG:4546").to_file(path, engine="pyogrio")
    load_roads(path, engine=engine)
    info = road_info("X001", engine=engine)
    assert info["townships"] == ["琼湖街道", "南大膳镇"] and info["township"] == "南大膳镇"
    from hazards.mapping import road_dossier

    page = road_dossier("X001", engine=engine).render()
    assert "琼湖街道、南大膳镇" in page


def test_route_codes_are_found_however_they_are_typed(tmp_path: Path, net: dict, engine) -> None:
    load_roads(_write(tmp_path, net, "EPSG:4546"), engine=engine)
    from hazards.db import store
    from hazards.mapping import road_map

    assert store.get_road(engine, " y 002")["route_code"] == "Y002"
    road_map("x001", engine=engine)  # the maps use the same lookup
    out = CliRunner().invoke(cli, ["roads", "show", "x001", "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["route"] == "X001"


def test_text_of_mixed_cells_keeps_each_value_as_written() -> None:
    """Cells of a mixed column are turned to text one by one: 1, 1.0 and True are equal to
    pandas, but they are three different codes."""
    got = field_text(pd.Series([1, 1.0, True, " a ", None, "a"], dtype=object), 6)
    assert got.tolist() == ["1", "1.0", "True", "a", None, "a"]
    assert field_text(pd.Series([0.0, -0.0, None]), 3).tolist() == ["0.0", "-0.0", None]


@pytest.mark.parametrize("dtype", ["object", "string[pyarrow]"])
def test_field_values_apply_each_function_to_the_stripped_text(dtype: str) -> None:
    """Text as read through Arrow or as Python objects: each function is given the stripped
    text (None for a blank or missing cell), row for row, whatever the cell's spacing."""
    cells = [" x001", "X001 ", None, "  ", "y 002", " x001"]
    calls: list[object] = []

    def code(v: str | None) -> str | None:
        calls.append(v)
        return None if v is None else v.upper().replace(" ", "")

    text, codes, lengths = field_values(
        pd.Series(cells, dtype=dtype), 6, code, lambda v: -1 if v is None else len(v)
    )
    assert text.tolist() == ["x001", "X001", None, None, "y 002", "x001"]
    assert codes.tolist() == ["X001", "X001", None, None, "Y002", "X001"]
    assert lengths.tolist() == [4, 4, -1, -1, 5, 4]
    assert set(calls) <= {"x001", "X001", "y 002", None}  # only stripped text reaches them
    none_text, none_codes = field_values(None, 3, code)
    assert none_text.tolist() == [None] * 3 and none_codes.tolist() == [None] * 3


# ----------------------------------------------------------------------------- errors name the argument
def _one_road(crs: int | None = 4490) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"LX": ["X001"]}, geometry=[LineString([(112.3, 28.8), (112.31, 28.8)])], crs=crs
    )


def test_bad_class_and_mapping_name_the_argument_not_a_flag() -> None:
    with pytest.raises(InputError, match="'motorway' is not a road class") as err:
        validate_features(_one_road(), road_class="motorway")
    assert err.value.param == "road_class" and "--" not in err.value.message
    feats = validate_features(_one_road(), mapping={"code": "LX"}, road_class="村道")
    assert feats.gdf["road_class"].tolist() == ["village"] and feats.gdf["code"].tolist() == [
        "X001"
    ]
    with pytest.raises(InputError, match="unknown role 'kode'") as err:
        validate_features(_one_road(), mapping={"kode": "LX"})
    assert err.value.param == "mapping" and "--" not in err.value.message
    with pytest.raises(InputError, match="no field 'NOPE'. Its fields are: LX") as err:
        validate_features(_one_road(), mapping={"code": "NOPE"})
    assert err.value.param == "mapping"
    assert parse_mapping("code=LX, name = MC,") == {"code": "LX", "name": "MC"}
    with pytest.raises(InputError, match="role=FIELD pairs") as err:
        parse_mapping("code:LX")
    assert err.value.param == "mapping" and "--" not in err.value.message


def test_several_layers_ask_for_one_by_its_argument(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    _one_road().to_file(path, layer="a", engine="pyogrio")
    _one_road().to_file(path, layer="b", engine="pyogrio")
    with pytest.raises(InputError, match="several layers: a .*, b ") as err:
        read_road_file(path)
    assert err.value.param == "layer" and "--" not in err.value.message
    with pytest.raises(InputError, match="no layer 'c'") as err:
        read_road_file(path, layer="c")
    assert err.value.param == "layer"
    assert len(read_road_file(path, layer="b")) == 1
    with pytest.raises(
        InputError, match="'EPSG:99999' is not a coordinate reference system"
    ) as err:
        read_road_file(path, layer="a", crs="EPSG:99999")
    assert err.value.param == "crs"


def test_summary_by_something_else_is_refused_by_its_argument() -> None:
    with pytest.raises(InputError, match="use class or township") as err:
        road_summary(by="tier")
    assert err.value.param == "by"


def test_load_report_keys_are_the_documented_ones() -> None:
    """The JSON report of a road load keeps the keys docs/roads.md lists."""
    from dataclasses import fields

    from hazards.roads import LoadResult, RowIssue

    documented = (Path(__file__).parents[1] / "docs" / "roads.md").read_text(encoding="utf-8")
    keys = [f.name for f in fields(LoadResult)]
    assert keys == [
        "file",
        "layer",
        "source_crs",
        "working_crs",
        "rows_read",
        "rows_loaded",
        "rows_repaired",
        "rows_rejected",
        "routes_in_file",
        "unassigned_features",
        "routes_added",
        "routes_replaced",
        "routes_unchanged",
        "routes_skipped",
        "routes_renumbered",
        "routes_with_gaps",
        "routes_with_branches",
        "routes_with_sections",
        "length_km",
        "issues",
        "warnings",
        "rejected_file",
        "rows_skipped",
        "skipped_by_type",
        "hazards_reattached",
        "hazards_to_review",
        "crashes_reattached",
        "crashes_unattached",
        "aadt_km",
    ]
    assert all(f"`{k}`" in documented for k in keys)
    result = LoadResult(
        "f.gpkg",
        None,
        "EPSG:4490",
        "EPSG:4546",
        1,
        1,
        0,
        0,
        1,
        0,
        issues=[RowIssue(1, "repaired", "dropped Z")],
    )
    data = result.to_dict()
    assert list(data) == keys
    assert data["issues"] == [
        {"row": 1, "action": "repaired", "reason": "dropped Z", "field": "geometry"}
    ]


def test_aadt_is_recognised_and_kept_per_segment(tmp_path: Path, engine) -> None:
    """An AADT field (年平均日交通量) is read per feature: a route of two pieces keeps each
    piece's volume on its own segment; a value that is not a number is flagged, not lost."""
    from sqlalchemy import text

    gdf = gpd.GeoDataFrame(
        {
            "路线编码": ["X001", "X001", "X002", "X003"],
            "年平均日交通量": ["3000", "12,500 辆/日", "很多", None],
            "乡镇": ["甲镇", "乙乡", "甲镇", None],
        },
        geometry=[
            LineString([(500000, 3300000), (501000, 3300000)]),
            LineString([(501000, 3300000), (502000, 3300000)]),
            LineString([(500000, 3310000), (500500, 3310000)]),
            LineString([(500000, 3320000), (500400, 3320000)]),
        ],
        crs="EPSG:4546",
    )
    path = tmp_path / "aadt.gpkg"
    gdf.to_file(path, engine="pyogrio")
    result = load_roads(path, engine=engine)
    assert result.rows_loaded == 4 and result.rows_rejected == 0
    assert result.aadt_km == pytest.approx(2.0, abs=1e-3)
    flagged = [i for i in result.issues if i.field == "aadt"]
    assert [(i.row, i.action) for i in flagged] == [(3, "flagged")]
    assert "很多" in flagged[0].reason
    assert any("AADT" in w and "on 1 row(s) (3)" in w for w in result.warnings)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.route_code, s.from_m, s.aadt, s.township FROM road_segments s JOIN roads r "
                "ON r.id = s.road_id ORDER BY r.route_code, s.from_m"
            )
        ).all()
    assert [(c, round(f), a, t) for c, f, a, t in rows] == [
        ("X001", 0, 3000.0, "甲镇"),
        ("X001", 1000, 12500.0, "乙乡"),
        ("X002", 0, None, "甲镇"),
        ("X003", 0, None, None),
    ]
    # the same file again adds nothing; a changed volume is a changed route
    assert load_roads(path, engine=engine).routes_unchanged == ["X001", "X002", "X003"]
    gdf.loc[0, "年平均日交通量"] = "3100"
    gdf.to_file(path, engine="pyogrio")
    assert load_roads(path, engine=engine).routes_skipped == ["X001"]


def test_aadt_field_names_and_mapping(tmp_path: Path, engine) -> None:
    """AADT, 交通量 and a shapefile-cut 年平均日交 are recognised; ``--map aadt=FIELD`` names
    any other field."""
    from sqlalchemy import text

    assert recognise_fields(["code", "AADT"])["aadt"] == "AADT"
    assert recognise_fields(["路线编码", "交通量"])["aadt"] == "交通量"
    assert recognise_fields(["路线编", "年平均日交"])["aadt"] == "年平均日交"
    assert "aadt" not in recognise_fields(["路线编码", "VOL"])
    gdf = gpd.GeoDataFrame(
        {"路线编码": ["Y001"], "VOL": [850.0]},
        geometry=[LineString([(500000, 3300000), (500300, 3300000)])],
        crs="EPSG:4546",
    )
    path = tmp_path / "vol.gpkg"
    gdf.to_file(path, engine="pyogrio")
    out = CliRunner().invoke(cli, ["roads", "load", str(path), "--map", "aadt=VOL", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["aadt_km"] == pytest.approx(0.3, abs=1e-3)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT aadt FROM road_segments")).scalar_one() == 850.0
    with pytest.raises(InputError, match="unknown role 'volume'") as err:
        load_roads(path, engine=engine, mapping={"volume": "VOL"})
    assert "aadt" in str(err.value)


class _Colliding:
    """A key whose hash every other one shares (as two WKBs' hashes might, once in 2**64)."""

    def __init__(self, v: int) -> None:
        self.v = v

    def __hash__(self) -> int:
        return 7

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Colliding) and other.v == self.v


def test_duplicate_lines_are_found_by_hash_and_compared_where_hashes_meet() -> None:
    """The lines' keys are labelled from their hashes, as pandas labels the keys themselves:
    equal keys share a label, and keys that only share a hash do not."""
    rng = np.random.default_rng(5)
    keys = np.array(
        [bytes(rng.integers(0, 4, 3, dtype=np.uint8)) for _ in range(500)], dtype=object
    )
    assert (labels_of(keys) == pd.factorize(keys)[0]).all()
    assert len(set(keys.tolist())) == 64 < len(keys)  # repeats, and the labels say which
    colliding = np.array([_Colliding(v) for v in (1, 2, 1, 3, 2)], dtype=object)
    assert labels_of(colliding).tolist() == [0, 1, 0, 2, 1]
    assert labels_of(np.empty(0, dtype=object)).tolist() == []


@pytest.mark.parametrize(("gdal", "expected"), [((3, 5, 3), False), ((3, 6, 0), True)])
def test_road_files_are_read_column_by_column_only_with_a_gdal_that_can(
    monkeypatch: pytest.MonkeyPatch, gdal: tuple[int, int, int], expected: bool
) -> None:
    """pyogrio refuses its Arrow reader with GDAL before 3.6: such a GDAL reads row by row,
    pyarrow installed or not."""
    import pyogrio

    import hazards.road_files as road_files

    monkeypatch.setattr(pyogrio, "__gdal_version__", gdal)
    assert road_files.have_arrow() is expected


def test_a_gbk_shapefile_whose_cpg_says_utf8_is_read_as_gbk_with_a_warning(
    tmp_path: Path, net: dict, engine
) -> None:
    """A .cpg left saying UTF-8 beside a GBK .dbf: its text was read byte for byte (ISO-8859-1)
    and every road loaded unassigned (no code field recognised), without a word. The text is
    now read in the first of UTF-8 and GBK that decodes all of it, and the load says so."""
    path = tmp_path / "roads.shp"
    frame(net["features"], "EPSG:4546").to_file(path, engine="pyogrio", encoding="GBK")
    path.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    result = load_roads(path, engine=engine)
    assert (result.routes_in_file, result.unassigned_features) == (3, 1)
    assert any("roads.cpg says its text is UTF-8" in w and "GBK" in w for w in result.warnings), (
        result.warnings
    )
    info = road_info("Y002", engine=engine)
    assert (info["name"], info["township"]) == ("草尾—新沙", "草尾镇")


def test_a_shapefile_whose_text_is_in_no_encoding_it_may_be_in_is_refused(
    tmp_path: Path, net: dict, engine
) -> None:
    path = tmp_path / "roads.shp"
    gdf = frame(net["features"], "EPSG:4546")
    gdf = gdf.rename(columns={c: f"f{k}" for k, c in enumerate(gdf.columns) if c != "geometry"})
    text_cols = [c for c in gdf.columns if c != "geometry"]
    gdf[text_cols] = "X"
    gdf.loc[0, text_cols[0]] = "\xff\xff"  # bytes FF FF: neither UTF-8 nor GBK
    gdf.to_file(path, engine="pyogrio", encoding="latin1")
    path.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    with pytest.raises(InputError) as err:
        load_roads(path, engine=engine)
    assert "roads.cpg says UTF-8" in err.value.message and "GBK" in err.value.message
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM roads").scalar_one() == 0


@pytest.mark.parametrize(
    ("written", "cpg", "warned"),
    [
        ("latin1", "ISO-8859-1", False),  # as it says: read so, no word
        ("cp1252", "ANSI 1252", False),
        ("UTF-8", "GBK", True),  # UTF-8 text said to be GBK: GBK would decode it, wrongly
    ],
)
def test_a_shapefile_is_read_in_the_encoding_that_fits_its_text(
    tmp_path: Path, net: dict, engine, written: str, cpg: str, warned: bool
) -> None:
    """A .cpg naming ISO-8859-1 or ANSI 1252 is read in it ("Chemin Élysée"); UTF-8 text
    whose .cpg says GBK is read as UTF-8, with a warning (GBK decoded it without an error,
    into other characters)."""
    path = tmp_path / "roads.shp"
    gdf = frame(net["features"], "EPSG:4546")
    gdf = gdf.rename(
        columns={"路线编码": "code", "路线名称": "name", "行政等级": "class", "乡镇": "town"}
    )
    gdf["name"] = "Chemin Élysée" if written != "UTF-8" else "城关—南大膳"
    gdf["town"] = "Saint-Étienne" if written != "UTF-8" else "草尾镇"
    gdf["class"] = "county"  # every text in the file's encoding
    gdf.to_file(path, engine="pyogrio", encoding=written)
    path.with_suffix(".cpg").write_text(cpg, encoding="ascii")
    result = load_roads(path, engine=engine)
    assert result.routes_in_file == 3
    assert road_info("Y002", engine=engine)["name"] == gdf["name"].iloc[0]
    assert any("roads.cpg says its text is" in w for w in result.warnings) is warned, (
        result.warnings
    )


def test_next_years_network_with_a_route_renumbered_and_one_gone(
    tmp_path: Path, net: dict, engine
) -> None:
    """Y002 renumbered Y202 (the same lines and attributes) and Y003 gone: Y202 is not added
    beside Y002 (it was, for good: the rename was then refused), the way to rename is said,
    and the routes not in the file are named (they stay)."""
    from click.testing import CliRunner

    from hazards.cli import cli

    frame(net["features"], "EPSG:4546").to_file(tmp_path / "2025.gpkg", engine="pyogrio")
    load_roads(tmp_path / "2025.gpkg", engine=engine)
    later = [
        {**f, "路线编码": "Y202" if f["路线编码"] == "Y002" else f["路线编码"]}
        for f in net["features"]
        if f["路线编码"] != "Y003"
    ]
    frame(later, "EPSG:4546").to_file(tmp_path / "2026.gpkg", engine="pyogrio")
    first = load_roads(tmp_path / "2026.gpkg", engine=engine)
    assert first.routes_added == first.routes_skipped == [] and first.routes_renumbered == ["Y202"]
    (renumbered,) = [w for w in first.warnings if "Y202 was not loaded" in w]
    assert "hazards roads rename Y002 Y202" in renumbered
    assert any("not in this file and stay as they were: Y002, Y003" in w for w in first.warnings)
    assert CliRunner().invoke(cli, ["roads", "rename", "Y002", "Y202"]).exit_code == 0
    again = load_roads(tmp_path / "2026.gpkg", engine=engine)
    assert "Y202" in again.routes_unchanged and again.routes_skipped == []
    assert any("stay as they were: Y003." in w for w in again.warnings)
