"""Generate a synthetic third-party hazard survey of the sample township roads (乡道).

Reads county_roads.gpkg, places hazards at random whole-metre chainages along each Y route's
merged line (EPSG:4546), damages some rows the way real sheets are damaged, and writes
township_survey.csv (GBK, CRLF) and survey_expected.json. Output depends only on SEED; see
README.md.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point

Rng = np.random.Generator
SEED = 20250301
HERE = Path(__file__).resolve().parent
ROADS, CSV_OUT = HERE / "county_roads.gpkg", HERE / "township_survey.csv"
EXPECTED = HERE / "survey_expected.json"
TO_LONLAT = Transformer.from_crs("EPSG:4546", "EPSG:4490", always_xy=True)  # GK 111E -> lon/lat
HEADER = (  # noqa: SIM905 (a list literal would take 4 lines)
    "序号,路线编码,路线名称,乡镇,桩号,经度,纬度,隐患类型,隐患描述,风险等级,处置建议,"
    "估算金额(万元),长度(m),照片"
).split(",")
SPACING_M = 840.0  # mean distance between hazards along a route
# type: weight, linear?, descriptions ({L} length m, {n} 2-5, {h} 3-15, {p} 6-12) | measures
TYPES: dict[str, tuple[float, bool, str, str]] = {
    "临水临崖": (0.22, True, "临水路段未设护栏，长约{L}米|临崖一侧无防护，落差约{h}米", "增设波形护栏|增设混凝土护栏|增设示警桩"),
    "急弯": (0.18, False, "弯道半径小，未设警告标志|急弯处视线受阻，缺少凸面镜", "增设警告标志|增设线形诱导标|增设凸面镜"),
    "路侧险要": (0.10, True, "路侧深沟，落差约{h}米，长约{L}米|路侧为鱼塘，无防护设施", "增设波形护栏|增设示警桩"),
    "交叉口不规范": (0.10, False, "平交路口无让行标志|支路接入角度过小，视线不良", "增设让行标志|增设减速带|路口渠化改造"),
    "视距不良": (0.08, False, "弯道内侧植被遮挡视线|坡顶视距不足", "清除遮挡植被|增设凸面镜"),
    "陡坡": (0.07, False, "纵坡约{p}%，未设警告标志|陡坡接弯道，路面湿滑", "增设警告标志|增设减速带"),
    "连续急弯": (0.06, True, "连续{n}处急弯，长约{L}米|连续弯道无线形诱导设施", "增设线形诱导标|增设警告标志|施划标线"),
    "穿村过镇": (0.06, False, "穿村路段无减速设施，行人较多|村口无限速标志", "增设减速带|施划人行横道线|增设限速标志"),
    "标志标线缺失": (0.05, False, "路段标线磨损严重|未设警告标志", "施划标线|增设警告标志"),
    "连续下坡": (0.04, True, "连续下坡长约{L}米，未设警告标志|长下坡接急弯", "增设警告标志|施划减速标线"),
    "路面病害": (0.04, False, "路面坑槽{n}处|路面网裂、沉陷", "修补坑槽|处治裂缝"),
}
UNKNOWN_TYPES = {"树木遮挡": ("路侧树木遮挡视线", "修剪树木"), "边沟未加盖": ("边沟未加盖，深约{h}0厘米", "加盖边沟盖板")}
TIERS = (("一级", "二级", "三级"), ("I", "II", "III"), ("高", "中", "低"))
DEFECTS = {"off_road_reject": 11, "off_road_review": 9, "outside_network": 5,
           "exact_duplicates": 10, "near_duplicates": 5, "chainage_only": 30, "dms": 10,
           "swapped": 5, "unparsable": 5, "unknown_route": 3, "empty": 3}
BANDS = {"off_road_reject": (80.0, 300.0), "off_road_review": (20.0, 45.0),
         "outside_network": (3000.0, 8000.0)}  # metres from the true position / own route
OUTSIDE_M = 2500.0  # an outside_network point is farther than this from every road
GARBAGE = (("112.3x5", "28.8l2"), ("一百一十二度", "二十八度"), ("112..41", "28,87"),
           ("东经112", "北纬28"), ("#VALUE!", "#VALUE!"))
UNKNOWN_ROUTES = (("Y999", "南嘴—新垸"), ("Y135", "草尾—乐园"), ("Y210", "共华—大兴"))


@dataclass(eq=False)
class Row:
    """One sheet row: text cells (序号 and coordinates are set last) and its ground truth."""

    cells: dict[str, str]
    route: str = ""
    at: float | None = None  # true chainage from the merged line's start (m)
    xy: tuple[float, float] | None = None  # where the written coordinates point (EPSG:4546)
    coords: str = "decimal"  # decimal | dms | swapped | none (garbage goes straight into cells)
    defect: str = ""
    of: Row | None = None  # the original of a duplicate


def merged_line(pieces: list[LineString]) -> LineString | None:
    """The route as one line, running the way most of its length is digitised.

    That is where its stakes start (K0+000) under the rule in docs/roads.md. Routes that do
    not merge into one line (a gap or a branch) get None: their stake origin depends on how
    the parts are chained, so the survey leaves them out.
    """
    merged = shapely.line_merge(shapely.MultiLineString(pieces))
    if merged.geom_type != "LineString":
        return None
    aligned = sum(
        p.length for p in pieces
        if merged.project(shapely.Point(p.coords[0])) < merged.project(shapely.Point(p.coords[-1]))
    )
    return merged if aligned >= sum(p.length for p in pieces) / 2 else shapely.reverse(merged)


def chainage_text(metres: float) -> str:
    km, m = divmod(int(round(metres)), 1000)
    return f"K{km}+{m:03d}"


def dms(value: float) -> str:
    deg, rest = divmod(round(value * 36000), 36000)  # in tenths of a second
    minutes, tenths = divmod(rest, 600)
    return f"{deg}°{minutes:02d}'{tenths / 10:04.1f}\""


def photo_name(i: int) -> str:
    return f"IMG_202503{1 + i // 45:02d}_{i + 1:04d}.jpg"  # about 45 photos a survey day


def draw_chainages(rng: Rng, length: float) -> np.ndarray:
    """Sorted whole-metre chainages, at least 15 m apart and 10 m from the ends."""
    n = int(rng.poisson(length / SPACING_M))
    while True:
        at = np.sort(rng.integers(10, int(length) - 10, n))
        if n < 2 or np.diff(at).min() >= 15:
            return at


def cost_text(rng: Rng, linear: bool, length: int) -> str:
    """估算金额(万元): mostly a number 0.3-25; 2 % empty, 1 % each like "3.5万" and "约2"."""
    raw = length * rng.uniform(0.02, 0.05) if linear else rng.lognormal(0.5, 0.8)
    value, u = float(np.clip(raw, 0.3, 25.0)), rng.random()
    if u < 0.04:
        return ("", "", f"{value:.1f}万", f"约{round(value)}")[int(u / 0.01)]
    return f"{value:.2f}".rstrip("0").rstrip(".")


def hazard_cells(rng: Rng, kind: str, photo: str) -> dict[str, str]:
    """Type-dependent cells: description, risk level, measure, cost, length, photo."""
    if kind in TYPES:
        _, linear, texts, measures = TYPES[kind]
        text, measure = (str(rng.choice(t.split("|"))) for t in (texts, measures))
    else:
        (text, measure), linear = UNKNOWN_TYPES[kind], False
    length = int(rng.integers(30, 401)) if linear else 0
    text = text.format(L=length, n=rng.integers(2, 6), h=rng.integers(3, 16), p=rng.integers(6, 13))
    tier = int(rng.choice(3, p=[0.15, 0.35, 0.5]))
    notation = TIERS[int(rng.choice(3, p=[0.7, 0.2, 0.1]))]
    return {"隐患类型": kind, "隐患描述": text, "风险等级": notation[tier], "处置建议": measure,
            "估算金额(万元)": cost_text(rng, linear, length), "长度(m)": str(length or ""),
            "照片": photo}


def base_rows(rng: Rng, roads: gpd.GeoDataFrame, lines: dict[str, LineString]) -> list[Row]:
    """Hazards on every Y route in survey order (route code, then chainage); ~1 % odd types."""
    kinds = [*TYPES, *UNKNOWN_TYPES]
    weights = np.array([w for w, *_ in TYPES.values()] + [0.005] * len(UNKNOWN_TYPES))
    rows: list[Row] = []
    for code, line in lines.items():
        first = roads[roads["路线编码"] == code].iloc[0]
        for at in draw_chainages(rng, line.length):
            kind = str(rng.choice(kinds, p=weights / weights.sum()))
            p = line.interpolate(float(at))
            cells = {"路线编码": code, "路线名称": first["路线名称"], "乡镇": first["乡镇"],
                     "桩号": chainage_text(at), **hazard_cells(rng, kind, photo_name(len(rows)))}
            rows.append(Row(cells, code, float(at), (p.x, p.y)))
    return rows


def displace(rng: Rng, row: Row, kind: str, line: LineString, own: shapely.Geometry,
             others: shapely.Geometry, every: shapely.Geometry) -> bool:
    """Move the point into the defect's distance band (False if 40 tries do not fit)."""
    assert row.at is not None and row.xy is not None
    (lo, hi), (x, y) = BANDS[kind], row.xy
    for _ in range(40):
        d = rng.uniform(lo + 2, hi - 2)
        if kind == "outside_network":
            a = rng.uniform(0, 2 * np.pi)
            q = Point(x + d * np.cos(a), y + d * np.sin(a))
            ok = shapely.distance(q, every) > OUTSIDE_M
        else:  # square off the road, and nearer its own route than any other road
            p0, p1 = line.interpolate(row.at - 1), line.interpolate(row.at + 1)
            side = rng.choice([-1, 1]) * d / p0.distance(p1)
            q = Point(x - side * (p1.y - p0.y), y + side * (p1.x - p0.x))
            d_own = shapely.distance(q, own)
            ok = lo <= d_own <= hi and shapely.distance(q, others) > d_own + 20
        if ok:
            row.xy = (q.x, q.y)
            return True
    return False


def damage(rng: Rng, rows: list[Row], roads: gpd.GeoDataFrame,
           lines: dict[str, LineString]) -> list[Row]:
    """Give distinct random rows their defect, in place; return clean rows to duplicate."""
    every, code = roads.geometry.union_all(), roads["路线编码"]
    pool = [rows[i] for i in rng.permutation(len(rows)) if rows[i].cells["隐患类型"] in TYPES]
    for kind in ("off_road_reject", "off_road_review", "outside_network"):
        done = 0
        while done < DEFECTS[kind]:
            row = pool.pop()
            mine = code == row.route
            own, others = roads.geometry[mine].union_all(), roads.geometry[~mine].union_all()
            if displace(rng, row, kind, lines[row.route], own, others, every):
                row.defect, done = kind, done + 1
    for kind, mode in (("chainage_only", "none"), ("dms", "dms"), ("swapped", "swapped")):
        for row in (pool.pop() for _ in range(DEFECTS[kind])):
            row.defect, row.coords = kind, mode
    for lon, lat in GARBAGE[: DEFECTS["unparsable"]]:  # no usable coordinates, no chainage
        row = pool.pop()
        row.defect, row.coords = "unparsable", "none"
        row.cells.update({"经度": lon, "纬度": lat, "桩号": ""})
    return pool[-DEFECTS["exact_duplicates"] - DEFECTS["near_duplicates"]:]


def add_rows(rng: Rng, rows: list[Row], originals: list[Row], roads: gpd.GeoDataFrame,
             lines: dict[str, LineString]) -> list[Row]:
    """Insert duplicates (up to 60 rows after their original), unknown-route and empty rows."""
    extra: list[Row] = []
    for i, orig in enumerate(originals):
        if i < DEFECTS["exact_duplicates"]:
            extra.append(replace(orig, cells=dict(orig.cells), defect="exact_duplicates", of=orig))
            continue
        at = float(orig.at or 0) + float(rng.choice([-3, -2, 2, 3]))
        p = lines[orig.route].interpolate(at)
        cells = hazard_cells(rng, orig.cells["隐患类型"], photo_name(len(rows) + len(extra)))
        extra.append(Row({**orig.cells, **cells, "桩号": chainage_text(at)}, orig.route, at,
                         (p.x, p.y), defect="near_duplicates", of=orig))
    for code, name in UNKNOWN_ROUTES[: DEFECTS["unknown_route"]]:
        assert code not in set(roads["路线编码"]), code
        stake, kind = int(rng.integers(200, 6000)), str(rng.choice(list(TYPES)))
        town = str(rng.choice(roads["乡镇"].unique()))
        cells = {"路线编码": code, "路线名称": name, "乡镇": town, "桩号": chainage_text(stake),
                 **hazard_cells(rng, kind, photo_name(len(rows) + len(extra)))}
        extra.append(Row(cells, coords="none", defect="unknown_route"))
    extra += [Row({}, coords="none", defect="empty") for _ in range(DEFECTS["empty"])]
    out = list(rows)
    for row in extra:  # rows that are not duplicates go anywhere after row 5
        lo = next(i for i, r in enumerate(out) if r is row.of) + 1 if row.of else 5
        out.insert(int(rng.integers(lo, min(lo + 60, len(out)) + 1)), row)
    return out


def sheet(rows: list[Row]) -> list[list[str]]:
    """Final cells: 序号 = position (blank on the last empty row), coordinates per row."""
    xy = np.array([r.xy or (np.nan, np.nan) for r in rows])
    lon, lat = TO_LONLAT.transform(xy[:, 0], xy[:, 1])
    last_empty = [r for r in rows if r.defect == "empty"][-1]
    table = []
    for i, r in enumerate(rows):
        c = {**r.cells, "序号": "" if r is last_empty else str(i + 1)}
        if r.coords != "none":
            c["经度"], c["纬度"] = {"decimal": (f"{lon[i]:.6f}", f"{lat[i]:.6f}"),
                                   "swapped": (f"{lat[i]:.6f}", f"{lon[i]:.6f}"),
                                   "dms": (dms(lon[i]), dms(lat[i]))}[r.coords]
        table.append([c.get(h, "") for h in HEADER])
    return table


def expected(rows: list[Row], table: list[list[str]], lines: dict[str, LineString]) -> dict:
    """survey_expected.json: clean rows with their chainage, defect row ids, other truths."""
    ids = {id(r): str(i + 1) for i, r in enumerate(rows)}

    def where(r: Row) -> dict:
        return {"row": ids[id(r)], "route": r.route, "from_start_m": round(r.at or 0.0, 1),
                "route_length_m": round(lines[r.route].length, 2)}

    cost = [(ids[id(r)], t[11]) for r, t in zip(rows, table, strict=True) if r.cells]
    return {
        "rows": len(rows),
        "clean": [where(r) for r in rows if not r.defect],
        "defects": {k: [ids[id(r)] for r in rows if r.defect == k] for k in DEFECTS},
        "extra": {
            "duplicate_of": {ids[id(r)]: ids[id(r.of)] for r in rows if r.of},
            "defect_positions": [where(r) for r in rows if r.defect and r.at is not None],
            "unknown_category": [ids[id(r)] for r in rows if r.cells.get("隐患类型") in UNKNOWN_TYPES],
            "cost_unparsable": [i for i, v in cost if v and not v.replace(".", "", 1).isdigit()],
            "cost_empty": [i for i, v in cost if not v],
        },
    }


def compact_json(obj: dict) -> str:
    """Indented JSON with every flat list or object on one line."""
    def flat(m: re.Match[str]) -> str:
        return re.sub(r"(?<=[\[{])\s+|\s+(?=[\]}])", "", re.sub(r",\s+", ", ", m.group()))
    return re.sub(r"[\[{][^\[\]{}]*[\]}]", flat, json.dumps(obj, ensure_ascii=False, indent=1))


def main() -> None:
    """Generate, write the CSV and survey_expected.json, print a summary."""
    rng = np.random.default_rng(SEED)
    roads = gpd.read_file(ROADS, layer="roads", engine="pyogrio")
    codes = sorted(c for c in roads["路线编码"].unique() if c.startswith("Y"))
    merged = {c: merged_line(list(roads.geometry[roads["路线编码"] == c])) for c in codes}
    lines = {c: line for c, line in merged.items() if line is not None}
    rows = base_rows(rng, roads, lines)
    rows = add_rows(rng, rows, damage(rng, rows, roads, lines), roads, lines)
    table = sheet(rows)
    with CSV_OUT.open("w", encoding="gbk", newline="") as f:
        csv.writer(f).writerows([HEADER, *table])
    result = expected(rows, table, lines)
    EXPECTED.write_text(compact_json(result) + "\n", encoding="utf-8")
    print(f"{len(rows)} rows, {len(result['clean'])} clean, {len(lines)} routes -> {CSV_OUT.name} "
          f"({CSV_OUT.stat().st_size:,} bytes, GBK, CRLF)")
    for kind, row_ids in result["defects"].items():
        print(f"  {kind}: {len(row_ids)}")
    for kind in ("unknown_category", "cost_unparsable", "cost_empty"):
        print(f"  (not defects: {kind}: {len(result['extra'][kind])})")


if __name__ == "__main__":
    main()
