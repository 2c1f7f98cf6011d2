"""Maps against a real PostGIS: content and escaping of the HTML, the CLI, and the pages opened in
headless Chromium (console errors, feature counts, legend, screenshot, no network, no XSS)."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import folium
import pytest
from browser import Page, browser_fixture, distinct_colours, page_hazards  # noqa: F401  (fixture)
from builders import load_county, network
from click.testing import CliRunner
from sqlalchemy import text

from hazards import map_style
from hazards.chainage import format_chainage
from hazards.cli import cli
from hazards.cli.maps import map_group
from hazards.db import store
from hazards.errors import ConfigError, InputError, NotFound
from hazards.mapping import batch_map, chainage_strip, hazard_table, overview_map, road_dossier

HEADER = ["序号", "路线编码", "桩号", "经度", "纬度", "隐患类型", "隐患描述", "风险等级"]
XSS = "<script>alert(1)</script>"
ROWS = [
    [1, "X001", "K0+100", "", "", "急弯", XSS, "一级"],
    [2, "X001", "K0+600", "", "", "陡坡", "临水无护栏 & 无标志", "二级"],
    [3, "X001", "K1+200", "", "", "急弯", "弯道视距不良", "三级"],
    [4, "X001", "K2+500", "", "", "交叉口", "平交口无减速带", "一级"],
    [5, "Y002", "K0+300", "", "", "陡坡", "长下坡", "二级"],
    [6, "Y002", "K1+500", "", "", "临水临崖", "临崖无护栏", "一级"],
    [7, "Y003", "K0+400", "", "", "急弯", "连续弯道", "三级"],
    [8, "Y003", "K2+000", "", "", "陡坡", "路侧险要", "二级"],
]
STATUS = {"2": "planned", "3": "in_progress", "4": "verified", "5": "reopened", "8": "rejected"}
BATCH = "2025-第一批"


@pytest.fixture
def county(tmp_path: Path, engine):  # type: ignore[no-untyped-def]
    """Three routes, eight hazards in several tiers and statuses, one batch of two."""
    load_county(engine, tmp_path, network()["features"], [HEADER, *ROWS], STATUS)
    with engine.begin() as conn:
        bid = conn.execute(
            text(
                "INSERT INTO batches (plan_name, name, contractor, status) "
                "VALUES ('2025', :n, '某建设公司', 'issued') "
                "RETURNING id"
            ),
            {"n": BATCH},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO batch_items (batch_id, hazard_id, cost_cny) SELECT :b, id, 1000 "
                "FROM hazards WHERE provider_row_id IN ('2', '3')"
            ),
            {"b": bid},
        )
        conn.execute(
            text(
                "INSERT INTO hazard_events (hazard_id, kind, from_status, to_status, note) "
                "SELECT id, 'status', 'identified', 'planned', '列入第一批' FROM hazards "
                "WHERE provider_row_id = '2'"
            )
        )
    return engine


def db_count(engine, where: str = "TRUE", **params: Any) -> int:  # type: ignore[no-untyped-def]
    sql = (
        "SELECT count(*) FROM hazards h LEFT JOIN roads r ON r.id = h.road_id "
        f"WHERE h.geom IS NOT NULL AND {where}"
    )
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


# ----------------------------------------------------------------------------- HTML
def test_overview_has_every_placed_hazard_and_no_cdn(county) -> None:
    page = overview_map(engine=county).get_root().render()
    assert db_count(county) == len(ROWS)
    hazards = page_hazards(page)
    with county.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT public_id, ST_X(geom), ST_Y(geom), coalesce(tier_override, tier, ''), "
                "status, description, provided_cost_cny, estimated_cost_cny FROM hazards "
                "WHERE geom IS NOT NULL"
            )
        ).all()
    # the effective cost: the survey's when it gave one, else the cost library's
    expected = {
        r[0]: (round(r[1], 6), round(r[2], 6), r[3], r[4], r[5] or None)
        + (
            (r[6], "survey")
            if r[6] is not None
            else (r[7], "library" if r[7] is not None else None)
        )
        for r in rows
    }
    got = {
        h["id"]: (h["lon"], h["lat"], h["tier"], h["status"], h["desc"], h["cost"], h["cost_src"])
        for h in hazards
    }
    assert got.keys() == expected.keys() and len(hazards) == len(ROWS)
    for key, (lon, lat, tier, status, desc, cost, source) in expected.items():
        assert got[key][:5] == (lon, lat, tier, status, desc)
        assert got[key][5:] == (None if cost is None else round(cost), source)
    assert {h["route"] for h in hazards} == {"X001", "Y002", "Y003"}
    assert {h["batch"] for h in hazards} == {BATCH, None}
    events = {h["event"] for h in hazards}
    assert any(e and e.endswith("Planned 列入第一批") for e in events)  # status in words
    assert sorted(h["ch"] for h in hazards if h["route"] == "X001") == [100, 600, 1200, 2500]
    assert '"type":"Feature"' not in page.split('-roads">')[0]  # hazards are columns
    assert not any(host in page for host in ("jsdelivr", "cdnjs", "jquery.com", "bootstrapcdn"))
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"?https?:", page)
    assert XSS not in page and "\\u003cscript\\u003ealert(1)" in page
    assert "HazardsMap.draw" in page and "fitBounds" in page


@pytest.mark.parametrize(
    ("kw", "where", "params"),
    [
        ({"tiers": ["I"]}, "coalesce(h.tier_override, h.tier) = 'I'", {}),
        ({"statuses": ["planned", "verified"]}, "h.status IN ('planned', 'verified')", {}),
        ({"townships": ["草尾镇"]}, "r.township = '草尾镇'", {}),
    ],
)
def test_filters_match_the_database(county, kw: dict, where: str, params: dict) -> None:
    page = overview_map(engine=county, **kw).get_root().render()
    assert len(page_hazards(page)) == db_count(county, where) > 0


def test_chinese_labels_and_composition(county) -> None:
    m = folium.Map(tiles=None)
    assert overview_map(engine=county, lang="zh", m=m) is m
    batch_map(BATCH, engine=county, lang="zh", m=m)
    page = m.get_root().render()
    assert "风险等级" in page and "图例" not in page or "风险等级（填充色）" in page
    assert page.count("HazardsMap.draw") == 2 and page.count("window.HazardsMap") == 1


def test_empty_selection(county) -> None:
    page = overview_map(engine=county, statuses=["review"]).get_root().render()
    assert page_hazards(page) == [] and "HazardsMap.draw" in page


def test_page_grows_little_per_hazard(county) -> None:
    """Hazards are sent as columns: 5,000 more (scattered, so coordinate deltas are large) add
    well under 200 bytes each to the page."""
    before = len(overview_map(engine=county).get_root().render().encode())
    with county.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO hazards (public_id, road_id, chainage_m, tier, status, category,
                                 category_raw, description, estimated_cost_cny, geom)
            SELECT 'G' || lpad(i::text, 6, '0'), r.id, (i * 7 % 9000)::float,
                   (ARRAY['I', 'II', 'III'])[1 + i % 3],
                   (ARRAY['identified', 'planned', 'in_progress', 'verified'])[1 + i % 4],
                   'sharp_curve', '急弯', (ARRAY['弯道视距不良', '临水无护栏', '长下坡'])[1 + i % 3],
                   20000 + i * 13, ST_SetSRID(ST_MakePoint(112.2 + random() * 0.3,
                                                          28.7 + random() * 0.3), 4326)
            FROM generate_series(1, 5000) AS i, roads r WHERE r.route_code = 'X001'
        """)
        )
    page = overview_map(engine=county).get_root().render()
    assert len(page_hazards(page)) == db_count(county)
    per_hazard = (len(page.encode()) - before) / 5000
    assert per_hazard < 200, per_hazard


def test_survey_text_is_not_a_template(county) -> None:
    """Survey text never goes through Jinja: ``{{ 7*7 }}`` stays as written in the map data
    and in the dossier table."""
    with county.begin() as conn:
        conn.execute(
            text(
                "UPDATE hazards SET description = '{{ 7*7 }} {% if 1 %}' "
                "WHERE provider_row_id = '3'"
            )
        )
    page = overview_map(engine=county).get_root().render()
    assert "{{ 7*7 }} {% if 1 %}" in {h["desc"] for h in page_hazards(page)}
    dossier = road_dossier("X001", engine=county).render()
    assert "{{ 7*7 }} {% if 1 %}" in dossier and "<td>49" not in dossier


def test_batch_page_numbers_its_sites_and_colours_roads_by_them(county) -> None:
    page = batch_map(BATCH, engine=county, lang="zh").get_root().render()
    blocks = dict(re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', page))
    roads = json.loads(next(v for k, v in blocks.items() if k.endswith("-roads")))
    # X001 also has an open tier I hazard, not in the batch: the batch's worst open is II
    assert [(f["properties"]["route"], f["properties"]["worst"]) for f in roads["features"]] == [
        ("X001", "II")
    ]
    with county.connect() as conn:
        sites = conn.execute(
            text(
                "SELECT h.public_id, h.chainage_m FROM batch_items bi "
                "JOIN hazards h ON h.id = bi.hazard_id ORDER BY h.chainage_m"
            )
        ).all()
    table = re.search(r'<table class="hz-table hz-sites">.*?</table>', page, re.S)
    assert table is not None
    rows = re.findall(r"<tr><td>(\d+)</td><td>(H\d+)</td><td>X001</td><td>(K[\d+]+)</td>", table[0])
    assert rows == [(str(n), hid, format_chainage(m)) for n, (hid, m) in enumerate(sites, start=1)]
    assert "<th>序号</th>" in table[0] and "<th>工程量</th>" in table[0] and "合计" in table[0]
    # a permanent label per site beside its hazard, and the site number in the popup data
    labels = re.findall(r"bindTooltip\(\s*`<div>\s*(\d+)\s*</div>`", page)
    assert sorted(labels) == ["1", "2"]
    attrs = json.loads(next(v for k, v in blocks.items() if k.endswith("-attrs")))
    assert sorted(n for n in attrs["site"] if n) == [1, 2]
    # the other routes (Y002, Y003), in their own colour and not clickable, beneath
    other = re.findall(f'"color": "{map_style.OTHER_ROADS_STYLE["color"]}"', page)
    assert other and "Y002" not in table[0]


def test_unknown_road_and_batch(county) -> None:
    with pytest.raises(NotFound, match="X999"):
        road_dossier("X999", engine=county)
    with pytest.raises(NotFound, match="2025-第一批"):
        batch_map("nope", engine=county)


def test_unknown_township_is_refused_naming_the_known_ones(county, tmp_path: Path) -> None:
    with county.connect() as conn:
        known = (
            conn.execute(
                text("SELECT DISTINCT township FROM road_segments WHERE township IS NOT NULL")
            )
            .scalars()
            .all()
        )
    assert "草尾镇" in known
    with pytest.raises(InputError) as refused:
        overview_map(engine=county, townships=["草尾"])
    message = str(refused.value)
    assert refused.value.param == "townships" and "'草尾'" in message
    assert "did you mean 草尾镇?" in message and all(t in message for t in known)
    for draw in (
        lambda: road_dossier("X001", engine=county, townships=["草尾镇", "nowhere"]),
        lambda: batch_map(BATCH, engine=county, townships=["nowhere"]),
    ):
        with pytest.raises(InputError, match="'nowhere'"):
            draw()
    # a name with spaces around it is the township
    page = overview_map(engine=county, townships=[" 草尾镇 "]).get_root().render()
    assert len(page_hazards(page)) == db_count(county, "r.township = '草尾镇'") > 0
    # the command says which option, and writes no map
    out = tmp_path / "o.html"
    result = CliRunner().invoke(
        cli, ["map", "overview", "--offline", "--township", "草尾", "-o", str(out)]
    )
    assert result.exit_code == 1 and "草尾镇" in result.output
    assert result.output.rstrip().endswith("(option --township)"), result.output
    assert "Traceback" not in result.output and not out.exists()


def test_dossier_strip_and_table_escape(county) -> None:
    page = road_dossier("X001", engine=county, lang="zh").render()
    assert page.count('class="hz-strip-hazard"') == db_count(county, "r.route_code = 'X001'")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and XSS not in page
    assert "一路一档" in page and "琼湖街道" in page and "K2+500" in page
    head, table = page.index('<svg class="hz-strip"'), page.index('<table class="hz-table"')
    assert head < page.index('class="folium-map"') < table
    # a filter that keeps none of its hazards: says so, not that the road has none
    none_rejected = road_dossier("X001", engine=county, statuses=["rejected"], lang="zh").render()
    said = re.findall(r'<div class="hz-dossier"><h2>[^<]*</h2><p>([^<]*)</p>', none_rejected)
    assert said == ["该路线没有符合筛选条件的隐患。"]


def test_strip_and_table_without_hazards() -> None:
    import pandas as pd

    rows = pd.DataFrame(
        columns=[
            "id",
            "chainage_m",
            "chainage",
            "tier",
            "status",
            "category",
            "description",
            "batch",
            "last_event",
            "cost_cny",
        ]
    )
    parts = pd.DataFrame({"part": [0, 0], "from_m": [0.0, 1500.0], "to_m": [1000.0, 3000.0]})
    svg = chainage_strip(rows, parts, 3000.0)
    assert svg.count("<line") == 2 + 4 and ">K3<" in svg
    assert "No hazards" in hazard_table(rows)


def test_strip_draws_each_status_with_the_maps_symbol() -> None:
    """One hazard per status on the strip: each circle carries its status's outline colour,
    width, dash and fill; 已完工（待验收） is dashed, 已验收 has a tick and 已剔除 a cross inside,
    as the map's symbols (STATUS_STYLES); no two statuses look alike."""
    import xml.etree.ElementTree as ET

    import pandas as pd

    from hazards.vocabulary import STATUSES

    n = len(STATUSES)
    rows = pd.DataFrame(
        {
            "id": [f"H{k:06d}" for k in range(n)],
            "chainage_m": [100.0 + 300 * k for k in range(n)],
            "chainage": [format_chainage(100.0 + 300 * k) for k in range(n)],
            "tier": ["II"] * n,
            "status": list(STATUSES),
            "description": ["d"] * n,
        }
    )
    parts = pd.DataFrame({"part": [0], "from_m": [0.0], "to_m": [3000.0]})
    markup = chainage_strip(rows, parts, 3000.0, lang="zh")
    ns = {"s": "http://www.w3.org/2000/svg"}
    svg = ET.fromstring(markup[markup.index("<svg") : markup.rindex("</svg>") + 6])
    circles = {c.get("data-status"): c for c in svg.iterfind("s:circle", ns)}
    assert set(circles) == set(STATUSES)
    marks = {}
    for path in svg.iterfind("s:path", ns):
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path.get("d"))]
        xs, ys = nums[0::2], nums[1::2]
        # the mark lies inside the circle it belongs to
        owner = [
            s
            for s, c in circles.items()
            if all(
                (px - float(c.get("cx"))) ** 2 + (py - float(c.get("cy"))) ** 2
                <= float(c.get("r")) ** 2
                for px, py in zip(xs, ys, strict=True)
            )
        ]
        assert len(owner) == 1, path.get("d")
        marks[owner[0]] = (path.get("data-mark"), len(xs), path.get("stroke"))
    assert marks == {
        "verified": ("check", 3, map_style.STATUS_STYLES["verified"]["color"]),
        "rejected": ("cross", 4, map_style.STATUS_STYLES["rejected"]["color"]),
    }
    looks = set()
    for status, c in circles.items():
        st = map_style.STATUS_STYLES[status]
        assert c.get("stroke") == st["color"], status
        assert float(c.get("stroke-width")) == st["weight"], status
        assert c.get("stroke-dasharray") == st.get("dashArray"), status
        assert float(c.get("fill-opacity")) == st["fillOpacity"], status
        fill = st.get("fillColor", map_style.TIER_COLOURS["II"])
        assert c.get("fill") == fill, status
        looks.add((*sorted(c.attrib.items() - {("cx", c.get("cx")), ("data-status", status)}),
                   marks.get(status)))  # fmt: skip
    assert len(looks) == len(STATUSES)
    assert circles["reported_done"].get("stroke-dasharray")
    assert "reported_done" not in marks and not circles["verified"].get("stroke-dasharray")


def test_cli_writes_maps(county, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for args in (
        ["overview", "--offline"],
        ["road", "Y002", "--lang", "zh", "--offline"],
        ["batch", BATCH, "--tiles", "none"],
    ):
        result = runner.invoke(map_group, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "maps").iterdir())
    assert names == ["batch-2025-第一批.html", "overview.html", "road-Y002.html"]
    # a filtered map has a name of its own: the whole county's overview is not replaced
    whole = (tmp_path / "maps" / "overview.html").read_bytes()
    for args in (["overview", "--offline", "--tier", "I", "--status", "identified"],
                 ["road", "Y002", "--offline", "--tier", "II"]):  # fmt: skip
        assert runner.invoke(map_group, args, catch_exceptions=False).exit_code == 0
    assert (tmp_path / "maps" / "overview.html").read_bytes() == whole
    assert {"overview-I-identified.html", "road-Y002-II.html"} <= {
        p.name for p in (tmp_path / "maps").iterdir()
    }
    osm = runner.invoke(map_group, ["overview", "-o", "o.html"])
    assert osm.exit_code == 0 and "tile.openstreetmap.org" in Path("o.html").read_text()
    refused = runner.invoke(map_group, ["overview", "--offline", "--tiles", "osm"])
    assert isinstance(refused.exception, ConfigError)
    missing = runner.invoke(map_group, ["batch", "nope"])
    assert isinstance(missing.exception, NotFound)


def test_every_option_has_help() -> None:
    for command in map_group.commands.values():
        for param in command.params:
            if isinstance(param, __import__("click").Option):
                assert param.help, f"{command.name} {param.opts} has no help"


# ----------------------------------------------------------------------------- browser
MAPS = [
    ("overview", ["overview", "--lang", "en"], "TRUE", "en"),
    (
        "overview-zh-tier-I",
        ["overview", "--lang", "zh", "--tier", "I"],
        "coalesce(h.tier_override, h.tier) = 'I'",
        "zh",
    ),
    ("road-X001", ["road", "X001", "--lang", "zh"], "r.route_code = 'X001'", "zh"),
    ("batch", ["batch", BATCH, "--lang", "en"], "h.provider_row_id IN ('2', '3')", "en"),
    (
        "overview-none",
        ["overview", "--status", "review", "--lang", "en"],
        "h.status = 'review'",
        "en",
    ),
]


@pytest.mark.parametrize(("name", "args", "where", "lang"), MAPS, ids=[m[0] for m in MAPS])
def test_map_in_chromium(
    county, browser: Page, tmp_path: Path, name: str, args: list[str], where: str, lang: str
) -> None:
    out = tmp_path / f"{name}.html"
    result = CliRunner().invoke(
        map_group, [*args, "--offline", "-o", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    browser.open(out.as_uri())
    assert browser.errors() == []
    assert browser.drawn(db_count(county, where)) == db_count(county, where)
    assert browser.js("document.querySelectorAll('.hz-legend').length") == 1
    legend = browser.js("document.querySelector('.hz-legend').textContent")
    control = browser.js("document.querySelector('.leaflet-control-layers').textContent")
    if lang == "zh":
        assert "风险等级" in legend and "I级（高风险）" in legend and "状态" in control
    else:
        assert "Risk tier" in legend and "Tier I (high)" in legend
        assert "Status: " in control or db_count(county, where) == 0
    assert {u for u in browser.requests() if not u.startswith("data:")} <= {out.as_uri()}
    shot = browser.call(
        "Page.captureScreenshot",
        format="png",
        clip={"x": 0, "y": 0, "width": 500, "height": 400, "scale": 1},
    )
    assert distinct_colours(base64.b64decode(shot["data"])) > 20


def test_script_description_shows_as_text(county, browser: Page, tmp_path: Path) -> None:
    out = tmp_path / "x.html"
    CliRunner().invoke(
        map_group, ["overview", "--lang", "en", "--offline", "-o", str(out)], catch_exceptions=False
    )
    browser.open(out.as_uri())
    with county.connect() as conn:
        hid = conn.execute(
            text("SELECT public_id FROM hazards WHERE description = :d"), {"d": XSS}
        ).scalar_one()
    assert browser.js(
        f"HazardsMap.registry[0].find({json.dumps(hid)}, document.createElement('div'))"
    )
    popup = browser.js("document.querySelector('.leaflet-popup-content').textContent")
    assert XSS in popup and hid in popup
    for text_ in ("X001", "K0+100", "Tier I (high)", "Open", "Last event"):
        assert text_ in popup
    with county.connect() as conn:
        planned = conn.execute(
            text("SELECT public_id FROM hazards WHERE provider_row_id = '2'")
        ).scalar_one()
    rows = store.road_hazard_rows(county, store.get_road(county, "X001")["id"])
    row = rows[rows["id"] == planned].iloc[0]
    assert browser.js(
        f"HazardsMap.registry[0].find({json.dumps(planned)}, document.createElement('div'))"
    )
    popup = browser.js(
        "Array.from(document.querySelectorAll('.leaflet-popup-content')).pop().textContent"
    )
    event = row["last_event"].replace(" planned ", " Planned ")  # the status in words
    for text_ in (event, BATCH, row["description"], "Planned", "K0+600"):
        assert text_ in popup, (text_, popup)
    assert browser.js("document.querySelectorAll('.leaflet-popup-content script').length") == 0
    assert browser.errors() == []


def test_click_toggle_and_search_in_chromium(county, browser: Page, tmp_path: Path) -> None:
    """A click on a drawn hazard opens its popup (hit-tested on the canvas); unticking its tier
    stops drawing it and clicks no longer find it; a route code fits the map to the road."""
    out = tmp_path / "click.html"
    CliRunner().invoke(
        map_group, ["overview", "--lang", "en", "--offline", "-o", str(out)], catch_exceptions=False
    )
    browser.open(out.as_uri())
    with county.connect() as conn:
        hid = conn.execute(  # tier I, open
            text("SELECT public_id FROM hazards WHERE provider_row_id = '4'")
        ).scalar_one()
    assert browser.js(
        f"HazardsMap.registry[0].find({json.dumps(hid)}, document.createElement('div'))"
    )
    point = browser.call(  # where the hazard is on screen, once the zoom animation is over
        "Runtime.evaluate",
        awaitPromise=True,
        returnByValue=True,
        expression=(
            "new Promise(r => setTimeout(() => { const map = HazardsMap.registry[0].map;"
            " const ll = map._popup.getLatLng(); map.closePopup();"
            " const p = map.latLngToContainerPoint(ll);"
            " const b = map.getContainer().getBoundingClientRect();"
            " r([b.left + p.x, b.top + p.y]); }, 600))"
        ),
    )["result"]["value"]
    popup = (
        "(() => { const map = HazardsMap.registry[0].map, p = map._popup;"
        " return p && map.hasLayer(p) ? p._contentNode.textContent : null; })()"
    )
    assert browser.js(popup) is None

    def click(x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            browser.call(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )

    click(point[0] + 2, point[1] - 1)
    assert hid in browser.js(popup)
    browser.js("void HazardsMap.registry[0].map.closePopup()")
    labels = browser.js(
        "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(l => l.textContent.trim())"
    )
    browser.js(
        "document.querySelectorAll('.leaflet-control-layers-overlays input')"
        f"[{labels.index('Tier I (high)')}].click()"
    )
    assert browser.js(
        "HazardsMap.registry[0].groups.filter(g => g.tier === 'I').every(g => !g.visible)"
    )
    click(point[0] + 2, point[1] - 1)  # the road under it, if anything, answers now
    assert hid not in (browser.js(popup) or "")
    assert browser.js("HazardsMap.registry[0].find('y002', document.createElement('div'))")
    assert browser.errors() == []


@pytest.mark.slow
def test_overview_of_100k_hazards(county, browser: Page, tmp_path: Path) -> None:
    """Scale: 100,000 hazards build quickly, stay a bounded HTML size and open in Chromium."""
    with county.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO hazards (public_id, road_id, chainage_m, tier, status, category,
                                 description, estimated_cost_cny, geom)
            SELECT 'B' || lpad(i::text, 6, '0'), r.id, (i % 4000)::float,
                   (ARRAY['I', 'II', 'III'])[1 + i % 3],
                   (ARRAY['identified', 'planned', 'in_progress', 'verified'])[1 + i % 4],
                   'sharp_curve', '弯道视距不良，缺少警告标志', 20000 + i,
                   ST_SetSRID(ST_MakePoint(112.2 + random() * 0.3, 28.7 + random() * 0.3), 4326)
            FROM generate_series(1, 100000) AS i, roads r WHERE r.route_code = 'X001'
        """)
        )
    out = tmp_path / "big.html"
    started = time.monotonic()
    CliRunner().invoke(
        map_group, ["overview", "--lang", "en", "--offline", "-o", str(out)], catch_exceptions=False
    )
    built = time.monotonic() - started
    size_mb = out.stat().st_size / 1e6
    started = time.monotonic()
    browser.open(out.as_uri())
    drawn = browser.drawn(db_count(county))  # as the benchmark: loaded and drawn
    opened = time.monotonic() - started
    print(f"100k hazards: built in {built:.1f} s, {size_mb:.1f} MB, opened in {opened:.1f} s")
    assert drawn == db_count(county)
    assert browser.errors() == []
    assert built < 60 and size_mb < 25 and opened < 30


def test_a_road_without_a_route_code_is_on_the_maps(county) -> None:
    """The roads loaded without a route code (U-…) were on no map: the overview left them
    out, and `map road U-…` drew an empty map of the whole world."""
    from hazards.db import store

    with county.connect() as conn:
        roads, (uncoded,) = (
            conn.execute(text("SELECT count(*) FROM roads")).scalar_one(),
            conn.execute(text("SELECT route_code FROM roads WHERE unassigned")).scalars().all(),
        )
    assert uncoded.startswith("U-")
    assert store.road_layer(county)["count"] == roads
    own = store.road_layer(county, route=uncoded)
    assert own["count"] == 1 and own["bbox"] is not None
    assert json.loads(own["geojson"])["features"][0]["properties"]["route"] == uncoded
