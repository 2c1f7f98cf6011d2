"""The benchmark suite (``bench/``, issue 9): the bench at a tiny size (500 segments, 2,000
survey rows), through the same code path as ``python -m bench``, on the test cluster; its
data, report and packaging."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # bench/ is run from the repository root, not installed
    sys.path.insert(0, str(REPO))

from bench import browser, data, peers, report, run  # noqa: E402


def test_generate_is_deterministic(tmp_path: Path) -> None:
    a = data.generate("T", tmp_path / "a")
    b = data.generate("T", tmp_path / "b")
    assert a.survey_path.read_bytes() == b.survey_path.read_bytes()
    lines = a.survey_path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == data.HEADER
    assert len(lines) == 2_001
    assert (a.n_segments, a.n_rows, a.n_routes) == (500, 2_000, 50)


def test_bench_smoke(pg_admin_url: str, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = run.run_bench(
        ["T"],
        out=out,
        admin_url=pg_admin_url,
        workdir=tmp_path / "work",
        browser=True,
        db_tag=f"_{os.getpid()}",  # pytest sessions may run side by side on the test cluster
    )
    saved = json.loads((out / "latest.json").read_text())
    assert saved == json.loads(json.dumps(result))
    assert (out / "latest.md").read_text().startswith("# hazards bench")
    assert len(list(out.glob("bench-*-T.json"))) == 1 and len(list(out.glob("bench-*-T.md"))) == 1
    assert set(saved) >= {"machine", "steps", "exponents"}
    assert isinstance(saved["machine"], dict) and saved["machine"]["cpus"]
    steps = saved["steps"]
    by = {s["step"]: s for s in steps}
    expected = set(run.STEPS) - ({"map_open_100k"} if browser.chromium() is None else set())
    expected = expected - {"startup"} | {"startup_help", "startup_locate"}
    assert set(by) == expected and len(steps) == len(expected), saved["notes"]
    for s in steps:
        assert set(s) >= {"step", "size", "seconds", "floor_seconds", "ratio", "peak_mb"}
        assert s["size"] == "T"
        assert s["seconds"] > 0, s
        if s["step"].startswith("startup_"):  # a command's start: no floor, no growth exponent
            assert s["floor_seconds"] is None and s["runs"] == 7
            assert s["step"] not in saved["exponents"]
            continue
        assert s["floor_seconds"] > 0, s
        assert s["ratio"] == pytest.approx(s["seconds"] / s["floor_seconds"], rel=0.1, abs=0.05)
        assert isinstance(s["peak_mb"], float)
    bounds = {k: by[k].get("schema_s") for k in ("road_load", "survey_store")}
    assert all(v is not None and v > 0 for v in bounds.values()), bounds
    # The survey's parts are the import's own phase timings: they fit inside its total.
    survey = by["survey_import"]
    parts = sum(by[k]["seconds"] for k in ("survey_parse", "survey_reconcile", "survey_store"))
    assert parts <= survey["seconds"] * 1.01 + 0.01
    assert (
        survey["accepted"] + survey["duplicates"] + survey["review"] + survey["rejected"] == 2_000
    )
    assert by["survey_store"]["n"] == survey["accepted"] + survey["review"]
    assert by["road_load"]["n"] == 500 and by["road_load"]["routes"] == 50
    # The peers ran on the same data: the geopandas pipeline always, ogr2ogr when installed.
    assert survey["peer"] == peers.PIPELINE and survey["peer_seconds"] > 0
    if peers.have_ogr2ogr():
        assert by["road_load"]["peer"] == "ogr2ogr" and by["road_load"]["peer_seconds"] > 0
    else:
        assert "peer" not in by["road_load"] and any("ogr2ogr" in n for n in saved["notes"])
    assert by["plan_10k"]["n"] == by["plan_100k"]["n"] == survey["accepted"] + survey["review"]
    # At T every hazard is on a road of the first township: the batch, the export and the map
    # hold them all.
    assert by["export_100k"]["n"] == by["map_build_100k"]["n"] == by["tiers"]["n"]
    if "map_open_100k" in by:
        opened = by["map_open_100k"]
        assert opened["features"] == opened["n"] == by["map_build_100k"]["n"]
    assert isinstance(saved["exponents"], dict)


def test_exponents_fit() -> None:
    steps = [
        {"step": "x", "size": z, "seconds": data.SIZES[z][0] * 1e-4} for z in ("S", "M", "L")
    ] + [
        {"step": "y", "size": z, "seconds": (data.SIZES[z][0] * 1e-4) ** 2} for z in ("S", "M", "L")
    ]
    fit, ml = report.exponents(steps)
    assert fit["x"] == pytest.approx(1.0, abs=1e-3) and ml["x"] == pytest.approx(1.0, abs=1e-3)
    assert fit["y"] == pytest.approx(2.0, abs=1e-3)


def test_unknown_size_or_step_is_refused(tmp_path: Path) -> None:
    import click

    with pytest.raises(click.UsageError, match="--sizes: unknown X"):
        run.run_bench(["X"], out=tmp_path, admin_url="unused")
    with pytest.raises(click.UsageError, match="--steps: unknown nope"):
        run.run_bench(["T"], out=tmp_path, steps=["nope"], admin_url="unused")
    assert not any(tmp_path.iterdir())


def test_help() -> None:
    from click.testing import CliRunner

    res = CliRunner().invoke(run.main, ["--help"])
    assert res.exit_code == 0 and "--sizes" in res.output and "--steps" in res.output


def test_python_m_bench_from_the_repository() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert "--sizes" in res.stdout and "--no-browser" in res.stdout


def test_bench_is_not_part_of_the_package() -> None:
    from setuptools import find_namespace_packages

    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    assert cfg["options"]["packages"].strip() == "find_namespace:"
    find = cfg["options.packages.find"]
    include, exclude = (
        [x.strip() for x in find[k].splitlines() if x.strip()] for k in ("include", "exclude")
    )
    packages = find_namespace_packages(str(REPO), include=include, exclude=exclude)
    assert "hazards" in packages and "hazards.db" in packages
    assert all(p == "hazards" or p.startswith("hazards.") for p in packages), packages
    assert not (REPO / "hazards" / "bench.py").exists()
