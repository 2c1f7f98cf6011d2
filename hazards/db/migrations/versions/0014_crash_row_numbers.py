"""a crash without an id of its own is known by its day, time and place

Before, a crash file's 序号 column (the rows' numbers, which start again from 1 in every sheet,
file or section) was taken as the crash's id, so the crashes of another year's sheet overwrote
this year's with the same numbers; and a row with no id column at all was known by a hash of
its cells, so a corrected casualty count made a second crash. A crash the sheet gives no id of
its own (事故编号, 案件编号, ...) is now known by its day, time and place
(``2025-03-07 14:20 X001 K0+100``, :func:`hazards.crashes.when_and_where`). The crashes stored
before are given the id an import gives their row now: those whose id was their row's
序号/行号/No. cell (also where the sheet had an English id column, which came after 序号 in the
old order) or a hash of their cells (``h:…``). Two that would share an id are told apart as an
import does (``…#2``). A file imported with ``--map crash_id=序号`` looks the same and is renamed
too. The downgrade leaves the ids as they are.

The crashes' ``raw`` cells and ``warnings``, stored as JSON text inside the jsonb column (a
string), are first made the object and list they say.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:00:00.000000
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("raw", "warnings"):
        op.execute(
            f"UPDATE crashes SET {column} = ({column} #>> '{{}}')::jsonb "
            f"WHERE jsonb_typeof({column}) = 'string'"
        )
    from hazards.crashes import parse_crash_rows, recognise_headers
    from hazards.errors import HazardsError

    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT admin_code, source, crash_id, raw FROM crashes "
            "ORDER BY admin_code, source, imported_at, crash_id"
        )
    ).all()
    taken = {(a, s, c) for a, s, c, _ in rows}
    for admin_code, source, old, raw in rows:
        if not isinstance(raw, dict):
            continue
        cells = {str(k): "" if v is None else str(v) for k, v in raw.items()}
        try:
            headers = recognise_headers(list(cells))
        except HazardsError:  # columns this version reads otherwise: left as they are
            continue
        number = headers.get("row_no")
        if not (old.startswith("h:") or (number is not None and cells.get(number) == old)):
            continue  # an id of its own (事故编号, or a column named with --map)
        (row,) = parse_crash_rows([dict(cells)], headers=headers, today=dt.date.max)
        new = row.crash_id
        if row.empty or not new or new == old:
            continue
        n, base = 2, new
        while (admin_code, source, new) in taken:
            new, n = f"{base}#{n}", n + 1
        conn.execute(
            sa.text(
                "UPDATE crashes SET crash_id = :new "
                "WHERE admin_code = :a AND source = :s AND crash_id = :old"
            ),
            {"new": new, "a": admin_code, "s": source, "old": old},
        )
        taken.discard((admin_code, source, old))
        taken.add((admin_code, source, new))


def downgrade() -> None:
    pass  # the ids stay as they are (the numbers alone would clash again)
