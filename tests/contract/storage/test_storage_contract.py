"""The storage contract: every backend (local over HTTP, S3 on moto, S3 on s3rver) must pass the same tests."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import requests

from storage import (
    MIN_PART_SIZE,
    InvalidExpiry,
    InvalidFilename,
    InvalidKey,
    InvalidRange,
    ObjectNotFound,
    UnsupportedOperation,
    UploadError,
    UploadSession,
    content_disposition,
)

if TYPE_CHECKING:
    from tests.contract.storage.conftest import Backend

PAYLOAD = bytes(range(256)) * 40 + b"tail"  # 10,244 bytes
BIG_SIZE = MIN_PART_SIZE + 1234  # two parts: a real 5 MiB part and a small last one


def _big_payload() -> bytes:
    block = hashlib.sha256(b"contract").digest() * 2048  # 64 KiB of varied bytes
    return (block * (BIG_SIZE // len(block) + 1))[:BIG_SIZE]


def _put(backend: Backend, name: str, data: bytes = PAYLOAD, content_type: str | None = None) -> str:
    key = backend.key(name)
    backend.storage.put(key, io.BytesIO(data), content_type=content_type)
    return key


# -- objects -------------------------------------------------------------------------------------------


def test_put_returns_size_and_sha256_and_reads_back(backend: Backend) -> None:
    key = backend.key("data/file.bin")
    info = backend.storage.put(key, io.BytesIO(PAYLOAD), content_type="application/octet-stream")
    assert info.key == key
    assert info.size == len(PAYLOAD)
    assert info.sha256 == hashlib.sha256(PAYLOAD).hexdigest()
    assert backend.storage.read_bytes(key) == PAYLOAD
    with backend.storage.open(key) as stream:
        chunks = iter(lambda: stream.read(1000), b"")
        assert b"".join(chunks) == PAYLOAD


def test_put_streams_an_object_bigger_than_a_part(backend: Backend) -> None:
    data = _big_payload()
    key = backend.key("big.bin")
    info = backend.storage.put(key, io.BytesIO(data), content_type="application/x-test")
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    stat = backend.storage.stat(key)
    assert stat.sha256 == info.sha256
    assert stat.content_type == "application/x-test"
    assert hashlib.sha256(backend.storage.read_bytes(key)).hexdigest() == info.sha256


def test_put_replaces_an_existing_object(backend: Backend) -> None:
    key = _put(backend, "replace.txt", b"old content")
    info = backend.storage.put(key, io.BytesIO(b"new"))
    assert backend.storage.read_bytes(key) == b"new"
    assert backend.storage.stat(key).sha256 == info.sha256 == hashlib.sha256(b"new").hexdigest()


def test_put_empty_object(backend: Backend) -> None:
    key = _put(backend, "empty", b"")
    assert backend.storage.stat(key).size == 0
    assert backend.storage.read_bytes(key) == b""


def test_stat(backend: Backend) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    key = _put(backend, "stat.csv", content_type="text/csv")
    info = backend.storage.stat(key)
    assert info.key == key
    assert info.size == len(PAYLOAD)
    assert info.etag and not info.etag.startswith('"')
    assert info.content_type == "text/csv"
    assert info.last_modified is not None and info.last_modified.tzinfo is not None
    assert info.last_modified.utcoffset() == timedelta(0)
    assert before <= info.last_modified <= datetime.now(UTC) + timedelta(seconds=5)
    assert info.sha256 == hashlib.sha256(PAYLOAD).hexdigest()


def test_exists(backend: Backend) -> None:
    key = _put(backend, "here.txt")
    assert backend.storage.exists(key)
    assert not backend.storage.exists(backend.key("not-here.txt"))
    assert not backend.storage.exists(backend.key("here"))  # a prefix of a key is not an object


def test_list_by_prefix_in_key_order(backend: Backend) -> None:
    for name in ("p/b0", "p/a.txt", "p/b/c.txt", "p-other/x", "q/y"):
        _put(backend, name, name.encode())
    listed = list(backend.storage.list(backend.key("p/")))
    assert [info.key for info in listed] == [backend.key(n) for n in ("p/a.txt", "p/b/c.txt", "p/b0")]
    assert [info.size for info in listed] == [len(b"p/a.txt"), len(b"p/b/c.txt"), len(b"p/b0")]
    assert all(info.last_modified and info.last_modified.tzinfo for info in listed)
    partial = [info.key for info in backend.storage.list(backend.key("p/b"))]
    assert partial == [backend.key("p/b/c.txt"), backend.key("p/b0")]
    everything = [info.key for info in backend.storage.list(backend.prefix)]
    assert len(everything) == 5
    assert list(backend.storage.list(backend.key("nothing/"))) == []


def test_delete_is_idempotent(backend: Backend) -> None:
    key = _put(backend, "dir/gone.txt")
    sibling = _put(backend, "dir/stays.txt")
    backend.storage.delete(key)
    assert not backend.storage.exists(key)
    assert backend.storage.exists(sibling)
    backend.storage.delete(key)
    with pytest.raises(ObjectNotFound):
        backend.storage.stat(key)


def test_ranged_read(backend: Backend) -> None:
    key = _put(backend, "range.bin")
    storage = backend.storage
    assert storage.read_bytes(key, start=10, end=20) == PAYLOAD[10:20]
    assert storage.read_bytes(key, start=len(PAYLOAD) - 4) == b"tail"
    assert storage.read_bytes(key, start=100, end=10**9) == PAYLOAD[100:]
    assert storage.read_bytes(key, start=0, end=1) == PAYLOAD[:1]
    assert storage.read_bytes(key, start=len(PAYLOAD)) == b""
    assert storage.read_bytes(key, start=5, end=5) == b""
    with pytest.raises(InvalidRange):
        storage.read_bytes(key, start=len(PAYLOAD) + 1)
    with pytest.raises(InvalidRange):
        storage.read_bytes(key, start=20, end=10)
    with pytest.raises(InvalidRange):
        storage.read_bytes(key, start=-1)


def test_missing_object(backend: Backend, http: requests.Session) -> None:
    key = backend.key("missing.txt")
    storage = backend.storage
    with pytest.raises(ObjectNotFound) as caught:
        storage.stat(key)
    assert caught.value.key == key
    with pytest.raises(ObjectNotFound):
        storage.open(key)
    with pytest.raises(ObjectNotFound):
        storage.read_bytes(key, start=1, end=2)
    with pytest.raises(ObjectNotFound):
        storage.ensure_sha256(key)
    response = http.get(storage.presign_download(key))
    # S3 answers 403 instead of 404 when the signer may not list the bucket.
    assert response.status_code in (403, 404)


@pytest.mark.parametrize(
    "bad_key", ["../escape", "/absolute", "a//b", "a\\b", "nul\x00byte", "tab\tkey", "trailing/", "", "a/./b"]
)
def test_invalid_keys_are_refused_everywhere(backend: Backend, bad_key: str) -> None:
    storage = backend.storage
    operations: list[Callable[[], object]] = [
        lambda: storage.put(bad_key, io.BytesIO(b"x")),
        lambda: storage.open(bad_key),
        lambda: storage.stat(bad_key),
        lambda: storage.exists(bad_key),
        lambda: storage.delete(bad_key),
        lambda: storage.presign_download(bad_key),
        lambda: storage.create_upload(bad_key, size=10),
    ]
    for operation in operations:
        with pytest.raises(InvalidKey):
            operation()


def test_ensure_sha256(backend: Backend) -> None:
    key = _put(backend, "hash.bin")
    assert backend.storage.ensure_sha256(key).sha256 == hashlib.sha256(PAYLOAD).hexdigest()


# -- presigned downloads ---------------------------------------------------------------------------------


def test_presigned_download_over_http(backend: Backend, http: requests.Session) -> None:
    key = _put(backend, "download/report.csv", content_type="text/csv")
    filename = 'Données "final".csv'
    url = backend.storage.presign_download(key, filename=filename, content_type="text/csv; charset=utf-8")
    response = http.get(url)
    assert response.status_code == 200
    assert response.content == PAYLOAD
    assert response.headers["Content-Disposition"] == content_disposition(filename)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"

    partial = http.get(url, headers={"Range": "bytes=100-199"})
    assert partial.status_code == 206
    assert partial.content == PAYLOAD[100:200]
    assert partial.headers["Content-Range"] == f"bytes 100-199/{len(PAYLOAD)}"


def test_presigned_download_without_filename_is_an_attachment(backend: Backend, http: requests.Session) -> None:
    key = _put(backend, "plain.bin")
    response = http.get(backend.storage.presign_download(key, expires_in=timedelta(minutes=1)))
    assert response.status_code == 200
    assert response.content == PAYLOAD
    assert response.headers["Content-Disposition"] == "attachment"


def test_presign_refuses_bad_expiry_and_filenames(backend: Backend) -> None:
    key = _put(backend, "expiry.bin")
    for expiry in (timedelta(0), timedelta(seconds=-1), timedelta(days=7, seconds=1)):
        with pytest.raises(InvalidExpiry):
            backend.storage.presign_download(key, expires_in=expiry)
    assert backend.storage.presign_download(key, expires_in=timedelta(days=7))
    for filename in ("../etc/passwd", "a/b.csv", "a\\b.csv", "", "..", "x\r\nSet-Cookie: a=b"):
        with pytest.raises(InvalidFilename):
            backend.storage.presign_download(key, filename=filename)


def test_expired_links_are_refused_by_the_server(
    backend: Backend, http: requests.Session, request: pytest.FixtureRequest
) -> None:
    backend.expect_limitation(request, "expiry", raises=AssertionError)
    key = _put(backend, "expiring.bin")
    download = backend.storage.presign_download(key, expires_in=timedelta(seconds=1))
    session = backend.storage.create_upload(backend.key("expiring-upload.bin"), size=3)
    upload = backend.storage.presign_upload(session, expires_in=timedelta(seconds=1))
    time.sleep(2.2)
    response = http.get(download)
    assert response.status_code == 403
    assert "Request has expired" in response.text
    response = http.put(upload, data=b"abc", headers=dict(session.headers))
    assert response.status_code == 403
    assert "Request has expired" in response.text
    assert not backend.storage.exists(session.key)


# -- presigned uploads -----------------------------------------------------------------------------------


def test_single_put_upload(backend: Backend, http: requests.Session) -> None:
    session = backend.storage.create_upload(
        backend.key("up/small.json"), size=len(PAYLOAD), content_type="application/json"
    )
    assert not session.multipart
    assert session.part_count == 1
    assert backend.storage.list_uploaded_parts(session) == []
    url = backend.storage.presign_upload(session)
    response = http.put(url, data=PAYLOAD, headers=dict(session.headers))
    assert response.status_code == 200, response.text
    info = backend.storage.complete_upload(session)
    assert info.size == len(PAYLOAD)
    assert info.sha256 == hashlib.sha256(PAYLOAD).hexdigest()
    assert backend.storage.stat(session.key).content_type == "application/json"
    assert backend.storage.read_bytes(session.key) == PAYLOAD


def test_single_put_complete_without_upload_fails(backend: Backend) -> None:
    session = backend.storage.create_upload(backend.key("up/never.bin"), size=10)
    with pytest.raises(UploadError):
        backend.storage.complete_upload(session)
    with pytest.raises(UploadError):
        backend.storage.presign_upload_part(session, 1)


def test_multipart_upload_via_presigned_parts(backend: Backend, http: requests.Session) -> None:
    data = _big_payload()
    storage = backend.storage
    session = storage.create_upload(
        backend.key("up/big.bin"), size=len(data), content_type="application/x-test", part_size=MIN_PART_SIZE
    )
    assert session.multipart and session.part_count == 2
    assert session.part_length(1) == MIN_PART_SIZE and session.part_length(2) == 1234
    with pytest.raises(UploadError):
        storage.presign_upload(session)
    assert not storage.exists(session.key)
    parts = []
    for number in range(1, session.part_count + 1):
        start, end = session.part_range(number)
        response = http.put(storage.presign_upload_part(session, number), data=data[start:end])
        assert response.status_code == 200, response.text
        assert response.headers["ETag"]
        parts.append((number, response.headers["ETag"]))
    assert not storage.exists(session.key)  # nothing visible before completion
    info = storage.complete_upload(session, parts)
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    stat = storage.stat(session.key)
    assert stat.content_type == "application/x-test"
    assert stat.sha256 == info.sha256
    assert hashlib.sha256(storage.read_bytes(session.key)).hexdigest() == info.sha256


def test_list_uploaded_parts_lets_a_browser_resume(
    backend: Backend, http: requests.Session, request: pytest.FixtureRequest
) -> None:
    backend.expect_limitation(request, "list_parts", raises=UnsupportedOperation)
    data = _big_payload()
    storage = backend.storage
    session = storage.create_upload(backend.key("up/resume.bin"), size=len(data), part_size=MIN_PART_SIZE)
    start, end = session.part_range(2)
    first_etag = http.put(storage.presign_upload_part(session, 2), data=data[start:end]).headers["ETag"]

    # The page reloads: the app restores the session and asks which parts are there.
    restored = UploadSession.from_dict(session.to_dict())
    held = storage.list_uploaded_parts(restored)
    assert [(p.part_number, p.size) for p in held] == [(2, 1234)]
    assert held[0].etag == first_etag.strip('"')
    for number in sorted(set(range(1, restored.part_count + 1)) - {p.part_number for p in held}):
        start, end = restored.part_range(number)
        assert http.put(storage.presign_upload_part(restored, number), data=data[start:end]).status_code == 200
    all_parts = storage.list_uploaded_parts(restored)
    assert [p.part_number for p in all_parts] == [1, 2]
    info = storage.complete_upload(restored, all_parts)
    assert info.sha256 == hashlib.sha256(data).hexdigest()


def test_complete_refuses_missing_or_wrong_parts(backend: Backend, http: requests.Session) -> None:
    data = _big_payload()
    storage = backend.storage
    session = storage.create_upload(backend.key("up/wrong.bin"), size=len(data), part_size=MIN_PART_SIZE)
    start, end = session.part_range(2)
    etag = http.put(storage.presign_upload_part(session, 2), data=data[start:end]).headers["ETag"]
    with pytest.raises(UploadError, match="parts missing: 1"):
        storage.complete_upload(session, [(2, etag)])
    with pytest.raises(UploadError, match="listed twice"):
        storage.complete_upload(session, [(2, etag), (2, etag)])
    with pytest.raises(UploadError, match="out of range"):
        storage.presign_upload_part(session, 3)
    with pytest.raises(UploadError):
        storage.presign_upload_part(session, 0)
    assert not storage.exists(session.key)


def test_complete_refuses_a_part_that_was_never_uploaded(
    backend: Backend, http: requests.Session, request: pytest.FixtureRequest
) -> None:
    backend.expect_limitation(request, "complete_missing_part", run=False)
    data = _big_payload()
    storage = backend.storage
    session = storage.create_upload(backend.key("up/hole.bin"), size=len(data), part_size=MIN_PART_SIZE)
    start, end = session.part_range(2)
    etag = http.put(storage.presign_upload_part(session, 2), data=data[start:end]).headers["ETag"]
    with pytest.raises(UploadError):
        storage.complete_upload(session, [(1, etag), (2, etag)])
    assert not storage.exists(session.key)


def test_abort_upload(backend: Backend, http: requests.Session, request: pytest.FixtureRequest) -> None:
    backend.expect_limitation(request, "abort", raises=UnsupportedOperation)
    storage = backend.storage
    session = storage.create_upload(backend.key("up/aborted.bin"), size=MIN_PART_SIZE + 1, part_size=MIN_PART_SIZE)
    assert http.put(storage.presign_upload_part(session, 2), data=b"z").status_code == 200
    storage.abort_upload(session)
    with pytest.raises(UploadError):
        storage.list_uploaded_parts(session)
    storage.abort_upload(session)  # idempotent
    assert not storage.exists(session.key)


def test_complete_after_abort_fails(backend: Backend, http: requests.Session, request: pytest.FixtureRequest) -> None:
    backend.expect_limitation(request, "abort", raises=UnsupportedOperation)
    backend.expect_limitation(request, "complete_after_abort", run=False)
    storage = backend.storage
    session = storage.create_upload(backend.key("up/late.bin"), size=MIN_PART_SIZE + 1, part_size=MIN_PART_SIZE)
    etag = http.put(storage.presign_upload_part(session, 2), data=b"z").headers["ETag"]
    storage.abort_upload(session)
    with pytest.raises(UploadError):
        storage.complete_upload(session, [(1, etag), (2, etag)])
    assert not storage.exists(session.key)
