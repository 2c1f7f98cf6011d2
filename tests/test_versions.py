"""Versions for bug reports: the package's own, the libraries', the C libraries' and the database's."""

from __future__ import annotations

import importlib.metadata
import re

import hazards
from hazards import versions


def test_version_is_the_installed_one() -> None:
    assert hazards.__version__ == versions.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", hazards.__version__)
    assert importlib.metadata.version("hazards") == hazards.__version__


def test_library_versions_without_a_database() -> None:
    import pyproj
    import shapely

    data = versions.versions(database=False)
    assert data["hazards"] == hazards.__version__
    assert data["PROJ"] == pyproj.proj_version_str
    assert data["GEOS"] == shapely.geos_version_string
    assert "PostgreSQL" not in data
    assert versions._dist_version("no-such-distribution-xyz") == "not installed"


def test_show_versions_prints_one_aligned_line_each(capsys) -> None:  # type: ignore[no-untyped-def]
    hazards.show_versions(database=False)
    lines = capsys.readouterr().out.splitlines()
    data = versions.versions(database=False)
    assert len(lines) == len(data)
    assert len({line.index(" : ") for line in lines}) == 1
    assert any(line.startswith("GDAL") and line.endswith(data["GDAL"]) for line in lines)


def test_database_versions(engine) -> None:  # type: ignore[no-untyped-def]
    data = versions.versions()
    assert re.match(r"\d+", data["PostgreSQL"]) and re.match(r"\d+\.\d+", data["PostGIS"])
