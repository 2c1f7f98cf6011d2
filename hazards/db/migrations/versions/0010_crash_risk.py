"""crash-informed risk and before/after evaluation (issue 17): no schema change

Crash history's reason for a tier is kept in the hazard's ``risk`` (jsonb: ``crash`` and
``base_tier``, written by ``tiers compute``), and the evaluation reads the hazards' events and
the crashes as they are, so this revision changes nothing; it keeps the revision chain.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:41:00.000000
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
