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
    with_chainage,
)
from hazards.vocabulary import TIERS


@click.group("tiers", cls=CommandGroup)
def tiers() -> None:
    """Risk scores and tiers (I high, II, III): compute, compare with the survey, override."""


@tiers.command("compute")
@json_option
def tiers_compute(as_json: bool) -> None:
    """Score every hazard (risk dimensions → 0-100 → tier) and estimate its cost."""
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
            },
            title="tiers",
        )


@tiers.command("diff")
@json_option
def tiers_diff(as_json: bool) -> None:
    """Hazards whose survey tier and model tier disagree."""
    from hazards.scoring import tier_diff

    rows = tier_diff()
    if as_json:
        echo_json(rows)
    else:
        echo_table(
            with_chainage(rows),
            [
                "id",
                "route_code",
                "chainage",
                "category",
                "provided_tier",
                "model_tier",
                "score",
                "tier_override",
            ],
            "survey and model disagree",
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
    click.echo(f"{out['id']}: tier {out['previous'] or '—'} → {out['tier']} ({out['reason']})")


@click.group("costs", cls=CommandGroup)
def costs() -> None:
    """Cost estimates from the cost library, compared with the survey's own estimates."""


@costs.command("diff")
@click.option(
    "--threshold",
    type=float,
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
    """Risk along the network, rated in 100 m cells."""


@risk.command("routes")
@json_option
def risk_routes(as_json: bool) -> None:
    """Routes ranked by open risk per km (100 m cells), and townships."""
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
                "worst_cell",
            ],
            "routes by open risk per km",
        )
        echo_table(
            out["townships"],
            ["township", "routes", "length_km", "open_hazards", "risk_per_km"],
            "townships",
        )
