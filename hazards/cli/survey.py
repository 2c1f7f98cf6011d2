"""The ``hazards survey``, ``hazards review`` and ``hazards list`` commands: import surveys,
decide the doubtful rows, list the inventory."""

from __future__ import annotations

import click

from hazards.cli._common import (
    CommandGroup,
    HazardsCommand,
    echo_json,
    echo_table,
    json_option,
    with_chainage,
)
from hazards.errors import HazardsError
from hazards.vocabulary import TIERS

HAZARD_LIST_COLUMNS = [
    "id",
    "route_code",
    "chainage",
    "category",
    "tier",
    "status",
    "snap_distance_m",
    "description",
]
"""The columns of ``hazards list`` (its --json has every key)."""


@click.group("survey", cls=CommandGroup)
def survey() -> None:
    """Import third-party hazard surveys and reconcile every row onto the road network."""


@survey.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--provider", required=True, help="Name of the survey firm that delivered the file.")
@click.option("--surveyed-on", required=True, metavar="YYYY-MM-DD", help="Date of the survey.")
@click.option("--sheet", help="Sheet of an Excel file to read (default: the first).")
@click.option(
    "--map",
    "mapping",
    metavar="FIELD=COLUMN,...",
    help="Columns for fields whose headers are not recognised, e.g. --map lon=X坐标,lat=Y坐标. "
    "Fields: "
    + ", ".join(
        (
            "row_id",
            "route_code",
            "chainage",
            "lon",
            "lat",
            "category",
            "description",
            "risk_level",
            "cost_10k",
            "cost_cny",
            "...",
        )
    )
    + ".",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(path_type=str),
    help='A TOML file of field = "column" lines (a [columns] table).',
)
@click.option("--encoding", help="Text encoding of a CSV (default: UTF-8 or GBK, detected).")
@click.option(
    "--crs",
    help="CRS of the coordinates: an EPSG code for projected x/y (e.g. EPSG:4546), or gcj02 for "
    "phone-app (GCJ-02) lon/lat. Default: WGS84/CGCS2000 lon/lat.",
)
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(path_type=str),
    help="Where to write the rejected rows (default: NAME.rejected.csv beside the input).",
)
@json_option
def survey_import(
    path: str,
    provider: str,
    surveyed_on: str,
    sheet: str | None,
    mapping: str | None,
    mapping_file: str | None,
    encoding: str | None,
    crs: str | None,
    rejected_path: str | None,
    as_json: bool,
) -> None:
    """Import a survey (CSV, XLSX, GeoJSON, Shapefile, GeoPackage) and match its rows.

    Every row is accepted (on a route at a chainage), sent to review, rejected (written to
    NAME.rejected.csv with the reason, to fix and re-send), counted as a duplicate, or empty.
    Importing the same file again changes nothing.
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from hazards.intake import import_survey
    from hazards.roads import parse_mapping
    from hazards.survey import load_mapping_file

    try:
        columns = load_mapping_file(mapping_file) if mapping_file else {}
    except HazardsError as exc:
        exc.param = "mapping_file"  # the file came from --mapping (the library calls it mapping)
        raise
    columns.update(parse_mapping(mapping))
    # On stderr, and only while it runs (nothing is left behind in a log or after --json).
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("reading the network and the first rows")
        report = import_survey(
            path,
            provider=provider,
            surveyed_on=surveyed_on,
            sheet=sheet,
            mapping=columns,
            encoding=encoding,
            crs=crs,
            rejected_path=rejected_path,
            on_progress=lambda n: bar.update(task, description=f"{n:,} rows matched and stored"),
        )
    if as_json:
        echo_json(report)
        return
    con = Console()
    if report.get("already_imported"):
        con.print(f"{path} was already imported as survey {report['survey_id']}: nothing changed.")
        return
    con.print(
        f"[bold]survey {report['survey_id']}[/]: {report['file']} ({report['provider']}, {report['surveyed_on']})"
    )
    con.print(
        f"rows {report['rows']}: [green]{report['accepted']} accepted[/], [yellow]{report['review']} to review[/], "
        f"[red]{report['rejected']} rejected[/], {report['duplicates']} duplicates, {report['empty']} empty"
    )
    con.print(
        f"hazards: {report['added']} added, {report['updated']} updated, {report['unchanged']} unchanged, "
        f"{report['seen_again']} seen again; {report['warnings']} warnings"
    )
    for key, n in sorted(report["rejected_by_reason"].items()):
        con.print(f"  rejected ({key}): {n}")
    for item in report["rejected_rows"][:20]:
        con.print(f"  row {item['row']}: {item['reason']}")
    if report["rejected_file"]:
        con.print(f"rejected rows written to {report['rejected_file']}")
    if report["review"]:
        con.print("see them with `hazards review list`")


@survey.command("list")
@json_option
def survey_list(as_json: bool) -> None:
    """The imported surveys with their row counts."""
    from hazards.inventory import list_surveys

    rows = list_surveys()
    if as_json:
        echo_json(rows)
        return
    echo_table(
        rows,
        [
            "id",
            "provider",
            "surveyed_on",
            "source_name",
            "rows_total",
            "rows_accepted",
            "rows_review",
            "rows_rejected",
        ],
        "surveys",
    )


@click.command("list", cls=HazardsCommand)
@click.option("--route", help="Only hazards on this route (e.g. Y105).")
@click.option("--tier", type=click.Choice(TIERS), help="Only hazards of this risk tier.")
@click.option("--status", help="Only hazards with this status (identified, review, planned, ...).")
@click.option("--survey", type=int, help="Only hazards from this survey id.")
@json_option
def list_cmd(
    route: str | None, tier: str | None, status: str | None, survey: int | None, as_json: bool
) -> None:
    """List hazards with their route, chainage, category, tier and status."""
    from hazards.inventory import list_hazards

    rows = list_hazards(route=route, tier=tier, status=status, survey=survey)
    if as_json:
        echo_json(rows)
        return
    echo_table(with_chainage(rows), HAZARD_LIST_COLUMNS, "hazards")


@click.group("review", cls=CommandGroup)
def review() -> None:
    """The review queue: survey rows that matched with doubt (distance, conflict, ambiguity)."""


@review.command("list")
@json_option
def review_list(as_json: bool) -> None:
    """Hazards waiting for review, with the reason."""
    from hazards.inventory import review_queue

    rows = review_queue()
    if as_json:
        echo_json(rows)
        return
    echo_table(
        with_chainage(rows),
        ["id", "route_code", "chainage", "category", "snap_distance_m", "reason"],
        "waiting for review",
    )


@review.command("accept")
@click.argument("hazard_id")
@click.option("--route", help="Place the hazard on this route instead of the one it matched.")
@click.option("--by", help="Who accepts it (recorded in the history).")
def review_accept_cmd(hazard_id: str, route: str | None, by: str | None) -> None:
    """Accept a hazard waiting for review (optionally on another route)."""
    from hazards.reconcile import review_accept

    out = review_accept(hazard_id, route=route, by=by)
    click.echo(f"{out['id']}: {out['status']}")


@review.command("reject")
@click.argument("hazard_id")
@click.option(
    "--reason",
    required=True,
    help="Why it is rejected (false positive, duplicate of H000123, ...).",
)
@click.option("--by", help="Who rejects it (recorded in the history).")
def review_reject_cmd(hazard_id: str, reason: str, by: str | None) -> None:
    """Reject a hazard waiting for review, with the reason."""
    from hazards.reconcile import review_reject

    out = review_reject(hazard_id, reason=reason, by=by)
    click.echo(f"{out['id']}: {out['status']}")
