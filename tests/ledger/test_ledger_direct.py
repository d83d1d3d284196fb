"""storage/direct.py: the usage path's statements on the driver's cursor give
what SQLAlchemy's own execution gives, and fail as SQLAlchemy's do."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from tariff.storage import lean


def _through_sqlalchemy(conn, statement, params):
    return [tuple(row) for row in conn.execute(statement, params)]


def test_the_state_read_directly_is_the_state_sqlalchemy_reads(ledger, new_org, database):
    new_org("acme", members=("ana", "ben"))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("6"))
    ledger.record_usage("acme", idempotency_key="one", member="ana", product="chat", model="claude-opus-4-6",
                        tokens={"input": 1_000_000})
    with database.write() as session:
        conn = session.connection()
        org = lean.org_row(conn, "acme", lock=True)
        assert org == lean.OrgRow(*_through_sqlalchemy(conn, lean.LOCK_ORG, {"pk": org.pk, "org": "acme"})[0])
        assert isinstance(org.credit_balance, Decimal) and isinstance(org.term_start, date)
        for members, keys in ((["ana"], ["one"]), (["ana", "ben"], ["one", "two"]), ([], [])):
            params = lean._state_params(org.pk, members, keys, [date(2026, 4, 1)])
            assert lean.D_STATE.direct(conn, params)
            direct = lean.D_STATE.rows(conn, params)
            assert sorted(direct, key=repr) == sorted(_through_sqlalchemy(conn, lean.STATE, params), key=repr)
        # what was compared holds each kind: members, the key, counters, the limit
        assert {row[0] for row in lean.D_STATE.rows(conn, lean._state_params(
            org.pk, ["ana"], ["one"], [date(2026, 4, 1)]))} >= {"m", "k", "c", "l"}


def test_a_batchs_long_lists_read_the_state_sqlalchemy_reads(ledger, new_org, database):
    """Past MAX_EXPANDED values, PostgreSQL reads with an array per list (STATE_ARRAYS),
    on the cursor; SQLite with SQLAlchemy's expanding INs: the same rows either way."""
    new_org("acme", members=("ana", "ben"))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    for i in range(3):
        ledger.record_usage("acme", idempotency_key=f"k{i}", member="ana", product="chat",
                            model="claude-opus-4-6", tokens={"input": 1000})
    with database.write() as session:
        conn = session.connection()
        org = lean.org_row(conn, "acme", lock=True)
        params = lean._state_params(org.pk, ["ana", "ben"], [f"k{i}" for i in range(40)], [date(2026, 4, 1)])
        statement = lean.D_STATE.on(conn, params)
        postgres = database.dialect == "postgresql"
        assert (statement is lean.D_STATE.arrays) is postgres and statement.direct(conn, params) is postgres
        rows = lean.D_STATE.rows(conn, params)
        assert sorted(rows, key=repr) == sorted(_through_sqlalchemy(conn, lean.STATE, params), key=repr)
        assert sorted(row[3] for row in rows if row[0] == "k") == ["k0", "k1", "k2"]


def test_a_driver_error_comes_out_as_sqlalchemys(ledger, new_org, database):
    new_org("acme", members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    assert ledger.record_usage("acme", idempotency_key="one", member="ana", product="chat",
                               model="claude-opus-4-6", tokens={"input": 1000}).recorded
    with pytest.raises(IntegrityError):  # db.py maps SQLAlchemy's errors, never the driver's
        with database.write() as session:
            conn = session.connection()
            org = lean.org_row(conn, "acme", lock=True)
            state = lean.state(conn, org.pk, ["ana"], ["one"], [])
            _pk, digest, response = state.keys["one"]
            row = {"pk": lean.new_pks(conn, 1)[0], "org_pk": org.pk, "member_pk": state.members["ana"].pk,
                   "idempotency_key": "one",
                   "request_hash": digest,
                   "period_start": date(2026, 4, 1), "occurred_at": ledger.books.now(),
                   "recorded_at": ledger.books.now(), "seat_type": "enterprise", "product": "chat",
                   "model": "m", "cost": Decimal(0), "billed": Decimal(0), "included": Decimal(0),
                   "request": "{}", "response": response, "key_id": None, "key_name": None,
                   **{c: 0 for c in lean.TOKEN_COLUMNS.values()}}
            lean.D_INSERT_USAGE.run(conn, row)  # the same key again: the unique key refuses it


def test_with_a_cursor_listener_the_same_statements_go_through_sqlalchemy(ledger, new_org, database):
    new_org("acme", members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    seen = []

    @event.listens_for(database.engine, "before_cursor_execute")
    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    try:
        assert ledger.record_usage("acme", idempotency_key="one", member="ana", product="chat",
                                   model="claude-opus-4-6", tokens={"input": 1000}).recorded
    finally:
        event.remove(database.engine, "before_cursor_execute", keep)
    assert any("FROM organizations" in s and "organizations.id =" in s for s in seen)
    assert any(s.startswith("INSERT INTO usage_records") for s in seen)


def test_rows_of_a_batch_are_processed_once_per_value_and_a_float_is_still_refused(database):
    """row_args runs a column's processor once for a run of equal values (the rows of
    a batch share their times and period): the same arguments as each row on its own,
    and a float equal to the Decimal before it meets the Money processor's refusal."""
    from datetime import datetime, timezone
    with database.write() as session:
        conn = session.connection()
        when = datetime(2026, 4, 1, 12, tzinfo=timezone.utc)
        rows = [{"org_pk": 1, "kind": "consumption", "amount": Decimal(a), "balance_after": Decimal("1.5"),
                 "member_pk": 1, "usage_record_pk": None, "idempotency_key": None, "request_hash": None,
                 "created_at": when} for a in ("-1", "-1.0", "-0.25", "-1")]
        plan = lean.D_INSERT_CREDIT._plan(conn.dialect, rows[0])
        args = plan.row_args()
        assert [args(row) for row in rows] == [plan.args(row) for row in rows]
        with pytest.raises(TypeError, match="money is Decimal, not float"):
            args({**rows[0], "balance_after": 1.5})
