"""Complete zh (issue 18 item 6): every page built in Chinese is walked in headless Chromium and
no visible Latin word that has a Chinese form may be left (status, tier, category, class and
event codes, table and popup words); CLI table headers in Chinese with English ``--json`` keys;
titles without a repeated route code; 缺测路段, not 断链, for missing geometry; and the dossier
strip scrolls sideways on a 390 px phone at a readable scale."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from browser import Page, browser_fixture  # noqa: F401  (fixture)
from builders import along
from click.testing import CliRunner
from sqlalchemy import text

from hazards.cli import cli
from hazards.map_html import MORE_LABELS, STRIP_PX_PER_KM, road_title
from hazards.map_style import CRASH_LABELS, LABELS
from hazards.vocabulary import (
    CATEGORIES,
    CLASS_ZH,
    EVENT_KIND_EN,
    EVENT_KINDS,
    STATUSES,
)

DATA = Path(__file__).parent / "data"
BATCH = "2025-第一批"
CRASH_HEADER = ["事故编号", "年", "月", "日", "经度", "纬度", "死亡人数", "受伤人数", "事故形态"]


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in _strings(v)]
    return []


def _words(texts: list[str]) -> set[str]:
    """Latin words of two letters or more, lower case (codes such as ``in_progress`` whole)."""
    return {w.lower() for t in texts for w in re.findall(r"[A-Za-z][A-Za-z_]+", t)}


EN_TEXTS = _strings([LABELS["en"], MORE_LABELS["en"], CRASH_LABELS["en"], EVENT_KIND_EN])
ZH_TEXTS = _strings([LABELS["zh"], MORE_LABELS["zh"], CRASH_LABELS["zh"]])
CODES = {*STATUSES, *CATEGORIES, *CLASS_ZH, *EVENT_KINDS}
ALLOWED = _words(ZH_TEXTS) | {"km", "leaflet"}
"""Latin words the Chinese pages use themselves (KSI, EPDO, km) and Leaflet's credit."""
FORBIDDEN = (_words(EN_TEXTS) | {c.lower() for c in CODES}) - ALLOWED
"""Every English word of the pages' labels and every code that has a Chinese form."""


def test_the_forbidden_words_are_the_english_labels() -> None:
    assert {"identified", "reported_done", "sharp_curve", "county", "seen_again"} <= FORBIDDEN
    assert {"hazard", "status", "chainage", "countermeasure", "photos"} <= FORBIDDEN
    assert "ksi" in ALLOWED and "ksi" not in FORBIDDEN


@pytest.fixture
def county(tmp_path: Path, net: dict, roads):  # type: ignore[no-untyped-def]
    """The test network, tests/data/linear_survey.csv with its photos, a batch of two, history
    events of several kinds, and crashes on X001 and Y002."""
    from hazards.intake import import_survey

    shutil.copy(DATA / "linear_survey.csv", tmp_path / "linear_survey.csv")
    shutil.copytree(DATA / "linear_photos", tmp_path / "linear_photos")
    import_survey(
        tmp_path / "linear_survey.csv",
        provider="某检测公司",
        surveyed_on="2025-03-01",
        photos=tmp_path / "linear_photos",
        engine=roads,
    )
    with roads.begin() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM hazards ORDER BY id")).all()]
        bid = conn.execute(
            text(
                "INSERT INTO batches (plan_name, name, contractor, status) "
                "VALUES ('2025', :n, '某建设公司', 'issued') RETURNING id"
            ),
            {"n": BATCH},
        ).scalar_one()
        for hid in ids[:2]:
            conn.execute(
                text(
                    "INSERT INTO batch_items (batch_id, hazard_id, cost_cny) VALUES (:b, :h, 1000)"
                ),
                {"b": bid, "h": hid},
            )
            conn.execute(text("UPDATE hazards SET status = 'planned' WHERE id = :h"), {"h": hid})
            conn.execute(
                text(
                    "INSERT INTO hazard_events (hazard_id, kind, from_status, to_status, note) "
                    "VALUES (:h, 'status', 'identified', 'planned', '列入第一批')"
                ),
                {"h": hid},
            )
        conn.execute(
            text("INSERT INTO hazard_events (hazard_id, kind, note) VALUES (:h, 'seen_again', '')"),
            {"h": ids[-1]},
        )
    rows = []
    for k, (route, m) in enumerate([("X001", 300.0), ("X001", 320.0), ("Y002", 400.0)] * 2):
        lon, lat = along(net["lines"][route], m + k)
        rows.append([f"C{k}", 2024, 1 + k, 5, lon, lat, k % 2, 1, "追尾"])
    path = tmp_path / "crashes.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([CRASH_HEADER, *rows])
    out = CliRunner().invoke(cli, ["crashes", "import", str(path), "--source", "县交警大队"])
    assert out.exit_code == 0, out.output
    return roads


PAGES = {
    "overview": ["overview"],
    "road": ["road", "X001"],
    "batch": ["batch", BATCH],
    "screen": ["screen", "--unit", "window"],
}

VISIBLE = """(() => {
  const parts = [document.body.innerText];
  for (const sel of ['.leaflet-control-layers', '.hz-legend', '.hz-crash-legend',
                     '.leaflet-popup-content', 'svg title', '.leaflet-tooltip', 'input']) {
    document.querySelectorAll(sel).forEach(n => parts.push(n.textContent || '',
      n.getAttribute('placeholder') || '', n.getAttribute('title') || ''));
  }
  parts.push(document.title);
  return parts.join('\\n');
})()"""


def _walk(browser: Page, out: Path) -> str:
    """The page's visible text, with the layer control, legends, strip tooltips and the popup
    of its first hazard opened."""
    browser.open(out.as_uri())
    # the survey gives one photo as a URL (shown as it is): offline, only it fails to load
    assert [e for e in browser.errors() if not str(e.get("url", "")).startswith("https://")] == []
    ids = browser.js(
        "(() => { const e = HazardsMap.registry[0]; if (!e || !e.data.n) return null;"
        " return e.find ? e.data.n : null; })()"
    )
    texts = [browser.js(VISIBLE)]
    if ids:
        page = out.read_text(encoding="utf-8")
        for hid in sorted(set(re.findall(r"H\d{6}", page)))[:3]:
            browser.js(
                f"HazardsMap.registry[0].find({json.dumps(hid)}, document.createElement('div'))"
            )
            texts.append(browser.js(VISIBLE))
    return "\n".join(texts)


@pytest.mark.parametrize("name", list(PAGES))
def test_zh_pages_show_no_english_word_that_has_a_chinese_form(
    county, browser: Page, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "maps" / f"{name}.html"
    result = CliRunner().invoke(
        cli, ["map", *PAGES[name], "--lang", "zh", "--offline", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    visible = _walk(browser, out)
    assert re.search(r"[\u4e00-\u9fff]", visible)
    left = sorted(_words([visible]) & FORBIDDEN)
    assert left == [], f"English words on the zh {name} page: {left}"
    assert "断链" not in out.read_text(encoding="utf-8")
    if name == "road":
        assert "缺测路段" in visible
        assert "X001 X001" not in visible
    if name == "batch":  # the site table, the numbers beside the sites
        assert "整治点位清单" in visible and "工程量" in visible
        labels = browser.js(
            "Array.from(document.querySelectorAll('.leaflet-tooltip.hz-site-label'))"
            ".map(t => t.textContent.trim())"
        )
        assert sorted(labels, key=int) == ["1", "2"]


def test_the_dossier_title_names_the_route_once() -> None:
    road = {"route_code": "X018", "name": "X018 南嘴至新湾公路"}
    assert road_title(road, "zh") == "X018 南嘴至新湾公路 一路一档"
    assert road_title({"route_code": "X018", "name": "南嘴至新湾公路"}, "zh") == (
        "X018 南嘴至新湾公路 一路一档"
    )


def test_the_strip_scrolls_sideways_on_a_phone(county, browser: Page, tmp_path: Path) -> None:
    out = tmp_path / "maps" / "road.html"
    result = CliRunner().invoke(
        cli, ["map", "road", "X001", "--lang", "zh", "--offline", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=390,
        height=844,
        deviceScaleFactor=1,
        mobile=True,
    )
    try:
        browser.open(out.as_uri())
        box = browser.js(
            "(() => { const s = document.querySelector('.hz-strip-scroll');"
            " const svg = s.querySelector('svg');"
            " return [s.scrollWidth, s.clientWidth, svg.getBoundingClientRect().width,"
            " document.documentElement.scrollWidth]; })()"
        )
        with county.connect() as conn:
            end_m = conn.execute(
                text("SELECT end_m FROM roads WHERE route_code = 'X001'")
            ).scalar_one()
        scroll_width, client_width, svg_px, page_width = box
        assert scroll_width > client_width and client_width <= 390
        assert svg_px >= float(end_m) / 1000 * STRIP_PX_PER_KM  # a readable scale
        assert page_width <= 390 + 1 or page_width < svg_px  # the strip scrolls, not the page
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")


def test_cli_tables_have_chinese_headers_and_english_json_keys(
    county, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAZARDS_LANG", "zh")
    monkeypatch.setenv("COLUMNS", "200")
    from hazards.settings import get_settings

    get_settings.cache_clear()
    table = CliRunner().invoke(cli, ["list"])
    assert table.exit_code == 0, table.output
    head = table.output
    for zh in ("编号", "路线编码", "桩号", "隐患类型", "风险等级", "状态"):
        assert zh in head
    assert "route_code" not in head and "identified" not in head and "planned" not in head
    assert "已计划" in head and "待治理" in head
    rows = json.loads(CliRunner().invoke(cli, ["list", "--json"]).output)
    assert {"id", "route_code", "status"} <= set(rows[0])
    assert {r["status"] for r in rows} >= {"planned", "identified"}


def _kv_keys(output: str, keys: list[str]) -> dict[str, bool]:
    """For each key: whether a line of a key/value table starts with it (then two spaces)."""
    lines = output.splitlines()
    return {
        k: any(re.match(rf"{re.escape(k)}\s{{2,}}|{re.escape(k)}$", ln) for ln in lines)
        for k in keys
    }


def test_cli_key_value_tables_have_chinese_keys(county, monkeypatch: pytest.MonkeyPatch) -> None:
    """`history`, `db status`, `roads show`, `chainage locate/measure`, `db working-crs show`:
    in zh every key is shown in Chinese (none left in English), ``--json`` keeps the keys;
    `show-versions` keeps its package names (names, not words)."""
    from hazards.cli._common import key_title

    monkeypatch.setenv("HAZARDS_LANG", "zh")
    monkeypatch.setenv("COLUMNS", "200")
    from hazards.settings import get_settings

    get_settings.cache_clear()
    with county.connect() as conn:
        hid = conn.execute(text("SELECT public_id FROM hazards ORDER BY id LIMIT 1")).scalar_one()
    runner = CliRunner()
    x001 = json.loads(runner.invoke(cli, ["chainage", "locate", "X001", "K0+300", "--json"]).output)
    commands = {
        "history": ["history", hid],
        "db status": ["db", "status", "--no-start"],
        "locate": ["chainage", "locate", "X001", "K0+300"],
        "measure": ["chainage", "measure", "X001", str(x001["lon"]), str(x001["lat"])],
        "working crs": ["db", "working-crs", "show"],
    }
    for name, args in commands.items():
        data = json.loads(runner.invoke(cli, [*args, "--json"]).output)
        keys = [k for k, v in data.items() if not isinstance(v, (list, dict))]
        if name == "history":  # its chainage as K0+300, a section's ends as 起止桩号
            hidden = ("from_m", "to_m", "category_raw")
            keys = ["chainage" if k == "chainage_m" else k for k in keys if k not in hidden]
            keys += ["section"] if data["from_m"] is not None else []
        table = runner.invoke(cli, args)
        assert table.exit_code in (0, 1), (name, table.output)
        english = _kv_keys(table.output, keys)
        assert not any(english.values()), (name, [k for k, v in english.items() if v])
        for k in keys:
            title = key_title(k, "zh")
            assert re.search(r"[\u4e00-\u9fff]", title), (name, k, title)
            assert title in table.output, (name, k, title)
        assert "是" in table.output or "否" in table.output or name in ("history", "working crs")
    show = runner.invoke(cli, ["roads", "show", "X001"]).output
    shown = ["route", "name", "class", "township", "length_km", "segments", "townships"]
    assert not any(_kv_keys(show, [*shown, "chainage"]).values()), show
    for k in (*shown, "chainage"):
        assert key_title(k, "zh") in show, k
    history = runner.invoke(cli, ["history", hid]).output
    assert "费用来源" in history and "状态" in history
    metres = json.loads(runner.invoke(cli, ["history", hid, "--json"]).output)["chainage_m"]
    m = round(metres)
    assert f"K{m // 1000}+{m % 1000:03d}" in history and "桩号（米）" not in history, history
    versions = runner.invoke(cli, ["show-versions", "--no-db"])
    names = json.loads(runner.invoke(cli, ["show-versions", "--no-db", "--json"]).output)
    assert all(_kv_keys(versions.output, list(names)).values()), versions.output


_NOTE_WORDS = re.compile(r"[A-Za-z]{3,}")


def _english(note: str) -> list[str]:
    """Latin words in a note beyond codes, chainages and file names (X001, K0+300, roads.gpkg)."""
    rest = re.sub(r"\S*\.(?:gpkg|shp|geojson|csv|xlsx)\b|[A-Z]\d{3}|K\d+\+\d+", "", note)
    return _NOTE_WORDS.findall(rest)


def test_generated_event_notes_in_chinese(
    county, net: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notes hazards writes itself on a route renumbered and a road reload (kept, or sent to
    review) read in Chinese in `history` and on the road's page in zh; as written in en."""
    from builders import frame
    from shapely.affinity import translate

    from hazards.mapping import road_dossier
    from hazards.vocabulary import event_note

    monkeypatch.setenv("HAZARDS_LANG", "zh")
    monkeypatch.setenv("COLUMNS", "250")
    from hazards.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    out = runner.invoke(cli, ["roads", "rename", "Y002", "Y012"])
    assert out.exit_code == 0, out.output
    pieces = [f for f in net["features"] if f["路线编码"] == "X001"]
    kept = [dict(f, geometry=translate(f["geometry"], xoff=0.00006)) for f in pieces[:2]]
    others = [f for f in net["features"] if f["路线编码"] != "X001"]
    path = tmp_path / "roads-new.gpkg"
    frame([*kept, *others], "EPSG:4546").to_file(path, engine="pyogrio")
    out = runner.invoke(cli, ["roads", "load", str(path), "--replace"])
    assert out.exit_code == 0, out.output
    with county.connect() as conn:
        events = conn.execute(
            text(
                "SELECT h.public_id, e.kind, e.note FROM hazard_history e JOIN hazards h "
                "ON h.id = e.hazard_id WHERE e.kind IN ('created', 'road_reload', "
                "'route_renamed') ORDER BY e.id"
            )
        ).all()
    kinds = {k for _, k, _ in events}
    assert kinds == {"created", "road_reload", "route_renamed"}, kinds
    for _, kind, note in events:
        zh = event_note(note, "zh")
        assert zh != note and not _english(zh), (kind, note, zh)
        assert event_note(note, "en") == note
    # the review case of a reload (a hazard too far from the new line, or with no position),
    # as reattach writes it
    for note, words in (
        (
            "route X001 was reloaded from roads.gpkg: the hazard is 36.2 m from the new line "
            "(more than the 15.0 m accept distance); it was at K3+400, now nearest K2+770",
            ("36.2 米", "15.0 米", "K3+400", "K2+770", "待核查"),
        ),
        (
            "route X001 was reloaded from roads.gpkg: the hazard has neither a point nor a "
            "chainage to measure it by; it was at no chainage, now nearest -",
            ("无坐标也无桩号", "原无桩号"),
        ),
        ("plan 2025, batch 2025-第一批", ("治理计划 2025，批次 2025-第一批",)),
        ("corrected by survey 3: 位置修正", ("勘察批次 3 更正：位置修正",)),
        ("survey 4: 仍存在", ("勘察批次 4：仍存在",)),
        ("accepted", ("核查通过",)),
    ):
        zh = event_note(note, "zh")
        assert all(w in zh for w in words) and not _english(zh), zh
    assert event_note("路面 ok，已处理 by hand", "zh") == "路面 ok，已处理 by hand"  # a person's
    reloaded = next(h for h, k, _ in events if k == "road_reload")
    renamed = next(h for h, k, _ in events if k == "route_renamed")
    for hid, word in ((reloaded, "重新载入"), (renamed, "改编号为")):
        table = runner.invoke(cli, ["history", hid])
        assert table.exit_code == 0, table.output
        assert word in table.output, table.output
        assert not re.search(r"reloaded|renumbered|survey \d", table.output), table.output
        assert "identified" not in table.output  # the status change too
    page = road_dossier("X001", engine=county, lang="zh").render()
    assert "重新载入" in page and "reloaded from" not in page
    en = road_dossier("X001", engine=county, lang="en").render()
    assert "reloaded from" in en


# ----------------------------------------------------------------------------- CLI output words
def _english_lang() -> Any:
    """A context where the lang setting is en (the settings read again on the way in and out)."""
    import contextlib

    from hazards.settings import get_settings

    @contextlib.contextmanager
    def ctx():  # type: ignore[no-untyped-def]
        mp = pytest.MonkeyPatch()
        mp.setenv("HAZARDS_LANG", "en")
        get_settings.cache_clear()
        try:
            yield
        finally:
            mp.undo()
            get_settings.cache_clear()

    return ctx()


def _both(args: list[str]) -> tuple[Any, Any]:
    """``hazards ARGS`` in zh (the default) then in en, 200 columns wide."""
    runner = CliRunner(env={"COLUMNS": "200"})
    zh = runner.invoke(cli, args)
    with _english_lang():
        en = runner.invoke(cli, args)
    return zh, en


def _latin(output: str, words: set[str]) -> list[str]:
    """The ``words`` (lower case) left in ``output`` outside `commands`, options and paths."""
    rest = re.sub(r"`[^`]*`|--[\w-]+|\S*/\S*|hazards progress --by \w+", " ", output)
    return sorted(_words([rest]) & words)


DEMO_REPORT: dict[str, Any] = {
    "database": {"postgres_version": "16.4", "postgis_version": "3.4", "managed": True,
                 "home": "/tmp/h"},
    "roads_load": {"reused_existing": False, "rows_read": 300, "routes_added": 143,
                   "unassigned_added": 3, "working_crs": "EPSG:4546", "routes_unchanged": 0},
    "summary_by_class": {
        "classes": [{"class": "county", "routes": 29, "segments": 80, "length_km": 412.3},
                    {"class": "township", "routes": 111, "segments": 200, "length_km": 980.1}],
        "total": {"routes": 140, "segments": 280, "length_km": 1392.4},
    },
    "example_routes": [{"route": "X001", "name": "甲乙公路", "length_km": 12.5, "parts": [
        {"part": 0, "kind": "main", "from": "K0+000", "to": "K12+500",
         "gaps": [{"from": "K3+000", "to": "K3+200"}]}]}],
    "survey": {"rows": 500, "accepted": 450, "review": 20, "rejected": 25, "duplicates": 3,
               "empty": 2, "rejected_by_reason": {"no_position": 25}, "already_imported": True,
               "survey_id": 1, "rejected_file": "/tmp/o/rejected.csv", "added": 450},
    "tiers": {"scored": 450, "tiers": {"I": 40, "II": 160, "III": 250}, "disagreements": 12},
    "plan": {"name": "demo-2025", "reused": True, "budget_cny": 3e7, "spent_cny": 2.9e7,
             "solver": "cbc", "batches": [{"name": "demo-2025-1", "hazards": 24,
                                           "routes": ["X001"], "cost_cny": 1e7,
                                           "tiers": {"I": 20, "II": 4}}],
             "unfunded": {"hazards": 100, "cost_cny": 5e6}},
    "riskiest_routes": [{"route": "X001", "risk_per_km": 321.0}],
    "completion": {"rows": 24, "applied": 16, "unchanged": 0, "not_reported": 7, "invalid": 1,
                   "invalid_rows": [{"row": 9, "id": "H999999", "reason": "unknown id"}]},
    "rechecks": {"planned": 16, "passed": ["H000001"] * 15, "failed": ["H000002"],
                 "skipped": ["H000003"]},
    "crashes": {"rows": 570, "stored": 550, "unattached": 5, "rejected": 15, "empty": 0,
                "added": 550, "unchanged": 0, "junction": 40},
    "screening": {"window_m": 500.0, "crashes": 550,
                  "black_spots": [{"route": "X001", "from": "K1+000", "to": "K1+500",
                                   "crashes": 26}]},
    "tiers_with_crashes": {"tiers": {"I": 45, "II": 160, "III": 245}, "crash_lifted": 5},
    "evaluation": {"batch": "demo-2025-1", "before_years": 1, "treated": 24,
                   "overall": {"sites": 24, "before": 58.0, "after": 17.0,
                               "naive": {"cmf": 0.29, "ci_low": 0.17, "ci_high": 0.5},
                               "comparison": {"cmf": 0.31, "ci_low": 0.18, "ci_high": 0.52}}},
    "files": {"overview map": "/tmp/o/maps/overview.html",
              "batch demo-2025-1 (geojson)": "/tmp/o/b1.geojson",
              "completion report of demo-2025-1": "/tmp/o/done.csv"},
}  # fmt: skip
_group = {"hazards": 10, "pct_remediated": 50.0, "remaining_cost_cny": 1e6,
          "km_near_open_tier_I": 2.5,
          "counts": {**dict.fromkeys(STATUSES, 0), "identified": 5, "verified": 5}}  # fmt: skip
DEMO_REPORT["progress_by_tier"] = {
    "groups": [dict(_group, group="I")], "total": dict(_group, group="total")}  # fmt: skip
DEMO_REPORT["progress_by_township"] = {
    "groups": [dict(_group, group="甲镇")], "total": dict(_group, group="total")}  # fmt: skip

DEMO_ENGLISH = {
    "roads", "class", "county", "township", "routes", "segments", "progress", "tier", "hazards",
    "open", "done", "verified", "re", "checks", "crashes", "black", "spots", "before", "after",
    "naive", "comparison", "total", "files", "database", "survey", "accepted", "rejected",
    "plan", "budget", "unfunded", "riskiest", "completion", "part", "main", "gap", "batch",
    "map", "overview", "reused", "embedded", "km", "cny", "tiers", "rows",
}  # fmt: skip


def test_demo_report_in_chinese_and_as_before_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """`hazards demo`'s report (the demo's run replaced by a report of the same shape): zh by
    default with no English word of it left, en as before."""
    import hazards.demo

    monkeypatch.setattr(hazards.demo, "run_demo", lambda out, progress: DEMO_REPORT)
    zh, en = _both(["demo", "--out", "o"])
    assert zh.exit_code == 0 and en.exit_code == 0, (zh.output, en.output)
    assert _latin(zh.output, DEMO_ENGLISH) == [], zh.output
    for word in ("各行政等级路网", "县道", "治理进度，按风险等级", "回头看", "事故多发点段",
                 "朴素前后对比", "对照组法", "总览地图", "合计", "沿用"):  # fmt: skip
        assert word in zh.output, (word, zh.output)
    # amounts as plan create and the tables write them (it said "3,000,000 元" before)
    budget = DEMO_REPORT["plan"]["budget_cny"]
    assert f"预算 {budget / 10_000:,.2f} 万元" in zh.output, zh.output
    assert f"budget CNY {budget:,.0f}" in en.output, en.output
    for words in ("roads by class", "progress by tier (full table", "re-checks (回头看)",
                  "black spots (事故多发点段", "before/after of demo-2025-1", "naive CMF 0.29",
                  "with comparison group 0.31", "overview map: ", "part 0 main K0+000–K12+500",
                  "tier I 40", "unfunded: 100 hazards"):  # fmt: skip
        assert words in en.output, (words, en.output)
    assert not re.search(
        r"[\u4e00-\u9fff]",
        en.output.replace("回头看", "")
        .replace("事故多发点段", "")
        .replace("甲乙公路", "")
        .replace("甲镇", "")
        .replace("万元", ""),
    )


def test_imports_say_what_they_did_in_chinese(county, tmp_path: Path) -> None:
    """`crashes import`, `survey import` (a dry run) and `import completion` (a dry run; the
    statuses in the vocabulary's words) in zh; as before in en. `export batch --json` gives the
    export's report."""
    path = tmp_path / "crashes.csv"
    zh, en = _both(["crashes", "import", str(path), "--source", "县交警大队"])
    assert zh.exit_code == 0 and en.exit_code == 0, (zh.output, en.output)
    english = {"rows", "stored", "unattached", "rejected", "empty", "junctions", "crashes",
               "added", "updated", "unchanged", "warnings", "imported", "at"}  # fmt: skip
    assert _latin(zh.output, english) == [], zh.output
    assert "事故记录已导入" in zh.output and "未变 6" in zh.output
    assert "crashes imported" in en.output and "6 unchanged" in en.output

    survey = tmp_path / "linear_survey.csv"
    args = ["survey", "import", str(survey), "--provider", "另一检测公司", "--surveyed-on",
            "2025-04-01", "--corrects", "1", "--dry-run"]  # fmt: skip
    zh, en = _both(args)
    assert zh.exit_code == 0 and en.exit_code == 0, (zh.output, en.output)
    english = {"rows", "accepted", "review", "rejected", "duplicates", "empty", "hazards",
               "added", "updated", "unchanged", "seen", "again", "warnings", "dry", "run",
               "nothing", "written", "survey", "already", "imported", "see", "them"}  # fmt: skip
    own = "\n".join(ln for ln in zh.output.splitlines() if not ln.startswith("  "))
    assert _latin(own, english) == [], zh.output  # (the rows' reasons are the library's)
    assert "试运行，未写入任何数据" in own and "共 7 行" in own, zh.output
    assert re.search(r"\baccepted\b|already imported", en.output), en.output

    out = CliRunner().invoke(cli, ["export", "batch", BATCH, "-o", str(tmp_path / "b.geojson"),
                                   "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["batch"] == BATCH and report["hazards"] == 2
    assert Path(report["file"]).is_file()
    data = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))
    day = dt.date.today().isoformat()
    data["features"][0]["properties"].update(status="reported_done", completed_on=day)
    one, two = (f["properties"]["id"] for f in data["features"])
    back = tmp_path / "returned.geojson"
    back.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    zh = CliRunner().invoke(cli, ["import", "completion", str(back)])
    assert zh.exit_code == 0, zh.output
    assert f"{one}：已计划 → 已完工（待验收），日期 {day}" in zh.output, zh.output
    assert _latin(zh.output, {"planned", "reported_done", "on", "rows", "valid", "applied"}) == []
    data["features"][1]["properties"].update(status="reported_done", completed_on=day)
    back.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with _english_lang():
        en = CliRunner().invoke(cli, ["import", "completion", str(back)])
    assert en.exit_code == 0, en.output
    assert f"{two}: planned → reported_done on {day}" in en.output, en.output
    assert "2 rows: 1 valid, 1 applied, 1 unchanged" in en.output, en.output
    assert "1 hazards changed (1 to reported_done)" in en.output
    line = CliRunner().invoke(cli, ["export", "batch", BATCH, "-o", str(tmp_path / "c.geojson")])
    assert line.exit_code == 0 and "2 处隐患已写入" in line.output, line.output


def test_screen_and_roads_show_in_chinese(county) -> None:
    """`screen`'s headers and title, and `roads show`'s class, unassigned and parts lines, in
    zh; as before in en."""
    zh, en = _both(["screen", "--unit", "window"])
    assert zh.exit_code == 0 and en.exit_code == 0, (zh.output, en.output)
    heads = {"rank", "route", "from", "to", "crashes", "ksi", "epdo", "value", "screening",
             "window", "count"}  # fmt: skip
    assert _latin(zh.output, heads) == [], zh.output
    assert "排名" in zh.output and "滑动窗口" in zh.output
    assert re.search(r"rank\s.*route\s.*from\s.*to\s.*crashes\s.*ksi\s.*epdo\s.*value", en.output)
    assert "screening: window, count (6 crashes)" in en.output

    zh, en = _both(["roads", "show", "X001"])
    assert zh.exit_code == 0 and en.exit_code == 0, (zh.output, en.output)
    assert _latin(zh.output, {"part", "main", "file", "segments", "km", "gap", "county"}) == []
    assert "分支 0（主线）" in zh.output and "县道（文件中：" in zh.output, zh.output
    assert "county (file: " in en.output, en.output
    assert re.search(r"part 0 \(main\): K0\+000", en.output), en.output


def test_roads_load_and_summary_in_chinese(county, tmp_path: Path) -> None:
    """`roads load` (the network's file again: nothing changed) and `roads summary` say what
    they did in zh; as before in en."""
    path = tmp_path / "roads.gpkg"  # the file the `roads` fixture loaded
    zh, en = _both(["roads", "load", str(path)])
    assert zh.exit_code == 0 and en.exit_code == 0, (zh.output, en.output)
    english = {"rows", "read", "loaded", "repaired", "rejected", "in", "the", "file", "added",
               "replaced", "already", "unchanged", "skipped", "routes", "working", "crs"}  # fmt: skip
    assert _latin(zh.output, english) == [], zh.output
    assert "要素：读取" in zh.output and "已载入且未变" in zh.output and "条路线" in zh.output
    assert "rows:" in en.output and "already loaded and unchanged" in en.output, en.output

    zh, en = _both(["roads", "summary"])
    assert zh.exit_code == 0 and en.exit_code == 0, (zh.output, en.output)
    heads = {"roads", "by", "class", "routes", "unassigned", "segments", "km", "total",
             "unique", "network", "length", "county", "township"}  # fmt: skip
    assert _latin(zh.output, heads) == [], zh.output
    assert "合计" in zh.output and "路网实际里程" in zh.output and "县道" in zh.output
    assert "unique network length" in en.output and "county" in en.output, en.output


def test_plans_batches_and_progress_speak_chinese(county) -> None:
    """`plan create` (its header, unfunded and warning lines), `batch set`, `batch list` (a
    batch's status) and `progress` (its 合计 row, not counted in the title) in zh; as before in
    en."""
    english = {"plan", "budget", "spent", "solver", "gap", "unfunded", "warning", "contractor",
               "start", "due", "total", "draft", "issued", "committed"}  # fmt: skip
    cases = [
        (["plan", "create", "--name", "Z", "--budget", "1e6", "--dry-run"],
         ["计划 Z（试运行）：预算", "未安排资金："], ["plan Z (dry run): budget", "unfunded:"]),
        (["batch", "set", BATCH, "--contractor", "甲公司", "--due", "2025-12-31"],
         ["施工单位 甲公司，开工日期 —，计划完工日期 2025-12-31"],
         ["contractor 甲公司, start —, due 2025-12-31"]),
        (["batch", "list"], ["已下发"], ["issued"]),
        (["progress", "--by", "tier"], ["合计"], ["total"]),
    ]  # fmt: skip
    for args, zh_words, en_words in cases:
        zh, en = _both(args)
        assert zh.exit_code == 0 and en.exit_code == 0, (args, zh.output, en.output)
        assert _latin(zh.output, english) == [], (args, zh.output)
        assert all(w in zh.output for w in zh_words), (args, zh.output)
        assert all(w in en.output for w in en_words), (args, en.output)
    zh, _ = _both(["progress", "--by", "tier", "--json"])
    groups = len(json.loads(zh.output)["groups"])
    assert f"治理进度，按风险等级 ({groups})" in _both(["progress", "--by", "tier"])[0].output
