"""API keys: made, listed, revoked, and checked on every request.

    key, secret = keys.create(db, scope="service", organization="acme", name="backend")
    keys.authenticate(db, secret)        # the Key, or None (unknown, malformed or revoked)

A secret is ``tk_<key id>_<43 random url-safe characters>`` (256 bits). Only
its sha256 is stored: a leaked database yields no usable secret, and a
high-entropy secret needs no slow hash. The key id inside the secret finds
the row; the digests are then compared in constant time (hmac.compare_digest),
against a dummy digest when no row matches, so an unknown id costs the same.

Scopes, from most to least (``RANKS``): ``admin`` (everything; never bound to
an organization), ``service`` (one organization or all), ``read`` (read-only,
always one organization). Revoked keys are kept: the audit trail names them,
and once any key has existed the service is out of local mode for good
(``any_exist``).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import inputs
from .db import Database, _operational
from .errors import InvalidInput, NotFound
from .models import ApiKey

SCOPES = ("admin", "service", "read")
PREFIX = "tk_"
SECRET = re.compile(r"^tk_(k[0-9a-f]{16})_[A-Za-z0-9_-]{43}$")
_DUMMY = hashlib.sha256(b"no such key").hexdigest()
# Idempotency keys of key creation live apart from every organization's (ids never start with "#").
IDEMPOTENCY_SCOPE = "#keys"


@dataclass(frozen=True)
class Key:
    id: str
    name: str
    scope: str
    organization: str | None
    created_at: datetime
    revoked_at: datetime | None
    created_by: str | None = None  # an admin key's id, "local" (local mode) or "cli" (tariff keys)
    revoked_by: str | None = None

    def json(self) -> dict:
        return {"id": self.id, "name": self.name, "scope": self.scope, "organization": self.organization,
                "created_at": self.created_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
                "created_by": self.created_by, "revoked_by": self.revoked_by}


def _key(row: ApiKey) -> Key:
    return Key(row.id, row.name, row.scope, row.organization, row.created_at, row.revoked_at, row.created_by,
               row.revoked_by)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def check(scope: str, organization: str | None, name: str | None) -> None:
    """What a new key may be; InvalidInput naming the field."""
    if scope not in SCOPES:
        raise InvalidInput.field("scope", f"must be one of {', '.join(SCOPES)}")
    if scope == "admin" and organization is not None:
        raise InvalidInput.field("organization", "an admin key acts for every organization; omit it")
    if scope == "read" and organization is None:
        raise InvalidInput.field("organization", "a read key is for one organization; name it")
    if organization is not None:
        inputs.check_id(organization, "organization")
    if name is not None and not 1 <= len(name) <= 200:
        raise InvalidInput.field("name", "from 1 to 200 characters")
    if name is not None and any(not c.isprintable() for c in name):
        # it is shown in key lists, the audit trail and log lines: no tabs, newlines or escapes
        raise InvalidInput.field("name", "printable characters only (no tabs, newlines or control characters)")


def create(db: Database, scope: str, organization: str | None = None, name: str | None = None,
           now: datetime | None = None, idempotency_key: str | None = None,
           by: str | None = None) -> tuple[Key, str | None]:
    """A new key and its secret (shown once: only its digest is kept); ``by``
    says who made it (kept with the key: keys are outside any organization's
    audit trail).

    With an ``idempotency_key``, a retry gets the first key back with the
    secret None: the secret is never stored, so it cannot be given twice (a
    caller who lost it revokes the key and makes another)."""
    check(scope, organization, name)
    try:
        return _create(db, scope, organization, name, now or _now(), idempotency_key, by)
    except IntegrityError:  # a concurrent retry with the same key won (PostgreSQL): answer as its replay
        if idempotency_key is None:
            raise
        return _create(db, scope, organization, name, now or _now(), idempotency_key, by)


def _create(db, scope, organization, name, now, idempotency_key, by):
    from .idempotency import Once
    with db.write() as session:
        once = Once(SimpleNamespace(session=session, now=now), IDEMPOTENCY_SCOPE, "keys.create", idempotency_key,
                    key_scope=scope, organization=organization, name=name)
        if once.replay is not None:
            return get_in(session, once.replay["id"]), None
        key_id = "k" + secrets.token_hex(8)
        secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        row = ApiKey(id=key_id, name=name or f"{scope} key", scope=scope, organization=organization,
                     secret_sha256=digest(secret), created_at=now, created_by=by)
        session.add(row)
        session.flush()
        once.keep({"id": key_id})  # only the id: the secret is never kept
        return _key(row), secret


def list_all(db: Database) -> list[Key]:
    with db.read() as session:
        return [_key(row) for row in session.execute(select(ApiKey).order_by(ApiKey.pk)).scalars()]


def get(db: Database, key_id: str) -> Key:
    with db.read() as session:
        return get_in(session, key_id)


def get_in(session, key_id: str) -> Key:
    row = session.execute(select(ApiKey).where(ApiKey.id == key_id)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no key {key_id!r}", "key_not_found")
    return _key(row)


def revoke(db: Database, key_id: str, now: datetime | None = None, by: str | None = None) -> Key:
    """Revoke a key (at once, for every worker: each request reads it); ``by``
    says who. Revoking a revoked key changes nothing and answers it as it is."""
    with db.write() as session:
        row = session.execute(select(ApiKey).where(ApiKey.id == key_id).with_for_update()).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no key {key_id!r}", "key_not_found")
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = now or _now(), by
        return _key(row)


# Every request asks one of these: one Core statement on a read-only connection
# (~0.1 ms; an ORM session and its transaction cost four times that), never
# cached, so a revocation holds from the next request in every worker.
_BY_ID = select(ApiKey.id, ApiKey.name, ApiKey.scope, ApiKey.organization, ApiKey.secret_sha256,
                ApiKey.created_at, ApiKey.revoked_at)


def _first(db: Database, statement):
    with _operational(), db._reader.connect() as connection:  # noqa: SLF001 (storage's own reader)
        return connection.execute(statement).first()


def authenticate(db: Database, secret: str) -> Key | None:
    """The live key whose secret this is; None for anything else (constant-time comparison)."""
    match = SECRET.match(secret)
    row = _first(db, _BY_ID.where(ApiKey.id == match.group(1))) if match else None
    stored = row.secret_sha256 if row is not None else _DUMMY
    same = hmac.compare_digest(digest(secret).encode(), stored.encode())
    if row is None or not same or row.revoked_at is not None:
        return None
    return Key(row.id, row.name, row.scope, row.organization, row.created_at, row.revoked_at)


def is_live(db: Database, key_id: str) -> bool:
    """The key exists and is not revoked (a member session's issuer)."""
    row = _first(db, select(ApiKey.revoked_at).where(ApiKey.id == key_id))
    return row is not None and row[0] is None


def any_exist(db: Database) -> bool:
    return _first(db, select(ApiKey.pk).limit(1)) is not None


def shared_secret(db: Database, name: str) -> str:
    """A secret every worker shares, made by the first to ask and kept in the
    database (the member sessions' signing key when none is configured)."""
    from .models import ServiceSecret
    with db.read() as session:
        row = session.get(ServiceSecret, name)
        if row is not None:
            return row.value
    try:
        with db.write() as session:
            if session.get(ServiceSecret, name) is None:
                session.add(ServiceSecret(name=name, value=secrets.token_urlsafe(48), created_at=_now()))
    except IntegrityError:  # another worker made it first: theirs is the one
        pass
    with db.read() as session:
        return session.get(ServiceSecret, name).value
