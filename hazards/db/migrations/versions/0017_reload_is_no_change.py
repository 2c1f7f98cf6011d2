"""a road reload that moved a hazard nowhere is no change of it: the completion function again

``hazards.db.sql.LAST_CHANGE_ON`` (a hazard's last change, before which no new change may be
dated) now leaves out the network's own bookkeeping events (``road_reload``, ``route_renamed``)
that left the hazard's status as it was, so that a contractor's report dated before next year's
network load is not refused as "before its last change". The contractors' completion function
(migration 0005) reads the last change with it, and is made again from the same definition, as
migration 0015 did. The downgrade leaves it as it is now.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 04:40:00.000000
"""

from __future__ import annotations

from hazards.db.migrations.completion import remake_completion_function

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    remake_completion_function(history="hazard_events")  # hazard_history: migration 0018


def downgrade() -> None:
    pass  # the function keeps leaving the network's bookkeeping out of a hazard's last change
