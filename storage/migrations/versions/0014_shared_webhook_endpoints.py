"""webhook endpoints are shared: no foreign key from them to organizations (docs/scaling.md, Citus)

An endpoint may serve every organization (``org_pk`` NULL), so the table is
one of the few shared ones (a Citus reference table, replicated to every
node), and Citus refuses a foreign key from a reference table to a
distributed one. The organization is checked when an endpoint is made, and
organizations are never deleted.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_endpoints') as batch:
        batch.drop_constraint(op.f('fk_webhook_endpoints_org_pk_organizations'), type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('webhook_endpoints') as batch:
        batch.create_foreign_key(op.f('fk_webhook_endpoints_org_pk_organizations'), 'organizations',
                                 ['org_pk'], ['pk'])
