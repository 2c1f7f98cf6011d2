"""Reading survey sheets: encodings, headers, coordinates, categories, tiers, amounts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from hazards.errors import InputError
from hazards.survey import (
    normalise_category,
    normalise_tier,
    parse_amount,
    parse_coordinate,
    parse_rows,
    raw_json,
    read_sheet,
    recognise_headers,
)

HEADER = [
    "序号",
    "路线编码",
    "桩号",
    "经度",
    "纬度",
    "隐患类型",
    "隐患描述",
    "风险等级",
    "估算金额(万元)",
    "长度(m)",
    "照片",
]
ROW = [
    "7",
    "Y105",
    "K1+200",
    "112°21'30.5\"",
    "28.8512",
    "连续急弯",
    "弯道无警示",
    "二级",
    "3.5万",
    "120",
    "IMG_7.jpg",
]


def _csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    sheet = read_sheet(_csv(tmp_path / "s.csv", [HEADER, ROW], encoding))
    assert sheet.columns == HEADER
    assert sheet.rows[0]["隐患描述"] == "弯道无警示"


def test_xlsx_reads_the_same_cells(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(
        [
            7,
            "Y105",
            "K1+200",
            "112°21'30.5\"",
            28.8512,
            "连续急弯",
            "弯道无警示",
            "二级",
            "3.5万",
            120,
            "IMG_7.jpg",
        ]
    )
    wb.save(tmp_path / "s.xlsx")
    sheet = read_sheet(tmp_path / "s.xlsx")
    assert sheet.rows[0] == dict(zip(HEADER, ROW, strict=True))


def test_headers_chinese_english_and_mapping() -> None:
    cols = ["No", "Route", "Chainage", "Longitude", "Latitude", "Hazard_Type", "备注"]
    h = recognise_headers(cols)
    assert h == {
        "row_id": "No",
        "route_code": "Route",
        "chainage": "Chainage",
        "lon": "Longitude",
        "lat": "Latitude",
        "category": "Hazard_Type",
    }
    h = recognise_headers(cols, mapping={"description": "备注"})
    assert h["description"] == "备注"
    with pytest.raises(InputError, match="no column 'nope'"):
        recognise_headers(cols, mapping={"description": "nope"})
    assert recognise_headers(["估算金额（万元）", "整治措施"]) == {
        "cost_10k": "估算金额（万元）",
        "countermeasure": "整治措施",
    }


def test_parse_rows_types_every_field(tmp_path: Path) -> None:
    rows, headers = parse_rows(
        read_sheet(
            _csv(tmp_path / "s.csv", [HEADER, ROW, [""] * len(HEADER), ["9"] + [""] * 10], "gbk")
        )
    )
    r = rows[0]
    assert (r.row_id, r.route_code, r.chainage_m) == ("7", "Y105", 1200.0)
    assert r.x == pytest.approx(112 + 21 / 60 + 30.5 / 3600) and r.y == 28.8512
    assert (r.category, r.category_raw, r.provided_tier) == ("consecutive_curves", "连续急弯", "II")
    assert r.provided_cost_cny == 35000.0 and r.length_m == 120.0 and r.photo == "IMG_7.jpg"
    assert rows[1].empty and rows[2].empty  # a row holding only its serial number is empty too


def test_columns_named_with_an_underscore_are_not_row_content(tmp_path: Path) -> None:
    """Form exports (KoboToolbox: _id, _uuid, _submission_time) add columns that are not the
    hazard: they stay out of raw (and so of the content hash) on every row alike."""
    header = ["_id", "路线编码", "桩号", "隐患类型", "_note"]
    rows, _ = parse_rows(
        read_sheet(
            _csv(
                tmp_path / "s.csv",
                [
                    header,
                    ["1", "X001", "K0+100", "急弯", "a"],
                    ["2", "", "", "", "only a note"],
                    ["3", "X001", "K0+200", "急弯", "b", "stray"],
                ],
                "utf-8",
            )
        )
    )
    assert rows[0].row_id == "1" and rows[0].raw == {
        "路线编码": "X001",
        "桩号": "K0+100",
        "隐患类型": "急弯",
    }
    assert rows[1].empty
    assert set(rows[2].raw) == {"路线编码", "桩号", "隐患类型"} and rows[2].warnings


@pytest.mark.parametrize("encoding", ["hex", "rot13", "no-such-codec"])
def test_a_wrong_encoding_is_an_input_error(tmp_path: Path, encoding: str) -> None:
    with pytest.raises(InputError, match="detect UTF-8 or GBK") as info:
        read_sheet(_csv(tmp_path / "s.csv", [HEADER, ROW], "utf-8"), encoding=encoding)
    assert info.value.param == "encoding" and "--" not in info.value.message


def test_a_sheet_without_location_columns_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="经度/纬度"):
        parse_rows(read_sheet(_csv(tmp_path / "s.csv", [["序号", "描述"], ["1", "x"]], "utf-8")))


@pytest.mark.parametrize(
    "text, value",
    [
        ("112.3585", 112.3585),
        ("112°21'30\"", 112.358333),
        ("112 21 30", 112.358333),
        ("112°21.5'", 112.358333),
        ("E112°21'30\"", 112.358333),
        ("28°51′12″N", 28.853333),
        ("112度21分30秒", 112.358333),
        ("28°51'12\"S", -28.853333),
        ("东经112°21′30″", 112.358333),  # the Chinese words for E and N
        ("北纬28°51′12″", 28.853333),
        ("112º21’30”", 112.358333),  # an ordinal º and curly quotes, as autocorrect types them
        ("112.3585E", 112.3585),
        ("S28.5", -28.5),
        ("", None),
    ],
)
def test_coordinates(text: str, value: float | None) -> None:
    got = parse_coordinate(text)
    assert got == (None if value is None else pytest.approx(value, abs=1e-6))


@pytest.mark.parametrize(
    "text", ["abc", "112°61'", "nan", "1e999", "112°21'30\"X", "E112.5N", "东经112", "E112"]
)  # whole degrees alone are no place (100 km wide)
def test_bad_coordinates_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_coordinate(text)


def test_vocabularies() -> None:
    assert normalise_category("急弯") == "sharp_curve"
    assert normalise_category("临水临崖") == "roadside_water_or_cliff"
    assert normalise_category("交叉口不规范") == "irregular_junction"
    # the plain word for a junction, as a survey's 隐患类型 says it (and as the maps say it)
    for word in ("交叉口", "平交路口", "平交口", "平面交叉", "路口", "学校路口"):
        assert normalise_category(word) == "irregular_junction", word
    # what a place lacks (a guardrail, signs), and a plain curve
    for text, term in (
        ("缺少护栏", "dangerous_roadside"),
        ("护栏缺失", "dangerous_roadside"),
        ("路侧无护栏", "dangerous_roadside"),
        ("缺少标志", "missing_signs_markings"),
        ("路口缺少标志", "missing_signs_markings"),  # as 路口标志缺失 is
        ("路口标志缺失", "missing_signs_markings"),
        ("铁路道口缺少标志", "missing_signs_markings"),
        ("平交路口无标志", "missing_signs_markings"),  # whatever the words' lengths
        ("交叉口无标线", "missing_signs_markings"),
        ("平面交叉缺少标线", "missing_signs_markings"),
        ("交叉口标线缺失", "missing_signs_markings"),
        ("弯道", "sharp_curve"),
        ("连续弯道", "consecutive_curves"),
    ):
        assert normalise_category(text) == term, text
    # ... and where the text names the hazard, that is what it is
    for text, term in (
        ("临水无护栏", "roadside_water_or_cliff"),
        ("临崖缺护栏", "roadside_water_or_cliff"),
        ("急弯缺少标志", "sharp_curve"),
        ("陡坡无标线", "steep_grade"),
        ("弯道视距不良", "poor_sight_distance"),
    ):
        assert normalise_category(text) == term, text
    # ... but where a text names the hazard too, the junction is only where it is
    for text, term in (
        ("交叉口视距不良", "poor_sight_distance"),
        ("路口急弯", "sharp_curve"),
        ("急弯路口", "sharp_curve"),
        ("交叉口陡坡", "steep_grade"),
        ("路口坑槽", "pavement_defect"),
        ("平交口临水", "roadside_water_or_cliff"),
    ):
        assert normalise_category(text) == term, text
    for crossing in ("铁路平交路口", "公铁平交口", "铁路道口"):  # a railway: not a road junction
        assert normalise_category(crossing) is None, crossing
    assert normalise_category("急弯（无警示标志）") == "sharp_curve"
    assert normalise_category("树木遮挡") is None
    for text, tier in [
        ("一级", "I"),
        ("II", "II"),
        ("3", "III"),
        ("高", "I"),
        ("medium", "II"),
        ("低", "III"),
        ("Ⅱ", "II"),
    ]:
        assert normalise_tier(text) == tier, text
    assert normalise_tier("很高") is None
    assert parse_amount("3.5", unit=10000) == 35000
    assert parse_amount("¥1,200") == 1200
    assert parse_amount("2万") == 20000
    with pytest.raises(ValueError):
        parse_amount("约三万")
    assert parse_amount("¥1,200,000") == 1_200_000


@pytest.mark.parametrize("cell", ["２万", "３.5", "1,5", "12,34"])
def test_full_width_digits_and_unclear_commas_are_flagged_not_converted(cell: str) -> None:
    from hazards.survey import parse_chunk

    with pytest.raises(ValueError):
        parse_amount(cell)
    (row,) = parse_chunk(
        [{"序号": "1", "估算金额(万元)": cell}],
        headers={"row_id": "序号", "cost_10k": "估算金额(万元)"},
    )
    assert row.provided_cost_cny is None
    assert any(cell in w and "not guessed" in w for w in row.warnings), row.warnings


@pytest.mark.parametrize(
    ("cell", "metres", "hint"),
    [("1.5", 1.5, "K1+500"), ("12.35", 12.35, "K12+350"), ("1350", 1350.0, None),
     ("K1+500", 1500.0, None), ("350.5", 350.5, None), ("0.5m", 0.5, None)],
)  # fmt: skip
def test_a_bare_decimal_stake_is_read_as_metres_with_a_word(
    cell: str, metres: float, hint: str | None
) -> None:
    """桩号 1.5 is 1.5 m, K0+001.5, as before; as a firm writing kilometres meant K1+500, the
    row says so, where it was placed 1.5 km off without a word."""
    from hazards.survey import parse_chunk

    (row,) = parse_chunk(
        [{"路线编码": "Y001", "桩号": cell}], headers={"route_code": "路线编码", "chainage": "桩号"}
    )
    assert row.chainage_m == metres
    told = [w for w in row.warnings if "if it means kilometres" in w]
    assert told[0].endswith(f"write {hint}") if hint else not told, row.warnings


def test_header_row_found_below_a_title_and_unmapping(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["某县隐患排查表"],
                [],
                ["序号", "route", "经度", "纬度", "隐患类型"],
                ["1", "3", "112", "28", "急弯"],
            ]
        )
    sheet = read_sheet(path)
    assert (sheet.header_row, sheet.columns[:2]) == (3, ["序号", "route"])
    assert len(sheet.rows) == 1 and sheet.rows[0]["隐患类型"] == "急弯"
    assert recognise_headers(sheet.columns)["route_code"] == "route"
    assert "route_code" not in recognise_headers(sheet.columns, mapping={"route_code": ""})


def test_category_inside_longer_text_prefers_the_most_specific_term() -> None:
    assert normalise_category("连续急弯路段") == "consecutive_curves"
    assert normalise_category("急弯路段（无标志）") == "sharp_curve"
    assert normalise_category("路侧临水临崖") == "roadside_water_or_cliff"


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_errors_name_the_argument_not_a_cli_flag(tmp_path: Path) -> None:
    """Each refusal says which library argument it is about (``param``); the CLI adds the flag."""
    import openpyxl

    path = _csv(tmp_path / "s.csv", [HEADER, ROW], "utf-8")
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.save(tmp_path / "s.xlsx")
    cases = [
        (lambda: recognise_headers(HEADER, mapping={"colour": "桩号"}), "mapping"),
        (lambda: recognise_headers(HEADER, mapping={"lon": "nowhere"}), "mapping"),
        (
            lambda: parse_rows(
                read_sheet(_csv(tmp_path / "n.csv", [["序号", "描述"], ["1", "x"]], "utf-8"))
            ),
            "mapping",
        ),
        (lambda: read_sheet(tmp_path / "s.xlsx", sheet="Sheet9"), "sheet"),
        (lambda: read_sheet(path, encoding="hex"), "encoding"),
        (lambda: read_sheet(_bytes(tmp_path / "b.csv", b"\xff\xfa\xfb\n")), "encoding"),
    ]
    for call, param in cases:
        with pytest.raises(InputError) as info:
            call()
        assert info.value.param == param, info.value.message
        assert "--" not in info.value.message, info.value.message


def test_separator_sniffing_splits_lines_only_at_line_ends() -> None:
    """A cell holding a record-separator character (\\x1e) and a ';' is not a ';'-separated file."""
    from hazards.sheets import sniff_delimiter

    head = "序号,路线编码,桩号,经度\r\n1,Y001,;\x1e,;\x1e0\r\n2,Y001,K0+100,112.3\r\n"
    assert sniff_delimiter(head) == ","
    assert sniff_delimiter("a;b;c\n1;2;3\n4;5;6\n") == ";"


def test_separator_comes_from_the_header_row() -> None:
    from hazards.sheets import sniff_delimiter

    # data rows with more tabs than the header has commas: still a ',' file
    assert sniff_delimiter("a,b,c\n,,,,\t\n0\t,,\n\n") == ","
    # a ';' file with decimal commas in every data row
    assert sniff_delimiter("序号;经度;纬度\n1;112,3456;28,1234\n2;112,3457;28,1235\n") == ";"
    assert sniff_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"
    assert sniff_delimiter("only one column\n1\n") == ","


@pytest.mark.parametrize(
    "raw",
    [
        {"序号": "1", "路线编码": "X001", "隐患描述": 'a "quoted"\tcell\nwith lines \\ and \u2028'},
        {"b": "", "a": "\x00\x1f", "B": "é", "_": "中文"},
        {},
        {"only": "one %s cell"},
        {"100%": "a % in a key", "%s": "%d", "a%%b": "%%"},
        {"n": 1, "s": "not all cells are text"},
    ],
)
def testraw_json_is_json_dumps_with_sorted_keys(raw: dict) -> None:
    """The stored ``raw`` and its hash (``content_hash``, compared by corrections with rows
    stored long ago) are exactly those of ``json.dumps(sort_keys=True, ensure_ascii=False)``."""
    assert raw_json(raw) == json.dumps(raw, sort_keys=True, ensure_ascii=False)
    assert raw_json(dict(reversed(raw.items()))) == raw_json(raw)


@pytest.mark.parametrize(
    ("cells", "located", "total"),
    [
        (["合计", "", "", "12000"], False, True),
        (["", "合 计", "", "3"], False, True),  # the first filled cell, with a space in it
        (["Total", "", "5"], False, True),
        (["小计", "", "5"], False, True),
        (["1", "合计", ""], False, False),  # a record whose description says 合计
        (["合计", "X001", "K0+100"], True, False),  # it says where: a record
        (["合计计", ""], False, False),
        (["合计：", "", "5"], False, True),  # as police sheets write them
        (["本页合计", "", "5"], False, True),
        (["全年合计:", "", "5"], False, True),
        (["总计", "", "5"], False, True),
        (["本页", "", "5"], False, False),
        (["填表人：张三", "", "审核人：李四", "日期：2025.3"], False, True),  # a signature line
        (["", "审核人:李四"], False, True),
        (["制表 ：王五"], False, True),
        (["填表人：张三", "X001", "K0+100"], True, False),  # it says where: a record
        (["填表人说明了急弯"], False, False),  # no colon: a record's words
    ],
)
def test_a_totals_row_is_told_by_its_first_filled_cell_and_no_location(
    cells: list[str], located: bool, total: bool
) -> None:
    from hazards.cells import footer_row

    assert footer_row(cells, located=located) is total


def test_a_signature_line_across_the_data_columns_is_empty() -> None:
    """填表人 / 审核人 / 日期 spread over the 桩号 and 经度 columns: an empty row, not a hazard
    rejected for its chainage 审核人：李工 (the coordinates it holds are no place)."""
    from hazards.survey import parse_chunk

    headers = {"row_id": "序号", "route_code": "路线编码", "chainage": "桩号", "lon": "经度",
               "lat": "纬度"}  # fmt: skip
    (row,) = parse_chunk(
        [
            {
                "序号": "填表人：张三",
                "路线编码": "",
                "桩号": "审核人：李工",
                "经度": "日期：2025年9月30日",
                "纬度": "",
            }
        ],  # fmt: skip
        headers=headers,
    )
    assert row.empty and not row.errors


def test_a_totals_row_is_empty_and_a_located_row_saying_total_is_parsed() -> None:
    from hazards.survey import parse_chunk

    headers = {"row_id": "序号", "route_code": "路线编码", "chainage": "桩号",
               "lon": "经度", "lat": "纬度", "cost_cny": "估算费用"}  # fmt: skip
    rows = parse_chunk(
        [
            {
                "序号": "合计",
                "路线编码": "",
                "桩号": "",
                "经度": "",
                "纬度": "",
                "估算费用": "12000",
            },
            {
                "序号": "合计",
                "路线编码": "",
                "桩号": "",
                "经度": "112.5",
                "纬度": "28.1",
                "估算费用": "300",
            },  # fmt: skip
            {"序号": "9", "路线编码": "", "桩号": "", "经度": "", "纬度": "", "估算费用": "1"},
        ],
        headers=headers,
    )
    assert [r.empty for r in rows] == [True, False, False]
    assert (rows[0].row_id, rows[0].errors, rows[0].provided_cost_cny) == ("合计", [], None)
    assert (rows[1].x, rows[1].y, rows[1].provided_cost_cny) == (112.5, 28.1, 300.0)


@pytest.mark.parametrize(
    ("cell", "unit", "cny"),
    [
        ("12000元", 10000, 12000.0),  # the cell says yuan: not 1.2 亿 in a 万元 column
        ("¥1,200", 10000, 1200.0),
        ("1200 CNY", 10000, 1200.0),
        ("2万元", 10000, 20000.0),
        ("2万", 1, 20000.0),
        ("0.81", 10000, 8100.0),  # to the fen: 0.81 × 10000 is 8100.000000000001 in floats
        ("4.02", 10000, 40200.0),
        ("12.345", 1, 12.35),  # fen are the smallest unit
        ("￥1,200", 10000, 1200.0),  # the full-width yen a Chinese input method types
    ],
)
def test_an_amount_is_read_in_the_cells_own_unit_to_the_fen(
    cell: str, unit: int, cny: float
) -> None:
    assert parse_amount(cell, unit=unit) == cny


def test_an_unreadable_chainage_is_told_what_is_wrong_with_it() -> None:
    """K3+1200 was told "not understood"; the parser's own reason says how to write it."""
    from hazards.survey import parse_chunk

    (row,) = parse_chunk(
        [{"序号": "1", "路线编码": "X001", "桩号": "K3+1200"}],
        headers={"row_id": "序号", "route_code": "路线编码", "chainage": "桩号"},
    )
    assert row.errors == [
        "Chainage 'K3+1200': the metres after '+' must be below 1000 (write K4+200) (column 桩号)"
    ]


@pytest.mark.parametrize(
    ("lon", "lat"), [("经度（E）", "纬度（N）"), ("东经", "北纬"), ("经度(°)", "纬度(°)")]
)
def test_coordinate_headers_as_surveys_and_police_sheets_write_them(lon: str, lat: str) -> None:
    """Not recognised before: with a route and 桩号 the coordinates were silently ignored."""
    from hazards.crashes import recognise_headers as crash_headers

    got = recognise_headers(["序号", "路线编码", "桩号", lon, lat, "隐患类型"])
    assert (got["lon"], got["lat"]) == (lon, lat)
    got = crash_headers(["事故编号", "事故时间", lon, lat])
    assert (got["lon"], got["lat"]) == (lon, lat)


@pytest.mark.parametrize(
    "cell",
    ["K0+580~K0+909", "K0+580－K0+909", "K0+580～K0+909", "K0+580至K0+909", "K0+580–K0+909",
     "K0+580 – K0+909", "K0+580−K0+909", "K0+580——K0+909"],
)  # fmt: skip
def test_a_range_cell_with_any_dash(cell: str) -> None:
    """起止桩号 with the full-width dash of a Chinese input mode is a range (it was refused)."""
    from hazards.survey import parse_chunk

    (row,) = parse_chunk(
        [{"路线编码": "Y005", "起止桩号": cell}],
        headers={"route_code": "路线编码", "chainage_range": "起止桩号"},
    )
    assert (row.from_m, row.to_m, row.errors) == (580.0, 909.0, [])


def test_a_range_in_the_stake_column_is_read_as_a_range() -> None:
    """桩号 K0+100~K0+200 (no 起止桩号 column used): a range, with a word; it was refused as a
    chainage not understood. A 桩号 that is no range is refused as before."""
    from hazards.survey import parse_chunk

    headers = {"route_code": "路线编码", "chainage": "桩号"}
    ranged, bad = parse_chunk(
        [{"路线编码": "Y005", "桩号": "K0+100~K0+200"}, {"路线编码": "Y005", "桩号": "K0+1OO"}],
        headers=headers,
    )
    assert (ranged.from_m, ranged.to_m, ranged.chainage_m, ranged.errors) == (
        100.0,
        200.0,
        150.0,
        [],
    )
    assert any("is a range: read as 起止桩号" in w for w in ranged.warnings)
    assert bad.chainage_m is None and bad.errors
