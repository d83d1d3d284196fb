"""Kept for importers outside engine/ that name this module (tests/api, tests/ledger,
bench/bench_http.py); the same names are on the public face, `tariff.engine`.
Remove once they import from there."""
from .tools.verify import compare, fixture_files, load_cases, run_case, view  # noqa: F401
