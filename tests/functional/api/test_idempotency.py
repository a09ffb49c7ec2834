"""Idempotency-Key on POST: one order per key, the first response replayed, a different body refused, keys kept
per credential for 24 hours, failed requests not kept."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from marketplace.apikeys.models import IdempotencyRecord
from marketplace.orders.models import Order
from tests.functional.api.conftest import bearer


def _order_body(world, offer=None) -> dict:
    offer = offer or world.objects["paid"]
    return {"licensee": "rival", "lines": [{"offer_id": offer.id, "accepted_terms_hash": offer.terms_hash}]}


def _orders(world) -> int:
    return len(world.session.exec(select(Order)).all())


def test_the_same_order_post_with_one_key_creates_one_order(world, client) -> None:
    key = bearer(world.key("buyer_admin"))
    extra = world.objects["extra"]
    body = {"licensee": "buy", "lines": [{"offer_id": extra.id, "accepted_terms_hash": extra.terms_hash}]}
    # The fixture's pending order for "buy" does not block a new one (it is not paid).
    before = _orders(world)
    headers = {**key, "Idempotency-Key": "order-7f3a"}
    first = client.post("/api/v1/orders", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    second = client.post("/api/v1/orders", json=body, headers=headers)
    assert second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert second.headers["Location"] == first.headers["Location"]
    assert _orders(world) == before + 1
    # The same JSON written differently is the same request.
    text = f'{{"lines": [{{"accepted_terms_hash": "{extra.terms_hash}", "offer_id": {extra.id}}}], "licensee": "buy"}}'
    reordered = client.post("/api/v1/orders", data=text, headers={**headers, "Content-Type": "application/json"})
    assert reordered.status_code == 201 and reordered.get_json()["id"] == first.get_json()["id"]
    # Without a key, each POST is a new order.
    assert client.post("/api/v1/orders", json=body, headers=key).status_code == 201
    assert _orders(world) == before + 2


def test_the_same_key_with_another_body_is_refused(world, client) -> None:
    key = bearer(world.key("buyer_admin"))
    extra = world.objects["extra"]
    body = {"licensee": "buy", "lines": [{"offer_id": extra.id, "accepted_terms_hash": extra.terms_hash}]}
    headers = {**key, "Idempotency-Key": "k1"}
    assert client.post("/api/v1/orders", json=body, headers=headers).status_code == 201
    other = client.post("/api/v1/orders", json={**body, "cancel_url": "https://example.org/x"}, headers=headers)
    assert other.status_code == 409
    error = other.get_json()["error"]
    assert error["code"] == "idempotency_key_reused" and error["details"][0]["field"] == "Idempotency-Key"
    # Another path with the same key is another request too.
    assert (
        client.post(
            "/api/v1/offers/1/acquire", json={"licensee": "buy", "accepted_terms_hash": "x"}, headers=headers
        ).status_code
        == 409
    )


def test_keys_are_per_credential(world, client) -> None:
    extra = world.objects["extra"]
    body = {"licensee": "buy", "lines": [{"offer_id": extra.id, "accepted_terms_hash": extra.terms_hash}]}
    before = _orders(world)
    for who in ("buyer_admin", "purchaser"):
        headers = {**bearer(world.key(who)), "Idempotency-Key": "shared-name"}
        assert client.post("/api/v1/orders", json=body, headers=headers).status_code == 201
    assert _orders(world) == before + 2


def test_a_failed_request_is_not_kept_and_can_be_retried(world, client) -> None:
    extra = world.objects["extra"]
    headers = {**bearer(world.key("buyer_admin")), "Idempotency-Key": "retry-me"}
    wrong = {"licensee": "buy", "lines": [{"offer_id": extra.id, "accepted_terms_hash": "0" * 64}]}
    refused = client.post("/api/v1/orders", json=wrong, headers=headers)
    assert refused.status_code == 422
    assert world.session.exec(select(IdempotencyRecord)).all() == []
    right = {"licensee": "buy", "lines": [{"offer_id": extra.id, "accepted_terms_hash": extra.terms_hash}]}
    assert client.post("/api/v1/orders", json=right, headers=headers).status_code == 201


def test_records_expire_after_24_hours(world, client) -> None:
    extra = world.objects["extra"]
    body = {"licensee": "buy", "lines": [{"offer_id": extra.id, "accepted_terms_hash": extra.terms_hash}]}
    headers = {**bearer(world.key("buyer_admin")), "Idempotency-Key": "day-old"}
    first = client.post("/api/v1/orders", json=body, headers=headers)
    record = world.session.exec(select(IdempotencyRecord)).one()
    assert record.expires_at - record.created_at == timedelta(hours=24)
    assert record.status_code == 201 and record.response_body and "checkout_url" in record.response_body
    record.expires_at = record.created_at - timedelta(seconds=1)
    world.session.add(record)
    world.session.flush()
    again = client.post("/api/v1/orders", json=body, headers=headers)
    assert again.status_code == 201 and again.get_json()["id"] != first.get_json()["id"]


def test_bad_idempotency_keys_are_refused(world, client) -> None:
    headers = {**bearer(world.key("buyer_admin")), "Idempotency-Key": "x" * 256}
    response = client.post("/api/v1/orders", json=_order_body(world), headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0] == {
        "field": "Idempotency-Key",
        "message": "1 to 255 visible ASCII characters",
        "location": "header",
    }
