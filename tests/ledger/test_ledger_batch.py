"""Usage in batches (issue 10): one result per record in order, a bad record
failing alone, one transaction per organization, the same books as one
record at a time; concurrent batches and retries on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from sqlalchemy import insert, select

from tariff.storage import check_ledger, direct, ingest, lean
from tariff.storage.models import CreditEntry, Member, Organization, UsageRecord

OPUS = "claude-opus-4-6"   # 5 USD per million input tokens
HAIKU = "claude-haiku-4-5"  # 1 USD per million input tokens, 5 per million output


def rec(key, org="acme", member="ana", tokens=None, model=OPUS, **extra):
    return {"organization": org, "idempotency_key": key, "member": member, "product": "chat", "model": model,
            "tokens": tokens or {"input": 1_000_000}, **extra}


def items(page) -> list[dict]:
    return page["items"] if isinstance(page, dict) else page  # lists are becoming pages


def usage_of(ledger, org, **kwargs) -> list[dict]:
    return items(ledger.list_usage(org, **kwargs))


def statuses(outcomes):
    return [o.status for o in outcomes]


def test_a_mixed_batch_gives_one_result_per_record_in_order(ledger, new_org):
    new_org("acme", members=("ana", "ben"))
    new_org("beta", members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("12"))
    first = ledger.record_usage("acme", idempotency_key="earlier", member="ana", product="chat", model=OPUS,
                                tokens={"input": 1_000_000})
    items = [
        rec("a1"),                                        # recorded: 12 - 5 (earlier) - 5 = 2
        rec("earlier"),                                   # replayed: recorded before, same body
        rec("a1"),                                        # replayed: earlier in this batch
        rec("a1", member="ben"),                          # error: the key was used for another record
        None,                                             # error: not a record
        rec("b1", org="beta"),                            # blocked: beta has no credits
        rec("a2", member="ben"),                          # recorded: 2 - 5 = -3 (crossing once is allowed)
        rec("a3"),                                        # blocked: credits exhausted now
        rec("a4", tokens={"input": -1}),                  # error: names records.8.tokens.input
        rec("a5", model="claude-imaginary-9"),            # error: unknown model
        rec("a6", member="zoe"),                          # error: no such member
        rec("n1", org="nowhere"),                         # error: no such organization
        {**rec("a7"), "colour": "red"},                   # error: unknown field
    ]
    out = ledger.record_usage_batch(items)
    assert statuses(out) == ["recorded", "replayed", "replayed", "error", "error", "blocked", "recorded",
                             "blocked", "error", "error", "error", "error", "error"]
    assert out[0].answer["credit_balance"] == "2" and out[6].answer["credit_balance"] == "-3"
    assert out[1].answer == first.answer and out[2].answer == out[0].answer
    assert out[3].error.code == "idempotency_key_reused" and list(out[3].error.errors) == ["records.3.idempotency_key"]
    assert "records.4" in out[4].error.errors
    assert out[5].decision.reason_codes == ["credits_exhausted"] and out[5].answer["recorded"] is False
    assert out[7].decision.reason_codes == ["credits_exhausted"]
    assert list(out[8].error.errors) == ["records.8.tokens.input"]
    assert out[9].error.code == "unknown_model" and list(out[9].error.errors) == ["records.9.model"]
    assert out[10].error.code == "member_not_found" and list(out[10].error.errors) == ["records.10.member"]
    assert out[11].error.code == "organization_not_found"
    assert list(out[12].error.errors) == ["records.12.colour"]
    assert [u["idempotency_key"] for u in usage_of(ledger, "acme")] == ["earlier", "a1", "a2"]
    assert usage_of(ledger, "beta") == []
    assert ledger.get_organization("acme")["credit_balance"] == "-3"
    # the blocked keys stay unused: after a purchase they record
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    again = ledger.record_usage_batch([rec("a3"), rec("a1")])
    assert statuses(again) == ["recorded", "replayed"] and again[0].answer["credit_balance"] == "2"


def test_a_retried_batch_charges_nothing_twice(ledger, new_org):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    items = [rec(f"k{i}", tokens={"input": 100_000 * (i + 1)}) for i in range(10)]
    first = ledger.record_usage_batch(items)
    again = ledger.record_usage_batch(items)
    assert statuses(first) == ["recorded"] * 10 and statuses(again) == ["replayed"] * 10
    assert [o.answer for o in again] == [o.answer for o in first]
    assert [o.answer["usage"]["id"] for o in first] == [u["id"] for u in usage_of(ledger, "acme")]
    assert ledger.get_organization("acme")["credit_balance"] == str(100 - Decimal("0.5") * 55)
    single = ledger.record_usage("acme", idempotency_key="k3", member="ana", product="chat", model=OPUS,
                                 tokens={"input": 400_000})
    assert single.replayed and single.answer == first[3].answer


def _strip_ids(answer: dict) -> dict:
    usage = answer.get("usage")
    return answer | {"usage": usage and {k: v for k, v in usage.items() if k not in ("id", "idempotency_key")}}


@pytest.mark.parametrize("stream_every", [100, 2])
def test_a_batch_keeps_the_same_books_as_one_record_at_a_time(ledger, new_org, database, monkeypatch,
                                                               stream_every):
    """Limits (the lowest binds), notifications, counters and credits: record by record
    in one organization, as one batch in another, the same answers and totals. On
    PostgreSQL, ``stream_every`` 2 writes the batch in parts sent without waiting
    (ingest.Run.writing), a notification among them."""
    monkeypatch.setattr(ingest, "STREAM_EVERY", stream_every)
    for org in ("one", "many"):
        new_org(org, members=("ana", "ben"))
        ledger.purchase_credits(org, actor="pat", amount=Decimal("40"))
        ledger.set_limit(org, actor="pat", level="organization", limit=Decimal("30"))
        ledger.set_limit(org, actor="pat", level="individual", subject="ana", limit=Decimal("12"))
    plan = [("ana", 3_000_000), ("ben", 1_000_000), ("ana", 1_000_000), ("ana", 500_000), ("ben", 2_000_000),
            ("ben", 1_600_000), ("ana", 100), ("ben", 100), ("ben", 900_000), ("ben", 100)]
    singles = []
    for i, (member, tokens) in enumerate(plan):
        r = ledger.record_usage("one", idempotency_key=f"k{i}", member=member, product="chat", model=OPUS,
                                tokens={"input": tokens})
        singles.append(("recorded" if r.recorded else "blocked", r.answer))
    batch = ledger.record_usage_batch([rec(f"k{i}", org="many", member=m, tokens={"input": t})
                                       for i, (m, t) in enumerate(plan)])
    assert [o.status for o in batch] == [s for s, _ in singles]
    assert "blocked" in statuses(batch) and "recorded" in statuses(batch)
    for (_, answer), outcome in zip(singles, batch):
        mine = _strip_ids(answer)
        theirs = _strip_ids(outcome.answer)
        if mine["decision"] is not None:
            for d in (mine["decision"], theirs["decision"]):
                d.pop("request", None)
        assert mine == theirs
    notes = [[(n["level"], n["subject"], n["threshold_pct"], n["spend"]) for n in items(ledger.list_notifications(org))]
             for org in ("one", "many")]
    assert notes[0] == notes[1] and notes[0]
    summaries = [ledger.usage_summary(org) | {"organization": None} for org in ("one", "many")]
    assert summaries[0] == summaries[1]
    assert ledger.get_organization("one")["credit_balance"] == ledger.get_organization("many")["credit_balance"]
    assert check_ledger(database) == []


def _consumptions(database, org: str) -> list[tuple]:
    """The organization's consumption entries in the order of their ids, each with its record's key."""
    with database.read() as session:
        rows = session.execute(
            select(CreditEntry.kind, CreditEntry.amount, CreditEntry.balance_after, Member.id,
                   UsageRecord.idempotency_key, CreditEntry.created_at, CreditEntry.idempotency_key)
            .join(Organization, Organization.pk == CreditEntry.org_pk)
            .join(Member, (Member.org_pk == CreditEntry.org_pk) & (Member.pk == CreditEntry.member_pk))
            .join(UsageRecord, (UsageRecord.org_pk == CreditEntry.org_pk)
                  & (UsageRecord.pk == CreditEntry.usage_record_pk))
            .where(Organization.id == org, CreditEntry.kind == "consumption").order_by(CreditEntry.pk)).all()
    return [tuple(row) for row in rows]


def test_a_runs_consumption_entries_in_multi_row_inserts_are_those_row_by_row(ledger, new_org, database,
                                                                              monkeypatch):
    """On psycopg a run's consumption entries go direct.ROWS_PER_STATEMENT to an INSERT
    (the credit INSERT returns no ids): the same entries, in the same order (their running
    balances follow their ids: check_ledger), as written row by row."""
    calls = []
    real = direct.Statement._many_rows

    def spy(conn, plan, rows, per):
        left = real(conn, plan, rows, per)
        calls.append((plan.sql.split(" (")[0], len(rows), per, len(left)))
        return left
    monkeypatch.setattr(direct.Statement, "_many_rows", staticmethod(spy))
    plan = [("ana" if i % 3 else "ben", 100_000 * (i + 1)) for i in range(9)]
    for org, per in (("rows", 10**9), ("arrays", 3)):
        new_org(org, members=("ana", "ben"))
        ledger.purchase_credits(org, actor="pat", amount=Decimal("40"))
        monkeypatch.setattr(direct, "ROWS_PER_STATEMENT", per)
        out = ledger.record_usage_batch([rec(f"k{i}", org=org, member=m, tokens={"input": t})
                                         for i, (m, t) in enumerate(plan)])
        assert statuses(out) == ["recorded"] * len(plan)
    rows, arrays = _consumptions(database, "rows"), _consumptions(database, "arrays")
    assert len(rows) == len(plan) > 3
    assert arrays == rows
    assert [r[4] for r in arrays] == [f"k{i}" for i in range(len(plan))]
    assert arrays[-1][2] == Decimal("40") - sum(Decimal(t) * 5 / 10**6 for _, t in plan)
    assert check_ledger(database) == []
    # which statements wrote them: three of three entries each on PostgreSQL, row by row elsewhere
    credits = [call for call in calls if call[0] == "INSERT INTO credit_entries"]
    assert credits == ([("INSERT INTO credit_entries", len(plan), 3, 0)] if database.dialect == "postgresql" else [])


def test_a_runs_usage_rows_in_multi_row_inserts_are_those_row_by_row(ledger, new_org, database, monkeypatch):
    """On psycopg every direct.ROWS_PER_STATEMENT usage rows of a run go in one INSERT
    (numbered placeholders, on a RawCursor), the rows left over by executemany: the same
    rows, and the same answers kept for replays, as all by executemany."""
    calls = []
    real = direct.Statement._many_rows

    def spy(conn, plan, rows, per):
        left = real(conn, plan, rows, per)
        calls.append((plan.sql.split(" (")[0], len(rows), per, len(left)))
        return left
    monkeypatch.setattr(direct.Statement, "_many_rows", staticmethod(spy))
    plan = [("ana", OPUS, 100_000), ("ben", HAIKU, 2_000), ("ana", HAIKU, 30), ("ben", OPUS, 400_000),
            ("ana", OPUS, 5), ("ana", HAIKU, 60_000), ("ben", HAIKU, 7), ("ben", OPUS, 80_000)]
    answers = {}
    for org, per in (("rows", 10**9), ("many", 3)):
        new_org(org, members=("ana", "ben"))
        ledger.purchase_credits(org, actor="pat", amount=Decimal("40"))
        monkeypatch.setattr(direct, "ROWS_PER_STATEMENT", per)
        batch = [rec(f"k{i}", org=org, member=m, model=model, tokens={"input": t, "output": i})
                 for i, (m, model, t) in enumerate(plan)]
        out = ledger.record_usage_batch(batch)
        assert statuses(out) == ["recorded"] * len(plan)
        again = ledger.record_usage_batch(batch)
        assert statuses(again) == ["replayed"] * len(plan)
        assert [o.answer for o in again] == [o.answer for o in out]
        answers[org] = [_strip_ids(o.answer) for o in out]
    postgres = database.dialect == "postgresql"
    # the usage rows, their consumption entries, and the month's new counters (the organization's,
    # the seat type's, each member's)
    assert calls == ([("INSERT INTO usage_records", 8, 3, 2), ("INSERT INTO credit_entries", 8, 3, 2),
                      ("INSERT INTO spend_counters", 4, 3, 1)] if postgres else [])
    assert answers["many"] == answers["rows"]
    rows = {org: [{k: v for k, v in u.items() if k != "id"} for u in usage_of(ledger, org)] for org in answers}
    assert rows["many"] == rows["rows"] and len(rows["many"]) == len(plan)
    assert check_ledger(database) == []


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
@pytest.mark.parametrize("stream_every", [100, 4])
def test_a_multi_row_insert_the_server_refuses_keeps_nothing_of_the_run(ledger, new_org, database, monkeypatch,
                                                                         poison_refused, stream_every):
    """A row the server refuses (here a trigger) inside a multi-row INSERT fails its
    organization's transaction whole, sent in one pipeline (``stream_every`` 100) or
    streamed in parts (4): nothing of the run is kept, the connection goes back to the
    pool usable, and the same batch without the row is recorded afterwards."""
    from sqlalchemy.exc import DBAPIError
    monkeypatch.setattr(direct, "ROWS_PER_STATEMENT", 2)
    monkeypatch.setattr(ingest, "STREAM_EVERY", stream_every)
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    keys = ["a", "b", "c", "d", "e", "poison", "g"]
    with pytest.raises(DBAPIError, match="refused"):
        ledger.record_usage_batch([rec(k, tokens={"input": 1000}) for k in keys])
    assert poison_refused()  # the connection is free
    assert ledger.get_organization("acme")["credit_balance"] == "10"
    assert usage_of(ledger, "acme") == []
    out = ledger.record_usage_batch([rec(k, tokens={"input": 1000}) for k in keys if k != "poison"])
    assert statuses(out) == ["recorded"] * 6
    assert [u["idempotency_key"] for u in usage_of(ledger, "acme")] == ["a", "b", "c", "d", "e", "g"]
    assert check_ledger(database) == []


def test_only_a_plain_insert_is_made_a_multi_row_insert(database):
    """direct._Plan.rows_sql: an INSERT of named values only (the usage rows), not one
    RETURNING the new ids (a credit entry's INSERT as SQLAlchemy makes it, not inline)."""
    with database.write() as session:
        dialect = session.connection().dialect
    usage = lean.D_INSERT_USAGE._plan(dialect, {k: 1 for k in lean.D_INSERT_USAGE.columns})
    returning = direct.Statement(insert(CreditEntry.__table__), columns=lean.D_INSERT_CREDIT.columns)
    credit = returning._plan(dialect, {k: 1 for k in lean.D_INSERT_CREDIT.columns})
    assert dialect.positional or " RETURNING " in credit.sql
    if dialect.positional:  # SQLite: qmark placeholders; the multi-row path is psycopg's only
        assert usage.rows_sql(2) is None
        return
    sql, names = usage.rows_sql(2)
    width = len(lean.D_INSERT_USAGE.columns)
    assert names == tuple(sql.split(" (", 1)[1].split(")", 1)[0].split(", "))  # the INSERT's own column order
    assert sorted(names) == sorted(lean.D_INSERT_USAGE.columns)
    assert sql.startswith("INSERT INTO usage_records (pk, org_pk, ") and "%" not in sql
    assert "$1::BIGINT, $2::INTEGER" in sql and f"), (${width + 1}::BIGINT" in sql and sql.endswith(f"${2 * width}::VARCHAR)")
    assert credit.rows_sql(2) is None


def test_concurrent_batches_for_one_and_two_organizations_stay_exact(ledger, new_org, database):
    members = [f"m{i}" for i in range(4)]
    for org in ("acme", "beta"):
        new_org(org, members=members, seats={"enterprise": 5})
        ledger.purchase_credits(org, actor="pat", amount=Decimal("1000"))
    threads, per = 6, 20
    barrier = threading.Barrier(threads)

    def post(t):
        # each thread: records for both organizations, interleaved; half the keys shared with another thread
        items = [rec(f"t{t % 3}-{i}", org=("acme", "beta")[i % 2], member=members[i % 4], model=HAIKU,
                     tokens={"input": 100_000 + 7_919 * (t % 3) + i, "output": 1_013 * i + 1})
                 for i in range(per)]
        barrier.wait()
        return ledger.record_usage_batch(items)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(post, range(threads)))
    for t, out in enumerate(results):
        assert set(statuses(out)) <= {"recorded", "replayed"}, [o.error for o in out if o.error]
    for org in ("acme", "beta"):
        usage = usage_of(ledger, org, limit=100)
        assert len(usage) == 3 * per // 2  # each distinct key once
        spent = sum(Decimal(u["billed"]) for u in usage)
        assert Decimal(ledger.get_organization(org)["credit_balance"]) == Decimal(1000) - spent
    recorded = [o for out in results for o in out if o.status == "recorded"]
    assert len(recorded) == 3 * per  # each key recorded once, the other thread got the replay
    assert check_ledger(database) == []


def test_a_batch_over_the_limit_is_refused_whole(ledger):
    from tariff.storage import InvalidInput
    with pytest.raises(InvalidInput) as error:
        ledger.record_usage_batch([rec(f"k{i}") for i in range(1001)])
    assert list(error.value.errors) == ["records"]


def test_usage_before_its_member_existed_is_an_error_of_that_record(ledger, new_org, clock):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    out = ledger.record_usage_batch([rec("early", occurred_at="2026-04-09T00:00:00Z"),
                                     rec("fine", occurred_at="2026-04-10T12:00:00+00:00"),
                                     rec("naive", occurred_at="2026-04-10T12:00:00")])
    assert statuses(out) == ["error", "recorded", "error"]
    assert out[0].error.code == "before_member" and list(out[0].error.errors) == ["records.0.occurred_at"]
    assert list(out[2].error.errors) == ["records.2.occurred_at"]


def test_a_closed_period_refuses_its_records_only(ledger, new_org, clock):
    from datetime import date
    clock.set(2026, 3, 2)
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    clock.set(2026, 4, 10)
    ledger.run_billing("acme", date(2026, 4, 1))
    out = ledger.record_usage_batch([rec("march", occurred_at="2026-03-20T10:00:00Z"), rec("april")])
    assert statuses(out) == ["error", "recorded"]
    assert out[0].error.code == "period_closed" and list(out[0].error.errors) == ["records.0.occurred_at"]
