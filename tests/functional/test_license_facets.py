"""The catalog's license-family and "AI training permitted" facets, built from public active offers."""

from __future__ import annotations

from marketplace.accounts.models import OrgKind, Role
from marketplace.db import ServiceContext, UnitOfWork
from marketplace.licenses import services as licenses
from marketplace.mail import ConsoleMailer
from tests.factories import OrganisationFactory, member
from tests.functional.test_licenses import published_dataset


def _offer(db_session, seller, dataset, license_id: str, price: int = 0, **kw):  # type: ignore[no-untyped-def]
    uow = UnitOfWork(db_session, ServiceContext({"BASE_URL": "http://localhost"}, ConsoleMailer()))
    offer = licenses.create_offer(uow, seller, dataset, title=license_id, license_id=license_id,
                                  price_amount=price, currency="EUR", **kw)  # fmt: skip
    db_session.flush()
    return offer


def _titles(client, query: str) -> str:
    response = client.get(f"/datasets?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_offer_facets_filter_and_count(client, db_session) -> None:
    provider = OrganisationFactory(kind=OrgKind.PROVIDER)
    buyer = OrganisationFactory(slug="only-buyer", kind=OrgKind.BUYER)
    seller = member(provider, Role.OWNER)
    open_ds, _ = published_dataset(db_session, provider, slug="open-corpus")
    nc_ds, _ = published_dataset(db_session, provider, slug="nc-corpus")
    eval_ds, _ = published_dataset(db_session, provider, slug="eval-corpus")
    hidden_ds, _ = published_dataset(db_session, provider, slug="private-corpus")
    _offer(db_session, seller, open_ds, "CC-BY-4.0")
    _offer(db_session, seller, nc_ds, "CC-BY-NC-4.0")
    _offer(db_session, seller, eval_ds, "LicenseRef-evaluation-only-1.0", price=1000)
    _offer(
        db_session, seller, hidden_ds, "LicenseRef-standard-commercial-1.0", price=1000, audience_org_slug=buyer.slug
    )
    retired = _offer(db_session, seller, hidden_ds, "CC-BY-4.0")
    retired.is_active = False
    db_session.add(retired)
    db_session.flush()

    page = _titles(client, "license_family=cc-by")
    assert "/datasets/open-corpus" in page and "/datasets/nc-corpus" not in page
    assert "/datasets/private-corpus" not in page  # retired and private offers do not count

    page = _titles(client, "training=yes")
    assert "/datasets/open-corpus" in page and "/datasets/nc-corpus" in page
    assert "/datasets/eval-corpus" not in page and "/datasets/private-corpus" not in page

    page = _titles(client, "training=no")
    assert "/datasets/eval-corpus" in page and "/datasets/open-corpus" not in page

    assert client.get("/datasets?license_family=not-a-family").status_code == 400
