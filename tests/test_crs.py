"""Coordinate reference systems: reading them, the working-CRS choice, lon/lat checks.

Expected zones are found from PROJ's own definitions of the zones (their central meridians),
not from the arithmetic under test.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS, Transformer
from pyproj.database import query_crs_info

import hazards.crs as crs_module
from hazards.crs import (
    choose_working_crs,
    crs_label,
    gk3_zone_epsg,
    is_cgcs2000,
    lonlat_extent,
    lonlat_transformer,
    looks_like_lonlat,
    parse_crs,
    to_crs,
    transformer,
    utm_epsg,
    working_crs_for,
)
from hazards.errors import ConfigError, InputError

# (place, lon, lat)
PLACES = [
    ("Yuanjiang", 112.35, 28.85),
    ("Beijing", 116.40, 39.90),
    ("Urumqi", 87.62, 43.83),
    ("Lhasa", 91.13, 29.65),
    ("Harbin", 126.53, 45.80),
    ("Sanya", 109.51, 18.25),
]


def _central_meridian(code: int) -> float:
    crs = CRS.from_epsg(code)
    assert crs.coordinate_operation is not None
    (lon0,) = [
        p.value for p in crs.coordinate_operation.params if p.name == "Longitude of natural origin"
    ]
    return float(lon0)


@functools.cache
def _gk3_zones() -> dict[int, float]:
    """Every CGCS2000 3-degree Gauss-Krüger zone (CM form) in PROJ's database → its central meridian."""
    infos = query_crs_info(auth_name="EPSG", pj_types="PROJECTED_CRS")
    codes = [
        int(i.code) for i in infos if i.name.startswith("CGCS2000 / 3-degree Gauss-Kruger CM ")
    ]
    return {c: _central_meridian(c) for c in codes}


def _nearest_gk3_zone(lon: float) -> int:
    """The CGCS2000 3-degree Gauss-Krüger zone (CM form) whose central meridian is nearest."""
    zones = _gk3_zones()
    assert len(zones) == 21  # CM 75E to CM 135E
    return min(zones, key=lambda c: abs(zones[c] - lon))


# ----------------------------------------------------------------------------- parse_crs
@pytest.mark.parametrize(
    "text, epsg",
    [
        ("EPSG:4546", 4546),
        ("4546", 4546),
        (" 4490 ", 4490),
        ("epsg:4326", 4326),
        (CRS.from_epsg(4546).to_wkt(), 4546),
    ],
)
def test_parse_crs_reads_codes_and_wkt(text: str, epsg: int) -> None:
    assert parse_crs(text).to_epsg() == epsg


def test_parse_crs_reads_a_proj_string_without_an_epsg_code() -> None:
    crs = parse_crs("+proj=tmerc +lon_0=112.2 +k=0.9999 +x_0=350000 +ellps=GRS80 +units=m +no_defs")
    assert crs.is_projected and crs.to_epsg() is None


@pytest.mark.parametrize("text", ["nonsense", "EPSG:99999", "", "4546x"])
def test_parse_crs_refuses_with_a_message_that_reads_well(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_crs(text)
    message = err.value.message
    assert message.startswith(f"{text!r} is not a coordinate reference system PROJ knows. ")
    assert "EPSG:4490" in message and "EPSG:4546" in message and "EPSG:4326" in message
    assert "--" not in message  # the CLI adds the flag, from param
    assert err.value.param == "crs"
    assert isinstance(err.value, ValueError)


def test_parse_crs_names_where_the_value_came_from() -> None:
    with pytest.raises(InputError, match="^The survey's crs 'nope' is not a coordinate") as err:
        parse_crs("nope", what="The survey's crs", param="source_crs")
    assert err.value.param == "source_crs"


# ----------------------------------------------------------------------------- zones
@pytest.mark.parametrize("place, lon, lat", PLACES)
def test_gk3_zone_is_the_zone_whose_central_meridian_is_nearest(
    place: str, lon: float, lat: float
) -> None:
    code = gk3_zone_epsg(lon)
    assert code == _nearest_gk3_zone(lon), place
    assert abs(_central_meridian(code) - lon) <= 1.5
    assert CRS.from_epsg(code).name.startswith("CGCS2000 / 3-degree Gauss-Kruger CM")


def test_gk3_zone_of_yuanjiang_is_cm_111e() -> None:
    assert gk3_zone_epsg(112.35) == 4546
    assert CRS.from_epsg(4546).name == "CGCS2000 / 3-degree Gauss-Kruger CM 111E"


def test_gk3_zone_outside_china_is_the_nearest_end_zone() -> None:
    assert _central_meridian(gk3_zone_epsg(60.0)) == 75.0
    assert _central_meridian(gk3_zone_epsg(150.0)) == 135.0


@pytest.mark.parametrize(
    "lon, lat",
    [(lon, lat) for _, lon, lat in PLACES] + [(151.21, -33.87), (-0.13, 51.51), (-70.65, -33.45)],
)
def test_utm_zone_holds_the_point_in_its_hemisphere(lon: float, lat: float) -> None:
    crs = CRS.from_epsg(utm_epsg(lon, lat))
    assert crs.name.startswith("WGS 84 / UTM zone")
    assert abs(_central_meridian(crs.to_epsg() or 0) - lon) <= 3.0
    assert crs.utm_zone is not None and crs.utm_zone.endswith("N" if lat >= 0 else "S")


def test_utm_zones_of_known_places() -> None:
    assert utm_epsg(112.35, 28.85) == 32649  # Yuanjiang: zone 49N (CM 111E)
    assert utm_epsg(151.21, -33.87) == 32756  # Sydney: zone 56S
    assert utm_epsg(-0.13, 51.51) == 32630  # London: zone 30N


# ----------------------------------------------------------------------------- the choice
def test_cgcs2000_data_gets_gauss_kruger_and_other_data_utm() -> None:
    lon, lat = 112.35, 28.85
    assert is_cgcs2000(CRS.from_epsg(4490)) and is_cgcs2000(CRS.from_epsg(4546))
    assert not is_cgcs2000(CRS.from_epsg(4326)) and not is_cgcs2000(CRS.from_epsg(32649))
    assert choose_working_crs(CRS.from_epsg(4490), lon, lat).to_epsg() == 4546
    assert choose_working_crs(CRS.from_epsg(4546), lon, lat).to_epsg() == 4546
    assert choose_working_crs(CRS.from_epsg(4326), lon, lat).to_epsg() == 32649
    assert choose_working_crs(CRS.from_epsg(4326), 151.21, -33.87).to_epsg() == 32756


def test_working_crs_for_uses_the_centre_of_the_data() -> None:
    # Lon/lat bounds straddling CM 111E and 114E: the centre (113.2E) is in the CM 114E zone.
    bounds = (112.0, 28.0, 114.4, 29.0)
    assert (
        working_crs_for(CRS.from_epsg(4490), bounds).to_epsg() == _nearest_gk3_zone(113.2) == 4547
    )
    assert working_crs_for(CRS.from_epsg(4326), bounds).to_epsg() == 32649  # UTM 49 runs 108E-114E
    # Bounds in a projected source's metres are turned to lon/lat first.
    x, y = transformer(CRS.from_epsg(4490), CRS.from_epsg(4546)).transform(112.35, 28.85)
    metres = (x - 1000, y - 1000, x + 1000, y + 1000)
    assert working_crs_for(CRS.from_epsg(4546), metres).to_epsg() == 4546


def test_a_configured_working_crs_wins_and_must_be_projected() -> None:
    bounds = (112.0, 28.0, 112.5, 29.0)
    assert working_crs_for(CRS.from_epsg(4490), bounds, configured="EPSG:32649").to_epsg() == 32649
    assert working_crs_for(CRS.from_epsg(4490), bounds, configured="4547").to_epsg() == 4547
    assert working_crs_for(CRS.from_epsg(4490), bounds, configured="").to_epsg() == 4546
    with pytest.raises(ConfigError, match="'EPSG:4490' is not a projected") as err:
        working_crs_for(CRS.from_epsg(4490), bounds, configured="EPSG:4490")
    assert "--" not in err.value.message and err.value.param is None
    with pytest.raises(
        InputError, match="^The working_crs setting 'nope' is not a coordinate"
    ) as bad:
        working_crs_for(CRS.from_epsg(4490), bounds, configured="nope")
    assert bad.value.param is None  # a setting, not an argument


# ----------------------------------------------------------------------------- labels and checks
def test_crs_label_is_the_epsg_code_else_the_definition() -> None:
    assert crs_label(CRS.from_epsg(4546)) == "EPSG:4546"
    custom = CRS.from_proj4(
        "+proj=tmerc +lon_0=112.2 +k=0.9999 +x_0=350000 +ellps=GRS80 +units=m +no_defs"
    )
    label = crs_label(custom)
    assert not label.startswith("EPSG:")
    assert CRS.from_wkt(label) == custom


@pytest.mark.parametrize(
    "bounds, expected",
    [
        ((112.0, 28.0, 113.0, 29.0), True),
        ((-180.0, -90.0, 180.0, 90.0), True),
        ((500_000.0, 3_000_000.0, 510_000.0, 3_010_000.0), False),
        ((-181.0, 0.0, 10.0, 1.0), False),
        ((10.0, 0.0, 20.0, 91.0), False),
    ],
)
def test_looks_like_lonlat(bounds: tuple[float, float, float, float], expected: bool) -> None:
    assert looks_like_lonlat(bounds) is expected


def test_transformers_are_cached_and_lon_lat_ordered() -> None:
    a = transformer(CRS.from_epsg(4490), CRS.from_epsg(4546))
    assert a is transformer(CRS.from_epsg(4490), CRS.from_epsg(4546))
    x, _y = a.transform(111.0, 28.0)  # on the central meridian: x is the false easting
    assert x == pytest.approx(500_000.0, abs=1e-3)


def back_of(xy: tuple[float, float]) -> tuple[float, float]:
    """``xy`` in EPSG:4546 to lon/lat, by the operation PROJ chooses."""
    return Transformer.from_crs(CRS.from_epsg(4546), CRS.from_epsg(4326), always_xy=True).transform(
        *xy
    )


def test_transformers_to_and_from_lon_lat_are_remembered_with_the_same_numbers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = tmp_path / "hazards" / "proj-pipelines.json"
    wgs84 = CRS.from_epsg(4326)
    lon, lat = np.array([110.5, 111.0, 111.4]), np.array([27.9, 28.0, 28.3])
    for code in ["EPSG:4546", "EPSG:32649"]:
        crs = CRS.from_user_input(code)
        out = Transformer.from_crs(wgs84, crs, always_xy=True)  # what PROJ chooses each time
        back = Transformer.from_crs(crs, wgs84, always_xy=True)
        x, y = out.transform(lon, lat)
        box = (x.min(), y.min(), x.max(), y.max())
        for _ in range(2):  # chosen by PROJ, then read back from the cache file
            transformer.cache_clear()
            there, home = lonlat_transformer(crs), transformer(crs, wgs84)
            assert np.array_equal(there.transform(lon, lat), (x, y))
            assert np.array_equal(
                there.transform(x, y, direction="INVERSE"),
                out.transform(x, y, direction="INVERSE"),
            )
            assert np.array_equal(home.transform(x, y), back.transform(x, y))
            assert np.array_equal(
                home.transform(lon, lat, direction="INVERSE"),
                back.transform(lon, lat, direction="INVERSE"),
            )
            assert there.transform_bounds(110.5, 27.9, 111.4, 28.3) == out.transform_bounds(
                110.5, 27.9, 111.4, 28.3
            )
            assert lonlat_extent(crs, box) == pytest.approx(back.transform_bounds(*box), abs=1e-9)
    assert len(json.loads(cache.read_text("utf-8"))) == 4  # two CRSs, each way
    # several candidate operations (PROJ picks one per point): never kept
    transformer.cache_clear()
    lonlat_transformer(CRS.from_epsg(27700))
    transformer(CRS.from_epsg(27700), wgs84)
    # nor anything between two CRSs other than lon/lat
    transformer(CRS.from_epsg(4490), CRS.from_epsg(4546))
    assert len(json.loads(cache.read_text("utf-8"))) == 4
    # a damaged cache file is no harm, and is written again
    cache.write_text("{not json", "utf-8")
    transformer.cache_clear()
    got = lonlat_transformer(CRS.from_epsg(4546)).transform(111.0, 28.0)
    want = Transformer.from_crs(wgs84, CRS.from_epsg(4546), always_xy=True)
    assert got == want.transform(111.0, 28.0)
    assert len(json.loads(cache.read_text("utf-8"))) == 1
    # nor is a missing home folder (Path.home() raises): nothing kept, the same numbers
    transformer.cache_clear()

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(crs_module, "_pipeline_cache", no_home)
    assert transformer(wgs84, CRS.from_epsg(4546)).transform(111.0, 28.0) == got
    assert transformer(CRS.from_epsg(4546), wgs84).transform(*got) == back_of(got)
    transformer.cache_clear()


def test_to_crs_gives_geopandas_numbers_for_flat_and_3d_lines() -> None:
    import geopandas as gpd
    import shapely

    lines = [
        shapely.LineString([(110.5, 27.9), (110.6, 28.0)]),
        shapely.LineString([(111.0, 28.0, 5.0), (111.1, 28.1, 7.5)]),
        None,
        shapely.MultiLineString([[(111.2, 28.2), (111.3, 28.25)], [(111.3, 28.3), (111.4, 28.3)]]),
    ]
    frame = gpd.GeoDataFrame({"code": ["X001", "X002", "X003", "X004"]}, geometry=lines, crs=4326)
    crs = CRS.from_epsg(4546)
    ours, theirs = to_crs(frame, crs), frame.to_crs(crs)
    assert ours.crs.is_exact_same(crs)
    assert ours["code"].tolist() == theirs["code"].tolist()
    got, want = np.asarray(ours.geometry.array), np.asarray(theirs.geometry.array)
    assert got[2] is None and want[2] is None
    assert shapely.equals_identical(got[[0, 1, 3]], want[[0, 1, 3]]).all()
    assert shapely.has_z(got[1]) and not shapely.has_z(got[0])
    assert frame.crs.to_epsg() == 4326  # the input is left as it was
    assert to_crs(frame, CRS.from_epsg(4326)).equals(frame)


# ----------------------------------------------------------------------------- plausibility
def test_projected_values_declared_as_degrees_are_refused() -> None:
    from hazards.crs import check_plausible

    xy = np.array([[640_000.0, 3_200_000.0], [650_000.0, 3_210_000.0]])
    with pytest.raises(InputError, match="look like metres of a projected CRS") as exc:
        check_plausible(CRS.from_epsg(4490), xy, what="roads.shp", declared=True)
    assert exc.value.param == "crs" and "roads.shp" in str(exc.value)
    check_plausible(CRS.from_epsg(4546), xy, what="roads.shp", declared=True)  # the right one


def test_coordinates_outside_the_area_of_use_are_refused() -> None:
    from hazards.crs import check_plausible

    # GK CM 111E values read as zone 38 (EPSG:4526, with the zone prefix 38 500 000):
    # they land far west of the zone (or nowhere)
    xy = np.array([[640_000.0, 3_200_000.0], [650_000.0, 3_210_000.0]])
    with pytest.raises(InputError, match="EPSG:4526"):
        check_plausible(CRS.from_epsg(4526), xy, what="f", declared=False)
    # a point of Hunan (112.35E) in the zone of CM 135E: 22 degrees outside that zone's area
    x, y = transformer(CRS.from_epsg(4490), CRS.from_epsg(4554)).transform(112.35, 28.85)
    with pytest.raises(InputError, match="outside the area"):
        check_plausible(CRS.from_epsg(4554), np.array([[x, y]]), what="f", declared=True)


def test_a_county_straddling_a_zone_edge_is_accepted() -> None:
    from hazards.crs import check_plausible

    # EPSG:4546 covers 109.5-112.5E; data reaching 113.2E (0.7 degree beyond) is fine
    lon = np.array([111.8, 113.2])
    x, y = transformer(CRS.from_epsg(4490), CRS.from_epsg(4546)).transform(lon, [28.8, 28.9])
    check_plausible(CRS.from_epsg(4546), np.column_stack([x, y]), what="f", declared=False)


def test_a_setting_naming_another_working_crs_is_refused_with_the_way_out() -> None:
    from hazards.crs import check_configured
    from hazards.errors import ConfigError

    check_configured(CRS.from_epsg(4546), None)
    check_configured(CRS.from_epsg(4546), "EPSG:4546")
    check_configured(CRS.from_epsg(4546), "4546")
    with pytest.raises(ConfigError, match="db working-crs set EPSG:4547"):
        check_configured(CRS.from_epsg(4546), "EPSG:4547")


def test_auto_working_crs_follows_the_data() -> None:
    from hazards.crs import auto_working_crs

    box = (112.1, 28.6, 112.6, 29.1)
    assert auto_working_crs(cgcs2000=True, box=box).to_epsg() == 4546
    assert auto_working_crs(cgcs2000=False, box=box).to_epsg() == 32649
    assert auto_working_crs(cgcs2000=False, box=(-112.0, 43.4, -111.8, 43.6)).to_epsg() == 32612


def test_the_likely_crs_is_named_for_the_usual_mistakes() -> None:
    """Eastings with the zone number in front under a CRS without it (and the other way), and
    lon/lat swapped, are told as such, with the CRS that fits (it suggested EPSG:4546 for all)."""
    import numpy as np
    from pyproj import CRS

    from hazards.crs import check_plausible

    prefixed = np.array([[37_350_400.0, 3_099_940.0], [37_649_400.0, 3_283_560.0]])
    with pytest.raises(InputError, match=r"zone number 37 in front .* is EPSG:4525\."):
        check_plausible(CRS.from_epsg(4546), prefixed, what="roads.shp", declared=False)
    with pytest.raises(InputError, match=r"zone number 37 in front .* is EPSG:4525\."):
        check_plausible(CRS.from_epsg(4490), prefixed, what="roads.shp", declared=True)
    plain = prefixed - [37_000_000.0, 0.0]
    with pytest.raises(InputError, match=r"no zone number in front .* is EPSG:4546\."):
        check_plausible(CRS.from_epsg(4525), plain, what="roads.shp", declared=False)
    check_plausible(CRS.from_epsg(4525), prefixed, what="roads.shp", declared=False)  # right
    swapped = np.array([[28.66, 112.16], [29.05, 112.64]])
    with pytest.raises(InputError, match="latitude and longitude swapped"):
        check_plausible(CRS.from_epsg(4490), swapped, what="roads.geojson", declared=False)
