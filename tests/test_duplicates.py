"""The duplicate check (hazards.duplicates) against its definition, written out here as a plain
scan: rows in sheet order, each compared with every row kept before it (same route, part and
category key, chainages within the distance, ends included), citing the earliest; chunks of any
size give the same answer. The matching around it is tested in tests/test_reconcile.py."""

from __future__ import annotations

import math
import random

import pytest

from hazards.cells import category_key
from hazards.duplicates import Kept, mark_duplicates
from hazards.reconcile import Match
from hazards.survey import ParsedRow


def _rows(rnd: random.Random, n: int, d: float) -> tuple[list[ParsedRow], list[Match]]:
    """``n`` rows on two routes: chainages on and around multiples of the distance (and of the
    1 m cells), some far, some missing or not finite; few categories, so repeats are common."""
    rows, matches = [], []
    for i in range(n):
        given = rnd.random() < 0.5
        rows.append(
            ParsedRow(
                line=i + 1,
                row_id=str(100 + i) if given else str(i + 1),
                raw={},
                id_given=given,
                source_line=i + 3 if rnd.random() < 0.8 else None,
                category_raw=rnd.choice(["急弯", "陡坡", " 急弯", None]),
                category=rnd.choice(["sharp_curve", None]),
                description=rnd.choice(["弯道", "临水", None]),
            )
        )
        step = max(d, 1.0)
        chainage = rnd.choice(
            [
                rnd.uniform(0, 60),
                rnd.randint(0, 12) * step,
                rnd.randint(0, 12) * step + rnd.choice([-1e-9, 1e-9, d, -d, d + 1e-9]),
                rnd.randint(0, 12) * 0.5,
                rnd.uniform(1e5, 1e5 + 40),
                None,
                math.nan,
                math.inf,
            ]
        )
        matches.append(
            Match(
                line=i + 1,
                status=rnd.choice(["accepted", "accepted", "review", "rejected", "empty"]),
                route_code=rnd.choice(["X001", "Y002", None]),
                part=rnd.choice([None, 0, 1]),
                chainage_m=chainage,
            )
        )
    return rows, matches


def _scan(rows: list[ParsedRow], matches: list[Match], d: float) -> list[tuple[str, str | None]]:
    """The definition: each placed row against the rows kept before it."""
    kept: list[tuple[tuple[str, int, str], float, ParsedRow]] = []
    out: list[tuple[str, str | None]] = []
    for r, m in zip(rows, matches, strict=True):
        if m.status not in ("accepted", "review") or m.chainage_m is None or m.route_code is None:
            out.append((m.status, None))
            continue
        key = (m.route_code, m.part or 0, category_key(r.category_raw, r.description, r.category))
        first = next(
            (k for key2, ch, k in kept if key2 == key and abs(ch - m.chainage_m) <= d), None
        )
        if first is None:
            kept.append((key, m.chainage_m, r))
            out.append((m.status, None))
            continue
        line = first.source_line if first.source_line is not None else first.line
        cite = f"序号 {first.row_id} (line {line})" if first.id_given else f"line {line}"
        out.append(("duplicate", cite))
    return out


@pytest.mark.parametrize("d", [5.0, 0.0, 0.5, 15.0, 2.5])
def test_every_chunking_gives_the_scan_of_kept_rows(d: float) -> None:
    rnd = random.Random(int(d * 10) + 1)
    duplicates = 0
    for _ in range(60):
        rows, matches = _rows(rnd, rnd.randint(1, 120), d)
        want = _scan(rows, [Match(**_fields(m)) for m in matches], d)
        kept, start = Kept(), 0
        while start < len(rows):  # random chunks, one memory
            end = start + rnd.randint(1, 40)
            mark_duplicates(
                rows[start:end], matches[start:end], duplicate_m=d, kept=kept, line_word="line"
            )
            start = end
        got = [
            (m.status, str(m.reason).rsplit(" of ", 1)[1] if m.status == "duplicate" else None)
            for m in matches
        ]
        assert got == want
        duplicates += sum(s == "duplicate" for s, _ in want)
    assert duplicates > 10  # the cases were not all trivial


def test_the_reason_names_what_is_the_same_and_the_row_it_repeats() -> None:
    rows = [
        ParsedRow(line=1, row_id="7", raw={}, id_given=True, source_line=4, category_raw="急弯"),
        ParsedRow(line=2, row_id="8", raw={}, id_given=True, source_line=5, category_raw="急弯"),
        ParsedRow(line=3, row_id="3", raw={}, description="临水"),
        ParsedRow(line=4, row_id="4", raw={}, description="临水"),
        ParsedRow(line=5, row_id="5", raw={}, description="临崖"),  # another description
    ]
    matches = [
        Match(line=i + 1, status="accepted", route_code="X001", part=0, chainage_m=ch)
        for i, ch in enumerate([100.0, 104.0, 300.0, 295.0, 300.0])
    ]
    mark_duplicates(rows, matches, duplicate_m=5.0, kept=Kept(), line_word="row")
    assert [m.status for m in matches] == [
        "accepted",
        "duplicate",
        "accepted",
        "duplicate",
        "accepted",
    ]
    assert matches[1].reason == "same category (急弯) on route X001 within 5 m of 序号 7 (row 4)"
    assert matches[1].reason_key == "duplicate_in_file"
    assert matches[3].reason == "no category, same description, on route X001 within 5 m of row 3"


def _fields(m: Match) -> dict:
    return {k: getattr(m, k) for k in ("line", "status", "route_code", "part", "chainage_m")}
