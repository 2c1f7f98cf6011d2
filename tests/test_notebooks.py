"""The notebooks in ``notebooks/``: committed without outputs, and they run, twice, in order.

The four notebooks are executed headless with nbclient, in order, from the repository root,
against one fresh database (the ``db_url`` fixture sets ``HAZARDS_DATABASE_URL``; the kernel is
a subprocess that inherits this process's environment), then all four again to prove that they
can be re-run on the same database. Afterwards a few results are checked through the library.
Outputs go to ``out/notebooks/`` (not committed). No network is needed: maps use no tiles.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = [
    REPO / "notebooks" / name
    for name in (
        "01-roads-and-survey.ipynb",
        "02-review-and-tiers.ipynb",
        "03-plan-batches.ipynb",
        "04-progress-and-maps.ipynb",
    )
]
CELL_TIMEOUT_S = 120
FIRST_LINE = "import hazards; hazards.show_versions()"


def _read(path: Path):  # type: ignore[no-untyped-def]
    return nbformat.read(str(path), as_version=4)


def test_notebooks_are_committed_clean() -> None:
    """No outputs, no execution counts; the first cell prints the versions."""
    assert sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")) == [
        p.name for p in NOTEBOOKS
    ]
    for path in NOTEBOOKS:
        nb = _read(path)
        nbformat.validate(nb)
        first = nb.cells[0]
        assert first.cell_type == "code", path.name
        assert first.source.strip().splitlines()[-1] == FIRST_LINE, path.name
        for k, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            assert cell.get("outputs") == [], (
                f"{path.name} cell {k} has outputs: clear them before committing"
            )
            assert cell.get("execution_count") is None, (
                f"{path.name} cell {k} has an execution count"
            )


def _run(path: Path) -> list[str]:
    """Execute a notebook from the repository root; return the text it printed (stdout)."""
    nb = _read(path)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:  # name the notebook in the failure
        pytest.fail(f"{path.name} failed:\n{exc}")
    return [
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stdout"
    ]


def test_notebooks_run_in_order_and_again(db_url: str) -> None:
    from sqlalchemy.engine import make_url

    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.scoring import tier_diff

    assert os.environ["HAZARDS_DATABASE_URL"] == db_url  # what the kernels inherit

    started = time.time() - 1
    first_run = {p.name: _run(p) for p in NOTEBOOKS}
    # The kernels reached a database (show_versions printed its PostGIS), and it was this test's
    # fresh one: what the notebooks did is found in it below.
    versions = "".join(first_run[NOTEBOOKS[0].name])
    assert "PostGIS" in versions and "unavailable" not in versions, versions

    engine = get_engine()
    assert engine.url.database == make_url(db_url).database
    assert store.plan_exists(engine, "2025")
    assert store.get_plan(engine, "2025")["status"] == "committed"
    verified = store.list_hazards(engine, status="verified")
    reopened = store.list_hazards(engine, status="reopened")
    assert len(verified) == 1 and len(reopened) == 1
    batch1 = store.get_batch(engine, "2025-1")
    assert batch1["contractor"] and batch1["starts_on"] and batch1["due_on"]
    overrides = [d for d in tier_diff() if d["tier_override"]]
    assert len(overrides) == 1

    out = REPO / "out" / "notebooks"
    for rel in (
        "township_survey.rejected.csv",
        "batches/2025-1.geojson",
        "batches/2025-1.xlsx",
        "maps/overview.html",
        "progress-by-township.csv",
        "progress-by-tier.csv",
    ):
        assert (out / rel).is_file() and (out / rel).stat().st_mtime >= started, rel
    assert list((out / "maps").glob("road-*.html"))

    hazards_before = len(store.list_hazards(engine))
    for path in NOTEBOOKS:  # a second time, on the same database
        _run(path)
    assert len(store.list_hazards(engine)) == hazards_before  # the survey re-import added nothing
    assert [p["name"] for p in store.list_plans(engine)] == ["2025"]
    assert len([d for d in tier_diff() if d["tier_override"]]) == 1
    assert store.list_hazards(engine, status="verified")
