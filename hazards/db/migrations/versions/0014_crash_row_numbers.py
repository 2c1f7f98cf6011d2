"""a crash numbered by its sheet's 序号 is known by that number and its day

Before, a crash file's 序号 column (the rows' numbers, which start again from 1 in every sheet,
file or section) was taken as the crash's id, so the crashes of another year's sheet overwrote
this year's with the same numbers. A crash without an id of its own (事故编号, 案件编号, ...)
is now known by its day and its number (``2025-03-07#3``, hazards.crashes). The crashes stored
before are given the same ids: those whose id is their row's 序号/行号/No. cell and whose row
has no id column. (A file imported with ``--map crash_id=序号`` looks the same and is
renamed too.) The crashes' ``raw`` cells and ``warnings``, stored as JSON text inside the jsonb
column (a string), are made the object and list they say.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# a header as hazards.crashes._norm compares it (NFKC aside): lower case, without spaces,
# underscores, dashes and brackets
_NORM = "lower(regexp_replace({}, '[[:space:]_()（）-]+', '', 'g'))"
_NUMBERS = "('序号', '行号', 'no')"
_IDS = "('事故编号', '案件编号', '事故编码', '编号', 'crashid', 'id', 'caseno', 'stcase')"


def upgrade() -> None:
    # Stored until now as JSON text inside jsonb (a string, not an object): made what they say.
    for column in ("raw", "warnings"):
        op.execute(
            f"UPDATE crashes SET {column} = ({column} #>> '{{}}')::jsonb "
            f"WHERE jsonb_typeof({column}) = 'string'"
        )
    op.execute(
        f"""
        UPDATE crashes c SET crash_id = c.occurred_on::text || '#' || c.crash_id
        WHERE c.occurred_on IS NOT NULL AND c.crash_id !~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}#'
          AND EXISTS (SELECT 1 FROM jsonb_each_text(c.raw) e
                      WHERE {_NORM.format("e.key")} IN {_NUMBERS} AND e.value = c.crash_id)
          AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(c.raw) k
                          WHERE {_NORM.format("k")} IN {_IDS})
        """
    )


def downgrade() -> None:
    # the number alone again, where no other crash of the source holds it
    op.execute(
        """
        UPDATE crashes c SET crash_id = split_part(c.crash_id, '#', 2)
        WHERE c.crash_id ~ '^\\d{4}-\\d{2}-\\d{2}#[^#]+$'
          AND NOT EXISTS (SELECT 1 FROM crashes o WHERE o.admin_code = c.admin_code
                          AND o.source = c.source AND o.crash_id = split_part(c.crash_id, '#', 2))
        """
    )
