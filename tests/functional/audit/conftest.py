"""A provider, a buyer with a free license on a published dataset with one stored file, and their admins."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from marketplace.accounts.models import OrgKind, Role
from marketplace.db import UnitOfWork
from marketplace.licenses import services as licenses
from tests.factories import OrganisationFactory, member
from tests.functional.api.conftest import stored_file, work
from tests.functional.test_licenses import published_dataset


@pytest.fixture()
def market(app: Flask, db_session: Session) -> dict[str, Any]:
    provider = OrganisationFactory(slug="prov", name="Provider Co", kind=OrgKind.PROVIDER)
    buyer = OrganisationFactory(slug="buy", name="Buyer Co", kind=OrgKind.BUYER)
    rival = OrganisationFactory(slug="rival", name="Rival Co", kind=OrgKind.BUYER)
    seller = member(provider, Role.ADMIN, email="seller@example.org")
    clerk = member(provider, Role.MEMBER, email="clerk@example.org")
    purchaser = member(buyer, Role.ADMIN, email="purchaser@example.org")
    outsider = member(rival, Role.OWNER, email="outsider@example.org")
    dataset, version = published_dataset(db_session, provider)
    file = stored_file(app, version, "data/train.csv", b"id,text\n1,hello\n")
    db_session.flush()
    return {
        "provider": provider, "buyer": buyer, "rival": rival, "seller": seller, "clerk": clerk,
        "purchaser": purchaser, "outsider": outsider, "dataset": dataset, "version": version, "file": file,
    }  # fmt: skip


def uow_for(app: Flask, session: Session) -> UnitOfWork:
    return work(app, session)


@pytest.fixture()
def licensed(app: Flask, db_session: Session, market: dict[str, Any]) -> dict[str, Any]:
    """``market`` plus a free license held by the buyer (issued through the service, so it is in both chains)."""
    uow = uow_for(app, db_session)
    offer = licenses.create_offer(
        uow, market["seller"], market["dataset"], title="Open", license_id="CC-BY-4.0", price_amount=0, currency="EUR"
    )
    grant = licenses.acquire_free(
        uow, market["purchaser"], offer, licensee_slug="buy", accepted_terms_hash=offer.terms_hash, ip_address="::1"
    )
    db_session.flush()
    return {**market, "offer": offer, "grant": grant}
