"""unique keys carry the organization, and invoice lines name theirs (docs/scaling.md, Citus)

Invoice numbers ("<organization id>-YYYY-MM") and webhook event ids (random)
are unique across organizations by the way they are made; the constraints
now say so per organization, as a table distributed by organization can
enforce. A webhook delivery is unique per its event's organization, endpoint
and event (the same rows as before: the event names the organization).
Invoice lines get their invoice's ``org_pk``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# table, the unique constraint's old columns, its new ones
UNIQUE = (
    ('invoices', ['number'], ['org_pk', 'number']),
    ('webhook_events', ['id'], ['org_pk', 'id']),
    ('webhook_deliveries', ['endpoint_pk', 'event_pk'], ['org_pk', 'endpoint_pk', 'event_pk']),
)


def _name(table: str, columns: list[str]) -> str:
    return f"uq_{table}_{'_'.join(columns)}"  # models.NAMING's "uq"


def upgrade() -> None:
    with op.batch_alter_table('invoice_lines') as batch:
        batch.add_column(sa.Column('org_pk', sa.Integer(), nullable=True))
    op.execute("UPDATE invoice_lines SET org_pk = "
               "(SELECT invoices.org_pk FROM invoices WHERE invoices.pk = invoice_lines.invoice_pk)")
    with op.batch_alter_table('invoice_lines') as batch:
        batch.alter_column('org_pk', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(op.f('fk_invoice_lines_org_pk_organizations'), 'organizations', ['org_pk'], ['pk'])
    for table, old, new in UNIQUE:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(_name(table, old)), type_='unique')
            batch.create_unique_constraint(op.f(_name(table, new)), new)


def downgrade() -> None:
    for table, old, new in UNIQUE:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(_name(table, new)), type_='unique')
            batch.create_unique_constraint(op.f(_name(table, old)), old)
    with op.batch_alter_table('invoice_lines') as batch:
        batch.drop_constraint(op.f('fk_invoice_lines_org_pk_organizations'), type_='foreignkey')
        batch.drop_column('org_pk')
