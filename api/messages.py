"""End-user messages in a decision: each reason, resume option, notification
and transition gets a ``message`` in the language negotiated from
Accept-Language (i18n.render; English when nothing better matches).

Messages are rendered from the engine's raw values (Decimal amounts, dates),
never from the strings of the JSON answer, so amounts are formatted exactly.
"""
from __future__ import annotations

import functools
import logging

from decimal import Decimal

from tariff.i18n import SUPPORTED, negotiate, render

log = logging.getLogger("tariff.api")


@functools.lru_cache(maxsize=512)
def language(accept_language: str | None) -> str:
    return negotiate(accept_language)


def _member_seat_type(payload, policy, plan_id):
    """The acting member's seat type: as sent, or the plan's only one."""
    member = payload.get("member") if isinstance(payload, dict) else None
    if isinstance(member, dict) and isinstance(member.get("seat_type"), str):
        return member["seat_type"]
    plan = policy.plans.get(plan_id)
    if plan is not None and len(plan.seat_types) == 1:
        return next(iter(plan.seat_types))
    return None


def _render(section: str, code: str, params: dict, lang: str) -> str:
    try:
        return render(section, code, params, lang)
    except (KeyError, TypeError, ValueError) as exc:  # UnknownMessage and MissingParameter are KeyErrors
        log.warning("no %s message for %s.%s: %s", lang, section, code, exc)
        if lang != "en":
            return _render(section, code, params, "en")
        return code


def localize(decision, out: dict, payload, policy, lang: str) -> None:
    """Add ``message`` to the items of ``out`` (decision.to_dict()) in place."""
    if decision.reasons:
        seat_type = _member_seat_type(payload, policy, decision.plan)
        event = payload.get("event") if isinstance(payload, dict) else None
        product = event.get("product") if isinstance(event, dict) else None
        for raw, item in zip(decision.reasons, out["reasons"]):
            params = {"seat_type": seat_type, "product": product, **raw}
            item["message"] = _render("reasons", raw["code"], {k: v for k, v in params.items() if v is not None},
                                      lang)
    for raw, item in zip(decision.resume, out["resume"]):
        item["message"] = _render("resume", raw["action"], raw, lang)
    for raw, item in zip(decision.notifications, out["notifications"]):
        item["message"] = _render("notifications", raw["type"], raw, lang)
    if decision.transition is not None:
        out["transition"]["message"] = _render("transitions", decision.transition["type"], decision.transition,
                                               lang)


def warm_up() -> None:
    """Load the catalogs and every language's number formats at start-up, not
    in the first request each worker serves."""
    for lang in SUPPORTED:
        render("reasons", "org_limit_reached", {"limit": Decimal("1")}, lang)
