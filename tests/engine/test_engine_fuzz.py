"""Random facts never crash the engine.

A crash inside durable_rules is a segfault, which would kill pytest itself, so
each property runs in a child process (engine_fuzz_worker.py) and the test
looks at its exit code: a signal or a hang fails the test, not the suite.
"""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("engine_fuzz_worker.py")
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 300  # seconds; durable_rules can also hang (DURABLE_RULES.md)
# mode -> examples; the workers run side by side (each is one process)
EXAMPLES = {"decide": 250, "decide-survive": 150, "raw-survive": 200, "raw": 100}


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzz")
    started = {}
    for mode, examples in EXAMPLES.items():
        stdout, stderr = open(out / f"{mode}.out", "w+"), open(out / f"{mode}.err", "w+")
        proc = subprocess.Popen([sys.executable, str(WORKER), mode, str(examples)], cwd=REPO, stdout=stdout,
                                stderr=stderr, text=True)
        started[mode] = (proc, stdout, stderr)
    yield started
    for proc, stdout, stderr in started.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stdout.close()
        stderr.close()


def run_worker(workers, mode: str) -> subprocess.CompletedProcess:
    proc, stdout, stderr = workers[mode]
    try:
        proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"{mode}: the engine hung (no answer in {TIMEOUT} s)", pytrace=False)
    stdout.seek(0)
    stderr.seek(0)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout.read(), stderr.read())


def report(proc: subprocess.CompletedProcess) -> str:
    if proc.returncode < 0:
        how = f"killed by signal {signal.Signals(-proc.returncode).name}"
    else:
        how = f"exit code {proc.returncode}"
    return f"worker {how}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-8000:]}"


def test_random_decision_payloads_get_a_decision_or_an_input_error(workers):
    """evaluator.decide on random payloads (missing, wrong-typed, huge, unicode,
    nested junk) returns a Decision whose to_dict is JSON, or raises InputError."""
    proc = run_worker(workers, "decide")
    assert proc.returncode == 0, report(proc)


def test_random_decision_payloads_never_kill_the_process(workers):
    """Whatever decide raises on the way, the process survives every payload."""
    proc = run_worker(workers, "decide-survive")
    assert proc.returncode == 0, report(proc)


def test_random_raw_facts_never_kill_the_process(workers):
    """Random facts (always with `event`) posted through Runtime.evaluate into
    every compiled ruleset: the process survives and still answers correctly."""
    proc = run_worker(workers, "raw-survive")
    assert proc.returncode == 0, report(proc)


def test_random_raw_facts_get_rule_names_or_an_engine_error(workers):
    proc = run_worker(workers, "raw")
    assert proc.returncode == 0, report(proc)
