"""The ``hazards`` command: parses arguments, calls the library, prints.

Exit codes: 0 success; 1 bad input or a refused operation (the message says what, where and
how to fix it); 2 usage error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

import hazards
from hazards.errors import HazardsError


class HazardsGroup(click.Group):
    """A group that turns library errors into a clean message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HazardsError as exc:
            raise click.ClickException(exc.message) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table."
    )(f)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def echo_mapping(data: dict[str, Any], *, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(str(key), "" if value is None else str(value))
    Console().print(table)


@click.group(cls=HazardsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(hazards.__version__, "--version", "-V", prog_name="hazards")
def cli() -> None:
    """Road-hazard inventory: roads and chainage in PostGIS, surveys, tiers, batches, maps.

    With no HAZARDS_DATABASE_URL set, commands that need the database start a private
    PostgreSQL + PostGIS cluster under HAZARDS_HOME (default ./.hazards) and reuse it.
    """


# --------------------------------------------------------------------------- versions
@cli.command("show-versions")
@click.option("--no-db", is_flag=True, help="Skip the database (PostgreSQL/PostGIS) versions.")
@json_option
def show_versions_cmd(no_db: bool, as_json: bool) -> None:
    """Print versions of Python, the libraries, GDAL/PROJ/GEOS, PostgreSQL and PostGIS."""
    from hazards.versions import versions

    data = versions(database=not no_db)
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data)


# --------------------------------------------------------------------------- db
@cli.group("db", cls=HazardsGroup)
def db() -> None:
    """Manage the database: the embedded PostGIS cluster, its URL and the schema."""


@db.command("up")
@json_option
def db_up(as_json: bool) -> None:
    """Start the embedded cluster (made on first use) and apply pending migrations."""
    from hazards.db import admin

    data = admin.up()
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title="database")


@db.command("down")
def db_down() -> None:
    """Stop the embedded cluster (its data stays under HAZARDS_HOME)."""
    from hazards.db import admin
    from hazards.settings import get_settings

    if get_settings().database_url:
        raise HazardsError(
            "HAZARDS_DATABASE_URL is set: that server is not managed by hazards, so there is "
            "nothing to stop. Unset it to manage the embedded database."
        )
    click.echo("Stopped." if admin.down() else "The embedded database was not running.")


@db.command("status")
@click.option(
    "--no-start", is_flag=True, help="Only report; do not restart an embedded server that is down."
)
@json_option
def db_status(no_start: bool, as_json: bool) -> None:
    """Show where the database is, whether it runs, and its versions.

    An embedded server that died (kill -9, reboot) is started again, unless it was stopped
    with `hazards db down` or --no-start is given.
    """
    from hazards.db import admin

    data = admin.status(start=not no_start)
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title="database")


@db.command("url")
@click.option("--hide-password", is_flag=True, help="Print the URL with the password masked.")
def db_url(hide_password: bool) -> None:
    """Print the database URL (for psql, QGIS or HAZARDS_DATABASE_URL elsewhere)."""
    from hazards.db import admin

    click.echo(admin.url(hide_password=hide_password))


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations (also done automatically on first use)."""
    from hazards.db import admin

    before, after = admin.upgrade()
    if before == after:
        click.echo(f"Schema already at {after}.")
    else:
        click.echo(f"Schema migrated from {before or 'empty'} to {after}.")


# --------------------------------------------------------------------------- roads
@cli.group("roads", cls=HazardsGroup)
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
        table.add_row(str(g[label] or "—"), str(g["routes"]), str(g["segments"]), f"{g['length_km']:.3f}")
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


# --------------------------------------------------------------------------- chainage
@cli.group("chainage", cls=HazardsGroup)
def chainage() -> None:
    """Find the point at a chainage (K12+350) of a route, or the chainage of a point."""


@chainage.command("locate")
@click.argument("code")
@click.argument("chainage_text", metavar="CHAINAGE")
@click.option("--part", type=int, default=0, show_default=True, help="Part of the route (0 = main line, 1.. = branches).")
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


# --------------------------------------------------------------------------- surveys
@cli.group("survey", cls=HazardsGroup)
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
    "Fields: " + ", ".join(("row_id", "route_code", "chainage", "lon", "lat", "category",
                           "description", "risk_level", "cost_10k", "cost_cny", "...")) + ".",
)
@click.option("--mapping", "mapping_file", type=click.Path(path_type=str), help="A TOML file of field = \"column\" lines (a [columns] table).")
@click.option("--encoding", help="Text encoding of a CSV (default: UTF-8 or GBK, detected).")
@click.option(
    "--crs",
    help="CRS of the coordinates: an EPSG code for projected x/y (e.g. EPSG:4546), or gcj02 for "
    "phone-app (GCJ-02) lon/lat. Default: WGS84/CGCS2000 lon/lat.",
)
@click.option("--rejected", "rejected_path", type=click.Path(path_type=str), help="Where to write the rejected rows (default: NAME.rejected.csv beside the input).")
@json_option
def survey_import(
    path: str, provider: str, surveyed_on: str, sheet: str | None, mapping: str | None,
    mapping_file: str | None, encoding: str | None, crs: str | None, rejected_path: str | None,
    as_json: bool,
) -> None:
    """Import a survey (CSV, XLSX, GeoJSON, Shapefile, GeoPackage) and match its rows.

    Every row is accepted (on a route at a chainage), sent to review, rejected (written to
    NAME.rejected.csv with the reason, to fix and re-send), counted as a duplicate, or empty.
    Importing the same file again changes nothing.
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from hazards.roads import parse_mapping
    from hazards.survey import import_survey, load_mapping_file

    columns = load_mapping_file(mapping_file) if mapping_file else {}
    columns.update(parse_mapping(mapping))
    # On stderr, and only while it runs (nothing is left behind in a log or after --json).
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading the network and the first rows")
        report = import_survey(
            path, provider=provider, surveyed_on=surveyed_on, sheet=sheet, mapping=columns,
            encoding=encoding, crs=crs, rejected_path=rejected_path,
            on_progress=lambda n: bar.update(task, description=f"{n:,} rows matched and stored"),
        )
    if as_json:
        echo_json(report)
        return
    con = Console()
    if report.get("already_imported"):
        con.print(f"{path} was already imported as survey {report['survey_id']}: nothing changed.")
        return
    con.print(f"[bold]survey {report['survey_id']}[/]: {report['file']} ({report['provider']}, {report['surveyed_on']})")
    con.print(
        f"rows {report['rows']}: [green]{report['accepted']} accepted[/], [yellow]{report['review']} to review[/], "
        f"[red]{report['rejected']} rejected[/], {report['duplicates']} duplicates, {report['empty']} empty"
    )
    con.print(f"hazards: {report['added']} added, {report['updated']} updated, {report['unchanged']} unchanged, "
              f"{report['seen_again']} seen again; {report['warnings']} warnings")
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
    from hazards.db import store
    from hazards.db.session import get_engine

    rows = store.list_surveys(get_engine())
    if as_json:
        echo_json(rows)
        return
    _table(rows, ["id", "provider", "surveyed_on", "source_name", "rows_total", "rows_accepted", "rows_review", "rows_rejected"], "surveys")


def _table(rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title} ({len(rows)})")
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else (f"{r[c]:.1f}" if isinstance(r[c], float) else str(r[c])) for c in columns))
    Console().print(table)


HAZARD_LIST_COLUMNS = ["id", "route_code", "chainage", "category", "tier", "status", "snap_distance_m", "description"]


def _with_chainage(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from hazards.chainage import format_chainage

    for r in rows:
        r["chainage"] = format_chainage(r["chainage_m"]) if r.get("chainage_m") is not None else ""
        if r.get("description") and len(r["description"]) > 40:
            r["description"] = r["description"][:39] + "…"
    return rows


@cli.command("list")
@click.option("--route", help="Only hazards on this route (e.g. Y105).")
@click.option("--tier", type=click.Choice(["I", "II", "III"]), help="Only hazards of this risk tier.")
@click.option("--status", help="Only hazards with this status (identified, review, planned, ...).")
@click.option("--survey", type=int, help="Only hazards from this survey id.")
@json_option
def list_cmd(route: str | None, tier: str | None, status: str | None, survey: int | None, as_json: bool) -> None:
    """List hazards with their route, chainage, category, tier and status."""
    from hazards.chainage import normalise_code
    from hazards.db import store
    from hazards.db.session import get_engine

    rows = store.list_hazards(get_engine(), route=normalise_code(route) if route else None, tier=tier, status=status, survey=survey)
    if as_json:
        echo_json(rows)
        return
    _table(_with_chainage(rows), HAZARD_LIST_COLUMNS, "hazards")


@cli.group("review", cls=HazardsGroup)
def review() -> None:
    """The review queue: survey rows that matched with doubt (distance, conflict, ambiguity)."""


@review.command("list")
@json_option
def review_list(as_json: bool) -> None:
    """Hazards waiting for review, with the reason."""
    from hazards.db import store
    from hazards.db.session import get_engine

    rows = store.list_hazards(get_engine(), review=True)
    for r in rows:
        r["reason"] = r.get("review_reason")
    if as_json:
        echo_json(rows)
        return
    _table(_with_chainage(rows), ["id", "route_code", "chainage", "category", "snap_distance_m", "reason"], "waiting for review")


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
@click.option("--reason", required=True, help="Why it is rejected (false positive, duplicate of H000123, ...).")
@click.option("--by", help="Who rejects it (recorded in the history).")
def review_reject_cmd(hazard_id: str, reason: str, by: str | None) -> None:
    """Reject a hazard waiting for review, with the reason."""
    from hazards.reconcile import review_reject

    out = review_reject(hazard_id, reason=reason, by=by)
    click.echo(f"{out['id']}: {out['status']}")


# --------------------------------------------------------------------------- tiers, costs, plans
@cli.group("tiers", cls=HazardsGroup)
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
        echo_mapping({"scored": out["scored"], "changed": out.get("changed", 0), **{f"tier {k}": v for k, v in out["tiers"].items()},
                      "survey/model disagreements": out["disagreements"], "overridden": out.get("overridden", 0)},
                     title="tiers")


@tiers.command("diff")
@json_option
def tiers_diff(as_json: bool) -> None:
    """Hazards whose survey tier and model tier disagree."""
    from hazards.scoring import tier_diff

    rows = tier_diff()
    if as_json:
        echo_json(rows)
    else:
        _table(_with_chainage(rows), ["id", "route_code", "chainage", "category", "provided_tier", "model_tier", "score", "tier_override"], "survey and model disagree")


@tiers.command("set")
@click.argument("hazard_id")
@click.option("--tier", required=True, type=click.Choice(["I", "II", "III"]), help="The tier the engineer sets.")
@click.option("--reason", required=True, help="Why (recorded in the hazard's history).")
@click.option("--by", help="Who sets it.")
def tiers_set(hazard_id: str, tier: str, reason: str, by: str | None) -> None:
    """Override a hazard's tier with a reason; it survives recomputation."""
    from hazards.scoring import set_tier

    out = set_tier(hazard_id, tier=tier, reason=reason, by=by)
    click.echo(f"{out['id']}: tier {out['previous'] or '—'} → {out['tier']} ({out['reason']})")


@cli.group("costs", cls=HazardsGroup)
def costs() -> None:
    """Cost estimates from the cost library, compared with the survey's own estimates."""


@costs.command("diff")
@click.option("--threshold", type=float, default=0.5, show_default=True, help="Report differences above this fraction of the library estimate.")
@json_option
def costs_diff(threshold: float, as_json: bool) -> None:
    """Hazards whose survey estimate differs much from the library estimate."""
    from hazards.scoring import cost_diff

    rows = cost_diff(threshold=threshold)
    if as_json:
        echo_json(rows)
    else:
        _table(rows, ["id", "route_code", "category", "quantity", "unit", "estimated_cost_cny", "provided_cost_cny", "ratio"], "survey vs library cost")


@cli.group("plan", cls=HazardsGroup)
def plan_group() -> None:
    """Remediation batches under a budget: highest risk first, contiguous lots."""


@plan_group.command("create")
@click.option("--name", required=True, help="Name of the plan, e.g. 2025; batches are NAME-1, NAME-2, ...")
@click.option("--budget", required=True, type=float, help="Budget in CNY.")
@click.option("--batches", type=int, default=3, show_default=True, help="Number of batches (contracts).")
@click.option("--group-by", type=click.Choice(["road", "township"]), default="road", show_default=True, help="Keep the hazards of one road (or township) in one batch.")
@click.option("--tiers", "tier_list", default="I,II,III", show_default=True, help="Tiers to fund, in priority order.")
@click.option("--min-lot", type=float, help="Smallest batch, CNY.")
@click.option("--max-lot", type=float, help="Largest batch, CNY.")
@click.option("--time-limit", type=float, default=30.0, show_default=True, help="Seconds for the exact solver before the greedy fallback.")
@click.option("--dry-run", is_flag=True, help="Show the plan without storing it.")
@json_option
def plan_create(name: str, budget: float, batches: int, group_by: str, tier_list: str, min_lot: float | None,
                max_lot: float | None, time_limit: float, dry_run: bool, as_json: bool) -> None:
    """Choose the open hazards to fund and cut them into batches (stored as a draft)."""
    from hazards.planning import create_plan

    out = create_plan(name=name, budget=budget, batches=batches, group_by=group_by,
                      tiers=tuple(t.strip() for t in tier_list.split(",") if t.strip()),
                      min_lot=min_lot, max_lot=max_lot, dry_run=dry_run, time_limit=time_limit)
    if as_json:
        echo_json(out)
    else:
        _print_plan(out)


def _print_plan(out: dict[str, Any]) -> None:
    from rich.console import Console

    con = Console()
    con.print(f"[bold]plan {out['name']}[/]{' (dry run)' if out.get('dry_run') else ''}: budget {out['budget_cny']:,.0f} CNY, "
              f"spent {out['spent_cny']:,.0f}, solver {out['solver']} (gap {out['optimality_gap']:.2%})")
    _table([{**b, "routes": ", ".join(b["routes"][:6]) + (" ..." if len(b["routes"]) > 6 else ""),
             "tiers": " ".join(f"{k}:{v}" for k, v in b["tiers"].items())} for b in out["batches"]],
           ["name", "hazards", "cost_cny", "km_touched", "tiers", "routes"], "batches")
    u = out["unfunded"]
    con.print(f"unfunded: {u['hazards']} hazards, {u['cost_cny']:,.0f} CNY ({' '.join(f'{k}:{v}' for k, v in u['tiers'].items())})")
    for w in out.get("warnings", []):
        con.print(f"[yellow]warning:[/] {w}")


@plan_group.command("list")
@json_option
def plan_list(as_json: bool) -> None:
    """The plans, draft or committed."""
    from hazards.db import store
    from hazards.db.session import get_engine

    rows = store.list_plans(get_engine())
    if as_json:
        echo_json(rows)
    else:
        _table(rows, ["name", "status", "budget_cny", "spent_cny", "batches", "hazards", "created_at"], "plans")


@plan_group.command("show")
@click.argument("name")
@json_option
def plan_show(name: str, as_json: bool) -> None:
    """A plan's batches, costs and unfunded remainder, with a rationale per hazard."""
    from hazards.db import store
    from hazards.db.session import get_engine

    p = store.get_plan(get_engine(), name)
    out = {**p["report"], "status": p["status"]}
    if as_json:
        echo_json(out)
    else:
        _print_plan(out)


@plan_group.command("commit")
@click.argument("name")
@click.option("--by", help="Who commits it.")
def plan_commit(name: str, by: str | None) -> None:
    """Make a draft plan binding: its hazards become planned."""
    from hazards.db import store
    from hazards.db.session import get_engine

    out = store.commit_plan(get_engine(), name, by=by)
    click.echo(f"plan {name} committed: {out['hazards_planned']} hazards planned")


@plan_group.command("drop")
@click.argument("name")
def plan_drop(name: str) -> None:
    """Delete a draft plan and its batches."""
    from hazards.db import store
    from hazards.db.session import get_engine

    store.drop_plan(get_engine(), name)
    click.echo(f"plan {name} dropped")


@cli.group("risk", cls=HazardsGroup)
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
        _table(out["routes"][:40], ["rank", "route", "name", "length_km", "open_hazards", "tier_I_open", "risk_per_km", "worst_cell"], "routes by open risk per km")
        _table(out["townships"], ["township", "routes", "length_km", "open_hazards", "risk_per_km"], "townships")


# --------------------------------------------------------------------------- tracking
@cli.group("status", cls=HazardsGroup)
def status_group() -> None:
    """The remediation lifecycle: identified → planned → in_progress → reported_done → verified."""


@status_group.command("set")
@click.argument("refs", nargs=-1, required=True)
@click.option("--to", "to", required=True, help="The new status (planned, in_progress, reported_done, verified, reopened, rejected).")
@click.option("--on", help="Date of the change, YYYY-MM-DD (default: today).")
@click.option("--by", help="Who made the change.")
@click.option("--note", help="A note; required when rejecting (the reason).")
@click.option("--evidence", help="A reference to evidence: photo, document or folder path.")
@click.option("--expect-version", type=int, help="Refuse the change if the hazard's version is no longer this one (someone else changed it).")
@json_option
def status_set(refs: tuple[str, ...], to: str, on: str | None, by: str | None, note: str | None,
               evidence: str | None, expect_version: int | None, as_json: bool) -> None:
    """Move hazards REFS... to a new status: all of them or none."""
    from hazards.remediation import set_status

    expected = {r: expect_version for r in refs} if expect_version is not None else None
    out = set_status(list(refs), to=to, on=on, by=by, note=note, evidence=evidence, expected_versions=expected)
    if as_json:
        echo_json(out)
    else:
        for o in out:
            click.echo(f"{o['id']}: {o['from']} → {o['to']}")


@cli.command("history")
@click.argument("ref")
@json_option
def history_cmd(ref: str, as_json: bool) -> None:
    """A hazard's current state and every event in its history."""
    from hazards.remediation import history

    out = history(ref)
    if as_json:
        echo_json(out)
        return
    echo_mapping({k: v for k, v in out.items() if k != "events"}, title=f"hazard {out['id']}")
    _table([{**e, "change": f"{e['from_status'] or ''} → {e['to_status'] or ''}" if e["to_status"] else ""} for e in out["events"]],
           ["happened_on", "kind", "change", "by", "note", "evidence"], "history")


@cli.group("recheck", cls=HazardsGroup)
def recheck() -> None:
    """Re-checks (回头看) of finished work: plan the visits, record the results."""


@recheck.command("plan")
@click.option("--batch", help="Only sites of this batch.")
@click.option("--road", help="Only sites on this route.")
@click.option("--sample", "sample_pct", type=float, default=100.0, show_default=True, help="Percentage of the finished sites to revisit.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random sample (same seed, same sample).")
@click.option("--include-verified", is_flag=True, help="Also revisit sites already verified.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=str), help="Where to write the list: .csv or .geojson.")
@json_option
def recheck_plan(batch: str | None, road: str | None, sample_pct: float, seed: int, include_verified: bool,
                 output: str, as_json: bool) -> None:
    """The finished sites to revisit, ordered along each route, with chainage and coordinates."""
    from hazards.remediation import plan_rechecks, write_sites

    if batch and road:
        raise click.UsageError("Give --batch or --road, not both.")
    sites = plan_rechecks(batch=batch, road=road, sample_pct=sample_pct, seed=seed, include_verified=include_verified)
    if sites.empty:
        raise HazardsError("There are no finished sites (reported done) to re-check for that choice.")
    path = write_sites(sites, output)
    if as_json:
        echo_json({"file": str(path), "sites": len(sites), "ids": list(sites["id"])})
    else:
        click.echo(f"{len(sites)} sites to re-check written to {path}")


@recheck.command("record")
@click.argument("ref")
@click.option("--result", required=True, type=click.Choice(["pass", "fail"]), help="pass → verified, fail → reopened.")
@click.option("--on", help="Date of the re-check, YYYY-MM-DD (default: today).")
@click.option("--by", help="Who re-checked.")
@click.option("--note", help="What was found.")
def recheck_record(ref: str, result: str, on: str | None, by: str | None, note: str | None) -> None:
    """Record a re-check of a finished site."""
    from hazards.remediation import record_recheck

    out = record_recheck(ref, result=result, on=on, by=by, note=note)
    click.echo(f"{out['id']}: {out['from']} → {out['to']}")


@cli.command("progress")
@click.option("--by", type=click.Choice(["road", "township", "tier", "batch"]), default="road", show_default=True, help="Group the hazards by this.")
@click.option("--as-of", help="The state on this date (YYYY-MM-DD), rebuilt from the events.")
@click.option("--csv", "csv_path", type=click.Path(path_type=str), help="Also write the table to this CSV file.")
@json_option
def progress_cmd(by: str, as_of: str | None, csv_path: str | None, as_json: bool) -> None:
    """Counts per status, % remediated and verified, remaining cost, km with open tier I."""
    from hazards.remediation import STATUSES, progress, progress_csv

    out = progress(by=by, as_of=as_of)
    if csv_path:
        progress_csv(out, csv_path)
    if as_json:
        echo_json(out)
        return
    rows = [{by: g["group"], **g["counts"], **{k: g[k] for k in ("hazards", "pct_remediated", "pct_verified", "remaining_cost_cny", "km_with_open_tier_I")}}
            for g in [*out["groups"], out["total"]]]
    _table(rows, [by, "hazards", *[s for s in STATUSES if any(r[s] for r in rows)], "pct_remediated", "pct_verified",
                  "remaining_cost_cny", "km_with_open_tier_I"], f"progress by {by}" + (f" as of {out['as_of']}" if out["as_of"] else ""))
    if csv_path:
        click.echo(f"written to {csv_path}")


@cli.group("batch", cls=HazardsGroup)
def batch_group() -> None:
    """Remediation batches (contracts): list them, set contractor and dates."""


@batch_group.command("list")
@json_option
def batch_list(as_json: bool) -> None:
    """The batches of every plan."""
    from hazards.db import store
    from hazards.db.session import get_engine

    rows = store.list_batches(get_engine())
    if as_json:
        echo_json(rows)
    else:
        _table(rows, ["name", "plan_name", "status", "contractor", "starts_on", "due_on", "hazards", "cost_cny"], "batches")


@batch_group.command("set")
@click.argument("name")
@click.option("--contractor", help="The contractor (施工单位) of the batch.")
@click.option("--start", help="Start date, YYYY-MM-DD: completions before it are refused.")
@click.option("--due", help="Due date, YYYY-MM-DD (in the contractor's file).")
def batch_set(name: str, contractor: str | None, start: str | None, due: str | None) -> None:
    """Set a batch's contractor, start and due dates."""
    import datetime as dt

    from hazards.db import store
    from hazards.db.session import get_engine

    def day(v: str | None, what: str) -> dt.date | None:
        if v is None:
            return None
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise HazardsError(f"{what} {v!r} is not a date; write YYYY-MM-DD.") from None

    out = store.update_batch(get_engine(), name, contractor=contractor, starts_on=day(start, "--start"), due_on=day(due, "--due"))
    click.echo(f"{out['name']}: contractor {out['contractor'] or '—'}, start {out['starts_on'] or '—'}, due {out['due_on'] or '—'}")


@cli.group("export", cls=HazardsGroup)
def export_group() -> None:
    """Files for others: a contractor's batch."""


@export_group.command("batch")
@click.argument("name")
@click.option("-o", "--output", required=True, type=click.Path(path_type=str), help="FILE.geojson (RFC 7946) or FILE.xlsx (work list).")
def export_batch_cmd(name: str, output: str) -> None:
    """Write batch NAME for its contractor (GeoJSON validated against the shipped schema)."""
    from hazards.contractors import export_batch

    out = export_batch(name, output)
    click.echo(f"{out['hazards']} hazards of batch {name} written to {out['file']}")


@cli.group("import", cls=HazardsGroup)
def import_group() -> None:
    """Files back from others: a contractor's completion report."""


@import_group.command("completion")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--dry-run", is_flag=True, help="Check every row and report, change nothing.")
@click.option("--by", help="Who reports (default: the batch's contractor).")
@json_option
def import_completion_cmd(path: str, dry_run: bool, by: str | None, as_json: bool) -> None:
    """Check a contractor's report (GeoJSON, CSV, XLSX) and apply the valid rows."""
    from hazards.contractors import import_completion

    out = import_completion(path, dry_run=dry_run, by=by)
    if as_json:
        echo_json(out)
        return
    click.echo(f"{out['rows']} rows: {out['valid']} valid ({'not applied, dry run' if dry_run else str(out['applied']) + ' applied'}), "
               f"{out['unchanged']} unchanged, {out['not_reported']} not reported, {out['invalid']} invalid")
    for c in out["changes"]:
        click.echo(f"  {c['id']}: {c['from']} → {c['to']} on {c['on']}")
    for r in out["invalid_rows"]:
        click.echo(f"  row {r['row']} ({r['id'] or 'no id'}): {r['reason']}")


# --------------------------------------------------------------------------- demo
@cli.command("demo")
@click.option(
    "--out",
    type=click.Path(path_type=str),
    default="out/demo",
    show_default=True,
    help="Folder for the demo's output files.",
)
@json_option
def demo(out: str, as_json: bool) -> None:
    """Run the main job on the sample county: roads, survey, tiers, a plan of three batches.

    Running it again reuses what is already loaded (and says so).
    """
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from hazards.demo import STEPS, run_demo

    con = Console(stderr=as_json)
    labels = {"database": "starting the database", "roads": "loading the sample roads",
              "survey": "importing the township survey", "tiers": "scoring hazards into tiers",
              "plan": "planning three batches under the budget", "exports": "exporting the batches",
              "completion": "importing batch 1's completion report", "rechecks": "re-checking finished sites",
              "maps": "writing the maps", "progress": "computing progress"}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=con, transient=as_json) as bar:
        task = bar.add_task("hazards demo", total=len(STEPS))

        def progress(step: str) -> None:
            bar.update(task, completed=STEPS.index(step), description=labels[step])

        data = run_demo(out=Path(out), progress=progress)
        bar.update(task, completed=len(STEPS), description="done")
    if as_json:
        echo_json(data)
        return
    _print_demo(con, data)


def _print_demo(con: Any, data: dict[str, Any]) -> None:
    from rich.table import Table

    db = data["database"]
    con.print(
        f"database: PostgreSQL {db['postgres_version']}, PostGIS {db['postgis_version']}, "
        f"{'embedded at ' + str(db.get('home')) if db['managed'] else 'HAZARDS_DATABASE_URL'}"
    )
    load = data["roads_load"]
    if load["reused_existing"]:
        con.print(f"roads: already loaded by an earlier run ({load['routes_unchanged']} routes unchanged), reused")
    else:
        con.print(f"roads: {load['rows_read']} features read, {load['routes_added']} routes added "
                  f"(working CRS {load['working_crs']})")
    summary = data["summary_by_class"]
    table = Table(title="roads by class")
    for col in ("class", "routes", "segments", "km"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for g in summary["classes"]:
        table.add_row(str(g["class"]), str(g["routes"]), str(g["segments"]), f"{g['length_km']:.1f}")
    t = summary["total"]
    table.add_row("[bold]total", str(t["routes"]), str(t["segments"]), f"{t['length_km']:.1f}")
    con.print(table)
    for r in data["example_routes"]:
        parts = "; ".join(
            f"part {p['part']} {p['kind']} {p['from']}–{p['to']}"
            + "".join(f" (gap {g['from']}–{g['to']})" for g in p["gaps"])
            for p in r["parts"]
        )
        con.print(f"  {r['route']} {r['name']}: {r['length_km']:.3f} km, {parts}")
    s = data["survey"]
    if s.get("already_imported"):
        con.print(f"survey: already imported by an earlier run as survey {s['survey_id']}, reused")
    con.print(
        f"survey ({s['rows']} rows): {s['accepted']} accepted, {s['review']} to review, {s['rejected']} rejected, "
        f"{s['duplicates']} duplicates, {s['empty']} empty; rejected by reason: "
        + ", ".join(f"{k} {v}" for k, v in sorted(s["rejected_by_reason"].items()))
    )
    if s.get("rejected_file"):
        con.print(f"  rejected rows for the survey firm: {s['rejected_file']}")
    t = data["tiers"]
    con.print(f"tiers: {t['scored']} hazards scored: " + ", ".join(f"tier {k} {v}" for k, v in t["tiers"].items())
              + f"; {t['disagreements']} where the survey and the model disagree (`hazards tiers diff`)")
    p = data["plan"]
    con.print(f"plan {p['name']}{' (reused)' if p.get('reused') else ''}: budget {p['budget_cny']:,.0f} CNY, "
              f"spent {p['spent_cny']:,.0f}, solver {p['solver']}")
    for b in p["batches"]:
        con.print(f"  {b['name']}: {b['hazards']} hazards on {len(b['routes'])} routes, {b['cost_cny']:,.0f} CNY, "
                  + " ".join(f"{k}:{v}" for k, v in b["tiers"].items()))
    u = p["unfunded"]
    con.print(f"  unfunded: {u['hazards']} hazards, {u['cost_cny']:,.0f} CNY")
    con.print("riskiest routes (open risk per km, 100 m cells): "
              + ", ".join(f"{r['route']} {r['risk_per_km']:.0f}" for r in data["riskiest_routes"]))
    c = data["completion"]
    if c:
        con.print(f"completion report ({c['rows']} rows): {c['applied']} applied, {c['unchanged']} already applied, "
                  f"{c['not_reported']} not reported, {c['invalid']} invalid")
        for r in c["invalid_rows"]:
            con.print(f"  row {r['row']} ({r['id']}): {r['reason']}")
    r = data["rechecks"]
    if r["planned"]:
        con.print(f"re-checks (回头看): {r['planned']} sites; {len(r['passed'])} passed (verified), "
                  f"{len(r['failed'])} failed and reopened ({', '.join(r['failed'])})")
    else:
        con.print("re-checks (回头看): nothing new to re-check (done by an earlier run)")
    for key, label in (("progress_by_tier", "tier"), ("progress_by_township", "township")):
        rep = data[key]
        table = Table(title=f"progress by {label} (full table: hazards progress --by {label})")
        for col in (label, "hazards", "open", "done", "verified", "% done", "left (万元)", "km open I"):
            table.add_column(col, justify="left" if col == label else "right")
        for g in [*rep["groups"], rep["total"]]:
            c = g["counts"]
            open_ = sum(c[s] for s in ("identified", "review", "planned", "in_progress", "reopened"))
            table.add_row(str(g["group"]), str(g["hazards"]), str(open_), str(c["reported_done"] + c["verified"]),
                          str(c["verified"]), f"{g['pct_remediated']:.1f}", f"{g['remaining_cost_cny'] / 1e4:,.1f}",
                          f"{g['km_with_open_tier_I']:.1f}")
        con.print(table)
    con.print("[bold]files[/]:")
    for what, path in data["files"].items():
        con.print(f"  {what}: {path}")
    con.print("database: `hazards db url`; more: `hazards --help`")


def _register_maps() -> None:
    from hazards.cli_maps import map_group

    cli.add_command(map_group)


_register_maps()


def main() -> None:
    cli(prog_name="hazards")


if __name__ == "__main__":
    main()
