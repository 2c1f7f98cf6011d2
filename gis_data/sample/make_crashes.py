"""Generate a synthetic police crash sheet for the sample county (issue 17).

Reads county_roads.gpkg and treated_sites.json (the sites the demo treats), and writes
county_crashes.csv (GBK, CRLF, Chinese headers as a traffic-police brigade exports them) and
crashes_expected.json (what is in it). Three years, 2022-07-01 to 2025-06-30: a background of
crashes along every route (county roads more than township roads, falling 5 % a year), four
planted black spots (事故多发点段: dense clusters on chosen routes), crashes at the demo's
treated sites that fall after their completion, and a few damaged rows. Output depends only on
SEED; see README.md.

    python gis_data/sample/make_crashes.py                 # write the sheet
    python gis_data/sample/make_crashes.py --treated-from-db   # refresh treated_sites.json
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_survey import chainage_text, merged_line  # noqa: E402

Rng = np.random.Generator
SEED = 20250701
ROADS, CSV_OUT = HERE / "county_roads.gpkg", HERE / "county_crashes.csv"
TREATED, EXPECTED = HERE / "treated_sites.json", HERE / "crashes_expected.json"
TO_LONLAT = Transformer.from_crs("EPSG:4546", "EPSG:4490", always_xy=True)
TO_GK = Transformer.from_crs("EPSG:4490", "EPSG:4546", always_xy=True)
START, END = dt.date(2022, 7, 1), dt.date(2025, 6, 30)
COMPLETED = dt.date(2024, 6, 30)  # the demo's batch 1 completion (hazards/demo.py)
HEADER = (  # noqa: SIM905
    "事故编号,年,月,日,时,分,乡镇,路线编码,桩号,经度,纬度,死亡人数,受伤人数,重伤人数,"
    "事故形态,天气,照明条件"
).split(",")
RATE_PER_KM_YEAR = {"县道": 0.25, "乡道": 0.10}
TREND = (1.0, 0.95, 0.90)  # background rate in each year from July, relative to the first
BLACK_SPOTS = (26, 22, 20, 18)  # crashes planted in each, within SPOT_M of road
SPOT_M = 300.0
TREATED_RATE = (2.4, 0.7)  # crashes a year at a treated site, before and after completion
TREATED_M = 50.0  # treated-site crashes lie within this distance (along the road) of the site
CRASH_TYPES = {"追尾": 0.22, "侧面碰撞": 0.20, "正面碰撞": 0.12, "刮擦": 0.14,
               "刮撞行人": 0.09, "单车事故": 0.13, "翻车": 0.05, "碰撞固定物": 0.05}
WEATHER = {"晴": 0.55, "阴": 0.22, "雨": 0.18, "雾": 0.04, "雪": 0.01}


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(x, y)
    return round(float(lon), 6), round(float(lat), 6)


def routes() -> dict[str, dict]:
    """Each route's pieces, merged line (None for a gap or branch route), class, township."""
    roads = gpd.read_file(ROADS, layer="roads", engine="pyogrio")
    roads = roads[roads["路线编码"] != ""]
    out = {}
    for code, g in roads.groupby("路线编码", sort=True):
        pieces = list(g.geometry)
        out[str(code)] = {
            "pieces": pieces,
            "line": merged_line(pieces),
            "class": str(g["行政等级"].iloc[0]),
            "township": str(g["乡镇"].iloc[0]),
            "length": float(sum(p.length for p in pieces)),
        }
    return out


def point_on(route: dict, rng: Rng, at: float | None = None) -> tuple[float, float, float | None]:
    """A point on the route (x, y in EPSG:4546) and its chainage on the merged line (None on a
    gap or branch route), moved up to 6 m sideways as a police GPS reading is."""
    line = route["line"]
    if line is None:  # a piece chosen by length, no chainage
        lengths = np.array([p.length for p in route["pieces"]])
        piece = route["pieces"][int(rng.choice(len(lengths), p=lengths / lengths.sum()))]
        p, ch = piece.interpolate(rng.uniform(0, piece.length)), None
    else:
        ch = float(rng.uniform(5, line.length - 5) if at is None else np.clip(at, 1, line.length - 1))
        p = line.interpolate(ch)
    angle, off = rng.uniform(0, 2 * np.pi), rng.uniform(0, 6)
    return p.x + off * np.cos(angle), p.y + off * np.sin(angle), ch


def draw_day(rng: Rng, lo: dt.date, hi: dt.date, trend: bool) -> dt.date:
    while True:
        day = lo + dt.timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))
        year = min(2, (day - START).days // 365)
        if not trend or rng.random() < TREND[year]:
            return day


def what(rng: Rng, severe: float) -> dict[str, str]:
    """Casualties, type, weather, light and time for a crash; ``severe`` scales the share of
    fatal and serious-injury crashes."""
    u = rng.random()
    if u < 0.04 * severe:
        dead, hurt, serious = int(rng.integers(1, 3)), int(rng.integers(0, 3)), 0
    elif u < 0.12 * severe:
        dead, serious = 0, int(rng.integers(1, 3))
        hurt = serious + int(rng.integers(0, 2))
    elif u < 0.50:
        dead, hurt, serious = 0, int(rng.integers(1, 4)), 0
    else:
        dead = hurt = serious = 0
    hour = int(rng.choice(24, p=HOURS))
    light = "白天" if 7 <= hour < 18 else ("黎明/黄昏" if hour in (6, 18) else str(
        rng.choice(["夜间有路灯照明", "夜间无路灯照明"], p=[0.3, 0.7])))
    return {
        "时": str(hour), "分": str(int(rng.integers(0, 60))),
        "死亡人数": str(dead), "受伤人数": str(hurt), "重伤人数": str(serious),
        "事故形态": str(rng.choice(list(CRASH_TYPES), p=list(CRASH_TYPES.values()))),
        "天气": str(rng.choice(list(WEATHER), p=list(WEATHER.values()))),
        "照明条件": light,
    }


_H = np.array([1, 1, 1, 1, 1, 2, 3, 6, 8, 6, 5, 5, 6, 5, 5, 6, 7, 9, 8, 6, 4, 3, 2, 1], float)
HOURS = _H / _H.sum()


def crash(rng: Rng, code: str, route: dict, kind: str, day: dt.date, xy_ch, severe=1.0) -> dict:
    x, y, ch = xy_ch
    cells = {"年": str(day.year), "月": str(day.month), "日": str(day.day), "乡镇": route["township"],
             "路线编码": "", "桩号": "", "经度": "", "纬度": ""}
    cells |= what(rng, severe)
    u = rng.random()
    lon, lat = lonlat(x, y)
    if ch is not None and u < 0.15:  # located by route and 桩号 only
        cells |= {"路线编码": code, "桩号": chainage_text(ch)}
    elif ch is not None and u < 0.35:  # both
        cells |= {"路线编码": code, "桩号": chainage_text(ch), "经度": f"{lon:.6f}", "纬度": f"{lat:.6f}"}
    else:
        cells |= {"经度": f"{lon:.6f}", "纬度": f"{lat:.6f}"}
    return {"cells": cells, "day": day, "route": code, "ch": ch, "kind": kind}


def generate(rng: Rng) -> tuple[list[dict], dict]:
    net = routes()
    treated = json.loads(TREATED.read_text(encoding="utf-8"))["sites"]
    rows: list[dict] = []
    years = (END - START).days / 365.25
    # background
    for code, r in net.items():
        n = int(rng.poisson(RATE_PER_KM_YEAR[r["class"]] * r["length"] / 1000 * years * 0.95))
        for _ in range(n):
            rows.append(crash(rng, code, r, "background", draw_day(rng, START, END, True),
                              point_on(r, rng)))
    # black spots: on simple routes of 4 km or more with no treated site
    taken = {s["route"] for s in treated}
    simple = [c for c, r in net.items() if r["line"] is not None and r["length"] > 4000
              and c not in taken]
    county = [c for c in simple if c.startswith("X")]
    town = [c for c in simple if c.startswith("Y")]
    chosen = [*rng.choice(county, 2, replace=False), *rng.choice(town, 2, replace=False)]
    spots = []
    for code, n in zip(chosen, BLACK_SPOTS, strict=True):
        r = net[str(code)]
        start = float(rng.uniform(400, r["line"].length - 400 - SPOT_M))
        spots.append({"route": str(code), "from_m": round(start, 1),
                      "to_m": round(start + SPOT_M, 1), "crashes": n})
        for _ in range(n):
            at = start + float(rng.uniform(0, SPOT_M))
            rows.append(crash(rng, str(code), r, "black_spot", draw_day(rng, START, END, False),
                              point_on(r, rng, at), severe=2.0))
    # treated sites: before and after the demo's completion
    before = after = 0
    for s in treated:
        r = net[s["route"]]
        x, y = TO_GK.transform(s["lon"], s["lat"])
        at = r["line"].project(shapely.Point(x, y))
        spans = ((START, COMPLETED, TREATED_RATE[0]),
                 (COMPLETED + dt.timedelta(days=1), END, TREATED_RATE[1]))
        for k, (lo, hi, rate) in enumerate(spans):
            for _ in range(int(rng.poisson(rate * ((hi - lo).days + 1) / 365.25))):
                day = draw_day(rng, lo, hi, False)
                off = float(rng.uniform(-TREATED_M, TREATED_M))
                rows.append(crash(rng, s["route"], r, "treated", day, point_on(r, rng, at + off)))
                if k == 1:
                    after += 1
                elif day > COMPLETED - dt.timedelta(days=365):
                    before += 1
    rows.sort(key=lambda row: (row["day"], int(row["cells"]["时"]), int(row["cells"]["分"])))
    defects = damage(rng, rows, net)
    per_year: dict[int, int] = {}
    for k, row in enumerate(rows, start=1):
        row["cells"]["事故编号"] = f"4309812{row['day'].year}{k:05d}"
    for row in rows:
        per_year[row["day"].year] = per_year.get(row["day"].year, 0) + 1
    truth = {
        "rows": len(rows),
        "period": [START.isoformat(), END.isoformat()],
        "kinds": {k: sum(r["kind"] == k for r in rows) for k in
                  ("background", "black_spot", "treated")},
        "black_spots": spots,
        "treated": {"sites": len(treated), "completed_on": COMPLETED.isoformat(),
                    "year_before": before, "year_after": after},
        "defects": {k: [rows[i]["cells"]["事故编号"] for i in v] for k, v in defects.items()},
    }
    return rows, truth


def damage(rng: Rng, rows: list[dict], net: dict) -> dict[str, list[int]]:
    """A few rows damaged the way real sheets are: no date, a date that does not exist, no
    location, latitude and longitude swapped, a point recorded far from any road (kept,
    unattached). Returns the row positions of each kind."""
    roads = shapely.union_all([p for r in net.values() for p in r["pieces"]])
    plain = [i for i, r in enumerate(rows) if r["kind"] == "background" and r["cells"]["经度"]
             and not r["cells"]["路线编码"]]
    picks = iter(rng.choice(plain, 9, replace=False).tolist())
    out: dict[str, list[int]] = {"no_date": [], "bad_date": [], "no_location": [],
                                 "swapped": [], "off_road": []}
    for kind, n in (("no_date", 1), ("bad_date", 1), ("no_location", 1), ("swapped", 2),
                    ("off_road", 4)):
        for _ in range(n):
            i = next(picks)
            c = rows[i]["cells"]
            out[kind].append(i)
            rows[i]["kind"] = kind
            if kind == "no_date":
                c["年"] = c["月"] = c["日"] = ""
            elif kind == "bad_date":
                c["月"], c["日"] = "2", "30"
            elif kind == "no_location":
                c["经度"] = c["纬度"] = ""
            elif kind == "swapped":
                c["经度"], c["纬度"] = c["纬度"], c["经度"]
            else:  # 150-400 m off the road, farther than 100 m from every road
                x, y = TO_GK.transform(float(c["经度"]), float(c["纬度"]))
                while True:
                    a, d = rng.uniform(0, 2 * np.pi), rng.uniform(150, 400)
                    p = shapely.Point(x + d * np.cos(a), y + d * np.sin(a))
                    if roads.distance(p) > 100:
                        break
                lon, lat = lonlat(p.x, p.y)
                c["经度"], c["纬度"] = f"{lon:.6f}", f"{lat:.6f}"
    return out


def write(rows: list[dict]) -> int:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    for row in rows:
        w.writerow([row["cells"].get(h, "") for h in HEADER])
    data = buf.getvalue().encode("gbk")
    CSV_OUT.write_bytes(data)
    return len(data)


def treated_from_db() -> None:
    """Write treated_sites.json from a database where the demo has run (HAZARDS_DATABASE_URL):
    the hazards of the demo plan's first batch that were finished and verified."""
    from sqlalchemy import text

    from hazards.db.session import get_engine

    sql = """
        SELECT h.public_id AS id, r.route_code AS route, round(h.chainage_m::numeric, 1) AS ch,
               round(ST_X(h.geom)::numeric, 6) AS lon, round(ST_Y(h.geom)::numeric, 6) AS lat
        FROM hazards h JOIN roads r ON r.id = h.road_id
        JOIN batch_items bi ON bi.hazard_id = h.id JOIN batches b ON b.id = bi.batch_id
        WHERE b.plan_name = 'demo-2025' AND b.seq = 1 AND h.status = 'verified'
        ORDER BY r.route_code, h.chainage_m
    """
    with get_engine().connect() as conn:
        sites = [
            {"id": r.id, "route": r.route, "chainage_m": float(r.ch), "lon": float(r.lon),
             "lat": float(r.lat)}
            for r in conn.execute(text(sql))
        ]
    note = ("The hazards the demo (hazards/demo.py) plans into batch 1, reports done on "
            f"{COMPLETED} and verifies; written by make_crashes.py --treated-from-db.")
    TREATED.write_text(json.dumps({"note": note, "sites": sites}, ensure_ascii=False, indent=1)
                       + "\n", encoding="utf-8")
    print(f"{len(sites)} treated sites -> {TREATED.name}")


def main() -> None:
    if "--treated-from-db" in sys.argv[1:]:
        treated_from_db()
        return
    rows, truth = generate(np.random.default_rng(SEED))
    size = write(rows)
    EXPECTED.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{truth['rows']} rows, {truth['period'][0]} to {truth['period'][1]} -> "
          f"{CSV_OUT.name} ({size:,} bytes, GBK, CRLF)")
    for k, v in truth["kinds"].items():
        print(f"  {k}: {v}")
    for s in truth["black_spots"]:
        print(f"  black spot {s['route']} {chainage_text(s['from_m'])}-{chainage_text(s['to_m'])}:"
              f" {s['crashes']} crashes")
    t = truth["treated"]
    print(f"  treated sites {t['sites']} (completed {t['completed_on']}): "
          f"{t['year_before']} crashes in the year before, {t['year_after']} in the year after")
    for k, v in truth["defects"].items():
        print(f"  defect {k}: {len(v)}")


if __name__ == "__main__":
    main()
