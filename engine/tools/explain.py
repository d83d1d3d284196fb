"""A decision in plain English, for billing staff and support.

    lines = explain(decision)             # list[str]
    lines = explain(decision, policy)     # also says what each fired rule does

The lines say what was decided and why (each reason with the rule and the billing
numbers behind it), which spend limit binds and how much headroom is left,
what would let the member continue, what is charged line by line, and which
rules fired and where they are written (file:line). The wording is English
for staff; end users get translated messages from i18n/.
"""
from __future__ import annotations

from decimal import Decimal

from ..evaluate.decision import ALLOW, BLOCK, DEFAULT_DENY, Decision
from ..load.rate_card import PER_TOKENS
from ..money import fmt

OUTCOMES = {ALLOW: "Allowed", BLOCK: "Blocked", "refuse": "Refused"}
LEVELS = {"organization": "organization", "seat_type": "seat-type", "individual": "individual"}

REASONS = {
    "credits_exhausted": "the organization's prepaid credits are used up (or this request would overdraw them)",
    "org_limit_reached": "the organization has reached its monthly spend limit",
    "seat_type_limit_reached": "members of this seat type have reached their shared monthly spend limit",
    "individual_limit_reached": "the member has reached their individual monthly spend limit",
    "included_usage_exhausted": "the member has used all the usage included in their seat this month, and extra "
                                "usage is off",
    "extra_usage_limit_reached": "extra usage has reached the organization's monthly spend limit",
    "product_not_in_seat": "{product} is not included in the member's {seat_type} seat",
    "role_not_allowed": "the member's role may not do this",
    "seat_removal_mid_term": "seats cannot be removed in the middle of the annual term",
    "billing_cannot_be_disabled": "usage billing cannot be turned off on usage-based plans (limits can be "
                                  "set to unlimited instead)",
    "early_migration_requires_sales": "moving to the new plan before renewal goes through sales",
    "not_available_on_plan": "this is not available on the plan",
}

RESUME = {
    "buy_credits": "an owner or the primary owner buys more credits",
    "raise_limit": "an owner or the primary owner raises the {level} spend limit",
    "wait_for_period": "wait for the next billing period, which starts on {date}",
    "contact_account_manager": "contact the account manager",
    "contact_sales": "contact sales",
    "enable_extra_usage": "an owner turns on extra usage",
    "change_seat_type": "an admin changes the member's seat type to {seat_type}",
    "ask_owner": "ask an owner or the primary owner to do it",
    "ask_admin": "ask an admin to do it",
    "at_renewal": "it can take effect at renewal, on {date}",
}

TRANSITIONS = {
    "move_to_enterprise_seat": "the organization moves to plan {plan} (single Enterprise seat) on {date}",
    "period_reset": "a new billing period starts on {date}: month-to-date spend and notifications reset",
    "term_renewed": "the annual term renews on {date}",
}


def usd(amount) -> str:
    return f"{fmt(Decimal(amount))} USD"


def _text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return fmt(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "unknown" if value is None else str(value)


def _fill(template: str, params: dict) -> str:
    values = {k: (LEVELS.get(v, v) if k == "level" else _text(v)) for k, v in params.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template + (" (" + ", ".join(f"{k} {v}" for k, v in values.items()) + ")" if values else "")


def _reason(reason: dict) -> str:
    code = reason["code"]
    text = _fill(REASONS.get(code, code.replace("_", " ")), reason)
    if reason.get("limit") is not None:
        text += f": {usd(reason['spend'])} spent of a {usd(reason['limit'])} limit"
    if reason.get("rule") is None and code == DEFAULT_DENY:
        return text + " (no rule allows this request, so it is refused by default)"
    cites = f", rules {', '.join(reason['cites'])}" if reason.get("cites") else ""
    return f"{text} (rule {reason['rule']}{cites})"


def _resume(entry: dict, decision: Decision) -> str:
    params = {k: v for k, v in entry.items() if k != "action"}
    text = _fill(RESUME.get(entry["action"], entry["action"].replace("_", " ")), params)
    if entry["action"] == "raise_limit":
        spent = next((r["spend"] for r in decision.reasons if r.get("level") == params.get("level")
                      and r.get("spend") is not None), None)
        if spent is not None:
            text += f" above the {usd(spent)} already spent"
    if entry["action"] == "change_seat_type" and params.get("seat_type") is None:
        text = "an admin changes the member's seat type to one that includes the product"
    return text


def _binding(decision: Decision) -> str | None:
    limit = decision.binding_limit
    if limit is None:
        return None
    level = LEVELS.get(limit["level"], limit["level"])
    when = "before this request" if decision.event == "usage_precheck" else "including this usage"
    text = (f"Binding limit: the {level} limit of {usd(limit['limit'])}; {usd(limit['spend'])} spent this month "
            f"{when}; headroom {usd(limit['headroom'])}")
    return text + (" (the limit is reached)." if limit["headroom"] == 0 else ".")


def _per_million(unit: Decimal) -> str:
    return usd(unit * PER_TOKENS)


def _charge(line) -> str:
    kind = line.kind
    if kind == "usage":
        tier = " (long-context rates)" if line.tier == "long_context" else ""
        return (f"{line.item}: {line.quantity:,} tokens of {line.model} at {_per_million(line.unit_price)} per "
                f"million{tier} = {usd(line.amount)}")
    if kind == "included_usage":
        return (f"included usage: {line.quantity:,} tokens of {line.model} worth {usd(line.value or 0)}, covered "
                f"by the seat's allowance = {usd(line.amount)}")
    if kind == "extra_usage":
        return (f"extra usage: the part of {usd(line.value or 0)} of {line.model} usage beyond the seat's "
                f"allowance = {usd(line.amount)}")
    if kind in ("seat_fee", "hipaa_addon"):
        label = "seat fee" if kind == "seat_fee" else "HIPAA add-on"
        return (f"{label}: {line.quantity} {line.item} seat(s) x {usd(line.unit_price)} per month x "
                f"{line.months} month(s) = {usd(line.amount)}")
    if kind == "seat_upgrade":
        return (f"seat upgrade to {line.item}: {usd(line.unit_price)} more per month x {line.months} month(s) = "
                f"{usd(line.amount)}")
    return f"{kind} {line.item}: {line.quantity} x {usd(line.unit_price)} = {usd(line.amount)}"


def _notification(note: dict) -> str:
    if note.get("type") == "spend_threshold":
        level = LEVELS.get(note.get("level"), note.get("level"))
        who = f" (member {note['member']})" if note.get("member") else ""
        return (f"{level} spend{who} has reached {note.get('threshold_pct')}% of its limit: "
                f"{usd(note['spend'])} of {usd(note['limit'])}" if note.get("limit") is not None
                else f"{level} spend{who} has reached {note.get('threshold_pct')}% of its limit")
    return ", ".join(f"{k} {_text(v)}" for k, v in note.items())


def _change(change: dict) -> str:
    params = ", ".join(f"{k} {usd(v) if isinstance(v, Decimal) else _text(v)}"
                       for k, v in change.items() if k != "change")
    return f"{change['change']}" + (f" ({params})" if params else "")


def _effects(rule) -> str:
    e = rule.effects
    parts = []
    if e.allow:
        parts.append("allows")
    if e.block:
        parts.append(f"blocks with {e.block}")
    if e.refuse:
        parts.append(f"refuses with {e.refuse}")
    if e.charge:
        parts.append("charges " + ", ".join(a.name for a in e.charge))
    if e.notify:
        parts.append("notifies " + ", ".join(a.name for a in e.notify))
    if e.transition:
        parts.append(f"announces {e.transition.name}")
    if e.apply:
        parts.append("records " + ", ".join(e.apply))
    return "; ".join(parts)


def explain(decision: Decision, policy=None) -> list[str]:
    """Plain-English lines for ``decision``; give the PolicySet to say what each fired rule does."""
    rules = {}
    if policy is not None and decision.plan in policy.plans:
        rules = {r.id: r for r in policy.plans[decision.plan].rules}
    lines = [f"{OUTCOMES.get(decision.outcome, decision.outcome)}: {decision.event} on plan {decision.plan}, "
             f"as of {decision.as_of.isoformat()} (policy {decision.policy_version[:12]})."]
    if decision.reasons:
        lines.append("Why:" if len(decision.reasons) > 1 else "Why: " + _reason(decision.reasons[0]) + ".")
        if len(decision.reasons) > 1:
            lines += [f"  - {_reason(r)}" for r in decision.reasons]
    binding = _binding(decision)
    if binding:
        lines.append(binding)
    if decision.resume:
        ways = [_resume(entry, decision) for entry in decision.resume]
        lines.append("To continue: " + "; or ".join(ways) + ".")
    if decision.outcome == ALLOW:
        if decision.charges:
            lines.append(f"Charges: {usd(decision.total)} in total.")
            lines += [f"  - {_charge(line)}" for line in decision.charges]
        else:
            lines.append("Charges: none.")
    else:
        lines.append(f"Charges: none ({'blocked' if decision.outcome == BLOCK else 'refused'} requests are not "
                     "charged).")
    for note in decision.notifications:
        lines.append(f"Notification: {_notification(note)}.")
    if decision.transition:
        params = {k: v for k, v in decision.transition.items() if k != "type"}
        kind = decision.transition["type"]
        lines.append(f"Transition: {_fill(TRANSITIONS.get(kind, kind.replace('_', ' ')), params)}.")
    if decision.changes:
        lines.append("For the books: " + "; ".join(_change(c) for c in decision.changes) + ".")
    if decision.trace:
        lines.append("Rules that fired, in the order they are written:")
        for step in decision.trace:
            cites = f"; rules {', '.join(step['cites'])}" if step.get("cites") else ""
            does = _effects(rules[step["rule"]]) if step["rule"] in rules else ""
            lines.append(f"  - {step['rule']} ({step['file']}:{step['line']}{cites})" + (f": {does}" if does else ""))
    else:
        lines.append("No rule fired.")
    return lines
