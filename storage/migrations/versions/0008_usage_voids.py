"""usage voids: a recorded usage taken back while its period is open (what it had billed, the credits given back)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

import tariff.storage.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'usage_voids',
        sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('org_pk', sa.Integer(), nullable=False),
        sa.Column('usage_record_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('billed', tariff.storage.types.Money(precision=30, scale=9), nullable=False),
        sa.Column('included', tariff.storage.types.Money(precision=30, scale=9), nullable=False),
        sa.Column('credited', tariff.storage.types.Money(precision=30, scale=9), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('created_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_pk'], ['organizations.pk'], name=op.f('fk_usage_voids_org_pk_organizations')),
        sa.ForeignKeyConstraint(['usage_record_pk'], ['usage_records.pk'],
                                name=op.f('fk_usage_voids_usage_record_pk_usage_records')),
        sa.PrimaryKeyConstraint('pk', name=op.f('pk_usage_voids')),
        sa.UniqueConstraint('org_pk', 'usage_record_pk', name=op.f('uq_usage_voids_org_pk_usage_record_pk')),
    )


def downgrade() -> None:
    op.drop_table('usage_voids')
