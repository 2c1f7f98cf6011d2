"""Road networks from the real world (issue 14), on the committed fixtures of tests/data/
(made by tests/data/make_networks.py): CRS safety, townships from the segments, honest classes,
the gap limit, unique network length, route aliases and renumbering, one-line errors.

Answers are computed independently from the files (geodesic lengths with pyproj, townships of
the pieces under each point with shapely), never from the loader.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from pyproj import Geod
from shapely.geometry import LineString, Point
from sqlalchemy import text

from hazards.cli import cli
from hazards.roads import load_roads, road_info, road_summary, validate_features

DATA = Path(__file__).parent / "data"
GEOD = Geod(ellps="GRS80")


def _invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    from hazards.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(cli, list(args), env=env)
    get_settings.cache_clear()
    return result


def _strict_json(output: str):  # type: ignore[no-untyped-def]
    """JSON that refuses NaN and Infinity (Python's json accepts them by default)."""

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    return json.loads(output, parse_constant=refuse)


def _geodesic(gdf: gpd.GeoDataFrame) -> list[float]:
    return [GEOD.geometry_length(g) for g in gdf.to_crs(4490).geometry]


def _state(engine) -> tuple:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return (
            conn.execute(text("SELECT count(*), coalesce(sum(length_m), 0) FROM roads")).one(),
            conn.execute(text("SELECT count(*) FROM road_segments")).scalar_one(),
            sorted(conn.execute(text("SELECT key, value FROM metadata")).all()),
        )


# ----------------------------------------------------------------------------- 1. CRS safety
@pytest.mark.parametrize("declared", ["EPSG:4490", "EPSG:4326", "EPSG:4526"])
def test_projected_file_declared_otherwise_is_refused_and_nothing_written(
    engine, tmp_path: Path, declared: str
) -> None:
    """A GK file without .prj given as degrees (or as a far zone with a zone prefix): exit 1,
    one line naming the file and the CRS, no traceback, and the database as it was."""
    shp = DATA / "projected_no_prj.shp"
    empty = _state(engine)
    result = _invoke("roads", "load", str(shp), "--crs", declared)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert str(shp) in result.output and declared in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _state(engine) == empty  # no working CRS recorded either
    load_roads(DATA / "townships.gpkg", engine=engine)
    before = _state(engine)
    assert _invoke("roads", "load", str(shp), "--crs", declared).exit_code == 1
    assert _state(engine) == before
    # given the right CRS, it loads, measured within 0.1 % of geodesic truth
    load_roads(shp, crs="EPSG:4546", engine=engine)
    truth = _geodesic(gpd.read_file(shp).set_crs(4546))
    assert road_info("X301", engine=engine)["length_m"] == pytest.approx(truth[0], rel=1e-3)


def test_working_crs_change_remeasures_lengths_and_chainages(engine, tmp_path: Path) -> None:
    gdf = gpd.read_file(DATA / "townships.gpkg")
    truth = gdf.assign(m=_geodesic(gdf)).groupby("路线编码")["m"].sum()
    load_roads(DATA / "townships.gpkg", engine=engine)
    _import(DATA / "townships_survey.csv", tmp_path)
    shown = _strict_json(_invoke("db", "working-crs", "show", "--json").output)
    assert shown["working_crs"] == "EPSG:4546" and shown["auto"] == "EPSG:4546"
    # `working-crs [show] [--json]` (docs/roads.md): without `show` too
    assert _strict_json(_invoke("db", "working-crs", "--json").output) == shown

    def lengths() -> dict[str, float]:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT route_code, length_m FROM roads")).all())

    def chainages() -> dict[int, float]:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT source_line, chainage_m FROM hazards")).all())

    first = lengths()
    # UTM 49N (scale 0.9996 on its central meridian 111E): every figure measured again
    result = _invoke("db", "working-crs", "set", "EPSG:32649", "--json")
    assert result.exit_code == 0, result.output
    assert _strict_json(result.output)["hazards"] == 6
    utm = lengths()
    for code, m in utm.items():
        assert m == pytest.approx(truth[code], rel=1e-3)
        assert abs(m - first[code]) > 1e-5 * m  # really re-measured
    survey_m = {2: 500, 3: 3000, 4: 4800, 5: 6000, 6: 1000, 7: 3500}  # line → metres along
    for line, ch in chainages().items():
        assert ch == pytest.approx(survey_m[line], rel=1e-3, abs=0.5)
    seg_ok = _state(engine)
    assert _invoke("db", "working-crs", "set", "EPSG:4554").exit_code == 1  # CM 135E: refused
    assert _state(engine) == seg_ok
    assert _invoke("db", "working-crs", "auto").exit_code == 0
    back = lengths()
    for code, m in back.items():
        assert m == pytest.approx(first[code], rel=1e-9)
        assert m == pytest.approx(truth[code], rel=1e-3)
    for line, ch in chainages().items():
        assert ch == pytest.approx(survey_m[line], rel=1e-3, abs=0.5)


def test_explicit_working_crs_setting_wins_or_is_refused(engine) -> None:
    env = {"HAZARDS_WORKING_CRS": "EPSG:4547"}
    first = _invoke("roads", "load", str(DATA / "gap_10km.gpkg"), "--json", env=env)
    assert first.exit_code == 0, first.output
    assert _strict_json(first.output)["working_crs"] == "EPSG:4547"  # the setting wins
    other = {"HAZARDS_WORKING_CRS": "EPSG:4546"}
    refused = _invoke("roads", "load", str(DATA / "townships.gpkg"), env=other)
    assert refused.exit_code == 1 and "db working-crs set EPSG:4546" in refused.output
    assert _invoke("roads", "show", "X201", env=other).exit_code == 0  # reading is fine
    locate = _invoke("chainage", "locate", "X201", "K0+100", env=other)
    assert locate.exit_code == 1 and "EPSG:4547" in locate.output


def test_json_never_holds_nan(engine) -> None:
    load_roads(DATA / "gap_10km.gpkg", engine=engine)
    for args in (("roads", "summary"), ("roads", "summary", "--by", "township")):
        _strict_json(_invoke(*args, "--json").output)
    _strict_json(_invoke("roads", "show", "X201", "--json").output)


# ----------------------------------------------------------------------------- 2. townships
def _import(path: Path, tmp_path: Path) -> dict:
    from hazards.intake import import_survey

    return import_survey(
        path, provider="p", surveyed_on="2025-03-01", rejected_path=tmp_path / "rej.csv"
    )


def test_townships_come_from_the_segments(engine, tmp_path: Path) -> None:
    from hazards.db import store

    gdf = gpd.read_file(DATA / "townships.gpkg")
    km = gdf.assign(m=_geodesic(gdf)).groupby("乡镇")["m"].sum() / 1000
    load_roads(DATA / "townships.gpkg", engine=engine)
    summary = road_summary(by="township", engine=engine)
    towns = {t["township"]: t for t in summary["townships"]}
    assert set(towns) == set(km.index)
    for town, t in towns.items():
        assert t["length_km"] == pytest.approx(km[town], rel=1e-3), town
    assert towns["甲镇"]["routes"] == 2 and towns["丙镇"]["routes"] == 1  # X101 in all three
    assert summary["total"]["routes"] == 2
    assert summary["total"]["length_km"] == pytest.approx(km.sum(), rel=1e-3)
    assert road_info("X101", engine=engine)["townships"] == ["甲镇", "乙乡", "丙镇"]

    report = _import(DATA / "townships_survey.csv", tmp_path)
    assert report["accepted"] == 6
    # the township of the piece under each surveyed point, from the file itself
    truth: dict[int, str] = {}
    with (DATA / "townships_survey.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            lonlat = Point(float(row["经度"]), float(row["纬度"]))
            p = gpd.GeoSeries([lonlat], crs=4490).to_crs(gdf.crs).iloc[0]
            own = gdf[gdf["路线编码"] == row["路线编码"]]
            truth[int(row["序号"])] = own.iloc[int(own.distance(p).argmin())]["乡镇"]
    assert truth[6] == "乙乡"  # its 乡镇 says 甲镇: kept in the raw row, with a warning
    hazards = {int(h["source_row"]): h for h in store.list_hazards(engine)}
    with engine.connect() as conn:
        warned = conn.execute(
            text("SELECT source_line, warnings::text, raw->>'乡镇' FROM hazards ORDER BY 1")
        ).all()
    assert [w[0] for w in warned if "乡镇" in w[1]] == [7]  # sheet line 7 = row 6
    assert [w[2] for w in warned][-1] == "甲镇"

    runner = CliRunner()
    done = runner.invoke(
        cli,
        [
            "plan",
            "create",
            "--name",
            "T",
            "--budget",
            "1e9",
            "--batches",
            "2",
            "--group-by",
            "township",
        ],  # fmt: skip
    )
    assert done.exit_code == 0, done.output
    assert runner.invoke(cli, ["plan", "commit", "T"]).exit_code == 0
    exported: dict[str, str] = {}
    for b in _strict_json(runner.invoke(cli, ["batch", "list", "--json"]).output):
        out = tmp_path / f"{b['name']}.geojson"
        assert runner.invoke(cli, ["export", "batch", b["name"], "-o", str(out)]).exit_code == 0
        for _, f in gpd.read_file(out).iterrows():
            exported[f["id"]] = f["township"]
    by_row = {hazards[r]["id"]: t for r, t in truth.items()}
    assert exported == by_row
    progress = _strict_json(runner.invoke(cli, ["progress", "--by", "township", "--json"]).output)
    counts = {g["group"]: g["hazards"] for g in progress["groups"]}
    assert counts == {t: list(exported.values()).count(t) for t in set(exported.values())}
    plan = _strict_json(runner.invoke(cli, ["plan", "show", "T", "--json"]).output)
    grouped = {t for b in plan["batches"] for t in b["townships"]}
    assert grouped == set(truth.values())


# ----------------------------------------------------------------------------- 3. classes
def test_route_risk_per_township_follows_the_segments(engine, tmp_path: Path) -> None:
    from hazards import inventory
    from hazards.scoring import compute_tiers, route_ratings

    gdf = gpd.read_file(DATA / "townships.gpkg")
    km = gdf.assign(m=_geodesic(gdf)).groupby("乡镇")["m"].sum() / 1000
    load_roads(DATA / "townships.gpkg", engine=engine)
    _import(DATA / "townships_survey.csv", tmp_path)
    compute_tiers(engine=engine)
    # each hazard in the township of the piece under it, worked out from the file
    truth: dict[str, list[float]] = {}
    scores = {h["id"]: h for h in inventory.list_hazards(engine=engine)}
    for h in scores.values():
        p = gpd.GeoSeries([Point(h["lon"], h["lat"])], crs=4326).to_crs(gdf.crs).iloc[0]
        own = gdf[gdf["路线编码"] == h["route_code"]]
        truth.setdefault(own.iloc[int(own.distance(p).argmin())]["乡镇"], []).append(h["id"])
    with engine.connect() as conn:
        score = dict(conn.execute(text("SELECT public_id, score FROM hazards")).all())
    towns = {t["township"]: t for t in route_ratings(engine=engine)["townships"]}
    assert set(towns) == set(km.index)
    for town, t in towns.items():
        assert t["length_km"] == pytest.approx(km[town], rel=1e-3), town
        assert t["open_hazards"] == len(truth.get(town, [])), town
        assert t["open_risk"] == pytest.approx(sum(score[i] for i in truth.get(town, [])), abs=0.1)
    assert towns["丙镇"]["routes"] == 1 and towns["甲镇"]["routes"] == 2


def test_non_chinese_codes_get_no_chinese_class(engine) -> None:
    path = DATA / "us_county.geojson"
    result = load_roads(path, mapping={"code": "name"}, engine=engine)
    classes = {r: road_info(r, engine=engine)["class"] for r in result.routes_added}
    assert classes == dict.fromkeys(
        ["GALLAGHERCANYONRD", "S1000W", "CAMASCREEKRD", "I-15"], "unknown"
    )
    assert any("Locale" in w for w in result.warnings)
    summary = road_summary(engine=engine)
    assert [c["class"] for c in summary["classes"]] == ["unknown"]
    assert summary["classes"][0]["source_values"] == ["Artere", "Autoroute", "Locale"]


def test_class_map_maps_and_keeps_the_original_value(engine) -> None:
    out = _invoke(
        "roads", "load", str(DATA / "us_county.geojson"), "--map", "code=name",
        "--class-map", "Locale=village,Artere=county,Autoroute=national", "--json",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert _strict_json(out.output)["warnings"] == []
    show = _strict_json(_invoke("roads", "show", "S 1000 W", "--json").output)
    assert show["class"] == "village" and show["class_source_value"] == "Locale"
    assert road_info("I-15", engine=engine)["class"] == "national"
    text_out = _invoke("roads", "show", "Camas Creek Rd", env={"HAZARDS_LANG": "en"}).output
    assert "county (file: Artere)" in text_out
    assert "县道（文件中：Artere）" in _invoke("roads", "show", "Camas Creek Rd").output  # zh


def test_class_map_from_the_toml_table(engine, settings_file: Path) -> None:
    settings_file.write_text('[class_map]\nLocale = "village"\nArtere = "县道"\n', encoding="utf-8")
    from hazards.settings import get_settings

    get_settings.cache_clear()
    load_roads(DATA / "us_county.geojson", mapping={"code": "name"}, engine=engine)
    assert road_info("CAMASCREEKRD", engine=engine)["class"] == "county"
    assert road_info("I-15", engine=engine)["class"] == "unknown"


def test_english_class_words_and_the_warning_that_tells_what_was_done() -> None:
    """'county road' and the like are classes; a value that names none is loaded with the
    class its route code gives, as the warning now says (it said 'loaded as unknown' and
    suggested mapping every value to village)."""
    from hazards.vocabulary import normalise_class

    assert [normalise_class(v) for v in ("County Road", "township road", "National Highway")] == [
        "county",
        "township",
        "national",
    ]
    frame = gpd.GeoDataFrame(
        {"路线编码": ["X001", "Q7"], "等级": ["3", "3"]},
        geometry=[LineString([(500000, 3100000), (501000, 3100000)]),
                  LineString([(500000, 3101000), (501000, 3101000)])],
        crs="EPSG:4546",
    )  # fmt: skip
    feats = validate_features(frame, mapping={"class": "等级"})
    assert feats.gdf.set_index("code")["road_class"].to_dict() == {
        "X001": "county",
        "Q7": "unknown",
    }
    assert feats.unmapped_classes == {"3": 2}


def test_chinese_codes_still_give_their_class() -> None:
    from hazards.vocabulary import class_from_code

    assert class_from_code("X012") == "county" and class_from_code("g318") == "national"
    assert class_from_code("Y001511425") == "township" and class_from_code("C012A") == "village"
    for code in ("S1000W", "GALLAGHERCANYONRD", "CAMASCREEKRD", "I-15", "X12", "SR-26"):
        assert class_from_code(code) is None, code


# ----------------------------------------------------------------------------- 4. gap limit
def test_a_10km_gap_makes_two_sections(engine) -> None:
    gdf = gpd.read_file(DATA / "gap_10km.gpkg")
    pieces = _geodesic(gdf)
    result = load_roads(DATA / "gap_10km.gpkg", engine=engine)
    assert result.routes_with_sections == ["X201"] and result.routes_with_gaps == []
    (warning,) = result.warnings
    assert "X201" in warning and "section 0" in warning and "section 1" in warning
    assert "10.00 km" in warning
    info = road_info("X201", engine=engine)
    assert len(info["sections"]) == 2 and info["gap_m"] == 0
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT section, max(to_m), sum(length_m) FROM road_segments GROUP BY 1")
        ).all()
    for _section, top, length in rows:
        assert top <= length + 1e-6  # no chainage beyond the section's own length
    assert sorted(r[2] for r in rows) == pytest.approx(sorted(pieces), rel=1e-3)
    shown = _invoke("roads", "show", "X201", env={"HAZARDS_LANG": "en"}).output
    assert "section 0" in shown and "section 1" in shown
    shown = _invoke("roads", "show", "X201").output  # zh, the default
    assert "第 0 段" in shown and "第 1 段" in shown


def test_a_gap_within_the_limit_is_bridged(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from hazards.settings import get_settings

    monkeypatch.setenv("HAZARDS_MAX_GAP_M", "12000")
    get_settings.cache_clear()
    result = load_roads(DATA / "gap_10km.gpkg", engine=engine)
    assert result.routes_with_gaps == ["X201"] and result.routes_with_sections == []
    info = road_info("X201", engine=engine)
    assert info["gap_m"] == pytest.approx(10_000, rel=1e-3)
    assert info["end_m"] == pytest.approx(16_000, rel=1e-3)


# ----------------------------------------------------------------------------- 5. unique km
def test_shared_carriageway_counts_once_in_unique_length(engine) -> None:
    load_roads(DATA / "concurrent.gpkg", engine=engine)
    total = road_summary(engine=engine)["total"]
    gdf = gpd.read_file(DATA / "concurrent.gpkg")
    shared = _geodesic(gdf)[2] / 1000  # the S201 piece lying on G101
    assert shared == pytest.approx(1.0, rel=1e-3)
    assert total["length_km"] == pytest.approx(sum(_geodesic(gdf)) / 1000, rel=1e-3)
    assert total["length_km"] - total["unique_length_km"] == pytest.approx(shared, rel=1e-3)


def test_uncoded_lines_are_duplicates_only_when_their_attributes_match() -> None:
    from builders import curvy_line, frame

    from hazards.roads import validate_features

    line = curvy_line((112.35, 28.85), n=20)
    rows = [
        {"路线编码": "", "路线名称": "村道甲", "geometry": line},
        {"路线编码": "", "路线名称": "村道乙", "geometry": line},  # another road, same line
        {"路线编码": "", "路线名称": "村道甲", "geometry": line},  # a true duplicate of row 1
    ]
    feats = validate_features(frame(rows, "EPSG:4546"))
    assert feats.rejected_rows == [3]
    codes = feats.gdf["code"].tolist()
    assert len(set(codes)) == 2 and codes[1] == codes[0] + "-2"


# ----------------------------------------------------------------------------- 6. aliases
def test_aliases_and_renaming(engine, tmp_path: Path) -> None:
    from hazards.db import store

    load_roads(DATA / "townships.gpkg", engine=engine)
    out = _invoke("roads", "alias", "import", str(DATA / "aliases.csv"))
    assert out.exit_code == 0 and "添加 2 个别名" in out.output, out.output
    added = _invoke("roads", "alias", "add", "US-101", "cr-101")  # via an alias
    assert added.exit_code == 0 and "US-101 现指路线 X101" in added.output, added.output
    listed = _strict_json(_invoke("roads", "alias", "list", "--json").output)
    assert {(a["alias"], a["route"]) for a in listed} == {
        ("CR-101", "X101"),
        ("OLD102", "X102"),
        ("US-101", "X101"),
    }
    report = _import(DATA / "alias_survey.csv", tmp_path)
    assert report["accepted"] == 3, report
    routes = sorted(h["route_code"] for h in store.list_hazards(engine))
    assert routes == ["X101", "X101", "X102"]
    loc = _strict_json(_invoke("chainage", "locate", "cr-101", "K1+000", "--json").output)
    assert loc["route"] == "X101"
    assert len(_strict_json(_invoke("list", "--route", "CR-101", "--json").output)) == 2

    renamed = _invoke("roads", "rename", "X101", "X111", "--by", "科长", "--json")
    assert renamed.exit_code == 0, renamed.output
    assert _strict_json(renamed.output) == {"route": "X111", "old": "X101", "hazards": 2}
    hazards = store.list_hazards(engine)
    assert sorted(h["route_code"] for h in hazards) == ["X102", "X111", "X111"]
    on_x111 = [h["id"] for h in hazards if h["route_code"] == "X111"]
    for hid in on_x111:
        history = _invoke("history", hid)
        assert "X101" in history.output and "X111" in history.output, history.output
    assert road_info("X101", engine=engine)["route"] == "X111"  # the old code still resolves
    assert road_info("CR-101", engine=engine)["route"] == "X111"  # so do its aliases
    assert set(road_info("X111", engine=engine)["aliases"]) == {"CR-101", "US-101", "X101"}
    assert _invoke("roads", "rename", "X111", "X102").exit_code == 1  # a loaded code
    bad = tmp_path / "bad.csv"
    bad.write_text("alias,code\nA-1,X999\n", encoding="utf-8")
    refused = _invoke("roads", "alias", "import", str(bad))
    assert refused.exit_code == 1 and "X999" in refused.output


# ----------------------------------------------------------------------------- 7. errors
def test_one_line_errors_for_what_is_not_a_road_file(engine, tmp_path: Path) -> None:
    table = tmp_path / "roads.csv"
    table.write_text("code,name\nX001,甲\n", encoding="utf-8")
    gbk = tmp_path / "调查.csv"  # a survey in GBK, given to roads load by mistake
    gbk.write_bytes("序号,路线编码,桩号\n1,X001,K0+100\n".encode("gbk"))
    folder = tmp_path / "shapes"
    folder.mkdir()
    gdf = gpd.read_file(DATA / "gap_10km.gpkg")
    gdf.to_file(folder / "roads.shp", engine="pyogrio")
    points = tmp_path / "points.gpkg"
    gdf.set_geometry(gdf.geometry.centroid).to_file(points, engine="pyogrio")
    for path, words in (
        (table, "no geometry"),
        (gbk, "no geometry"),
        (folder, "is a folder"),
        (points, "holds Point features, not lines"),
    ):
        result = _invoke("roads", "load", str(path))
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert words in result.output and str(path) in result.output
    assert "roads.shp" in _invoke("roads", "load", str(folder)).output


@pytest.mark.parametrize("header", ["别名,路线编码", "旧编码,新编码", "alias,code", "Alias,Route"])
def test_an_alias_files_header_in_chinese_is_skipped(tmp_path: Path, header: str) -> None:
    """A GBK alias file naturally has a Chinese header: skipped as the English one is (it was
    read as an alias of a route named 路线编码, and the whole file refused)."""
    from hazards.network import read_alias_file

    path = tmp_path / "aliases.csv"
    path.write_bytes(f"{header}\nCR-101,X101\n老102线,X102\n".encode("gbk"))
    assert read_alias_file(path) == [("CR-101", "X101"), ("老102线", "X102")]


def test_an_alias_that_is_its_route_code_with_xian_is_left_out(engine) -> None:  # type: ignore[no-untyped-def]
    """X101线 is read as X101 already: the pair needs no alias (it refused the whole file)."""
    from hazards.network import add_aliases

    load_roads(DATA / "townships.gpkg", engine=engine)
    added = add_aliases([("X101线", "X101"), ("CR-101", "X101")], engine=engine)
    assert added == [{"alias": "CR-101", "route": "X101"}]
    out = _invoke("roads", "alias", "add", "X101线", "X101")
    assert out.exit_code == 0 and "无需别名" in out.output, out.output


# ----------------------------------------------------------------------------- 7. the list
def test_roads_list_gives_each_route_its_km_segments_and_hazards(engine, tmp_path: Path) -> None:
    """`roads list`: every route with its km, end chainage, segments and hazards (all, open),
    by class or township; the answers worked out from the files, not from the loader."""
    from hazards.db import store

    empty = _invoke("roads", "list")
    assert empty.exit_code == 0 and "hazards roads load" in empty.stdout, empty.output
    assert _strict_json(_invoke("roads", "list", "--json").stdout) == []
    assert "hazards roads load" in _invoke("roads", "summary").stdout  # not a table of zeros
    gdf = gpd.read_file(DATA / "townships.gpkg")
    km = gdf.assign(m=_geodesic(gdf)).groupby("路线编码")["m"].sum() / 1000
    planar = gdf.assign(m=gdf.length).groupby("路线编码")["m"].sum()  # EPSG:4546, metres
    pieces = gdf.groupby("路线编码").size()
    load_roads(DATA / "townships.gpkg", engine=engine)
    load_roads(DATA / "gap_10km.gpkg", engine=engine)  # X201, in 丁镇, in two sections
    # a township road and a road without a code, 5 km north of X102: listed after the county's
    north = gdf[gdf["路线编码"] == "X102"].translate(yoff=5000).geometry.to_list()
    more = gpd.GeoDataFrame({"路线编码": ["Y301", None]}, geometry=north, crs=gdf.crs)
    more.to_file(tmp_path / "more.gpkg", engine="pyogrio")
    load_roads(tmp_path / "more.gpkg", engine=engine)
    with (DATA / "townships_survey.csv").open(encoding="utf-8") as fh:
        surveyed = [row["路线编码"] for row in csv.DictReader(fh)]
    assert _import(DATA / "townships_survey.csv", tmp_path)["accepted"] == len(surveyed)
    closed = next(h for h in store.list_hazards(engine) if h["route_code"] == "X101")
    done = _invoke("status", "set", closed["id"], "--to", "rejected", "--note", "not a hazard")
    assert done.exit_code == 0, done.output

    out = _invoke("roads", "list", "--json")
    assert out.exit_code == 0, out.output
    rows = {r["route"]: r for r in _strict_json(out.stdout)}
    assert list(rows)[:4] == ["X101", "X102", "X201", "Y301"]  # by class, then code
    assert len(rows) == 5 and list(rows.values())[4]["unassigned"]  # the uncoded road last
    assert rows["Y301"]["class"] == "township" and rows["Y301"]["hazards"] == 0
    for code in ("X101", "X102"):
        r = rows[code]
        assert r["length_km"] == pytest.approx(km[code], rel=1e-3), code
        assert r["end_m"] == pytest.approx(planar[code], abs=0.1), code
        m = round(planar[code])
        assert r["chainage_to"] == f"K{m // 1000}+{m % 1000:03d}", code
        assert r["segments"] == pieces[code] and r["section_count"] == 1, code
        assert (r["class"], r["class_source_value"]) == ("county", "县道"), code
        # the rejected one (X101's) counts in neither
        assert r["hazards"] == surveyed.count(code) - (code == "X101"), code
    assert rows["X101"]["open_hazards"] == surveyed.count("X101") - 1
    assert rows["X102"]["open_hazards"] == surveyed.count("X102")
    assert (rows["X201"]["section_count"], rows["X201"]["hazards"]) == (2, 0)

    only = _strict_json(_invoke("roads", "list", "--township", "丙镇", "--json").stdout)
    assert [r["route"] for r in only] == ["X101"]  # the one route reaching 丙镇
    only = _strict_json(_invoke("roads", "list", "--township", "乙乡", "--json").stdout)
    assert [r["route"] for r in only] == ["X101", "X102"]
    assert len(_strict_json(_invoke("roads", "list", "--class", "X", "--json").stdout)) == 3
    assert _strict_json(_invoke("roads", "list", "--class", "村道", "--json").stdout) == []
    assert "没有符合该等级或乡镇的路线" in _invoke("roads", "list", "--class", "村道").stdout
    for args, words in (
        (("--class", "高速"), "'高速' is not a road class"),
        (("--township", "戊镇"), "the road network's townships are 丁镇, 丙镇, 乙乡, 甲镇"),
    ):
        refused = _invoke("roads", "list", *args)
        assert refused.exit_code == 1 and words in refused.output, refused.output
        assert args[0] in refused.output and "Traceback" not in refused.output

    table = _invoke("roads", "list", env={"COLUMNS": "160"}).stdout  # zh, the default
    assert "路线 (5)" in table and "未治理隐患" in table and "县道" in table
    assert "X101" in table and rows["X101"]["chainage_to"] in table
