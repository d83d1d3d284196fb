"""Who is calling, for the audit trail, without storage knowing of Flask: the
API sets it once per request (api/auth.py), every unit of work that audits a
change reads it (UnitOfWork.audit). A context variable, so concurrent
requests (threads, tasks) never see each other's caller; unset (the CLI, a
test, a billing job): None.

    with caller.acting(caller.Caller("k0123", "backend")):
        ledger.add_seats(...)            # its event names key k0123 "backend"
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Caller:
    key_id: str | None
    key_name: str | None


_CURRENT: ContextVar[Caller | None] = ContextVar("tariff_caller", default=None)


def current() -> Caller | None:
    return _CURRENT.get()


def key() -> tuple[str | None, str | None]:
    """The calling key's id and name, as rows keep them; (None, None) when none is set."""
    who = _CURRENT.get()
    return (who.key_id, who.key_name) if who is not None else (None, None)


def set_current(who: Caller | None) -> None:
    """For a request's whole life (the API resets it at each request's start)."""
    _CURRENT.set(who)


@contextmanager
def acting(who: Caller | None) -> Iterator[None]:
    token = _CURRENT.set(who)
    try:
        yield
    finally:
        _CURRENT.reset(token)
