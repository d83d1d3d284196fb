"""Where the shipped policy set is, and which set a command uses by default.

The policies ship inside the package (``tariff.policies``), so tariff
installed anywhere has a set to validate, decide with and serve. A
``./policies`` folder in the working directory, where billing staff keep
their edited set, wins over the shipped one.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

LOCAL_POLICIES = "policies"


def shipped_policies() -> Path:
    """The policy set installed with tariff."""
    return Path(str(resources.files("tariff.policies")))


def default_policies() -> str:
    """``./policies`` when there is one, else the shipped set."""
    return LOCAL_POLICIES if Path(LOCAL_POLICIES).is_dir() else str(shipped_policies())
