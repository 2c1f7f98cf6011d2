"""Route assembly on in-memory lines (no files, no database): chaining, gaps, branches, loops,
and the vectorised path agreeing with the general one."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from builders import route_frame
from shapely.geometry import LineString

from hazards import assembly as assembly_mod
from hazards.assembly import (
    _assemble_chains,
    _modes,
    assemble_route,
    build_routes,
)
from hazards.fingerprints import route_checksums, route_groups


def _spans(route) -> list[tuple[int, int, float, float]]:  # type: ignore[no-untyped-def]
    """(row, part, from_m, to_m) of each segment, rounded to the millimetre."""
    return [(s.row, s.part, round(s.from_m, 3), round(s.to_m, 3)) for s in route.segments]


# ----------------------------------------------------------------------------- the general path
def test_pieces_are_chained_in_order_from_the_majority_direction() -> None:
    # x from 0 to 1000 in three pieces given out of order, the middle one digitised backwards:
    # 700 m run left to right, so K0+000 is at x = 0.
    lines = [
        LineString([(600, 0), (1000, 0)]),
        LineString([(300, 0), (0, 0)]),
        LineString([(300, 0), (450, 5), (600, 0)]),
    ]
    middle = 2 * float(np.hypot(150, 5))
    route = assemble_route(lines, [1, 2, 3])
    assert _spans(route) == [
        (2, 0, 0.0, 300.0),
        (3, 0, 300.0, round(300 + middle, 3)),
        (1, 0, round(300 + middle, 3), round(700 + middle, 3)),
    ]
    assert (route.parts, route.gaps, route.gap_m) == (1, 0, 0.0)
    assert route.length_m == pytest.approx(700 + middle) and route.end_m == pytest.approx(
        700 + middle
    )
    # every segment runs with increasing chainage: the reversed piece is turned round
    assert route.segments[0].geometry.coords[0] == (0.0, 0.0)
    assert all(
        a.geometry.coords[-1] == b.geometry.coords[0]
        for a, b in zip(route.segments[:-1], route.segments[1:], strict=True)
    )


def test_most_length_digitised_backwards_puts_k0_at_the_other_end() -> None:
    lines = [LineString([(1000, 0), (200, 0)]), LineString([(0, 0), (200, 0)])]
    route = assemble_route(lines, [1, 2])
    assert _spans(route) == [(1, 0, 0.0, 800.0), (2, 0, 800.0, 1000.0)]
    assert route.segments[1].geometry.coords[0] == (200.0, 0.0)


def test_a_gap_is_bridged_by_its_straight_line_length() -> None:
    lines = [LineString([(0, 0), (300, 0)]), LineString([(360, 80), (1000, 80)])]
    gap = 100.0  # (300, 0) to (360, 80)
    route = assemble_route(lines, [1, 2])
    assert (route.gaps, route.parts) == (1, 1)
    assert route.gap_m == pytest.approx(gap)
    assert route.length_m == pytest.approx(300 + 640)
    assert route.end_m == pytest.approx(300 + gap + 640)
    assert _spans(route) == [(1, 0, 0.0, 300.0), (2, 0, 400.0, 1040.0)]


def test_ends_closer_than_the_tolerance_join_without_a_gap() -> None:
    lines = [LineString([(0, 0), (100, 0)]), LineString([(100.3, 0), (200, 0)])]
    route = assemble_route(lines, [1, 2], tol=0.5)
    assert route.gaps == 0 and route.end_m == pytest.approx(100 + 99.7)
    wide = assemble_route(lines, [1, 2], tol=0.1)
    assert wide.gaps == 1 and wide.gap_m == pytest.approx(0.3)


def test_a_branch_leaving_mid_piece_is_its_own_part_measured_from_the_junction() -> None:
    main = LineString([(0, 0), (1000, 0)])
    spur = LineString([(400, 0), (400, 300)])
    route = assemble_route([main, spur], [1, 2])
    # the main piece is cut where the spur leaves; the spur starts at K0+400
    assert _spans(route) == [(1, 0, 0.0, 400.0), (1, 0, 400.0, 1000.0), (2, 1, 400.0, 700.0)]
    assert (route.parts, route.gaps) == (2, 0)
    assert route.length_m == pytest.approx(1300) and route.end_m == pytest.approx(1000)


def test_a_loop_closing_piece_is_its_own_part() -> None:
    ring = [(0, 0), (400, 0), (400, 400), (0, 400), (0, 0)]
    lines = [LineString(ring[i : i + 2]) for i in range(4)]
    route = assemble_route(lines, [1, 2, 3, 4])
    assert route.parts == 2 and route.gaps == 0
    assert route.length_m == pytest.approx(1600) and route.end_m == pytest.approx(1200)
    assert sorted(s.part for s in route.segments) == [0, 0, 0, 1]


# ----------------------------------------------------------------------------- all routes
def test_build_routes_gives_one_row_per_route_and_refuses_lon_lat() -> None:
    pieces = [
        ("X2", LineString([(0, 0), (500, 0)])),
        ("X1", LineString([(0, 10), (0, 310)])),
        ("X2", LineString([(500, 0), (800, 0)])),
        ("X2", LineString([(900, 0), (1000, 0)])),
    ]
    roads, segs = build_routes(route_frame(pieces))
    assert roads["code"].tolist() == ["X1", "X2"]
    x2 = roads.set_index("code").loc["X2"]
    assert x2["length_m"] == pytest.approx(900) and x2["end_m"] == pytest.approx(1000)
    assert (x2["gaps"], bool(x2["has_gap"]), bool(x2["has_branch"])) == (1, True, False)
    assert segs.loc[segs["code"] == "X2", ["row", "from_m", "to_m"]].values.tolist() == [
        [1, 0, 500],
        [3, 500, 800],
        [4, 900, 1000],
    ]
    assert segs.crs.to_epsg() == 4546
    with pytest.raises(ValueError, match="projected"):
        build_routes(route_frame(pieces, crs="EPSG:4490"))


def test_fingerprints_made_in_a_forked_child_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from hazards import offload

    if not offload.can_fork():
        pytest.skip("no fork here now (one core, or another thread running)")
    rng = np.random.default_rng(4)
    pieces = [
        (f"X{k % 7}", LineString(rng.uniform(0, 5000, size=(4, 2)).tolist())) for k in range(60)
    ]
    here, _ = build_routes(route_frame(pieces))
    jobs: list[offload.Offloaded] = []

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        jobs.append(offload.offload(*args, **kwargs))
        return jobs[-1]

    monkeypatch.setattr(assembly_mod, "CHECKSUMS_APART_MIN", 1)  # forked from one line on
    monkeypatch.setattr(assembly_mod, "offload", watched)
    apart, _ = build_routes(route_frame(pieces))
    assert [j.forked for j in jobs] == [True]
    assert apart["checksum"].tolist() == here["checksum"].tolist()
    expected = route_checksums(route_frame(pieces))
    assert apart["checksum"].tolist() == [expected[c] for c in apart["code"]]


# ----------------------------------------------------------------------------- the vectorised path
def _metric_features(pieces: list[tuple[str, LineString]], *, seed: int = 0) -> gpd.GeoDataFrame:
    """Validated-looking features (EPSG:4546) from (code, line) pairs, in a shuffled row order."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pieces))
    codes = [pieces[i][0] for i in order]
    return gpd.GeoDataFrame(
        {
            "row": np.arange(1, len(pieces) + 1),
            "code": codes,
            "name": [f"{c} road" for c in codes],
            "road_class": "township",
            "township": [f"town {int(i) % 3}" for i in order],
            "unassigned": False,
        },
        geometry=gpd.GeoSeries([pieces[i][1] for i in order], crs="EPSG:4546"),
    )


def _walk(rng: np.random.Generator, start: tuple[float, float], n: int) -> np.ndarray:
    heading = np.cumsum(rng.normal(0, 0.25, n)) + rng.uniform(0, 2 * np.pi)
    step = rng.uniform(10.0, 30.0, (n, 1))
    xy = np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]) * step, axis=0)
    return np.vstack([[0.0, 0.0], xy]) + start


def _cut(
    code: str, xy: np.ndarray, at: list[int], rng: np.random.Generator, flip: float = 0.4
) -> list[tuple[str, LineString]]:
    marks = [0, *sorted(set(at)), len(xy) - 1]
    out = []
    for a, b in zip(marks[:-1], marks[1:], strict=True):
        part = xy[a : b + 1]
        out.append((code, LineString(part[::-1] if rng.random() < flip else part)))
    return out


def _assert_same_assembly(features: gpd.GeoDataFrame) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    fast_roads, fast_segs = build_routes(features)
    slow_roads, slow_segs = build_routes(features, fast=False)  # assemble_route for every route
    pd.testing.assert_frame_equal(fast_roads, slow_roads, check_exact=False, rtol=0, atol=1e-6)
    for c in ("code", "seq", "part", "row", "township"):
        assert fast_segs[c].tolist() == slow_segs[c].tolist(), c
    for c in ("from_m", "to_m", "length_m"):
        np.testing.assert_allclose(fast_segs[c], slow_segs[c], rtol=0, atol=1e-6, err_msg=c)
    assert (
        shapely.to_wkb(fast_segs.geometry.array) == shapely.to_wkb(slow_segs.geometry.array)
    ).all()
    return fast_roads, fast_segs


def test_fast_assembly_equals_assemble_route_on_the_sample_county() -> None:
    from hazards.roads import read_road_file, validate_features

    raw = read_road_file(Path(__file__).parents[1] / "gis_data" / "sample" / "county_roads.gpkg")
    roads, _ = _assert_same_assembly(validate_features(raw).gdf)
    assert roads["has_branch"].any() and roads["has_gap"].any()


@pytest.mark.parametrize("seed", range(6))
def test_fast_assembly_equals_assemble_route_on_random_routes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pieces: list[tuple[str, LineString]] = []
    for k in range(40):  # simple chains: 1-12 pieces, some digitised backwards, rows shuffled
        xy = _walk(rng, (500_000.0 + 3_000 * k, 3_100_000.0), int(rng.integers(20, 90)))
        n_cuts = int(rng.integers(0, 12))
        pieces += _cut(f"S{k:03d}", xy, rng.integers(1, len(xy) - 1, n_cuts).tolist(), rng)
    base = (400_000.0, 3_000_000.0)
    xy = _walk(rng, base, 60)
    # a loop (the last piece ends where the first starts)
    ring = np.array([[0, 0], [400, 0], [400, 400], [0, 400], [0, 0]]) + base
    pieces += _cut("L001", ring, [1, 2, 3], rng)
    # a gap wider than the tolerance, and one narrower (ends 0.3 m apart: no gap)
    pieces += _cut("G001", xy[:25], [], rng) + _cut("G001", xy[30:], [10], rng)
    near = xy.copy() + [0, 10_000]
    pieces += [("G002", LineString(near[:20])), ("G002", LineString(near[19:] + [0.3, 0]))]
    # a branch leaving mid-piece, and a spur whose loose end touches its own route
    other = _walk(rng, tuple(xy[15] + [0, 20_000]), 10)
    pieces += _cut("B001", xy + [0, 20_000], [40], rng) + [("B001", LineString(other))]
    hook = np.vstack([xy[:40], xy[10:11] + [0.2, 0.2]]) + [0, 30_000]
    pieces += _cut("H001", hook, [20], rng, flip=0.0)
    # two pieces of equal length, one reversed: a tie in the majority direction
    pieces += [("T001", LineString([(0, 0), (100, 0)])), ("T001", LineString([(200, 0), (100, 0)]))]
    # two separate chains under one code, and a piece with its ends together
    pieces += _cut("D001", xy[:20] + [0, 40_000], [8], rng) + _cut(
        "D001", xy[40:] + [0, 40_000], [5], rng
    )
    pieces += [("R001", LineString([(0, 0), (50, 0), (50, 50), (0, 0.1)]))]
    features = _metric_features(pieces, seed=seed)
    roads, segs = _assert_same_assembly(features)
    order, route, start, _codes = route_groups(features["code"].to_numpy(dtype=object))
    lines = np.asarray(features.geometry.array, dtype=object)[order]
    chains = _assemble_chains(lines, shapely.length(lines), route, start, tol=0.5)
    simple = dict(zip(roads["code"], chains.simple, strict=True))
    # the common case takes the fast path, also when ends are apart by less than the tolerance
    assert all(simple[f"S{k:03d}"] for k in range(40)) and simple["G002"] and simple["R001"]
    assert [c for c in ("L001", "G001", "B001", "H001", "T001", "D001") if simple[c]] == []
    chain = segs[segs["code"].map(simple)]
    for _code, g in chain.groupby("code"):  # end to end from K0+000
        assert (
            g["from_m"].iloc[0] == 0
            and (g["from_m"].to_numpy()[1:] == g["to_m"].to_numpy()[:-1]).all()
        )


# ----------------------------------------------------------------------------- the gap limit
def test_pieces_farther_than_max_gap_are_sections_with_their_own_chainage() -> None:
    a = LineString([(0, 0), (3000, 0)])
    b = LineString([(13_000, 0), (15_000, 0)])  # 10 km beyond a's end
    c = LineString([(3500, 0), (4000, 0)])  # 500 m beyond a's end: bridged
    route = assemble_route([b, a, c], [1, 2, 3], max_gap=2000)
    assert route.sections == 2 and route.gaps == 1 and route.gap_m == pytest.approx(500)
    by_row = {s.row: s for s in route.segments}
    assert by_row[2].section == by_row[3].section == 0  # the longer section (3.5 km) first
    assert by_row[1].section == 1 and by_row[1].from_m == 0 and by_row[1].to_m == 2000
    assert by_row[3].to_m == pytest.approx(4000)  # 3 km + the 500 m gap + 500 m
    assert route.end_m == pytest.approx(4000)
    (brk,) = route.breaks
    assert brk["length_m"] == pytest.approx(9000)
    assert [(e["section"], e["chainage_m"], e["xy"]) for e in brk["ends"]] == [
        (0, pytest.approx(4000), (4000.0, 0.0)),
        (1, 0.0, (13_000.0, 0.0)),
    ]
    unlimited = assemble_route([b, a, c], [1, 2, 3])
    assert unlimited.sections == 1 and unlimited.gap_m == pytest.approx(9500)


def test_both_paths_agree_with_a_gap_limit() -> None:
    rng = np.random.default_rng(7)
    xy = _walk(rng, (500_000.0, 3_100_000.0), 80)
    pieces = _cut("A001", xy[:30], [10], rng) + _cut("A001", xy[30:] + [0, 5_000], [20], rng)
    pieces += _cut("A002", xy + [0, 20_000], [10, 40], rng)  # a simple chain
    pieces += [
        ("A003", LineString(xy[:20] + [0, 40_000])),
        ("A003", LineString(xy[25:] + [0, 40_000])),
    ]
    features = gpd.GeoDataFrame(
        {
            "row": np.arange(1, len(pieces) + 1),
            "code": [c for c, _ in pieces],
            "name": None,
            "road_class": "county",
            "township": None,
            "unassigned": False,
        },
        geometry=[g for _, g in pieces],
        crs=4546,
    )
    fast_roads, fast_segs = build_routes(features, max_gap=2000)
    slow_roads, slow_segs = build_routes(features, fast=False, max_gap=2000)
    pd.testing.assert_frame_equal(fast_roads, slow_roads, check_exact=False, rtol=0, atol=1e-6)
    for c in ("code", "seq", "part", "section", "row"):
        assert fast_segs[c].tolist() == slow_segs[c].tolist(), c
    np.testing.assert_allclose(fast_segs["from_m"], slow_segs["from_m"], atol=1e-6)
    sections = dict(zip(fast_roads["code"], fast_roads["sections"], strict=True))
    assert sections == {"A001": 2, "A002": 1, "A003": 1}
    assert fast_segs.groupby("code")["section"].max().to_dict() == {"A001": 1, "A002": 0, "A003": 0}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_route_modes_equal_a_groupby_count(seed: int) -> None:
    """Each route's most common value (the smallest on a tie, missing values not counted), as
    the array count of ``_modes`` gives it, equals pandas' groupby → size → sort."""
    rng = np.random.default_rng(seed)
    n = 400
    codes = np.array([f"X{k:03d}" for k in rng.integers(0, 60, n)], dtype=object)
    words = np.array(["甲镇", "乙乡", "B", "a", "", "丙镇"], dtype=object)
    values = words[rng.integers(0, len(words), n)]
    values[rng.random(n) < 0.2] = None
    values[codes == "X000"] = None  # a route with no value at all
    frame = pd.DataFrame({"code": codes, "v": values})
    counts = frame.dropna(subset=["v"]).groupby(["code", "v"]).size().reset_index(name="n")
    counts = counts.sort_values(["code", "n", "v"], ascending=[True, False, True])
    want = dict(counts.drop_duplicates("code")[["code", "v"]].itertuples(index=False, name=None))
    order, route, _start, uniques = route_groups(codes)
    got = _modes(values[order], route, len(uniques))
    assert got.tolist() == [want.get(c) for c in uniques]
