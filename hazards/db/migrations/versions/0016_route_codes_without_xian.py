"""route codes stored with their word 线 (X004线) become the codes they are (X004)

Since ``hazards.vocabulary.normalise_code`` reads ``X004线`` as ``X004`` (a Chinese route code's
word 线, line), a route or crash stored before with the word could no longer be named: every
command reads its input without it. Routes are renamed X004; one whose plain code another
route of its admin code has already becomes ``X004-2`` (the next free number: how a road load
names a second route of one code), so that it can still be named and renamed. Aliases follow
their routes; an alias written with 线 is stored without it (dropped when that is a route's
code or another alias: it is read so already). Crashes' route codes likewise. The downgrade
leaves the codes as they are now.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 19:50:00.000000
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# hazards.vocabulary.CHINESE_CODE followed by 线
_WITH_XIAN = r"^[GSXYCZ][0-9]{3}([0-9]{6})?([A-Z]|-[0-9]{1,2})?线$"


def upgrade() -> None:
    conn = op.get_bind()
    taken = {
        (a, c)
        for a, c in conn.execute(sa.text("SELECT admin_code, route_code FROM roads")).all()
    }
    renamed: dict[tuple[str, str], str] = {}
    rows = conn.execute(
        sa.text("SELECT id, admin_code, route_code FROM roads WHERE route_code ~ :p ORDER BY id"),
        {"p": _WITH_XIAN},
    ).all()
    for rid, admin, code in rows:
        new, n = code[:-1], 2
        while (admin, new) in taken:
            new, n = f"{code[:-1]}-{n}", n + 1
        taken.discard((admin, code))
        taken.add((admin, new))
        renamed[(admin, code)] = new
        conn.execute(sa.text("UPDATE roads SET route_code = :c WHERE id = :i"), {"c": new, "i": rid})
    for (admin, old), new in renamed.items():
        conn.execute(
            sa.text(
                "UPDATE route_aliases SET route_code = :new WHERE admin_code = :a AND route_code = :old"
            ),
            {"new": new, "a": admin, "old": old},
        )
    aliases = {
        (a, x)
        for a, x in conn.execute(sa.text("SELECT admin_code, alias FROM route_aliases")).all()
    }
    for admin, alias in sorted(aliases):
        if re.match(_WITH_XIAN, alias):
            plain = alias[:-1]
            if (admin, plain) in taken or (admin, plain) in aliases:
                conn.execute(
                    sa.text("DELETE FROM route_aliases WHERE admin_code = :a AND alias = :x"),
                    {"a": admin, "x": alias},
                )
            else:
                conn.execute(
                    sa.text(
                        "UPDATE route_aliases SET alias = :p WHERE admin_code = :a AND alias = :x"
                    ),
                    {"p": plain, "a": admin, "x": alias},
                )
                aliases.add((admin, plain))
    conn.execute(
        sa.text("UPDATE crashes SET route_code = left(route_code, -1) WHERE route_code ~ :p"),
        {"p": _WITH_XIAN},
    )


def downgrade() -> None:
    pass  # the codes stay as they are: the program before read them as stored
