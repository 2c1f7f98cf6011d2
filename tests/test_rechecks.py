"""Re-check sheets brought back (`recheck import`): the site list of `recheck plan`, filled in on
site, recorded row by row against a real PostGIS; bad rows written out, nothing recorded twice."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from hazards.cli import cli
from hazards.errors import InputError
from hazards.rechecks import header_key, import_rechecks
from hazards.remediation import set_status

TODAY = dt.date.today()


def _status(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT public_id, status FROM hazards")).all())


def _rechecks(engine) -> list[tuple]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT h.public_id, r.result, r.checked_on, r.by, r.note FROM rechecks r "
                "JOIN hazards h ON h.id = r.hazard_id WHERE r.result IS NOT NULL ORDER BY 1, 3"
            )
        )
        return [tuple(r) for r in rows]


@pytest.fixture
def site_list(tracked, tmp_path: Path) -> tuple[list[str], Path]:
    """Seven of the eight hazards reported done, the eighth in progress; the zh site list of
    `recheck plan` (the seven finished sites): the ids of all eight, the CSV."""
    ids = sorted(_status(tracked))
    set_status(ids, to="in_progress", engine=tracked)
    set_status(ids[:7], to="reported_done", engine=tracked)
    path = tmp_path / "回头看.csv"
    out = CliRunner().invoke(cli, ["recheck", "plan", "-o", str(path)])
    assert out.exit_code == 0, out.output
    return ids, path


def _fill(path: Path, target: Path, results: dict[str, tuple[str, str, str, str]]) -> Path:
    """The site list as the team brings it back: a title row above the header, and per id the
    result, day, person and note written into the four empty columns."""
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    at = header.index("隐患编号")
    filled = [r[:-4] + list(results.get(r[at], ("", "", "", ""))) for r in body]
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["某县公路安全隐患回头看记录表"] + [""] * (len(header) - 1))
        w.writerows([header, *filled])
    return target


def test_a_filled_site_list_is_recorded_and_its_bad_rows_written_out(
    tracked, site_list, tmp_path: Path
) -> None:
    """Pass → verified, fail → reopened, with each row's day (as a sheet writes it), person and
    note; a row without a result is left; rows that cannot be recorded (a result not
    understood, no day, a site not finished, a day before its work was reported, an unknown
    id) are written out with their line and reason, and recorded once corrected."""
    ids, path = site_list
    day = TODAY.isoformat()
    sheet = _fill(
        path,
        tmp_path / "filled.csv",
        {
            ids[0]: ("合格", f"{TODAY.year}/{TODAY.month}/{TODAY.day}", "张工", ""),
            ids[1]: ("不合格", f"{TODAY.year}年{TODAY.month}月{TODAY.day}日", "李工", "护栏缺失"),
            ids[2]: ("good", day, "", ""),
            ids[3]: ("合格", "", "", ""),
            ids[4]: ("fail", "2020-01-01", "", ""),
        },
    )
    with sheet.open("a", encoding="utf-8", newline="") as fh:  # rows the team added by hand
        csv.writer(fh).writerows([["99", "H999999"] + [""] * 14 + ["合格", day, "", ""]])
    rows_before = sheet.read_text(encoding="utf-8-sig").splitlines()
    assert rows_before[1].startswith("序号,隐患编号")
    out = CliRunner().invoke(cli, ["recheck", "import", str(sheet), "--by", "王工", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert {k: report[k] for k in ("rows", "recorded", "passed", "failed", "not_visited")} == {
        "rows": 8, "recorded": 2, "passed": 1, "failed": 1, "not_visited": 2,
    }  # fmt: skip
    reasons = {r["id"]: (r["line"], r["reason"]) for r in report["invalid"]}
    assert set(reasons) == {ids[2], ids[3], ids[4], "H999999"}
    assert reasons[ids[2]][1].startswith("复查结果 (result) 'good' is not understood")
    assert "no 复查日期" in reasons[ids[3]][1] and "--on" in reasons[ids[3]][1]
    assert reasons[ids[4]][1].startswith("复查日期 (checked_on): ")  # before the work was done
    assert "2020-01-01" in reasons[ids[4]][1] and "Nothing was changed" not in reasons[ids[4]][1]
    assert reasons["H999999"][1] == "unknown hazard id H999999 (隐患编号)"
    lines = {r[1].split(",")[1]: n for n, r in enumerate(enumerate(rows_before), start=1)}
    assert {i: line for i, (line, _) in reasons.items()} == {i: lines[i] for i in reasons}
    status = _status(tracked)
    assert (status[ids[0]], status[ids[1]], status[ids[2]]) == (
        "verified",
        "reopened",
        "reported_done",
    )
    assert _rechecks(tracked) == [
        (ids[0], "pass", TODAY, "张工", None),
        (ids[1], "fail", TODAY, "李工", "护栏缺失"),
    ]
    with open(report["rejected_file"], encoding="utf-8-sig") as fh:
        rejected = list(csv.DictReader(fh))
    assert [r["隐患编号"] for r in rejected] == [ids[2], ids[3], ids[4], "H999999"]

    again = import_rechecks(sheet, engine=tracked)  # the same sheet: nothing twice
    assert (again["recorded"], again["unchanged"]) == (0, 2)
    assert len(_rechecks(tracked)) == 2
    assert "rejected_file_earlier" not in again  # the same rejected rows: replaced

    # the rejected file being corrected when the sheet is imported again: kept, not lost
    was = Path(report["rejected_file"]).read_text(encoding="utf-8-sig")
    Path(report["rejected_file"]).write_text(was.replace(",good,", ",合格,"), "utf-8-sig")
    out = CliRunner().invoke(cli, ["recheck", "import", str(sheet)])
    assert out.exit_code == 0, out.output
    kept = Path(report["rejected_file"]).with_name("filled.rejected.1.csv")
    assert (
        f"{report['rejected_file']} 与本次拒收的行不同（可能正在改正），已另存为 {kept}"
        in out.output
    )
    assert ",合格," in kept.read_text(encoding="utf-8-sig")
    assert Path(report["rejected_file"]).read_text(encoding="utf-8-sig") == was

    fixed = tmp_path / "fixed.csv"  # the rejected rows corrected, and the day given for all
    with open(report["rejected_file"], encoding="utf-8-sig") as fh:
        text_ = fh.read().replace(",good,", ",合格,").replace(",2020-01-01,", ",,")
    fixed.write_text(text_.replace("H999999", ""), encoding="utf-8-sig")
    redo = import_rechecks(fixed, on=TODAY, by="王工", engine=tracked)
    assert (redo["recorded"], redo["passed"], redo["failed"]) == (3, 2, 1)
    assert [r["reason"] for r in redo["invalid"]] == ["no hazard id (隐患编号)"]
    with open(redo["rejected_file"], encoding="utf-8-sig") as fh:  # its old reason replaced
        header = next(csv.reader(fh))
    assert header.count("source_row") == 1 and header.count("rejected_reason") == 1
    assert _status(tracked)[ids[4]] == "reopened"
    assert (ids[3], "pass", TODAY, "王工", None) in _rechecks(tracked)


def test_a_site_not_finished_is_rejected_and_a_sheet_without_results_refused(
    tracked, site_list, tmp_path: Path
) -> None:
    """A hazard still in progress cannot pass a re-check (the transition table says so, on its
    row); a sheet with no result column is refused, naming the columns, with no traceback."""
    ids, path = site_list
    sheet = tmp_path / "s.csv"
    sheet.write_text(f"隐患编号,复查结果,复查日期\n{ids[7]},合格,{TODAY}\n", encoding="utf-8")
    report = import_rechecks(sheet, engine=tracked)
    assert report["recorded"] == 0 and [r["id"] for r in report["invalid"]] == [ids[7]]
    assert report["invalid"][0]["reason"] == (
        f"hazard {ids[7]} is in_progress: only finished sites (reported done, or verified) are "
        "re-checked"
    )
    assert _status(tracked)[ids[7]] == "in_progress"
    twice = tmp_path / "twice.csv"  # two results for one site: neither is recorded
    twice.write_text(
        f"隐患编号,复查结果,复查日期\n{ids[0]},合格,{TODAY}\n{ids[0]},不合格,{TODAY}\n",
        encoding="utf-8",
    )
    report = import_rechecks(twice, engine=tracked)
    assert report["recorded"] == 0 and [r["line"] for r in report["invalid"]] == [2, 3]
    assert "lines 2, 3" in report["invalid"][0]["reason"]
    assert _status(tracked)[ids[0]] == "reported_done" and _rechecks(tracked) == []
    bare = tmp_path / "bare.csv"
    bare.write_text(f"隐患编号,备注\n{ids[0]},看过\n", encoding="utf-8")
    out = CliRunner().invoke(cli, ["recheck", "import", str(bare)])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "no result column" in out.output and "复查结果" in out.output
    with pytest.raises(InputError, match="in the future"):
        import_rechecks(sheet, on=TODAY + dt.timedelta(days=2), engine=tracked)


def test_an_xlsx_site_list_with_english_headers(tracked, site_list, tmp_path: Path) -> None:
    """The English site list (`--lang en`) saved as a workbook, dates as date cells."""
    from openpyxl import Workbook

    ids, _ = site_list
    wb = Workbook()
    ws = wb.active
    ws.append(["Re-check 2026"])
    ws.append(
        ["order", "id", "route_code", "result (pass/fail)", "checked_on", "checked_by", "note"]
    )
    ws.append([1, ids[5], "Y002", "pass", TODAY, "Zhang", None])
    ws.append([2, ids[6], "Y002", None, None, None, None])
    wb.save(tmp_path / "en.xlsx")
    report = import_rechecks(tmp_path / "en.xlsx", engine=tracked)
    assert (report["recorded"], report["not_visited"], report["rejected"]) == (1, 1, 0)
    assert _rechecks(tracked) == [(ids[5], "pass", TODAY, "Zhang", None)]


@pytest.mark.parametrize(
    ("header", "key"),
    [("复查结果（合格/不合格）", "result"), ("result (pass/fail)", "result"), (" 隐患编号 ", "id"),
     ("复查人", "checked_by"), ("备注", None)],
)  # fmt: skip
def test_header_key(header: str, key: str | None) -> None:
    assert header_key(header) == key


def test_ids_as_typed_repeated_headers_and_a_site_failed_before(
    tracked, site_list, tmp_path: Path
) -> None:
    """Ids in lower case or full width (a Chinese input method) are the hazards'; a header
    repeated on a printed page and a signature line are not sites; a site that failed its
    re-check is not re-checked until its work is done again; a GeoJSON is refused."""
    ids, _ = site_list
    full = ids[1].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789H"})  # Ｈ０００…
    sheet = tmp_path / "typed.csv"
    sheet.write_text(
        f"序号,隐患编号,复查结果,复查日期\n1,{ids[0].lower()},不合格,{TODAY}\n"
        f"序号,隐患编号,复查结果,复查日期\n2,{full},合格,{TODAY}\n填表人：张三,,,\n",
        encoding="utf-8",
    )
    report = import_rechecks(sheet, engine=tracked)
    assert (report["rows"], report["recorded"], report["rejected"]) == (2, 2, 0), report
    status = _status(tracked)
    assert (status[ids[0]], status[ids[1]]) == ("reopened", "verified")
    later = tmp_path / "later.csv"
    later.write_text(f"隐患编号,复查结果\n{ids[0]},合格\n", encoding="utf-8")
    report = import_rechecks(later, on=TODAY, engine=tracked)
    assert report["invalid"][0]["reason"] == (
        f"hazard {ids[0]} is reopened (it failed a re-check: its work is to be done again): "
        "only finished sites (reported done, or verified) are re-checked"
    )
    geojson = tmp_path / "r.geojson"
    geojson.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    out = CliRunner().invoke(cli, ["recheck", "import", str(geojson)])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "read from CSV or XLSX" in out.output
