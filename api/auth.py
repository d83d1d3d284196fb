"""Who is calling, and what they may do.

Callers send ``Authorization: Bearer <secret>``: an API key (``tk_...``,
storage/keys.py) or a member session (``ts_...``, api/sessions.py). Every
view declares the scope it needs with ``@requires(scope)`` placed right
under ``@blp.route`` (it checks before the body is read, and writes the
scope into the OpenAPI document as ``x-scope`` with the bearer security
requirement); open views (health, metrics) say ``@public``. A /v1 view that
declares nothing needs the admin scope (fail closed), and the access-matrix
test (tests/api/test_api_access_matrix.py) fails until it declares one.

Scopes, most to least: ``admin`` > ``service`` > ``member`` > ``read``.

- admin: everything (organizations, billing runs, policies, keys);
- service: one organization or all; may name the acting member (``actor``);
- member: a member session; acts only as its member (a body ``actor``
  naming anyone else is 403), whose current ledger role the policy checks;
- read: read-only, one organization.

A key or session bound to one organization gets 404 for every other one (as
if it did not exist). Local mode: while no key exists at all, requests from
loopback need none (the principal is a local admin); ``tariff serve``
listens on loopback only then (api/serve.py).

In a view, ``require(scope, organization)`` checks by hand, and
``principal()`` (also ``flask.g.principal``) says who is calling.
"""
from __future__ import annotations

import functools
import ipaddress
from copy import deepcopy
from dataclasses import dataclass

from flask import current_app, g, has_request_context, request
from marshmallow import fields

from .errors import ApiError

RANKS = {"read": 1, "member": 2, "service": 3, "admin": 4}
PUBLIC = "public"
# The path parameters that name the organization an operation is about.
ORG_PARAMS = ("org_id", "organization", "org")
KEYS_SEEN = "tariff.keys_exist"
MAKE_ONE = "create one with `tariff keys create --scope admin`"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key (id, name, scope, organization it is bound to;
    None: all), and for a member session the member it acts as."""
    key_id: str | None
    key_name: str | None
    scope: str
    organization: str | None = None
    member: str | None = None
    local: bool = False

    @property
    def session(self) -> bool:
        return self.member is not None

    def json(self) -> dict:
        return {"key_id": self.key_id, "key_name": self.key_name, "scope": self.scope,
                "organization": self.organization, "member": self.member, "local": self.local}


LOCAL = Principal(None, "local", "admin", local=True)


# -- who is calling ----------------------------------------------------------------

def _database():
    return current_app.extensions["tariff.ledger"].db


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def keys_exist() -> bool:
    """Whether any key was ever made (revoked ones count). Once true it stays
    true, so each worker stops asking."""
    if current_app.extensions.get(KEYS_SEEN):
        return True
    from tariff.storage import keys
    seen = keys.any_exist(_database())
    if seen:
        current_app.extensions[KEYS_SEEN] = True
    return seen


def _loopback() -> bool:
    try:
        return ipaddress.ip_address((request.remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def _unauthorized(message: str | None = None) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def _resolve() -> Principal | None:
    header = request.headers.get("Authorization")
    token = _bearer()
    if header is not None and token is None:
        raise _unauthorized()
    if token is None:
        return LOCAL if not keys_exist() and _loopback() else None
    if token.startswith("ts_"):
        from .sessions import verify
        return verify(token)
    from tariff.storage import keys
    key = keys.authenticate(_database(), token)
    if key is None:
        return None
    return Principal(key.id, key.name, key.scope, key.organization)


def principal() -> Principal | None:
    """The caller of this request (None: anonymous or not a valid credential)."""
    if "principal" not in g:
        g.principal = who = _resolve()
        from tariff.storage import caller  # the audit trail's "who" (storage knows nothing of Flask)
        caller.set_current(caller.Caller(who.key_id, who.key_name) if who is not None else None)
    return g.principal


def caller_json() -> dict | None:
    """Who is calling, as the decision log says it (None outside a request or before auth)."""
    if not has_request_context() or g.get("principal") is None:
        return None
    who = g.principal
    return {"key_id": who.key_id, "key_name": who.key_name, "member": who.member}


def require(scope: str, organization: str | None = None) -> Principal:
    """The caller, if it has ``scope`` (and, for one ``organization``, is bound
    to it or to all); else 401 (no valid credential), 404 (another
    organization's key: it cannot probe) or 403 (too little scope)."""
    if scope not in RANKS:
        raise ValueError(f"unknown scope {scope!r}")
    who = principal()
    if who is None:
        if not keys_exist() and not _loopback():
            raise _unauthorized(f"local mode: no key exists yet, so only loopback callers are served; {MAKE_ONE}")
        raise _unauthorized()
    if organization is not None and who.organization is not None and organization != who.organization:
        raise ApiError(404, "organization_not_found", f"no organization {organization!r}")
    if RANKS[who.scope] < RANKS[scope]:
        raise ApiError(403, "scope_insufficient", f"this needs the {scope} scope; the caller has {who.scope}",
                       required_scope=scope)
    return who


def path_organization() -> str | None:
    args = request.view_args or {}
    return next((args[name] for name in ORG_PARAMS if isinstance(args.get(name), str)), None)


# -- declaring a view's scope --------------------------------------------------------

def _declare(view, scope: str, wrapper):
    wrapper._tariff_scope = scope
    doc = {"x-scope": scope, "security": [] if scope == PUBLIC else [{"bearer": []}]}
    wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    manual = wrapper._apidoc.setdefault("manual_doc", {})
    manual.update(doc)
    return wrapper


def requires(scope: str):
    """The view needs ``scope`` (for the organization in its path, if any).
    Place it right under ``@blp.route`` so it runs before the body is read."""
    if scope not in RANKS:
        raise ValueError(f"unknown scope {scope!r}")

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            require(scope, path_organization())
            return view(*args, **kwargs)
        return _declare(view, scope, wrapper)
    return decorator


def public(view):
    """The view is open to anyone (health, metrics)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)
    return _declare(view, PUBLIC, wrapper)


def declared_scope(view) -> str | None:
    return getattr(view, "_tariff_scope", None)


def _fail_closed():
    """A /v1 view that declared no scope needs admin."""
    if request.method == "OPTIONS" or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and declared_scope(view) is None and request.path.startswith("/v1"):
        require("admin", path_organization())


def init_app(app, api) -> None:
    """The bearer security scheme in the document; the fail-closed check."""
    api.spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "an API key (tk_..., `tariff keys create`) or a member session token (ts_..., "
                       "POST /v1/organizations/{org_id}/sessions); each operation's x-scope says which scope "
                       "it needs: admin > service > member > read"})
    app.before_request(_forget_caller)
    app.teardown_request(lambda _error: _forget_caller())  # nor outlive its request (a job later in the thread)
    app.before_request(_fail_closed)
    to_dict = api.spec.to_dict
    api.spec.to_dict = lambda: _document_refusals(to_dict())


SCOPE_WHO = {"admin": "an admin key", "service": "a service or admin key",
             "member": "a member session, or a service or admin key naming the actor",
             "read": "any key or member session of the organization"}
REFUSALS = (("401", "UNAUTHORIZED", "no valid key or session"), ("403", "FORBIDDEN", "too little scope"),
            ("404", "NOT_FOUND", "no such organization (or a key bound to another)"))


def _document_refusals(spec: dict) -> dict:
    """Every operation that needs a scope says so in its description (Swagger UI
    shows no x-scope) and documents what refusing it answers (401, 403; 404
    where an organization is in the path), unless it says more."""
    from .errors import PROBLEM
    components = spec.setdefault("components", {}).setdefault("responses", {})
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or operation.get("x-scope") in (None, PUBLIC):
                continue
            scope = operation["x-scope"]
            note = f"Needs the `{scope}` scope ({SCOPE_WHO[scope]})."
            operation["description"] = f"{operation.get('description', '').rstrip()}\n\n{note}".lstrip()
            responses = operation.setdefault("responses", {})
            for status, name, why in REFUSALS:
                if status == "404" and "{org_id}" not in path:
                    continue
                components.setdefault(name, {"description": why, "content": {
                    PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}})
                responses.setdefault(status, {"$ref": f"#/components/responses/{name}"})
    return spec


def _forget_caller():
    """A worker serves one request after another: the last one's caller must
    not leak into the next, nor into what the thread does after it."""
    from tariff.storage import caller
    caller.set_current(None)


# -- the acting member ------------------------------------------------------------------

class Actor(fields.String):
    """A body's ``actor``: required of keys (a service names the member it
    authenticated); with a member session it is the session's member (filled
    in when absent; naming anyone else is 403)."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        who = principal() if has_request_context() else None
        if who is not None and who.session:
            if value is not fields.missing_ and value is not None and value != who.member:
                raise ApiError(403, "actor_not_session_member",
                               f"this session acts as {who.member!r}; it cannot act as another member",
                               errors={"actor": ["must be the session's member"]})
            value = who.member
        return super().deserialize(value, attr, data, **kwargs)

