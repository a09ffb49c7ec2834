"""gunicorn as production runs it (``infra/gunicorn.conf.py``) bounds every request by its ``timeout``: a request
still running after it loses its worker, which the master replaces, and the next request is served."""

from __future__ import annotations

import http.client
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = """
import os, time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/stuck":
        time.sleep(60)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, timeout: float) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as answer:
        return str(answer.read().decode())


def test_the_production_settings_time_each_request_in_threaded_workers() -> None:
    settings = runpy.run_path(str(ROOT / "infra" / "gunicorn.conf.py"))
    assert settings["worker_class"] == "gthread" and settings["threads"] > 1
    assert callable(settings["pre_request"]) and callable(settings["post_request"])


def test_a_request_running_past_the_timeout_loses_its_worker_and_the_next_is_served(tmp_path: Path) -> None:
    (tmp_path / "stuck_app.py").write_text(APP)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_TIMEOUT": "2",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "infra" / "gunicorn.conf.py"), "stuck_app:app"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                first = _get(port, "/", 2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises((OSError, http.client.HTTPException)):
            _get(port, "/stuck", 30)  # the connection closes when the worker goes, long before the app would answer
        assert time.monotonic() - started < 20
        deadline = time.monotonic() + 30
        while True:
            try:
                second = _get(port, "/", 2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("no worker served after the stuck one")
                time.sleep(0.2)
        assert second != first  # a new worker
    finally:
        server.terminate()
        server.wait(timeout=30)
