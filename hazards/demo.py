"""The main job end to end on the sample county (what ``make demo`` runs).

Start the database, load the sample county's roads (29 county roads, 111 township roads),
import the third-party survey of the township roads (a GBK CSV with the usual defects), score
the hazards into tiers, plan three remediation batches under a budget and commit the plan.
Running it again reuses what is there and says so. Later stages (contractor exports,
completion reports, re-checks, maps) join as they land.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hazards.errors import InputFileNotFound

SAMPLE = Path(__file__).resolve().parents[1] / "gis_data" / "sample"
SAMPLE_ROADS = SAMPLE / "county_roads.gpkg"
SAMPLE_SURVEY = SAMPLE / "township_survey.csv"
PROVIDER = "湖南某交通安全检测公司"
PLAN = "demo-2025"
BUDGET_CNY = 3_000_000.0


def sample_roads_path() -> Path:
    if not SAMPLE_ROADS.exists():
        raise InputFileNotFound(
            f"The sample county ({SAMPLE_ROADS}) is not here: the demo runs from a source "
            "checkout. Regenerate it with `python gis_data/sample/make_sample.py`."
        )
    return SAMPLE_ROADS


STEPS = ("database", "roads", "survey", "tiers", "plan")


def run_demo(*, out: Path = Path("out/demo"), progress: Any = None) -> dict[str, Any]:
    """Run the demo; returns what each step produced (also what ``--json`` prints).

    ``progress(step)`` is called before each step (the CLI shows it as a progress bar).
    """
    from hazards.db import admin, store
    from hazards.db.session import get_engine
    from hazards.planning import create_plan
    from hazards.roads import load_roads, road_info, road_summary
    from hazards.scoring import compute_tiers, route_ratings
    from hazards.survey import import_survey

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    out.mkdir(parents=True, exist_ok=True)
    step("database")
    database = admin.up()
    engine = get_engine()
    step("roads")
    roads = load_roads(sample_roads_path(), rejected_path=out / "county_roads.rejected.gpkg")
    step("survey")
    survey = import_survey(SAMPLE_SURVEY, provider=PROVIDER, surveyed_on="2025-03-01",
                           rejected_path=out / "township_survey.rejected.csv")
    step("tiers")
    tiers = compute_tiers()
    step("plan")
    if store.plan_exists(engine, PLAN):
        plan = {**store.get_plan(engine, PLAN)["report"], "reused": True}
    else:
        plan = create_plan(name=PLAN, budget=BUDGET_CNY, batches=3)
        store.commit_plan(engine, PLAN, by="demo")
        plan["reused"] = False
    return {
        "database": database,
        "roads_load": {
            "file": roads.file,
            "rows_read": roads.rows_read,
            "rows_rejected": roads.rows_rejected,
            "routes_added": len(roads.routes_added),
            "routes_unchanged": len(roads.routes_unchanged),
            "reused_existing": not roads.routes_added and not roads.routes_replaced,
            "working_crs": roads.working_crs,
        },
        "summary_by_class": road_summary(by="class"),
        "summary_by_township": road_summary(by="township"),
        "example_routes": [road_info(code) for code in ("X018", "Y087")],
        "survey": {k: v for k, v in survey.items() if k not in ("rejected_rows", "duplicate_rows", "headers")},
        "tiers": tiers,
        "plan": {k: v for k, v in plan.items() if k != "batches"}
        | {"batches": [{k: v for k, v in b.items() if k != "items"} for b in plan["batches"]]},
        "riskiest_routes": route_ratings()["routes"][:5],
        "out": str(out),
    }
