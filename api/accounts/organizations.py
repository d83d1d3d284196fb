"""Organizations, members, seats, limits and credits."""
from __future__ import annotations

from ..auth import requires
from ..jsonio import json_response
from ..messages import decision_json, request_language
from . import schemas as S
from .blueprint import REPLAYED, answer, blp, documented, ledger, replayed_headers


@blp.route("/organizations", methods=["POST"])
@requires("admin")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.OrganizationCreateSchema)
@blp.response(201, S.OrganizationCreatedSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def create_organization(body, idempotency_key=None):
    """Create an organization with its primary owner and seats.

    The term's seats are charged upfront for twelve months (S2), decided by
    the policy as of `term_start`. Members join later, each on a free seat.
    With an Idempotency-Key (unique among creations), a retry returns the
    first result and creates nothing.
    """
    owner = body.pop("primary_owner")
    out = ledger().create_organization(primary_owner=owner, idempotency_key=idempotency_key, **body)
    return json_response(out, 201, headers=replayed_headers(out))


@blp.route("/organizations", methods=["GET"])
@requires("admin")
@blp.arguments(S.PageQuerySchema, location="query", as_kwargs=True)
@blp.response(200, S.page_of(S.OrganizationSchema))
@documented(body=False)
def list_organizations(cursor=None, limit=100):
    """A page of every organization, by id (billing staff)."""
    return json_response(ledger().list_organizations(cursor=cursor, limit=limit))


@blp.route("/organizations/<org_id>", methods=["GET"])
@requires("read")
@blp.response(200, S.OrganizationSchema)
@documented(body=False)
def get_organization(org_id):
    """An organization: plan, channel, term, seats bought and assigned, credit balance."""
    return json_response(ledger().get_organization(org_id))


@blp.route("/organizations/<org_id>", methods=["PATCH"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.OrganizationUpdateSchema)
@blp.response(200, S.OrganizationSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def update_organization(body, org_id, idempotency_key=None):
    """Rename, or switch extra usage on or off (seat-based plans, P2).

    Switching off is decided by the policy (and refused on usage-based plans:
    usage billing cannot be disabled, U4).
    """
    out = ledger().update_organization(org_id, idempotency_key=idempotency_key, **body)
    return json_response(out, headers=replayed_headers(out))


@blp.route("/organizations/<org_id>/members", methods=["GET"])
@requires("read")
@blp.arguments(S.MemberListQuerySchema, location="query", as_kwargs=True)
@blp.response(200, S.page_of(S.MemberSchema))
@documented(body=False)
def list_members(org_id, removed=False, cursor=None, limit=100):
    """A page of the members, by id; with `removed=true`, the removed ones too."""
    return json_response(ledger().list_members(org_id, removed=removed, cursor=cursor, limit=limit))


@blp.route("/organizations/<org_id>/members", methods=["POST"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.MemberCreateSchema)
@blp.response(201, S.MemberSchema, headers=REPLAYED)
@documented(403, 409)
def add_member(body, org_id, idempotency_key=None):
    """Add a member on a free seat (409 `no_free_seat`: add seats first).

    Owners, the primary owner and admins add members; only owners and the
    primary owner add owners.
    """
    out = ledger().add_member(org_id, idempotency_key=idempotency_key, **body)
    return json_response(out, 201, headers=replayed_headers(out))


@blp.route("/organizations/<org_id>/members/<member_id>", methods=["GET"])
@requires("read")
@blp.response(200, S.MemberSchema)
@documented(body=False)
def get_member(org_id, member_id):
    """One member."""
    return json_response(ledger().get_member(org_id, member_id))


@blp.route("/organizations/<org_id>/members/<member_id>", methods=["PATCH"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.MemberUpdateSchema)
@blp.response(200, S.MemberChangedSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def change_member(body, org_id, member_id, idempotency_key=None):
    """Change a member's role (owners only) or seat type (S7).

    A seat type change is the policy's `seat_type_change`: effective at once,
    the member's seat converts, and a dearer seat is charged the monthly
    difference for the months left in the term.
    """
    out = ledger().change_member(org_id, member_id, idempotency_key=idempotency_key, **body)
    return json_response(out, headers=replayed_headers(out))


@blp.route("/organizations/<org_id>/members/<member_id>/remove", methods=["POST"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.ActorSchema)
@blp.response(200, S.MemberSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def remove_member(body, org_id, member_id, idempotency_key=None):
    """Remove a member: their seat is free at once; their usage, charges and
    invoice lines stay, and the id is not given again.

    Decided by the policy's `member_removal` on the actor's role: owners and
    the primary owner remove anyone but the primary owner (whose role is
    transferred first), admins remove admins and members.
    """
    out = ledger().remove_member(org_id, member_id, idempotency_key=idempotency_key, **body)
    return json_response(out, headers=replayed_headers(out))


@blp.route("/organizations/<org_id>/owner-transfer", methods=["POST"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.OwnerTransferSchema)
@blp.response(200, S.OwnerTransferredSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def transfer_primary_owner(body, org_id, idempotency_key=None):
    """Make another current member the primary owner; the former primary
    owner stays an owner. Only the primary owner can (the policy's
    `owner_transfer`)."""
    out = ledger().transfer_primary_owner(org_id, idempotency_key=idempotency_key, **body)
    return json_response(out, headers=replayed_headers(out))


@blp.route("/organizations/<org_id>/seats/add", methods=["POST"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.SeatsAddSchema)
@blp.response(201, S.SeatResultSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def add_seats(body, org_id, idempotency_key=None):
    """Add seats: charged at once, prorated for the rest of the term (S3).
    With an Idempotency-Key, a retry returns the first result and charges nothing."""
    out = ledger().add_seats(org_id, idempotency_key=idempotency_key, **body)
    return json_response(out, 201, headers=replayed_headers(out))


@blp.route("/organizations/<org_id>/seats/remove", methods=["POST"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.SeatsRemoveSchema)
@blp.response(200, S.SeatResultSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def remove_seats(body, org_id, idempotency_key=None):
    """Remove free seats, when the policy allows (S4: refused mid-term on
    self-serve, 409 `seat_removal_mid_term`), or with `at_renewal` schedule
    the removal for the renewal date."""
    out = ledger().remove_seats(org_id, idempotency_key=idempotency_key, **body)
    return json_response(out, headers=replayed_headers(out))


@blp.route("/organizations/<org_id>/seats/changes", methods=["GET"])
@requires("read")
@blp.arguments(S.PageQuerySchema, location="query", as_kwargs=True)
@blp.response(200, S.page_of(S.SeatChangeSchema))
@documented(body=False)
def list_seat_changes(org_id, cursor=None, limit=100):
    """Every seat change with its charges: initial seats, additions, removals
    (applied or scheduled), seat type changes, renewals."""
    return json_response(ledger().list_seat_changes(org_id, cursor=cursor, limit=limit))


@blp.route("/organizations/<org_id>/seats/changes/<int:change_id>/cancel", methods=["POST"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.ActorSchema)
@blp.response(200, S.SeatResultSchema, headers=REPLAYED)
@documented(403, 409)
def cancel_seat_change(body, org_id, change_id, idempotency_key=None):
    """Cancel a removal scheduled for renewal."""
    out = ledger().cancel_seat_change(org_id, change_id, idempotency_key=idempotency_key, **body)
    return json_response(out, headers=replayed_headers(out))


@blp.route("/organizations/<org_id>/limits", methods=["GET"])
@requires("read")
@blp.arguments(S.LimitListQuerySchema, location="query")
@blp.response(200, S.LimitSchema(many=True))
@documented(body=False)
def list_limits(query, org_id):
    """The limits in force, at every level (``ended=true``: and those a renewal ended)."""
    return json_response(ledger().list_limits(org_id, ended=query["ended"]))


@blp.route("/organizations/<org_id>/limits", methods=["PUT"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.LimitSetSchema)
@blp.response(200, S.LimitSetResultSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def set_limit(body, org_id, idempotency_key=None):
    """Set or change a spend limit (L1-L4): an amount or "unlimited", at a
    level the plan has; only owners and the primary owner (403
    `role_not_allowed`). A raised limit unblocks at once."""
    lang = request_language()
    out = ledger().set_limit(org_id, idempotency_key=idempotency_key, language=lang,
                             render_decision=lambda decision: decision_json(decision, lang), **body)
    body = out.answer if out.answer is not None else answer(lang, out)  # with a key: the answer as first given
    return json_response(body, headers=replayed_headers(out), lang=out.language or lang)


@blp.route("/organizations/<org_id>/credits", methods=["GET"])
@requires("read")
@blp.arguments(S.PageQuerySchema, location="query", as_kwargs=True)
@blp.response(200, S.CreditsSchema)
@documented(body=False)
def credits(org_id, cursor=None, limit=100):
    """The credit balance and a page of the credit ledger (purchases,
    consumption), oldest first."""
    book = ledger()
    balance = book.get_organization(org_id)["credit_balance"]
    page = book.list_credit_entries(org_id, cursor=cursor, limit=limit)
    return json_response({"credit_balance": balance, "entries": page["items"], "next": page["next"]})


@blp.route("/organizations/<org_id>/credits/auto-top-up", methods=["GET"])
@requires("read")
@blp.response(200, S.AutoTopUpSchema)
@documented(body=False)
def get_auto_top_up(org_id):
    """The automatic top-up of credits, if one is set, and what it bought this period."""
    return json_response(ledger().get_auto_top_up(org_id))


@blp.route("/organizations/<org_id>/credits/auto-top-up", methods=["PUT"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.AutoTopUpSetSchema)
@blp.response(200, S.AutoTopUpSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def set_auto_top_up(body, org_id, idempotency_key=None):
    """Set an automatic top-up: when a usage takes the balance below `below`,
    buy `amount` in the same transaction, at most `monthly_cap` a period.

    Owners and the primary owner, on prepaid plans (the policy's
    `auto_top_up_change`); each purchase is decided again as a credit purchase
    of the owner who set it. A balance already below `below` buys at once.
    """
    out = ledger().set_auto_top_up(org_id, idempotency_key=idempotency_key, **body)
    return json_response(out, headers=replayed_headers(out))


@blp.route("/organizations/<org_id>/credits/auto-top-up/end", methods=["POST"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.ActorSchema)
@blp.response(200, S.AutoTopUpSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def end_auto_top_up(body, org_id, idempotency_key=None):
    """End the automatic top-up (the same owners who may set it)."""
    out = ledger().end_auto_top_up(org_id, idempotency_key=idempotency_key, **body)
    return json_response(out, headers=replayed_headers(out))


@blp.route("/organizations/<org_id>/credits/purchases", methods=["POST"])
@requires("member")
@blp.arguments(S.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.CreditPurchaseSchema)
@blp.response(201, S.CreditPurchaseResultSchema, headers=REPLAYED)
@documented(403, 409, refusal=True)
def purchase_credits(body, org_id, idempotency_key=None):
    """Buy credits (C3): owners and the primary owner, on prepaid plans. With
    an Idempotency-Key, a retry returns the first purchase and buys nothing."""
    out = ledger().purchase_credits(org_id, idempotency_key=idempotency_key, **body)
    return json_response(out, 201, headers={"Idempotent-Replayed": "true"} if out["replayed"] else None)
