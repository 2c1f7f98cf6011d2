"""Files written for people: rejected rows, safe names, paths checked, formula-like text."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hazards.errors import InputError
from hazards.outfiles import (
    RejectedWriter,
    literal_text,
    rejected_target,
    safe_name,
    writable_file,
)


def test_rejected_rows_are_written_only_when_kept(tmp_path: Path) -> None:
    target = tmp_path / "s.rejected.csv"
    w = RejectedWriter(target, ["序号", "路线编码", "_line"])
    w.write({"序号": "3", "路线编码": "=HYPERLINK(1)", "_line": "9"}, "9", "unknown route")
    assert w.used and not target.exists()  # written to NAME.PID.part until kept
    w.keep()
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        ["序号", "路线编码", "source_row", "rejected_reason"],
        ["3", "'=HYPERLINK(1)", "9", "unknown route"],
    ]
    failed = RejectedWriter(tmp_path / "t.rejected.csv", ["序号"])
    failed.write({"序号": "1"}, "1", "why")
    failed.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.rejected.csv"]


def test_a_different_file_in_the_way_is_kept_not_overwritten(tmp_path: Path) -> None:
    """The rejected-rows file of an import run again may be the one the user is correcting:
    the same rows again replace it, other content is moved to NAME.1.csv, NAME.2.csv first."""
    target = tmp_path / "s.rejected.csv"

    def run(*codes: str) -> Path | None:
        w = RejectedWriter(target, ["路线编码"])
        for code in codes:
            w.write({"路线编码": code}, "2", "unknown route")
        return w.keep()

    assert run("X001") is None and run("X001") is None  # nothing there, then the same rows
    target.write_text(target.read_text(encoding="utf-8-sig").replace("X001", "X002"), "utf-8-sig")
    assert run("X001") == tmp_path / "s.rejected.1.csv"  # the user's correction kept
    assert "X002" in (tmp_path / "s.rejected.1.csv").read_text(encoding="utf-8-sig")
    assert "X001" in target.read_text(encoding="utf-8-sig")
    assert run("X003") == tmp_path / "s.rejected.2.csv"  # the next one beside it
    assert "X001" in (tmp_path / "s.rejected.2.csv").read_text(encoding="utf-8-sig")
    assert run() is None  # no row rejected: nothing written, nothing moved
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "s.rejected.1.csv", "s.rejected.2.csv", "s.rejected.csv",
    ]  # fmt: skip


def test_names_and_places_of_the_files(tmp_path: Path) -> None:
    assert safe_name("南大膳镇 / 2025") == "南大膳镇_2025"
    survey = tmp_path / "排查.xlsx"
    assert rejected_target(survey, None) == tmp_path / "排查.rejected.csv"
    assert rejected_target(survey, None, sheet="第二批") == tmp_path / "排查.第二批.rejected.csv"
    with pytest.raises(InputError, match="is a folder") as err:
        rejected_target(survey, tmp_path)
    assert err.value.param == "rejected_path"
    assert writable_file(tmp_path / "new" / "x.csv") == tmp_path / "new" / "x.csv"
    assert (tmp_path / "new").is_dir()


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-12.5", "-12.5"),
        ("K0+100", "K0+100"),
        (3, 3),
    ],
)
def test_formula_like_text_stays_text(value: object, written: object) -> None:
    assert literal_text(value) == written
