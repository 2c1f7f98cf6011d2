"""The ``hazards roads`` and ``hazards chainage`` commands: load road files, summaries, routes,
and points at a chainage."""

from __future__ import annotations

import click

from hazards.cli._common import CommandGroup, echo_json, echo_mapping, json_option


@click.group("roads", cls=CommandGroup)
def roads() -> None:
    """Load road files into routes with chainage; summaries and per-route details."""


@roads.command("load")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--layer", help="Layer to read when the file has several (GeoPackage).")
@click.option(
    "--map",
    "mapping",
    metavar="ROLE=FIELD,...",
    help="Which fields hold the route code, name, class and township, when they are not "
    "recognised, e.g. --map code=LXBM,name=LXMC,class=XZDJ,township=XZMC.",
)
@click.option(
    "--class",
    "road_class",
    help="Administrative class of every feature (county, township, village, national, "
    "provincial, special, other; or 县道, 乡道, ...). Default: from a class field, else from "
    "the route code's prefix (G, S, X, Y, C, Z).",
)
@click.option(
    "--crs",
    help="The file's CRS when it has none (e.g. a shapefile without .prj): EPSG:4490, "
    "EPSG:4546, a WKT or PROJ string. Overrides the file's own CRS if given.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Replace routes that are already loaded and whose input changed (default: keep them "
    "and report them as skipped).",
)
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(path_type=str),
    help="Where to write rejected rows for fixing and re-import (default: "
    "NAME.rejected.gpkg in the current folder).",
)
@json_option
def roads_load(
    path: str,
    layer: str | None,
    mapping: str | None,
    road_class: str | None,
    crs: str | None,
    replace: bool,
    rejected_path: str | None,
    as_json: bool,
) -> None:
    """Load a road file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, .osm.pbf) into routes.

    Features are grouped into routes by route code and assembled in order; each segment gets
    its chainage along the route. Every input row is accounted for: loaded, repaired (and
    said how) or rejected (with the reason, and written to the rejected file).
    """
    from hazards.roads import load_roads, parse_mapping

    result = load_roads(
        path,
        layer=layer,
        mapping=parse_mapping(mapping),
        road_class=road_class,
        crs=crs,
        replace=replace,
        rejected_path=rejected_path,
    )
    if as_json:
        echo_json(result.to_dict())
        return
    from rich.console import Console

    con = Console()
    con.print(f"[bold]{result.file}[/] ({result.source_crs} → working CRS {result.working_crs})")
    con.print(
        f"rows: {result.rows_read} read, {result.rows_loaded} loaded "
        f"({result.rows_repaired} repaired), {result.rows_rejected} rejected"
    )
    con.print(
        f"routes: {result.routes_in_file} in the file ({result.length_km:.3f} km); "
        f"{len(result.routes_added)} added, {len(result.routes_replaced)} replaced, "
        f"{len(result.routes_unchanged)} already loaded and unchanged, "
        f"{len(result.routes_skipped)} skipped; {result.unassigned_features} features "
        "without a route code loaded as unassigned roads"
    )
    if result.routes_skipped:
        con.print(
            f"[yellow]skipped (already loaded with other data; use --replace):[/] "
            f"{', '.join(result.routes_skipped[:20])}{' ...' if len(result.routes_skipped) > 20 else ''}"
        )
    if result.routes_with_gaps:
        con.print(f"routes with gaps: {', '.join(result.routes_with_gaps)}")
    if result.routes_with_branches:
        con.print(f"routes with branches: {', '.join(result.routes_with_branches)}")
    problems = [i for i in result.issues if i.action != "flagged"]
    for issue in problems[:50]:
        colour = "red" if issue.action == "rejected" else "yellow"
        con.print(f"  row {issue.row}: [{colour}]{issue.action}[/] ({issue.field}): {issue.reason}")
    if len(problems) > 50:
        con.print(f"  ... {len(problems) - 50} more rows repaired or rejected (see --json)")
    if result.rejected_file:
        con.print(f"rejected rows written to {result.rejected_file}")


@roads.command("summary")
@click.option(
    "--by",
    type=click.Choice(["class", "township"]),
    default="class",
    show_default=True,
    help="Group the routes by administrative class or by township.",
)
@json_option
def roads_summary(by: str, as_json: bool) -> None:
    """Routes, segments and km per class (or township) and in total."""
    from hazards.roads import road_summary

    data = road_summary(by=by)
    if as_json:
        echo_json(data)
        return
    from rich.console import Console
    from rich.table import Table

    key = "classes" if by == "class" else "townships"
    label = "class" if by == "class" else "township"
    table = Table(title=f"roads by {label}")
    for col in (label, "routes", "segments", "km"):
        table.add_column(col, justify="left" if col == label else "right")
    for g in data[key]:
        table.add_row(
            str(g[label] or "—"), str(g["routes"]), str(g["segments"]), f"{g['length_km']:.3f}"
        )
    t = data["total"]
    table.add_row("[bold]total", str(t["routes"]), str(t["segments"]), f"{t['length_km']:.3f}")
    Console().print(table)
    if data["unassigned_segments"]:
        click.echo(
            f"plus {data['unassigned_segments']} features without a route code "
            f"({data['unassigned_length_km']:.3f} km), loaded as unassigned roads"
        )


@roads.command("show")
@click.argument("code")
@json_option
def roads_show(code: str, as_json: bool) -> None:
    """Length, chainage range, parts (main line, branches, gaps), class and township of a route."""
    from hazards.roads import road_info

    data = road_info(code)
    if as_json:
        echo_json(data)
        return
    head = {k: data[k] for k in ("route", "name", "class", "township", "length_km", "segments")}
    head["chainage"] = f"{data['chainage_from']} – {data['chainage_to']}"
    echo_mapping(head, title=f"route {data['route']}")
    for p in data["parts"]:
        click.echo(
            f"  part {p['part']} ({p['kind']}): {p['from']} – {p['to']}, "
            f"{p['segments']} segments, {p['length_m'] / 1000:.3f} km"
        )
        for gap in p["gaps"]:
            click.echo(f"    gap {gap['from']} – {gap['to']} ({gap['length_m']:.0f} m, no data)")


@click.group("chainage", cls=CommandGroup)
def chainage() -> None:
    """Find the point at a chainage (K12+350) of a route, or the chainage of a point."""


@chainage.command("locate")
@click.argument("code")
@click.argument("chainage_text", metavar="CHAINAGE")
@click.option(
    "--part",
    type=int,
    default=0,
    show_default=True,
    help="Part of the route (0 = main line, 1.. = branches).",
)
@json_option
def chainage_locate(code: str, chainage_text: str, part: int, as_json: bool) -> None:
    """Point at CHAINAGE (K1+250, 1+250 or metres) of route CODE, as lon/lat and x/y."""
    from hazards.chainage import locate_on_route

    data = locate_on_route(code, chainage_text, part=part)
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title=f"{data['route']} {data['chainage']}")


@chainage.command("measure")
@click.argument("code")
@click.argument("lon", type=float)
@click.argument("lat", type=float)
@json_option
def chainage_measure(code: str, lon: float, lat: float, as_json: bool) -> None:
    """Chainage of the point LON LAT (decimal degrees) along route CODE, and its offset."""
    from hazards.chainage import measure_on_route

    data = measure_on_route(code, lon, lat)
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title=f"{data['route']} {data['chainage']}")
