"""The ``hazards status``, ``hazards history``, ``hazards recheck`` and ``hazards progress``
commands: the remediation lifecycle, a hazard's events, re-checks (回头看) and progress."""

from __future__ import annotations

from typing import Any

import click

from hazards.cli._common import (
    STATUS,
    CommandGroup,
    HazardsCommand,
    echo_json,
    echo_mapping,
    echo_table,
    json_option,
    plain,
    table_lang,
    tr,
    with_own_words,
)
from hazards.errors import HazardsError
from hazards.outfiles import earlier_kept
from hazards.vocabulary import STATUSES


def _change_line(change: dict[str, Any]) -> str:
    """``H000037: reported_done → verified`` (zh: ``H000037：已完工（待验收） → 已验收``)."""
    from hazards.vocabulary import STATUS_ZH

    zh = {k: STATUS_ZH.get(change[k], change[k]) for k in ("from", "to")}
    return tr(
        f"{change['id']}: {change['from']} → {change['to']}",
        f"{change['id']}：{zh['from']} → {zh['to']}",
    )


@click.group("status", cls=CommandGroup)
def status_group() -> None:
    """The remediation lifecycle: identified → planned → in_progress → reported_done → verified.

    \b
    Examples:
      hazards status set H000014 --to in_progress --on 2025-05-06
      hazards status set H000014 H000016 --to reported_done --on 2025-06-01 --by 张工
    """


@status_group.command("set")
@click.argument("refs", nargs=-1, required=True)
@click.option(
    "--to",
    "to",
    required=True,
    type=STATUS,
    help="The new status (planned, in_progress, reported_done, verified, reopened, rejected; "
    "or 已计划, 治理中, ...).",
)
@click.option("--on", help="Date of the change, YYYY-MM-DD (default: today).")
@click.option("--by", help="Who made the change.")
@click.option("--note", help="A note; required when rejecting (the reason).")
@click.option("--evidence", help="A reference to evidence: photo, document or folder path.")
@click.option(
    "--expect-version",
    type=int,
    help="Refuse the change if the hazard's version is no longer this one (someone else changed it).",
)
@json_option
def status_set(
    refs: tuple[str, ...],
    to: str,
    on: str | None,
    by: str | None,
    note: str | None,
    evidence: str | None,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Move hazards REFS... to a new status: all of them or none."""
    from hazards.remediation import set_status

    expected = {r: expect_version for r in refs} if expect_version is not None else None
    out = set_status(
        list(refs), to=to, on=on, by=by, note=note, evidence=evidence, expected_versions=expected
    )
    if as_json:
        echo_json(out)
    else:
        for o in out:
            click.echo(_change_line(o))


@click.command("history", cls=HazardsCommand)
@click.argument("ref")
@json_option
def history_cmd(ref: str, as_json: bool) -> None:
    """A hazard's current state and every event in its history."""
    from hazards.remediation import history

    out = history(ref)
    if as_json:
        echo_json(out)
        return
    from hazards.chainage import format_chainage

    shown = with_own_words([dict(out)])[0]  # an unknown category with the survey's word
    head: dict[str, Any] = {}
    for k, v in shown.items():  # chainages as people write them (K2+500); --json: metres
        if k == "chainage_m":
            head["chainage"] = None if v is None else format_chainage(v)
        elif k == "from_m" and v is not None and shown.get("to_m") is not None:
            head["section"] = f"{format_chainage(v)}–{format_chainage(shown['to_m'])}"
        elif k not in ("events", "from_m", "to_m", "category_raw"):
            head[k] = v
    echo_mapping(head, title=f"hazard {out['id']}")
    echo_table(
        [
            {
                **e,
                "change": f"{e['from_status'] or ''} → {e['to_status'] or ''}"
                if e["to_status"]
                else "",
            }
            for e in out["events"]
        ],
        ["happened_on", "kind", "change", "who", "by", "note", "evidence"],
        "history",
    )


@click.group("recheck", cls=CommandGroup)
def recheck() -> None:
    """Re-checks (回头看) of finished work: plan the visits, record the results.

    \b
    Examples:
      hazards recheck plan --batch 2025-1 --sample 20 -o 回头看.csv
      hazards recheck record H000014 --result pass --by 张工
      hazards recheck record H000016 --result fail --note "护栏缺失"
      hazards recheck import 回头看.csv --by 张工
    """


@recheck.command("plan")
@click.option("--batch", help="Only sites of this batch.")
@click.option("--road", help="Only sites on this route.")
@click.option(
    "--sample",
    "sample_pct",
    type=float,
    default=100.0,
    show_default=True,
    help="Percentage of the finished sites to revisit.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the random sample (same seed, same sample).",
)
@click.option("--include-verified", is_flag=True, help="Also revisit sites already verified.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=str),
    help="Where to write the list: .csv (for the team, with empty columns for the result) or "
    ".geojson.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    help="Language of the CSV: headers, categories and statuses (default: the lang setting, "
    "zh). GeoJSON keys stay English.",
)
@json_option
def recheck_plan(
    batch: str | None,
    road: str | None,
    sample_pct: float,
    seed: int,
    include_verified: bool,
    output: str,
    lang: str | None,
    as_json: bool,
) -> None:
    """The finished sites to revisit, ordered along each route, with chainage and coordinates.

    The CSV ends with empty columns (复查结果, 复查日期, 复查人, 情况说明) to fill in on site;
    the filled-in sheet is then recorded with `hazards recheck import` (or each result with
    `hazards recheck record`)."""
    from hazards.remediation import plan_rechecks, write_sites

    if batch and road:
        raise click.UsageError("Give --batch or --road, not both.")
    sites = plan_rechecks(
        batch=batch, road=road, sample_pct=sample_pct, seed=seed, include_verified=include_verified
    )
    if sites.empty:
        raise HazardsError(
            "There are no finished sites (reported done) to re-check for that choice."
        )
    path = write_sites(sites, output, lang=lang)
    if as_json:
        echo_json({"file": str(path), "sites": len(sites), "ids": list(sites["id"])})
    else:
        click.echo(
            tr(
                f"{len(sites)} sites to re-check written to {path}",
                f"{len(sites)} 处回头看点位已写入 {path}",
            )
        )


@recheck.command("record")
@click.argument("ref")
@click.option(
    "--result",
    required=True,
    metavar="pass|fail",
    help="pass (合格) → verified, fail (不合格) → reopened.",
)
@click.option("--on", help="Date of the re-check, YYYY-MM-DD (default: today).")
@click.option("--by", help="Who re-checked.")
@click.option("--note", help="What was found.")
def recheck_record(ref: str, result: str, on: str | None, by: str | None, note: str | None) -> None:
    """Record a re-check of a finished site."""
    from hazards.remediation import record_recheck

    out = record_recheck(ref, result=result, on=on, by=by, note=note)
    click.echo(_change_line(out))


@recheck.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option(
    "--sheet", help="The sheet of a workbook to read (default: the one with the columns)."
)
@click.option("--on", help="Day of the rows without a 复查日期 (checked_on), YYYY-MM-DD.")
@click.option("--by", help="Who re-checked, for the rows without a 复查人 (checked_by).")
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(path_type=str),
    help="Where to write the rows that could not be recorded (default: NAME.rejected.csv).",
)
@json_option
def recheck_import(
    path: str,
    sheet: str | None,
    on: str | None,
    by: str | None,
    rejected_path: str | None,
    as_json: bool,
) -> None:
    """Record the results written into a re-check site list (CSV or XLSX from `recheck plan`).

    Every row with a 复查结果 (合格/不合格, pass/fail) is recorded as `recheck record` records
    one, on its 复查日期 (else --on: a row with neither is rejected); a row without a result
    is a site not visited. Rows that cannot be recorded are written to
    the rejected-rows file with their reason: correct them there and import that file. The same
    sheet imported again records nothing twice."""
    from hazards.rechecks import import_rechecks

    out = import_rechecks(path, sheet=sheet, on=on, by=by, rejected_path=rejected_path)
    if as_json:
        echo_json(out)
        return
    click.echo(
        tr(
            f"{out['file']}: {out['rows']} rows: {out['recorded']} re-checks recorded "
            f"({out['passed']} passed, {out['failed']} failed), {out['unchanged']} recorded "
            f"before, {out['not_visited']} without a result, {out['rejected']} rejected",
            f"{out['file']}：共 {out['rows']} 行：记录复查 {out['recorded']} 处（合格 "
            f"{out['passed']}，不合格 {out['failed']}），已记录过 {out['unchanged']}，"
            f"未填结果 {out['not_visited']}，未能记录 {out['rejected']}",
        )
    )
    for r in out["invalid"]:
        click.echo(
            tr(
                f"  row {r['line']} ({r['id'] or 'no id'}): {r['reason']}",
                f"  第 {r['line']} 行（{r['id'] or '无编号'}）：{r['reason']}",
            )
        )
    if out["rejected_file"]:
        click.echo(
            tr(
                f"rejected rows written to {out['rejected_file']}: correct them and import it",
                f"未能记录的行已写入 {out['rejected_file']}：改正后导入该文件",
            )
        )
        if note := earlier_kept(out, lang=table_lang()):
            click.echo(plain(note))


_NEAR = {
    "zh": "km_near_open_tier_I：未治理I级隐患前后 {m:,.0f} 米内的道路里程（公里，重叠只计一次）",
    "en": "km_near_open_tier_I: km of road within {m:,.0f} m of an open tier I hazard "
    "(overlaps counted once)",
}


@click.command("progress", cls=HazardsCommand)
@click.option(
    "--by",
    type=click.Choice(["road", "township", "tier", "batch"]),
    default="road",
    show_default=True,
    help="Group the hazards by this.",
)
@click.option("--as-of", help="The state on this date (YYYY-MM-DD), rebuilt from the events.")
@click.option(
    "--near",
    "near_m",
    type=float,
    help="Distance (m, along the route, either side) of km_near_open_tier_I (default: the "
    "tier_one_reach_m setting, 500).",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(path_type=str),
    help="Also write the table to this CSV file.",
)
@json_option
def progress_cmd(
    by: str, as_of: str | None, near_m: float | None, csv_path: str | None, as_json: bool
) -> None:
    """Counts per status, % remediated and verified, remaining cost, and km_near_open_tier_I:
    the km of road within --near metres of an open tier I hazard (overlaps counted once)."""
    from hazards.remediation import progress, progress_csv

    out = progress(by=by, as_of=as_of, near_m=near_m)
    if csv_path:
        progress_csv(out, csv_path)
    if as_json:
        echo_json(out)
        return
    rows = [
        {
            by: g["group"] if g is not out["total"] else tr("total", "合计"),
            **g["counts"],
            **{
                k: g[k]
                for k in (
                    "hazards",
                    "pct_remediated",
                    "pct_verified",
                    "remaining_cost_cny",
                    "km_near_open_tier_I",
                )
            },
        }
        for g in [*out["groups"], out["total"]]
    ]
    shown = [s for s in STATUSES if any(r[s] for r in rows)]
    echo_table(
        rows,
        [
            by,
            "hazards",
            *shown,
            "pct_remediated",
            "pct_verified",
            "remaining_cost_cny",
            "km_near_open_tier_I",
        ],
        f"progress by {by}" + (f" as of {out['as_of']}" if out["as_of"] else ""),
        keep=(by,),
        drop=(*reversed(shown), "pct_verified"),
        count=len(out["groups"]),
    )
    click.echo(_NEAR[table_lang()].format(m=out["near_m"]))
    if csv_path:
        click.echo(tr(f"written to {csv_path}", f"已写入 {csv_path}"))
