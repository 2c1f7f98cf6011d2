"""The ``hazards map`` commands: overview, road dossier (一路一档) and batch maps as HTML files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hazards.cli._common import STATUS, CommandGroup, plain, tr
from hazards.cli.crashes import screening_options
from hazards.errors import ConfigError
from hazards.vocabulary import TIERS

map_group = CommandGroup(
    "map",
    help="Write interactive HTML maps: the county overview, a road's dossier, a batch, the "
    "network screening (black spots).\n\n\b\nExamples:\n"
    "  hazards map overview --tier I --status identified\n"
    "  hazards map road Y005\n"
    "  hazards map batch 2025-1 -o 2025-1.html\n"
    "  hazards map screen --offline",
)


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options every map command shares."""
    options = [
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, path_type=Path),
            help="HTML file to write (default: a file under maps/).",
        ),
        click.option(
            "--lang",
            type=click.Choice(["en", "zh"]),
            default=None,
            help="Language of the legend, layer names, popups and tables (default: the lang "
            "setting, zh).",
        ),
        click.option(
            "--tier",
            "tiers",
            multiple=True,
            type=click.Choice(TIERS),
            help="Only hazards of this effective risk tier (repeatable).",
        ),
        click.option(
            "--status",
            "statuses",
            multiple=True,
            type=STATUS,
            help="Only hazards with this status (repeatable; a code or its Chinese word).",
        ),
        click.option(
            "--township",
            "townships",
            multiple=True,
            help="Only roads and hazards of this township (repeatable).",
        ),
        click.option(
            "--tiles",
            default=None,
            help="Background tiles: none; osm (OpenStreetMap) or tianditu (天地图, key in the "
            "tianditu_key setting), which need the internet; a URL template with {z}/{x}/{y}; "
            "a local XYZ tile folder; or an .mbtiles or .pmtiles file (raster tiles), unpacked "
            "into NAME_tiles/ next to the HTML so the page shows it offline. Default: osm, or "
            "none with --offline.",
        ),
        click.option(
            "--offline",
            is_flag=True,
            help="Build a page that loads nothing from the network (no tiles; the "
            "JS/CSS are always inlined).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _tiles(tiles: str | None, offline: bool) -> str:
    from hazards.basemaps import tile_spec

    if offline and tiles and (tiles in ("osm", "tianditu") or "://" in tiles):
        raise ConfigError(f"--offline pages load nothing from the network: drop --tiles {tiles}.")
    output = click.get_current_context().params.get("output")  # local tiles go next to it
    page_dir = Path(output).parent if output else Path("maps")
    return tile_spec(tiles or ("none" if offline else "osm"), page_dir=page_dir)


def _filters(tiers: tuple[str, ...], statuses: tuple[str, ...]) -> dict[str, Any]:
    return {"tiers": tiers or None, "statuses": statuses or None}


def _default_path(kind: str, name: str = "", *filters: str) -> Path:
    """``maps/KIND[-NAME][-FILTER...].html``: a filtered map (tiers, statuses, townships) gets
    a name of its own rather than replacing the whole map's."""
    from hazards.outfiles import safe_name

    parts = [safe_name(p) for p in (name, *filters)]
    return Path("maps") / ("-".join([kind, *(p for p in parts if p)]) + ".html")


def _lang(lang: str | None) -> str:
    from hazards.settings import language

    return language(lang)


def _write(page: Any, output: Path) -> None:
    from hazards.mapping import page_warnings
    from hazards.outfiles import writable_file

    writable_file(output, param="output", what="map")
    page.save(str(output))
    size_kb = output.stat().st_size / 1024
    for line in page_warnings(page):
        click.echo(tr("Warning: ", "警告：") + plain(line), err=True)
    click.echo(
        tr(f"Wrote {output} ({size_kb:,.0f} KB).", f"已写入 {output}（{size_kb:,.0f} KB）。")
    )


@map_group.command("overview")
@_common
@click.option(
    "--no-crashes",
    is_flag=True,
    help="Leave out the crash layer and the black spots (shown when crashes are imported).",
)
def overview_cmd(
    output: Path | None,
    lang: str,
    tiers: tuple[str, ...],
    statuses: tuple[str, ...],
    townships: tuple[str, ...],
    tiles: str | None,
    offline: bool,
    no_crashes: bool,
) -> None:
    """The county overview: roads by worst open tier or % remediated, hazards by tier and status;
    crashes by severity and the black spots (事故多发点段), each a layer to switch."""
    from hazards.mapping import overview_map

    lang = _lang(lang)
    path = output or _default_path("overview", "", *tiers, *statuses, *townships)
    m = overview_map(
        lang=lang,
        tiles=_tiles(tiles, offline),
        townships=townships or None,
        out_dir=path.parent,
        **_filters(tiers, statuses),
    )
    if not no_crashes:
        from hazards.crash_maps import add_crash_layers

        add_crash_layers(m, townships=townships or None, lang=lang)
    _write(m, path)


@map_group.command("road")
@click.argument("code")
@_common
@click.option(
    "--no-crashes",
    is_flag=True,
    help="Leave out the crash layer and the black spots (shown when crashes are imported).",
)
def road_cmd(
    code: str,
    output: Path | None,
    lang: str,
    tiers: tuple[str, ...],
    statuses: tuple[str, ...],
    townships: tuple[str, ...],
    tiles: str | None,
    offline: bool,
    no_crashes: bool,
) -> None:
    """A road's dossier (一路一档): chainage diagram, map and hazard table of route CODE, with its
    crashes (ticks on the diagram, a layer on the map) and black spots."""
    from hazards.crash_maps import crash_dossier
    from hazards.mapping import road_dossier

    path = output or _default_path("road", code, *tiers, *statuses, *townships)
    page = (road_dossier if no_crashes else crash_dossier)(
        code,
        lang=_lang(lang),
        tiles=_tiles(tiles, offline),
        townships=townships or None,
        out_dir=path.parent,
        **_filters(tiers, statuses),
    )
    _write(page, path)


@map_group.command("batch")
@click.argument("name")
@_common
def batch_cmd(
    name: str,
    output: Path | None,
    lang: str,
    tiers: tuple[str, ...],
    statuses: tuple[str, ...],
    townships: tuple[str, ...],
    tiles: str | None,
    offline: bool,
) -> None:
    """The sites of remediation batch NAME, numbered in work-list order: a number beside each
    on the map, its countermeasure and quantity in its popup, and a site table (序号, 桩号 or
    起止桩号, category, countermeasure, quantity, cost) under the map; roads coloured by the
    batch's sites only, the other roads grey."""
    from hazards.mapping import batch_map

    path = output or _default_path("batch", name)
    m = batch_map(
        name,
        lang=_lang(lang),
        tiles=_tiles(tiles, offline),
        townships=townships or None,
        out_dir=path.parent,
        **_filters(tiers, statuses),
    )
    _write(m, path)


@map_group.command("screen")
@screening_options(unit="window")
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    metavar="N",
    help="Draw the N worst sites.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (default: maps/screen-UNIT-MEASURE.html).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of the legend, layer names and popups (default: the lang setting, zh).",
)
@click.option(
    "--tiles",
    default=None,
    help="Background tiles, as for `hazards map overview` (none, osm, ...). "
    "Default: osm, or none with --offline.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Build a page that loads nothing from the network (no tiles).",
)
def screen_cmd(
    unit: str,
    measure: str,
    date_from: str | None,
    date_to: str | None,
    top: int,
    window_m: float,
    step_m: float,
    distinct: bool,
    output: Path | None,
    lang: str,
    tiles: str | None,
    offline: bool,
) -> None:
    """The network screening on a map: the TOP black-spot candidates (事故多发点段) ranked and
    coloured by the measure, each with its chainage range and figures, over the crashes."""
    from hazards.crash_maps import screen_map
    from hazards.dates import parse_day

    m = screen_map(
        unit=unit,
        measure=measure,
        date_from=parse_day(date_from or None, param="date_from"),
        date_to=parse_day(date_to or None, param="date_to"),
        top=top,
        window_m=window_m,
        step_m=step_m,
        distinct=distinct,
        lang=_lang(lang),
        tiles=_tiles(tiles, offline),
    )
    _write(m, output or _default_path("screen", f"{unit}-{measure}"))
