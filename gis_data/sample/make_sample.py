"""Generate the synthetic sample county road network: county_roads.gpkg and expected.json.

Random walks in CGCS2000 lon/lat, cut to exact GRS80 geodesic lengths, split the way counties
deliver roads, written in EPSG:4546. Output depends only on SEED; see README.md.
"""

from __future__ import annotations

import json
import math
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
from pyproj import Geod
from shapely.geometry import LineString

Rng = np.random.Generator
Coords = np.ndarray  # (n, 2) lon/lat vertices
Point = tuple[float, float]

SEED = 20250123
HERE = Path(__file__).resolve().parent
GPKG, EXPECTED, LAYER = HERE / "county_roads.gpkg", HERE / "expected.json", "roads"
SRC_CRS, OUT_CRS = "EPSG:4490", "EPSG:4546"  # CGCS2000 lon/lat -> 3-degree GK CM 111E
BOX_MIN, BOX_MAX = np.array([112.15, 28.65]), np.array([112.65, 29.05])  # county box, lon/lat
INNER = 0.02  # degrees kept clear of the box edge when choosing where routes start and end
GEOD = Geod(ellps="GRS80")  # CGCS2000 uses the GRS80 ellipsoid
R_EARTH = 6_371_000.0  # only for stepping the walk; all lengths are measured with GEOD
FIELDS = ("路线编码", "路线名称", "行政等级", "乡镇", "长度")
VILLAGE = "村道"
# prefix: (行政等级, routes, total metres, shortest, longest, highest code number)
CLASSES = {
    "X": ("县道", 29, 261_000.0, 3_000.0, 20_000.0, 35),
    "Y": ("乡道", 111, 739_000.0, 2_000.0, 14_000.0, 130),
}
SPECIALS = {"X": ["gap"], "Y": ["gap", "branch"]}  # special cases, given to random long routes
# Township seats at illustrative (not surveyed) positions, used for 乡镇 and route names.
TOWNSHIPS = {
    "琼湖街道": (112.36, 28.84),
    "南大膳镇": (112.25, 28.79),
    "黄茅洲镇": (112.46, 28.76),
    "草尾镇": (112.27, 28.98),
    "阳罗洲镇": (112.42, 28.97),
    "四季红镇": (112.33, 28.91),
    "泗湖山镇": (112.54, 28.93),
    "共华镇": (112.21, 28.89),
    "新湾镇": (112.49, 28.86),
    "南嘴镇": (112.58, 28.73),
    "茶盘洲镇": (112.56, 29.01),
    "庆云山乡": (112.30, 28.70),
}
SHORT = {t: t.removesuffix("街道").removesuffix("镇").removesuffix("乡") for t in TOWNSHIPS}
PLACES = (  # noqa: SIM905 (as a list literal this would take 30 lines)
    "东湖 新河 白沙 金盆 同庆 保安 赤山 万子湖 胭包山 漉湖 熊家嘴 大东口 新生 永兴 三码头 "
    "胜利 红星 东风 太平 长春 八形汊 洞庭 联合 和平 光明 五星 兴隆 民主 团结 安乐"
).split()


def target_lengths(rng: Rng, n: int, total: float, lo: float, hi: float) -> np.ndarray:
    """n varied lengths in about [lo, hi] that sum exactly to total."""
    excess = (hi - lo) * rng.beta(1.5, 2.5, n)
    for _ in range(20):  # scale the part above lo, clip at hi, repeat until it settles
        excess = np.minimum(excess * (total - n * lo) / excess.sum(), hi - lo)
    lengths = lo + excess * (total - n * lo) / excess.sum()
    lengths[-1] = total - lengths[:-1].sum()
    return lengths


def cumulative(coords: Coords) -> np.ndarray:
    """Geodesic distance (m) from the first vertex to each vertex."""
    _, _, seg = GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    return np.concatenate([[0.0], np.cumsum(seg)])


def trim(coords: Coords, length: float, min_last: float = 5.0) -> Coords:
    """Cut the line at exactly `length` geodesic metres (its last segment >= min_last)."""
    cum = cumulative(coords)
    k = int(np.searchsorted(cum, length - min_last, side="right")) - 1
    (x0, y0), (x1, y1) = coords[k], coords[k + 1]
    az, _, _ = GEOD.inv(x0, y0, x1, y1)
    lon, lat, _ = GEOD.fwd(x0, y0, az, length - cum[k])
    return np.vstack([coords[: k + 1], [[lon, lat]]])


def walk(rng: Rng, start: Point, bearing: float, length: float) -> Coords:
    """Smooth random walk (steps 15-30 m) drifting around `bearing`, with occasional tight bends."""
    n = int(length * 1.03 / 22.5) + 10
    steps, noise, bend = rng.uniform(15.0, 30.0, n), rng.normal(0.0, 1.0, n), rng.random(n)
    lon, lat = start
    heading = target = math.radians(bearing)
    kappa, bend_left, bend_kappa = 0.0, 0, 0.0
    coords = [start]
    for s, e, b in zip(steps, noise, bend, strict=True):
        kappa = 0.97 * kappa + 0.00024 * e  # curvature (1/m): AR(1), std about 1/1000 m
        if bend_left == 0 and b < 1 / 350:  # a tight bend: radius 80-200 m for 4-10 steps
            bend_left = int(rng.integers(4, 11))
            bend_kappa = float(rng.choice([-1.0, 1.0]) / rng.uniform(80.0, 200.0))
        extra, bend_left = (bend_kappa, bend_left - 1) if bend_left else (0.0, 0)
        pull = math.remainder(target - heading, math.tau) / 1500.0  # back to the general bearing
        heading += s * (kappa + extra + pull)
        lat += math.degrees(s * math.cos(heading) / R_EARTH)
        lon += math.degrees(s * math.sin(heading) / (R_EARTH * math.cos(math.radians(lat))))
        coords.append((lon, lat))
    return np.array(coords)


def inside(coords: Coords, margin: float = 0.0) -> bool:
    """True if every vertex lies in the county box shrunk by margin degrees."""
    return bool(((coords > BOX_MIN + margin) & (coords < BOX_MAX - margin)).all())


def pick_start(rng: Rng, length: float) -> tuple[Point, float]:
    """A start point and bearing whose rough end point stays in the county."""
    while True:
        lon, lat = rng.uniform(BOX_MIN + INNER, BOX_MAX - INNER)
        bearing = float(rng.uniform(0.0, 360.0))
        end = GEOD.fwd(lon, lat, bearing, 0.9 * length)[:2]
        if inside(np.array([end]), INNER):
            return (float(lon), float(lat)), bearing


def alignment(
    rng: Rng, length: float, start: tuple[Point, float] | None = None, avoid: Coords | None = None
) -> Coords:
    """A simple in-county line of exactly `length` geodesic metres, from (point, bearing) if
    given, touching `avoid` only at its first vertex. Retries until valid."""
    while True:
        point, bearing = start or pick_start(rng, length)
        coords = trim(walk(rng, point, bearing, length), length)
        clear = avoid is None or not LineString(coords[1:]).intersects(LineString(avoid))
        if clear and inside(coords) and LineString(coords).is_simple:
            return coords


def split(rng: Rng, parts: list[Coords], n_pieces: int, keep: int = -1) -> list[Coords]:
    """Split parts into about n_pieces pieces at interior vertices, never at part 0's `keep`."""
    cuts: list[list[int]] = [[] for _ in parts]
    sizes = np.array([len(p) for p in parts], dtype=float)
    for _ in range(n_pieces - len(parts)):
        i = int(rng.choice(len(parts), p=sizes / sizes.sum()))
        for _ in range(50):  # pieces keep at least 10 vertices
            c = int(rng.integers(10, len(parts[i]) - 10))
            if (i, c) != (0, keep) and all(abs(c - o) >= 10 for o in cuts[i]):
                cuts[i].append(c)
                break
    pieces = []
    for part, cs in zip(parts, cuts, strict=True):
        pieces += [part[a : b + 1] for a, b in pairwise([0, *sorted(cs), len(part) - 1])]
    return pieces


def township(coords: Coords) -> str:
    """The township whose seat is nearest to the middle vertex."""
    lon, lat = coords[len(coords) // 2]
    return min(TOWNSHIPS, key=lambda t: math.hypot(TOWNSHIPS[t][0] - lon, TOWNSHIPS[t][1] - lat))


def route_name(rng: Rng, code: str, coords: Coords, used: set[str]) -> str:
    """A new name: 'X005 草尾至阳罗洲公路' for county roads, '琼湖—东湖' for township roads."""
    a, b = SHORT[township(coords[:2])], SHORT[township(coords[-2:])]
    while True:
        place = str(rng.choice(PLACES))
        if code.startswith("X"):
            name = f"{code} {a}至{b if b != a else place}公路"
        else:
            name = f"{SHORT[township(coords)]}—{place}"
        if name not in used:
            used.add(name)
            return name


def feature(code: str, name: str, cls: str, town: str, coords: Coords) -> dict:
    """One attribute row (长度: geodesic metres, 1 decimal) with its lon/lat LineString."""
    line = LineString(coords)
    values = (code, name, cls, town, round(GEOD.geometry_length(line), 1))
    return {**dict(zip(FIELDS, values, strict=True)), "geometry": line}


def gap_parts(rng: Rng, length: float) -> tuple[list[Coords], str]:
    """Two parts of one alignment with 80-300 m of it missing between them; they total `length`."""
    wanted = float(rng.uniform(100.0, 260.0))
    coords = alignment(rng, length + wanted + 40.0)
    cum = cumulative(coords)
    i0 = int(np.searchsorted(cum, rng.uniform(0.3, 0.7) * length))
    i1 = int(np.searchsorted(cum, cum[i0] + wanted))
    missing = cum[i1] - cum[i0]
    coords = trim(coords, length + missing)
    return [coords[: i0 + 1], coords[i1:]], f"{missing:.1f} m missing after {cum[i0] / 1000:.3f} km"


def branch_parts(rng: Rng, length: float) -> tuple[Coords, int, Coords, str]:
    """Main line, its junction vertex index, and a 300-800 m spur from it; they total `length`."""
    spur_len = float(rng.uniform(300.0, 800.0))
    main = alignment(rng, length - spur_len)
    j = int(rng.integers(len(main) // 4, 3 * len(main) // 4))
    az, _, _ = GEOD.inv(main[j, 0], main[j, 1], main[j + 1, 0], main[j + 1, 1])
    bearing = az + float(rng.choice([-1.0, 1.0]) * rng.uniform(60.0, 110.0))
    spur = alignment(rng, spur_len, ((main[j, 0], main[j, 1]), bearing), avoid=main)
    at = cumulative(main)[j] / 1000
    return main, j, spur, f"{spur_len:.1f} m spur leaving the main line at {at:.3f} km"


def make_route(
    rng: Rng, code: str, cls: str, length: float, special: str, used: set[str]
) -> tuple[list[dict], str]:
    """The features of one route (2-6, about a third reversed) and a note on its special case."""
    n_pieces, keep, spur, note = int(rng.integers(2, 7)), -1, None, ""
    if special == "gap":
        parts, note = gap_parts(rng, length)
    elif special == "branch":
        main, keep, spur, note = branch_parts(rng, length)
        parts, n_pieces = [main], min(n_pieces, 5)  # the spur is the sixth feature at most
    else:
        parts = [alignment(rng, length)]
    whole = np.vstack(parts)
    name, town = route_name(rng, code, whole, used), township(whole)
    pieces = [p[::-1] if rng.random() < 0.35 else p for p in split(rng, parts, n_pieces, keep)]
    if spur is not None:
        pieces.append(spur)  # kept in its own direction: it starts at the junction
    note = f"{special}: {note}" if special else ""
    return [feature(code, name, cls, town, p) for p in pieces], note


def build(rng: Rng) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """All features (shuffled, EPSG:4490) and the special-case notes by route code."""
    rows: list[dict] = []
    notes: dict[str, str] = {}
    used: set[str] = set()
    for prefix, (cls, n, total, lo, hi, top) in CLASSES.items():
        numbers = np.sort(rng.choice(np.arange(1, top + 1), n, replace=False))
        lengths = target_lengths(rng, n, total, lo, hi)
        chosen = rng.permutation(np.flatnonzero(lengths > 6_000.0))[: len(SPECIALS[prefix])]
        special_at = dict(zip(chosen.tolist(), SPECIALS[prefix], strict=True))
        for i, (num, length) in enumerate(zip(numbers, lengths, strict=True)):
            code = f"{prefix}{num:03d}"
            features, note = make_route(rng, code, cls, float(length), special_at.get(i, ""), used)
            rows += features
            if note:
                notes[code] = note
    for _ in range(3):  # unassigned village roads: empty route code, not in the totals
        coords = alignment(rng, float(rng.uniform(500.0, 2_000.0)))
        name = f"{rng.choice(PLACES)}村通组公路"
        rows.append(feature("", name, VILLAGE, township(coords), coords))
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=SRC_CRS)
    return gdf.iloc[rng.permutation(len(gdf))].reset_index(drop=True), notes


def summarise(gdf: gpd.GeoDataFrame, notes: dict[str, str]) -> dict:
    """expected.json content: routes and geodesic km per class, special cases, feature count."""
    km = gdf.geometry.apply(GEOD.geometry_length) / 1000.0
    cls, code = gdf["行政等级"], gdf["路线编码"]

    def stats(name: str) -> dict:
        return {"routes": code[cls == name].nunique(), "length_km": round(km[cls == name].sum(), 4)}

    return {
        "county": stats("县道"),
        "township": stats("乡道"),
        "unassigned_features": int((code == "").sum()),
        "unassigned_length_km": round(float(km[code == ""].sum()), 4),
        "gap_routes": sorted(c for c, n in notes.items() if n.startswith("gap")),
        "branch_routes": sorted(c for c, n in notes.items() if n.startswith("branch")),
        "features": len(gdf),
        "crs": OUT_CRS,
    }


def main() -> None:
    """Generate, write the GeoPackage and expected.json, print a summary."""
    gdf, notes = build(np.random.default_rng(SEED))
    expected = summarise(gdf, notes)
    GPKG.unlink(missing_ok=True)
    gdf.to_crs(OUT_CRS).to_file(GPKG, layer=LAYER, driver="GPKG", engine="pyogrio")
    EXPECTED.write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for cls in ("县道", "乡道", VILLAGE):
        sub = gdf[gdf["行政等级"] == cls]
        km = sub.geometry.apply(GEOD.geometry_length).sum() / 1000.0
        routes = f"{sub['路线编码'].nunique()} routes" if cls != VILLAGE else "no route code"
        print(f"{cls}: {routes}, {len(sub)} features, {km:.4f} km geodesic (GRS80)")
    print(f"features: {len(gdf)} -> {GPKG.name}, layer {LAYER!r}, {OUT_CRS}")
    for code, note in notes.items():
        print(f"special {code} {note}")


if __name__ == "__main__":
    main()
