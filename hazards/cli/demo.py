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
}
"""What the progress bar says during each step of :data:`hazards.demo.STEPS`."""


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

    from hazards.demo import STEPS, run_demo

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
            bar.update(task, completed=STEPS.index(step), description=STEP_LABELS[step])

        data = run_demo(out=Path(out), progress=progress)
        bar.update(task, completed=len(STEPS), description="done")
    if as_json:
        echo_json(data)
        return
    print_demo(con, data)


def print_demo(con: Any, data: dict[str, Any]) -> None:
    """Print the demo's report (what :func:`hazards.demo.run_demo` returns) on a rich console."""
    from rich.table import Table

    db = data["database"]
    con.print(
        f"database: PostgreSQL {db['postgres_version']}, PostGIS {db['postgis_version']}, "
        f"{'embedded at ' + str(db.get('home')) if db['managed'] else 'HAZARDS_DATABASE_URL'}"
    )
    load = data["roads_load"]
    if load["reused_existing"]:
        con.print(
            f"roads: already loaded by an earlier run ({load['routes_unchanged']} routes unchanged), reused"
        )
    else:
        con.print(
            f"roads: {load['rows_read']} features read, "
            f"{load['routes_added'] - load['unassigned_added']} routes + "
            f"{load['unassigned_added']} unassigned roads added "
            f"(working CRS {load['working_crs']})"
        )
    summary = data["summary_by_class"]
    table = Table(title="roads by class")
    for col in ("class", "routes", "segments", "km"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for g in summary["classes"]:
        table.add_row(
            str(g["class"]), str(g["routes"]), str(g["segments"]), f"{g['length_km']:.1f}"
        )
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
    con.print(
        f"tiers: {t['scored']} hazards scored: "
        + ", ".join(f"tier {k} {v}" for k, v in t["tiers"].items())
        + f"; {t['disagreements']} where the survey and the model disagree (`hazards tiers diff`)"
    )
    p = data["plan"]
    con.print(
        f"plan {p['name']}{' (reused)' if p.get('reused') else ''}: budget {p['budget_cny']:,.0f} CNY, "
        f"spent {p['spent_cny']:,.0f}, solver {p['solver']}"
    )
    for b in p["batches"]:
        con.print(
            f"  {b['name']}: {b['hazards']} hazards on {len(b['routes'])} routes, {b['cost_cny']:,.0f} CNY, "
            + " ".join(f"{k}:{v}" for k, v in b["tiers"].items())
        )
    u = p["unfunded"]
    con.print(f"  unfunded: {u['hazards']} hazards, {u['cost_cny']:,.0f} CNY")
    con.print(
        "riskiest routes (open risk per km, 100 m cells): "
        + ", ".join(f"{r['route']} {r['risk_per_km']:.0f}" for r in data["riskiest_routes"])
    )
    c = data["completion"]
    if c:
        con.print(
            f"completion report ({c['rows']} rows): {c['applied']} applied, {c['unchanged']} already applied, "
            f"{c['not_reported']} not reported, {c['invalid']} invalid"
        )
        for r in c["invalid_rows"]:
            con.print(f"  row {r['row']} ({r['id']}): {r['reason']}")
    r = data["rechecks"]
    if r["planned"]:
        con.print(
            f"re-checks (回头看): {r['planned']} sites; {len(r['passed'])} passed (verified), "
            f"{len(r['failed'])} failed and reopened ({', '.join(r['failed'])})"
            + (
                f"; {len(r['skipped'])} left alone, changed after the demo's re-check day "
                f"({', '.join(r['skipped'])})"
                if r.get("skipped")
                else ""
            )
        )
    else:
        con.print("re-checks (回头看): nothing new to re-check (done by an earlier run)")
    _print_crashes(con, data)
    for key, label in (("progress_by_tier", "tier"), ("progress_by_township", "township")):
        rep = data[key]
        table = Table(title=f"progress by {label} (full table: hazards progress --by {label})")
        for col in (
            label,
            "hazards",
            "open",
            "done",
            "verified",
            "% done",
            "left (万元)",
            "km near open I",
        ):
            table.add_column(col, justify="left" if col == label else "right")
        for g in [*rep["groups"], rep["total"]]:
            c = g["counts"]
            open_ = sum(c[s] for s in OPEN_STATUSES)
            table.add_row(
                str(g["group"]),
                str(g["hazards"]),
                str(open_),
                str(sum(c[s] for s in DONE_STATUSES)),
                str(c["verified"]),
                f"{g['pct_remediated']:.1f}",
                f"{g['remaining_cost_cny'] / 1e4:,.1f}",
                f"{g['km_near_open_tier_I']:.1f}",
            )
        con.print(table)
    con.print("[bold]files[/]:")
    for what, path in data["files"].items():
        con.print(f"  {what}: {path}")
    con.print("database: `hazards db url`; more: `hazards --help`")


def _print_crashes(con: Any, data: dict[str, Any]) -> None:
    """The crash import, the black spots and the before/after evaluation of batch 1."""
    c = data.get("crashes")
    if not c:
        return
    con.print(
        f"crashes ({c['rows']} rows): {c['stored']} on the roads, {c['unattached']} off every "
        f"road (kept), {c['rejected']} rejected, {c['empty']} empty; {c['added']} added, "
        f"{c['unchanged']} already imported, {c['junction']} at junctions",
        markup=False,
    )
    s = data["screening"]
    con.print(
        f"black spots (事故多发点段; {s['window_m']:.0f} m windows, {s['crashes']} crashes): "
        + ", ".join(
            f"{b['route']} {b['from']}–{b['to']} ({b['crashes']})" for b in s["black_spots"][:5]
        )
        + " (`hazards screen --unit window`)",
        markup=False,
    )
    t = data.get("tiers_with_crashes") or {}
    if t.get("tiers"):
        con.print(
            "tiers with the crash history: "
            + ", ".join(f"tier {k} {v}" for k, v in t["tiers"].items())
            + (f"; {t['crash_lifted']} lifted by crashes" if "crash_lifted" in t else ""),
            markup=False,
        )
    e = data.get("evaluation")
    if e and (e["overall"].get("naive") or {}).get("cmf") is not None:
        ov, n = e["overall"], e["overall"]["naive"]
        line = (
            f"before/after of {e['batch']} ({ov['sites']} sites, {e['before_years']} year each "
            f"side): {ov['before']:.0f} → {ov['after']:.0f} crashes, naive CMF {n['cmf']:.2f} "
            f"(95 % CI {n['ci_low']:.2f}–{n['ci_high']:.2f})"
        )
        c = ov.get("comparison")
        if c and c.get("cmf") is not None:
            line += f", with comparison group {c['cmf']:.2f} ({c['ci_low']:.2f}–{c['ci_high']:.2f})"
        con.print(line + " (`hazards evaluate`)", markup=False)
