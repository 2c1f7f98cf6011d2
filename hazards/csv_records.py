"""A CSV file's records (for :mod:`hazards.sheets`), with the line each starts on, and a quote
that opens a cell and is never closed refused rather than read on to the end of the file."""

from __future__ import annotations

import csv
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from hazards.errors import InputError


def csv_records(p: Path, enc: str, dialect: Any) -> Generator[tuple[int, list[str]], None, None]:
    """(line number where the record starts, cells) of each CSV record.

    A quote that opens a cell and is never closed would make the reader take every line after
    it as that one cell: a record running to the end of the file with an odd number of quotes,
    a cell holding lines that look like rows of their own, or a cell taking in lines until a
    quote in the middle of a later line closes it, is refused, naming its line."""
    lines: list[str] = []  # the lines of the record being read

    def kept(fh: Iterator[str]) -> Iterator[str]:
        keep = lines.append
        for ln in fh:
            if "\x00" in ln:  # NUL bytes (from broken exports) would stop the reader
                ln = ln.replace("\x00", "")
            keep(ln)
            yield ln

    with p.open("r", encoding=enc, newline="") as fh:
        width = 0  # the most cells a one-line record has had
        start = last_start = 1
        odd = False  # the last record's quotes are odd: its quoted cell never closed
        try:
            reader = csv.reader(kept(fh), dialect)
            clear = lines.clear
            for rec in reader:
                end = reader.line_num
                if end > start:
                    _check_quotes(p, rec, start, end, width, dialect.delimiter)
                    odd = sum(ln.count('"') for ln in lines) % 2 == 1
                    if not odd:
                        _check_closed(p, lines, start, dialect)
                else:
                    if len(rec) > width:
                        width = len(rec)
                    # a quote opened on the last line and never closed takes in its line end
                    # (or, when the file ends without one, would have taken it in), whatever
                    # the quotes before it on the line (12" pipe,"K1+200: two)
                    odd = '"' in lines[-1] and (
                        any("\n" in c or "\r" in c for c in rec) or _left_open(lines[-1], dialect)
                    )
                clear()
                last_start = start
                yield start, rec
                start = end + 1
        except csv.Error as exc:
            raise InputError(f"{p}: not a readable CSV file ({exc}).") from exc
        if odd:
            raise InputError(_unclosed(p, last_start, 0 if start - 1 == last_start else None))


def _left_open(line: str, dialect: Any) -> bool:
    """Whether ``line``, the file's last when it has no line end, leaves a quoted cell open
    (read again with a line end, that cell takes it in; a quote inside a cell, ``12" pipe``,
    does not)."""
    if line.endswith(("\n", "\r")):
        return False
    return any("\n" in c for c in next(csv.reader([line + "\n"], dialect), []))


def _check_closed(p: Path, lines: list[str], start: int, dialect: Any) -> None:
    """Refuse a multi-line record whose quoted cell is closed by a later line's quote that
    opens a cell there (``"12"" pipe,C1`` then ``1,X001,"K0+500``: the second line's opening
    quote closes the first line's cell, and the second line is read into it), or that runs to
    the end of the file. Other text after a closing quote (``"a\nb" ,x``) is read as before."""
    strict = csv.reader(lines, dialect, strict=True)
    try:
        for _rec in strict:
            pass
    except csv.Error as exc:
        if "end of data" in str(exc):  # a quoted cell still open at the end of the file
            raise InputError(_unclosed(p, start)) from None
        k = strict.line_num - 1
        if k == 0 or "expected after" not in str(exc) or not _opens(lines[k], dialect):
            return
        at = start + k
        text = lines[k].strip()
        taken = "the line" if k == 1 else f"the {k} lines"
        raise InputError(
            f'{p}: line {start}: a quote (") opens a cell that runs on to line {at}, where a '
            f"quote in the middle of the text ({text!r}) closes it, so {taken} "
            f"after it would be read as that one cell. Close the quote on line {start} "
            '(a quote inside a cell is written as two: ""), and read the file again.'
        ) from None


def _opens(line: str, dialect: Any) -> bool:
    """Whether the first quote of ``line`` stands where a quote opens a cell: at the start of
    the line or after a separator, and before the cell's text."""
    i = line.find('"')
    return (
        i >= 0
        and (i == 0 or line[i - 1] == dialect.delimiter)
        and line[i + 1 : i + 2] not in ("", dialect.delimiter, '"', "\r", "\n")
    )


def _unclosed(p: Path, line: int, rows: int | None = None) -> str:
    """Why a record is refused; ``rows``: the lines it would take in (0: only the rest of its
    own line, the file's last; None: every line after it)."""
    what = (
        "the rest of the line"
        if rows == 0
        else f"the {rows} lines after it"
        if rows
        else "every line after it"
    )
    return (
        f'{p}: line {line}: a quote (") opens a cell and is not closed, so {what} would be '
        "read as that one cell. Close the quote, or remove it, and read the file again."
    )


def _check_quotes(
    p: Path, rec: list[str], start: int, end: int, width: int, delimiter: str
) -> None:
    """Refuse a multi-line record whose cell holds lines that look like rows of their own."""
    if width < 3:
        return
    for cell in rec:
        if "\n" not in cell and "\r" not in cell:
            continue
        rows = [ln for ln in cell.splitlines()[1:] if ln.count(delimiter) >= width - 1]
        if rows:
            raise InputError(_unclosed(p, start, end - start))
