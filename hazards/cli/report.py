"""``hazards report``: the period report for superiors (Markdown, HTML, Excel or Word; zh or en);
``hazards export inventory``, the inventory as a GeoPackage, and ``hazards export
qgis-project``, a QGIS project on the live database (both added here to the ``export`` group
of :mod:`hazards.cli.plans`)."""

from __future__ import annotations

import click

from hazards.cli._common import HazardsCommand, echo_json, json_option, plain
from hazards.cli.plans import export_group


@click.command("report", cls=HazardsCommand)
@click.option(
    "--from",
    "date_from",
    help="First day of the period, YYYY-MM-DD (default: 1 January of the end's year).",
)
@click.option("--to", "date_to", help="Last day of the period, YYYY-MM-DD (default: today).")
@click.option("--year", type=int, help="A calendar year (instead of --from/--to).")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the headings and the narrative.",
)
@click.option(
    "-o",
    "--output",
    "path",
    type=click.Path(path_type=str),
    help="Write the report to this file: .md, .html (with charts), .xlsx (one sheet a "
    "table) or .docx (Word: narrative, charts, tables). Without it, the Markdown is printed.",
)
@json_option
def report_cmd(
    date_from: str | None,
    date_to: str | None,
    year: int | None,
    lang: str,
    path: str | None,
    as_json: bool,
) -> None:
    """The figures a county office reports up, as of the period's last day.

    Routes and km per class; hazards found, planned, fixed, verified and reopened per class,
    township and tier (statuses rebuilt from the events on the last day, like
    `progress --as-of`); batches with budgets and completion; re-checks made in the period;
    crashes per road class and severity when crash records exist; each table with its total,
    and a short narrative made of those numbers. The HTML and Word files add two charts:
    found and fixed per tier at every month end of the period, and hazards per township.
    """
    from hazards.report import build_report, markdown, write_report

    out = build_report(date_from=date_from, date_to=date_to, year=year, lang=lang)
    written = write_report(out, path) if path else None
    if as_json:
        echo_json({**out, "file": str(written) if written else None})
    elif written:
        click.echo(f"report {out['period_from']} – {out['period_to']} written to {written}")
    else:
        click.echo(plain(markdown(out)))


@export_group.command("inventory", cls=HazardsCommand)
@click.option(
    "-o",
    "--output",
    "path",
    required=True,
    type=click.Path(path_type=str),
    help="The GeoPackage to write (.gpkg; replaced when it exists).",
)
@click.option(
    "--crs",
    type=click.Choice(["working", "4326", "4490"]),
    default="working",
    show_default=True,
    help="working: the database's metric CRS; 4326: WGS 84; 4490: CGCS2000.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Legend labels of the QGIS styles stored in the file.",
)
@json_option
def export_inventory_cmd(path: str, crs: str, lang: str, as_json: bool) -> None:
    """The inventory as a GeoPackage for QGIS: layers roads (one feature per road segment, with
    class, township and chainage range), hazards (points: tier, status, cost, latest batch),
    hazard_extents (the runs of linear hazards, when any), batches (the points of their
    hazards), cells (the 100 m cells of route risk: open hazards, risk, worst open tier) and
    crashes (when any); each with its QGIS style (tier colours, status outlines, road classes,
    severities, zh or en names) in the file's layer_styles table."""
    from hazards.gpkg import export_inventory

    out = export_inventory(path, crs=crs, lang=lang)
    if as_json:
        echo_json(out)
    else:
        counts = ", ".join(f"{n} {k}" for k, n in out["layers"].items())
        click.echo(f"{counts} written to {out['file']} ({out['crs']})")


@export_group.command("qgis-project", cls=HazardsCommand)
@click.option(
    "-o",
    "--output",
    "path",
    required=True,
    type=click.Path(path_type=str),
    help="The QGIS project to write (.qgs; replaced when it exists).",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Layer names, legend labels, field names and value names in the project.",
)
@click.option(
    "--with-password",
    is_flag=True,
    help="Write the database password into the project (by default it is left out and QGIS "
    "asks for it).",
)
@json_option
def export_qgis_project_cmd(path: str, lang: str, with_password: bool, as_json: bool) -> None:
    """A QGIS project (.qgs) reading the live database: the layers of `export inventory`
    (roads, hazards, hazard extents, batches, 100 m cells, crashes) as PostGIS query layers
    with the same styles, so QGIS always shows today's inventory. The connection is that of
    `hazards db url`."""
    from hazards.qgis_project import write_project

    out = write_project(path, lang=lang, password=with_password)
    if as_json:
        echo_json(out)
    else:
        note = "" if with_password else "; QGIS will ask for the password"
        click.echo(f"{len(out['layers'])} layers written to {out['file']}{note}")
