"""a leaner hazards table for survey imports (issue 20): the extent index holds linear hazards only

- ``ix_hazards_extent`` becomes partial (``WHERE extent IS NOT NULL``). Most hazards are points
  with no extent, and a GiST index still gets an entry for each of their NULLs: measured on the
  bench's 200,000-row survey, those entries were a quarter of the database's cost of an import
  (2.7 s of 11 s). A spatial condition on ``extent`` (``&&``, ``ST_DWithin``, ``ST_Intersects``)
  is never true for a NULL, so every such query can still use the index.

Bulk survey imports (``hazards.db.store.bulk``) need no schema change: they drop and re-create
the table's keys from the database's own definitions (docs/decisions.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 16:35:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_hazards_extent", table_name="hazards", postgresql_using="gist")
    op.create_index(
        "ix_hazards_extent",
        "hazards",
        ["extent"],
        postgresql_using="gist",
        postgresql_where=sa.text("extent IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_hazards_extent", table_name="hazards", postgresql_using="gist")
    op.create_index("ix_hazards_extent", "hazards", ["extent"], postgresql_using="gist")
