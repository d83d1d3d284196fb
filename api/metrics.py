"""Prometheus metrics. Under gunicorn every worker process writes its own
samples to PROMETHEUS_MULTIPROC_DIR and a scrape of /metrics, served by any
worker, adds them all up (prometheus_client's multiprocess mode). Without
that variable (tests, a single process) each app has its own registry.
"""
from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = None if self.multiprocess else CollectorRegistry()
        registry = self.registry
        self.decisions = Counter("tariff_decisions", "Decisions made, by plan, outcome and first reason",
                                 ["plan", "outcome", "reason"], registry=registry)
        self.input_errors = Counter("tariff_decision_input_errors", "Decision requests refused as invalid input",
                                    ["code"], registry=registry)
        self.latency = Histogram("tariff_decision_duration_seconds",
                                 "Time to decide one request (engine, messages, log)",
                                 buckets=LATENCY_BUCKETS, registry=registry)
        self.requests = Counter("tariff_http_requests", "HTTP requests by endpoint and status",
                                ["endpoint", "status"], registry=registry)
        self.reloads = Counter("tariff_policy_reloads", "Policy reloads by result", ["result"],
                               registry=registry)

    def record_decision(self, plan: str, outcome: str, reasons: list, seconds: float) -> None:
        self.decisions.labels(plan, outcome, reasons[0]["code"] if reasons else "none").inc()
        self.latency.observe(seconds)

    def exposition(self) -> bytes:
        if self.multiprocess:
            from prometheus_client import multiprocess
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
