"""Bearer tokens, compared in constant time. A missing or wrong token gets a
bare 401; reload with no admin token configured is disabled (403).
"""
from __future__ import annotations

import functools
import hmac

from flask import current_app, request

from .errors import ApiError


def _bearer() -> bytes | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip().encode("utf-8", "surrogateescape")


def _matches(given: bytes | None, *expected: str | None) -> bool:
    ok = False
    for token in expected:
        if token:  # compare against every configured token, always
            ok |= hmac.compare_digest(given or b"", token.encode("utf-8"))
    return ok and given is not None


def _unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})


def check_api_token() -> None:
    """Decision and policy-reading endpoints: open unless API_TOKEN is set;
    the admin token is accepted too."""
    config = current_app.config
    if config["API_TOKEN"] and not _matches(_bearer(), config["API_TOKEN"], config["ADMIN_TOKEN"]):
        raise _unauthorized()


def check_admin_token() -> None:
    admin = current_app.config["ADMIN_TOKEN"]
    if not admin:
        raise ApiError(403, "reload_disabled", "policy reload is disabled: no admin token is configured")
    if not _matches(_bearer(), admin):
        raise _unauthorized()


def guard_blueprint(blueprint) -> None:
    """Every view of ``blueprint`` needs the API token, as with
    ``api_token_required`` on each (Flask's automatic OPTIONS answers aside)."""
    @blueprint.before_request
    def _check():
        if request.method != "OPTIONS":
            check_api_token()


def _requiring(check):
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            check()
            return view(*args, **kwargs)
        return wrapper
    return decorator


api_token_required = _requiring(check_api_token)
admin_token_required = _requiring(check_admin_token)
