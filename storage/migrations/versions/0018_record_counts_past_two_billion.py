"""a spend counter's record count as BIGINT

``spend_counters.records`` counts an organization's usage records of a month
(and its seat types' and members'). As INTEGER it ends at 2,147,483,647: one
organization at 830 records a second reaches it within a month, and
PostgreSQL then refused every usage record of that organization until the
month ended ("integer out of range"). SQLite's INTEGER has 64 bits already.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('spend_counters') as batch:
        batch.alter_column('records', type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('spend_counters') as batch:
        batch.alter_column('records', type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
