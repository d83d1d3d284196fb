"""The digest kept beside an idempotency key must not change between releases:
a retry after an upgrade compares against a digest an older release wrote, and
a different text would turn that retry into idempotency_key_reused."""
import hashlib
import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from tariff.storage.idempotency import fingerprint

CASES = [
    {"member": "ana", "product": "chat", "model": "claude-haiku-4-5", "tokens": {"input": 1000, "output": 0},
     "occurred_at": None},
    {"member": "Zoë", "product": "claude_code", "model": "m", "tokens": {"output": 7},
     "occurred_at": "2026-04-10T12:00:00+00:00"},
    {"amount": Decimal("12.500000001"), "day": date(2026, 4, 1), "when": datetime(2026, 4, 1, tzinfo=timezone.utc),
     "seats": {"enterprise": 3, "hipaa": [1, 2]}, "text": "\u0416\u00e9\U0001f600"},
    {},
]


@pytest.mark.parametrize("fields", CASES)
def test_the_digest_is_the_sha256_of_the_sorted_json_text_it_always_was(fields):
    text = json.dumps(fields, sort_keys=True, default=str)
    assert fingerprint(**fields) == hashlib.sha256(text.encode()).hexdigest()


def test_a_known_digest_stays_the_same():
    # Written down once from the release that first kept digests; must never change.
    assert fingerprint(member="ana", product="chat", model="claude-haiku-4-5", tokens={"input": 1000},
                       occurred_at=None) == hashlib.sha256(
        b'{"member": "ana", "model": "claude-haiku-4-5", "occurred_at": null, "product": "chat", '
        b'"tokens": {"input": 1000}}').hexdigest()


def test_the_digest_tells_requests_apart():
    assert fingerprint(member="ana", tokens={"input": 1}) != fingerprint(member="ana", tokens={"input": 2})
