"""What every command module shares: the groups that map library errors to CLI errors (with
the flag that caused them), ``--json``, and the printers of mappings and tables.

Only click is imported here: rich, and the library modules, are imported inside the functions
that use them, so that ``hazards --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from hazards.errors import HazardsError

PARAM_ALIASES: dict[str, str] = {
    "starts_on": "start",
    "due_on": "due",
    "tiers": "tier_list",
    "expected_versions": "expect_version",
    "path": "output",
}
"""Library keyword → name of the click parameter that sets it, where the two differ (the names
that are equal, e.g. ``budget``, ``to``, ``road_class`` for ``--class``, ``mapping`` for
``--map``, need no entry). The exact name is tried first: ``path`` is a command's PATH argument
where it has one, else its ``-o/--output``."""

_WHERE = "hazards_cli_param"
"""Attribute a command sets on a :class:`HazardsError` it lets through: which of its
parameters the error is about (e.g. ``option --budget``)."""


def describe_param(command: click.Command, keyword: str | None) -> str | None:
    """The flag (``option --budget``) or argument (``argument REFS...``) of ``command`` that
    sets the library keyword ``keyword``; None when the command has no such parameter."""
    if not keyword:
        return None
    by_name = {p.name: p for p in command.params}
    param = by_name.get(keyword) or by_name.get(PARAM_ALIASES.get(keyword, ""))
    if param is None:
        return None
    if isinstance(param, click.Option):
        return "option " + "/".join(param.opts)
    return "argument " + param.human_readable_name


class HazardsCommand(click.Command):
    """A command that marks the library errors it raises with the parameter they are about."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HazardsError as exc:
            if getattr(exc, _WHERE, None) is None:
                setattr(exc, _WHERE, describe_param(self, exc.param))
            raise


class CommandGroup(click.Group):
    """A group of :class:`HazardsCommand` commands (errors go up to the top group)."""

    command_class: type[click.Command] | None = HazardsCommand
    group_class: type[click.Group | type] | None = type  # subgroups are of this class too


class HazardsGroup(CommandGroup):
    """The top group: turns library errors into a clean message and exit code 1.

    The message is the library's; when the error is about one argument (``exc.param``), the
    flag that sets it is added, e.g. ``Error: The budget -5 is negative; give an amount ≥ 0.
    (option --budget)``.
    """

    group_class = CommandGroup

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HazardsError as exc:
            where = getattr(exc, _WHERE, None)
            raise click.ClickException(
                f"{exc.message} ({where})" if where else exc.message
            ) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--json`` flag (parameter ``as_json``) of every command that reports."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table."
    )(f)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (dates and other objects as strings)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def echo_mapping(data: dict[str, Any], *, title: str | None = None) -> None:
    """Print a mapping as a two-column key/value table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(str(key), "" if value is None else str(value))
    Console().print(table)


def echo_table(rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    """Print ``rows`` as a table of ``columns`` (floats to one decimal), titled with the count."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title} ({len(rows)})")
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(
            *(
                ""
                if r.get(c) is None
                else (f"{r[c]:.1f}" if isinstance(r[c], float) else str(r[c]))
                for c in columns
            )
        )
    Console().print(table)


def with_chainage(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add a ``chainage`` text (K12+350) to each row and shorten long descriptions, for tables."""
    from hazards.chainage import format_chainage

    for r in rows:
        r["chainage"] = format_chainage(r["chainage_m"]) if r.get("chainage_m") is not None else ""
        if r.get("description") and len(r["description"]) > 40:
            r["description"] = r["description"][:39] + "…"
    return rows
