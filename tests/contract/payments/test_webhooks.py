"""Webhook verification, Stripe's way: a correctly signed body verifies, anything else is refused with a reason."""

from __future__ import annotations

import json

import pytest
import stripe

from marketplace.orders.payments import (
    InvalidEvent,
    SignatureFailure,
    SignatureInvalid,
    StripeBackend,
    sign_payload,
)
from marketplace.orders.payments.signing import compute_signature
from tests.support.fake_stripe import FakeStripe

from .conftest import Clock

SECRET = FakeStripe.webhook_secret


def event_body(**overrides: object) -> bytes:
    event = {
        "id": "evt_1NxYz",
        "object": "event",
        "api_version": stripe.api_version,
        "created": 1_750_000_000,
        "data": {"object": {"id": "cs_test_1", "object": "checkout.session", "metadata": {"order_id": "ord_1"}}},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        **overrides,
    }
    return json.dumps(event, indent=2).encode()


def refused(backend: StripeBackend, payload: bytes, header: str | None) -> SignatureFailure:
    with pytest.raises(SignatureInvalid) as caught:
        backend.parse_webhook(payload, header)
    assert caught.value.code == caught.value.reason.value
    return caught.value.reason


def test_a_body_signed_by_stripes_own_helper_verifies(stripe_backend: StripeBackend, clock: Clock) -> None:
    payload = event_body()
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET, timestamp=int(clock.now))

    event = stripe_backend.parse_webhook(payload, header)

    assert (event.id, event.type, event.livemode, event.account) == (
        "evt_1NxYz",
        "checkout.session.completed",
        False,
        None,
    )
    assert event.created.timestamp() == 1_750_000_000 and event.created.tzinfo is not None
    assert event.object["metadata"] == {"order_id": "ord_1"}
    assert event.checkout_session().order_id == "ord_1"


def test_our_signature_is_accepted_by_stripes_library() -> None:
    payload = event_body()
    header = sign_payload(payload, SECRET, 1_750_000_000)
    assert stripe.WebhookSignature.verify_header(payload, header, SECRET, tolerance=None)
    assert header == f"t=1750000000,v1={compute_signature(payload, SECRET, 1_750_000_000)}"


def test_secret_rotation_any_matching_v1_is_enough(stripe_backend: StripeBackend, clock: Clock) -> None:
    payload = event_body()
    t = int(clock.now)
    old = compute_signature(payload, "whsec_old_secret", t)
    new = compute_signature(payload, SECRET, t)
    assert stripe_backend.parse_webhook(payload, f"t={t},v1={old},v1={new},v0=deadbeef").id == "evt_1NxYz"
    assert stripe_backend.parse_webhook(payload, f"t={t},v1={new},v1={old}").id == "evt_1NxYz"


def test_several_endpoint_secrets(fake_stripe: FakeStripe, clock: Clock) -> None:
    backend = StripeBackend("sk_test_x", [SECRET, "whsec_connect_endpoint"], api_base=fake_stripe.url, clock=clock)
    payload = event_body(type="account.updated", account="acct_1")
    event = backend.parse_webhook(payload, sign_payload(payload, "whsec_connect_endpoint", int(clock.now)))
    assert event.account == "acct_1"


def test_forged_signature(stripe_backend: StripeBackend, clock: Clock) -> None:
    header = f"t={int(clock.now)},v1={'ab' * 32}"
    assert refused(stripe_backend, event_body(), header) is SignatureFailure.BAD_SIGNATURE


def test_wrong_secret(stripe_backend: StripeBackend, clock: Clock) -> None:
    payload = event_body()
    header = sign_payload(payload, "whsec_someone_else", int(clock.now))
    assert refused(stripe_backend, payload, header) is SignatureFailure.BAD_SIGNATURE


def test_tampered_body(stripe_backend: StripeBackend, clock: Clock) -> None:
    payload = event_body()
    header = sign_payload(payload, SECRET, int(clock.now))
    tampered = payload.replace(b"ord_1", b"ord_2")
    assert refused(stripe_backend, tampered, header) is SignatureFailure.BAD_SIGNATURE
    assert refused(stripe_backend, payload + b" ", header) is SignatureFailure.BAD_SIGNATURE


def test_signature_over_another_timestamp(stripe_backend: StripeBackend, clock: Clock) -> None:
    payload = event_body()
    signature = compute_signature(payload, SECRET, int(clock.now) - 10)
    assert refused(stripe_backend, payload, f"t={int(clock.now)},v1={signature}") is SignatureFailure.BAD_SIGNATURE


def test_stale_timestamp_beyond_tolerance(stripe_backend: StripeBackend, clock: Clock) -> None:
    payload = event_body()
    assert stripe_backend.parse_webhook(payload, sign_payload(payload, SECRET, int(clock.now) - 300))
    header = sign_payload(payload, SECRET, int(clock.now) - 301)
    assert refused(stripe_backend, payload, header) is SignatureFailure.STALE_TIMESTAMP


def test_future_timestamp_beyond_tolerance(stripe_backend: StripeBackend, clock: Clock) -> None:
    payload = event_body()
    assert stripe_backend.parse_webhook(payload, sign_payload(payload, SECRET, int(clock.now) + 300))
    header = sign_payload(payload, SECRET, int(clock.now) + 301)
    assert refused(stripe_backend, payload, header) is SignatureFailure.FUTURE_TIMESTAMP


def test_tolerance_is_configurable(fake_stripe: FakeStripe, clock: Clock) -> None:
    backend = StripeBackend("sk_test_x", SECRET, api_base=fake_stripe.url, tolerance=30, clock=clock)
    payload = event_body()
    assert refused(backend, payload, sign_payload(payload, SECRET, int(clock.now) - 31)) is (
        SignatureFailure.STALE_TIMESTAMP
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "garbage",
        "v1=abcdef",
        "t=,v1=abcdef",
        "t=12x,v1=abcdef",
        "t=-5,v1=abcdef",
        "t=1750000000",
        "t=1750000000,v0=abcdef",
        "t=1750000000,t=1750000001,v1=abcdef",
        "t=1750000000," + "v1=ab," * 1000,
    ],
)
def test_malformed_header(stripe_backend: StripeBackend, header: str | None) -> None:
    assert refused(stripe_backend, event_body(), header) is SignatureFailure.MALFORMED_HEADER


def test_a_correctly_signed_body_that_is_not_an_event(stripe_backend: StripeBackend, clock: Clock) -> None:
    for payload in (b"not json", b'{"object": "charge"}', json.dumps({"object": "event", "id": "evt_1"}).encode()):
        with pytest.raises(InvalidEvent):
            stripe_backend.parse_webhook(payload, sign_payload(payload, SECRET, int(clock.now)))


def test_verification_happens_before_the_body_is_read(stripe_backend: StripeBackend) -> None:
    # A body that is not even JSON but badly signed is a signature failure, not a parse failure.
    assert refused(stripe_backend, b"\xff\xfe not json", "t=1,v1=00") is SignatureFailure.BAD_SIGNATURE


def test_signatures_are_checked_by_stripes_own_verifier(
    stripe_backend: StripeBackend, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = event_body()
    header = sign_payload(payload, SECRET, int(clock.now))
    seen: list[str] = []

    def refuse(payload: object, header: str, secret: str, tolerance: object = None) -> bool:
        seen.append(secret)
        raise stripe.SignatureVerificationError("refused by the library", header, payload)

    monkeypatch.setattr(stripe.WebhookSignature, "verify_header", refuse)
    assert refused(stripe_backend, payload, header) is SignatureFailure.BAD_SIGNATURE
    assert seen == [SECRET]


def test_outbound_webhooks_and_the_sandbox_sign_with_one_helper() -> None:
    from marketplace.webhooks.signing import signature_header

    payload = event_body()
    ours = signature_header(["whsec_new", "whsec_old"], 1_750_000_000, payload)
    assert ours.startswith(sign_payload(payload, "whsec_new", 1_750_000_000) + ",")
    for secret in ("whsec_new", "whsec_old"):
        assert stripe.WebhookSignature.verify_header(payload, ours, secret, tolerance=None)
