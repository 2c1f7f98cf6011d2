"""The ``hazards demo`` command and the printer of its report."""

from __future__ import annotations

from typing import Any

import click

from hazards.cli._common import HazardsCommand, echo_json, json_option
from hazards.vocabulary import DONE_STATUSES, OPEN_STATUSES

STEP_LABELS = {
    "database": "starting the database",
    "roads": "loading the sample roads",
    "survey": "importing the township survey",
    "tiers": "scoring hazards into tiers",
    "plan": "planning three batches under the budget",
    "exports": "exporting the batches",
    "completion": "importing batch 1's completion report",
    "rechecks": "re-checking finished sites",
    "crashes": "importing the police crash sheet",
    "screening": "screening the network for black spots",
    "evaluation": "before/after crashes at batch 1's sites",
    "maps": "writing the maps",
    "progress": "computing progress",
    "done": "done",
}
"""What the progress bar says during each step of :data:`hazards.demo.STEPS`."""

STEP_LABELS_ZH = {
    "database": "启动数据库",
    "roads": "载入示例路网",
    "survey": "导入乡镇排查数据",
    "tiers": "隐患评分定级",
    "plan": "按预算安排三个批次",
    "exports": "导出批次文件",
    "completion": "导入第一批完工报告",
    "rechecks": "回头看复查",
    "crashes": "导入交警事故记录",
    "screening": "排查事故多发点段",
    "evaluation": "第一批点位治理前后事故对比",
    "maps": "生成地图",
    "progress": "统计治理进度",
    "done": "完成",
}
"""The same in Chinese (the ``lang`` setting zh)."""


@click.command("demo", cls=HazardsCommand)
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

    from hazards.cli._common import table_lang
    from hazards.demo import STEPS, run_demo

    labels = STEP_LABELS_ZH if table_lang() == "zh" else STEP_LABELS
    con = Console(stderr=as_json)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=con,
        transient=as_json,
    ) as bar:
        task = bar.add_task("hazards demo", total=len(STEPS))

        def progress(step: str) -> None:
            bar.update(task, completed=STEPS.index(step), description=labels[step])

        data = run_demo(out=Path(out), progress=progress)
        bar.update(task, completed=len(STEPS), description=labels["done"])
    if as_json:
        echo_json(data)
        return
    print_demo(con, data)


def print_demo(con: Any, data: dict[str, Any], *, lang: str | None = None) -> None:
    """Print the demo's report (what :func:`hazards.demo.run_demo` returns) on a rich console,
    in ``lang`` (default: the ``lang`` setting)."""
    from rich.table import Table

    from hazards.cli._common import table_lang
    from hazards.vocabulary import CLASS_ZH, STATUS_ZH, TIER_ZH, money_text

    zh = (lang or table_lang()) == "zh"

    def t(en: str, cn: str) -> str:
        return cn if zh else en

    def cny(value: float) -> str:  # as plan create and every table write an amount
        return money_text(value, lang="zh" if zh else "en")

    db = data["database"]
    where = (
        t("embedded at ", "内置于 ") + str(db.get("home"))
        if db["managed"]
        else "HAZARDS_DATABASE_URL"
    )
    con.print(
        t("database: ", "数据库：")
        + f"PostgreSQL {db['postgres_version']}, PostGIS {db['postgis_version']}, {where}"
    )
    load = data["roads_load"]
    if load["reused_existing"]:
        con.print(
            t(
                f"roads: already loaded by an earlier run ({load['routes_unchanged']} routes "
                "unchanged), reused",
                f"路网：之前的运行已载入（{load['routes_unchanged']} 条路线未变），直接沿用",
            )
        )
    else:
        routes = load["routes_added"] - load["unassigned_added"]
        con.print(
            t(
                f"roads: {load['rows_read']} features read, {routes} routes + "
                f"{load['unassigned_added']} unassigned roads added "
                f"(working CRS {load['working_crs']})",
                f"路网：读入 {load['rows_read']} 个要素，新增 {routes} 条路线和 "
                f"{load['unassigned_added']} 条无路线编码道路（工作坐标系 {load['working_crs']}）",
            )
        )
    summary = data["summary_by_class"]
    table = Table(title=t("roads by class", "各行政等级路网"))
    heads = {"class": "行政等级", "routes": "路线数", "segments": "路段数", "km": "里程（公里）"}
    for col in ("class", "routes", "segments", "km"):
        table.add_column(t(col, heads[col]), justify="left" if col == "class" else "right")
    for g in summary["classes"]:
        name = CLASS_ZH.get(str(g["class"]), str(g["class"])) if zh else str(g["class"])
        table.add_row(name, str(g["routes"]), str(g["segments"]), f"{g['length_km']:.1f}")
    total = summary["total"]
    table.add_row(
        t("[bold]total", "[bold]合计"),
        str(total["routes"]),
        str(total["segments"]),
        f"{total['length_km']:.1f}",
    )
    con.print(table)
    kinds = {"main": "主线", "branch": "支线"}
    for r in data["example_routes"]:
        parts = "; ".join(
            t(
                f"part {p['part']} {p['kind']} {p['from']}–{p['to']}",
                f"分支 {p['part']} {kinds.get(p['kind'], p['kind'])} {p['from']}–{p['to']}",
            )
            + "".join(
                t(f" (gap {g['from']}–{g['to']})", f"（缺测 {g['from']}–{g['to']}）")
                for g in p["gaps"]
            )
            for p in r["parts"]
        )
        con.print(
            f"  {r['route']} {r['name']}: {r['length_km']:.3f} " + t("km", "公里") + f", {parts}"
        )
    s = data["survey"]
    if s.get("already_imported"):
        con.print(
            t(
                f"survey: already imported by an earlier run as survey {s['survey_id']}, reused",
                f"排查数据：之前的运行已导入为勘察批次 {s['survey_id']}，直接沿用",
            )
        )
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(s["rejected_by_reason"].items()))
    con.print(
        t(
            f"survey ({s['rows']} rows): {s['accepted']} accepted, {s['review']} to review, "
            f"{s['rejected']} rejected, {s['duplicates']} duplicates, {s['empty']} empty; "
            f"rejected by reason: {reasons}",
            f"排查数据（{s['rows']} 行）：接收 {s['accepted']}，待核查 {s['review']}，拒收 "
            f"{s['rejected']}，重复 {s['duplicates']}，空行 {s['empty']}；拒收原因：{reasons}",
        )
    )
    if s.get("rejected_file"):
        con.print(
            t("  rejected rows for the survey firm: ", "  退回勘察单位的拒收行：")
            + str(s["rejected_file"])
        )
    tiers = data["tiers"]

    def tier_counts(counts: dict[str, Any]) -> str:
        return ", ".join(t(f"tier {k} {v}", f"{TIER_ZH.get(k, k)} {v}") for k, v in counts.items())

    con.print(
        t(
            f"tiers: {tiers['scored']} hazards scored: {tier_counts(tiers['tiers'])}; "
            f"{tiers['disagreements']} where the survey and the model disagree "
            "(`hazards tiers diff`)",
            f"定级：已评分隐患 {tiers['scored']} 处：{tier_counts(tiers['tiers'])}；勘察与模型"
            f"等级不一致 {tiers['disagreements']} 处（`hazards tiers diff`）",
        )
    )
    p = data["plan"]
    con.print(
        t(
            f"plan {p['name']}{' (reused)' if p.get('reused') else ''}: budget "
            f"{cny(p['budget_cny'])}, spent {cny(p['spent_cny'])}, solver {p['solver']}",
            f"治理计划 {p['name']}{'（沿用）' if p.get('reused') else ''}：预算 "
            f"{cny(p['budget_cny'])}，已安排 {cny(p['spent_cny'])}，求解器 {p['solver']}",
        )
    )
    for b in p["batches"]:
        by_tier = " ".join(f"{TIER_ZH.get(k, k) if zh else k}:{v}" for k, v in b["tiers"].items())
        con.print(
            t(
                f"  {b['name']}: {b['hazards']} hazards on {len(b['routes'])} routes, "
                f"{cny(b['cost_cny'])}, {by_tier}",
                f"  {b['name']}：{len(b['routes'])} 条路线上的 {b['hazards']} 处隐患，"
                f"{cny(b['cost_cny'])}，{by_tier}",
            )
        )
    u = p["unfunded"]
    con.print(
        t(
            f"  unfunded: {u['hazards']} hazards, {cny(u['cost_cny'])}",
            f"  未安排资金：{u['hazards']} 处隐患，{cny(u['cost_cny'])}",
        )
    )
    con.print(
        t(
            "riskiest routes (open risk per km, 100 m cells): ",
            "风险最高的路线（每公里未治理风险，100米单元）：",
        )
        + ", ".join(f"{r['route']} {r['risk_per_km']:.0f}" for r in data["riskiest_routes"])
    )
    c = data["completion"]
    if c:
        con.print(
            t(
                f"completion report ({c['rows']} rows): {c['applied']} applied, "
                f"{c['unchanged']} already applied, {c['not_reported']} not reported, "
                f"{c['invalid']} invalid",
                f"完工报告（{c['rows']} 行）：已应用 {c['applied']}，之前已应用 {c['unchanged']}，"
                f"未报告 {c['not_reported']}，无效 {c['invalid']}",
            )
        )
        for r in c["invalid_rows"]:
            con.print(
                t(f"  row {r['row']} ({r['id']}): ", f"  第 {r['row']} 行（{r['id']}）：")
                + str(r["reason"])
            )
    r = data["rechecks"]
    if r["planned"]:
        skipped = (
            t(
                f"; {len(r['skipped'])} left alone, changed after the demo's re-check day "
                f"({', '.join(r['skipped'])})",
                f"；{len(r['skipped'])} 处在演示复查日之后有变化，未处理（{'、'.join(r['skipped'])}）",
            )
            if r.get("skipped")
            else ""
        )
        con.print(
            t(
                f"re-checks (回头看): {r['planned']} sites; {len(r['passed'])} passed (verified), "
                f"{len(r['failed'])} failed and reopened ({', '.join(r['failed'])})",
                f"回头看：{r['planned']} 处；{len(r['passed'])} 处通过（{STATUS_ZH['verified']}），"
                f"{len(r['failed'])} 处未通过，{STATUS_ZH['reopened']}（{'、'.join(r['failed'])}）",
            )
            + skipped
        )
    else:
        con.print(
            t(
                "re-checks (回头看): nothing new to re-check (done by an earlier run)",
                "回头看：没有新的复查（之前的运行已完成）",
            )
        )
    _print_crashes(con, data, zh=zh)
    heads_zh = {
        "hazards": "隐患数",
        "open": "未治理",
        "done": "已治理",
        "verified": "已验收",
        "% done": "治理完成率（%）",
        "left (万元)": "剩余费用（万元）",
        "km near open I": "I级隐患附近里程（公里）",
    }
    for key, label, label_zh in (
        ("progress_by_tier", "tier", "风险等级"),
        ("progress_by_township", "township", "乡镇"),
    ):
        rep = data[key]
        table = Table(
            title=t(
                f"progress by {label} (full table: hazards progress --by {label})",
                f"治理进度，按{label_zh}（完整表格：hazards progress --by {label}）",
            )
        )
        for col in (label, *heads_zh):
            table.add_column(
                t(col, label_zh if col == label else heads_zh[col]),
                justify="left" if col == label else "right",
            )
        for g in [*rep["groups"], rep["total"]]:
            c = g["counts"]
            open_ = sum(c[s] for s in OPEN_STATUSES)
            group = str(g["group"])
            if zh:
                group = TIER_ZH.get(group) or {"total": "合计"}.get(group, group)
            table.add_row(
                group,
                str(g["hazards"]),
                str(open_),
                str(sum(c[s] for s in DONE_STATUSES)),
                str(c["verified"]),
                f"{g['pct_remediated']:.1f}",
                f"{g['remaining_cost_cny'] / 1e4:,.1f}",
                f"{g['km_near_open_tier_I']:.1f}",
            )
        con.print(table)
    con.print(t("[bold]files[/]:", "[bold]输出文件[/]："))
    for what, path in data["files"].items():
        con.print(f"  {_file_label(what) if zh else what}: {path}")
    con.print(
        t(
            "database: `hazards db url`; more: `hazards --help`",
            "数据库：`hazards db url`；更多：`hazards --help`",
        )
    )


_FILE_WORDS = (
    ("rejected survey rows", "拒收的排查行"),
    ("rejected crash rows", "拒收的事故行"),
    ("completion report of ", "完工报告 "),
    ("re-check list", "回头看清单"),
    ("overview map", "总览地图"),
    ("screening map", "事故多发点段排查地图"),
    ("road dossier ", "一路一档 "),
    ("batch map ", "批次地图 "),
    ("batch ", "批次 "),
)
"""The demo's names of its files (``files`` in its report) in Chinese, by their first words."""


def _file_label(what: str) -> str:
    """A file's name in the demo's report, in Chinese."""
    for en, zh in _FILE_WORDS:
        if what.startswith(en):
            return zh + what[len(en) :]
    return what


def _print_crashes(con: Any, data: dict[str, Any], *, zh: bool = False) -> None:
    """The crash import, the black spots and the before/after evaluation of batch 1."""
    from hazards.vocabulary import TIER_ZH

    def t(en: str, cn: str) -> str:
        return cn if zh else en

    c = data.get("crashes")
    if not c:
        return
    con.print(
        t(
            f"crashes ({c['rows']} rows): {c['stored']} on the roads, {c['unattached']} off every "
            f"road (kept), {c['rejected']} rejected, {c['empty']} empty; {c['added']} added, "
            f"{c['unchanged']} already imported, {c['junction']} at junctions",
            f"事故（{c['rows']} 行）：道路上 {c['stored']} 起，不在任何道路上 {c['unattached']} 起"
            f"（保留），拒收 {c['rejected']}，空行 {c['empty']}；新增 {c['added']}，之前已导入 "
            f"{c['unchanged']}，位于交叉口 {c['junction']}",
        ),
        markup=False,
    )
    s = data["screening"]
    spots = "，".join if zh else ", ".join
    con.print(
        t(
            f"black spots (事故多发点段; {s['window_m']:.0f} m windows, {s['crashes']} crashes): ",
            f"事故多发点段（{s['window_m']:.0f} 米滑动窗口，{s['crashes']} 起事故）：",
        )
        + spots(
            f"{b['route']} {b['from']}–{b['to']} "
            + t(f"({b['crashes']})", f"（{b['crashes']} 起）")
            for b in s["black_spots"][:5]
        )
        + t(" (`hazards screen --unit window`)", "（`hazards screen --unit window`）"),
        markup=False,
    )
    tw = data.get("tiers_with_crashes") or {}
    if tw.get("tiers"):
        counts = ", ".join(
            t(f"tier {k} {v}", f"{TIER_ZH.get(k, k)} {v}") for k, v in tw["tiers"].items()
        )
        lifted = (
            t(f"; {tw['crash_lifted']} lifted by crashes", f"；因事故上调 {tw['crash_lifted']} 处")
            if "crash_lifted" in tw
            else ""
        )
        con.print(
            t("tiers with the crash history: ", "计入事故记录后的定级：") + counts + lifted,
            markup=False,
        )
    e = data.get("evaluation")
    if e and (e["overall"].get("naive") or {}).get("cmf") is not None:
        ov, n = e["overall"], e["overall"]["naive"]
        line = t(
            f"before/after of {e['batch']} ({ov['sites']} sites, {e['before_years']} year each "
            f"side): {ov['before']:.0f} → {ov['after']:.0f} crashes, naive CMF {n['cmf']:.2f} "
            f"(95 % CI {n['ci_low']:.2f}–{n['ci_high']:.2f})",
            f"{e['batch']} 治理前后对比（{ov['sites']} 处，前后各 {e['before_years']} 年）："
            f"事故 {ov['before']:.0f} → {ov['after']:.0f} 起，朴素前后对比 CMF {n['cmf']:.2f}"
            f"（95% 置信区间 {n['ci_low']:.2f}–{n['ci_high']:.2f}）",
        )
        cg = ov.get("comparison")
        if cg and cg.get("cmf") is not None:
            line += t(
                f", with comparison group {cg['cmf']:.2f} ({cg['ci_low']:.2f}–{cg['ci_high']:.2f})",
                f"，对照组法 {cg['cmf']:.2f}（{cg['ci_low']:.2f}–{cg['ci_high']:.2f}）",
            )
        con.print(line + t(" (`hazards evaluate`)", "（`hazards evaluate`）"), markup=False)
