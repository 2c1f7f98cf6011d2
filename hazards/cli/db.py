"""The ``hazards db`` commands: the embedded PostGIS cluster, its URL and the schema."""

from __future__ import annotations

import click

from hazards.cli._common import CommandGroup, echo_json, echo_mapping, json_option, tr
from hazards.errors import HazardsError


@click.group("db", cls=CommandGroup)
def db() -> None:
    """Manage the database: the embedded PostGIS cluster, its URL and the schema.

    \b
    Examples:
      hazards db status
      hazards db backup -o 备份.dump
      hazards db down
    """


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
    if admin.down():
        click.echo(tr("Stopped.", "已停止。"))
    else:
        click.echo(tr("The embedded database was not running.", "内置数据库未在运行。"))


@db.command("status")
@click.option(
    "--no-start", is_flag=True, help="Only report; do not restart an embedded server that is down."
)
@json_option
def db_status(no_start: bool, as_json: bool) -> None:
    """Show where the database is, whether it runs, and its versions (password masked).

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
@click.option(
    "--as",
    "as_user",
    metavar="NAME",
    help="The URL of database user NAME (made with `hazards users add`) for this database.",
)
@click.option(
    "--show-password",
    is_flag=True,
    help="Print the password in the URL (it is masked as *** otherwise).",
)
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=str),
    help="With --as: a file whose first line is NAME's password, to put in the URL (masked as "
    "*** unless --show-password: a URL to use needs both).",
)
@click.option("--hide-password", is_flag=True, hidden=True, help="The default (kept for scripts).")
def db_url(
    as_user: str | None, show_password: bool, password_file: str | None, hide_password: bool
) -> None:
    """Print the database URL (for psql, QGIS or HAZARDS_DATABASE_URL elsewhere).

    The password is masked unless --show-password is given, e.g.
    `pg_dump "$(hazards db url --show-password)" -Fc -f hazards.dump`. With --as NAME, the
    URL of that user: PostgreSQL keeps only a hash of its password, so the URL has none
    (psql and QGIS ask for it) unless --password-file gives it; a login's URL to use, e.g.
    `export HAZARDS_DATABASE_URL="$(hazards db url --as NAME --password-file F --show-password)"`.
    """
    from hazards.db import admin

    password = None
    if password_file is not None:
        if as_user is None:
            raise click.UsageError("--password-file goes with --as NAME.")
        from hazards.users import read_password_file

        password = read_password_file(password_file)
    click.echo(
        admin.url(
            show_password=show_password and not hide_password, as_user=as_user, password=password
        )
    )


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations (also done automatically on first use)."""
    from hazards.db import admin

    before, after = admin.upgrade()
    if before == after:
        click.echo(tr(f"Schema already at {after}.", f"数据库结构已是 {after}。"))
    else:
        click.echo(
            tr(
                f"Schema migrated from {before or 'empty'} to {after}.",
                f"数据库结构已从 {before or '空'} 迁移到 {after}。",
            )
        )


@db.command("backup")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=str),
    help="The backup file to write (PostgreSQL custom format, e.g. hazards-2025-03-01.dump).",
)
@json_option
def db_backup(output: str, as_json: bool) -> None:
    """Back up the whole database (schema, data, grants, policies) with pg_dump.

    `hazards db restore FILE` reads it back into an empty database. Login roles are
    cluster-wide and not in the file (see docs/scaling.md).
    """
    from hazards.db import admin

    data = admin.backup(output)
    if as_json:
        echo_json(data)
    else:
        rows = sum(data["tables"].values())
        click.echo(
            tr(
                f"Backed up {rows} rows in {len(data['tables'])} tables (schema "
                f"{data['schema_revision']}) to {data['file']} ({data['bytes']:,} bytes).",
                f"已备份 {len(data['tables'])} 张表共 {rows} 行（结构版本 "
                f"{data['schema_revision']}）到 {data['file']}（{data['bytes']:,} 字节）。",
            )
        )


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@json_option
def db_restore(file: str, as_json: bool) -> None:
    """Restore FILE (made by `hazards db backup`) into the configured database, which must be
    empty: a new database named by HAZARDS_DATABASE_URL, or a new HAZARDS_HOME.

    All or nothing (one transaction); the role groups are made when missing; an older
    schema is migrated to head afterwards.
    """
    from hazards.db import admin

    data = admin.restore(file)
    if as_json:
        echo_json(data)
    else:
        rows = sum(data["tables"].values())
        click.echo(
            tr(
                f"Restored {rows} rows in {len(data['tables'])} tables into {data['database']} "
                f"(schema {data['schema_revision']}).",
                f"已将 {len(data['tables'])} 张表共 {rows} 行恢复到 {data['database']}"
                f"（结构版本 {data['schema_revision']}）。",
            )
        )


@db.group("working-crs", cls=CommandGroup, invoke_without_command=True)
@json_option
@click.pass_context
def db_working_crs(ctx: click.Context, as_json: bool) -> None:
    """The metric CRS lengths and chainages are measured in: show it, set it, or choose it
    again from the loaded network (auto). Without a subcommand: show (with --json, as JSON)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(db_working_crs_show, as_json=as_json)


@db_working_crs.command("show")
@json_option
def db_working_crs_show(as_json: bool) -> None:
    """The working CRS, the CRS the first roads came in, the setting, and what auto would pick."""
    from hazards.network import working_crs_info

    data = working_crs_info()
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title="working CRS")


@db_working_crs.command("set")
@click.argument("crs")
@json_option
def db_working_crs_set(crs: str, as_json: bool) -> None:
    """Make CRS (e.g. EPSG:4546, or auto: the zone of the network's centre) the working CRS.

    Every route's segment lengths and chainages, and every hazard's chainage, are measured
    again in it, in one transaction (nothing changes on an error).
    """
    from hazards.network import set_working_crs

    data = set_working_crs(crs)
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title="working CRS changed")


@db_working_crs.command("auto")
@json_option
def db_working_crs_auto(as_json: bool) -> None:
    """Choose the working CRS again from the loaded network (set auto) and re-measure."""
    from hazards.network import set_working_crs

    data = set_working_crs("auto")
    if as_json:
        echo_json(data)
    else:
        echo_mapping(data, title="working CRS changed")
