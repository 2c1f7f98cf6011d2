"""The main job end to end on the sample county (what ``make demo`` runs).

Start the database, load the sample county's roads (29 county roads, 111 township roads),
import the third-party survey of the township roads (a GBK CSV with the usual defects), score
the hazards into tiers, plan three remediation batches under a budget and commit the plan,
export each batch for its contractor (GeoJSON and XLSX), import a simulated completion report
for batch 1 (with one invalid row), re-check the finished sites (one fails and is reopened),
import the police crash sheet (GBK, three years), screen the network for black spots, write
the overview map (with crashes and black spots), the screening map, a road dossier and the batch
maps, and report progress per tier and per township. The timeline is fixed (survey in March
2024, batch 1 done on 2024-06-30) so that the crash sheet, 2022-07 to 2025-06, covers a year
before and after the treatment. Running it again reuses what is there and says so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hazards.errors import InputError, InputFileNotFound

SAMPLE = Path(__file__).resolve().parents[1] / "gis_data" / "sample"
SAMPLE_ROADS = SAMPLE / "county_roads.gpkg"
SAMPLE_SURVEY = SAMPLE / "township_survey.csv"
SAMPLE_CRASHES = SAMPLE / "county_crashes.csv"
PROVIDER = "湖南某交通安全检测公司"
POLICE = "沅江市公安局交通警察大队"
PLAN = "demo-2025"
BUDGET_CNY = 3_000_000.0
# The demo's timeline, fixed so that the crash sheet (2022-07-01 to 2025-06-30, see
# gis_data/sample/README.md) covers a year before and a year after batch 1's completion.
SURVEYED_ON = "2024-03-01"
COMMITTED_ON = "2024-03-15"
BATCH_STARTS_ON, BATCH_DUE_ON = "2024-04-01", "2024-07-31"
COMPLETED_ON = "2024-06-30"
RECHECKED_ON = "2024-07-15"
CRASHES_TO = dt.date(2025, 6, 30)  # the police sheet's period end (gis_data/sample/make_crashes.py)


def sample_roads_path() -> Path:
    if not SAMPLE_ROADS.exists():
        raise InputFileNotFound(
            f"The sample county ({SAMPLE_ROADS}) is not here: the demo runs from a source "
            "checkout. Regenerate it with `python gis_data/sample/make_sample.py`."
        )
    return SAMPLE_ROADS


def sample_crashes_path() -> Path:
    if not SAMPLE_CRASHES.exists():
        raise InputFileNotFound(
            f"The sample crash sheet ({SAMPLE_CRASHES}) is not here: the demo runs from a source "
            "checkout. Regenerate it with `python gis_data/sample/make_crashes.py`."
        )
    return SAMPLE_CRASHES


STEPS = (
    "database",
    "roads",
    "survey",
    "tiers",
    "plan",
    "exports",
    "completion",
    "rechecks",
    "crashes",
    "screening",
    "evaluation",
    "maps",
    "progress",
)
CONTRACTORS = ("沅江市路桥建设有限公司", "益阳交通工程有限公司", "湖南畅通公路养护有限公司")


def _simulated_completion(batch_file: Path, out: Path, *, on: str) -> Path:
    """A contractor's report for a batch: about two thirds done, plus one row with a bad id."""
    import copy
    import json

    data = json.loads(batch_file.read_text(encoding="utf-8"))
    feats = data["features"]
    for k, f in enumerate(feats):
        if k % 3 != 2:
            f["properties"].update(status="完成", completed_on=on, evidence=f"photos/{f['id']}.jpg")
    if feats:
        ghost = copy.deepcopy(feats[0])
        ghost["id"] = ghost["properties"]["id"] = "H999999"  # a typo in the id: refused
        feats.append(ghost)
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def run_demo(*, out: Path = Path("out/demo"), progress: Any = None) -> dict[str, Any]:
    """Run the demo; returns what each step produced (also what ``--json`` prints).

    ``progress(step)`` is called before each step (the CLI shows it as a progress bar).
    """

    from hazards.completions import import_completion
    from hazards.contractors import export_batch, update_batch
    from hazards.crash_maps import add_crash_layers, black_spots, crash_dossier, screen_map
    from hazards.crashes import import_crashes
    from hazards.db import admin
    from hazards.evaluation import evaluate
    from hazards.intake import import_survey
    from hazards.mapping import batch_map, overview_map
    from hazards.planning import PlanReport, commit_plan, create_plan, plan_exists, show_plan
    from hazards.remediation import plan_rechecks, record_recheck, write_sites
    from hazards.remediation import progress as progress_report
    from hazards.roads import UNASSIGNED_PREFIX, load_roads, road_info, road_summary
    from hazards.scoring import compute_tiers, route_ratings
    from hazards.screening import screen

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    step("database")
    database = admin.up()
    step("roads")
    roads = load_roads(sample_roads_path(), rejected_path=out / "county_roads.rejected.gpkg")
    step("survey")
    survey = import_survey(
        SAMPLE_SURVEY,
        provider=PROVIDER,
        surveyed_on=SURVEYED_ON,
        rejected_path=out / "township_survey.rejected.csv",
    )
    if rejected := survey["rejected_file"]:
        files["rejected survey rows"] = rejected
    step("tiers")
    tiers = compute_tiers()
    step("plan")
    plan: PlanReport
    if plan_exists(PLAN):
        plan = show_plan(PLAN)
        plan["reused"] = True
    else:
        plan = create_plan(name=PLAN, budget=BUDGET_CNY, batches=3)
        commit_plan(PLAN, by="demo", on=COMMITTED_ON)
        for b, contractor in zip(plan["batches"], CONTRACTORS, strict=False):
            update_batch(
                b["name"], contractor=contractor, starts_on=BATCH_STARTS_ON, due_on=BATCH_DUE_ON
            )
        plan["reused"] = False
    step("exports")
    batch_names = [b["name"] for b in plan["batches"]]
    for name in batch_names:
        for suffix in (".geojson", ".xlsx"):
            files[f"batch {name} ({suffix[1:]})"] = export_batch(
                name, out / "batches" / f"{name}{suffix}"
            )["file"]
    step("completion")
    completion = None
    if batch_names:
        report_file = out / "batches" / f"{batch_names[0]}.completed.geojson"
        if not report_file.exists():  # a second run imports the same report again
            _simulated_completion(
                out / "batches" / f"{batch_names[0]}.geojson", report_file, on=COMPLETED_ON
            )
        files[f"completion report of {batch_names[0]}"] = str(report_file)
        completion = import_completion(report_file, partial=True)
    step("rechecks")
    rechecks: dict[str, Any] = {"planned": 0, "passed": [], "failed": [], "skipped": []}
    if batch_names:
        sites = plan_rechecks(batch=batch_names[0])
        if len(sites):
            files["re-check list"] = str(write_sites(sites, out / "recheck.csv"))
            rechecks["planned"] = len(sites)
            for k, hid in enumerate(sites["id"]):
                result = "fail" if k == 0 else "pass"
                try:
                    record_recheck(
                        hid,
                        result=result,
                        on=RECHECKED_ON,
                        by="县公安局交警大队",
                        note="护栏未按设计安装" if result == "fail" else None,
                    )
                except InputError:  # changed after the demo's re-check day (by hand, since)
                    rechecks["skipped"].append(hid)
                    continue
                rechecks["passed" if result == "pass" else "failed"].append(hid)
    step("crashes")
    crashes = import_crashes(
        sample_crashes_path(), source=POLICE, rejected_path=out / "county_crashes.rejected.csv"
    )
    if crashes["rejected_file"]:
        files["rejected crash rows"] = crashes["rejected_file"]
    step("screening")
    screening = screen(unit="window", measure="count")
    spots = black_spots()["sites"]
    # Tiers again, now with the crash history (a later run scores with it from the start, so
    # both runs end in the same state); the plan above was made from the survey alone.
    rescored = compute_tiers()
    step("evaluation")
    # Batch 1 was completed on COMPLETED_ON; the sheet covers the year before and the year after.
    evaluation: dict[str, Any] | None = None
    if batch_names:
        evaluation = evaluate(
            batch=batch_names[0], before_years=1, after_years=1, records_to=CRASHES_TO
        )
    step("maps")
    maps_dir = out / "maps"
    maps_dir.mkdir(parents=True, exist_ok=True)
    add_crash_layers(overview_map(lang="zh", out_dir=maps_dir), lang="zh").save(
        str(maps_dir / "overview.html")
    )
    files["overview map"] = str(maps_dir / "overview.html")
    screen_map(unit="window", measure="count", top=20, lang="zh").save(
        str(maps_dir / "screen.html")
    )
    files["screening map"] = str(maps_dir / "screen.html")
    from collections import Counter

    in_batch_1 = (
        Counter(i["route_code"] for i in plan["batches"][0]["items"])
        if plan["batches"]
        else Counter()
    )
    dossier_route = min(in_batch_1, key=lambda c: (-in_batch_1[c], c)) if in_batch_1 else "X018"
    crash_dossier(dossier_route, lang="zh", out_dir=maps_dir).save(
        str(maps_dir / f"road-{dossier_route}.html")
    )
    files[f"road dossier {dossier_route}"] = str(maps_dir / f"road-{dossier_route}.html")
    for name in batch_names:
        batch_map(name, lang="zh", out_dir=maps_dir).save(str(maps_dir / f"batch-{name}.html"))
        files[f"batch map {name}"] = str(maps_dir / f"batch-{name}.html")
    step("progress")
    by_tier = progress_report(by="tier")
    by_township = progress_report(by="township")
    return {
        "database": database,
        "roads_load": {
            "file": roads.file,
            "rows_read": roads.rows_read,
            "rows_rejected": roads.rows_rejected,
            "routes_added": len(roads.routes_added),
            "unassigned_added": sum(c.startswith(UNASSIGNED_PREFIX) for c in roads.routes_added),
            "routes_unchanged": len(roads.routes_unchanged),
            "reused_existing": not roads.routes_added and not roads.routes_replaced,
            "working_crs": roads.working_crs,
        },
        "summary_by_class": road_summary(by="class"),
        "summary_by_township": road_summary(by="township"),
        "example_routes": [road_info(code) for code in ("X018", "Y087")],
        "survey": {
            k: v
            for k, v in survey.items()
            if k not in ("rejected_rows", "duplicate_rows", "warning_rows", "headers")
        },
        "tiers": tiers,
        "plan": {k: v for k, v in plan.items() if k != "batches"}
        | {"batches": [{k: v for k, v in b.items() if k != "items"} for b in plan["batches"]]},
        "riskiest_routes": route_ratings()["routes"][:5],
        "completion": completion,
        "rechecks": rechecks,
        "crashes": {
            k: v for k, v in crashes.items() if k not in ("rejected_rows", "unattached_rows")
        },
        "screening": {k: v for k, v in screening.items() if k != "sites"}
        | {"sites": screening["sites"][:10], "black_spots": spots},
        "tiers_with_crashes": rescored,
        "evaluation": evaluation,
        "progress_by_tier": by_tier,
        "progress_by_township": by_township,
        "files": files,
        "out": str(out),
    }
