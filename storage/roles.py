"""Who may do what where the policy is silent: every role rule the ledger
enforces itself, in one place (each refusal is ``Forbidden``, 403
``role_not_allowed``). The policy decides the rest by the actor's role
(limits, credit purchases, seats, seat type changes, switching extra usage
off). These are to become policy rules (engine events) in turn.

- adding a member: owners, the primary owner and admins;
- adding an owner, or making one: owners and the primary owner only;
- changing a member's role: owners and the primary owner;
- the primary owner is named when the organization is created: nobody is
  made primary owner later, and the primary owner's role does not change;
- renaming the organization: owners, the primary owner and admins;
- switching extra usage *on* (P2): owners and the primary owner;
- cancelling a scheduled seat change: owners, the primary owner and admins.
"""
from __future__ import annotations

from tariff.engine import ROLES

from .errors import Forbidden, InvalidInput

PRIMARY_OWNER = "primary_owner"
OWNERS = (PRIMARY_OWNER, "owner")
MANAGERS = OWNERS + ("admin",)
# The roles a member can be given (the primary owner is named at creation).
ASSIGNABLE = tuple(role for role in ROLES if role != PRIMARY_OWNER)


def assignable(role: str) -> str:
    if role not in ASSIGNABLE:
        raise InvalidInput.field("role", f"one of {', '.join(ASSIGNABLE)} (the primary owner is named when the "
                                         "organization is created)")
    return role


def may_add_member(actor_role: str, role: str) -> None:
    if actor_role not in MANAGERS:
        raise Forbidden(f"a {actor_role} cannot manage members; ask an admin or owner")
    if role in OWNERS and actor_role not in OWNERS:
        raise Forbidden("only an owner or the primary owner can add or make owners")


def may_change_role(actor_role: str, member_role: str, role: str) -> None:
    if role not in ASSIGNABLE or member_role == PRIMARY_OWNER:
        raise InvalidInput.field("role", "the primary owner's role is fixed, and no one else can become primary "
                                         f"owner; roles: {', '.join(ASSIGNABLE)}")
    if actor_role not in OWNERS:
        raise Forbidden("only an owner or the primary owner can change roles")


def may_rename(actor_role: str) -> None:
    if actor_role not in MANAGERS:
        raise Forbidden("only an owner, the primary owner or an admin can rename the organization")


def may_switch_extra_usage_on(actor_role: str) -> None:
    if actor_role not in OWNERS:
        raise Forbidden("only an owner or the primary owner can switch extra usage on")


def may_cancel_seat_change(actor_role: str) -> None:
    if actor_role not in MANAGERS:
        raise Forbidden("only an owner, the primary owner or an admin can cancel a seat change")
