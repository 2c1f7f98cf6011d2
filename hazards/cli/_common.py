"""What every command module shares: the groups that map library errors to CLI errors (with
the flag that caused them), ``--json``, and the printers of mappings and tables.

Only click is imported here: rich, and the library modules, are imported inside the functions
that use them, so that ``hazards --help`` stays fast.
"""

from __future__ import annotations

import json
import math
import re
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
                plain(f"{exc.message} ({where})" if where else exc.message)
            ) from None
        except OSError as exc:
            if exc.filename is None or isinstance(exc, InterruptedError):
                raise
            # a file or folder the system refused (a folder given as a file, no permission,
            # a disk full): one line naming it, not a traceback
            where = getattr(exc, _WHERE, None)
            fix = _OS_FIX.get(type(exc), "check the path")
            raise click.ClickException(
                plain(f"{exc.filename}: {exc.strerror or exc}; {fix}.")
                + (f" ({where})" if where else "")
            ) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


_OS_FIX: dict[type[OSError], str] = {
    IsADirectoryError: "it is a folder: give a file name",
    NotADirectoryError: "a part of the path is a file, not a folder",
    PermissionError: "give a path you may write to, or ask for the rights",
    FileNotFoundError: "check the path",
    FileExistsError: "a file of that name is in the way",
}


_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clear screen
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS, PM, APC, SOS strings
    r"|\x1b.?"  # any other escape
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"  # C0, C1, bidi overrides
)


def plain(value: Any) -> str:
    """``value`` as text safe for a terminal: escape sequences and control characters removed
    (tab and newline kept). For text printed with ``click.echo``."""
    text = "" if value is None else str(value)
    return _ESCAPES.sub("", text) if not text.isprintable() else text


def safe(value: Any) -> str:
    """``value`` as text safe to print through rich: :func:`plain`, and rich markup escaped
    (``[/x]`` and ``[link=…]`` print as they are written)."""
    from rich.markup import escape

    return escape(plain(value))


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--json`` flag (parameter ``as_json``) of every command that reports."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table."
    )(f)


def _finite(data: Any) -> Any:
    """``data`` with every NaN or infinite float replaced by None (JSON has no such numbers)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (dates and other objects as strings; a number that is
    not finite as null, so that the output is always valid JSON)."""
    click.echo(
        json.dumps(_finite(data), ensure_ascii=False, indent=2, default=str, allow_nan=False)
    )


def echo_mapping(data: dict[str, Any], *, title: str | None = None) -> None:
    """Print a mapping as a two-column key/value table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=safe(title) if title else None, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(safe(key), "" if value is None else safe(value))
    Console().print(table)


def echo_table(rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    """Print ``rows`` as a table of ``columns`` (floats to one decimal), titled with the count."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{safe(title)} ({len(rows)})")
    for c in columns:
        table.add_column(safe(c))
    for r in rows:
        table.add_row(
            *(
                ""
                if r.get(c) is None
                else (f"{r[c]:.1f}" if isinstance(r[c], float) else safe(r[c]))
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
