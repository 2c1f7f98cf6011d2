"""Versions of everything a bug report needs: Python, libraries, GDAL/PROJ/GEOS, PostgreSQL/PostGIS."""

from __future__ import annotations

import platform
import sys
from typing import Any

__version__ = "0.1.0"
"""This package's version (``hazards.__version__``; setup.cfg reads it from here)."""


def _dist_version(name: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def library_versions() -> dict[str, str]:
    """Versions of Python, this package, its libraries and the C libraries under them."""
    import pyogrio
    import pyproj
    import shapely

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "hazards": __version__,
        "GDAL": pyogrio.__gdal_version_string__,
        "PROJ": pyproj.proj_version_str,
        "GEOS": shapely.geos_version_string,
        "shapely": shapely.__version__,
        "geopandas": _dist_version("geopandas"),
        "pyproj": pyproj.__version__,
        "pyogrio": pyogrio.__version__,
        "SQLAlchemy": _dist_version("sqlalchemy"),
        "GeoAlchemy2": _dist_version("geoalchemy2"),
        "alembic": _dist_version("alembic"),
        "psycopg": _dist_version("psycopg"),
        "folium": _dist_version("folium"),
    }


def versions(*, database: bool = True) -> dict[str, Any]:
    """Library versions plus, when ``database``, the PostgreSQL and PostGIS of the database."""
    out: dict[str, Any] = library_versions()
    if database:
        from hazards.db import store
        from hazards.db.session import managed_server
        from hazards.errors import HazardsError
        from hazards.settings import get_settings

        if not get_settings().database_url and not managed_server().is_running():
            # a report of versions does not start the embedded server (`hazards db down` holds)
            out["PostgreSQL"] = "not running (`hazards db up` starts it)"
            out["PostGIS"] = "not running"
            return out
        try:
            out.update(store.server_versions())
        except HazardsError as exc:
            out["PostgreSQL"] = f"unavailable ({exc.message.split('. ')[0]})"
            out["PostGIS"] = "unavailable"
    return out


def show_versions(*, database: bool = True) -> None:
    """Print the versions, one per line (for bug reports and the first notebook cell)."""
    data = versions(database=database)
    width = max(len(k) for k in data)
    for key, value in data.items():
        print(f"{key:<{width}} : {value}")
