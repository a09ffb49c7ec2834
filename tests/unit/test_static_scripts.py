"""Every script the site serves parses: a syntax error would silently switch off every enhancement of the page
(copy buttons, the modality section, tabs, the upload page's progress), which the browser tests only see one by one.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[2] / "marketplace" / "static" / "js").glob("*.js"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_the_script_parses(script: Path) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js is installed by `make test` (scripts/bootstrap node)"
    checked = subprocess.run([node, "--check", str(script)], capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
