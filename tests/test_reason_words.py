"""hazards.reason_words: a survey's reasons and warnings in Chinese for a county office."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from builders import along, offset_from_vertex
from click.testing import CliRunner

from hazards.cli import cli
from hazards.reason_words import REASON_KEYS_ZH, reason_key_text, reason_text

FROZEN = Path(__file__).parent / "data" / "frozen"
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”")  # the file's own text, carried over as it is
ENGLISH = re.compile(r"[A-Za-z]{3,}")  # a word (route codes, K stakes and EPSG:4546 are not)


def _recorded(value: object, keys: tuple[str, ...]) -> list[str]:
    """Every text under ``keys`` in a frozen result (what the import wrote, run by run)."""
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in keys and isinstance(v, str):
                out.append(v)
            elif k in keys and isinstance(v, list):
                out += [w for w in v if isinstance(w, str)]
            else:
                out += _recorded(v, keys)
    elif isinstance(value, list):
        for v in value:
            out += _recorded(v, keys)
    return out


def _left_english(zh: str) -> list[str]:
    return [w for w in ENGLISH.findall(QUOTED.sub("", zh)) if w != "EPSG"]


def test_every_reason_the_frozen_imports_recorded_reads_in_chinese() -> None:
    recorded = {
        text
        for path in FROZEN.glob("*.json")
        for text in _recorded(
            json.loads(path.read_text(encoding="utf-8")), ("reason", "review_reason")
        )
    }
    assert len(recorded) > 20  # the sample county and the real-shaped fixtures: many kinds
    for text in sorted(recorded):
        zh = reason_text(text, "zh")
        assert zh is not None and not _left_english(zh), (text, zh)
        assert reason_text(text, "en") == text  # in English as written


def test_the_numbers_codes_and_stakes_are_carried_over() -> None:
    text = (
        "stated chainage K0+100 and measured K3+800 differ by 3700 m; it repeats H000012 there "
        "(same category within 5 m): reject it as a repeat if it is one"
    )
    zh = reason_text(text, "zh")
    assert zh == (
        "所填桩号 K0+100 与实测桩号 K3+800 相差 3700 米；与该处已有隐患 H000012 重复（同类，相距不到 "
        "5 米）：如确属重复请拒收"
    )
    # a clause it does not know is kept as it is, beside the ones it does
    assert reason_text("23 m from route Y012 (accepted up to 15 m); a new clause", "zh") == (
        "距路线 Y012 23 米（15 米以内才自动接收）；a new clause"
    )
    # the warnings of rows stored (what the firm's rows said that the network does not)
    named = "路线名称 琼湖—新河 differs from the network's name of route Y002 (新河路); check the route code (路线编码)"
    assert (
        reason_text(named, "zh")
        == "路线名称 琼湖—新河 与路网中路线 Y002 的名称（新河路）不一致；请核对路线编码"
    )
    cut = "the 155 m section centred on K0+021 runs past the start of route Y013; cut to 99 m"
    assert reason_text(cut, "zh") == "以 K0+021 为中心的 155 米路段超出路线 Y013 的起点；截为 99 米"
    for ends, zh in (("the end", "终点"), ("the start and the end", "起点和终点")):
        cut = f"the 155 m section centred on K0+021 runs past {ends} of route Y013; cut to 99 m"
        assert (
            reason_text(cut, "zh")
            == f"以 K0+021 为中心的 155 米路段超出路线 Y013 的{zh}；截为 99 米"
        )
    # the file's own text goes back as it was: a photo's name, a cell, a road file's name
    assert reason_text(
        "photo 'a (column B).jpg' not found; the hazard is kept without it", "zh"
    ) == ("未找到照片 'a (column B).jpg'；隐患照常保存，不带照片")
    assert "'a; b'" in reason_text(
        "category 'a; b' is not in the vocabulary; kept verbatim as 'other'", "zh"
    )
    reload = (
        "route X001 was reloaded from roads; v2.gpkg: the hazard is 30.2 m from the new line "
        "(more than the 15 m accept distance); it was at K1+200, now nearest K1+180"
    )
    assert "按 roads; v2.gpkg 重新载入" in reason_text(reload, "zh")
    assert reason_key_text("unknown_route", "zh") == REASON_KEYS_ZH["unknown_route"]
    assert reason_key_text("a_new_key", "zh") == "a_new_key"
    assert reason_key_text("unknown_route", "en") == "unknown_route"


def _sheet(path: Path, net: dict, note: str) -> Path:
    x1 = net["lines"]["X001"]
    rows = [
        ["序号", "路线编码", "桩号", "经度", "纬度", "隐患类型", "隐患描述", "风险等级"],
        [1, "X001", "", *along(x1, 500), "急弯", note, "一级"],
        [2, "Z999", "K0+100", "", "", "急弯", "unknown route", "一级"],
        [3, "X001", "", "abc", "28.1", "急弯", "bad point", "一级"],
        [4, "X001", "", *offset_from_vertex(x1, 40, 30)[0], "陡坡", note, "二级"],  # to review
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _import(sheet: Path, *more: str) -> tuple[str, dict[str, str]]:
    """Import ``sheet`` by the CLI: what it printed, and its rejected file's reasons by 序号."""
    rejected = sheet.with_suffix(".rejected.csv")
    args = ["survey", "import", str(sheet), "--provider", "某公司", "--surveyed-on",
            "2025-03-01", "--rejected", str(rejected), *more]  # fmt: skip
    out = CliRunner(env={"COLUMNS": "250"}).invoke(cli, args)  # a line a reason
    assert out.exit_code == 0, out.output
    with rejected.open(encoding="utf-8-sig") as fh:
        return out.output, {r["序号"]: r["rejected_reason"] for r in csv.DictReader(fh)}


UNKNOWN = "route code 'Z999' is not in the road network; correct the code (or leave it empty to "
BAD_POINT = "coordinates (经度='abc', 纬度='28.1') are not usable: 'abc' is not a coordinate"


def test_an_import_in_chinese_sends_the_firm_chinese_reasons(
    tmp_path: Path, net: dict, roads, monkeypatch
) -> None:
    from hazards.settings import get_settings

    monkeypatch.setenv("HAZARDS_LANG", "zh")
    get_settings.cache_clear()
    try:
        printed, reasons = _import(_sheet(tmp_path / "a.csv", net, "first"))
        assert reasons == {
            "2": "路线编码 'Z999' 不在路网中；请更正编码（或留空，按坐标匹配）",
            "3": "坐标（经度='abc', 纬度='28.1'）无法使用：'abc' 不是坐标（应为十进制度或度分秒）",
        }
        assert "拒收（路线编码不在路网中）：1" in printed
        assert "第 2 条（第 3 行）：路线编码 'Z999' 不在路网中" in printed
        queue = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["review", "list"]).output
        assert re.search(r"距路线 X001 30 米（15 米以内才自动接收）", queue), queue
        listed = json.loads(CliRunner().invoke(cli, ["review", "list", "--json"]).output)
        assert listed[0]["reason"] == "30 m from route X001 (accepted up to 15 m)"
        # --json (and the database) keep the reasons as written, for scripts and later imports
        printed, reasons = _import(_sheet(tmp_path / "b.csv", net, "second"), "--json")
        rows = {r["row"]: r["reason"] for r in json.loads(printed)["rejected_rows"]}
        assert rows["2"].startswith(UNKNOWN) and rows["3"].startswith(BAD_POINT)
        assert reasons["2"].startswith("路线编码 'Z999' 不在路网中")
        # in English, the file says what the report says
        monkeypatch.setenv("HAZARDS_LANG", "en")
        get_settings.cache_clear()
        printed, reasons = _import(_sheet(tmp_path / "c.csv", net, "third"))
        assert reasons["2"].startswith(UNKNOWN) and reasons["3"].startswith(BAD_POINT)
        assert "rejected (unknown_route): 1" in printed
    finally:
        get_settings.cache_clear()


def test_a_crash_file_in_chinese_says_its_rejections_in_chinese(
    tmp_path: Path, net: dict, roads, monkeypatch
) -> None:
    """The police's rejected rows: a day that does not exist, a date in the future, no place."""
    from hazards.settings import get_settings

    x1 = net["lines"]["X001"]
    path = tmp_path / "事故.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["事故编号", "年", "月", "日", "经度", "纬度", "死亡人数(人)"],
                ["A1", "2024", "5", "1", *along(x1, 500), "0"],
                ["A2", "2024", "2", "30", *along(x1, 600), "0"],
                ["A3", "2099", "1", "1", *along(x1, 700), "0"],
                ["A4", "2024", "5", "2", "", "", "1"],
            ]
        )
    monkeypatch.setenv("HAZARDS_LANG", "zh")
    get_settings.cache_clear()
    try:
        out = CliRunner(env={"COLUMNS": "250"}).invoke(
            cli, ["crashes", "import", str(path), "--source", "交警大队"]
        )
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    said = [ln for ln in out.output.splitlines() if "拒收：" in ln]
    assert len(said) == 3, out.output
    assert "2024-2-30（列 年/月/日）不是有效日期" in said[0]
    assert "日期 2099-01-01 晚于今天；请更正" in said[1]
    assert "没有可用的位置：事故记录需要坐标" in said[2]
    assert not [w for ln in said for w in _left_english(ln)], said
