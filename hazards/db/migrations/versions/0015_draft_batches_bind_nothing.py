"""a draft plan's batches take no hazard from its batch: the completion function again

``hazards.db.sql.latest_batch`` now counts only batches of committed plans (a draft binds
nothing), so a draft plan that includes a reopened hazard no longer makes its contractor's
report of the batch it is in refused ("belongs to batch d1-3"). The contractors' completion
function (migration 0005) reads a hazard's batch with it, and is made again from the same
definition. The downgrade leaves it as it is now.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 17:30:00.000000
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _roles() -> ModuleType:
    """Migration 0005, where the completion function is defined (its module name starts with a
    digit: loaded from its file)."""
    path = Path(__file__).with_name("0005_roles.py")
    spec = importlib.util.spec_from_file_location("hazards_migration_0005_roles", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    roles = _roles()
    function = roles.COMPLETION_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    op.execute(function.format(schema=roles._schema()))


def downgrade() -> None:
    pass  # the function keeps reading the batches of committed plans only
