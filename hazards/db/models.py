"""SQLAlchemy 2 typed models of the inventory, with GeoAlchemy2 geometry columns.

Geometries are stored in EPSG:4326 (lon/lat): that is what every export and map needs, and it
keeps one SRID per column whatever county is loaded. Lengths, chainages and distances are
measured in the database's working metric CRS (recorded in ``metadata``) and stored as numbers
beside the geometry. Schema changes go through Alembic (``hazards/db/migrations``);
``tests/test_migrations.py`` checks that the migrations and these models agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The CHECK constraints take their sets from the vocabulary (the one definition of each).
from hazards.vocabulary import (
    BATCH_STATUSES,
    MATCH_STATUSES,
    PLAN_STATUSES,
    RECHECK_RESULTS,
    ROAD_CLASSES,
    SEVERITIES,
    STATUSES,
    TIERS,
)

SRID = 4326

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now() -> Any:
    return func.now()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Metadata(Base):
    """Key/value facts about this database, e.g. ``working_crs``."""

    __tablename__ = "metadata"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class Road(Base):
    """A route: all features sharing one route code (or one uncoded feature)."""

    __tablename__ = "roads"
    __table_args__ = (
        UniqueConstraint("admin_code", "route_code"),
        CheckConstraint(_in("road_class", ROAD_CLASSES), name="road_class"),
        CheckConstraint("length_m >= 0", name="length_nonneg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_code: Mapped[str] = mapped_column(String(32), server_default="")
    route_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(Text)
    road_class: Mapped[str] = mapped_column(String(16), server_default="other")
    class_raw: Mapped[str | None] = mapped_column(Text)  # the file's own class value
    township: Mapped[str | None] = mapped_column(Text)
    length_m: Mapped[float] = mapped_column(Float, server_default="0")
    end_m: Mapped[float] = mapped_column(Float, server_default="0")
    gap_m: Mapped[float] = mapped_column(Float, server_default="0")
    parts: Mapped[int] = mapped_column(Integer, server_default="1")
    sections: Mapped[int] = mapped_column(Integer, server_default="1")
    has_gap: Mapped[bool] = mapped_column(Boolean, server_default="false")
    has_branch: Mapped[bool] = mapped_column(Boolean, server_default="false")
    unassigned: Mapped[bool] = mapped_column(Boolean, server_default="false")
    source: Mapped[str | None] = mapped_column(Text)
    checksum: Mapped[str | None] = mapped_column(String(40))
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class RoadSegment(Base):
    """One piece of a route with its chainage range along the route."""

    __tablename__ = "road_segments"
    __table_args__ = (
        Index("ix_road_segments_geom", "geom", postgresql_using="gist"),
        Index("ix_road_segments_road_id", "road_id"),
        CheckConstraint("to_m >= from_m", name="chainage_order"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    admin_code: Mapped[str] = mapped_column(String(32), server_default="")
    road_id: Mapped[int] = mapped_column(ForeignKey("roads.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    part: Mapped[int] = mapped_column(Integer, server_default="0")
    section: Mapped[int] = mapped_column(Integer, server_default="0")
    from_m: Mapped[float] = mapped_column(Float)
    to_m: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float] = mapped_column(Float)
    source_row: Mapped[int | None] = mapped_column(Integer)
    source_file: Mapped[str | None] = mapped_column(Text)
    township: Mapped[str | None] = mapped_column(Text)
    aadt: Mapped[float | None] = mapped_column(Float)  # its input feature's AADT (veh/day)
    geom: Mapped[Any] = mapped_column(
        Geometry("LINESTRING", srid=SRID, spatial_index=False), nullable=False
    )


class RouteAlias(Base):
    """Another code for a route (another source's spelling, or its code before a renumbering)."""

    __tablename__ = "route_aliases"

    admin_code: Mapped[str] = mapped_column(String(32), primary_key=True, server_default="")
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    route_code: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class Survey(Base):
    """One delivered survey file from a provider."""

    __tablename__ = "surveys"
    # Not unique: the same bytes may be imported again with other options (``replace``).
    __table_args__ = (
        Index("ix_surveys_sha256", "sha256"),
        # ...but the same bytes read the same way are one survey, even under concurrent
        # imports (corrections aside; migration 0007).
        Index(
            "uq_surveys_file",
            "admin_code",
            "sha256",
            "options",
            unique=True,
            postgresql_where=text("corrects_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_code: Mapped[str] = mapped_column(String(32), server_default="")
    provider: Mapped[str] = mapped_column(Text)
    surveyed_on: Mapped[dt.date] = mapped_column(Date)
    source_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    rows_total: Mapped[int] = mapped_column(Integer, server_default="0")
    rows_accepted: Mapped[int] = mapped_column(Integer, server_default="0")
    rows_review: Mapped[int] = mapped_column(Integer, server_default="0")
    rows_rejected: Mapped[int] = mapped_column(Integer, server_default="0")
    rejected_file: Mapped[str | None] = mapped_column(Text)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    # The login that imported it: its hazards' ``created`` events' recorded_by (migration 0018)
    imported_by: Mapped[str | None] = mapped_column(Text, server_default=func.current_user())
    # How the file was read (sheet, layer, header row, column mapping, CRS, encoding): the same
    # bytes with the same options are the same survey (migration 0004).
    options: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="SET NULL"))


class Hazard(Base):
    """One hazard site, attached to a road segment at a chainage."""

    __tablename__ = "hazards"
    __table_args__ = (
        UniqueConstraint("public_id"),
        # One hazard per survey row, even under concurrent imports (migration 0007).
        UniqueConstraint("admin_code", "survey_id", "source_line"),
        Index("ix_hazards_geom", "geom", postgresql_using="gist"),
        # Linear hazards only: points have no extent (migration 0011).
        Index(
            "ix_hazards_extent",
            "extent",
            postgresql_using="gist",
            postgresql_where=text("extent IS NOT NULL"),
        ),
        Index("ix_hazards_road_id", "road_id"),
        Index("ix_hazards_status", "status"),
        CheckConstraint(_in("tier", TIERS), name="tier"),
        CheckConstraint(_in("provided_tier", TIERS), name="provided_tier"),
        CheckConstraint(_in("tier_override", TIERS), name="tier_override"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("created_status", STATUSES), name="created_status"),
        CheckConstraint(_in("match_status", MATCH_STATUSES), name="match_status"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        CheckConstraint(
            "estimated_cost_cny IS NULL OR estimated_cost_cny >= 0", name="cost_nonneg"
        ),
        CheckConstraint(
            "tier_override IS NULL OR tier_override_reason IS NOT NULL", name="override_reason"
        ),
        # A linear hazard's chainage range: both ends or neither, in order (migration 0009).
        CheckConstraint(
            "(from_m IS NULL) = (to_m IS NULL) AND (from_m IS NULL OR from_m <= to_m)",
            name="linear_range",
        ),
        # Room on each page for a new version of its rows: rescoring updates unindexed
        # columns only, and stays HOT (no index writes) when the page has room (migration 0002).
        {"postgresql_with": {"fillfactor": 40}},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32))
    admin_code: Mapped[str] = mapped_column(String(32), server_default="")
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="SET NULL"))
    provider_row_id: Mapped[str | None] = mapped_column(Text)
    source_line: Mapped[int | None] = mapped_column(Integer)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    content_hash: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(Text)
    category_raw: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    risk: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    score: Mapped[float | None] = mapped_column(Float)
    tier: Mapped[str | None] = mapped_column(String(3))
    provided_tier: Mapped[str | None] = mapped_column(String(3))
    tier_override: Mapped[str | None] = mapped_column(String(3))
    tier_override_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="identified")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    road_id: Mapped[int | None] = mapped_column(ForeignKey("roads.id", ondelete="SET NULL"))
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("road_segments.id", ondelete="SET NULL")
    )
    chainage_m: Mapped[float | None] = mapped_column(Float)
    snap_distance_m: Mapped[float | None] = mapped_column(Float)
    match_method: Mapped[str | None] = mapped_column(String(32))
    match_status: Mapped[str] = mapped_column(String(16), server_default="accepted")
    review_reason: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[str] | None] = mapped_column(JSONB)
    countermeasure: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(8))
    estimated_cost_cny: Mapped[float | None] = mapped_column(Float)
    provided_cost_cny: Mapped[float | None] = mapped_column(Float)
    length_m: Mapped[float | None] = mapped_column(Float)
    photo: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any | None] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=False), nullable=True
    )
    # A linear hazard (migration 0009): its chainage range and the run along the route
    # between them; NULL for a point hazard (chainage_m stays the point).
    from_m: Mapped[float | None] = mapped_column(Float)
    to_m: Mapped[float | None] = mapped_column(Float)
    extent: Mapped[Any | None] = mapped_column(
        Geometry("LINESTRING", srid=SRID, spatial_index=False), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    # The status a survey import gave it: its ``created`` event, which the ``hazard_history``
    # view makes from this row and its survey's (migration 0018); NULL where the event is a
    # row of hazard_events (or there is none).
    created_status: Mapped[str | None] = mapped_column(String(16))


class HazardEvent(Base):
    """Append-only history of a hazard (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "hazard_events"
    __table_args__ = (
        Index("ix_hazard_events_hazard_id", "hazard_id"),
        CheckConstraint(_in("from_status", STATUSES), name="from_status"),
        CheckConstraint(_in("to_status", STATUSES), name="to_status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id", ondelete="CASCADE"))
    # the hazard's, filled by a trigger when not given (migration 0006; docs/scaling.md)
    admin_code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32), server_default="status")
    happened_on: Mapped[dt.date] = mapped_column(Date, server_default=func.current_date())
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    by: Mapped[str | None] = mapped_column(Text)
    # who recorded it, from the database (the free-text ``by`` is only a note); migration 0005
    recorded_by: Mapped[str | None] = mapped_column(Text, server_default=func.current_user())
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Plan(Base):
    """A remediation plan: its batches, as created (the whole ``plan create`` report)."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("admin_code", "name"),
        CheckConstraint(_in("status", PLAN_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_code: Mapped[str] = mapped_column(String(32), server_default="")
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    budget_cny: Mapped[float] = mapped_column(Float)
    spent_cny: Mapped[float] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    committed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Batch(Base):
    """A remediation batch (one contract) of a plan."""

    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("admin_code", "name"),
        CheckConstraint(_in("status", BATCH_STATUSES), name="status"),
        CheckConstraint("budget_cny IS NULL OR budget_cny >= 0", name="budget_nonneg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_code: Mapped[str] = mapped_column(String(32), server_default="")
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    plan_name: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(Integer, server_default="1")
    contractor: Mapped[str | None] = mapped_column(Text)
    budget_cny: Mapped[float | None] = mapped_column(Float)
    cost_cny: Mapped[float] = mapped_column(Float, server_default="0")
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class BatchItem(Base):
    """A hazard assigned to a batch."""

    __tablename__ = "batch_items"
    __table_args__ = (
        Index("ix_batch_items_hazard_id", "hazard_id"),
        CheckConstraint("cost_cny >= 0", name="cost_nonneg"),
    )

    batch_id: Mapped[int] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True
    )
    hazard_id: Mapped[int] = mapped_column(
        ForeignKey("hazards.id", ondelete="CASCADE"), primary_key=True
    )
    # the hazard's, filled by a trigger when not given (migration 0006; docs/scaling.md)
    admin_code: Mapped[str] = mapped_column(String(32))
    cost_cny: Mapped[float] = mapped_column(Float, server_default="0")


class Recheck(Base):
    """A re-check (回头看) of finished work: planned, then recorded pass or fail."""

    __tablename__ = "rechecks"
    __table_args__ = (
        Index("ix_rechecks_hazard_id", "hazard_id"),
        CheckConstraint(_in("result", RECHECK_RESULTS), name="result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id", ondelete="CASCADE"))
    # the hazard's, filled by a trigger when not given (migration 0006; docs/scaling.md)
    admin_code: Mapped[str] = mapped_column(String(32))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id", ondelete="SET NULL"))
    planned_on: Mapped[dt.date | None] = mapped_column(Date)
    checked_on: Mapped[dt.date | None] = mapped_column(Date)
    result: Mapped[str | None] = mapped_column(String(8))
    by: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class StatusTransition(Base):
    """The allowed status changes, as a table (``vocabulary.TRANSITIONS``, written by migration
    0005) for the database's own checks (``hazards_record_completion``)."""

    __tablename__ = "status_transitions"

    from_status: Mapped[str] = mapped_column(String(16), primary_key=True)
    to_status: Mapped[str] = mapped_column(String(16), primary_key=True)


class UserContractor(Base):
    """Which contractor (``batches.contractor``) a contractor login works for (docs/shared-server.md)."""

    __tablename__ = "user_contractors"

    role_name: Mapped[str] = mapped_column(Text, primary_key=True)
    contractor: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class WriterLock(Base):
    """Who holds a writer's advisory lock (``hazards.db.store.locks``): one row per subject and
    server process, read by a second writer to say what it waits for (migration 0007)."""

    __tablename__ = "writer_locks"

    subject: Mapped[str] = mapped_column(String(32), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class Crash(Base):
    """A crash from a police record (issue 17, ``hazards.crashes``): one per (source, crash id),
    never merged with another; attached to the nearest route within ``crash_snap_m`` or kept
    unattached (``road_id`` NULL). No foreign keys: the network may be reloaded under it."""

    __tablename__ = "crashes"
    __table_args__ = (
        Index("ix_crashes_geom", "geom", postgresql_using="gist"),
        Index("ix_crashes_admin_code_route_code", "admin_code", "route_code"),
        Index("ix_crashes_occurred_on", "occurred_on"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
    )

    admin_code: Mapped[str] = mapped_column(String(32), primary_key=True, server_default="")
    source: Mapped[str] = mapped_column(Text, primary_key=True)
    crash_id: Mapped[str] = mapped_column(Text, primary_key=True)
    source_file: Mapped[str | None] = mapped_column(Text)
    source_line: Mapped[int | None] = mapped_column(Integer)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    occurred_time: Mapped[dt.time | None] = mapped_column(Time)
    fatalities: Mapped[int | None] = mapped_column(Integer)
    injuries: Mapped[int | None] = mapped_column(Integer)
    serious_injuries: Mapped[int | None] = mapped_column(Integer)
    minor_injuries: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str | None] = mapped_column(String(1))
    crash_type: Mapped[str | None] = mapped_column(Text)
    weather: Mapped[str | None] = mapped_column(Text)
    light: Mapped[str | None] = mapped_column(Text)
    route_code: Mapped[str | None] = mapped_column(Text)
    road_id: Mapped[int | None] = mapped_column(Integer)
    segment_id: Mapped[int | None] = mapped_column(Integer)
    part: Mapped[int | None] = mapped_column(Integer)
    chainage_m: Mapped[float | None] = mapped_column(Float)
    snap_distance_m: Mapped[float | None] = mapped_column(Float)
    match_method: Mapped[str | None] = mapped_column(String(16))
    junction: Mapped[str | None] = mapped_column(Text)  # the node's key (hazards.junctions)
    junction_lon: Mapped[float | None] = mapped_column(Float)
    junction_lat: Mapped[float | None] = mapped_column(Float)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(String(40))
    warnings: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    geom: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=False), nullable=True
    )
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
