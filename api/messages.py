"""A decision as the API answers it, everywhere (/v1/decisions, every ledger
view, a refusal's problem): the engine's JSON, with a ``message`` for the
end user on each reason, resume option, notification and transition, in the
language negotiated from Accept-Language (i18n.render; English when nothing
better matches).

Messages are rendered from the ``Decision``'s own values (Decimal amounts,
dates; the acting member's seat type and the product it carries), never from
the strings of the JSON answer, so amounts are formatted exactly.
"""
from __future__ import annotations

import functools
import logging
from decimal import Decimal

from flask import request

from tariff.engine import Decision
from tariff.i18n import SUPPORTED, negotiate, render

log = logging.getLogger("tariff.api")


@functools.lru_cache(maxsize=512)
def language(accept_language: str | None) -> str:
    return negotiate(accept_language)


def request_language() -> str:
    """The language of this request's answer (Content-Language)."""
    return language(request.headers.get("Accept-Language"))


def decision_json(decision: Decision, lang: str, *, explain: bool = False, plain: dict | None = None) -> dict:
    """``decision`` as answered: ``plain`` (its ``to_dict(explain)``, when the
    caller has it already), with the end-user messages added in ``lang``."""
    out = decision.to_dict(explain=explain) if plain is None else plain
    if decision.reasons:
        context = {"seat_type": decision.seat_type, "product": decision.product}
        for raw, item in zip(decision.reasons, out["reasons"]):
            params = {k: v for k, v in {**context, **raw}.items() if v is not None}
            item["message"] = _render("reasons", raw["code"], params, lang)
    for raw, item in zip(decision.resume, out["resume"]):
        item["message"] = _render("resume", raw["action"], raw, lang)
    for raw, item in zip(decision.notifications, out["notifications"]):
        item["message"] = _render("notifications", raw["type"], raw, lang)
    if decision.transition is not None:
        out["transition"]["message"] = _render("transitions", decision.transition["type"], decision.transition,
                                               lang)
    return out


def _render(section: str, code: str, params: dict, lang: str) -> str:
    try:
        return render(section, code, params, lang)
    except (KeyError, TypeError, ValueError) as exc:  # UnknownMessage and MissingParameter are KeyErrors
        log.warning("no %s message for %s.%s: %s", lang, section, code, exc)
        if lang != "en":
            return _render(section, code, params, "en")
        return code


def warm_up() -> None:
    """Load the catalogs and every language's number formats at start-up, not
    in the first request each worker serves."""
    for lang in SUPPORTED:
        render("reasons", "org_limit_reached", {"limit": Decimal("1")}, lang)
