"""Kept for importers outside engine/ that name this module (tests/api, tests/ledger,
bench/bench_http.py); the same names are on the public face, `tariff.engine`.
Remove once they import from there."""
from .evaluate.request import RequestSchema, parse_request  # noqa: F401
