"""hazards.matched_chunks: a chunk crosses from the child to the importing process unchanged
(its rows, their matches so far and the nearest-segment search's result); the chunks' sizes
ramp up to ``chunk_rows``.

The import's results with the chunks made in a child are compared whole in
tests/test_frozen_import.py (variant "apart"); here the packing itself, on the rows a real sheet
gives (tests/test_sheets.py reads those cells from files)."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import time

import pytest

from hazards.matched_chunks import RAMP_MIN_ROWS, _dumps, _pack, _unpack, chunk_sizes, timed
from hazards.reconcile import Match, Nearest, Started
from hazards.survey import (
    ParsedRow,
    content_hash,
    parse_chunk,
    raw_json,
    row_cells,
    stored_raw,
)

HEADERS = {"row_id": "序号", "route_code": "路线编码", "chainage": "桩号", "category": "隐患类型"}


def _cells(*rows: tuple[str, ...]) -> list[dict[str, str]]:
    return [dict(zip(HEADERS.values(), r, strict=True)) for r in rows]


def test_a_chunk_comes_back_as_it_was_packed() -> None:
    """Rows with the sheet's columns, a row with cells beyond the last header, one whose
    columns came in another order, an empty row, warnings and errors, and the matches, each
    equal after the crossing (a row's cells as the text to store, read back the same)."""
    raws = _cells(
        ("1", "X001", "K0+100", "急弯"),
        ("2", "x-001", "K9+9+9", "沟渠"),  # an error (chainage) and a warning (category)
        ("3", "", "", ""),
    )
    raws.append({**_cells(("4", "Y002", "K1+000", "陡坡"))[0], "_extra": "多余"})
    raws.append(dict(reversed(_cells(("5", "Y003", "K2+000", "急弯"))[0].items())))
    rows = parse_chunk([dict(r) for r in raws], headers=HEADERS, start=1)
    assert rows[1].errors and rows[1].warnings and rows[2].empty
    matches = [
        Match(line=1, status="accepted", route_code="X001", road_id=7, segment_id=70, part=0,
              chainage_m=100.0, snap_distance_m=1.5, match_method="nearest", lon=112.3,
              lat=28.8, warnings=["鉴别"]),
        Match(line=2, status="rejected", reason="chainage not understood", reason_key="chainage"),
        Match(line=3, status="empty"),
        Match(line=4, status="review", reason="far", from_m=10.0, to_m=30.5),
        Match(line=5, status="duplicate", reason="row 1"),
    ]  # fmt: skip
    near = Nearest(
        idx=[0, 3], lon=[112.3, 112.4], lat=[28.8, 28.9], swapped=[False, True],
        on_network=[True, False], chain=[100.0, 1000.5], d_use=[1.5, 60.0],
        use_route=[True, False], route_d=[1.5, float("inf")], nearest_d=[1.5, 60.0],
        code=["X001", "Y002"], road_id=[7, 8], segment_id=[70, 80], part=[0, 1],
        other_code=["X001", "Y002"], near_pairs={0: ["X001", "X002"]},
    )  # fmt: skip
    spent = {"parse": 0.25, "reconcile": 0.5}
    started = Started(rows, matches, [1, 4], {3}, near)
    sent = copy.deepcopy(started)
    back, back_spent, read = _unpack(_pack((sent, spent, 9)))
    assert back_spent == spent and read == 9
    assert back.matches == started.matches and back.near == started.near
    assert (back.by_chainage, back.unknown) == (started.by_chainage, started.unknown)
    for was, came in zip(started.rows, back.rows, strict=True):
        # a row to store comes with its cells as the text stored and its hash (not the dict)
        assert row_cells(came) == was.raw
        assert stored_raw(came) == (raw_json(was.raw), content_hash(raw_json(was.raw)))
        assert came.raw == ({} if not was.empty else was.raw)
        assert dataclasses.replace(came, raw=was.raw, raw_text=None, raw_hash=None) == was
    assert sent.rows[0].raw == rows[0].raw  # the rows sent are left as they were
    assert "多余" in back.rows[3].warnings[0]
    bare = Started(rows, matches, [], set(), None)  # no row with a point: no search
    assert [row_cells(r) for r in _unpack(_pack((bare, spent, 5)))[0].rows] == [r.raw for r in rows]


def test_an_empty_chunk_comes_back_empty() -> None:
    empty = Started([], [], [], set(), None)
    assert _unpack(_pack((empty, {}, 0))) == (empty, {}, 0)


def test_rows_without_cells_come_back() -> None:
    rows = [ParsedRow(line=1, row_id="1", raw={}), ParsedRow(line=2, row_id="2", raw={})]
    assert _unpack(_pack((Started(rows, [], [], set(), None), {}, 2)))[0].rows == rows


def test_values_the_pickler_memo_would_have_shared_come_back_equal() -> None:
    # the chunk is pickled without the memo: an object met twice crosses twice, a numpy
    # scalar as itself, a text of any script whole
    import pickle

    import numpy as np

    warnings = ["桩号超出路线范围"]
    shared = {"K": [1.5, np.float64(2.25)]}
    obj = ([warnings, warnings, shared], (shared, np.int64(7), "乡道 Y001", None, True))
    back = pickle.loads(_dumps(obj))
    assert back == obj
    assert type(back[1][1]) is np.int64 and back[1][1] == 7
    assert back[0][0] is not back[0][1]  # two copies now: nothing of a chunk is changed later


@pytest.mark.parametrize(
    ("chunk_rows", "first"),
    [
        (50_000, [3_125, 6_250, 12_500, 25_000, 50_000, 50_000]),
        (20_000, [2_500, 5_000, 10_000, 20_000, 20_000]),  # a sixteenth is below the smallest
        (9_999, [4_999, 9_999, 9_999]),  # a quarter too
        (4_999, [4_999, 4_999]),
        (3, [3, 3, 3]),
        (1, [1, 1]),
    ],
)
def test_chunks_ramp_up_to_chunk_rows(chunk_rows: int, first: list[int]) -> None:
    sizes = list(itertools.islice(chunk_sizes(chunk_rows), len(first)))
    assert sizes == first
    assert all(s >= min(RAMP_MIN_ROWS, chunk_rows) for s in sizes)


def test_timed_adds_up_by_the_clock_it_is_given() -> None:
    timings: dict[str, float] = {"reconcile": 1.0}
    with timed(timings, "reconcile"):  # the wall clock: a wait counts
        time.sleep(0.2)
    assert 1.2 <= timings["reconcile"] < 2.0
    with timed(timings, "reconcile", clock=time.thread_time):  # this thread's CPU: it does not
        time.sleep(0.2)
    assert timings["reconcile"] < 1.2 + 0.1
    with timed(None, "parse"):  # no timings kept: nothing to add to
        pass
