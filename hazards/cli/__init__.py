"""The ``hazards`` command: parses arguments, calls the library's step verbs, prints.

Exit codes: 0 success; 1 bad input or a refused operation (the message says what, where and
how to fix it, and which option or argument it is about); 2 usage error.

One module per command group: :mod:`~hazards.cli.db`, :mod:`~hazards.cli.roads`,
:mod:`~hazards.cli.chainage`, :mod:`~hazards.cli.survey` (survey, review, list), :mod:`~hazards.cli.tiers` (tiers,
costs, risk), :mod:`~hazards.cli.plans` (plan, batch, export, import),
:mod:`~hazards.cli.tracking` (status, history, recheck, progress), :mod:`~hazards.cli.maps`,
:mod:`~hazards.cli.demo` and :mod:`~hazards.cli.versions`; what they share is in
:mod:`~hazards.cli._common`. Importing them is cheap: each command imports the library (and
SQLAlchemy, geopandas, rich...) only when it runs, so ``hazards --help`` stays fast; and the
top group imports a command's module only when that command is asked for (:data:`COMMANDS`),
so ``hazards chainage locate`` does not read the other eight.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from hazards import __version__
from hazards.cli._common import HazardsGroup
from hazards.collector import before_exit

__all__ = ["COMMANDS", "cli", "main"]

COMMANDS: dict[str, tuple[str, str]] = {
    "show-versions": ("versions", "show_versions_cmd"),
    "db": ("db", "db"),
    "roads": ("roads", "roads"),
    "chainage": ("chainage", "chainage"),
    "survey": ("survey", "survey"),
    "list": ("survey", "list_cmd"),
    "review": ("survey", "review"),
    "tiers": ("tiers", "tiers"),
    "costs": ("tiers", "costs"),
    "plan": ("plans", "plan_group"),
    "risk": ("tiers", "risk"),
    "status": ("tracking", "status_group"),
    "history": ("tracking", "history_cmd"),
    "recheck": ("tracking", "recheck"),
    "progress": ("tracking", "progress_cmd"),
    "report": ("report", "report_cmd"),
    "batch": ("plans", "batch_group"),
    "export": ("plans", "export_group"),
    "import": ("plans", "import_group"),
    "demo": ("demo", "demo"),
    "map": ("maps", "map_group"),
    "users": ("users", "users"),
    "crashes": ("crashes", "crashes"),
    "screen": ("crashes", "screen_cmd"),
    "evaluate": ("crashes", "evaluate_cmd"),
}
"""The top-level commands: name → (module of :mod:`hazards.cli`, attribute), in the order they
were added. ``tests/test_cli.py`` checks each name against its command's own."""


class _TopGroup(HazardsGroup):
    """:class:`HazardsGroup` whose commands (:data:`COMMANDS`) are imported on first use:
    looking one up loads its module only; listing them (``--help``) or reading ``commands``
    loads them all."""

    _commands: dict[str, click.Command]

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        if any(name not in self._commands for name in COMMANDS):
            loaded, self._commands = self._commands, {}
            for name in COMMANDS:
                self._commands[name] = loaded.get(name) or _load(name)
            self._commands.update(loaded)
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands = value

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self._commands:
            self._commands[cmd_name] = _load(cmd_name)
        return self._commands.get(cmd_name)


def _load(name: str) -> Any:
    module, attr = COMMANDS[name]
    return getattr(importlib.import_module(f"hazards.cli.{module}"), attr)


@click.group(cls=_TopGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="hazards")
def cli() -> None:
    """Road-hazard inventory: roads and chainage in PostGIS, surveys, tiers, batches, maps.

    With no HAZARDS_DATABASE_URL set, commands that need the database start a private
    PostgreSQL + PostGIS cluster under HAZARDS_HOME (default ./.hazards) and reuse it.
    """


def main() -> None:
    """The console script ``hazards`` (setup.cfg's entry point).

    However the command ends, what it leaves is frozen before the interpreter exits
    (:func:`hazards.collector.before_exit`): about 0.1 s less for every command.
    """
    try:
        cli(prog_name="hazards")
    finally:
        before_exit()
