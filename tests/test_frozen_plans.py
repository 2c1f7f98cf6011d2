"""Plans frozen (issue 20): :func:`hazards.planning.plan` on candidate frames built here gives
exactly the reports recorded in ``tests/data/frozen/plans/`` before batch cutting was made
column-wise: the same batches, their items in the same order with the same rationale, lots,
costs, km touched, unfunded hazards and warnings.

A change to selection or batch cutting must leave these identical. Should a change be *meant*
to alter them, regenerate the expected files with
``HAZARDS_FREEZE=1 pytest tests/test_frozen_plans.py`` and say why in the commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hazards.planning import plan

FROZEN = Path(__file__).parent / "data" / "frozen" / "plans"
FREEZE = os.environ.get("HAZARDS_FREEZE") == "1"


def _frame(seed: int, n: int, *, routes: int = 12, ties: bool = False) -> pd.DataFrame:
    """``n`` candidates as ``store.plan_candidates`` returns them: ids in order, a few without
    route, township or chainage, scores and costs of few kinds (as from a cost library)."""
    rng = np.random.default_rng(seed)
    route: list[str | None] = [f"{'XYC'[k % 3]}{k:03d}" for k in rng.integers(0, routes, n)]
    town: list[str | None] = [["甲镇", "乙乡", "丙镇", "丁乡"][k] for k in rng.integers(0, 4, n)]
    chainage = np.round(rng.uniform(0, 12_000, n), -1)
    if ties:  # hazards at the same spot: the id breaks the tie
        chainage = np.round(chainage, -3)
    chainage[rng.random(n) < 0.04] = np.nan
    for i in np.flatnonzero(rng.random(n) < 0.04):
        route[i] = None
    for i in np.flatnonzero(rng.random(n) < 0.05):
        town[i] = None
    scores = rng.choice([41.0, 55.5, 60.5, 63.5, 71.2, 78.0, 86.4], n)
    costs = rng.choice(
        [0.0, 3000.0, 4500, 6000, 13200, 22000, 9876.54], n, p=[0.02, *[0.98 / 6] * 6]
    )
    tiers = np.where(scores >= 70, "I", np.where(scores >= 60, "II", "III"))
    return pd.DataFrame(
        {
            "id": [f"H{i:06d}" for i in rng.permutation(n)],  # unsorted: plan sorts by id
            "route_code": route,
            "township": town,
            "chainage_m": chainage,
            "tier": tiers,
            "score": scores,
            "cost": costs,
        }
    )


def _share(c: pd.DataFrame, f: float) -> float:
    return round(float(c["cost"].sum()) * f, 2)


BASE = _frame(1, 160)
TIES = _frame(2, 120, routes=4, ties=True)
WIDE = _frame(3, 220, routes=40)
SAME = BASE.assign(score=63.5, tier="II", cost=6000.0)  # every hazard alike

CASES: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = {
    "road": (BASE, {"budget": _share(BASE, 0.35), "batches": 3}),
    "township": (BASE, {"budget": _share(BASE, 0.5), "batches": 4, "group_by": "township"}),
    "road_split_merge": (
        WIDE,
        {"budget": _share(WIDE, 0.6), "batches": 8, "max_lot": 40_000, "min_lot": 25_000},
    ),
    "township_split_merge": (
        WIDE,
        {
            "budget": _share(WIDE, 0.45),
            "batches": 6,
            "group_by": "township",
            "max_lot": 120_000,
            "min_lot": 90_000,
        },
    ),
    "one_batch_over_max_lot": (
        BASE,
        {"budget": _share(BASE, 0.4), "batches": 1, "max_lot": 30_000},
    ),
    "min_lot_only": (TIES, {"budget": _share(TIES, 0.5), "batches": 7, "min_lot": 80_000}),
    "min_lot_unreachable": (
        BASE,
        {"budget": _share(BASE, 0.15), "batches": 5, "min_lot": 300_000, "group_by": "township"},
    ),
    "ties": (TIES, {"budget": _share(TIES, 0.3), "batches": 3}),
    "all_alike": (SAME, {"budget": 6000.0 * 50 + 10, "batches": 3, "max_lot": 70_000}),
    "tiers_I_II": (WIDE, {"budget": _share(WIDE, 0.5), "batches": 2, "tiers": ("I", "II")}),
    "tier_III_only": (BASE, {"budget": _share(BASE, 0.2), "batches": 3, "tiers": ("III",)}),
    "everything_funded": (TIES, {"budget": _share(TIES, 2.0), "batches": 5}),
    "no_budget": (BASE, {"budget": 0.0, "batches": 3}),  # the free hazards only
    "more_batches_than_roads": (TIES, {"budget": _share(TIES, 0.7), "batches": 20}),
    "empty": (BASE.head(0), {"budget": 1000.0, "batches": 3}),
    "no_townships": (  # a network without townships: all null
        WIDE.assign(township=np.nan),
        {"budget": _share(WIDE, 0.4), "batches": 3, "group_by": "township", "max_lot": 90_000},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_is_frozen(case: str) -> None:
    frame, kw = CASES[case]
    got = plan(frame.copy(), name=f"P-{case}", time_limit=60.0, **kw)
    assert got["solver"] in ("exact", "none") and got["optimality_gap"] == 0.0
    text = json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    path = FROZEN / f"{case}.json"
    if FREEZE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    want, now = json.loads(expected), json.loads(text)  # a hazard without route: null
    for key in want:
        assert json.dumps(now.get(key)) == json.dumps(want[key]), f"{case}: {key} differs"
    assert text == expected  # byte for byte, key order and float formatting included
