"""Repeats within one survey file (part of the ``reconcile`` step): the same original category
text (or both blank with the same description) on the same route and part, within
``duplicate_m`` of a row kept before it, is one hazard; the later rows are its duplicates.

A row is compared with the rows *kept* before it, in the order of the sheet, and cites the
earliest of them within reach. The memory (:class:`Kept`) files every kept row under an integer
code of its (route, part, category key) and of the cell of the chainage axis it falls in, cells
at least ``duplicate_m`` long: a row within reach of another lies in the same cell or a
neighbouring one. A chunk's rows are coded at once (numpy); only the few that have another row
of the chunk or a kept row in the cells around them are compared one by one, in sheet order.
The others are kept as they are, without a Python step each beyond their key.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from hazards.cells import category_key

if TYPE_CHECKING:
    from hazards.survey import ParsedRow


class Placed(Protocol):
    """What the check reads and sets of a row's match (:class:`hazards.reconcile.Match`)."""

    status: str
    reason: str | None
    reason_key: str | None
    route_code: str | None
    part: int | None
    chainage_m: float | None


Cite = tuple[str, bool, int]
"""What a duplicate cites of the row it repeats: row id, whether it is the sheet's, line."""

_KEY_SHIFT = 1 << 32  # code = key id · 2³² + cell + 2³¹
_CELL_OFFSET = 1 << 31


class Kept:
    """The duplicate check's memory, carried from chunk to chunk: pass the same one with every
    chunk of a sheet. Every placed row gets a number in sheet order, and what a duplicate would
    cite of it is kept by number; the kept rows are the codes of their cells, sorted, with
    their numbers beside."""

    __slots__ = (
        "categories",
        "cell_m",
        "chainages",
        "codes",
        "ids_given",
        "keys",
        "lines",
        "numbers",
        "routes",
        "row_ids",
    )

    def __init__(self) -> None:
        self.routes: dict[str, int] = {}  # route code → its number
        self.categories: dict[str, int] = {}  # category key → its number
        self.keys: dict[int, int] = {}  # (route, part, category), packed → key id
        self.codes = np.zeros(0, dtype=np.int64)  # the kept rows' cells, sorted
        self.numbers = np.zeros(0, dtype=np.int64)  # the kept row of each
        self.chainages: list[float] = []  # by number
        self.row_ids: list[str] = []
        self.ids_given: list[bool] = []
        self.lines: list[int] = []
        self.cell_m: float | None = None  # set by the first chunk: max(duplicate_m, 1 m)

    def cite(self, number: int) -> Cite:
        return self.row_ids[number], self.ids_given[number], self.lines[number]

    def keep(self, codes: np.ndarray, numbers: np.ndarray) -> None:
        """Add kept rows: their cells' codes and their numbers."""
        order = np.argsort(codes, kind="stable")
        codes, numbers = codes[order], numbers[order]
        at = np.searchsorted(self.codes, codes, side="right")  # after the same code kept before
        self.codes = np.insert(self.codes, at, codes)
        self.numbers = np.insert(self.numbers, at, numbers)


def mark_duplicates(
    rows: Sequence[ParsedRow],
    matches: Sequence[Placed],
    *,
    duplicate_m: float,
    kept: Kept,
    line_word: str,
) -> None:
    """Mark the rows of a chunk that repeat a row kept before them as ``duplicate``, with the
    reason citing it; the others (placed, accepted or in review) are kept for the next rows."""
    at = [
        k
        for k, m in enumerate(matches)
        if m.status in ("accepted", "review")
        and m.chainage_m is not None
        and m.route_code is not None
    ]
    if not at:
        return
    if kept.cell_m is None:
        kept.cell_m = max(duplicate_m, 1.0)
    # A pair within duplicate_m is at most ceil(duplicate_m / cell_m) cells apart, one more
    # for the rounding of chainage / cell_m.
    reach = math.ceil(duplicate_m / kept.cell_m) + 1
    placed = [matches[k] for k in at]
    read = [rows[k] for k in at]
    key_no = _key_ids(placed, read, kept)
    chainage = np.fromiter([m.chainage_m for m in placed], dtype=np.float64, count=len(at))
    first_number = len(kept.chainages)  # the rows are numbered on from the last chunk's
    kept.chainages.extend(chainage.tolist())
    kept.row_ids.extend([r.row_id for r in read])
    kept.ids_given.extend([r.id_given for r in read])
    kept.lines.extend([r.line if r.source_line is None else r.source_line for r in read])
    finite = np.isfinite(chainage)  # an infinite or NaN chainage is never within reach
    cell = np.zeros(len(at), dtype=np.int64)
    cell[finite] = np.floor(chainage[finite] / kept.cell_m).astype(np.int64)
    code = key_no * _KEY_SHIFT + cell + _CELL_OFFSET
    # Rows with another row of the chunk, or a kept row, within reach (codes of one key differ
    # by their cells; codes of two keys, by 2³² at least).
    crowded = np.zeros(len(at), dtype=bool)
    pos = np.flatnonzero(finite)
    by_code = pos[np.argsort(code[pos], kind="stable")]
    close = np.diff(code[by_code]) <= reach
    crowded[by_code[1:][close]] = True
    crowded[by_code[:-1][close]] = True
    held = kept.codes
    if len(held):
        at_or_after = np.zeros(len(at), dtype=np.int64)  # looked up in code order: in cache
        at_or_after[by_code] = np.searchsorted(held, code[by_code])
        right = held[np.minimum(at_or_after, len(held) - 1)]
        left = held[np.maximum(at_or_after - 1, 0)]
        crowded |= ((at_or_after < len(held)) & (right - code <= reach)) | (
            (at_or_after > 0) & (code - left <= reach)
        )
    crowded &= finite
    # Alone in their reach: kept as they are. The others, in sheet order: against the rows
    # kept in earlier chunks (from the sorted codes) and those kept before them in this one.
    alone = np.flatnonzero(~crowded & finite)
    kept_now = [alone]
    busy = np.flatnonzero(crowded)
    lo = np.searchsorted(held, code[busy] - reach, side="left").tolist()
    hi = np.searchsorted(held, code[busy] + reach, side="right").tolist()
    fresh: dict[int, list[int]] = {}  # code → numbers of the rows kept so far in this chunk
    chainages = kept.chainages
    for j, a, b in zip(busy.tolist(), lo, hi, strict=True):
        c, x = int(code[j]), float(chainage[j])
        near = kept.numbers[a:b].tolist() if b > a else []
        for i in range(c - reach, c + reach + 1):
            near.extend(fresh.get(i, ()))
        within = [n for n in near if abs(chainages[n] - x) <= duplicate_m]
        if not within:
            fresh.setdefault(c, []).append(first_number + j)
            kept_now.append(np.array([j]))
            continue
        r, m = rows[at[j]], matches[at[j]]
        first = kept.cite(min(within))
        row_id, id_given, line = first
        what = (
            f"same category ({r.category_raw})"
            if r.category_raw
            else "same category"
            if r.category
            else "no category, same description,"
        )
        where = f"{line_word} {line}"
        cite = f"序号 {row_id} ({where})" if id_given else where
        m.status, m.reason_key = "duplicate", "duplicate_in_file"
        m.reason = f"{what} on route {m.route_code} within {duplicate_m:.0f} m of {cite}"
    now = np.concatenate(kept_now)
    kept.keep(code[now], now + first_number)


def _key_ids(placed: Sequence[Placed], read: Sequence[ParsedRow], kept: Kept) -> np.ndarray:
    """Each row's key id: one per (route, part, category key) over the whole sheet, the
    category key worked out once per distinct text it is made from."""
    n = len(placed)
    route_no, routes = pd.factorize(np.array([m.route_code for m in placed], dtype=object))
    route_ids = _numbers(kept.routes, routes.tolist())
    # What category_key reads of each row, as one text: the original category (c), else the
    # term (t), else the description (d).
    basis_no, bases = pd.factorize(
        np.array(
            [
                "c" + r.category_raw
                if r.category_raw and r.category_raw.strip()
                else "t" + r.category
                if r.category
                else "d" + (r.description or "")
                for r in read
            ],
            dtype=object,
        )
    )
    categories = kept.categories
    category_ids = np.array(
        [categories.setdefault(_category_key(b), len(categories)) for b in bases], dtype=np.int64
    )
    part = np.fromiter((m.part or 0 for m in placed), dtype=np.int64, count=n)
    route_id, category_id = route_ids[route_no], category_ids[basis_no]
    if len(kept.routes) >= 1 << 24 or len(categories) >= 1 << 24 or part.min() < 0:
        raise ValueError("more than 16 million routes or categories in one survey")
    if part.max() >= 1 << 15:
        raise ValueError("a route part numbered 32,768 or more")
    packed = (route_id << 39) | (part << 24) | category_id  # one int per (route, part, category)
    uniq, key_no = np.unique(packed, return_inverse=True)
    return _numbers(kept.keys, uniq.tolist())[key_no.ravel()]


def _numbers(known: dict[Any, int], values: list[Any]) -> np.ndarray:
    """The number of each value in ``known``, a new one (the next) for a value not met yet."""
    got = np.fromiter(map(known.get, values, itertools.repeat(-1)), np.int64, len(values))
    for j in np.flatnonzero(got < 0).tolist():
        got[j] = known[values[j]] = len(known)
    return got


def _category_key(basis: str) -> str:
    """:func:`~hazards.cells.category_key` of a row, from what it reads of it (see _key_ids)."""
    kind, text = basis[0], basis[1:]
    if kind == "c":
        return category_key(text, None)
    return category_key(None, None, text) if kind == "t" else category_key(None, text)
