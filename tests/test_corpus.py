"""The bad-input corpus (issue 16): every case of ``tests/data/make_hostile.py`` run through the
command. A refusal exits 1 with one ``Error:`` line naming the problem, no traceback, and leaves
every table byte for byte as it was; a file that is read names its bad rows or cells."""

from __future__ import annotations

import datetime as dt
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from hazards.cli import cli

sys.path.insert(0, str(Path(__file__).parent / "data"))
import make_hostile  # noqa: E402

TABLES = (
    "roads",
    "road_segments",
    "route_aliases",
    "surveys",
    "hazards",
    "hazard_events",
    "plans",
    "batches",
    "batch_items",
    "rechecks",
)


def _digest(engine: Any) -> dict[str, str]:
    with engine.connect() as conn:
        return {
            t: conn.execute(
                text(
                    f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {t} t"
                )
            ).scalar_one()
            for t in TABLES
        }


def _network(path: Path, crs: str | None = "EPSG:4546") -> None:
    from builders import frame, network

    gdf = frame(network()["features"], "EPSG:4546")
    if crs is None:
        gdf = gdf.set_crs(None, allow_override=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "crs was not provided": that is the point
        gdf.to_file(path, engine="pyogrio")


def test_the_corpus(tracked: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hazards.contractors import export_batch
    from hazards.db import store

    monkeypatch.chdir(tmp_path)  # files written "in the current folder" stay in the test's
    batch = store.list_batches(tracked)[0]["name"]
    export_batch(batch, tmp_path / "batch.geojson", engine=tracked)
    export = {
        "collection": json.loads((tmp_path / "batch.geojson").read_text(encoding="utf-8")),
        "today": dt.date.today().isoformat(),
    }
    folders = {k: tmp_path / k for k in ("survey", "roads", "completion", "output")}
    for f in folders.values():
        f.mkdir()
    cases = [
        *make_hostile.survey_cases(folders["survey"]),
        *make_hostile.road_cases(folders["roads"], _network),
        *make_hostile.completion_cases(folders["completion"], export),
        *make_hostile.output_cases(folders["output"], batch),
    ]
    assert len(cases) >= 60
    from hazards.settings import get_settings

    monkeypatch.setenv("HAZARDS_LANG", "en")  # the cases say what they expect in English
    get_settings.cache_clear()
    runner = CliRunner(env={"COLUMNS": "300"})
    before = _digest(tracked)
    failures = []
    for case in cases:
        result = runner.invoke(cli, case.args)
        out = result.output
        problems = []
        if result.exit_code != case.exit_code:
            problems.append(f"exit {result.exit_code}, expected {case.exit_code}")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            problems.append(f"raised {result.exception!r}")
        if "Traceback" in out or "\x1b" in out:
            problems.append("a traceback or an escape sequence in the output")
        errors = [ln for ln in out.splitlines() if ln.startswith("Error:")]
        if case.exit_code and len(errors) != 1:
            problems.append(f"{len(errors)} error lines")
        problems += [f"{w!r} not said" for w in case.words if w not in out]
        if _digest(tracked) != before:
            problems.append("the database changed")
            before = _digest(tracked)
        if problems:
            failures.append(f"{case.name}: {'; '.join(problems)}\n    {out.strip()[:400]}")
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures)
