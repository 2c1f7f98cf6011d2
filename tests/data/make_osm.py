"""Write tests/data/osm_county.osm: a small OpenStreetMap extract for tests/test_osm.py (issue 22).

Run from the repository root: ``.venv/bin/python tests/data/make_osm.py``. Ways are geodesic
lines (pyproj) around 112.35E 28.85N, a node every 100 m; ways of one road share their end
node. The tests read their answers (which ways, types, refs, names, lengths) from the XML
itself, never from the loader.

Vehicular ways: G207 (two ways, trunk then primary: the ref gives national over primary),
S308 (secondary: the ref gives provincial over county), X012 (secondary, 2 ways), a
secondary_link without ref, 城关路 (residential, two joined ways, and a third piece 15 km
away), 建设路 (tertiary, named, no ref), 幸福巷 (living_street), an unnamed unclassified road,
a service road and a track. Others: 3 footways, 2 steps, a cycleway, a path, a platform, a
corridor, a railway and a river (no highway tag).
"""

from __future__ import annotations

import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pyproj import Geod

HERE = Path(__file__).resolve().parent
GEOD = Geod(ellps="GRS80")


def _line(lon: float, lat: float, az: float, metres: float) -> list[tuple[float, float]]:
    n = max(1, round(metres / 100))
    pts = [(lon, lat)]
    for k in range(1, n + 1):
        x, y, _ = GEOD.fwd(lon, lat, az, metres * k / n)
        pts.append((x, y))
    return pts


def ways() -> list[tuple[list[tuple[float, float]], dict[str, str]]]:
    """(points, tags) of every way, in file order; a way continuing another starts at its end."""
    out: list[tuple[list[tuple[float, float]], dict[str, str]]] = []

    def add(pts: list[tuple[float, float]], **tags: str) -> list[tuple[float, float]]:
        out.append((pts, tags))
        return pts

    g1 = add(_line(112.30, 28.80, 80, 2000), highway="trunk", ref="G207", name="国道207")
    add(_line(*g1[-1], 80, 1500), highway="primary", ref="G207", name="国道207")
    add(_line(112.30, 28.83, 100, 2500), highway="secondary", ref="S308", name="省道308")
    x1 = add(_line(112.32, 28.86, 0, 1200), highway="secondary", ref="X012", name="城北线")
    add(_line(*x1[-1], 20, 800), highway="secondary", ref="X012;Y105", name="城北线")
    add(_line(*x1[6], 120, 300), highway="secondary_link")
    c1 = add(_line(112.36, 28.85, 90, 400), highway="residential", name="城关路")
    add(_line(*c1[-1], 90, 400), highway="residential", name="城关路")
    add(_line(112.52, 28.85, 90, 300), highway="residential", name="城关路")  # ~16 km away
    add(_line(112.36, 28.855, 0, 600), highway="tertiary", name="建设路")
    add(_line(112.365, 28.857, 45, 200), highway="living_street", name="幸福巷")
    add(_line(112.38, 28.84, 135, 900), highway="unclassified")
    add(_line(112.37, 28.845, 200, 150), highway="service")
    add(_line(112.39, 28.87, 60, 1100), highway="track")
    for k in range(3):
        add(_line(112.361, 28.851 + k * 0.001, 90, 150), highway="footway", name="人行道")
    add(_line(112.362, 28.849, 0, 100), highway="steps")
    add(_line(112.363, 28.849, 0, 100), highway="steps")
    add(_line(112.37, 28.86, 30, 500), highway="cycleway")
    add(_line(112.40, 28.88, 300, 700), highway="path")
    add(_line(112.365, 28.853, 90, 100), highway="platform")
    add(_line(112.366, 28.852, 90, 100), highway="corridor")
    add(_line(112.30, 28.90, 95, 3000), railway="rail", name="石长铁路")
    add(_line(112.30, 28.91, 100, 2000), waterway="river", name="沅水")
    return out


def write(path: Path) -> None:
    nodes: dict[tuple[float, float], int] = {}
    body: list[str] = []
    for wid, (pts, tags) in enumerate(ways(), start=1000):
        refs = []
        for p in pts:
            key = (round(p[0], 7), round(p[1], 7))
            refs.append(nodes.setdefault(key, len(nodes) + 1))
        body.append(f'  <way id="{wid}" version="1">')
        body.extend(f'    <nd ref="{r}"/>' for r in refs)
        body.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        body.append("  </way>")
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="tests/data/make_osm.py">',
        *(
            f'  <node id="{i}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>'
            for (lon, lat), i in nodes.items()
        ),
    ]
    path.write_text("\n".join([*head, *body, "</osm>", ""]), encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "osm_county.osm")
