"""a limit ends with the level it belongs to (a renewal to a plan without that level), and stays in the history

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('limits') as batch:
        batch.add_column(sa.Column('ended_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('limits') as batch:
        batch.drop_column('ended_on')
