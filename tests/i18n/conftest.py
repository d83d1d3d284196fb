"""Shared fixtures for the i18n tests.

The repo root goes on sys.path because `pytest` (unlike `python -m pytest`)
does not put it there and the project is not necessarily installed; without
this, `import i18n` fails on a fresh checkout.
"""

import shutil
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import i18n.catalog  # noqa: E402  (needs the path above)


@pytest.fixture(scope="session")
def vocabulary() -> dict:
    with open(REPO_ROOT / "policies" / "vocabulary.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture
def catalog_copy(tmp_path) -> Path:
    """A writable copy of the shipped catalogs, for tests that break them."""
    target = tmp_path / "catalogs"
    shutil.copytree(i18n.catalog.CATALOG_DIR, target)
    return target


def edit_catalog(directory: Path, lang: str, change) -> Path:
    """Load <lang>.yaml from `directory`, let `change(data)` modify it, save."""
    path = directory / f"{lang}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def edit():
    return edit_catalog
