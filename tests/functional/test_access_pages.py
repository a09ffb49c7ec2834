"""The governed-access pages through HTTP: the provider's settings, agreements and extra fields; the request form,
signature and status; the reviewers' queue with batch decisions; credentials; who may open which page; the mail."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from marketplace.access.models import AccessPolicy, AccessRequest, Agreement, AgreementVersion, Approval, Credential
from marketplace.access.notify import send_digests
from marketplace.access.states import AccessMode, ApprovalState, CredentialState, RequestState
from marketplace.db import UnitOfWork, utcnow
from tests.factories import PASSWORD
from tests.functional.test_delivery import market  # noqa: F401  (fixture)
from tests.helpers import csrf_token, log_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _log_out(client):  # type: ignore[no-untyped-def]
    with client.session_transaction() as session:
        session.clear()


def _as(client, market, who):  # type: ignore[no-untyped-def]  # noqa: F811
    _log_out(client)
    log_in(client, market[who].email, PASSWORD)


def _post(client, path, data, **kw):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/access")}, **kw)


def _make_credentialed(client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    """Through the provider's pages: an agreement from the credentialed template, then the mode and two fields."""
    _as(client, market, "seller")
    created = _post(
        client, "/orgs/prov/agreements", {"template": "credentialed-research", "resign_policy": "immediately"}
    )
    assert created.status_code == 302
    agreement = db_session.exec(select(Agreement)).one()
    saved = _post(client, "/datasets/speech/access", {
        "mode": "credentialed", "holder": "person", "samples_public": "on", "default_expiry_days": "30",
        "agreement_id": str(agreement.id),
        "fields-0-label": "Institution", "fields-0-kind": "select", "fields-0-required": "on",
        "fields-0-options": "University\nHospital\nCompany",
        "fields-1-label": "Ethics approval", "fields-1-kind": "checkbox", "fields-1-required": "on",
        "fields-1-checkbox_text": "My project has ethics approval",
    })  # fmt: skip
    assert saved.status_code == 302, saved.get_data(as_text=True)
    return agreement


def _request(client, market, **extra):  # type: ignore[no-untyped-def]  # noqa: F811
    data = {
        "full_name": "Pat Purchaser", "organisation": "buy", "intended_uses": "research",
        "intended_use_text": "Training a de-identification model.", "country": "DE",
        "x_institution": "Hospital", "x_ethics_approval": "on", **extra,
    }  # fmt: skip
    return _post(client, "/datasets/speech/access/request", data)


def _sign(client, db_session):  # type: ignore[no-untyped-def]
    request = db_session.exec(select(AccessRequest)).one()
    page = client.get(f"/access/requests/{request.id}").get_data(as_text=True)
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', page).group(1)  # type: ignore[union-attr]
    return request, _post(client, f"/access/requests/{request.id}/sign", {"full_name": "Pat Purchaser", "sha256": sha})


def test_provider_sets_credentialed_access_with_agreement_and_two_fields(client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    _as(client, market, "seller")
    refused = _post(client, "/datasets/speech/access", {"mode": "credentialed", "holder": "person"})
    assert refused.status_code == 422
    assert 'data-testid="error-agreement_id"' in refused.get_data(as_text=True)
    agreement = _make_credentialed(client, market, db_session)
    policy = db_session.exec(select(AccessPolicy)).one()
    db_session.refresh(market["dataset"])
    assert market["dataset"].access_mode is AccessMode.CREDENTIALED
    assert policy.agreement_id == agreement.id and policy.default_expiry_days == 30
    assert [(f["key"], f["kind"]) for f in policy.form_fields] == [
        ("institution", "select"),
        ("ethics_approval", "checkbox"),
    ]
    assert policy.form_fields[0]["options"] == ["University", "Hospital", "Company"]
    page = client.get("/datasets/speech/access").get_data(as_text=True)
    assert "Ethics approval" in page and page.count('data-testid="extra-field"') == 3  # two and a blank


def test_extra_field_errors_are_shown_next_to_their_fieldset(client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    _as(client, market, "seller")
    bad = _post(client, "/datasets/speech/access", {
        "mode": "gated_manual", "holder": "person", "fields-0-label": "Sector", "fields-0-kind": "select",
    })  # fmt: skip
    assert bad.status_code == 422
    assert re.search(r'data-testid="error-extra-1">[^<]*select needs 1 to 50 options', bad.get_data(as_text=True))
    more = _post(client, "/datasets/speech/access", {"mode": "gated_manual", "add_field": "1", "fields-0-label": "A"})
    assert more.status_code == 200 and more.get_data(as_text=True).count('data-testid="extra-field"') == 2


def test_agreement_new_version_is_published_with_its_hash(client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    agreement = _make_credentialed(client, market, db_session)
    same = client.get(f"/orgs/prov/agreements/{agreement.id}").get_data(as_text=True)
    body = re.search(r'<textarea id="f-body" name="body" rows="18">(.*?)</textarea>', same, re.S).group(1)  # type: ignore[union-attr]
    unchanged = _post(client, f"/orgs/prov/agreements/{agreement.id}", {"body": body.replace("&#34;", '"')})
    assert unchanged.status_code == 409
    published = _post(client, f"/orgs/prov/agreements/{agreement.id}", {"body": "# DUA\n\nVersion two.\n"})
    assert published.status_code == 302
    page = client.get(f"/orgs/prov/agreements/{agreement.id}").get_data(as_text=True)
    assert "Current version <strong>2</strong>" in page and "Version two." in page


def test_request_form_validates_each_field_next_to_it(client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    _make_credentialed(client, market, db_session)
    _as(client, market, "purchaser")
    form = client.get("/datasets/speech/access/request")
    assert form.status_code == 200 and "Institution" in form.get_data(as_text=True)
    bad = _request(client, market, full_name="", intended_use_text="short", country="ZZ", x_institution="Moon",
                   x_ethics_approval="")  # fmt: skip
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    for name in ("full_name", "intended_use_text", "country", "x_institution", "x_ethics_approval"):
        assert f'data-testid="error-{name}"' in html, name
    assert "must be ticked" in html and "choose one of the options" in html
    assert db_session.exec(select(AccessRequest)).first() is None


def test_request_sign_review_batch_and_mail(client, market, db_session, outbox):  # type: ignore[no-untyped-def]  # noqa: F811
    _make_credentialed(client, market, db_session)
    _as(client, market, "purchaser")
    dataset_page = client.get("/datasets/speech").get_data(as_text=True)
    assert 'data-testid="request-access"' in dataset_page
    assert "Get this license" not in dataset_page and "Add to cart" not in dataset_page
    sent = _request(client, market)
    assert sent.status_code == 302
    assert outbox.messages_to("seller@example.org")[-1].subject == "New access request: Speech"
    request, wrong = db_session.exec(select(AccessRequest)).one(), None
    wrong = _post(client, f"/access/requests/{request.id}/sign", {"full_name": "Pat", "sha256": "0" * 64})
    assert wrong.status_code == 422 and 'data-testid="error-full_name"' in wrong.get_data(as_text=True)
    request, signed = _sign(client, db_session)
    assert signed.status_code == 302
    status = client.get(f"/access/requests/{request.id}").get_data(as_text=True)
    assert 'data-testid="signed"' in status and "Pat Purchaser" in status

    _as(client, market, "seller")
    queue = client.get("/access/review").get_data(as_text=True)
    assert "Pat Purchaser" in queue and "signed" in queue
    no_reason = _post(client, "/access/review", {"action": "reject", "request_ids": str(request.id), "reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_data(as_text=True)
    day = (utcnow() + timedelta(days=10)).date()
    approved = _post(client, "/access/review", {
        "action": "approve", "request_ids": str(request.id), f"expires_{request.id}": day.isoformat(),
        "reason": "Welcome aboard",
    })  # fmt: skip
    assert approved.status_code == 302
    approval = db_session.exec(select(Approval)).one()
    assert approval.expires_at is not None and approval.expires_at.date() == day
    mail = outbox.messages_to("purchaser@example.org")[-1]
    assert mail.subject == "Access approved: Speech" and "Welcome aboard" in mail.body and day.isoformat() in mail.body

    _as(client, market, "purchaser")
    mine = client.get("/access").get_data(as_text=True)
    assert "approved" in mine and day.isoformat() in mine and "Welcome aboard" in mine


def test_batch_reject_several_with_the_reason_the_requesters_see(client, market, db_session, outbox):  # type: ignore[no-untyped-def]  # noqa: F811
    _as(client, market, "seller")
    _post(client, "/datasets/speech/access", {"mode": "gated_manual", "holder": "person"})
    for who in ("purchaser", "buyer_owner"):
        _as(client, market, who)
        assert _request(client, market, x_institution="", x_ethics_approval="").status_code == 302
    ids = [r.id for r in db_session.exec(select(AccessRequest)).all()]
    _as(client, market, "seller")
    done = client.post("/access/review", data={
        "action": "reject", "request_ids": [str(i) for i in ids], "reason": "Project out of scope",
        "csrf_token": csrf_token(client, "/access"),
    })  # fmt: skip
    assert done.status_code == 302
    states = {r.state for r in db_session.exec(select(AccessRequest)).all()}
    assert states == {RequestState.REJECTED}
    for address in ("purchaser@example.org", "owner@example.org"):
        assert "Project out of scope" in outbox.messages_to(address)[-1].body
    report = client.get("/access/review/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert report.get_data(as_text=True).count("Project out of scope") == 2


def test_credential_upload_verify_and_mail(client, market, db_session, outbox):  # type: ignore[no-untyped-def]  # noqa: F811
    _as(client, market, "purchaser")
    missing = _post(client, "/access/credentials", {"issuer": "", "course": "HSR", "completed_on": "2026-01-01"})
    assert missing.status_code == 422 and 'data-testid="error-file"' in missing.get_data(as_text=True)
    uploaded = _post(client, "/access/credentials", {
        "issuer": "CITI Program", "course": "Data or Specimens Only Research",
        "completed_on": (date.today() - timedelta(days=30)).isoformat(), "expires_on": "",
        "file": (__import__("io").BytesIO(PDF), "citi.pdf", "application/pdf"),
    }, content_type="multipart/form-data")  # fmt: skip
    assert uploaded.status_code == 302
    credential = db_session.exec(select(Credential)).one()
    assert client.get(f"/access/credentials/{credential.id}/file").data == PDF
    assert client.get("/access/credentials/review").status_code == 403
    _as(client, market, "outsider")
    assert client.get(f"/access/credentials/{credential.id}/file").status_code == 404
    _as(client, market, "admin")
    assert "Data or Specimens Only Research" in client.get("/access/credentials/review").get_data(as_text=True)
    assert client.get(f"/access/credentials/{credential.id}/file").status_code == 200
    done = _post(client, f"/access/credentials/{credential.id}/decide", {"decision": "verify"})
    assert done.status_code == 302
    db_session.refresh(credential)
    assert credential.state is CredentialState.VERIFIED
    assert outbox.messages_to("purchaser@example.org")[-1].subject == "Your training certificate was verified"


@pytest.mark.parametrize(
    ("path", "allowed", "refused"),
    [
        ("/datasets/speech/access", ["seller"], {"clerk": 404, "purchaser": 404, "outsider": 404}),
        ("/orgs/prov/agreements", ["seller"], {"clerk": 404, "outsider": 404}),
        ("/access/review", ["seller"], {"clerk": 403, "purchaser": 403, "outsider": 403}),
        ("/access/review/report.csv", ["seller"], {"purchaser": 403, "outsider": 403}),
        ("/access/review/grant", ["seller"], {"outsider": 403}),
        ("/access/credentials/review", ["admin", "seller"], {"purchaser": 403, "outsider": 403}),
        ("/access/requests/{request}", ["purchaser", "seller"], {"outsider": 404, "clerk": 404, "buyer_owner": 404}),
        ("/access", ["purchaser", "outsider"], {}),
        ("/access/credentials", ["purchaser"], {}),
    ],
)
def test_who_may_open_each_page(client, market, db_session, path, allowed, refused):  # type: ignore[no-untyped-def]  # noqa: F811
    _as(client, market, "seller")
    _post(client, "/datasets/speech/access", {"mode": "gated_manual", "holder": "person"})
    _as(client, market, "purchaser")
    _request(client, market, x_institution="", x_ethics_approval="")
    request = db_session.exec(select(AccessRequest)).one()
    url = path.format(request=request.id)
    _log_out(client)
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for who in allowed:
        _as(client, market, who)
        assert client.get(url).status_code == 200, (who, url)
    for who, status in refused.items():
        _as(client, market, who)
        assert client.get(url).status_code == status, (who, url)


def test_reviewer_of_another_provider_cannot_decide_or_reset(client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    from marketplace.accounts.models import OrgKind, Role
    from tests.factories import OrganisationFactory, member

    other = OrganisationFactory(slug="other-prov", kind=OrgKind.PROVIDER)
    stranger = member(other, Role.ADMIN, email="stranger@example.org")
    _as(client, market, "seller")
    _post(client, "/datasets/speech/access", {"mode": "gated_manual", "holder": "person"})
    _as(client, market, "purchaser")
    _request(client, market, x_institution="", x_ethics_approval="")
    request = db_session.exec(select(AccessRequest)).one()
    _log_out(client)
    log_in(client, stranger.email, PASSWORD)
    assert "Pat Purchaser" not in client.get("/access/review").get_data(as_text=True)
    decided = _post(client, "/access/review", {"action": "approve", "request_ids": str(request.id)})
    assert decided.status_code == 404
    db_session.refresh(request)
    assert request.state is RequestState.SUBMITTED
    _as(client, market, "seller")
    _post(client, "/access/review", {"action": "approve", "request_ids": str(request.id)})
    approval = db_session.exec(select(Approval)).one()
    _log_out(client)
    log_in(client, stranger.email, PASSWORD)
    assert _post(client, f"/access/approvals/{approval.id}/end", {"action": "reset"}).status_code == 404
    _as(client, market, "seller")
    assert _post(client, f"/access/approvals/{approval.id}/end", {"action": "reset"}).status_code == 302
    db_session.refresh(approval)
    assert approval.state is ApprovalState.RESET


def test_provider_page_shows_median_time_to_decision(client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    page = client.get("/providers/prov").get_data(as_text=True)
    assert "no decision in the last 90 days" in page
    now = utcnow()
    for hours in (2, 4, 30):
        db_session.add(AccessRequest(
            dataset_id=market["dataset"].id, provider_org_id=market["provider"].id,
            requester_id=market["purchaser"].id, organisation_id=market["buyer"].id, full_name="P", country="DE",
            state=RequestState.APPROVED, submitted_at=now - timedelta(hours=hours + 1),
            decided_at=now - timedelta(hours=1),
        ))  # fmt: skip
    db_session.flush()
    page = client.get("/providers/prov").get_data(as_text=True)
    assert re.search(r"median time to a decision over the last 90 days\s*<strong>4.0 hours</strong>", page)


def test_daily_digest_instead_of_real_time_mail(app, client, market, db_session, outbox):  # type: ignore[no-untyped-def]  # noqa: F811
    _as(client, market, "seller")
    _post(client, "/datasets/speech/access", {"mode": "gated_manual", "holder": "person"})
    assert _post(client, "/access/review/notifications", {"notice": "daily_digest"}).status_code == 302
    _as(client, market, "purchaser")
    _request(client, market, x_institution="", x_ethics_approval="")
    assert outbox.messages_to("seller@example.org") == []
    work = UnitOfWork(db_session, app.extensions["marketplace.context"])
    assert send_digests(work) == 1
    work.commit()
    digest = outbox.messages_to("seller@example.org")[-1]
    assert digest.subject == "Access requests waiting: 1" and "Pat Purchaser: Speech" in digest.body


def test_demo_seed_shows_a_credentialed_and_a_gated_listing_and_is_idempotent(app, client, db_session):  # type: ignore[no-untyped-def]
    from marketplace.access.models import Reviewer
    from marketplace.catalog.models import Dataset
    from marketplace.seed import DEMO_PASSWORD, seed_demo

    work = UnitOfWork(db_session, app.extensions["marketplace.context"])
    with app.app_context():
        first = seed_demo(work)
        db_session.flush()
        again = seed_demo(work)
        db_session.flush()
    assert any("credentialed" in line for line in first) and not any("credentialed" in line for line in again)
    modes = {d.slug: d.access_mode for d in db_session.exec(select(Dataset)).all()}
    assert modes["clinical-notes-deidentified-en"] is AccessMode.CREDENTIALED
    assert modes["multilingual-instruction-pairs"] is AccessMode.GATED_MANUAL
    clinical = db_session.exec(select(Dataset).where(Dataset.slug == "clinical-notes-deidentified-en")).one()
    policy = db_session.exec(select(AccessPolicy).where(AccessPolicy.dataset_id == clinical.id)).one()
    assert policy.agreement_id is not None and len(policy.form_fields) == 2
    pending = db_session.exec(select(AccessRequest)).one()
    assert pending.state is RequestState.SUBMITTED and pending.signature_id is not None
    assert db_session.exec(select(Reviewer)).one().verifies_credentials
    log_in(client, "reviewer@example.com", DEMO_PASSWORD)
    queue = client.get("/access/review").get_data(as_text=True)
    assert "Multilingual instruction-tuning" in queue and 'name="request_ids"' in queue
    _log_out(client)
    log_in(client, "admin@example.com", DEMO_PASSWORD)
    page = client.get("/datasets/clinical-notes-deidentified-en").get_data(as_text=True)
    assert 'data-testid="request-access"' in page and "credentialed" in page


def test_another_organisations_agreement_and_a_credential_decision_are_not_reachable(client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    """Id-addressed pages, tried by an owner of another organisation with the provider's ids: the agreement under
    their own organisation's address or the provider's is 404 (ids are not confirmed), and nobody but a verifier
    decides a credential."""
    agreement = _make_credentialed(client, market, db_session)
    _as(client, market, "purchaser")
    uploaded = _post(client, "/access/credentials", {
        "issuer": "CITI Program", "course": "Data or Specimens Only Research",
        "completed_on": (date.today() - timedelta(days=30)).isoformat(), "expires_on": "",
        "file": (__import__("io").BytesIO(PDF), "citi.pdf", "application/pdf"),
    }, content_type="multipart/form-data")  # fmt: skip
    assert uploaded.status_code == 302
    credential = db_session.exec(select(Credential)).one()
    versions = len(db_session.exec(select(AgreementVersion)).all())
    _as(client, market, "outsider")
    for path in (f"/orgs/rival/agreements/{agreement.id}", f"/orgs/prov/agreements/{agreement.id}"):
        assert client.get(path).status_code == 404, path
        assert _post(client, path, {"body": "# Taken over\n"}).status_code == 404, path
    assert client.get(f"/access/credentials/{credential.id}/file").status_code == 404
    refused = _post(client, f"/access/credentials/{credential.id}/decide", {"decision": "verify"})
    assert refused.status_code == 404
    db_session.refresh(credential)
    assert credential.state is CredentialState.SUBMITTED
    assert len(db_session.exec(select(Agreement)).all()) == 1
    assert len(db_session.exec(select(AgreementVersion)).all()) == versions
