"""Planning: exact lexicographic optimum, budget and tier order, batches, the stored plan."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from hazards.cli import cli
from hazards.planning import make_batches, plan, select

TIER_RANK = {"I": 0, "II": 1, "III": 2}


def _frame(tiers, scores, costs, routes=None) -> pd.DataFrame:
    n = len(tiers)
    return pd.DataFrame(
        {
            "id": [f"H{i:03d}" for i in range(n)],
            "tier": tiers,
            "score": scores,
            "cost": costs,
            "route_code": routes or [f"Y{i % 3:03d}" for i in range(n)],
            "township": ["t"] * n,
            "chainage_m": [100.0 * i for i in range(n)],
        }
    )


def _brute_force(df: pd.DataFrame, budget: float) -> tuple[float, ...]:
    best: tuple[float, ...] = (-1.0, -1.0, -1.0)
    for k in range(len(df) + 1):
        for combo in itertools.combinations(range(len(df)), k):
            part = df.iloc[list(combo)]
            if part["cost"].sum() <= budget + 1e-9:
                value = tuple(
                    round(float(part.loc[part["tier"] == t, "score"].sum()), 6)
                    for t in ("I", "II", "III")
                )
                best = max(best, value)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_selection_equals_the_brute_force_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 11))
    df = _frame(
        list(rng.choice(["I", "II", "III"], n)),
        list(rng.integers(10, 100, n).astype(float)),
        list(rng.integers(1, 50, n).astype(float) * 1000),
    )
    budget = float(df["cost"].sum() * rng.uniform(0.2, 0.8))
    sel = select(df, budget=budget)
    assert sel.solver == "exact" and sel.optimality_gap == 0.0
    got = tuple(sel.objective[t] for t in ("I", "II", "III"))
    assert got == pytest.approx(_brute_force(df, budget))


def _dp_optimum(scores: np.ndarray, costs: np.ndarray, cap: int) -> float:
    """The 0/1 knapsack optimum by dynamic programming over integer costs (textbook)."""
    best = np.zeros(cap + 1)
    for s, c in zip(scores, costs.astype(int), strict=True):
        if c <= cap:
            best[c:] = np.maximum(best[c:], best[: cap + 1 - c] + s)
    return float(best[cap])


@pytest.mark.parametrize("seed", range(3))
def test_exact_knapsack_on_2k_items_matches_dynamic_programming(seed: int) -> None:
    from hazards.planning import exact_knapsack

    rng = np.random.default_rng(100 + seed)
    scores = np.round(rng.uniform(0, 100, 2_000), 3)
    costs = rng.integers(1, 60, 2_000).astype(float)
    cap = int(costs.sum() * 0.3)
    got = exact_knapsack(scores, costs, cap, deadline=float("inf"))
    assert got is not None
    assert costs[got].sum() <= cap
    assert scores[got].sum() == pytest.approx(_dp_optimum(scores, costs, cap), abs=1e-6)
    df = _frame(["I"] * 2_000, list(scores), list(costs * 1000))
    sel = select(df, budget=cap * 1000.0)
    assert sel.solver == "exact" and sel.optimality_gap == 0.0
    assert sel.objective["I"] == pytest.approx(_dp_optimum(scores, costs, cap), abs=1e-5)


@pytest.mark.parametrize("seed", range(40))
def test_exact_knapsack_takes_the_cheapest_optimum(seed: int) -> None:
    from hazards.planning import exact_knapsack

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    scores = rng.integers(0, 20, n).astype(float)  # ties on purpose; zero costs and scores too
    costs = rng.integers(0, 15, n).astype(float) * 100
    cap = float(costs.sum() * rng.uniform(0, 1))
    best = (-1.0, 0.0)
    for k in range(n + 1):
        for combo in itertools.combinations(range(n), k):
            part = list(combo)
            if costs[part].sum() <= cap:
                best = max(best, (float(scores[part].sum()), -float(costs[part].sum())))
    got = exact_knapsack(scores, costs, cap, deadline=float("inf"))
    assert got is not None
    assert (float(scores[got].sum()), -float(costs[got].sum())) == best


def _check_budget_and_tier_order(df: pd.DataFrame, budget: float, chosen: list[int]) -> None:
    spent = float(df.loc[chosen, "cost"].sum())
    assert spent <= budget + 1e-6
    for i in set(range(len(df))) - set(chosen):
        t = TIER_RANK[df.at[i, "tier"]]
        spent_same_or_higher = float(
            df.loc[[j for j in chosen if TIER_RANK[df.at[j, "tier"]] <= t], "cost"].sum()
        )
        # dropping every lower-tier choice would not make room for it
        assert df.at[i, "cost"] > budget - spent_same_or_higher - 1e-6


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["I", "II", "III"]), st.integers(1, 100), st.integers(0, 60)),
        min_size=1,
        max_size=14,
    ),
    st.floats(0, 1),
)
def test_budget_and_tier_order_are_never_violated(items, fraction) -> None:
    df = _frame(
        [t for t, _, _ in items],
        [float(s) for _, s, _ in items],
        [float(c) * 500 for _, _, c in items],
    )
    budget = float(df["cost"].sum() * fraction)
    sel = select(df, budget=budget)
    _check_budget_and_tier_order(df, budget, sel.selected)


def test_greedy_fallback_keeps_budget_and_tier_order_and_reports_its_gap(monkeypatch) -> None:
    import hazards.planning as planning

    rng = np.random.default_rng(5)
    df = _frame(
        list(rng.choice(["I", "II"], 30)),
        list(rng.integers(10, 100, 30).astype(float)),
        list(rng.integers(1, 50, 30).astype(float) * 1000),
    )
    budget = float(df["cost"].sum() / 3)
    exact = select(df, budget=budget)

    monkeypatch.setattr(planning, "exact_knapsack", lambda *a, **k: None)  # out of time
    sel = select(df, budget=budget)
    assert sel.solver == "greedy"
    _check_budget_and_tier_order(df, budget, sel.selected)

    def fractional(part: pd.DataFrame, room: float) -> float:  # Dantzig's bound, written plainly
        total = 0.0
        for _, r in (
            part.assign(q=part["score"] / part["cost"]).sort_values("q", ascending=False).iterrows()
        ):
            take = min(1.0, room / r["cost"]) if room > 0 else 0.0
            total += take * r["score"]
            room -= take * r["cost"]
        return total

    left, bound_total, got_total = budget, 0.0, 0.0
    picked = df.loc[sel.selected]
    for t in ("I", "II"):
        bound = fractional(df[df["tier"] == t], left)
        got = picked.loc[picked["tier"] == t, "score"].sum()
        assert got <= bound + 1e-6
        bound_total += bound
        got_total += got
        left -= picked.loc[picked["tier"] == t, "cost"].sum()
    assert 0 <= sel.optimality_gap < 1
    assert sel.optimality_gap == pytest.approx((bound_total - got_total) / bound_total, abs=1e-6)
    assert (
        planning._lp_bound(df["score"], df["cost"], budget) >= sum(exact.objective.values()) - 1e-6
    )


def test_batches_keep_roads_together_most_urgent_first() -> None:
    df = _frame(
        ["III", "I", "II", "I", "III", "II"],
        [30, 90, 50, 80, 20, 60],
        [10_000] * 6,
        routes=["Y001", "Y002", "Y001", "Y003", "Y002", "Y003"],
    )
    lots, warnings = make_batches(df, batches=3)
    routes = [set(df.loc[lot.positions, "route_code"]) for lot in lots]
    assert all(len(r) == 1 for r in routes) and len(lots) == 3
    # Both Y002 and Y003 hold a tier I hazard; Y003 carries more risk in all (80 + 60 > 90 + 20).
    assert routes[0] == {"Y003"} and routes[1] == {"Y002"}
    split, warnings = make_batches(df, batches=6, max_lot=10_000)
    assert all(lot.cost <= 10_000 for lot in split) and warnings


def test_plan_report_and_rationale() -> None:
    df = _frame(["I", "I", "II", "III"], [90, 70, 60, 40], [40_000, 30_000, 20_000, 5_000])
    out = plan(df, name="P", budget=75_000, batches=2)
    assert out["spent_cny"] == 75_000 and out["solver"] == "exact"
    assert sum(b["hazards"] for b in out["batches"]) + out["unfunded"]["hazards"] == 4
    assert out["unfunded"]["tiers"] == {"I": 0, "II": 1, "III": 0}
    funded = {i["id"] for b in out["batches"] for i in b["items"]}
    assert funded == {"H000", "H001", "H003"}
    assert out["unfunded"]["items"][0]["rationale"].startswith(
        "tier II, score 60, 20,000 CNY: unfunded"
    )


def test_km_touched_spans_linear_hazards_ranges() -> None:
    """A batch's km: per route, from its first hazard's start to its last hazard's end, a
    linear hazard spanning its range (one linear hazard alone is not 0 km)."""
    df = _frame(
        ["I", "I", "I", "I"],
        [90, 80, 70, 60],
        [1_000] * 4,
        routes=["Y001", "Y002", "Y002", "Y002"],
    ).assign(
        chainage_m=[890.0, 200.0, 700.0, 775.0],
        from_m=[100.0, np.nan, np.nan, 650.0],
        to_m=[1680.0, np.nan, np.nan, 900.0],
    )
    (batch,) = plan(df, name="P", budget=10_000, batches=1)["batches"]
    # Y001: 100 → 1680 m; Y002: its point at 200 m → the range's end at 900 m
    assert batch["km_touched"] == round((1680 - 100 + 900 - 200) / 1000, 3)
    points_only = plan(df.drop(columns=["from_m", "to_m"]), name="P", budget=10_000, batches=1)
    assert points_only["batches"][0]["km_touched"] == round((775 - 200) / 1000, 3)


def test_a_hazard_without_a_route_is_planned_with_route_code_null() -> None:
    """A hazard placed by position only has no route: its item says null, not NaN (which is
    not JSON)."""
    df = _frame(["I", "II"], [90, 60], [10_000, 5_000], routes=["Y001", np.nan])
    out = plan(df, name="P", budget=20_000, batches=1)
    items = {i["id"]: i for b in out["batches"] for i in b["items"]}
    assert items["H000"]["route_code"] == "Y001" and items["H001"]["route_code"] is None
    json.dumps(out, allow_nan=False)


def _seed_hazards(engine, n: int = 12) -> None:
    from sqlalchemy import text

    cats = ["roadside_water_or_cliff", "sharp_curve", "pavement_defect", "through_village"]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO roads (route_code, road_class, township, length_m, end_m) VALUES "
                "('Y001', 'township', '草尾镇', 5000, 5000), ('Y002', 'township', '南嘴镇', 4000, 4000)"
            )
        )
        # one straight segment each, in its township (townships are read from the segments)
        conn.execute(
            text(
                "INSERT INTO road_segments (road_id, seq, from_m, to_m, length_m, township, geom) "
                "SELECT id, 0, 0, length_m, length_m, township, ST_SetSRID(ST_MakeLine("
                "ST_MakePoint(112.3, 28.8 + id * 0.1), ST_MakePoint(112.3 + length_m / 1e5, "
                "28.8 + id * 0.1)), 4326) FROM roads"
            )
        )
        for i in range(n):
            conn.execute(
                text(
                    "INSERT INTO hazards (public_id, category, description, road_id, segment_id, "
                    "chainage_m, length_m) SELECT :p, :c, '', r.id, s.id, :ch, :len "
                    "FROM roads r JOIN road_segments s ON s.road_id = r.id WHERE r.route_code = :r"
                ),
                {
                    "p": f"H{i:06d}",
                    "c": cats[i % 4],
                    "r": "Y001" if i % 2 else "Y002",
                    "ch": 300.0 * i + 50,
                    "len": 80.0 if i % 4 == 0 else None,
                },
            )


def test_plan_cli_create_show_commit_drop(engine) -> None:
    _seed_hazards(engine)
    runner = CliRunner()
    args = ["plan", "create", "--name", "2025", "--budget", "60000", "--batches", "2", "--json"]
    dry1 = runner.invoke(cli, [*args, "--dry-run"])
    dry2 = runner.invoke(cli, [*args, "--dry-run"])
    assert dry1.exit_code == 0, dry1.output
    assert dry1.output == dry2.output  # byte-identical
    out = json.loads(dry1.output)
    assert set(out) >= {
        "batches",
        "unfunded",
        "budget_cny",
        "spent_cny",
        "solver",
        "optimality_gap",
    }
    assert set(out["batches"][0]) >= {"name", "hazards", "routes", "cost_cny", "tiers"}
    assert out["spent_cny"] <= 60000
    assert json.loads(runner.invoke(cli, ["plan", "list", "--json"]).output) == []
    created = json.loads(runner.invoke(cli, args).output)
    assert created["batches"] == out["batches"]
    shown = json.loads(runner.invoke(cli, ["plan", "show", "2025", "--json"]).output)
    assert shown["status"] == "draft" and shown["batches"] == out["batches"]
    again = runner.invoke(cli, args)
    assert again.exit_code == 1 and "exists" in again.output
    assert runner.invoke(cli, ["plan", "commit", "2025"]).exit_code == 0
    planned = json.loads(runner.invoke(cli, ["list", "--status", "planned", "--json"]).output)
    assert len(planned) == sum(b["hazards"] for b in out["batches"])
    dropped = runner.invoke(cli, ["plan", "drop", "2025"])
    assert dropped.exit_code == 1 and "committed" in dropped.output
    # The next plan only sees what is still open.
    nxt = json.loads(
        runner.invoke(cli, ["plan", "create", "--name", "2026", "--budget", "1e9", "--json"]).output
    )
    assert {i["id"] for b in nxt["batches"] for i in b["items"]}.isdisjoint(
        {h["id"] for h in planned}
    )
    assert runner.invoke(cli, ["plan", "drop", "2026"]).exit_code == 0
    assert [
        p["name"] for p in json.loads(runner.invoke(cli, ["plan", "list", "--json"]).output)
    ] == ["2025"]


def test_a_budget_in_wan_yuan_and_one_that_funds_nothing(engine) -> None:
    """Money is shown in 万元, so a planner types --budget 30 meaning 30 万元: it was read as 30
    yuan, gave an empty plan without a word, and that plan could be committed. Amounts are read
    with their unit (30万, ¥300,000); a budget that funds nothing says so and what the cheapest
    hazard costs; an empty plan is not committed."""
    _seed_hazards(engine)
    runner = CliRunner()

    def create(budget: str, *more: str) -> dict:
        out = runner.invoke(
            cli, ["plan", "create", "--name", "W", "--budget", budget, "--dry-run", "--json", *more]
        )
        assert out.exit_code == 0, out.output
        return json.loads(out.output)

    for written in ("30万", "30万元", "300,000", "¥300000", "300000元", "300000"):
        assert create(written)["budget_cny"] == 300000.0, written
    assert create("1e9", "--max-lot", "2万")["batches"]  # lots too, in 万元
    small = create("30")
    assert small["batches"] == [] and small["spent_cny"] == 0 and small["unfunded"]["hazards"] == 12
    cheapest = min(i["cost_cny"] for i in small["unfunded"]["items"])
    (said,) = [w for w in small["warnings"] if "funds none" in w]
    assert f"the cheapest costs {cheapest:,.0f} CNY" in said and "300万" in said
    bad = runner.invoke(cli, ["plan", "create", "--name", "W", "--budget", "三十万"])
    assert bad.exit_code == 2 and "不是金额" in bad.output, bad.output
    assert runner.invoke(cli, ["plan", "create", "--name", "S", "--budget", "30"]).exit_code == 0
    commit = runner.invoke(cli, ["plan", "commit", "S"])
    assert commit.exit_code == 1 and "funds no hazard" in commit.output, commit.output
    [plan] = json.loads(runner.invoke(cli, ["plan", "list", "--json"]).output)
    assert (plan["name"], plan["status"]) == ("S", "draft")


def test_risk_routes_in_100m_cells(engine) -> None:
    from sqlalchemy import text

    _seed_hazards(engine, n=4)
    with engine.begin() as conn:
        conn.execute(text("UPDATE hazards SET score = 50, tier = 'II'"))
    out = json.loads(CliRunner().invoke(cli, ["risk", "routes", "--json"]).output)
    by = {r["route"]: r for r in out["routes"]}
    # Y002 holds hazards 0 and 2 (chainage 50 and 650): 100 risk over 4 km; Y001 holds 1 and 3.
    assert by["Y002"]["open_risk"] == 100 and by["Y002"]["risk_per_km"] == 25.0
    assert by["Y001"]["risk_per_km"] == 20.0 and by["Y001"]["cells"] == 50
    assert by["Y002"]["cells_at_risk"] == 2 and out["routes"][0]["route"] == "Y002"
    assert {t["township"] for t in out["townships"]} == {"草尾镇", "南嘴镇"}


def test_plan_verbs_and_a_taken_name(tracked) -> None:
    from hazards import planning
    from hazards.errors import HazardsError, InputError

    [p] = planning.list_plans(engine=tracked)
    assert (p["name"], p["status"], p["hazards"]) == ("P", "committed", 8)
    shown = planning.show_plan("P", engine=tracked)
    assert shown["status"] == "committed"
    assert sum(b["hazards"] for b in shown["batches"]) == 8
    # a committed plan cannot be dropped, so the hint must not suggest it
    with pytest.raises(InputError) as info:
        planning.create_plan(name="P", budget=1e6, engine=tracked)
    assert "choose another name" in info.value.message and "plan drop" not in info.value.message
    assert info.value.param == "name"
    with pytest.raises(InputError, match="already committed"):
        planning.commit_plan("P", engine=tracked)
    # a draft: the hint names the way out
    draft = planning.create_plan(name="D", budget=0, engine=tracked)
    assert draft["batches"] == [] or all(b["hazards"] == 0 for b in draft["batches"])
    with pytest.raises(InputError, match="hazards plan drop D"):
        planning.create_plan(name="D", budget=0, engine=tracked)
    # two commands creating the same name at once: the later one to store is told, in one line
    # (before: a traceback of UniqueViolation with megabytes of SQL parameters)
    from hazards.db import store
    from hazards.errors import ConflictError

    with pytest.raises(ConflictError, match="stored by another command meanwhile"):
        store.save_plan(tracked, {**draft, "name": "D"})
    assert planning.drop_plan("D", engine=tracked) == {"plan": "D", "dropped": True}
    assert not planning.plan_exists("D", engine=tracked)
    with pytest.raises(HazardsError) as negative:
        planning.create_plan(name="E", budget=-5, engine=tracked)
    assert negative.value.param == "budget" and "--" not in negative.value.message
    for amount in ("nan", "inf"):  # as the command line reads them: refused, not a traceback
        out = CliRunner().invoke(cli, ["plan", "create", "--name", "F", "--budget", amount])
        assert out.exit_code == 2 and "not an amount" in out.output, out.output
        assert "Traceback" not in out.output and not planning.plan_exists("F", engine=tracked)


@pytest.mark.parametrize("seed", range(12))
def test_identical_items_grouped_give_the_same_optimum(seed: int) -> None:
    """A survey priced from a cost library repeats a few (score, cost) kinds many times: the
    grouped knapsack (a count per kind) reaches the same best score at the same cheapest cost
    as the item-by-item one, within the budget, each item at most once."""
    from hazards.planning import exact_knapsack, grouped_knapsack

    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 400))
    costs = rng.choice([3000.0, 4500, 6000, 13200, 22000], n)
    scores = rng.choice([41.0, 60.5, 63.5, 71.2, 78.0], n)
    cap = float(costs.sum()) * rng.uniform(0.1, 0.9)
    one = exact_knapsack(scores, costs, cap, deadline=float("inf"), max_states=10**9)
    got = grouped_knapsack(scores, costs, cap, deadline=float("inf"))
    assert one is not None and got is not None
    assert scores[got].sum() == pytest.approx(scores[one].sum(), abs=1e-6)
    assert costs[got].sum() == pytest.approx(costs[one].sum(), abs=1e-6)
    assert costs[got].sum() <= cap + 1e-6 and len(set(got.tolist())) == len(got)


def test_100k_hazards_of_few_kinds_are_planned_exactly() -> None:
    """The bench's M candidates (6 costs, 15 scores among 100k) took the greedy fallback before
    the kinds were grouped; now the selection is exact."""
    from hazards.planning import select

    rng = np.random.default_rng(7)
    n = 100_000
    costs = rng.choice([3000.0, 4500, 6000, 9000, 13200, 22000], n)
    scores = rng.choice(np.round(np.linspace(41, 78, 15), 1), n)
    tiers = np.where(scores >= 70, "I", np.where(scores >= 60, "II", "III"))
    c = pd.DataFrame({"id": np.arange(n), "tier": tiers, "score": scores, "cost": costs})
    sel = select(c, budget=float(costs.sum()) * 0.3, time_limit=60)
    assert sel.solver == "exact" and sel.optimality_gap == 0.0
    assert costs[sel.selected].sum() <= costs.sum() * 0.3 + 1e-6


def _reference_batches(selected: pd.DataFrame, *, batches, group_by, min_lot, max_lot):
    """The batch cutting written plainly, row by row (the code before it was made column-wise):
    the oracle for :func:`hazards.batching.make_batches`."""
    key = "route_code" if group_by == "road" else "township"
    s = selected.assign(_g=selected[key].fillna("—"), _t=selected["tier"].map(TIER_RANK))
    groups, warnings = [], []
    for g, part in s.groupby("_g", sort=True):
        pieces: list[tuple[list[int], float]] = []
        chunk: list[int] = []
        cost = 0.0
        for i, row in part.sort_values(["route_code", "chainage_m", "id"]).iterrows():
            if max_lot and chunk and cost + row["cost"] > max_lot:
                pieces.append((chunk, cost))
                chunk, cost = [], 0.0
            chunk.append(int(i))
            cost += float(row["cost"])
        pieces.append((chunk, cost))
        if len(pieces) > 1:
            warnings.append(f"{key} {g} split into {len(pieces)}")
        for k, (members, c) in enumerate(pieces):
            urgency = (int(s.loc[members, "_t"].min()), -float(s.loc[members, "score"].sum()))
            groups.append(((*urgency, str(g), k), members, c))
    groups.sort(key=lambda t: t[0])
    n = max(1, min(batches, len(groups)))
    target = sum(c for _, _, c in groups) / n
    lots: list[list] = [[[], 0.0]]
    for _, members, c in groups:
        full = lots[-1][0] and (
            lots[-1][1] >= target - 1e-6 or (max_lot and lots[-1][1] + c > max_lot)
        )
        if full and len(lots) < n:
            lots.append([[], 0.0])
        lots[-1][0].extend(members)
        lots[-1][1] += c
    if min_lot:
        merged: list[list] = []
        for lot in lots:
            if merged and lot[1] < min_lot and (not max_lot or merged[-1][1] + lot[1] <= max_lot):
                merged[-1][0].extend(lot[0])
                merged[-1][1] += lot[1]
            else:
                merged.append(lot)
        if merged and merged[0][1] < min_lot and len(merged) > 1:
            merged[1] = [merged[0][0] + merged[1][0], merged[1][1] + merged[0][1]]
            merged = merged[1:]
        lots = merged
    return [(p, c) for p, c in lots], warnings


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["I", "II", "III"]),
            st.sampled_from([40.0, 55.5, 63.5, 78.0]),  # few kinds: urgency ties
            st.sampled_from([0.0, 3000.0, 4500.0, 9876.54, 22000.0]),
            st.sampled_from(["X001", "Y002", "Y010", "C003", None]),
            st.sampled_from(["甲镇", "乙乡", None]),
            st.one_of(st.none(), st.sampled_from([0.0, 150.0, 150.0, 900.0, 2500.0])),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 6),
    st.sampled_from(["road", "township"]),
    st.sampled_from([None, 5000.0, 12_000.0, 30_000.0]),
    st.sampled_from([None, 4000.0, 20_000.0]),
)
def test_batches_equal_the_row_by_row_reference(items, batches, group_by, max_lot, min_lot) -> None:
    """The column-wise batch cutting gives the same lots (members in order, costs to the last
    bit) and the same split warnings as the plain row-by-row code it replaced."""
    if min_lot and max_lot and min_lot > max_lot:
        min_lot = None
    df = pd.DataFrame(
        {
            "id": [f"H{i:03d}" for i in range(len(items))],
            "tier": [t for t, *_ in items],
            "score": [s for _, s, *_ in items],
            "cost": [c for _, _, c, *_ in items],
            "route_code": [r for *_, r, _, _ in items],
            "township": [w for *_, w, _ in items],
            "chainage_m": [np.nan if ch is None else ch for *_, ch in items],
        }
    ).iloc[::-1]  # labels out of order, as a selection of a larger frame may be
    lots, warnings = make_batches(
        df, batches=batches, group_by=group_by, min_lot=min_lot, max_lot=max_lot
    )
    want, split = _reference_batches(
        df, batches=batches, group_by=group_by, min_lot=min_lot, max_lot=max_lot
    )
    assert [(lot.positions, lot.cost) for lot in lots] == want
    assert [w.split(" costs")[0] for w in warnings if "split into" in w] == [
        w.split(" split")[0] for w in split
    ]
