"""The demo's own pieces (the whole demo runs in tests/test_cli.py through the command)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hazards import demo
from hazards.errors import InputFileNotFound


def test_steps_and_sample_files() -> None:
    assert demo.STEPS[0] == "database" and demo.STEPS[-1] == "progress"
    assert len(set(demo.STEPS)) == len(demo.STEPS)
    assert demo.sample_roads_path().is_file() and demo.SAMPLE_SURVEY.is_file()


def test_missing_sample_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(demo, "SAMPLE_ROADS", tmp_path / "nowhere.gpkg")
    with pytest.raises(InputFileNotFound, match="make_sample.py"):
        demo.sample_roads_path()


def test_simulated_completion_reports_two_thirds_and_one_bad_id(tmp_path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "id": f"H{k:06d}",
            "geometry": {"type": "Point", "coordinates": [112.3, 28.8]},
            "properties": {"id": f"H{k:06d}", "status": "planned", "completed_on": None},
        }
        for k in range(1, 10)
    ]
    batch = tmp_path / "b.geojson"
    batch.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    out = demo._simulated_completion(batch, tmp_path / "done.geojson", on="2025-06-01")
    got = json.loads(out.read_text(encoding="utf-8"))["features"]
    done = [f["id"] for f in got[:-1] if f["properties"]["status"] == "完成"]
    assert done == [f"H{k:06d}" for k in range(1, 10) if (k - 1) % 3 != 2]
    assert got[-1]["id"] == "H999999" and len(got) == 10
    assert all(
        f["properties"]["completed_on"] == "2025-06-01"
        for f in got
        if f["properties"]["status"] == "完成"
    )
