"""The ``hazards db`` commands: the embedded PostGIS cluster, its URL and the schema."""

from __future__ import annotations

import click

from hazards.cli._common import CommandGroup, echo_json, echo_mapping, json_option
from hazards.errors import HazardsError


@click.group("db", cls=CommandGroup)
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
