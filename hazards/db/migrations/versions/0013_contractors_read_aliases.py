"""contractors may read ``route_aliases``

The other names of route codes, nothing of anyone's work: ``hazards map road`` and ``roads
show`` resolve a route's code through it, and were refused for contractors ("permission
denied for table route_aliases"). (A revision of its own: databases may have 0012 already.)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 13:55:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("GRANT SELECT ON route_aliases TO hazards_contractor")


def downgrade() -> None:
    op.execute("REVOKE SELECT ON route_aliases FROM hazards_contractor")
