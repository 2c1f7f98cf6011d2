"""Matching survey rows onto the network: the rules on an in-memory network (no database), and
the import end to end against a real PostGIS: bands, chainage, conflicts, accounting."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import geopandas as gpd
import pytest
from builders import along, frame, offset_from_vertex
from click.testing import CliRunner
from shapely.geometry import Point

from hazards.cli import cli
from hazards.db import store
from hazards.duplicates import Kept
from hazards.intake import import_survey
from hazards.roads import load_roads

HEADER = ["序号", "路线编码", "桩号", "经度", "纬度", "隐患类型", "隐患描述", "风险等级"]
BUCKETS = ("accepted", "review", "rejected", "duplicates", "empty")


def _csv(path: Path, rows: list[list], encoding: str = "gbk") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def _import(path: Path, engine, provider: str = "勘测公司", **kw) -> dict:
    report = import_survey(path, provider=provider, surveyed_on="2025-03-01", engine=engine, **kw)
    assert sum(report[k] for k in BUCKETS) == report["rows"], report
    return report


def _hazards(engine, **kw) -> dict[str, dict]:
    return {h["source_row"]: h for h in store.list_hazards(engine, **kw)}


def test_distance_bands_and_chainage(tmp_path: Path, net: dict, roads) -> None:
    x1 = net["lines"]["X001"]
    rows = []
    expected = {}
    for rid, (k, off) in enumerate([(80, 5.0), (40, 30.0), (120, 80.0), (20, 0.0)], start=1):
        (lon, lat), chain = offset_from_vertex(x1, k, off)
        rows.append([rid, "X001", "", lon, lat, "急弯", f"{off} m off", "一级"])
        expected[str(rid)] = chain
    report = _import(_csv(tmp_path / "s.csv", rows), roads)
    assert (report["accepted"], report["review"], report["rejected"]) == (2, 1, 1)
    assert report["rejected_by_reason"] == {"too_far": 1}
    got = _hazards(roads)
    assert got["1"]["status"] == "identified" and got["1"]["route_code"] == "X001"
    assert got["1"]["snap_distance_m"] == pytest.approx(5.0, abs=0.3)
    assert got["1"]["chainage_m"] == pytest.approx(expected["1"], abs=1.0)
    assert got["4"]["chainage_m"] == pytest.approx(expected["4"], abs=1.0)
    assert got["2"]["status"] == "review" and "30 m from route X001" in got["2"]["review_reason"]
    # 30 m off a curving line the nearest point moves along it by about 30 m x sin(turn).
    assert got["2"]["chainage_m"] == pytest.approx(expected["2"], abs=3.0)
    assert "3" not in got
    assert got["1"]["match_method"] == "coords+route" and got["1"]["category"] == "sharp_curve"


def test_chainage_only_row_lands_at_the_exact_point(tmp_path: Path, net: dict, roads) -> None:
    report = _import(
        _csv(
            tmp_path / "s.csv",
            [
                [1, "X001", "K1+000", "", "", "陡坡", "", "二级"],
                [2, "X001", "K9+000", "", "", "陡坡", "", "二级"],
                [3, "Ｘ００１", "K1+500", "", "", "急弯", "typed full-width", "二级"],
                [4, "X001", "K0+500", "0", "0", "急弯", "a GPS without a fix", "二级"],
                [5, "", "", "0", "0", "急弯", "nowhere", "二级"],
            ],
        ),
        roads,
    )
    assert (report["accepted"], report["rejected"]) == (3, 2)
    # 0, 0 is what a GPS without a fix writes: placed by its route and 桩号, with a warning;
    # without them, rejected for want of a place (it was rejected as 12,000 km off the roads)
    blank = _hazards(roads)["4"]
    assert (blank["chainage_m"], blank["match_method"]) == (500.0, "route+chainage")
    assert any("0, 0 are no place" in w for w in blank["warnings"]), blank["warnings"]
    assert report["rejected_by_reason"] == {"chainage_out_of_range": 1, "no_location": 1}
    assert (_hazards(roads)["3"]["route_code"], _hazards(roads)["3"]["chainage_m"]) == (
        "X001",
        1500.0,
    )
    h = _hazards(roads)["1"]
    true_lon, true_lat = along(net["lines"]["X001"], 1000.0)
    from builders import GEOD

    assert GEOD.inv(h["lon"], h["lat"], true_lon, true_lat)[2] < 1.0
    assert h["chainage_m"] == 1000.0 and h["match_method"] == "route+chainage"


def test_no_code_conflict_ambiguity_and_mismatch(tmp_path: Path, net: dict, roads) -> None:
    y2 = net["lines"]["Y002"]
    (lon, lat), chain = offset_from_vertex(y2, 70, 3.0)
    (lon2, lat2), _ = offset_from_vertex(net["lines"]["X001"], 60, 2.0)
    rows = [
        [1, "", "", lon, lat, "陡坡", "no code", "三级"],  # nearest road: Y002
        [2, "X001", "", lon, lat, "急弯", "stated X001, lies on Y002", "一级"],  # conflict
        [3, "X001", "K0+100", lon2, lat2, "视距不良", "chainage far off", "二级"],  # mismatch
        [4, "", "", lon + 0.5, lat, "陡坡", "far away", "三级"],  # outside network
    ]
    report = _import(_csv(tmp_path / "s.csv", rows), roads)
    got = _hazards(roads)
    assert got["1"]["route_code"] == "Y002" and got["1"]["status"] == "identified"
    assert (
        got["1"]["chainage_m"] == pytest.approx(chain, abs=1.0)
        and got["1"]["match_method"] == "coords"
    )
    assert got["2"]["status"] == "review" and got["2"]["review_reason"].startswith("conflict")
    assert got["3"]["status"] == "review" and "differ by" in got["3"]["review_reason"]
    assert report["rejected_by_reason"] == {"outside_network": 1}
    # Accepted as it stands, the conflicting row would stay on X001, far from its point
    # (independently: the point's distance to X001, in the working CRS): refused, naming why
    # it is in review; the engineer places it on the route it lies on.
    from hazards.errors import InputError
    from hazards.review import review_accept

    x1 = gpd.GeoSeries([net["lines"]["X001"]], crs=4490).to_crs(4546).iloc[0]
    off = x1.distance(gpd.GeoSeries([Point(lon, lat)], crs=4490).to_crs(4546).iloc[0])
    assert off > 50
    with pytest.raises(InputError, match=r"placed \d+ m from its point, more than 50 m") as err:
        review_accept(got["2"]["id"], engine=roads)
    assert "conflict" in err.value.message and "--route" in err.value.message
    assert abs(float(re.search(r"placed (\d+) m", err.value.message).group(1)) - off) < 2
    assert _hazards(roads)["2"]["status"] == "review"
    review_accept(got["2"]["id"], route="y002", engine=roads)
    placed = _hazards(roads)["2"]
    assert placed["status"] == "identified" and placed["route_code"] == "Y002"
    assert placed["review_reason"] is None  # decided: no longer a question
    assert placed["chainage_m"] == pytest.approx(chain, abs=1.0) and placed["snap_distance_m"] < 5
    # Row 3 lies on X001: Y002, a mistyped route, is farther than the review distance (50 m)
    # from it, and accepting it there is refused, the hazard left in review; allowed, it is
    # placed there.
    with pytest.raises(InputError, match=r"m from route Y002, more than 50 m") as err:
        review_accept(got["3"]["id"], route="Y002", engine=roads)
    assert err.value.param == "route" and "--max-distance" in err.value.message
    assert _hazards(roads)["3"]["status"] == "review"
    far = float(re.search(r"is (\d+) m from", err.value.message).group(1))
    for nowhere in (math.nan, -1.0):  # not a distance: refused, not a check passed
        with pytest.raises(InputError, match="not a number of metres"):
            review_accept(got["3"]["id"], route="Y002", max_distance_m=nowhere, engine=roads)
    review_accept(got["3"]["id"], route="Y002", max_distance_m=far + 1, engine=roads)
    placed = _hazards(roads)["3"]
    assert (placed["status"], placed["route_code"]) == ("identified", "Y002")
    assert placed["snap_distance_m"] == pytest.approx(far, abs=1.0)


def test_ambiguous_between_two_routes(tmp_path: Path, engine) -> None:
    import geopandas as gpd
    from shapely.geometry import LineString

    a = LineString([(112.30, 28.80), (112.32, 28.80)])
    b = LineString([(112.31, 28.79), (112.31, 28.81)])  # crosses a at 112.31
    path = tmp_path / "cross.gpkg"
    gpd.GeoDataFrame({"code": ["X100", "Y200"]}, geometry=[a, b], crs=4490).to_file(
        path, engine="pyogrio"
    )
    load_roads(path, engine=engine)
    report = _import(
        _csv(tmp_path / "s.csv", [[1, "", "", 112.31003, 28.80003, "交叉口不规范", "", "二级"]]),
        engine,
    )
    assert report["review"] == 1
    (h,) = store.list_hazards(engine)
    assert (
        h["review_reason"].startswith("ambiguous")
        and "X100" in h["review_reason"]
        and "Y200" in h["review_reason"]
    )


def test_swapped_dms_gcj02_and_projected_coordinates(tmp_path: Path, net: dict, roads) -> None:
    import prcoords
    from pyproj import Transformer

    x1 = net["lines"]["X001"]
    (lon, lat), chain = offset_from_vertex(x1, 100, 0.0)
    rows = [[1, "X001", "", lat, lon, "急弯", "swapped", "一级"]]
    d, m = int(lon), (lon - int(lon)) * 60
    dms_lon = f"{d}°{int(m)}'{(m - int(m)) * 60:.4f}\""
    d2, m2 = int(lat), (lat - int(lat)) * 60
    dms_lat = f"{d2}°{int(m2)}′{(m2 - int(m2)) * 60:.4f}″"
    rows.append([2, "X001", "", dms_lon, dms_lat, "陡坡", "dms", "二级"])
    report = _import(_csv(tmp_path / "s.csv", rows), roads)
    assert report["accepted"] == 2
    got = _hazards(roads)
    assert got["1"]["chainage_m"] == pytest.approx(chain, abs=1.0)
    assert any("swapped" in w for w in got["1"]["warnings"])
    assert got["2"]["chainage_m"] == pytest.approx(chain, abs=1.0)
    gcj = prcoords.wgs_gcj((lat, lon))
    assert abs(gcj.lon - lon) > 1e-4  # the offset is real (hundreds of metres)
    r = _import(
        _csv(tmp_path / "g.csv", [[1, "X001", "", gcj.lon, gcj.lat, "视距不良", "gcj", "三级"]]),
        roads,
        crs="gcj02",
    )
    assert r["accepted"] == 1
    g = [h for h in store.list_hazards(roads) if h["description"] == "gcj"][0]
    assert g["chainage_m"] == pytest.approx(chain, abs=1.0) and g["snap_distance_m"] < 1.0
    x, y = Transformer.from_crs(4490, 4546, always_xy=True).transform(lon, lat)
    r = _import(
        _csv(tmp_path / "p.csv", [[1, "X001", "", x, y, "路面病害", "projected", "三级"]]),
        roads,
        crs="EPSG:4546",
    )
    assert r["accepted"] == 1


@pytest.mark.parametrize("chunk_rows", [1000, 1])
def test_duplicates_reimport_corrections_and_seen_again(
    tmp_path: Path, net: dict, roads, chunk_rows: int
) -> None:
    """Also one row at a time: duplicates, corrections and repeats are found across chunks."""
    x1 = net["lines"]["X001"]
    (lon, lat), _ = offset_from_vertex(x1, 50, 1.0)
    (lon3, lat3), _ = offset_from_vertex(x1, 51, 1.0)  # ~25 m further on
    rows = [
        [1, "X001", "", lon, lat, "急弯", "first", "一级"],
        [2, "X001", "", lon, lat, "急弯", "same place, same category", "一级"],
        [3, "X001", "", lon3, lat3, "急弯", "25 m on", "一级"],
        [4, "X001", "", lon, lat, "陡坡", "same place, other category", "二级"],
        ["", "", "", "", "", "", "", ""],
    ]
    path = _csv(tmp_path / "s.csv", rows)
    first = _import(path, roads, chunk_rows=chunk_rows)
    assert (first["accepted"], first["duplicates"], first["empty"], first["added"]) == (3, 1, 1, 3)
    assert first["duplicate_rows"][0]["row"] == "2"
    n = len(store.list_hazards(roads))
    again = _import(path, roads, chunk_rows=chunk_rows)
    assert again["already_imported"] is True and again["added"] == 0
    assert len(store.list_hazards(roads)) == n
    rows[2][6] = "25 m on, corrected text"
    corrected = _import(
        _csv(tmp_path / "s2.csv", rows),
        roads,
        chunk_rows=chunk_rows,
        corrects=first["survey_id"],
    )
    assert (corrected["added"], corrected["updated"], corrected["unchanged"]) == (0, 1, 2)
    assert _hazards(roads)["3"]["description"] == "25 m on, corrected text"
    other = _import(
        _csv(tmp_path / "o.csv", [[9, "X001", "", lon, lat, "急弯", "another firm", "一级"]]),
        roads,
        provider="另一家公司",
        chunk_rows=chunk_rows,
    )
    assert (other["added"], other["seen_again"]) == (0, 1)
    assert len(store.list_hazards(roads)) == n
    from sqlalchemy import text

    with roads.connect() as conn:
        kinds = conn.execute(
            text("SELECT kind, count(*) FROM hazard_history GROUP BY kind ORDER BY kind")
        ).all()
    assert dict(kinds) == {"created": 3, "seen_again": 1, "updated": 1}


def test_gbk_csv_and_xlsx_import_to_the_same_hazards(
    tmp_path: Path, net: dict, roads, other_engine
) -> None:
    import openpyxl

    rows = []
    for rid, k in enumerate([10, 60, 110], start=1):
        (lon, lat), _ = offset_from_vertex(net["lines"]["X001"], k, 2.0)
        rows.append([rid, "X001", "", lon, lat, "临水临崖", f'描述{rid} <b>"引号"</b> 🚧', "一级"])
    _import(_csv(tmp_path / "s.csv", rows, "gb18030"), roads)  # 🚧 is not in GBK proper

    def comparable(hazards: dict) -> dict:
        return {
            k: {
                f: round(v, 6) if isinstance(v, float) else v
                for f, v in h.items()
                if f not in ("id", "survey_id")
            }
            for k, h in hazards.items()
        }

    from_csv = comparable(_hazards(roads))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    wb.save(tmp_path / "s.xlsx")
    path = tmp_path / "roads.gpkg"
    frame(net["features"], "EPSG:4546").to_file(path, engine="pyogrio")
    load_roads(path, engine=other_engine)
    _import(tmp_path / "s.xlsx", other_engine)
    from_xlsx = comparable(_hazards(other_engine))
    assert from_csv == from_xlsx
    assert from_csv["1"]["description"] == '描述1 <b>"引号"</b> 🚧'  # stored verbatim


def test_rejected_file_keeps_columns_row_id_and_reason(tmp_path: Path, roads) -> None:
    path = _csv(
        tmp_path / "firm.csv",
        [
            [41, "Y999", "K0+100", "", "", "陡坡", "未知路线", "三级"],
            [42, "", "", "abc", "28.8", "陡坡", "坏坐标", "三级"],
        ],
    )
    report = _import(path, roads)
    assert report["rejected_file"] == str(tmp_path / "firm.rejected.csv")
    raw = (tmp_path / "firm.rejected.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (tmp_path / "firm.rejected.csv").open(encoding="utf-8-sig", newline="") as fh:
        back = list(csv.DictReader(fh))
    assert [r["序号"] for r in back] == ["41", "42"]
    assert "Y999" in back[0]["rejected_reason"] and "abc" in back[1]["rejected_reason"]
    assert list(back[0])[: len(HEADER)] == HEADER


def test_cli_import_list_and_review(tmp_path: Path, net: dict, roads) -> None:
    (lon, lat), _ = offset_from_vertex(net["lines"]["X001"], 40, 30.0)
    (lon2, lat2), _ = offset_from_vertex(net["lines"]["X001"], 90, 25.0)
    path = _csv(
        tmp_path / "s.csv",
        [
            [1, "X001", "", lon, lat, "急弯", "a", "一级"],
            [2, "X001", "", lon2, lat2, "陡坡", "b", "二级"],
        ],
    )
    runner = CliRunner()
    out = runner.invoke(
        cli,
        ["survey", "import", str(path), "--provider", "p", "--surveyed-on", "2025-03-01", "--json"],
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["review"] == 2 and report["survey_id"] >= 1
    listed = json.loads(runner.invoke(cli, ["review", "list", "--json"]).output)
    keys = {
        "id",
        "survey_id",
        "source_row",
        "route_code",
        "chainage_m",
        "snap_distance_m",
        "match_method",
        "category",
        "category_raw",
        "description",
        "tier",
        "status",
        "lon",
        "lat",
        "reason",
    }
    assert keys <= set(listed[0])
    first, second = (h["id"] for h in sorted(listed, key=lambda h: h["source_row"]))
    accepted = runner.invoke(cli, ["review", "accept", first])
    assert accepted.exit_code == 0 and f"{first}：待核查 → 待治理" in accepted.output
    rejected = runner.invoke(cli, ["review", "reject", second, "--reason", "false positive"])
    assert rejected.exit_code == 0 and f"{second}：待核查 → " in rejected.output
    statuses = {
        h["id"]: h["status"] for h in json.loads(runner.invoke(cli, ["list", "--json"]).output)
    }
    assert statuses == {first: "identified", second: "rejected"}
    tiers = json.loads(runner.invoke(cli, ["list", "--tier", "I", "--json"]).output)
    assert [h["id"] for h in tiers] == [first]
    again = runner.invoke(cli, ["review", "accept", second])
    assert again.exit_code == 1 and "not waiting for review" in again.output
    surveys = json.loads(runner.invoke(cli, ["survey", "list", "--json"]).output)
    assert surveys[0]["rows_total"] == 2


def test_import_without_roads_is_refused(tmp_path: Path, engine) -> None:
    from hazards.errors import InputError

    with pytest.raises(InputError, match="roads load"):
        import_survey(
            _csv(tmp_path / "s.csv", [[1, "X001", "K0+100", "", "", "", "", ""]]),
            provider="p",
            surveyed_on="2025-01-01",
            engine=engine,
        )


@pytest.mark.parametrize("chunk_rows", [1000, 1])
def test_an_import_failing_halfway_leaves_the_database_as_it_was(
    tmp_path: Path, net: dict, roads, monkeypatch, chunk_rows: int
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    import hazards.survey as survey_mod

    (lon, lat), _ = offset_from_vertex(net["lines"]["X001"], 30, 1.0)
    (lon2, lat2), _ = offset_from_vertex(net["lines"]["X001"], 130, 1.0)
    rows = [
        [1, "X001", "", lon, lat, "急弯", "ok", "一级"],
        [3, "Z999", "", lon, lat, "急弯", "unknown route", "一级"],
        [2, "X001", "", lon2, lat2, "陡坡", "bad", "二级"],
    ]
    real = survey_mod.normalise_tier
    # The second row's tier breaks a database constraint only when it is written, after the
    # survey row and the first hazard are already inserted in the transaction.
    monkeypatch.setattr(survey_mod, "normalise_tier", lambda t: "IV" if t == "二级" else real(t))
    import psycopg

    with pytest.raises((IntegrityError, psycopg.IntegrityError)):  # raised by COPY, through psycopg
        import_survey(
            _csv(tmp_path / "s.csv", rows),
            provider="p",
            surveyed_on="2025-03-01",
            engine=roads,
            chunk_rows=chunk_rows,
        )  # with 1, the first hazard is already stored by then
    with roads.connect() as conn:
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM surveys), (SELECT count(*) FROM hazards), "
                "(SELECT count(*) FROM hazard_events)"
            )
        ).one()
    assert tuple(counts) == (0, 0, 0)
    # the row rejected before the failure leaves no rejected file (nor a .part) behind
    assert not [f.name for f in tmp_path.iterdir() if ".rejected" in f.name]


def test_equally_near_segments_pick_the_first_in_network_order() -> None:
    import numpy as np

    from hazards.reconcile import _nearest_of_pairs

    # point 0: segments 7 and 3 at the same distance (a bend), 9 farther; point 2: none
    pi, si, d = np.array([0, 0, 0, 1]), np.array([7, 3, 9, 5]), np.array([2.0, 2.0, 3.0, 1.5])
    seg, dist = _nearest_of_pairs(pi, si, d, 3)
    assert seg.tolist() == [3, 5, -1] and dist.tolist() == [2.0, 1.5, np.inf]
    seg2, _ = _nearest_of_pairs(pi[::-1], si[::-1], d[::-1], 3)  # whatever order the pairs come in
    assert seg2.tolist() == [3, 5, -1]


def test_long_and_odd_text_is_stored_verbatim(tmp_path: Path, net: dict, roads) -> None:
    (lon, lat), _ = offset_from_vertex(net["lines"]["X001"], 70, 1.0)
    odd = "<script>alert('x')</script> \"; DROP TABLE hazards; -- " + "长" * 10000 + " 🚧\n第二行"
    report = _import(
        _csv(tmp_path / "s.csv", [[1, "X001", "", lon, lat, "急弯", odd, "一级"]], "utf-8"), roads
    )
    assert report["accepted"] == 1
    assert store.list_hazards(roads)[0]["description"] == odd


# ----------------------------------------------------------------------------- in memory, no database
# The matching rules on a hand-made network in a metric CRS, whose answers are plain geometry:
# X001 runs east from the origin O for 2,000 m in two segments (0-1000, 1000-2000); Y002 runs
# east 300 m north of it for 1,000 m; Z003 runs north across X001 at O + 1,500 m (from 500 m
# south to 500 m north). Rows give x/y in that CRS, so distances and chainages are exact.
METRIC = "EPSG:4546"


@pytest.fixture(scope="module")
def mem() -> tuple:
    import geopandas as gpd
    from pyproj import CRS, Transformer
    from shapely.geometry import LineString

    from hazards.reconcile import Network

    x0, y0 = Transformer.from_crs(4490, 4546, always_xy=True).transform(112.35, 28.85)
    x0, y0 = round(x0), round(y0)
    rows = [  # id, road_id, route_code, part, from_m, to_m, geometry
        (11, 1, "X001", 0, 0.0, 1000.0, LineString([(x0, y0), (x0 + 1000, y0)])),
        (12, 1, "X001", 0, 1000.0, 2000.0, LineString([(x0 + 1000, y0), (x0 + 2000, y0)])),
        (21, 2, "Y002", 0, 0.0, 1000.0, LineString([(x0, y0 + 300), (x0 + 1000, y0 + 300)])),
        (31, 3, "Z003", 0, 0.0, 1000.0, LineString([(x0 + 1500, y0 - 500), (x0 + 1500, y0 + 500)])),
    ]
    segs = gpd.GeoDataFrame(
        [r[:6] for r in rows],
        columns=["id", "road_id", "route_code", "part", "from_m", "to_m"],
        geometry=[r[6] for r in rows],
        crs=METRIC,
    )
    return Network.from_segments(segs, CRS.from_user_input(METRIC)), (x0, y0)


def _row(
    line: int,
    *,
    dx: float | None = None,
    dy: float = 0.0,
    code: str | None = None,
    chainage: float | None = None,
    category: str = "sharp_curve",
    origin: tuple = (0, 0),
):
    from hazards.survey import ParsedRow

    r = ParsedRow(
        line=line, row_id=str(line), raw={}, route_code=code, chainage_m=chainage, category=category
    )
    if dx is not None:
        r.x, r.y = origin[0] + dx, origin[1] + dy
    return r


def _match(mem: tuple, rows: list, **kw) -> list:
    from hazards.reconcile import reconcile
    from hazards.settings import Settings

    return reconcile(rows, mem[0], crs=METRIC, settings=Settings(), **kw)


def test_in_memory_bands_chainage_and_route(mem: tuple) -> None:
    o = mem[1]
    got = _match(
        mem,
        [
            _row(1, dx=300, dy=5, code="X001", origin=o),  # 5 m off X001 at 300 m
            _row(2, dx=1250, dy=-3, code="X001", origin=o),  # on the second segment
            _row(3, dx=700, dy=3, origin=o),  # no code: the nearest road
            _row(4, dx=400, dy=-30, code="X001", origin=o),  # 30 m: review
            _row(5, dx=300, dy=-80, code="X001", origin=o),  # 80 m: rejected
        ],
    )
    assert [m.status for m in got] == ["accepted", "accepted", "accepted", "review", "rejected"]
    assert [m.route_code for m in got[:3]] == ["X001", "X001", "X001"]
    assert [m.segment_id for m in got[:3]] == [11, 12, 11] and got[0].road_id == 1
    assert [m.chainage_m for m in got[:4]] == pytest.approx([300.0, 1250.0, 700.0, 400.0], abs=1e-3)
    assert [m.snap_distance_m for m in got[:4]] == pytest.approx([5.0, 3.0, 3.0, 30.0], abs=1e-3)
    assert [m.match_method for m in got[:3]] == ["coords+route", "coords+route", "coords"]
    assert (
        got[3].reason_key == "distance"
        and got[3].reason == "30 m from route X001 (accepted up to 15 m)"
    )
    assert got[4].reason_key == "too_far" and got[4].reason.startswith(
        "80 m from route X001, beyond the 50 m"
    )


def test_in_memory_route_and_chainage_without_coordinates(mem: tuple) -> None:
    from pyproj import Transformer

    net, (x0, y0) = mem
    inside, outside = _match(
        mem, [_row(1, code="X001", chainage=1500.0), _row(2, code="X001", chainage=5000.0)]
    )
    assert (inside.status, inside.match_method, inside.segment_id) == (
        "accepted",
        "route+chainage",
        12,
    )
    assert (inside.chainage_m, inside.snap_distance_m) == (1500.0, 0.0)
    lon, lat = Transformer.from_crs(4546, 4326, always_xy=True).transform(x0 + 1500, y0)
    assert (inside.lon, inside.lat) == pytest.approx((lon, lat), abs=1e-7)
    assert outside.status == "rejected" and outside.reason_key == "chainage_out_of_range"
    assert "outside route X001" in outside.reason


def test_in_memory_what_could_not_be_read_is_said_when_placed_by_chainage(mem: tuple) -> None:
    """A row with a route and chainage whose coordinates (or range) cannot be read is placed by
    its chainage and says what was not read; rejected, its reason says it too."""
    from hazards.reconcile import reconcile
    from hazards.settings import Settings
    from hazards.survey import parse_chunk

    headers = {
        "row_id": "序号",
        "route_code": "路线编码",
        "chainage": "桩号",
        "lon": "经度",
        "lat": "纬度",
        "chainage_range": "起止桩号",
        "category": "隐患类型",
    }
    cells = [  # 序号, 桩号, 经度, 纬度, 起止桩号
        ("1", "K0+100", "abc", "28.85", ""),
        ("2", "K1+200", "112°21′x", "28.85", ""),
        ("3", "K0+300", "", "", "K0+280~"),
        ("4", "K0+400", "", "", ""),
        ("5", "K9+000", "abc", "28.85", ""),
    ]
    raws = [
        {
            "序号": n,
            "路线编码": "X001",
            "桩号": k,
            "经度": lon,
            "纬度": lat,
            "起止桩号": rng,
            "隐患类型": "急弯",
        }
        for n, k, lon, lat, rng in cells
    ]
    rows = parse_chunk(raws, headers=headers)
    errors = [list(r.errors) for r in rows]
    assert [len(e) for e in errors] == [1, 1, 1, 0, 1]  # what the parse found, independently
    assert "经度='abc'" in errors[0][0] and "起止桩号" in errors[2][0]
    got = reconcile(rows, mem[0], settings=Settings())
    assert [(m.status, m.match_method) for m in got[:4]] == [("accepted", "route+chainage")] * 4
    assert [m.chainage_m for m in got[:4]] == [100.0, 1200.0, 300.0, 400.0]
    by_stake = "; placed by its route and 桩号"  # a coordinate not read: placed by the 桩号
    assert [m.warnings for m in got[:4]] == [
        [errors[0][0] + by_stake],
        [errors[1][0] + by_stake],
        errors[2],  # a range not read: the point is the 桩号's anyway
        [],
    ]
    assert got[4].status == "rejected" and got[4].reason_key == "chainage_out_of_range"
    assert "outside route X001" in got[4].reason and got[4].reason.endswith(errors[4][0])


def test_in_memory_review_reasons(mem: tuple) -> None:
    o = mem[1]
    conflict, ambiguous, mismatch = _match(
        mem,
        [
            _row(1, dx=500, dy=2, code="Y002", origin=o),  # stated Y002, lies on X001
            _row(2, dx=1503, dy=4, origin=o),  # at the X001 / Z003 crossing
            _row(
                3, dx=300, dy=2, code="X001", chainage=100.0, origin=o
            ),  # says K0+100, lies at K0+300
        ],
    )
    assert (conflict.status, conflict.reason_key) == ("review", "conflict")
    assert (
        conflict.reason
        == "conflict: the point is 2 m from route X001 but 298 m from the stated route Y002"
    )
    assert conflict.route_code == "Y002" and conflict.chainage_m == pytest.approx(500.0, abs=1e-3)
    assert (ambiguous.status, ambiguous.reason_key) == ("review", "ambiguous")
    assert (
        ambiguous.reason
        == "ambiguous: routes X001, Z003 are all within 15 m and the row has no route code"
    )
    assert (mismatch.status, mismatch.reason_key, mismatch.match_method) == (
        "review",
        "chainage_mismatch",
        "coords+route+chainage",
    )
    assert mismatch.reason == "stated chainage K0+100 and measured K0+300 differ by 200 m"


def test_in_memory_rejections_and_empty_rows(mem: tuple) -> None:
    from hazards.reconcile import reconcile
    from hazards.settings import Settings
    from hazards.survey import ParsedRow

    o = mem[1]
    got = _match(
        mem,
        [
            _row(1, dx=300, dy=3000, code="Q999", origin=o),  # unknown code, far from roads
            _row(2, dx=1000, dy=5000, origin=o),  # 4.5 km from the north end of Z003
            _row(3),  # no location at all
            ParsedRow(line=4, row_id="4", raw={}, empty=True),
            _row(5, chainage=100.0, code="Q999"),  # unknown code, no coordinates
        ],
    )
    assert [(m.status, m.reason_key) for m in got] == [
        ("rejected", "unknown_route"),
        ("rejected", "outside_network"),
        ("rejected", "no_location"),
        ("empty", None),
        ("rejected", "unknown_route"),
    ]
    assert "4.5 km from the nearest road" in got[1].reason
    # metres given as if they were degrees (no CRS said): refused, without naming a CLI flag
    (projected,) = reconcile([_row(1, dx=300, dy=5, origin=o)], mem[0], settings=Settings())
    assert (projected.status, projected.reason_key) == ("rejected", "bad_coordinates")
    assert "look projected" in projected.reason and "--" not in projected.reason


def test_in_memory_unknown_route_near_a_road_goes_to_review_naming_it(mem: tuple) -> None:
    """A code not in the network on a row 300 m along X001 (1 m off it): placed there by
    position and sent to review, the reason naming X001."""
    got = _match(mem, [_row(1, dx=300, dy=1, code="Q999", origin=mem[1])])
    assert (got[0].status, got[0].reason_key, got[0].route_code) == (
        "review",
        "unknown_route",
        "X001",
    )
    assert "'Q999'" in got[0].reason and "route X001" in got[0].reason


def test_in_memory_duplicates_within_a_file_and_across_chunks(mem: tuple) -> None:
    o = mem[1]
    rows = [
        _row(1, dx=600, dy=1, code="X001", origin=o),
        _row(2, dx=603, dy=1, code="X001", origin=o),  # 3 m on: duplicate of 1
        _row(3, dx=603, dy=1, code="X001", category="steep_grade", origin=o),  # other category
        _row(4, dx=610, dy=1, code="X001", origin=o),  # 10 m on: its own hazard
        _row(5, dx=611, dy=1, code="X001", origin=o),  # 1 m past 4: duplicate of 4
    ]
    whole = _match(mem, rows)
    assert [m.status for m in whole] == [
        "accepted",
        "duplicate",
        "accepted",
        "accepted",
        "duplicate",
    ]
    assert whole[1].reason_key == "duplicate_in_file"
    assert whole[1].reason == "same category on route X001 within 5 m of line 1"
    assert whole[4].reason.endswith("of line 4")
    kept = Kept()  # the same rows in two chunks, cut between a row and its duplicate
    chunked = _match(mem, rows[:1], kept=kept) + _match(mem, rows[1:], kept=kept)
    assert [(m.status, m.reason) for m in chunked] == [(m.status, m.reason) for m in whole]
    alone = _match(mem, rows[1:])  # without the memory, row 2 has nothing to repeat
    assert alone[0].status == "accepted"


def test_accepting_a_hazard_on_its_own_route_keeps_its_range(
    tmp_path: Path, net: dict, roads
) -> None:
    """A linear hazard in review (its point 30 m off its route) accepted with --route naming
    the route it is on stays where it is, its chainage range kept (it was made a point)."""
    from hazards.chainage import format_chainage
    from hazards.review import review_accept

    (lon, lat), chain = offset_from_vertex(net["lines"]["X001"], 40, 30.0)
    path = tmp_path / "range.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["序号", "路线编码", "起点桩号", "止点桩号", "经度", "纬度", "隐患类型"],
                [
                    1,
                    "X001",
                    format_chainage(chain - 20),
                    format_chainage(chain + 20),
                    lon,
                    lat,
                    "临水临崖",
                ],
            ]
        )
    _import(path, roads)
    before = _hazards(roads)["1"]
    assert before["status"] == "review" and before["to_m"] - before["from_m"] == pytest.approx(40)
    review_accept(before["id"], route="X001", engine=roads)
    after = _hazards(roads)["1"]
    assert after["status"] == "identified"
    assert [after[k] for k in ("route_code", "chainage_m", "from_m", "to_m")] == [
        before[k] for k in ("route_code", "chainage_m", "from_m", "to_m")
    ]


def test_coordinates_not_in_the_crs_given_name_the_one_they_fit(tmp_path: Path, roads) -> None:
    """Gauss-Krüger metres with the zone number in front, imported with --crs EPSG:4546 (the CM
    CRS without it): the reason names EPSG:4525 (it said to give the CRS, which was given)."""
    rows = [[1, "", "", "37500000.0", "3190000.0", "急弯", "", "一级"]]
    report = _import(_csv(tmp_path / "s.csv", rows, encoding="utf-8"), roads, crs="EPSG:4546")
    (rej,) = report["rejected_rows"]
    assert "not in the CRS given (EPSG:4546)" in rej["reason"] and "EPSG:4525" in rej["reason"]


def test_a_mistyped_route_code_on_a_known_hazard_stays_in_review_saying_what_it_repeats(
    tmp_path: Path, net: dict, roads
) -> None:
    """Next year's row at last year's hazard, its route code mistyped (X0011): the matching
    sends it to review (a code not in the network); it was then linked to last year's hazard
    as seen again, while the report counted it in review and the review queue never had it.
    It waits in review, its reason naming the hazard it repeats."""
    (lon, lat), _ = offset_from_vertex(net["lines"]["X001"], 60, 1.0)
    _import(_csv(tmp_path / "a.csv", [[1, "X001", "", lon, lat, "急弯", "first", "一级"]]), roads)
    [first] = store.list_hazards(roads)
    report = _import(
        _csv(tmp_path / "b.csv", [[1, "X0011", "", lon, lat, "急弯", "again", "一级"]]),
        roads,
        provider="另一公司",
    )
    assert (report["review"], report["seen_again"], report["added"]) == (1, 0, 1)
    [waiting] = store.list_hazards(roads, review=True)
    assert waiting["survey_id"] != first["survey_id"]
    assert waiting["review_reason"].startswith("route code 'X0011' is not in the road network")
    assert f"it repeats {first['id']} there" in waiting["review_reason"]
