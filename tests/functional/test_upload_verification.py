"""Uploads on S3 storage (moto): completing checks the size at once and leaves the SHA-256 to a background job
(``verifying``), which ends the upload ``verified`` (in the manifest) or ``failed``; publishing, the upload page,
the JSON endpoints, the API and ``marketplace upload`` all know the ``verifying`` state."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from flask import Flask
from moto import mock_aws
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

import storage
from marketplace import create_app
from marketplace.accounts.models import OrgKind, Role
from marketplace.apikeys import services as keys
from marketplace.catalog.models import DatasetFile
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import UnitOfWork
from marketplace.delivery import cli as upload_cli
from marketplace.delivery.models import FileUpload, UploadStatus
from marketplace.jobs.handlers import HANDLERS
from marketplace.jobs.models import BackgroundJob, JobKind, JobState
from marketplace.jobs.queue import JobQueue
from tests.factories import PASSWORD, DatasetFactory, DatasetVersionFactory, OrganisationFactory, member
from tests.functional.jobs.conftest import Clock
from tests.helpers import csrf_token, log_in

MiB = 1024 * 1024
BUCKET = "verify-test"


@pytest.fixture()
def app(app_settings: dict[str, Any], connection: Connection) -> Iterator[Flask]:
    """The application on S3 storage (a moto bucket), jobs in process: published jobs are recorded, not run, so
    a test sees what the request itself did and runs the job when it chooses."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        settings = dict(app_settings)
        settings.update(
            STORAGE_BACKEND="s3", S3_BUCKET=BUCKET, S3_REGION="eu-west-1", S3_ACCESS_KEY_ID="testing",
            S3_SECRET_ACCESS_KEY="testing", STORAGE_PART_SIZE=5 * MiB,
        )  # fmt: skip
        application = create_app(settings)
        application.extensions["marketplace.db"].bind_to_connection(connection)
        yield application
        application.extensions["marketplace.db"].dispose()


@pytest.fixture()
def published(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Job ids handed to the queue's backend (after their commit), instead of being run there and then."""
    ids: list[int] = []
    monkeypatch.setattr(_queue(app).backend, "publish", lambda job_id, delay_ms=0: ids.append(job_id))
    return ids


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every whole-object read of S3 (hashing or opening an object), by key."""
    seen: list[str] = []
    hash_object, open_object = storage.S3Storage.ensure_sha256, storage.S3Storage.open

    def ensure_sha256(self: storage.S3Storage, key: str) -> storage.ObjectInfo:
        seen.append(f"hash {key}")
        return hash_object(self, key)

    def open_(self: storage.S3Storage, key: str, **kw: Any) -> Any:
        seen.append(f"open {key}")
        return open_object(self, key, **kw)

    monkeypatch.setattr(storage.S3Storage, "ensure_sha256", ensure_sha256)
    monkeypatch.setattr(storage.S3Storage, "open", open_)
    return seen


@pytest.fixture()
def shop(db_session: Session) -> dict[str, Any]:
    provider = OrganisationFactory(slug="prov", name="Provider", kind=OrgKind.PROVIDER)
    uploader = member(provider, Role.ADMIN, email="uploader@example.org")
    dataset = DatasetFactory(organisation=provider, slug="speech", title="Speech")
    draft = DatasetVersionFactory(dataset=dataset, version="1.1.0", status=VersionStatus.DRAFT)
    return {"provider": provider, "uploader": uploader, "dataset": dataset, "draft": draft}


def _queue(app: Flask) -> JobQueue:
    queue = app.extensions["marketplace.context"].queue
    assert queue is not None
    return queue


def _store(app: Flask) -> storage.Storage:
    return app.extensions["marketplace.context"].storage.default  # type: ignore[no-any-return]


class Browser:
    """What uploads.js does: JSON endpoints through the test client, bytes straight to S3 (moto)."""

    def __init__(self, client: Any) -> None:
        log_in(client, "uploader@example.org", PASSWORD)
        self.client = client
        self.token = csrf_token(client, "/settings")
        self.http = requests.Session()
        self.http.trust_env = False

    def post(self, url: str, body: object = None) -> Any:
        return self.client.post(url, json=body if body is not None else {}, headers={"X-CSRFToken": self.token})

    def send(self, path: str, data: bytes, **fields: object) -> dict[str, Any]:
        """Start the upload and PUT every byte; returns the upload (not completed)."""
        started = self.post(
            "/datasets/speech/versions/1.1.0/upload-sessions", {"path": path, "size": len(data), **fields}
        )
        assert started.status_code == 201, started.get_data(as_text=True)
        upload: dict[str, Any] = started.get_json()
        if upload["multipart"]:
            numbers = list(range(1, upload["part_count"] + 1))
            urls = self.post(f"/upload-sessions/{upload['id']}/links", {"parts": numbers}).get_json()["urls"]
            for number in numbers:
                start = (number - 1) * upload["part_size"]
                put = self.http.put(urls[str(number)], data=data[start : start + upload["part_size"]])
                assert put.status_code == 200, put.text
        else:
            url = self.post(f"/upload-sessions/{upload['id']}/links", {"parts": []}).get_json()["urls"]["0"]
            put = self.http.put(url, data=data, headers=upload["headers"])
            assert put.status_code == 200, put.text
        return upload

    def complete(self, upload: dict[str, Any]) -> Any:
        return self.post(f"/upload-sessions/{upload['id']}/complete")


def _row(db_session: Session, upload_id: int) -> FileUpload:
    db_session.expire_all()
    row = db_session.get(FileUpload, upload_id)
    assert row is not None
    return row


def _verify_jobs(db_session: Session) -> list[BackgroundJob]:
    db_session.expire_all()
    return list(db_session.exec(select(BackgroundJob).where(BackgroundJob.kind == JobKind.VERIFY_UPLOAD)).all())


def _manifest(db_session: Session, shop: dict[str, Any]) -> dict[str, DatasetFile]:
    db_session.expire_all()
    rows = db_session.exec(select(DatasetFile).where(DatasetFile.version_id == shop["draft"].id)).all()
    return {f.path: f for f in rows}


def test_a_multipart_upload_is_verified_by_a_job_not_by_the_request(
    app, client, shop, db_session, published, reads
) -> None:
    browser = Browser(client)
    data = os.urandom(6 * MiB + 7)
    upload = browser.send("audio/big.bin", data, sha256=hashlib.sha256(data).hexdigest())
    assert upload["multipart"] is True

    done = browser.complete(upload)
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["status"] == "verifying" and done.get_json()["sha256"] is None
    assert reads == []  # the request never read the object back
    (job,) = _verify_jobs(db_session)
    assert published == [job.id] and job.state is JobState.PENDING
    assert job.payload["upload_id"] == upload["id"]
    row = _row(db_session, upload["id"])
    assert row.status is UploadStatus.VERIFYING and row.parts_done == [1, 2]
    assert _manifest(db_session, shop) == {}  # not in the manifest before it is verified
    # Completing again (a retried request) neither fails nor enqueues a second job.
    assert browser.complete(upload).get_json()["status"] == "verifying"
    assert len(_verify_jobs(db_session)) == 1

    assert _queue(app).run(job.id).state is JobState.SUCCEEDED
    assert reads == [f"hash {row.storage_key}", f"open {row.storage_key}"]
    row = _row(db_session, upload["id"])
    assert row.status is UploadStatus.VERIFIED and row.sha256 == hashlib.sha256(data).hexdigest()
    listed = _manifest(db_session, shop)["audio/big.bin"]
    assert (listed.size_bytes, listed.sha256, listed.storage_key) == (len(data), row.sha256, row.storage_key)
    db_session.refresh(shop["draft"])
    assert shop["draft"].file_count == 1 and shop["draft"].manifest_digest
    assert client.get(f"/upload-sessions/{upload['id']}").get_json()["status"] == "verified"

    # The same job delivered again, or its handler run again: nothing happens, nothing is read.
    assert _queue(app).run(job.id).state is None
    work = UnitOfWork(db_session, app.extensions["marketplace.context"])
    HANDLERS[JobKind.VERIFY_UPLOAD].run(work, dict(job.payload))
    assert len(reads) == 2
    assert _row(db_session, upload["id"]).status is UploadStatus.VERIFIED


def test_a_single_put_on_s3_is_verified_in_the_background_too(app, client, shop, db_session, published) -> None:
    browser = Browser(client)
    upload = browser.send("small.txt", b"small file")
    assert browser.complete(upload).get_json()["status"] == "verifying"
    _queue(app).run(published[0])
    assert _row(db_session, upload["id"]).sha256 == hashlib.sha256(b"small file").hexdigest()


def test_a_wrong_size_still_fails_in_the_request(app, client, shop, db_session, published, reads) -> None:
    browser = Browser(client)
    upload = browser.send("short.bin", b"12345")
    # Replace the stored bytes behind the upload's back with a shorter object.
    _store(app).delete(_row(db_session, upload["id"]).storage_key)
    s3 = _store(app)
    assert isinstance(s3, storage.S3Storage)
    s3.client.put_object(Bucket=BUCKET, Key=_row(db_session, upload["id"]).storage_key, Body=b"123")
    response = browser.complete(upload)
    assert response.status_code == 422
    assert "expected 5" in response.get_json()["error"]["message"]
    assert _row(db_session, upload["id"]).status is UploadStatus.FAILED
    assert _verify_jobs(db_session) == [] and published == [] and reads == []


def test_a_mismatching_sha256_fails_in_the_job_and_the_object_is_deleted(
    app, client, shop, db_session, published
) -> None:
    browser = Browser(client)
    data = os.urandom(6 * MiB)
    upload = browser.send("wrong.bin", data, sha256="ab" * 32)
    assert browser.complete(upload).get_json()["status"] == "verifying"
    key = _row(db_session, upload["id"]).storage_key
    assert _store(app).exists(key)

    assert _queue(app).run(published[0]).state is JobState.SUCCEEDED  # the job did its work: the file is refused
    row = _row(db_session, upload["id"])
    assert row.status is UploadStatus.FAILED
    assert "ab" * 32 in row.error and hashlib.sha256(data).hexdigest() in row.error
    assert not _store(app).exists(key)
    assert _manifest(db_session, shop) == {}
    shown = client.get(f"/upload-sessions/{upload['id']}").get_json()
    assert shown["status"] == "failed" and "the file's SHA-256 differs from the one computed" in shown["error"]


def test_an_unreachable_storage_is_retried_then_the_job_succeeds(
    app, client, shop, db_session, published, monkeypatch
) -> None:
    clock = Clock()
    app.extensions["marketplace.context"].clock = clock
    browser = Browser(client)
    upload = browser.send("later.txt", b"eventually")
    assert browser.complete(upload).get_json()["status"] == "verifying"
    job_id = published[0]

    working = storage.S3Storage.ensure_sha256

    def unreachable(self: storage.S3Storage, key: str) -> storage.ObjectInfo:
        raise storage.StorageUnavailable("S3 is unreachable")

    monkeypatch.setattr(storage.S3Storage, "ensure_sha256", unreachable)
    outcome = _queue(app).run(job_id)
    assert outcome.state is JobState.RETRYING
    job = db_session.get(BackgroundJob, job_id)
    db_session.refresh(job)
    assert job is not None and "unreachable" in job.last_error
    assert _row(db_session, upload["id"]).status is UploadStatus.VERIFYING

    monkeypatch.setattr(storage.S3Storage, "ensure_sha256", working)
    clock.advance(seconds=app.config["JOB_RETRY_MAX_SECONDS"] + 1)
    assert _queue(app).run(job_id).state is JobState.SUCCEEDED
    assert _row(db_session, upload["id"]).status is UploadStatus.VERIFIED


def test_a_verification_that_never_reaches_storage_ends_failed_not_verifying(
    app, client, shop, db_session, published, monkeypatch
) -> None:
    clock = Clock()
    app.extensions["marketplace.context"].clock = clock
    browser = Browser(client)
    upload = browser.send("never.txt", b"never")
    browser.complete(upload)

    def unreachable(self: storage.S3Storage, key: str) -> storage.ObjectInfo:
        raise storage.StorageUnavailable("S3 is unreachable")

    monkeypatch.setattr(storage.S3Storage, "ensure_sha256", unreachable)
    for _attempt in range(app.config["JOB_MAX_ATTEMPTS"]):
        outcome = _queue(app).run(published[0])
        clock.advance(seconds=app.config["JOB_RETRY_MAX_SECONDS"] + 1)
    assert outcome.state is JobState.DEAD
    row = _row(db_session, upload["id"])
    assert row.status is UploadStatus.FAILED and "could not be verified" in row.error


def test_a_job_of_an_earlier_completion_leaves_a_restarted_upload_alone(
    app, client, shop, db_session, published, reads
) -> None:
    browser = Browser(client)
    first = browser.send("again.txt", b"first bytes")
    browser.complete(first)
    # The provider starts the same file again (other bytes) and completes it while the first job waits.
    second = browser.send("again.txt", b"second bytes!")
    assert second["id"] == first["id"]
    assert _row(db_session, first["id"]).status is UploadStatus.UPLOADING
    assert _queue(app).run(published[0]).state is JobState.SUCCEEDED
    assert reads == [] and _row(db_session, first["id"]).status is UploadStatus.UPLOADING
    browser.complete(second)
    assert len(published) == 2
    # The stale job delivered again now: the upload is verifying, but for another completion.
    work = UnitOfWork(db_session, app.extensions["marketplace.context"])
    stale = db_session.get(BackgroundJob, published[0])
    assert stale is not None
    HANDLERS[JobKind.VERIFY_UPLOAD].run(work, dict(stale.payload))
    assert reads == [] and _row(db_session, first["id"]).status is UploadStatus.VERIFYING
    _queue(app).run(published[1])
    assert _row(db_session, first["id"]).sha256 == hashlib.sha256(b"second bytes!").hexdigest()


def test_removing_a_file_while_it_is_verifying_ends_its_job_quietly(
    app, client, shop, db_session, published, reads
) -> None:
    browser = Browser(client)
    upload = browser.send("gone.txt", b"bye")
    browser.complete(upload)
    key = _row(db_session, upload["id"]).storage_key
    removed = browser.post(f"/upload-sessions/{upload['id']}/abort")
    assert removed.status_code == 200
    assert not _store(app).exists(key)
    assert _queue(app).run(published[0]).state is JobState.SUCCEEDED
    assert reads == []


def test_publishing_waits_for_verification_and_every_view_says_verifying(
    app, client, shop, db_session, published
) -> None:
    browser = Browser(client)
    upload = browser.send("slow.csv", b"a,b\n1,2\n", media_type="text/csv")
    browser.complete(upload)

    page = client.get("/datasets/speech/versions/1.1.0/upload").get_data(as_text=True)
    assert 'data-testid="upload-verifying"' in page and "Verifying…" in page
    assert "slow.csv</code>: still being verified" in page
    assert client.get(f"/upload-sessions/{upload['id']}").get_json()["status"] == "verifying"

    response = client.post("/datasets/speech/versions/1.1.0/publish-uploaded", data={"csrf_token": browser.token})
    assert response.status_code == 409
    assert "slow.csv: still being verified" in response.get_data(as_text=True)
    db_session.refresh(shop["draft"])
    assert shop["draft"].status is VersionStatus.DRAFT

    work = UnitOfWork(db_session, app.extensions["marketplace.context"])
    _key, secret = keys.create_key(
        work, shop["uploader"], name="ci", scopes=["provider:write"], environment="live",
        organisation=shop["provider"],
    )  # fmt: skip
    db_session.flush()
    api = client.get(f"/api/v1/provider/uploads/{upload['id']}", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.get_json()["status"] == "verifying"

    _queue(app).run(published[0])
    page = client.get("/datasets/speech/versions/1.1.0/upload").get_data(as_text=True)
    assert 'data-testid="upload-verifying"' not in page and 'data-testid="publish-blocked"' not in page


def test_the_upload_command_waits_for_the_servers_verification(
    app, shop, db_session, published, monkeypatch, capsys
) -> None:
    """``marketplace upload`` sends bytes with urllib (which moto does not intercept): its last step, waiting for
    uploads left ``verifying``, is driven here with an upload completed through the service."""
    context = app.extensions["marketplace.context"]
    store = _store(app)
    with app.app_context():
        from marketplace.delivery import services as svc

        work = UnitOfWork(db_session, context)
        row = svc.start_upload(work, shop["uploader"], shop["dataset"], shop["draft"], path="cli.txt", size=3)
        s3 = store
        assert isinstance(s3, storage.S3Storage)
        s3.client.put_object(Bucket=BUCKET, Key=row.storage_key, Body=b"cli")
        assert svc.complete_upload(work, row).status is UploadStatus.VERIFYING
        work.commit()
        assert row.id is not None
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:  # the worker does its job while the command waits
            sleeps.append(seconds)
            _queue(app).run(published[0])

        monkeypatch.setattr(upload_cli.time, "sleep", sleep)
        results = upload_cli._await_verification({"cli.txt": row.id})
    assert results == {"cli.txt": (True, hashlib.sha256(b"cli").hexdigest())}
    assert sleeps == [upload_cli.VERIFY_POLL_SECONDS]
    assert "verifying 1 file(s) on the server" in capsys.readouterr().err
