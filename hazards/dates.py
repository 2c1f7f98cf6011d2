"""Dates people type: a YYYY-MM-DD argument read once, with an error naming the argument; and the
dates found in returned sheets (2025-07-20, 2025/7/20, 2025.7.20, 2025年7月20日, Excel date cells
and serial numbers), read by :func:`read_date` in one place."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from hazards.errors import InputError


def parse_day(value: str | dt.date | None, *, param: str, what: str = "The date") -> dt.date | None:
    """``value`` as a date (a date is kept, None stays None): YYYY-MM-DD, or as sheets write
    it (2025/7/20, 2025.7.20, 2025年7月20日, 20250720: :data:`DAY_PATTERN`); an
    :class:`InputError` naming ``param`` otherwise."""
    if value is None or isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    try:
        day = _day_of_text(text)
        if day is None:
            raise ValueError
        return day
    except ValueError:
        raise InputError(
            f"{what} {value!r} is not a date; write it as YYYY-MM-DD (or {DATE_FORMS}).",
            param=param,
        ) from None


def parse_past_day(
    value: str | dt.date | None, *, param: str, fix: str, what: str = "The date"
) -> dt.date | None:
    """:func:`parse_day`, refusing a day after today: things are recorded once they have
    happened (``fix`` says what to do instead, e.g. "give the day the survey was made")."""
    day = parse_day(value, param=param, what=what)
    if day is not None and day > dt.date.today():
        raise InputError(f"{what} {day} is in the future; {fix}.", param=param)
    return day


DAY_PATTERN = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
"""Year, month and day as sheets write them (2025-07-20, 2025/7/20, 2025.7.20, 2025年7月20日):
the one home of these forms; the crash reader appends its times of day to it."""
COMPACT_DAY_PATTERN = r"(\d{4})(\d{2})(\d{2})"
"""``20250720``."""
_DAY_TEXT = re.compile(rf"^{DAY_PATTERN}(?:[ T]\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?)?$")
_COMPACT_DAY = re.compile(rf"^{COMPACT_DAY_PATTERN}$")
EXCEL_EPOCH = dt.date(1899, 12, 30)
"""Day 0 of Excel's (1900) date system, as its serial numbers count (Lotus's leap-day bug
included: serial 61 is 1900-03-01)."""
_SERIALS = (20000, 80000)  # 1954-10-03 .. 2119-01-10: a plausible Excel date serial
DATE_FORMS = "2025-07-20, 2025/7/20, 2025.7.20 or 2025年7月20日"
"""The date forms :func:`read_date` reads, as error messages name them."""


def read_date(value: object) -> dt.date | None:
    """A date from a cell of a returned sheet; None for an empty cell; ``ValueError`` when the
    value is not a date.

    Read: ``date``/``datetime`` values (Excel date cells), Excel serial numbers (20000-80000,
    i.e. 1954 to 2119, as a number or digits), and text ``2025-07-20``, ``2025/7/20``,
    ``2025.7.20``, ``2025年7月20日`` (full-width digits too; a time after the day is ignored),
    ``20250720``.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, (int, float)):
        return _serial(float(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    day = _day_of_text(text)
    if day is not None:
        return day
    try:
        return _serial(float(text))
    except ValueError:
        raise ValueError(f"{value!r} is not a date") from None


def _day_of_text(text: str) -> dt.date | None:
    """A day written as sheets and people write it (:data:`DAY_PATTERN`, ``20250720``, ISO);
    None when the text is none of those forms; ``ValueError`` for a day that does not exist
    (2025-02-30). The one reading of these forms, for cells and options alike."""
    m = _DAY_TEXT.match(text) or _COMPACT_DAY.match(text)
    return dt.date(*(int(g) for g in m.group(1, 2, 3))) if m else None


def serial_datetime(number: float) -> tuple[dt.date, dt.time | None]:
    """The day of an Excel date serial number and, when it has a fraction, its time of day to
    the nearest minute (``45420.6041667``: 2024-05-08 14:30); ``ValueError`` outside the
    plausible serials (1954 to 2119)."""
    day = _serial(number)
    minutes = min(round((number - int(number)) * 1440), 1439)
    return day, (dt.time(minutes // 60, minutes % 60) if minutes else None)


def _serial(number: float) -> dt.date:
    """The day of an Excel date serial number (its fraction, a time of day, is dropped)."""
    if not _SERIALS[0] <= number < _SERIALS[1]:
        raise ValueError(f"{number!r} is not a date")
    return EXCEL_EPOCH + dt.timedelta(days=int(number))
