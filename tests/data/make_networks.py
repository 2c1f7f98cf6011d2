"""Write the small road networks of tests/test_networks.py into tests/data/ (issue 14).

Run from the repository root: ``.venv/bin/python tests/data/make_networks.py``. Lines are
built with pyproj's geodesic around 112.35E 28.85N (the sample county), or around
111.9W 43.5N for the US-style network; the tests compute their answers independently from
these files (geodesic lengths, segment townships), never from the loader.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import geopandas as gpd
from pyproj import Geod
from shapely.geometry import LineString

HERE = Path(__file__).resolve().parent
GEOD = Geod(ellps="GRS80")


def straight(lon: float, lat: float, az: float, metres: float, step: float = 100.0) -> LineString:
    """A geodesic line of ``metres`` from (lon, lat) at azimuth ``az``, a vertex every ``step``."""
    pts = [(lon, lat)]
    n = max(1, round(metres / step))
    for k in range(1, n + 1):
        x, y, _ = GEOD.fwd(lon, lat, az, metres * k / n)
        pts.append((x, y))
    return LineString(pts)


def _write(rows: list[dict], name: str, crs: int | str = 4490, **kw: object) -> None:
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4490).to_crs(crs)
    path = HERE / name
    if path.exists():
        path.unlink()
    gdf.to_file(path, engine="pyogrio", **kw)


def townships() -> None:
    """X101 through three townships (a piece each, 2, 3 and 1.5 km) and X102 through two;
    a survey of 6 hazards on them, one whose 乡镇 disagrees with the road under it."""
    a = straight(112.30, 28.80, 90, 6500)
    c = list(a.coords)
    x101 = [
        (LineString(c[:21]), "甲镇"),
        (LineString(c[20:51]), "乙乡"),
        (LineString(c[50:]), "丙镇"),
    ]
    b = straight(112.30, 28.82, 90, 4000)
    d = list(b.coords)
    x102 = [(LineString(d[:26]), "甲镇"), (LineString(d[25:]), "乙乡")]
    rows = [
        {"路线编码": code, "路线名称": name, "行政等级": "县道", "乡镇": town, "geometry": g}
        for code, name, pieces in (("X101", "甲—丙", x101), ("X102", "甲—乙", x102))
        for g, town in pieces
    ]
    _write(rows, "townships.gpkg", 4546)
    sites = [  # route, metres along, stated 乡镇, category
        ("X101", 500, "甲镇", "急弯"),
        ("X101", 3000, "乙乡", "陡坡"),
        ("X101", 4800, "乙乡", "临水临崖"),
        ("X101", 6000, "丙镇", "急弯"),
        ("X102", 1000, "甲镇", "视距不良"),
        ("X102", 3500, "甲镇", "急弯"),  # the road here is in 乙乡
    ]
    header = ["序号", "路线编码", "乡镇", "经度", "纬度", "隐患类型", "风险等级"]
    with (HERE / "townships_survey.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for k, (code, m, town, cat) in enumerate(sites, start=1):
            lat0 = 28.80 if code == "X101" else 28.82
            lon, lat, _ = GEOD.fwd(112.30, lat0, 90, m)
            w.writerow([k, code, town, f"{lon:.7f}", f"{lat:.7f}", cat, "II"])


def foreign() -> None:
    """A US-style county network: names as codes, a class field of another vocabulary."""
    roads = [
        ("Gallagher Canyon Rd", "Locale", 0),
        ("S 1000 W", "Locale", 1),
        ("Camas Creek Rd", "Artere", 2),
        ("I-15", "Autoroute", 3),
    ]
    rows = [
        {
            "name": name,
            "class": cls,
            "geometry": straight(-111.90 + 0.02 * k, 43.50, 0, 1500 + 500 * k),
        }
        for name, cls, k in roads
    ]
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    path = HERE / "us_county.geojson"
    if path.exists():
        path.unlink()
    gdf.to_file(path, engine="pyogrio")


def gap() -> None:
    """X201: two 3 km pieces on one line, 10 km apart (same code)."""
    first = straight(112.30, 28.86, 90, 3000)
    lon, lat, _ = GEOD.fwd(*first.coords[-1], 90, 10_000)
    second = straight(lon, lat, 90, 3000)
    rows = [
        {"路线编码": "X201", "乡镇": "甲镇", "geometry": first},
        {"路线编码": "X201", "乡镇": "丁镇", "geometry": second},
    ]
    _write(rows, "gap_10km.gpkg", 4546)


def concurrent() -> None:
    """G101 (4 km) and S201 (3 km) share 1 km of carriageway, stored in both, identically."""
    g = straight(112.30, 28.90, 90, 4000)
    c = list(g.coords)
    shared = LineString(c[20:31])  # 2 km .. 3 km along G101
    s_in = straight(*GEOD.fwd(*c[20], 0, 1000)[:2], 180, 1000)
    s_out = straight(*c[30], 180, 1000)
    rows = [
        {"路线编码": "G101", "geometry": g},
        {"路线编码": "S201", "geometry": s_in},
        {"路线编码": "S201", "geometry": shared},
        {"路线编码": "S201", "geometry": s_out},
    ]
    _write(rows, "concurrent.gpkg", 4546)


def projected_without_prj() -> None:
    """A shapefile in CGCS2000 GK CM 111E (EPSG:4546) whose .prj is missing."""
    rows = [
        {"LXBM": "X301", "geometry": straight(112.35, 28.85, 45, 2500)},
        {"LXBM": "X302", "geometry": straight(112.40, 28.85, 135, 1800)},
    ]
    _write(rows, "projected_no_prj.shp", 4546, encoding="UTF-8")
    (HERE / "projected_no_prj.prj").unlink()


def aliases() -> None:
    """A survey writing X101 by another source's code (a US-style alias), and the alias list."""
    with (HERE / "aliases.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["alias", "code"], ["CR-101", "X101"], ["OLD 102", "X102"]])
    header = ["序号", "路线编码", "经度", "纬度", "隐患类型", "风险等级"]
    with (HERE / "alias_survey.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for k, (code, m) in enumerate((("CR-101", 1200), ("CR-101", 5200), ("OLD 102", 900)), 1):
            lat0 = 28.80 if code == "CR-101" else 28.82
            lon, lat, _ = GEOD.fwd(112.30, lat0, 90, m)
            w.writerow([k, code, f"{lon:.7f}", f"{lat:.7f}", "急弯", "II"])


if __name__ == "__main__":
    for make in (townships, foreign, gap, concurrent, projected_without_prj, aliases):
        make()
    sys.stdout.write("written to tests/data/\n")
