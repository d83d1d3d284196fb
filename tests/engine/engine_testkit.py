"""Helpers shared by the engine tests (imported by name: pytest puts this
directory on sys.path; the fuzz worker puts it there itself)."""
from __future__ import annotations

import copy
import dataclasses
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"

# A valid request per plan, for an ordinary member of an organization in the
# fourth month of a term that began on 1 January 2026. Tests override parts.
PLAN_DEFAULTS = {
    "enterprise_self_serve": {
        "plan": "enterprise_self_serve",
        "as_of": "2026-04-10",
        "organization": {"id": "org-1", "term_start": "2026-01-01", "credit_balance": "250.00",
                         "spend": "120.00", "limit": "unlimited", "seats": {"enterprise": 50}},
        "member": {"id": "m-ana", "role": "member", "spend": "12.00", "limit": "unlimited"},
    },
    "enterprise_sales_assisted": {
        "plan": "enterprise_sales_assisted",
        "as_of": "2026-04-10",
        "organization": {"id": "org-2", "term_start": "2026-01-01", "spend": "120.00", "limit": "unlimited",
                         "seats": {"enterprise": 50}},
        "member": {"id": "m-ben", "role": "member", "spend": "12.00", "limit": "unlimited"},
    },
    "legacy_chat_code": {
        "plan": "legacy_chat_code",
        "channel": "sales_assisted",
        "as_of": "2026-04-10",
        "organization": {"id": "org-3", "term_start": "2026-01-01", "spend": "120.00", "limit": "unlimited",
                         "seats": {"chat": 20, "chat_code": 10}},
        "seat_type_pool": {"spend": "40.00", "limit": "unlimited"},
        "member": {"id": "m-cho", "role": "member", "seat_type": "chat_code", "spend": "12.00",
                   "limit": "unlimited"},
    },
    "seat_based": {
        "plan": "seat_based",
        "channel": "sales_assisted",
        "as_of": "2026-04-10",
        "organization": {"id": "org-4", "term_start": "2026-01-01", "spend": "0", "limit": "unlimited",
                         "extra_usage": True, "seats": {"standard": 20, "premium": 5}},
        "member": {"id": "m-dee", "role": "member", "seat_type": "premium", "spend": "0",
                   "included_used": "10.00"},
    },
}
PLANS = tuple(PLAN_DEFAULTS)
SEAT_TYPES = {"enterprise_self_serve": ("enterprise",), "enterprise_sales_assisted": ("enterprise",),
              "legacy_chat_code": ("chat", "chat_code"), "seat_based": ("standard", "premium")}


def merge(base, override):
    """Deep merge for request dicts: mappings merge, anything else replaces;
    a value of ``DROP`` removes the key."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            if value is DROP:
                out.pop(key, None)
            else:
                out[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


DROP = object()


def make(plan: str = "enterprise_self_serve", event: dict | None = None, **override) -> dict:
    """A request for ``plan`` with ``event``; keyword arguments deep-merge into it."""
    request = merge(PLAN_DEFAULTS[plan], override)
    if event is not None:
        request["event"] = copy.deepcopy(event)
    return request


def usage(model="claude-haiku-4-5", product="chat", **tokens) -> dict:
    return {"type": "usage", "product": product, "model": model, "tokens": tokens or {"input": 1000}}


def precheck(product="chat", **extra) -> dict:
    return {"type": "usage_precheck", "product": product, **extra}


def copy_policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


def floats_in(value, path="decision"):
    """Every place a float hides in a decision (dataclasses, dicts, lists)."""
    found = []
    if isinstance(value, float):
        found.append(path)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            found += floats_in(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, dict):
        for k, v in value.items():
            found += floats_in(k, f"{path}[key {k!r}]") + floats_in(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, v in enumerate(value):
            found += floats_in(v, f"{path}[{i}]")
    return found


def amounts_in(value, path="decision"):
    """(path, value) of every Decimal in a decision."""
    found = []
    if isinstance(value, Decimal):
        found.append((path, value))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            found += amounts_in(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, dict):
        for k, v in value.items():
            found += amounts_in(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found += amounts_in(v, f"{path}[{i}]")
    return found


def iso(day: date) -> str:
    return day.isoformat()
