"""The risk model, tiers, overrides and the cost library."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from hazards.cli import cli
from hazards.errors import ConfigError
from hazards.scoring import (
    COSTS,
    compute_tiers,
    dimensions,
    estimate_cost,
    load_config,
    score_hazards,
    score_of,
    set_tier,
    tier_of,
)

CFG = load_config(scoring={}, costs={})


def test_score_is_the_weighted_mean_of_the_dimensions() -> None:
    dims = dimensions("roadside_water_or_cliff", "", config=CFG)
    assert dims == (0.95, 0.50, 0.45)
    expected = 100 * (0.45 * 0.95 + 0.35 * 0.50 + 0.20 * 0.45) / 1.0
    assert score_of(dims, config=CFG) == pytest.approx(expected, abs=0.05)
    assert tier_of(expected, config=CFG) == "I"
    assert tier_of(50, config=CFG) == "II" and tier_of(44.9, config=CFG) == "III"


def test_description_words_raise_dimensions() -> None:
    plain = dimensions("pavement_defect", "坑槽", config=CFG)
    school = dimensions("pavement_defect", "学校门口坑槽", config=CFG)
    assert school[2] == 0.85 and plain[2] == 0.45
    assert dimensions("other", "临水无护栏", config=CFG)[0] == 0.90


def test_config_changes_weights_cutoffs_and_preference(tmp_path: Path) -> None:
    cfg = load_config(
        scoring={
            "weights": {"consequence": 1, "likelihood": 0, "exposure": 0},
            "tier_i": 90,
            "tier_ii": 50,
            "prefer": "model",
        },
        costs={},
    )
    assert score_of((0.95, 0.0, 0.0), config=cfg) == 95.0
    df = pd.DataFrame(
        {
            "category": ["roadside_water_or_cliff", "pavement_defect"],
            "description": ["", ""],
            "provided_tier": ["III", "I"],
            "length_m": [None, None],
        }
    )
    out = score_hazards(df, config=cfg)
    assert list(out["model_tier"]) == ["I", "III"] and list(out["tier"]) == ["I", "III"]
    survey_first = score_hazards(df, config=load_config(scoring={}, costs={}))
    assert list(survey_first["tier"]) == ["III", "I"]  # the survey's tier wins by default
    for bad in (
        {"tier_i": 10, "tier_ii": 50},
        {"prefer": "coin"},
        {"weights": {"speed": 1}},
        {"nope": 1},
        # values a hazards.toml may hold by mistake: a clear error, not a traceback
        {"tier_i": "high"},
        {"tier_ii": True},
        {"categories": {"sharp_curve": ["a", 0.8, 0.5]}},
        {"weights": 0.5},
        {"categories": 5},
    ):
        with pytest.raises(ConfigError):
            load_config(scoring=bad, costs={})


def test_cost_library_uses_length_for_linear_countermeasures() -> None:
    cm, qty, unit, cost = estimate_cost("roadside_water_or_cliff", 120.0, config=CFG)
    assert (qty, unit, cost) == (120.0, "m", 120.0 * COSTS["roadside_water_or_cliff"].unit_cost_cny)
    assert (
        150 <= COSTS["roadside_water_or_cliff"].unit_cost_cny <= 260
    )  # W-beam guardrail, installed
    _, qty, unit, cost = estimate_cost("sharp_curve", 120.0, config=CFG)
    assert (qty, unit, cost) == (1.0, "each", COSTS["sharp_curve"].unit_cost_cny)
    cfg = load_config(scoring={}, costs={"sharp_curve": {"unit_cost_cny": 9999}})
    assert estimate_cost("sharp_curve", None, config=cfg)[3] == 9999


def _hazards(engine, rows: list[tuple[str, str, str, str]]) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        for pid, cat, desc, tier in rows:
            conn.execute(
                text(
                    "INSERT INTO hazards (public_id, category, description, provided_tier, provided_cost_cny) "
                    "VALUES (:p, :c, :d, :t, 1000)"
                ),
                {"p": pid, "c": cat, "d": desc, "t": tier or None},
            )


def test_compute_diff_and_override_survives_recomputation(engine) -> None:
    _hazards(
        engine,
        [
            ("H1", "roadside_water_or_cliff", "", "III"),
            ("H2", "pavement_defect", "", "III"),
            ("H3", "sharp_curve", "", ""),
        ],
    )
    out = compute_tiers(engine=engine)
    assert out["scored"] == 3 and out["disagreements"] == 1
    runner = CliRunner()
    diff = json.loads(runner.invoke(cli, ["tiers", "diff", "--json"]).output)
    assert [d["id"] for d in diff] == ["H1"] and diff[0]["model_tier"] == "I"
    set_tier("H2", tier="I", reason="school bus stop at the pothole", by="engineer", engine=engine)
    compute_tiers(engine=engine)
    listed = {h["id"]: h for h in json.loads(runner.invoke(cli, ["list", "--json"]).output)}
    assert listed["H2"]["tier"] == "I" and listed["H1"]["tier"] == "III"
    assert listed["H3"]["tier"] == tier_of(
        score_of(dimensions("sharp_curve", "", config=CFG), config=CFG), config=CFG
    )
    from sqlalchemy import text

    with engine.connect() as conn:
        ev = conn.execute(text("SELECT kind, note, data FROM hazard_events")).one()
    assert ev.kind == "tier_override" and ev.data == {"from": "III", "to": "I"}
    bad = runner.invoke(cli, ["tiers", "set", "H404", "--tier", "I", "--reason", "x"])
    assert bad.exit_code == 1 and "No hazard" in bad.output
    costs = json.loads(runner.invoke(cli, ["costs", "diff", "--json"]).output)
    negative = runner.invoke(cli, ["costs", "diff", "--threshold", "-1"])  # every estimate listed
    assert negative.exit_code == 2 and "--threshold" in negative.output
    # 1,000 CNY given vs 22,000 (100 m guardrail), 2,400 (20 m² patching), 4,500 (curve signs):
    # all differ by more than half of the library estimate.
    assert {c["id"]: c["ratio"] for c in costs} == {
        "H1": round(1000 / 22000, 3),
        "H2": round(1000 / 2400, 3),
        "H3": round(1000 / 4500, 3),
    }


def test_scoring_many_hazards_gives_exactly_what_the_model_gives_one_by_one() -> None:
    cfg = load_config(
        scoring={"categories": {"sharp_curve": [0.1, 0.2, 0.3]}},
        costs={"dangerous_roadside": {"unit_cost_cny": 333.3}},
    )
    rows = [
        ("roadside_water_or_cliff", "临水无护栏", "III", 123.456),
        ("dangerous_roadside", "学校门口 急弯", None, 0.125),
        ("dangerous_roadside", None, "", None),
        ("sharp_curve", "村口", "II", -5.0),
        ("no_such_category", "事故多发 临崖 集市", None, float("nan")),
        (None, "", "I", 10.0),
        ("", "坑槽", None, None),
        ("missing_signs_markings", "居民区", None, 0.005),
    ] * 3
    df = pd.DataFrame(
        rows,
        columns=["category", "description", "provided_tier", "length_m"],
        index=range(100, 100 + len(rows)),
    )
    for frame in (
        df,
        df.astype({"category": "category", "description": "category", "provided_tier": "category"}),
    ):
        out = score_hazards(frame, config=cfg)
        assert list(out.index) == list(frame.index)
        for (cat, desc, given, length), (_, o) in zip(rows, out.iterrows(), strict=True):
            dims = dimensions(cat, desc, config=cfg)
            score = score_of(dims, config=cfg)
            model = tier_of(score, config=cfg)
            length = None if length is None or length != length else length
            assert (o["consequence"], o["likelihood"], o["exposure"]) == dims
            assert o["score"] == score and o["model_tier"] == model
            assert o["tier"] == (given or model)
            assert (
                o["countermeasure_default"],
                o["quantity"],
                o["unit"],
                o["estimated_cost_cny"],
            ) == estimate_cost(cat, length, config=cfg)
    model_first = score_hazards(df, config=load_config(scoring={"prefer": "model"}, costs={}))
    assert (model_first["tier"] == model_first["model_tier"]).all()


def test_recomputing_writes_only_the_hazards_that_change(engine) -> None:
    from sqlalchemy import text

    _hazards(
        engine,
        [
            ("H1", "roadside_water_or_cliff", "", "III"),
            ("H2", "pavement_defect", "", ""),
            ("H3", "sharp_curve", "学校", ""),
        ],
    )
    assert compute_tiers(engine=engine)["changed"] == 3

    def stamps() -> dict[str, object]:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT public_id, updated_at FROM hazards")).all())

    before = stamps()
    again = compute_tiers(engine=engine)
    assert again["changed"] == 0 and again["scored"] == 3 and stamps() == before
    cheaper = load_config(scoring={}, costs={"pavement_defect": {"unit_cost_cny": 1.0}})
    assert compute_tiers(engine=engine, config=cheaper)["changed"] == 1
    after = stamps()
    assert after["H2"] != before["H2"] and {k: after[k] for k in ("H1", "H3")} == {
        k: before[k] for k in ("H1", "H3")
    }
    with engine.connect() as conn:
        cost, risk = conn.execute(
            text("SELECT estimated_cost_cny, risk FROM hazards WHERE public_id = 'H2'")
        ).one()
    assert cost == 20.0 and set(risk) == {"consequence", "likelihood", "exposure", "model_tier"}


def test_hazards_are_read_in_chunks_with_the_same_result(engine) -> None:
    from hazards.db import store

    _hazards(
        engine,
        [
            ("H1", "roadside_water_or_cliff", "临水", "III"),
            ("H2", "pavement_defect", "", ""),
            ("H3", "sharp_curve", "学校", "II"),
            ("H4", "other", "", ""),
        ],
    )
    set_tier(
        "H3", tier="I", reason="bus stop", engine=engine
    )  # one chunk with an override, one without
    whole, chunked = store.hazards_for_scoring(engine), store.hazards_for_scoring(engine, chunk=2)
    pd.testing.assert_frame_equal(whole.astype(object), chunked.astype(object))
    assert list(chunked["tier_override"].astype(object).fillna("-")) == ["-", "-", "I", "-"]
    assert list(chunked["provided_tier"].astype(object).fillna("-")) == ["III", "-", "II", "-"]
    assert compute_tiers(engine=engine)["overridden"] == 1


def test_cost_and_category_tables_refuse_what_they_would_never_use() -> None:
    # a misspelt category or key was kept and never read: the county's prices silently unused
    for costs in (
        {"guardrail_mising": {"unit_cost_cny": 1.0}},
        {"sharp_curve": {"unit_cost": 5200}},
        {"sharp_curve": {"unit": "km"}},
        {"sharp_curve": {"unit_cost_cny": -1}},
        {"sharp_curve": {"default_quantity": "many"}},
        {"sharp_curve": 5200},
        {"sharp_curve": {"unit_cost_cny": 1.0}, "急弯": {"unit_cost_cny": 2.0}},
    ):
        with pytest.raises(ConfigError, match=r"\[costs"):
            load_config(scoring={}, costs=costs)
    with pytest.raises(ConfigError, match="did you mean sharp_curve"):
        load_config(scoring={"categories": {"sharp_curv": [0.1, 0.2, 0.3]}}, costs={})
    # a survey's word names its category; 米 is m (so the cost follows the hazard's length)
    cfg = load_config(
        scoring={"categories": {"急弯": [0.1, 0.2, 0.3]}},
        costs={"临水临崖": {"unit": "米", "unit_cost_cny": 300}},
    )
    assert cfg.categories["sharp_curve"] == (0.1, 0.2, 0.3)
    assert cfg.costs["roadside_water_or_cliff"].unit == "m"
    assert estimate_cost("roadside_water_or_cliff", 40.0, config=cfg)[3] == 40 * 300.0
