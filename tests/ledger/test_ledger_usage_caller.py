"""Issue 9, item 3: every state change records who made it. A usage record
names the key that recorded it (storage/caller.py, set by the API per
request), in the single path and the batch alike; none from the CLI or a job.
On SQLite and PostgreSQL."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from tariff.storage import caller
from tariff.storage.models import UsageRecord

OPUS = "claude-opus-4-6"


def usage(key, member="ana"):
    return {"organization": "acme", "idempotency_key": key, "member": member, "product": "chat", "model": OPUS,
            "tokens": {"input": 1000}}


def test_each_usage_record_names_the_key_that_recorded_it(ledger, new_org):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    with caller.acting(caller.Caller("k0123456789abcdef", "backend")):
        ledger.record_usage("acme", **{k: v for k, v in usage("one").items() if k != "organization"})
    with caller.acting(caller.Caller("kfedcba9876543210", "batcher")):
        ledger.record_usage_batch([usage("two"), usage("three")])
    with caller.acting(None):  # the CLI, a job: no key
        ledger.record_usage("acme", **{k: v for k, v in usage("four").items() if k != "organization"})
    with ledger.db.read() as session:
        rows = dict((key, (key_id, name)) for key, key_id, name in session.execute(
            select(UsageRecord.idempotency_key, UsageRecord.key_id, UsageRecord.key_name)))
    assert rows == {"one": ("k0123456789abcdef", "backend"), "two": ("kfedcba9876543210", "batcher"),
                    "three": ("kfedcba9876543210", "batcher"), "four": (None, None)}


def test_the_usage_list_and_the_answers_show_who_recorded_each(ledger, new_org):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    with caller.acting(caller.Caller("k0123456789abcdef", "backend")):
        single = ledger.record_usage("acme", **{k: v for k, v in usage("one").items() if k != "organization"})
        [batched] = ledger.record_usage_batch([usage("two")])
    with caller.acting(None):
        replay = ledger.record_usage("acme", **{k: v for k, v in usage("one").items() if k != "organization"})
    assert (single.usage["key_id"], single.usage["key_name"]) == ("k0123456789abcdef", "backend")
    assert (batched.answer["usage"]["key_id"], batched.answer["usage"]["key_name"]) == ("k0123456789abcdef", "backend")
    assert replay.replayed and replay.answer["usage"]["key_name"] == "backend"  # the first answer, whoever asks again
    listed = {u["idempotency_key"]: (u["key_id"], u["key_name"]) for u in ledger.list_usage("acme")["items"]}
    assert listed == {"one": ("k0123456789abcdef", "backend"), "two": ("k0123456789abcdef", "backend")}
