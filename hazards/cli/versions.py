"""The ``hazards show-versions`` command: everything a bug report needs."""

from __future__ import annotations

import click

from hazards.cli._common import HazardsCommand, echo_json, echo_mapping, json_option


@click.command("show-versions", cls=HazardsCommand)
@click.option("--no-db", is_flag=True, help="Skip the database (PostgreSQL/PostGIS) versions.")
@json_option
def show_versions_cmd(no_db: bool, as_json: bool) -> None:
    """Print versions of Python, the libraries, GDAL/PROJ/GEOS, PostgreSQL and PostGIS."""
    from hazards.versions import versions

    data = versions(database=not no_db)
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, words=False)  # package names: names, not words
