"""The ``hazards tiers``, ``hazards costs`` and ``hazards risk`` commands: scores and tiers,
cost estimates, risk along the network."""

from __future__ import annotations

import click

from hazards.cli._common import (
    CommandGroup,
    echo_json,
    echo_mapping,
    echo_table,
    json_option,
    tr,
    with_chainage,
)
from hazards.vocabulary import TIERS


@click.group("tiers", cls=CommandGroup)
def tiers() -> None:
    """Risk scores and tiers (I high, II, III): compute, compare with the survey, override.

    \b
    Examples:
      hazards tiers compute
      hazards tiers diff
      hazards tiers set H000014 --tier I --reason "学校门口"
    """


@tiers.command("compute")
@json_option
def tiers_compute(as_json: bool) -> None:
    """Score every hazard (risk dimensions → 0-100 → tier) and estimate its cost.

    Crash history lifts tiers: a hazard inside a black spot (事故多发点段) or near a fatal crash
    of the crash period rises a tier (the rule and its [scoring.crashes] settings:
    docs/tiers-and-planning.md).
    """
    from hazards.scoring import compute_tiers

    out = compute_tiers()
    if as_json:
        echo_json(out)
    else:
        echo_mapping(
            {
                "scored": out["scored"],
                "changed": out.get("changed", 0),
                **{f"tier {k}": v for k, v in out["tiers"].items()},
                "survey/model disagreements": out["disagreements"],
                "overridden": out.get("overridden", 0),
                "lifted by crash history (事故)": out.get("crash_lifted", 0),
                "black spots (事故多发点段)": out.get("black_spots", 0),
                "crash period": (
                    f"{out['crash_period']['from']} – {out['crash_period']['to']}"
                    if out.get("crash_period")
                    else tr("no crashes", "无事故记录")
                ),
            },
            title="tiers",
        )


@tiers.command("diff")
@json_option
def tiers_diff(as_json: bool) -> None:
    """Hazards whose survey tier and model tier disagree, or whose tier crash history changed.

    The "why" column says which: survey/model, crash (crash_reason names the black spot or
    the fatal crash; base_tier is the tier before it), or both.
    """
    from hazards.scoring import tier_diff

    rows = tier_diff()
    if as_json:
        echo_json(rows)
    else:
        from hazards.cli._common import table_lang
        from hazards.crash_risk import WHY_ZH, reason_text

        lang = table_lang()
        if lang == "zh":
            for r in rows:
                r["why"] = "，".join(WHY_ZH.get(w, w) for w in (r["why"] or "").split(", ") if w)
                r["crash_reason"] = reason_text(r["crash_reason"], lang)
        echo_table(
            with_chainage(rows),
            [
                "id",
                "route_code",
                "chainage",
                "category",
                "provided_tier",
                "model_tier",
                "base_tier",
                "tier",
                "score",
                "tier_override",
                "why",
                "crash_reason",
            ],
            "tiers changed: survey/model, crash history (事故)",
        )


@tiers.command("set")
@click.argument("hazard_id")
@click.option("--tier", required=True, type=click.Choice(TIERS), help="The tier the engineer sets.")
@click.option("--reason", required=True, help="Why (recorded in the hazard's history).")
@click.option("--by", help="Who sets it.")
def tiers_set(hazard_id: str, tier: str, reason: str, by: str | None) -> None:
    """Override a hazard's tier with a reason; it survives recomputation."""
    from hazards.scoring import set_tier

    out = set_tier(hazard_id, tier=tier, reason=reason, by=by)
    click.echo(
        tr(
            f"{out['id']}: tier {out['previous'] or '—'} → {out['tier']} ({out['reason']})",
            f"{out['id']}：风险等级 {out['previous'] or '—'} → {out['tier']}（{out['reason']}）",
        )
    )


@click.group("costs", cls=CommandGroup)
def costs() -> None:
    """Cost estimates from the cost library, compared with the survey's own estimates.

    \b
    Examples:
      hazards costs diff
    """


@costs.command("diff")
@click.option(
    "--threshold",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    help="Report differences above this fraction of the library estimate.",
)
@json_option
def costs_diff(threshold: float, as_json: bool) -> None:
    """Hazards whose survey estimate differs much from the library estimate."""
    from hazards.scoring import cost_diff

    rows = cost_diff(threshold=threshold)
    if as_json:
        echo_json(rows)
    else:
        echo_table(
            rows,
            [
                "id",
                "route_code",
                "category",
                "quantity",
                "unit",
                "estimated_cost_cny",
                "provided_cost_cny",
                "ratio",
            ],
            "survey vs library cost",
        )


@click.group("risk", cls=CommandGroup)
def risk() -> None:
    """Risk along the network, rated in 100 m cells.

    \b
    Examples:
      hazards risk routes
      hazards risk routes --json
    """


@risk.command("routes")
@json_option
def risk_routes(as_json: bool) -> None:
    """Routes ranked by risk per km: open hazards (100 m cells) plus crash history, and
    townships.

    Crash figures are of the crash period ([scoring.crashes] years up to the newest crash):
    crashes, KSI (fatal + serious), black spots, and crash points (route_weight × KSI a year)
    added to the open risk in total_risk_per_km.
    """
    from hazards.scoring import route_ratings

    out = route_ratings()
    if as_json:
        echo_json(out)
    else:
        echo_table(
            out["routes"][:40],
            [
                "rank",
                "route",
                "name",
                "length_km",
                "open_hazards",
                "tier_I_open",
                "risk_per_km",
                "crashes",
                "ksi",
                "black_spots",
                "total_risk_per_km",
                "worst_cell",
            ],
            "routes by risk per km (hazards + crashes 事故)",
        )
        more = len(out["routes"]) - 40
        if more > 0:
            click.echo(
                tr(
                    f"(the 40 riskiest of {len(out['routes'])} routes; --json lists all)",
                    f"（仅列出风险最高的 40 条，共 {len(out['routes'])} 条路线；--json 列出全部）",
                )
            )
        echo_table(
            out["townships"],
            ["township", "routes", "length_km", "open_hazards", "risk_per_km"],
            "townships",
        )
