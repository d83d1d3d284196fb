"""Alembic environment for the ledger's migrations.

Migrations run through ``storage.schema.migrate(url)``, which opens the
connection, takes a lock (SQLite write lock, PostgreSQL advisory lock) and
hands the connection in ``config.attributes["connection"]``: every process
of a server may call it at start-up at once, and one of them migrates.
"""
from alembic import context

from tariff.storage.models import Base
from tariff.storage.schema import made_on

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with storage.migrate(url), which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
    include_object=made_on(connection.dialect.name),
)
with context.begin_transaction():
    context.run_migrations()
