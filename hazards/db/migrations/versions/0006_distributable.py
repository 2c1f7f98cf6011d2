"""the schema stays distributable by admin_code (issue 24): every large table carries it

``hazard_events``, ``batch_items`` and ``rechecks`` were the large tables without
``admin_code`` (the county code that the other large tables already carry, and the key on
which a Citus cluster would distribute them: docs/scaling.md). Each gets it, filled from its
hazard for existing rows and, for new rows that do not give it, by a BEFORE INSERT trigger
(``WHEN (NEW.admin_code IS NULL)``: a row that gives it costs nothing), so every existing
INSERT keeps working. The column is NOT NULL. Grants of 0005 are table-wide, so every role
that could insert into or read these tables still can; no policy reads the new column.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 11:55:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("hazard_events", "batch_items", "rechecks")

FILL_FUNCTION = """
CREATE FUNCTION hazards_admin_code_of_hazard() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    -- The row's county is its hazard's (docs/scaling.md: admin_code on every large table).
    SELECT h.admin_code INTO NEW.admin_code FROM hazards h WHERE h.id = NEW.hazard_id;
    NEW.admin_code := coalesce(NEW.admin_code, '');
    RETURN NEW;
END
$fn$
"""


def upgrade() -> None:
    op.execute(FILL_FUNCTION)
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ADD COLUMN admin_code varchar(32)")
        # hazard_events is append-only (its trigger refuses UPDATE): set aside for the fill.
        if table == "hazard_events":
            op.execute("ALTER TABLE hazard_events DISABLE TRIGGER hazard_events_append_only")
        op.execute(
            f"UPDATE {table} t SET admin_code = coalesce(h.admin_code, '') "
            "FROM hazards h WHERE h.id = t.hazard_id"
        )
        op.execute(f"UPDATE {table} SET admin_code = '' WHERE admin_code IS NULL")
        if table == "hazard_events":
            op.execute("ALTER TABLE hazard_events ENABLE TRIGGER hazard_events_append_only")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN admin_code SET NOT NULL")
        op.execute(
            f"CREATE TRIGGER {table}_admin_code BEFORE INSERT ON {table} FOR EACH ROW "
            "WHEN (NEW.admin_code IS NULL) EXECUTE FUNCTION hazards_admin_code_of_hazard()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_admin_code ON {table}")
        op.execute(f"ALTER TABLE {table} DROP COLUMN admin_code")
    op.execute("DROP FUNCTION IF EXISTS hazards_admin_code_of_hazard()")
