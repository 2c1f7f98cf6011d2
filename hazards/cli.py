"""The ``hazards`` command: parses arguments, calls the library, prints.

Exit codes: 0 success; 1 bad input or a refused operation (the message says what, where and
how to fix it); 2 usage error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

import hazards
from hazards.errors import HazardsError


class HazardsGroup(click.Group):
    """A group that turns library errors into a clean message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HazardsError as exc:
            raise click.ClickException(exc.message) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table."
    )(f)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def echo_mapping(data: dict[str, Any], *, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(str(key), "" if value is None else str(value))
    Console().print(table)


@click.group(cls=HazardsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(hazards.__version__, "--version", "-V", prog_name="hazards")
def cli() -> None:
    """Road-hazard inventory: roads and chainage in PostGIS, surveys, tiers, batches, maps.

    With no HAZARDS_DATABASE_URL set, commands that need the database start a private
    PostgreSQL + PostGIS cluster under HAZARDS_HOME (default ./.hazards) and reuse it.
    """


# --------------------------------------------------------------------------- versions
@cli.command("show-versions")
@click.option("--no-db", is_flag=True, help="Skip the database (PostgreSQL/PostGIS) versions.")
@json_option
def show_versions_cmd(no_db: bool, as_json: bool) -> None:
    """Print versions of Python, the libraries, GDAL/PROJ/GEOS, PostgreSQL and PostGIS."""
    from hazards.versions import versions

    data = versions(database=not no_db)
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data)


# --------------------------------------------------------------------------- db
@cli.group("db", cls=HazardsGroup)
def db() -> None:
    """Manage the database: the embedded PostGIS cluster, its URL and the schema."""


@db.command("up")
@json_option
def db_up(as_json: bool) -> None:
    """Start the embedded cluster (made on first use) and apply pending migrations."""
    from hazards.db import admin

    data = admin.up()
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title="database")


@db.command("down")
def db_down() -> None:
    """Stop the embedded cluster (its data stays under HAZARDS_HOME)."""
    from hazards.db import admin
    from hazards.settings import get_settings

    if get_settings().database_url:
        raise HazardsError(
            "HAZARDS_DATABASE_URL is set: that server is not managed by hazards, so there is "
            "nothing to stop. Unset it to manage the embedded database."
        )
    click.echo("Stopped." if admin.down() else "The embedded database was not running.")


@db.command("status")
@click.option(
    "--no-start", is_flag=True, help="Only report; do not restart an embedded server that is down."
)
@json_option
def db_status(no_start: bool, as_json: bool) -> None:
    """Show where the database is, whether it runs, and its versions.

    An embedded server that died (kill -9, reboot) is started again, unless it was stopped
    with `hazards db down` or --no-start is given.
    """
    from hazards.db import admin

    data = admin.status(start=not no_start)
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title="database")


@db.command("url")
@click.option("--hide-password", is_flag=True, help="Print the URL with the password masked.")
def db_url(hide_password: bool) -> None:
    """Print the database URL (for psql, QGIS or HAZARDS_DATABASE_URL elsewhere)."""
    from hazards.db import admin

    click.echo(admin.url(hide_password=hide_password))


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations (also done automatically on first use)."""
    from hazards.db import admin

    before, after = admin.upgrade()
    if before == after:
        click.echo(f"Schema already at {after}.")
    else:
        click.echo(f"Schema migrated from {before or 'empty'} to {after}.")


# --------------------------------------------------------------------------- demo
@cli.command("demo")
@json_option
def demo(as_json: bool) -> None:
    """Run the main job on the sample county (for now: start the database and show it)."""
    from hazards.db import admin

    data = admin.up()
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title="hazards demo: database")


def main() -> None:
    cli(prog_name="hazards")


if __name__ == "__main__":
    main()
