"""Scores in the store: what the risk model reads, the scores and costs it writes, tier
overrides, the survey's and the library's costs side by side, and route risk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import text

from hazards.db.sql import EFFECTIVE_TIER, HAZARD_TOWNSHIP, library_measure
from hazards.db.store.copy_rows import BINARY_HEADER, BINARY_TRAILER
from hazards.db.store.hazards import hazard_by_public_id
from hazards.settings import county
from hazards.vocabulary import OPEN_STATUSES

if TYPE_CHECKING:
    from sqlalchemy import Engine


# ----------------------------------------------------------------------------- scoring
def hazards_for_scoring(engine: Engine, *, chunk: int = 50_000) -> pd.DataFrame:
    """What the risk model reads of each hazard that is not rejected, in id order.

    Read in chunks through a server-side cursor; the text columns become categoricals, so
    millions of hazards take a few bytes each.
    """
    from pandas.api.types import union_categoricals

    sql = """
        SELECT id, category, description, provided_tier, tier_override, length_m
        FROM hazards WHERE status <> 'rejected' ORDER BY id
    """
    texts = ["category", "description", "provided_tier", "tier_override"]

    def categorical(values: np.ndarray) -> pd.Categorical:
        # Object categories in every chunk (a chunk of only NULLs would infer another dtype).
        present = pd.unique(values[pd.notna(values)])
        return pd.Categorical(values, categories=pd.Index(present, dtype=object))

    parts = []
    with engine.connect() as conn:
        conn = conn.execution_options(stream_results=True)
        for p in pd.read_sql(text(sql), conn, chunksize=chunk):
            parts.append(
                {
                    "id": p["id"].to_numpy(dtype="int64"),
                    "length_m": p["length_m"].to_numpy(dtype="float64", na_value=np.nan),
                    **{c: categorical(p[c].to_numpy(dtype=object)) for c in texts},
                }
            )
    columns = ["id", *texts, "length_m"]
    if not parts:
        return pd.DataFrame(
            {
                c: pd.Series(
                    dtype="int64" if c == "id" else "float64" if c == "length_m" else "category"
                )
                for c in columns
            }
        )
    return pd.DataFrame(
        {
            c: np.concatenate([p[c] for p in parts])
            if c in ("id", "length_m")
            else union_categoricals([p[c] for p in parts])
            for c in columns
        }
    )


# The stored result of one model (category and raised dimensions), shared by many hazards.
_MODEL_COLUMNS = [
    "score",
    "consequence",
    "likelihood",
    "exposure",
    "model_tier",
    "countermeasure_default",
    "unit",
]


def write_scores(engine: Engine, scored: pd.DataFrame) -> int:
    """Store score, tier, risk dimensions and cost estimate of many hazards; return how many changed.

    The distinct models (score, dimensions, model tier, countermeasure, unit) go in as a small
    table; per hazard only its id, model, tier, quantity and cost, as one binary COPY built
    with numpy. One ``UPDATE`` writes the hazards whose values differ, so a recomputation that
    changes nothing writes nothing (``updated_at`` stays).
    """
    import json

    crash = "crash_reason" in scored.columns  # crash history lifted some (hazards.crash_risk)
    columns = [*_MODEL_COLUMNS, *(("crash_reason", "base_tier") if crash else ())]
    model_key = scored.groupby(columns, sort=False, observed=True, dropna=False).ngroup().to_numpy()
    _, first = np.unique(model_key, return_index=True)
    models = scored.iloc[first]
    reasons = models["crash_reason"] if crash else [None] * len(models)
    bases = models["base_tier"] if crash else [None] * len(models)
    risk = [
        json.dumps(
            {
                "consequence": float(c),
                "likelihood": float(lk),
                "exposure": float(e),
                "model_tier": m,
                **({"crash": why, "base_tier": b} if isinstance(why, str) else {}),
            },
            ensure_ascii=False,
        )
        for c, lk, e, m, why, b in zip(
            models["consequence"],
            models["likelihood"],
            models["exposure"],
            models["model_tier"],
            reasons,
            bases,
            strict=True,
        )
    ]
    tier = pd.Categorical(scored["tier"])
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TEMP TABLE score_models (model int4 PRIMARY KEY, score float8, risk jsonb, cm text, unit text) "
                "ON COMMIT DROP"
            )
        )
        conn.execute(
            text(
                "INSERT INTO score_models SELECT * FROM unnest(CAST(:m AS int4[]), CAST(:s AS float8[]), "
                "CAST(:r AS jsonb[]), CAST(:cm AS text[]), CAST(:u AS text[]))"
            ),
            {
                "m": list(range(len(models))),
                "s": [float(v) for v in models["score"]],
                "r": risk,
                "cm": [str(v) for v in models["countermeasure_default"]],
                "u": [str(v) for v in models["unit"]],
            },
        )
        conn.execute(
            text(
                "CREATE TEMP TABLE score_rows (id int8, model int4, tier int2, qty float8, cost float8) ON COMMIT DROP"
            )
        )
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy("COPY score_rows FROM STDIN (FORMAT binary)") as copy:
            copy.write(
                _binary_copy_rows(
                    [
                        scored["id"].to_numpy(dtype=">i8"),
                        model_key.astype(">i4"),
                        tier.codes.astype(">i2"),
                        scored["quantity"].to_numpy(dtype=">f8"),
                        scored["estimated_cost_cny"].to_numpy(dtype=">f8"),
                    ]
                )
            )
        conn.execute(text("ANALYZE score_rows"))
        return int(
            conn.execute(
                text(
                    """
                UPDATE hazards h SET score = m.score, tier = (CAST(:tiers AS text[]))[v.tier + 1],
                       risk = m.risk, countermeasure = coalesce(h.countermeasure, m.cm),
                       quantity = CASE WHEN {LIBRARY_MEASURE} THEN v.qty END,
                       unit = CASE WHEN {LIBRARY_MEASURE} THEN m.unit END,
                       estimated_cost_cny = v.cost, updated_at = now()
                FROM score_rows v JOIN score_models m ON m.model = v.model
                WHERE h.id = v.id
                  AND (h.score, h.tier, h.risk, h.countermeasure, h.quantity, h.unit, h.estimated_cost_cny)
                      IS DISTINCT FROM (m.score, (CAST(:tiers AS text[]))[v.tier + 1], m.risk,
                                        coalesce(h.countermeasure, m.cm),
                                        CASE WHEN {LIBRARY_MEASURE} THEN v.qty END,
                                        CASE WHEN {LIBRARY_MEASURE} THEN m.unit END, v.cost)
                """.replace("{LIBRARY_MEASURE}", library_measure("m.cm"))
                ),
                {"tiers": [str(t) for t in tier.categories]},
            ).rowcount
        )


def _binary_copy_rows(columns: list[np.ndarray]) -> bytes:
    """PostgreSQL binary COPY data of rows of fixed-width big-endian columns without NULLs."""
    n = len(columns[0])
    fields = [("n", ">i2")]
    for i, col in enumerate(columns):
        fields += [(f"len{i}", ">i4"), (f"v{i}", col.dtype.str)]
    rows = np.empty(n, dtype=np.dtype(fields))
    rows["n"] = len(columns)
    for i, col in enumerate(columns):
        rows[f"len{i}"] = col.dtype.itemsize
        rows[f"v{i}"] = col
    return BINARY_HEADER + rows.tobytes() + BINARY_TRAILER


def tier_disagreements(engine: Engine) -> list[dict[str, Any]]:
    """Hazards whose survey tier differs from the model's, or whose tier crash history changed
    (``crash_reason``, ``base_tier`` the tier before), with score, tier, override and ``why``
    (``survey/model``, ``crash`` or both)."""
    sql = """
        SELECT * FROM (
            SELECT h.public_id AS id, r.route_code, h.chainage_m, h.category, h.provided_tier,
                   h.risk->>'model_tier' AS model_tier, h.score, h.tier, h.tier_override,
                   h.tier_override_reason, h.risk->>'base_tier' AS base_tier,
                   h.risk->>'crash' AS crash_reason,
                   concat_ws(', ',
                       CASE WHEN h.provided_tier IS NOT NULL AND h.risk ? 'model_tier'
                                 AND h.provided_tier <> h.risk->>'model_tier'
                            THEN 'survey/model' END,
                       CASE WHEN h.risk ? 'crash' AND h.risk->>'base_tier' <> h.tier
                            THEN 'crash' END) AS why, h.id AS _order
            FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
            WHERE h.status <> 'rejected' AND h.risk ? 'model_tier'
        ) d WHERE why <> '' ORDER BY _order
    """
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(text(sql)).mappings().all()]
    for r in rows:
        r.pop("_order")
    return rows


def set_tier_override(
    engine: Engine, public_id: str, *, tier: str, reason: str, by: str | None
) -> dict[str, Any]:
    """Override a hazard's tier with a reason (one event); the new and the previous tier."""
    import json

    with engine.begin() as conn:
        h = hazard_by_public_id(conn, public_id)
        old = conn.execute(
            text(f"SELECT {EFFECTIVE_TIER} FROM hazards h WHERE h.id = :h"), {"h": h["id"]}
        ).scalar_one()
        conn.execute(
            text(
                "UPDATE hazards SET tier_override = :t, tier_override_reason = :r, "
                "version = version + 1, updated_at = now() WHERE id = :h"
            ),
            {"t": tier, "r": reason, "h": h["id"]},
        )
        conn.execute(
            text(
                "INSERT INTO hazard_events (hazard_id, kind, by, note, data) "
                "VALUES (:h, 'tier_override', :by, :note, CAST(:data AS jsonb))"
            ),
            {"h": h["id"], "by": by, "note": reason, "data": json.dumps({"from": old, "to": tier})},
        )
    return {"id": public_id, "tier": tier, "previous": old, "reason": reason}


def cost_pairs(engine: Engine) -> list[dict[str, Any]]:
    """Hazards whose survey gave a cost, with the cost library's estimate beside it."""
    sql = """
        SELECT h.public_id AS id, r.route_code, h.category, h.countermeasure, h.quantity, h.unit,
               h.estimated_cost_cny, h.provided_cost_cny
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
        WHERE h.status <> 'rejected' AND h.provided_cost_cny IS NOT NULL
        ORDER BY h.id
    """
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql)).mappings().all()]


def route_risk(engine: Engine) -> pd.DataFrame:
    """Open hazards' scores with their route, township, chainage, and route lengths (the
    county's routes: :func:`~hazards.settings.county`)."""
    sql = f"""
        SELECT r.route_code, r.name, r.township, r.length_m, r.end_m, h.chainage_m, h.score,
               {EFFECTIVE_TIER} AS tier
        FROM roads r LEFT JOIN hazards h ON h.road_id = r.id
             AND h.status = ANY(:open)
        WHERE NOT r.unassigned AND r.admin_code = :admin
    """
    params = {"open": list(OPEN_STATUSES), "admin": county()}
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params=params)


def township_risk(engine: Engine) -> pd.DataFrame:
    """Per township: routes and km of road there (from the segments, so a route crossing three
    townships counts in each with its km there), and the open hazards on that road with their
    summed score (each hazard in the township of the segment under it); the county's roads."""
    sql = f"""
        WITH seg AS (
            SELECT coalesce(s.township, '') AS township, count(DISTINCT s.road_id) AS routes,
                   sum(s.length_m) AS length_m
            FROM road_segments s JOIN roads r ON r.id = s.road_id
            WHERE NOT r.unassigned AND r.admin_code = :admin GROUP BY 1
        ), hz AS (
            SELECT coalesce({HAZARD_TOWNSHIP}, '') AS township, count(*) AS open_hazards,
                   sum(h.score) AS open_risk
            FROM hazards h JOIN roads r ON r.id = h.road_id
            WHERE NOT r.unassigned AND r.admin_code = :admin AND h.status = ANY(:open)
              AND h.score IS NOT NULL AND h.chainage_m IS NOT NULL
            GROUP BY 1
        )
        SELECT seg.township, seg.routes, seg.length_m,
               coalesce(hz.open_hazards, 0) AS open_hazards, coalesce(hz.open_risk, 0) AS open_risk
        FROM seg LEFT JOIN hz ON hz.township = seg.township
        ORDER BY seg.township
    """
    params = {"open": list(OPEN_STATUSES), "admin": county()}
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params=params)
