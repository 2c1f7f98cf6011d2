"""Hazards already in the inventory that a survey row may correct or repeat (part of the
``intake`` step): fetched as the import meets their routes, and the rules for a correction
(refused out of date order, to review when it moves a hazard, else applied).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from hazards.reconcile import Match
from hazards.survey import ParsedRow, category_key

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
        self.own: dict[str, Any] = {}
        self.near: dict[tuple[str, int, str], list[tuple[float, int, str]]] = {}
        self._codes: set[str] = set()
        self._ids: set[int] = set()
        self._first = True

    def fetch(self, codes: set[str]) -> None:
        from hazards.db import store

        todo = sorted(codes - self._codes)
        if not todo and not self._first:
            return
        frame = store.known_hazards(
            self.engine,
            survey_id=self.corrects if self._first else None,
            route_codes=todo,
            exclude_survey=self.exclude,
        )
        self._first = False
        self._codes.update(todo)
        for h in frame.itertuples(index=False):
            if h.id in self._ids:
                continue
            self._ids.add(h.id)
            if h.survey_id == self.corrects and h.provider_row_id is not None:
                self.own.setdefault(str(h.provider_row_id), h)
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

    def repeated(
        self, route_code: str, part: int, key: str, chainage_m: float, within: float
    ) -> tuple[int, str] | None:
        for ch, hid, pid in self.near.get((route_code, part, key), ()):
            if abs(ch - chainage_m) <= within:
                return hid, pid
        return None


_EARTH_M = 6_371_008.8


_EARTH_M = 6_371_008.8


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


def correct(
    r: ParsedRow, m: Match, prev: Any, *, surveyed_on: dt.date, review_m: float
) -> str | None:
    """Decide a correction of hazard ``prev``: refused (``m`` rejected), sent to review (``m``
    in review, the reason said) or applied as it is. Returns the move, if any."""
    pid = prev.public_id
    last = prev.last_on
    if last is not None and not pd.isna(last) and surveyed_on < last:
        m.status, m.reason_key = "rejected", "correction_out_of_order"
        m.reason = (
            f"corrects {pid}, which last changed on {last}: a correction surveyed on "
            f"{surveyed_on} would come before that; give a survey date on or after it"
        )
        return None
    move = _moved(prev, m, review_m)
    if move and prev.status not in STATUS_OF.values():
        m.status, m.reason_key = "rejected", "correction_moves_work"
        m.reason = (
            f"corrects {pid}, which is {prev.status}: the correction {move}; not applied to a "
            "hazard already in a plan (record it as a new survey instead)"
        )
        return None
    if move:
        m.status, m.reason_key = "review", "correction_moves"
        m.reason = f"the correction of {pid} (survey row {r.row_id}) {move}"
    return move
