"""The client as a published package: its wheel and sdist build, ``twine check`` accepts their metadata, the wheel
holds the typing marker and the console script, and nothing in it imports the server's code."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"
SERVER_PACKAGES = {"marketplace", "licensing", "storage", "tests"}


@pytest.mark.slow
def test_the_wheel_and_sdist_build_and_pass_twine_check(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(CLIENT, source, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build", "dist"))
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (tmp_path / "dist").glob("*.whl")
    [sdist] = (tmp_path / "dist").glob("*.tar.gz")
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(info).decode())
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "marketplace_client/py.typed" in names and "marketplace_client/cli.py" in names
    assert metadata["Name"] == "marketplace-client"
    assert sorted(r.split(">")[0].split(";")[0].strip() for r in metadata.get_all("Requires-Dist")) == [
        "cryptography",
        "requests",
        "tqdm",
    ]
    assert "marketplace-client = marketplace_client.cli:main" in entry_points


def test_the_client_imports_nothing_from_the_server() -> None:
    for path in (CLIENT / "src" / "marketplace_client").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert not roots & SERVER_PACKAGES, f"{path.name} imports {roots}"
