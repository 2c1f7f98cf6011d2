"""The ``hazards crashes`` and ``hazards screen`` commands: import police crash records, screen
the network for black spots (事故多发点段)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from hazards.cli._common import (
    CommandGroup,
    HazardsCommand,
    echo_json,
    header_row_option,
    json_option,
    plain,
    safe,
    table_lang,
)
from hazards.dates import parse_day
from hazards.errors import InputError
from hazards.outfiles import earlier_kept
from hazards.reason_words import reason_text


@click.group("crashes", cls=CommandGroup)
def crashes() -> None:
    """Crash records (the police's records of where and when crashes happened): import them,
    list them, and find the black spots no survey has covered yet (sites to survey). Ranking
    sites by their crashes is `hazards screen`; before/after effects, `hazards evaluate`.

    \b
    Examples:
      hazards crashes import 事故.xlsx --source 县公安局交警大队
      hazards crashes list --route Y005 --from 2024-01-01
      hazards crashes sites-to-survey
    """


@crashes.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option(
    "--source",
    required=True,
    help="Who keeps the records, e.g. 县公安局交警大队: a crash id given again by the same "
    "source is the same crash.",
)
@click.option(
    "--sheet",
    help="Sheet of an Excel file to read (default: its sheet of data; several are refused, named).",
)
@click.option(
    "--layer",
    help="Layer of a GeoPackage (or other multi-layer GIS file); required when it has several.",
)
@click.option(
    "--map",
    "mapping",
    metavar="FIELD=COLUMN,...",
    help="Columns for fields whose headers are not recognised, e.g. --map crash_id=案号,"
    "datetime=发生时间; FIELD= (empty) unmaps a column. Fields: crash_id, row_no, datetime, time, year, "
    "month, day, hour, minute, route_code, chainage, lon, lat, fatalities, injuries, serious, "
    "minor, severity, crash_type, weather, light.",
)
@header_row_option
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
    header_row: int | None,
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
        header_row=header_row,
        rejected_path=rejected_path,
        dry_run=dry_run,
    )
    if as_json:
        echo_json(report)
        return
    from hazards.cli._common import tr

    con = Console()
    title = tr(
        "dry run, nothing written" if dry_run else "crashes imported",
        "试运行，未写入任何数据" if dry_run else "事故记录已导入",
    )
    con.print(f"[bold]{title}[/]: {safe(report['file'])} ({safe(report['source'])})")
    con.print(
        tr(
            f"rows {report['rows']}: [green]{report['stored']} stored[/], "
            f"[yellow]{report['unattached']} unattached[/], [red]{report['rejected']} rejected[/], "
            f"{report['empty']} empty; {report['junction']} at junctions",
            f"共 {report['rows']} 行：[green]已入库 {report['stored']}[/]，"
            f"[yellow]未匹配道路 {report['unattached']}[/]，[red]拒收 {report['rejected']}[/]，"
            f"空行 {report['empty']}；位于交叉口 {report['junction']}",
        )
    )
    con.print(
        tr(
            f"crashes: {report['added']} added, {report['updated']} updated, "
            f"{report['unchanged']} unchanged; {report['warnings']} warnings",
            f"事故：新增 {report['added']}，更新 {report['updated']}，"
            f"未变 {report['unchanged']}；警告 {report['warnings']}",
        )
    )
    for col in report["unread_columns"]:
        con.print(
            plain(
                tr(
                    f"Warning: column {col!r} speaks of deaths or injuries but is not read: "
                    "its counts are not stored. If it holds the deaths or the injured, map it "
                    f"(--map fatalities={col} or injuries={col}); a column of deaths and "
                    "injuries together cannot be split: give 死亡人数 and 受伤人数 apart.",
                    f"警告：列 {col!r} 涉及死亡或受伤，但未被读取，其人数不会入库。若该列是死亡或受伤"
                    f"人数，请用 --map fatalities={col} 或 injuries={col} 指定；死伤合计的列无法拆分，"
                    "请分别提供死亡人数和受伤人数。",
                )
            ),
            markup=False,
        )
    for item in report["unattached_rows"][:20]:
        con.print(
            plain(
                tr(
                    f"  unattached: {item['row']} (line {item['line']}) at {item['lon']:.6f}, "
                    f"{item['lat']:.6f}",
                    f"  未匹配道路：{item['row']}（第 {item['line']} 行），位置 "
                    f"{item['lon']:.6f}, {item['lat']:.6f}",
                )
            ),
            markup=False,
        )
    for item in report["rejected_rows"][:20]:
        con.print(
            plain(
                tr(
                    f"  rejected: line {item['line']}: {item['reason']}",
                    f"  拒收：第 {item['line']} 行：{reason_text(item['reason'], 'zh')}",
                )
            ),
            markup=False,
        )
    for item in report["warning_rows"][:20]:
        con.print(
            plain(
                tr(
                    f"  warning: line {item['line']} ({item['row']}): "
                    f"{'; '.join(item['warnings'])}",
                    f"  警告：第 {item['line']} 行（{item['row']}）："
                    + "；".join(str(reason_text(w, "zh")) for w in item["warnings"]),
                )
            ),
            markup=False,
        )
    for other, n in report["other_sources"].items():
        con.print(
            plain(
                tr(
                    f"Warning: {n} of these crashes (same id and day) are already stored under "
                    f"the source {other!r}: a crash kept under two sources is counted twice. If "
                    f"they are the same records, import them with --source {other!r}.",
                    f"警告：其中 {n} 起事故（编号和日期相同）已以来源 {other!r} 入库："
                    f"同一事故记在两个来源下会被重复计数。若是同一批记录，请用 --source {other!r} 导入。",
                )
            ),
            markup=False,
        )
    if report["rejected_file"]:
        con.print(
            tr("rejected rows written to ", "拒收的行已写入 ") + safe(report["rejected_file"])
        )
        if note := earlier_kept(report, lang=table_lang()):
            con.print(plain(note), markup=False)


def screening_options(*, unit: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options that choose what is screened (period, unit, windows, measure), as
    ``hazards screen`` and ``hazards map screen`` both take them; ``unit``: the default."""

    def apply(f: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option(
                "--from", "date_from", metavar="YYYY-MM-DD", help="First day of crashes counted."
            ),
            click.option(
                "--to", "date_to", metavar="YYYY-MM-DD", help="Last day of crashes counted."
            ),
            click.option(
                "--unit",
                type=click.Choice(["cell", "window", "junction", "route"]),
                default=unit,
                show_default=True,
                help="Sites: 100 m cells along each route, sliding windows (--window-m long, "
                "moved by --step-m), junction nodes (three or more approaches), or whole routes "
                "(per km).",
            ),
            click.option(
                "--window-m",
                type=click.FloatRange(min=0, min_open=True),
                default=500.0,
                show_default=True,
                help="Length (m) of the sliding windows (--unit window).",
            ),
            click.option(
                "--step-m",
                type=click.FloatRange(min=0, min_open=True),
                default=100.0,
                show_default=True,
                help="How far (m) each sliding window starts after the one before (--unit window).",
            ),
            click.option(
                "--distinct",
                is_flag=True,
                help="No two sites overlap: the worst window of a stretch stands for it (the "
                "others that overlap it are left out, then the next worst is taken); for --unit "
                "window.",
            ),
            click.option(
                "--measure",
                type=click.Choice(["count", "ksi", "epdo", "eb-excess"]),
                default="count",
                show_default=True,
                help="Crash count, KSI (fatal + serious crashes), EPDO (weighted by severity), or "
                "the Empirical Bayes excess of expected over predicted crashes (not for junctions).",
            ),
        ]
        for option in reversed(options):
            f = option(f)
        return f

    return apply


@click.command("screen", cls=HazardsCommand)
@screening_options(unit="cell")
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
    distinct: bool,
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

    if as_csv and as_json:
        raise click.UsageError("--csv and --json both print the sites: choose one.")

    result = screen(
        unit=unit,
        measure=measure,
        date_from=parse_day(date_from or None, param="date_from"),
        date_to=parse_day(date_to or None, param="date_to"),
        top=top,
        window_m=window_m,
        step_m=step_m,
        distinct=distinct,
    )
    if output:
        from hazards.outfiles import writable_file
        from hazards.screening import sites_frame

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

        from hazards.outfiles import literal_text

        cols = ["rank", "id", "route", "from", "to", "from_m", "to_m", "crashes", "ksi"]
        cols += ["epdo", "value"] + [
            c for c in ("lon", "lat") if result["sites"] and c in result["sites"][0]
        ]
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        for site in result["sites"]:
            w.writerow([literal_text(site.get(c)) for c in cols])
        return
    from hazards.cli._common import column_title, table_lang, tr
    from hazards.map_style import CRASH_LABELS

    lang = table_lang()
    con = Console()
    if output:
        con.print(
            tr(
                f"{len(result['sites'])} sites written to {safe(output)}",
                f"{len(result['sites'])} 个点段已写入 {safe(output)}",
            )
        )
    words = CRASH_LABELS["zh"]
    table = Table(
        title=tr(
            f"screening: {unit}, {measure} ({result['crashes']} crashes)",
            f"事故多发点段排查：{words['units'][unit]}，{words['measures'][measure]}"
            f"（{result['crashes']} 起事故）",
        )
    )
    heads = ("rank", "route", "from", "to", "crashes", "ksi", "epdo", "value")
    for col in heads:
        table.add_column(column_title(col, lang))
    for s in result["sites"]:
        table.add_row(*(safe(s[c]) for c in heads))
    con.print(table)


@crashes.command("list")
@click.option("--route", help="Only the crashes of this route (its code or an alias).")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day of crashes listed.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day of crashes listed.")
@click.option(
    "--severity",
    metavar="KABCO",
    help="Only these KABCO classes, e.g. K (fatal, 死亡) or KA (fatal and serious, 死亡和重伤).",
)
@json_option
def crashes_list(
    route: str | None,
    date_from: str | None,
    date_to: str | None,
    severity: str | None,
    as_json: bool,
) -> None:
    """List the stored crashes (事故) by date, attached or not, with where they lie."""
    from hazards.cli._common import echo_table, with_chainage
    from hazards.crashes import list_crashes

    rows = list_crashes(
        route=route,
        date_from=parse_day(date_from or None, param="date_from"),
        date_to=parse_day(date_to or None, param="date_to"),
        severity=severity,
    )
    if as_json:
        echo_json(rows)
        return
    echo_table(
        with_chainage(rows),
        [
            "crash_id",
            "occurred_on",
            "severity",
            "route_code",
            "chainage",
            "crash_type",
            "fatalities",
            "injuries",
            "occurred_time",
            "junction",
            "source",
        ],
        "crashes (事故)",
    )


@crashes.command("sites-to-survey")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day of crashes counted.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day of crashes counted.")
@json_option
def crashes_sites_to_survey(date_from: str | None, date_to: str | None, as_json: bool) -> None:
    """Black spots (事故多发点段) with no surveyed hazard on them: sites to survey (待排查路段).

    The crash period is the last [scoring.crashes] years up to the newest crash unless
    --from/--to are given; black spots as for tiers compute (docs/tiers-and-planning.md).
    """
    from hazards.cli._common import echo_table
    from hazards.crash_risk import sites_to_survey

    out = sites_to_survey(
        date_from=parse_day(date_from or None, param="date_from"),
        date_to=parse_day(date_to or None, param="date_to"),
    )
    if as_json:
        echo_json(out)
        return
    from hazards.cli._common import tr

    click.echo(
        tr(
            f"crash period {out['from'] or '—'} – {out['to'] or '—'}: {out['black_spots']} black "
            f"spots (事故多发点段), {len(out['sites'])} with no surveyed hazard",
            f"事故统计时段 {out['from'] or '—'} – {out['to'] or '—'}：事故多发点段 "
            f"{out['black_spots']} 处，其中 {len(out['sites'])} 处无已排查隐患",
        )
    )
    echo_table(
        out["sites"],
        ["route", "from", "to", "crashes", "ksi", "fatal", "excess"],
        "sites to survey (待排查路段)",
    )


@click.command("evaluate", cls=HazardsCommand)
@click.option("--plan", help="Evaluate the treated hazards of this plan's batches.")
@click.option("--batch", help="Evaluate the treated hazards of this batch.")
@click.option(
    "--before-years",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Years of crashes before each completion day.",
)
@click.option(
    "--after-years",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Years of crashes after each completion day (the periods are equal by default).",
)
@click.option(
    "--site-m",
    type=click.FloatRange(min=0, min_open=True),
    default=250.0,
    show_default=True,
    help="A treated site's crashes: on its route within this chainage distance (m).",
)
@click.option(
    "--records-to",
    metavar="DATE",
    help="The last day the crash records cover (their export's period end), when later than "
    "the newest crash in them. Default: the newest crash.",
)
@json_option
def evaluate_cmd(
    plan: str | None,
    batch: str | None,
    before_years: int,
    after_years: int,
    site_m: float,
    records_to: str | None,
    as_json: bool,
) -> None:
    """Before/after evaluation (前后对比评价): did crashes go down where the work was done?

    Treated sites are the verified hazards with the day their work was reported finished.
    Gives the crash modification factor (CMF, below 1: fewer crashes) with its 95 %
    confidence interval, naive and against a comparison group (untreated road of the same
    class over the same periods), per countermeasure type and overall (docs/crashes.md).
    Refuses when the after period is not over yet.
    """
    from hazards.cli._common import echo_table
    from hazards.dates import parse_past_day
    from hazards.evaluation import evaluate

    out = evaluate(
        plan=plan,
        batch=batch,
        before_years=before_years,
        after_years=after_years,
        site_m=site_m,
        records_to=parse_past_day(
            records_to, param="records_to", fix="give the last day the crash records cover"
        ),
    )
    if as_json:
        echo_json(out)
        return
    from hazards.cli._common import table_lang, tr
    from hazards.vocabulary import CATEGORY_ZH

    zh = table_lang() == "zh"
    click.echo(
        tr(
            f"before/after (前后对比): {out['treated']} treated sites, {out['before_years']} "
            f"years before / {out['after_years']} after; newest crash {out['newest_crash']}",
            f"前后对比：已治理点位 {out['treated']} 处，治理前 {out['before_years']} 年 / "
            f"治理后 {out['after_years']} 年；最新事故日期 {out['newest_crash']}",
        )
    )
    methods = {"naive": "朴素前后对比", "comparison": "对照组法"}
    rows = []
    for name, r in [("overall (合计)", out["overall"])] + [
        (c["category"], c) for c in out["categories"]
    ]:
        if zh:
            name = "合计" if r is out["overall"] else CATEGORY_ZH.get(name, name)
        for method in ("naive", "comparison"):
            est = r[method]
            if est is None:
                continue
            rows.append(
                {
                    "type": name,
                    "method": methods[method] if zh else method,
                    "sites": r["sites"],
                    "before": r["before"],
                    "after": r["after"],
                    "predicted": est["predicted"],
                    "CMF": None if est["cmf"] is None else f"{est['cmf']:.3f}",
                    "95% CI": "—"
                    if est["cmf"] is None
                    else f"{est['ci_low']:.2f}–{est['ci_high']:.2f}",
                    "change %": None if est["cmf"] is None else -est["reduction_pct"],
                }
            )
    echo_table(
        rows,
        ["type", "method", "sites", "before", "after", "predicted", "CMF", "95% CI", "change %"],
        "crash modification factors (事故修正系数)",
    )
    for item in out["excluded"]:
        click.echo(tr("  left out: ", "  未计入：") + f"{item['id']}: {item['reason']}")
    for w in out["warnings"]:
        click.echo(tr("  warning: ", "  警告：") + f"{w}")
