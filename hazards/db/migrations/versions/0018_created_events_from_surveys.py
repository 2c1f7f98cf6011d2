"""a hazard's ``created`` event is made from its row and its survey's, not stored

A survey import wrote one ``hazard_events`` row per hazard it added: a quarter of the server's
work of storing a survey (docs/decisions.md, "The created event"), and its every value is the
hazard's or its survey's. Now the import writes the hazard's first status
(``hazards.created_status``) and the importing login (``surveys.imported_by``), and the
``hazard_history`` view gives every event of a hazard: the rows of ``hazard_events`` and, for
each hazard with a ``created_status``, its ``created`` event as the import wrote it
(happened on the survey's date, recorded with the hazard, ``by`` the survey's provider, the
note ``survey N row R``, the data ``{"survey": N}``; its id is the hazard's, negative, so that it
comes first among the events of one moment). Histories read the view; what is written stays in
``hazard_events``.

The created events already stored become the view's when they are exactly what it makes (any
other stays a row of its own); the contractors' completion function reads a hazard's last change
through the view (made again, as migration 0015 did). Contractors may read the view (their own
hazards' events: the view runs with the reader's rights, so the tables' row-level security
holds), the new column, and of the surveys of their own hazards what the events show (id,
date, provider, login: row-level security on ``surveys`` too). What the view reads cannot be
changed (triggers refuse it, as ``hazard_events`` refuses any change), nor a hazard with a
created event deleted but by the drop of its survey. The downgrade writes the events back.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 07:00:00.000000
"""

from __future__ import annotations

from alembic import op

from hazards.db.migrations.completion import remake_completion_function, roles_migration
from hazards.vocabulary import STATUSES

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_ROLES = roles_migration()  # the group roles and the contractors' rule of migration 0005
CONTRACTOR, ADMIN = _ROLES.CONTRACTOR, _ROLES.ADMIN
READERS = ", ".join((_ROLES.VIEWER, _ROLES.ENGINEER, _ROLES.PLANNER, CONTRACTOR))

# The created event of a hazard from its own row and its survey's: the values the import's
# INSERT gave it (before this migration), one expression each, used by the view and to
# recognise the stored events that are exactly these.
CREATED = {
    "id": "-h.id",
    "hazard_id": "h.id",
    "admin_code": "h.admin_code",
    "kind": "CAST('created' AS varchar(32))",
    "happened_on": "s.surveyed_on",
    "recorded_at": "h.created_at",
    "by": "s.provider",
    "recorded_by": "s.imported_by",
    "from_status": "CAST(NULL AS varchar(16))",
    "to_status": "h.created_status",
    "note": "'survey ' || s.id || ' row ' || coalesce(h.provider_row_id, h.source_line::text)",
    "evidence": "CAST(NULL AS text)",
    "data": "jsonb_build_object('survey', s.id)",
}

# What the view makes a created event from cannot change (the event was append-only): the
# hazard's columns it reads, and its survey's; nor can the hazard go but with its survey (the
# drop of a survey, which removes its hazards' other events as well, migration 0004).
FROZEN_FUNCTION = """
CREATE FUNCTION hazards_created_event_kept() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('hazards.dropping_survey', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% of % %: it would change or remove a hazard''s created event, which is '
        'history (append-only); drop its survey instead (hazards survey drop)',
        TG_OP, TG_TABLE_NAME, OLD.id USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""
HAZARD_CHANGED = (
    "OLD.created_status IS NOT NULL AND (NEW.created_status IS DISTINCT FROM OLD.created_status "
    "OR NEW.created_at IS DISTINCT FROM OLD.created_at "
    "OR NEW.survey_id IS DISTINCT FROM OLD.survey_id "
    "OR NEW.admin_code IS DISTINCT FROM OLD.admin_code "
    "OR coalesce(NEW.provider_row_id, NEW.source_line::text) "
    "IS DISTINCT FROM coalesce(OLD.provider_row_id, OLD.source_line::text))"
)
SURVEY_CHANGED = (
    "NEW.id IS DISTINCT FROM OLD.id OR NEW.provider IS DISTINCT FROM OLD.provider "
    "OR NEW.surveyed_on IS DISTINCT FROM OLD.surveyed_on "
    "OR NEW.imported_by IS DISTINCT FROM OLD.imported_by"
)
# A contractor reads, of the surveys, those of its own hazards (the created events it sees).
NOT_A_CONTRACTOR = _ROLES.NOT_A_CONTRACTOR
ITS_SURVEYS = "id IN (SELECT h.survey_id FROM hazards h)"  # hazards: its own, by their policy

HISTORY_VIEW = f"""
CREATE VIEW hazard_history WITH (security_invoker = true) AS
SELECT {", ".join(f"e.{c}" for c in CREATED)}
FROM hazard_events e
UNION ALL
SELECT {", ".join(f"{v} AS {c}" for c, v in CREATED.items())}
FROM hazards h JOIN surveys s ON s.id = h.survey_id
WHERE h.created_status IS NOT NULL
"""


def upgrade() -> None:
    op.execute("ALTER TABLE surveys ADD COLUMN imported_by text")
    op.execute("ALTER TABLE hazards ADD COLUMN created_status varchar(16)")
    statuses = ", ".join(f"'{s}'" for s in STATUSES)  # the statuses' one home, as 0005 does
    op.execute(
        "ALTER TABLE hazards ADD CONSTRAINT ck_hazards_created_status "
        f"CHECK (created_status IN ({statuses}))"
    )
    # The login of each survey's import: its created events say it (older ones say nothing).
    op.execute(
        "UPDATE surveys s SET imported_by = (SELECT e.recorded_by FROM hazard_events e "
        "JOIN hazards h ON h.id = e.hazard_id WHERE h.survey_id = s.id AND e.kind = 'created' "
        "AND e.recorded_by IS NOT NULL ORDER BY e.id LIMIT 1)"
    )
    op.execute("ALTER TABLE surveys ALTER COLUMN imported_by SET DEFAULT CURRENT_USER")
    # The stored created events the view would make as they are (one per hazard)
    same = " AND ".join(
        f"e.{c} IS NOT DISTINCT FROM {v}"
        for c, v in CREATED.items()
        if c not in ("id", "hazard_id", "to_status")
    )
    op.execute(
        "CREATE TEMP TABLE created_moved ON COMMIT DROP AS "
        "SELECT e.id, e.hazard_id, e.to_status FROM hazard_events e "
        "JOIN hazards h ON h.id = e.hazard_id JOIN surveys s ON s.id = h.survey_id "
        f"WHERE e.kind = 'created' AND e.to_status IS NOT NULL AND {same} "
        "AND NOT EXISTS (SELECT 1 FROM hazard_events o WHERE o.hazard_id = e.hazard_id "
        "AND o.kind = 'created' AND o.id <> e.id)"
    )
    op.execute(
        "UPDATE hazards h SET created_status = m.to_status FROM created_moved m "
        "WHERE m.hazard_id = h.id"
    )
    op.execute("ALTER TABLE hazard_events DISABLE TRIGGER hazard_events_append_only")
    op.execute("DELETE FROM hazard_events e USING created_moved m WHERE e.id = m.id")
    op.execute("ALTER TABLE hazard_events ENABLE TRIGGER hazard_events_append_only")

    op.execute(FROZEN_FUNCTION)
    op.execute(
        "CREATE TRIGGER hazards_created_event_kept BEFORE UPDATE ON hazards FOR EACH ROW "
        f"WHEN ({HAZARD_CHANGED}) EXECUTE FUNCTION hazards_created_event_kept()"
    )
    op.execute(
        "CREATE TRIGGER hazards_created_event_gone BEFORE DELETE ON hazards FOR EACH ROW "
        "WHEN (OLD.created_status IS NOT NULL) EXECUTE FUNCTION hazards_created_event_kept()"
    )
    op.execute(
        "CREATE TRIGGER surveys_created_event_kept BEFORE UPDATE ON surveys FOR EACH ROW "
        f"WHEN ({SURVEY_CHANGED}) EXECUTE FUNCTION hazards_created_event_kept()"
    )

    op.execute(HISTORY_VIEW)
    op.execute(f"GRANT SELECT ON hazard_history TO {READERS}")
    op.execute(f"GRANT ALL ON hazard_history TO {ADMIN}")
    op.execute(f"GRANT SELECT (created_status) ON hazards TO {CONTRACTOR}")
    op.execute(f"GRANT SELECT (id, provider, surveyed_on, imported_by) ON surveys TO {CONTRACTOR}")
    op.execute("ALTER TABLE surveys ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY surveys_not_contractors ON surveys FOR ALL TO PUBLIC "
        f"USING ({NOT_A_CONTRACTOR}) WITH CHECK ({NOT_A_CONTRACTOR})"
    )
    op.execute(
        f"CREATE POLICY surveys_contractor ON surveys FOR SELECT TO {CONTRACTOR} "
        f"USING ({ITS_SURVEYS})"
    )
    remake_completion_function()


def downgrade() -> None:
    op.execute(
        "INSERT INTO hazard_events (hazard_id, admin_code, kind, happened_on, recorded_at, by, "
        "recorded_by, from_status, to_status, note, evidence, data) "
        "SELECT hazard_id, admin_code, kind, happened_on, recorded_at, by, recorded_by, "
        "from_status, to_status, note, evidence, data FROM hazard_history WHERE id < 0 "
        "ORDER BY hazard_id"
    )
    op.execute("DROP POLICY surveys_contractor ON surveys")
    op.execute("DROP POLICY surveys_not_contractors ON surveys")
    op.execute("ALTER TABLE surveys DISABLE ROW LEVEL SECURITY")
    op.execute(f"REVOKE SELECT (id, provider, surveyed_on, imported_by) ON surveys FROM {CONTRACTOR}")
    op.execute("DROP VIEW hazard_history")
    op.execute("DROP TRIGGER surveys_created_event_kept ON surveys")
    op.execute("DROP TRIGGER hazards_created_event_gone ON hazards")
    op.execute("DROP TRIGGER hazards_created_event_kept ON hazards")
    op.execute("DROP FUNCTION hazards_created_event_kept()")
    op.execute("ALTER TABLE hazards DROP COLUMN created_status")
    op.execute("ALTER TABLE surveys DROP COLUMN imported_by")
    remake_completion_function(history="hazard_events")
