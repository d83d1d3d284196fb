"""What a caller names, checked against the plan before anything is decided:
ids, a plan and its channel, seat types. Each failure names its field."""
from __future__ import annotations

import re
import secrets

from .errors import InvalidInput

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")
ID_RULE = "1 to 64 letters, digits or _.:@-, starting with a letter or digit"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def check_id(value: str, path: str) -> str:
    if not ID.match(value):
        raise InvalidInput.field(path, ID_RULE)
    return value


def plan_and_channel(policy, plan_id: str, channel: str | None):
    """The plan named, and the channel it is sold on (the plan's only one when not given)."""
    plan = policy.plans.get(plan_id)
    if plan is None:
        raise InvalidInput.field("plan", f"unknown plan {plan_id!r}; known: {', '.join(sorted(policy.plans))}",
                                 "unknown_plan")
    if channel is None:
        if len(plan.channels) != 1:
            raise InvalidInput.field("channel", f"plan {plan.id} is sold {' and '.join(plan.channels)}: say which")
        channel = plan.channels[0]
    elif channel not in plan.channels:
        raise InvalidInput.field("channel", f"plan {plan.id} is not sold {channel}")
    return plan, channel


def seat_type(plan, given: str | None, path: str, seats: dict | None = None) -> str:
    """``given``, checked; when not given, the plan's only seat type, or the
    only one the organization has ``seats`` of."""
    if given is None:
        if len(plan.seat_types) == 1:
            return next(iter(plan.seat_types))
        bought = [name for name, count in (seats or {}).items() if count]
        if len(bought) == 1:
            return bought[0]
        raise InvalidInput.field(path, f"plan {plan.id} has seat types {', '.join(plan.seat_types)}: say which")
    if given not in plan.seat_types:
        raise InvalidInput.field(path, f"{given!r} is not a seat type of plan {plan.id} "
                                       f"({', '.join(plan.seat_types)})")
    return given
