"""The client's transport against a scripted local server: retries, Retry-After, idempotency keys, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from marketplace_client import (
    Client,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    TransportError,
    ValidationError,
)
from marketplace_client._http import parse_retry_after

from tests.client.stub import Reply, Stub, api_error

ME = {"type": "api_key", "organisations": []}


def make_client(stub: Stub, sleeps: list[float], **options: float) -> Client:
    return Client(stub.url, "mkp_test_key", sleep=sleeps.append, timeout=5, **options)  # type: ignore[arg-type]


def test_a_429_is_retried_after_the_seconds_retry_after_names(stub: Stub) -> None:
    stub.route("GET /api/v1/me", api_error(429, "throttled", "Slow down.", **{"Retry-After": "7"}), Reply(200, ME))
    sleeps: list[float] = []
    assert make_client(stub, sleeps).me() == ME
    assert sleeps == [7.0]
    assert len(stub.requests_to("GET /api/v1/me")) == 2
    assert all(s.headers["authorization"] == "Bearer mkp_test_key" for s in stub.seen)


def test_retry_after_as_an_http_date_is_honoured(stub: Stub) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    stub.route(
        "GET /api/v1/me", api_error(503, "service_unavailable", "Down.", **{"Retry-After": when}), Reply(200, ME)
    )
    sleeps: list[float] = []
    make_client(stub, sleeps).me()
    assert len(sleeps) == 1 and 17 <= sleeps[0] <= 20


def test_parse_retry_after_reads_seconds_and_dates_and_ignores_rubbish() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None and parse_retry_after(None) is None


def test_without_retry_after_the_backoff_grows_exponentially_with_jitter(stub: Stub) -> None:
    down = api_error(503, "service_unavailable", "Down.")
    stub.route("GET /api/v1/me", down)
    sleeps: list[float] = []
    with pytest.raises(ServiceUnavailable) as raised:
        make_client(stub, sleeps, max_retries=4, backoff_factor=1.0).me()
    assert raised.value.status == 503 and raised.value.code == "service_unavailable"
    assert len(stub.requests_to("GET /api/v1/me")) == 5 and len(sleeps) == 4
    for attempt, slept in enumerate(sleeps):
        assert 0 <= slept <= 2**attempt


def test_a_retry_after_longer_than_the_client_waits_raises_at_once(stub: Stub) -> None:
    stub.route("GET /api/v1/me", api_error(429, "throttled", "Come back tomorrow.", **{"Retry-After": "86400"}))
    sleeps: list[float] = []
    with pytest.raises(RateLimited) as raised:
        make_client(stub, sleeps).me()
    assert raised.value.retry_after == 86400 and sleeps == []


def test_every_post_carries_an_idempotency_key_kept_across_its_retries(stub: Stub) -> None:
    links = {"license_id": "L", "data": []}
    stub.route(
        "POST /api/v1/licenses/01J0000000000000000000000A/download-links",
        api_error(429, "throttled", "Slow down.", **{"Retry-After": "1"}),
        Reply(201, links),
    )
    client = make_client(stub, [])
    client.download_links("01J0000000000000000000000A")
    client.download_links("01J0000000000000000000000A")
    keys = [s.headers.get("idempotency-key") for s in stub.seen]
    assert len(keys) == 3 and all(keys)
    assert keys[0] == keys[1] != keys[2]  # a retry repeats its key; a new call has a new one


def test_an_explicit_idempotency_key_is_sent_as_given(stub: Stub) -> None:
    order = {
        "id": 5,
        "reference": "R",
        "status": "pending_payment",
        "licensee": "globex",
        "total": {"amount": 100, "currency": "EUR", "formatted": "€1.00"},
        "checkout_url": "http://pay",
        "lines": [],
    }
    stub.route("POST /api/v1/orders", Reply(201, order))
    from marketplace_client import Money, Offer

    offer = Offer(1, "d", "t", "MIT", Money(100, "EUR", "€1.00"), "h" * 64, False, True, None, {})
    made = make_client(stub, []).create_order("globex", [offer], idempotency_key="buy-d-1")
    assert made.checkout_url == "http://pay"
    [seen] = stub.seen
    assert seen.headers["idempotency-key"] == "buy-d-1"
    assert seen.json() == {"licensee": "globex", "lines": [{"offer_id": 1, "accepted_terms_hash": "h" * 64}]}


def test_a_409_idempotency_in_progress_is_retried(stub: Stub) -> None:
    stub.route(
        "POST /api/v1/custom/quotes/3/accept",
        api_error(409, "idempotency_in_progress", "Retry in a moment."),
        Reply(201, {"contract_id": 9, "contract_url": "u", "quote": _quote()}),
    )
    accepted = make_client(stub, []).accept_quote(3)
    assert accepted.contract_id == 9
    first, second = stub.seen
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


def _quote() -> dict[str, object]:
    return {
        "id": 3,
        "request_id": 1,
        "provider": {"slug": "p"},
        "state": "accepted",
        "price_amount": 1,
        "currency": "EUR",
    }


def test_connection_errors_are_retried_for_idempotent_requests(stub: Stub) -> None:
    stub.route("GET /api/v1/me", Reply(drop=True), Reply(drop=True), Reply(200, ME))
    sleeps: list[float] = []
    assert make_client(stub, sleeps).me() == ME
    assert len(sleeps) == 2


def test_a_server_out_of_reach_raises_transport_error(stub: Stub) -> None:
    stub.route("GET /api/v1/me", Reply(drop=True))
    with pytest.raises(TransportError):
        make_client(stub, [], max_retries=2).me()
    assert len(stub.requests_to("GET /api/v1/me")) == 3


def test_api_errors_carry_code_message_field_and_status(stub: Stub) -> None:
    stub.route(
        "POST /api/v1/datasets/speech/access-requests",
        api_error(422, "validation_failed", "must be an ISO country code", field="country"),
    )
    stub.route("GET /api/v1/datasets/nope", api_error(404, "not_found", "No such dataset."))
    stub.route("GET /api/v1/orders/1", api_error(403, "insufficient_scope", "This key lacks orders:write."))
    client = make_client(stub, [])
    with pytest.raises(ValidationError) as invalid:
        client.request_access("speech", full_name="P", intended_uses=["research"], intended_use_text="x", country="ZZ")
    error = invalid.value
    assert (error.status, error.code, error.field) == (422, "validation_failed", "country")
    assert error.message == "must be an ISO country code"
    assert str(error).startswith("POST /api/v1/datasets/speech/access-requests failed (422 validation_failed): ")
    with pytest.raises(NotFound) as missing:
        client.dataset("nope")
    assert missing.value.code == "not_found" and missing.value.status == 404
    with pytest.raises(PermissionDenied) as denied:
        client.order(1)
    assert denied.value.code == "insufficient_scope"
    assert len(stub.seen) == 3  # none of these is retried


def test_search_all_follows_the_cursor_and_sends_facets(stub: Stub) -> None:
    def hit(slug: str) -> dict[str, object]:
        return {"slug": slug, "title": slug, "provider": {"slug": "p", "name": "P"}, "latest_version": "1.0.0"}

    stub.route(
        "GET /api/v1/datasets",
        Reply(200, {"data": [hit("a"), hit("b")], "total": 3, "facets": [], "next_cursor": "c1"}),
        Reply(200, {"data": [hit("c")], "total": 3, "facets": [], "next_cursor": None}),
    )
    slugs = [
        h.slug
        for h in make_client(stub, []).search_all("speech", facets={"modality": "audio", "languages": ["de", "fr"]})
    ]
    assert slugs == ["a", "b", "c"]
    first, second = stub.seen
    assert "modality=audio" in first.path and "languages=de" in first.path and "languages=fr" in first.path
    assert "cursor=c1" in second.path and "q=speech" in second.path
