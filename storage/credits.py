"""The credit ledger (C1-C3): purchases through the engine's
``credit_purchase`` event (owners only, prepaid plans only). A purchase may
carry an idempotency key: a retry returns the first purchase, never buys
twice. ``Organization.credit_balance`` moves with every entry and always
equals the sum of the entries (storage.verify)."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from sqlalchemy import select

from tariff.engine import money

from . import facts, repository as repo, views
from .errors import Conflict
from .models import CreditEntry, Member, Organization


def fingerprint(**fields) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


class CreditOps:

    def purchase_credits(self, org_id: str, *, actor: str, amount: Decimal,
                         idempotency_key: str | None = None) -> dict:
        with self.db.write() as session:
            org = repo.lock_org(session, org_id)
            who = repo.actor(session, org, actor)
            digest = fingerprint(actor=actor, amount=money.fmt(amount))
            if idempotency_key is not None:
                entry = session.execute(select(CreditEntry).where(
                    CreditEntry.org_pk == org.pk, CreditEntry.idempotency_key == idempotency_key)).scalar_one_or_none()
                if entry is not None:
                    if entry.request_hash != digest:
                        raise Conflict("this idempotency key was used for a different purchase",
                                       "idempotency_key_reused")
                    return self._purchase_result(org, entry, who.id, replayed=True)
            decision = self.decide(facts.request(org, self.today(), {"type": "credit_purchase", "amount": amount},
                                                 who))
            self.require_allow(decision)
            entry = None
            for change in decision.changes:
                if change["change"] == "add_credits":
                    entry = self.credit_entry(session, org, "purchase", change["amount"], who)
                    entry.idempotency_key, entry.request_hash = idempotency_key, digest
            self.audit(session, org, decision, who)
            session.flush()
            return self._purchase_result(org, entry, who.id, replayed=False)

    def credit_entry(self, session, org: Organization, kind: str, amount: Decimal, member: Member | None,
                     usage_record=None) -> CreditEntry:
        """Append to the credit ledger and move the balance beside it."""
        signed = amount if kind == "purchase" else -amount
        org.credit_balance = org.credit_balance + signed
        entry = CreditEntry(org_pk=org.pk, kind=kind, amount=signed, balance_after=org.credit_balance,
                            member_pk=member.pk if member else None, usage_record=usage_record,
                            created_at=self.now())
        session.add(entry)
        return entry

    def _purchase_result(self, org, entry: CreditEntry, member_id: str, replayed: bool) -> dict:
        return {"entry": views.credit_entry(entry, member_id), "credit_balance": views.money(entry.balance_after),
                "replayed": replayed}

    def list_credit_entries(self, org_id: str, after: int | None = None, limit: int = 100) -> list[dict]:
        with self.db.read() as session:
            org = repo.get_org(session, org_id)
            query = select(CreditEntry, Member.id).outerjoin(Member, Member.pk == CreditEntry.member_pk) \
                .where(CreditEntry.org_pk == org.pk).order_by(CreditEntry.pk).limit(limit)
            if after is not None:
                query = query.where(CreditEntry.pk > after)
            return [views.credit_entry(entry, member_id) for entry, member_id in session.execute(query)]
