"""Shared fixtures for the i18n tests."""

import shutil
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]

import tariff.i18n.catalog


@pytest.fixture(scope="session")
def vocabulary() -> dict:
    with open(REPO_ROOT / "policies" / "vocabulary.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture
def catalog_copy(tmp_path) -> Path:
    """A writable copy of the shipped catalogs, for tests that break them."""
    target = tmp_path / "catalogs"
    shutil.copytree(tariff.i18n.catalog.CATALOG_DIR, target)
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
