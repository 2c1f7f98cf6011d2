"""survey intake that never overwrites (issue 15): a survey is an import, not a file

The same bytes may be imported again with other options, so ``surveys.sha256`` is no longer
unique (an index instead); ``surveys.options`` records how the file was read and
``surveys.corrects_id`` the survey a correction applies to. ``hazard_events`` stays append-only,
except that ``survey drop`` (a survey nothing refers to) may delete the events of the hazards it
removes, inside its own transaction (``SET LOCAL hazards.dropping_survey = 'on'``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 11:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION hazard_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('hazards.dropping_survey', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'hazard_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""

ORIGINAL_FUNCTION = """
CREATE OR REPLACE FUNCTION hazard_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'hazard_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.drop_constraint(op.f("uq_surveys_sha256"), "surveys", type_="unique")
    op.create_index("ix_surveys_sha256", "surveys", ["sha256"])
    op.add_column(
        "surveys", sa.Column("options", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column("surveys", sa.Column("corrects_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_surveys_corrects_id_surveys"),
        "surveys",
        "surveys",
        ["corrects_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.execute(APPEND_ONLY_FUNCTION)


def downgrade() -> None:
    op.execute(ORIGINAL_FUNCTION)
    op.drop_constraint(op.f("fk_surveys_corrects_id_surveys"), "surveys", type_="foreignkey")
    op.drop_column("surveys", "corrects_id")
    op.drop_column("surveys", "options")
    op.drop_index("ix_surveys_sha256", table_name="surveys")
    op.create_unique_constraint(op.f("uq_surveys_sha256"), "surveys", ["sha256"])
