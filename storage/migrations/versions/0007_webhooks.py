"""webhooks: endpoints, the outbox of events written with the change they report, and one delivery per event and
endpoint (retries, leases)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

import tariff.storage.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'webhook_endpoints',
        sa.Column('pk', sa.Integer(), nullable=False),
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('org_pk', sa.Integer(), nullable=True),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('secret', sa.String(length=256), nullable=False),
        sa.Column('events', sa.Text(), nullable=True),
        sa.Column('created_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_pk'], ['organizations.pk'],
                                name=op.f('fk_webhook_endpoints_org_pk_organizations')),
        sa.PrimaryKeyConstraint('pk', name=op.f('pk_webhook_endpoints')),
        sa.UniqueConstraint('id', name=op.f('uq_webhook_endpoints_id')),
    )
    op.create_index(op.f('ix_webhook_endpoints_org_pk'), 'webhook_endpoints', ['org_pk'], unique=False)
    op.create_table(
        'webhook_events',
        sa.Column('pk', BIG_KEY, nullable=False),
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('org_pk', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=100), nullable=False),
        sa.Column('dedupe_key', sa.String(length=64), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_pk'], ['organizations.pk'],
                                name=op.f('fk_webhook_events_org_pk_organizations')),
        sa.PrimaryKeyConstraint('pk', name=op.f('pk_webhook_events')),
        sa.UniqueConstraint('id', name=op.f('uq_webhook_events_id')),
        sa.UniqueConstraint('org_pk', 'dedupe_key', name=op.f('uq_webhook_events_org_pk_dedupe_key')),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('pk', BIG_KEY, nullable=False),
        sa.Column('endpoint_pk', sa.Integer(), nullable=False),
        sa.Column('event_pk', BIG_KEY, nullable=False),
        sa.Column('org_pk', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('window_start', tariff.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('lease_until', tariff.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('lease_token', sa.String(length=32), nullable=True),
        sa.Column('last_attempt_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('delivered_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['endpoint_pk'], ['webhook_endpoints.pk'],
                                name=op.f('fk_webhook_deliveries_endpoint_pk_webhook_endpoints')),
        sa.ForeignKeyConstraint(['event_pk'], ['webhook_events.pk'],
                                name=op.f('fk_webhook_deliveries_event_pk_webhook_events')),
        sa.ForeignKeyConstraint(['org_pk'], ['organizations.pk'],
                                name=op.f('fk_webhook_deliveries_org_pk_organizations')),
        sa.PrimaryKeyConstraint('pk', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('endpoint_pk', 'event_pk', name=op.f('uq_webhook_deliveries_endpoint_pk_event_pk')),
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_webhook_deliveries_endpoint', 'webhook_deliveries', ['endpoint_pk', 'pk'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_endpoint', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_events')
    op.drop_index(op.f('ix_webhook_endpoints_org_pk'), table_name='webhook_endpoints')
    op.drop_table('webhook_endpoints')
