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
