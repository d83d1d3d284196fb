"""Static checks beyond the schema (see `tariff validate`)."""
from __future__ import annotations


def lint(policy) -> list:
    return []
