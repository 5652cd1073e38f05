"""Layering: the reports render a verdict; they never reach into the GitHub integration."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_report_does_not_import_github() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _imported_modules(path) if name.startswith("gatekeeper.github")
        )
        for path in sorted((ROOT / "gatekeeper" / "report").rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}
