"""Offers on listings, free acquisition, the license page, public keys and verification, over HTTP."""

from __future__ import annotations

import jwt
import pytest
from sqlmodel import Session, select

from marketplace.accounts.models import OrgKind, Role
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import utcnow
from marketplace.licenses.models import Grant, GrantEvent, Offer, TermsAcceptance
from tests.factories import PASSWORD, OrganisationFactory, member
from tests.helpers import log_in, post_form

DIGEST = "ab" * 32


def published_dataset(session: Session, org, slug: str = "speech-corpus") -> tuple[Dataset, DatasetVersion]:
    dataset = Dataset(
        slug=slug,
        organisation_id=org.id,
        title="Speech Corpus",
        summary="Read speech",
        status=DatasetStatus.PUBLISHED,
        published_at=utcnow(),
    )
    session.add(dataset)
    session.flush()
    version = DatasetVersion(
        dataset_id=dataset.id,
        version="1.0.0",
        status=VersionStatus.PUBLISHED,
        manifest_digest=DIGEST,
        published_at=utcnow(),
    )
    session.add(version)
    session.flush()
    return dataset, version


@pytest.fixture()
def market(db_session: Session):
    provider = OrganisationFactory(slug="prov", name="Provider Co", kind=OrgKind.PROVIDER)
    buyer = OrganisationFactory(slug="buy", name="Buyer Co", kind=OrgKind.BUYER)
    rival = OrganisationFactory(slug="rival", name="Rival Co", kind=OrgKind.BUYER)
    seller = member(provider, Role.ADMIN, email="seller@example.org")
    provider_member = member(provider, Role.MEMBER, email="clerk@example.org")
    purchaser = member(buyer, Role.MEMBER, email="purchaser@example.org")
    outsider = member(rival, Role.OWNER, email="outsider@example.org")
    dataset, version = published_dataset(db_session, provider)
    return {
        "provider": provider, "buyer": buyer, "rival": rival, "seller": seller, "clerk": provider_member,
        "purchaser": purchaser, "outsider": outsider, "dataset": dataset, "version": version,
    }  # fmt: skip


def _create_offer(client, slug: str, **fields: str):
    data = {"title": "Open", "license_id": "CC-BY-4.0", "price": "0", "currency": "EUR", **fields}
    return post_form(client, f"/datasets/{slug}/offers", data, token_from="/settings")


def _terms(license_id: str, **changes: object) -> dict[str, object]:
    """The offer form's term inputs as the page fills them for ``license_id``, with ``changes`` typed in."""
    import licensing
    from marketplace.licenses import term_form

    values = term_form.form_values(licensing.get_template(license_id).terms)
    return {"license_id": license_id, "terms_of": license_id, **values, **changes}


def test_provider_admin_creates_offers_and_the_dataset_page_shows_them(client, market, db_session) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    assert _create_offer(client, "speech-corpus", title="Open license").status_code == 302
    response = _create_offer(
        client, "speech-corpus", title="Commercial training",
        price="1,250.00",
        **_terms("LicenseRef-standard-commercial-1.0", **{"terms.territory": "DE, FR", "terms.seats": "5"}),
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    offers = db_session.exec(select(Offer).where(Offer.dataset_id == market["dataset"].id)).all()
    commercial = next(o for o in offers if o.title == "Commercial training")
    assert commercial.price_amount == 125000 and commercial.currency == "EUR"
    assert commercial.training_permitted is True
    assert commercial.terms["seats"] == 5 and commercial.terms["territory"] == ["DE", "FR"]
    assert commercial.overrides == {"territory": ["DE", "FR"], "seats": 5}
    assert len(commercial.terms_hash) == 64


@pytest.mark.parametrize(
    "fields,field_name",
    [
        ({"license_id": "CC-BY-NC-4.0", "price": "10"}, "price"),
        ({"license_id": "NOT-A-LICENSE"}, "license_id"),
        ({"license_id": "LicenseRef-standard-commercial-1.0", "price": "1.005"}, "price"),
        ({**_terms("LicenseRef-standard-commercial-1.0", **{"terms.seats": "many"}), "price": "10"}, "terms-seats"),
        ({**_terms("LicenseRef-standard-commercial-1.0", **{"terms.exclusivity": "full"}), "price": "10"},
         "terms-exclusivity"),
        ({"license_id": "CC-BY-4.0", "version_label": "9.9.9"}, "version_label"),
    ],
)  # fmt: skip
def test_bad_offers_are_refused_naming_the_field(client, market, db_session, fields, field_name) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    response = _create_offer(client, "speech-corpus", **fields)
    assert response.status_code == 422
    assert f'id="e-{field_name}"' in response.get_data(as_text=True)
    assert db_session.exec(select(Offer)).all() == []


@pytest.mark.parametrize("email", ["clerk@example.org", "purchaser@example.org", "outsider@example.org"])
def test_only_provider_admins_manage_offers(client, market, email) -> None:
    log_in(client, email, PASSWORD)
    assert client.get("/datasets/speech-corpus/offers").status_code == 403
    assert _create_offer(client, "speech-corpus").status_code == 403


def _offer(db_session, market, **kw) -> Offer:
    from marketplace.db import ServiceContext, UnitOfWork
    from marketplace.licenses import services as svc
    from marketplace.mail import ConsoleMailer

    fields = {"title": "Open", "license_id": "CC-BY-4.0", "price_amount": 0, "currency": "EUR", **kw}
    context = ServiceContext({"BASE_URL": "http://localhost"}, ConsoleMailer())
    offer = svc.create_offer(UnitOfWork(db_session, context), market["seller"], market["dataset"], **fields)
    db_session.flush()
    return offer


def test_free_license_acquired_verified_and_visible_only_to_the_parties(app, client, market, db_session) -> None:
    offer = _offer(db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    page = client.get("/licenses").get_data(as_text=True)
    assert "No licenses yet" in page

    # Terms must be accepted as shown.
    refused = post_form(client, f"/offers/{offer.id}/acquire", {"licensee": "buy", "accept_terms": "0" * 64},
                        token_from="/settings")  # fmt: skip
    assert refused.status_code == 422
    response = post_form(client, f"/offers/{offer.id}/acquire", {"licensee": "buy", "accept_terms": offer.terms_hash},
                         token_from="/settings")  # fmt: skip
    assert response.status_code == 302
    grant = db_session.exec(select(Grant)).one()
    assert grant.status == "active" and grant.licensee_org_id == market["buyer"].id
    acceptance = db_session.exec(select(TermsAcceptance)).one()
    assert acceptance.terms_hash == offer.terms_hash and acceptance.user_id == market["purchaser"].id
    assert [e.to_status for e in db_session.exec(select(GrantEvent)).all()] == ["active"]

    page = client.get(f"/licenses/{grant.id}")
    assert page.status_code == 200
    assert grant.certificate in page.get_data(as_text=True)

    # Anyone can verify, without an account, as a page and as JSON.
    anonymous = app.test_client()
    result = anonymous.get(f"/licenses/{grant.id}/verify", headers={"Accept": "application/json"}).get_json()
    assert result["valid"] is True and result["status"] == "active"
    assert result["licensee_organisation"] == "Buyer Co"
    assert result["dataset"]["slug"] == "speech-corpus" and result["versions"] == ["1.0.0"]
    assert result["terms_hash"] == grant.terms_hash
    assert "Valid" in anonymous.get(f"/licenses/{grant.id}/verify").get_data(as_text=True)

    # The certificate verifies with PyJWT from the public JWKS alone.
    jwks = anonymous.get("/.well-known/jwks.json").get_json()
    key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(grant.certificate, key=key.key, algorithms=["EdDSA"], options={"verify_aud": False})
    assert claims["jti"] == grant.id

    # The other buyer, and anonymous users, cannot see the license page (404, not 403: ids are not confirmed).
    outsider = app.test_client()
    log_in(outsider, "outsider@example.org", PASSWORD)
    assert outsider.get(f"/licenses/{grant.id}").status_code == 404
    assert outsider.get(f"/licenses/{grant.id}/certificate.jws").status_code == 404
    assert anonymous.get(f"/licenses/{grant.id}").status_code == 302
    # The licensor's members may.
    seller = app.test_client()
    log_in(seller, "clerk@example.org", PASSWORD)
    assert seller.get(f"/licenses/{grant.id}").status_code == 200


def test_cannot_acquire_for_an_organisation_you_do_not_belong_to(client, market, db_session) -> None:
    offer = _offer(db_session, market)
    log_in(client, "outsider@example.org", PASSWORD)
    response = post_form(client, f"/offers/{offer.id}/acquire", {"licensee": "buy", "accept_terms": offer.terms_hash},
                         token_from="/settings")  # fmt: skip
    assert response.status_code == 403
    assert db_session.exec(select(Grant)).all() == []


def test_paid_offer_cannot_be_acquired_for_free(client, market, db_session) -> None:
    offer = _offer(db_session, market, license_id="LicenseRef-standard-commercial-1.0", price_amount=5000)
    log_in(client, "purchaser@example.org", PASSWORD)
    response = post_form(client, f"/offers/{offer.id}/acquire", {"licensee": "buy", "accept_terms": offer.terms_hash},
                         token_from="/settings")  # fmt: skip
    assert response.status_code == 409
    assert db_session.exec(select(Grant)).all() == []


def test_private_offer_is_invisible_and_unavailable_to_others(app, client, market, db_session) -> None:
    offer = _offer(db_session, market, audience_org_slug="buy")
    from marketplace.licenses import services as svc

    assert offer in svc.offers_for_dataset(db_session, market["dataset"], market["purchaser"])
    assert offer not in svc.offers_for_dataset(db_session, market["dataset"], market["outsider"])
    assert offer not in svc.offers_for_dataset(db_session, market["dataset"], None)
    assert offer in svc.offers_for_dataset(db_session, market["dataset"], market["clerk"])
    log_in(client, "outsider@example.org", PASSWORD)
    response = post_form(client, f"/offers/{offer.id}/acquire", {"licensee": "rival", "accept_terms": offer.terms_hash},
                         token_from="/settings")  # fmt: skip
    assert response.status_code == 422
    assert "another buyer" in response.get_data(as_text=True)


def test_revoked_license_verifies_as_genuine_but_not_in_force(app, client, market, db_session) -> None:
    import licensing
    from marketplace.db import ServiceContext, UnitOfWork
    from marketplace.licenses import services as svc
    from marketplace.mail import ConsoleMailer

    offer = _offer(db_session, market)
    context = ServiceContext(
        {"BASE_URL": "http://localhost"}, ConsoleMailer(), keyring=app.extensions["marketplace.context"].keyring
    )
    uow = UnitOfWork(db_session, context)
    grant = svc.issue_grant(uow, offer, licensee=market["buyer"], acquired_by=None)
    svc.transition_grant(uow, grant, licensing.GrantAction.REVOKE, reason="refund", actor="admin")
    db_session.flush()
    result = client.get(f"/licenses/{grant.id}/verify?format=json").get_json()
    assert result["valid"] is False and result["status"] == "revoked"
    # A revoked license cannot come back.
    from marketplace.errors import Conflict

    with pytest.raises(Conflict):
        svc.transition_grant(uow, grant, licensing.GrantAction.REINSTATE, reason="oops", actor="admin")


def test_unknown_license_verifies_as_unknown(client) -> None:
    response = client.get("/licenses/01HZZZZZZZZZZZZZZZZZZZZZZZ/verify", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["reason"] == "unknown_license"
    long_id = client.get("/licenses/" + "x" * 300 + "/verify?format=json")
    assert long_id.status_code == 404


def test_use_check_on_the_license_page(client, market, db_session, app) -> None:
    offer = _offer(db_session, market, license_id="CC-BY-NC-4.0")
    log_in(client, "purchaser@example.org", PASSWORD)
    post_form(client, f"/offers/{offer.id}/acquire", {"licensee": "buy", "accept_terms": offer.terms_hash},
              token_from="/settings")  # fmt: skip
    grant = db_session.exec(select(Grant)).one()
    page = client.get(f"/licenses/{grant.id}?action=train&commercial=on&territory=DE").get_data(as_text=True)
    assert "Not allowed" in page
    page = client.get(f"/licenses/{grant.id}?action=research&territory=DE").get_data(as_text=True)
    assert "Allowed" in page
    bad = client.get(f"/licenses/{grant.id}?action=teleport")
    assert bad.status_code == 422


def test_may_we_form_treats_an_empty_seats_field_as_not_asked(client, market, db_session) -> None:
    offer = _offer(db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    post_form(client, f"/offers/{offer.id}/acquire", {"licensee": "buy", "accept_terms": offer.terms_hash},
              token_from="/settings")  # fmt: skip
    grant = db_session.exec(select(Grant)).one()
    ask = f"/licenses/{grant.id}?action=train&commercial=on&territory=DE&seats_in_use="
    # The browser sends the empty number field as "": the check runs without a seat count.
    for blank in ("", "%20%20"):
        response = client.get(ask + blank)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, page
        assert 'data-testid="use-decision"' in page and "Allowed" in page and "alert-error" not in page
    assert client.get(ask + "3").status_code == 200
    # Anything else is a field error in the form's own words.
    for bad, words in (("abc", "enter a whole number of seats"), ("-1", "enter a number of seats from 0 to 1,000,000")):
        response = client.get(ask + bad)
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert f"Seats in use: {words}" in page and "seats_in_use:" not in page


def test_paste_a_certificate_to_verify_it(client, market, db_session) -> None:
    offer = _offer(db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    post_form(client, f"/offers/{offer.id}/acquire", {"licensee": "buy", "accept_terms": offer.terms_hash},
              token_from="/settings")  # fmt: skip
    grant = db_session.exec(select(Grant)).one()
    ok = post_form(client, "/verify", {"certificate": grant.certificate}, token_from="/verify")
    assert "genuine" in ok.get_data(as_text=True)
    tampered = grant.certificate[:-3] + ("AAA" if not grant.certificate.endswith("AAA") else "BBB")
    bad = post_form(client, "/verify", {"certificate": tampered}, token_from="/verify")
    assert "not valid" in bad.get_data(as_text=True)


@pytest.mark.parametrize("license_id", ["LicenseRef-research-only-1.0", "CC-BY-4.0"])
def test_the_license_page_shows_the_attribution_of_a_site_license_and_of_an_open_one(
    client, market, db_session, license_id
) -> None:
    """The marketplace's own licenses have addresses on this site; their attribution names the full address."""
    offer = _offer(db_session, market, title="Attributed", license_id=license_id)
    log_in(client, "purchaser@example.org", PASSWORD)
    response = post_form(
        client, f"/offers/{offer.id}/acquire", {"licensee": "buy", "accept_terms": offer.terms_hash},
        token_from="/settings",
    )  # fmt: skip
    assert response.status_code == 302
    grant = db_session.exec(select(Grant).where(Grant.offer_id == offer.id)).one()
    page = client.get(f"/licenses/{grant.id}")
    assert page.status_code == 200
    if license_id.startswith("LicenseRef-"):
        assert f"http://localhost/license-templates/{license_id}" in page.get_data(as_text=True)
