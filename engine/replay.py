"""Kept for importers outside engine/ that name this module (tests/api, tests/ledger,
bench/bench_http.py); the same names are on the public face, `tariff.engine`.
Remove once they import from there."""
from .tools.replay import EventsError, read_events, replay  # noqa: F401
