"""The engine's dependencies point one way: no import cycle between its modules,
and nothing of HTTP, databases or the rest of tariff.

The graph is read from the source with ``ast`` (every import statement,
those inside functions too), so a cycle hidden behind a late import counts.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "engine"
FORBIDDEN = ("flask", "flask_smorest", "werkzeug", "sqlalchemy", "alembic", "gunicorn", "psycopg",
             "tariff.api", "tariff.storage", "tariff.cli")


def _module(path: Path) -> str:
    parts = path.relative_to(ENGINE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in ENGINE.rglob("*.py")}


def _resolve(dotted: str) -> str:
    """The engine module a dotted name (relative to engine/) is: a module, or its package."""
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted


def imports(name: str) -> tuple[set[str], set[str]]:
    """(engine modules ``name`` imports, other top-level names it imports)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    inside, outside = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            targets = [node.module]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".") if package else []
            base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
            module = ".".join(base + ([node.module] if node.module else []))
            # `from . import x` and `from .pkg import mod` import modules; other names come from the module
            inside.update(_resolve(f"{module}.{alias.name}".lstrip(".")) for alias in node.names)
            continue
        else:
            continue
        for target in targets:
            if target == "tariff.engine" or target.startswith("tariff.engine."):
                inside.add(_resolve(target[len("tariff.engine."):]) if target != "tariff.engine" else "")
            else:
                outside.add(target)
    inside.discard(name)
    return inside, outside


GRAPH = {name: imports(name)[0] for name in MODULES}


def _cycle() -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name, path):
        state[name] = 1
        for target in sorted(GRAPH[name]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target, path + [target])
                if found:
                    return found
        state[name] = 2
        return None

    for name in sorted(GRAPH):
        if name not in state:
            found = visit(name, [name])
            if found:
                return found
    return None


def test_the_graph_is_read():
    assert len(MODULES) > 30
    assert "load.conditions" in GRAPH["compile.conditions"]
    assert "events" in GRAPH["evaluate.request"] and "evaluate.quick" in GRAPH["evaluate.request"]


def test_no_import_cycle_in_the_engine():
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(m or "engine" for m in cycle)


def test_the_cycle_finder_finds_one():
    GRAPH["events"] = GRAPH["events"] | {"evaluate.request"}
    try:
        assert _cycle() is not None
    finally:
        GRAPH["events"] = imports("events")[0]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_the_engine_imports_nothing_of_http_databases_or_the_rest_of_tariff(name):
    _, outside = imports(name)
    bad = sorted(t for t in outside if any(t == f or t.startswith(f + ".") for f in FORBIDDEN))
    assert not bad, f"engine/{MODULES[name].relative_to(ENGINE)} imports {bad}"


def test_no_stage_imports_the_public_face():
    """engine/__init__.py is for api/, storage/ and cli/; inside, modules import each other."""
    assert [name for name, targets in GRAPH.items() if "" in targets] == []


def test_stages_depend_one_way():
    """load <- compile <- evaluate <- tools; the tables at the top depend on no stage."""
    order = {"load": 0, "compile": 1, "evaluate": 2, "tools": 3}
    for name, targets in GRAPH.items():
        stage = name.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if stage in order and other in order:
                assert order[other] <= order[stage], f"{name} (a {stage} module) imports {target}"
            if stage not in order and name and other in order:
                shim = MODULES[name].read_text(encoding="utf-8").startswith('"""Kept for importers outside engine/')
                assert shim, f"engine/{name.replace('.', '/')}.py (shared by every stage) imports {target}"
