"""Concurrent usage for one organization: no lost update, no double charge,
credits never more than one charge below zero (threads on one process here;
tests/ledger/test_ledger_server.py does it with server processes)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from tariff.storage import check_ledger

N = 32
HAIKU = "claude-haiku-4-5"  # 1 USD per million input tokens, 5 per million output


def _tokens(i: int) -> dict:
    return {"input": 100_000 + 7_919 * i, "output": 1_013 * i + 1}  # a different exact charge each


def _run_together(fn, count=N):
    barrier = threading.Barrier(count)

    def task(i):
        barrier.wait()
        return fn(i)
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def test_32_concurrent_records_lose_no_update(ledger, new_org, database):
    new_org(members=[f"m{i}" for i in range(4)], seats={"enterprise": 5})
    start = Decimal("1000")
    ledger.purchase_credits("acme", actor="pat", amount=start)
    results = _run_together(lambda i: ledger.record_usage(
        "acme", idempotency_key=f"req-{i}", member=f"m{i % 4}", product="chat", model=HAIKU, tokens=_tokens(i)))
    assert all(r.recorded for r in results)
    charges = [Decimal(r.usage["billed"]) for r in results]
    assert len(set(charges)) == N
    org = ledger.get_organization("acme")
    assert Decimal(org["credit_balance"]) == start - sum(charges)
    summary = ledger.usage_summary("acme")
    assert Decimal(summary["spend"]) == sum(charges)
    assert sum(m["records"] for m in summary["members"]) == N
    assert check_ledger(database) == []


def test_credits_never_go_more_than_one_charge_below_zero(ledger, new_org, database):
    new_org(members=("ana", "ben"))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("1"))
    results = _run_together(lambda i: ledger.record_usage(
        "acme", idempotency_key=f"r{i}", member=("ana", "ben")[i % 2], product="chat", model=HAIKU,
        tokens={"input": 300_000}))  # 0.30 each
    recorded = [r for r in results if r.recorded]
    blocked = [r for r in results if not r.recorded]
    assert len(recorded) == 4 and len(blocked) == N - 4  # 1.00, 0.70, 0.40, 0.10 -> -0.20
    assert {r.decision.reasons[0]["code"] for r in blocked} == {"credits_exhausted"}
    assert ledger.get_organization("acme")["credit_balance"] == "-0.2"
    for entry in ledger.list_credit_entries("acme")["items"]:
        if entry["kind"] == "consumption":  # every charge was taken while the balance was above zero
            assert Decimal(entry["balance_after"]) - Decimal(entry["amount"]) > 0


def test_concurrent_retries_of_one_key_charge_once(ledger, new_org):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    results = _run_together(lambda i: ledger.record_usage(
        "acme", idempotency_key="the-one", member="ana", product="chat", model=HAIKU, tokens={"input": 1_000_000}),
        count=16)
    assert sum(not r.replayed for r in results) == 1
    first = next(r for r in results if not r.replayed)
    assert all(r.answer == first.answer for r in results)
    assert ledger.get_organization("acme")["credit_balance"] == "9"


def test_organizations_do_not_wait_for_each_other_to_be_correct(ledger, new_org):
    for org in ("a", "b", "c", "d"):
        new_org(org, plan="enterprise_sales_assisted", members=("ana",))
    _run_together(lambda i: ledger.record_usage(
        "abcd"[i % 4], idempotency_key=f"k{i}", member="ana", product="chat", model=HAIKU,
        tokens={"input": 1_000_000}))
    assert [ledger.usage_summary(org)["spend"] for org in "abcd"] == ["8"] * 4
