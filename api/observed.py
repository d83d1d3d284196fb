"""The ledger's decisions in the decision log and the decision metrics, like
those of /v1/decisions (issue: ledger decisions are visible).

The ledger (tariff.storage) knows nothing of Flask; the API hands it this
stand-in for the active evaluator, which decides through the real one and
reports each decision on the way out. A decision is reported when it is
made, even if the unit of work it was made in later rolls back: the log
records what the policy decided, the ledger what was applied.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from tariff.engine import Decision, InputError


class ObservedEvaluator:
    def __init__(self, active, services):
        self._active = active
        self._services = services

    @property
    def policy(self):
        return self._active.evaluator.policy

    def __getattr__(self, name):  # anything else the ledger reads, from the real evaluator
        return getattr(self._active.evaluator, name)

    def decide(self, request: dict) -> Decision:
        svc, started = self._services, time.perf_counter()
        try:
            decision = self._active.evaluator.decide(request)
        except InputError as exc:
            svc.metrics.input_errors.labels(exc.code).inc()
            raise
        decision.decision_id = str(uuid.uuid4())  # the audit trail's link to this log line (UnitOfWork.audit)
        if svc.log.enabled:
            from .auth import caller_json
            svc.log.write(decision.decision_id, datetime.now(timezone.utc).isoformat(timespec="microseconds"),
                          self._active.version, request, decision.to_dict(), caller_json())
        svc.metrics.record_decision(decision.plan, decision.outcome, decision.reasons,
                                    time.perf_counter() - started)
        return decision
