"""Downloads under a license, over HTTP: who gets a link (a permission matrix over users and grant states), the
audit row behind every link, the download limit, file names in Content-Disposition, the manifest, the batch list
for curl/aria2, the license page's file list, and the provider's download statistics."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest
from markupsafe import escape
from sqlmodel import Session, func, select

import licensing
from marketplace.accounts.models import OrgKind, Role
from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.models import DatasetFile
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import UnitOfWork, utcnow
from marketplace.delivery import services as delivery
from marketplace.delivery.downloads import Requester
from marketplace.delivery.errors import DownloadRefused, RefusalReason
from marketplace.delivery.models import DownloadEvent
from marketplace.licenses import services as licenses
from marketplace.mail import ConsoleMailer
from tests.factories import (
    PASSWORD,
    DatasetFactory,
    DatasetFileFactory,
    DatasetVersionFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    member,
)
from tests.helpers import csrf_token, log_in

COMMERCIAL = "LicenseRef-standard-commercial-1.0"


def _stored_file(app, version, path: str, content: bytes, media_type: str = "text/csv") -> DatasetFile:  # type: ignore[no-untyped-def]
    store = app.extensions["marketplace.context"].storage
    key = f"datasets/{version.dataset_id}/versions/{version.id}/{path}"
    store.put(key, io.BytesIO(content), content_type=media_type)
    return DatasetFileFactory(
        version=version, path=path, size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest(),
        media_type=media_type, storage_key=key,
    )  # fmt: skip


@pytest.fixture()
def market(app, db_session: Session):  # type: ignore[no-untyped-def]
    provider = OrganisationFactory(slug="prov", name="Provider Co", kind=OrgKind.PROVIDER)
    buyer = OrganisationFactory(slug="buy", name="Buyer Co", kind=OrgKind.BUYER)
    rival = OrganisationFactory(slug="rival", name="Rival Co", kind=OrgKind.BUYER)
    people = {
        "seller": member(provider, Role.ADMIN, email="seller@example.org"),
        "clerk": member(provider, Role.MEMBER, email="clerk@example.org"),
        "purchaser": member(buyer, Role.MEMBER, email="purchaser@example.org"),
        "buyer_owner": member(buyer, Role.OWNER, email="owner@example.org"),
        "outsider": member(rival, Role.OWNER, email="outsider@example.org"),
        "admin": UserFactory(email="admin@example.org", is_platform_admin=True),
    }
    dataset = DatasetFactory(organisation=provider, slug="speech", title="Speech")
    v1 = DatasetVersionFactory(
        dataset=dataset, version="1.0.0", status=VersionStatus.PUBLISHED, published_at=utcnow() - timedelta(days=60)
    )
    files = [
        _stored_file(app, v1, "data/train.csv", b"id,text\n1,hello\n"),
        _stored_file(app, v1, 'data/na"me; ü.csv', b"id\n2\n"),
    ]
    v2 = DatasetVersionFactory(dataset=dataset, version="2.0.0", status=VersionStatus.PUBLISHED, published_at=utcnow())
    other_file = _stored_file(app, v2, "data/v2.csv", b"v2\n")
    for version, listed in ((v1, files), (v2, [other_file])):
        version.manifest_digest = compute_manifest_digest(listed)
        version.file_count = len(listed)
        db_session.add(version)
    db_session.flush()
    return {
        "provider": provider, "buyer": buyer, "rival": rival, "dataset": dataset, "v1": v1, "v2": v2,
        "files": files, "v2_file": other_file, **people,
    }  # fmt: skip


def issue(app, db_session, market, *, overrides=None, version_label="1.0.0", at=None, license_id=COMMERCIAL):  # type: ignore[no-untyped-def]
    """A grant of a fresh offer to the buyer, issued at ``at`` (default now)."""
    when = at or utcnow()
    context = replace(app.extensions["marketplace.context"], settings=dict(app.config), mailer=ConsoleMailer())
    context = context.at(lambda: when)
    uow = UnitOfWork(db_session, context)
    offer = licenses.create_offer(
        uow, market["seller"], market["dataset"], title="Commercial", license_id=license_id,
        price_amount=0 if license_id.startswith("CC") else 10000, currency="EUR",
        version_label=version_label, overrides=overrides or {},
    )  # fmt: skip
    grant = licenses.issue_grant(uow, offer, licensee=market["buyer"], acquired_by=None)
    db_session.flush()
    return grant


def transition(app, db_session, grant, action: licensing.GrantAction) -> None:  # type: ignore[no-untyped-def]
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    licenses.transition_grant(uow, grant, action, reason="test", actor="test")
    db_session.flush()


def _grant_in_state(app, db_session, market, state: str):  # type: ignore[no-untyped-def]
    if state == "expired":
        return issue(app, db_session, market, overrides={"term": "P30D"}, at=utcnow() - timedelta(days=40))
    if state == "not_yet_valid":
        return issue(app, db_session, market, at=utcnow() + timedelta(days=3))
    grant = issue(app, db_session, market, overrides={"download_limit": 0} if state == "limit_reached" else None)
    if state == "revoked":
        transition(app, db_session, grant, licensing.GrantAction.REVOKE)
    if state == "suspended":
        transition(app, db_session, grant, licensing.GrantAction.SUSPEND)
    return grant


def _download(client, grant_id: str, file_id: int):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/settings")
    return client.post(f"/licenses/{grant_id}/files/{file_id}/download", data={"csrf_token": token})


def _events(db_session) -> list[DownloadEvent]:  # type: ignore[no-untyped-def]
    return list(db_session.exec(select(DownloadEvent).order_by(DownloadEvent.id)).all())


STATES = {
    "active": None,
    "revoked": "grant_revoked",
    "suspended": "grant_suspended",
    "expired": "grant_expired",
    "not_yet_valid": "grant_not_yet_valid",
    "limit_reached": "download_limit_reached",
}
USERS = {
    "purchaser": True,
    "buyer_owner": True,
    "clerk": False,
    "seller": False,
    "outsider": False,
    "admin": False,
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("who", list(USERS))
def test_permission_matrix_links_only_for_licensee_members_of_a_grant_in_force(
    app, client, market, db_session, state, who
) -> None:
    grant = _grant_in_state(app, db_session, market, state)
    log_in(client, f"{market[who].email}", PASSWORD)
    response = _download(client, grant.id, market["files"][0].id)
    events = _events(db_session)
    if USERS[who] and STATES[state] is None:
        assert response.status_code == 303
        location = response.headers["Location"]
        assert location.startswith("/storage/o/")
        # Every link that is issued has its audit row.
        assert len(events) == 1
        event = events[0]
        assert (event.grant_id, event.file_id, event.user_id) == (grant.id, market["files"][0].id, market[who].id)
        assert event.ip_address and event.user_agent.startswith("Werkzeug")
        assert timedelta(minutes=14) < event.expires_at - event.issued_at <= timedelta(minutes=15)
        assert client.get(location).get_data() == b"id,text\n1,hello\n"
    else:
        assert response.status_code == 403
        assert "Location" not in response.headers
        expected = "not_licensee" if not USERS[who] else STATES[state]
        reason = RefusalReason(expected)
        assert str(escape(reason.message)) in response.get_data(as_text=True)
        assert "/storage/o/" not in response.get_data(as_text=True)
        assert events == []


def test_refusal_reasons_at_the_service(app, market, db_session) -> None:
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    for state, code in STATES.items():
        if code is None:
            continue
        grant = _grant_in_state(app, db_session, market, state)
        with pytest.raises(DownloadRefused) as info:
            delivery.issue_download_link(
                uow,
                grant=grant,
                file_id=market["files"][0].id,
                requester=Requester(market["purchaser"], "1.2.3.4", "t"),
            )
        assert info.value.code == code
        with pytest.raises(DownloadRefused) as info:
            delivery.issue_download_link(
                uow, grant=grant, file_id=market["files"][0].id, requester=Requester(market["outsider"], "1.2.3.4", "t")
            )
        assert info.value.code == "not_licensee"
    assert _events(db_session) == []


def test_api_keys_are_checked_against_the_licensee_and_audited(app, market, db_session) -> None:
    grant = issue(app, db_session, market)
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    file_id = market["files"][0].id
    # The purchaser belongs to the licensee, but a key limited to another organisation does not act for it.
    MembershipFactory(organisation=market["rival"], user=market["purchaser"], role=Role.MEMBER)
    with pytest.raises(DownloadRefused):
        rival_key = Requester(market["purchaser"], organisation_id=market["rival"].id, api_key_id=7)
        delivery.issue_download_link(uow, grant=grant, file_id=file_id, requester=rival_key)
    buyer_key = Requester(market["purchaser"], "10.0.0.1", "k", organisation_id=market["buyer"].id, api_key_id=7)
    link = delivery.issue_download_link(uow, grant=grant, file_id=file_id, requester=buyer_key)
    assert (link.event.api_key_id, link.event.user_id, link.event.ip_address) == (7, None, "10.0.0.1")


def test_the_download_limit_counts_audit_rows(app, client, market, db_session) -> None:
    grant = issue(app, db_session, market, overrides={"download_limit": 2})
    log_in(client, "purchaser@example.org", PASSWORD)
    assert _download(client, grant.id, market["files"][0].id).status_code == 303
    assert _download(client, grant.id, market["files"][1].id).status_code == 303
    third = _download(client, grant.id, market["files"][0].id)
    assert third.status_code == 403
    assert "download limit" in third.get_data(as_text=True) and "2 of 2" in third.get_data(as_text=True)
    assert len(_events(db_session)) == 2


def test_batch_list_is_all_or_nothing_under_a_limit(app, client, market, db_session) -> None:
    grant = issue(app, db_session, market, overrides={"download_limit": 1})
    log_in(client, "purchaser@example.org", PASSWORD)
    token = csrf_token(client, "/settings")
    response = client.post(f"/licenses/{grant.id}/links.txt", data={"csrf_token": token})
    assert response.status_code == 403 and "1 left, 2 asked for" in response.get_data(as_text=True)
    assert _events(db_session) == []


def test_versions_outside_the_grant_and_files_of_other_datasets(app, client, market, db_session) -> None:
    grant = issue(app, db_session, market, version_label="1.0.0")
    log_in(client, "purchaser@example.org", PASSWORD)
    response = _download(client, grant.id, market["v2_file"].id)
    assert response.status_code == 403 and "does not cover" in response.get_data(as_text=True)
    elsewhere = DatasetVersionFactory(
        dataset=DatasetFactory(organisation=market["provider"]), status=VersionStatus.PUBLISHED, published_at=utcnow()
    )
    foreign = DatasetFileFactory(version=elsewhere, storage_key="datasets/x/versions/y/z.csv")
    assert _download(client, grant.id, foreign.id).status_code == 404
    assert _download(client, grant.id, 999999).status_code == 404
    assert _download(client, "01NOTAGRANT", market["files"][0].id).status_code == 403
    assert _events(db_session) == []


def test_all_versions_grants_cover_versions_published_during_the_term(app, client, market, db_session) -> None:
    grant = issue(app, db_session, market, version_label=None)
    log_in(client, "purchaser@example.org", PASSWORD)
    assert _download(client, grant.id, market["v2_file"].id).status_code == 303


def test_content_disposition_is_safe_through_the_download_path(app, client, market, db_session) -> None:
    grant = issue(app, db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    response = _download(client, grant.id, market["files"][1].id)
    assert response.status_code == 303
    served = client.get(response.headers["Location"])
    header = served.headers["Content-Disposition"]
    assert header.isascii() and "\n" not in header and "\r" not in header
    assert header.startswith('attachment; filename="na\\"me; u.csv"')
    encoded = re.search(r"filename\*=UTF-8''(\S+)", header)
    assert encoded and unquote(encoded.group(1)) == 'na"me; ü.csv'
    assert served.get_data() == b"id\n2\n"


@pytest.mark.parametrize("name", ["evil\r\nSet-Cookie: a=b.csv", "tab\there.csv", "bidi\u202etxt.exe"])
def test_unsafe_stored_names_get_no_link(app, client, market, db_session, name) -> None:
    bad = _stored_file(app, market["v1"], "data/fine.csv", b"x")
    bad.path = f"data/{name}"  # as if a row had bypassed validation
    db_session.add(bad)
    db_session.flush()
    grant = issue(app, db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    response = _download(client, grant.id, bad.id)
    assert response.status_code == 422
    assert "Location" not in response.headers
    assert all("a=b" not in value for _name, value in response.headers.items())
    assert _events(db_session) == []


def test_link_lifetime_setting_and_the_grant_end(app, market, db_session) -> None:
    app.extensions["marketplace.context"].settings["DOWNLOAD_LINK_SECONDS"] = 120
    grant = issue(app, db_session, market)
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    link = delivery.issue_download_link(
        uow, grant=grant, file_id=market["files"][0].id, requester=Requester(market["purchaser"])
    )
    assert link.expires_at - link.event.issued_at == timedelta(seconds=120)
    ending = issue(
        app, db_session, market, overrides={"term": "P30D"}, at=utcnow() - timedelta(days=30) + timedelta(seconds=30)
    )
    link = delivery.issue_download_link(
        uow, grant=ending, file_id=market["files"][0].id, requester=Requester(market["purchaser"])
    )
    assert link.expires_at <= ending.valid_until + timedelta(seconds=1)


def test_manifest_json_lists_sha256_per_file(app, client, market, db_session) -> None:
    grant = issue(app, db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    response = client.get(f"/licenses/{grant.id}/manifest.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert [v["version"] for v in body["versions"]] == ["1.0.0"]
    files = {f["path"]: f for f in body["versions"][0]["files"]}
    assert files["data/train.csv"]["sha256"] == hashlib.sha256(b"id,text\n1,hello\n").hexdigest()
    assert _events(db_session) == []
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})
    log_in(client, "outsider@example.org", PASSWORD)
    assert client.get(f"/licenses/{grant.id}/manifest.json").status_code == 404


def test_batch_list_for_curl_and_aria2_audits_every_link(app, client, market, db_session) -> None:
    grant = issue(app, db_session, market, version_label=None)
    log_in(client, "purchaser@example.org", PASSWORD)
    token = csrf_token(client, "/settings")
    response = client.post(f"/licenses/{grant.id}/links.txt", data={"csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    urls = re.findall(r'^url = "(http://localhost/storage/o/[^"]+)"$', text, re.MULTILINE)
    outputs = re.findall(r'^output = "(.+)"$', text, re.MULTILINE)
    assert len(urls) == 3 and len(outputs) == 3
    assert 'speech/1.0.0/data/na\\"me; ü.csv' in outputs
    assert len(_events(db_session)) == 3
    assert client.get(urlsplit(urls[0]).path + "?" + urlsplit(urls[0]).query).status_code == 200

    aria = client.post(f"/licenses/{grant.id}/links.txt", data={"csrf_token": token, "format": "aria2"})
    lines = aria.get_data(as_text=True).splitlines()
    assert sum(1 for line in lines if line.startswith("http://localhost/storage/o/")) == 3
    assert "  out=speech/2.0.0/data/v2.csv" in lines
    assert len(_events(db_session)) == 6
    bad = client.post(f"/licenses/{grant.id}/links.txt", data={"csrf_token": token, "format": "wget; rm"})
    assert bad.status_code == 422 and len(_events(db_session)) == 6


def test_license_page_lists_files_with_download_buttons(app, client, market, db_session) -> None:
    grant = issue(app, db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    page = client.get(f"/licenses/{grant.id}").get_data(as_text=True)
    assert 'data-testid="grant-files"' in page
    assert f"/licenses/{grant.id}/files/{market['files'][0].id}/download" in page
    assert f"/licenses/{grant.id}/manifest.json" in page and "links.txt" in page
    transition(app, db_session, grant, licensing.GrantAction.REVOKE)
    page = client.get(f"/licenses/{grant.id}").get_data(as_text=True)
    assert "has been revoked" in page and "/download" not in page


def test_provider_sees_downloads_per_day_and_licensee(app, client, market, db_session) -> None:
    grant = issue(app, db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    for file in market["files"]:
        assert _download(client, grant.id, file.id).status_code == 303
    assert client.get("/datasets/speech/downloads").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})
    log_in(client, "clerk@example.org", PASSWORD)
    page = client.get("/datasets/speech/downloads")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<svg" in body and body.count('class="dl-bar"') == 30 and 'data-count="2"' in body
    assert re.search(r"<td>Buyer Co</td><td>2</td>", body)
    assert "<script" not in body.split("</main>")[0].split("<main")[1]
    count = db_session.exec(select(func.count()).select_from(DownloadEvent)).one()
    assert count == 2


def test_the_download_form_reads_the_file_with_the_grant(app, client, market, db_session) -> None:
    """The form's request reads the grant, its dataset and the file by one statement; the gate then finds the file
    in the session instead of reading it again (and still refuses another dataset's file: see the next test)."""
    from sqlalchemy import event

    grant = issue(app, db_session, market)
    log_in(client, market["purchaser"].email, PASSWORD)
    token = csrf_token(client, "/settings")
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        response = client.post(
            f"/licenses/{grant.id}/files/{market['files'][0].id}/download", data={"csrf_token": token}
        )
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert response.status_code == 303
    listing = "\n".join(statements)
    reads_of_files = [s for s in statements if s.startswith("SELECT") and "dataset_file" in s]
    assert len(reads_of_files) == 1 and " JOIN dataset_file " in reads_of_files[0], listing


def test_the_download_form_refuses_a_file_of_another_dataset(app, client, market, db_session) -> None:
    grant = issue(app, db_session, market)
    other = DatasetFactory(organisation=market["provider"])
    version = DatasetVersionFactory(dataset=other)
    stranger = DatasetFileFactory(version=version)
    log_in(client, market["purchaser"].email, PASSWORD)
    assert _download(client, grant.id, stranger.id).status_code == 404
    assert _download(client, grant.id, 10**9).status_code == 404
    assert _events(db_session) == []


def test_a_link_reads_each_row_once_and_writes_its_audit_entries_in_one_flush(app, market, db_session) -> None:
    """Issuing a link costs a fixed, small number of statements: each row it checks is read once, the two audit
    chains' heads are locked by one read and the entries and heads written by one flush (each statement is a round
    trip, and the heads stay locked from that read to the commit)."""
    from sqlalchemy import event

    from marketplace.accounts.models import User
    from marketplace.audit.models import AuditEntry
    from marketplace.licenses.models import Grant

    grant = issue(app, db_session, market)
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    first = Requester(market["purchaser"], "1.2.3.4", "t")
    delivery.issue_download_link(uow, grant=grant, file_id=market["files"][0].id, requester=first)
    grant_id, user_id, file_id = grant.id, market["purchaser"].id, market["files"][1].id
    db_session.flush()
    db_session.expunge_all()  # as in a new request: nothing loaded yet
    grant = db_session.get(Grant, grant_id)
    who = Requester(db_session.get(User, user_id), "1.2.3.4", "t")
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()[:4]))

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        delivery.issue_download_link(uow, grant=grant, file_id=file_id, requester=who)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    listing = "\n".join(statements)
    reads = [s for s in statements if s.startswith("SELECT")]
    assert len(reads) <= 6 and len(set(reads)) == len(reads), listing  # dataset, membership, withdrawals,
    # versions, file, the chains' heads: each once
    if db_session.get_bind().dialect.name == "postgresql":
        # One statement locks both heads, moves them and inserts both entries (marketplace.audit.postgres).
        assert sum(s.startswith("WITH locked AS") for s in statements) == 1, listing
        assert not any("audit_chain_head" in s or "audit_entry" in s for s in statements), listing
        assert len(statements) <= 7, listing
    else:
        assert sum("audit_chain_head" in s for s in statements) == 2, listing  # lock both heads at once, write both
        assert len(statements) <= 10, listing  # SQLite's driver sends one INSERT per entry
    assert [e.kind for e in db_session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()][-2:] == [
        "download.link_issued",
        "download.link_issued",
    ]
