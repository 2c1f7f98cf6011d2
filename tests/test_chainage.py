"""Chainage text and measuring along routes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import LineString

from hazards.chainage import format_chainage, locate, measure, parse_chainage
from hazards.errors import InputError


@pytest.mark.parametrize(
    "text, metres",
    [
        ("K12+350", 12350.0),
        ("K12+350.5", 12350.5),
        ("12+350", 12350.0),
        ("k0+080", 80.0),
        ("K 3 + 005", 3005.0),
        ("Ｋ１２＋３５０", 12350.0),
        ("12350", 12350.0),
        ("0", 0.0),
    ],
)
def test_parse(text: str, metres: float) -> None:
    assert parse_chainage(text) == metres


@pytest.mark.parametrize("text", ["K12+1350", "K12-350", "abc", "", "K+350", "-5"])
def test_parse_refuses_with_the_right_form(text: str) -> None:
    with pytest.raises(InputError, match="K12"):
        parse_chainage(text)


def test_format() -> None:
    assert format_chainage(12350) == "K12+350"
    assert format_chainage(12350.4) == "K12+350"
    assert format_chainage(12999.6) == "K13+000"
    assert format_chainage(80) == "K0+080"
    assert format_chainage(12350.54, decimals=1) == "K12+350.5"


@given(st.floats(min_value=0, max_value=2_000_000, allow_nan=False).map(lambda x: round(x, 1)))
def test_format_then_parse_round_trips(metres: float) -> None:
    assert parse_chainage(format_chainage(metres, decimals=1)) == pytest.approx(metres, abs=0.051)


def _route():
    # Two segments along x with a 100 m gap between them, and a branch from x=50.
    a = LineString([(0, 0), (300, 0)])
    b = LineString([(400, 0), (1000, 0)])
    spur = LineString([(50, 0), (50, 200)])
    geoms = np.array([a, b, spur], dtype=object)
    return (
        geoms,
        np.array([0.0, 400.0, 50.0]),
        np.array([300.0, 1000.0, 250.0]),
        np.array([0, 0, 1]),
    )


def test_locate_on_segments_in_gaps_and_branches() -> None:
    geoms, f, t, parts = _route()
    p = locate(geoms, f, t, parts, 120.0)
    assert (p.x, p.y, p.in_gap) == (120.0, 0.0, False)
    p = locate(geoms, f, t, parts, 350.0)  # in the gap: on the straight line over it
    assert (round(p.x, 6), p.y, p.in_gap) == (350.0, 0.0, True)
    p = locate(geoms, f, t, parts, 150.0, part=1)
    assert (p.x, p.y) == (50.0, 100.0)
    with pytest.raises(InputError, match="K0\\+000 to K1\\+000"):
        locate(geoms, f, t, parts, 1000.5, route="X9")
    with pytest.raises(InputError, match="Route X9 has no part 2") as err:
        locate(geoms, f, t, parts, 10.0, part=2, route="X9")
    assert err.value.param == "part"


def test_measure_gives_chainage_and_offset() -> None:
    geoms, f, _, parts = _route()
    m = measure(geoms, f, parts, 700.0, -12.0)
    assert (m.chainage_m, m.offset_m, m.part) == (700.0, 12.0, 0)
    m = measure(geoms, f, parts, 55.0, 120.0)
    assert (m.chainage_m, m.offset_m, m.part) == (170.0, 5.0, 1)
