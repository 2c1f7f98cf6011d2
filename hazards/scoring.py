"""Risk dimensions → score 0-100 → tier I/II/III, and cost estimates (the ``scoring`` step).

The model (documented in ``docs/tiers-and-planning.md``) rates each hazard on three dimensions,
each 0-1:

- **consequence**: how bad a crash there is (a drop to water or a cliff is worst);
- **likelihood**: how likely a crash is (sharp or consecutive curves, steep grades, poor sight
  distance, an irregular junction);
- **exposure**: how many people pass (a village, a school, a bus route, a market).

Each category has default values; words in the description (学校, 村, 临水, 无护栏...) raise
them. ``score = 100 × Σ wᵢ·dimᵢ / Σ wᵢ``; tier I from ``tier_i`` up, tier II from ``tier_ii``
up, else III. Weights, cut-offs, category defaults and the cost library can be changed in
``hazards.toml`` (``[scoring]`` and ``[costs]`` tables).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hazards.crash_risk import CrashRiskConfig, crash_config
from hazards.errors import ConfigError
from hazards.vocabulary import CATEGORIES, TIERS, UNIT_ZH

if TYPE_CHECKING:
    from sqlalchemy import Engine

DIMENSIONS = ("consequence", "likelihood", "exposure")

# Category defaults: (consequence, likelihood, exposure).
CATEGORY_DIMENSIONS: dict[str, tuple[float, float, float]] = {
    "roadside_water_or_cliff": (0.95, 0.50, 0.45),
    "dangerous_roadside": (0.80, 0.50, 0.45),
    "long_downgrade": (0.80, 0.70, 0.45),
    "consecutive_curves": (0.60, 0.80, 0.45),
    "sharp_curve": (0.55, 0.75, 0.45),
    "steep_grade": (0.55, 0.60, 0.45),
    "poor_sight_distance": (0.45, 0.70, 0.45),
    "irregular_junction": (0.50, 0.65, 0.60),
    "through_village": (0.45, 0.55, 0.85),
    "missing_signs_markings": (0.35, 0.50, 0.45),
    "pavement_defect": (0.30, 0.45, 0.45),
    "other": (0.40, 0.40, 0.45),
}

# Words in a description that raise a dimension to at least the given value.
KEYWORDS: dict[str, tuple[tuple[str, ...], float]] = {
    "consequence": (
        ("临水", "临崖", "落差", "深沟", "水塘", "河", "悬崖", "无护栏", "高边坡"),
        0.90,
    ),
    "likelihood": (("急弯", "视距", "陡", "连续", "事故", "下坡", "盲区"), 0.75),
    "exposure": (
        ("学校", "小学", "中学", "幼儿园", "公交", "校车", "集市", "村", "镇", "居民"),
        0.85,
    ),
}


@dataclass(frozen=True)
class CostItem:
    """A default countermeasure for a category and its unit cost."""

    countermeasure: str
    unit: str  # "m", "each", "m2"
    unit_cost_cny: float
    default_quantity: float


# Indicative unit costs (CNY, installed), from public figures; replace with local prices.
COSTS: dict[str, CostItem] = {
    "roadside_water_or_cliff": CostItem("W-beam guardrail (波形护栏)", "m", 220.0, 100.0),
    "dangerous_roadside": CostItem("W-beam guardrail (波形护栏)", "m", 220.0, 60.0),
    "long_downgrade": CostItem(
        "warning signs, rumble strips, guardrail at bends", "each", 30000.0, 1.0
    ),
    "consecutive_curves": CostItem(
        "curve warning signs, delineators, centre line", "each", 9000.0, 1.0
    ),
    "sharp_curve": CostItem("curve warning sign, chevrons, convex mirror", "each", 4500.0, 1.0),
    "steep_grade": CostItem("grade warning signs, anti-skid surfacing", "each", 6000.0, 1.0),
    "poor_sight_distance": CostItem("convex mirror, vegetation clearing", "each", 3000.0, 1.0),
    "irregular_junction": CostItem("junction signs, markings, speed humps", "each", 15000.0, 1.0),
    "through_village": CostItem("speed humps, village signs, markings", "each", 12000.0, 1.0),
    "missing_signs_markings": CostItem("signs and road markings", "m", 25.0, 200.0),
    "pavement_defect": CostItem("patching (坑槽修补)", "m2", 120.0, 20.0),
    "other": CostItem("site-specific treatment", "each", 5000.0, 1.0),
}


@dataclass(frozen=True)
class ScoringConfig:
    """Weights, tier cut-offs, tie rule and category defaults of the risk model."""

    weights: dict[str, float] = field(
        default_factory=lambda: {"consequence": 0.45, "likelihood": 0.35, "exposure": 0.20}
    )
    tier_i: float = 65.0
    tier_ii: float = 45.0
    prefer: str = "survey"  # "survey": the survey's tier wins where given; "model": the model's
    categories: dict[str, tuple[float, float, float]] = field(
        default_factory=lambda: dict(CATEGORY_DIMENSIONS)
    )
    costs: dict[str, CostItem] = field(default_factory=lambda: dict(COSTS))
    crashes: CrashRiskConfig = field(default_factory=CrashRiskConfig)  # [scoring.crashes]


def _number(value: Any) -> float | None:
    """A TOML value as a score or weight: a number (not a text, not true/false), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def load_config(
    *, scoring: dict[str, Any] | None = None, costs: dict[str, Any] | None = None
) -> ScoringConfig:
    """The model's configuration: defaults, changed by ``[scoring]`` and ``[costs]`` tables."""
    from hazards.settings import config_table

    scoring = config_table("scoring") if scoring is None else scoring
    costs = config_table("costs") if costs is None else costs
    cfg = ScoringConfig()
    known = {"weights", "tier_i", "tier_ii", "prefer", "categories", "crashes"}
    unknown = set(scoring) - known
    if unknown:
        raise ConfigError(
            f"[scoring]: unknown keys {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}."
        )
    for table in ("weights", "categories"):
        if not isinstance(scoring.get(table, {}), dict):
            raise ConfigError(
                f"[scoring] {table} = {scoring[table]!r} must be a table ([scoring.{table}]: one "
                "entry a line, e.g. "
                + (
                    "consequence = 0.5)."
                    if table == "weights"
                    else "sharp_curve = [0.8, 0.6, 0.5])."
                )
            )
    weights = dict(cfg.weights)
    for k, v in scoring.get("weights", {}).items():
        if k not in DIMENSIONS or not isinstance(v, (int, float)) or v < 0:
            raise ConfigError(
                f"[scoring.weights] {k} = {v!r}: dimensions are {', '.join(DIMENSIONS)}, weights ≥ 0."
            )
        weights[k] = float(v)
    if sum(weights.values()) <= 0:
        raise ConfigError("[scoring.weights]: at least one weight must be above 0.")
    categories = dict(cfg.categories)
    named: set[str] = set()
    for key, dims in scoring.get("categories", {}).items():
        cat = _category_of(key, where="[scoring.categories]", seen=named)
        named.add(cat)
        if not (
            isinstance(dims, list)
            and len(dims) == 3
            and all(_number(d) is not None and 0 <= float(d) <= 1 for d in dims)
        ):
            raise ConfigError(
                f"[scoring.categories] {key} must be [consequence, likelihood, exposure], each 0-1."
            )
        categories[cat] = (float(dims[0]), float(dims[1]), float(dims[2]))
    tier_i, tier_ii = (_number(scoring.get(k, getattr(cfg, k))) for k in ("tier_i", "tier_ii"))
    if tier_i is None or tier_ii is None:
        raise ConfigError(
            f"[scoring] tier_i = {scoring.get('tier_i', cfg.tier_i)!r}, tier_ii = "
            f"{scoring.get('tier_ii', cfg.tier_ii)!r}: both must be scores from 0 to 100."
        )
    if not 0 <= tier_ii <= tier_i <= 100:
        raise ConfigError(f"[scoring] needs 0 ≤ tier_ii ({tier_ii}) ≤ tier_i ({tier_i}) ≤ 100.")
    prefer = str(scoring.get("prefer", cfg.prefer))
    if prefer not in ("survey", "model"):
        raise ConfigError(f'[scoring] prefer = {prefer!r}: use "survey" or "model".')
    cost_items = dict(cfg.costs)
    given: set[str] = set()
    for key, item in costs.items():
        cat = _category_of(key, where="[costs]", seen=given)
        given.add(cat)
        cost_items[cat] = _cost_item(key, item, base=cost_items.get(cat, COSTS["other"]))
    return replace(
        cfg,
        weights=weights,
        tier_i=tier_i,
        tier_ii=tier_ii,
        prefer=prefer,
        categories=categories,
        costs=cost_items,
        crashes=crash_config(scoring.get("crashes", {})),
    )


_COST_KEYS = ("countermeasure", "unit", "unit_cost_cny", "default_quantity")
_UNITS = {**{u: u for u in UNIT_ZH}, **{zh: u for u, zh in UNIT_ZH.items()}}


def _category_of(key: str, *, where: str, seen: set[str]) -> str:
    """The category a ``[scoring.categories]`` or ``[costs]`` key names: a term of the
    vocabulary (``sharp_curve``) or a survey's word for one (``急弯``), read as a survey's
    category is. A key that names none (a typo would otherwise be kept and never used), or a
    second key for a category already given, is refused."""
    from hazards.cells import normalise_category

    cat = key if key in CATEGORIES else normalise_category(str(key))
    if cat is None:
        near = difflib.get_close_matches(str(key), CATEGORIES, n=1)
        raise ConfigError(
            f"{where} {key}: not a hazard category"
            + (f" (did you mean {near[0]}?)" if near else "")
            + f"; the categories are {', '.join(CATEGORIES)}, or a survey's word for one "
            "(e.g. 急弯 for sharp_curve)."
        )
    if cat in seen:
        raise ConfigError(f"{where} {key}: category {cat} is given twice; keep one entry for it.")
    return cat


def _cost_item(key: str, item: Any, *, base: CostItem) -> CostItem:
    """A ``[costs.KEY]`` table as a cost item, what it leaves out taken from ``base``."""
    if not isinstance(item, dict):
        raise ConfigError(
            f"[costs] {key} = {item!r} must be a table ([costs.{key}] with "
            f"{', '.join(_COST_KEYS)})."
        )
    unknown = sorted(set(item) - set(_COST_KEYS))
    if unknown:
        raise ConfigError(
            f"[costs.{key}]: unknown keys {', '.join(unknown)}; known: {', '.join(_COST_KEYS)}."
        )
    unit = _UNITS.get(str(item.get("unit", base.unit)))
    if unit is None:
        raise ConfigError(
            f"[costs.{key}] unit = {item['unit']!r}: use "
            + ", ".join(f"{u} ({zh})" for u, zh in UNIT_ZH.items())
            + "; a cost per m is multiplied by the hazard's length."
        )
    amounts = {}
    for name in ("unit_cost_cny", "default_quantity"):
        value = _number(item.get(name, getattr(base, name)))
        if value is None or not math.isfinite(value) or value < 0:
            raise ConfigError(f"[costs.{key}] {name} = {item[name]!r} must be a number ≥ 0.")
        amounts[name] = value
    return CostItem(
        countermeasure=str(item.get("countermeasure", base.countermeasure)),
        unit=unit,
        unit_cost_cny=amounts["unit_cost_cny"],
        default_quantity=amounts["default_quantity"],
    )


def dimensions(
    category: str | None, description: str | None, *, config: ScoringConfig
) -> tuple[float, float, float]:
    """Consequence, likelihood and exposure (0-1) of one hazard."""
    c, lk, e = config.categories.get(category or "other", config.categories["other"])
    text = description or ""
    values = {"consequence": c, "likelihood": lk, "exposure": e}
    for dim, (words, floor) in KEYWORDS.items():
        if any(w in text for w in words):
            values[dim] = max(values[dim], floor)
    return values["consequence"], values["likelihood"], values["exposure"]


def score_of(dims: tuple[float, float, float], *, config: ScoringConfig) -> float:
    w = [config.weights[d] for d in DIMENSIONS]
    return round(100.0 * sum(wi * di for wi, di in zip(w, dims, strict=True)) / sum(w), 1)


def tier_of(score: float, *, config: ScoringConfig) -> str:
    if score >= config.tier_i:
        return "I"
    if score >= config.tier_ii:
        return "II"
    return "III"


def estimate_cost(
    category: str | None, length_m: float | None, *, config: ScoringConfig
) -> tuple[str, float, str, float]:
    """(countermeasure, quantity, unit, cost CNY) from the cost library."""
    item = config.costs.get(category or "other", config.costs["other"])
    qty = item.default_quantity
    if item.unit == "m" and length_m is not None and math.isfinite(length_m) and length_m > 0:
        qty = float(length_m)
    return item.countermeasure, qty, item.unit, round(qty * item.unit_cost_cny, 2)


def score_hazards(hazards: pd.DataFrame, *, config: ScoringConfig | None = None) -> pd.DataFrame:
    """Score, model tier, effective tier and cost estimate for each hazard.

    ``hazards`` needs ``category``, ``description``, ``provided_tier``, ``length_m``.
    Returns columns ``consequence, likelihood, exposure, score, model_tier, tier,
    countermeasure_default, quantity, unit, estimated_cost_cny`` on the same index (the text
    columns categorical). ``tier`` is the survey's tier when given and ``prefer`` is "survey",
    else the model's.

    The model runs once per distinct category and description, not once per hazard: the
    results are exactly those of :func:`dimensions`, :func:`score_of`, :func:`tier_of` and
    :func:`estimate_cost`.
    """
    cfg = config or load_config()
    n = len(hazards)
    cat_codes, cats = pd.factorize(hazards["category"], use_na_sentinel=True)
    desc_codes, descs = pd.factorize(hazards["description"], use_na_sentinel=True)
    cat_list: list[str | None] = [*(str(c) for c in cats), None]
    cat_ix = np.where(cat_codes < 0, len(cats), cat_codes)  # a missing category is the last
    # Which dimensions the words of each distinct description raise (bit 0, 1, 2).
    raised = np.array(
        [
            sum(
                1 << i
                for i, dim in enumerate(DIMENSIONS)
                if any(w in str(d) for w in KEYWORDS[dim][0])
            )
            for d in descs
        ]
        + [0],
        dtype=np.int64,
    )
    # One model per (category, raised dimensions): at most 8 per category.
    key = cat_ix * 8 + raised[np.where(desc_codes < 0, len(descs), desc_codes)]
    models, inverse = np.unique(key, return_inverse=True)
    dims = np.empty((len(models), 3))
    scores = np.empty(len(models))
    tiers: list[str] = []
    for k, m in enumerate(models.tolist()):
        d = _raised(cfg.categories.get(cat_list[m // 8] or "other", cfg.categories["other"]), m % 8)
        dims[k] = d
        scores[k] = score_of(d, config=cfg)
        tiers.append(tier_of(float(scores[k]), config=cfg))
    out = pd.DataFrame(dims[inverse].reshape(n, 3), columns=list(DIMENSIONS), index=hazards.index)
    out["score"] = scores[inverse]
    model_tier = pd.Categorical.from_codes(
        np.array([TIERS.index(t) for t in tiers], dtype=np.int8)[inverse], categories=list(TIERS)
    )
    out["model_tier"] = model_tier
    if cfg.prefer == "survey":
        given_codes, given = pd.factorize(hazards["provided_tier"], use_na_sentinel=True)
        ok = [isinstance(g, str) and g != "" for g in given]
        names = [
            *TIERS,
            *sorted({str(g) for g, k in zip(given, ok, strict=True) if k} - set(TIERS)),
        ]
        lookup = np.array(
            [names.index(str(g)) if k else -1 for g, k in zip(given, ok, strict=True)] + [-1]
        )
        codes = lookup[given_codes]  # missing (-1) takes the trailing -1
        codes = np.where(codes >= 0, codes, model_tier.codes)
        out["tier"] = pd.Categorical.from_codes(codes, categories=names)
    else:
        out["tier"] = model_tier
    # The cost library: per category; per hazard only where a length sets the quantity.
    items = [cfg.costs.get(c or "other", cfg.costs["other"]) for c in cat_list]
    length = pd.to_numeric(hazards["length_m"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    per_m = np.array([it.unit == "m" for it in items])[cat_ix]
    by_length = per_m & np.isfinite(length) & (length > 0)
    qty = np.array([it.default_quantity for it in items])[cat_ix]
    cost = np.array([round(it.default_quantity * it.unit_cost_cny, 2) for it in items])[cat_ix]
    unit_cost = np.array([it.unit_cost_cny for it in items])[cat_ix]
    qty[by_length] = length[by_length]
    cost[by_length] = [
        round(q * c, 2)
        for q, c in zip(length[by_length].tolist(), unit_cost[by_length].tolist(), strict=True)
    ]
    item_names = sorted({it.countermeasure for it in items})
    units = sorted({it.unit for it in items})
    out["countermeasure_default"] = pd.Categorical.from_codes(
        np.array([item_names.index(it.countermeasure) for it in items], dtype=np.int32)[cat_ix],
        categories=item_names,
    )
    out["quantity"] = qty
    out["unit"] = pd.Categorical.from_codes(
        np.array([units.index(it.unit) for it in items], dtype=np.int32)[cat_ix], categories=units
    )
    out["estimated_cost_cny"] = cost
    return out


def _raised(base: tuple[float, float, float], bits: int) -> tuple[float, float, float]:
    """Category defaults with the dimensions of ``bits`` raised to their keyword floors."""
    values = list(base)
    for i, dim in enumerate(DIMENSIONS):
        if bits >> i & 1:
            values[i] = max(values[i], KEYWORDS[dim][1])
    return values[0], values[1], values[2]


# ----------------------------------------------------------------------------- with the database
def compute_tiers(
    *, engine: Engine | None = None, config: ScoringConfig | None = None
) -> dict[str, Any]:
    """Score every hazard that is not rejected and store score, tier and cost estimate.

    Overrides set with :func:`set_tier` are kept (the effective tier is the override). Only
    hazards whose stored values change are written; ``changed`` counts them. Crash history
    lifts tiers by the rule of :mod:`hazards.crash_risk` (``crash_lifted`` counts the hazards
    it lifted; ``crash_period`` the crashes' dates, ``black_spots`` the stretches found).
    """
    from hazards.db import store
    from hazards.db.session import get_engine

    engine = engine or get_engine()
    cfg = config or load_config()
    hz = store.hazards_for_scoring(engine)
    if hz.empty:
        return {"scored": 0, "tiers": {}, "disagreements": 0}
    scored = score_hazards(hz, config=cfg)
    scored.insert(0, "id", hz["id"].to_numpy())
    crash = _crash_history(engine, scored, cfg)
    changed = store.write_scores(engine, scored)
    override = hz["tier_override"].to_numpy(dtype=object)
    overridden = hz["tier_override"].notna().to_numpy()
    effective = np.where(overridden, override, scored["tier"].to_numpy(dtype=object))
    provided = hz["provided_tier"]
    return {
        "scored": int(len(hz)),
        "changed": changed,
        "tiers": {t: int((effective == t).sum()) for t in TIERS},
        "disagreements": int(
            (
                provided.notna().to_numpy()
                & (provided.to_numpy(dtype=object) != scored["model_tier"].to_numpy(dtype=object))
            ).sum()
        ),
        "overridden": int(overridden.sum()),
        **crash,
    }


def _crash_history(engine: Engine, scored: pd.DataFrame, cfg: ScoringConfig) -> dict[str, Any]:
    """Lift the tiers and scores of ``scored`` by crash history (in place): adds
    ``crash_reason`` and ``base_tier`` (the tier before); returns what it did."""
    from hazards.crash_risk import crash_context, crash_reasons, lift_tiers
    from hazards.db import store

    rules = cfg.crashes
    ctx = crash_context(config=rules, engine=engine)
    if ctx is None or (rules.lift == 0 and rules.score_points == 0):
        return {"crash_lifted": 0, "crash_period": None, "black_spots": 0}
    places = store.hazard_places(engine).set_index("id")
    places = places.reindex(scored["id"].to_numpy())
    reasons = crash_reasons(
        places.reset_index(drop=True), ctx["crashes"], ctx["spots"], config=rules
    ).to_numpy()
    hit = np.array([r is not None for r in reasons], dtype=bool)
    base = scored["tier"].astype(object).to_numpy()
    tiers = lift_tiers(base, hit, lift=rules.lift)
    names = list(scored["tier"].cat.categories)
    scored["tier"] = pd.Categorical(tiers, categories=names)
    scored["score"] = np.where(
        hit, np.minimum(scored["score"].to_numpy() + rules.score_points, 100.0), scored["score"]
    ).round(1)
    scored["crash_reason"] = reasons
    scored["base_tier"] = np.where(hit, base, None)
    return {
        "crash_lifted": int((hit & (tiers != base)).sum()),
        "crash_period": {"from": ctx["from"].isoformat(), "to": ctx["to"].isoformat()},
        "black_spots": len(ctx["spots"]),
    }


def tier_diff(*, engine: Engine | None = None) -> list[dict[str, Any]]:
    """Hazards whose survey tier and model tier disagree (after ``compute_tiers``)."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.tier_disagreements(engine or get_engine())


def set_tier(
    public_id: str, *, tier: str, reason: str, by: str | None = None, engine: Engine | None = None
) -> dict[str, Any]:
    """Override a hazard's tier with a reason (an event; survives recomputation)."""
    from hazards.db import store
    from hazards.db.session import get_engine

    if tier not in TIERS:
        raise ConfigError(f"{tier!r} is not a tier: use {', '.join(TIERS)}.", param="tier")
    if not reason or not reason.strip():
        raise ConfigError("A reason is required: say why the tier is overridden.", param="reason")
    return store.set_tier_override(
        engine or get_engine(), public_id, tier=tier, reason=reason.strip(), by=by
    )


def cost_diff(*, engine: Engine | None = None, threshold: float = 0.5) -> list[dict[str, Any]]:
    """Hazards whose survey estimate differs from the library estimate by more than ``threshold``."""
    from hazards.db import store
    from hazards.db.session import get_engine

    rows = store.cost_pairs(engine or get_engine())
    out = []
    for r in rows:
        est, given = r["estimated_cost_cny"], r["provided_cost_cny"]
        if est and given is not None and abs(given - est) / est > threshold:
            out.append(
                {**r, "difference_cny": round(given - est, 2), "ratio": round(given / est, 3)}
            )
    return out


def route_ratings(*, engine: Engine | None = None, cell_m: float = 100.0) -> dict[str, Any]:
    """Open risk per route in 100 m cells (the iRAP convention), ranked, and per township.

    A cell's risk is the sum of the scores of the open hazards in it; a route's open risk per
    km is the sum over its cells divided by its length. ``cells_at_risk`` counts cells holding
    any open hazard; ``worst_cell`` is the riskiest cell's start chainage.

    Crash figures (``hazards.crash_risk``, the crash period of ``[scoring.crashes]``):
    ``crashes``, ``ksi``, ``fatal``, ``black_spots`` and ``crash_points`` (``route_weight`` ×
    K+A crashes a year); ``total_risk_per_km`` = (open risk + crash points) / km ranks the
    routes (without crashes it equals ``risk_per_km``).
    """
    from hazards.chainage import format_chainage
    from hazards.crash_risk import crash_context, load_crash_config, route_crash_figures
    from hazards.db import store
    from hazards.db.session import get_engine

    engine = engine or get_engine()
    rules = load_crash_config()
    ctx = crash_context(config=rules, engine=engine)
    crash_figures = route_crash_figures(ctx, config=rules)
    df = store.route_risk(engine)
    routes: list[dict[str, Any]] = []
    for code, g in df.groupby("route_code", sort=True):
        length_km = float(g["length_m"].iloc[0]) / 1000
        end_m = float(g["end_m"].iloc[0])
        n_cells = max(1, math.ceil(end_m / cell_m))
        h = g.dropna(subset=["score", "chainage_m"])
        cells = np.zeros(n_cells)
        if len(h):
            k = np.clip((h["chainage_m"].to_numpy() // cell_m).astype(int), 0, n_cells - 1)
            np.add.at(cells, k, h["score"].to_numpy())
        risk = float(cells.sum())
        worst = int(np.argmax(cells))
        crash = crash_figures.get(
            str(code), {"crashes": 0, "ksi": 0, "fatal": 0, "black_spots": 0, "crash_points": 0.0}
        )
        routes.append(
            {
                "route": code,
                "name": g["name"].iloc[0],
                "township": g["township"].iloc[0],
                "length_km": round(length_km, 3),
                "cells": n_cells,
                "cells_at_risk": int((cells > 0).sum()),
                "open_hazards": int(len(h)),
                "tier_I_open": int((h["tier"] == "I").sum()),
                "open_risk": round(risk, 1),
                "risk_per_km": round(risk / length_km, 2) if length_km > 0 else 0.0,
                "worst_cell": format_chainage(worst * cell_m) if risk > 0 else None,
                "worst_cell_risk": round(float(cells[worst]), 1),
                **crash,
                "total_risk_per_km": round((risk + crash["crash_points"]) / length_km, 2)
                if length_km > 0
                else 0.0,
            }
        )
    routes.sort(key=lambda r: (-r["total_risk_per_km"], -r["risk_per_km"], r["route"]))
    for rank, r in enumerate(routes, start=1):
        r["rank"] = rank
    # Townships from the segments: a route crossing three counts in each with its km there,
    # and each hazard in the township of the segment under it.
    towns = store.township_risk(engine)
    townships: list[dict[str, Any]] = sorted(
        (
            {
                "township": t.township or "—",
                "routes": int(t.routes),
                "length_km": round(float(t.length_m) / 1000, 3),
                "open_hazards": int(t.open_hazards),
                "open_risk": round(float(t.open_risk), 1),
                "risk_per_km": round(float(t.open_risk) / (float(t.length_m) / 1000), 2)
                if t.length_m
                else 0.0,
            }
            for t in towns.itertuples()
        ),
        key=lambda t: (-float(t["risk_per_km"]), str(t["township"])),
    )
    period = {"from": ctx["from"].isoformat(), "to": ctx["to"].isoformat()} if ctx else None
    return {"cell_m": cell_m, "crash_period": period, "routes": routes, "townships": townships}
