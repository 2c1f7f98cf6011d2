"""crash records (issue 17)

- ``crashes``: one row per crash of a police record, keyed by (admin_code, source, crash_id)
  (docs/crashes.md; the key includes ``admin_code``, tests/test_schema_rules.py). Readable by
  staff and all to admins through migration 0005's default privileges; engineers import
  crashes, so they may insert and update them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WRITERS = ("hazards_engineer",)
"""The groups (migration 0005) that import crashes; admins have every privilege already."""


def _existing_roles() -> list[str]:
    bind = op.get_bind()
    return [
        r
        for (r,) in bind.execute(
            sa.text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:r)"), {"r": list(WRITERS)}
        )
    ]


def upgrade() -> None:
    op.create_table(
        "crashes",
        sa.Column("admin_code", sa.String(length=32), server_default="", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("crash_id", sa.Text(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("occurred_time", sa.Time(), nullable=True),
        sa.Column("fatalities", sa.Integer(), nullable=True),
        sa.Column("injuries", sa.Integer(), nullable=True),
        sa.Column("serious_injuries", sa.Integer(), nullable=True),
        sa.Column("minor_injuries", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=1), nullable=True),
        sa.Column("crash_type", sa.Text(), nullable=True),
        sa.Column("weather", sa.Text(), nullable=True),
        sa.Column("light", sa.Text(), nullable=True),
        sa.Column("route_code", sa.Text(), nullable=True),
        sa.Column("road_id", sa.Integer(), nullable=True),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("part", sa.Integer(), nullable=True),
        sa.Column("chainage_m", sa.Float(), nullable=True),
        sa.Column("snap_distance_m", sa.Float(), nullable=True),
        sa.Column("match_method", sa.String(length=16), nullable=True),
        sa.Column("junction", sa.Text(), nullable=True),
        sa.Column("junction_lon", sa.Float(), nullable=True),
        sa.Column("junction_lat", sa.Float(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content_hash", sa.String(length=40), nullable=False),
        sa.Column(
            "warnings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "severity IN ('K', 'A', 'B', 'C', 'O')", name=op.f("ck_crashes_severity")
        ),
        sa.PrimaryKeyConstraint("admin_code", "source", "crash_id", name=op.f("pk_crashes")),
    )
    op.create_index("ix_crashes_geom", "crashes", ["geom"], postgresql_using="gist")
    op.create_index("ix_crashes_admin_code_route_code", "crashes", ["admin_code", "route_code"])
    op.create_index("ix_crashes_occurred_on", "crashes", ["occurred_on"])
    roles = _existing_roles()
    if roles:
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON crashes TO {', '.join(roles)}")


def downgrade() -> None:
    op.drop_index("ix_crashes_occurred_on", table_name="crashes")
    op.drop_index("ix_crashes_admin_code_route_code", table_name="crashes")
    op.drop_index("ix_crashes_geom", table_name="crashes", postgresql_using="gist")
    op.drop_table("crashes")
