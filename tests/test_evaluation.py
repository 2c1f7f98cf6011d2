"""Before/after evaluation (issue 17, item 5) on a real PostGIS, with a synthetic county built in
the test: crashes drawn day by day from a seeded Poisson process with a known truth (treated
sites: 40 % fewer crashes after their work; everywhere: a 10 % rise from mid-2021; a township
road with its own, larger rise that must not enter the county roads' comparison group). The
counts are recounted with pandas and the CMFs recomputed from Hauer's formulas in the test."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString
from sqlalchemy import text

from hazards.cli import cli
from hazards.errors import InputError
from hazards.evaluation import add_years, before_after, cmf, evaluate

TRUE_CMF = 0.6  # 40 % fewer crashes at the treated sites
TREND = 1.1  # a 10 % general rise from TREND_FROM, at treated and untreated sites alike
TREND_FROM = dt.date(2021, 7, 1)
FIRST, LAST = dt.date(2018, 1, 1), dt.date(2026, 6, 30)
SITES = 30
COHORTS = (dt.date(2021, 7, 1), dt.date(2022, 1, 1))  # completion days, alternating
LATE = dt.date(2025, 6, 1)  # one more site, finished too recently to evaluate


def _in_english(args: list[str], **env: str):  # type: ignore[no-untyped-def]
    """``hazards ARGS`` with the lang setting en (the settings read again before and after)."""
    from hazards.settings import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, args, env={"HAZARDS_LANG": "en", **env})
    finally:
        get_settings.cache_clear()


def _chainage(m: int) -> str:
    return f"K{m // 1000}+{m % 1000:03d}"


def _site_m(i: int) -> int:
    return 500 + 600 * i


def _hauer(after: float, pi: float, var: float) -> tuple[float, float]:
    """Hauer (1997) written out again: θ and its standard error."""
    rel = var / pi**2
    theta = (after / pi) / (1 + rel)
    return theta, math.sqrt(theta**2 * (1 / after + rel) / (1 + rel) ** 2)


@pytest.fixture
def county(tmp_path: Path, engine) -> dict:
    """Four straight roads (three county roads of 20 km, a township road of 10 km), 31 treated
    hazards on T001 in plan P, and ~5,400 synthetic crashes."""
    from hazards.intake import import_survey
    from hazards.roads import load_roads

    roads = gpd.GeoDataFrame(
        {
            "路线编码": ["T001", "C001", "C002", "Y001"],
            "路线名称": ["治理线", "对照一", "对照二", "乡道"],
            "行政等级": ["县道", "县道", "县道", "乡道"],
        },
        geometry=[
            LineString([(500000, 3300000 + 10000 * k), (500000 + length, 3300000 + 10000 * k)])
            for k, length in enumerate([20000, 20000, 20000, 10000])
        ],
        crs="EPSG:4546",
    )
    roads.to_file(tmp_path / "roads.gpkg", engine="pyogrio")
    load_roads(tmp_path / "roads.gpkg", engine=engine)

    rows = [["序号", "路线编码", "桩号", "隐患类型", "风险等级"]]
    for i in range(SITES + 1):
        rows.append([i + 1, "T001", _chainage(_site_m(i)), "急弯" if i % 2 else "路面破损", "二级"])
    with (tmp_path / "s.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    assert import_survey(tmp_path / "s.csv", provider="p", surveyed_on="2018-01-01",
                         engine=engine)["accepted"] == SITES + 1  # fmt: skip
    runner = CliRunner()
    assert runner.invoke(cli, ["plan", "create", "--name", "P", "--budget", "1e9",
                               "--batches", "2"]).exit_code == 0  # fmt: skip
    assert runner.invoke(cli, ["plan", "commit", "P"]).exit_code == 0
    done = {}
    with engine.begin() as conn:  # the work's history, as tracking would have recorded it
        ids = conn.execute(text("SELECT id, public_id, chainage_m FROM hazards ORDER BY id")).all()
        for i, (hid, public, _) in enumerate(ids):
            day = LATE if i == SITES else COHORTS[i % 2]
            done[public] = day
            conn.execute(
                text(
                    "INSERT INTO hazard_events (hazard_id, kind, happened_on, from_status, "
                    "to_status) VALUES (:h, 'status', :d, 'planned', 'reported_done'), "
                    "(:h, 'status', :v, 'reported_done', 'verified')"
                ),
                {"h": hid, "d": day, "v": day + dt.timedelta(days=30)},
            )
        conn.execute(text("UPDATE hazards SET status = 'verified'"))
        batches = dict(
            conn.execute(
                text(
                    "SELECT h.public_id, b.name FROM batch_items bi JOIN batches b "
                    "ON b.id = bi.batch_id JOIN hazards h ON h.id = bi.hazard_id"
                )
            ).all()
        )

    rng = np.random.default_rng(17)
    days = pd.date_range(FIRST, LAST, freq="D").date
    trend = np.where(days >= TREND_FROM, TREND, 1.0)
    crashes = []  # (route, chainage m, day)
    for _, public, ch in ids:
        effect = np.where(days > done[public], TRUE_CMF, 1.0)
        for d, n in zip(days, rng.poisson(4.0 / 365.25 * trend * effect), strict=True):
            crashes += [("T001", int(ch) + int(rng.integers(-200, 201)), d) for _ in range(n)]
    for d, n in zip(days, rng.poisson(400 / 365.25 * trend), strict=True):
        for _ in range(n):
            crashes.append((str(rng.choice(["C001", "C002"])), int(rng.integers(100, 19900)), d))
    township = np.where(days >= TREND_FROM, 2.0, 1.0)  # another trend: not a county road
    for d, n in zip(days, rng.poisson(60 / 365.25 * township), strict=True):
        crashes += [("Y001", int(rng.integers(100, 9900)), d) for _ in range(n)]
    frame = pd.DataFrame(crashes, columns=["route", "m", "day"])
    with (tmp_path / "crashes.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["事故编号", "事故时间", "路线编码", "桩号"])
        for k, r in enumerate(frame.itertuples(index=False)):
            w.writerow([f"C{k:05d}", r.day.isoformat(), r.route, _chainage(r.m)])
    out = runner.invoke(
        cli, ["crashes", "import", str(tmp_path / "crashes.csv"), "--source", "交警", "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["stored"] == len(frame)
    sites = pd.DataFrame(
        [(p, float(ch), done[p], i % 2) for i, (_, p, ch) in enumerate(ids)],
        columns=["id", "m", "done", "curve"],
    )
    return {"crashes": frame, "sites": sites, "batches": batches, "engine": engine}


def _recount(county: dict, years: int = 3) -> pd.DataFrame:
    """Each evaluable site's K, L (crashes within 250 m) and its cohort's M, N (county-road
    crashes farther than 250 m from every treated site), recounted with pandas."""
    c, s = county["crashes"], county["sites"]
    end = c["day"].max()
    near = np.zeros(len(c), bool)
    for m in s["m"]:
        near |= (c["route"] == "T001").to_numpy() & (np.abs(c["m"] - m) <= 250).to_numpy()
    pool = c[~near & c["route"].isin(["T001", "C001", "C002"])]
    out = []
    for r in s.itertuples(index=False):
        lo, hi = add_years(r.done, -years), add_years(r.done, years)
        if hi > end:
            continue
        mine = c[(c["route"] == "T001") & ((c["m"] - r.m).abs() <= 250)]
        out.append(
            {
                "id": r.id,
                "curve": r.curve,
                "road_class": "county",
                "done_on": r.done,
                "before": int(((mine["day"] >= lo) & (mine["day"] < r.done)).sum()),
                "after": int(((mine["day"] > r.done) & (mine["day"] <= hi)).sum()),
                "comparison_before": int(((pool["day"] >= lo) & (pool["day"] < r.done)).sum()),
                "comparison_after": int(((pool["day"] > r.done) & (pool["day"] <= hi)).sum()),
            }
        )
    return pd.DataFrame(out)


def test_before_after_recovers_a_known_effect_within_its_interval(county: dict) -> None:
    out = CliRunner().invoke(cli, ["evaluate", "--plan", "P", "--json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    want = _recount(county)
    assert got["treated"] == SITES == len(want)
    late = county["sites"]["id"].iloc[-1]
    assert [e["id"] for e in got["excluded"]] == [late] and "after period" in got["excluded"][0][
        "reason"
    ]
    by_id = {r["id"]: r for r in got["sites"]}
    cols = ["before", "after", "comparison_before", "comparison_after"]
    for r in want.itertuples(index=False):
        assert tuple(by_id[r.id][c] for c in cols) == tuple(getattr(r, c) for c in cols), r.id

    # the estimates, from the formulas of docs/crashes.md written out again
    k, lam = want["before"].sum(), want["after"].sum()
    theta, se = _hauer(lam, k, k)
    naive = got["overall"]["naive"]
    assert naive["cmf"] == pytest.approx(theta, abs=1e-4) and naive["se"] == pytest.approx(
        se, abs=1e-4
    )
    pis, var_k, spread = [], 0.0, 0.0
    for _, g in want.groupby("done_on"):
        m, n = g["comparison_before"].iloc[0], g["comparison_after"].iloc[0]
        r = (n / m) / (1 + 1 / m)
        pis.append(r * g["before"].sum())
        var_k += r**2 * g["before"].sum()
        spread += pis[-1] * math.sqrt(1 / m + 1 / n)
    theta, se = _hauer(lam, sum(pis), var_k + spread**2)
    comp = got["overall"]["comparison"]
    assert comp["cmf"] == pytest.approx(theta, abs=1e-4) and comp["se"] == pytest.approx(
        se, abs=1e-4
    )
    assert comp["ci_low"] == pytest.approx(theta - 1.959964 * se, abs=1e-4)

    # the truth lies in the comparison-group interval, which is narrow enough to mean something
    assert comp["ci_low"] <= TRUE_CMF <= comp["ci_high"], comp
    assert comp["ci_high"] - comp["ci_low"] < 0.35
    assert comp["ci_high"] < 1  # a real reduction
    # the naive estimate also carries the 10 % rise: it is higher than the comparison one
    assert naive["cmf"] > comp["cmf"]

    cats = {c["category"]: c for c in got["categories"]}
    assert set(cats) == {"sharp_curve", "pavement_defect"}
    for cat, curve in (("sharp_curve", 1), ("pavement_defect", 0)):
        part = want[want["curve"] == curve]
        assert (cats[cat]["sites"], cats[cat]["before"], cats[cat]["after"]) == (
            len(part), part["before"].sum(), part["after"].sum())  # fmt: skip
        assert cats[cat]["comparison"]["cmf"] == pytest.approx(
            before_after(part, duration_ratio=1.0)["comparison"]["cmf"]
        )
    # the township road's larger rise is not in the county roads' comparison group
    assert all(r["road_class"] == "county" for r in got["sites"])

    wide = {"COLUMNS": "200"}
    table = CliRunner().invoke(cli, ["evaluate", "--plan", "P"], env=wide)
    assert table.exit_code == 0 and "对照组法" in table.output and "朴素前后对比" in table.output
    assert "合计" in table.output and "急弯" in table.output
    assert f"{comp['cmf']:.3f}" in table.output and "CMF" in table.output
    for word in ("comparison", "naive", "overall", "sharp_curve", "pavement_defect"):
        assert word not in table.output, (word, table.output)
    en = _in_english(["evaluate", "--plan", "P"], **wide)
    assert en.exit_code == 0 and "comparison" in en.output and "naive" in en.output
    assert "overall (合计)" in en.output and "sharp_curve" in en.output
    assert f"{comp['cmf']:.3f}" in en.output


def test_a_batch_an_unknown_plan_and_an_after_period_too_short(county: dict) -> None:
    engine = county["engine"]
    everything = evaluate(engine=engine)
    assert everything["overall"] == evaluate(plan="P", engine=engine)["overall"]
    batch = sorted(set(county["batches"].values()))[0]
    mine = evaluate(batch=batch, engine=engine)
    in_batch = {p for p, b in county["batches"].items() if b == batch}
    assert {s["id"] for s in mine["sites"]} == in_batch - {county["sites"]["id"].iloc[-1]}

    newest = county["crashes"]["day"].max()
    with pytest.raises(InputError, match="after period is too short") as err:
        evaluate(after_years=6, engine=engine)
    fit = max(y for y in range(1, 10) if add_years(COHORTS[0], y) <= newest)
    assert f"at most {fit} after years" in str(err.value) and "--records-to" in str(err.value)
    out = CliRunner().invoke(cli, ["evaluate", "--after-years", "6"])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "too short" in out.output and "--after-years" in out.output
    out = CliRunner().invoke(cli, ["evaluate", "--plan", "nope"])
    assert out.exit_code == 1 and "No plan named 'nope'" in out.output
    # unequal periods: the naive prediction scales by after/before years
    two = evaluate(before_years=4, after_years=2, engine=engine)
    k = sum(s["before"] for s in two["sites"])
    assert two["overall"]["naive"]["predicted"] == pytest.approx(k / 2, abs=1e-3)
    assert any("start on 2018-01-01" in w for w in two["warnings"])  # before from 2017-07-01
    # records up to exactly two years after the first completion (730 days): two after years
    # fit (before: "at most 1", the days' estimate rounded down)
    from sqlalchemy import text

    two_years = add_years(COHORTS[0], 2)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM crashes WHERE occurred_on > :d"), {"d": two_years})
    with pytest.raises(InputError, match="at most 2 after years"):
        evaluate(after_years=3, records_to=two_years, engine=engine)
    # crash records that end before the work was finished: no after period at all (before:
    # "evaluate with at most -1 after years")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM crashes WHERE occurred_on >= :d"), {"d": COHORTS[0]})
    with pytest.raises(InputError, match="after period is too short") as early:
        evaluate(after_years=1, engine=engine)
    assert "-1" not in str(early.value) and "at most" not in str(early.value)
    assert f"before the work was finished ({COHORTS[0]})" in str(early.value)


def test_cmf_formulas_by_hand() -> None:
    # 100 crashes before, 50 after, equal periods: θ = 0.5/(1 + 1/100) = 0.49505;
    # Var θ = θ²(1/50 + 1/100)/(1 + 1/100)² → se = 0.08490
    got = cmf(after=50, predicted=100, var_predicted=100)
    assert got["cmf"] == pytest.approx(0.5 / 1.01, abs=1e-4)
    assert got["se"] == pytest.approx(math.sqrt((0.5 / 1.01) ** 2 * 0.03) / 1.01, abs=1e-4)
    assert got["reduction_pct"] == pytest.approx(50.5, abs=0.1)
    assert cmf(after=3, predicted=0, var_predicted=0)["cmf"] is None
    zero = cmf(after=0, predicted=10, var_predicted=10)
    assert zero["cmf"] == 0 and zero["se"] == 0 and zero["ci_low"] == 0
    sites = pd.DataFrame(
        {
            "road_class": ["county"] * 2,
            "done_on": [dt.date(2020, 1, 1)] * 2,
            "before": [6, 4],
            "after": [3, 2],
            "comparison_before": [100, 100],
            "comparison_after": [120, 120],
        }
    )
    out = before_after(sites)
    r = (120 / 100) / (1 + 1 / 100)
    theta, se = _hauer(5, r * 10, (r * 10) ** 2 * (1 / 10 + 1 / 100 + 1 / 120))
    assert out["comparison"]["cmf"] == pytest.approx(theta, abs=1e-4)
    assert out["comparison"]["se"] == pytest.approx(se, abs=1e-4)


def test_a_linear_hazard_counts_crashes_along_its_whole_run() -> None:
    """A guardrail run K1+000–K2+000 counts the crashes from 750 m to 2,250 m (its run and the
    250 m margin), not only those within 250 m of its point; its run also keeps those crashes
    out of the comparison group."""
    from hazards.evaluation import count_sites, site_windows

    done = dt.date(2022, 1, 1)
    sites = pd.DataFrame(
        {
            "route_code": ["T001", "T001"],
            "part": [0, 0],
            "chainage_m": [1000.0, 5000.0],
            "from_m": [1000.0, np.nan],  # linear; a point hazard
            "to_m": [2000.0, np.nan],
            "road_class": ["county", "county"],
            "done_on": [done, done],
        }
    )
    low, high = site_windows(sites, site_m=250)
    assert low.tolist() == [750.0, 4750.0] and high.tolist() == [2250.0, 5250.0]
    before, after = dt.date(2021, 6, 1), dt.date(2022, 6, 1)
    # (route, chainage, day): by hand, the run's window [750, 2250] holds 740? no, 760 yes,
    # 1500 yes, 2240 yes, 2260 no; the point's window [4750, 5250] holds 5100
    rows = [
        ("T001", 740, before),
        ("T001", 760, before),
        ("T001", 1500, before),
        ("T001", 1500, after),
        ("T001", 2240, after),
        ("T001", 2260, after),
        ("T001", 5100, before),
        ("C001", 1500, before),  # another route: comparison group
    ]
    crashes = pd.DataFrame(rows, columns=["route_code", "chainage_m", "occurred_on"])
    crashes["part"] = 0
    crashes["road_class"] = "county"
    counted = count_sites(sites, crashes, sites, before_years=1, after_years=1, site_m=250)
    assert counted[["before", "after"]].values.tolist() == [[2, 2], [1, 0]]
    # comparison: outside every window — 740 (before), 2260 (after), C001 1500 (before)
    assert counted["comparison_before"].tolist() == [2, 2]
    assert counted["comparison_after"].tolist() == [1, 1]
    # the old rule (the point ± 250 m) would have counted only 760 m for the linear hazard
    point_only = count_sites(
        sites.drop(columns=["from_m", "to_m"]), crashes, sites, before_years=1, after_years=1
    )
    assert point_only[["before", "after"]].values.tolist()[0] == [1, 0]


def test_evaluate_reads_a_linear_hazard_s_run(county: dict) -> None:
    """The stored run of a treated hazard (hazards.from_m/to_m) is its window in
    ``evaluate``: its counts equal a pandas recount over [from − 250, to + 250]."""
    engine = county["engine"]
    first = county["sites"].iloc[0]
    start, stop = first["m"] - 100, first["m"] + 400
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE hazards SET from_m = :a, to_m = :b WHERE public_id = :p"),
            {"a": start, "b": stop, "p": first["id"]},
        )
    got = {s["id"]: s for s in evaluate(plan="P", engine=engine)["sites"]}[first["id"]]
    assert (got["from_m"], got["to_m"]) == (round(start, 1), round(stop, 1))
    c = county["crashes"]
    mine = c[(c["route"] == "T001") & (c["m"] >= start - 250) & (c["m"] <= stop + 250)]
    lo, hi = add_years(first["done"], -3), add_years(first["done"], 3)
    assert got["before"] == int(((mine["day"] >= lo) & (mine["day"] < first["done"])).sum())
    assert got["after"] == int(((mine["day"] > first["done"]) & (mine["day"] <= hi)).sum())
    point = c[(c["route"] == "T001") & ((c["m"] - first["m"]).abs() <= 250)]
    assert got["before"] > int(((point["day"] >= lo) & (point["day"] < first["done"])).sum())
