"""keep the engine request of each applied decision, for what-if replays

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER a table in place for every change
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('request', sa.Text(), nullable=True))
    with op.batch_alter_table('usage_records') as batch:
        batch.add_column(sa.Column('request', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('usage_records') as batch:
        batch.drop_column('request')
    with op.batch_alter_table('events') as batch:
        batch.drop_column('request')
