"""Cutting funded hazards into contiguous contractor lots (pure; used by ``planning``).

Hazards are grouped by road (or township) so that a contractor's lot is contiguous, groups
larger than ``max_lot`` are split along the chainage, the pieces are taken most urgent first
(lowest tier, then most risk) into at most ``batches`` lots of about equal cost, and lots below
``min_lot`` are merged. Column-wise: one sort of the funded hazards, then a pass over plain
arrays (no per-row DataFrame access), so 100k hazards are cut in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hazards.vocabulary import TIERS

NO_GROUP = "—"  # the group of hazards without route (or township)


@dataclass
class Lot:
    """One batch being built: the candidate frame's index labels of its hazards, and its cost."""

    positions: list[int] = field(default_factory=list)
    cost: float = 0.0


def _pieces(
    selected: pd.DataFrame, key: str, max_lot: float | None
) -> tuple[list[tuple[tuple[Any, ...], list[int], float]], list[str]]:
    """Each group of ``selected`` (by ``key``) in chainage order, split where it would pass
    ``max_lot``: ``(urgency, index labels, cost)`` per piece, and a warning per split group."""
    rank = {t: k for k, t in enumerate(TIERS)}
    s = selected.assign(_g=selected[key].astype(object).fillna(NO_GROUP))
    # the groups in key order, each in chainage order (as groupby(sort=True) then a sort each)
    s = s.sort_values(["_g", "route_code", "chainage_m", "id"])
    g = s["_g"].to_numpy(dtype=object)
    labels = s.index.to_numpy()
    costs = s["cost"].to_numpy(dtype=float).tolist()
    scores = np.ascontiguousarray(s["score"].to_numpy(dtype=float))
    tier = np.asarray([rank[t] for t in s["tier"].tolist()], dtype=np.int64)
    cut = np.flatnonzero(g[1:] != g[:-1]) + 1
    starts, ends = np.r_[0, cut].tolist(), np.r_[cut, len(g)].tolist()
    warnings: list[str] = []
    out: list[tuple[tuple[Any, ...], list[int], float]] = []
    for a, b in zip(starts, ends, strict=True):
        spans: list[tuple[int, int, float]] = []
        lo, cost = a, 0.0
        for i in range(a, b):  # costs summed one by one, in order, as a contractor's lot
            if max_lot and i > lo and cost + costs[i] > max_lot:
                spans.append((lo, i, cost))
                lo, cost = i, 0.0
            cost += costs[i]
        spans.append((lo, b, cost))
        name = g[a]
        if len(spans) > 1:
            warnings.append(
                f"{key} {name} costs more than the maximum lot and is split into {len(spans)} lots"
            )
        for k, (lo, hi, cost) in enumerate(spans):
            urgency = (int(tier[lo:hi].min()), -float(np.sum(scores[lo:hi])), str(name), k)
            out.append((urgency, labels[lo:hi].tolist(), cost))
    return out, warnings


def make_batches(
    selected: pd.DataFrame,
    *,
    batches: int,
    group_by: str = "road",
    min_lot: float | None = None,
    max_lot: float | None = None,
) -> tuple[list[Lot], list[str]]:
    """Cut the selected hazards into at most ``batches`` contiguous lots, most urgent first.

    ``selected`` has ``id``, ``route_code``, ``township``, ``chainage_m``, ``tier``, ``score``,
    ``cost``; the lots hold its index labels. Also the warnings (split groups, lots above
    ``max_lot`` or below ``min_lot``)."""
    if selected.empty:
        return [], []
    key = "route_code" if group_by == "road" else "township"
    groups, warnings = _pieces(selected, key, max_lot)
    groups.sort(key=lambda t: t[0])
    total = sum(c for _, _, c in groups)
    n = max(1, min(batches, len(groups)))
    target = total / n
    lots: list[Lot] = [Lot()]
    for _, members, c in groups:
        lot = lots[-1]
        full = lot.positions and (lot.cost >= target - 1e-6 or (max_lot and lot.cost + c > max_lot))
        if full and len(lots) < n:
            lots.append(Lot())
            lot = lots[-1]
        lot.positions.extend(members)
        lot.cost += c
    if max_lot and any(lot.cost > max_lot + 1e-6 for lot in lots):
        warnings.append(
            f"with {batches} batches some lots exceed the maximum lot of {max_lot:,.0f} CNY; allow more batches"
        )
    if min_lot:
        merged: list[Lot] = []
        for lot in lots:
            if (
                merged
                and lot.cost < min_lot
                and (not max_lot or merged[-1].cost + lot.cost <= max_lot)
            ):
                merged[-1].positions.extend(lot.positions)
                merged[-1].cost += lot.cost
            else:
                merged.append(lot)
        if merged and merged[0].cost < min_lot and len(merged) > 1:
            merged[1].positions[:0] = merged[0].positions
            merged[1].cost += merged[0].cost
            merged = merged[1:]
        if any(lot.cost < min_lot for lot in merged):
            warnings.append(
                f"some lots stay below the minimum lot of {min_lot:,.0f} CNY (not enough funded work to fill them)"
            )
        lots = merged
    return lots, warnings
