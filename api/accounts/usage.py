"""Usage: authorize, record (idempotent), record in batches, list, and the month-to-date summary."""
from __future__ import annotations

from datetime import date

from ..auth import principal, requires
from ..errors import item_problem
from ..jsonio import dumps, json_response
from ..messages import decision_json, request_language
from . import schemas as S
from .blueprint import REPLAYED, answer, blp, documented, ledger, replayed_headers


def _period(text: str | None) -> date | None:
    return date.fromisoformat(f"{text}-01") if text else None


@blp.route("/organizations/<org_id>/usage/authorize", methods=["POST"])
@requires("member")  # a question, nothing charged: a member session may ask it (the console's owners' page does)
@blp.arguments(S.UsageAuthorizeSchema)
@blp.response(200, S.AuthorizeResultSchema, headers={"Content-Language": {"schema": {"type": "string"}}})
@documented()
def authorize_usage(body, org_id):
    """Ask before using (the policy's pre-check): `allow`, or `block` with the
    reasons (credits exhausted, a limit reached, product not in the seat) and
    the ways to resume. An `estimate` is checked up front. Nothing is charged."""
    lang = request_language()
    return json_response(answer(lang, ledger().authorize_usage(org_id, **body)), lang=lang)


@blp.route("/organizations/<org_id>/usage", methods=["POST"])
@requires("service")  # charges: a product's backend, which names the member
@blp.arguments(S.RequiredIdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.UsageRecordSchema)
@blp.response(201, S.UsageResultSchema, description="recorded and charged (or the first result of this key)",
              headers={"Idempotent-Replayed": {"schema": {"type": "string"},
                                               "description": "true: this answer repeats the first result of the same key"},
                       "Content-Language": {"schema": {"type": "string"}}})
@blp.alt_response(200, schema=S.UsageResultSchema, description="blocked: not recorded, nothing charged, the key "
                                                               "is still unused", success=True)
@documented(409)
def record_usage(body, org_id, idempotency_key):
    """Record usage and charge it, once per Idempotency-Key.

    The policy's pre-check runs on the stored state first: when credits are
    exhausted or a limit is reached the usage is not recorded (200,
    `recorded: false`, the reasons and ways to resume). Otherwise it is priced
    at API rates and applied in one transaction: the record, month-to-date
    spend, credits consumed, notifications (201). A retry with the same key
    returns the first result with `Idempotent-Replayed: true`; the same key
    with a different body is a 409 `idempotency_key_reused`. Usage dated in a
    closed billing period is a 409 `period_closed`.
    """
    lang = request_language()
    result = ledger().record_usage(org_id, idempotency_key=idempotency_key, language=lang,
                                   render_decision=lambda decision: decision_json(decision, lang), **body)
    if result.body is not None:  # just recorded: the JSON kept with the record, encoded once
        return json_response(result.body, 201, lang=result.language or lang)
    # The answer as first given (a retry gets it back, in its language), with whether this is that retry.
    return json_response(result.answer | {"replayed": result.replayed}, 201 if result.recorded else 200,
                         headers={"Idempotent-Replayed": "true"} if result.replayed else None,
                         lang=result.language or lang)


@blp.route("/organizations/<org_id>/usage", methods=["GET"])
@requires("read")
@blp.arguments(S.UsageListQuerySchema, location="query", as_kwargs=True)
@blp.response(200, S.page_of(S.UsageSchema))
@documented(body=False)
def list_usage(org_id, member=None, period=None, cursor=None, limit=100):
    """A page of the usage records, oldest first: filter by member and period
    (YYYY-MM); the next page from `cursor` (the `next` of this one)."""
    return json_response(ledger().list_usage(org_id, member=member, period=_period(period), cursor=cursor,
                                             limit=limit))


@blp.route("/organizations/<org_id>/usage/summary", methods=["GET"])
@requires("read")
@blp.arguments(S.AsOfQuerySchema, location="query", as_kwargs=True)
@blp.response(200, S.UsageSummarySchema)
@documented(body=False)
def usage_summary(org_id, as_of=None):
    """Month-to-date (M1): spend per member, each limit's status (`ok`,
    `reached`, `unlimited`, `not_set`), the organization's spend and limit,
    seat-type pools on legacy plans, and the credit balance on prepaid plans;
    where spend is heading (`projection`: the month-end spend at the rate so
    far, the day a limit is reached or credits run out) and `daily` spend."""
    return json_response(ledger().usage_summary(org_id, as_of))


@blp.route("/usage/batch", methods=["POST"])
@requires("service")
@blp.arguments(S.UsageBatchSchema)
@blp.response(200, S.UsageBatchResultSchema)
@documented()
def record_usage_batch(body):
    """Record up to 1,000 usage records, each once per its own `idempotency_key`.

    Each record names its `organization`. Within an organization, records are
    applied in the order given, in one transaction; organizations are applied
    one after another, each in its own, so they never wait on each other.
    One result per record, in order, with its `status`: `recorded` (the
    usage and its charge, as `POST .../usage` answers), `replayed` (the first
    answer of that key), `blocked` (nothing charged, the reasons and ways to
    resume; the key stays unused) or `error` (the problem a single record
    would get, naming `records.<index>.<field>`). One bad record never fails
    the others. A key bound to one organization gets `organization_not_found`
    for records of any other.
    """
    lang = request_language()
    who = principal()
    bound = who.organization if who is not None else None
    outcomes = ledger().record_usage_batch(
        body["records"], render=lambda decision: decision_json(decision, lang), language=lang,
        allowed=None if bound is None else bound.__eq__)
    results = []
    for index, out in enumerate(outcomes):
        if out.body is not None:  # recorded: the answer's JSON kept with the record, sent as is
            results.append(b'{"index":%d,"status":"recorded",' % index + out.body[1:])
            continue
        if out.status == "error":
            result = {"index": index, "status": "error", "error": item_problem(out.error)}
        else:
            result = {"index": index, "status": out.status, **out.answer, "replayed": out.status == "replayed"}
        results.append(dumps(result).encode())
    return json_response(b'{"results":[' + b",".join(results) + b"]}", lang=lang)


@blp.route("/organizations/<org_id>/usage/<int:usage_id>/void", methods=["POST"])
@requires("service")
@blp.arguments(S.RequiredIdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(S.UsageVoidSchema)
@blp.response(200, S.UsageVoidResultSchema, headers=REPLAYED)
@documented(409)
def void_usage(body, org_id, usage_id, idempotency_key):
    """Void a recorded usage while its billing period is open: its charge comes
    off the month's spend (and the invoice to be), the credits it consumed
    come back on prepaid plans, and an audit entry keeps who did it and why
    (`reason`). Once the period is closed (its invoice issued) the answer is a
    409 `period_closed`; a usage is voided once (409 `usage_already_voided`).
    A retry with the same Idempotency-Key returns the first answer."""
    result = ledger().void_usage(org_id, usage_id, idempotency_key=idempotency_key, **body)
    return json_response(result, headers=replayed_headers(result))
