"""The contractors' completion function (defined in migration 0005) made again from its
definition of today: for a migration that changes a rule the function reads
(:mod:`hazards.db.sql`), so that an upgraded database runs what a new one does."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def roles_migration() -> ModuleType:
    """Migration 0005, where the roles, their policies' rules and the completion function are
    defined (its module name starts with a digit: loaded from its file)."""
    path = Path(__file__).with_name("versions") / "0005_roles.py"
    spec = importlib.util.spec_from_file_location("hazards_migration_0005_roles", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def remake_completion_function(*, history: str | None = None) -> None:
    """``CREATE OR REPLACE`` the completion function, in the migration's transaction.
    ``history``: the table or view it reads a hazard's events from instead of today's
    ``hazard_history`` (the downgrade of migration 0018, which drops the view)."""
    from alembic import op

    roles = roles_migration()
    function = roles.COMPLETION_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    if history is not None:
        function = function.replace("hazard_history", history)
    op.execute(function.format(schema=roles._schema()))
