"""The survey pipeline's conductor end to end on a real PostGIS: counts, ids in sheet order,
chunks, the rejected file, the report's keys and the phase timings."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, get_type_hints

import pytest
from builders import frame, network
from sqlalchemy import text

from hazards.errors import InputError
from hazards.intake import FINISH_WALL, PHASES, SurveyImportReport, import_survey
from hazards.inventory import list_hazards
from hazards.roads import load_roads

HEADER = ["序号", "路线编码", "桩号", "隐患类型", "隐患描述", "风险等级"]
# Placed by route + chainage (the answers need no geometry): rows 3 and 4 are the same hazard
# (same route, category, 2 m apart), row 6 is on an unknown route, row 7 is empty, row 9 is
# beyond the end of X001 (about 4 km long).
ROWS = [
    [1, "X001", "K0+100", "急弯", "a", "一级"],
    [2, "X001", "K0+900", "陡坡", "b", "二级"],
    [3, "Y002", "K0+500", "临水临崖", "c", "三级"],
    [4, "Y002", "K0+502", "临水临崖", "c again", "三级"],
    [5, "X001", "K1+300", "视距不良", "d", "二级"],
    [6, "Q999", "K0+100", "急弯", "unknown route", "一级"],
    ["", "", "", "", "", ""],
    [8, "Y002", "K1+100", "急弯", "e", "一级"],
    [9, "X001", "K99+000", "急弯", "beyond the end", "一级"],
    [10, "X001", "K2+000", "路面病害", "f", "三级"],
]
STORED = ["1", "2", "3", "5", "8", "10"]


@pytest.fixture
def roads(tmp_path: Path, engine):
    path = tmp_path / "roads.gpkg"
    frame(network()["features"], "EPSG:4546").to_file(path, engine="pyogrio")
    load_roads(path, engine=engine)
    return engine


def _sheet(path: Path, rows: list[list] = ROWS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


@pytest.mark.parametrize("chunk_rows", [50_000, 3, 1])
def test_counts_ids_in_sheet_order_and_chunks(tmp_path: Path, roads, chunk_rows: int) -> None:
    """With 3 rows a chunk, the duplicate (row 4) is in the chunk after the row it repeats."""
    done: list[int] = []
    report = import_survey(
        _sheet(tmp_path / "s.csv"),
        provider="勘测公司",
        surveyed_on="2025-03-01",
        engine=roads,
        chunk_rows=chunk_rows,
        on_progress=done.append,
    )
    assert done == [min(k, 10) for k in range(chunk_rows, 10 + chunk_rows, chunk_rows)]
    assert {
        k: report[k] for k in ("rows", "accepted", "review", "rejected", "duplicates", "empty")
    } == {"rows": 10, "accepted": 6, "review": 0, "rejected": 2, "duplicates": 1, "empty": 1}
    assert report["rejected_by_reason"] == {"unknown_route": 1, "chainage_out_of_range": 1}
    assert [r["row"] for r in report["rejected_rows"]] == ["6", "9"]
    # lines are the CSV's: the header is line 1
    assert [(r["row"], r["line"]) for r in report["duplicate_rows"]] == [("4", 5)]
    assert "序号 3 (line 4)" in report["duplicate_rows"][0]["reason"]
    assert (report["added"], report["updated"], report["unchanged"], report["seen_again"]) == (
        6,
        0,
        0,
        0,
    )
    assert report["already_imported"] is False and report["encoding"] == "utf-8"
    hazards = list_hazards(engine=roads)
    by_row = {h["source_row"]: h for h in hazards}
    assert sorted(by_row) == sorted(STORED)
    # public ids follow the sheet's order, whatever the chunking
    assert sorted(by_row[r]["id"] for r in STORED) == [by_row[r]["id"] for r in STORED]
    assert {r: by_row[r]["chainage_m"] for r in ("1", "3", "10")} == {
        "1": 100.0,
        "3": 500.0,
        "10": 2000.0,
    }
    assert all(h["survey_id"] == report["survey_id"] for h in hazards)
    with roads.connect() as conn:
        surveys = conn.execute(
            text("SELECT rows_total, rows_accepted, rows_rejected, report FROM surveys")
        ).all()
    assert [(s[0], s[1], s[2]) for s in surveys] == [(10, 6, 2)]
    assert surveys[0][3] == json.loads(json.dumps(report))  # the report is kept as it was returned


@pytest.mark.parametrize("apart", [False, True], ids=["here", "child"])
def test_a_ramp_of_smaller_first_chunks_changes_nothing(
    tmp_path: Path, roads, monkeypatch: pytest.MonkeyPatch, apart: bool
) -> None:
    """Chunks of 1, 2, then 4 rows (the ramp, from one row up), read in this process or in a
    child, in bulk mode: the same import as in one chunk. Bulk mode is decided on what the
    first chunk's length said before the ramp: a whole chunk (4 rows), as the sheet has not
    ended when it is stored (3 rows read)."""
    from hazards import intake, offload

    if apart and not offload.can_fork():
        pytest.skip("no child process here")
    monkeypatch.setattr(intake, "APART_MIN_BYTES", 0 if apart else 10**15)
    done: list[int] = []
    report, asked = _ramped_import(
        tmp_path, roads, monkeypatch, chunk_rows=4, bulk_min_rows=4, on_progress=done.append
    )
    assert done == [1, 3, 7, 10]
    assert asked[:2] == [("bulk_wanted", 4, True), ("start_bulk", 4, None)]  # then no more
    assert {k: report[k] for k in ("rows", "accepted", "rejected", "duplicates", "empty")} == {
        "rows": 10,
        "accepted": 6,
        "rejected": 2,
        "duplicates": 1,
        "empty": 1,
    }
    assert [(r["row"], r["line"]) for r in report["duplicate_rows"]] == [("4", 5)]
    by_row = {h["source_row"]: h for h in list_hazards(engine=roads)}
    assert sorted(by_row) == sorted(STORED)
    assert sorted(by_row[r]["id"] for r in STORED) == [by_row[r]["id"] for r in STORED]


def _ramped_import(
    tmp_path: Path, engine, monkeypatch: pytest.MonkeyPatch, **kw: Any
) -> tuple[dict[str, Any], list[tuple[str, int, Any]]]:
    """The sheet imported with the ramp of first chunks from one row up, and the writer's
    bulk-mode calls it made: (name, rows given, what it answered)."""
    from hazards import matched_chunks
    from hazards.db.store.hazards import SurveyImportWriter

    monkeypatch.setattr(matched_chunks, "RAMP_MIN_ROWS", 1)
    asked: list[tuple[str, int, Any]] = []
    for name in ("bulk_wanted", "start_bulk"):
        real = getattr(SurveyImportWriter, name)

        def spy(self: Any, incoming: int, *, _name: str = name, _real: Any = real) -> Any:
            answer = _real(self, incoming)
            asked.append((_name, incoming, answer))
            return answer

        monkeypatch.setattr(SurveyImportWriter, name, spy)
    report = import_survey(
        _sheet(tmp_path / "s.csv"),
        provider="勘测公司",
        surveyed_on="2025-03-01",
        engine=engine,
        **kw,
    )
    return dict(report), asked


def test_bulk_mode_is_decided_on_the_whole_sheet_once_it_has_ended(
    tmp_path: Path, roads, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet of 10 rows in a first chunk of 10 (the ramp from chunks of 160): the import
    brings 10 rows, below a bulk_min_rows of 11, so no bulk mode; the same answer as before
    the ramp, when the first chunk held the whole sheet."""
    report, asked = _ramped_import(tmp_path, roads, monkeypatch, chunk_rows=160, bulk_min_rows=11)
    assert asked == [("bulk_wanted", 10, False)]  # one chunk: asked once
    assert report["accepted"] == 6


def test_rejected_file_and_the_same_file_again(tmp_path: Path, roads) -> None:
    out = tmp_path / "back" / "to-the-firm.csv"
    path = _sheet(tmp_path / "s.csv")
    report = import_survey(
        path, provider="p", surveyed_on="2025-03-01", engine=roads, rejected_path=out, chunk_rows=4
    )
    assert report["rejected_file"] == str(out)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        back = list(csv.DictReader(fh))
    assert [(r["序号"], r["source_row"]) for r in back] == [("6", "6"), ("9", "9")]
    assert "Q999" in back[0]["rejected_reason"] and "超出路线 X001" in back[1]["rejected_reason"]
    assert not list(out.parent.glob("*.part"))
    again = import_survey(
        path, provider="p", surveyed_on="2025-03-01", engine=roads, rejected_path=out
    )
    assert again["already_imported"] is True and again["survey_id"] == report["survey_id"]
    assert (again["added"], again["updated"], again["accepted"]) == (0, 0, 6)
    assert len(list_hazards(engine=roads)) == 6
    dry = import_survey(path, provider="p", surveyed_on="2025-03-01", engine=roads, dry_run=True)
    assert (dry["already_imported"], dry["dry_run"]) == (True, True)  # it said dry_run false
    # a wrong option is told as such, not as another reading of a file imported before
    for option, told in (({"encoding": "foo"}, "foo"), ({"sheet": "x"}, "no sheets"),
                         ({"crs": "EPSG:9999999"}, "9999999")):  # fmt: skip
        with pytest.raises(InputError, match=told) as err:
            import_survey(path, provider="p", surveyed_on="2025-03-01", engine=roads, **option)
        assert "already imported" not in err.value.message
    clean = import_survey(
        _sheet(tmp_path / "clean.csv", ROWS[:3]),
        provider="p",
        surveyed_on="2025-03-01",
        engine=roads,
    )
    assert clean["rejected_file"] is None and not (tmp_path / "clean.rejected.csv").exists()


def test_timings_fill_the_three_phases(tmp_path: Path, roads) -> None:
    import gc

    threshold = gc.get_threshold()  # raised while chunks are worked on, then put back
    timings: dict[str, float] = {}
    import_survey(
        _sheet(tmp_path / "s.csv"),
        provider="p",
        surveyed_on="2025-03-01",
        engine=roads,
        chunk_rows=3,
        timings=timings,
    )
    assert set(timings) == {*PHASES, FINISH_WALL} == {"parse", "reconcile", "store", "finish_wall"}
    assert all(v > 0 for v in timings.values()), timings
    first = dict(timings)
    import_survey(
        _sheet(tmp_path / "t.csv", ROWS[:2]),
        provider="p",
        surveyed_on="2025-03-01",
        engine=roads,
        timings=timings,
    )
    assert all(timings[k] > first[k] for k in timings)  # accumulated, not replaced
    assert gc.get_threshold() == threshold


def test_the_report_has_every_documented_key(tmp_path: Path, roads) -> None:
    report = import_survey(
        _sheet(tmp_path / "s.csv"), provider="p", surveyed_on="2025-03-01", engine=roads
    )
    # documented: test_survey_report; rejected_file_earlier only when a file was set aside
    assert set(report) == set(get_type_hints(SurveyImportReport)) - {"rejected_file_earlier"}


def test_a_rejected_file_being_corrected_is_set_aside(tmp_path: Path, roads, monkeypatch) -> None:
    """The next delivery under the same name: its rejected rows do not overwrite the file the
    user is correcting (kept as s.rejected.1.csv, said in the report, not stored with it)."""
    first = import_survey(
        _sheet(tmp_path / "s.csv"), provider="p", surveyed_on="2025-03-01", engine=roads
    )
    target = Path(first["rejected_file"])
    assert "rejected_file_earlier" not in first and target.name == "s.rejected.csv"
    corrected = target.read_text(encoding="utf-8-sig").replace("rejected", "corrected")
    target.write_text(corrected, encoding="utf-8-sig")
    again = import_survey(
        _sheet(tmp_path / "s.csv", ROWS[:-1]), provider="p", surveyed_on="2025-03-02", engine=roads
    )
    kept = tmp_path / "s.rejected.1.csv"
    assert again["rejected_file_earlier"] == str(kept)
    assert kept.read_text(encoding="utf-8-sig") == corrected
    assert again["rejected"] == 2 and "corrected" not in target.read_text(encoding="utf-8-sig")
    from click.testing import CliRunner

    from hazards.cli import cli

    target.write_text(corrected, encoding="utf-8-sig")  # corrected again, a third delivery
    _sheet(tmp_path / "s.csv", ROWS[:-2])
    monkeypatch.chdir(tmp_path)  # the file named as a user in its folder names it
    said = CliRunner().invoke(
        cli, ["survey", "import", "s.csv", "--provider", "p", "--surveyed-on", "2025-03-03"]
    )
    assert said.exit_code == 0, said.output
    two = tmp_path / "s.rejected.2.csv"  # both paths shown as the line before shows one
    assert (
        f"原有的 {target.resolve()} 与本次拒收的行不同（可能正在改正），已另存为 {two.resolve()}"
        in (said.output.replace("\n", ""))
    )


@pytest.mark.parametrize(
    "kw, param",
    [
        ({"provider": " ", "surveyed_on": "2025-03-01"}, "provider"),
        ({"provider": "p", "surveyed_on": "1 March"}, "surveyed_on"),
    ],
)
def test_bad_arguments_name_the_parameter_not_a_flag(tmp_path: Path, kw: dict, param: str) -> None:
    with pytest.raises(InputError) as info:
        import_survey(_sheet(tmp_path / "s.csv"), **kw)
    assert info.value.param == param and "--" not in info.value.message


def test_a_sheet_read_in_a_child_process_fails_the_same_way(
    tmp_path: Path, roads, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large sheet is read and matched in a child process (hazards.matched_chunks): a mistake
    found there reaches the user with the same message, and nothing is written."""
    from hazards import intake, offload

    if not offload.can_fork():
        pytest.skip("no child process here now (one core, or another thread running)")
    monkeypatch.setattr(intake, "APART_MIN_BYTES", 0)
    path = _sheet(tmp_path / "s.csv")
    with path.open("a", encoding="utf-8") as fh:
        fh.write('11,X001,K0+300,"急弯,g,一级\n')  # a quote opened and never closed
        fh.write("12,X001,K0+400,急弯,h,一级\n13,X001,K0+500,急弯,i,一级\n")
    with pytest.raises(InputError) as raised:
        import_survey(
            path, provider="勘测公司", surveyed_on="2025-03-01", engine=roads, chunk_rows=3
        )
    assert str(raised.value) == (
        f'{path}: line 12: a quote (") opens a cell and is not closed, so the 2 lines after it '
        "would be read as that one cell. Close the quote, or remove it, and read the file again."
    )
    with roads.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM surveys")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM hazards")).scalar() == 0
    # the same sheet mended imports as in this process, in chunks of 3 rows
    _sheet(path)
    report = import_survey(
        path, provider="勘测公司", surveyed_on="2025-03-01", engine=roads, chunk_rows=3
    )
    assert (report["rows"], report["accepted"], report["duplicates"]) == (10, 6, 1)
    assert sorted(h["source_row"] for h in list_hazards(engine=roads)) == sorted(STORED)


def test_a_failed_import_leaves_the_collector_as_it_was(
    tmp_path: Path, roads, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read here (a small file), an import failing while the sheet's next chunk waits: the
    collector's thresholds, held back by the import, are restored (a long-lived process would
    otherwise collect rarely ever after)."""
    import gc

    from hazards import intake

    def fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store failed")

    monkeypatch.setattr(intake, "APART_MIN_BYTES", 10**15)
    monkeypatch.setattr(intake, "_sort_chunk", fails)
    before = gc.get_threshold()
    with pytest.raises(RuntimeError, match="the store failed"):
        import_survey(
            _sheet(tmp_path / "s.csv"),
            provider="勘测公司",
            surveyed_on="2025-03-01",
            engine=roads,
            chunk_rows=3,
        )
    assert gc.get_threshold() == before


def test_a_workbook_with_a_title_and_a_totals_row_imports_its_records_only(
    tmp_path: Path, roads
) -> None:
    """A delivery as a survey firm's workbook often is: a title row above the header and a
    合计 row below the records (its cost the sum of theirs). The totals row is not a hazard:
    it is an empty row, not rejected for having no location, nor written to the rejected file
    for the firm to "correct"."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某县乡道安全隐患排查表"])
    ws.append([*HEADER, "估算费用(元)"])
    for r in ROWS[:3]:
        ws.append([*r, 1000 * r[0]])
    ws.append(["合  计", None, None, None, None, None, 6000])  # as Excel saves =SUM(G3:G5)
    path = tmp_path / "s.xlsx"
    wb.save(path)
    out = tmp_path / "rejected.csv"
    report = import_survey(
        path, provider="p", surveyed_on="2025-03-01", engine=roads, rejected_path=out
    )
    assert (report["rows"], report["accepted"], report["rejected"], report["empty"]) == (4, 3, 0, 1)
    assert report["rejected_file"] is None and not out.exists()
    costs = sorted(h["provided_cost_cny"] for h in list_hazards(engine=roads))
    assert costs == [1000.0, 2000.0, 3000.0]


def test_a_stake_at_a_routes_end_is_placed_there(tmp_path: Path, roads) -> None:
    """A survey's whole-metre stake just past a route's end (its length is not whole) is the
    end: accepted there, where it was refused as outside the route; a stake farther out is
    still refused."""
    import math

    from hazards.db.store.roads import get_road

    end = float(get_road(roads, "X001")["end_m"])
    stake = math.floor(end) + 1 if end - math.floor(end) > 0.5 else math.floor(end) + 0.4
    assert 0 < stake - end <= 0.5
    path = tmp_path / "end.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["路线编码", "桩号", "隐患类型"],
                ["X001", f"K{int(stake // 1000)}+{stake % 1000:05.1f}", "急弯"],
                ["X001", f"K{int((end + 2) // 1000)}+{(end + 2) % 1000:05.1f}", "急弯"],
            ]
        )
    report = import_survey(path, provider="p", surveyed_on="2025-03-01", engine=roads)
    assert (report["accepted"], report["rejected"]) == (1, 1), report
    with roads.connect() as conn:
        (chainage,) = conn.execute(text("SELECT chainage_m FROM hazards")).one()
    assert chainage == pytest.approx(end)


def test_a_site_reported_fixed_found_again_is_a_warning(tmp_path: Path, tracked) -> None:
    """Next year's survey finds a hazard where the work is reported done (or verified): it is
    still linked as seen again, and now said in the report's warnings (the re-check must look
    at it); one found again at a site still planned is not a warning."""
    from hazards.remediation import set_status

    by_row = {h["source_row"]: h for h in list_hazards(engine=tracked)}
    fixed, open_ = by_row["1"], by_row["2"]  # X001 K0+200 急弯, X001 K0+600 临水临崖
    set_status([fixed["id"]], to="in_progress", engine=tracked)
    set_status([fixed["id"]], to="reported_done", engine=tracked)
    path = tmp_path / "next.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["序号", "路线编码", "桩号", "隐患类型", "风险等级"],
                ["1", "X001", "K0+200", "急弯", "一级"],
                ["2", "X001", "K0+600", "临水临崖", "三级"],
            ]
        )
    report = import_survey(path, provider="另一公司", surveyed_on="2026-03-01", engine=tracked)
    assert (report["seen_again"], report["added"]) == (2, 0)
    [warned] = report["warning_rows"]
    assert warned["row"] == "1" and warned["line"] == 2
    assert warned["warnings"] == [
        f"repeats {fixed['id']}, which is reported_done: the survey finds the hazard at a site "
        f"reported fixed; check it (hazards history {fixed['id']}, recheck)"
    ]
    assert open_["status"] == "planned"
