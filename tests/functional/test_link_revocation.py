"""A download link dies with its license: after a refund, a revocation or a suspension, a link issued before is
refused at once by the local storage server (410 with the reason), while links of licenses in force keep working.
And the API asks for many links in one call: one permission check, one lock, one limit check, idempotent."""

from __future__ import annotations

from sqlmodel import Session, select

import licensing
from marketplace.db import UnitOfWork
from marketplace.delivery.models import DownloadEvent
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderLine
from tests.factories import PASSWORD
from tests.functional.api.conftest import bearer
from tests.functional.test_delivery import _download, issue, market, transition  # noqa: F401  (fixture)
from tests.functional.test_orders import _pay, _sandbox
from tests.helpers import log_in


def _bought(app, client, db_session: Session, market) -> tuple[Order, Grant]:  # type: ignore[no-untyped-def]  # noqa: F811
    """The purchaser buys a commercial offer through checkout and the sandbox's payment (the real services)."""
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    offer = licenses.create_offer(
        uow, market["seller"], market["dataset"], title="Commercial", license_id="LicenseRef-standard-commercial-1.0",
        price_amount=125000, currency="EUR", version_label="1.0.0",
    )  # fmt: skip
    order = orders.order_offers(
        uow, market["purchaser"], licensee_slug="buy", offer_ids=[offer.id],
        accepted_terms={offer.id: offer.terms_hash},
        success_url="http://localhost/ok/{ORDER_ID}?s={CHECKOUT_SESSION_ID}", cancel_url="http://localhost/cancel",
    )  # fmt: skip
    db_session.flush()
    log_in(client, "purchaser@example.org", PASSWORD)
    assert _pay(client, order).status_code == 303
    db_session.refresh(order)
    line = db_session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).one()
    grant = db_session.get(Grant, line.grant_id)
    assert order.status == "paid" and grant is not None and grant.status == "active"
    return order, grant


def _link(client, grant: Grant, file_id: int) -> str:  # type: ignore[no-untyped-def]
    response = _download(client, grant.id, file_id)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return str(response.headers["Location"])


def test_a_refund_stops_links_issued_before_it(app, client, db_session, market) -> None:  # noqa: F811
    order, grant = _bought(app, client, db_session, market)
    other = issue(app, db_session, market)  # another license of the same buyer, untouched by the refund
    link, kept = _link(client, grant, market["files"][0].id), _link(client, other, market["files"][0].id)
    assert client.get(link).get_data() == b"id,text\n1,hello\n"

    orders.refund_order(
        UnitOfWork(db_session, app.extensions["marketplace.context"]), market["seller"], order, reason="wrong dataset"
    )
    db_session.flush()
    assert grant.status == "revoked"
    refused = client.get(link)
    assert refused.status_code == 410
    assert refused.get_data(as_text=True) == "This license has been revoked; its files can no longer be downloaded."
    assert client.head(link).status_code == 410
    assert client.get(kept).status_code == 200


def test_a_dispute_suspends_links_and_a_won_dispute_restores_them(app, client, db_session, market) -> None:  # noqa: F811
    order, grant = _bought(app, client, db_session, market)
    link = _link(client, grant, market["files"][1].id)
    sandbox, hook = _sandbox(app), app.test_client()
    opened = sandbox.dispute_event(order.payment_intent_id, "charge.dispute.created")
    assert hook.post("/webhooks/stripe", data=opened.payload,
                     headers={"Stripe-Signature": opened.signature_header}).status_code == 200  # fmt: skip
    refused = client.get(link)
    assert refused.status_code == 410 and "suspended" in refused.get_data(as_text=True)
    closed = sandbox.dispute_event(order.payment_intent_id, "charge.dispute.closed", status="won")
    assert hook.post("/webhooks/stripe", data=closed.payload,
                     headers={"Stripe-Signature": closed.signature_header}).status_code == 200  # fmt: skip
    assert client.get(link).get_data() == b"id\n2\n"


def test_a_revocation_stops_links_from_the_api_too(app, client, db_session, market) -> None:  # noqa: F811
    from tests.functional.api.conftest import World

    grant = issue(app, db_session, market)
    # An organisation's key (made by its owner) acts for that organisation only.
    world = World(app=app, session=db_session, orgs={"buy": market["buyer"]}, people={"p": market["buyer_owner"]})
    key = bearer(world.key("p", ["downloads"], org="buy"))
    response = client.post(f"/api/v1/licenses/{grant.id}/download-links", json={}, headers=key)
    assert response.status_code == 201, response.get_json()
    urls = [link["url"].removeprefix("http://localhost") for link in response.get_json()["data"]]
    assert [client.get(url).status_code for url in urls] == [200, 200]
    transition(app, db_session, grant, licensing.GrantAction.REVOKE)
    assert [client.get(url).status_code for url in urls] == [410, 410]


def test_a_link_whose_audit_row_is_gone_is_refused(app, client, db_session, market) -> None:  # noqa: F811
    grant = issue(app, db_session, market)
    log_in(client, "purchaser@example.org", PASSWORD)
    link = _link(client, grant, market["files"][0].id)
    db_session.delete(db_session.exec(select(DownloadEvent)).one())
    db_session.flush()
    response = client.get(link)
    assert response.status_code == 410 and "no longer valid" in response.get_data(as_text=True)


# --- many links in one API call ----------------------------------------------------------------------------------


def _api_key(app, db_session, market) -> dict[str, str]:  # type: ignore[no-untyped-def]  # noqa: F811
    from tests.functional.api.conftest import World

    world = World(app=app, session=db_session, orgs={"buy": market["buyer"]}, people={"p": market["purchaser"]})
    return bearer(world.key("p", ["downloads"]))


def _events(db_session: Session) -> int:
    return len(db_session.exec(select(DownloadEvent)).all())


def test_the_api_batch_is_one_limit_check_all_or_nothing(app, client, db_session, market) -> None:  # noqa: F811
    grant = issue(app, db_session, market, overrides={"download_limit": 1})
    first, second = (f.id for f in market["files"])
    response = client.post(
        f"/api/v1/licenses/{grant.id}/download-links",
        json={"file_ids": [first, second]},
        headers=_api_key(app, db_session, market),
    )
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "download_limit_reached" and "1 left, 2 asked for" in error["message"]
    assert _events(db_session) == 0


def test_the_api_batch_names_files_once_and_replays_with_the_idempotency_key(app, client, db_session, market) -> None:  # noqa: F811
    grant = issue(app, db_session, market)
    first, second = (f.id for f in market["files"])
    headers = {**_api_key(app, db_session, market), "Idempotency-Key": "links-1"}
    body = {"file_ids": [second, first, second]}
    response = client.post(f"/api/v1/licenses/{grant.id}/download-links", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert [link["file_id"] for link in response.get_json()["data"]] == [second, first]
    assert _events(db_session) == 2
    again = client.post(f"/api/v1/licenses/{grant.id}/download-links", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == response.get_json() and _events(db_session) == 2
    outside = client.post(
        f"/api/v1/licenses/{grant.id}/download-links", json={"file_ids": [first, market["v2_file"].id]},
        headers=_api_key(app, db_session, market),
    )  # fmt: skip
    assert outside.status_code == 403 and outside.get_json()["error"]["code"] == "version_not_covered"
    assert _events(db_session) == 2


def test_the_openapi_document_describes_the_batch(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/licenses/{license_id}/download-links"]["post"]
    assert "one call" in operation["description"] and "Idempotency-Key" in operation["description"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "file_ids" in str(body) or "$ref" in body
