"""Smoke test of the benchmark suite (issue 9): the bench at a tiny size (500 segments, 2,000
survey rows), through the same code path as ``python -m hazards.bench``, on the test cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hazards import bench


def test_generate_is_deterministic(tmp_path: Path) -> None:
    a = bench.generate("T", tmp_path / "a")
    b = bench.generate("T", tmp_path / "b")
    assert a.survey_path.read_bytes() == b.survey_path.read_bytes()
    header = a.survey_path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == bench.HEADER
    assert len(a.survey_path.read_text(encoding="utf-8").splitlines()) == 2_001


def test_bench_smoke(pg_admin_url: str, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = bench.run_bench(
        ["T"], out=out, admin_url=pg_admin_url, workdir=tmp_path / "work", browser=True,
    )
    saved = json.loads((out / "latest.json").read_text())
    assert saved == json.loads(json.dumps(result))
    assert (out / "latest.md").read_text().startswith("# hazards bench")
    assert set(saved) >= {"machine", "steps", "exponents"}
    assert isinstance(saved["machine"], dict) and saved["machine"]["cpus"]
    steps = saved["steps"]
    names = {s["step"] for s in steps}
    expected = set(bench.STEPS) - ({"map_open_100k"} if bench.chromium() is None else set())
    assert names == expected, saved["notes"]
    for s in steps:
        assert set(s) >= {"step", "size", "seconds", "floor_seconds", "ratio", "peak_mb"}
        assert s["size"] == "T"
        assert s["seconds"] > 0, s
        assert s["floor_seconds"] > 0, s
        assert s["ratio"] == pytest.approx(s["seconds"] / s["floor_seconds"], rel=0.1, abs=0.05)
        assert isinstance(s["peak_mb"], float)
    bounds = {s["step"]: s.get("schema_s") for s in steps if s["step"] in ("road_load", "survey_store")}
    assert all(v is not None and v > 0 for v in bounds.values()) and len(bounds) == 2, bounds
    survey = next(s for s in steps if s["step"] == "survey_import")
    assert survey["accepted"] + survey["duplicates"] + survey["review"] + survey["rejected"] == 2_000
    if "map_open_100k" in names:
        opened = next(s for s in steps if s["step"] == "map_open_100k")
        assert opened["features"] == opened["n"]
    assert isinstance(saved["exponents"], dict)


def test_exponents_fit() -> None:
    steps = [
        {"step": "x", "size": z, "seconds": bench.SIZES[z][0] * 1e-4} for z in ("S", "M", "L")
    ] + [{"step": "y", "size": z, "seconds": (bench.SIZES[z][0] * 1e-4) ** 2} for z in ("S", "M", "L")]
    fit, ml = bench.exponents(steps)
    assert fit["x"] == pytest.approx(1.0, abs=1e-3) and ml["x"] == pytest.approx(1.0, abs=1e-3)
    assert fit["y"] == pytest.approx(2.0, abs=1e-3)


def test_help() -> None:
    from click.testing import CliRunner

    res = CliRunner().invoke(bench.main, ["--help"])
    assert res.exit_code == 0 and "--sizes" in res.output and "--steps" in res.output
