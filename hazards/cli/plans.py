"""The ``hazards plan``, ``hazards batch``, ``hazards export`` and ``hazards import`` commands:
remediation plans under a budget, their batches, the files exchanged with contractors, and the
inventory exported for QGIS (a GeoPackage, a project on the live database). Every command of a
group is defined in the group's own module: the top command imports that module alone
(:data:`hazards.cli.COMMANDS`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from hazards.cli._common import (
    CommandGroup,
    HazardsCommand,
    echo_json,
    echo_table,
    json_option,
    money,
    plain,
    safe,
    table_lang,
    tr,
)
from hazards.outfiles import earlier_kept


class _Amount(click.ParamType):
    """A sum of money: yuan (3000000, 3,000,000, ¥3000000, 3000000元) or 万元 (300万, 300万元)."""

    name = "amount"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        from hazards.cells import parse_amount

        if isinstance(value, int | float):
            return float(value)
        try:
            amount = parse_amount(str(value))
        except ValueError as exc:
            amount, why = None, f" ({exc})"
        else:
            why = ""
        if amount is None:
            self.fail(
                tr(
                    f"{value!r} is not a sum of money{why}: give yuan (3000000, 3,000,000) or "
                    "万元 (300万).",
                    f"{value!r} 不是金额{why}：请以元（3000000、3,000,000）或万元（300万）填写。",
                ),
                param,
                ctx,
            )
        return amount


AMOUNT = _Amount()


@click.group("plan", cls=CommandGroup)
def plan_group() -> None:
    """Remediation batches under a budget: highest risk first, contiguous lots.

    \b
    Examples:
      hazards plan create --name 2025 --budget 3000000 --batches 3
      hazards plan show 2025
      hazards plan commit 2025
    """


@plan_group.command("create")
@click.option(
    "--name", required=True, help="Name of the plan, e.g. 2025; batches are NAME-1, NAME-2, ..."
)
@click.option(
    "--budget",
    required=True,
    type=AMOUNT,
    help="Budget: yuan (3000000, 3,000,000) or with its unit (300万, 300万元, ¥3000000).",
)
@click.option(
    "--batches", type=int, default=3, show_default=True, help="Number of batches (contracts)."
)
@click.option(
    "--group-by",
    type=click.Choice(["road", "township"]),
    default="road",
    show_default=True,
    help="Keep the hazards of one road (or township) in one batch.",
)
@click.option(
    "--tiers",
    "tier_list",
    default="I,II,III",
    show_default=True,
    help="Tiers to fund, in priority order.",
)
@click.option("--min-lot", type=AMOUNT, help="Smallest batch: yuan, or 50万.")
@click.option("--max-lot", type=AMOUNT, help="Largest batch: yuan, or 200万.")
@click.option(
    "--time-limit",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds for the exact solver before the greedy fallback.",
)
@click.option("--dry-run", is_flag=True, help="Show the plan without storing it.")
@json_option
def plan_create(
    name: str,
    budget: float,
    batches: int,
    group_by: str,
    tier_list: str,
    min_lot: float | None,
    max_lot: float | None,
    time_limit: float,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Choose the open hazards to fund and cut them into batches (stored as a draft)."""
    from hazards.planning import create_plan

    out = create_plan(
        name=name,
        budget=budget,
        batches=batches,
        group_by=group_by,
        tiers=tuple(t.strip() for t in tier_list.split(",") if t.strip()),
        min_lot=min_lot,
        max_lot=max_lot,
        dry_run=dry_run,
        time_limit=time_limit,
    )
    if as_json:
        echo_json(out)
    else:
        _print_plan(out)


def _print_plan(out: Mapping[str, Any]) -> None:
    """Print a plan report (from create_plan or show_plan): batches, unfunded, warnings."""
    from rich.console import Console

    con = Console()
    dry = tr(" (dry run)", "（试运行）") if out.get("dry_run") else ""
    con.print(
        tr(
            f"[bold]plan {safe(out['name'])}[/]{dry}: budget {money(out['budget_cny'])}, "
            f"spent {money(out['spent_cny'])}, solver {out['solver']} "
            f"(gap {out['optimality_gap']:.2%})",
            f"[bold]计划 {safe(out['name'])}[/]{dry}：预算 {money(out['budget_cny'])}，"
            f"已安排 {money(out['spent_cny'])}，求解器 {out['solver']}"
            f"（最优性差距 {out['optimality_gap']:.2%}）",
        )
    )
    echo_table(
        [
            {
                **b,
                "routes": ", ".join(b["routes"][:6]) + (" ..." if len(b["routes"]) > 6 else ""),
                "tiers": " ".join(f"{k}:{v}" for k, v in b["tiers"].items()),
            }
            for b in out["batches"]
        ],
        ["name", "hazards", "cost_cny", "km_touched", "tiers", "routes"],
        "batches",
    )
    u = out["unfunded"]
    tiers = " ".join(f"{k}:{v}" for k, v in u["tiers"].items())
    con.print(
        tr(
            f"unfunded: {u['hazards']} hazards, {money(u['cost_cny'])} ({tiers})",
            f"未安排资金：{u['hazards']} 处隐患，{money(u['cost_cny'])}（{tiers}）",
        )
    )
    for w in out.get("warnings", []):
        con.print(f"[yellow]{tr('warning:', '警告：')}[/] {safe(w)}")


def _uncoded_notice() -> None:
    """Under a county code: a warning (stderr) when plans stored without a code are left out."""
    from hazards.planning import plans_without_code
    from hazards.settings import county

    code = county()
    n = plans_without_code() if code else 0
    if n:
        click.echo(
            tr(
                f"warning: {n} plan(s) stored without a county code are not county {code}'s "
                f"and not listed. If they are its, `hazards roads adopt-code {code}` gives them "
                "its code.",
                f"警告：{n} 个计划未记县级代码，不属于 {code}，未列出。若为本县计划，"
                f"`hazards roads adopt-code {code}` 可为其记上本县代码。",
            ),
            err=True,
        )


@plan_group.command("list")
@json_option
def plan_list(as_json: bool) -> None:
    """The county's plans (HAZARDS_ADMIN_CODE), draft or committed."""
    from hazards.planning import list_plans

    rows = list_plans()
    _uncoded_notice()
    if as_json:
        echo_json(rows)
    else:
        echo_table(
            rows,
            ["name", "status", "budget_cny", "spent_cny", "batches", "hazards", "created_at"],
            "plans",
        )


@plan_group.command("show")
@click.argument("name")
@json_option
def plan_show(name: str, as_json: bool) -> None:
    """A plan's batches, costs and unfunded remainder (--json: with a rationale per hazard)."""
    from hazards.planning import show_plan

    out = show_plan(name)
    if as_json:
        echo_json(out)
    else:
        _print_plan(out)


@plan_group.command("commit")
@click.argument("name")
@click.option("--by", help="Who commits it.")
@click.option(
    "--on",
    metavar="YYYY-MM-DD",
    help="Date the plan was decided (default: today), to record past work; not before any of "
    "its hazards' last change.",
)
@click.option(
    "--no-wait",
    "wait",
    is_flag=True,
    flag_value=False,
    default=True,
    help="If another plan commit is running, stop at once (exit 1) instead of waiting for it "
    "to finish (one plan commit at a time).",
)
def plan_commit(name: str, by: str | None, on: str | None, wait: bool) -> None:
    """Make a draft plan binding: its hazards become planned."""
    from hazards.planning import commit_plan

    out = commit_plan(
        name,
        by=by,
        on=on,
        wait=wait,
        on_wait=lambda holder: click.echo(plain(holder["message"]), err=True),
    )
    click.echo(
        tr(
            f"plan {name} committed: {out['hazards_planned']} hazards planned",
            f"计划 {name} 已下达：{out['hazards_planned']} 处隐患列入计划",
        )
    )


@plan_group.command("drop")
@click.argument("name")
def plan_drop(name: str) -> None:
    """Delete a draft plan and its batches."""
    from hazards.planning import drop_plan

    drop_plan(name)
    click.echo(tr(f"plan {name} dropped", f"计划 {name} 已删除"))


@click.group("batch", cls=CommandGroup)
def batch_group() -> None:
    """Remediation batches (contracts): list them, set contractor and dates.

    \b
    Examples:
      hazards batch list
      hazards batch set 2025-1 --contractor 某路桥公司 --start 2025-04-01 --due 2025-10-31
    """


@batch_group.command("list")
@json_option
def batch_list(as_json: bool) -> None:
    """The county's batches (HAZARDS_ADMIN_CODE), of every plan."""
    from hazards.contractors import list_batches

    rows = list_batches()
    _uncoded_notice()
    if as_json:
        echo_json(rows)
    else:
        echo_table(
            rows,
            [
                "name",
                "plan_name",
                "status",
                "contractor",
                "starts_on",
                "due_on",
                "hazards",
                "cost_cny",
            ],
            "batches",
            drop=("starts_on", "status", "plan_name", "due_on"),
        )


@batch_group.command("set")
@click.argument("name")
@click.option("--contractor", help="The contractor (施工单位) of the batch.")
@click.option("--start", help="Start date, YYYY-MM-DD: completions before it are refused.")
@click.option("--due", help="Due date, YYYY-MM-DD (in the contractor's file).")
def batch_set(name: str, contractor: str | None, start: str | None, due: str | None) -> None:
    """Set a batch's contractor, start and due dates."""
    from hazards.contractors import update_batch

    out = update_batch(name, contractor=contractor, starts_on=start, due_on=due)
    contractor, starts, due = (out[k] or "—" for k in ("contractor", "starts_on", "due_on"))
    click.echo(
        tr(
            f"{out['name']}: contractor {contractor}, start {starts}, due {due}",
            f"{out['name']}：施工单位 {contractor}，开工日期 {starts}，计划完工日期 {due}",
        )
    )


@click.group("export", cls=CommandGroup)
def export_group() -> None:
    """Files for others: a contractor's batch, the inventory as a GeoPackage, a QGIS project.

    \b
    Examples:
      hazards export batch 2025-1 -o 2025-1.xlsx
      hazards export batch 2025-1 -o 2025-1.geojson
      hazards export inventory -o 台账.gpkg
    """


@export_group.command("batch")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=str),
    help="FILE.geojson (RFC 7946) or FILE.xlsx (work list).",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    help="Language of the Excel work list: headers, categories, tiers, statuses and the "
    "instructions sheet (default: the lang setting, zh). GeoJSON keys stay English.",
)
@json_option
def export_batch_cmd(name: str, output: str, lang: str | None, as_json: bool) -> None:
    """Write batch NAME for its contractor: GeoJSON (validated against the shipped schema) or
    an Excel work list with a header block, a status drop-down and instructions.

    --json prints the export's report (batch, hazards, file, ...) instead of the line."""
    from hazards.contractors import export_batch

    out = export_batch(name, output, lang=lang)
    if as_json:
        echo_json(out)
        return
    click.echo(
        tr(
            f"{out['hazards']} hazards of batch {name} written to {out['file']}",
            f"批次 {name} 的 {out['hazards']} 处隐患已写入 {out['file']}",
        )
    )
    if out["warnings"]:
        click.echo(
            tr(
                f"warning: {out['warnings'][0]}",
                f"警告：批次 {name} 所属计划 {out['plan']} 尚未下达（草稿），其隐患尚未列入计划，"
                f"施工单位按此文件回报将被拒绝。请先下达计划（hazards plan commit "
                f"{out['plan']}），再重新导出。",
            ),
            err=True,
        )


@click.group("import", cls=CommandGroup)
def import_group() -> None:
    """Files back from others: a contractor's completion report.

    \b
    Examples:
      hazards import completion 2025-1.xlsx --dry-run
      hazards import completion 2025-1.xlsx
    """


@import_group.command("completion")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--dry-run", is_flag=True, help="Check every row and report, change nothing.")
@click.option(
    "--partial",
    is_flag=True,
    help="Apply the valid rows even when others are invalid (listed). Without it, one invalid "
    "row means nothing is applied.",
)
@click.option("--by", help="Who reports (default: the batch's contractor).")
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(path_type=str),
    help="With --partial, where the invalid rows go to be corrected and imported again "
    "(default: NAME.rejected.csv beside the report).",
)
@click.option(
    "--sheet",
    help="The workbook's sheet to read (default: the one whose header names 隐患编号, 状态, …).",
)
@json_option
def import_completion_cmd(
    path: str,
    dry_run: bool,
    partial: bool,
    by: str | None,
    rejected_path: str | None,
    sheet: str | None,
    as_json: bool,
) -> None:
    """Check a contractor's report (GeoJSON, CSV, XLSX) and apply its rows in one transaction:
    all of them, or none when a row is invalid (unless --partial). Exits 1 when refused."""
    from hazards.completions import import_completion

    out = import_completion(
        path, dry_run=dry_run, partial=partial, by=by, rejected_path=rejected_path, sheet=sheet
    )
    if as_json:
        echo_json(out)
    else:
        from hazards.vocabulary import STATUS_ZH

        click.echo(
            plain(
                tr(
                    f"{out['file']}: {out['rows']} rows: {out['valid']} valid, "
                    f"{out['applied']} applied, {out['unchanged']} unchanged, "
                    f"{out['not_reported']} not reported, {out['invalid']} invalid",
                    f"{out['file']}：共 {out['rows']} 行：有效 {out['valid']}，"
                    f"已应用 {out['applied']}，未变 {out['unchanged']}，"
                    f"未报告 {out['not_reported']}，无效 {out['invalid']}",
                )
            )
        )
        for c in out["changes"]:
            click.echo(
                plain(
                    tr(
                        f"  {c['id']}: {c['from']} → {c['to']} on {c['on']}",
                        f"  {c['id']}：{STATUS_ZH.get(c['from'], c['from'])} → "
                        f"{STATUS_ZH.get(c['to'], c['to'])}，日期 {c['on']}",
                    )
                )
            )
        feature = out["file"].lower().endswith((".geojson", ".json"))

        def at(line: int) -> str:  # where in the file: its row, or a GeoJSON's feature
            return tr(
                f"feature {line}" if feature else f"row {line}",
                f"第 {line} 个要素" if feature else f"第 {line} 行",
            )

        for r in out["dates_kept"]:  # a completion recorded before, dated otherwise now
            where = at(r["line"])
            click.echo(
                plain(
                    tr(
                        f"  {where} ({r['id']}): {r['to']} on {r['recorded']} already; the "
                        f"file's completed_on {r['file']} was not applied (the recorded date "
                        "stands: a completion is history)",
                        f"  {where}（{r['id']}）：已于 {r['recorded']} 记为"
                        f"{STATUS_ZH.get(r['to'], r['to'])}，文件中的完成日期 {r['file']} 未采用"
                        "（以已记录的日期为准）",
                    )
                )
            )
        for r in out["invalid_rows"]:
            where = at(r["line"])
            click.echo(
                plain(
                    tr(
                        f"  {where} ({r['id'] or 'no id'}): {r['reason']}",
                        f"  {where}（{r['id'] or '无编号'}）：{r['reason']}",
                    )
                )
            )
        if out["rejected_file"]:
            click.echo(
                plain(
                    tr(
                        f"the invalid rows, to correct and import again: {out['rejected_file']}",
                        f"无效行已写入 {out['rejected_file']}，改正后可再次导入",
                    )
                )
            )
            if note := earlier_kept(out, lang=table_lang()):
                click.echo(plain(note))
        if not out["refused"]:
            click.echo(tr(out["message"], _completion_zh(out)))
    if out["refused"]:
        raise click.ClickException(
            tr(
                out["message"].replace("import it as partial", "import it with --partial"),
                _completion_zh(out),
            )
        )


def _completion_zh(r: Mapping[str, Any]) -> str:
    """What a completion import changed, or why it was refused (its ``message``), in Chinese."""
    from hazards.vocabulary import STATUS_ZH

    if r["dry_run"] and r["refused"]:
        return (
            f"试运行，未做任何更改：{r['invalid']} 行无效（已列出），导入将被拒绝；改正后重新导入，"
            f"或加 --partial 只应用其余 {r['valid']} 行有效数据。"
        )
    if r["dry_run"]:
        return f"试运行，未做任何更改：{r['valid']} 行将被应用" + (
            f"，{r['invalid']} 行无效。" if r["invalid"] else "。"
        )
    if r["refused"] and not r["valid"]:
        return f"未做任何更改：报告的 {r['invalid']} 行均无效（已列出）。请改正后重新导入。"
    if r["refused"]:
        return (
            f"未做任何更改：{r['rows']} 行中有 {r['invalid']} 行无效（已列出）。请改正后重新导入，"
            f"或加 --partial 只应用其余 {r['valid']} 行有效数据。"
        )
    if not r["applied"]:
        return (
            "未做任何更改：没有行报告新的完工"
            + (
                f"；{len(r['dates_kept'])} 行日期与已记录的不同（已列出）"
                if r["dates_kept"]
                else ""
            )
            + (f"；{r['invalid']} 行无效（已列出）。" if r["invalid"] else "。")
        )
    by_to: dict[str, int] = {}
    for c in r["changes"]:
        by_to[c["to"]] = by_to.get(c["to"], 0) + 1
    tos = "，".join(f"{n} 处改为{STATUS_ZH.get(to, to)}" for to, n in sorted(by_to.items()))
    rest = f"；{r['invalid']} 行无效，未应用（已列出）" if r["invalid"] else ""
    return f"{r['applied']} 处隐患状态已更新（{tos}）{rest}；其他未做更改。"


@export_group.command("inventory", cls=HazardsCommand)
@click.option(
    "-o",
    "--output",
    "path",
    required=True,
    type=click.Path(path_type=str),
    help="The GeoPackage to write (.gpkg; replaced when it exists).",
)
@click.option(
    "--crs",
    type=click.Choice(["working", "4326", "4490"]),
    default="working",
    show_default=True,
    help="working: the database's metric CRS; 4326: WGS 84; 4490: CGCS2000.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Legend labels of the QGIS styles stored in the file.",
)
@json_option
def export_inventory_cmd(path: str, crs: str, lang: str, as_json: bool) -> None:
    """The inventory as a GeoPackage for QGIS: layers roads (one feature per road segment, with
    class, township and chainage range), hazards (points: tier, status, cost, latest batch),
    hazard_extents (the runs of linear hazards, when any), batches (the points of their
    hazards), cells (the 100 m cells of route risk: open hazards, risk, worst open tier) and
    crashes (when any); each with its QGIS style (tier colours, status outlines, road classes,
    severities, zh or en names) in the file's layer_styles table."""
    from hazards.gpkg import export_inventory

    out = export_inventory(path, crs=crs, lang=lang)
    if as_json:
        echo_json(out)
    else:
        counts = ", ".join(f"{n} {k}" for k, n in out["layers"].items())
        click.echo(
            tr(
                f"{counts} written to {out['file']} ({out['crs']})",
                f"已写入 {out['file']}（{out['crs']}）：{counts}",
            )
        )


@export_group.command("qgis-project", cls=HazardsCommand)
@click.option(
    "-o",
    "--output",
    "path",
    required=True,
    type=click.Path(path_type=str),
    help="The QGIS project to write (.qgs; replaced when it exists).",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Layer names, legend labels, field names and value names in the project.",
)
@click.option(
    "--with-password",
    is_flag=True,
    help="Write the database password into the project (by default it is left out and QGIS "
    "asks for it).",
)
@json_option
def export_qgis_project_cmd(path: str, lang: str, with_password: bool, as_json: bool) -> None:
    """A QGIS project (.qgs) reading the live database: the layers of `export inventory`
    (roads, hazards, hazard extents, batches, 100 m cells, crashes) as PostGIS query layers
    with the same styles, so QGIS always shows today's inventory. The connection is that of
    `hazards db url`."""
    from hazards.qgis_project import write_project

    out = write_project(path, lang=lang, password=with_password)
    if as_json:
        echo_json(out)
    else:
        note = "" if with_password else tr("; QGIS will ask for the password", "；QGIS 会询问密码")
        click.echo(
            tr(
                f"{len(out['layers'])} layers written to {out['file']}{note}",
                f"{len(out['layers'])} 个图层已写入 {out['file']}{note}",
            )
        )
