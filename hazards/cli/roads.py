"""The ``hazards roads`` commands: load road files, list and summarise routes, one route's
details, aliases and renumbering."""

from __future__ import annotations

import click

from hazards.cli._common import (
    CommandGroup,
    echo_json,
    echo_mapping,
    echo_table,
    json_option,
    plain,
    safe,
    table_lang,
    tr,
)
from hazards.reason_words import reason_text


@click.group("roads", cls=CommandGroup)
def roads() -> None:
    """Load road files into routes with chainage; summaries and per-route details.

    \b
    Examples:
      hazards roads load 路网.gpkg
      hazards roads load 乡道.shp --class 乡道 --rejected 乡道.rejected.gpkg
      hazards roads list
      hazards roads summary
      hazards roads show Y005
    """


@roads.command("load")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--layer", help="Layer to read when the file has several (GeoPackage).")
@click.option(
    "--map",
    "mapping",
    metavar="ROLE=FIELD,...",
    help="Which fields hold the route code, name, class, township and AADT (traffic, vehicles "
    "a day), when they are not recognised, e.g. --map code=LXBM,name=LXMC,class=XZDJ,"
    "township=XZMC,aadt=JTL.",
)
@click.option(
    "--class",
    "road_class",
    help="Administrative class of every feature (county, township, village, national, "
    "provincial, special, other; or 县道, 乡道, ...). Default: from a class field, else from "
    "a Chinese route code's prefix (G, S, X, Y, C, Z + 3 digits), else unknown.",
)
@click.option(
    "--class-map",
    "class_map",
    metavar="VALUE=CLASS,...",
    help="Map the file's own class values to road classes, e.g. "
    "--class-map Locale=village,Artere=county (added to the [class_map] table of "
    "hazards.toml). The file's value is kept and shown beside the class.",
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
@click.option(
    "--osm-highways",
    "osm_highways",
    metavar="LIST",
    help="OpenStreetMap data: the highway types to load, separated by commas (default: the "
    "vehicular roads motorway, trunk, primary, secondary, tertiary and their _link, "
    "unclassified, residential, living_street, service, track; 'default,pedestrian' adds to "
    "them). Other ways are counted and reported as skipped by type.",
)
@click.option(
    "--osm-routes",
    "osm_routes",
    type=click.Choice(["ref", "name"]),
    default="ref",
    show_default=True,
    help="OpenStreetMap data: route codes from the ref tag only (ways without one are "
    "unassigned roads), or name: from ref, else the street name (same-name streets more "
    "than max_gap_m apart are separate sections).",
)
@click.option(
    "--no-wait",
    "wait",
    is_flag=True,
    flag_value=False,
    default=True,
    help="If another road load is running, stop at once (exit 1) instead of waiting for it "
    "to finish (one road load writes at a time).",
)
@json_option
def roads_load(
    path: str,
    layer: str | None,
    mapping: str | None,
    road_class: str | None,
    class_map: str | None,
    crs: str | None,
    replace: bool,
    rejected_path: str | None,
    osm_highways: str | None,
    osm_routes: str,
    wait: bool,
    as_json: bool,
) -> None:
    """Load a road file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, .osm or .osm.pbf) into routes.

    Features are grouped into routes by route code and assembled in order; each segment gets
    its chainage along the route. Every input row is accounted for: loaded, repaired (and
    said how) or rejected (with the reason, and written to the rejected file).
    OpenStreetMap data (.osm, .osm.pbf, or a table with an OSM highway column): only
    vehicular ways are loaded, their class from highway (or a Chinese ref such as G207);
    every other way is counted as skipped by type. With --replace, the hazards of a
    replaced route are measured again on its new line: kept within the accept distance,
    else sent to review (both counted in the report).
    """
    from hazards.roads import load_roads, parse_mapping
    from hazards.vocabulary import parse_class_map

    result = load_roads(
        path,
        layer=layer,
        mapping=parse_mapping(mapping),
        road_class=road_class,
        class_map=parse_class_map(class_map),
        crs=crs,
        replace=replace,
        rejected_path=rejected_path,
        osm_highways=osm_highways,
        osm_routes=osm_routes,
        wait=wait,
        on_wait=lambda holder: click.echo(plain(holder["message"]), err=True),
    )
    if as_json:
        echo_json(result.to_dict())
        return
    from rich.console import Console

    con = Console()
    con.print(
        tr(
            f"[bold]{safe(result.file)}[/] ({safe(result.source_crs)} → working CRS "
            f"{result.working_crs})",
            f"[bold]{safe(result.file)}[/]（{safe(result.source_crs)} → 工作坐标系 "
            f"{result.working_crs}）",
        )
    )
    skipped = result.rows_skipped
    con.print(
        tr(
            f"rows: {result.rows_read} read, {result.rows_loaded} loaded "
            f"({result.rows_repaired} repaired), {result.rows_rejected} rejected"
            + (f", {skipped} skipped" if skipped else ""),
            f"要素：读取 {result.rows_read}，载入 {result.rows_loaded}"
            f"（修复 {result.rows_repaired}），拒收 {result.rows_rejected}"
            + (f"，跳过 {skipped}" if skipped else ""),
        )
    )
    if result.skipped_by_type:
        types = ", ".join(f"{k} {v}" for k, v in result.skipped_by_type.items())
        con.print(
            tr(
                f"skipped (not vehicular roads; choose with --osm-highways): {types}",
                f"跳过（非机动车道路；可用 --osm-highways 选择）：{types}",
            ),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    counted = _routes_and_roads(result.routes_in_file, result.unassigned_features)
    added, replaced, unchanged, skipped_routes = (
        _count_routes(codes)
        for codes in (
            result.routes_added,
            result.routes_replaced,
            result.routes_unchanged,
            result.routes_skipped,
        )
    )
    con.print(
        tr(
            f"in the file: {counted} ({result.length_km:.3f} km); added {added}, replaced "
            f"{replaced}, already loaded and unchanged {unchanged}, skipped {skipped_routes}",
            f"文件中：{counted}（{result.length_km:.3f} 公里）；新增 {added}，替换 {replaced}，"
            f"已载入且未变 {unchanged}，跳过 {skipped_routes}",
        )
    )
    if result.routes_skipped:
        more = " ..." if len(result.routes_skipped) > 20 else ""
        con.print(
            tr(
                "[yellow]skipped (already loaded with other data; use --replace):[/] ",
                "[yellow]跳过（已载入，数据不同；用 --replace 替换）：[/]",
            )
            + f"{safe(', '.join(result.routes_skipped[:20]))}{more}"
        )
    if result.hazards_reattached or result.hazards_to_review:
        con.print(
            tr(
                f"hazards of the replaced routes: {result.hazards_reattached} measured again and "
                f"kept on the new line, {result.hazards_to_review} farther from it sent to "
                "review (hazards review list)",
                f"被替换路线上的隐患：{result.hazards_reattached} 处按新路线重新量测并保留，"
                f"{result.hazards_to_review} 处离新路线较远，转入待核查（hazards review list）",
            )
        )
    if result.crashes_reattached or result.crashes_unattached:
        con.print(
            tr(
                f"crashes: {result.crashes_reattached} placed on the routes loaded (measured "
                f"again, or attached from no road), {result.crashes_unattached} no longer near "
                "a replaced route (kept, attached to no road)",
                f"事故：{result.crashes_reattached} 起落到本次载入的路线上（按新路线重新量测，"
                f"或由未关联道路改为关联），{result.crashes_unattached} 起离被替换的路线过远"
                "（保留，不再关联道路）",
            )
        )
    for codes, en, zh in (
        (result.routes_with_gaps, "routes with gaps", "有缺测路段的路线"),
        (result.routes_with_branches, "routes with branches", "有支线的路线"),
        (result.routes_with_sections, "routes in separate sections", "分为多段的路线"),
    ):
        if codes:
            con.print(tr(f"{en}: ", f"{zh}：") + safe(", ".join(codes)))
    for warning in result.warnings[:50]:
        con.print(
            tr("[yellow]warning:[/] ", "[yellow]警告：[/]")
            + safe(reason_text(warning, table_lang())),
            markup=True,
            highlight=False,
        )
    problems = [i for i in result.issues if i.action != "flagged"]
    actions = {"repaired": "修复", "rejected": "拒收"}
    for issue in problems[:50]:
        colour = "red" if issue.action == "rejected" else "yellow"
        con.print(
            tr(
                f"  row {issue.row}: [{colour}]{issue.action}[/] ({safe(issue.field)}): ",
                f"  第 {issue.row} 行：[{colour}]{actions.get(issue.action, issue.action)}[/]"
                f"（{safe(issue.field)}）：",
            )
            + safe(issue.reason)
        )
    if len(problems) > 50:
        con.print(
            tr(
                f"  ... {len(problems) - 50} more rows repaired or rejected (see --json)",
                f"  …… 另有 {len(problems) - 50} 行修复或拒收（见 --json）",
            )
        )
    if result.rejected_file:
        con.print(
            tr("rejected rows written to ", "拒收的要素已写入 ")
            + safe(result.rejected_file)
            + tr(
                " (correct them in the original file and load it again with --replace)",
                "（请在原文件中改正后，用 --replace 重新加载原文件）",
            )
        )


def _routes_and_roads(routes: int, unassigned: int) -> str:
    """``140 routes + 3 unassigned roads`` (``140 条路线 + 3 条无编码道路``): the words
    ``roads summary`` counts with."""
    if unassigned:
        return tr(
            f"{routes} routes + {unassigned} unassigned roads",
            f"{routes} 条路线 + {unassigned} 条无编码道路",
        )
    return tr(f"{routes} routes", f"{routes} 条路线")


def _count_routes(codes: list[str]) -> str:
    """Codes of a load report, counted as routes + unassigned (``U-…``) roads."""
    from hazards.roads import UNASSIGNED_PREFIX

    unassigned = sum(code.startswith(UNASSIGNED_PREFIX) for code in codes)
    return _routes_and_roads(len(codes) - unassigned, unassigned)


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
    """Routes, segments and km per class (or township) and in total.

    By township, a route counts in every township its segments are in, with the km there.
    Roads without a route code count in their class and the totals (column "unassigned").
    The total's unique km counts carriageway shared by several routes once.
    """
    from hazards.roads import road_summary

    data = road_summary(by=by)
    if as_json:
        echo_json(data)
        return
    if not data["total"]["segments"]:
        click.echo(NO_ROADS[table_lang()])
        return
    from rich.console import Console
    from rich.table import Table

    from hazards.vocabulary import CLASS_ZH

    zh = table_lang() == "zh"
    key = "classes" if by == "class" else "townships"
    label = "class" if by == "class" else "township"
    table = Table(
        title=tr(
            f"roads by {label}", "按行政等级统计的道路" if by == "class" else "按乡镇统计的道路"
        )
    )
    heads = {
        label: tr(label, "行政等级" if by == "class" else "乡镇"),
        "routes": tr("routes", "路线"),
        "unassigned": tr("unassigned", "无编码道路"),
        "segments": tr("segments", "路段"),
        "km": tr("km", "公里"),
    }
    for col, head in heads.items():
        table.add_column(head, justify="left" if col == label else "right")
    if by == "class":
        table.add_column(tr("file's values", "文件中的取值"))
    for g in data[key]:
        un = (
            tr(
                f"{g['unassigned_roads']} ({g['unassigned_km']:.3f} km)",
                f"{g['unassigned_roads']}（{g['unassigned_km']:.3f} 公里）",
            )
            if g["unassigned_roads"]
            else ""
        )
        name = g[label] or "—"
        if zh and by == "class":
            name = CLASS_ZH.get(name, name)
        row = [safe(name), str(g["routes"]), un, str(g["segments"])]
        row.append(f"{g['length_km']:.3f}")
        if by == "class":
            row.append(safe(", ".join(map(str, g["source_values"][:5]))))
        table.add_row(*row)
    t = data["total"]
    table.add_row(
        tr("[bold]total", "[bold]合计"),
        str(t["routes"]),
        str(t["unassigned_roads"]),
        str(t["segments"]),
        f"{t['length_km']:.3f}",
    )
    Console().print(table)
    click.echo(
        tr(
            f"unique network length: {t['unique_length_km']:.3f} km (carriageway shared by "
            "several routes counted once)",
            f"路网实际里程：{t['unique_length_km']:.3f} 公里（多条路线共用的路段只计一次）",
        )
    )


@roads.command("list")
@click.option(
    "--class",
    "road_class",
    help="Only routes of this class (county, township, ...; or 县道, 乡道, X, Y, ...).",
)
@click.option("--township", help="Only routes with a segment in this township (e.g. 城关镇).")
@json_option
def roads_list(road_class: str | None, township: str | None, as_json: bool) -> None:
    """Routes loaded: code, name, class, township, km, end chainage, hazards (all and open).

    Coded routes by class (national first) and route code, then the roads without one
    (unassigned). With --township, the routes that have a segment there, each whole (its km
    and hazards; `roads summary --by township` gives the km inside each township). Hazards
    count those not rejected; open ones are not remediated yet. `roads show CODE` gives one
    route's parts, sections and gaps.

    \b
    Examples:
      hazards roads list
      hazards roads list --class 县道 --json
      hazards roads list --township 城关镇
    """
    from hazards.network import list_roads

    rows = list_roads(road_class=road_class, township=township)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(
            NO_ROADS[table_lang()]
            if road_class is None and township is None
            else tr(
                "No route is of that class or in that township (`hazards roads summary` "
                "counts them by class and township).",
                "没有符合该等级或乡镇的路线（`hazards roads summary` 按等级、乡镇统计）。",
            )
        )
        return
    # on a narrow terminal the segments, then the end chainage, go before the hazards
    columns = ["route", "name", "class", "township", "length_km", "hazards", "open_hazards"]
    echo_table(rows, [*columns, "chainage_to", "segments"], "routes", drop=("segments",))


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
    from hazards.vocabulary import CLASS_ZH

    zh = table_lang() == "zh"
    head = {k: data[k] for k in ("route", "name", "class", "township", "length_km", "segments")}
    if data["class_source_value"]:
        head["class"] = tr(
            f"{data['class']} (file: {data['class_source_value']})",
            f"{CLASS_ZH.get(data['class'], data['class'])}（文件中：{data['class_source_value']}）",
        )
    head["townships"] = "、".join(data["townships"]) or "—"
    head["chainage"] = f"{data['chainage_from']} – {data['chainage_to']}"
    if data["aliases"]:
        head["aliases"] = ("、" if zh else ", ").join(data["aliases"])
    if data["unassigned"]:
        head["unassigned"] = tr("yes (no route code in the file)", "是（文件中无路线编码）")
    echo_mapping(head, title=f"route {data['route']}")
    several = len(data["sections"]) > 1
    kinds = {"main": "主线", "branch": "支线"}
    for p in data["parts"]:
        if several and p["kind"] == "main":
            sec = data["sections"][p["section"]]
            click.echo(
                tr(
                    f"section {p['section']}: {sec['from']} – {sec['to']} (own chainage), "
                    f"{sec['segments']} segment{'s' * (sec['segments'] != 1)}, "
                    f"{sec['length_m'] / 1000:.3f} km",
                    f"第 {p['section']} 段：{sec['from']} – {sec['to']}（本段桩号），"
                    f"{sec['segments']} 个路段，{sec['length_m'] / 1000:.3f} 公里",
                )
            )
        click.echo(
            tr(
                f"  part {p['part']} ({p['kind']}): {p['from']} – {p['to']}, "
                f"{p['segments']} segment{'s' * (p['segments'] != 1)}, "
                f"{p['length_m'] / 1000:.3f} km",
                f"  分支 {p['part']}（{kinds.get(p['kind'], p['kind'])}）：{p['from']} – "
                f"{p['to']}，{p['segments']} 个路段，{p['length_m'] / 1000:.3f} 公里",
            )
        )
        for gap in p["gaps"]:
            click.echo(
                tr(
                    f"    gap {gap['from']} – {gap['to']} ({gap['length_m']:.0f} m, no data)",
                    f"    缺测路段 {gap['from']} – {gap['to']}（{gap['length_m']:.0f} 米，无数据）",
                )
            )


@roads.group("alias", cls=CommandGroup)
def roads_alias() -> None:
    """Other codes for routes (another source's spelling, an old code): used wherever a
    route code is read (survey import, chainage, maps, lists)."""


@roads_alias.command("add")
@click.argument("alias")
@click.argument("code")
@click.option("--note", help="Why (e.g. the source that writes it this way).")
def roads_alias_add(alias: str, code: str, note: str | None) -> None:
    """Make ALIAS name route CODE."""
    from hazards.network import add_aliases

    done = add_aliases([(alias, code)], note=note)
    if not done:  # X001线 for X001: read as the route already
        click.echo(
            tr(
                f"{safe(alias)} is read as route {safe(code)} already: no alias is needed.",
                f"{safe(alias)} 已可直接识别为路线 {safe(code)}，无需别名。",
            )
        )
        return
    click.echo(
        tr(
            f"{done[0]['alias']} now names route {done[0]['route']}.",
            f"{done[0]['alias']} 现指路线 {done[0]['route']}。",
        )
    )


@roads_alias.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--note", help="Why (e.g. the source of the list).")
def roads_alias_import(path: str, note: str | None) -> None:
    """Add the aliases of a CSV file: one ``alias,code`` per row (a header row is skipped).

    All rows or none: a route that is not loaded stops the import, naming the row.
    """
    from hazards.network import add_aliases, read_alias_file

    done = add_aliases(read_alias_file(path), note=note)
    click.echo(
        tr(f"{len(done)} aliases added from {path}.", f"已从 {path} 添加 {len(done)} 个别名。")
    )


@roads_alias.command("list")
@json_option
def roads_alias_list(as_json: bool) -> None:
    """Every alias and the route it names."""
    from hazards.network import list_aliases

    rows = list_aliases()
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(
            tr(
                "No aliases. `hazards roads alias add ALIAS CODE` adds one.",
                "没有别名。用 `hazards roads alias add 别名 路线编码` 添加。",
            )
        )
    for r in rows:
        click.echo(
            plain(f"{r['alias']} → {r['route']}" + (f"  ({r['note']})" if r["note"] else ""))
        )


@roads.command("rename")
@click.argument("old")
@click.argument("new")
@click.option("--by", help="Who made the change (recorded in each hazard's history).")
@json_option
def roads_rename(old: str, new: str, by: str | None, as_json: bool) -> None:
    """Renumber route OLD as NEW (调后编号): OLD stays as an alias, and every hazard on the
    route records the change in its history."""
    from hazards.network import rename_route

    data = rename_route(old, new, by=by)
    if as_json:
        echo_json(data)
        return
    click.echo(
        tr(
            f"Route {data['old']} is now {data['route']} ({data['old']} still finds it); "
            f"{data['hazards']} hazards record the change in their history.",
            f"路线 {data['old']} 已改为 {data['route']}（仍可用 {data['old']} 查到）；"
            f"{data['hazards']} 处隐患的历史记录了此次变更。",
        )
    )


@roads.command("drop")
@click.argument("codes", nargs=-1, required=True)
@json_option
def roads_drop(codes: tuple[str, ...], as_json: bool) -> None:
    """Take routes out of the network: a road loaded by mistake, or a road without a route code
    (U-…) loaded twice. Refused while hazards are attached to one of them (nothing is
    dropped); crashes on them are kept, unattached.

    \b
    Examples:
      hazards roads drop U-94D5002561
      hazards roads drop X099 X100 --json
    """
    from hazards.network import drop_routes

    data = drop_routes(list(codes))
    if as_json:
        echo_json(data)
        return
    click.echo(
        tr(
            f"Dropped {len(data['dropped'])} route(s) ({', '.join(data['dropped'])}): "
            f"{data['segments']} segments, {data['km']:g} km; "
            f"{data['crashes_unattached']} crashes now unattached.",
            f"已删除 {len(data['dropped'])} 条路线（{'、'.join(data['dropped'])}）："
            f"{data['segments']} 个路段，{data['km']:g} 公里；{data['crashes_unattached']} 起事故改为未关联道路。",
        )
    )


@roads.command("adopt-code")
@click.argument("code")
@json_option
def roads_adopt_code(code: str, as_json: bool) -> None:
    """Give the roads stored without a county code the county code CODE (县级行政区划代码).

    Each county's roads are stored under its code (the admin_code setting, HAZARDS_ADMIN_CODE),
    so that several counties can share one database. Roads loaded before a county set its code
    have none, and commands of that county do not see them: this gives them the code (routes,
    segments and aliases, and the crashes, plans and batches stored without a code, in one
    go). Refused when the county has routes of the same codes, or plans or batches of the same
    names.

    \b
    Examples:
      hazards roads adopt-code 430981
    """
    from hazards.network import adopt_roads

    data = adopt_roads(code)
    if as_json:
        echo_json(data)
        return
    click.echo(
        tr(
            f"{data['roads']} route(s) ({data['road_segments']} segments, "
            f"{data['route_aliases']} aliases), {data['crashes']} crash(es) and "
            f"{data['plans']} plan(s) ({data['batches']} batches) are now county "
            f"{data['admin_code']}'s.",
            f"{data['roads']} 条路线（{data['road_segments']} 个路段、{data['route_aliases']} 个别名）"
            f"、{data['crashes']} 起事故及 {data['plans']} 个计划（{data['batches']} 个批次）"
            f"已归入 {data['admin_code']}。",
        )
    )
    if data["plans_left"]:
        click.echo(
            tr(
                f"{data['plans_left']} plan(s) stored without a county code fund another "
                "county's hazards: they keep no code.",
                f"另有 {data['plans_left']} 个未记县级代码的计划含其他县的隐患，仍未记代码。",
            ),
            err=True,
        )


NO_ROADS = {
    "en": "No roads are loaded yet: `hazards roads load FILE` loads a road network.",
    "zh": "尚未导入道路：请用 `hazards roads load 文件` 导入路网。",
}
