"""organization ids unique in a shared table of their own (docs/scaling.md, Citus)

``organizations`` is distributed by ``pk``; Citus keeps unique only what
includes the distribution column, so the ids' uniqueness moves to
``organization_ids (id -> org_pk)``, a reference table every lookup by id
reads first (then the organization's row by pk, on its shard). The ids stay
on ``organizations`` too (indexed, no longer unique there).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'organization_ids',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('org_pk', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_ids')),
        sa.UniqueConstraint('org_pk', name=op.f('uq_organization_ids_org_pk')),
    )
    op.execute("INSERT INTO organization_ids (id, org_pk) SELECT id, pk FROM organizations ORDER BY pk")
    with op.batch_alter_table('organizations') as batch:
        batch.drop_constraint(op.f('uq_organizations_id'), type_='unique')
        batch.create_index(op.f('ix_organizations_id'), ['id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('organizations') as batch:
        batch.drop_index(op.f('ix_organizations_id'))
        batch.create_unique_constraint(op.f('uq_organizations_id'), ['id'])
    op.drop_table('organization_ids')
