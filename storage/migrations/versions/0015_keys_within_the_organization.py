"""every key of an organization's table carries the organization (docs/scaling.md, Citus)

The primary key of each table distributed by organization becomes
``(org_pk, pk)``, and a key from one such table to another becomes
``(org_pk, <column>) -> (org_pk, pk)``: Citus requires the distribution
column in every primary key and in every foreign key between distributed
tables. ``pk`` keeps its sequence. The indexes on ``(org_pk, pk)`` that the
primary key now is are dropped.

SQLite auto-increments only a lone ``INTEGER PRIMARY KEY`` (the rowid), so
there ``pk`` stays the primary key (unique by itself); the tables the new
keys point at get a unique index on ``(org_pk, pk)`` instead (models.org_key).
A row pointing at another organization's row makes the migration fail (on
PostgreSQL when the key is made, on SQLite at storage.schema's
``foreign_key_check``) and leaves the schema as it was.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

TABLES = ('members', 'limits', 'credit_entries', 'auto_top_ups', 'usage_records', 'notifications', 'seat_changes',
          'charges', 'invoices', 'invoice_lines', 'events', 'webhook_events', 'webhook_deliveries', 'usage_voids')
# child table: [(column, parent table)]
KEYS = {
    'limits': [('set_by', 'members')],
    'credit_entries': [('member_pk', 'members'), ('usage_record_pk', 'usage_records')],
    'auto_top_ups': [('member_pk', 'members')],
    'usage_records': [('member_pk', 'members')],
    'notifications': [('member_pk', 'members'), ('usage_record_pk', 'usage_records')],
    'seat_changes': [('member_pk', 'members'), ('actor_pk', 'members')],
    'charges': [('seat_change_pk', 'seat_changes')],
    'invoice_lines': [('invoice_pk', 'invoices')],
    'events': [('actor_pk', 'members')],
    'webhook_deliveries': [('event_pk', 'webhook_events')],
    'usage_voids': [('usage_record_pk', 'usage_records')],
}
# SQLite's unique (org_pk, pk) indexes (models.org_key(sqlite_index=True)), and the plain
# indexes on those columns they (and PostgreSQL's new primary keys) replace
SQLITE_INDEXED = ('members', 'credit_entries', 'usage_records', 'seat_changes', 'invoices', 'events', 'webhook_events')
REPLACED = {'credit_entries': 'ix_credit_entries_org', 'events': 'ix_events_org', 'seat_changes': 'ix_seat_changes_org'}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _fk(table: str, column: str, parent: str) -> str:
    return f"fk_{table}_{column}_{parent}"  # models.org_fk: the one-column key's name


def upgrade() -> None:
    for table, index in REPLACED.items():
        op.drop_index(index, table_name=table)
    if _sqlite():
        for table in SQLITE_INDEXED:
            op.create_index(f"uq_{table}_org_pk_pk", table, ['org_pk', 'pk'], unique=True)
    else:
        for table, keys in KEYS.items():  # they hold the primary keys about to change
            for column, parent in keys:
                op.drop_constraint(_fk(table, column, parent), table, type_='foreignkey')
        for table in TABLES:
            op.drop_constraint(f"pk_{table}", table, type_='primary')
            op.create_primary_key(f"pk_{table}", table, ['org_pk', 'pk'])
    for table, keys in KEYS.items():
        with op.batch_alter_table(table) as batch:  # SQLite: one copy of the table for all its keys
            for column, parent in keys:
                if _sqlite():
                    batch.drop_constraint(_fk(table, column, parent), type_='foreignkey')
                batch.create_foreign_key(_fk(table, column, parent), parent, ['org_pk', column], ['org_pk', 'pk'])


def downgrade() -> None:
    if _sqlite():
        for table, keys in KEYS.items():
            with op.batch_alter_table(table) as batch:
                for column, parent in keys:
                    batch.drop_constraint(_fk(table, column, parent), type_='foreignkey')
                    batch.create_foreign_key(_fk(table, column, parent), parent, [column], ['pk'])
        for table in SQLITE_INDEXED:
            op.drop_index(f"uq_{table}_org_pk_pk", table_name=table)
    else:
        for table, keys in KEYS.items():
            for column, parent in keys:
                op.drop_constraint(_fk(table, column, parent), table, type_='foreignkey')
        for table in TABLES:
            op.drop_constraint(f"pk_{table}", table, type_='primary')
            op.create_primary_key(f"pk_{table}", table, ['pk'])
        for table, keys in KEYS.items():
            for column, parent in keys:
                op.create_foreign_key(_fk(table, column, parent), table, parent, [column], ['pk'])
    for table, index in REPLACED.items():
        op.create_index(index, table, ['org_pk', 'pk'])
