"""Maps against a real PostGIS: content and escaping of the HTML, the CLI, and the pages opened in
headless Chromium (console errors, feature counts, legend, screenshot, no network, no XSS)."""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium
import pytest
from builders import frame, network
from click.testing import CliRunner
from sqlalchemy import text

from hazards.cli_maps import map_group
from hazards.db import mapdata, store
from hazards.errors import ConfigError, NotFound
from hazards.mapping import batch_map, chainage_strip, hazard_table, overview_map, road_dossier
from hazards.roads import load_roads
from hazards.survey import import_survey

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
    roads = tmp_path / "roads.gpkg"
    frame(network()["features"], "EPSG:4546").to_file(roads, engine="pyogrio")
    load_roads(roads, engine=engine)
    survey = tmp_path / "survey.csv"
    with survey.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *ROWS])
    import_survey(survey, provider="p", surveyed_on="2025-03-01", engine=engine)
    with engine.begin() as conn:
        for row, status in STATUS.items():
            conn.execute(
                text("UPDATE hazards SET status = :s WHERE provider_row_id = :r"),
                {"s": status, "r": row},
            )
        bid = conn.execute(
            text(
                "INSERT INTO batches (plan_name, name, contractor) VALUES ('2025', :n, '某建设公司') "
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


def page_hazards(page: str) -> list[dict[str, Any]]:
    """The hazards encoded in a page's JSON blocks, decoded back to one dict per hazard."""
    blocks = dict(re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', page))
    out = []
    for key in [k for k in blocks if k.endswith("-points")]:
        pts, att = json.loads(blocks[key]), json.loads(blocks[key[: -len("points")] + "attrs"])
        cfg = json.loads(
            page.split(f', "{key[: -len("-points")]}");')[0]
            .rsplit("HazardsMap.draw(", 1)[1]
            .split(", ", 1)[1]
        )
        x = y = num = route = 0
        for i in range(pts["n"]):
            x, y, num = x + pts["x"][i], y + pts["y"][i], num + att["id"]["n"][i]
            route += att["route"]["c"][i]
            k = att["id"]["c"][i]
            width = att["id"]["w"][k]
            group = cfg["groups"][pts["g"][i]]
            out.append(
                {
                    "id": att["id"]["p"][k] + (str(num).zfill(width) if width else ""),
                    "lon": x / 1e6,
                    "lat": y / 1e6,
                    "tier": group["tier"],
                    "status": group["status"],
                    "route": att["route"]["t"][route],
                    "ch": att["ch"][i],
                    "cat": att["cat"]["t"][att["cat"]["c"][i]],
                    "desc": att["desc"]["t"][att["desc"]["c"][i]],
                    "batch": att["batch"]["t"][att["batch"]["c"][i]],
                    "event": " ".join(
                        v for col in att["event"] if (v := col["t"][col["c"][i]]) is not None
                    )
                    or None,
                    "cost": att["cost"][i],
                }
            )
    return out


# ----------------------------------------------------------------------------- HTML
def test_overview_has_every_placed_hazard_and_no_cdn(county) -> None:
    page = overview_map(engine=county).get_root().render()
    assert db_count(county) == len(ROWS)
    hazards = page_hazards(page)
    with county.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT public_id, ST_X(geom), ST_Y(geom), coalesce(tier_override, tier, ''), "
                "status, description, estimated_cost_cny FROM hazards WHERE geom IS NOT NULL"
            )
        ).all()
    expected = {
        r[0]: (round(r[1], 6), round(r[2], 6), r[3], r[4], r[5] or None, r[6]) for r in rows
    }
    got = {
        h["id"]: (h["lon"], h["lat"], h["tier"], h["status"], h["desc"], h["cost"]) for h in hazards
    }
    assert got.keys() == expected.keys() and len(hazards) == len(ROWS)
    for key, (lon, lat, tier, status, desc, cost) in expected.items():
        assert got[key][:5] == (lon, lat, tier, status, desc)
        assert got[key][5] == (None if cost is None else round(cost))
    assert {h["route"] for h in hazards} == {"X001", "Y002", "Y003"}
    assert {h["batch"] for h in hazards} == {BATCH, None}
    events = {h["event"] for h in hazards}
    assert any(e and e.endswith("planned 列入第一批") for e in events)
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


def test_unknown_road_and_batch(county) -> None:
    with pytest.raises(NotFound, match="X999"):
        road_dossier("X999", engine=county)
    with pytest.raises(NotFound, match="2025-第一批"):
        batch_map("nope", engine=county)


def test_dossier_strip_and_table_escape(county) -> None:
    page = road_dossier("X001", engine=county, lang="zh").render()
    assert page.count('class="hz-strip-hazard"') == db_count(county, "r.route_code = 'X001'")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and XSS not in page
    assert "一路一档" in page and "琼湖街道" in page and "K2+500" in page
    head, table = page.index('<svg class="hz-strip"'), page.index('<table class="hz-table"')
    assert head < page.index('class="folium-map"') < table


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
def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        message = "Chromium is missing: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI=true, so this fails)")
        pytest.skip(message)
    return exe


class Page:
    """One Chromium tab driven over the DevTools protocol; events are kept in ``events``."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._id = 0
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("id") == self._id:
                assert "error" not in msg, msg
                return msg.get("result", {})
            self.events.append(msg)

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            assert time.monotonic() < deadline, "the page did not load"
            self.events.append(json.loads(self.ws.recv(timeout=30)))

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def drawn(self, expected: int, timeout: float = 30) -> int:
        """``HazardsMap.featureCount()`` once it reaches ``expected`` (the page counts hazards
        after drawing them, on an animation frame) or ``timeout`` seconds have passed."""
        result = self.call(
            "Runtime.evaluate",
            awaitPromise=True,
            returnByValue=True,
            expression=(
                "new Promise(r => { const t0 = performance.now(); (function poll() {"
                " const n = HazardsMap.featureCount();"
                f" if (n >= {int(expected)} || performance.now() - t0 > {timeout * 1000})"
                " r(n); else setTimeout(poll, 10); })(); })"
            ),
        )
        return result["result"]["value"]

    def errors(self) -> list[Any]:
        """Uncaught exceptions, dialogs (alert), console errors and error log entries."""
        fatal = ("Runtime.exceptionThrown", "Page.javascriptDialogOpening")
        bad = [e["params"] for e in self.events if e.get("method") in fatal]
        bad += [
            e["params"]
            for e in self.events
            if e.get("method") == "Runtime.consoleAPICalled"
            and e["params"]["type"] in ("error", "assert")
        ]
        bad += [
            e["params"]["entry"]
            for e in self.events
            if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
        ]
        return bad

    def requests(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    exe = _chromium()
    pytest.importorskip("websockets", reason="the browser tests need the websockets package")
    profile = tmp_path_factory.mktemp("chromium-profile")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1000,750",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "about:blank",
    ]
    proc = subprocess.Popen([exe, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline and proc.poll() is None, "Chromium did not start"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        from urllib.request import urlopen

        targets = json.load(urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        from websockets.sync.client import connect

        with connect(url, max_size=None, open_timeout=10) as ws:
            yield Page(ws)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def distinct_colours(png: bytes) -> int:
    """Distinct RGB colours of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes)."""
    width, height, depth, ctype = struct.unpack(">IIBB", png[16:26])
    assert depth == 8 and ctype in (2, 6)
    bpp = 3 if ctype == 2 else 4
    chunks, pos = [], 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"IDAT":
            chunks.append(png[pos + 8 : pos + 8 + length])
        pos += 12 + length
    raw, stride = zlib.decompress(b"".join(chunks)), width * bpp
    prev, colours = bytearray(stride), set()
    for y in range(height):
        kind, row = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                row[i] = (row[i] + a) & 255
            elif kind == 2:
                row[i] = (row[i] + b) & 255
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(bytes(row[i : i + 3]) for i in range(0, stride, bpp))
        prev = row
    return len(colours)


MAPS = [
    ("overview", ["overview"], "TRUE", "en"),
    (
        "overview-zh-tier-I",
        ["overview", "--lang", "zh", "--tier", "I"],
        "coalesce(h.tier_override, h.tier) = 'I'",
        "zh",
    ),
    ("road-X001", ["road", "X001", "--lang", "zh"], "r.route_code = 'X001'", "zh"),
    ("batch", ["batch", BATCH], "h.provider_row_id IN ('2', '3')", "en"),
    ("overview-none", ["overview", "--status", "review"], "h.status = 'review'", "en"),
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
    CliRunner().invoke(map_group, ["overview", "--offline", "-o", str(out)], catch_exceptions=False)
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
    rows = mapdata.road_hazard_rows(county, store.get_road(county, "X001")["id"])
    row = rows[rows["id"] == planned].iloc[0]
    assert browser.js(
        f"HazardsMap.registry[0].find({json.dumps(planned)}, document.createElement('div'))"
    )
    popup = browser.js(
        "Array.from(document.querySelectorAll('.leaflet-popup-content')).pop().textContent"
    )
    for text_ in (row["last_event"], BATCH, row["description"], "Planned", "K0+600"):
        assert text_ in popup, (text_, popup)
    assert browser.js("document.querySelectorAll('.leaflet-popup-content script').length") == 0
    assert browser.errors() == []


def test_click_toggle_and_search_in_chromium(county, browser: Page, tmp_path: Path) -> None:
    """A click on a drawn hazard opens its popup (hit-tested on the canvas); unticking its tier
    stops drawing it and clicks no longer find it; a route code fits the map to the road."""
    out = tmp_path / "click.html"
    CliRunner().invoke(map_group, ["overview", "--offline", "-o", str(out)], catch_exceptions=False)
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
    CliRunner().invoke(map_group, ["overview", "--offline", "-o", str(out)], catch_exceptions=False)
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
