"""The arrows go one way (DESIGN.md): read every module's imports (ast, including imports inside
functions) and check no package reaches a layer it must not know."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "review": ("flows", "sandbox", "rpa"),
    "flows": ("rpa", "review"),
    "config": ("flows",),
    "connectors": ("flows",),
    "bots": ("flows",),
    "workqueue": ("flows", "review", "rpa", "sandbox"),
}
# Developer tools that live beside a package but are not part of it (run as `python -m`).
ALLOWED = {
    "review/screenshots.py": {"sandbox"},  # README screenshots: starts the sandbox stand-ins
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def violations() -> list[str]:
    found = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            bad = (imported_packages(path) & set(forbidden)) - ALLOWED.get(relative, set())
            found += [f"{relative} imports {name}" for name in sorted(bad)]
    return found


def test_layers_import_one_way():
    assert violations() == []


@pytest.mark.parametrize("source, expected", [
    ("import flows.kit\n", {"flows"}),
    ("def f():\n    from rpa.deployments import BASE_TAG\n", {"rpa"}),
    ("from . import sibling\n", set()),
])
def test_imports_inside_functions_count(tmp_path, source, expected):
    module = tmp_path / "m.py"
    module.write_text(source, encoding="utf-8")
    assert imported_packages(module) == expected
