"""Dates people type: a YYYY-MM-DD argument read once, with an error naming the argument."""

from __future__ import annotations

import datetime as dt

from hazards.errors import InputError


def parse_day(value: str | dt.date | None, *, param: str, what: str = "The date") -> dt.date | None:
    """``value`` as a date (a date is kept, None stays None); an :class:`InputError` naming
    ``param`` when it is not YYYY-MM-DD."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(
            f"{what} {value!r} is not a date; write it as YYYY-MM-DD.", param=param
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
