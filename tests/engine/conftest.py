"""Shared fixtures for the engine tests: the shipped policy set, loaded once."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # engine_testkit, whatever the import mode
    sys.path.insert(0, str(HERE))

from engine import Evaluator, load_policy_set  # noqa: E402
from engine_testkit import POLICIES  # noqa: E402


@pytest.fixture(scope="session")
def policy():
    return load_policy_set(POLICIES)


@pytest.fixture(scope="session")
def evaluator(policy):
    return Evaluator(policy)


@pytest.fixture(scope="session")
def vocabulary(policy):
    return policy.vocabulary
