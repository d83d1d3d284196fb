"""What can go wrong in the ledger, by kind; the HTTP layer maps kinds to
statuses (api/errors.py, the one map).

Every error has a stable ``code`` and a message; ``errors`` maps field paths
to messages where a field is at fault. A policy refusal carries the engine's
``Decision`` itself (reasons with the rules and SPEC rules they cite, ways to
resume), rendered only where it is answered. Bad decision input raises the
engine's own ``InputError``. A database that cannot serve the transaction
raises ``DatabaseBusy`` (retry shortly) or ``DatabaseUnavailable``.
"""
from __future__ import annotations

from tariff.engine import Decision


class LedgerError(Exception):
    code = "ledger_error"

    def __init__(self, message: str, code: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.errors = errors or {}


class NotFound(LedgerError):
    code = "not_found"


class Conflict(LedgerError):
    """The request contradicts the ledger's state (a duplicate id, a closed period)."""
    code = "conflict"


class MigrationRefused(Conflict):
    """A migration found rows its new constraints refuse (storage/schema.py); it was rolled
    back and the schema is as it was. The message names the constraint or the rows."""
    code = "migration_refused"


class InvalidInput(LedgerError):
    """A well-formed request that names things that do not fit (a seat type not on the plan)."""
    code = "invalid_request"

    @classmethod
    def field(cls, path: str, message: str, code: str | None = None) -> "InvalidInput":
        return cls(f"{path}: {message}", code, {path: [message]})


class Refused(LedgerError):
    """The policy refused or blocked the change; ``decision`` is the engine's ``Decision``."""

    def __init__(self, decision: Decision):
        reasons = decision.reasons
        code = reasons[0]["code"] if reasons else "refused"
        verdict = "refused" if decision.outcome == "refuse" else "blocked"
        why = "; ".join(f"{r['code']} ({', '.join(r.get('cites') or []) or 'no rule allows it'})" for r in reasons)
        super().__init__(f"the policy {verdict} this {decision.event}: {why}", code)
        self.decision = decision


class DatabaseUnavailable(Exception):
    """The database could not run the transaction (connection lost, server
    down, disk error); nothing was changed. Not a LedgerError: no state of the
    ledger is at fault, and a billing run for many organizations stops on it."""
    code = "database_unavailable"
    message = "the ledger's database is unavailable; retry later"
    detail: str | None = None  # which database and why, where a command reports it (schema.migrate)

    def __init__(self):
        super().__init__(self.message)


class DatabaseBusy(DatabaseUnavailable):
    """Another transaction held the lock too long (SQLite's busy timeout), or
    PostgreSQL rolled this one back to break a deadlock; retry shortly."""
    code = "database_busy"
    message = "the ledger is busy; retry shortly"
