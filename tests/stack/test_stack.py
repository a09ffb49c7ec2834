"""The marketplace as separate processes: gunicorn (two workers, ``infra/gunicorn.conf.py``), the job worker
(``marketplace worker``), an S3-compatible server, a scratch PostgreSQL database and Redis, started by
``tests/support/stack.py``. Everything is driven over HTTP: a purchase paid through the sandbox and downloaded
from S3, a catalog import, a multipart upload and its verification, a signed webhook delivery; then the job worker
is killed with SIGKILL in the middle of a job and restarted, and nothing is lost or done twice.

Skipped, with the reason, when PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379) is not reachable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.stack import PART_SIZE, Stack
from tests.support.stack_flows import ApiClient, Purchase, Shopper, create_api_key, http_session

pytestmark = [pytest.mark.stack, pytest.mark.slow]

PROVIDER, PROVIDER_ORG, BUYER = "provider@example.com", "northwind-data", "buyer@example.com"
DATASET = "instruction-pairs-starter"  # the provider's demo listing whose files are in storage


@dataclass
class Received:
    delivery: str
    event: str
    body: dict[str, Any]
    signed: bool


@dataclass
class WebhookReceiver:
    """A loopback HTTP server that records each delivery (and checks its signature); it can hold the next one."""

    url: str = ""
    secret: str = ""
    received: list[Received] = field(default_factory=list)
    holding: threading.Event = field(default_factory=threading.Event)  # a request is being held
    release: threading.Event = field(default_factory=threading.Event)
    hold_next: bool = False
    endpoint_id: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: Any, raw: bytes) -> None:
        signed = False
        parts = dict(p.split("=", 1) for p in headers.get("Marketplace-Signature", "").split(",") if "=" in p)
        if self.secret and "t" in parts:
            expected = hmac.new(self.secret.encode(), f"{parts['t']}.".encode() + raw, hashlib.sha256).hexdigest()
            signed = hmac.compare_digest(expected, parts.get("v1", ""))
        with self.lock:
            hold, self.hold_next = self.hold_next, False
        if hold:
            self.holding.set()
            self.release.wait(timeout=60)  # the sender is killed meanwhile: this answer reaches no one
        with self.lock:
            self.received.append(Received(headers.get("Marketplace-Delivery", ""), headers.get("Marketplace-Event", ""),
                                          json.loads(raw or b"{}"), signed))  # fmt: skip

    def of(self, event: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.event == event]


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    state = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.handle(self.headers, raw)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def provider_api(stack: Stack) -> ApiClient:
    """The provider organisation's API key, created on the settings page by its owner."""
    owner = Shopper(stack.base_url, PROVIDER)
    owner.log_in()
    return ApiClient(stack.base_url, create_api_key(owner, PROVIDER_ORG, ["provider:write", "webhooks:manage"]))


def _buy(stack: Stack) -> tuple[Shopper, Purchase]:
    """The demo buyer, for a new buyer organisation of theirs, finds the starter pack, buys it and pays."""
    shopper = Shopper(stack.base_url, BUYER)
    shopper.log_in()
    licensee = shopper.new_buyer_organisation(f"Stack buyer {uuid.uuid4().hex[:8]}")
    shopper.search("instruction pairs starter")
    offer = shopper.dataset_page(DATASET)
    return shopper, shopper.pay(shopper.checkout(offer, licensee))


def _jobs_not_finished(stack: Stack) -> list[tuple[Any, ...]]:
    """Queued jobs that are due or running: after the stack settles there must be none (nothing stuck)."""
    return stack.sql(
        "SELECT id, kind, state, attempts FROM background_job WHERE state IN ('pending', 'running', 'retrying')"
        " AND run_after <= now()"
    )


def _settle(stack: Stack, timeout: float = 30) -> list[tuple[Any, ...]]:
    deadline = time.monotonic() + timeout
    while (left := _jobs_not_finished(stack)) and time.monotonic() < deadline:
        time.sleep(0.3)
    return left


# --- (a) a purchase, paid in the sandbox, downloaded from S3 --------------------------------------------------------


def test_a_buyer_buys_and_downloads_every_file_from_s3(stack: Stack) -> None:
    shopper, purchase = _buy(stack)
    assert len(purchase.files) == 7  # the starter pack: README, four JSON Lines files, a CSV and a Parquet table
    for file in purchase.files:
        content = shopper.download(purchase.grant_id, file)
        assert hashlib.sha256(content).hexdigest() == file["sha256"] and len(content) == file["size_bytes"]
        # The link was the S3 server's, presigned: the bytes came from the bucket, not through the web process.
        assert shopper.last_link.startswith(stack.s3_endpoint + "/") and "X-Amz-Signature=" in shopper.last_link
    audited = stack.sql("SELECT count(*) FROM download_event WHERE grant_id = %s", purchase.grant_id)
    assert audited == [(7,)]


# --- (b) a catalog import, as a job -----------------------------------------------------------------------------


def test_a_catalog_import_runs_as_a_job(stack: Stack, provider_api: ApiClient) -> None:
    tag = uuid.uuid4().hex[:8]
    rows = [{"external_id": f"imp-{tag}-{n}", "title": f"Imported listing {tag} {n}"} for n in range(30)]
    job = provider_api.call("POST", "/provider/imports", 202,
                            body={"format": "jsonl", "content": "\n".join(json.dumps(r) for r in rows)})  # fmt: skip
    done = provider_api.wait_for(f"/provider/imports/{job['id']}", lambda j: j["status"] in ("succeeded", "failed"),
                                 what="catalog import")  # fmt: skip
    assert done["status"] == "succeeded", done
    assert len(done["result"]["created"]) == 30
    counts = stack.sql("SELECT count(*), count(DISTINCT external_id) FROM dataset WHERE external_id LIKE %s",
                       f"imp-{tag}-%")  # fmt: skip
    assert counts == [(30, 30)]


# --- (c) a multipart upload to S3 and its verification job ------------------------------------------------------


def test_a_multipart_upload_is_verified_by_the_server(stack: Stack, provider_api: ApiClient) -> None:
    label = f"1.{int(time.time()) % 100000}.0"
    provider_api.call("POST", f"/provider/datasets/{DATASET}/versions", 201, body={"version": label})
    content = os.urandom(2 * PART_SIZE + 123_457)  # three parts: two full ones and a short last one
    sha = hashlib.sha256(content).hexdigest()
    upload = provider_api.call("POST", f"/provider/datasets/{DATASET}/versions/{label}/uploads", 201,
                               body={"path": "data/extra.bin", "size": len(content), "sha256": sha,
                                     "media_type": "application/octet-stream"})  # fmt: skip
    assert upload["multipart"] is True
    parts = upload["part_count"]
    assert parts == 3
    links = provider_api.call("POST", f"/provider/uploads/{upload['id']}/links", body={"parts": [1, 2, 3]})["urls"]
    http = http_session()
    for number in range(1, parts + 1):
        start = (number - 1) * PART_SIZE
        put = http.put(links[str(number)], data=content[start : start + PART_SIZE], headers=upload["headers"],
                       timeout=60)  # fmt: skip
        assert put.status_code == 200, put.text[:500]
        assert links[str(number)].startswith(stack.s3_endpoint + "/")
    completed = provider_api.call("POST", f"/provider/uploads/{upload['id']}/complete")
    assert completed["status"] in ("verifying", "verified"), completed
    verified = provider_api.wait_for(f"/provider/uploads/{upload['id']}", lambda u: u["status"] != "verifying",
                                     what="upload verification")  # fmt: skip
    assert verified["status"] == "verified", verified
    assert verified["sha256"] == sha
    stored = stack.s3_client().list_objects_v2(Bucket=stack.env["S3_BUCKET"]).get("Contents", [])
    assert [o["Size"] for o in stored if o["Key"].endswith("/data/extra.bin")] == [len(content)]
    published = provider_api.call("POST", f"/provider/datasets/{DATASET}/versions/{label}/publish")
    assert published["status"] == "published"
    assert [(f["path"], f["sha256"], f["uploaded"]) for f in published["files"]] == [("data/extra.bin", sha, True)]


# --- (d) a signed webhook delivery to a receiver ----------------------------------------------------------------


def _endpoint(provider_api: ApiClient, receiver: WebhookReceiver) -> int:
    if not receiver.secret:
        created = provider_api.call("POST", "/webhooks/endpoints", 201,
                                    body={"url": receiver.url, "events": ["license.issued"]})  # fmt: skip
        receiver.secret, receiver.endpoint_id = created["secret"], int(created["id"])
    return receiver.endpoint_id


def _delivery_of(provider_api: ApiClient, endpoint: int, grant_id: str, receiver: WebhookReceiver) -> dict[str, Any]:
    """The endpoint's one delivery of the ``license.issued`` event of ``grant_id``, once it is delivered."""
    events = {
        r.body["id"] for r in receiver.of("license.issued") if r.body.get("data", {}).get("license_id") == grant_id
    }
    assert events, f"the receiver got no license.issued for {grant_id}"

    def delivered(page: dict[str, Any]) -> bool:
        return any(d["event_id"] in events and d["status"] == "delivered" for d in page["data"])

    page = provider_api.wait_for(f"/webhooks/endpoints/{endpoint}/deliveries?limit=100", delivered,
                                 what="delivery recorded as delivered")  # fmt: skip
    matching = [d for d in page["data"] if d["event_id"] in events]
    assert len(matching) == 1, matching
    return matching[0]


def _wait_received(receiver: WebhookReceiver, grant_id: str, timeout: float = 60) -> list[Received]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [r for r in receiver.of("license.issued") if r.body.get("data", {}).get("license_id") == grant_id]
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"no license.issued for {grant_id} reached the receiver within {timeout:.0f} s")


def test_a_webhook_is_delivered_signed(stack: Stack, provider_api: ApiClient, receiver: WebhookReceiver) -> None:
    endpoint = _endpoint(provider_api, receiver)
    _shopper, purchase = _buy(stack)
    got = _wait_received(receiver, purchase.grant_id)
    assert all(r.signed for r in got), "a delivery's Marketplace-Signature does not verify with the endpoint's secret"
    delivery = _delivery_of(provider_api, endpoint, purchase.grant_id, receiver)
    assert delivery["attempts"] == 1 and delivery["last_status_code"] == 200


# --- (e) the job worker killed in the middle of jobs ------------------------------------------------------------


def _worker_or_skip(stack: Stack) -> None:
    if "worker" not in stack.processes:
        pytest.skip("this checkout has no job queue (`marketplace worker`): jobs run inside the web processes")


def test_a_webhook_delivery_interrupted_by_a_killed_worker_is_sent_again(
    stack: Stack, provider_api: ApiClient, receiver: WebhookReceiver
) -> None:
    _worker_or_skip(stack)
    endpoint = _endpoint(provider_api, receiver)
    receiver.release.clear()
    receiver.holding.clear()
    receiver.hold_next = True
    _shopper, purchase = _buy(stack)
    assert receiver.holding.wait(timeout=60), "the worker never started the webhook delivery"
    stack.kill_worker()  # while it waits for the receiver's answer
    receiver.release.set()
    stack.start_worker()
    got = _wait_received(receiver, purchase.grant_id)
    # The first attempt never got its answer; the delivery is sent again (same delivery id) and recorded once.
    delivery = _delivery_of(provider_api, endpoint, purchase.grant_id, receiver)
    assert delivery["status"] == "delivered"
    assert len({(r.delivery, r.body["id"]) for r in got}) == 1 and all(r.signed for r in got)
    assert _settle(stack) == []


def test_an_import_interrupted_by_a_killed_worker_runs_again_once(stack: Stack, provider_api: ApiClient) -> None:
    _worker_or_skip(stack)
    tag = uuid.uuid4().hex[:8]
    rows = [{"external_id": f"kill-{tag}-{n}", "title": f"Interrupted import {tag} {n}"} for n in range(200)]
    # Hold the listings table so the import, once started, waits inside its transaction: the kill is mid-job.
    import psycopg

    with psycopg.connect(stack.database_url, connect_timeout=5) as holder:
        holder.execute("LOCK TABLE dataset IN EXCLUSIVE MODE")
        content = "\n".join(json.dumps(r) for r in rows)
        job = provider_api.call("POST", "/provider/imports", 202, body={"format": "jsonl", "content": content})
        deadline = time.monotonic() + 60
        while not stack.sql("SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                            " WHERE c.relname = 'dataset' AND NOT l.granted"):  # fmt: skip
            assert time.monotonic() < deadline, "the import job never reached the listings table"
            time.sleep(0.1)
        stack.kill_worker()
        holder.rollback()
    stack.start_worker()
    done = provider_api.wait_for(f"/provider/imports/{job['id']}", lambda j: j["status"] in ("succeeded", "failed"),
                                 timeout=90, what="the interrupted import")  # fmt: skip
    assert done["status"] == "succeeded", done
    assert len(done["result"]["created"]) == 200
    counts = stack.sql("SELECT count(*), count(DISTINCT external_id) FROM dataset WHERE external_id LIKE %s",
                       f"kill-{tag}-%")  # fmt: skip
    assert counts == [(200, 200)]
    # The job ran twice (the killed attempt and the one that finished) and is done; nothing else is left waiting.
    attempts = stack.sql("SELECT state, attempts FROM background_job WHERE kind = 'catalog_import'"
                         " AND payload->>'api_job_id' = %s", str(job["id"]))  # fmt: skip
    assert attempts == [("succeeded", 2)]
    assert _settle(stack) == []
