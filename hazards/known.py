"""Hazards already in the inventory that a survey row may correct or repeat (part of the
``intake`` step): fetched as the import meets their routes, and the rules for a correction
(refused out of date order, to review when it moves a hazard, else applied).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hazards.errors import InputError
from hazards.reconcile import Match
from hazards.survey import ParsedRow, category_key, stored_raw
from hazards.vocabulary import DONE_STATUSES

if TYPE_CHECKING:
    from sqlalchemy import Engine

STATUS_OF = {"accepted": "identified", "review": "review"}
"""Match status of a stored row → the status of its new hazard."""


def text_or_none(v: Any) -> str | None:
    """A text cell from a frame: None for NULL/NaN."""
    return v if isinstance(v, str) else None


class Known:
    """Hazards already in the database that rows may correct (those of the survey the file
    corrects, by row id) or repeat (same route, part and original category within
    ``duplicate_m``).

    Fetched once for the corrected survey, then per route the first time a chunk meets it;
    only committed hazards are seen, so rows of the import itself never count as known, and
    none of the survey being replaced.
    """

    def __init__(self, engine: Engine, corrects: int | None, exclude: int | None) -> None:
        self.engine, self.corrects, self.exclude = engine, corrects, exclude
        # the corrected survey's hazards by their row id (序号), in the survey's row order
        self.own: dict[str, list[Any]] = {}
        self._claimed: set[int] = set()  # those a row of this file corrects already
        self._never_stored: set[str] | None = None  # row ids of the survey's rejected rows
        self.near: dict[tuple[str, int, str], list[tuple[float, int, str]]] = {}
        self._codes: set[str] = set()
        self._ids: set[int] = set()
        self.done: dict[int, str] = {}  # hazards reported fixed (or verified): their status
        self._first = True
        self._all = False  # every route fetched: nothing more to read

    def fetch(self, codes: set[str] | None) -> None:
        """Fetch the hazards on the routes ``codes`` not fetched yet (all routes: None)."""
        from hazards.db import store

        if self._all:
            return
        todo = None if codes is None else sorted(codes - self._codes)
        if todo is not None and not todo and not self._first:
            return
        frame = store.known_hazards(
            self.engine,
            survey_id=self.corrects if self._first else None,
            route_codes=todo,
            exclude_survey=self.exclude,
        )
        self._first = False
        self._all = todo is None
        self._codes.update(todo or ())
        grown: set[str] = set()
        for h in frame.itertuples(index=False):
            if h.id in self._ids:
                continue
            self._ids.add(h.id)
            if h.status in DONE_STATUSES:
                self.done[int(h.id)] = h.status
            if h.survey_id == self.corrects and h.provider_row_id is not None:
                self.own.setdefault(str(h.provider_row_id), []).append(h)
                grown.add(str(h.provider_row_id))
            if h.route_code is not None and h.chainage_m is not None and not pd.isna(h.chainage_m):
                key = (
                    h.route_code,
                    int(h.part),
                    category_key(
                        text_or_none(h.category_raw),
                        text_or_none(h.description),
                        text_or_none(h.category),
                    ),
                )
                self.near.setdefault(key, []).append((float(h.chainage_m), int(h.id), h.public_id))
        for row_id in grown:  # ids are given in the survey's row order
            self.own[row_id].sort(key=lambda h: h.id)

    def corrected(self, row_id: str, m: Match) -> Any | None:
        """The corrected survey's hazard that the row ``row_id`` (placed as ``m``) corrects,
        None when it corrects none (a row of its own, added). Each hazard is corrected by
        one row of a file at most: a 序号 seen again in the file (a survey numbered from 1 in
        each section) takes, of the hazards with that 序号 not corrected yet, the one on the
        row's route nearest to it; when its route's hazards with that 序号 are all taken, or
        all of them are, the row corrects none. A row on a route none of them is on corrects
        none either when a row of the survey with that 序号 was rejected (never stored: this
        row is its correction), else takes the first in the survey's row order (a correction
        moving it: to review)."""
        same = self.own.get(row_id)
        if not same:
            return None
        free = [h for h in same if h.id not in self._claimed]
        on_route = [h for h in same if m.route_code and h.route_code == m.route_code]
        if not on_route and m.route_code and row_id in self._rejected_ids():
            return None  # the survey's row of that 序号 on this route was rejected: this is it
        if on_route:  # its own route's: the nearest not taken
            free = [h for h in on_route if h.id not in self._claimed]
            at = m.chainage_m
            if at is not None:
                free.sort(key=lambda h: _gap(h.chainage_m, at))
        if not free:
            return None
        self._claimed.add(int(free[0].id))
        return free[0]

    def _rejected_ids(self) -> set[str]:
        """The row ids of the corrected survey's rows that were rejected (read once)."""
        if self._never_stored is None:
            from hazards.db import store

            self._never_stored = (
                store.rejected_row_ids(self.engine, self.corrects) if self.corrects else set()
            )
        return self._never_stored

    def repeated(
        self, route_code: str, part: int, key: str, chainage_m: float, within: float
    ) -> tuple[int, str] | None:
        for ch, hid, pid in self.near.get((route_code, part, key), ()):
            if abs(ch - chainage_m) <= within:
                return hid, pid
        return None


_EARTH_M = 6_371_008.8


def _gap(chainage_m: Any, to_m: float) -> float:
    """How far a stored chainage is from ``to_m`` (infinitely far when it has none)."""
    return math.inf if chainage_m is None or pd.isna(chainage_m) else abs(chainage_m - to_m)


def _moved(prev: Any, m: Match, limit_m: float) -> str | None:
    """How a correction moves a hazard, when it moves it to another route or farther than
    ``limit_m``; None when it stays."""
    if isinstance(prev.route_code, str) and m.route_code and prev.route_code != m.route_code:
        return f"moves it from route {prev.route_code} to route {m.route_code}"
    d = None
    if m.lon is not None and not (pd.isna(prev.lon) or pd.isna(prev.lat)):
        la1, la2 = math.radians(prev.lat), math.radians(m.lat or 0.0)
        h = (
            math.sin((la2 - la1) / 2) ** 2
            + math.cos(la1) * math.cos(la2) * math.sin(math.radians(m.lon - prev.lon) / 2) ** 2
        )
        d = 2 * _EARTH_M * math.asin(math.sqrt(min(1.0, h)))
    elif m.chainage_m is not None and not pd.isna(prev.chainage_m):
        d = abs(m.chainage_m - float(prev.chainage_m))
    if d is not None and d > limit_m:
        far = f"{d / 1000:.1f} km" if d >= 1000 else f"{d:.0f} m"
        return f"moves it {far} (more than the {limit_m:.0f} m review distance)"
    return None


def held_reason(pid: str, row_id: str, move: str, status: str) -> str:
    """The review reason of a correction held apart: its hazard is in work (``status``)."""
    return (
        f"the correction of {pid} (survey row {row_id}) {move}, but {pid} is {status}: it "
        "stays as it is and this row waits here (accept it as a new site, or reject it)"
    )


def in_work(status: str) -> bool:
    """Whether work has started on a hazard of this status: a correction may no longer
    change its place or its status (it goes to review as a row of its own)."""
    return status not in STATUS_OF.values()


def correct(
    r: ParsedRow, m: Match, prev: Any, *, surveyed_on: dt.date, review_m: float
) -> str | None:
    """Decide a correction of hazard ``prev``: refused (``m`` rejected), sent to review (``m``
    in review, the reason said; for a hazard in work, :func:`in_work`, the row goes to review
    on its own and the hazard is left as it is) or applied as it is. Returns the move, if
    any. A correction changes only the survey's own fields, never a status but
    ``identified`` → ``review``."""
    pid = prev.public_id
    last = prev.last_on
    if (
        last is not None
        and not pd.isna(last)
        and surveyed_on < last
        and stored_raw(r)[1] != prev.content_hash  # an unchanged row: no change
    ):
        m.status, m.reason_key = "rejected", "correction_out_of_order"
        m.reason = (
            f"corrects {pid}, which last changed on {last}: a correction surveyed on "
            f"{surveyed_on} would come before that; give a survey date on or after it"
        )
        return None
    move = _moved(prev, m, review_m)
    if move and prev.status not in STATUS_OF.values():
        m.status, m.reason_key = "review", "correction_moves_work"
        m.reason = held_reason(pid, r.row_id, move, prev.status)
        return move
    if move:
        m.status, m.reason_key = "review", "correction_moves"
        m.reason = f"the correction of {pid} (survey row {r.row_id}) {move}"
    return move


def _describe(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items()) or "the defaults"


class AlreadyImported(Exception):
    """Raised by the check of a first import: the same bytes were imported the same way."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__("already imported")
        self.report = report


def first_import_check(
    p: Path,
    options: dict[str, Any],
    *,
    sheet: str | None = None,
    default_sheet: Callable[[], str | None] | None = None,
) -> Callable[[list[Any]], None]:
    """The check of a file imported neither as a correction nor as a replacement, given the
    surveys already imported from the same bytes: the earlier report back (raised as
    :class:`AlreadyImported`) when read the same way, refused when read another way.
    ``sheet``: the workbook's sheet read now; another sheet is another survey. An earlier
    import that named no sheet read ``default_sheet()`` (the sheet of data, found the way
    :func:`hazards.sheets.open_sheet` finds it)."""

    def check(earlier: list[Any]) -> None:
        if earlier and sheet is not None:
            default = functools.cache(default_sheet or (lambda: None))  # read once, if needed
            earlier = [
                e for e in earlier if ((e["options"] or {}).get("sheet") or default()) == sheet
            ]
        _raise_if_imported([e for e in earlier if (e["options"] or {}) == options], options)
        if earlier:
            e = earlier[-1]
            raise InputError(
                f"{p} was already imported as survey {e['id']} (read with "
                f"{_describe(e['options'] or {})}); read now with {_describe(options)}. To "
                f"import it this way instead, replace survey {e['id']}; if it corrects survey "
                f"{e['id']}, say so.",
                param="replace",
            )

    return check


def correction_check(options: dict[str, Any], corrects: int) -> Callable[[list[Any]], None]:
    """The check of a file imported as a correction of survey ``corrects``, given the surveys
    already imported from the same bytes: the earlier report back (raised as
    :class:`AlreadyImported`) when it was imported before as a correction of the same survey,
    read the same way (importing it again would add a survey whose rows all repeat it)."""

    def check(earlier: list[Any]) -> None:
        _raise_if_imported(
            [
                e
                for e in earlier
                if e.get("corrects_id") == corrects and (e["options"] or {}) == options
            ],
            options,
        )

    return check


def same_import(earlier: list[Any], options: dict[str, Any], corrects: int | None) -> None:
    """:class:`AlreadyImported` when one of the surveys imported from the same bytes was read
    with the same ``options`` (and as a correction of the same survey, ``corrects``): said
    before the file is opened again."""
    _raise_if_imported(
        [
            e
            for e in earlier
            if (e["options"] or {}) == options and e.get("corrects_id") == corrects
        ],
        options,
    )


def _raise_if_imported(same: list[Any], options: dict[str, Any]) -> None:
    """:class:`AlreadyImported` with the report stored by the first of ``same`` (the earlier
    imports of the same bytes read the same way), if any."""
    if same:
        before = dict(same[0]["report"] or {})
        before.update(already_imported=True, survey_id=same[0]["id"], added=0, updated=0)
        before.setdefault("options", options)
        raise AlreadyImported(before)
