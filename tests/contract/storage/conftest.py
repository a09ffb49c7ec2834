"""Backends for the storage contract suite: each test runs once per backend.

* ``local``: LocalStorage served over real HTTP by its WSGI app, mounted under ``/files`` on a werkzeug
  server in a thread (so presigned links are fetched exactly as a browser would).
* ``moto``: S3Storage against moto in-process (``mock_aws``); moto also intercepts ``requests``.
* ``s3rver``: S3Storage over real HTTP against the ``s3rver`` npm package (run ``npm ci`` first).
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from moto import mock_aws
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from storage import LocalStorage, S3Storage, Storage, make_wsgi_app
from storage.base import MIN_PART_SIZE

REPO_ROOT = Path(__file__).resolve().parents[3]
S3RVER_BIN = REPO_ROOT / "node_modules" / ".bin" / "s3rver"
S3RVER_BUCKET = "contract-bucket"
BACKENDS = ["local", "moto", "s3rver"]
# One botocore session keeps the parsed S3 service model cached between tests (a new client is then cheap).
_BOTO_SESSION = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")


@dataclass
class Backend:
    """A storage under test plus what its server is known to lack (declared, never silently skipped)."""

    name: str
    storage: Storage
    prefix: str
    #: Feature -> reason, for features the server behind this backend does not implement.
    limitations: dict[str, str] = field(default_factory=dict)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def expect_limitation(
        self, request: pytest.FixtureRequest, feature: str, *, run: bool = True, **xfail: Any
    ) -> None:
        """Declare a known gap of this backend's server for the running test, with its reason.

        With ``run=True`` the test still runs and must fail (strict xfail), so the marker is removed once the
        server gains the feature; with ``run=False`` (the server would crash or misbehave) it stops here and
        is reported as xfailed with the reason.
        """
        reason = self.limitations.get(feature)
        if reason is None:
            return
        if not run:
            pytest.xfail(f"{self.name}: {reason} (not run)")
        request.applymarker(pytest.mark.xfail(reason=f"{self.name}: {reason}", strict=True, **xfail))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _not_found(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not mounted"]


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStorage]:
    """One LocalStorage served by make_wsgi_app under the /files prefix of a threaded HTTP server."""
    mounted: dict[str, Any] = {}

    def storage_app(environ: dict[str, Any], start_response: Any) -> Any:
        return mounted["app"](environ, start_response)

    app = DispatcherMiddleware(_not_found, {"/files": storage_app})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    storage = LocalStorage(
        tmp_path_factory.mktemp("local-storage"),
        f"http://127.0.0.1:{server.port}/files",
        secrets.token_bytes(32),
        part_size=MIN_PART_SIZE,
    )
    mounted["app"] = make_wsgi_app(storage)
    thread = threading.Thread(target=server.serve_forever, name="local-storage-http", daemon=True)
    thread.start()
    yield storage
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def s3rver_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start s3rver on a free loopback port with one bucket; stop it at the end of the session."""
    if not S3RVER_BIN.exists() or shutil.which("node") is None:
        pytest.fail(
            f"{S3RVER_BIN.relative_to(REPO_ROOT)} is missing (or node is not installed): "
            "run `npm ci` in the repository root to install the s3rver dev dependency.",
            pytrace=False,
        )
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("s3rver")
    log_path = data_dir.parent / f"s3rver-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(S3RVER_BIN),
                "-d",
                str(data_dir),
                "-a",
                "127.0.0.1",
                "-p",
                str(port),
                "--configure-bucket",
                S3RVER_BUCKET,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"s3rver exited with {process.returncode}: {log_path.read_text()[-2000:]}", pytrace=False)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("s3rver did not accept connections within 30 s", pytrace=False)
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def s3rver_storage(s3rver_endpoint: str) -> S3Storage:
    """S3Storage on the s3rver bucket, built as the application would build it for a non-AWS endpoint."""
    return S3Storage(
        S3RVER_BUCKET,
        region="us-east-1",
        endpoint_url=s3rver_endpoint,
        access_key="S3RVER",
        secret_key="S3RVER",
        part_size=MIN_PART_SIZE,
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The storage under test, with a key prefix unique to this test so tests never see each other's data."""
    prefix = f"contract/{uuid.uuid4().hex}"
    if request.param == "local":
        yield Backend("local", request.getfixturevalue("local_server"), prefix)
    elif request.param == "moto":
        with mock_aws():
            client = _BOTO_SESSION.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"))
            client.create_bucket(Bucket="moto-contract")
            storage = S3Storage("moto-contract", region="us-east-1", client=client, part_size=MIN_PART_SIZE)
            yield Backend(
                "moto",
                storage,
                prefix,
                {
                    "expiry": "moto checks neither the expiry nor the signature of presigned URLs",
                    "complete_after_abort": "moto raises a bare KeyError instead of NoSuchUpload",
                },
            )
    else:
        yield Backend(
            "s3rver",
            request.getfixturevalue("s3rver_storage"),
            prefix,
            {
                "list_parts": "s3rver 3.7 does not implement ListParts (MethodNotAllowed)",
                "abort": "s3rver 3.7 does not implement AbortMultipartUpload (MethodNotAllowed)",
                "complete_missing_part": "s3rver 3.7 crashes (unhandled ENOENT) when completing with a part "
                "it never received, so this case is not run against it",
            },
        )


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """An HTTP client that ignores proxy settings from the environment (all servers are on loopback)."""
    with requests.Session() as session:
        session.trust_env = False
        yield session
