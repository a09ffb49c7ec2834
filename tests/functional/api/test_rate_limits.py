"""Rate limits per credential and per address (flask-limiter): a burst gets 429 in the API's error shape, with
Retry-After and the X-RateLimit headers; each credential has its own budget; Redis holds the counters when set."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from tests.functional.api.conftest import bearer


@pytest.fixture()
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["API_RATE_LIMIT_PER_KEY"] = "5 per minute"
    app_settings["API_RATE_LIMIT_PER_ADDRESS"] = "12 per minute"
    return app_settings


def test_a_burst_from_one_key_gets_429_with_retry_after(world, client) -> None:
    key = world.key("purchaser")
    statuses = [client.get("/api/v1/me", headers=bearer(key)) for _ in range(7)]
    assert [r.status_code for r in statuses] == [200] * 5 + [429] * 2
    ok, refused = statuses[0], statuses[-1]
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(ok.headers.keys())
    assert int(refused.headers["Retry-After"]) > 0
    # The refusal names the limit that was hit: the credential's.
    assert refused.headers["X-RateLimit-Limit"] == "5" and refused.headers["X-RateLimit-Remaining"] == "0"
    body = refused.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == "too_many_requests"
    assert isinstance(body["error"]["message"], str) and body["error"]["details"] == []
    # Another credential has its own budget (the address budget is larger).
    other = world.key("seller")
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200


def test_the_same_order_post_in_a_burst_is_limited_too(world, client) -> None:
    key = world.key("purchaser")
    offer = world.objects["free"]
    body = {"licensee": "buy", "accepted_terms_hash": offer.terms_hash}
    codes = [
        client.post(
            f"/api/v1/offers/{offer.id}/acquire", json=body, headers={**bearer(key), "Idempotency-Key": "burst-1"}
        ).status_code
        for _ in range(8)
    ]
    assert codes[:5] == [201] * 5 and codes[5:] == [429] * 3


def test_per_address_limit_applies_without_a_key(client) -> None:
    codes = [client.get("/api/v1/licenses/01ARZ3NDEKTSV4RRFFQ69G5FAV/verify").status_code for _ in range(13)]
    assert codes[:12] == [404] * 12 and codes[12] == 429


#: The Redis database this test may write to; never the application's own ``REDIS_URL`` (tests ignore that).
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


@pytest.mark.skipif(not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set")
def test_counters_live_in_redis_when_redis_url_is_set(tmp_path, connection, app_settings) -> None:
    from marketplace import create_app

    prefix = f"test-{uuid.uuid4().hex}"
    settings = {**app_settings, "REDIS_URL": TEST_REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    first = create_app(settings)
    second = create_app(settings)  # another "worker" sharing the counters
    for application in (first, second):
        application.extensions["marketplace.db"].bind_to_connection(connection)
    codes = [first.test_client().get("/api/v1/status").status_code for _ in range(6)]
    codes += [second.test_client().get("/api/v1/status").status_code for _ in range(7)]
    assert codes.count(200) == 12 and codes[-1] == 429
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL)
    keys = client.keys(f"*{prefix}*")
    assert keys
    client.delete(*keys)
