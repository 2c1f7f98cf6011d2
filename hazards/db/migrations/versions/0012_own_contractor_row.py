"""every login may read its own row of ``user_contractors``: viewers, engineers and planners too

Migration 0005 gave ``SELECT`` on ``user_contractors`` to contractors and admins only, although
its row-level security policy (``user_contractors_own``) already limits every login to its own
row. ``hazards users whoami`` and an engineer's ``hazards import completion`` read that row
(``hazards.db.store.completions.connected_user``: is this login a contractor?), and were
refused ("permission denied for table user_contractors") for viewers, engineers and planners.
The policy still shows each of them its own row only (none: they are no contractor).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 13:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

STAFF = "hazards_viewer, hazards_engineer, hazards_planner"


def upgrade() -> None:
    op.execute(f"GRANT SELECT ON user_contractors TO {STAFF}")


def downgrade() -> None:
    op.execute(f"REVOKE SELECT ON user_contractors FROM {STAFF}")
