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


# ----------------------------------------------------------------------------- crashes (issue 17)
SAMPLE = Path(__file__).resolve().parents[1] / "gis_data" / "sample"


def test_crash_sheet_generator_is_deterministic(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib.util
    import sys

    monkeypatch.syspath_prepend(str(SAMPLE))
    spec = importlib.util.spec_from_file_location("make_crashes", SAMPLE / "make_crashes.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    sys.modules.pop("make_survey", None)
    monkeypatch.setattr(gen, "CSV_OUT", tmp_path / "c.csv")
    rows, truth = gen.generate(gen.np.random.default_rng(gen.SEED))
    gen.write(rows)
    assert (tmp_path / "c.csv").read_bytes() == demo.SAMPLE_CRASHES.read_bytes()
    assert truth == json.loads((SAMPLE / "crashes_expected.json").read_text(encoding="utf-8"))


def test_demo_imports_crashes_and_the_planted_black_spots_rank_first(
    db_url: str, tmp_path: Path
) -> None:
    """The whole demo on a fresh database: every crash row accounted as the generator says, the
    planted black spots are the top of `screen --json` (windows, taken without overlap), the
    treated sites are the ones the demo verifies, and their crashes fall after completion."""
    from click.testing import CliRunner
    from sqlalchemy import text

    from hazards.cli import cli
    from hazards.db.session import get_engine

    truth = json.loads((SAMPLE / "crashes_expected.json").read_text(encoding="utf-8"))
    result = demo.run_demo(out=tmp_path / "o")
    c = result["crashes"]
    defects = {k: len(v) for k, v in truth["defects"].items()}
    assert c["rows"] == truth["rows"] and c["empty"] == 0
    assert c["rejected"] == defects["no_date"] + defects["bad_date"] + defects["no_location"]
    assert c["unattached"] == defects["off_road"]
    assert c["stored"] == truth["rows"] - c["rejected"] - c["unattached"]

    out = CliRunner().invoke(cli, ["screen", "--unit", "window", "--json"])
    sites = json.loads(out.output)["sites"]
    top: list[dict] = []
    for s in sites:  # the worst windows, none overlapping one already taken
        if not any(
            t["route"] == s["route"] and t["from_m"] < s["to_m"] and s["from_m"] < t["to_m"]
            for t in top
        ):
            top.append(s)
        if len(top) == len(truth["black_spots"]):
            break
    planted = truth["black_spots"]
    for got, want in zip(top, planted, strict=True):  # in the planted order: 26, 22, 20, 18
        assert got["route"] == want["route"]
        assert got["from_m"] < want["to_m"] and want["from_m"] < got["to_m"]
        assert got["crashes"] >= want["crashes"]
    assert [b["route"] for b in result["screening"]["black_spots"][:4]] == [
        p["route"] for p in planted
    ]

    treated = json.loads((SAMPLE / "treated_sites.json").read_text(encoding="utf-8"))["sites"]
    with get_engine().connect() as conn:
        verified = (
            conn.execute(
                text(
                    "SELECT h.public_id FROM hazards h JOIN batch_items bi ON bi.hazard_id = h.id "
                    "JOIN batches b ON b.id = bi.batch_id WHERE b.plan_name = :p AND b.seq = 1 "
                    "AND h.status = 'verified' ORDER BY 1"
                ),
                {"p": demo.PLAN},
            )
            .scalars()
            .all()
        )
        assert verified == sorted(s["id"] for s in treated)
        near = (  # crashes within 60 m of a treated site, the year before and after completion
            "SELECT count(*) FILTER (WHERE c.occurred_on BETWEEN DATE '2023-07-01' AND DATE '2024-06-30'),"
            " count(*) FILTER (WHERE c.occurred_on BETWEEN DATE '2024-07-01' AND DATE '2025-06-30')"
            " FROM crashes c WHERE EXISTS (SELECT 1 FROM hazards h WHERE h.public_id = ANY(:ids)"
            " AND ST_DWithin(c.geom::geography, h.geom::geography, 60))"
        )
        before, after = conn.execute(text(near), {"ids": verified}).one()
    assert after < before / 2 and before >= truth["treated"]["year_before"]
    # The demo's before/after of batch 1: every verified site evaluated, a year either side,
    # and the crashes fell (the sheet plants fewer crashes after treatment).
    ev = result["evaluation"]
    assert ev["batch"] == f"{demo.PLAN}-1" and ev["treated"] == len(verified) and not ev["excluded"]
    naive = ev["overall"]["naive"]
    assert ev["overall"]["after"] < ev["overall"]["before"]
    assert naive["ci_low"] <= naive["cmf"] <= naive["ci_high"] and naive["cmf"] < 1
    assert sum(s["before"] for s in ev["sites"]) == ev["overall"]["before"]
    maps = [f for k, f in result["files"].items() if "map" in k]
    assert any(f.endswith("screen.html") for f in maps) and all(Path(f).is_file() for f in maps)
