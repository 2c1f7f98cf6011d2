"""hazards fillfactor 40: room on each page so score and tier updates stay HOT

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 12:15:00.000000

``tiers compute`` rewrites score, tier, risk and cost estimate of every hazard. None of these
columns is indexed, so PostgreSQL can update a row in place on its page (a HOT update, no index
entries) when the page has room for the new version; on full pages every update also inserts
into all five indexes of ``hazards`` (the GiST one most costly), which made the step grow faster
than the table. With fillfactor 40 a freshly imported page keeps room for a new version of each
of its rows (a scored row is about 1.2 times an imported one). The setting applies to pages
written from now on; existing tables are not rewritten (``VACUUM FULL hazards`` does that).
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE hazards SET (fillfactor = 40)")


def downgrade() -> None:
    op.execute("ALTER TABLE hazards RESET (fillfactor)")
