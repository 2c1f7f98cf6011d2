"""Route fingerprints (hazards.fingerprints)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from builders import route_frame
from shapely.geometry import LineString

from hazards.fingerprints import route_checksums, route_groups


def test_routes_are_grouped_as_pandas_groups_them() -> None:
    codes = np.array(["X2", "X1", "X2", "Y9", "X1"], dtype=object)
    order, route, start, uniques = route_groups(codes)
    assert uniques.tolist() == ["X1", "X2", "Y9"]
    assert order.tolist() == [1, 4, 0, 2, 3]  # route by route, file order within a route
    assert route.tolist() == [0, 0, 1, 1, 2]
    assert start.tolist() == [0, 2, 4, 5]


def test_route_checksums_ignore_row_order_and_direction_but_not_attributes() -> None:
    pieces = [
        ("X1", LineString([(0, 0), (500, 0)])),
        ("X1", LineString([(500, 0), (800, 0)])),
        ("Y1", LineString([(0, 50), (100, 50)])),
    ]
    first = route_checksums(route_frame(pieces))
    turned = [(c, shapely.reverse(g)) for c, g in pieces[::-1]]
    moved = route_frame(turned)
    moved["township"] = ["town 0", "town 1", "town 0"]  # the same per line as before
    assert route_checksums(moved) == first
    renamed = route_frame(pieces)
    renamed.loc[0, "name"] = "new name"
    again = route_checksums(renamed)
    assert again["X1"] != first["X1"] and again["Y1"] == first["Y1"]
    # the normalised WKB made by the duplicate check gives the same fingerprints
    wkb = shapely.to_wkb(shapely.normalize(np.array([g for _, g in pieces], dtype=object)))
    assert route_checksums(route_frame(pieces), line_wkb=wkb) == first
    with pytest.raises(ValueError, match="2 lines for 3 features"):
        route_checksums(route_frame(pieces), line_wkb=wkb[:2])


def test_route_checksums_are_the_sha1_of_each_routes_sorted_lines_as_documented() -> None:
    """The fingerprint as its docstring states it, computed here line by line: the routes'
    stored checksums must not change from one version to the next (a file loaded again would
    otherwise show every route as changed)."""
    import hashlib

    rng = np.random.default_rng(3)
    pieces = []
    for r in range(40):
        for k in range(int(rng.integers(1, 6))):
            x, y = float(rng.integers(0, 10_000)), float(rng.integers(0, 10_000))
            pieces.append(
                (
                    f"X{r % 13:03d}" if r % 5 else f"Y{r}",
                    LineString([(x, y), (x + 7.5 * k + 1, y - 3)]),
                )
            )
    frame = route_frame(pieces)
    frame["name"] = [["城关—南大膳", "X road", None][i % 3] for i in range(len(frame))]
    frame["road_class"] = [["county", "township"][i % 2] for i in range(len(frame))]
    frame["township"] = [[None, "城关镇", "town 1"][i % 3] for i in range(len(frame))]
    frame["aadt"] = [[np.nan, 1200.0, 35.5, 1e7][i % 4] for i in range(len(frame))]
    expected: dict[str, list[str]] = {}
    for row in frame.itertuples():
        wkb = shapely.to_wkb(shapely.normalize(row.geometry)).hex().upper()
        more = "" if np.isnan(row.aadt) else f"|{row.aadt:g}"
        text = f"{wkb}|{row.name}|{row.road_class}|{row.township}{more}"
        expected.setdefault(row.code, []).append(text)
    assert route_checksums(frame) == {
        code: hashlib.sha1("\n".join(sorted(lines)).encode()).hexdigest()
        for code, lines in expected.items()
    }


def test_keys_made_from_wkb_are_the_bytes_geos_makes() -> None:
    """wkb_line_keys reverses an open line's WKB itself and leaves the rest to GEOS: every kind
    of line a road file holds gives the key line_keys (normalize, then to_wkb) gives it."""
    from shapely.geometry import MultiLineString

    from hazards.fingerprints import line_keys, single_parts, wkb_line_keys

    rng = np.random.default_rng(7)
    lines: list[object] = []
    for i in range(2000):
        k = int(rng.integers(2, 7))
        c = rng.integers(0, 3, (k, 2)).astype(float)  # ties in x: the order is decided by y
        if i % 10 == 0:
            c[-1] = c[0]  # closed: GEOS turns the ring to start at its least point
        lines.append(
            MultiLineString([c])  # a layer typed MultiLineString: keyed as its one line
            if i % 10 == 1
            else MultiLineString([c, c + 5])  # two parts: as GEOS has them
            if i % 10 == 2
            else LineString(np.column_stack([c, np.full(k, 9.0)]))  # 3D
            if i % 10 == 3
            else LineString(c)
        )
    nan, inf = float("nan"), float("inf")  # ends GEOS compares by y alone
    lines += [LineString([(nan, 5), (1, 0)]), LineString([(1, 5), (nan, 0)])]
    lines += [LineString([(inf, 0), (0, 1)]), LineString([(0, 1), (-inf, 5)])]
    lines += [None, LineString(), LineString([(-0.0, 1), (0.0, 0)])]
    geoms = np.array(lines, dtype=object)
    expected = line_keys(single_parts(geoms)).tolist()
    for order in (1, 0):  # little-endian WKB (made from its bytes), big-endian (through GEOS)
        wkb = shapely.to_wkb(geoms, byte_order=order)
        assert wkb_line_keys(wkb).tolist() == expected
    own = shapely.to_wkb(geoms).tolist()
    turned = sum(k != w for k, w, g in zip(expected, own, lines, strict=True) if g is not None)
    assert len(set(expected)) > 1000 and turned > 500  # varied lines, many of them reversed
    other = np.empty(1, dtype=object)
    other[0] = bytearray(shapely.to_wkb(lines[4]))
    with pytest.raises(TypeError):  # not bytes: refused as GEOS refuses it
        wkb_line_keys(other)
    # an unreadable WKB (a line of one point) is no key, as GEOS reads it: none
    one_point = b"\x01\x02\x00\x00\x00\x01\x00\x00\x00" + np.zeros(2).tobytes()
    assert wkb_line_keys(np.array([one_point, b"\x01"], dtype=object)).tolist() == [None, None]
