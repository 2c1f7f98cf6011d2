"""Chainage text and measuring along routes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import LineString

from hazards.chainage import format_chainage, locate, measure, parse_chainage
from hazards.errors import HazardsError, InputError


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
        # as police and survey sheets write them, with a unit (they were refused)
        ("K9+300m", 9300.0),
        ("K0+080米", 80.0),
        ("9.25km", 9250.0),
        ("3.25 KM", 3250.0),
        ("12.35公里", 12350.0),
        ("12350米", 12350.0),
    ],
)
def test_parse(text: str, metres: float) -> None:
    assert parse_chainage(text) == metres


@pytest.mark.parametrize("text", ["K12+1350", "K12-350", "abc", "", "K+350", "-5", "km", "9.25kmm"])
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
    with pytest.raises(InputError, match="K1\\+000.6 is outside route X9.*K0\\+000 to K1\\+000"):
        locate(geoms, f, t, parts, 1000.6, route="X9")
    with pytest.raises(InputError, match="Route X9 has no part 2") as err:
        locate(geoms, f, t, parts, 10.0, part=2, route="X9")
    assert err.value.param == "part"


def test_measure_gives_chainage_and_offset() -> None:
    geoms, f, _, parts = _route()
    m = measure(geoms, f, parts, 700.0, -12.0)
    assert (m.chainage_m, m.offset_m, m.part) == (700.0, 12.0, 0)
    m = measure(geoms, f, parts, 55.0, 120.0)
    assert (m.chainage_m, m.offset_m, m.part) == (170.0, 5.0, 1)


# ----------------------------------------------------------------------------- the quick path
# ``chainage locate`` / ``measure`` read a route over a plain psycopg connection when no engine
# is given (issue 20: start at once); everything else goes through the engine. Both must agree.


def test_quick_path_gives_what_the_engine_path_gives(roads) -> None:  # type: ignore[no-untyped-def]
    from hazards.chainage import locate_on_route, measure_on_route
    from hazards.db.session import quick_connection

    engine = roads
    conn = quick_connection()
    assert conn is not None  # HAZARDS_DATABASE_URL (db_url fixture), migrated: the quick path
    conn.close()
    cases = [("X001", "K0+000"), ("x 001", "K1+250"), ("X001", "2+999.5"), ("Y002", "K1+050")]
    cases += [("Y003", 777.0)]
    for code, k in cases:
        quick = locate_on_route(code, k)
        assert quick == locate_on_route(code, k, engine=engine)
        lon, lat = quick["lon"] + 0.0001, quick["lat"] - 0.0002
        assert measure_on_route(code, lon, lat) == measure_on_route(code, lon, lat, engine=engine)
    for part in (0, 1):  # Y003's main line and its spur
        got = locate_on_route("Y003", "K1+300", part=part)
        assert got == locate_on_route("Y003", "K1+300", part=part, engine=engine)
    in_gap = [locate_on_route("Y002", m) for m in range(0, 2500, 20)]
    assert any(r["in_gap"] for r in in_gap)  # Y002's gap
    assert in_gap == [locate_on_route("Y002", m, engine=engine) for m in range(0, 2500, 20)]
    # the errors are the engine path's own
    for bad, part in [(("X999", "K0+100"), 0), (("X001", "K99+000"), 0), (("X001", "0"), 1)]:
        with pytest.raises(HazardsError) as quick_err:
            locate_on_route(*bad, part=part)
        with pytest.raises(HazardsError) as engine_err:
            locate_on_route(*bad, part=part, engine=engine)
        assert str(quick_err.value) == str(engine_err.value)


def test_quick_lookup_finds_the_routes_get_road_finds(roads) -> None:  # type: ignore[no-untyped-def]
    """store.routes' one-statement lookup and store.roads.get_road agree: the code as stored, an
    alias, an alias that is also a route's own code (the route wins), nothing."""
    from sqlalchemy import text

    from hazards.db.session import quick_connection
    from hazards.db.store.roads import get_road
    from hazards.db.store.routes import quick_route_lines
    from hazards.errors import NotFound

    engine = roads
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO route_aliases (admin_code, alias, route_code) VALUES "
                "('', 'Q100', 'Y002'), ('', 'Y003', 'X001')"
            )
        )
    conn = quick_connection()
    assert conn is not None
    with conn:
        for code in ["X001", "Q100", "Y003", "Y002"]:
            found = quick_route_lines(conn, code)
            assert found is not None
            road = get_road(engine, code)
            assert found[0] == {"id": road["id"], "route_code": road["route_code"]}
            assert found[1] == "EPSG:4546"
            assert len(found[2]["geometry"]) == len(found[2]["from_m"]) > 0
        assert quick_route_lines(conn, "Q404") is None
    with pytest.raises(NotFound):
        get_road(engine, "Q404")


def test_quick_connection_steps_aside_when_anything_needs_a_look(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No schema yet (get_engine migrates), a URL with options, an embedded server that is not
    running (never started here): None, and the ordinary path does the rest. A database that
    refuses the connection: the error of connect_check, word for word."""
    from hazards.db.session import _engine_for, connect_check, quick_connection
    from hazards.errors import DatabaseError
    from hazards.settings import get_settings

    def quick(url: str | None) -> object:
        if url is None:
            monkeypatch.delenv("HAZARDS_DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("HAZARDS_DATABASE_URL", url)
        get_settings.cache_clear()
        return quick_connection()

    assert quick(empty_db_url) is None
    assert quick(empty_db_url + "?sslmode=disable") is None
    home = tmp_path / "home"
    monkeypatch.setenv("HAZARDS_HOME", str(home))
    assert quick(None) is None and not home.exists()
    refused = "postgresql://nobody:secret@127.0.0.1:1/none"
    with pytest.raises(DatabaseError) as quick_err:
        quick(refused)
    with pytest.raises(DatabaseError) as engine_err:
        connect_check(_engine_for(refused.replace("postgresql:", "postgresql+psycopg:")))
    assert str(quick_err.value) == str(engine_err.value)
    assert "secret" not in str(quick_err.value)


def test_a_whole_metre_stake_at_a_route_end_is_the_end() -> None:
    """Stakes are whole metres: K6+443 on a route 6,442.97 m long is its end, not outside it;
    a refused stake is told in tenths where whole metres would contradict the message."""
    line = LineString([(0, 0), (6442.97, 0)])
    geoms, f, t, parts = (
        np.array([line], dtype=object),
        np.array([0.0]),
        np.array([6442.97]),
        np.array([0]),
    )
    p = locate(geoms, f, t, parts, 6443.0, route="X018")
    assert (p.chainage_m, p.x, p.in_gap) == (6442.97, 6442.97, False)
    p = locate(geoms, f, t, parts, -0.4, route="X018")
    assert (p.chainage_m, p.x) == (0.0, 0.0)
    with pytest.raises(
        InputError, match=r"K6\+443.5 is outside route X018: it runs from K0\+000 to K6\+443\."
    ):
        locate(geoms, f, t, parts, 6443.5, route="X018")
    short = np.array([LineString([(0, 0), (8949.697, 0)])], dtype=object)
    with pytest.raises(InputError, match=r"K8\+950.3 .* to K8\+949.7\."):
        locate(short, f, np.array([8949.697]), parts, 8950.3, route="X002")
