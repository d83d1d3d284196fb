"""who made and who revoked each API key (an admin key's id, "local" or "cli")

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('keys') as batch:
        batch.add_column(sa.Column('created_by', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('revoked_by', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('keys') as batch:
        batch.drop_column('revoked_by')
        batch.drop_column('created_by')
