"""The ``hazards chainage`` commands: the point at a chainage of a route, and the chainage of a
point."""

from __future__ import annotations

import click

from hazards.cli._common import (
    CommandGroup,
    echo_json,
    echo_mapping,
    json_option,
    plain,
    table_lang,
    tr,
)


@click.group("chainage", cls=CommandGroup)
def chainage() -> None:
    """Find the point at a chainage (K12+350) of a route, or the chainage of a point.

    \b
    Examples:
      hazards chainage locate Y005 K3+200
      hazards chainage measure Y005 112.5677 28.8098
    """


@chainage.command("locate")
@click.argument("code")
@click.argument("chainage_text", metavar="CHAINAGE")
@click.option(
    "--part",
    type=int,
    default=0,
    show_default=True,
    help="Part of the route (0 = main line, 1.. = branches, and the main lines of further "
    "sections; `roads show` lists them).",
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
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when the point is farther from the route than the review distance "
    "(match_review_m, 50 m): for scripts that must not take a far point's chainage.",
)
@json_option
def chainage_measure(code: str, lon: float, lat: float, strict: bool, as_json: bool) -> None:
    """Chainage of the point LON LAT (decimal degrees) along route CODE, and its offset. A
    point farther from the route than the review distance gets a warning (exit 1 with
    --strict)."""
    from hazards.chainage import measure_on_route

    data = measure_on_route(code, lon, lat)
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title=f"{data['route']} {data['chainage']}")
    if data["beyond_review"]:
        warning = _FAR[table_lang()].format(
            off=data["offset_m"], route=data["route"], review=data["review_m"]
        )
        if strict:
            raise click.ClickException(plain(warning))
        click.echo(plain(tr(f"warning: {warning}", f"警告：{warning}")), err=True)


_FAR = {
    "zh": "该点距路线 {route} {off:,.1f} 米，超出核查距离 {review:,.0f} 米（match_review_m），"
    "很可能不在这条路上；请核对坐标（先经度后纬度）和路线编码。",
    "en": "the point is {off:,.1f} m from route {route}, beyond the review distance of "
    "{review:,.0f} m (match_review_m): it is probably not on this road; check the coordinates "
    "(longitude first) and the route code.",
}
