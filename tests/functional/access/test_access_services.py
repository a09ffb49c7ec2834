"""Governed access through its services: modes, the request form, agreements bound into grants and certificates,
credentials, batch review, seats, expiry with an injected clock, the download gate, audit export, permissions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

import licensing
from marketplace.access import agreements, audit, credentials, holders, policy
from marketplace.access import requests as reqs
from marketplace.access.models import AccessEvent, Approval
from marketplace.access.states import AccessMode, ApprovalState, HolderKind, RequestState
from marketplace.accounts.models import Role
from marketplace.db import UnitOfWork, utcnow
from marketplace.delivery import downloads
from marketplace.delivery.errors import DownloadRefused
from marketplace.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.licenses import services as licenses
from marketplace.licenses import verification
from marketplace.mail import ConsoleMailer
from marketplace.orders import services as orders
from tests.factories import UserFactory, member
from tests.functional.test_delivery import market  # noqa: F401  (fixture)

FREE = "CC-BY-4.0"


class Clock:
    """A clock tests move by hand: the services read it through the unit of work."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def work(app, db_session, clock):  # type: ignore[no-untyped-def]
    context = replace(app.extensions["marketplace.context"], settings=dict(app.config), mailer=ConsoleMailer())
    return UnitOfWork(db_session, context.at(clock))


def _govern(work, market, mode: AccessMode, **kw):  # type: ignore[no-untyped-def]  # noqa: F811
    dua = agreements.create_agreement(work, market["seller"], market["provider"], template="credentialed-research")
    policy.configure_access(work, market["seller"], market["dataset"], mode=mode, agreement_id=dua.id, **kw)
    return dua


def _ask(work, market, person=None):  # type: ignore[no-untyped-def]  # noqa: F811
    return reqs.submit_request(
        work, person or market["purchaser"], market["dataset"], organisation_slug="buy", full_name="Pat Purchaser",
        intended_uses=["research"], intended_use_text="Training a de-identification model.", country="DE",
    )  # fmt: skip


def _sign(work, market, request, person=None):  # type: ignore[no-untyped-def]  # noqa: F811
    version = agreements.request_version(work.session, request)
    return reqs.sign_request(
        work, person or market["purchaser"], request, full_name="Pat Purchaser", shown_sha256=version.sha256,
        ip_address="203.0.113.5", user_agent="pytest",
    )  # fmt: skip


def _free_offer(work, market):  # type: ignore[no-untyped-def]  # noqa: F811
    return licenses.create_offer(
        work, market["seller"], market["dataset"], title="Open", license_id=FREE, price_amount=0, currency="EUR",
        version_label="1.0.0",
    )  # fmt: skip


def _acquire(work, market, offer):  # type: ignore[no-untyped-def]  # noqa: F811
    return licenses.acquire_free(
        work, market["purchaser"], offer, licensee_slug="buy", accepted_terms_hash=offer.terms_hash, ip_address="::1"
    )


def test_gated_auto_approves_on_signature_and_the_certificate_names_the_agreement(app, work, market) -> None:  # noqa: F811
    dua = _govern(work, market, AccessMode.GATED_AUTO)
    offer = _free_offer(work, market)
    with pytest.raises(PermissionDenied, match="requested and approved"):
        _acquire(work, market, offer)
    request = _ask(work, market)
    assert request.state is RequestState.SUBMITTED  # the agreement is not signed yet
    signature = _sign(work, market, request)
    assert request.state is RequestState.APPROVED
    assert signature.ip_address == "203.0.113.5" and signature.user_agent == "pytest"
    version = agreements.versions_of(work.session, dua)[0]
    assert signature.sha256 == version.sha256 == agreements.text_sha256(version.body)

    grant = _acquire(work, market, offer)
    assert grant.record["agreement"] == {"id": str(dua.id), "version": "1", "sha256": version.sha256}
    ring = licenses.keyring(work)
    result = licensing.verify_certificate(grant.certificate, ring.public_jwks(work.now()), work.now())
    assert result.valid and result.claims["agreement"] == {"id": str(dua.id), "version": "1", "sha256": version.sha256}
    online = verification.verify_grant(work.session, ring, grant.id, work.now())
    assert online.valid and online.to_dict()["agreement"]["sha256"] == version.sha256


def test_the_form_names_each_bad_field_by_its_label(work, market) -> None:  # noqa: F811
    _govern(work, market, AccessMode.GATED_MANUAL, form_fields=[
        {"key": "irb", "label": "Ethics approval number", "kind": "text", "required": True},
        {"key": "site", "label": "Site country", "kind": "country"},
        {"key": "start", "label": "Start date", "kind": "date"},
        {"key": "role", "label": "Your role", "kind": "select", "options": ["clinician", "researcher"]},
        {"key": "ok", "label": "Data protection", "kind": "checkbox", "checkbox_text": "I will keep the data safe",
         "required": True},
    ])  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        reqs.submit_request(
            work, market["purchaser"], market["dataset"], organisation_slug="buy", full_name="", intended_uses=["fly"],
            intended_use_text="short", country="XX",
            answers={"site": "ZZ", "start": "31/12/2026", "role": "pilot", "nope": 1},
        )  # fmt: skip
    fields = set(caught.value.field_messages())
    assert {"Full name", "Intended use", "Describe your intended use", "Country"} <= fields
    with pytest.raises(ValidationFailed) as caught:
        reqs.submit_request(
            work, market["purchaser"], market["dataset"], organisation_slug="buy", full_name="Pat",
            intended_uses=["research"], intended_use_text="A long enough description.", country="de",
            answers={"site": "ZZ", "start": "31/12/2026", "role": "pilot", "nope": 1},
        )  # fmt: skip
    assert set(caught.value.field_messages()) == {
        "Ethics approval number", "Site country", "Start date", "Your role", "Data protection", "nope",
    }  # fmt: skip
    with pytest.raises(ValidationFailed, match="checkbox needs its own text"):
        policy.configure_access(work, market["seller"], market["dataset"],
                                form_fields=[{"key": "x", "label": "X", "kind": "checkbox"}])  # fmt: skip


def test_batch_review_with_reasons_and_the_providers_queue_only(work, market, clock) -> None:  # noqa: F811
    _govern(work, market, AccessMode.GATED_MANUAL, default_expiry_days=30)
    second = member(market["buyer"], Role.MEMBER, email="second@example.org")
    third = member(market["buyer"], Role.MEMBER, email="third@example.org")
    requests = [_ask(work, market, person) for person in (market["purchaser"], second, third)]
    for request, person in zip(requests, (market["purchaser"], second, third), strict=True):
        _sign(work, market, request, person)
    assert all(r.state is RequestState.SUBMITTED for r in requests)
    queue = reqs.review_queue(work.session, market["seller"], market["provider"])
    assert [r.id for r in queue] == [r.id for r in requests]
    # A reviewer of another provider sees nothing and decides nothing.
    with pytest.raises(PermissionDenied):
        reqs.review_queue(work.session, market["outsider"], market["provider"])
    assert reqs.review_queue(work.session, market["outsider"], market["rival"]) == []
    with pytest.raises(NotFound):
        reqs.approve_requests(work, market["outsider"], [requests[0].id])
    # A flagged reviewer (a plain member otherwise) may review.
    policy.set_reviewer(work, market["seller"], market["provider"], market["clerk"])
    clock.now += timedelta(hours=4)
    approvals = reqs.approve_requests(work, market["clerk"], [requests[0].id, requests[1].id], reason="ok")
    assert [a.expires_at for a in approvals] == [clock.now + timedelta(days=30)] * 2
    rejected = reqs.reject_requests(work, market["clerk"], [requests[2].id], reason="No ethics approval given.")
    assert rejected[0].decision_reason == "No ethics approval given."
    with pytest.raises(Conflict):
        reqs.approve_requests(work, market["clerk"], [requests[2].id])
    assert reqs.median_decision_hours(work.session, market["provider"], clock.now) == pytest.approx(4, abs=0.01)
    history = audit.history_of(work.session, third)
    assert [e.action for e in history if e.subject == "request"] == ["submitted", "rejected"]
    assert history[-1].reason == "No ethics approval given." and history[-1].actor_id == market["clerk"].id
    report = audit.export_csv(work.session, market["seller"], market["provider"])
    assert report.splitlines()[0].startswith("at,actor,subject") and "No ethics approval given." in report
    with pytest.raises(PermissionDenied):
        audit.export_csv(work.session, market["purchaser"], market["provider"])
    # A requester sees only their own.
    assert reqs.get_request(work.session, third, requests[2].id).id == requests[2].id
    with pytest.raises(NotFound):
        reqs.get_request(work.session, second, requests[2].id)


def test_gated_and_paid_needs_approval_before_checkout(work, market) -> None:  # noqa: F811
    _govern(work, market, AccessMode.GATED_MANUAL)
    offer = licenses.create_offer(
        work, market["seller"], market["dataset"], title="Commercial", license_id="LicenseRef-standard-commercial-1.0",
        price_amount=125000, currency="EUR", version_label="1.0.0",
    )  # fmt: skip

    def order():  # type: ignore[no-untyped-def]
        return orders.order_offers(
            work, market["purchaser"], licensee_slug="buy", offer_ids=[offer.id],
            accepted_terms={offer.id: offer.terms_hash},
            success_url="http://localhost/ok/{ORDER_ID}?s={CHECKOUT_SESSION_ID}", cancel_url="http://localhost/c",
        )  # fmt: skip

    with pytest.raises(ValidationFailed, match="requested and approved"):
        order()
    request = _ask(work, market)
    _sign(work, market, request)
    with pytest.raises(ValidationFailed, match="waiting for review"):
        order()
    reqs.approve_requests(work, market["seller"], [request.id])
    placed = order()
    assert placed.status == "pending_payment"


def test_expiry_stops_downloads_at_once_and_the_sweep_records_it(app, work, market, clock) -> None:  # noqa: F811
    _govern(work, market, AccessMode.GATED_MANUAL)
    request = _ask(work, market)
    _sign(work, market, request)
    [approval] = reqs.approve_requests(work, market["seller"], [request.id], expires_at=clock.now + timedelta(days=20))
    grant = _acquire(work, market, _free_offer(work, market))
    requester = downloads.Requester(user=market["purchaser"])
    link = downloads.issue_download_link(work, grant=grant, file_id=market["files"][0].id, requester=requester)
    reference = downloads.link_reference(link.event)
    assert downloads.link_refusal(work, reference) is None

    clock.now += timedelta(days=7)  # 13 days left: notice once
    report = holders.sweep(work)
    assert report.approval_notices == [approval.id] and holders.sweep(work).approval_notices == []

    clock.now += timedelta(days=14)
    assert downloads.link_refusal(work, reference) == "access expired"  # a link issued before stops at once
    with pytest.raises(DownloadRefused, match="access expired"):
        downloads.issue_download_link(work, grant=grant, file_id=market["files"][0].id, requester=requester)
    assert holders.sweep(work).approvals_expired == [approval.id]
    assert approval.state is ApprovalState.EXPIRED
    with pytest.raises(Conflict):
        reqs.reset_approval(work, market["seller"], approval)


def test_reset_and_new_agreement_version_suspend_until_re_signed(work, market) -> None:  # noqa: F811
    dua = _govern(work, market, AccessMode.GATED_MANUAL)
    request = _ask(work, market)
    _sign(work, market, request)
    [approval] = reqs.approve_requests(work, market["seller"], [request.id])
    grant = _acquire(work, market, _free_offer(work, market))
    requester = downloads.Requester(user=market["purchaser"])
    new = agreements.publish_version(work, market["seller"], dua, body=agreements.RESEARCH_ONLY)
    with pytest.raises(DownloadRefused, match="sign version 2"):
        downloads.check_download_allowed(work, grant, requester)
    agreements.sign(work, market["purchaser"], new, full_name="Pat Purchaser", shown_sha256=new.sha256,
                    ip_address="", user_agent="")  # fmt: skip
    downloads.check_download_allowed(work, grant, requester)
    reqs.reset_approval(work, market["seller"], approval, reason="re-check")
    with pytest.raises(DownloadRefused, match="request access again"):
        downloads.check_download_allowed(work, grant, requester)


def test_credentialed_access_needs_a_verified_unexpired_credential(work, market, clock) -> None:  # noqa: F811
    _govern(work, market, AccessMode.CREDENTIALED)
    request = _ask(work, market)
    _sign(work, market, request)
    cred = credentials.upload_credential(
        work, market["purchaser"], content=b"%PDF-1.4 certificate", filename="citi.pdf", media_type="application/pdf",
        issuer="CITI Program", course="Data or Specimens Only Research", completed_on=date(2025, 1, 10),
        expires_on=(clock.now + timedelta(days=30)).date(),
    )  # fmt: skip
    # Credential files: the person and their verifiers only.
    assert credentials.credential_file(work, market["purchaser"], cred.id)[1] == b"%PDF-1.4 certificate"
    with pytest.raises(NotFound):
        credentials.get_credential(work.session, market["outsider"], cred.id)
    with pytest.raises(PermissionDenied):
        credentials.decide_credential(work, market["clerk"], cred, verified=True)
    policy.set_reviewer(work, market["seller"], market["provider"], market["clerk"], verifies_credentials=True)
    assert credentials.credential_file(work, market["clerk"], cred.id)[0].id == cred.id
    reqs.approve_requests(work, market["seller"], [request.id])
    grant = _acquire_or_refused = None
    with pytest.raises(PermissionDenied, match="training credential"):
        _acquire(work, market, _free_offer(work, market))
    credentials.decide_credential(work, market["clerk"], cred, verified=True)
    with pytest.raises(Conflict):
        credentials.decide_credential(work, market["admin"], cred, verified=False, reason="twice")
    grant = _acquire(work, market, _free_offer(work, market))
    requester = downloads.Requester(user=market["purchaser"])
    downloads.check_download_allowed(work, grant, requester)
    clock.now += timedelta(days=20)
    assert holders.sweep(work).credential_notices == [cred.id]
    clock.now += timedelta(days=11)
    with pytest.raises(DownloadRefused, match="training credential"):
        downloads.check_download_allowed(work, grant, requester)
    assert holders.sweep(work).credentials_expired == [cred.id]
    del _acquire_or_refused


def test_organisation_seats_are_enforced(work, market) -> None:  # noqa: F811
    _govern(work, market, AccessMode.GATED_MANUAL, holder=HolderKind.ORGANISATION)
    licenses.create_offer(
        work, market["seller"], market["dataset"], title="Two seats", license_id="LicenseRef-standard-commercial-1.0",
        price_amount=1000, currency="EUR", version_label="1.0.0", overrides={"seats": 2},
    )  # fmt: skip
    request = _ask(work, market)
    _sign(work, market, request)
    [approval] = reqs.approve_requests(work, market["seller"], [request.id])
    assert [s.user_id for s in holders.seats_of(work.session, approval)] == [market["purchaser"].id]
    colleague = member(market["buyer"], Role.MEMBER, email="colleague@example.org")
    third = member(market["buyer"], Role.MEMBER, email="third@example.org")
    with pytest.raises(PermissionDenied):
        holders.add_seat(work, market["purchaser"], approval, colleague)  # a plain member manages no seats
    holders.add_seat(work, market["buyer_owner"], approval, colleague)
    with pytest.raises(Conflict, match="All 2 seats"):
        holders.add_seat(work, market["buyer_owner"], approval, third)
    with pytest.raises(ValidationFailed):
        holders.add_seat(work, market["buyer_owner"], approval, UserFactory())
    holders.remove_seat(work, market["buyer_owner"], approval, colleague.id)
    holders.add_seat(work, market["buyer_owner"], approval, third)


def test_state_machines_refuse_illegal_moves_and_log_transitions(work, market) -> None:  # noqa: F811
    _govern(work, market, AccessMode.GATED_MANUAL)
    request = _ask(work, market)
    reqs.withdraw_request(work, market["purchaser"], request)
    with pytest.raises(Conflict, match="withdrawn cannot become approved"):
        reqs.approve_requests(work, market["seller"], [request.id])
    rows = work.session.exec(select(AccessEvent).where(AccessEvent.subject_id == request.id,
                                                       AccessEvent.subject == "request")).all()  # fmt: skip
    assert [(r.from_state, r.to_state, r.actor_id) for r in rows] == [
        (None, "submitted", market["purchaser"].id), ("submitted", "withdrawn", market["purchaser"].id),
    ]  # fmt: skip
    approval = reqs.grant_access(work, market["seller"], market["dataset"], person=market["purchaser"],
                                 organisation_slug="buy")  # fmt: skip
    assert work.session.get(Approval, approval.id).request_id is None
