"""a member is removed by marking the row (their seat is free, their usage, charges and invoice lines stay);
automatic top-ups of credits (when a usage takes the balance below a threshold, buy an amount, capped per period)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

import tariff.storage.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('removed_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'auto_top_ups',
        sa.Column('pk', sa.Integer(), nullable=False),
        sa.Column('org_pk', sa.Integer(), nullable=False),
        sa.Column('below', tariff.storage.types.Money(precision=30, scale=9), nullable=False),
        sa.Column('amount', tariff.storage.types.Money(precision=30, scale=9), nullable=False),
        sa.Column('monthly_cap', tariff.storage.types.Money(precision=30, scale=9), nullable=False),
        sa.Column('member_pk', sa.Integer(), nullable=False),
        sa.Column('updated_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_pk'], ['members.pk'], name=op.f('fk_auto_top_ups_member_pk_members')),
        sa.ForeignKeyConstraint(['org_pk'], ['organizations.pk'], name=op.f('fk_auto_top_ups_org_pk_organizations')),
        sa.PrimaryKeyConstraint('pk', name=op.f('pk_auto_top_ups')),
        sa.UniqueConstraint('org_pk', name=op.f('uq_auto_top_ups_org_pk')),
    )


def downgrade() -> None:
    op.drop_table('auto_top_ups')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('removed_at')
