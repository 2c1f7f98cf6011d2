"""The ``hazards`` command: parses arguments, calls the library's step verbs, prints.

Exit codes: 0 success; 1 bad input or a refused operation (the message says what, where and
how to fix it, and which option or argument it is about); 2 usage error.

One module per command group: :mod:`~hazards.cli.db`, :mod:`~hazards.cli.roads` (roads,
chainage), :mod:`~hazards.cli.survey` (survey, review, list), :mod:`~hazards.cli.tiers` (tiers,
costs, risk), :mod:`~hazards.cli.plans` (plan, batch, export, import),
:mod:`~hazards.cli.tracking` (status, history, recheck, progress), :mod:`~hazards.cli.maps`,
:mod:`~hazards.cli.demo` and :mod:`~hazards.cli.versions`; what they share is in
:mod:`~hazards.cli._common`. Importing them is cheap: each command imports the library (and
SQLAlchemy, geopandas, rich...) only when it runs, so ``hazards --help`` stays fast.
"""

from __future__ import annotations

import click

from hazards import __version__
from hazards.cli import crashes as crashes_cli
from hazards.cli import db, demo, maps, plans, roads, survey, tiers, tracking, users, versions
from hazards.cli import report as report_cli
from hazards.cli._common import HazardsGroup

__all__ = ["cli", "main"]


@click.group(cls=HazardsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="hazards")
def cli() -> None:
    """Road-hazard inventory: roads and chainage in PostGIS, surveys, tiers, batches, maps.

    With no HAZARDS_DATABASE_URL set, commands that need the database start a private
    PostgreSQL + PostGIS cluster under HAZARDS_HOME (default ./.hazards) and reuse it.
    """


for _command in (
    versions.show_versions_cmd,
    db.db,
    roads.roads,
    roads.chainage,
    survey.survey,
    survey.list_cmd,
    survey.review,
    tiers.tiers,
    tiers.costs,
    plans.plan_group,
    tiers.risk,
    tracking.status_group,
    tracking.history_cmd,
    tracking.recheck,
    tracking.progress_cmd,
    report_cli.report_cmd,
    plans.batch_group,
    plans.export_group,
    plans.import_group,
    demo.demo,
    maps.map_group,
    users.users,
    crashes_cli.crashes,
    crashes_cli.screen_cmd,
    crashes_cli.evaluate_cmd,
):
    cli.add_command(_command)
del _command


def main() -> None:
    """The console script ``hazards`` (setup.cfg's entry point)."""
    cli(prog_name="hazards")
