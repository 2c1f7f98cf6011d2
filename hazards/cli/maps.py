"""The ``hazards map`` commands: overview, road dossier (一路一档) and batch maps as HTML files."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hazards.cli._common import CommandGroup
from hazards.errors import ConfigError
from hazards.vocabulary import STATUSES, TIERS

map_group = CommandGroup(
    "map",
    help="Write interactive HTML maps: the county overview, a road's dossier, a batch.",
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
            default="en",
            show_default=True,
            help="Language of the legend, layer names, popups and tables.",
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
            type=click.Choice(STATUSES),
            help="Only hazards with this status (repeatable).",
        ),
        click.option(
            "--township",
            "townships",
            multiple=True,
            help="Only roads and hazards of this township (repeatable).",
        ),
        click.option(
            "--tiles",
            type=click.Choice(["none", "osm"]),
            default=None,
            help="Background tiles: none, or OpenStreetMap (needs the internet). "
            "Default: osm, or none with --offline.",
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
    if offline and tiles == "osm":
        raise ConfigError("--offline pages load nothing from the network: drop --tiles osm.")
    return tiles or ("none" if offline else "osm")


def _filters(tiers: tuple[str, ...], statuses: tuple[str, ...]) -> dict[str, Any]:
    return {"tiers": tiers or None, "statuses": statuses or None}


def _default_path(kind: str, name: str = "") -> Path:
    safe = re.sub(r"[^\w.-]+", "_", name).strip("_")
    return Path("maps") / (f"{kind}-{safe}.html" if safe else f"{kind}.html")


def _write(page: Any, output: Path) -> None:
    from hazards.sheets import writable_file

    writable_file(output, param="output", what="map")
    page.save(str(output))
    size_kb = output.stat().st_size / 1024
    click.echo(f"Wrote {output} ({size_kb:,.0f} KB).")


@map_group.command("overview")
@_common
def overview_cmd(
    output: Path | None,
    lang: str,
    tiers: tuple[str, ...],
    statuses: tuple[str, ...],
    townships: tuple[str, ...],
    tiles: str | None,
    offline: bool,
) -> None:
    """The county overview: roads by worst open tier or % remediated, hazards by tier and status."""
    from hazards.mapping import overview_map

    m = overview_map(
        lang=lang,
        tiles=_tiles(tiles, offline),
        townships=townships or None,
        **_filters(tiers, statuses),
    )
    _write(m, output or _default_path("overview"))


@map_group.command("road")
@click.argument("code")
@_common
def road_cmd(
    code: str,
    output: Path | None,
    lang: str,
    tiers: tuple[str, ...],
    statuses: tuple[str, ...],
    townships: tuple[str, ...],
    tiles: str | None,
    offline: bool,
) -> None:
    """A road's dossier (一路一档): chainage diagram, map and hazard table of route CODE."""
    from hazards.mapping import road_dossier

    page = road_dossier(
        code,
        lang=lang,
        tiles=_tiles(tiles, offline),
        townships=townships or None,
        **_filters(tiers, statuses),
    )
    _write(page, output or _default_path("road", code))


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
    """The hazards of remediation batch NAME and the roads they are on."""
    from hazards.mapping import batch_map

    m = batch_map(
        name,
        lang=lang,
        tiles=_tiles(tiles, offline),
        townships=townships or None,
        **_filters(tiers, statuses),
    )
    _write(m, output or _default_path("batch", name))
