"""Example data for the console: ``tariff demo`` writes an organization on
each plan into the ledger, with this month's usage spread over its days, so
that after ``make serve`` the pages at /console have something to show.

- acme (self-serve, prepaid): credits, an organization limit, a member
  blocked at her individual limit, usage every day of the month so far;
- globex (sales-assisted, billed in arrears): last month closed with an
  invoice, a line per member;
- initech (seat-based): standard and premium seats, included usage and
  extra usage on;
- umbrella (legacy Chat / Chat + Claude Code seats): seat-type pools.

Everything goes through the ledger's own operations (so the policy decides
and the totals add up), on a clock set back to each moment. Running it on a
ledger that has the organizations already changes nothing.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

OPUS, SONNET, HAIKU = "claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5"
ORGANIZATIONS = ("acme", "globex", "initech", "umbrella")


class _Clock:
    def __init__(self, when: datetime):
        self.when = when

    def __call__(self) -> datetime:
        return self.when


def seed(database, evaluator, now: datetime | None = None) -> list[str]:
    """Write the example organizations; returns the ids written (none when present)."""
    from tariff.storage import Ledger, NotFound
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    first = now.replace(day=1, hour=0, minute=0, second=1, microsecond=0)
    last_month = (first - timedelta(days=1)).replace(day=1)
    clock = _Clock(last_month)
    ledger = Ledger(database, evaluator, clock=clock)
    try:
        ledger.get_organization("acme")
        return []
    except NotFound:
        pass
    term = date(last_month.year, 1, 1) if last_month.month > 1 else date(last_month.year - 1, 12, 1)

    def use(org, key, member, model, tokens, at, product="chat"):
        clock.when = min(at, now)
        ledger.record_usage(org, idempotency_key=key, member=member, product=product, model=model,
                            tokens=tokens)

    # Everyone joins at the start of last month.
    ledger.create_organization(id="acme", name="Acme Robotics", plan="enterprise_self_serve", term_start=term,
                               seats={"enterprise": 6}, primary_owner={"id": "pat", "name": "Pat Owner"})
    for member, name in (("ana", "Ana Lima"), ("ben", "Ben Okafor"), ("chen", "Chen Wei")):
        ledger.add_member("acme", actor="pat", id=member, name=name)
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("150"))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("400"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("12"))

    ledger.create_organization(id="globex", name="Globex", plan="enterprise_sales_assisted", term_start=term,
                               seats={"enterprise": 4}, primary_owner={"id": "gina", "name": "Gina Park"})
    ledger.add_member("globex", actor="gina", id="hal", name="Hal Kim")
    ledger.add_member("globex", actor="gina", id="ivy", name="Ivy Chen")
    ledger.set_limit("globex", actor="gina", level="organization", limit=Decimal("2000"))

    ledger.create_organization(id="initech", name="Initech", plan="seat_based", channel="sales_assisted",
                               term_start=term, seats={"standard": 3, "premium": 1}, extra_usage=True,
                               primary_owner={"id": "ines", "name": "Ines Ruiz", "seat_type": "premium"})
    ledger.add_member("initech", actor="ines", id="joe", name="Joe Bloggs", seat_type="standard")
    ledger.add_member("initech", actor="ines", id="kim", name="Kim Lee", seat_type="standard")

    ledger.create_organization(id="umbrella", name="Umbrella", plan="legacy_chat_code", channel="self_serve",
                               term_start=term, seats={"chat": 2, "chat_code": 2},
                               primary_owner={"id": "uma", "name": "Uma Roy", "seat_type": "chat_code"})
    ledger.add_member("umbrella", actor="uma", id="vic", name="Vic Hale", seat_type="chat")
    ledger.purchase_credits("umbrella", actor="uma", amount=Decimal("60"))
    ledger.set_limit("umbrella", actor="uma", level="seat_type", subject="chat", limit=Decimal("25"))

    # Last month at Globex, then its close: the invoice.
    for day, (member, millions) in enumerate((("hal", 3), ("ivy", 1), ("gina", 2), ("hal", 4)), start=2):
        use("globex", f"demo-g{day}", member, OPUS, {"input": millions * 1_000_000, "output": 100_000},
            last_month + timedelta(days=day, hours=10))
    clock.when = first
    ledger.run_billing("globex", first.date())

    # This month, a little every day so far.
    for offset in range((now - first).days + 1):
        noon = first + timedelta(days=offset, hours=11)
        use("acme", f"demo-a{offset}", "ana", SONNET, {"input": 600_000, "output": 40_000}, noon)
        use("acme", f"demo-b{offset}", "ben", OPUS, {"input": 500_000 + 100_000 * (offset % 3)}, noon)
        use("acme", f"demo-c{offset}", "chen", HAIKU, {"input": 2_000_000}, noon, product="claude_code")
        use("globex", f"demo-h{offset}", "hal", OPUS, {"input": 1_500_000}, noon)
        use("initech", f"demo-j{offset}", "joe", SONNET, {"input": 2_000_000}, noon)
        use("umbrella", f"demo-v{offset}", "vic", SONNET, {"input": 1_000_000}, noon)
    return list(ORGANIZATIONS)
