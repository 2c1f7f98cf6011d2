"""The schema stays distributable by ``admin_code`` (issue 24; docs/scaling.md, "Past one
machine"): the rule Citus imposes on tables distributed by a column, checked on the models
(which ``tests/test_migrations.py`` holds equal to the migrations) and on the migrated database.

Every table of ours is a *large* table (it grows with the network and the surveys, and would
be distributed on ``admin_code``) unless it is listed in ``REFERENCE_TABLES`` (small, copied
whole to every node). A new table is therefore large until someone says otherwise here. For
each large table:

1. it has a NOT NULL ``admin_code`` column;
2. its primary key and each unique constraint or unique index include ``admin_code``;
3. each foreign key to another large table includes ``admin_code`` on both sides;

and no reference table has a foreign key to a large table.

Rule 1 has no exceptions. Rules 2 and 3 are not yet met by the id keys that predate this
rule: those are listed, one by one, in ``KNOWN_EXCEPTIONS`` (the work left, in
docs/scaling.md). The list may only shrink: a new violation fails, and so does an exception
that no longer occurs (remove it from the list when it is fixed).
"""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    inspect,
    text,
)

from hazards.db.models import Base

KEY = "admin_code"

REFERENCE_TABLES = {
    "metadata": "a few key/value facts about the database (the working CRS)",
    "status_transitions": "the vocabulary's transition table, the same for every county",
    "user_contractors": "one row per contractor login",
    # not distributed either: a few rows about this server's own writers (migration 0007);
    # under Citus it stays a local table of the coordinator, where the commands connect
    "writer_locks": "who holds a writer's lock: one row per subject and server process",
}

# Keys that predate the rule (integer ids from one sequence). Each is the work left to make
# the schema distributable: see docs/scaling.md, "What is left". Remove a line when it is fixed.
KNOWN_EXCEPTIONS = {
    "roads: primary key (id) lacks admin_code",
    "road_segments: primary key (id) lacks admin_code",
    "road_segments: foreign key (road_id) -> roads lacks admin_code",
    "surveys: primary key (id) lacks admin_code",
    "surveys: foreign key (corrects_id) -> surveys lacks admin_code",
    "hazards: primary key (id) lacks admin_code",
    "hazards: unique (public_id) lacks admin_code",
    "hazards: foreign key (survey_id) -> surveys lacks admin_code",
    "hazards: foreign key (road_id) -> roads lacks admin_code",
    "hazards: foreign key (segment_id) -> road_segments lacks admin_code",
    "hazard_events: primary key (id) lacks admin_code",
    "hazard_events: foreign key (hazard_id) -> hazards lacks admin_code",
    "plans: primary key (id) lacks admin_code",
    "batches: primary key (id) lacks admin_code",
    "batches: foreign key (plan_id) -> plans lacks admin_code",
    "batch_items: primary key (batch_id, hazard_id) lacks admin_code",
    "batch_items: foreign key (batch_id) -> batches lacks admin_code",
    "batch_items: foreign key (hazard_id) -> hazards lacks admin_code",
    "rechecks: primary key (id) lacks admin_code",
    "rechecks: foreign key (hazard_id) -> hazards lacks admin_code",
    "rechecks: foreign key (batch_id) -> batches lacks admin_code",
}


def _cols(columns) -> str:
    return ", ".join(c.name for c in columns)


def violations(metadata: MetaData, *, reference: set[str] | None = None) -> list[str]:
    """Each breach of the rule by the tables of ``metadata``, as one line."""
    ref = set(REFERENCE_TABLES) if reference is None else reference
    out: list[str] = []
    for name, table in sorted(metadata.tables.items()):
        if name in ref:
            for fk in table.foreign_key_constraints:
                if fk.referred_table.name not in ref:
                    out.append(
                        f"{name}: reference table has a foreign key to {fk.referred_table.name}"
                    )
            continue
        column = table.columns.get(KEY)
        if column is None:
            out.append(f"{name}: no {KEY} column")
            continue
        if column.nullable:
            out.append(f"{name}: {KEY} may be NULL")
        pk = table.primary_key
        if KEY not in pk.columns:
            out.append(f"{name}: primary key ({_cols(pk.columns)}) lacks {KEY}")
        for c in table.constraints:
            if isinstance(c, UniqueConstraint) and KEY not in c.columns:
                out.append(f"{name}: unique ({_cols(c.columns)}) lacks {KEY}")
        for ix in table.indexes:
            if ix.unique and KEY not in ix.columns:
                out.append(f"{name}: unique index ({_cols(ix.columns)}) lacks {KEY}")
        for fk in sorted(table.foreign_key_constraints, key=lambda f: _cols(f.columns)):
            target = fk.referred_table.name
            if target in ref:
                continue
            local = [c.name for c in fk.columns]
            remote = [e.column.name for e in fk.elements]
            if KEY not in local or KEY not in remote:
                out.append(f"{name}: foreign key ({', '.join(local)}) -> {target} lacks {KEY}")
    return out


def test_every_large_table_has_admin_code() -> None:
    missing = [v for v in violations(Base.metadata) if f"no {KEY} column" in v or "NULL" in v]
    assert missing == []


def test_keys_of_large_tables_include_admin_code() -> None:
    found = set(violations(Base.metadata))
    assert sorted(found - KNOWN_EXCEPTIONS) == [], "new keys without admin_code"
    assert sorted(KNOWN_EXCEPTIONS - found) == [], "fixed: remove from KNOWN_EXCEPTIONS"


def test_reference_tables_exist() -> None:
    assert set(REFERENCE_TABLES) <= set(Base.metadata.tables)


def _with_table(*columns, name: str = "incidents") -> MetaData:
    md = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(md)
    Table(name, md, *columns)
    return md


def test_a_new_large_table_without_admin_code_fails() -> None:
    md = _with_table(
        Column("id", Integer, primary_key=True),
        Column("hazard_id", ForeignKey("hazards.id")),
    )
    found = set(violations(md)) - KNOWN_EXCEPTIONS
    assert "incidents: no admin_code column" in found


def test_a_new_large_table_with_keys_lacking_admin_code_fails() -> None:
    md = _with_table(
        Column("id", Integer),
        Column(KEY, String(32), nullable=False),
        Column("code", String(32)),
        Column("road_id", ForeignKey("roads.id")),
        PrimaryKeyConstraint(KEY, "id"),
        UniqueConstraint("code"),
        Index("ix_incidents_code2", "code", unique=True),
    )
    assert set(violations(md)) - KNOWN_EXCEPTIONS == {
        "incidents: unique (code) lacks admin_code",
        "incidents: unique index (code) lacks admin_code",
        "incidents: foreign key (road_id) -> roads lacks admin_code",
    }


def test_a_distributable_new_table_passes() -> None:
    md = _with_table(
        Column("id", Integer),
        Column(KEY, String(32), nullable=False),
        Column("code", String(32)),
        Column("metadata_key", ForeignKey("metadata.key")),  # to a reference table: allowed
        PrimaryKeyConstraint(KEY, "id"),
        UniqueConstraint(KEY, "code"),
    )
    assert not [v for v in violations(md) if v.startswith("incidents")]


def test_a_reference_table_pointing_at_a_large_table_fails() -> None:
    md = _with_table(
        Column("key", String(8), primary_key=True),
        Column("hazard_id", ForeignKey("hazards.id")),
        name="lookup",
    )
    found = violations(md, reference=set(REFERENCE_TABLES) | {"lookup"})
    assert "lookup: reference table has a foreign key to hazards" in found


@pytest.mark.usefixtures("db_url")
def test_the_migrated_database_has_admin_code_filled_on_every_large_table(engine) -> None:
    """The live schema (migrations, not models) and the trigger that fills the new columns."""
    from hazards.db.session import include_object  # noqa: F401  (the same notion of "ours")

    ours = set(Base.metadata.tables)
    insp = inspect(engine)
    for table in sorted(ours - set(REFERENCE_TABLES)):
        cols = {c["name"]: c for c in insp.get_columns(table)}
        assert KEY in cols and not cols[KEY]["nullable"], table
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO hazards (public_id, admin_code, status) VALUES "
                "('HA1', '522701', 'identified'), ('HA2', '', 'identified')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO hazard_events (hazard_id, kind) "
                "SELECT id, 'test' FROM hazards WHERE public_id IN ('HA1', 'HA2')"
            )
        )
        conn.execute(text("INSERT INTO rechecks (hazard_id) SELECT id FROM hazards"))
        conn.execute(
            text(
                "INSERT INTO plans (name, budget_cny, spent_cny, report) "
                "VALUES ('p', 1, 0, '{}'::jsonb)"
            )
        )
        conn.execute(
            text("INSERT INTO batches (plan_id, plan_name, name) SELECT id, 'p', 'b' FROM plans")
        )
        conn.execute(
            text(
                "INSERT INTO batch_items (batch_id, hazard_id, admin_code) "
                "SELECT b.id, h.id, 'given' FROM batches b, hazards h WHERE h.public_id = 'HA2'"
            )
        )
        rows = {
            table: conn.execute(
                text(
                    f"SELECT h.public_id, t.admin_code FROM {table} t "
                    "JOIN hazards h ON h.id = t.hazard_id ORDER BY 1"
                )
            ).all()
            for table in ("hazard_events", "rechecks", "batch_items")
        }
    assert rows["hazard_events"] == [("HA1", "522701"), ("HA2", "")]
    assert rows["rechecks"] == [("HA1", "522701"), ("HA2", "")]
    assert rows["batch_items"] == [("HA2", "given")]  # given: kept as it is
