"""Maps that tell the truth, on a desk and on a phone: pages opened in headless Chromium at
1400×900 and 390×844 (legend by road mode, "not surveyed" roads, linear hazards, 桩号 search,
popups clear of controls, pinch-zoom, metric scale, no console error)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from browser import Page, browser_fixture  # noqa: F401  (fixture)
from builders import GEOD, LAT0, LON0, along, curvy_line, load_county, network, split
from click.testing import CliRunner
from shapely.geometry import LineString
from sqlalchemy import text

from hazards import map_style
from hazards.chainage import locate_on_route
from hazards.cli.maps import map_group
from hazards.map_html import MORE_LABELS

HEADER = ["序号", "路线编码", "桩号", "起点桩号", "止点桩号", "隐患类型", "隐患描述", "风险等级"]
ROWS = [
    [1, "X001", "K0+100", "", "", "急弯", "弯道无警告标志", "一级"],
    [2, "X001", "K0+600", "", "", "陡坡", "长下坡", "二级"],
    [3, "X001", "K1+200", "", "", "急弯", "视距不良", "三级"],
    [4, "X001", "K2+500", "", "", "交叉口", "平交口无减速带", "一级"],
    [5, "Y002", "K0+300", "", "", "陡坡", "长下坡", "二级"],
    [6, "Y005", "", "K0+580", "K0+909", "临水临崖", "临水路段未设护栏，长约329米", "二级"],
]
STATUS = {"3": "reported_done", "4": "verified", "5": "verified"}
Y005_NAME = "南嘴至新湾公路"


@pytest.fixture
def county(tmp_path: Path, engine):  # type: ignore[no-untyped-def]
    """X001 (open tier I), Y002 (surveyed, nothing open), Y003 (never surveyed) and Y005
    (two pieces with a gap; one linear tier II hazard); the line of Y005 for the answers."""
    net = network()
    y5 = curvy_line((LON0 + 0.02, LAT0 + 0.06), n=170, seed=7, heading=80)
    features = net["features"] + [
        {
            "路线编码": "Y005",
            "路线名称": Y005_NAME,
            "行政等级": "乡道",
            "乡镇": "南嘴镇",
            "geometry": piece,
        }
        for piece in split(y5, [90])
    ]
    load_county(engine, tmp_path, features, [HEADER, *ROWS], STATUS)
    engine.y5 = y5  # type: ignore[attr-defined]
    return engine


def _page(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / f"{name}.html"
    result = CliRunner().invoke(
        map_group, [*args, "--offline", "-o", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return out


def _viewport(browser: Page, width: int, height: int, *, mobile: bool) -> None:
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=mobile,
    )


def _settle(browser: Page, ms: int = 700) -> None:
    """Wait for Leaflet's zoom/pan animations (and the popup's auto-pan) to end."""
    browser.call(
        "Runtime.evaluate",
        awaitPromise=True,
        expression=f"new Promise(r => setTimeout(r, {ms}))",
    )


def _pick_roads(browser: Page, label: str) -> None:
    """Choose a road colouring in the layer control, as a user would (its radio button)."""
    browser.js(
        "(() => { const labels = Array.from(document.querySelectorAll("
        "'.leaflet-control-layers-base label'));"
        f" const l = labels.find(x => x.textContent.trim() === {json.dumps(label)});"
        " l.querySelector('input').click(); })()"
    )


DRAWN = """(() => { const e = HazardsMap.registry[0], mode = e.roadMode(), out = [];
  if (mode !== 'none') e.roads[mode].eachLayer(l => out.push({
      route: l.feature.properties.route, color: l.options.color,
      dash: l.options.dashArray || null}));
  return out; })()"""
LEGEND = """Array.from(document.querySelectorAll('.hz-legend-roads .hz-legend-row')).map(r => {
  const line = r.querySelector('line');
  return {cls: r.getAttribute('data-road-class'), text: r.textContent,
          color: line.getAttribute('stroke'), dash: line.getAttribute('stroke-dasharray')}; })"""


def _style(cls: str, mode: str) -> dict[str, Any]:
    if cls == "unsurveyed":
        return map_style.UNSURVEYED_STYLE
    return map_style.ROAD_STYLES[mode][cls]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_legend_follows_the_road_mode(county, browser: Page, tmp_path: Path, lang: str) -> None:
    """At 1400×900, in each road mode the legend lists exactly the road styles drawn; Y003
    (no hazard ever recorded) is grey dashed "not surveyed", Y002 (all verified) is not."""
    out = _page(tmp_path, f"overview-{lang}", "overview", "--lang", lang)
    _viewport(browser, 1400, 900, mobile=False)
    browser.open(out.as_uri())
    assert browser.drawn(6) == 6
    labels = map_style.LABELS[lang]
    expected = {  # from the fixture: which road is in which class, worked out by hand
        "worst": {"X001": "I", "Y002": "clear", "Y003": "unsurveyed", "Y005": "II"},
        # X001: 2 of 4 done (reported_done, verified): 50 %; Y002 all done; Y005 none done
        "pct": {"X001": "p50", "Y002": "p100", "Y003": "unsurveyed", "Y005": "p0"},
    }
    for mode, title in (("worst", labels["roadsWorst"]), ("pct", labels["roadsPct"])):
        _pick_roads(browser, title)
        assert browser.js("HazardsMap.registry[0].roadMode()") == mode
        drawn = browser.js(DRAWN)
        legend = browser.js(LEGEND)
        by_route = {d["route"]: d for d in drawn}
        for route, cls in expected[mode].items():
            style = _style(cls, mode)
            assert by_route[route]["color"] == style["color"], (mode, route)
            assert by_route[route]["dash"] == style.get("dashArray"), (mode, route)
        # the legend: one entry per style in use, no more, each with its words
        assert {(d["color"], d["dash"]) for d in drawn} == {(r["color"], r["dash"]) for r in legend}
        assert len(legend) == len({(r["color"], r["dash"]) for r in legend})
        assert {r["cls"] for r in legend} == set(expected[mode].values())
        for r in legend:
            words = (
                labels["unsurveyed"]
                if r["cls"] == "unsurveyed"
                else labels["roadClasses"][mode][r["cls"]]
            )
            assert r["text"] == words
        head = browser.js("document.querySelector('.hz-legend-roads').textContent")
        assert head.startswith(title)
    _pick_roads(browser, labels["roadsNone"])
    assert browser.js(LEGEND) == [] and browser.js(DRAWN) == []
    # the not-surveyed road really is grey and dashed on the canvas: sample its pixels
    _pick_roads(browser, labels["roadsWorst"])
    pixels = browser.js(
        """(() => { const e = HazardsMap.registry[0], map = e.map, ctx = map._hazardsCanvas._ctx;
        let y3 = null; e.roads.worst.eachLayer(l => { if (l.feature.properties.route === 'Y003') y3 = l; });
        map.fitBounds(y3.getBounds(), {animate: false});
        map._hazardsCanvas._update(); map._hazardsCanvas._redraw();
        const r = window.devicePixelRatio || 1, seen = {};
        y3.getLatLngs().flat().forEach(ll => {
          const p = map.latLngToLayerPoint(ll).subtract(map._hazardsCanvas._bounds.min);
          const d = ctx.getImageData(Math.round(p.x * r), Math.round(p.y * r), 1, 1).data;
          const k = d[0] + ',' + d[1] + ',' + d[2] + ',' + d[3]; seen[k] = (seen[k] || 0) + 1; });
        return seen; })()"""
    )
    rgb = ",".join(str(int(map_style.UNSURVEYED_STYLE["color"][i : i + 2], 16)) for i in (1, 3, 5))
    grey = sum(n for k, n in pixels.items() if k.startswith(rgb + ","))
    gaps = sum(n for k, n in pixels.items() if k.endswith(",0"))  # dash gaps: transparent
    assert grey > 0 and gaps > 0, pixels
    teal = tuple(int(map_style.NO_OPEN_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    assert not any(k.startswith(",".join(map(str, teal))) for k in pixels)
    # a linear hazard is drawn as a line along its run, in its tier colour, with its range
    ext = browser.js(
        """(() => { const d = HazardsMap.registry[0].data; return d.extentLines.map(x => {
          let pts = []; x.layer.eachLayer(l => { pts = l.getLatLngs().flat(); });
          return {color: x.layer.getLayers()[0].options.color, on: d.extentGroup.hasLayer(x.layer),
                  pts: pts.map(p => [p.lng, p.lat])}; }); })()"""
    )
    assert len(ext) == 1 and ext[0]["on"] and ext[0]["color"] == map_style.TIER_COLOURS["II"]
    length = GEOD.geometry_length(LineString(ext[0]["pts"]))
    assert abs(length - 329) < 5, length
    assert browser.errors() == []


OTHER = """(() => { const e = HazardsMap.registry[0], own = new Set(), out = [];
  ['worst', 'pct'].forEach(m => e.roads[m] && e.roads[m].eachLayer(l => own.add(l)));
  e.map.eachLayer(l => { if (l instanceof L.Polyline && l.feature && !own.has(l)
      && !l.feature.properties.route) out.push({color: l.options.color,
                                                dash: l.options.dashArray || null}); });
  return out; })()"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_batch_legend_equals_the_road_styles_in_use(
    county, browser: Page, tmp_path: Path, lang: str
) -> None:
    """On a batch's page (sites 1 and 2, both on X001), in each road mode the legend's road
    entries equal the styles drawn: the batch's roads by class, and the other roads (Y002,
    Y003, Y005 and the one without a code) in their own colour, with the words for them;
    nothing else."""
    with county.begin() as conn:
        bid = conn.execute(
            text(
                "INSERT INTO batches (plan_name, name, status) VALUES ('2025', '一批', 'issued') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO batch_items (batch_id, hazard_id, cost_cny) SELECT :b, id, 1000 "
                "FROM hazards WHERE provider_row_id IN ('1', '2')"
            ),
            {"b": bid},
        )
    out = _page(tmp_path, f"batch-{lang}", "batch", "一批", "--lang", lang)
    _viewport(browser, 1400, 900, mobile=False)
    browser.open(out.as_uri())
    assert browser.drawn(2) == 2
    labels = map_style.LABELS[lang]
    words = MORE_LABELS[lang]["otherRoads"]
    other = map_style.OTHER_ROADS_STYLE
    # by hand: the batch's sites are open tier I and II on X001, none remediated
    expected = {"worst": "I", "pct": "p0"}
    drawn_other = browser.js(OTHER)
    with county.connect() as conn:  # Y002, Y003, Y005 (two pieces: one feature), the road
        others = conn.execute(  # without a route code (U-…): every road but X001
            text("SELECT count(*) FROM roads WHERE route_code <> 'X001'")
        ).scalar_one()
    assert len(drawn_other) == others == 4
    assert {(d["color"], d["dash"]) for d in drawn_other} == {(other["color"], None)}
    for mode, title in (("worst", labels["roadsWorst"]), ("pct", labels["roadsPct"])):
        _pick_roads(browser, title)
        drawn = browser.js(DRAWN) + drawn_other
        legend = browser.js(LEGEND)
        assert {(d["color"], d["dash"]) for d in drawn} == {(r["color"], r["dash"]) for r in legend}
        assert len(legend) == len({(r["color"], r["dash"]) for r in legend})
        assert {r["cls"]: r["text"] for r in legend} == {
            expected[mode]: labels["roadClasses"][mode][expected[mode]],
            "other": words,
        }
        assert {d["route"] for d in browser.js(DRAWN)} == {"X001"}
    # roads hidden: the other roads are still drawn, and still in the legend
    _pick_roads(browser, labels["roadsNone"])
    assert browser.js(DRAWN) == []
    assert [(r["cls"], r["color"], r["text"]) for r in browser.js(LEGEND)] == [
        ("other", other["color"], words)
    ]
    assert browser.errors() == []


def test_search_finds_chainage_ids_and_names(county, browser: Page, tmp_path: Path) -> None:
    """`Y005 K3+200` centres the map within 50 m of that chainage (the gap at vertex 90 lies
    before it); a road name fits the road; route codes are written along the roads."""
    out = _page(tmp_path, "search", "overview", "--lang", "zh")
    _viewport(browser, 1400, 900, mobile=False)
    browser.open(out.as_uri())
    browser.drawn(6)
    assert browser.js("HazardsMap.registry[0].find('Y005 K3+200', document.createElement('div'))")
    _settle(browser)
    centre = browser.js(
        "(() => { const c = HazardsMap.registry[0].map.getCenter(); return [c.lng, c.lat]; })()"
    )
    truth = locate_on_route("Y005", "K3+200", engine=county)
    off_tool = GEOD.inv(centre[0], centre[1], truth["lon"], truth["lat"])[2]
    geodesic = along(county.y5, 3200)  # independent: 3,200 m along the drawn line
    off_line = GEOD.inv(centre[0], centre[1], *geodesic)[2]
    assert off_tool < 50 and off_line < 50, (off_tool, off_line)
    assert "Y005 K3+200" in browser.js("document.querySelector('.hz-found').textContent")
    labels = browser.js(
        "Array.from(document.querySelectorAll('.hz-route-label')).map(x => x.textContent)"
    )
    assert "Y005" in labels
    for query in ("y005k3+200", "Ｙ００５　Ｋ３＋２００", f"{Y005_NAME} K3+200"):
        assert browser.js(
            f"HazardsMap.registry[0].find({json.dumps(query)}, document.createElement('div'))"
        ), query
    msg = browser.js(
        "(() => { const m = document.createElement('div');"
        " HazardsMap.registry[0].find('Y005 K9+000', m); return m.textContent; })()"
    )
    assert "Y005" in msg and "K0+000" in msg  # says where the route runs instead
    assert browser.js(f"HazardsMap.registry[0].find({json.dumps(Y005_NAME)}, null)")
    _settle(browser)
    bounds = browser.js(
        "(() => { const b = HazardsMap.registry[0].map.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"
    )
    w, s, e, n = county.y5.bounds
    assert bounds[0] <= w and bounds[1] <= s and bounds[2] >= e and bounds[3] >= n
    with county.connect() as conn:
        hid = conn.execute(
            text("SELECT public_id FROM hazards WHERE provider_row_id = '6'")
        ).scalar_one()
    assert browser.js(f"HazardsMap.registry[0].find({json.dumps(hid.lower())}, null)")
    popup = browser.js("document.querySelector('.leaflet-popup-content').textContent")
    assert hid in popup and "K0+580 – K0+909 (329 m)" in popup
    assert browser.errors() == []


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


BOXES = """(() => { const box = e => { const r = e.getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const p = document.querySelector('.leaflet-popup');
  return {popup: p ? box(p) : null,
          controls: Array.from(document.querySelectorAll('.leaflet-control')).filter(shown).map(box),
          view: [innerWidth, innerHeight]}; })()"""


@pytest.mark.parametrize("name", ["overview", "road"])
def test_phone_popups_are_not_covered(county, browser: Page, tmp_path: Path, name: str) -> None:
    """At 390×844 the layer control and legend start as buttons; an opened popup (a hazard's,
    then a road's) lies inside the screen and no control's box covers it; pinch-zoom allowed."""
    args = ["overview", "--lang", "zh"] if name == "overview" else ["road", "X001", "--lang", "zh"]
    out = _page(tmp_path, name, *args)
    _viewport(browser, 390, 844, mobile=True)
    try:
        browser.open(out.as_uri())
        browser.drawn(1)
        viewport = browser.js("document.querySelector('meta[name=viewport]').content")
        assert "user-scalable=no" not in viewport and "maximum-scale" not in viewport
        metas = re.findall(r"<meta[^>]*viewport[^>]*>", out.read_text(encoding="utf-8"))
        assert metas and not [m for m in metas if "user-scalable" in m], metas
        assert browser.js(
            "!!document.querySelector('.leaflet-control-layers:not(.leaflet-control-layers-expanded)')"
        )
        assert browser.js("document.querySelector('.hz-legend').classList.contains('hz-collapsed')")
        assert (
            browser.js("getComputedStyle(document.querySelector('.hz-legend .hz-toggle')).display")
            != "none"
        )
        # unfold the legend as a user would, then open popups: controls step aside
        browser.js("document.querySelector('.hz-legend .hz-toggle').click()")
        assert not browser.js(
            "document.querySelector('.hz-legend').classList.contains('hz-collapsed')"
        )
        with county.connect() as conn:
            hid = conn.execute(
                text("SELECT public_id FROM hazards WHERE provider_row_id = '1'")
            ).scalar_one()
        assert browser.js(f"HazardsMap.registry[0].find({json.dumps(hid)}, null)")
        _settle(browser, 900)
        boxes = browser.js(BOXES)
        popup, (width, height) = boxes["popup"], boxes["view"]
        assert popup is not None
        assert popup["left"] >= 0 and popup["right"] <= width and popup["top"] >= 0
        assert popup["bottom"] <= height
        assert not [c for c in boxes["controls"] if _overlaps(c, popup)], boxes
        browser.js("void HazardsMap.registry[0].map.closePopup()")
        assert len(browser.js(BOXES)["controls"]) >= 3  # they come back
        # a road's popup, opened by a tap on the road
        browser.js(
            """(() => { const e = HazardsMap.registry[0]; let x1 = null;
            e.roads.worst.eachLayer(l => { if (l.feature.properties.route === 'X001') x1 = l; });
            x1.openPopup(x1.getLatLngs().flat()[20]); })()"""
        )
        _settle(browser, 900)
        boxes = browser.js(BOXES)
        assert boxes["popup"] is not None
        assert not [c for c in boxes["controls"] if _overlaps(c, boxes["popup"])], boxes
        if name == "road":  # the dossier's table scrolls sideways inside the screen
            table = browser.js(
                """(() => { const t = document.querySelector('table.hz-table');
                const r = t.getBoundingClientRect();
                return {overflow: getComputedStyle(t).overflowX, right: r.right,
                        scroll: t.scrollWidth, client: t.clientWidth}; })()"""
            )
            assert table["overflow"] == "auto" and table["right"] <= 391, table
        assert browser.errors() == []
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")


def test_metric_scale_and_fonts(county, browser: Page, tmp_path: Path) -> None:
    """Only the metric scale shows; the pages name a CJK font for every platform."""
    out = _page(tmp_path, "scale", "overview")
    _viewport(browser, 1400, 900, mobile=False)
    browser.open(out.as_uri())
    browser.drawn(6)
    scale = browser.js(
        "Array.from(document.querySelectorAll('.leaflet-control-scale-line'))"
        ".filter(x => getComputedStyle(x).display !== 'none').map(x => x.textContent)"
    )
    assert len(scale) == 1 and re.fullmatch(r"\d+ k?m", scale[0]), scale
    fonts = browser.js("getComputedStyle(document.querySelector('.hz-legend')).fontFamily")
    for name in ("Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei"):
        assert name in fonts
    assert browser.errors() == []


def test_phone_dossier_map_fits_the_screen_and_the_road(
    county, browser: Page, tmp_path: Path
) -> None:
    """At 390×844 the dossier's map is no wider than the screen and opens fitted to the road:
    the road's bounds (from its own lines in the page; Y003 runs east-west, so a view fitted
    for a wide page is far too wide for a phone) lie within the visible map. The same
    when the page was laid out wider first (a tablet turned, a window narrowed): the map is
    fitted again, not left centred for the wide page with the road cut at the right edge."""
    out = _page(tmp_path, "road_phone", "road", "Y003", "--lang", "zh")
    fitted = """(() => { const e = HazardsMap.registry[0], m = e.map;
        const box = m.getContainer().getBoundingClientRect();
        const road = L.latLngBounds([]);
        e.roads.worst.eachLayer(l => road.extend(l.getBounds()));
        const size = m.getSize();
        const sw = m.latLngToContainerPoint(road.getSouthWest()),
              ne = m.latLngToContainerPoint(road.getNorthEast());
        return {left: box.left, right: box.right, inner: window.innerWidth,
                size: [size.x, size.y], sw: [sw.x, sw.y], ne: [ne.x, ne.y],
                contains: m.getBounds().contains(road),
                scroll: document.documentElement.scrollWidth}; })()"""
    try:
        for first in (390, 1400):
            _viewport(browser, first, 844, mobile=first == 390)
            browser.open(out.as_uri())
            browser.drawn(0)  # Y003 has no hazards: its road is what is drawn
            _settle(browser, 300)
            if first != 390:
                _viewport(browser, 390, 844, mobile=True)
            _settle(browser, 900)
            got = browser.js(fitted)
            assert got["inner"] == 390 and got["left"] >= 0 and got["right"] <= 390, got
            assert got["size"][0] <= 390 and got["scroll"] <= 390, got
            assert got["contains"], (first, got)  # the whole road is in view
            assert got["sw"][0] >= 0 and got["ne"][0] <= got["size"][0], (first, got)
            # and fills the map: not a speck in a county-wide view
            span = max(got["ne"][0] - got["sw"][0], got["sw"][1] - got["ne"][1])
            assert span > 0.4 * min(got["size"]), (first, got)
            assert browser.errors() == []
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")
