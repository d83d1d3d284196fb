"""Idempotency keys, for usage records and credit purchases: a key is unique
per organization and kept with the row it made; a retry with the key gets the
first result, and the same key with a different request is a conflict."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from .errors import Conflict
from .models import Organization


def fingerprint(**fields) -> str:
    """What a request asked for, as a digest kept beside its key."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def first_use(session, model, org: Organization, key: str, digest: str, what: str):
    """The ``model`` row an earlier request with ``key`` made (None: the key is
    new); ``Conflict`` when that request asked for something else."""
    row = session.execute(select(model).where(model.org_pk == org.pk, model.idempotency_key == key)
                          ).scalar_one_or_none()
    if row is not None and row.request_hash != digest:
        raise Conflict(f"this idempotency key was used for a different {what}", "idempotency_key_reused")
    return row
