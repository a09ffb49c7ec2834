"""RegionalStorage routing and building storage from plain settings."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from storage import (
    STORAGE_SETTINGS,
    LocalStorage,
    RegionalStorage,
    S3Storage,
    StorageConfigError,
    UnknownRegion,
    storage_from_settings,
)
from storage.factory import parse_region_buckets

SECRET = b"regional-secret-0123456789abcdef"


@pytest.fixture
def regional(tmp_path: Path) -> RegionalStorage:
    eu = LocalStorage(tmp_path / "eu", "/s/eu", SECRET)
    us = LocalStorage(tmp_path / "us", "/s/us", SECRET)
    return RegionalStorage({"eu": eu, "us": us}, default="eu")


def test_routes_by_region_and_defaults(regional: RegionalStorage, tmp_path: Path) -> None:
    regional.for_region("us").put("k", io.BytesIO(b"us data"))
    regional.put("k", io.BytesIO(b"eu data"))
    assert regional.for_region("us").read_bytes("k") == b"us data"
    assert regional.for_region("eu").read_bytes("k") == b"eu data"
    assert regional.for_region(None).read_bytes("k") == b"eu data"
    assert regional.read_bytes("k") == b"eu data"
    assert (tmp_path / "us" / "objects" / "k").read_bytes() == b"us data"
    assert regional.regions == ("eu", "us")
    assert regional.default_region == "eu"


def test_unknown_region_is_a_clear_error_without_fallback(regional: RegionalStorage) -> None:
    with pytest.raises(UnknownRegion) as caught:
        regional.for_region("ap")
    assert str(caught.value) == "Unknown storage region 'ap'; configured regions: eu, us."
    with pytest.raises(UnknownRegion):
        regional.for_region("")


def test_regional_storage_delegates_the_whole_interface(regional: RegionalStorage) -> None:
    session = regional.create_upload("up.bin", size=3, content_type="text/plain")
    assert regional.presign_upload(session).startswith("/s/eu/o/up.bin?")
    assert regional.list_uploaded_parts(session) == []
    regional.put("x/y", io.BytesIO(b"abc"))
    assert [i.key for i in regional.list("x/")] == ["x/y"]
    assert regional.exists("x/y") and regional.stat("x/y").size == 3
    assert regional.ensure_sha256("x/y").sha256
    assert regional.presign_download("x/y").startswith("/s/eu/o/x/y?")
    regional.delete("x/y")
    assert not regional.exists("x/y")


@pytest.mark.parametrize(
    ("backends", "default"),
    [({}, "eu"), ({"EU": None}, "EU"), ({"eu west": None}, "eu west"), ({"eu": None}, "us")],
)
def test_invalid_region_configuration(backends: dict[str, None], default: str, tmp_path: Path) -> None:
    local = LocalStorage(tmp_path, "/s", SECRET)
    with pytest.raises(StorageConfigError):
        RegionalStorage(dict.fromkeys(backends, local), default=default)


# -- settings -------------------------------------------------------------------------------------------------


def test_every_setting_is_declared_with_a_default_and_a_reason() -> None:
    for name, (_default, why) in STORAGE_SETTINGS.items():
        assert name.isupper() and why.endswith(".")
    assert STORAGE_SETTINGS["STORAGE_BACKEND"][0] == "local"


def test_local_backend_by_default(tmp_path: Path) -> None:
    storage = storage_from_settings({"STORAGE_LOCAL_ROOT": str(tmp_path), "SECRET_KEY": "flask-secret-key-123"})
    backend = storage.default
    assert isinstance(backend, LocalStorage)
    assert backend.root == tmp_path.resolve()
    assert backend.base_url == "/storage"
    assert storage.regions == ("default",)
    assert storage.presign_download("a").startswith("/storage/o/a?")


def test_local_backend_settings(tmp_path: Path) -> None:
    storage = storage_from_settings(
        {
            "STORAGE_BACKEND": "LOCAL",
            "STORAGE_LOCAL_ROOT": str(tmp_path),
            "STORAGE_LOCAL_BASE_URL": "https://market.test/files/",
            "STORAGE_LOCAL_SECRET": "x" * 32,
            "STORAGE_REGIONS": "eu, us",
            "STORAGE_DEFAULT_REGION": "eu",
            "STORAGE_PART_SIZE": str(8 * 1024 * 1024),
        }
    )
    assert storage.regions == ("eu", "us")
    assert storage.for_region("us") is storage.for_region("eu")
    assert storage.presign_download("k").startswith("https://market.test/files/o/k?")
    assert storage.create_upload("k", size=9 * 1024 * 1024).part_size == 8 * 1024 * 1024


def test_local_backend_needs_a_secret(tmp_path: Path) -> None:
    with pytest.raises(StorageConfigError, match="STORAGE_LOCAL_SECRET"):
        storage_from_settings({"STORAGE_LOCAL_ROOT": str(tmp_path)})
    with pytest.raises(StorageConfigError, match="16 bytes"):
        storage_from_settings({"STORAGE_LOCAL_ROOT": str(tmp_path), "STORAGE_LOCAL_SECRET": "short"})


def test_s3_backend_with_region_buckets() -> None:
    storage = storage_from_settings(
        {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": "datasets-eu",
            "S3_REGION": "eu-central-1",
            "S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
            "S3_SECRET_ACCESS_KEY": "secret",
            "S3_SSE": "aws:kms",
            "S3_KMS_KEY_ID": "alias/datasets",
            "S3_REGION_BUCKETS": "eu=datasets-eu, us = datasets-us:us-east-1, ch=datasets-ch",
            "STORAGE_DEFAULT_REGION": "eu",
        }
    )
    assert storage.regions == ("ch", "eu", "us")
    eu, us, ch = (storage.for_region(r) for r in ("eu", "us", "ch"))
    assert isinstance(eu, S3Storage) and isinstance(us, S3Storage) and isinstance(ch, S3Storage)
    assert (eu.bucket, eu.region) == ("datasets-eu", "eu-central-1")
    assert (us.bucket, us.region) == ("datasets-us", "us-east-1")
    assert ch.client is eu.client  # same AWS region: one shared client
    assert us.client is not eu.client
    assert us.presign_download("k").startswith("https://datasets-us.s3.amazonaws.com/k?")
    assert eu.presign_download("k").startswith("https://datasets-eu.s3.eu-central-1.amazonaws.com/k?")
    assert dict(eu.create_upload("k", size=1).headers)["x-amz-server-side-encryption"] == "aws:kms"


def test_s3_backend_with_endpoint_url() -> None:
    storage = storage_from_settings(
        {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": "local-bucket",
            "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "S3_ACCESS_KEY_ID": "minio",
            "S3_SECRET_ACCESS_KEY": "minio123",
            "S3_SSE": "",
        }
    )
    assert storage.presign_download("k").startswith("http://127.0.0.1:9000/local-bucket/k?")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND"),
        ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET"),
        ({"STORAGE_BACKEND": "s3", "S3_REGION_BUCKETS": "us=bucket-us"}, "default region"),
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": "a-bucket", "S3_REGION_BUCKETS": "default=b-bucket"}, "disagree"),
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": "a-bucket", "S3_SSE": "rot13"}, "server_side_encryption"),
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": "a-bucket", "STORAGE_PART_SIZE": "big"}, "STORAGE_PART_SIZE"),
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": "a-bucket", "S3_ACCESS_KEY_ID": "only"}, "both"),
    ],
)
def test_bad_settings_name_the_problem(settings: dict[str, str], message: str) -> None:
    with pytest.raises(StorageConfigError, match=message):
        storage_from_settings(settings)


@pytest.mark.parametrize("value", ["eu", "eu=", "=bucket", "eu=Bad_Bucket", "eu=ab", "eu=b-1,eu=b-2", "eu=bucket:x,y"])
def test_malformed_region_buckets(value: str) -> None:
    with pytest.raises(StorageConfigError, match="S3_REGION_BUCKETS"):
        parse_region_buckets(value)


def test_region_buckets_parsing() -> None:
    assert parse_region_buckets("") == {}
    assert parse_region_buckets(" eu=bucket-eu , us=bucket-us:us-west-2 ,") == {
        "eu": ("bucket-eu", None),
        "us": ("bucket-us", "us-west-2"),
    }
