"""Crashes on the maps (issue 17 item 6) against a real PostGIS: the crash layer, black spots,
the dossier strip's crash ticks and ``hazards map screen``, checked in the HTML and in headless
Chromium (no console error, features drawn equal to the database, popups as text)."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import pytest
from browser import Page, browser_fixture  # noqa: F401  (fixture)
from builders import along
from click.testing import CliRunner
from sqlalchemy import text

from hazards.cli import cli
from hazards.crash_maps import add_crash_layers, black_spots, crash_dossier, screen_map
from hazards.mapping import overview_map

HEADER = ["事故编号", "年", "月", "日", "时", "分", "经度", "纬度", "路线编码", "桩号",
          "死亡人数", "受伤人数", "重伤人数", "事故形态", "天气"]  # fmt: skip
XSS = "<script>alert(1)</script>"
SPOT_M = 2050.0  # the planted black spot on X001: 7 crashes within 60 m of it


def _planted(net: dict) -> list[list]:
    """Crash rows: a black spot and scattered crashes on X001, some on Y002, one located by
    chainage only, one far from every road (kept, unattached), one with a script as its type."""
    rnd = random.Random(5)
    rows: list[list] = []

    def add(cid: str, route: str, m: float | None, *, coords: bool = True, **kw: str) -> None:
        lon, lat = along(net["lines"][route], m if m is not None else 0.0)
        year, month = rnd.choice([2023, 2024]), rnd.randint(1, 12)
        sev = rnd.choice(["K", "A", "B", "O", "O"])
        dead, hurt, serious = {"K": (1, 1, 0), "A": (0, 2, 1), "B": (0, 1, 0), "O": (0, 0, 0)}[sev]
        rows.append(
            [cid, year, month, rnd.randint(1, 28), rnd.randint(0, 23), rnd.randint(0, 59),
             lon if coords else "", lat if coords else "",
             kw.get("code", ""), kw.get("stake", ""), dead, hurt, serious,
             kw.get("kind", rnd.choice(["追尾", "侧面碰撞", "刮撞行人"])), "晴"]
        )  # fmt: skip

    for k in range(7):
        add(f"S{k}", "X001", SPOT_M + rnd.uniform(-60, 60))
    for k in range(12):
        add(f"X{k}", "X001", rnd.uniform(100, 1500) if k % 2 else rnd.uniform(3000, 4500))
    for k in range(5):
        add(f"Y{k}", "Y002", rnd.uniform(100, 900))
    add("C1", "X001", None, coords=False, code="X001", stake="K1+200")  # chainage only
    add("T1", "Y002", 500.0, kind=XSS)
    lon, lat = along(net["lines"]["X001"], 800.0)
    rows.append(
        ["FAR", 2024, 3, 3, 8, 0, lon + 0.03, lat + 0.03, "", "", 0, 1, 0, "单车事故", "雨"]
    )
    return rows


@pytest.fixture
def crashes(tmp_path: Path, net: dict, roads):  # type: ignore[no-untyped-def]
    path = tmp_path / "crashes.csv"
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *_planted(net)])
    out = CliRunner().invoke(
        cli, ["crashes", "import", str(path), "--source", "县交警大队", "--json"]
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert (report["stored"], report["unattached"], report["rejected"]) == (26, 1, 0), report
    return roads


def db_count(engine, where: str = "TRUE") -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM crashes WHERE {where}")).scalar_one())


ON_X001 = "route_code = 'X001' AND road_id IS NOT NULL"


def _blocks(page: str) -> dict[str, str]:
    return dict(re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', page))


# ----------------------------------------------------------------------------- HTML
def test_crash_layer_carries_every_placed_crash_as_text(crashes) -> None:
    page = add_crash_layers(overview_map(engine=crashes), engine=crashes).get_root().render()
    blocks = _blocks(page)
    data = json.loads(next(v for k, v in blocks.items() if k.endswith("-crashes")))
    assert len(data["id"]) == db_count(crashes, "geom IS NOT NULL") == 27  # placed by 桩号 too
    assert sorted(data["id"]) == sorted(
        r
        for (r,) in crashes.connect().execute(
            text("SELECT crash_id FROM crashes WHERE geom IS NOT NULL")
        )
    )
    assert data["s"][-1] == "K" and "FAR" in data["id"]  # fatal drawn last; unattached shown
    assert data["a"][data["id"].index("FAR")] == 0
    assert XSS not in page and "\\u003cscript\\u003e" in page  # the type stays text
    assert any(k.endswith("-spots") for k in blocks)


def test_no_crash_layer_without_crashes(roads) -> None:
    page = add_crash_layers(overview_map(engine=roads), engine=roads).get_root().render()
    assert not re.search(r"HazardsCrashes\.draw\(map_", page)


def test_black_spots_find_the_planted_cluster_without_overlap(crashes) -> None:
    spots = black_spots(engine=crashes)["sites"]
    assert spots[0]["route"] == "X001" and spots[0]["crashes"] >= 7
    assert spots[0]["from_m"] <= SPOT_M - 60 and spots[0]["to_m"] + 15 >= SPOT_M + 60
    assert [s["rank"] for s in spots] == list(range(1, len(spots) + 1))
    for a in spots:
        assert a["crashes"] >= 3
        for b in spots:
            if a is not b and a["route"] == b["route"]:
                assert a["to_m"] <= b["from_m"] or b["to_m"] <= a["from_m"]
    assert all(s["route"] == "Y002" for s in black_spots(engine=crashes, route="Y002")["sites"])


def test_dossier_strip_has_a_tick_per_crash_on_the_route(crashes, net: dict) -> None:
    page = crash_dossier("x001", engine=crashes, lang="zh").render()
    ticks = page.count('class="hz-strip-crash"')
    planted = sum(r[0][0] in "SXC" for r in _planted(net))  # spot, scattered and 桩号-only
    assert ticks == planted == db_count(crashes, ON_X001) == 20
    assert "事故" in page and "死亡事故（K）" in page


# ----------------------------------------------------------------------------- browser
PERIOD = ["--from", "2024-01-01", "--to", "2024-12-31"]
MAPS = [
    ("overview", ["overview"], "geom IS NOT NULL", None),
    ("road", ["road", "X001", "--lang", "zh"], f"geom IS NOT NULL AND {ON_X001}", ON_X001),
    ("screen", ["screen", "--top", "5"], "geom IS NOT NULL", None),
    (
        "screen-ksi-2024",
        ["screen", "--unit", "cell", "--measure", "ksi", *PERIOD, "--lang", "zh"],
        "geom IS NOT NULL AND occurred_on BETWEEN '2024-01-01' AND '2024-12-31'",
        None,
    ),
]


@pytest.mark.parametrize(("name", "args", "where", "strip"), MAPS, ids=[m[0] for m in MAPS])
def test_crash_map_in_chromium(
    crashes, browser: Page, tmp_path: Path, name: str, args: list[str], where: str, strip: str
) -> None:
    out = tmp_path / f"{name}.html"
    result = CliRunner().invoke(cli, ["map", *args, "--offline", "-o", str(out)])
    assert result.exit_code == 0, result.output
    browser.open(out.as_uri())
    assert browser.errors() == []
    counts = browser.js("HazardsCrashes.counts()")
    assert counts["crashes"] == db_count(crashes, where) > 0
    if args[0] == "screen":  # the sites of `hazards screen` with the same options
        same = [a for a in args[1:] if a not in ("--lang", "zh")]
        same += [] if "--top" in same else ["--top", "20"]
        if "--unit" not in same:
            same += ["--unit", "window"]
        sites = json.loads(CliRunner().invoke(cli, ["screen", *same, "--json"]).output)["sites"]
        assert counts["sites"] == len(sites) > 0
    else:
        assert counts["spots"] >= 1
    if strip:
        assert browser.js("document.querySelectorAll('.hz-strip-crash').length") == db_count(
            crashes, strip
        )
    control = browser.js("document.querySelector('.leaflet-control-layers').textContent")
    assert str(db_count(crashes, where)) in control
    assert {u for u in browser.requests() if not u.startswith("data:")} <= {out.as_uri()}


def test_crash_popup_and_toggle_in_chromium(crashes, browser: Page, tmp_path: Path) -> None:
    out = tmp_path / "o.html"
    add_crash_layers(overview_map(engine=crashes, lang="zh"), engine=crashes, lang="zh").save(
        str(out)
    )
    browser.open(out.as_uri())
    n = db_count(crashes, "geom IS NOT NULL")
    assert browser.js("HazardsCrashes.counts().crashes") == n
    popup = browser.js(
        "(() => { const e = HazardsCrashes.registry[0];"
        " const m = e.crashes.getLayers().find(l => e.data.id[l.options.crash] === 'T1');"
        " m.openPopup(); return m.getPopup().getElement().textContent; })()"
    )
    assert "T1" in popup and XSS in popup and "事故形态" in popup and "县交警大队" in popup
    assert browser.js("document.querySelectorAll('.leaflet-popup-content script').length") == 0
    browser.js(
        "void HazardsCrashes.registry[0].map.removeLayer(HazardsCrashes.registry[0].crashes)"
    )
    assert browser.js("HazardsCrashes.counts().crashes") == 0
    assert browser.errors() == []


def test_screen_map_options_and_errors(crashes, tmp_path: Path) -> None:
    from hazards.screening import screen

    page = screen_map(unit="route", measure="eb-excess", engine=crashes).get_root().render()
    sites = json.loads(next(v for k, v in _blocks(page).items() if k.endswith("-sites")))
    want = screen(unit="route", measure="eb-excess", top=20, engine=crashes)["sites"]
    got = [(f["properties"]["rank"], f["properties"]["route"]) for f in sites["features"]]
    assert got == [(s["rank"], s["route"]) for s in want] and len(got) >= 2
    bad = CliRunner().invoke(
        cli, ["map", "screen", "--unit", "junction", "--measure", "eb-excess", "-o",
              str(tmp_path / "x.html")]
    )  # fmt: skip
    assert bad.exit_code != 0 and "Traceback" not in bad.output and "junction" in bad.output
    for param in cli.commands["map"].commands["screen"].params:  # type: ignore[attr-defined]
        assert param.help, param


def test_a_township_map_shows_the_black_spots_of_its_own_roads_only(crashes) -> None:
    """`map overview --township T` drew every black spot of the county (the crashes were
    filtered by township, the black spots not)."""
    with crashes.connect() as conn:
        towns = dict(
            conn.execute(
                text(
                    "SELECT s.township, bool_or(r.route_code = 'X001' AND s.from_m <= :m "
                    "AND s.to_m >= :m) FROM road_segments s JOIN roads r ON r.id = s.road_id "
                    "WHERE s.township IS NOT NULL GROUP BY s.township"
                ),
                {"m": SPOT_M},
            ).all()
        )
    here = [t for t, holds in towns.items() if holds]
    away = [t for t, holds in towns.items() if not holds]
    assert here and away
    planted = black_spots(engine=crashes)["sites"][0]
    key = ("X001", planted["from_m"])
    assert key in {
        (s["route"], s["from_m"])
        for s in black_spots(engine=crashes, townships=tuple(here))["sites"]
    }
    elsewhere = black_spots(engine=crashes, townships=tuple(away))["sites"]
    assert key not in {(s["route"], s["from_m"]) for s in elsewhere}
    assert len(elsewhere) < len(black_spots(engine=crashes)["sites"])
