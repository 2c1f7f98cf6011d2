"""traffic volumes for the crash screening (issue 17): ``road_segments.aadt``

- ``road_segments.aadt``: the annual average daily traffic (vehicles a day) of the road-file
  feature the segment came from, NULL when the file maps no AADT field or the value was not a
  number above 0. Kept per segment, not per route, because traffic changes along a route (a
  road file gives one value per section between count stations); the Empirical Bayes
  screening's safety performance function reads a site's length-weighted AADT from the
  segments it covers (docs/crashes.md, "Empirical Bayes").

Crash history's reason for a tier is kept in the hazard's ``risk`` (jsonb: ``crash`` and
``base_tier``, written by ``tiers compute``), and the evaluation reads the hazards' events and
the crashes as they are: no other change.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:41:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("road_segments", sa.Column("aadt", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("road_segments", "aadt")
