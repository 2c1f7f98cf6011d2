"""roles for a shared office database (issue 19): group roles, grants, row-level security

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:20:00.000000

What it makes (docs/shared-server.md tells the story):

- the group roles ``hazards_viewer``, ``hazards_engineer``, ``hazards_planner``,
  ``hazards_contractor`` and ``hazards_admin`` when the cluster does not have them yet (roles
  are cluster-wide: a second database in the same cluster reuses them);
- ``status_transitions(from_status, to_status)``, filled from
  :data:`hazards.vocabulary.TRANSITIONS` (a test checks that the two agree);
- ``user_contractors(role_name, contractor)``: which contractor (``batches.contractor``) a
  contractor login works for;
- ``hazard_events.recorded_by`` with ``DEFAULT current_user``: who recorded each event, from
  the database (events before this revision have none);
- the privileges of each group (GRANT), and row-level security on ``hazards``, ``batches``,
  ``batch_items``, ``hazard_events`` and ``user_contractors``: a member of
  ``hazards_contractor`` sees only the batches of its contractor and their hazards and events;
  every other role sees every row its privileges allow; a planner may set no status but
  ``planned`` (a restrictive policy). The table owner (who migrates) is not
  subject to row-level security (it is not forced), so nothing changes for it;
- the view ``batch_hazards`` (the hazards of batches with their batch, for QGIS;
  ``security_invoker``, so the caller's policies apply);
- ``hazards_record_completion(...)``, a ``SECURITY DEFINER`` function through which a
  contractor records a completion: it checks the contractor, the transition table, the
  version read and the dates, then changes the status and appends the event.

The downgrade removes the policies, the grants, the view, the function, the two tables and
the column; it keeps the group roles, which other databases of the cluster may use (drop them by
hand with ``DROP ROLE`` once no database uses them).
"""

from __future__ import annotations

from alembic import op

from hazards.db.sql import EFFECTIVE_COST, EFFECTIVE_TIER, LAST_CHANGE_ON, latest_batch
from hazards.vocabulary import STATUSES, TRANSITIONS

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

VIEWER = "hazards_viewer"
ENGINEER = "hazards_engineer"
PLANNER = "hazards_planner"
CONTRACTOR = "hazards_contractor"
ADMIN = "hazards_admin"
GROUPS = (VIEWER, ENGINEER, PLANNER, CONTRACTOR, ADMIN)
STAFF = (VIEWER, ENGINEER, PLANNER, ADMIN)

CONTRACTOR_REPORTS = ("in_progress", "reported_done")
"""The statuses a contractor may report (through the function), each still subject to the
transition table."""

FUNCTION_ARGS = "text, text, date, text, text, text, integer"

# Columns of hazards a contractor may read: all but the survey's raw row.
HIDDEN_FROM_CONTRACTORS = ("raw",)

# The contractor name of the connected login (one row at most: role_name is the key); in
# parentheses so that the planner evaluates it once per statement.
MY_CONTRACTOR = (
    "(SELECT uc.contractor FROM user_contractors uc WHERE uc.role_name = current_user)"
)
MY_HAZARDS = (
    "(SELECT bi.hazard_id FROM batch_items bi JOIN batches b ON b.id = bi.batch_id "
    f"WHERE b.contractor = {MY_CONTRACTOR})"
)
NOT_A_CONTRACTOR = f"(SELECT NOT pg_has_role(current_user, '{CONTRACTOR}', 'MEMBER'))"
RLS_TABLES = ("hazards", "batches", "batch_items", "hazard_events")
# A planner changes statuses only to plan (a plan commit): PostgreSQL grants by column, so a
# restrictive policy holds the rest (unless the login is also an engineer or an admin).
OTHERWISE_ALLOWED = (
    f"(SELECT pg_has_role(current_user, '{ENGINEER}', 'MEMBER') "
    f"OR pg_has_role(current_user, '{ADMIN}', 'MEMBER'))"
)

# The hazards of batches with their batch, for QGIS and exports: the caller's own rights and
# policies apply (security_invoker), so a contractor sees its batches only.
BATCH_HAZARDS_VIEW = f"""
CREATE VIEW batch_hazards WITH (security_invoker = true, security_barrier = true) AS
SELECT h.id, h.public_id, b.name AS batch, b.contractor, b.plan_name, b.starts_on, b.due_on,
       r.route_code, r.name AS route_name, h.chainage_m, h.category, h.description,
       {EFFECTIVE_TIER} AS tier, h.countermeasure, h.quantity, h.unit,
       {EFFECTIVE_COST} AS cost_cny, h.status, h.version, h.geom
FROM batch_items bi
JOIN batches b ON b.id = bi.batch_id
JOIN hazards h ON h.id = bi.hazard_id
LEFT JOIN roads r ON r.id = h.road_id
"""
CONTRACTOR_ROWS = {
    "hazards": f"id IN {MY_HAZARDS}",
    "batches": f"contractor = {MY_CONTRACTOR}",
    "batch_items": (
        f"batch_id IN (SELECT b.id FROM batches b WHERE b.contractor = {MY_CONTRACTOR})"
    ),
    "hazard_events": f"hazard_id IN {MY_HAZARDS}",
}

CREATE_GROUPS = """
DO $$
DECLARE
    g text;
BEGIN
    FOREACH g IN ARRAY ARRAY[{groups}] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', g);
            EXCEPTION
                WHEN duplicate_object OR unique_violation THEN
                    NULL;  -- made meanwhile by a migration of another database of the cluster
                WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'The group role % does not exist and the database user % '
                        'may not create roles.', g, current_user
                        USING HINT = 'Ask the server''s administrator to run CREATE ROLE ' || g
                            || ' NOLOGIN (for each hazards_* role: see docs/shared-server.md), '
                            || 'or to grant CREATEROLE, then migrate again.',
                        ERRCODE = 'insufficient_privilege';
            END;
        END IF;
    END LOOP;
END
$$
"""

COMPLETION_FUNCTION = f"""
CREATE FUNCTION hazards_record_completion(
    p_hazard text, p_to text, p_on date, p_by text DEFAULT NULL, p_note text DEFAULT NULL,
    p_evidence text DEFAULT NULL, p_version integer DEFAULT NULL
) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_temp
AS $fn$
DECLARE
    -- Inside a SECURITY DEFINER function current_user is the owner: the caller is the login.
    v_who text := session_user;
    v_contractor text;
    r record;
BEGIN
    SELECT uc.contractor INTO v_contractor FROM user_contractors uc WHERE uc.role_name = v_who;
    IF v_contractor IS NULL THEN
        RAISE EXCEPTION 'The database user % is not a contractor login (no contractor is '
            'recorded for it), so it cannot report completions.', v_who
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_to IS NULL OR NOT p_to = ANY (ARRAY[{", ".join(f"'{s}'" for s in CONTRACTOR_REPORTS)}]) THEN
        RAISE EXCEPTION 'A contractor reports % only, not %.',
            '{" or ".join(CONTRACTOR_REPORTS)}', coalesce(p_to, 'nothing')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT h.id, h.status, h.version, lb.contractor, lb.name AS batch, lb.starts_on,
           {LAST_CHANGE_ON} AS last_on
      INTO r
      FROM hazards h {latest_batch("lb")}
     WHERE h.public_id = p_hazard
       FOR UPDATE OF h;
    IF NOT FOUND OR r.contractor IS DISTINCT FROM v_contractor THEN
        RAISE EXCEPTION 'Hazard % is not in a batch of %.', p_hazard, v_contractor
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_version IS NOT NULL AND p_version <> r.version THEN
        RAISE EXCEPTION 'Hazard % was changed by someone else since it was read (version % '
            'read, now version %, status %).', p_hazard, p_version, r.version, r.status
            USING ERRCODE = 'HZ409';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM status_transitions t
                    WHERE t.from_status = r.status AND t.to_status = p_to) THEN
        RAISE EXCEPTION 'Hazard % is %; it cannot go to %.', p_hazard, r.status, p_to
            USING ERRCODE = 'HZ400';
    END IF;
    IF p_on IS NULL OR p_on > current_date THEN
        RAISE EXCEPTION 'The completion date of hazard % (%) is missing or in the future.',
            p_hazard, p_on USING ERRCODE = 'HZ400';
    END IF;
    IF r.starts_on IS NOT NULL AND p_on < r.starts_on THEN
        RAISE EXCEPTION 'The completion date of hazard % (%) is before the batch start (%).',
            p_hazard, p_on, r.starts_on USING ERRCODE = 'HZ400';
    END IF;
    IF r.last_on IS NOT NULL AND p_on < r.last_on THEN
        RAISE EXCEPTION 'The completion date of hazard % (%) is before its last change (%).',
            p_hazard, p_on, r.last_on USING ERRCODE = 'HZ400';
    END IF;
    UPDATE hazards SET status = p_to, version = version + 1, updated_at = now()
     WHERE id = r.id;
    INSERT INTO hazard_events (hazard_id, kind, happened_on, by, from_status, to_status, note,
                               evidence, recorded_by)
    VALUES (r.id, 'completion', p_on, p_by, r.status, p_to, p_note, p_evidence, v_who);
    RETURN r.version + 1;
END
$fn$
"""


def _our_tables() -> list[str]:
    """The tables of this schema that are ours (not an extension's, e.g. spatial_ref_sys)."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
        "AND d.objid = c.oid AND d.deptype = 'e') ORDER BY 1"
    )
    return [r[0] for r in rows]


def _hazard_columns() -> list[str]:
    rows = op.get_bind().exec_driver_sql(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'hazards'::regclass "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    )
    return [r[0] for r in rows]


def _schema() -> str:
    return str(op.get_bind().exec_driver_sql("SELECT quote_ident(current_schema())").scalar())


def upgrade() -> None:
    op.execute(CREATE_GROUPS.format(groups=", ".join(f"'{g}'" for g in GROUPS)))
    schema = _schema()

    # The transition table, from the vocabulary (the one definition).
    op.execute(
        "CREATE TABLE status_transitions ("
        "from_status varchar(16) NOT NULL, to_status varchar(16) NOT NULL, "
        "CONSTRAINT pk_status_transitions PRIMARY KEY (from_status, to_status))"
    )
    pairs = [(a, b) for a in STATUSES for b in TRANSITIONS[a]]
    op.execute(
        "INSERT INTO status_transitions (from_status, to_status) VALUES "
        + ", ".join(f"('{a}', '{b}')" for a, b in pairs)
    )
    op.execute(
        "CREATE TABLE user_contractors ("
        "role_name text NOT NULL, contractor text NOT NULL, "
        "created_at timestamptz DEFAULT now() NOT NULL, "
        "CONSTRAINT pk_user_contractors PRIMARY KEY (role_name))"
    )
    # Who recorded an event: from now on the database says (older events have no value).
    op.execute("ALTER TABLE hazard_events ADD COLUMN recorded_by text")
    op.execute("ALTER TABLE hazard_events ALTER COLUMN recorded_by SET DEFAULT CURRENT_USER")

    # ---------------------------------------------------------------- privileges
    tables = _our_tables()
    groups = ", ".join(GROUPS)
    op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {groups}")
    readable = [t for t in tables if t != "user_contractors"]
    op.execute(f"GRANT SELECT ON {', '.join(readable)} TO {VIEWER}, {ENGINEER}, {PLANNER}")
    op.execute(f"GRANT ALL ON {', '.join(tables)} TO {ADMIN}")
    op.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {ADMIN}")
    # engineers: review decisions, tiers and overrides, status changes, re-checks
    op.execute(f"GRANT UPDATE ON hazards TO {ENGINEER}")
    op.execute(f"GRANT INSERT ON hazard_events TO {ENGINEER}")
    op.execute(f"GRANT INSERT, UPDATE ON rechecks TO {ENGINEER}")
    op.execute(f"GRANT USAGE ON SEQUENCE hazard_events_id_seq, rechecks_id_seq TO {ENGINEER}")
    # planners: plans, batches (their contractor and dates), the plan commit's status change
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON plans, batches, batch_items TO {PLANNER}")
    op.execute(f"GRANT UPDATE (status, version, updated_at) ON hazards TO {PLANNER}")
    op.execute(f"GRANT INSERT ON hazard_events TO {PLANNER}")
    op.execute(
        "GRANT USAGE ON SEQUENCE plans_id_seq, batches_id_seq, hazard_events_id_seq "
        f"TO {PLANNER}"
    )
    # contractors: read their batches (RLS), everything but the survey's raw row; report
    # completions through the function only
    visible = [c for c in _hazard_columns() if c not in HIDDEN_FROM_CONTRACTORS]
    op.execute(f"GRANT SELECT ({', '.join(visible)}) ON hazards TO {CONTRACTOR}")
    op.execute(
        "GRANT SELECT ON batches, batch_items, hazard_events, roads, road_segments, metadata, "
        f"status_transitions, user_contractors, alembic_version TO {CONTRACTOR}"
    )
    # tables made by later migrations: readable by staff, all to admins
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES "
        f"TO {VIEWER}, {ENGINEER}, {PLANNER}"
    )
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT ALL ON TABLES TO {ADMIN}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT ALL ON SEQUENCES TO {ADMIN}")

    # ---------------------------------------------------------------- row-level security
    for table in RLS_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_not_contractors ON {table} FOR ALL TO PUBLIC "
            f"USING ({NOT_A_CONTRACTOR}) WITH CHECK ({NOT_A_CONTRACTOR})"
        )
        op.execute(
            f"CREATE POLICY {table}_contractor ON {table} FOR SELECT TO {CONTRACTOR} "
            f"USING ({CONTRACTOR_ROWS[table]})"
        )
    op.execute("ALTER TABLE user_contractors ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY user_contractors_own ON user_contractors FOR SELECT TO PUBLIC "
        "USING (role_name = current_user)"
    )
    op.execute(
        f"CREATE POLICY user_contractors_admin ON user_contractors FOR ALL TO {ADMIN} "
        "USING (true) WITH CHECK (true)"
    )

    for table, command, check in (
        ("hazards", "UPDATE", "status = 'planned'"),
        ("hazard_events", "INSERT", "to_status = 'planned'"),
    ):
        op.execute(
            f"CREATE POLICY {table}_planner_plans ON {table} AS RESTRICTIVE FOR {command} "
            f"TO {PLANNER} {'USING (true) ' if command == 'UPDATE' else ''}"
            f"WITH CHECK ({check} OR {OTHERWISE_ALLOWED})"
        )
    op.execute(BATCH_HAZARDS_VIEW)
    op.execute(f"GRANT SELECT ON batch_hazards TO {groups}")

    # ---------------------------------------------------------------- completions
    # (a hazard's history was hazard_events alone until migration 0018 made hazard_history)
    op.execute(COMPLETION_FUNCTION.replace("hazard_history", "hazard_events").format(schema=schema))
    op.execute(f"REVOKE ALL ON FUNCTION hazards_record_completion({FUNCTION_ARGS}) FROM PUBLIC")
    op.execute(
        f"GRANT EXECUTE ON FUNCTION hazards_record_completion({FUNCTION_ARGS}) TO {CONTRACTOR}"
    )


REVOKE_ALL = """
DO $$
DECLARE
    g text;
BEGIN
    FOREACH g IN ARRAY ARRAY[{groups}] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g) THEN
            EXECUTE format('REVOKE ALL ON {tables} FROM %I', g);
            EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM %I', g);
            EXECUTE format('REVOKE USAGE ON SCHEMA {schema} FROM %I', g);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} '
                           'REVOKE ALL ON TABLES FROM %I', g);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} '
                           'REVOKE ALL ON SEQUENCES FROM %I', g);
        END IF;
    END LOOP;
END
$$
"""


def downgrade() -> None:
    schema = _schema()
    op.execute(f"DROP FUNCTION IF EXISTS hazards_record_completion({FUNCTION_ARGS})")
    op.execute("DROP VIEW IF EXISTS batch_hazards")
    op.execute("DROP POLICY IF EXISTS hazards_planner_plans ON hazards")
    op.execute("DROP POLICY IF EXISTS hazard_events_planner_plans ON hazard_events")
    op.execute("DROP POLICY IF EXISTS user_contractors_own ON user_contractors")
    op.execute("DROP POLICY IF EXISTS user_contractors_admin ON user_contractors")
    for table in RLS_TABLES:
        op.execute(f"DROP POLICY IF EXISTS {table}_not_contractors ON {table}")
        op.execute(f"DROP POLICY IF EXISTS {table}_contractor ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    tables = [t for t in _our_tables() if t not in ("status_transitions", "user_contractors")]
    op.execute(
        REVOKE_ALL.format(
            groups=", ".join(f"'{g}'" for g in GROUPS), tables=", ".join(tables), schema=schema
        )
    )
    op.execute("ALTER TABLE hazard_events DROP COLUMN recorded_by")
    op.execute("DROP TABLE user_contractors")
    op.execute("DROP TABLE status_transitions")
