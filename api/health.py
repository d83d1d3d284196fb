"""Liveness, readiness and metrics."""
from __future__ import annotations

from flask import Response

from .auth import public
from .blueprint import Blueprint
from .errors import ApiError
from .schemas.health import HealthSchema, ReadySchema
from .services import services

blp = Blueprint("health", __name__, description="Liveness, readiness, metrics")


@blp.route("/healthz")
@public
@blp.response(200, HealthSchema)
def healthz():
    """The process is up."""
    return {"status": "ok"}


@blp.route("/readyz")
@public
@blp.response(200, ReadySchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz():
    """A policy set is loaded and is the one the server last published."""
    store = services().policies
    active = store.active()
    if active is None or store.out_of_sync:
        raise ApiError(503, "not_ready", "this worker could not load the published policy set")
    return {"status": "ready", "policy_version": active.version}


@blp.route("/metrics")
@public
@blp.response(200, content_type="text/plain", description="Prometheus text format",
              example="tariff_decisions_total{plan=\"seat_based\",outcome=\"allow\",reason=\"none\"} 1.0\n")
def metrics():
    """Prometheus metrics: decisions by plan, outcome and reason; latency histogram."""
    m = services().metrics
    return Response(m.exposition(), content_type=m.content_type)
