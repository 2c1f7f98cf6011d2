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

from hazards.db.migrations.completion import remake_completion_function

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    remake_completion_function(history="hazard_events")  # hazard_history: migration 0018


def downgrade() -> None:
    pass  # the function keeps reading the batches of committed plans only
