"""API keys (only a hash of each secret), the shared secrets of the service (the session signing key), and
who made each event (the key's id and name)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

import tariff.storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'keys',
        sa.Column('pk', sa.Integer(), nullable=False),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('organization', sa.String(length=64), nullable=True),
        sa.Column('secret_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('pk', name=op.f('pk_keys')),
        sa.UniqueConstraint('id', name=op.f('uq_keys_id')),
    )
    op.create_table(
        'service_secrets',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('created_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_service_secrets')),
    )
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('key_id', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('key_name', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('events') as batch:
        batch.drop_column('key_name')
        batch.drop_column('key_id')
    op.drop_table('service_secrets')
    op.drop_table('keys')
