"""Provider uploads over HTTP: single PUT and multipart through the mounted local storage, resume, server-side
verification of size and SHA-256, the manifest built from verified files, and publishing refused until then."""

from __future__ import annotations

import hashlib
import os
import re

import pytest
from sqlmodel import Session, select

from marketplace.accounts.models import OrgKind, Role
from marketplace.catalog.models import DatasetFile, DatasetVersion
from marketplace.catalog.vocab import VersionStatus
from marketplace.delivery.models import FileUpload, UploadStatus
from tests.factories import (
    PASSWORD,
    DatasetFactory,
    DatasetFileFactory,
    DatasetVersionFactory,
    OrganisationFactory,
    UserFactory,
    member,
)
from tests.helpers import csrf_token, log_in

MiB = 1024 * 1024


@pytest.fixture()
def app_settings(app_settings):  # type: ignore[no-untyped-def]
    app_settings["STORAGE_PART_SIZE"] = 5 * MiB
    return app_settings


@pytest.fixture()
def shop(db_session: Session):  # type: ignore[no-untyped-def]
    provider = OrganisationFactory(slug="prov", name="Provider", kind=OrgKind.PROVIDER)
    buyer = OrganisationFactory(slug="buyer", name="Buyer", kind=OrgKind.BUYER)
    uploader = member(provider, Role.MEMBER, email="uploader@example.org")
    member(buyer, Role.OWNER, email="buyer@example.org")
    dataset = DatasetFactory(organisation=provider, slug="speech", title="Speech")
    published = DatasetVersionFactory(dataset=dataset, version="1.0.0", status=VersionStatus.PUBLISHED)
    draft = DatasetVersionFactory(dataset=dataset, version="1.1.0")
    return {"provider": provider, "uploader": uploader, "dataset": dataset, "published": published, "draft": draft}


class Browser:
    """What uploads.js does, through the test client."""

    def __init__(self, client, slug: str = "speech", label: str = "1.1.0") -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.token = csrf_token(client, "/settings")
        self.base = f"/datasets/{slug}/versions/{label}"

    def post(self, url: str, body: object = None, **kw):  # type: ignore[no-untyped-def]
        return self.client.post(url, json=body if body is not None else {}, headers={"X-CSRFToken": self.token}, **kw)

    def start(self, path: str, size: int, **fields: object):  # type: ignore[no-untyped-def]
        return self.post(f"{self.base}/upload-sessions", {"path": path, "size": size, **fields})

    def put_part(self, upload: dict, number: int, data: bytes):  # type: ignore[no-untyped-def]
        urls = self.post(f"/upload-sessions/{upload['id']}/links", {"parts": [number]}).get_json()["urls"]
        start = (number - 1) * upload["part_size"]
        return self.client.put(urls[str(number)], data=data[start : start + upload["part_size"]])

    def put_whole(self, upload: dict, data: bytes):  # type: ignore[no-untyped-def]
        url = self.post(f"/upload-sessions/{upload['id']}/links", {"parts": []}).get_json()["urls"]["0"]
        return self.client.put(url, data=data, headers=upload["headers"])

    def complete(self, upload: dict):  # type: ignore[no-untyped-def]
        return self.post(f"/upload-sessions/{upload['id']}/complete")

    def upload(self, path: str, data: bytes, **fields: object) -> dict:  # type: ignore[type-arg]
        response = self.start(path, len(data), **fields)
        assert response.status_code == 201, response.get_data(as_text=True)
        upload = response.get_json()
        if upload["multipart"]:
            for number in range(1, upload["part_count"] + 1):
                assert self.put_part(upload, number, data).status_code == 200
        else:
            assert self.put_whole(upload, data).status_code == 200
        return self.complete(upload).get_json()


def _logged_in(client) -> Browser:  # type: ignore[no-untyped-def]
    log_in(client, "uploader@example.org", PASSWORD)
    return Browser(client)


def test_single_put_upload_is_verified_and_enters_the_manifest(client, shop, db_session) -> None:
    browser = _logged_in(client)
    data = b"id,text\n1,hello\n"
    result = browser.upload("data/train.csv", data, media_type="text/csv", sha256=hashlib.sha256(data).hexdigest())
    assert result["status"] == "verified"
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    file = db_session.exec(select(DatasetFile).where(DatasetFile.version_id == shop["draft"].id)).one()
    dataset_id, version_id = shop["dataset"].id, shop["draft"].id
    assert file.storage_key == f"datasets/{dataset_id}/versions/{version_id}/data/train.csv"
    assert (file.size_bytes, file.sha256, file.media_type) == (len(data), hashlib.sha256(data).hexdigest(), "text/csv")
    version = db_session.get(DatasetVersion, version_id)
    db_session.refresh(version)
    assert version.file_count == 1 and version.total_bytes == len(data) and version.manifest_digest


def test_multipart_upload_resumes_from_the_parts_storage_holds(client, shop, db_session) -> None:
    browser = _logged_in(client)
    data = os.urandom(11 * MiB + 123)
    upload = browser.start("audio/big.bin", len(data)).get_json()
    assert upload["multipart"] is True and upload["part_count"] == 3 and upload["parts_done"] == []
    assert browser.put_part(upload, 1, data).status_code == 200
    assert browser.put_part(upload, 3, data).status_code == 200

    # "Reload": the page asks again for the same file and learns which parts are stored.
    again = browser.start("audio/big.bin", len(data))
    assert again.status_code == 201
    assert again.get_json()["id"] == upload["id"]
    assert again.get_json()["parts_done"] == [1, 3]
    assert client.get(f"/upload-sessions/{upload['id']}").get_json()["parts_done"] == [1, 3]

    incomplete = browser.complete(upload)
    assert incomplete.status_code == 409
    assert incomplete.get_json()["error"]["code"] == "upload_incomplete"
    assert "2" in incomplete.get_json()["error"]["message"]

    assert browser.put_part(upload, 2, data).status_code == 200
    done = browser.complete(upload)
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["sha256"] == hashlib.sha256(data).hexdigest()
    row = db_session.get(FileUpload, upload["id"])
    db_session.refresh(row)
    assert row.status is UploadStatus.VERIFIED and row.parts_done == [1, 2, 3]


def test_a_wrong_hash_fails_verification_deletes_the_bytes_and_blocks_publishing(app, client, shop, db_session) -> None:
    browser = _logged_in(client)
    data = b"the real bytes"
    result = browser.upload("a.txt", data, sha256="ab" * 32)
    assert result["error"]["code"] == "upload_verification_failed"
    assert "ab" * 32 in result["error"]["message"]
    row = db_session.exec(select(FileUpload).where(FileUpload.path == "a.txt")).one()
    assert row.status is UploadStatus.FAILED
    assert db_session.exec(select(DatasetFile).where(DatasetFile.version_id == shop["draft"].id)).all() == []
    store = app.extensions["marketplace.context"].storage
    assert not store.exists(row.storage_key)

    response = client.post("/datasets/speech/versions/1.1.0/publish-uploaded", data={"csrf_token": browser.token})
    assert response.status_code == 409
    assert "a.txt" in response.get_data(as_text=True)
    db_session.refresh(shop["draft"])
    assert shop["draft"].status is VersionStatus.DRAFT


def test_a_declared_manifest_is_what_uploads_are_checked_against(client, shop, db_session) -> None:
    DatasetFileFactory(version=shop["draft"], path="x.bin", size_bytes=5, sha256="cd" * 32)
    browser = _logged_in(client)
    assert browser.start("x.bin", 6).status_code == 422
    result = browser.upload("x.bin", b"12345")
    assert result["error"]["code"] == "upload_verification_failed"
    assert "the file's SHA-256 differs from the manifest" in result["error"]["message"]


def test_publishing_waits_for_every_file_on_both_publish_paths(client, shop, db_session) -> None:
    browser = _logged_in(client)
    assert browser.upload("one.txt", b"one")["status"] == "verified"
    pending = browser.start("two.txt", 3).get_json()

    for path in ("/datasets/speech/versions/1.1.0/publish-uploaded", "/datasets/speech/versions/1.1.0/publish"):
        response = client.post(path, data={"csrf_token": browser.token})
        assert response.status_code == 409, path
        page = response.get_data(as_text=True)
        assert "two.txt" in page and "uploaded and verified" in page
    db_session.refresh(shop["draft"])
    assert shop["draft"].status is VersionStatus.DRAFT

    assert browser.put_whole(pending, b"two").status_code == 200
    assert browser.complete(pending).status_code == 200
    response = client.post("/datasets/speech/versions/1.1.0/publish-uploaded", data={"csrf_token": browser.token})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db_session.refresh(shop["draft"])
    assert shop["draft"].status is VersionStatus.PUBLISHED and shop["draft"].file_count == 2


def test_declared_only_versions_are_refused_by_the_upload_publish_path(client, shop, db_session) -> None:
    DatasetFileFactory(version=shop["draft"], path="declared.csv")
    browser = _logged_in(client)
    response = client.post("/datasets/speech/versions/1.1.0/publish-uploaded", data={"csrf_token": browser.token})
    assert response.status_code == 409
    assert "declared.csv" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    ["../etc/passwd", "a/../../b", "/abs/path", "a\\b", "a//b", "./a", "dir/", "a\x00b", "a\nb", "x\u202egpj.exe",
     "a\u2028b", "x" * 300],
)  # fmt: skip
def test_path_traversal_and_unsafe_names_are_refused_over_http(client, shop, db_session, path) -> None:
    browser = _logged_in(client)
    response = browser.start(path, 1)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "path"
    assert db_session.exec(select(FileUpload)).all() == []


def test_storage_links_cannot_be_bent_to_another_key(client, shop) -> None:
    browser = _logged_in(client)
    upload = browser.start("ok.txt", 2).get_json()
    url = browser.post(f"/upload-sessions/{upload['id']}/links", {"parts": []}).get_json()["urls"]["0"]
    forged = url.replace("ok.txt", "..%2F..%2Fescape.txt")
    assert client.put(forged, data=b"xx").status_code in (400, 403)
    tampered = url.replace("ok.txt", "other.txt")
    assert client.put(tampered, data=b"xx").status_code == 403


def test_only_the_providers_members_may_upload(client, shop, db_session) -> None:
    log_in(client, "uploader@example.org", PASSWORD)
    upload = Browser(client).start("mine.txt", 4).get_json()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})
    log_in(client, "buyer@example.org", PASSWORD)
    outsider = Browser(client)
    response = outsider.start("theirs.txt", 4)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "permission_denied"
    assert client.get(f"/upload-sessions/{upload['id']}").status_code == 404
    assert outsider.post(f"/upload-sessions/{upload['id']}/links", {"parts": []}).status_code == 404
    assert client.get("/datasets/speech/versions/1.1.0/upload").status_code == 403


def test_published_versions_take_no_uploads_and_json_needs_csrf(client, shop) -> None:
    browser = _logged_in(client)
    browser.base = "/datasets/speech/versions/1.0.0"
    response = browser.start("late.txt", 1)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "version_immutable"
    no_token = client.post("/datasets/speech/versions/1.1.0/upload-sessions", json={"path": "a", "size": 1})
    assert no_token.status_code == 400
    assert client.post("/upload-sessions/1/complete").status_code == 400


def test_removing_a_verified_file_takes_it_out_of_the_manifest(app, client, shop, db_session) -> None:
    browser = _logged_in(client)
    assert browser.upload("gone.txt", b"bye")["status"] == "verified"
    row = db_session.exec(select(FileUpload).where(FileUpload.path == "gone.txt")).one()
    response = client.post(
        "/datasets/speech/versions/1.1.0/files/remove", data={"csrf_token": browser.token, "upload_id": str(row.id)}
    )
    assert response.status_code == 302
    assert db_session.exec(select(DatasetFile).where(DatasetFile.version_id == shop["draft"].id)).all() == []
    assert not app.extensions["marketplace.context"].storage.exists(row.storage_key)


def test_upload_page_lists_files_and_loads_the_script(client, shop) -> None:
    browser = _logged_in(client)
    browser.upload("shown.txt", b"visible")
    page = client.get("/datasets/speech/versions/1.1.0/upload")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "shown.txt" in html and "verified" in html and "js/uploads.js" in html
    assert "<script>" not in html.replace('<script src="', "")
    assert "connect-src 'self';" in page.headers["Content-Security-Policy"]
    assert "Files" in client.get("/delivery").get_data(as_text=True)


def test_s3_upload_page_allows_the_bucket_origin_in_connect_src(app_settings, connection, shop, db_session) -> None:
    from marketplace import create_app

    settings = dict(app_settings)
    settings.update(
        STORAGE_BACKEND="s3", S3_BUCKET="datasets-test", S3_REGION="eu-west-1",
        S3_ENDPOINT_URL="http://127.0.0.1:9", S3_ACCESS_KEY_ID="AKIAEXAMPLE", S3_SECRET_ACCESS_KEY="x" * 40,
    )  # fmt: skip
    s3_app = create_app(settings)
    s3_app.extensions["marketplace.db"].bind_to_connection(connection)
    client = s3_app.test_client()
    log_in(client, "uploader@example.org", PASSWORD)
    page = client.get("/datasets/speech/versions/1.1.0/upload")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert re.search(r"connect-src 'self' http://127\.0\.0\.1:9[; ]", csp), csp
    assert "script-src 'self';" in csp


def test_cli_uploads_a_folder_and_resumes(app, shop, db_session, tmp_path) -> None:
    folder = tmp_path / "release"
    (folder / "nested").mkdir(parents=True)
    (folder / "README.md").write_text("# hello\n")
    big = os.urandom(6 * MiB)
    (folder / "nested" / "big.bin").write_bytes(big)
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["upload", str(folder), "--dataset", "speech", "--version", "1.1.0", "--user", "uploader@example.org"]
    )
    assert result.exit_code == 0, result.output
    assert "verified README.md" in result.output and "verified nested/big.bin" in result.output
    files = {f.path: f for f in db_session.exec(select(DatasetFile).where(DatasetFile.version_id == shop["draft"].id))}
    assert set(files) == {"README.md", "nested/big.bin"}
    assert files["nested/big.bin"].sha256 == hashlib.sha256(big).hexdigest()
    assert all(f.storage_key for f in files.values())

    again = runner.invoke(args=["upload", str(folder), "--dataset", "speech", "--version", "1.1.0"])
    assert again.exit_code == 0, again.output

    refused = runner.invoke(
        args=["upload", str(folder), "--dataset", "speech", "--version", "1.0.0", "--user", "uploader@example.org"]
    )
    assert refused.exit_code != 0 and "published" in refused.output


def test_approving_a_listing_does_not_publish_a_version_with_unfinished_uploads(client, shop, db_session) -> None:
    from marketplace.catalog.vocab import DatasetStatus

    browser = _logged_in(client)
    assert browser.upload("ok.txt", b"fine")["status"] == "verified"
    browser.start("later.txt", 5)
    shop["dataset"].status = DatasetStatus.IN_REVIEW
    shop["dataset"].submitted_at = shop["dataset"].created_at
    db_session.add(shop["dataset"])
    UserFactory(email="admin@example.org", is_platform_admin=True)
    client.post("/logout", data={"csrf_token": browser.token})
    log_in(client, "admin@example.org", PASSWORD)
    response = client.post("/datasets/speech/approve", data={"csrf_token": csrf_token(client, "/settings")})
    assert response.status_code == 409
    assert "later.txt" in response.get_data(as_text=True)
    db_session.refresh(shop["draft"])
    db_session.refresh(shop["dataset"])
    assert shop["draft"].status is VersionStatus.DRAFT and shop["dataset"].status is DatasetStatus.IN_REVIEW


@pytest.mark.parametrize(
    ("env", "declared_allowed", "publishes"),
    [("development", True, True), ("development", False, False), ("production", True, False)],
)
def test_catalog_publishing_calls_the_guard_with_the_setting_it_is_given(
    shop, db_session, env: str, declared_allowed: bool, publishes: bool
) -> None:
    """No ORM hook and no application: the catalog's publish path itself asks the guard, passing the setting."""
    from marketplace.catalog import services as catalog
    from marketplace.db import ServiceContext, UnitOfWork
    from marketplace.delivery.errors import FilesNotVerified
    from marketplace.mail import ConsoleMailer

    DatasetFileFactory(version=shop["draft"], path="declared.csv")
    shop["draft"].file_count = 1
    db_session.add(shop["draft"])
    db_session.flush()
    settings = {"MARKETPLACE_ENV": env, "PUBLISH_DECLARED_MANIFESTS": declared_allowed}
    work = UnitOfWork(db_session, ServiceContext(settings, ConsoleMailer()))
    if publishes:
        catalog.publish_version(work, shop["uploader"], shop["dataset"], shop["draft"])
        assert shop["draft"].status is VersionStatus.PUBLISHED
    else:
        with pytest.raises(FilesNotVerified, match=r"declared\.csv"):
            catalog.publish_version(work, shop["uploader"], shop["dataset"], shop["draft"])
        assert shop["draft"].status is VersionStatus.DRAFT


def test_an_empty_file_is_uploaded_only_when_confirmed(client, shop, db_session) -> None:
    browser = _logged_in(client)
    refused = browser.start("data/empty.csv", 0)
    assert refused.status_code == 422
    problem = refused.get_json()["error"]["details"][0]
    assert problem["field"] == "confirm_empty" and "Upload an empty file" in problem["message"]
    assert db_session.exec(select(FileUpload)).all() == []
    confirmed = browser.start("data/empty.csv", 0, confirm_empty=True)
    assert confirmed.status_code == 201 and confirmed.get_json()["size"] == 0


def test_the_upload_page_offers_the_empty_file_box_and_follows_verification(client, shop, db_session) -> None:
    browser = _logged_in(client)
    started = browser.start("data/slow.csv", 10).get_json()
    row = db_session.get(FileUpload, started["id"])
    row.status = UploadStatus.VERIFYING
    db_session.add(row)
    db_session.flush()
    page = client.get("/datasets/speech/versions/1.1.0/upload").get_data(as_text=True)
    assert 'id="upload-empty"' in page and "Upload an empty file" in page
    assert f'data-poll-url="/upload-sessions/{started["id"]}"' in page
    assert '<meta http-equiv="refresh"' in page  # without JavaScript the page reloads itself
    assert browser.client.get(f"/upload-sessions/{started['id']}").get_json()["status"] == "verifying"
