"""initial schema: roads, segments, surveys, hazards, append-only events, batches, re-checks

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 10:09:26.479422
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION hazard_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'hazard_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admin_code', sa.String(length=32), server_default='', nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('budget_cny', sa.Float(), nullable=False),
    sa.Column('spent_cny', sa.Float(), nullable=False),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'committed')", name=op.f('ck_plans_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('admin_code', 'name', name=op.f('uq_plans_admin_code_name'))
    )
    op.create_table('batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admin_code', sa.String(length=32), server_default='', nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('plan_name', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('seq', sa.Integer(), server_default='1', nullable=False),
    sa.Column('contractor', sa.Text(), nullable=True),
    sa.Column('budget_cny', sa.Float(), nullable=True),
    sa.Column('cost_cny', sa.Float(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'issued', 'closed')", name=op.f('ck_batches_status')),
    sa.CheckConstraint('budget_cny IS NULL OR budget_cny >= 0', name=op.f('ck_batches_budget_nonneg')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_batches_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    sa.UniqueConstraint('admin_code', 'name', name=op.f('uq_batches_admin_code_name'))
    )
    op.create_table('metadata',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_metadata'))
    )
    op.create_table('roads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admin_code', sa.String(length=32), server_default='', nullable=False),
    sa.Column('route_code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('road_class', sa.String(length=16), server_default='other', nullable=False),
    sa.Column('township', sa.Text(), nullable=True),
    sa.Column('length_m', sa.Float(), server_default='0', nullable=False),
    sa.Column('end_m', sa.Float(), server_default='0', nullable=False),
    sa.Column('gap_m', sa.Float(), server_default='0', nullable=False),
    sa.Column('parts', sa.Integer(), server_default='1', nullable=False),
    sa.Column('has_gap', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('has_branch', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('unassigned', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('checksum', sa.String(length=40), nullable=True),
    sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("road_class IN ('national', 'provincial', 'county', 'township', 'village', 'special', 'other')", name=op.f('ck_roads_road_class')),
    sa.CheckConstraint('length_m >= 0', name=op.f('ck_roads_length_nonneg')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roads')),
    sa.UniqueConstraint('admin_code', 'route_code', name=op.f('uq_roads_admin_code_route_code'))
    )
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admin_code', sa.String(length=32), server_default='', nullable=False),
    sa.Column('provider', sa.Text(), nullable=False),
    sa.Column('surveyed_on', sa.Date(), nullable=False),
    sa.Column('source_name', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows_total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_accepted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_review', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_rejected', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejected_file', sa.Text(), nullable=True),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('sha256', name=op.f('uq_surveys_sha256'))
    )
    op.create_table('road_segments',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('admin_code', sa.String(length=32), server_default='', nullable=False),
    sa.Column('road_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), server_default='0', nullable=False),
    sa.Column('from_m', sa.Float(), nullable=False),
    sa.Column('to_m', sa.Float(), nullable=False),
    sa.Column('length_m', sa.Float(), nullable=False),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('township', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint('to_m >= from_m', name=op.f('ck_road_segments_chainage_order')),
    sa.ForeignKeyConstraint(['road_id'], ['roads.id'], name=op.f('fk_road_segments_road_id_roads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_road_segments'))
    )
    op.create_index('ix_road_segments_geom', 'road_segments', ['geom'], unique=False, postgresql_using='gist')
    op.create_index('ix_road_segments_road_id', 'road_segments', ['road_id'], unique=False)
    op.create_table('hazards',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('admin_code', sa.String(length=32), server_default='', nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=True),
    sa.Column('provider_row_id', sa.Text(), nullable=True),
    sa.Column('source_line', sa.Integer(), nullable=True),
    sa.Column('raw', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('content_hash', sa.String(length=40), nullable=True),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('category_raw', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('risk', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('tier', sa.String(length=3), nullable=True),
    sa.Column('provided_tier', sa.String(length=3), nullable=True),
    sa.Column('tier_override', sa.String(length=3), nullable=True),
    sa.Column('tier_override_reason', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='identified', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('road_id', sa.Integer(), nullable=True),
    sa.Column('segment_id', sa.BigInteger(), nullable=True),
    sa.Column('chainage_m', sa.Float(), nullable=True),
    sa.Column('snap_distance_m', sa.Float(), nullable=True),
    sa.Column('match_method', sa.String(length=32), nullable=True),
    sa.Column('match_status', sa.String(length=16), server_default='accepted', nullable=False),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('warnings', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('countermeasure', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=8), nullable=True),
    sa.Column('estimated_cost_cny', sa.Float(), nullable=True),
    sa.Column('provided_cost_cny', sa.Float(), nullable=True),
    sa.Column('length_m', sa.Float(), nullable=True),
    sa.Column('photo', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("match_status IN ('accepted', 'review', 'rejected')", name=op.f('ck_hazards_match_status')),
    sa.CheckConstraint("provided_tier IN ('I', 'II', 'III')", name=op.f('ck_hazards_provided_tier')),
    sa.CheckConstraint("status IN ('identified', 'review', 'planned', 'in_progress', 'reported_done', 'verified', 'reopened', 'rejected')", name=op.f('ck_hazards_status')),
    sa.CheckConstraint("tier IN ('I', 'II', 'III')", name=op.f('ck_hazards_tier')),
    sa.CheckConstraint("tier_override IN ('I', 'II', 'III')", name=op.f('ck_hazards_tier_override')),
    sa.CheckConstraint('estimated_cost_cny IS NULL OR estimated_cost_cny >= 0', name=op.f('ck_hazards_cost_nonneg')),
    sa.CheckConstraint('score IS NULL OR (score >= 0 AND score <= 100)', name=op.f('ck_hazards_score_range')),
    sa.CheckConstraint('tier_override IS NULL OR tier_override_reason IS NOT NULL', name=op.f('ck_hazards_override_reason')),
    sa.ForeignKeyConstraint(['road_id'], ['roads.id'], name=op.f('fk_hazards_road_id_roads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['segment_id'], ['road_segments.id'], name=op.f('fk_hazards_segment_id_road_segments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_hazards_survey_id_surveys'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazards')),
    sa.UniqueConstraint('public_id', name=op.f('uq_hazards_public_id'))
    )
    op.create_index('ix_hazards_geom', 'hazards', ['geom'], unique=False, postgresql_using='gist')
    op.create_index('ix_hazards_road_id', 'hazards', ['road_id'], unique=False)
    op.create_index('ix_hazards_status', 'hazards', ['status'], unique=False)
    op.create_table('batch_items',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.BigInteger(), nullable=False),
    sa.Column('cost_cny', sa.Float(), server_default='0', nullable=False),
    sa.CheckConstraint('cost_cny >= 0', name=op.f('ck_batch_items_cost_nonneg')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_batch_items_batch_id_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazards.id'], name=op.f('fk_batch_items_hazard_id_hazards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('batch_id', 'hazard_id', name=op.f('pk_batch_items'))
    )
    op.create_index('ix_batch_items_hazard_id', 'batch_items', ['hazard_id'], unique=False)
    op.create_table('hazard_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('hazard_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), server_default='status', nullable=False),
    sa.Column('happened_on', sa.Date(), server_default=sa.text('CURRENT_DATE'), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('by', sa.Text(), nullable=True),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.CheckConstraint("from_status IN ('identified', 'review', 'planned', 'in_progress', 'reported_done', 'verified', 'reopened', 'rejected')", name=op.f('ck_hazard_events_from_status')),
    sa.CheckConstraint("to_status IN ('identified', 'review', 'planned', 'in_progress', 'reported_done', 'verified', 'reopened', 'rejected')", name=op.f('ck_hazard_events_to_status')),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazards.id'], name=op.f('fk_hazard_events_hazard_id_hazards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_events'))
    )
    op.create_index('ix_hazard_events_hazard_id', 'hazard_events', ['hazard_id'], unique=False)
    op.create_table('rechecks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.BigInteger(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('checked_on', sa.Date(), nullable=True),
    sa.Column('result', sa.String(length=8), nullable=True),
    sa.Column('by', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("result IN ('pass', 'fail')", name=op.f('ck_rechecks_result')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_rechecks_batch_id_batches'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazards.id'], name=op.f('fk_rechecks_hazard_id_hazards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rechecks'))
    )
    op.create_index('ix_rechecks_hazard_id', 'rechecks', ['hazard_id'], unique=False)
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(
        "CREATE TRIGGER hazard_events_append_only BEFORE UPDATE OR DELETE ON hazard_events "
        "FOR EACH ROW EXECUTE FUNCTION hazard_events_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS hazard_events_append_only ON hazard_events")
    op.execute("DROP FUNCTION IF EXISTS hazard_events_append_only()")
    op.drop_index('ix_rechecks_hazard_id', table_name='rechecks')
    op.drop_table('rechecks')
    op.drop_index('ix_hazard_events_hazard_id', table_name='hazard_events')
    op.drop_table('hazard_events')
    op.drop_index('ix_batch_items_hazard_id', table_name='batch_items')
    op.drop_table('batch_items')
    op.drop_index('ix_hazards_status', table_name='hazards')
    op.drop_index('ix_hazards_road_id', table_name='hazards')
    op.drop_index('ix_hazards_geom', table_name='hazards', postgresql_using='gist')
    op.drop_table('hazards')
    op.drop_index('ix_road_segments_road_id', table_name='road_segments')
    op.drop_index('ix_road_segments_geom', table_name='road_segments', postgresql_using='gist')
    op.drop_table('road_segments')
    op.drop_table('surveys')
    op.drop_table('roads')
    op.drop_table('metadata')
    op.drop_table('batches')
    op.drop_table('plans')
