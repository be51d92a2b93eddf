"""app/statements imports no web framework, database layer, service or model."""

from __future__ import annotations

import ast
from pathlib import Path

import app.statements

FORBIDDEN = ("flask", "flask_", "sqlalchemy", "app.services", "app.models", "app.blueprints",
             "app.extensions", "app.web")


def test_the_statement_readers_stay_framework_free():
    folder = Path(app.statements.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) >= 7
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{module.name} imports {name}"
