"""Reading sheets (hazards.sheets): CSV records as text cells, row by row, as a delivery has them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazards.errors import InputError
from hazards.sheets import open_sheet


def _rows(path: Path, **kw: int) -> tuple[list[str], int | None, list[dict[str, str]]]:
    sheet, rows = open_sheet(path, **kw)
    return sheet.columns, sheet.header_row, list(rows)


def test_csv_rows_as_delivered(tmp_path: Path) -> None:
    """A title row above the header, cells with spaces, a NUL byte from a broken export, a short
    row, a row with cells beyond the header, a quoted cell over two lines and an empty row: each
    row's cells stripped and keyed by the header, with its line in the file."""
    path = tmp_path / "survey.csv"
    path.write_bytes(
        "某县乡道隐患排查表\n"  # 1 title
        "序号,路线编码,桩号,隐患类型\n"  # 2 header
        "1, Y001 ,K0+100,急弯\n"  # 3
        "2,Y0\x0002,K1+200,陡坡\n"  # 4 a NUL byte inside a cell
        "3,Y003\n"  # 5 short
        "4,Y004,K2+000,临水,备注一,,备注二\n"  # 6 two cells beyond the header
        '5,Y005,K3+000,"急弯\n陡坡"\n'  # 7-8 one record over two lines
        ",,,\n"  # 9 empty
        "6,Y006,K4+000,路侧险要\n".encode()  # 10
    )
    columns, header_row, rows = _rows(path, header_row=2)
    assert columns == ["序号", "路线编码", "桩号", "隐患类型"]
    assert header_row == 2
    assert rows == [
        {"序号": "1", "路线编码": "Y001", "桩号": "K0+100", "隐患类型": "急弯", "_line": "3"},
        {"序号": "2", "路线编码": "Y002", "桩号": "K1+200", "隐患类型": "陡坡", "_line": "4"},
        {"序号": "3", "路线编码": "Y003", "桩号": "", "隐患类型": "", "_line": "5"},
        {
            "序号": "4",
            "路线编码": "Y004",
            "桩号": "K2+000",
            "隐患类型": "临水",
            "_extra": "备注一 | 备注二",
            "_line": "6",
        },
        {"序号": "5", "路线编码": "Y005", "桩号": "K3+000", "隐患类型": "急弯\n陡坡", "_line": "7"},
        {"序号": "", "路线编码": "", "桩号": "", "隐患类型": "", "_line": "9"},
        {"序号": "6", "路线编码": "Y006", "桩号": "K4+000", "隐患类型": "路侧险要", "_line": "10"},
    ]


@pytest.mark.parametrize(
    ("tail", "lines"),
    [
        ('2,"Y002,K1+200\n3,Y003,K2+000\n4,Y004,K3+000\n', "the 2 lines after it"),
        ('2,"Y002,K1+200\n备注\n', "every line after it"),
        # on the last line: the reader would take its line end into the cell, and a warning on
        # a 'category' holding the rest of the row was all the user saw
        ('2,Y002,"K1+200\n', "the rest of the line"),
        ('2,Y002,"K1+200\r\n', "the rest of the line"),
        ('2,Y002,"K1+200', "the rest of the line"),  # and the file ends without a line end
        ('2,12" pipe,"K1+200', "the rest of the line"),  # a quote in a cell before it
        ('2,12" pipe,"K1+200\n', "the rest of the line"),
    ],
)
def test_an_unclosed_quote_is_refused_naming_its_line(
    tmp_path: Path, tail: str, lines: str
) -> None:
    """A quote never closed: the rows it would swallow, or the rest of the file."""
    path = tmp_path / "survey.csv"
    path.write_text("序号,路线编码,桩号\n1,Y001,K0+100\n" + tail, encoding="utf-8")
    with pytest.raises(InputError, match=f"line 3: a quote .* so {lines} would be read"):
        _rows(path, header_row=1)


@pytest.mark.parametrize("end", ["", "\n"])
def test_a_quote_inside_a_cell_on_the_last_line_is_read_as_it_is(tmp_path: Path, end: str) -> None:
    """A quote that does not open a cell (12" pipe) is part of it, on the last line too."""
    path = tmp_path / "survey.csv"
    path.write_text('序号,路线编码,桩号,类型\n1,Y001,K0+100,12" pipe' + end, encoding="utf-8")
    _columns, _header, rows = _rows(path, header_row=1)
    assert [r["类型"] for r in rows] == ['12" pipe']


@pytest.mark.parametrize("end", ["", "\n"])
def test_a_cell_closed_by_a_later_lines_quote_is_refused_naming_both_lines(
    tmp_path: Path, end: str
) -> None:
    """A delivery's quote left open ("12"" 管涵) and closed by the next line's opening quote
    ("K0+500) took that line into the cell: the row was lost with only a vocabulary warning."""
    path = tmp_path / "survey.csv"
    path.write_text(
        "县道隐患排查表\n序号,路线编码,桩号,隐患类型,等级\n1,X001,K0+100,急弯,一级\n"
        '2,X001,K0+300,"12"" 管涵,二级\n1,X001,"K0+500' + end,
        encoding="utf-8",
    )
    # the line taken in has too few cells to look like a row of its own, and the record's
    # quotes are even (4): only a strict reading of the record's lines sees the stray quote
    with pytest.raises(
        InputError,
        match=r"line 4: a quote .* runs on to line 5, .*'1,X001,\"K0\+500'.* so the line after",
    ):
        _rows(path, header_row=2)


def test_a_cell_holding_a_line_break_is_read_whole(tmp_path: Path) -> None:
    """A quoted cell with line breaks and doubled quotes, closed at the end of a later line,
    is one cell (the check above does not refuse it)."""
    path = tmp_path / "survey.csv"
    path.write_text(
        '序号,路线编码,桩号,备注\n1,Y001,K0+100,"12"" 管涵\n""旧"",\n待查"\n2,Y001,K0+200,无\n',
        encoding="utf-8",
    )
    _columns, _header, rows = _rows(path, header_row=1)
    assert [(r["序号"], r["备注"], r["_line"]) for r in rows] == [
        ("1", '12" 管涵\n"旧",\n待查', "2"),
        ("2", "无", "5"),
    ]


@pytest.mark.parametrize(
    ("body", "cells"),
    [
        # a space after a quote that closes a cell on a later line
        ('1,Y001,"K0+100\nz" ,x\n', ["1", "Y001", "K0+100\nz", "x"]),  # (cells stripped)
        # text after a closed quote on the record's first line
        ('1,"Y001" east,K0+100,"a\nb"\n', ["1", "Y001 east", "K0+100", "a\nb"]),
    ],
)
def test_text_after_a_closing_quote_is_read_as_before(
    tmp_path: Path, body: str, cells: list[str]
) -> None:
    """Only a later line's quote that opens a cell there is taken for the misplaced quote: other
    text after a closing quote is read as it always was."""
    path = tmp_path / "survey.csv"
    path.write_text("序号,路线编码,桩号,备注\n" + body, encoding="utf-8")
    _columns, _header, rows = _rows(path, header_row=1)
    assert [[r[k] for k in ("序号", "路线编码", "桩号", "备注")] for r in rows] == [cells]


def test_a_quote_left_open_to_the_end_of_the_file_is_refused_even_with_an_even_count(
    tmp_path: Path,
) -> None:
    """``12" pipe,"abc`` then ``def`` at the end: two quotes, but the second opens a cell that
    never closes."""
    path = tmp_path / "survey.csv"
    path.write_text('序号,类型,备注\n2,12" pipe,"abc\ndef', encoding="utf-8")
    with pytest.raises(InputError, match="line 2: a quote .* so every line after it would be"):
        _rows(path, header_row=1)


def test_the_sheet_of_data_is_found_and_several_are_named(tmp_path: Path) -> None:
    """A workbook's hidden first sheet (填表说明) or a visible notes sheet is not the data;
    several sheets of data (one a township) are refused, named, not read as the first alone."""
    import openpyxl

    from hazards.survey import open_sheet as open_survey

    header = ["序号", "路线编码", "桩号", "隐患类型", "风险等级"]
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title, notes.sheet_state = "填表说明", "hidden"
    notes.append(["本表由检测单位填写"])
    data = wb.create_sheet("排查表")
    data.append(header)
    data.append([1, "Y001", "K1+200", "急弯", "一级"])
    wb.create_sheet("备注").append(["审核人：李四"])
    wb.save(tmp_path / "one.xlsx")
    sheet, rows = open_survey(tmp_path / "one.xlsx")
    assert sheet.sheet == "排查表" and [r["路线编码"] for r in rows] == ["Y001"]

    for town in ("南大膳镇", "琼湖街道"):
        more = wb.create_sheet(town)
        more.append(header)
        more.append([1, "Y002", "K0+300", "陡坡", "二级"])
    wb.save(tmp_path / "towns.xlsx")
    with pytest.raises(
        InputError, match="3 sheets of data \\(排查表, 南大膳镇, 琼湖街道\\)"
    ) as err:
        open_survey(tmp_path / "towns.xlsx")
    assert err.value.param == "sheet"
    sheet, rows = open_survey(tmp_path / "towns.xlsx", sheet="琼湖街道")
    assert [r["路线编码"] for r in rows] == ["Y002"]


def test_cells_merged_down_over_data_rows_are_read_in_every_row(tmp_path: Path) -> None:
    """A route code and township written once and merged down over the rows they cover (as
    Chinese sheets do) are every covered row's; the header's merges and the rows past a merge
    are as before."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["乡道隐患排查表", None, None, None])
    ws.merge_cells("A1:D1")  # a title across: not a data row
    ws.append(["序号", "路线编码", "乡镇", "桩号"])
    for k in range(1, 6):
        ws.append([k, "Y001" if k == 1 else ("Y002" if k == 5 else None),
                   "草尾镇" if k == 1 else None, f"K0+{100 * k:03d}"])  # fmt: skip
    ws.merge_cells("B3:B6")  # Y001 over rows 3-6
    ws.merge_cells("C3:C5")  # 草尾镇 over rows 3-5
    ws.append(["注：本表坐标为 CGCS2000", None, None, None])  # rows 8-9: a note merged across
    ws.append([None, None, None, None])
    ws.merge_cells("A8:D9")
    wb.save(tmp_path / "merged.xlsx")
    from hazards.survey import open_sheet as open_survey

    _, rows = open_survey(tmp_path / "merged.xlsx")
    got_rows = [r for r in rows if any(v for k, v in r.items() if k != "_line")]
    got = [(r["_line"], r["路线编码"], r["乡镇"]) for r in got_rows]
    assert got == [
        ("3", "Y001", "草尾镇"),
        ("4", "Y001", "草尾镇"),
        ("5", "Y001", "草尾镇"),
        ("6", "Y001", ""),
        ("7", "Y002", ""),
        ("8", "", ""),  # the note once, not copied into the row below it
    ]
    assert [r["序号"] for r in got_rows[-1:]] == ["注：本表坐标为 CGCS2000"]


def test_a_two_row_header_grouping_start_and_end_names_both_stakes(tmp_path: Path) -> None:
    """起点 and 终点 merged across 桩号/经度/纬度 below them: the stakes are 起点桩号 and 终点桩号
    (a range), where the second 桩号 became 桩号_2 and was ignored without a word; the
    coordinates are the start's (经度, 纬度), the end's kept as 经度_2, 纬度_2."""
    import openpyxl

    from hazards.survey import open_sheet as open_survey
    from hazards.survey import parse_chunk, sheet_headers

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "路线编码", "起点", None, None, "终点", None, None, "隐患类型"])
    ws.append([None, None, "桩号", "经度", "纬度", "桩号", "经度", "纬度", None])
    ws.append(
        [1, "Y001", "K2+061", "112.357401", "28.988794", "K2+274", "112.356", "28.990", "临水临崖"]
    )
    for cells in ("A1:A2", "B1:B2", "C1:E1", "F1:H1", "I1:I2"):
        ws.merge_cells(cells)
    wb.save(tmp_path / "ends.xlsx")
    sheet, rows = open_survey(tmp_path / "ends.xlsx")
    assert sheet.columns == ["序号", "路线编码", "起点桩号", "经度", "纬度", "终点桩号", "经度_2",
                             "纬度_2", "隐患类型"]  # fmt: skip
    (row,) = parse_chunk(list(rows), headers=sheet_headers(sheet))
    assert (row.from_m, row.to_m, row.x, row.y) == (2061.0, 2274.0, 112.357401, 28.988794)
