"""The payments package is plain Python plus the stripe SDK: no Flask, no SQLModel, no SQLAlchemy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import marketplace.orders.payments as payments

FORBIDDEN = {"flask", "flask_wtf", "flask_limiter", "werkzeug", "sqlmodel", "sqlalchemy", "alembic"}
PACKAGE = Path(payments.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


def dynamic_import(node: ast.Call) -> str | None:
    """The module named by ``__import__("x")`` or ``importlib.import_module("x")``, if ``node`` is one."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    first = node.args[0] if node.args else None
    if name in {"__import__", "import_module"} and isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Call) and (module := dynamic_import(node)):
            found.add(module)
    return found


def test_the_package_has_sources() -> None:
    assert {p.name for p in SOURCES} >= {"base.py", "stripe_backend.py", "sandbox.py", "factory.py", "signing.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_web_or_database_imports(path: Path) -> None:
    bad = {name for name in imported_modules(path) if name.split(".")[0] in FORBIDDEN}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_imports_from_the_rest_of_the_application(path: Path) -> None:
    # Relative imports stay inside the package; absolute ones must not reach back into marketplace.
    bad = {name for name in imported_modules(path) if name.split(".")[0] == "marketplace"}
    assert not bad, f"{path.name} imports {sorted(bad)}"
