"""Delivery's pure parts: storage keys, storage-error mapping, the link list, the SVG chart, settings wiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

import licensing
import storage
from marketplace import create_app
from marketplace.config import ConfigError, load_settings
from marketplace.delivery import downloads
from marketplace.delivery import services as svc
from marketplace.delivery.app import storage_mount_path
from marketplace.delivery.charts import bar_chart
from marketplace.delivery.errors import DownloadRefused, RefusalReason, domain_error, storage_errors
from marketplace.delivery.views import link_list
from marketplace.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed, status_for
from marketplace.licenses.services import grant_value
from marketplace.production_settings import unsafe_for_production
from tests.unit.licensing.licensing_testkit import make_grant

DATASET = SimpleNamespace(id=7)
VERSION = SimpleNamespace(id=3)


@pytest.mark.parametrize("path", ["a.csv", "audio/clip 01.wav", "données/été.csv", "a/b/c/d.jsonl"])
def test_storage_keys_name_dataset_version_and_path(path) -> None:
    assert svc.storage_key_for(DATASET, VERSION, path) == f"datasets/7/versions/3/{path}"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "path",
    ["../x", "a/../b", "/etc/passwd", "a\\b", "a//b", ".", "a/./b", "", " ", " lead.csv", "nul\x00", "cr\rlf",
     "line\u2028sep", "zero\u200bwidth", "x/" + "y" * 256],
)  # fmt: skip
def test_storage_keys_refuse_traversal_and_control_characters(path) -> None:
    with pytest.raises(ValidationFailed) as info:
        svc.storage_key_for(DATASET, VERSION, path)  # type: ignore[arg-type]
    assert info.value.details[0].field == "path"


@pytest.mark.parametrize(
    "error,expected,status",
    [
        (storage.ObjectNotFound("k"), NotFound, 404),
        (storage.InvalidKey("bad"), ValidationFailed, 422),
        (storage.InvalidFilename("bad"), ValidationFailed, 422),
        (storage.InvalidContentType("bad"), ValidationFailed, 422),
        (storage.UnknownRegion("mars"), Conflict, 409),
        (storage.UploadError("short"), Conflict, 409),
        (storage.StorageUnavailable("down"), ServiceUnavailable, 503),
        (storage.UnsupportedOperation("nope"), ServiceUnavailable, 503),
    ],
)
def test_storage_errors_become_domain_errors(error, expected, status) -> None:
    mapped = domain_error(error, "file")
    assert isinstance(mapped, expected) and status_for(mapped) == status
    if isinstance(error, (storage.InvalidKey, storage.InvalidFilename)):
        assert mapped.details[0].field == "file"
    with pytest.raises(expected), storage_errors():
        raise error


def test_every_refusal_is_a_403_with_its_reason() -> None:
    for reason in RefusalReason:
        refused = DownloadRefused.because(reason)
        assert status_for(refused) == 403 and refused.code == reason.value and refused.message == reason.message


def _link(path: str, sha: str = "ab" * 32):  # type: ignore[no-untyped-def]
    file = SimpleNamespace(path=path, size_bytes=5, sha256=sha)
    return SimpleNamespace(url="/storage/o/k?sig=1&exp=2", file=file, version=SimpleNamespace(version="1.0.0"))


def test_link_list_quotes_for_curl_and_names_outputs_for_aria2() -> None:
    links = [_link('data/we"ird\\name.csv'), _link("ü/plain.csv")]
    curl = link_list(links, "speech", fmt="curl", base="https://data.example.org/")  # type: ignore[arg-type]
    assert 'url = "https://data.example.org/storage/o/k?sig=1&exp=2"' in curl
    assert 'output = "speech/1.0.0/data/we\\"ird\\\\name.csv"' in curl
    assert 'output = "speech/1.0.0/ü/plain.csv"' in curl
    aria = link_list(links, "speech", fmt="aria2", base="https://data.example.org/")  # type: ignore[arg-type]
    lines = aria.splitlines()
    assert lines.count("https://data.example.org/storage/o/k?sig=1&exp=2") == 2
    assert "  out=speech/1.0.0/ü/plain.csv" in lines and f"  checksum=sha-256={'ab' * 32}" in lines


def test_bar_chart_escapes_labels_and_scales_to_the_peak() -> None:
    svg = str(bar_chart([("<b>1</b>", 0), ("2026-01-02", 4), ("x&y", 2)], title='Downloads "of" <x>'))
    assert svg.startswith("<svg") and "<b>" not in svg and "&lt;b&gt;" in svg and "x&amp;y" in svg
    assert svg.count('class="dl-bar"') == 3 and 'data-count="4"' in svg
    assert str(bar_chart([], title="none")) == ""
    flat = str(bar_chart([("a", 0), ("b", 0)], title="zero"))
    assert 'height="0.0"' in flat


def test_production_refuses_local_storage_naming_the_setting(tmp_path) -> None:
    settings = load_settings(environ={}, overrides={"INSTANCE_PATH": str(tmp_path), "STORAGE_BACKEND": "local"})
    assert any(problem.startswith("STORAGE_BACKEND") for problem in unsafe_for_production(settings))
    settings = load_settings(environ={}, overrides={"INSTANCE_PATH": str(tmp_path), "STORAGE_BACKEND": "s3"})
    assert not any(problem.startswith("STORAGE_BACKEND") for problem in unsafe_for_production(settings))
    with pytest.raises(ConfigError, match="STORAGE_BACKEND"):
        create_app({"MARKETPLACE_ENV": "production", "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 40})


def test_storage_settings_are_typed_and_derived(tmp_path) -> None:
    settings = load_settings(environ={"STORAGE_PART_SIZE": "8388608"}, overrides={"INSTANCE_PATH": str(tmp_path)})
    assert settings["STORAGE_PART_SIZE"] == 8 * 1024 * 1024
    assert settings["STORAGE_LOCAL_ROOT"] == str(tmp_path / "storage")
    assert "eu" in settings["STORAGE_REGIONS"].split(",")
    with pytest.raises(ConfigError, match="STORAGE_BACKEND"):
        load_settings(environ={"STORAGE_BACKEND": "ftp"}, overrides={"INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(ConfigError, match="DOWNLOAD_LINK_SECONDS"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://", "DOWNLOAD_LINK_SECONDS": 0})


def test_the_local_backend_is_mounted_at_its_base_path(tmp_path) -> None:
    assert storage_mount_path({"STORAGE_LOCAL_BASE_URL": "/storage"}) == "/storage"
    assert storage_mount_path({"STORAGE_LOCAL_BASE_URL": "/files/"}) == "/files"
    site = {"BASE_URL": "https://data.example.org"}
    assert storage_mount_path({**site, "STORAGE_LOCAL_BASE_URL": "https://data.example.org/st"}) == "/st"
    assert storage_mount_path({**site, "STORAGE_LOCAL_BASE_URL": "https://files.example.org/st"}) is None
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    store = app.extensions["marketplace.context"].storage
    assert isinstance(store, storage.RegionalStorage) and isinstance(store.default, storage.LocalStorage)
    store.put("datasets/1/versions/1/a.txt", __import__("io").BytesIO(b"hello"))
    url = store.presign_download("datasets/1/versions/1/a.txt", filename="a.txt", expires_in=timedelta(minutes=1))
    # Mounted with the grant check: a download link that names no license is never served.
    response = app.test_client().get(url)
    assert response.status_code == 403 and "names no license" in response.get_data(as_text=True)
    assert app.test_client().get(url.replace("a.txt", "b.txt", 1)).status_code == 403


def test_refusal_order_status_then_window() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def value(status: str, start: datetime, end: datetime | None):  # type: ignore[no-untyped-def]
        import licensing

        return SimpleNamespace(
            status_at=lambda at: (
                licensing.GrantStatus(status)
                if not (end and at >= end and status in ("active", "suspended"))
                else licensing.GrantStatus.EXPIRED
            ),
            valid_from=start,
            is_valid_at=lambda at: status == "active" and start <= at and (end is None or at < end),
        )

    day = timedelta(days=1)
    assert downloads._refusal_for(value("active", now - day, None), now) is None  # type: ignore[arg-type]
    assert downloads._refusal_for(value("active", now + day, None), now) is RefusalReason.NOT_YET_VALID  # type: ignore[arg-type]
    assert downloads._refusal_for(value("active", now - 2 * day, now - day), now) is RefusalReason.EXPIRED  # type: ignore[arg-type]
    assert downloads._refusal_for(value("revoked", now - day, None), now) is RefusalReason.REVOKED  # type: ignore[arg-type]
    assert downloads._refusal_for(value("suspended", now - day, None), now) is RefusalReason.SUSPENDED  # type: ignore[arg-type]
    assert downloads._refusal_for(value("pending_payment", now - day, None), now) is RefusalReason.NOT_ACTIVE  # type: ignore[arg-type]


def test_declared_only_versions_are_publishable_only_in_development() -> None:
    from marketplace.delivery import guard

    assert guard.declared_manifests_allowed({}) is False  # not set: strict
    for env, flag, expected in [
        ("development", True, True),
        ("development", False, False),
        ("production", True, False),
    ]:
        settings = {"MARKETPLACE_ENV": env, "PUBLISH_DECLARED_MANIFESTS": flag}
        assert guard.declared_manifests_allowed(settings) is expected


def test_the_engine_grant_is_rebuilt_once_per_record_and_again_when_the_record_changes() -> None:
    active = make_grant()
    stored = SimpleNamespace(record=active.to_dict())
    first = grant_value(stored)  # type: ignore[arg-type]
    assert first == active and grant_value(SimpleNamespace(record=active.to_dict())) is first  # type: ignore[arg-type]
    # A record that changed (a revocation) is another value, never the cached one.
    stored.record = active.revoke(datetime(2025, 4, 1, tzinfo=UTC), reason="refund").to_dict()
    assert grant_value(stored).status is licensing.GrantStatus.REVOKED  # type: ignore[arg-type]
    # A tampered record is still refused: its terms hash is checked whenever it is rebuilt.
    stored.record = {**active.to_dict(), "terms_hash": "0" * 64}
    with pytest.raises(licensing.LicensingError):
        grant_value(stored)  # type: ignore[arg-type]
