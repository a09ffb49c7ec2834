"""What people holding governed access see and do: samples hidden at their own address, the seat management page of
an organisation's access, signing the agreement of access granted without a request, and a daily digest that names
each request once."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import pytest
from sqlmodel import select

from marketplace.access import agreements, policy
from marketplace.access import requests as reqs
from marketplace.access.models import AccessRequest, DigestEntry, Seat, Signature
from marketplace.access.notify import send_digests
from marketplace.access.states import AccessMode, HolderKind, ReviewerNotice
from marketplace.accounts.models import Role
from marketplace.catalog.models import SampleFile
from marketplace.db import UnitOfWork
from marketplace.delivery import downloads
from marketplace.delivery.errors import DownloadRefused
from marketplace.licenses import services as licenses
from marketplace.mail import ConsoleMailer
from tests.factories import PASSWORD, member
from tests.functional.test_delivery import issue, market  # noqa: F401  (fixture)
from tests.helpers import csrf_token, log_in

SAMPLE = b"id,text\n1,a de-identified note\n"


def _work(app, db_session):  # type: ignore[no-untyped-def]
    context = replace(app.extensions["marketplace.context"], settings=dict(app.config), mailer=ConsoleMailer())
    return UnitOfWork(db_session, context)


def _as(client, user):  # type: ignore[no-untyped-def]
    with client.session_transaction() as session:
        session.clear()
    if user is not None:
        log_in(client, user.email, PASSWORD)


def _post(client, path, data):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/access")})


def _govern(work, market, **options):  # type: ignore[no-untyped-def]  # noqa: F811
    dua = agreements.create_agreement(work, market["seller"], market["provider"], template="research-only")
    policy.configure_access(
        work, market["seller"], market["dataset"], mode=AccessMode.GATED_MANUAL, agreement_id=dua.id, **options
    )
    return dua


def _ask_and_sign(work, market, person):  # type: ignore[no-untyped-def]  # noqa: F811
    request = reqs.submit_request(
        work, person, market["dataset"], organisation_slug="buy", full_name="Pat Purchaser",
        intended_uses=["research"], intended_use_text="Training a de-identification model.", country="DE",
    )  # fmt: skip
    version = agreements.request_version(work.session, request)
    reqs.sign_request(work, person, request, full_name="Pat Purchaser", shown_sha256=version.sha256,
                      ip_address="", user_agent="")  # fmt: skip
    return request


# --- 1. samples the provider keeps private are refused at their own address ------------------------------------------


def test_private_samples_are_refused_at_their_url_to_all_but_holders_and_the_provider(app, client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    sample = SampleFile(
        dataset_id=market["dataset"].id, filename="notes.csv", media_type="text/csv", size_bytes=len(SAMPLE),
        sha256=hashlib.sha256(SAMPLE).hexdigest(), content=SAMPLE,
    )  # fmt: skip
    db_session.add(sample)
    work = _work(app, db_session)
    _govern(work, market, samples_public=True)
    db_session.flush()
    url = f"/datasets/speech/samples/{sample.id}/notes.csv"
    public = client.get(url)
    assert public.status_code == 200 and public.data == SAMPLE
    assert public.headers["Cache-Control"] == "public, max-age=300"

    policy.configure_access(work, market["seller"], market["dataset"], samples_public=False)
    db_session.flush()
    for who in (None, market["purchaser"], market["outsider"]):
        _as(client, who)
        assert client.get(url).status_code == 404, who
    _as(client, market["purchaser"])
    assert "notes.csv" not in client.get("/datasets/speech").get_data(as_text=True)

    request = _ask_and_sign(work, market, market["purchaser"])
    db_session.flush()
    assert client.get(url).status_code == 404  # asked, not yet approved
    reqs.approve_requests(work, market["seller"], [request.id])
    db_session.flush()
    held = client.get(url)
    assert held.status_code == 200 and held.data == SAMPLE
    assert held.headers["Cache-Control"] == "private, no-store"  # never kept by a shared cache
    for who in (market["clerk"], market["seller"], market["admin"]):  # the provider's members; a listing reviewer
        _as(client, who)
        assert client.get(url).status_code == 200, who.email


# --- 2. the seat management page ------------------------------------------------------------------------------------


def test_organisation_admins_manage_named_seats_on_a_page_within_the_seat_count(app, client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    work = _work(app, db_session)
    _govern(work, market, holder=HolderKind.ORGANISATION)
    licenses.create_offer(
        work, market["seller"], market["dataset"], title="Two seats", license_id="LicenseRef-standard-commercial-1.0",
        price_amount=1000, currency="EUR", version_label="1.0.0", overrides={"seats": 2},
    )  # fmt: skip
    [approval] = reqs.approve_requests(work, market["seller"], [_ask_and_sign(work, market, market["purchaser"]).id])
    colleague = member(market["buyer"], Role.MEMBER, email="colleague@example.org")
    member(market["buyer"], Role.MEMBER, email="third@example.org")
    db_session.flush()
    page = f"/access/approvals/{approval.id}/seats"

    # Linked from the owner's "My access"; nobody else reaches the page.
    _as(client, market["buyer_owner"])
    mine = client.get("/access").get_data(as_text=True)
    assert f'href="{page}"' in mine
    for who in (market["purchaser"], market["outsider"], market["seller"]):
        _as(client, who)
        assert client.get(page).status_code == 404, who.email
        assert _post(client, page, {"email": "colleague@example.org"}).status_code == 404
    _as(client, market["purchaser"])
    assert f'href="{page}"' not in client.get("/access").get_data(as_text=True)

    _as(client, market["buyer_owner"])
    shown = client.get(page).get_data(as_text=True)
    assert "purchaser@example.org" in shown and "1 of 2 seats taken" in shown
    assert _post(client, page, {"email": "colleague@example.org"}).status_code == 302
    full = _post(client, page, {"email": "third@example.org"})
    assert full.status_code == 409 and "All 2 seats of the licence terms are taken." in full.get_data(as_text=True)
    stranger = _post(client, page, {"email": "outsider@example.org"})
    nobody = _post(client, page, {"email": "nobody@example.org"})
    assert stranger.status_code == nobody.status_code == 422
    for response, address in ((stranger, "outsider@example.org"), (nobody, "nobody@example.org")):
        assert f"{address} is not a member of your organisation" in response.get_data(as_text=True)
    seated = {s.user_id for s in db_session.exec(select(Seat).where(Seat.approval_id == approval.id)).all()}
    assert seated == {market["purchaser"].id, colleague.id}

    removed = _post(client, f"{page}/{colleague.id}/remove", {})
    assert removed.status_code == 302
    assert _post(client, page, {"email": "third@example.org"}).status_code == 302
    assert "2 of 2 seats taken" in client.get(page).get_data(as_text=True)


# --- 3. access granted without a request: sign before use -----------------------------------------------------------


def test_access_granted_without_a_request_is_signed_from_my_access_before_downloads(app, client, market, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    work = _work(app, db_session)
    dua = _govern(work, market)
    approval = reqs.grant_access(work, market["seller"], market["dataset"], person=market["purchaser"],
                                 organisation_slug="buy", reason="Consortium partner.")  # fmt: skip
    grant = issue(app, db_session, market)
    requester = downloads.Requester(user=market["purchaser"])
    with pytest.raises(DownloadRefused, match="sign the data-use agreement to use your access"):
        downloads.check_download_allowed(work, grant, requester)

    _as(client, market["purchaser"])
    sign_page = f"/access/approvals/{approval.id}/sign"
    assert f'href="{sign_page}"' in client.get("/access").get_data(as_text=True)
    page = client.get(sign_page).get_data(as_text=True)
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', page).group(1)  # type: ignore[union-attr]
    [version] = agreements.versions_of(db_session, dua)
    assert sha == version.sha256
    unnamed = _post(client, sign_page, {"full_name": " ", "sha256": sha})
    assert unnamed.status_code == 422 and 'data-testid="error-full_name"' in unnamed.get_data(as_text=True)
    _as(client, market["clerk"])  # someone else cannot sign it, nor see the page
    assert client.get(sign_page).status_code == 404
    assert _post(client, sign_page, {"full_name": "Clerk", "sha256": sha}).status_code == 404

    _as(client, market["purchaser"])
    signed = client.post(sign_page, data={"full_name": "Pat Purchaser", "sha256": sha,
                                          "csrf_token": csrf_token(client, "/access")},
                         headers={"User-Agent": "pages-test/1.0"})  # fmt: skip
    assert signed.status_code == 302
    db_session.refresh(approval)
    signature = db_session.get(Signature, approval.signature_id)
    assert signature is not None and signature.full_name == "Pat Purchaser"
    assert signature.sha256 == version.sha256 and signature.user_agent == "pages-test/1.0"
    assert signature.ip_address and signature.signed_at is not None
    downloads.check_download_allowed(work, grant, requester)
    assert f'href="{sign_page}"' not in client.get("/access").get_data(as_text=True)
    again = _post(client, sign_page, {"full_name": "Pat Purchaser", "sha256": sha})
    assert again.status_code == 409 and "already signed" in again.get_data(as_text=True)


# --- 4. the daily digest names each request once -------------------------------------------------------------------


def test_running_the_digest_twice_a_day_sends_each_request_once(app, client, market, db_session, outbox) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    work = _work(app, db_session)
    policy.configure_access(work, market["seller"], market["dataset"], mode=AccessMode.GATED_MANUAL)
    policy.set_reviewer(work, market["seller"], market["provider"], market["clerk"],
                        notice=ReviewerNotice.DAILY_DIGEST)  # fmt: skip
    first = reqs.submit_request(
        work, market["purchaser"], market["dataset"], organisation_slug="buy", full_name="Pat Purchaser",
        intended_uses=["research"], intended_use_text="Training a de-identification model.", country="DE",
    )  # fmt: skip
    db_session.flush()
    runner = app.test_cli_runner()
    ran = runner.invoke(args=["access", "digest"])
    assert ran.exit_code == 0 and "digests sent: 1" in ran.output, ran.output
    again = runner.invoke(args=["access", "digest"])
    assert again.exit_code == 0 and "digests sent: 0" in again.output, again.output
    digests = outbox.messages_to("clerk@example.org")
    assert len(digests) == 1 and "Pat Purchaser: Speech" in digests[0].body

    second_person = member(market["buyer"], Role.MEMBER, email="second@example.org")
    reqs.submit_request(
        work, second_person, market["dataset"], organisation_slug="buy", full_name="Sam Second",
        intended_uses=["research"], intended_use_text="Evaluating a clinical tagger.", country="FR",
    )  # fmt: skip
    db_session.flush()
    assert "digests sent: 1" in runner.invoke(args=["access", "digest"]).output
    latest = outbox.messages_to("clerk@example.org")[-1]
    assert latest.subject == "Access requests waiting: 1"
    assert "Sam Second: Speech" in latest.body and "Pat Purchaser" not in latest.body
    entries = db_session.exec(select(DigestEntry).where(DigestEntry.reviewer_id == market["clerk"].id)).all()
    assert sorted(e.request_id for e in entries) == sorted(
        r.id for r in db_session.exec(select(AccessRequest)).all()
    ) and first.id in {e.request_id for e in entries}


def test_a_second_digest_the_same_day_names_no_request_again(app, market, db_session, outbox) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    work = UnitOfWork(db_session, app.extensions["marketplace.context"])
    policy.configure_access(work, market["seller"], market["dataset"], mode=AccessMode.GATED_MANUAL)
    policy.set_reviewer(work, market["seller"], market["provider"], market["clerk"],
                        notice=ReviewerNotice.DAILY_DIGEST)  # fmt: skip
    reqs.submit_request(
        work, market["purchaser"], market["dataset"], organisation_slug="buy", full_name="Pat Purchaser",
        intended_uses=["research"], intended_use_text="Training a de-identification model.", country="DE",
    )  # fmt: skip
    assert send_digests(work) == 1
    work.commit()
    assert send_digests(work) == 0
    work.commit()
    assert len(outbox.messages_to("clerk@example.org")) == 1
