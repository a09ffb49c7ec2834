"""The S3 backend (AWS S3 or any S3-compatible server: MinIO, Ceph, Garage, s3rver ...), through boto3.

Presigning happens locally (no network). Browsers upload with presigned PUTs (single) or presigned
``UploadPart`` URLs (multipart); the bucket's CORS rules must allow PUT from the site and expose the
``ETag`` header, and a lifecycle rule should abort incomplete multipart uploads after a few days.

S3's own checksums of a multipart object are not the file's SHA-256, so this backend computes SHA-256 itself
and records it in the object's user metadata ``sha256`` (``x-amz-meta-sha256``). Every botocore error is
translated to a :mod:`storage.errors` exception.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, Final, cast
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storage.base import (
    DEFAULT_EXPIRY,
    DEFAULT_PART_SIZE,
    GiB,
    MiB,
    ObjectInfo,
    PartSpec,
    Storage,
    UploadedPart,
    UploadSession,
    check_byte_range,
    choose_part_size,
    normalise_etag,
    normalise_parts,
)
from storage.errors import (
    InvalidRange,
    ObjectNotFound,
    StorageConfigError,
    StorageError,
    StorageUnavailable,
    UnsupportedOperation,
    UploadError,
)
from storage.keys import (
    content_disposition,
    expiry_seconds,
    validate_content_type,
    validate_filename,
    validate_key,
    validate_prefix,
)

__all__ = ["S3Storage"]

_SSE_MODES: Final = (None, "AES256", "aws:kms")
_NOT_FOUND: Final = frozenset({"NoSuchKey", "404", "NotFound"})
_UPLOAD_ERRORS: Final = frozenset(
    {"NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "EntityTooLarge"}
)
_UNSUPPORTED: Final = frozenset({"NotImplemented", "MethodNotAllowed"})
_UNAVAILABLE: Final = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"})
_SHA256_HEX: Final = frozenset("0123456789abcdef")
_CONTENT_RANGE: Final = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def _is_aws(endpoint_url: str | None) -> bool:
    if endpoint_url is None:
        return True
    host = urlsplit(endpoint_url).hostname or ""
    return host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn")


def _aware(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sha256_from(metadata: object) -> str | None:
    if not isinstance(metadata, Mapping):
        return None
    value = metadata.get("sha256")
    if isinstance(value, str) and len(value) == 64 and set(value) <= _SHA256_HEX:
        return value
    return None


class _BodyReader(io.RawIOBase):
    """A raw stream over a botocore ``StreamingBody`` that turns botocore errors into storage errors."""

    def __init__(self, body: Any, key: str) -> None:
        super().__init__()
        self._body = body
        self._key = key
        self._skip = 0
        self._remaining: int | None = None

    def limit(self, *, skip: int, length: int) -> None:
        """Drop the first ``skip`` bytes of the body and stop after ``length`` more."""
        self._skip, self._remaining = skip, length

    def readable(self) -> bool:
        return True

    def _read(self, size: int) -> bytes:
        try:
            return cast(bytes, self._body.read(size))
        except (BotoCoreError, OSError) as exc:
            raise StorageUnavailable(f"Reading {self._key!r} from S3 failed: {exc}") from exc

    def readinto(self, buffer: Any) -> int:
        while self._skip > 0:
            dropped = self._read(min(self._skip, MiB))
            if not dropped:
                return 0
            self._skip -= len(dropped)
        view = memoryview(buffer).cast("B")
        want = len(view) if self._remaining is None else min(len(view), self._remaining)
        if want == 0:
            return 0
        data = self._read(want)
        view[: len(data)] = data
        if self._remaining is not None:
            self._remaining -= len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _read_full(stream: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, or fewer only at end of stream (``read`` may return short chunks)."""
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class S3Storage(Storage):
    """Objects in one S3 bucket.

    Pass ``client`` to reuse a configured boto3 S3 client; otherwise one is built from ``region``,
    ``endpoint_url`` and the optional static credentials (else boto3's usual credential chain). For a
    non-AWS ``endpoint_url`` the client uses path-style addressing and computes checksums only when
    required, which S3-compatible servers need. ``server_side_encryption`` (``"AES256"`` or ``"aws:kms"``,
    with an optional ``kms_key_id``) is requested on every write.
    """

    #: Objects up to this size have their metadata rewritten by a single CopyObject, bigger ones by a
    #: multipart copy of ``_copy_part_size`` parts (S3 limits CopyObject to 5 GiB).
    _copy_object_limit: int = 5 * GiB
    _copy_part_size: int = 1 * GiB

    def __init__(
        self,
        bucket: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        server_side_encryption: str | None = None,
        kms_key_id: str | None = None,
        client: Any = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if not isinstance(bucket, str) or not bucket.strip():
            raise StorageConfigError("S3Storage needs a bucket name.")
        if server_side_encryption not in _SSE_MODES:
            raise StorageConfigError(
                f"server_side_encryption must be None, 'AES256' or 'aws:kms', got {server_side_encryption!r}."
            )
        if kms_key_id and server_side_encryption != "aws:kms":
            raise StorageConfigError("kms_key_id only applies with server_side_encryption='aws:kms'.")
        if (access_key is None) != (secret_key is None):
            raise StorageConfigError("Give both the S3 access key and the secret key, or neither.")
        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint_url
        self._default_part_size = part_size
        self._sse: dict[str, str] = {}
        if server_side_encryption:
            self._sse["ServerSideEncryption"] = server_side_encryption
        if kms_key_id:
            self._sse["SSEKMSKeyId"] = kms_key_id
        if client is None:
            options: dict[str, Any] = {
                "signature_version": "s3v4",
                "retries": {"mode": "standard", "max_attempts": 5},
            }
            if not _is_aws(endpoint_url):
                options.update(
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    s3={"addressing_style": "path"},
                )
            else:
                # Explicit virtual-hosted style makes presigned URLs use the bucket's regional endpoint
                # (boto's default presigns against the global one); dotted names break TLS wildcards.
                options["s3"] = {"addressing_style": "path" if "." in bucket else "virtual"}
            try:
                client = boto3.session.Session().client(
                    "s3",
                    region_name=region,
                    endpoint_url=endpoint_url,
                    aws_access_key_id=access_key,
                    aws_secret_access_key=secret_key,
                    config=Config(**options),
                )
            except (BotoCoreError, ValueError) as exc:
                raise StorageConfigError(f"Cannot configure the S3 client: {exc}") from exc
        self.client = client

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    # -- error translation -----------------------------------------------------------------------------

    @contextmanager
    def _errors(self, key: str | None = None, *, upload: bool = False) -> Iterator[None]:
        """Translate botocore exceptions raised inside the block into storage errors."""
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            message = str(error.get("Message", "")) or code
            if code in _NOT_FOUND and key is not None and not upload:
                raise ObjectNotFound(key) from exc
            if code in _NOT_FOUND or code in _UPLOAD_ERRORS:
                raise UploadError(f"S3 refused the upload of {key!r}: {code}: {message}") from exc
            if code == "InvalidRange":
                raise InvalidRange(f"Range not satisfiable for {key!r}.") from exc
            if code in _UNSUPPORTED:
                raise UnsupportedOperation(f"This S3 server does not support the operation ({code}).") from exc
            if code in _UNAVAILABLE:
                raise StorageUnavailable(f"S3 is unavailable ({code}): {message}") from exc
            if code == "NoSuchBucket":
                raise StorageConfigError(f"S3 bucket {self.bucket!r} does not exist.") from exc
            raise StorageError(f"S3 error on {key!r}: {code}: {message}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"S3 request failed: {exc}") from exc

    # -- objects -----------------------------------------------------------------------------------------

    def put(self, key: str, stream: BinaryIO, *, content_type: str | None = None) -> ObjectInfo:
        """Upload ``stream``: one PutObject when it fits in a part, else a multipart upload, part by part.

        At most one part is held in memory. The SHA-256 is computed while reading; after a multipart upload
        it is recorded by rewriting the object's metadata server-side (no data passes through here).
        """
        validate_key(key)
        content_type = validate_content_type(content_type)
        part_size = self._default_part_size
        digest = hashlib.sha256()
        first = _read_full(stream, part_size)
        digest.update(first)
        following = _read_full(stream, part_size) if len(first) == part_size else b""
        extra: dict[str, Any] = {**self._sse}
        if content_type:
            extra["ContentType"] = content_type
        if not following:
            sha256 = digest.hexdigest()
            with self._errors(key):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=first, Metadata={"sha256": sha256}, **extra)
            return replace(self.stat(key), sha256=sha256)
        with self._errors(key, upload=True):
            upload_id = cast(str, self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **extra)["UploadId"])
        try:
            parts = []
            number, chunk = 1, first
            while chunk:
                with self._errors(key, upload=True):
                    response = self.client.upload_part(
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                    )
                parts.append({"PartNumber": number, "ETag": response["ETag"]})
                if following:
                    chunk, following = following, b""
                else:
                    chunk = _read_full(stream, part_size)
                digest.update(chunk)
                number += 1
            with self._errors(key, upload=True):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            self._abort_quietly(key, upload_id)
            raise
        return self._record_sha256(self.stat(key), digest.hexdigest())

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        try:
            with self._errors(key, upload=True):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except StorageError:
            pass  # the original error matters more; a lifecycle rule cleans up what is left

    def _record_sha256(self, info: ObjectInfo, sha256: str) -> ObjectInfo:
        """Store ``sha256`` in the object's metadata by copying it onto itself; return the new info."""
        metadata = {"sha256": sha256}
        extra: dict[str, Any] = {**self._sse, "Metadata": metadata}
        if info.content_type:
            extra["ContentType"] = info.content_type
        source = {"Bucket": self.bucket, "Key": info.key}
        if info.size <= self._copy_object_limit:
            with self._errors(info.key):
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=info.key,
                    CopySource=source,
                    CopySourceIfMatch=f'"{info.etag}"',
                    MetadataDirective="REPLACE",
                    **extra,
                )
            return replace(self.stat(info.key), sha256=sha256)
        with self._errors(info.key, upload=True):
            upload_id = cast(
                str, self.client.create_multipart_upload(Bucket=self.bucket, Key=info.key, **extra)["UploadId"]
            )
        try:
            parts = []
            for number, start in enumerate(range(0, info.size, self._copy_part_size), start=1):
                end = min(info.size, start + self._copy_part_size) - 1
                with self._errors(info.key, upload=True):
                    response = self.client.upload_part_copy(
                        Bucket=self.bucket,
                        Key=info.key,
                        UploadId=upload_id,
                        PartNumber=number,
                        CopySource=source,
                        CopySourceRange=f"bytes={start}-{end}",
                        CopySourceIfMatch=f'"{info.etag}"',
                    )
                parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})
            with self._errors(info.key, upload=True):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=info.key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            self._abort_quietly(info.key, upload_id)
            raise
        return replace(self.stat(info.key), sha256=sha256)

    def stat(self, key: str) -> ObjectInfo:
        """HeadObject; ``sha256`` comes from the ``sha256`` user metadata when present."""
        validate_key(key)
        with self._errors(key):
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        return ObjectInfo(
            key=key,
            size=int(head["ContentLength"]),
            etag=normalise_etag(str(head.get("ETag", ""))) or None,
            content_type=head.get("ContentType"),
            last_modified=_aware(head.get("LastModified")),
            sha256=_sha256_from(head.get("Metadata")),
        )

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        """GetObject, streamed; a range first reads the size so it can be clamped like the other backends."""
        validate_key(key)
        check_byte_range(start, end)
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start != 0 or end is not None:
            info = self.stat(key)
            if start > info.size:
                raise InvalidRange(f"Range start {start} is beyond the end of {key!r} ({info.size} bytes).")
            stop = info.size if end is None else min(end, info.size)
            if stop == start:
                return io.BytesIO(b"")
            request["Range"] = f"bytes={start}-{stop - 1}"
            if info.etag:
                request["IfMatch"] = f'"{info.etag}"'
        with self._errors(key):
            response = self.client.get_object(**request)
        reader = _BodyReader(response["Body"], key)
        if "Range" in request:
            # A server may ignore Range (RFC 9110) or widen it (s3rver answers "bytes=0-0" with everything):
            # cut the requested bytes out of whatever came back.
            served = _CONTENT_RANGE.fullmatch(str(response.get("ContentRange", "")))
            offset = int(served.group(1)) if served else 0
            if offset > start:
                reader.close()
                raise StorageError(f"S3 returned bytes from {offset} for a range starting at {start}.")
            reader.limit(skip=start - offset, length=stop - start)
        return io.BufferedReader(reader, buffer_size=256 * 1024)

    def delete(self, key: str) -> None:
        """DeleteObject (S3 treats a missing key as success)."""
        validate_key(key)
        with self._errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """ListObjectsV2, page by page; listed infos carry no content type or SHA-256."""
        validate_prefix(prefix)
        with self._errors(prefix):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    yield ObjectInfo(
                        key=str(item["Key"]),
                        size=int(item["Size"]),
                        etag=normalise_etag(str(item.get("ETag", ""))) or None,
                        last_modified=_aware(item.get("LastModified")),
                    )

    def ensure_sha256(self, key: str) -> ObjectInfo:
        """Return the recorded SHA-256, else compute it by reading the object once and record it."""
        info = self.stat(key)
        if info.sha256 is not None:
            return info
        digest = hashlib.sha256()
        with self.open(key) as stream:
            while chunk := stream.read(MiB):
                digest.update(chunk)
        return self._record_sha256(info, digest.hexdigest())

    # -- links -------------------------------------------------------------------------------------------

    def _presign(self, operation: str, params: Mapping[str, Any], expires_in: timedelta, key: str) -> str:
        seconds = expiry_seconds(expires_in)
        with self._errors(key):
            url = self.client.generate_presigned_url(
                operation, Params={"Bucket": self.bucket, **params}, ExpiresIn=seconds
            )
        return cast(str, url)

    def presign_download(
        self,
        key: str,
        *,
        expires_in: timedelta = DEFAULT_EXPIRY,
        filename: str | None = None,
        content_type: str | None = None,
        reference: str | None = None,
    ) -> str:
        """Presigned GetObject with ``response-content-disposition`` (attachment) and ``-content-type``.

        ``reference`` is ignored: S3 checks the signature itself and a presigned URL cannot be recalled, so it
        works until ``expires_in`` has passed.
        """
        del reference  # nothing to check it against: S3 never asks us
        validate_key(key)
        disposition = content_disposition(None if filename is None else validate_filename(filename))
        params: dict[str, Any] = {"Key": key, "ResponseContentDisposition": disposition}
        content_type = validate_content_type(content_type)
        if content_type:
            params["ResponseContentType"] = content_type
        return self._presign("get_object", params, expires_in, key)

    # -- uploads -----------------------------------------------------------------------------------------

    def _write_headers(self, content_type: str | None) -> tuple[tuple[str, str], ...]:
        headers = []
        if content_type:
            headers.append(("Content-Type", content_type))
        if "ServerSideEncryption" in self._sse:
            headers.append(("x-amz-server-side-encryption", self._sse["ServerSideEncryption"]))
        if "SSEKMSKeyId" in self._sse:
            headers.append(("x-amz-server-side-encryption-aws-kms-key-id", self._sse["SSEKMSKeyId"]))
        return tuple(headers)

    def create_upload(
        self, key: str, *, size: int, content_type: str | None = None, part_size: int | None = None
    ) -> UploadSession:
        """Plan a single presigned PUT, or CreateMultipartUpload for files bigger than one part."""
        validate_key(key)
        content_type = validate_content_type(content_type)
        chosen = choose_part_size(size, part_size, default=self._default_part_size)
        if size <= chosen:
            return UploadSession(
                key=key,
                size=size,
                part_size=chosen,
                content_type=content_type,
                headers=self._write_headers(content_type),
            )
        extra: dict[str, Any] = {**self._sse}
        if content_type:
            extra["ContentType"] = content_type
        with self._errors(key, upload=True):
            response = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **extra)
        return UploadSession(
            key=key,
            size=size,
            part_size=chosen,
            content_type=content_type,
            upload_id=str(response["UploadId"]),
        )

    def presign_upload(self, session: UploadSession, *, expires_in: timedelta = DEFAULT_EXPIRY) -> str:
        """Presigned PutObject binding Content-Length (AWS refuses another size) and the session's headers."""
        if session.multipart:
            raise UploadError("This is a multipart upload: presign each part with presign_upload_part().")
        validate_key(session.key)
        params: dict[str, Any] = {"Key": session.key, "ContentLength": session.size, **self._sse}
        if session.content_type:
            params["ContentType"] = session.content_type
        return self._presign("put_object", params, expires_in, session.key)

    def presign_upload_part(
        self, session: UploadSession, part_number: int, *, expires_in: timedelta = DEFAULT_EXPIRY
    ) -> str:
        """Presigned UploadPart binding the part's exact Content-Length."""
        if not session.multipart:
            raise UploadError("This is a single-PUT upload: use presign_upload().")
        validate_key(session.key)
        params = {
            "Key": session.key,
            "UploadId": session.upload_id,
            "PartNumber": part_number,
            "ContentLength": session.part_length(part_number),
        }
        return self._presign("upload_part", params, expires_in, session.key)

    def list_uploaded_parts(self, session: UploadSession) -> builtins.list[UploadedPart]:
        """ListParts, all pages (empty for single-PUT sessions)."""
        if not session.multipart:
            return []
        validate_key(session.key)
        parts = []
        marker = 0
        while True:
            with self._errors(session.key, upload=True):
                page = self.client.list_parts(
                    Bucket=self.bucket, Key=session.key, UploadId=session.upload_id, PartNumberMarker=marker
                )
            for item in page.get("Parts", ()):
                parts.append(
                    UploadedPart(
                        part_number=int(item["PartNumber"]),
                        etag=normalise_etag(str(item["ETag"])),
                        size=int(item["Size"]),
                    )
                )
            if not page.get("IsTruncated"):
                return parts
            marker = int(page["NextPartNumberMarker"])

    def complete_upload(
        self,
        session: UploadSession,
        parts: Sequence[PartSpec | UploadedPart] = (),
        *,
        compute_sha256: bool = True,
    ) -> ObjectInfo:
        """CompleteMultipartUpload (or check a single PUT), verify the size, then record the SHA-256."""
        validate_key(session.key)
        if session.multipart:
            wanted = normalise_parts(session, parts)
            payload = {"Parts": [{"PartNumber": number, "ETag": f'"{etag}"'} for number, etag in wanted]}
            with self._errors(session.key, upload=True):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=session.key, UploadId=session.upload_id, MultipartUpload=payload
                )
        elif parts:
            raise UploadError("A single-PUT upload has no parts to complete.")
        try:
            info = self.stat(session.key)
        except ObjectNotFound:
            raise UploadError(f"Nothing was uploaded to {session.key!r}.") from None
        if info.size != session.size:
            self.delete(session.key)
            raise UploadError(f"Uploaded {info.size} bytes to {session.key!r}, expected {session.size}.")
        if compute_sha256:
            return self.ensure_sha256(session.key)
        return info

    def abort_upload(self, session: UploadSession) -> None:
        """AbortMultipartUpload; an upload that is already gone is not an error."""
        if not session.multipart:
            return
        validate_key(session.key)
        try:
            with self._errors(session.key, upload=True):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=session.key, UploadId=session.upload_id)
        except UploadError:
            return
