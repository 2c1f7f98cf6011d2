"""The bad-input corpus of issue 16: hostile survey sheets, road files and completion reports,
built from nothing (no download), each with the command that reads it and what must happen.

``build(folder, ...)`` writes the files and returns the cases; ``tests/test_corpus.py`` runs
them. Run this file to write the corpus to a folder and look at it::

    python tests/data/make_hostile.py /tmp/corpus

A case is refused (exit 1, one line naming the problem, the database unchanged) or read
(exit 0, the bad rows or cells named in the output, nothing stored: surveys are read with
``--dry-run``).
"""

from __future__ import annotations

import csv
import json
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEADER = ["序号", "路线编码", "桩号", "隐患类型", "隐患描述", "估算金额(万元)", "经度", "纬度"]
GOOD = ["1", "X001", "K0+200", "急弯", "弯道无标志", "1.5", "", ""]
DATE = "2025-04-01"


@dataclass
class Case:
    """One bad input: the command (``{f}`` is the file), the exit code, and words that must be in
    the error line (refused) or in the output (read)."""

    name: str
    args: list[str]
    exit_code: int
    words: list[str] = field(default_factory=list)


def _csv(path: Path, rows: list[list[Any]], *, encoding: str = "utf-8", **fmt: Any) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, **fmt).writerows(rows)
    return path


def _survey(folder: Path, name: str, *rows: list[Any], **fmt: Any) -> Path:
    return _csv(folder / name, [HEADER, *rows], **fmt)


def _row(**cells: Any) -> list[str]:
    row = dict(zip(HEADER, GOOD, strict=True))
    row.update({k: str(v) for k, v in cells.items()})
    return [row[h] for h in HEADER]


def survey_cases(d: Path) -> list[Case]:
    """Survey sheets: refused files and options, then sheets read with bad rows or cells."""
    imp = ["survey", "import", "--provider", "检测公司"]

    def refused(name: str, path: Path | str, words: list[str], *opts: str) -> Case:
        return Case(name, [*imp, str(path), "--surveyed-on", DATE, *opts], 1, words)

    def dry(name: str, path: Path, words: list[str], *opts: str) -> Case:
        return Case(name, [*imp, str(path), "--surveyed-on", DATE, "--dry-run", *opts], 0, words)

    (d / "empty.csv").write_bytes(b"")
    (d / "garbage.csv").write_bytes(bytes(range(128, 256)) * 8)
    (d / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 60)
    (d / "fake.xlsx").write_text("not a zip", encoding="utf-8")
    (d / "bad.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    (d / "notes.pdf").write_text("%PDF-1.4 nothing", encoding="utf-8")
    (d / "a_folder").mkdir(exist_ok=True)
    (d / "a_file").write_text("x", encoding="utf-8")
    lines = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
             "geometry": {"type": "LineString", "coordinates": [[112.3, 28.8], [112.4, 28.9]]}}]}  # fmt: skip
    (d / "lines.geojson").write_text(json.dumps(lines), encoding="utf-8")
    with zipfile.ZipFile(d / "empty_zip.xlsx", "w") as z:
        z.writestr("hello.txt", "no workbook")
    rows = [_row(**{"序号": i, "桩号": f"K0+{100 + 50 * i}"}) for i in range(1, 12)]
    unclosed = _survey(d, "unclosed.csv", *rows)
    text = unclosed.read_text(encoding="utf-8").splitlines(keepends=True)
    text[4] = text[4].replace("弯道无标志", '"弯道无标志', 1)
    unclosed.write_text("".join(text), encoding="utf-8")
    unclosed_end = _survey(d, "unclosed_end.csv", *rows)
    unclosed_end.write_text(
        unclosed_end.read_text(encoding="utf-8") + '12,X001,K1+900,急弯,"没有结束\n13,X001\n',
        encoding="utf-8",
    )
    good = _survey(d, "good.csv", GOOD)
    xy = _survey(
        d, "xy.csv", _row(**{"路线编码": "", "桩号": "", "经度": "3500000", "纬度": "600000"})
    )
    cases = [
        refused("missing file", d / "nothing.csv", ["no such file"]),
        refused("empty file", d / "empty.csv", ["empty"]),
        refused("header only, no hazard column", _csv(d / "names.csv", [["序号", "名称"], ["1", "x"]]), ["no columns for where the hazards are"]),
        refused("bytes that are no text", d / "garbage.csv", ["neither UTF-8"]),
        refused("old .xls", d / "old.xls", [".xls"]),
        refused("an .xlsx that is text", d / "fake.xlsx", ["not a readable Excel"]),
        refused("an .xlsx zip without a workbook", d / "empty_zip.xlsx", ["not a readable Excel"]),
        refused("a cut-off GeoJSON", d / "bad.geojson", ["bad.geojson"]),
        refused("a PDF", d / "notes.pdf", ["notes.pdf"]),
        refused("a folder as the file", d / "a_folder", ["a_folder"]),
        refused("a road file as a survey", d / "lines.geojson", ["line"]),
        refused("an unclosed quote", unclosed, ["line 5: a quote"]),
        refused("an unclosed quote at the end", unclosed_end, ["line 13: a quote"]),
        Case("a survey dated tomorrow", [*imp, str(good), "--surveyed-on", "2999-01-01"], 1, ["in the future", "--surveyed-on"]),
        Case("a date that is none", [*imp, str(good), "--surveyed-on", "2025-13-01"], 1, ["not a date", "--surveyed-on"]),
        Case("no provider", ["survey", "import", str(good), "--provider", " ", "--surveyed-on", DATE], 1, ["provider"]),
        refused("a sheet that is not there", good, ["no sheets"], "--sheet", "Sheet9"),
        refused("an encoding that is none", good, ["--encoding"], "--encoding", "hex"),
        Case("header row 0", [*imp, str(good), "--surveyed-on", DATE, "--header-row", "0"], 2, ["--header-row"]),
        refused("header row past the end", good, ["past the end"], "--header-row", "99"),
        refused("--rejected is a folder", good, ["is a folder", "--rejected"], "--rejected", str(d / "a_folder")),
        refused("--rejected under a file", good, ["a_file"], "--rejected", str(d / "a_file" / "r.csv")),
        refused("a CRS that is none", xy, ["--crs"], "--crs", "EPSG:999999"),
        refused("a mapping to no column", good, ["--map"], "--map", "lon=nowhere"),
    ]  # fmt: skip
    # read, with the bad rows or cells named
    u16 = _survey(d, "unicode.txt", GOOD, encoding="utf-16", delimiter="\t")
    gbk = _survey(d, "gbk.csv", GOOD, encoding="gb18030")
    semi = _survey(d, "semicolon.csv", _row(**{"隐患描述": "弯道; 无标志"}), delimiter=";")
    crlf = _survey(d, "crlf.csv", GOOD, encoding="utf-8-sig", lineterminator="\r\n")
    titled = _csv(d / "titled.csv", [["某县公路隐患排查表"], [], HEADER, GOOD])
    nul = _survey(d, "nul.csv", GOOD)
    nul.write_bytes(nul.read_bytes().replace("弯道".encode(), "弯\x00道".encode()))
    cases += [
        dry("UTF-16 text from Excel", u16, ["1 accepted"]),
        dry("GBK text", gbk, ["1 accepted"]),
        dry("semicolons", semi, ["1 accepted"]),
        dry("CRLF and a BOM", crlf, ["1 accepted"]),
        dry("title rows above the header", titled, ["1 accepted", "row 3"]),
        dry("NUL bytes", nul, ["1 accepted"]),
        dry("a cost of 1e308 万元", _survey(d, "huge.csv", _row(**{"估算金额(万元)": "1e308"})), ["1 warnings"]),
        dry("a cost of inf", _survey(d, "inf.csv", _row(**{"估算金额(万元)": "inf"})), ["1 warnings"]),
        dry("a cost of NaN", _survey(d, "nan.csv", _row(**{"估算金额(万元)": "NaN"})), ["1 warnings"]),
        dry("a negative cost", _survey(d, "neg.csv", _row(**{"估算金额(万元)": "-3"})), ["1 warnings"]),
        dry("coordinates nan", _survey(d, "nancoord.csv", _row(**{"桩号": "", "经度": "nan", "纬度": "nan"})), ["1 rejected"]),
        dry("coordinates out of the world", _survey(d, "far.csv", _row(**{"经度": "999", "纬度": "28.8"}), _row(**{"序号": 2, "桩号": "K0+300"})), ["1 rejected"]),
        dry("a chainage that is none", _survey(d, "ch.csv", _row(**{"桩号": "Kabc"}), _row(**{"序号": 2, "桩号": "K0+300"})), ["1 rejected"]),
        dry("an unknown route", _survey(d, "route.csv", _row(**{"路线编码": "Z999"}), _row(**{"序号": 2, "桩号": "K0+300"})), ["1 rejected"]),
        dry("SQL in a cell", _survey(d, "sql.csv", _row(**{"隐患描述": "x'); DROP TABLE hazards; --"})), ["1 accepted"]),
        dry("markup in a cell", _survey(d, "markup.csv", _row(**{"路线编码": "[/x]"}), _row(**{"序号": 2})), ["'[/X]'"]),
        dry("an escape sequence in a cell", _survey(d, "esc.csv", _row(**{"路线编码": "\x1b[2J"}), _row(**{"序号": 2})), ["1 rejected"]),
        dry("a cell of 100,000 characters", _survey(d, "long.csv", _row(**{"隐患描述": "长" * 100_000})), ["1 accepted"]),
        dry("the same header twice", _csv(d / "twice.csv", [[*HEADER, "隐患描述"], [*GOOD, "again"]]), ["1 accepted"]),
        dry("a length of 10^9 m", _csv(d / "len.csv", [[*HEADER, "长度(m)"], [*GOOD, "1e9"]]), ["1 warnings"]),
    ]  # fmt: skip
    return cases


def road_cases(d: Path, network: Any) -> list[Case]:
    """Road files: refused files and options (``network`` writes a good road file to a path)."""
    load = ["roads", "load"]
    network(d / "roads.shp")
    for part in ("dbf", "shx"):
        cut = d / f"no_{part}"
        cut.mkdir(exist_ok=True)
        for f in d.glob("roads.*"):
            if f.suffix != f".{part}":
                (cut / f.name).write_bytes(f.read_bytes())
    network(d / "nocrs.gpkg", crs=None)
    points = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "X001"},
              "geometry": {"type": "Point", "coordinates": [112.3, 28.8]}}]}  # fmt: skip
    (d / "points.geojson").write_text(json.dumps(points), encoding="utf-8")
    (d / "cut.geojson").write_text('{"type": "FeatureCollection", "feat', encoding="utf-8")
    _csv(d / "roads.csv", [["code", "name"], ["X001", "路"]])
    (d / "rfolder").mkdir(exist_ok=True)
    return [
        Case("missing road file", [*load, str(d / "none.gpkg")], 1, ["no such file"]),
        Case("a folder of shapefiles", [*load, str(d / "no_dbf")], 1, ["is a folder"]),
        Case("a shapefile without .dbf", [*load, str(d / "no_dbf" / "roads.shp")], 1, [".dbf file"]),
        Case("a shapefile without .shx", [*load, str(d / "no_shx" / "roads.shp")], 1, [".shx file"]),
        Case("a GeoPackage without CRS", [*load, str(d / "nocrs.gpkg")], 1, ["--crs"]),
        Case("points as roads", [*load, str(d / "points.geojson")], 1, ["not lines"]),
        Case("a cut-off GeoJSON", [*load, str(d / "cut.geojson")], 1, ["cut.geojson"]),
        Case("a CSV as roads", [*load, str(d / "roads.csv")], 1, ["roads.csv"]),
        Case("--rejected is a folder", [*load, str(d / "roads.shp"), "--rejected", str(d / "rfolder")], 1, ["is a folder", "--rejected"]),
        Case("a CRS that is none", [*load, str(d / "nocrs.gpkg"), "--crs", "EPSG:999999"], 1, ["--crs"]),
    ]  # fmt: skip


def completion_cases(d: Path, export: dict[str, Any]) -> list[Case]:
    """Completion reports, from ``export`` (a batch as exported): every one is refused whole."""
    today = export["today"]

    def report(name: str, change: Any) -> Path:
        data = json.loads(json.dumps(export["collection"]))
        feats = data["features"][:3]
        for f in feats:
            f["properties"].update(status="完成", completed_on=today)
        data["features"] = change(feats) or feats
        path = d / name
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return path

    def set_(k: int, **props: Any) -> Any:
        def change(feats: list[dict[str, Any]]) -> None:
            feats[k]["properties"].update(props)
            if "id" in props:
                feats[k]["id"] = props["id"]

        return change

    def moved(feats: list[dict[str, Any]]) -> None:
        lon, lat = feats[1]["geometry"]["coordinates"]
        feats[1]["geometry"]["coordinates"] = [lon + 0.001, lat]

    imp = ["import", "completion"]
    (d / "report.pdf").write_text("%PDF", encoding="utf-8")
    (d / "cut.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    (d / "noschema.geojson").write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}', encoding="utf-8")  # fmt: skip
    _csv(d / "noid.csv", [["编号", "status"], ["H1", "完成"]])
    _csv(d / "empty_report.csv", [])
    return [
        Case("missing report", [*imp, str(d / "none.geojson")], 1, ["no such file"]),
        Case("a PDF report", [*imp, str(d / "report.pdf")], 1, ["GeoJSON, CSV or XLSX"]),
        Case("a cut-off report", [*imp, str(d / "cut.geojson")], 1, ["not valid UTF-8 JSON"]),
        Case("a report off the schema", [*imp, str(d / "noschema.geojson")], 1, ["schema"]),
        Case("a CSV without id", [*imp, str(d / "noid.csv")], 1, ["no 'id' column"]),
        Case("an empty CSV", [*imp, str(d / "empty_report.csv")], 1, ["empty"]),
        Case("an unknown id", [*imp, str(report("ghost.geojson", set_(2, id="H999999")))], 1, ["Nothing was changed", "--partial"]),
        Case("a repeated id", [*imp, str(report("twice.geojson", lambda f: [*f, f[0]]))], 1, ["Nothing was changed"]),
        Case("a status not understood", [*imp, str(report("word.geojson", set_(1, status="maybe")))], 1, ["Nothing was changed"]),
        Case("completed tomorrow", [*imp, str(report("future.geojson", set_(0, completed_on="2999-01-01")))], 1, ["Nothing was changed"]),
        Case("completed on no date", [*imp, str(report("nodate.geojson", set_(0, completed_on="yesterday")))], 1, ["schema"]),
        Case("a point moved 100 m", [*imp, str(report("moved.geojson", moved))], 1, ["Nothing was changed"]),
        Case("markup as an id", [*imp, str(report("markup.geojson", set_(1, id="[/x]")))], 1, ["'[/x]' does not match"]),
        Case("a formula as an id", [*imp, str(report("formula.geojson", set_(1, id="=1+1")))], 1, ["schema"]),
        Case("a date that is none in a CSV", [*imp, str(_csv(d / "nodate.csv", [["id", "status", "completed_on"], [export["collection"]["features"][0]["id"], "完成", "yesterday"]]))], 1, ["Nothing was changed", "not a date"]),
        Case("markup as an id in a CSV", [*imp, str(_csv(d / "markup.csv", [["id", "status", "completed_on"], ["[/x]", "完成", today]]))], 1, ["Nothing was changed"]),
    ]  # fmt: skip


def output_cases(d: Path, batch: str) -> list[Case]:
    """Files written where they cannot be."""
    (d / "out_folder.csv").mkdir(exist_ok=True)
    (d / "out_folder.xlsx").mkdir(exist_ok=True)
    (d / "out_file").write_text("x", encoding="utf-8")
    folder, under = str(d / "out_folder.csv"), str(d / "out_file" / "x.csv")
    return [
        Case("export -o a folder", ["export", "batch", batch, "-o", str(d / "out_folder.xlsx")], 1, ["is a folder"]),
        Case("export -o under a file", ["export", "batch", batch, "-o", under], 1, ["out_file"]),
        Case("export -o a .txt", ["export", "batch", batch, "-o", str(d / "b.txt")], 1, [".geojson or .xlsx"]),
        Case("progress --csv a folder", ["progress", "--csv", folder], 1, ["is a folder"]),
        Case("progress --csv under a file", ["progress", "--csv", under], 1, ["out_file"]),
        Case("map -o under a file", ["map", "overview", "--offline", "-o", str(d / "out_file" / "m.html")], 1, ["out_file"]),
    ]  # fmt: skip


if __name__ == "__main__":  # write the file-only cases for a look
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus")
    (out / "survey").mkdir(parents=True, exist_ok=True)
    for c in survey_cases(out / "survey"):
        print(c.exit_code, c.name, " ".join(c.args))
