"""No token or link signature in a log line: werkzeug's development server, gunicorn's access log (with the
production settings file) and the app's own messages all log addresses with secrets replaced by a placeholder."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from marketplace.logs import PLACEHOLDER, redact

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "IjQyIg.ZmFrZQ.Xk3pQ9vR2sT8uW1yZ0aB4cD6eF"
SIGNATURE = "q8Zr2Lm4Nx7Vb1Kc5Jh9Gf3Ds6Ap0Wo"
REQUESTS = [
    f"/password/reset?token={TOKEN}",
    f"/verify-email?token={TOKEN}&next=/",
    f"/invitations/accept?token={TOKEN}",
    f"/storage/o/datasets/1/versions/2/data/train.csv?op=get&exp=1700000000&fn=train.csv&sig={SIGNATURE}",
    f"/bucket/key.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={SIGNATURE}&X-Amz-Signature={SIGNATURE}",
    f"/invitations/{TOKEN}",
]


def _hello(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def test_redact_keeps_the_address_and_drops_the_secret() -> None:
    assert redact(f"GET /password/reset?token={TOKEN} HTTP/1.1") == f"GET /password/reset?token={PLACEHOLDER} HTTP/1.1"
    assert redact(f"/o/k?op=get&exp=1&sig={SIGNATURE}") == f"/o/k?op=get&exp=1&sig={PLACEHOLDER}"
    assert redact(f"/invitations/{TOKEN}/accept") == f"/invitations/{PLACEHOLDER}/accept"
    # Slugs, ULIDs and digests are not secrets and stay readable.
    kept = "/datasets/call-centre-speech-en-es-us/versions/1.0.0 /licenses/01HZY3K5N8Q9R2S4T6V7W8X9YZ/verify"
    assert redact(kept) == kept


def test_redact_catches_the_shortest_secret_segment_and_parameter() -> None:
    shortest = "Ab1" + "x" * 29  # 32 characters: the shortest that looks like a token
    assert redact("/" + shortest) == "/" + PLACEHOLDER
    assert redact("/" + shortest[:-1]) == "/" + shortest[:-1]
    assert redact("?sig=a") == "?sig=" + PLACEHOLDER


def test_the_development_server_logs_no_token(app, caplog) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    server = make_server("127.0.0.1", 0, _hello, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for path in REQUESTS:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{path}", timeout=10) as response:
                assert response.status == 200
    finally:
        server.shutdown()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug" and "GET /" in r.getMessage()]
    assert len(lines) == len(REQUESTS), lines
    assert all(PLACEHOLDER in line for line in lines), lines
    assert TOKEN not in caplog.text and SIGNATURE not in caplog.text


def test_app_log_messages_carry_no_token(app, caplog) -> None:
    caplog.set_level(logging.INFO, logger="marketplace")
    logging.getLogger("marketplace.handlers").error("unhandled error on %s %s", "GET", REQUESTS[0])
    assert TOKEN not in caplog.text and f"token={PLACEHOLDER}" in caplog.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_gunicorn_access_log_carries_no_token(tmp_path) -> None:
    (tmp_path / "hello_app.py").write_text(
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok']\n"
    )
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "infra" / "gunicorn.conf.py"), "hello_app:app"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.2)
        for path in REQUESTS:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"Referer": f"http://site/password/reset?token={TOKEN}"}
            )
            urllib.request.urlopen(request, timeout=10).close()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    access = [line for line in output.splitlines() if '"GET /' in line and "/ready" not in line]
    assert len(access) == len(REQUESTS), output
    assert all(PLACEHOLDER in line for line in access), access
    assert TOKEN not in output and SIGNATURE not in output
