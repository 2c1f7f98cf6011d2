"""Before/after evaluation of finished work (the ``evaluation`` step): did crashes go down where
hazards were treated?

Treated sites are the verified hazards (of a plan or a batch) with the day the work was
reported finished; a site's crashes are the attached crashes on the same route part within
``site_m`` of chainage of the hazard: of its point, or of its whole run for a linear hazard
(from_m to to_m, e.g. a guardrail run). Around each completion day, a before period of
``before_years`` and an after period of ``after_years`` (the day itself in neither). Two
estimates of the crash modification factor (CMF, θ; below 1 fewer crashes), each with its
standard error and 95 % confidence interval (Hauer, *Observational Before-After Studies in
Road Safety*, 1997; formulas in docs/crashes.md): the naive before/after, and the
comparison-group method, whose comparison group is the crashes of untreated road of the same
road class over the same calendar periods. :func:`count_sites` and :func:`before_after` are
pure; :func:`evaluate` reads the database.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hazards.errors import InputError
from hazards.vocabulary import DONE_STATUSES

if TYPE_CHECKING:
    from sqlalchemy import Engine

SITE_M = 250.0
"""A treated site's crashes: those within this chainage distance (m) of the hazard (of its
point, or of either end of a linear hazard's run)."""
Z95 = 1.959964


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole ``years`` (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def cmf(*, after: float, predicted: float, var_predicted: float) -> dict[str, Any]:
    """Hauer's estimate of θ from the crashes after treatment λ = ``after`` (Poisson, Var λ = λ)
    and the crashes π predicted without treatment (``predicted``, its variance
    ``var_predicted``): θ = (λ/π) / (1 + Var π/π²), Var θ = θ²(1/λ + Var π/π²)/(1 + Var π/π²)²,
    95 % interval θ ± 1.96·√Var θ (its low end not below 0)."""
    out: dict[str, Any] = {"after": after, "predicted": round(predicted, 3)}
    if predicted <= 0:
        return {**out, "cmf": None, "se": None, "ci_low": None, "ci_high": None,
                "reduction_pct": None}  # fmt: skip
    rel = var_predicted / predicted**2
    theta = (after / predicted) / (1 + rel)
    # θ²/λ written as λ/π²/(1 + Var π/π²)², defined when λ = 0
    var = (after / predicted**2 / (1 + rel) ** 2 + theta**2 * rel) / (1 + rel) ** 2
    se = math.sqrt(var)
    return {
        **out,
        "cmf": round(theta, 4),
        "se": round(se, 4),
        "ci_low": round(max(0.0, theta - Z95 * se), 4),
        "ci_high": round(theta + Z95 * se, 4),
        "reduction_pct": round(100 * (1 - theta), 1),
    }


def before_after(sites: pd.DataFrame, *, duration_ratio: float = 1.0) -> dict[str, Any]:
    """Both estimates for a set of sites. ``sites``: ``road_class``, ``done_on``, ``before``
    (K), ``after`` (L), ``comparison_before`` (M) and ``comparison_after`` (N), the last two
    the comparison group's crashes in the site's own periods; ``duration_ratio`` = after
    years / before years.

    Naive: π = r_d·ΣK, Var π = r_d²·ΣK. Comparison group: the sites sharing a road class and a
    completion day share their periods and their comparison counts, so they form one group g
    with r_g = (N_g/M_g)/(1 + 1/M_g) (Hauer's bias-corrected comparison ratio), π_g = r_g·K_g,
    π = Σπ_g and Var π = Σ r_g²·K_g + (Σ π_g·√(1/M_g + 1/N_g))² (the groups' comparison ratios
    share crashes, so their errors are added as if fully correlated: an upper bound). Groups
    with M_g = 0 or N_g = 0 have no comparison ratio and are left out of that estimate.
    """
    k_total = float(sites["before"].sum())
    naive = cmf(
        after=float(sites["after"].sum()),
        predicted=duration_ratio * k_total,
        var_predicted=duration_ratio**2 * k_total,
    )
    groups = sites.groupby(["road_class", "done_on"], sort=True, dropna=False).agg(
        n=("before", "size"),
        K=("before", "sum"),
        L=("after", "sum"),
        M=("comparison_before", "first"),
        N=("comparison_after", "first"),
    )
    usable = groups[(groups["M"] > 0) & (groups["N"] > 0)]
    comparison: dict[str, Any] | None = None
    if len(usable):
        m, n = usable["M"].to_numpy(float), usable["N"].to_numpy(float)
        k = usable["K"].to_numpy(float)
        r = (n / m) / (1 + 1 / m)
        pi = r * k
        var = float((r**2 * k).sum()) + float((pi * np.sqrt(1 / m + 1 / n)).sum()) ** 2
        comparison = cmf(after=float(usable["L"].sum()), predicted=float(pi.sum()),
                         var_predicted=var)  # fmt: skip
        comparison.update(
            sites=int(usable["n"].sum()),
            before=float(k.sum()),
            comparison_before=float(m.sum()),
            comparison_after=float(n.sum()),
        )
    return {
        "sites": int(len(sites)),
        "before": k_total,
        "after": float(sites["after"].sum()),
        "naive": naive,
        "comparison": comparison,
    }


def site_windows(places: pd.DataFrame, *, site_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Each place's chainage window ``(low, high)``: [from_m − site_m, to_m + site_m] for a
    linear hazard (``from_m``/``to_m`` given), [chainage_m − site_m, chainage_m + site_m] for a
    point."""
    point = places["chainage_m"].to_numpy(float)
    start = places["from_m"].to_numpy(float) if "from_m" in places else np.full(len(point), np.nan)
    stop = places["to_m"].to_numpy(float) if "to_m" in places else np.full(len(point), np.nan)
    linear = np.isfinite(start) & np.isfinite(stop)
    low = np.where(linear, np.minimum(start, stop), point) - site_m
    high = np.where(linear, np.maximum(start, stop), point) + site_m
    return low, high


def count_sites(
    sites: pd.DataFrame,
    crashes: pd.DataFrame,
    treated: pd.DataFrame,
    *,
    before_years: int,
    after_years: int,
    site_m: float = SITE_M,
) -> pd.DataFrame:
    """``sites`` (route_code, part, chainage_m, road_class, done_on; ``from_m``/``to_m`` for
    a linear hazard) with ``before``, ``after``, ``comparison_before``, ``comparison_after``,
    ``before_from``, ``after_to``.

    ``crashes``: route_code, part, chainage_m, occurred_on, road_class. A site's crashes lie
    on its route part in its window (:func:`site_windows`: within ``site_m`` of its chainage,
    or of its run from_m–to_m for a linear hazard); before is [done − before_years, done),
    after (done, done + after_years]. The comparison group: crashes of the same road class
    outside the window of every place in ``treated`` (all the finished hazards: route_code,
    part, chainage_m, from_m, to_m), in the site's periods.
    """
    c = crashes.dropna(subset=["route_code", "chainage_m", "occurred_on"]).copy()
    c["part"] = c["part"].fillna(0).astype(int)
    c["day"] = pd.to_datetime(c["occurred_on"]).dt.date
    c["near_treated"] = False
    t = treated.dropna(subset=["route_code", "chainage_m"])
    for (code, part), g in t.groupby(["route_code", t["part"].fillna(0).astype(int)]):
        low, high = site_windows(g, site_m=site_m)
        order = np.argsort(low, kind="stable")
        low, reach = low[order], np.maximum.accumulate(high[order])
        sel = (c["route_code"] == code) & (c["part"] == part)
        at = c.loc[sel, "chainage_m"].to_numpy(float)
        j = np.searchsorted(low, at, "right") - 1  # the last window starting at or before
        c.loc[sel, "near_treated"] = (j >= 0) & (reach[np.maximum(j, 0)] >= at)
    pool = c[~c["near_treated"]]
    days = c["day"].to_numpy(object)
    out = sites.copy()
    before, after, m_, n_, b_from, a_to = [], [], [], [], [], []
    cache: dict[tuple[Any, dt.date], tuple[int, int]] = {}
    win_low, win_high = site_windows(out, site_m=site_m)
    at = c["chainage_m"].to_numpy(float)
    for i, s in enumerate(out.itertuples(index=False)):
        done = s.done_on
        lo, hi = add_years(done, -before_years), add_years(done, after_years)
        near = (
            (c["route_code"] == s.route_code).to_numpy()
            & (c["part"] == int(s.part)).to_numpy()
            & (at >= win_low[i])
            & (at <= win_high[i])
        )
        before.append(int(sum(lo <= d < done for d in days[near])))
        after.append(int(sum(done < d <= hi for d in days[near])))
        key = (s.road_class, done)
        if key not in cache:
            same = pool[pool["road_class"] == s.road_class]["day"]
            cache[key] = (
                int(((same >= lo) & (same < done)).sum()),
                int(((same > done) & (same <= hi)).sum()),
            )
        m_.append(cache[key][0])
        n_.append(cache[key][1])
        b_from.append(lo)
        a_to.append(hi)
    out["before"], out["after"] = before, after
    out["comparison_before"], out["comparison_after"] = m_, n_
    out["before_from"], out["after_to"] = b_from, a_to
    return out


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def evaluate(
    *,
    plan: str | None = None,
    batch: str | None = None,
    before_years: int = 3,
    after_years: int = 3,
    site_m: float = SITE_M,
    records_to: dt.date | None = None,
    today: dt.date | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Before/after evaluation of the verified hazards of ``plan`` or ``batch`` (all of them
    when neither is given): ``overall`` and ``categories`` (per countermeasure type, the
    hazard's category), each with ``naive`` and ``comparison`` (``cmf``, ``se``, ``ci_low``,
    ``ci_high``, ``reduction_pct``, ``after``, ``predicted``), and ``sites`` (each treated
    hazard's counts). Sites whose after period ends after the newest crash (or today) are left
    out and listed in ``excluded``; when that leaves none, an :class:`InputError` says so.
    ``records_to`` is the last day the crash records cover (a police export's period end),
    when it is later than the newest crash in them; never later than today.
    """
    from hazards.db import store
    from hazards.db.session import get_engine

    if plan is not None and batch is not None:
        raise InputError("Evaluate a plan or a batch, not both.", param="batch")
    for name, value in (("before_years", before_years), ("after_years", after_years)):
        if not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be a whole number of years, 1 or more.", param=name)
    if not site_m > 0:
        raise InputError(f"site_m must be above 0 m, not {site_m}.", param="site_m")
    engine = engine or get_engine()
    today = today or dt.date.today()
    what = f"plan {plan}" if plan else f"batch {batch}" if batch else "the inventory"
    sites = store.treated_sites(engine, plan=plan, batch=batch)
    if sites.empty:
        raise InputError(
            f"No treated hazards in {what}: a before/after evaluation needs hazards that are "
            "verified, with the day their work was reported finished."
        )
    excluded = []
    for s in sites.itertuples(index=False):
        if pd.isna(s.done_on) or pd.isna(s.chainage_m) or s.route_code is None:
            why = "no completion date" if pd.isna(s.done_on) else "not placed on a route"
            excluded.append({"id": s.public_id, "reason": why})
    sites = sites.dropna(subset=["done_on", "chainage_m", "route_code"]).copy()
    newest = store.newest_crash(engine)
    if newest is None:
        raise InputError("No crashes are stored: import the crash records first.")
    data_end = min(max(newest, records_to or newest), today)
    sites["after_end"] = [add_years(d, after_years) for d in sites["done_on"]]
    late = sites["after_end"] > data_end
    for s in sites[late].itertuples(index=False):
        excluded.append(
            {
                "id": s.public_id,
                "reason": f"after period ends {s.after_end}, after the data end {data_end}",
            }
        )
    if late.all():
        first = min(sites["done_on"]) if len(sites) else None
        # the most whole years after the earliest completion that end by the data's end:
        # from one above the days' estimate down (730 days are 2 years, not 1.998)
        fit = 0 if first is None else max(0, (data_end - first).days * 4 // 1461 + 1)
        while first is not None and fit > 0 and add_years(first, fit) > data_end:
            fit -= 1
        end = min(sites["after_end"]) if len(sites) else None
        years = f"{after_years} year{'s' if after_years != 1 else ''}"
        hint = [f"evaluate with at most {fit} after year{'s' if fit != 1 else ''}"] if fit else []
        if first is not None and data_end <= first:  # no after period at all yet
            hint.append(
                f"the crash records end ({data_end}) before the work was finished ({first}): "
                "there is no after period to compare yet"
            )
        if end is not None and (records_to is None or records_to < end):
            hint.append(
                f"if the crash records cover the days up to {end} (their export's period end) "
                "but simply hold no crash on the last days, say so with --records-to "
                "(records_to in Python)"
            )
        hint.append("or import crash records of the later days")
        raise InputError(
            f"The after period is too short in {what}: {years} after the earliest completion "
            f"({first}) ends on {end}, after the crash records' end ({data_end}, the newest crash"
            f"{'' if records_to is None else ' or --records-to'}). " + _sentence("; ".join(hint)),
            param="after_years",
        )
    sites = sites[~late]
    crashes = store.crash_frame(engine)
    classes = store.route_ends(engine).drop_duplicates("route_code")
    crashes = crashes.merge(classes[["route_code", "road_class"]], on="route_code", how="left")
    treated = store.hazard_places(engine, statuses=DONE_STATUSES)
    counted = count_sites(
        sites,
        crashes,
        treated,
        before_years=before_years,
        after_years=after_years,
        site_m=site_m,
    )
    ratio = after_years / before_years
    warnings = []
    oldest = pd.to_datetime(crashes["occurred_on"]).min() if len(crashes) else None
    if oldest is not None and counted["before_from"].min() < oldest.date():
        warnings.append(
            f"The crash records start on {oldest.date()}, after the first before period begins "
            f"({counted['before_from'].min()}): before counts there may be short."
        )
    categories = [
        {"category": str(cat), **before_after(g, duration_ratio=ratio)}
        for cat, g in counted.groupby(counted["category"].fillna("other"), sort=True)
    ]
    rows = [
        {
            "id": r.public_id,
            "category": r.category,
            "route": r.route_code,
            "chainage_m": round(float(r.chainage_m), 1),
            **(
                {"from_m": round(float(r.from_m), 1), "to_m": round(float(r.to_m), 1)}
                if pd.notna(getattr(r, "from_m", None)) and pd.notna(getattr(r, "to_m", None))
                else {}
            ),
            "road_class": r.road_class,
            "done_on": r.done_on.isoformat(),
            "before_from": r.before_from.isoformat(),
            "after_to": r.after_to.isoformat(),
            "before": int(r.before),
            "after": int(r.after),
            "comparison_before": int(r.comparison_before),
            "comparison_after": int(r.comparison_after),
        }
        for r in counted.itertuples(index=False)
    ]
    return {
        "plan": plan,
        "batch": batch,
        "before_years": before_years,
        "after_years": after_years,
        "site_m": site_m,
        "newest_crash": newest.isoformat(),
        "records_to": data_end.isoformat(),
        "treated": len(rows),
        "excluded": excluded,
        "warnings": warnings,
        "overall": before_after(counted, duration_ratio=ratio),
        "categories": categories,
        "sites": rows,
    }
