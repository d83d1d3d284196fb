"""Shared fixtures for the engine tests: the shipped policy set, loaded once."""
from __future__ import annotations

import pytest

from engine_testkit import POLICIES
from tariff.engine import Evaluator, load_policy_set


@pytest.fixture(scope="session")
def policy():
    return load_policy_set(POLICIES)


@pytest.fixture(scope="session")
def evaluator(policy):
    return Evaluator(policy)


@pytest.fixture(scope="session")
def vocabulary(policy):
    return policy.vocabulary
