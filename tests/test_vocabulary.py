"""The vocabulary: the status sets follow from the lifecycle, and every user of a word set uses
this one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hazards import vocabulary as v
from hazards.errors import InputError


def test_status_sets_partition_the_statuses() -> None:
    assert set(v.OPEN_STATUSES) | set(v.DONE_STATUSES) | {"rejected"} == set(v.STATUSES)
    assert not set(v.OPEN_STATUSES) & set(v.DONE_STATUSES)
    assert len(v.STATUSES) == len(set(v.STATUSES)) == 8


def test_plannable_are_the_statuses_that_may_become_planned() -> None:
    assert v.PLANNABLE_STATUSES == ("identified", "reopened")
    assert set(v.PLANNABLE_STATUSES) <= set(v.OPEN_STATUSES)


def test_transitions_name_only_statuses_and_rejected_is_final() -> None:
    assert set(v.TRANSITIONS) == set(v.STATUSES)
    for targets in v.TRANSITIONS.values():
        assert set(targets) <= set(v.STATUSES)
    assert v.TRANSITIONS["rejected"] == ()
    # every status but 'identified' and 'review' (where hazards start) can be reached
    reached = {t for targets in v.TRANSITIONS.values() for t in targets}
    assert set(v.STATUSES) - reached == {"review"}
    assert set(v.REVIEW_OUTCOME.values()) <= set(v.TRANSITIONS["review"])
    for outcome in v.RECHECK_OUTCOME.values():
        assert outcome in v.TRANSITIONS["reported_done"]
    assert tuple(v.RECHECK_OUTCOME) == v.RECHECK_RESULTS


def test_check_transition() -> None:
    v.check_transition("H000001", "identified", "planned")
    with pytest.raises(
        InputError,
        match="H000001 is verified; it cannot go to planned. From verified it can go to: reopened",
    ):
        v.check_transition("H000001", "verified", "planned")
    with pytest.raises(InputError, match="none \\(it is final\\)"):
        v.check_transition("H000001", "rejected", "identified")
    with pytest.raises(InputError) as info:
        v.check_transition("H000001", "identified", "fixed")
    assert info.value.param == "to"
    assert "--" not in info.value.message


def test_the_risk_model_and_cost_library_cover_every_category() -> None:
    from hazards.scoring import CATEGORY_DIMENSIONS, COSTS

    assert set(CATEGORY_DIMENSIONS) == set(v.CATEGORIES)
    assert set(COSTS) == set(v.CATEGORIES)
    assert v.CATEGORIES[-1] == "other"


def test_category_and_class_words_are_unambiguous() -> None:
    for words in (v.CATEGORY_WORDS, v.CLASS_WORDS, v.TIER_WORDS):
        seen: dict[str, str] = {}
        for term, ws in words.items():
            for w in ws:
                assert seen.setdefault(w.lower(), term) == term, (
                    f"{w!r} means {seen[w.lower()]} and {term}"
                )
    assert set(v.CODE_PREFIX.values()) <= set(v.ROAD_CLASSES)
    assert set(v.CLASS_WORDS) == set(v.ROAD_CLASSES)


def test_the_database_checks_use_the_vocabulary() -> None:
    from hazards.db import models

    checks = {
        c.name: str(c.sqltext)
        for c in models.Hazard.__table__.constraints
        if c.name and "ck_" in str(c.name)
    }
    status_check = next(
        text for name, text in checks.items() if name.endswith("_status") and "match" not in name
    )
    for s in v.STATUSES:
        assert repr(s) in status_check
    road_check = next(
        str(c.sqltext)
        for c in models.Road.__table__.constraints
        if str(c.name).endswith("road_class")
    )
    for c in v.ROAD_CLASSES:
        assert repr(c) in road_check


def test_importing_the_vocabulary_is_light() -> None:
    code = (
        "import sys, hazards.vocabulary; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'geoalchemy2', 'geopandas', 'pandas', 'numpy', 'pyproj', 'shapely'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("X008", "X008"),
        (" x 012 ", "X012"),
        ("Ｘ００８", "X008"),  # typed in a Chinese input mode: full-width
        ("X\u3000032", "X032"),  # an ideographic space
        ("X\u00a0032", "X032"),  # a no-break space (copied from a web page)
        ("ｙ１０５", "Y105"),
        ("X004线", "X004"),  # the code with its word 线 (line), as deliveries often write it
        ("x004 线", "X004"),
        ("Y001511425线", "Y001511425"),
        ("环城线", "环城线"),  # a name, not a code: kept as written
    ],
)
def test_a_route_code_is_read_as_typed_in_any_input_mode(typed: str, code: str) -> None:
    assert v.normalise_code(typed) == code


@pytest.mark.parametrize(
    ("note", "zh"),
    [
        ("re-check pass", "回头看：通过"),  # hazards.remediation.record_recheck's
        ("re-check fail", "回头看：未通过"),
        ("completion report demo-1.completed.geojson", "完工报告 demo-1.completed.geojson"),
        ("re-check pass, guardrail ok", "re-check pass, guardrail ok"),  # a person's: as typed
        # the import's: its row id (序号 10 of a sheet numbered per township) is 第 10 条, as the
        # import's summary says it; 第 10 行 is a line of the file
        ("survey 1 row 10", "勘察批次 1 第 10 条"),
        # a later survey finding a site again (the import's seen-again note)
        ("survey 3: row 23 repeats H000005", "勘察批次 3：第 23 条为已有隐患 H000005 的再次发现"),
        (
            "survey 3: row 23 repeats H000005 (verified)",
            "勘察批次 3：第 23 条为已有隐患 H000005（已验收）的再次发现",
        ),
    ],
)
def test_the_notes_of_re_checks_and_completion_reports_read_in_chinese(note: str, zh: str) -> None:
    assert v.event_note(note, "zh") == zh and v.event_note(note, "en") == note
