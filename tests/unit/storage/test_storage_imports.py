"""storage/ stays independent of the web application: no Flask, SQLModel, SQLAlchemy or marketplace imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import storage

FORBIDDEN = ("flask", "sqlmodel", "sqlalchemy", "marketplace")
PACKAGE_DIR = Path(storage.__file__).resolve().parent


def forbidden_imports(source: str, filename: str) -> list[str]:
    """Return ``file:line imports module`` for every import of a forbidden package in ``source``.

    Catches ``import x``, ``import x.y as z``, ``from x import y``, ``from x.y import z`` and imports inside
    functions, ``if TYPE_CHECKING`` blocks and ``try`` blocks, plus ``importlib.import_module("x")`` and
    ``__import__("x")`` with a literal name.
    """
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            modules = [node.args[0].value]
        for module in modules:
            if module.split(".")[0] in FORBIDDEN:
                found.append(f"{filename}:{getattr(node, 'lineno', '?')} imports {module}")
    return found


def test_storage_imports_nothing_from_the_web_application() -> None:
    files = sorted(PACKAGE_DIR.rglob("*.py"))
    assert len(files) >= 7, "the storage package was not found"
    offences = [
        offence
        for path in files
        for offence in forbidden_imports(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE_DIR.parent)))
    ]
    assert offences == [], "storage/ must stay independent of the web app:\n" + "\n".join(offences)


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("import flask", "flask"),
        ("import sqlalchemy.orm as orm", "sqlalchemy.orm"),
        ("from sqlmodel import Session", "sqlmodel"),
        ("from marketplace.catalog.models import Dataset", "marketplace.catalog.models"),
        ("def f():\n    from flask import current_app", "flask"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import flask", "flask"),
        ("import importlib\nimportlib.import_module('marketplace.db')", "marketplace.db"),
        ("__import__('flask')", "flask"),
    ],
)
def test_the_checker_catches_each_form_and_names_the_module(source: str, module: str) -> None:
    offences = forbidden_imports(source, "storage/example.py")
    assert len(offences) == 1
    assert offences[0].startswith("storage/example.py:")
    assert offences[0].endswith(f"imports {module}")


@pytest.mark.parametrize("source", ["import flaskish", "from storage.local import LocalStorage", "from . import base"])
def test_the_checker_allows_look_alikes_and_relative_imports(source: str) -> None:
    assert forbidden_imports(source, "storage/example.py") == []
