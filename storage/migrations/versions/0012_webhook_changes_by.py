"""webhook endpoints and retries name who made them (the key's id), and a deleted endpoint is kept, marked

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

import tariff.storage.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_endpoints') as batch:
        batch.add_column(sa.Column('created_by', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('deleted_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('deleted_by', sa.String(length=32), nullable=True))
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.add_column(sa.Column('retried_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('retried_by', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.drop_column('retried_by')
        batch.drop_column('retried_at')
    with op.batch_alter_table('webhook_endpoints') as batch:
        batch.drop_column('deleted_by')
        batch.drop_column('deleted_at')
        batch.drop_column('created_by')
