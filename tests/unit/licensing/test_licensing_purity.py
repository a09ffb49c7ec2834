"""The licensing package stays pure: no web framework, ORM or application imports."""

from __future__ import annotations

import ast
from pathlib import Path

import licensing

FORBIDDEN = ("flask", "sqlmodel", "sqlalchemy", "marketplace")
PACKAGE_DIR = Path(licensing.__file__).parent


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None))
            in (
                "__import__",
                "import_module",
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def test_licensing_imports_no_framework_or_application_code() -> None:
    modules = sorted(PACKAGE_DIR.rglob("*.py"))
    assert len(modules) >= 10
    offenders = []
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in _imports(tree):
            if name.split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{line} imports {name}")
    assert not offenders, "licensing must stay pure Python:\n" + "\n".join(offenders)


def test_the_checker_catches_forbidden_imports() -> None:
    tree = ast.parse(
        "import flask\nfrom sqlalchemy.orm import x\nimport importlib\nimportlib.import_module('marketplace.db')"
    )
    names = [name for _, name in _imports(tree)]
    assert names == ["flask", "sqlalchemy.orm", "importlib", "marketplace.db"]


def test_py_typed_marker_is_present() -> None:
    assert (PACKAGE_DIR / "py.typed").exists()
