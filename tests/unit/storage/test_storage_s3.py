"""S3Storage specifics: client configuration, encryption, error translation, metadata rewriting, ranges."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws

from storage import (
    MIN_PART_SIZE,
    InvalidRange,
    ObjectNotFound,
    S3Storage,
    StorageConfigError,
    StorageError,
    StorageUnavailable,
    UnsupportedOperation,
    UploadError,
    UploadSession,
    content_disposition,
)

BUCKET = "unit-bucket"


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(signature_version="s3v4"),
        )
        s3.create_bucket(Bucket=BUCKET)
        yield s3


@pytest.fixture
def storage(client: Any) -> S3Storage:
    return S3Storage(BUCKET, region="us-east-1", client=client, part_size=MIN_PART_SIZE)


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# -- configuration ---------------------------------------------------------------------------------------


def test_non_aws_endpoint_gets_path_style_and_checksums_only_when_required() -> None:
    storage = S3Storage("b1", endpoint_url="http://127.0.0.1:9000", access_key="k", secret_key="s", region="us-east-1")
    config = storage.client.meta.config
    assert config.s3 == {"addressing_style": "path"}
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"
    assert config.signature_version == "s3v4"
    url = storage.presign_download("a/b.txt")
    assert url.startswith("http://127.0.0.1:9000/b1/a/b.txt?")


def test_aws_presigns_against_the_regional_endpoint_with_default_checksums() -> None:
    storage = S3Storage("my-datasets", region="eu-central-1", access_key="k", secret_key="s")
    assert storage.client.meta.config.request_checksum_calculation == "when_supported"
    url = storage.presign_download("x")
    assert url.startswith("https://my-datasets.s3.eu-central-1.amazonaws.com/x?")
    assert "eu-central-1%2Fs3%2Faws4_request" in url
    dotted = S3Storage("my.datasets", region="eu-central-1", access_key="k", secret_key="s")
    assert dotted.presign_download("x").startswith("https://s3.eu-central-1.amazonaws.com/my.datasets/x?")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bucket": ""},
        {"bucket": "b", "server_side_encryption": "rot13"},
        {"bucket": "b", "kms_key_id": "key-without-kms"},
        {"bucket": "b", "server_side_encryption": "AES256", "kms_key_id": "k"},
        {"bucket": "b", "access_key": "only-the-key"},
        {"bucket": "b", "secret_key": "only-the-secret"},
    ],
)
def test_constructor_refuses_inconsistent_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(StorageConfigError):
        S3Storage(**kwargs)


# -- encryption -------------------------------------------------------------------------------------------


def test_server_side_encryption_is_requested_on_every_write(client: Any) -> None:
    storage = S3Storage(BUCKET, client=client, server_side_encryption="AES256", part_size=MIN_PART_SIZE)
    storage.put("small", io.BytesIO(b"x"))
    assert client.head_object(Bucket=BUCKET, Key="small")["ServerSideEncryption"] == "AES256"
    storage.put("big", io.BytesIO(b"y" * (MIN_PART_SIZE + 10)))
    assert client.head_object(Bucket=BUCKET, Key="big")["ServerSideEncryption"] == "AES256"
    single = storage.create_upload("single", size=5, content_type="text/plain")
    assert dict(single.headers) == {"Content-Type": "text/plain", "x-amz-server-side-encryption": "AES256"}
    signed = _query(storage.presign_upload(single))["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-length", "content-type", "host", "x-amz-server-side-encryption"} <= set(signed)
    multipart = storage.create_upload("multi", size=MIN_PART_SIZE + 1)
    assert multipart.headers == ()


def test_kms_headers_are_part_of_single_put_sessions(client: Any) -> None:
    storage = S3Storage(BUCKET, client=client, server_side_encryption="aws:kms", kms_key_id="alias/datasets")
    session = storage.create_upload("k", size=1)
    assert dict(session.headers) == {
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": "alias/datasets",
    }


# -- links ------------------------------------------------------------------------------------------------


def test_presigned_download_parameters(storage: S3Storage) -> None:
    query = _query(storage.presign_download("a/b.csv", filename="Données.csv", content_type="text/csv"))
    assert query["response-content-disposition"] == [content_disposition("Données.csv")]
    assert query["response-content-type"] == ["text/csv"]
    assert query["X-Amz-Expires"] == ["900"]
    assert _query(storage.presign_download("a", filename=None))["response-content-disposition"] == ["attachment"]


def test_presigned_part_binds_its_length(storage: S3Storage) -> None:
    session = storage.create_upload("p", size=MIN_PART_SIZE + 7)
    query = _query(storage.presign_upload_part(session, 2))
    assert query["partNumber"] == ["2"]
    assert query["uploadId"] == [session.upload_id]
    assert "content-length" in query["X-Amz-SignedHeaders"][0]


# -- sha256 metadata ------------------------------------------------------------------------------------------


def test_multipart_put_records_sha256_with_a_multipart_copy_beyond_the_copy_limit(
    storage: S3Storage, client: Any
) -> None:
    storage._copy_object_limit = 1  # force the >5 GiB path on a small object
    storage._copy_part_size = MIN_PART_SIZE
    data = bytes(range(256)) * (2 * MIN_PART_SIZE // 256) + b"end"
    info = storage.put("huge.bin", io.BytesIO(data), content_type="application/x-test")
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    head = client.head_object(Bucket=BUCKET, Key="huge.bin")
    assert head["Metadata"] == {"sha256": info.sha256}
    assert head["ContentType"] == "application/x-test"
    assert hashlib.sha256(storage.read_bytes("huge.bin")).hexdigest() == info.sha256
    assert client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_objects_written_elsewhere_get_sha256_on_demand(storage: S3Storage, client: Any) -> None:
    client.put_object(Bucket=BUCKET, Key="foreign", Body=b"from another tool", ContentType="text/plain")
    assert storage.stat("foreign").sha256 is None
    info = storage.ensure_sha256("foreign")
    assert info.sha256 == hashlib.sha256(b"from another tool").hexdigest()
    assert storage.stat("foreign").sha256 == info.sha256
    assert storage.stat("foreign").content_type == "text/plain"


def test_sha256_metadata_that_is_not_a_digest_is_ignored(storage: S3Storage, client: Any) -> None:
    client.put_object(Bucket=BUCKET, Key="odd", Body=b"x", Metadata={"sha256": "not-a-digest"})
    assert storage.stat("odd").sha256 is None


def test_complete_without_sha256_then_later(storage: S3Storage) -> None:
    session = storage.create_upload("later.bin", size=3)
    assert requests.put(storage.presign_upload(session), data=b"abc").status_code == 200
    info = storage.complete_upload(session, compute_sha256=False)
    assert info.sha256 is None
    assert storage.ensure_sha256("later.bin").sha256 == hashlib.sha256(b"abc").hexdigest()


def test_single_put_of_the_wrong_size_is_removed(storage: S3Storage) -> None:
    session = storage.create_upload("wrong.bin", size=10)
    # moto does not enforce the signed Content-Length; real S3 would refuse this PUT outright.
    assert requests.put(storage.presign_upload(session), data=b"short").status_code == 200
    with pytest.raises(UploadError, match="expected 10"):
        storage.complete_upload(session)
    assert not storage.exists("wrong.bin")


class _BrokenStream(io.RawIOBase):
    def __init__(self, good: int) -> None:
        super().__init__()
        self._good = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._good <= 0:
            raise ConnectionResetError("client went away")
        n = min(len(buffer), self._good)
        buffer[:n] = b"\0" * n
        self._good -= n
        return n


def test_failed_multipart_put_aborts_its_upload(storage: S3Storage, client: Any) -> None:
    with pytest.raises(ConnectionResetError):
        storage.put("broken.bin", io.BufferedReader(_BrokenStream(3 * MIN_PART_SIZE)))
    assert client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert not storage.exists("broken.bin")


# -- error translation --------------------------------------------------------------------------------------


class _FailingClient:
    """A stand-in S3 client whose every call raises the given exception."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail


def _client_error(code: str, operation: str = "HeadObject") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, operation)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("NoSuchKey", ObjectNotFound),
        ("404", ObjectNotFound),
        ("NotFound", ObjectNotFound),
        ("InvalidRange", InvalidRange),
        ("NotImplemented", UnsupportedOperation),
        ("MethodNotAllowed", UnsupportedOperation),
        ("SlowDown", StorageUnavailable),
        ("ServiceUnavailable", StorageUnavailable),
        ("NoSuchBucket", StorageConfigError),
        ("AccessDenied", StorageError),
        ("SomethingNew", StorageError),
    ],
)
def test_client_errors_become_storage_errors(code: str, expected: type[Exception]) -> None:
    storage = S3Storage(BUCKET, client=_FailingClient(_client_error(code)))
    with pytest.raises(expected) as caught:
        storage.stat("k")
    assert not isinstance(caught.value, ClientError)
    assert isinstance(caught.value, StorageError)


@pytest.mark.parametrize("code", ["NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "404"])
def test_upload_errors(code: str) -> None:
    storage = S3Storage(BUCKET, client=_FailingClient(_client_error(code, "CompleteMultipartUpload")))
    session = UploadSession(key="k", size=MIN_PART_SIZE + 1, part_size=MIN_PART_SIZE, upload_id="u")
    with pytest.raises(UploadError):
        storage.complete_upload(session, [(1, "a"), (2, "b")])
    with pytest.raises(UploadError):
        storage.list_uploaded_parts(session)


def test_abort_of_a_vanished_upload_is_quiet() -> None:
    storage = S3Storage(BUCKET, client=_FailingClient(_client_error("NoSuchUpload")))
    storage.abort_upload(UploadSession(key="k", size=MIN_PART_SIZE + 1, part_size=MIN_PART_SIZE, upload_id="u"))


def test_network_errors_become_storage_unavailable() -> None:
    storage = S3Storage(BUCKET, client=_FailingClient(EndpointConnectionError(endpoint_url="http://x")))
    for operation in (lambda: storage.stat("k"), lambda: list(storage.list("p/")), lambda: storage.delete("k")):
        with pytest.raises(StorageUnavailable):
            operation()


class _Body:
    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        self._stream = io.BytesIO(data)
        self._fail_after = fail_after
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        if self._fail_after is None:
            return self._stream.read(size)
        if self._stream.tell() >= self._fail_after:
            raise ReadTimeoutError(endpoint_url="http://x")
        return self._stream.read(min(size, self._fail_after - self._stream.tell()))

    def close(self) -> None:
        self.closed = True


class _RangeIgnoringClient:
    """Answers ranged GETs with the whole object, as RFC 9110 allows (and s3rver does for bytes=0-0)."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        self.data = data
        self.fail_after = fail_after
        self.requests: list[dict[str, Any]] = []

    def head_object(self, **kwargs: Any) -> dict[str, Any]:
        return {"ContentLength": len(self.data), "ETag": '"e"', "Metadata": {}}

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        return {"Body": _Body(self.data, self.fail_after), "ContentLength": len(self.data)}


def test_ranges_are_cut_locally_when_the_server_ignores_them() -> None:
    fake = _RangeIgnoringClient(b"0123456789")
    storage = S3Storage(BUCKET, client=fake)
    assert storage.read_bytes("k", start=0, end=1) == b"0"
    assert storage.read_bytes("k", start=3, end=6) == b"345"
    assert storage.read_bytes("k", start=8) == b"89"
    assert fake.requests[1]["Range"] == "bytes=3-5"
    assert fake.requests[1]["IfMatch"] == '"e"'


def test_read_errors_midway_become_storage_unavailable() -> None:
    storage = S3Storage(BUCKET, client=_RangeIgnoringClient(b"x" * 100, fail_after=10))
    with storage.open("k") as stream:
        assert stream.read(10) == b"x" * 10
        with pytest.raises(StorageUnavailable):
            stream.read(10)


def test_missing_bucket_is_a_configuration_error(client: Any) -> None:
    storage = S3Storage("no-such-bucket", client=client)
    with pytest.raises(StorageConfigError, match="no-such-bucket"):
        storage.open("k")
