"""``hazards report``: the period report for superiors (Markdown, HTML, Excel or Word; zh or en)."""

from __future__ import annotations

import click

from hazards.cli._common import HazardsCommand, echo_json, json_option, plain, tr


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
    help="Language of the headings and the narrative (default: the lang setting, zh).",
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
    lang: str | None,
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
    from hazards.settings import language

    lang = language(lang)
    out = build_report(date_from=date_from, date_to=date_to, year=year, lang=lang)
    written = write_report(out, path) if path else None
    if as_json:
        echo_json({**out, "file": str(written) if written else None})
    elif written:
        click.echo(
            tr(
                f"report {out['period_from']} – {out['period_to']} written to {written}",
                f"报告（{out['period_from']} – {out['period_to']}）已写入 {written}",
                lang=lang,  # the report's language: --lang wins over the setting
            )
        )
    else:
        click.echo(plain(markdown(out)))
