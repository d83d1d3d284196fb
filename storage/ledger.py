"""``Ledger``: one object for callers (the API, the CLI, tests, benches) over
the services, one module per resource, each operation one unit of work
(unit_of_work.py). It holds nothing but the books and forwards each call:

    ledger = Ledger(Database(url), evaluator)
    ledger.add_seats("acme", actor="pat", count=2)   # = seats.add(ledger.books, "acme", ...)

Answers are JSON-safe dicts of the stored rows; where the engine decided
(limits, the usage pre-check and record, refusals) the result carries the
engine's ``Decision`` itself, for the caller to render.
"""
from __future__ import annotations

import functools
from datetime import datetime
from typing import Callable

from tariff.engine import Evaluator

from . import (billing, credits, idempotency, ingest, invoices, limits, members, organizations, seats, summary,
               top_ups, usage, voids)
from .db import Database
from .unit_of_work import Books, utc_now


def _forward(operation: Callable) -> Callable:
    @functools.wraps(operation)
    def method(self: "Ledger", *args, **kwargs):
        return operation(self.books, *args, **kwargs)
    return method


class Ledger:
    """``evaluator``: an Evaluator, or a function returning the one to use now
    (a reload replaces it). ``clock`` returns the current aware datetime."""

    def __init__(self, database: Database, evaluator: Evaluator | Callable[[], Evaluator],
                 clock: Callable[[], datetime] = utc_now):
        self.books = Books(database, evaluator, clock)

    @property
    def db(self) -> Database:
        return self.books.db

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.books.clock

    @property
    def policy(self):
        return self.books.evaluator.policy

    # organizations and members
    create_organization = _forward(organizations.create)
    get_organization = _forward(organizations.get)
    list_organizations = _forward(organizations.list_page)
    update_organization = _forward(organizations.update)
    add_member = _forward(members.add)
    get_member = _forward(members.get)
    list_members = _forward(members.list_all)
    change_member = _forward(members.change)
    remove_member = _forward(members.remove)
    transfer_primary_owner = _forward(members.transfer_owner)
    # seats
    add_seats = _forward(seats.add)
    remove_seats = _forward(seats.remove)
    list_seat_changes = _forward(seats.changes)
    cancel_seat_change = _forward(seats.cancel)
    # limits and credits
    set_limit = _forward(limits.set_limit)
    list_limits = _forward(limits.list_all)
    purchase_credits = _forward(credits.purchase)
    get_auto_top_up = _forward(top_ups.get)
    set_auto_top_up = _forward(top_ups.put)
    end_auto_top_up = _forward(top_ups.delete)
    list_credit_entries = _forward(credits.entries)
    # usage, the month to date, notifications
    authorize_usage = _forward(usage.authorize)
    record_usage = _forward(usage.record)
    record_usage_batch = _forward(ingest.batch)
    void_usage = _forward(voids.void)
    list_usage = _forward(usage.list_records)
    list_notifications = _forward(usage.notifications)
    usage_summary = _forward(summary.usage_summary)
    # billing runs and invoices
    run_billing = _forward(billing.run)
    run_billing_all = _forward(billing.run_all)
    due_organizations = _forward(billing.due)
    get_invoice = _forward(invoices.get)
    list_invoices = _forward(invoices.list_issued)
    # kept answers of idempotency keys, past the retention window
    prune_idempotency_keys = _forward(idempotency.prune)
