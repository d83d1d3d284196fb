"""each usage record names the key that recorded it (the audit trail's who, as events do)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('usage_records') as batch:
        batch.add_column(sa.Column('key_id', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('key_name', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('usage_records') as batch:
        batch.drop_column('key_name')
        batch.drop_column('key_id')
