"""The ``hazards survey``, ``hazards review`` and ``hazards list`` commands: import surveys,
decide the doubtful rows, list the inventory."""

from __future__ import annotations

import click

from hazards.cli._common import (
    STATUS,
    CommandGroup,
    HazardsCommand,
    echo_json,
    echo_table,
    header_row_option,
    json_option,
    plain,
    safe,
    table_lang,
    tr,
    with_chainage,
    with_own_words,
)
from hazards.errors import HazardsError
from hazards.outfiles import earlier_kept
from hazards.reason_words import reason_key_text, reason_text
from hazards.vocabulary import TIERS

HAZARD_LIST_COLUMNS = [
    "id",
    "route_code",
    "chainage",
    "category",
    "tier",
    "status",
    "snap_distance_m",
    "description",
]
"""The columns of ``hazards list`` (its --json has every key)."""


@click.group("survey", cls=CommandGroup)
def survey() -> None:
    """Import third-party hazard surveys and reconcile every row onto the road network.

    \b
    Examples:
      hazards survey import 调查.xlsx --provider 某检测公司 --surveyed-on 2025-03-01
      hazards survey import 更正.xlsx --provider 某检测公司 --surveyed-on 2025-04-01 --corrects 1
      hazards survey list
      hazards survey show 1
    """


@survey.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--provider", required=True, help="Name of the survey firm that delivered the file.")
@click.option("--surveyed-on", required=True, metavar="YYYY-MM-DD", help="Date of the survey.")
@click.option(
    "--sheet",
    help="Sheet of an Excel file to read (default: its sheet of data; several are refused, named).",
)
@click.option(
    "--layer",
    help="Layer of a GeoPackage (or other multi-layer GIS file) to read; required when it has "
    "several.",
)
@header_row_option
@click.option(
    "--map",
    "mapping",
    metavar="FIELD=COLUMN,...",
    help="Columns for fields whose headers are not recognised, e.g. --map lon=X坐标,lat=Y坐标; "
    "FIELD= (empty) unmaps a column recognised wrongly, e.g. --map route_code=. "
    "Fields: "
    + ", ".join(
        (
            "row_id",
            "route_code",
            "chainage",
            "from_chainage",
            "to_chainage",
            "lon",
            "lat",
            "category",
            "description",
            "risk_level",
            "cost_10k",
            "cost_cny",
            "...",
        )
    )
    + ".",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(path_type=str),
    help='A TOML file of field = "column" lines (a [columns] table).',
)
@click.option("--encoding", help="Text encoding of a CSV (default: UTF-8 or GBK, detected).")
@click.option(
    "--crs",
    help="CRS of the coordinates: an EPSG code for projected x/y (e.g. EPSG:4546), or gcj02 for "
    "phone-app (GCJ-02) lon/lat. Default: WGS84/CGCS2000 lon/lat.",
)
@click.option(
    "--photos",
    "photos",
    type=click.Path(path_type=str),
    metavar="DIR",
    help="Folder of the survey's photos: the photo column (照片) holds paths relative to it, or "
    "photo numbers (IMG_0012: looked for as .jpg, .png ...). Without it, paths are relative to "
    "the survey file. A photo not found is a warning; its hazard is imported all the same.",
)
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(path_type=str),
    help="Where to write the rejected rows (default: NAME.rejected.csv beside the input).",
)
@click.option(
    "--corrects",
    type=int,
    metavar="SURVEY_ID",
    help="The file corrects that survey: rows update its hazards with the same 序号 (a "
    "correction that moves a hazard to another route or far goes to review).",
)
@click.option(
    "--replace",
    type=int,
    metavar="SURVEY_ID",
    help="Drop that survey and import this file instead, in one transaction (refused if "
    "anything refers to its hazards).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read, match and count everything, print the accounting and the rejected rows; "
    "write nothing.",
)
@click.option(
    "--no-wait",
    "wait",
    is_flag=True,
    flag_value=False,
    default=True,
    help="If another survey import is running, stop at once (exit 1) instead of waiting for "
    "it to finish (one import writes at a time).",
)
@json_option
def survey_import(
    path: str,
    provider: str,
    surveyed_on: str,
    sheet: str | None,
    layer: str | None,
    header_row: int | None,
    mapping: str | None,
    mapping_file: str | None,
    encoding: str | None,
    crs: str | None,
    photos: str | None,
    rejected_path: str | None,
    corrects: int | None,
    replace: int | None,
    dry_run: bool,
    wait: bool,
    as_json: bool,
) -> None:
    """Import a survey (CSV, XLSX, GeoJSON, Shapefile, GeoPackage) and match its rows.

    Every row is accepted (on a route at a chainage), sent to review, rejected (written to
    NAME.rejected.csv with the reason, to fix and re-send), counted as a duplicate, or empty.
    Each import is a new survey: it never changes another survey's hazards unless --corrects
    says so. Importing the same file again with the same options changes nothing; with other
    options it needs --replace (or --corrects). `hazards survey drop ID` undoes an import.
    One import writes at a time: a second one waits for the first, saying so on stderr.
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from hazards.intake import import_survey
    from hazards.roads import parse_mapping
    from hazards.survey import load_mapping_file

    try:
        columns = load_mapping_file(mapping_file) if mapping_file else {}
    except HazardsError as exc:
        exc.param = "mapping_file"  # the file came from --mapping (the library calls it mapping)
        raise
    columns.update(parse_mapping(mapping))
    # On stderr, and only while it runs, and only on a terminal (nothing is left behind in a
    # log or after --json: not even the empty line rich ends a non-terminal display with).
    # Redrawn at each chunk rather than by rich's own thread: with no other thread running,
    # a large sheet can be read in a child process (hazards.offload.can_fork).
    err = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
        auto_refresh=False,
    ) as bar:
        task = bar.add_task("reading the network and the first rows")
        report = import_survey(
            path,
            provider=provider,
            surveyed_on=surveyed_on,
            sheet=sheet,
            layer=layer,
            header_row=header_row,
            mapping=columns,
            encoding=encoding,
            crs=crs,
            photos=photos,
            rejected_path=rejected_path,
            corrects=corrects,
            replace=replace,
            dry_run=dry_run,
            wait=wait,
            on_wait=lambda holder: err.print(
                safe(holder["message"]), highlight=False, soft_wrap=True
            ),
            on_progress=lambda n: bar.update(
                task, description=f"{n:,} rows matched and stored", refresh=True
            ),
        )
    if as_json:
        echo_json(report)
        return

    con = Console()
    sheet = (report.get("options") or {}).get("sheet")
    named = safe(path) + (
        tr(f", sheet {safe(sheet)},", f"（工作表 {safe(sheet)}）") if sheet else ""
    )
    if report.get("already_imported"):
        con.print(
            tr(
                f"{named} was already imported as survey {report['survey_id']}: nothing changed.",
                f"{named} 已作为勘察批次 {report['survey_id']} 导入过：未做任何更改。",
            )
        )
        then = (report.get("provider"), report.get("surveyed_on"))
        if then != (provider, surveyed_on) and all(then):
            con.print(
                tr(
                    f"It stays as imported then: by {safe(then[0])}, surveyed on {then[1]} "
                    f"(not {safe(provider)}, {surveyed_on}); to change them, import it again "
                    f"with --replace {report['survey_id']}.",
                    f"该批次保持当时的记录：{safe(then[0])}，勘察日期 {then[1]}（而非 "
                    f"{safe(provider)}，{surveyed_on}）；如需更改，请用 --replace "
                    f"{report['survey_id']} 重新导入。",
                )
            )
        return
    title = (
        tr("dry run, nothing written", "试运行，未写入任何数据")
        if report.get("dry_run")
        else tr(f"survey {report['survey_id']}", f"勘察批次 {report['survey_id']}")
    )
    con.print(
        f"[bold]{title}[/]: {safe(report['file'])}"
        + (tr(f", sheet {safe(sheet)}", f"，工作表 {safe(sheet)}") if sheet else "")
        + f" ({safe(report['provider'])}, {report['surveyed_on']})"
    )
    if report.get("corrects") is not None:
        con.print(tr(f"corrects survey {report['corrects']}", f"更正勘察批次 {report['corrects']}"))
    if report.get("replaced") is not None:
        gone, dry = report["replaced"], report.get("dry_run")
        con.print(
            tr(
                f"replaces survey {gone} "
                f"({'kept: a dry run' if dry else 'dropped, with its hazards'})",
                f"替换勘察批次 {gone}（{'试运行，未删除' if dry else '该批次及其隐患已删除'}）",
            )
        )
    header_row, top = report.get("header_row"), report.get("header_from")
    if top is not None:  # --header-row N would read row N alone
        con.print(
            tr(
                f"column names read from rows {top}–{header_row} (a header over two rows)",
                f"列名取自第 {top}–{header_row} 行（两行表头）",
            )
        )
    elif header_row is not None and header_row > 1:
        con.print(tr(f"column names read from row {header_row}", f"列名取自第 {header_row} 行"))
    con.print(
        tr(
            f"rows {report['rows']}: [green]{report['accepted']} accepted[/], "
            f"[yellow]{report['review']} to review[/], [red]{report['rejected']} rejected[/], "
            f"{report['duplicates']} duplicates, {report['empty']} empty",
            f"共 {report['rows']} 行：[green]接收 {report['accepted']}[/]，"
            f"[yellow]待核查 {report['review']}[/]，[red]拒收 {report['rejected']}[/]，"
            f"重复 {report['duplicates']}，空行 {report['empty']}",
        )
    )
    con.print(
        tr(
            f"hazards: {report['added']} added, {report['updated']} updated, "
            f"{report['unchanged']} unchanged, {report['seen_again']} seen again; "
            f"{report['warnings']} warnings",
            f"隐患：新增 {report['added']}，更新 {report['updated']}，未变 "
            f"{report['unchanged']}，再次发现 {report['seen_again']}；警告 {report['warnings']}",
        )
    )
    for key, count in sorted(report["rejected_by_reason"].items()):
        zh_key = safe(reason_key_text(key, "zh"))
        con.print(tr(f"  rejected ({safe(key)}): {count}", f"  拒收（{zh_key}）：{count}"))
    shown = report["rejected_rows"] if report.get("dry_run") else report["rejected_rows"][:20]
    rows = [*shown, *(report["duplicate_rows"] if report.get("dry_run") else [])]
    for item in rows:
        con.print(
            plain(
                tr(
                    f"  row {item['row']} (line {item['line']}): {item['reason']}",
                    f"  第 {item['row']} 条（第 {item['line']} 行）：{reason_text(item['reason'], 'zh')}",
                )
            ),
            markup=False,
        )
    warned = report.get("warning_rows", [])  # (a report stored before they were listed: none)
    for warn in warned[:20]:
        con.print(
            plain(
                tr(
                    f"  warning: row {warn['row']} (line {warn['line']}): "
                    f"{'; '.join(warn['warnings'])}",
                    f"  警告：第 {warn['row']} 条（第 {warn['line']} 行）："
                    + "；".join(str(reason_text(w, "zh")) for w in warn["warnings"]),
                )
            ),
            markup=False,
        )
    if len(warned) > 20:
        con.print(
            tr(
                f"  ... {len(warned) - 20} more rows with warnings (see --json)",
                f"  …… 另有 {len(warned) - 20} 行有警告（见 --json）",
            )
        )
    for bad in report.get("route_name_mismatches", []):
        code, said, known, n = (
            bad[k] for k in ("route_code", "survey_name", "network_name", "rows")
        )
        con.print(
            plain(
                tr(
                    f"  {code}: the survey says {said}, the network says {known} ({n} rows)",
                    f"  {code}：勘察表的路线名称为 {said}，路网中为 {known}（{n} 行）",
                )
            ),
            markup=False,
        )
    for miss in report.get("missing_photos", [])[:20]:
        con.print(
            plain(
                tr(
                    f"  row {miss['row']} (line {miss['line']}): photo {miss['photo']} not found",
                    f"  第 {miss['row']} 条（第 {miss['line']} 行）：找不到照片 {miss['photo']}",
                )
            ),
            markup=False,
        )
    if report["rejected_file"]:
        from pathlib import Path

        where = Path(report["rejected_file"]).resolve()
        con.print(tr("rejected rows written to ", "拒收的行已写入 ") + plain(where), markup=False)
        kept = report.get("rejected_file_earlier")  # both paths as the line above shows one
        both = {"rejected_file": where, "rejected_file_earlier": kept and Path(kept).resolve()}
        if note := earlier_kept(both, lang=table_lang()):
            con.print(plain(note), markup=False)
    if report["review"]:
        con.print(
            tr("see them with `hazards review list`", "用 `hazards review list` 查看待核查的行")
        )


@survey.command("show")
@click.argument("survey_id", type=int)
@json_option
def survey_show(survey_id: int, as_json: bool) -> None:
    """A survey: its file, provider, date, the options it was read with, its counts, its
    hazards per status and what refers to them (what would stop `survey drop`)."""
    from hazards.intake import show_survey

    out = show_survey(survey_id)
    if as_json:
        echo_json(out)
        return
    from hazards.vocabulary import STATUS_ZH

    zh = table_lang() == "zh"
    click.echo(
        plain(
            tr(
                f"survey {out['id']}: {out['source_name']} ({out['provider']}, "
                f"{out['surveyed_on']})",
                f"勘察批次 {out['id']}：{out['source_name']}（{out['provider']}，"
                f"{out['surveyed_on']}）",
            )
        )
    )
    stamp = f"{out['imported_at']:%Y-%m-%d %H:%M}, sha256 {out['sha256'][:12]}…"
    click.echo(tr(f"imported {stamp}", f"导入于 {stamp}"))
    options = out["options"] or {}
    given = ", ".join(f"{k}={v}" for k, v in options.items())
    click.echo(plain(tr(f"read with {given or 'the defaults'}", f"读取选项：{given or '默认'}")))
    if out["corrects_id"]:
        click.echo(
            tr(f"corrects survey {out['corrects_id']}", f"更正勘察批次 {out['corrects_id']}")
        )
    click.echo(
        tr(
            f"rows {out['rows_total']}: {out['rows_accepted']} accepted, {out['rows_review']} to "
            f"review, {out['rows_rejected']} rejected",
            f"共 {out['rows_total']} 行：接收 {out['rows_accepted']}，待核查 {out['rows_review']}，"
            f"拒收 {out['rows_rejected']}",
        )
    )
    hazards = (", " if not zh else "，").join(
        f"{STATUS_ZH.get(s, s)} {n}" if zh else f"{n} {s}" for s, n in out["hazards"].items()
    )
    click.echo(tr(f"hazards: {hazards or 'none'}", f"隐患：{hazards or '无'}"))
    if out["rejected_file"]:
        click.echo(
            plain(
                tr(f"rejected rows: {out['rejected_file']}", f"被拒绝的行：{out['rejected_file']}")
            )
        )
    if out["references"]:
        click.echo(tr("referred to by (a drop is refused):", "被以下引用（不能删除）："))
        for ref in out["references"]:
            click.echo(f"  {ref}")
    else:
        click.echo(
            tr(
                "nothing refers to its hazards: `hazards survey drop` can remove it",
                "其隐患未被引用：可用 `hazards survey drop` 删除",
            )
        )


@survey.command("drop")
@click.argument("survey_id", type=int)
@json_option
def survey_drop(survey_id: int, as_json: bool) -> None:
    """Undo an import: remove the survey, its hazards and review items, in one transaction.

    Refused, listing what refers to them, when any of its hazards is in a plan or a batch,
    has changed status, was decided in review, re-checked or corrected by another survey.
    """
    from hazards.intake import drop_survey

    out = drop_survey(survey_id)
    if as_json:
        echo_json(out)
        return
    click.echo(
        tr(
            f"survey {survey_id} ({out['source_name']}) dropped: {out['hazards_removed']} hazards "
            f"removed, {out['repeats_removed']} repeats of other hazards removed",
            f"勘察批次 {survey_id}（{out['source_name']}）已删除：删除隐患 {out['hazards_removed']} 处，"
            f"删除对其他隐患的重复记录 {out['repeats_removed']} 条",
        )
    )


@survey.command("list")
@json_option
def survey_list(as_json: bool) -> None:
    """The imported surveys with their row counts."""
    from hazards.inventory import list_surveys

    rows = list_surveys()
    if as_json:
        echo_json(rows)
        return
    echo_table(
        rows,
        [
            "id",
            "provider",
            "surveyed_on",
            "source_name",
            "sheet",
            "rows_total",
            "rows_accepted",
            "rows_review",
            "rows_rejected",
        ],
        "surveys",
    )


@click.command("list", cls=HazardsCommand)
@click.option("--route", help="Only hazards on this route (e.g. Y105).")
@click.option("--tier", type=click.Choice(TIERS), help="Only hazards of this risk tier.")
@click.option(
    "--status",
    type=STATUS,
    help="Only hazards with this status (identified, review, planned, ...; or 待治理, 已计划, ...).",
)
@click.option("--survey", type=int, help="Only hazards from this survey id.")
@json_option
def list_cmd(
    route: str | None, tier: str | None, status: str | None, survey: int | None, as_json: bool
) -> None:
    """List hazards with their route, chainage, category, tier and status."""
    from hazards.inventory import list_hazards

    rows = list_hazards(route=route, tier=tier, status=status, survey=survey)
    if as_json:
        echo_json(rows)
        return
    echo_table(with_chainage(with_own_words(rows)), HAZARD_LIST_COLUMNS, "hazards")


@click.group("review", cls=CommandGroup)
def review() -> None:
    """The review queue: survey rows that matched with doubt (distance, conflict, ambiguity).

    \b
    Examples:
      hazards review list
      hazards review accept H000028
      hazards review accept H000031 --route Y005
      hazards review reject H000040 --reason "重复，同 H000012"
    """


@review.command("list")
@json_option
def review_list(as_json: bool) -> None:
    """Hazards waiting for review, with the reason."""
    from hazards.inventory import review_queue

    rows = review_queue()
    if as_json:
        echo_json(rows)
        return
    echo_table(
        with_chainage(with_own_words(rows)),
        ["id", "route_code", "chainage", "category", "snap_distance_m", "reason"],
        "waiting for review",
    )


@review.command("accept")
@click.argument("hazard_id")
@click.option("--route", help="Place the hazard on this route instead of the one it matched.")
@click.option(
    "--max-distance",
    type=float,
    metavar="M",
    help="How far (m) the point may be from that route, or without --route from where it "
    "is placed (default: the match_review_m setting, 50 m).",
)
@click.option("--by", help="Who accepts it (recorded in the history).")
def review_accept_cmd(
    hazard_id: str, route: str | None, max_distance: float | None, by: str | None
) -> None:
    """Accept a hazard waiting for review (optionally on another route)."""
    from hazards.review import review_accept

    out = review_accept(hazard_id, route=route, by=by, max_distance_m=max_distance)
    click.echo(_decided(out))


@review.command("reject")
@click.argument("hazard_id")
@click.option(
    "--reason",
    required=True,
    help="Why it is rejected (false positive, duplicate of H000123, ...).",
)
@click.option("--by", help="Who rejects it (recorded in the history).")
def review_reject_cmd(hazard_id: str, reason: str, by: str | None) -> None:
    """Reject a hazard waiting for review, with the reason."""
    from hazards.review import review_reject

    out = review_reject(hazard_id, reason=reason, by=by)
    click.echo(_decided(out))


def _decided(out: dict[str, str]) -> str:
    """``H000028: review → identified`` (zh: ``H000028：待核查 → 待治理``)."""
    from hazards.vocabulary import STATUS_ZH

    zh = STATUS_ZH.get(out["status"], out["status"])
    return tr(
        f"{out['id']}: review → {out['status']}", f"{out['id']}：{STATUS_ZH['review']} → {zh}"
    )
