"""Survey imports frozen (issue 20): the sample county and a set of real-shaped fixtures imported
into a fresh database give exactly the ``hazards list --json`` output, import reports and
rejected files recorded in ``tests/data/frozen/`` before the import was made column-wise.

A change to the parsing, matching or storing of surveys must leave these identical. Should a
change be *meant* to alter them, regenerate the expected files with
``HAZARDS_FREEZE=1 pytest tests/test_frozen_import.py`` and say why in the commit.

The normaliser (:func:`_normalise`) removes what differs from run to run and nothing else:
the temporary folder in paths (replaced by ``<tmp>``), the repository folder (``<repo>``),
database ids (``survey_id``, ``corrects``, ``replaced``) and timestamps (``*_at``).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from builders import along, offset_from_vertex
from click.testing import CliRunner

from hazards.cli import cli
from hazards.db.store.bulk import BULK_MIN_ROWS
from hazards.intake import import_survey

DATA = Path(__file__).parent / "data"
FROZEN = DATA / "frozen"
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "gis_data" / "sample"
FREEZE = os.environ.get("HAZARDS_FREEZE") == "1"

VOLATILE_KEYS = {"survey_id", "corrects", "replaced"}


def _normalise(value: Any, tmp: Path) -> Any:
    """``value`` with run-specific parts removed (see the module docstring)."""
    if isinstance(value, dict):
        return {
            k: ("<id>" if v is not None else None)
            if k in VOLATILE_KEYS
            else ("<time>" if v is not None else None)
            if k.endswith("_at")
            else _normalise(v, tmp)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_normalise(v, tmp) for v in value]
    if isinstance(value, str):
        return value.replace(str(tmp), "<tmp>").replace(str(REPO), "<repo>")
    return value


def _report(report: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """An import report and its rejected file's rows, normalised."""
    out = dict(report)
    if report.get("rejected_file"):
        text = Path(report["rejected_file"]).read_text(encoding="utf-8-sig")
        out["rejected_file_rows"] = list(csv.reader(text.splitlines()))
    return _normalise(out, tmp)


def _listing(tmp: Path) -> list[dict[str, Any]]:
    out = CliRunner().invoke(cli, ["list", "--json"])
    assert out.exit_code == 0, out.output
    return _normalise(json.loads(out.output), tmp)


def _histories(listing: list[dict[str, Any]], tmp: Path) -> dict[str, Any]:
    runner = CliRunner()
    out = {}
    for h in listing:
        res = runner.invoke(cli, ["history", h["id"], "--json"])
        assert res.exit_code == 0, res.output
        out[h["id"]] = _normalise(json.loads(res.output), tmp)
    return out


def _check(name: str, got: dict[str, Any]) -> None:
    path = FROZEN / f"{name}.json"
    text = json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if FREEZE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    for key in expected:
        assert got.get(key) == expected[key], f"{name}: {key} differs from the frozen result"
    assert got == expected


# Bulk mode (hazards.db.store.bulk) must give the same results as the row-by-row writes: each
# test runs both ways, with bulk mode forced on every import that may take it (bulk_min_rows=1:
# an import into an inventory holding no more hazards than the import brings).
# "apart": bulk mode, and the sheet read and matched in a child process (hazards.matched_chunks),
# as a large file is; the same results again.
BULK = pytest.mark.parametrize(
    ("bulk_min_rows", "apart"),
    [(BULK_MIN_ROWS, False), (1, False), (1, True)],
    indirect=["apart"],
    ids=["online", "bulk", "apart"],
)


@pytest.fixture
def apart(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether every import of the test reads its sheet in a child process (else in this one)."""
    from hazards import intake, offload

    wanted: bool = request.param
    if wanted:
        assert offload.can_fork(), "no child process here: the apart variant would test nothing"
    monkeypatch.setattr(intake, "APART_MIN_BYTES", 0 if wanted else 10**15)
    return wanted


@BULK
def test_sample_county_import_is_frozen(
    tmp_path: Path, engine, bulk_min_rows: int, apart: bool
) -> None:
    from hazards.roads import load_roads

    load_roads(SAMPLE / "county_roads.gpkg", engine=engine)
    shutil.copy(SAMPLE / "township_survey.csv", tmp_path / "township_survey.csv")
    report = import_survey(
        tmp_path / "township_survey.csv",
        provider="湖南某交通安全检测公司",
        surveyed_on="2024-03-01",
        engine=engine,
        bulk_min_rows=bulk_min_rows,
    )
    listing = _listing(tmp_path)
    _check("sample_county", {"report": _report(report, tmp_path), "list": listing})


def _csv(path: Path, rows: list[list[Any]], *, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@BULK
def test_fixture_imports_are_frozen(
    tmp_path: Path, net: dict, roads, bulk_min_rows: int, apart: bool
) -> None:
    import openpyxl

    x1, y2 = net["lines"]["X001"], net["lines"]["Y002"]
    header = ["序号", "路线编码", "桩号", "经度", "纬度", "隐患类型", "隐患描述", "风险等级"]
    reports: dict[str, Any] = {}

    def run(name: str, path: Path, **kw: Any) -> dict[str, Any]:
        kw.setdefault("provider", "某检测公司")
        kw.setdefault("surveyed_on", "2025-03-01")
        r = import_survey(path, engine=roads, bulk_min_rows=bulk_min_rows, **kw)
        reports[name] = _report(r, tmp_path)
        return r

    # 1. An XLSX with a merged title row above its header.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["沅江市乡道安全隐患排查表（2025年3月）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append([])
    ws.append(header)
    ws.append([1, "X001", "", *along(x1, 300), "急弯", "a", "一级"])
    ws.append([2, "X001", "K0+905", *along(x1, 900), "陡坡", "b", "二级"])
    ws.append([3, "Y002", "", *along(y2, 700), "临水临崖", "c", "III"])
    wb.save(tmp_path / "排查表.xlsx")
    run("xlsx_title_row", tmp_path / "排查表.xlsx")

    # 2. Two deliveries numbered from 1, and a correction of the first.
    p1, p2 = along(x1, 1300), along(x1, 1900)
    q1, q2 = along(y2, 400), along(y2, 1200)
    first = [
        [1, "X001", "", *p1, "急弯", "first firm, row 1", "一级"],
        [2, "X001", "", *p2, "陡坡", "first firm, row 2", "二级"],
    ]
    second = [
        [1, "Y002", "", *q1, "临水临崖", "second delivery, row 1", "一级"],
        [2, "Y002", "", *q2, "视距不良", "second delivery, row 2", "三级"],
    ]
    a = run("delivery_a", _csv(tmp_path / "a.csv", [header, *first]))
    run("delivery_b", _csv(tmp_path / "b.csv", [header, *second]))
    fixed = [first[0], [*first[1][:6], "first firm, row 2 corrected", "二级"]]
    run(
        "delivery_a_corrected",
        _csv(tmp_path / "a-fixed.csv", [header, *fixed]),
        corrects=a["survey_id"],
    )

    # 3. The linear survey (title rows, 起点桩号/止点桩号, 长度, photos).
    shutil.copy(DATA / "linear_survey.csv", tmp_path / "linear_survey.csv")
    shutil.copytree(DATA / "linear_photos", tmp_path / "linear_photos")
    run("linear", tmp_path / "linear_survey.csv", photos=tmp_path / "linear_photos")

    # 4. A GBK sheet with the usual defects: DMS and swapped coordinates, amounts in 万 and
    # 元, unclear amounts, unknown words, bad chainages, empty rows, duplicates, unknown routes,
    # points off the network, chainage-only rows, a stated chainage far from the point.
    (olon, olat), _ = offset_from_vertex(x1, 40, 1.0)
    (olon2, olat2), _ = offset_from_vertex(x1, 40, 2.0)
    (flon, flat), _ = offset_from_vertex(x1, 130, 600.0)
    (mlon, mlat), _ = offset_from_vertex(x1, 60, 60.0)

    def dms(v: float) -> str:
        d = int(v)
        m = int((v - d) * 60)
        s = (v - d - m / 60) * 3600
        return f"{d}°{m}′{s:.3f}″"

    gh = [
        "序号", "路线编码", "路线名称", "桩号", "经度", "纬度", "隐患类型", "隐患描述",
        "风险等级", "处置建议", "估算金额(万元)", "长度(m)",
    ]  # fmt: skip
    lon6, lat6 = along(x1, 600)
    lon7, lat7 = along(y2, 900)
    rows = [
        [
            1,
            "x001",
            "城关路",
            "",
            *along(x1, 100),
            "急弯",
            "急弯无标志",
            "一级",
            "设标志",
            "3.5",
            "",
        ],
        [2, "X001", "", "", dms(lon6), dms(lat6), "陡坡", "", "II", "", "1,200", "12"],
        [3, "Y002", "", "", lat7, lon7, "临水临崖路段", "swapped", "高", "", "２万", ""],
        [4, "X001", "", "K1+2x0", "", "", "落石", "bad chainage", "3", "", "约3万", ""],
        [5, "", "", "", "", "", "", "", "", "", "", ""],
        [6, "X001", "", "", olon, olat, "路面积水", "standing water", "二级", "", "0.8", ""],
        [7, "X001", "", "", olon2, olat2, " 路面积水", "again", "二级", "", "", ""],
        [8, "Z999", "", "K0+100", "", "", "急弯", "unknown route", "一级", "", "", ""],
        [
            9,
            "Z998",
            "",
            "",
            *along(x1, 2000),
            "急弯",
            "unknown route near X001",
            "一级",
            "",
            "",
            "",
        ],
        [10, "", "", "", flon, flat, "急弯", "far away", "一级", "", "", ""],
        [11, "Y002", "", "K1+500", "", "", "视距不良", "by chainage", "三级", "", "1.5万", "30"],
        [12, "Y002", "", "K99+000", "", "", "视距不良", "beyond the route", "三级", "", "", ""],
        [13, "X001", "", "K0+100", *along(x1, 1500), "急弯", "stated far", "二级", "", "", ""],
        [14, "X001", "", "", mlon, mlat, "怪东西", "unknown category", "极高", "", "abc", "5km"],
        [15, "X001", "", "", "abc", "28.8", "急弯", "bad coordinate", "一级", "", "", ""],
        [16, "", "", "", "", "", "", "", "", "", "", ""],
        [17, "X001", "", "", 500000.0, 3190000.0, "急弯", "projected", "一级", "", "", ""],
        [18, "Y002", "", "K0+300", *along(y2, 310), "连续急弯路段", "", "I级", "", "100", "200000"],
    ]
    run("gbk_defects", _csv(tmp_path / "隐患.csv", [gh, *rows], encoding="gbk"))

    listing = _listing(tmp_path)
    _check(
        "fixtures",
        {"reports": reports, "list": listing, "history": _histories(listing, tmp_path)},
    )
