"""road networks from the real world (issue 14): class_raw, sections, the unknown class, aliases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 11:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OLD = "'national', 'provincial', 'county', 'township', 'village', 'special', 'other'"
_NEW = _OLD + ", 'unknown'"


def upgrade() -> None:
    op.add_column("roads", sa.Column("class_raw", sa.Text(), nullable=True))
    op.add_column("roads", sa.Column("sections", sa.Integer(), server_default="1", nullable=False))
    op.add_column(
        "road_segments", sa.Column("section", sa.Integer(), server_default="0", nullable=False)
    )
    op.drop_constraint(op.f("ck_roads_road_class"), "roads", type_="check")
    op.create_check_constraint(op.f("ck_roads_road_class"), "roads", f"road_class IN ({_NEW})")
    op.create_table(
        "route_aliases",
        sa.Column("admin_code", sa.String(length=32), server_default="", nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("route_code", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("admin_code", "alias", name=op.f("pk_route_aliases")),
    )


def downgrade() -> None:
    op.drop_table("route_aliases")
    op.execute("UPDATE roads SET road_class = 'other' WHERE road_class = 'unknown'")
    op.drop_constraint(op.f("ck_roads_road_class"), "roads", type_="check")
    op.create_check_constraint(op.f("ck_roads_road_class"), "roads", f"road_class IN ({_OLD})")
    op.drop_column("road_segments", "section")
    op.drop_column("roads", "sections")
    op.drop_column("roads", "class_raw")
