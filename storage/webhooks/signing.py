"""The signature every delivery carries, as Stripe's:

    Tariff-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

``v1`` is the HMAC-SHA256, under the endpoint's secret, of ``"{t}.{body}"``
(the raw body bytes). A receiver recomputes it over the body it got, compares
in constant time, and refuses a ``t`` too far from its clock (a replay).
"""
from __future__ import annotations

import hashlib
import hmac

HEADER = "Tariff-Signature"
TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, value: str, body: bytes, now: float, tolerance_s: int = TOLERANCE_S) -> bool:
    """Whether ``value`` (the header) signs ``body`` under ``secret`` within
    ``tolerance_s`` of ``now`` (what a receiver does; the tests use it)."""
    parts = dict(item.split("=", 1) for item in value.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))
