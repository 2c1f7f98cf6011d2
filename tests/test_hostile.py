"""Hostile input (issue 16): text that is markup, escape sequences or formulas; completion
reports applied all or nothing; numbers out of range; files that read wrongly without a word;
paths that used to end in a traceback. Every file is built in the test."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from hazards.cli import cli

HOSTILE = ["[/x]", "[link=http://x]y[/link]", "\x1b[2J"]
TABLES = ("roads", "road_segments", "surveys", "hazards", "hazard_events", "plans", "batches")


def _invoke(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "400"}).invoke(cli, list(args))


def _refused(result: Result, *words: str) -> str:
    """The one-line error of a refused command (exit 1, or 2 for click's own check of an
    option; no traceback); returns it."""
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    error = [ln for ln in lines if ln.startswith("Error:")]
    assert len(error) == 1, result.output
    for w in words:
        assert w in error[0], error[0]
    return error[0]


def _digest(engine: Any) -> dict[str, str]:
    """A digest of every row of the main tables (to show that a refusal changed nothing)."""
    out = {}
    with engine.connect() as conn:
        for t in TABLES:
            out[t] = conn.execute(
                text(
                    f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {t} t"
                )
            ).scalar_one()
    return out


def _survey_csv(path: Path, rows: list[list[Any]], *, encoding: str = "utf-8", **fmt: Any) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, **fmt).writerows(
            [["序号", "路线编码", "桩号", "隐患类型", "隐患描述", "估算金额(万元)"], *rows]
        )
    return path


# ----------------------------------------------------------------------------- safe text
@pytest.fixture
def hostile(tracked: Any) -> Any:
    """The tracked database with hostile text in descriptions, notes, contractor, plan and
    batch names."""
    from hazards.db import store
    from hazards.remediation import set_status

    batch = store.list_batches(tracked)[0]["name"]
    bad = " ".join(HOSTILE)
    with tracked.connect() as conn:
        first = conn.execute(text("SELECT min(public_id) FROM hazards")).scalar_one()
    set_status([first], to="in_progress", note=bad, by=bad, engine=tracked)
    with tracked.begin() as conn:
        conn.execute(text("UPDATE hazards SET description = :d"), {"d": bad})
        conn.execute(text("UPDATE batches SET contractor = :d"), {"d": bad})
        conn.execute(text("UPDATE plans SET name = :d || name"), {"d": "[/x]"})
        conn.execute(
            text("UPDATE batches SET name = :d || name WHERE name = :b"), {"d": "[/x]", "b": batch}
        )
    return tracked


@pytest.mark.parametrize(
    "args",
    [["list"], ["batch", "list"], ["plan", "list"], ["progress", "--by", "batch"], ["history"]],
)
def test_markup_and_escapes_print_literally(hostile: Any, args: list[str]) -> None:
    if args == ["history"]:
        with hostile.connect() as conn:
            args = [
                "history",
                conn.execute(text("SELECT min(public_id) FROM hazards")).scalar_one(),
            ]
    out = _invoke(*args)
    assert out.exit_code == 0, (out.output, out.exception)
    assert "\x1b" not in out.output
    assert "[/x]" in out.output
    if args[0] in ("list", "history"):
        assert "[link=http://x]y[/link]" in out.output
    if args == ["batch", "list"]:
        assert "[link=http://x]y[/link]" in out.output


def test_safe_strips_escape_sequences_and_keeps_text() -> None:
    from hazards.cli._common import plain, safe

    assert safe("\x1b[2J中文\x1b]8;;http://x\x1b\\y\x1b]8;;\x1b\\ [b]") == "中文y \\[b]"
    assert plain("a\tb\nc\x07\x9b\u202e") == "a\tb\nc"


def test_formulas_are_written_as_text(tracked: Any, tmp_path: Path) -> None:
    import openpyxl

    from hazards.contractors import export_batch
    from hazards.db import store

    formula = '=HYPERLINK("http://x","y")'
    with tracked.begin() as conn:
        conn.execute(text("UPDATE hazards SET description = :d"), {"d": formula})
        conn.execute(text("UPDATE hazards SET countermeasure = '+1+2', category = '@SUM(A1)'"))
    name = store.list_batches(tracked)[0]["name"]
    export_batch(name, tmp_path / "b.xlsx", lang="en", engine=tracked)
    ws = openpyxl.load_workbook(tmp_path / "b.xlsx").active
    head = next(r[0].row for r in ws.iter_rows() if r[1].value == "id")  # below the header block
    header = [c.value for c in ws[head]]
    rows = list(ws.iter_rows(min_row=head + 1, max_row=ws.max_row - 1))  # not the totals row
    assert rows
    for row in rows:
        for field, value in (("description", formula), ("countermeasure", "+1+2")):
            cell = row[header.index(field)]
            assert (cell.value, cell.data_type) == (value, "s")
    assert not any(c.data_type == "f" for row in rows for c in row)


def test_csv_exports_put_formulas_behind_an_apostrophe(tmp_path: Path) -> None:
    import pandas as pd

    from hazards.remediation import write_sites

    sites = pd.DataFrame(
        {"id": ["H1", "H2", "H3"], "description": ["=1+2", "-3.5", "护栏 =ok"], "lon": [112.0] * 3,
         "lat": [28.0] * 3}
    )  # fmt: skip
    for lang, column in (("en", "description"), ("zh", "隐患描述")):
        path = write_sites(sites, tmp_path / f"s-{lang}.csv", lang=lang)
        back = list(csv.DictReader(path.open(encoding="utf-8-sig")))
        assert [r[column] for r in back] == ["'=1+2", "-3.5", "护栏 =ok"]


# ----------------------------------------------------------------------------- completion
def _report(
    tracked: Any, tmp_path: Path, n: int, *, repeat: bool = False, skip: int = 0
) -> tuple[Path, list[str]]:
    from hazards.contractors import export_batch
    from hazards.db import store

    name = store.list_batches(tracked)[0]["name"]
    export_batch(name, tmp_path / "b.geojson", engine=tracked)
    data = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))
    feats = data["features"][skip : skip + n]
    for f in feats:
        f["properties"].update(status="完成", completed_on=dt.date.today().isoformat())
    if repeat:
        feats.append(json.loads(json.dumps(feats[0])))
    data["features"] = feats
    path = tmp_path / "r.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path, [f["id"] for f in feats]


def _statuses(engine: Any, ids: list[str]) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT public_id, status FROM hazards WHERE public_id = ANY(:p)"), {"p": ids}
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def test_a_repeated_id_refuses_the_whole_report(tracked: Any, tmp_path: Path) -> None:
    path, ids = _report(tracked, tmp_path, 3, repeat=True)
    before = _digest(tracked)
    out = _invoke("import", "completion", str(path))
    error = _refused(out, "未做任何更改", "4 行中有 1 行无效", "--partial")  # zh, the default
    assert "reported again (first in feature 1)" in out.output, error
    assert _digest(tracked) == before
    partial = _invoke("import", "completion", str(path), "--partial", "--json")
    assert partial.exit_code == 0, partial.output
    report = json.loads(partial.output)
    assert (report["applied"], report["invalid"], report["refused"]) == (3, 1, False)
    assert report["message"].startswith("3 hazards changed (3 to reported_done); 1 invalid")
    assert set(_statuses(tracked, ids).values()) == {"reported_done"}


def test_a_change_made_meanwhile_undoes_the_apply_and_the_report_is_checked_again(
    tracked: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forced interleaving: between the check and the apply, someone starts one hazard. What
    was applied is undone and the report checked again against the hazards as they are now:
    the one started meanwhile may still be reported done, so every row applies; a hazard that
    keeps changing at every try is refused after three, nothing changed."""
    import hazards.completions as completions
    from hazards.errors import ConflictError
    from hazards.remediation import history, set_status

    real = completions._apply
    path, ids = _report(tracked, tmp_path, 3)
    calls: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        if not calls:  # another session, committed, once
            set_status([ids[1]], to="in_progress", engine=tracked)
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(completions, "_apply", racing)
    report = completions.import_completion(path, engine=tracked)
    assert len(calls) == 2 and (report["applied"], report["invalid"]) == (3, 0), report
    assert set(_statuses(tracked, ids).values()) == {"reported_done"}
    events = [e["to_status"] for e in history(ids[0], engine=tracked)["events"]]
    assert events.count("reported_done") == 1  # the undone try left nothing
    path, ids = _report(tracked, tmp_path, 2, skip=3)

    def always(*args: Any, **kwargs: Any) -> Any:  # the hazard changes at every try
        with tracked.begin() as conn:
            conn.execute(
                text("UPDATE hazards SET version = version + 1 WHERE public_id = :p"), {"p": ids[1]}
            )
        return real(*args, **kwargs)

    monkeypatch.setattr(completions, "_apply", always)
    with pytest.raises(ConflictError, match="kept changing while it was imported"):
        completions.import_completion(path, partial=True, engine=tracked)
    assert set(_statuses(tracked, ids).values()) == {"planned"}


# ----------------------------------------------------------------------------- numbers
def test_a_cost_beyond_range_is_a_refused_cell_never_infinity(tracked: Any, tmp_path: Path) -> None:
    from hazards.intake import import_survey
    from hazards.survey import parse_amount

    for t in ("1e308", "inf", "nan", "2e6"):
        with pytest.raises(ValueError):
            parse_amount(t, unit=10000.0)
    path = _survey_csv(tmp_path / "big.csv", [[1, "X001", "K0+100", "急弯", "弯道", "1e308"]])
    report = import_survey(path, provider="p", surveyed_on="2025-04-01", engine=tracked)
    assert report["accepted"] == 1 and report["warnings"] >= 1
    with tracked.connect() as conn:
        costs = conn.execute(text("SELECT provided_cost_cny FROM hazards")).scalars().all()
    assert all(c is None or c < 1e10 for c in costs)
    out = _invoke("progress", "--json")
    assert out.exit_code == 0
    json.loads(out.output, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert _invoke("plan", "create", "--name", "Q", "--budget", "1e6", "--dry-run").exit_code == 0
    # an Infinity stored before costs were checked: valid JSON, and a plan refused in one line
    with tracked.begin() as conn:
        conn.execute(
            text("UPDATE hazards SET provided_cost_cny = 'Infinity' WHERE status = 'identified'")
        )
    out = _invoke("progress", "--json")
    assert out.exit_code == 0
    total = json.loads(out.output, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))["total"]
    assert total["remaining_cost_cny"] is None
    before = _digest(tracked)
    _refused(_invoke("plan", "create", "--name", "Q", "--budget", "1e6"), "not a finite number")
    assert _digest(tracked) == before


def test_json_never_holds_infinity(capsys: pytest.CaptureFixture[str]) -> None:
    from hazards.cli._common import echo_json

    echo_json({"a": float("inf"), "b": [float("nan"), 1.5]})
    assert json.loads(capsys.readouterr().out) == {"a": None, "b": [None, 1.5]}


def test_a_survey_dated_in_the_future_is_refused(tracked: Any, tmp_path: Path) -> None:
    path = _survey_csv(tmp_path / "f.csv", [[1, "X001", "K0+100", "急弯", "弯道", "1"]])
    before = _digest(tracked)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    out = _invoke("survey", "import", str(path), "--provider", "p", "--surveyed-on", tomorrow)
    _refused(out, "in the future")
    assert _digest(tracked) == before


def test_events_dated_in_the_future_are_refused(tracked: Any) -> None:
    from hazards.errors import InputError
    from hazards.remediation import record_recheck, set_status

    with tracked.connect() as conn:
        first = conn.execute(text("SELECT min(public_id) FROM hazards")).scalar_one()
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    before = _digest(tracked)
    with pytest.raises(InputError, match="in the future"):
        set_status([first], to="in_progress", on=tomorrow, engine=tracked)
    assert _digest(tracked) == before
    set_status([first], to="reported_done", engine=tracked)
    before = _digest(tracked)
    with pytest.raises(InputError, match="in the future"):
        record_recheck(first, result="pass", on=tomorrow, engine=tracked)
    assert _digest(tracked) == before


# ----------------------------------------------------------------------------- readers
def test_an_unclosed_quote_is_refused_naming_its_line(tracked: Any, tmp_path: Path) -> None:
    from hazards.intake import import_survey

    rows = [[i, "X001", f"K0+{100 + i * 50}", "急弯", "弯道", "1"] for i in range(1, 12)]
    path = _survey_csv(tmp_path / "q.csv", rows)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace("弯道", '"弯道 缺', 1)  # line 4 opens a quote never closed
    path.write_text("".join(lines), encoding="utf-8")
    before = _digest(tracked)
    from hazards.errors import InputError

    with pytest.raises(InputError, match="line 4: a quote"):
        import_survey(path, provider="p", surveyed_on="2025-04-01", engine=tracked)
    assert _digest(tracked) == before
    # the same quote on the last line swallows nothing else but is still named
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace('"弯道 缺', "弯道")
    lines[-1] = lines[-1].replace("弯道", '"弯道\n缺')
    path.write_text("".join(lines) + "more\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 12: a quote"):
        import_survey(path, provider="p", surveyed_on="2025-04-01", engine=tracked)


def test_utf16_and_semicolons_are_read(tmp_path: Path) -> None:
    from hazards.sheets import read_sheet, sniff_delimiter

    rows = [
        ["1", "X001", "K0+100", "急弯", "弯道; 无标志", "1"],
        ["2", "Y002", "K0+200", "临水临崖", "无护栏", "2"],
    ]
    u16 = _survey_csv(tmp_path / "u.txt", rows, encoding="utf-16", delimiter="\t")
    assert u16.read_bytes().startswith(codecs.BOM_UTF16_LE)
    semi = _survey_csv(tmp_path / "s.csv", rows, delimiter=";")
    for path in (u16, semi):
        sheet = read_sheet(path)
        assert [r["隐患描述"] for r in sheet.rows] == ["弯道; 无标志", "无护栏"], path
    assert sniff_delimiter("a,b;c\n1,2;3\n4,5;6\n") == ","  # ties go to the comma
    assert sniff_delimiter("标题\na;b;c\n1;2;3\n") == ";"


def test_formula_cells_without_values_are_reported(tmp_path: Path) -> None:
    import openpyxl

    from hazards.survey import parse_rows, read_sheet

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "路线编码", "桩号", "隐患描述", "经度", "纬度"])
    ws.append([1, "X001", "K0+100", '=CONCATENATE("a","b")', "=112+0.1", 28.1])
    ws.append([2, "X001", "K0+200", "护栏", 112.1, 28.1])
    wb.save(tmp_path / "f.xlsx")  # openpyxl saves no computed values
    rows, _ = parse_rows(read_sheet(tmp_path / "f.xlsx"))
    assert "隐患描述, 经度 hold formulas saved without their values" in rows[0].warnings[0]
    assert rows[1].warnings == [] and rows[1].description == "护栏"


def test_a_shapefile_without_its_dbf_is_refused(tmp_path: Path) -> None:
    from builders import frame, network

    frame(network()["features"], "EPSG:4546").to_file(tmp_path / "r.shp", engine="pyogrio")
    (tmp_path / "r.dbf").unlink()
    _refused(_invoke("roads", "load", str(tmp_path / "r.shp")), ".dbf file", "missing")


def test_a_one_point_line_is_a_rejected_row(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the rejected rows are written in the current folder
    path = tmp_path / "one.geojson"
    feats = [
        {"type": "Feature", "properties": {"code": "X001"},
         "geometry": {"type": "LineString", "coordinates": [[112.1, 28.1]]}},
        {"type": "Feature", "properties": {"code": "X002"},
         "geometry": {"type": "LineString", "coordinates": [[112.1, 28.1], [112.11, 28.11]]}},
    ]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    out = _invoke("roads", "load", str(path), "--json")
    assert out.exit_code == 0, (out.output, out.exception)
    report = json.loads(out.output)
    assert report["rows_rejected"] == 1 and report["rows_loaded"] == 1
    assert (tmp_path / "one.rejected.gpkg").is_file()


# ----------------------------------------------------------------------------- paths
def test_bad_output_paths_are_one_line_errors(tracked: Any, tmp_path: Path) -> None:
    from hazards.db import store
    from hazards.remediation import set_status

    name = store.list_batches(tracked)[0]["name"]
    with tracked.connect() as conn:
        first = conn.execute(text("SELECT min(public_id) FROM hazards")).scalar_one()
    set_status([first], to="reported_done", engine=tracked)  # a site to re-check
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    before = _digest(tracked)
    for args in (
        ["export", "batch", name, "-o"],
        ["recheck", "plan", "--batch", name, "-o"],
        ["progress", "--csv"],
        ["map", "overview", "--offline", "-o"],
    ):
        _refused(_invoke(*args, str(folder)), str(folder))
        _refused(_invoke(*args, str(blocker / "x.csv")), str(blocker))
    survey = _survey_csv(tmp_path / "s2.csv", [[1, "X001", "K0+100", "急弯", "弯道", "x"]])
    _refused(
        _invoke(
            "survey",
            "import",
            str(survey),
            "--provider",
            "p",
            "--surveyed-on",
            "2025-04-01",
            "--rejected",
            str(folder),
        ),  # fmt: skip
        "is a folder",
        "--rejected",
    )
    one = tmp_path / "one.geojson"  # a row to reject
    line = {"type": "LineString", "coordinates": [[112.1, 28.1]]}
    one.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "X009"}, "geometry": line}]}))  # fmt: skip
    _refused(
        _invoke("roads", "load", str(one), "--rejected", str(folder)), "is a folder", "--rejected"
    )
    assert _digest(tracked) == before
    # a missing folder is created
    out = _invoke("export", "batch", name, "-o", str(tmp_path / "new" / "deep" / "b.xlsx"))
    assert out.exit_code == 0 and (tmp_path / "new" / "deep" / "b.xlsx").is_file()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_a_one_line_error(tracked: Any, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        _refused(_invoke("progress", "--csv", str(locked / "p.csv")), "cannot be written")
    finally:
        locked.chmod(0o700)


def test_partial_files_of_a_killed_import_are_removed(tracked: Any, tmp_path: Path) -> None:
    from hazards.intake import import_survey

    path = _survey_csv(
        tmp_path / "k.csv", [[1, "X001", "K0+100", "急弯", "弯道", "1"], [2, "Z9", "", "", "", ""]]
    )
    stale = [tmp_path / "k.rejected.csv.part", tmp_path / "k.rejected.csv.999999999.part"]
    for s in stale:
        s.write_text("half a file")
    mine = tmp_path / f"k.rejected.csv.{os.getppid()}.part"  # a live process's: kept
    mine.write_text("in progress")
    report = import_survey(path, provider="p", surveyed_on="2025-04-01", engine=tracked)
    assert report["rejected"] == 1 and (tmp_path / "k.rejected.csv").is_file()
    assert not any(s.exists() for s in stale) and mine.exists()
    assert sorted(p.name for p in tmp_path.glob("k.rejected*")) == [
        "k.rejected.csv",
        mine.name,
    ]
