"""The ledger's history as the engine requests it was decided on, oldest first:
an event source for `tariff diff --ledger`, so a policy change can be replayed
over what really happened."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Iterator

from sqlalchemy import select

from .db import Database
from . import repository as repo
from .models import Event, UsageRecord


def recorded_requests(database: Database, organization: str | None = None) -> Iterator[dict]:
    """Every applied decision's request (events and usage), in the order decided.

    Rows written before requests were kept (migration 0002) have none and are
    skipped. ``organization`` limits the history to one organization's id.
    """
    rows = []
    with database.read() as session:
        for model, when in ((Event, Event.created_at), (UsageRecord, UsageRecord.recorded_at)):
            query = select(model.request, when, model.pk).where(model.request.is_not(None))
            if organization is not None:
                query = query.where(repo.of_org(model.org_pk, session.connection(), organization))
            rows += [(at, 0 if model is Event else 1, pk, text) for text, at, pk in session.execute(query)]
    for _, _, _, text in sorted(rows):
        request = json.loads(text, parse_float=Decimal)
        if request is not None:
            yield request
