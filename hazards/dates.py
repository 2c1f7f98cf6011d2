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
