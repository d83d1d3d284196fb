"""The wheel: one top-level package, `tariff`, with the shipped policies and
the message catalogs inside, so tariff installed anywhere has a set to use.

The built wheel is unpacked and run from an empty directory with this
environment's Python (its dependencies are installed here already), as a
user who pip-installed it would run it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUEST = {"plan": "enterprise_self_serve", "as_of": "2026-04-10",
           "organization": {"term_start": "2026-01-01", "credit_balance": "0", "spend": "1"},
           "member": {"role": "member", "spend": "0"}, "event": {"type": "usage_precheck", "product": "chat"}}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # A copy of the tree keeps setuptools' build/ and egg-info out of the working tree.
    source = tmp_path_factory.mktemp("build") / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "build", "instance"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                   check=True, capture_output=True)
    [built] = out.glob("tariff-*.whl")
    return built


def test_the_only_top_level_package_is_tariff(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"tariff"}


def test_the_policies_and_catalogs_are_inside(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"tariff/policies/{p.relative_to(ROOT / 'policies').as_posix()}"
               for p in (ROOT / "policies").rglob("*.yaml")}
    assert shipped and shipped <= names
    catalogs = {f"tariff/i18n/catalogs/{p.name}" for p in (ROOT / "i18n" / "catalogs").glob("*.yaml")}
    assert len(catalogs) == 6 and catalogs <= names
    assert "tariff/storage/migrations/script.py.mako" in names


def test_every_package_in_the_tree_is_in_the_wheel(wheel):
    """setup.cfg lists the packages by hand (package_dir maps folders under
    `tariff`): a new subpackage left out of the list would be missing here."""
    names = set(zipfile.ZipFile(wheel).namelist())
    mapping = {"tariff": "tariff", "engine": "tariff/engine", "api": "tariff/api", "storage": "tariff/storage",
               "cli": "tariff/cli", "i18n": "tariff/i18n", "policies": "tariff/policies"}
    for folder, target in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            inside = init.relative_to(ROOT / folder).as_posix()
            assert f"{target}/{inside}" in names, f"{folder}/{inside} is not packaged"


def test_installed_it_validates_and_decides_from_an_empty_directory(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); "
           "from tariff.cli.main import main; sys.exit(main(sys.argv[1:]))", str(site)]
    validated = subprocess.run([*run, "validate"], cwd=empty, env=env, capture_output=True, text=True)
    assert validated.returncode == 0, validated.stderr
    assert "4 plans" in validated.stdout and str(site / "tariff" / "policies") in validated.stdout
    decided = subprocess.run([*run, "decide"], cwd=empty, env=env, input=json.dumps(REQUEST), capture_output=True,
                             text=True)
    assert decided.returncode == 0, decided.stderr
    assert json.loads(decided.stdout)["reasons"][0]["code"] == "credits_exhausted"
    assert list(empty.iterdir()) == []
