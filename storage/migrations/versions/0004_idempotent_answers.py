"""the first answer of every request made with an Idempotency-Key (seats, members, limits, organizations,
billing runs), kept for the retention window

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

import tariff.storage.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'idempotent_answers',
        sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('scope', sa.String(length=64), nullable=False),
        sa.Column('idempotency_key', sa.String(length=255), nullable=False),
        sa.Column('operation', sa.String(length=64), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('created_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('pk', name=op.f('pk_idempotent_answers')),
        sa.UniqueConstraint('scope', 'idempotency_key', name=op.f('uq_idempotent_answers_scope_idempotency_key')),
    )
    op.create_index('ix_idempotent_answers_created', 'idempotent_answers', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_idempotent_answers_created', table_name='idempotent_answers')
    op.drop_table('idempotent_answers')
