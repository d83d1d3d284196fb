"""Property-based: any sequence of purchases, usage, limit changes and period
closes leaves the totals kept beside the ledger equal to the ledger, the
credit balance equal to purchases minus consumption, and every invoice line
the half-up rounding of its member's exact usage, adding up to the total."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings, strategies as st

from tariff.storage import Refused, check_ledger

MEMBERS = ("ana", "ben", "cy")
MODELS = ("claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-3")
counter = itertools.count()

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2)
tokens = st.fixed_dictionaries({}, optional={
    "input": st.integers(1, 3_000_000), "output": st.integers(1, 200_000), "cache_read": st.integers(1, 500_000),
    "cache_write_5m": st.integers(1, 100_000)}).filter(bool)
operations = st.lists(st.one_of(
    st.tuples(st.just("buy"), amounts),
    st.tuples(st.just("use"), st.sampled_from(MEMBERS), st.sampled_from(MODELS), tokens),
    st.tuples(st.just("limit"), st.sampled_from(MEMBERS + ("",)), st.one_of(amounts, st.just("unlimited"))),
    st.tuples(st.just("days"), st.integers(1, 40)),
), min_size=1, max_size=25)
plans = st.sampled_from(["enterprise_self_serve", "enterprise_sales_assisted"])


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=plans, ops=operations)
def test_any_sequence_keeps_the_books_equal(ledger, database, clock, plan, ops):
    org = f"p{next(counter)}"
    clock.when = datetime(2026, 4, 5, 9, tzinfo=timezone.utc)
    ledger.create_organization(id=org, name=org, plan=plan, term_start=date(2026, 4, 1),
                               seats={"enterprise": 4}, primary_owner={"id": "pat"})
    for member in MEMBERS:
        ledger.add_member(org, actor="pat", id=member)
    bought = Decimal(0)
    for op in ops:
        if op[0] == "buy":
            try:
                ledger.purchase_credits(org, actor="pat", amount=op[1])
                bought += op[1]
            except Refused:
                assert plan == "enterprise_sales_assisted"
        elif op[0] == "use":
            ledger.record_usage(org, idempotency_key=f"k{next(counter)}", member=op[1], product="chat",
                                model=op[2], tokens=op[3])
        elif op[0] == "limit":
            level = "individual" if op[1] else "organization"
            ledger.set_limit(org, actor="pat", level=level, subject=op[1] or None, limit=op[2])
        else:
            clock.when += timedelta(days=op[1])
            ledger.run_billing(org, clock().date())
    assert check_ledger(database, org) == []
    usage = ledger.list_usage(org, limit=1000)["items"]
    if plan == "enterprise_self_serve":
        assert Decimal(ledger.get_organization(org)["credit_balance"]) == bought - sum(
            Decimal(u["billed"]) for u in usage)
    for head in ledger.list_invoices(org)["items"]:
        invoice = ledger.get_invoice(org, date.fromisoformat(head["period_start"]))
        assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(invoice["total"])
        for line in invoice["lines"]:
            assert Decimal(line["amount"]) == Decimal(line["exact"]).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if line["kind"] == "usage":
                mine = [Decimal(u["billed"]) for u in usage
                        if u["member"] == line["member"] and u["period_start"] == head["period_start"]]
                assert Decimal(line["exact"]) == sum(mine) and line["quantity"] == len(mine)


def test_check_ledger_notices_drift(ledger, database, new_org):
    """The check the other tests rely on can fail: tamper with each kept total."""
    from sqlalchemy import update

    from tariff.storage.models import Organization, SpendCounter
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    ledger.record_usage("acme", idempotency_key="k", member="ana", product="chat", model="claude-haiku-4-5",
                        tokens={"input": 1000})
    assert check_ledger(database) == []
    with database.write() as s:
        s.execute(update(SpendCounter).where(SpendCounter.level == "individual")
                  .values(spend=SpendCounter.spend + Decimal("0.000000001")))
        s.execute(update(Organization).values(credit_balance=Organization.credit_balance + 1))
    problems = check_ledger(database)
    assert len(problems) == 2
    assert "credit_balance" in problems[0] and "spend counter" in problems[1]
    with database.write() as s:  # put it back for the fixture's own check
        s.execute(update(SpendCounter).where(SpendCounter.level == "individual")
                  .values(spend=SpendCounter.spend - Decimal("0.000000001")))
        s.execute(update(Organization).values(credit_balance=Organization.credit_balance - 1))
