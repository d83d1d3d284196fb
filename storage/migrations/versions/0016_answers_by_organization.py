"""kept idempotent answers carry their organization; those of none get a shared table (docs/scaling.md)

``idempotent_answers`` was keyed by ``scope``, the organization's public id
("" for operations of no organization: creating one, webhook endpoints;
"#keys" for API keys). An organization's answers now carry ``org_pk`` (key
``(org_pk, pk)``, unique ``(org_pk, idempotency_key)``), as every table
distributed by organization; the others move to ``shared_answers`` with
their scope (a Citus reference table). The answers
themselves are unchanged: a retry after the migration replays as before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

import tariff.storage.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

COLUMNS = "idempotency_key, operation, request_hash, answer, created_at"
NO_ORGANIZATION = "scope NOT IN (SELECT id FROM organizations)"  # "", "#keys"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    op.create_table(
        'shared_answers',
        sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('scope', sa.String(length=64), nullable=False),
        sa.Column('idempotency_key', sa.String(length=255), nullable=False),
        sa.Column('operation', sa.String(length=64), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('created_at', tariff.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('pk', name=op.f('pk_shared_answers')),
        sa.UniqueConstraint('scope', 'idempotency_key', name=op.f('uq_shared_answers_scope_idempotency_key')),
    )
    op.create_index('ix_shared_answers_created', 'shared_answers', ['created_at'], unique=False)
    op.execute(f"INSERT INTO shared_answers (scope, {COLUMNS}) SELECT scope, {COLUMNS} FROM idempotent_answers "
               f"WHERE {NO_ORGANIZATION} ORDER BY pk")
    op.execute(f"DELETE FROM idempotent_answers WHERE {NO_ORGANIZATION}")
    with op.batch_alter_table('idempotent_answers') as batch:
        batch.add_column(sa.Column('org_pk', sa.Integer(), nullable=True))
    op.execute("UPDATE idempotent_answers SET org_pk = "
               "(SELECT organizations.pk FROM organizations WHERE organizations.id = idempotent_answers.scope)")
    if not _sqlite():  # SQLite: pk stays the rowid (models.org_key)
        op.drop_constraint('pk_idempotent_answers', 'idempotent_answers', type_='primary')
        op.create_primary_key('pk_idempotent_answers', 'idempotent_answers', ['org_pk', 'pk'])
    with op.batch_alter_table('idempotent_answers') as batch:
        batch.alter_column('org_pk', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(op.f('fk_idempotent_answers_org_pk_organizations'), 'organizations',
                                 ['org_pk'], ['pk'])
        batch.drop_constraint(op.f('uq_idempotent_answers_scope_idempotency_key'), type_='unique')
        batch.create_unique_constraint(op.f('uq_idempotent_answers_org_pk_idempotency_key'),
                                       ['org_pk', 'idempotency_key'])
        batch.drop_column('scope')


def downgrade() -> None:
    with op.batch_alter_table('idempotent_answers') as batch:
        batch.add_column(sa.Column('scope', sa.String(length=64), nullable=True))
    op.execute("UPDATE idempotent_answers SET scope = "
               "(SELECT organizations.id FROM organizations WHERE organizations.pk = idempotent_answers.org_pk)")
    if not _sqlite():
        op.drop_constraint('pk_idempotent_answers', 'idempotent_answers', type_='primary')
        op.create_primary_key('pk_idempotent_answers', 'idempotent_answers', ['pk'])
    with op.batch_alter_table('idempotent_answers') as batch:
        batch.alter_column('scope', existing_type=sa.String(length=64), nullable=False)
        batch.drop_constraint(op.f('uq_idempotent_answers_org_pk_idempotency_key'), type_='unique')
        batch.create_unique_constraint(op.f('uq_idempotent_answers_scope_idempotency_key'),
                                       ['scope', 'idempotency_key'])
        batch.drop_constraint(op.f('fk_idempotent_answers_org_pk_organizations'), type_='foreignkey')
        batch.drop_column('org_pk')
    op.execute(f"INSERT INTO idempotent_answers (scope, {COLUMNS}) SELECT scope, {COLUMNS} FROM shared_answers "
               "ORDER BY pk")
    op.drop_index('ix_shared_answers_created', table_name='shared_answers')
    op.drop_table('shared_answers')
