"""The main job end to end on the sample county (what ``make demo`` runs).

For now: start the database, load the sample county's roads (29 county roads, 111 township
roads), and show what was loaded. Later stages (survey import, tiers, batches, maps) join
as they land.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hazards.errors import InputFileNotFound

SAMPLE_ROADS = Path(__file__).resolve().parents[1] / "gis_data" / "sample" / "county_roads.gpkg"


def sample_roads_path() -> Path:
    if not SAMPLE_ROADS.exists():
        raise InputFileNotFound(
            f"The sample county ({SAMPLE_ROADS}) is not here: the demo runs from a source "
            "checkout. Regenerate it with `python gis_data/sample/make_sample.py`."
        )
    return SAMPLE_ROADS


def run_demo(*, out: Path = Path("out/demo")) -> dict[str, Any]:
    """Run the demo; returns what each step produced (also what ``--json`` prints)."""
    from hazards.db import admin
    from hazards.roads import load_roads, road_info, road_summary

    out.mkdir(parents=True, exist_ok=True)
    database = admin.up()
    roads = load_roads(sample_roads_path(), rejected_path=out / "county_roads.rejected.gpkg")
    reused = not roads.routes_added and not roads.routes_replaced
    return {
        "database": database,
        "roads_load": {
            "file": roads.file,
            "rows_read": roads.rows_read,
            "rows_rejected": roads.rows_rejected,
            "routes_added": len(roads.routes_added),
            "routes_unchanged": len(roads.routes_unchanged),
            "reused_existing": reused,
            "working_crs": roads.working_crs,
        },
        "summary_by_class": road_summary(by="class"),
        "summary_by_township": road_summary(by="township"),
        "example_routes": [road_info(code) for code in ("X018", "Y087")],
        "out": str(out),
    }
