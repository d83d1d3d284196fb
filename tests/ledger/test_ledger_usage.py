"""Usage: authorize (pre-check) and record (the charge) with an idempotency
key; credits, limits, notifications (C1-C5, U1-U4, M3, P1-P2, S5)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tariff.engine import InputError
from tariff.storage import Conflict, InvalidInput, NotFound

OPUS = "claude-opus-4-6"  # 5 USD per million input tokens


def record(ledger, key, member="ana", model=OPUS, product="chat", tokens=None, org="acme", **kwargs):
    return ledger.record_usage(org, idempotency_key=key, member=member, product=product, model=model,
                               tokens=tokens or {"input": 1_000_000}, **kwargs)


def test_a_record_is_priced_at_api_rates_and_kept(ledger, new_org):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    out = record(ledger, "r1", model="claude-sonnet-4-6",
                 tokens={"input": 1234, "output": 567, "cache_write_5m": 89, "cache_write_1h": 10, "cache_read": 4321})
    # 1234*3 + 567*15 + 89*3.75 + 10*6 + 4321*0.30 per million
    exact = (Decimal(1234) * 3 + Decimal(567) * 15 + Decimal(89) * Decimal("3.75") + Decimal(10) * 6
             + Decimal(4321) * Decimal("0.30")) / Decimal(1_000_000)
    assert out.outcome == "allow" and out.recorded is True and out.replayed is False
    assert Decimal(out.usage["cost"]) == exact == Decimal(out.usage["billed"])
    assert Decimal(out.credit_balance) == Decimal(10) - exact
    assert out.usage["tokens"] == {"input": 1234, "output": 567, "cache_write_5m": 89, "cache_write_1h": 10,
                                      "cache_read": 4321}
    assert out.usage["period_start"] == "2026-04-01" and out.usage["seat_type"] == "enterprise"
    assert ledger.list_usage("acme")["items"] == [out.usage]


def test_a_retry_returns_the_first_result_and_never_charges_twice(ledger, new_org, clock):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    first = record(ledger, "same")
    clock.set(2026, 4, 11)
    again = record(ledger, "same")
    assert again.replayed is True and again.answer == first.answer
    assert ledger.get_organization("acme")["credit_balance"] == "5"
    assert len(ledger.list_usage("acme")["items"]) == 1


def test_a_key_reused_for_different_usage_is_a_conflict(ledger, new_org):
    new_org(members=("ana", "ben"))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    record(ledger, "k")
    for change in ({"member": "ben"}, {"tokens": {"input": 2}}, {"model": "claude-haiku-4-5"}):
        with pytest.raises(Conflict) as error:
            record(ledger, "k", **change)
        assert error.value.code == "idempotency_key_reused"


def test_keys_are_per_organization(ledger, new_org):
    for org in ("acme", "beta"):
        new_org(org, plan="enterprise_sales_assisted", members=("ana",))
    assert record(ledger, "k", org="acme").recorded and record(ledger, "k", org="beta").recorded
    assert record(ledger, "k", org="beta").replayed is True


def test_c2_usage_stops_when_credits_run_out_and_resumes_after_a_purchase(ledger, new_org):
    new_org(members=("ana", "ben"))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("7"))
    assert record(ledger, "1").credit_balance == "2"
    assert record(ledger, "2", member="ben").credit_balance == "-3"  # crossing is allowed once
    for key, member in (("3", "ana"), ("3", "ben")):
        blocked = record(ledger, key, member=member)
        assert blocked.outcome == "block" and blocked.recorded is False and blocked.usage is None
        assert blocked.decision.reasons[0]["code"] == "credits_exhausted"
        assert blocked.decision.resume == [{"action": "buy_credits"}]
    assert ledger.authorize_usage("acme", member="ana", product="chat").outcome == "block"
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    assert ledger.authorize_usage("acme", member="ana", product="chat").outcome == "allow"
    assert record(ledger, "3").recorded is True  # the key a block left unused
    assert ledger.get_organization("acme")["credit_balance"] == "2"


def test_authorize_checks_an_estimate_up_front(ledger, new_org):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("1"))
    assert ledger.authorize_usage("acme", member="ana", product="chat", estimate=Decimal("0.5")).outcome == "allow"
    out = ledger.authorize_usage("acme", member="ana", product="chat", estimate=Decimal("1.5"))
    assert out.outcome == "block" and out.credit_balance == "1"


def test_c4_a_limit_blocks_even_with_credits_left(ledger, new_org):
    new_org(members=("ana", "ben"))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("5"))
    record(ledger, "1")
    blocked = record(ledger, "2")
    assert blocked.decision.reasons[0]["code"] == "individual_limit_reached"
    assert {"action": "raise_limit", "level": "individual"} in blocked.decision.resume
    assert record(ledger, "3", member="ben").recorded is True  # U2: ben is not held back by ana's limit


def test_m3_each_threshold_is_notified_once_per_period(ledger, new_org, clock):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("20"))
    sent = []
    for i in range(4):  # spend 5, 10, 15, 20 of 20
        sent.append([n["threshold_pct"] for n in record(ledger, f"a{i}").decision.notifications])
    assert sent == [[], [50], [], [80, 100]]
    notes = ledger.list_notifications("acme")["items"]
    assert [(n["level"], n["threshold_pct"], n["spend"], n["limit"]) for n in notes] == [
        ("organization", 50, "10", "20"), ("organization", 80, "20", "20"), ("organization", 100, "20", "20")]
    clock.set(2026, 5, 2)  # a new period: spend and notifications start again
    assert [n["threshold_pct"] for n in record(ledger, "b0", tokens={"input": 2_000_000}).decision
            .notifications] == [50]
    assert len(ledger.list_notifications("acme", period=datetime(2026, 5, 2).date())["items"]) == 1


def test_s5_a_chat_seat_cannot_use_claude_code(ledger, new_org):
    new_org(plan="legacy_chat_code", channel="sales_assisted", seats={"chat": 2, "chat_code": 1},
            owner_seat_type="chat_code", members=(("ana", "chat"),))
    blocked = record(ledger, "1", product="claude_code")
    assert blocked.decision.reasons[0]["code"] == "product_not_in_seat"
    assert blocked.decision.resume == [{"action": "change_seat_type", "seat_type": "chat_code"}]
    assert record(ledger, "1", member="pat", product="claude_code").recorded is True


def test_seat_type_pool_limit(ledger, new_org):
    new_org(plan="legacy_chat_code", channel="sales_assisted", seats={"chat": 3, "chat_code": 1},
            owner_seat_type="chat_code", members=(("ana", "chat"), ("ben", "chat")))
    ledger.set_limit("acme", actor="pat", level="seat_type", subject="chat", limit=Decimal("10"))
    record(ledger, "1", member="ana")
    record(ledger, "2", member="ben")
    assert record(ledger, "3", member="ana").decision.reasons[0]["code"] == "seat_type_limit_reached"
    assert record(ledger, "3", member="pat").recorded is True  # chat_code is another pool


def test_seat_based_allowance_then_extra_usage(ledger, new_org):
    """P1, P2: usage within the seat's allowance is not billed; beyond it the
    member is blocked unless extra usage is on, which bills at API rates."""
    new_org(plan="seat_based", channel="sales_assisted", seats={"standard": 2}, members=("ana",))
    # standard: 25 USD of usage included per month
    out = [record(ledger, f"r{i}", tokens={"input": 2_000_000}) for i in range(3)]  # 10 USD each
    assert [(o.usage["cost"], o.usage["billed"], o.usage["included"]) for o in out] == [
        ("10", "0", "10"), ("10", "0", "10"), ("10", "0", "5")]
    blocked = record(ledger, "r3")
    assert blocked.decision.reasons[0]["code"] == "included_usage_exhausted"
    ledger.update_organization("acme", actor="pat", extra_usage=True)
    extra = record(ledger, "r3")
    assert (extra.usage["billed"], extra.usage["included"]) == ("5", "0")
    summary = ledger.usage_summary("acme")
    ana = next(m for m in summary["members"] if m["id"] == "ana")
    assert (ana["spend"], ana["included_used"], ana["records"]) == ("5", "25", 4)  # the crossing record was not billed


def test_usage_in_a_closed_period_is_refused(ledger, new_org, clock):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    clock.set(2026, 5, 3)
    ledger.run_billing("acme", clock().date())
    late = datetime(2026, 4, 30, 23, tzinfo=timezone.utc)
    with pytest.raises(Conflict) as error:
        record(ledger, "late", occurred_at=late)
    assert error.value.code == "period_closed"
    assert record(ledger, "now").usage["period_start"] == "2026-05-01"


def test_occurred_at_is_checked(ledger, new_org, clock):
    clock.set(2026, 4, 1, 0)
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    clock.set(2026, 4, 10)
    with pytest.raises(InvalidInput):
        record(ledger, "f", occurred_at=clock() + timedelta(hours=1))
    with pytest.raises(InvalidInput):
        record(ledger, "n", occurred_at=datetime(2026, 4, 1))
    with pytest.raises(InvalidInput) as error:  # before the term's start, and before ana was added
        record(ledger, "b", occurred_at=datetime(2025, 12, 31, tzinfo=timezone.utc))
    assert error.value.code == "before_member" and list(error.value.errors) == ["occurred_at"]
    earlier = record(ledger, "e", occurred_at=datetime(2026, 4, 2, 8, 30, tzinfo=timezone(timedelta(hours=2))))
    assert earlier.usage["occurred_at"] == "2026-04-02T06:30:00Z"


def test_usage_dated_before_its_member_existed_is_refused_naming_occurred_at(ledger, new_org, clock):
    new_org(plan="enterprise_sales_assisted", members=("ana",))  # added 2026-04-10 12:00
    with pytest.raises(InvalidInput) as error:
        record(ledger, "early", occurred_at=datetime(2026, 4, 10, 11, 59, tzinfo=timezone.utc))
    assert error.value.code == "before_member" and "occurred_at" in error.value.errors
    assert record(ledger, "on-time", occurred_at=datetime(2026, 4, 10, 12, tzinfo=timezone.utc)).recorded
    assert [u["idempotency_key"] for u in ledger.list_usage("acme")["items"]] == ["on-time"]


def test_bad_usage_names_its_field_and_keeps_nothing(ledger, new_org):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    with pytest.raises(InputError) as error:
        record(ledger, "x", model="claude-imaginary-9")
    assert error.value.code == "unknown_model" and "event.model" in error.value.errors
    with pytest.raises(InputError) as error:
        record(ledger, "y", product="spreadsheets")
    assert "event.product" in error.value.errors
    with pytest.raises(NotFound):
        record(ledger, "z", member="zoe")
    assert ledger.list_usage("acme")["items"] == []


def test_a_refused_record_leaves_its_connection_ready_for_the_next(ledger, new_org, database):
    """On PostgreSQL a single record holds the pipeline of its reads open for its writes
    (ingest.Run.writing): a record refused in between (after the reads, or by the engine)
    gives its connection back to the pool out of pipeline mode (one test, one connection)."""
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    assert record(ledger, "first").recorded  # the organization's pk is known now: the pipelined reads
    refusals = [({"model": "claude-imaginary-9"}, InputError), ({"member": "zoe"}, NotFound),
                ({"product": "spreadsheets"}, InputError), ({"org": "nowhere"}, NotFound)]
    for i, (bad, error) in enumerate(refusals):
        with pytest.raises(error) as refused:  # kept: its traceback keeps the run alive, as a caller may
            record(ledger, f"bad{i}", **bad)
        if database.dialect == "postgresql":
            import psycopg
            raw = database.engine.raw_connection()
            try:
                assert raw.driver_connection.pgconn.pipeline_status == psycopg.pq.PipelineStatus.OFF, refused
            finally:
                raw.close()
        assert record(ledger, f"after{i}").recorded
    assert [u["idempotency_key"] for u in ledger.list_usage("acme")["items"]] == \
        ["first", "after0", "after1", "after2", "after3"]


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_write_failing_in_the_commits_pipeline_keeps_nothing_and_frees_the_connection(ledger, new_org,
                                                                                         poison_refused):
    """On PostgreSQL a single record's writes and its COMMIT go in one pipeline (three round
    trips a record: UnitOfWork.commit_in). A write the server refuses (here a trigger) fails
    the record: nothing of it is kept, and its connection goes back to the pool usable."""
    from sqlalchemy.exc import DBAPIError
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    assert record(ledger, "first").recorded  # the organization's pk is known: the pipelined path
    with pytest.raises(DBAPIError, match="refused"):
        record(ledger, "poison")
    assert poison_refused()  # the connection is free
    assert ledger.get_organization("acme")["credit_balance"] == "5"  # 10 - 5 (first); poison: nothing
    assert record(ledger, "after").recorded
    assert [u["idempotency_key"] for u in ledger.list_usage("acme")["items"]] == ["first", "after"]


def test_summary_m1(ledger, new_org):
    new_org(members=("ana", "ben"))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("50"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("5"))
    record(ledger, "1")
    record(ledger, "2", member="ben", tokens={"input": 400_000})
    summary = ledger.usage_summary("acme")
    assert (summary["period_start"], summary["credit_balance"], summary["spend"]) == ("2026-04-01", "93", "7")
    assert summary["limit"] == {"limit": "50", "spend": "7", "headroom": "43", "used_pct": 14, "status": "ok"}
    by_id = {m["id"]: m for m in summary["members"]}
    assert by_id["ana"]["spend"] == "5" and by_id["ana"]["limits_reached"] == ["individual"]
    assert by_id["ana"]["limit"]["status"] == "reached"
    assert by_id["ben"]["spend"] == "2" and by_id["ben"]["limit"]["status"] == "not_set"
    assert by_id["pat"]["spend"] == "0" and by_id["pat"]["records"] == 0


def test_a_months_record_count_goes_past_two_billion(ledger, new_org, database):
    """A spend counter counts the month's records in a BIGINT (migration 0018): one
    organization at 830 records a second passes 2**31 within a month, and an INTEGER
    refused every record of it after that ("integer out of range" on PostgreSQL)."""
    from sqlalchemy import update

    from tariff.storage.models import SpendCounter
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    record(ledger, "1")
    past = 2 ** 31 - 2  # the largest INTEGER after it: the next record goes past it
    with database.write() as session:  # as if the month had seen that many more records
        session.execute(update(SpendCounter).values(records=SpendCounter.records + past))
    try:
        assert record(ledger, "2").recorded
        by_id = {m["id"]: m for m in ledger.usage_summary("acme")["members"]}
        assert by_id["ana"]["records"] == 2 ** 31
    finally:  # the counters agree with the records again (the ledger fixture checks them)
        with database.write() as session:
            session.execute(update(SpendCounter).values(records=SpendCounter.records - past))


@pytest.mark.parametrize("tokens, path", [({"input": 1.5}, "tokens.input"), ({"input": True}, "tokens.input"),
                                          ({"input": -1}, "tokens.input"), ({"inputs": 5}, "tokens.inputs"),
                                          ({"input": 0}, "tokens")])
def test_token_counts_are_whole_numbers_of_known_classes(ledger, new_org, tokens, path):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    with pytest.raises(InvalidInput) as error:
        record(ledger, "t", tokens=tokens)
    assert path in error.value.errors


def test_a_record_kept_before_answers_had_a_language_still_replays(ledger, new_org, database):
    """Records written before the answer was kept with its language hold the
    answer itself (and no id: it is the record's own)."""
    import json

    from sqlalchemy import update

    from tariff.storage.models import UsageRecord
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    first = record(ledger, "old")
    with database.write() as s:
        s.execute(update(UsageRecord).values(response=json.dumps(first.answer | {"usage": first.usage | {"id": None}})))
    again = record(ledger, "old")
    assert again.replayed is True and again.language is None and again.answer == first.answer


def test_the_usage_path_makes_an_orm_session_only_when_something_needs_one(ledger, new_org):
    """Usage runs on a Core unit (Books.write(core=True)): a session costs about 60 us a
    transaction, so one is made only for what goes through it, here a block (reported
    to the outbox when the unit commits). A record, a batch and a pre-check that cross
    no threshold and are not blocked make none."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("1000"))
    made = []

    def began(session, *_):  # a session was made and used (even for a commit with nothing to do)
        made.append(session)
    event.listen(Session, "after_transaction_create", began)
    try:
        record(ledger, "r1", tokens={"input": 1000})
        ledger.record_usage_batch([{"organization": "acme", "idempotency_key": f"b{i}", "member": "ana",
                                    "product": "chat", "model": OPUS, "tokens": {"input": 1000}} for i in range(3)])
        ledger.authorize_usage("acme", member="ana", product="chat", model=OPUS)
        assert made == []
        ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("0.01"))
        made.clear()
        blocked = record(ledger, "r2", tokens={"input": 1_000_000})
        assert blocked.recorded is False and made
    finally:
        event.remove(Session, "after_transaction_create", began)
