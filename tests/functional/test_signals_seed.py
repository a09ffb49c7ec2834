"""The demo seed shows both: rights signals on the public listings, and the demo buyer's license with its AI Act
training-content summary fragment (the starter pack's provider described crawling and opt-out handling)."""

from __future__ import annotations

from flask import Flask
from sqlmodel import Session, col, select

from marketplace.accounts.models import Organisation
from marketplace.catalog.models import Dataset
from marketplace.db import UnitOfWork
from marketplace.licenses.models import Grant, Offer
from marketplace.licenses.seed import DEMO_LICENSE
from marketplace.seed import DEMO_PASSWORD, seed_demo
from tests.helpers import log_in
from tests.unit.licensing.test_licensing_signals import check_rsl, check_tdmrep_file


def test_the_demo_shows_signals_and_a_training_summary(app: Flask, db_session: Session) -> None:
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    with app.app_context():
        seed_demo(uow)
        db_session.flush()
        again = seed_demo(uow)
    assert not any("holds license" in line for line in again)
    email, _licensee, slug = DEMO_LICENSE
    client = app.test_client()
    rules = client.get("/.well-known/tdmrep.json").get_json()
    check_tdmrep_file(rules)
    assert {r["tdm-reservation"] for r in rules} == {0, 1}  # open listings and reserved ones
    check_rsl(client.get("/rsl.xml").data)
    page = client.get(f"/datasets/{slug}")
    assert page.headers["tdm-reservation"] == "0"  # the starter pack has a CC-BY-4.0 offer
    assert "W3C TDMRep (tdm-reservation)" in page.get_data(as_text=True)  # the provider's answers, on the listing
    dataset = db_session.exec(select(Dataset).where(Dataset.slug == slug)).one()
    licensee = db_session.exec(select(Organisation).where(Organisation.slug == _licensee)).one()
    # The demo license (under the free offer; the demo's bought licenses are under others).
    grant = db_session.exec(
        select(Grant)
        .join(Offer, col(Offer.id) == col(Grant.offer_id))
        .where(Grant.dataset_id == dataset.id, Grant.licensee_org_id == licensee.id, Offer.price_amount == 0)
    ).one()
    log_in(client, email, DEMO_PASSWORD)
    assert f"/licenses/{grant.id}/training-summary" in client.get(f"/licenses/{grant.id}").get_data(as_text=True)
    fragment = client.get(f"/licenses/{grant.id}/training-summary.json").get_json()
    assert fragment["section"]["number"] == "2.1"
    assert fragment["data_sources"]["crawled"] is True
    assert "TDMRep" in fragment["data_processing"]["tdm_opt_out_handling"]
    assert fragment["general_information"]["modalities"][0]["size_range"] == "Less than 1 billion tokens"
