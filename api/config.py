"""Configuration: defaults in code, overridden by TARIFF_* environment
variables, then by the mapping given to ``create_app`` (tests).
"""
from __future__ import annotations

import os

from tariff.resources import default_policies
from tariff.storage import ConfigError, check_settings
from .docs import CONFIG as DOCS_CONFIG

LOCAL_FIXTURES = "fixtures"

MiB = 1024 * 1024

DEFAULTS = {
    "POLICIES_DIR": None,           # the policy set served and reloaded; None: ./policies, else the shipped set
    "FIXTURES_DIR": None,           # fixtures a set must pass to be served ("": none); None: ./fixtures if present
    "STATE_DIR": None,              # shared by the workers of one server (see api/policy_store.py)
    "SECRET_KEY": None,             # signs member sessions; None: one made once and kept in the database
    "DECISION_LOG": "stdout",       # off | stdout | a file path
    "MAX_CONTENT_LENGTH": 1 * MiB,  # larger bodies get 413
    "MAX_BATCH": 1000,              # most decisions in one batch request
    "MAX_VALIDATE_FILES": 200,      # most files in one validate request
    # Validate and reload are bounded (api/policy_bounds.py; costs: bench/bench_validate.py).
    "MAX_POLICY_BYTES": 512 * 1024,  # the set's YAML text, in all (413)
    "MAX_POLICY_FILES": 200,        # files in the set reloaded (422)
    "MAX_POLICY_NODES": 25_000,     # YAML nodes in all (422); the shipped set has ~2,400
    "VALIDATE_TIMEOUT_S": 10.0,     # validate's deadline (422 policy_too_costly)
    # Webhooks (api/webhooks.py): a dispatcher thread per app (`tariff serve` turns it on),
    # retries from the first delay doubling to the longest, given up after GIVE_UP_S.
    "WEBHOOKS_DISPATCH": False,
    "WEBHOOKS_RETRY_FIRST_S": 2.0,
    "WEBHOOKS_RETRY_MAX_S": 60.0,
    "WEBHOOKS_GIVE_UP_S": 3 * 24 * 3600.0,
    "WEBHOOKS_TIMEOUT_S": 5.0,
    "WEBHOOKS_POLL_S": 1.0,
    "WEBHOOKS_RETENTION_DAYS": 30.0,
    "WEBHOOKS_PRIVATE_TARGETS": "allow",  # refuse: endpoints must resolve to public addresses only
}

def boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(raw)
    return value in ("1", "true", "yes", "on")


# Environment variable -> (config key, parser).
ENVIRONMENT = {
    "TARIFF_POLICIES": ("POLICIES_DIR", str),
    "TARIFF_FIXTURES": ("FIXTURES_DIR", str),
    "TARIFF_STATE_DIR": ("STATE_DIR", str),
    "TARIFF_SECRET_KEY": ("SECRET_KEY", str),
    "TARIFF_DECISION_LOG": ("DECISION_LOG", str),
    "TARIFF_MAX_BODY_BYTES": ("MAX_CONTENT_LENGTH", int),
    "TARIFF_MAX_BATCH": ("MAX_BATCH", int),
    "TARIFF_MAX_POLICY_BYTES": ("MAX_POLICY_BYTES", int),
    "TARIFF_MAX_POLICY_NODES": ("MAX_POLICY_NODES", int),
    "TARIFF_VALIDATE_TIMEOUT_S": ("VALIDATE_TIMEOUT_S", float),
    "TARIFF_WEBHOOKS_DISPATCH": ("WEBHOOKS_DISPATCH", boolean),
    "TARIFF_WEBHOOKS_RETRY_FIRST_S": ("WEBHOOKS_RETRY_FIRST_S", float),
    "TARIFF_WEBHOOKS_RETRY_MAX_S": ("WEBHOOKS_RETRY_MAX_S", float),
    "TARIFF_WEBHOOKS_GIVE_UP_S": ("WEBHOOKS_GIVE_UP_S", float),
    "TARIFF_WEBHOOKS_TIMEOUT_S": ("WEBHOOKS_TIMEOUT_S", float),
    "TARIFF_WEBHOOKS_POLL_S": ("WEBHOOKS_POLL_S", float),
    "TARIFF_WEBHOOKS_RETENTION_DAYS": ("WEBHOOKS_RETENTION_DAYS", float),
    "TARIFF_WEBHOOKS_PRIVATE_TARGETS": ("WEBHOOKS_PRIVATE_TARGETS", str),
}

# flask-smorest and Flask settings that are not meant to be changed.
FIXED = {
    "API_TITLE": "tariff",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    **DOCS_CONFIG,
}


def from_environment(environ=os.environ) -> dict:
    out = {}
    for name, (key, parse) in ENVIRONMENT.items():
        raw = environ.get(name)
        if raw is None or raw == "" and key in ("SECRET_KEY", "STATE_DIR"):
            continue
        try:
            out[key] = parse(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a valid {parse.__name__}") from None
    return out


def build(test_config: dict | None, environ=os.environ) -> dict:
    config = {**DEFAULTS, **FIXED, **from_environment(environ), **(test_config or {})}
    if config["POLICIES_DIR"] is None:
        config["POLICIES_DIR"] = default_policies()
    if config["FIXTURES_DIR"] is None:
        config["FIXTURES_DIR"] = LOCAL_FIXTURES if os.path.isdir(LOCAL_FIXTURES) else ""
    for key in ("MAX_CONTENT_LENGTH", "MAX_BATCH", "MAX_VALIDATE_FILES", "MAX_POLICY_BYTES", "MAX_POLICY_FILES",
                "MAX_POLICY_NODES"):
        if not isinstance(config[key], int) or config[key] < 1:
            raise ConfigError(f"{key} must be a positive whole number, got {config[key]!r}")
    for name in ("API_TOKEN", "ADMIN_TOKEN"):  # replaced by keys (tariff keys create): say so, never ignore
        if config.get(name) or environ.get(f"TARIFF_{name}"):
            raise ConfigError(f"TARIFF_{name} is no longer read: callers use keys; make one with "
                              "`tariff keys create --scope admin`")
    webhooks = ("WEBHOOKS_RETRY_FIRST_S", "WEBHOOKS_RETRY_MAX_S", "WEBHOOKS_GIVE_UP_S", "WEBHOOKS_TIMEOUT_S",
                "WEBHOOKS_POLL_S", "WEBHOOKS_RETENTION_DAYS")
    for key in webhooks:
        if isinstance(config[key], bool) or not isinstance(config[key], (int, float)) or not 0 < config[key] < 1e9:
            raise ConfigError(f"{key} must be a positive number, got {config[key]!r}")
    if config["WEBHOOKS_PRIVATE_TARGETS"] not in ("allow", "refuse"):
        raise ConfigError("WEBHOOKS_PRIVATE_TARGETS (TARIFF_WEBHOOKS_PRIVATE_TARGETS) must be allow or refuse, "
                          f"got {config['WEBHOOKS_PRIVATE_TARGETS']!r}")
    if config["WEBHOOKS_RETRY_MAX_S"] < config["WEBHOOKS_RETRY_FIRST_S"]:
        raise ConfigError("WEBHOOKS_RETRY_MAX_S cannot be shorter than WEBHOOKS_RETRY_FIRST_S")
    check_settings()  # the database URL and the other storage settings, named when wrong
    secret = config["SECRET_KEY"]
    if secret is not None and (not isinstance(secret, str) or len(secret) < 32):
        raise ConfigError("SECRET_KEY (TARIFF_SECRET_KEY) must be at least 32 characters")
    return config
