"""route codes stored with their word 线 (X004线) become the codes they are (X004)

Since ``hazards.vocabulary.normalise_code`` reads ``X004线`` as ``X004`` (a Chinese route code's
word 线, line), a route or crash stored before with the word could no longer be named: every
command reads its input without it. Routes are renamed where no route of the same admin code
has the plain code already (such a pair is left for `hazards roads rename`); crashes' route
codes likewise. The downgrade leaves the codes as they are now.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 19:50:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# hazards.vocabulary.CHINESE_CODE followed by 线
_WITH_XIAN = r"'^[GSXYCZ][0-9]{3}([0-9]{6})?([A-Z]|-[0-9]{1,2})?线$'"


def upgrade() -> None:
    op.execute(
        f"""
        UPDATE roads r SET route_code = left(r.route_code, -1)
        WHERE r.route_code ~ {_WITH_XIAN}
          AND NOT EXISTS (SELECT 1 FROM roads o WHERE o.admin_code = r.admin_code
                          AND o.route_code = left(r.route_code, -1))
        """
    )
    op.execute(
        f"UPDATE crashes SET route_code = left(route_code, -1) WHERE route_code ~ {_WITH_XIAN}"
    )


def downgrade() -> None:
    pass  # the codes stay as they are: the program before read them as stored
