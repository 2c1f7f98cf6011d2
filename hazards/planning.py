"""Remediation batches under a budget, by urgency, in contiguous lots (the ``planning`` step).

Selection is solved exactly, lexicographically by tier: first the set of tier I hazards with
the most risk (score) that fits the budget (the cheapest such set), then the most tier II risk
in what is left, then tier III. So no tier II hazard is funded while a tier I hazard that would
fit in its place is not, and within a tier the risk removed per CNY is as large as it can be.
Each tier is a 0/1 knapsack solved by :func:`exact_knapsack` (reduction, then an expanding
core), with identical items taken as one kind with a count (:func:`grouped_knapsack`); past the time limit a greedy choice (by score per CNY) is used and its gap to the
linear-programming bound is reported.

Selected hazards are then cut into batches (:mod:`hazards.batching`): grouped by road (or
township) so that a contractor's lot is contiguous, most urgent groups first, groups larger than
``max_lot`` split along the chainage, lots below ``min_lot`` merged. The same data gives the
same plan, byte for byte (``tests/test_frozen_plans.py``).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

import numpy as np
import pandas as pd

from hazards.batching import make_batches
from hazards.chainage import format_chainage
from hazards.dates import parse_past_day
from hazards.errors import ConfigError, InputError
from hazards.vocabulary import TIERS

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine


class PlanReport(TypedDict):
    """A plan as :func:`plan` and :func:`create_plan` report it (``hazards plan create --json``)
    and as it is stored (:func:`show_plan` adds ``status``). Costs are effective costs: the
    survey's estimate where it gave one, else the cost library's."""

    name: str
    budget_cny: float
    spent_cny: float
    remaining_cny: float
    solver: str
    optimality_gap: float
    group_by: str
    tiers_considered: list[str]
    risk_funded: dict[str, float]
    batches: list[
        dict[str, Any]
    ]  # name, seq, hazards, routes, townships, km_touched, cost_cny, tiers, items
    unfunded: dict[str, Any]  # hazards, cost_cny, tiers, items
    warnings: list[str]
    dry_run: NotRequired[bool]
    status: NotRequired[str]
    reused: NotRequired[bool]


@dataclass
class Selection:
    selected: list[int]  # positions in the candidate frame
    solver: str
    optimality_gap: float
    objective: dict[str, float]  # tier -> score funded


def _lp_bound(scores: Any, costs: Any, budget: float) -> float:
    """Dantzig's bound of a 0/1 knapsack (its fractional relaxation)."""
    scores = np.asarray(scores, dtype=float)
    costs = np.asarray(costs, dtype=float)
    free = costs <= 0
    total = float(scores[free].sum())
    sc, co = scores[~free], costs[~free]
    order = np.lexsort((np.arange(len(sc)), -(sc / co)))
    cum = np.cumsum(co[order])
    k = int(np.searchsorted(cum, budget, side="right"))
    total += float(sc[order][:k].sum())
    if k < len(order):
        left = budget - (float(cum[k - 1]) if k else 0.0)
        total += float(sc[order][k]) * left / float(co[order][k])
    return total


def _tier_gap(c: pd.DataFrame, chosen: list[int], budget: float, tiers: tuple[str, ...]) -> float:
    """How far the funded risk may be from the best: (bound − funded) / bound, where each tier's
    bound is the LP bound of the budget the higher tiers left (0 for a proven optimum)."""
    left = budget
    bound_total = got_total = 0.0
    picked = c.loc[chosen]
    for t in tiers:
        part = c[c["tier"] == t]
        if part.empty:
            continue
        mine = picked[picked["tier"] == t]
        bound_total += _lp_bound(part["score"], part["cost"], left)
        got_total += float(mine["score"].sum())
        left -= float(mine["cost"].sum())
    return max(0.0, (bound_total - got_total) / bound_total) if bound_total > 0 else 0.0


def _greedy(c: pd.DataFrame, budget: float, tiers: tuple[str, ...]) -> list[int]:
    left = budget
    chosen: list[int] = []
    for t in tiers:
        part = c[c["tier"] == t]
        ratio = part["score"] / part["cost"].where(part["cost"] > 0, 1e-9)
        for i in part.assign(_r=ratio).sort_values(["_r", "id"], ascending=[False, True]).index:
            if c.at[i, "cost"] <= left + 1e-9:
                chosen.append(int(i))
                left -= float(c.at[i, "cost"])
    return sorted(chosen)


TOL = 1e-6  # scores within this of the best count as the best (then the cheapest wins)


def exact_knapsack(
    scores: Any, costs: Any, cap: float, *, deadline: float, max_states: int = 2_000_000
) -> np.ndarray | None:
    """Positions of an optimum of a 0/1 knapsack: the largest total score within ``cap``, and
    among selections within ``TOL`` of it the cheapest. ``None`` when ``deadline``
    (``time.monotonic()``) or ``max_states`` is reached first.

    Exact, with float scores and costs: items are sorted by score per CNY; the break solution
    gives the LP bound and, filled greedily, a lower bound; every item whose flip cannot reach
    the lower bound (single-item Dantzig bound) is fixed; the remaining core, expanded outward
    from the break item, is solved by a Pareto list of (cost, score) states pruned by
    dominance and by the LP bound of what is left (Nemhauser–Ullmann / Pisinger's expanding
    core). Each state keeps its parent, so the selection is read back at the end.
    """
    p = np.asarray(scores, dtype=float)
    w = np.asarray(costs, dtype=float)
    n = len(p)
    take = np.zeros(n, dtype=bool)
    free = (w <= 0) & (p >= 0)  # no cost: take (cost never above 0)
    take[free] = True
    cap = float(cap) - float(w[free].sum())
    cand = np.flatnonzero(~free & (p > 0) & (w <= cap + TOL))
    if len(cand) == 0:
        return np.flatnonzero(take)
    pc, wc = p[cand], w[cand]
    order = np.lexsort((cand, -(pc / wc)))  # ratio descending, then position
    pc, wc, idx = pc[order], wc[order], cand[order]
    cum = np.cumsum(wc)
    b = int(np.searchsorted(cum, cap + TOL, side="right"))  # first item that does not fit
    if b == len(idx):
        take[idx] = True
        return np.flatnonzero(take)
    r_b = pc[b] / wc[b]
    wb = float(cum[b - 1]) if b else 0.0
    pb = float(pc[:b].sum())
    z_lp = pb + (cap - wb) * r_b
    # lower bound: the break solution filled greedily with what still fits
    lb, room = pb, cap - wb
    suffix_min = np.minimum.accumulate(wc[::-1])[::-1]
    for j in range(b, len(idx)):
        if suffix_min[j] > room + TOL:
            break
        if wc[j] <= room + TOL:
            room -= wc[j]
            lb += pc[j]
    # reduction: fix each item whose flip cannot reach the lower bound
    slack = np.abs(pc - wc * r_b)
    core = (z_lp - slack) >= lb - TOL
    core[b] = True
    above = np.arange(len(idx)) < b
    fixed1 = above & ~core
    take[idx[fixed1]] = True
    ups = np.flatnonzero(core & above)[::-1]  # nearest the break first: candidates to drop
    downs = np.flatnonzero(core & ~above)  # nearest the break first: candidates to add
    # interleave (drop, add, drop, ...) by distance from the break
    order_: list[int] = []
    i = k = 0
    while i < len(ups) or k < len(downs):
        if k < len(downs) and (i >= len(ups) or b - ups[i] > downs[k] - b):
            order_.append(int(downs[k]))
            k += 1
        else:
            order_.append(int(ups[i]))
            i += 1
    steps = np.array(order_, dtype=np.int64)
    is_up = steps < b
    # remaining ratio bounds after step s: next drop-candidate ratio and next add-candidate ratio
    ratio = pc / wc
    m = len(steps)
    r_up_next = np.full(m + 1, np.inf)
    r_down_next = np.zeros(m + 1)
    nxt_u, nxt_d = np.inf, 0.0
    for s in range(m - 1, -1, -1):
        if is_up[s]:
            nxt_u = ratio[steps[s]]
        else:
            nxt_d = ratio[steps[s]]
        r_up_next[s], r_down_next[s] = nxt_u, nxt_d
    # states: weight and score of the break solution with some core items flipped
    sw = np.array([wb])
    sp = np.array([pb])
    parents: list[tuple[np.ndarray, np.ndarray]] = []
    total = 0
    for s in range(m):
        j = steps[s]
        dw, dp = (-wc[j], -pc[j]) if is_up[s] else (wc[j], pc[j])
        nw = np.concatenate([sw, sw + dw])
        np_ = np.concatenate([sp, sp + dp])
        par = np.concatenate([np.arange(len(sw)), np.arange(len(sw))])
        flip = np.concatenate([np.zeros(len(sw), bool), np.ones(len(sw), bool)])
        feas = nw <= cap + TOL
        if feas.any():
            lb = max(lb, float(np_[feas].max()))
        ru, rd = r_up_next[s + 1], r_down_next[s + 1]
        over = np.maximum(nw - cap, 0.0)
        with np.errstate(invalid="ignore"):
            bound = np.where(feas, np_ + (cap - nw) * rd, np_ - over * ru)
        keep = bound >= lb - TOL
        nw, np_, par, flip = nw[keep], np_[keep], par[keep], flip[keep]
        o = np.lexsort((-np_, nw))
        nw, np_, par, flip = nw[o], np_[o], par[o], flip[o]
        best_before = np.concatenate([[-np.inf], np.maximum.accumulate(np_)[:-1]])
        keep = np_ > best_before
        sw, sp = nw[keep], np_[keep]
        parents.append((par[keep], flip[keep]))
        total += len(sw)
        if total > max_states or time.monotonic() > deadline:
            return None
    feas = sw <= cap + TOL
    best = float(sp[feas].max())
    pick = np.flatnonzero(feas & (sp >= best - TOL))
    at = int(pick[np.argmin(sw[pick])])
    sel = above.copy()
    for s in range(m - 1, -1, -1):
        par, flip = parents[s]
        if flip[at]:
            sel[steps[s]] = not sel[steps[s]]
        at = int(par[at])
    take[idx[sel]] = True
    return np.flatnonzero(take)


def grouped_knapsack(scores: Any, costs: Any, cap: float, *, deadline: float) -> np.ndarray | None:
    """:func:`exact_knapsack` with identical items (same score and cost) taken as one kind with
    a count: a survey priced from a cost library has a few dozen kinds among 100k hazards,
    where the expanding core of interchangeable items would otherwise grow past its limit.

    Each kind of m items becomes bundles of 1, 2, 4, … and the rest (every count 0…m is a sum
    of some of them, so the optimum and the cheapest optimum are the same); of a kind the
    first items by position are taken. ``None`` as :func:`exact_knapsack`.
    """
    p = np.asarray(scores, dtype=float)
    w = np.asarray(costs, dtype=float)
    kinds, first, kind_of, counts = np.unique(
        np.column_stack([w, p]), axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    if len(kinds) * 4 > len(p):  # few repeats: the items as they are
        return exact_knapsack(p, w, cap, deadline=deadline)
    kind_of = kind_of.ravel()
    bundle_kind, bundle_size = [], []
    for k, m in enumerate(counts):
        size = 1
        while m > 0:
            take = min(size, m)
            bundle_kind.append(k)
            bundle_size.append(take)
            m -= take
            size *= 2
    bk, bs = np.asarray(bundle_kind), np.asarray(bundle_size, dtype=float)
    # bundles in the order of their kind's first item, so ties break by position as before
    order = np.argsort(first[bk], kind="stable")
    bk, bs = bk[order], bs[order]
    got = exact_knapsack(kinds[bk, 1] * bs, kinds[bk, 0] * bs, cap, deadline=deadline)
    if got is None:
        return None
    wanted = np.bincount(bk[got], weights=bs[got], minlength=len(kinds)).astype(int)
    by_kind = np.argsort(kind_of, kind="stable")  # positions grouped by kind, in order
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    picked = [by_kind[starts[k] : starts[k] + wanted[k]] for k in np.flatnonzero(wanted)]
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def select(
    candidates: pd.DataFrame,
    *,
    budget: float,
    tiers: tuple[str, ...] = TIERS,
    time_limit: float = 30.0,
) -> Selection:
    """Choose hazards to fund; ``candidates`` has ``id``, ``tier``, ``score``, ``cost``.

    Lexicographic by tier: each tier's knapsack is solved exactly (:func:`exact_knapsack`) in
    the budget the higher tiers left, taking the cheapest of its optima so that as much as
    possible is left below. Positions in ``Selection.selected`` refer to ``candidates``' index
    (a RangeIndex). Past ``time_limit`` seconds the greedy choice is used and its gap reported.
    """
    c = candidates.reset_index(drop=True)
    if not math.isfinite(budget):  # a command line reads nan and inf as numbers
        raise ConfigError(
            f"The budget {budget} is not an amount; give a number of CNY ≥ 0 (e.g. 3000000).",
            param="budget",
        )
    if budget < 0:
        raise ConfigError(
            f"The budget {budget} is negative; give an amount ≥ 0 CNY.", param="budget"
        )
    tier_of = c["tier"].to_numpy(dtype=object)
    if not np.isin(tier_of, list(tiers)).any():
        return Selection([], "none", 0.0, {t: 0.0 for t in tiers})
    scores = c["score"].to_numpy(dtype=float)
    costs = c["cost"].to_numpy(dtype=float)
    deadline = time.monotonic() + time_limit
    left = float(budget)
    chosen: list[int] = []
    for t in tiers:
        members = np.flatnonzero(tier_of == t)
        if len(members) == 0:
            continue
        got = grouped_knapsack(scores[members], costs[members], left, deadline=deadline)
        if got is None:
            chosen = _greedy(c, budget, tiers)
            return Selection(
                chosen,
                "greedy",
                round(_tier_gap(c, chosen, budget, tiers), 6),
                _objective(c, chosen, tiers),
            )
        picked = members[got]
        chosen.extend(int(i) for i in picked)
        left -= float(costs[picked].sum())
    chosen.sort()
    return Selection(chosen, "exact", 0.0, _objective(c, chosen, tiers))


def _objective(c: pd.DataFrame, chosen: list[int], tiers: tuple[str, ...]) -> dict[str, float]:
    sel = c.loc[chosen]
    return {t: round(float(sel.loc[sel["tier"] == t, "score"].sum()), 6) for t in tiers}


def _tiers(part: pd.DataFrame) -> dict[str, int]:
    return {t: int((part["tier"] == t).sum()) for t in TIERS}


def _km_touched(part: pd.DataFrame) -> float:
    """Per route, the span from the first to the last hazard (km), summed; a linear hazard
    spans its chainage range (``from_m``–``to_m``, when the candidates carry it)."""
    lo, hi = part["chainage_m"], part["chainage_m"]
    if "from_m" in part and "to_m" in part:
        ranged = part["from_m"].notna() & part["to_m"].notna()
        lo, hi = lo.mask(ranged, part["from_m"]), hi.mask(ranged, part["to_m"])
    key = part["route_code"]
    spans = (hi.groupby(key).max() - lo.groupby(key).min()).fillna(0.0)  # no chainage: 0
    return round(float(spans.sum()) / 1000, 3)


def plan(
    candidates: pd.DataFrame,
    *,
    name: str,
    budget: float,
    batches: int = 3,
    group_by: str = "road",
    tiers: tuple[str, ...] = TIERS,
    min_lot: float | None = None,
    max_lot: float | None = None,
    time_limit: float = 30.0,
) -> PlanReport:
    """The whole plan as a dict (what ``hazards plan create --json`` prints).

    ``candidates``: one row per open hazard with ``id`` (public id), ``route_code``,
    ``township``, ``chainage_m``, ``tier``, ``score``, ``cost``.
    """
    if batches < 1:
        raise ConfigError(f"{batches} batches: a plan needs at least 1.", param="batches")
    if group_by not in ("road", "township"):
        raise ConfigError(
            f"Batches cannot be grouped by {group_by!r}: use road or township.", param="group_by"
        )
    if min_lot and max_lot and min_lot > max_lot:
        raise ConfigError(
            f"The smallest lot ({min_lot} CNY) is above the largest ({max_lot} CNY).",
            param="min_lot",
        )
    bad = [t for t in tiers if t not in TIERS]
    if bad:
        raise ConfigError(f"{', '.join(bad)}: not a tier; use {', '.join(TIERS)}.", param="tiers")
    c = candidates.sort_values("id").reset_index(drop=True)
    sel = select(c, budget=budget, tiers=tiers, time_limit=time_limit)
    chosen = c.loc[sel.selected]
    lots, warnings = make_batches(
        chosen, batches=batches, group_by=group_by, min_lot=min_lot, max_lot=max_lot
    )
    key = "route_code" if group_by == "road" else "township"
    # each batch's hazards along the road: one sort of the funded ones, then each lot's share
    along = chosen.sort_values(["route_code", "chainage_m", "id"]).index.to_numpy()
    lot_of = np.full(len(c), -1, dtype=np.int64)
    for k, lot in enumerate(lots):
        lot_of[lot.positions] = k
    lot_along = lot_of[along]
    out_batches = []
    for k in range(1, len(lots) + 1):
        bname = f"{name}-{k}"
        part = c.take(along[lot_along == k - 1])
        why: dict[Any, str] = {}  # per group (a NaN key may repeat: then made again)
        reasons = [
            why[g] if g in why else why.setdefault(g, f"funded in {bname} ({group_by} {g})")
            for g in part[key].tolist()
        ]
        out_batches.append(
            {
                "name": bname,
                "seq": k,
                "hazards": int(len(part)),
                "routes": sorted(part["route_code"].dropna().unique().tolist()),
                "townships": sorted(part["township"].dropna().unique().tolist()),
                "km_touched": _km_touched(part),
                "cost_cny": round(float(part["cost"].sum()), 2),
                "tiers": _tiers(part),
                "items": _items(part, reasons),
            }
        )
    spent = round(float(chosen["cost"].sum()), 2)
    considered = c[c["tier"].isin(tiers)]
    if not len(chosen) and len(considered):  # e.g. 300 meant as 300 万元
        warnings.append(
            f"the budget of {budget:,.0f} CNY funds none of the {len(considered)} open hazards "
            f"of tiers {', '.join(tiers)}: the cheapest costs {considered['cost'].min():,.0f} CNY. "
            "A budget is in yuan: for 300 万元 give 300万 or 3000000 "
            "（预算以元计：300 万元请写 300万 或 3000000）."
        )
    rest = c.drop(index=sel.selected)
    rest_sorted = rest.sort_values(["tier", "score", "id"], ascending=[True, False, True])
    no_room = f"unfunded: does not fit the remaining budget of {budget - spent:,.0f} CNY after more urgent or more effective work"
    unfunded_items = _items(
        rest_sorted,
        [
            "unfunded: its tier is not among the tiers considered" if t not in tiers else no_room
            for t in rest_sorted["tier"]
        ],
    )
    return {
        "name": name,
        "budget_cny": round(float(budget), 2),
        "spent_cny": spent,
        "remaining_cny": round(float(budget) - spent, 2),
        "solver": sel.solver,
        "optimality_gap": sel.optimality_gap,
        "group_by": group_by,
        "tiers_considered": list(tiers),
        "risk_funded": sel.objective,
        "batches": out_batches,
        "unfunded": {
            "hazards": int(len(rest)),
            "cost_cny": round(float(rest["cost"].sum()), 2),
            "tiers": _tiers(rest),
            "items": unfunded_items,
        },
        "warnings": warnings,
    }


def _item_texts(tier: Any, score: Any, cost: Any) -> tuple[float, float, str]:
    """An item's rounded score and cost and the start of its rationale."""
    s, c = float(score), float(cost)
    return round(s, 1), round(c, 2), f"tier {tier}, score {s:.0f}, {c:,.0f} CNY: "


def _items(part: pd.DataFrame, why: list[str]) -> list[dict[str, Any]]:
    """One dict per hazard of ``part`` with its one-line rationale ``why``. Column-wise: the
    texts are made once per distinct chainage and per distinct (tier, score, cost)."""
    cols = [part[k].tolist() for k in ("id", "route_code", "chainage_m", "tier", "score", "cost")]
    at: dict[Any, str | None] = {}  # chainage text (-0.0 and 0.0 read alike)
    texts: dict[tuple[Any, Any, Any], tuple[float, float, str]] = {}
    out = []
    for (id_, route, ch, tier, score, cost), reason in zip(
        zip(*cols, strict=True), why, strict=True
    ):
        if ch not in at:
            at[ch] = format_chainage(float(ch)) if ch is not None and not pd.isna(ch) else None
        if score and cost:  # a zero may be -0.0, which prints otherwise: not shared
            got = texts.get((tier, score, cost))
            if got is None:
                got = texts[(tier, score, cost)] = _item_texts(tier, score, cost)
        else:
            got = _item_texts(tier, score, cost)
        out.append(
            {
                "id": id_,
                "route_code": route if isinstance(route, str) else None,  # not NaN
                "chainage": at[ch],
                "tier": tier,
                "score": got[0],
                "cost_cny": got[1],
                "rationale": got[2] + reason,
            }
        )
    return out


# ----------------------------------------------------------------------------- with the database
def create_plan(
    *,
    name: str,
    budget: float,
    batches: int = 3,
    group_by: str = "road",
    tiers: tuple[str, ...] = TIERS,
    min_lot: float | None = None,
    max_lot: float | None = None,
    dry_run: bool = False,
    time_limit: float = 30.0,
    engine: Engine | None = None,
) -> PlanReport:
    """Plan over the open hazards (the plannable ones: identified or reopened); store it as a
    draft unless ``dry_run``."""
    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.scoring import compute_tiers

    engine = engine or get_engine()
    if not name or not name.strip():
        raise InputError("A plan needs a name, e.g. 2025.", param="name")
    if not dry_run and store.plan_exists(engine, name):
        committed = store.get_plan(engine, name)["status"] != "draft"
        hint = (
            "It is committed (its batches are under way): choose another name."
            if committed
            else f"Drop the draft first (`hazards plan drop {name}`) or choose another name."
        )
        raise InputError(f"A plan named {name!r} exists. {hint}", param="name")
    cands = store.plan_candidates(engine)
    if len(cands) and (cands["score"].isna().any() or cands["cost"].isna().any()):
        compute_tiers(engine=engine)
        cands = store.plan_candidates(engine)
    bad = cands[~np.isfinite(cands["cost"].astype(float))] if len(cands) else cands
    if len(bad):  # stored before costs were checked (issue 16): refused, not a solver crash
        ids = ", ".join(map(str, bad["id"][:10])) + (" ..." if len(bad) > 10 else "")
        raise InputError(
            f"{len(bad)} hazards have a cost that is not a finite number ({ids}); correct the "
            "cost in the survey and import it as a correction of that survey. Nothing was planned."
        )
    result = plan(
        cands,
        name=name.strip(),
        budget=budget,
        batches=batches,
        group_by=group_by,
        tiers=tiers,
        min_lot=min_lot,
        max_lot=max_lot,
        time_limit=time_limit,
    )
    result["dry_run"] = dry_run
    if not dry_run:
        store.save_plan(engine, dict(result))
    return result


def list_plans(*, engine: Engine | None = None) -> list[dict[str, Any]]:
    """The county's plans (the ``admin_code`` setting), draft or committed, with their batch and
    hazard counts."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.list_plans(engine or get_engine())


def plans_without_code(*, engine: Engine | None = None) -> int:
    """Plans (and batches of no plan) stored without a county code: no county's lists show them
    (:func:`hazards.db.store.plans_without_code`)."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.plans_without_code(engine or get_engine())


def plan_exists(name: str, *, engine: Engine | None = None) -> bool:
    """Whether a plan of that name is stored."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.plan_exists(engine or get_engine(), name)


def show_plan(name: str, *, engine: Engine | None = None) -> PlanReport:
    """A stored plan as :func:`create_plan` reported it, with its current ``status``."""
    from hazards.db import store
    from hazards.db.session import get_engine

    p = store.get_plan(engine or get_engine(), name)
    report: PlanReport = p["report"]
    report["status"] = p["status"]
    return report


def commit_plan(
    name: str,
    *,
    by: str | None = None,
    on: str | dt.date | None = None,
    wait: bool = True,
    on_wait: Callable[[dict[str, Any]], None] | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Make a draft plan binding: each of its hazards becomes ``planned`` (checked against the
    transition table, one event each), its batches ``issued``.

    ``on`` (default today) dates the change, to record past work: not in the future, and not
    before any of its hazards' last event (each hazard's events stay in order). One plan
    commit at a time: another one running, this one waits (``on_wait`` told for what), or
    with ``wait`` False is refused at once (:class:`~hazards.errors.ConflictError`)."""
    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.vocabulary import check_transition

    day = parse_past_day(on, param="on", fix="commit a plan on the day it is decided")
    return store.commit_plan(
        engine or get_engine(),
        name,
        by=by,
        on=day,
        check=check_transition,
        wait=wait,
        on_wait=on_wait,
    )


def drop_plan(name: str, *, engine: Engine | None = None) -> dict[str, Any]:
    """Delete a draft plan with its batches (a committed plan cannot be dropped)."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.drop_plan(engine or get_engine(), name)
