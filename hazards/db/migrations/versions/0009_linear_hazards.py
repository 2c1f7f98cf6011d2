"""linear hazards (issue 18)

- ``hazards.from_m`` / ``hazards.to_m``: the chainage range of a linear hazard (a guardrail
  run, a section without markings), NULL for a point hazard; ``chainage_m`` stays the point
  used for snapping, cells and duplicates (docs/survey.md, "Linear hazards").
- ``hazards.extent``: the run along the route between the two chainages, a LineString in
  EPSG:4326 like every stored geometry (cut from the route's segments in the working CRS with
  ``ST_LineSubstring``, see ``hazards.db.store.extents.set_extents``).
- A CHECK keeps the range ordered and both ends given together.
- Contractors read hazards column by column (migration 0005): they may read the new ones.

Survey photos need no column: ``hazards.photo`` exists since 0001.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CONTRACTOR = "hazards_contractor"
"""The group (migration 0005) that reads hazards column by column: granted the new columns."""


def upgrade() -> None:
    op.add_column("hazards", sa.Column("from_m", sa.Float(), nullable=True))
    op.add_column("hazards", sa.Column("to_m", sa.Float(), nullable=True))
    op.add_column(
        "hazards",
        sa.Column(
            "extent",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
    )
    op.create_index("ix_hazards_extent", "hazards", ["extent"], postgresql_using="gist")
    bind = op.get_bind()
    if bind.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": CONTRACTOR}
    ).first():
        op.execute(f"GRANT SELECT (from_m, to_m, extent) ON hazards TO {CONTRACTOR}")
    op.create_check_constraint(
        op.f("ck_hazards_linear_range"),
        "hazards",
        "(from_m IS NULL) = (to_m IS NULL) AND (from_m IS NULL OR from_m <= to_m)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_hazards_linear_range"), "hazards", type_="check")
    op.drop_index("ix_hazards_extent", table_name="hazards", postgresql_using="gist")
    op.drop_column("hazards", "extent")
    op.drop_column("hazards", "to_m")
    op.drop_column("hazards", "from_m")
