"""one writer at a time, one hazard per survey row (issue 16)

- ``writer_locks``: who holds a writer's advisory lock (survey import, road load, plan commit;
  ``hazards.db.store.locks``), so that a second writer can say what it waits for. Written by
  the writers themselves: engineers and planners may insert and update it.
- ``hazards``: UNIQUE (admin_code, survey_id, source_line): one hazard per survey row.
- ``surveys``: the same bytes read with the same options are one survey (a unique index, but
  for corrections).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WRITERS = ("hazards_engineer", "hazards_planner")
"""The groups (migration 0005) whose writers record themselves in ``writer_locks``; admins
have every privilege on new tables already (0005's default privileges)."""


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
        "writer_locks",
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("subject", "pid", name=op.f("pk_writer_locks")),
    )
    op.create_unique_constraint(
        op.f("uq_hazards_admin_code_survey_id_source_line"),
        "hazards",
        ["admin_code", "survey_id", "source_line"],
    )
    op.create_index(
        "uq_surveys_file",
        "surveys",
        ["admin_code", "sha256", "options"],
        unique=True,
        postgresql_where=sa.text("corrects_id IS NULL"),
    )
    roles = _existing_roles()
    if roles:
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON writer_locks TO {', '.join(roles)}")


def downgrade() -> None:
    op.drop_index("uq_surveys_file", table_name="surveys")
    op.drop_constraint(
        op.f("uq_hazards_admin_code_survey_id_source_line"), "hazards", type_="unique"
    )
    op.drop_table("writer_locks")
