"""Network screening for black spots (事故多发点段; the ``screening`` step): crashes counted per
site and ranked.

Sites (``unit``): the 100 m cells of each route (the same cells as route risk), sliding
windows along each route, the junction
nodes (:mod:`hazards.junctions`), or whole routes per km. Measures: the crash count, KSI (fatal + serious, KABCO K and A) and EPDO
(:data:`hazards.crashes.EPDO_WEIGHTS`; a crash of unknown severity weighs as property damage
only), and the Empirical Bayes excess (:func:`eb_estimates`; with the road segments' AADT, a
safety performance function fitted per road class, :func:`fit_spf`). :func:`screen_sites` is
pure (frames in, sites out); :func:`screen` reads the crashes stored by :mod:`hazards.crashes`.
Formulas in docs/crashes.md.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hazards.chainage import format_chainage
from hazards.crashes import EPDO_WEIGHTS
from hazards.crs import to_crs
from hazards.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

UNITS = ("cell", "window", "junction", "route")
WINDOW_M = 500.0
STEP_M = 100.0
MEASURES = ("count", "ksi", "epdo", "eb-excess")
CELL_M = 100.0


def _weights(severity: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(KSI 0/1, EPDO weight) of each crash."""
    ksi = severity.isin(["K", "A"]).to_numpy(dtype=int)
    epdo = severity.map(EPDO_WEIGHTS).fillna(EPDO_WEIGHTS["O"]).to_numpy(dtype=float)
    return ksi, epdo


def route_ends(ends: pd.DataFrame) -> dict[tuple[str, int], float]:
    """(route code, part) → the part's end chainage, from ``ends`` (route_code, part, end_m)."""
    return {(str(r.route_code), int(r.part)): float(r.end_m) for r in ends.itertuples(index=False)}


def holds(at: Any, from_m: float, to_m: float, end_m: float) -> Any:
    """Whether chainages ``at`` (a number or an array) lie on the stretch [from_m, to_m) of a
    route part ending at ``end_m``: its end is another stretch's start, except at the part's
    end, which the stretch holds. The windows' rule (:func:`screen_sites` counts them by
    bisection, the same way) for the black-spot stretches merged from them and the hazards they
    lift (a crash at exactly K3+000 is in the window that starts there)."""
    return (at >= from_m) & ((at < to_m) | ((to_m >= end_m) & (at <= to_m)))


def screen_sites(
    crashes: pd.DataFrame,
    ends: pd.DataFrame,
    *,
    unit: str = "cell",
    measure: str = "count",
    cell_m: float = CELL_M,
    window_m: float = WINDOW_M,
    step_m: float = STEP_M,
    nodes: dict[str, dict[str, float]] | None = None,
    volumes: pd.DataFrame | None = None,
    years: float = 1.0,
    populations: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Sites ranked by ``measure``, worst first. ``crashes``: route_code, part, chainage_m,
    severity of attached crashes; ``ends``: route_code, part, end_m of every route part.

    Cells: only cells with a crash are listed; a cell is [k·cell_m, (k+1)·cell_m) of one part
    of a route (the last one ends at the route's end). Windows: [s, s + window_m) for s = 0,
    step_m, 2·step_m, … along each route part, the last one ending at the part's end (a crash
    counts in every window holding it); only windows with a crash are listed. Junctions: the nodes with a junction
    crash (``crashes`` has junction, junction_lon, junction_lat), each with ``lon``/``lat``
    and ``routes`` (route → the node's chainage, from ``nodes`` when the node is still
    there); ``route`` and ``from_m`` = ``to_m`` give the first of them. Routes: every route,
    its value per km.

    ``eb-excess``: ``volumes`` (route_code, part, from_m, to_m, aadt of the segments with an
    AADT) make the prediction a safety performance function of each site's AADT
    (:func:`site_aadt`, :func:`eb_estimates`); ``years`` is the period's length Y; the
    reference populations are appended to ``populations`` when it is given.
    """
    if unit not in UNITS:
        raise InputError(f"Unknown unit {unit!r}; units are: {', '.join(UNITS)}.", param="unit")
    if measure not in MEASURES:
        raise InputError(
            f"Unknown measure {measure!r}; measures are: {', '.join(MEASURES)}.", param="measure"
        )
    if measure == "eb-excess" and unit == "junction":
        raise InputError(
            "The Empirical Bayes excess needs sites with a length (cells, windows, routes), not "
            "junctions; screen junctions by count, ksi or epdo.",
            param="measure",
        )
    c = crashes.dropna(subset=["route_code", "chainage_m"]).copy()
    c["part"] = c["part"].fillna(0).astype(int)
    ksi, epdo = _weights(c["severity"])
    c["ksi"], c["epdo"], c["n"] = ksi, epdo, 1
    end_of = route_ends(ends)
    sites: list[dict[str, Any]] = []
    if unit == "cell":
        c["cell"] = (c["chainage_m"] // cell_m).astype(int)
        for (code, part, k), g in c.groupby(["route_code", "part", "cell"], sort=True):
            end = end_of.get((str(code), int(part)), math.inf)
            k = min(int(k), max(0, math.ceil(end / cell_m) - 1))  # a crash at the very end
            sites.append(
                _site(
                    f"{code}/{part}/{k}",
                    str(code),
                    int(part),
                    k * cell_m,
                    min((k + 1) * cell_m, end),
                    g,
                    measure,
                    per_km=False,
                )
            )
        merged: dict[str, dict[str, Any]] = {}
        for s in sites:  # the clipped crashes join their cell
            if s["id"] in merged:
                for key in ("crashes", "ksi", "epdo", "value"):
                    merged[s["id"]][key] += s[key]
            else:
                merged[s["id"]] = s
        sites = list(merged.values())
    elif unit == "window":
        if window_m <= 0 or step_m <= 0:
            raise InputError("The window and its step must be longer than 0 m.", param="window_m")
        for (code, part), g in c.groupby(["route_code", "part"], sort=True):
            g = g.sort_values("chainage_m", kind="stable")
            ch = g["chainage_m"].to_numpy(dtype=float)
            end = end_of.get((str(code), int(part)), float(ch.max()))
            cum = {
                k: np.concatenate([[0.0], np.cumsum(g[k].to_numpy(dtype=float))])
                for k in ("n", "ksi", "epdo")
            }
            for start, stop in _windows(end, window_m, step_m):
                lo = int(np.searchsorted(ch, start, "left"))
                hi = int(np.searchsorted(ch, stop, "right" if stop >= end else "left"))
                if hi > lo:
                    t = {k: v[hi] - v[lo] for k, v in cum.items()}
                    sid = f"{code}/{part}/{start:.0f}"
                    sites.append(_site_of(sid, str(code), int(part), start, stop, t, measure))
    elif unit == "junction":
        for key, g in c.dropna(subset=["junction"]).groupby("junction", sort=True):
            routes = (nodes or {}).get(str(key)) or {
                str(r): float(m) for r, m in zip(g["route_code"], g["chainage_m"], strict=True)
            }
            first = min(routes)
            site = _site(str(key), first, 0, routes[first], routes[first], g, measure, per_km=False)
            site.update(
                lon=float(g["junction_lon"].iloc[0]),
                lat=float(g["junction_lat"].iloc[0]),
                routes={r: round(m, 1) for r, m in sorted(routes.items())},
            )
            sites.append(site)
    else:
        length: dict[str, float] = {}
        for (code, _), end in end_of.items():
            length[code] = length.get(code, 0.0) + end
        for code in sorted(set(length) | set(c["route_code"].astype(str))):
            g = c[c["route_code"].astype(str) == code]
            sites.append(_site(code, code, 0, 0.0, length.get(code, 0.0), g, measure, per_km=True))
    if measure == "eb-excess":
        groups = _eb_values(
            sites,
            end_of,
            ends,
            unit=unit,
            cell_m=cell_m,
            window=(window_m, step_m),
            volumes=volumes,
            years=years,
        )
        if populations is not None:
            populations.extend(groups)
    sites.sort(key=lambda s: (-s["value"], -s["crashes"], s["id"]))
    for rank, s in enumerate(sites, start=1):
        s["rank"] = rank
    return sites


def _windows(end: float, window_m: float, step_m: float) -> list[tuple[float, float]]:
    """The sliding windows (start, stop) of a route part ending at ``end``."""
    starts = list(np.arange(0.0, max(end - window_m, 0.0) + 1e-9, step_m))
    if starts[-1] + window_m < end:
        starts.append(end - window_m)
    return [(float(a), float(min(a + window_m, end))) for a in starts]


def _site_of(
    sid: str, code: str, part: int, from_m: float, to_m: float, t: dict[str, Any], measure: str
) -> dict[str, Any]:
    """A window site from its totals ``n``, ``ksi``, ``epdo``."""
    crashes, ksi, epdo = int(t["n"]), int(t["ksi"]), float(t["epdo"])
    value = {"count": crashes, "ksi": ksi, "epdo": epdo}.get(measure, 0.0)
    return {
        "id": sid,
        "route": code,
        "part": part,
        "from_m": round(from_m, 1),
        "to_m": round(to_m, 1),
        "from": format_chainage(from_m),
        "to": format_chainage(to_m),
        "crashes": crashes,
        "ksi": ksi,
        "epdo": epdo,
        "value": float(value),
    }


def _site(
    sid: str,
    code: str,
    part: int,
    from_m: float,
    to_m: float,
    g: pd.DataFrame,
    measure: str,
    *,
    per_km: bool,
) -> dict[str, Any]:
    totals = {
        "count": int(g["n"].sum()),
        "ksi": int(g["ksi"].sum()),
        "epdo": float(g["epdo"].sum()),
    }
    value = float(totals.get(measure, 0))  # eb-excess: set by _eb_values
    if per_km:
        km = (to_m - from_m) / 1000
        value = round(value / km, 3) if km > 0 else 0.0
    return {
        "id": sid,
        "route": code,
        "part": part,
        "from_m": round(from_m, 1),
        "to_m": round(to_m, 1),
        "from": format_chainage(from_m),
        "to": format_chainage(to_m),
        "crashes": totals["count"],
        "ksi": totals["ksi"],
        "epdo": totals["epdo"],
        "value": value,
    }


def fit_spf(
    observed: np.ndarray, exposure: np.ndarray, aadt: np.ndarray
) -> tuple[float, float, bool]:
    """The safety performance function μ = exposure · exp(β0) · AADT^β1 of one reference
    population (``exposure`` = length km × years), fitted by Poisson maximum likelihood
    (Newton-Raphson on log μ = log exposure + β0 + β1·ln AADT, with step halving): ``(β0, β1,
    converged)``. One AADT value (no spread) gives β1 = 0 and β0 = ln(ΣN / Σ exposure); no
    crash at all gives β0 = −∞ (μ = 0). When the likelihood has no maximum (all the crashes at
    the sites of the highest or lowest AADT) or Newton fails, ``converged`` is False and β1 = 0.
    """
    n = np.asarray(observed, dtype=float)
    e = np.asarray(exposure, dtype=float)
    x = np.log(np.asarray(aadt, dtype=float))
    total, flat = float(n.sum()), float(e.sum())
    if total <= 0 or flat <= 0:
        return -math.inf, 0.0, True
    rate = math.log(total / flat)
    if np.ptp(x) < 1e-9:
        return rate, 0.0, True
    xc = x - x.mean()  # centred: β0 of the centred fit, moved back at the end
    design = np.column_stack([np.ones_like(xc), xc])
    beta = np.array([rate, 0.0])

    def loglik(b: np.ndarray) -> float:
        eta = np.log(e) + design @ b
        return float((n * eta - np.exp(eta)).sum())

    current = loglik(beta)
    for _ in range(100):
        mu = e * np.exp(design @ beta)
        grad = design.T @ (n - mu)
        hess = (design * mu[:, None]).T @ design
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return rate, 0.0, False
        for _ in range(30):  # step halving: the likelihood never goes down
            trial = beta + step
            value = loglik(trial)
            if value >= current - 1e-12:
                break
            step = step / 2
        beta, current = trial, value
        if abs(beta[1]) > 50:
            return rate, 0.0, False
        if np.abs(step).max() < 1e-10:
            return float(beta[0] - beta[1] * x.mean()), float(beta[1]), True
    return rate, 0.0, False


def eb_estimates(
    observed: np.ndarray,
    length: np.ndarray,
    classes: np.ndarray,
    *,
    aadt: np.ndarray | None = None,
    years: float = 1.0,
) -> dict[str, Any]:
    """Empirical Bayes per site (docs/crashes.md). The reference populations are the road
    classes, and within a class the sites with an AADT apart from those without. Predicted
    crashes: without AADT, μᵢ = Lᵢ·Y · ΣN / Σ(L·Y) (the class's crashes per km-year); with
    AADT, the safety performance function μᵢ = Lᵢ·Y·exp(β0)·AADTᵢ^β1 fitted on the population
    (:func:`fit_spf`). Then, per population, the overdispersion by the method of moments
    k = max(0, Σ[(Nᵢ − μᵢ)² − Nᵢ] / Σμᵢ²), the weight wᵢ = 1 / (1 + k·μᵢ), the expected
    crashes Eᵢ = wᵢ·μᵢ + (1 − wᵢ)·Nᵢ and the excess Eᵢ − μᵢ. ``length`` in km, ``years`` Y
    the period's length. Returns arrays ``predicted``, ``k``, ``weight``, ``expected``,
    ``excess`` (per site), ``aadt`` (the AADT used, NaN without) and ``groups``: per
    population ``road_class``, ``aadt`` (bool), ``sites``, ``crashes``, ``km``, ``b0``, ``b1``
    (None without AADT, or when the fit did not converge: then per km-year), ``k``."""
    obs = np.asarray(observed, dtype=float)
    length = np.asarray(length, dtype=float)
    classes = np.asarray(classes, dtype=object)
    volume = np.full(len(obs), np.nan) if aadt is None else np.asarray(aadt, dtype=float)
    has = np.isfinite(volume) & (volume > 0)
    exposure = length * years
    mu, k = np.zeros(len(obs)), np.zeros(len(obs))
    groups: list[dict[str, Any]] = []
    for cls in sorted({str(c) for c in classes}):
        for with_aadt in (False, True):
            sel = (classes == cls) & (has == with_aadt)
            if not sel.any():
                continue
            b0: float | None = None
            b1: float | None = None
            if with_aadt:
                f0, f1, ok = fit_spf(obs[sel], exposure[sel], volume[sel])
                if ok:
                    b0, b1 = f0, f1
                    mu[sel] = exposure[sel] * math.exp(f0) * volume[sel] ** f1
            if b1 is None:
                total = exposure[sel].sum()
                mu[sel] = exposure[sel] * obs[sel].sum() / total if total > 0 else 0.0
            denom = float((mu[sel] ** 2).sum())
            if denom > 0:
                k[sel] = max(0.0, float(((obs[sel] - mu[sel]) ** 2 - obs[sel]).sum()) / denom)
            groups.append(
                {
                    "road_class": cls,
                    "aadt": with_aadt,
                    "sites": int(sel.sum()),
                    "crashes": int(obs[sel].sum()),
                    "km": round(float(length[sel].sum()), 3),
                    "b0": None if b0 is None or not math.isfinite(b0) else round(b0, 6),
                    "b1": None if b1 is None else round(b1, 6),
                    "k": round(float(k[sel][0]), 6),
                }
            )
    w = 1.0 / (1.0 + k * mu)
    expected = w * mu + (1 - w) * obs
    return {
        "predicted": mu,
        "k": k,
        "weight": w,
        "expected": expected,
        "excess": expected - mu,
        "aadt": np.where(has, volume, np.nan),
        "groups": groups,
    }


def site_aadt(
    sites: pd.DataFrame, volumes: pd.DataFrame | None, *, whole_route: bool = False
) -> np.ndarray:
    """Each site's AADT: the length-weighted mean of the AADT of the road it covers, over the
    part of it whose AADT is known (NaN when none is). ``sites``: route_code, part, from_m,
    to_m; ``volumes``: route_code, part, from_m, to_m, aadt of the segments with an AADT
    (:func:`hazards.db.store.aadt_ranges`); ``whole_route``: a site is its whole route (every
    part)."""
    out = np.full(len(sites), np.nan)
    if volumes is None or volumes.empty or sites.empty:
        return out
    key_of: Any = "route_code" if whole_route else ["route_code", "part"]
    v = volumes.astype({"route_code": str, "part": int})
    by = dict(iter(v.groupby(key_of)))
    s = sites.astype({"route_code": str, "part": int}).reset_index(drop=True)
    for key, idx in s.groupby(key_of).groups.items():
        g = by.get(key)
        if g is None:
            continue
        a, b = s.loc[idx, "from_m"].to_numpy(float), s.loc[idx, "to_m"].to_numpy(float)
        lo, hi = g["from_m"].to_numpy(float), g["to_m"].to_numpy(float)
        if whole_route:
            over = np.broadcast_to(hi - lo, (len(idx), len(g)))
        else:
            over = np.clip(np.minimum(b[:, None], hi) - np.maximum(a[:, None], lo), 0.0, None)
        known = over.sum(axis=1)
        weighted = (over * g["aadt"].to_numpy(float)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[np.asarray(idx)] = np.where(known > 0, weighted / known, np.nan)
    return out


def _eb_values(
    sites: list[dict[str, Any]],
    end_of: dict[tuple[str, int], float],
    ends: pd.DataFrame,
    *,
    unit: str,
    cell_m: float,
    window: tuple[float, float],
    volumes: pd.DataFrame | None,
    years: float,
) -> list[dict[str, Any]]:
    """Set each site's EB ``predicted``, ``expected``, ``k``, ``value`` (the excess) and, with
    traffic volumes, its ``aadt``, with the whole network (every cell, window or route) as the
    reference population per road class; returns the populations (:func:`eb_estimates`)."""
    cls_of = dict(
        zip(ends["route_code"].astype(str), ends.get("road_class", "other"), strict=False)
    )
    ids, codes, parts, froms, tos = [], [], [], [], []
    if unit in ("cell", "window"):
        for (code, part), end in end_of.items():
            if unit == "cell":
                n = max(1, math.ceil(end / cell_m))
                spans = [
                    (k * cell_m, max(k * cell_m, min((k + 1) * cell_m, end))) for k in range(n)
                ]
                names = [f"{code}/{part}/{k}" for k in range(n)]
            else:
                spans = _windows(end, *window)
                names = [f"{code}/{part}/{a:.0f}" for a, _ in spans]
            ids += names
            codes += [code] * len(spans)
            parts += [part] * len(spans)
            froms += [a for a, _ in spans]
            tos += [b for _, b in spans]
    else:
        for s in sites:
            ids.append(s["id"])
            codes.append(s["route"])
            parts.append(s["part"])
            froms.append(s["from_m"])
            tos.append(s["to_m"])
    frame = pd.DataFrame({"route_code": codes, "part": parts, "from_m": froms, "to_m": tos})
    volume = site_aadt(frame, volumes, whole_route=unit == "route")
    count = {s["id"]: s["crashes"] for s in sites}
    obs = np.array([count.get(i, 0) for i in ids], dtype=float)
    length = (frame["to_m"] - frame["from_m"]).to_numpy(float) / 1000
    classes = np.array([cls_of.get(c, "other") for c in codes], dtype=object)
    eb = eb_estimates(obs, length, classes, aadt=volume, years=years)
    at = {i: j for j, i in enumerate(ids)}
    for s in sites:
        j = at.get(s["id"])
        if j is None:  # a crash beyond the loaded routes
            continue
        s["predicted"] = round(float(eb["predicted"][j]), 4)
        s["expected"] = round(float(eb["expected"][j]), 4)
        s["k"] = round(float(eb["k"][j]), 4)
        s["value"] = round(float(eb["excess"][j]), 4)
        if np.isfinite(eb["aadt"][j]):
            s["aadt"] = round(float(eb["aadt"][j]), 1)
    groups: list[dict[str, Any]] = eb["groups"]
    return groups


def period_years(
    date_from: dt.date | None, date_to: dt.date | None, days: pd.Series | None
) -> float:
    """The period's length Y in years (of 365.25 days, both ends included): from ``date_from``
    (else the first of ``days``) to ``date_to`` (else the last of ``days``); 1 when unknown."""
    known = pd.to_datetime(days).dropna() if days is not None else pd.Series(dtype="M8[ns]")
    first = date_from or (known.min().date() if len(known) else None)
    last = date_to or (known.max().date() if len(known) else None)
    if first is None or last is None or last < first:
        return 1.0
    return ((last - first).days + 1) / 365.25


def distinct_sites(sites: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``sites`` (worst first) without overlaps: each site in turn is kept unless it overlaps
    (same route part, chainage ranges that share more than an end) one already kept, so the
    worst window of a stretch stands for it; ``rank`` renumbered 1, 2, … in the kept order.
    The one rule of the screening's ``distinct`` and of the maps' black spots."""
    kept: list[dict[str, Any]] = []
    taken: dict[tuple[Any, Any], list[tuple[float, float]]] = {}
    for site in sites:
        spans = taken.setdefault((site.get("route"), site.get("part")), [])
        a, b = site["from_m"], site["to_m"]
        if any(x < b and a < y for x, y in spans):
            continue
        spans.append((a, b))
        kept.append(dict(site, rank=len(kept) + 1))
    return kept


def screen(
    *,
    unit: str = "cell",
    measure: str = "count",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    top: int | None = None,
    window_m: float = WINDOW_M,
    step_m: float = STEP_M,
    distinct: bool = False,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Screen the stored crashes with dates in [``date_from``, ``date_to``]: ``unit``,
    ``measure``, ``from``, ``to``, ``crashes`` (attached crashes counted), ``sites`` (the first
    ``top``, worst first; see :func:`screen_sites`); for ``eb-excess`` also ``years`` (Y,
    :func:`period_years`) and ``populations`` (:func:`eb_estimates`'s ``groups``), with the
    AADT of the road segments (``roads load`` with an AADT field) in the prediction.
    ``distinct``: no two sites overlap (:func:`distinct_sites`, before ``top``); it matters
    for windows, which overlap when ``step_m`` < ``window_m``."""
    from hazards.db import store
    from hazards.db.session import get_engine

    if date_from and date_to and date_from > date_to:
        raise InputError(
            f"The period starts ({date_from}) after it ends ({date_to}); swap the dates.",
            param="date_from",
        )
    if top is not None and top < 1:
        raise InputError(f"top must be 1 or more, not {top}.", param="top")
    engine = engine or get_engine()
    crashes = store.crash_frame(engine, date_from=date_from, date_to=date_to)
    ends = store.route_ends(engine)
    nodes = None
    if unit == "junction" and len(crashes):
        from hazards.junctions import junction_nodes
        from hazards.reconcile import Network

        working = store.require_working_crs(engine)
        j = junction_nodes(Network.from_segments(store.network_segments(engine), working))
        nodes = {j.key(i): j.routes[i] for i in range(len(j.x))}
    volumes = store.aadt_ranges(engine) if measure == "eb-excess" else None
    years = period_years(date_from, date_to, crashes.get("occurred_on"))
    populations: list[dict[str, Any]] = []
    sites = screen_sites(
        crashes,
        ends,
        unit=unit,
        measure=measure,
        window_m=window_m,
        step_m=step_m,
        nodes=nodes,
        volumes=volumes,
        years=years,
        populations=populations,
    )
    if distinct:
        sites = distinct_sites(sites)
    return {
        "unit": unit,
        "measure": measure,
        "cell_m": CELL_M if unit == "cell" else None,
        "window_m": window_m if unit == "window" else None,
        "step_m": step_m if unit == "window" else None,
        "distinct": distinct,
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
        "crashes": int(len(crashes)),
        **({"years": round(years, 4), "populations": populations} if populations else {}),
        "sites": sites[:top] if top else sites,
    }


def sites_frame(result: dict[str, Any], *, engine: Engine | None = None) -> Any:
    """The sites of a :func:`screen` result as a GeoDataFrame in lon/lat: a cell, window or
    route as its stretch of road (the segments' parts between ``from_m`` and ``to_m``), a
    junction as its node."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import MultiLineString, Point
    from shapely.ops import substring

    from hazards.db import store
    from hazards.db.session import get_engine

    engine = engine or get_engine()
    sites = result["sites"]
    rows = [{k: v for k, v in s.items() if k != "routes"} for s in sites]
    for row, s in zip(rows, sites, strict=True):
        if "routes" in s:
            row["routes"] = ", ".join(f"{r} {format_chainage(m)}" for r, m in s["routes"].items())
    if result["unit"] == "junction":
        geoms = [Point(s["lon"], s["lat"]) for s in sites]
        return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)
    working = store.require_working_crs(engine)
    segs = to_crs(store.network_segments(engine), working)
    out = []
    for s in sites:
        mine = segs[segs["route_code"] == s["route"]]
        if result["unit"] != "route":
            mine = mine[
                (mine["part"] == s["part"])
                & (mine["to_m"] > s["from_m"])
                & (mine["from_m"] < s["to_m"])
            ]
        pieces = []
        for seg in mine.itertuples(index=False):
            line = seg.geometry
            a = max(s["from_m"] - seg.from_m, 0.0) if result["unit"] != "route" else 0.0
            b = (
                min(s["to_m"] - seg.from_m, line.length)
                if result["unit"] != "route"
                else line.length
            )
            if b > a:
                pieces.append(substring(line, a, b))
        out.append(MultiLineString(pieces) if pieces else None)
    frame = gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(out, crs=working), crs=working)
    frame = frame.to_crs(4326)
    frame.geometry = shapely.force_2d(frame.geometry.array)
    return frame
