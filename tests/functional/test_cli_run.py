"""``marketplace run --port N``: in development the site's address (e-mailed links, the checkout's return
addresses, the API document) follows the port it serves on, unless ``BASE_URL`` is set."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from marketplace.cli import development_base_url

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _served_base_url(tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    """Start ``marketplace run`` on a free port; return the port and the site address its API document names."""
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if k not in ("BASE_URL", "DATABASE_URL", "MARKETPLACE_ENV")}
    environ.update(PYTHONPATH=str(ROOT), INSTANCE_PATH=str(tmp_path / "instance"), **env)
    server = subprocess.Popen(
        [sys.executable, "-c", "from marketplace.cli import main; main()", "run", "--port", str(port), *args],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5) as response:
                    return port, str(json.load(response)["servers"][0]["url"])
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    server.terminate()
                    pytest.fail("marketplace run did not start:\n" + server.communicate(timeout=30)[0])
                time.sleep(0.3)
    finally:
        if server.poll() is None:
            server.terminate()
            server.communicate(timeout=30)


def test_the_site_address_follows_the_port(tmp_path) -> None:
    port, base = _served_base_url(tmp_path)
    assert port != 5000 and base == f"http://127.0.0.1:{port}"


def test_an_explicit_base_url_wins(tmp_path) -> None:
    assert _served_base_url(tmp_path, BASE_URL="https://data.example.org")[1] == "https://data.example.org"


def test_development_base_url() -> None:
    assert development_base_url("127.0.0.1", 5110) == "http://127.0.0.1:5110"
    assert development_base_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert development_base_url("localhost", 5000) == "http://localhost:5000"
    assert development_base_url("::1", 5000) == "http://[::1]:5000"
