"""tariff's ledger: organizations, members, seats, limits, credits, usage,
notifications and invoices, kept in SQLite (default) or PostgreSQL.

    from tariff.storage import Database, Ledger, migrate, database_url
    url = database_url()                 # TARIFF_DATABASE_URL, or instance/tariff.sqlite3
    migrate(url)                         # Alembic, to head; safe from every worker at once
    ledger = Ledger(Database(url), evaluator)
    ledger.record_usage("acme", idempotency_key="req-1", member="ana", product="chat",
                        model="claude-sonnet-4-6", tokens={"input": 1200, "output": 300})

The engine stays pure: the ledger builds each decision request from stored
state (requests.py), asks the Evaluator, and applies the decision's changes
in the same unit of work (unit_of_work.py). One module per resource holds its
operations (organizations, members, seats, limits, credits, usage, summary,
billing, invoices); ``Ledger`` forwards to them. See docs/ledger.md.
"""
from .config import ConfigError, check as check_settings, database_url
from .db import Database
from .errors import (Conflict, DatabaseBusy, DatabaseUnavailable, InvalidInput, LedgerError, MigrationRefused,
                     NotFound, Refused)
from .ledger import Ledger
from .limits import LimitSet
from .schema import current, downgrade, head_revision, migrate
from .usage import Authorization, UsageResult
from .verify import check_ledger
from . import webhooks  # noqa: F401  (installs the outbox's session events)

__all__ = ["Authorization", "ConfigError", "Conflict", "Database", "DatabaseBusy", "DatabaseUnavailable",
           "InvalidInput", "Ledger", "LedgerError", "LimitSet", "MigrationRefused", "NotFound", "Refused", "UsageResult",
           "check_ledger", "check_settings", "current", "database_url", "downgrade", "head_revision", "migrate"]
