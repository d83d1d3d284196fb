"""What the views share, built once per app: the policy store, the decision
log and the metrics. ``services()`` gives the current app's."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass

from flask import current_app

from .decision_log import DecisionLog
from .metrics import Metrics
from .policy_store import PolicyStore


@dataclass
class Services:
    policies: PolicyStore
    log: DecisionLog
    metrics: Metrics

    @classmethod
    def create(cls, config) -> "Services":
        state_dir = config["STATE_DIR"]
        if not state_dir:  # a single process: a private state directory
            state_dir = tempfile.mkdtemp(prefix="tariff-state-")
            atexit.register(shutil.rmtree, state_dir, True)
        from .messages import warm_up
        warm_up()
        metrics = Metrics()
        policies = PolicyStore(config["POLICIES_DIR"], config["FIXTURES_DIR"], state_dir,
                               on_reload=lambda result: metrics.reloads.labels(result).inc()).open()
        return cls(policies, DecisionLog(config["DECISION_LOG"]), metrics)


def services() -> Services:
    return current_app.extensions["tariff"]
