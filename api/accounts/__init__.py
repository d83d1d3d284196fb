"""Accounts and ledger endpoints under /v1: organizations, members, seats,
limits, credits, usage, summaries, invoices, notifications, billing runs.

The views call ``storage.Ledger`` (one unit of work per request, decided by
the engine's active policy set). The ledger's database is
``DATABASE_URL`` in the app config, else ``TARIFF_DATABASE_URL``, else a
SQLite file in the app's instance folder; it is migrated when the blueprint
is registered (every worker at start-up; see storage.schema).
"""
from __future__ import annotations

from tariff.storage import Database, Ledger, database_url, migrate

from ..observed import ObservedEvaluator
from ..services import services
from .blueprint import EXTENSION, blp
from . import billing, organizations, usage  # noqa: F401  (their routes)


def _open_ledger(state) -> None:
    app = state.app
    url = app.config.get("DATABASE_URL") or database_url(app.instance_path)
    migrate(url)
    # The active set (a reload replaces it), its decisions logged and counted.
    app.extensions[EXTENSION] = Ledger(Database(url), lambda: ObservedEvaluator(services().policies.active(),
                                                                                services()))


blp.record_once(_open_ledger)

__all__ = ["blp"]
