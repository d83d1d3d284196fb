"""Invoices, notifications sent, and billing runs (period close, renewal)."""
from __future__ import annotations

import re

from ..auth import requires
from ..errors import ApiError
from ..jsonio import json_response
from . import schemas as S
from .blueprint import REPLAYED, blp, documented, ledger, replayed_headers
from .usage import _period

PERIOD = re.compile(S.PERIOD)


@blp.route("/organizations/<org_id>/invoices", methods=["GET"])
@requires("read")
@blp.arguments(S.PageQuerySchema, location="query", as_kwargs=True)
@blp.response(200, S.page_of(S.InvoiceHeadSchema))
@documented(body=False)
def list_invoices(org_id, cursor=None, limit=100):
    """A page of the issued invoices, oldest first."""
    return json_response(ledger().list_invoices(org_id, cursor=cursor, limit=limit))


@blp.route("/organizations/<org_id>/invoices/<period>", methods=["GET"])
@requires("read")
@blp.response(200, S.InvoiceSchema)
@documented(body=False)
def get_invoice(org_id, period):
    """The invoice of a month (`YYYY-MM`): issued when the month closed, or a
    draft of the open month on plans billed in arrears (A1, M2).

    A line per member (their usage billed in the month), then a line per seat
    charge made in the month. Each line is its exact amount rounded half-up
    to the cent; the total is the sum of the rounded lines, so the lines add
    up to the total exactly.
    """
    if not PERIOD.match(period):
        raise ApiError(422, "invalid_request", "the period is a month, YYYY-MM",
                       errors={"period": ["a month, YYYY-MM"]})
    return json_response(ledger().get_invoice(org_id, _period(period)))


@blp.route("/organizations/<org_id>/notifications", methods=["GET"])
@requires("read")
@blp.arguments(S.PeriodPageQuerySchema, location="query", as_kwargs=True)
@blp.response(200, S.page_of(S.SentNotificationSchema))
@documented(body=False)
def list_notifications(org_id, period=None, cursor=None, limit=100):
    """Notifications sent: spend thresholds (M3), each threshold of each limit
    at most once per period, and credits or the organization limit running out
    (D17), which the daily billing run sends a week or less ahead, once per
    period (credits: and purchase); filter by period (YYYY-MM)."""
    return json_response(ledger().list_notifications(org_id, _period(period), cursor=cursor, limit=limit))


@blp.route("/organizations/<org_id>/billing-run", methods=["POST"])
@requires("admin")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.BillingRunSchema)
@blp.response(200, S.BillingRunResultSchema, headers=REPLAYED)
@documented(409)
def billing_run(body, org_id, idempotency_key=None):
    """Run everything due up to `date`, in date order: each month start closes
    the month before (spend and notifications reset, L5; the month's invoice
    on plans billed in arrears, A1); the renewal date renews the term (removals
    scheduled for renewal, the new term's seats charged, S2; legacy plans move
    to the single Enterprise seat, R1, R2). Running it again does nothing;
    with an Idempotency-Key, a retry returns the first result."""
    out = ledger().run_billing(org_id, body["date"], idempotency_key=idempotency_key)
    return json_response(out, headers=replayed_headers(out))


@blp.route("/billing-runs", methods=["POST"])
@requires("admin")
@blp.arguments(S.BillingRunSchema)
@blp.response(200, S.BillingRunAllSchema)
@documented()
def billing_run_all(body):
    """The billing run for every organization with something due by `date`
    (the daily job); each organization in its own transaction."""
    return json_response(ledger().run_billing_all(body["date"]))
