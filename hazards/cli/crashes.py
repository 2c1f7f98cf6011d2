"""The ``hazards crashes`` and ``hazards screen`` commands: import police crash records, screen
the network for black spots (事故多发点段)."""

from __future__ import annotations

import click

from hazards.cli._common import CommandGroup, HazardsCommand, echo_json, json_option, plain, safe
from hazards.dates import parse_day
from hazards.errors import InputError


@click.group("crashes", cls=CommandGroup)
def crashes() -> None:
    """Import crash records (police records of where and when crashes happened)."""


@crashes.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option(
    "--source",
    required=True,
    help="Who keeps the records, e.g. 县公安局交警大队: a crash id given again by the same "
    "source is the same crash.",
)
@click.option("--sheet", help="Sheet of an Excel file to read (default: the first).")
@click.option(
    "--layer",
    help="Layer of a GeoPackage (or other multi-layer GIS file); required when it has several.",
)
@click.option(
    "--map",
    "mapping",
    metavar="FIELD=COLUMN,...",
    help="Columns for fields whose headers are not recognised, e.g. --map crash_id=案号,"
    "datetime=发生时间; FIELD= (empty) unmaps a column. Fields: crash_id, datetime, time, year, "
    "month, day, hour, minute, route_code, chainage, lon, lat, fatalities, injuries, serious, "
    "minor, severity, crash_type, weather, light.",
)
@click.option("--encoding", help="Text encoding of a CSV (default: UTF-8 or GBK, detected).")
@click.option(
    "--crs",
    help="CRS of the coordinates: an EPSG code for projected x/y (e.g. EPSG:4546), or gcj02 "
    "for phone-app lon/lat. Default: WGS84/CGCS2000 lon/lat.",
)
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(path_type=str),
    help="Where to write the rejected rows (default: NAME.rejected.csv beside the input).",
)
@click.option("--dry-run", is_flag=True, help="Read, attach and count everything; write nothing.")
@json_option
def crashes_import(
    path: str,
    source: str,
    sheet: str | None,
    layer: str | None,
    mapping: str | None,
    encoding: str | None,
    crs: str | None,
    rejected_path: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import crash records (CSV, XLSX, GeoJSON, Shapefile, GeoPackage).

    Every row is stored (attached to the nearest route within crash_snap_m), unattached (kept,
    farther from every road), rejected (written to NAME.rejected.csv with the reason) or empty.
    A crash is never merged with another; importing the same records again adds nothing
    (a crash whose row changed is updated).
    """
    from rich.console import Console

    from hazards.crashes import import_crashes
    from hazards.roads import parse_mapping

    report = import_crashes(
        path,
        source=source,
        sheet=sheet,
        layer=layer,
        mapping=parse_mapping(mapping),
        encoding=encoding,
        crs=crs,
        rejected_path=rejected_path,
        dry_run=dry_run,
    )
    if as_json:
        echo_json(report)
        return
    con = Console()
    title = "dry run, nothing written" if dry_run else "crashes imported"
    con.print(f"[bold]{title}[/]: {safe(report['file'])} ({safe(report['source'])})")
    con.print(
        f"rows {report['rows']}: [green]{report['stored']} stored[/], "
        f"[yellow]{report['unattached']} unattached[/], [red]{report['rejected']} rejected[/], "
        f"{report['empty']} empty; {report['junction']} at junctions"
    )
    con.print(
        f"crashes: {report['added']} added, {report['updated']} updated, "
        f"{report['unchanged']} unchanged; {report['warnings']} warnings"
    )
    for item in report["unattached_rows"][:20]:
        con.print(
            plain(
                f"  unattached: {item['row']} (line {item['line']}) at {item['lon']:.6f}, "
                f"{item['lat']:.6f}"
            ),
            markup=False,
        )
    for item in report["rejected_rows"][:20]:
        con.print(plain(f"  rejected: line {item['line']}: {item['reason']}"), markup=False)
    if report["rejected_file"]:
        con.print(f"rejected rows written to {safe(report['rejected_file'])}")


@click.command("screen", cls=HazardsCommand)
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day of crashes counted.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day of crashes counted.")
@click.option(
    "--unit",
    type=click.Choice(["cell", "window", "junction", "route"]),
    default="cell",
    show_default=True,
    help="Sites: 100 m cells along each route, sliding windows (--window-m long, moved by "
    "--step-m), junction nodes (three or more approaches), or whole routes (per km).",
)
@click.option(
    "--window-m",
    type=click.FloatRange(min=0, min_open=True),
    default=500.0,
    show_default=True,
    help="Length (m) of the sliding windows (--unit window).",
)
@click.option(
    "--step-m",
    type=click.FloatRange(min=0, min_open=True),
    default=100.0,
    show_default=True,
    help="How far (m) each sliding window starts after the one before (--unit window).",
)
@click.option(
    "--measure",
    type=click.Choice(["count", "ksi", "epdo", "eb-excess"]),
    default="count",
    show_default=True,
    help="Crash count, KSI (fatal + serious crashes), EPDO (weighted by severity), or the "
    "Empirical Bayes excess of expected over predicted crashes (not for junctions).",
)
@click.option("--top", type=click.IntRange(min=1), metavar="N", help="Show the N worst sites.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the sites as CSV (UTF-8) instead.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=str),
    help="Also write the sites to this GeoPackage (.gpkg): road stretches, or junction points.",
)
@json_option
def screen_cmd(
    date_from: str | None,
    date_to: str | None,
    unit: str,
    window_m: float,
    step_m: float,
    measure: str,
    top: int | None,
    as_csv: bool,
    output: str | None,
    as_json: bool,
) -> None:
    """Rank sites by their crashes: the black spots (事故多发点段) with their chainage range."""
    from rich.console import Console
    from rich.table import Table

    from hazards.screening import screen

    result = screen(
        unit=unit,
        measure=measure,
        date_from=parse_day(date_from or None, param="date_from"),
        date_to=parse_day(date_to or None, param="date_to"),
        top=top,
        window_m=window_m,
        step_m=step_m,
    )
    if output:
        from hazards.screening import sites_frame
        from hazards.sheets import writable_file

        target = writable_file(output, param="output", what="sites")
        if target.suffix.lower() != ".gpkg":
            raise InputError(f"{target}: write the sites to a .gpkg file.", param="output")
        sites_frame(result).to_file(target, layer="sites", engine="pyogrio")
    if as_json:
        echo_json(result)
        return
    if as_csv:
        import csv
        import sys

        from hazards.sheets import literal_text

        cols = ["rank", "id", "route", "from", "to", "from_m", "to_m", "crashes", "ksi"]
        cols += ["epdo", "value"] + [
            c for c in ("lon", "lat") if result["sites"] and c in result["sites"][0]
        ]
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        for site in result["sites"]:
            w.writerow([literal_text(site.get(c)) for c in cols])
        return
    con = Console()
    if output:
        con.print(f"{len(result['sites'])} sites written to {safe(output)}")
    table = Table(title=f"screening: {unit}, {measure} ({result['crashes']} crashes)")
    for col in ("rank", "route", "from", "to", "crashes", "ksi", "epdo", "value"):
        table.add_column(col)
    for s in result["sites"]:
        table.add_row(
            *(
                safe(s[c])
                for c in ("rank", "route", "from", "to", "crashes", "ksi", "epdo", "value")
            )
        )
    con.print(table)
