"""Cursor pagination, one way for every list (storage/pages.py): pages
neither skip nor repeat a row when rows arrive between requests, the last
page says so with ``next: null``, and a cursor this service did not give is
a 422 naming ``cursor``."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tariff.storage import InvalidInput


def walk(list_page, limit):
    """Every item, page by page; and the size of each page."""
    items, sizes, cursor = [], [], None
    while True:
        page = list_page(cursor=cursor, limit=limit)
        items += page["items"]
        sizes.append(len(page["items"]))
        cursor = page["next"]
        if cursor is None:
            return items, sizes


def test_members_page_by_id_and_rows_added_between_pages_are_not_lost(ledger, new_org):
    new_org(seats={"enterprise": 8}, members=("bo", "di", "fa"))
    first = ledger.list_members("acme", limit=2)
    assert [m["id"] for m in first["items"]] == ["bo", "di"] and first["next"]
    ledger.add_member("acme", actor="pat", id="al")  # before the cursor: on no later page
    ledger.add_member("acme", actor="pat", id="ed")  # after it: on the next one
    rest, _ = walk(lambda **kw: ledger.list_members("acme", **kw) if kw["cursor"] else first, 2)
    assert [m["id"] for m in rest] == ["bo", "di", "ed", "fa", "pat"]
    everyone, sizes = walk(lambda **kw: ledger.list_members("acme", **kw), 2)
    assert [m["id"] for m in everyone] == ["al", "bo", "di", "ed", "fa", "pat"] and sizes == [2, 2, 2]


def test_every_list_pages(ledger, new_org):
    new_org(seats={"enterprise": 3}, members=("ana",))
    for n in range(3):
        ledger.purchase_credits("acme", actor="pat", amount=Decimal("5"))
        ledger.add_seats("acme", actor="pat", count=1)
    for n in range(5):
        ledger.record_usage("acme", idempotency_key=f"u{n}", member="ana", product="chat",
                            model="claude-opus-4-6", tokens={"input": 1000})
    new_org("beta", members=())
    for list_page, count in [(lambda **kw: ledger.list_usage("acme", **kw), 5),
                             (lambda **kw: ledger.list_credit_entries("acme", **kw), 8),
                             (lambda **kw: ledger.list_seat_changes("acme", **kw), 4),
                             (lambda **kw: ledger.list_organizations(**kw), 2)]:
        one_by_one, sizes = walk(list_page, 1)
        assert sizes == [1] * count
        assert one_by_one == list_page(cursor=None, limit=1000)["items"]
        assert len({repr(item) for item in one_by_one}) == count  # no row twice


# Cursors no list gave: garbage, empty, [], {}, [1, 2] ...
NOT_CURSORS = ["not-ours", "", "W10", "e30", "WzEsMl0"]


@pytest.mark.parametrize("cursor", NOT_CURSORS + ["WzFd"])  # [1]: a pk, where the list pages by id
def test_a_cursor_the_members_list_did_not_give_is_refused(ledger, new_org, cursor):
    new_org(members=())
    with pytest.raises(InvalidInput) as error:
        ledger.list_members("acme", cursor=cursor)
    assert list(error.value.errors) == ["cursor"]


@pytest.mark.parametrize("cursor", NOT_CURSORS + ["WyJhIl0", "Wy0xXQ"])  # ["a"], [-1]
def test_a_cursor_the_usage_list_did_not_give_is_refused(ledger, new_org, cursor):
    new_org(members=())
    with pytest.raises(InvalidInput) as error:
        ledger.list_usage("acme", cursor=cursor)
    assert list(error.value.errors) == ["cursor"]
