"""roads stored without a county code take the code of the county whose data is stored

Each county's road network is now stored under its code (the ``admin_code`` setting), as its
surveys, hazards and crashes were already; until now every road load stored its routes
without one. A database whose surveys, hazards and crashes carry one county code, and whose
routes none, is that county's: its routes, their segments and aliases get the code, so that
the county's commands still see its roads. Any other database is left as it is (a command
under a code whose county has no roads says so and how to give them the code: ``hazards
roads adopt-code``). The downgrade stores the routes without a code again when they all
carry one code (the earlier version read them so).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ROAD_TABLES = ("roads", "road_segments", "route_aliases")  # hazards.db.store.counties
COUNTY_DATA = ("surveys", "hazards", "crashes")  # stored under the setting's code already


def _codes(conn: sa.Connection, tables: tuple[str, ...]) -> set[str]:
    union = " UNION ".join(f"SELECT DISTINCT admin_code FROM {t}" for t in tables)
    return {str(c) for c in conn.execute(sa.text(union)).scalars()}


def _move(conn: sa.Connection, old: str, new: str) -> None:
    for table in ROAD_TABLES:
        conn.execute(
            sa.text(f"UPDATE {table} SET admin_code = :new WHERE admin_code = :old"),
            {"new": new, "old": old},
        )


def upgrade() -> None:
    conn = op.get_bind()
    data = _codes(conn, COUNTY_DATA)
    if _codes(conn, ("roads",)) == {""} and len(data) == 1 and "" not in data:
        _move(conn, "", data.pop())


def downgrade() -> None:
    conn = op.get_bind()
    roads = _codes(conn, ("roads",))
    if len(roads) == 1 and "" not in roads:
        _move(conn, roads.pop(), "")
