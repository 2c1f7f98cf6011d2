"""plans and batches stored without a county code take the code of the county whose hazards they fund

Plans and batches are now stored under the code of the county that made them (the
``admin_code`` setting), and a plan or batch named is looked up among the county's; until now
every plan was stored without one. A plan (with its batches) stored without a code whose
hazards are all of one county (on that county's roads, or on none and stored under its code)
gets that county's code; so does every plan and batch without a code in a database whose
roads are all one county's (migration 0019 gave a one-county database's roads the code), a
plan funding no hazard included. A plan whose name (or one of whose batches' names) the
county uses already keeps no code, as does a plan of hazards of several counties; `hazards
roads adopt-code` gives the plans stored without a code a code. The downgrade stores the plans
and batches without a code again when they all carry one code (the earlier version wrote them
so, and read them whatever their code); with several codes they stay as they are, and the
earlier version reads a name that two counties use as two plans (it then refuses to show
either: drop or rename one first).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# Each plan stored without a code (a batch of no plan is its own group, by its negated id) and
# the county codes of its hazards, as hazards.db.sql.COUNTY_HAZARD reads them.
_GROUPS = """
    SELECT coalesce(b.plan_id, -b.id) AS grp,
           array_agg(DISTINCT coalesce(r.admin_code, h.admin_code)) AS codes
    FROM batches b JOIN batch_items bi ON bi.batch_id = b.id
    JOIN hazards h ON h.id = bi.hazard_id LEFT JOIN roads r ON r.id = h.road_id
    WHERE b.admin_code = '' GROUP BY 1
"""

_CLASH = """
    SELECT 1 FROM plans p WHERE p.id = :grp AND EXISTS (
        SELECT 1 FROM plans o WHERE o.name = p.name AND o.admin_code = :code)
    UNION ALL
    SELECT 1 FROM batches b WHERE (b.plan_id = :grp OR (b.plan_id IS NULL AND b.id = -:grp))
      AND EXISTS (
        SELECT 1 FROM batches o WHERE o.name = b.name AND o.admin_code = :code)
"""


def _move(conn: sa.Connection, grp: int, code: str) -> None:
    params = {"grp": grp, "code": code}
    if conn.execute(sa.text(_CLASH), params).first() is not None:
        return
    conn.execute(sa.text("UPDATE plans SET admin_code = :code WHERE id = :grp"), params)
    conn.execute(
        sa.text(
            "UPDATE batches SET admin_code = :code "
            "WHERE plan_id = :grp OR (plan_id IS NULL AND id = -:grp)"
        ),
        params,
    )


def upgrade() -> None:
    conn = op.get_bind()
    for grp, codes in conn.execute(sa.text(_GROUPS)).all():
        if len(codes) == 1 and codes[0]:
            _move(conn, int(grp), str(codes[0]))
    roads = set(conn.execute(sa.text("SELECT DISTINCT admin_code FROM roads")).scalars())
    if len(roads) == 1 and "" not in roads:  # one county's database: its plans, funding or not
        code = str(roads.pop())
        rest = conn.execute(
            sa.text(
                "SELECT id FROM plans WHERE admin_code = '' UNION "
                "SELECT -id FROM batches WHERE admin_code = '' AND plan_id IS NULL"
            )
        ).scalars()
        for grp in list(rest):
            _move(conn, int(grp), code)


def downgrade() -> None:
    conn = op.get_bind()
    codes = set(
        conn.execute(
            sa.text("SELECT admin_code FROM plans UNION SELECT admin_code FROM batches")
        ).scalars()
    )
    if len(codes) == 1 and "" not in codes:
        for table in ("plans", "batches"):
            conn.execute(sa.text(f"UPDATE {table} SET admin_code = ''"))  # noqa: S608
