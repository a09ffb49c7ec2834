"""Fixtures for the payments contract suite: the fake Stripe server, both backends, and a harness per backend."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from marketplace.orders.payments import (
    CheckoutLine,
    CheckoutRequest,
    PaymentBackend,
    SandboxBackend,
    StripeBackend,
)
from tests.support.fake_stripe import FakeStripe, fake_stripe

__all__ = ["fake_stripe"]

SANDBOX_SECRET = b"sandbox-test-secret-0123456789abcdef"
BASE_URL = "http://localhost:5000"


class Clock:
    """A settable clock for backends (``backend = StripeBackend(..., clock=clock)``)."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def line(
    offer_id: str = "offer-1",
    amount: int = 1000,
    account: str | None = "acct_provider_a",
    *,
    currency: str = "usd",
    provider_id: str | None = None,
    description: str | None = "CC-BY-4.0, commercial use",
) -> CheckoutLine:
    return CheckoutLine(
        offer_id=offer_id,
        name=f"Dataset {offer_id} — Commercial licence",
        description=description,
        amount=amount,
        currency=currency,
        provider_account_id=account,
        provider_id=provider_id or f"provider-of-{account}",
    )


def checkout_request(*lines: CheckoutLine, order_id: str = "ord_123", bps: int = 1000, **kw: Any) -> CheckoutRequest:
    return CheckoutRequest(
        order_id=order_id,
        lines=lines or (line(),),
        buyer_email=kw.pop("buyer_email", "buyer@example.org"),
        success_url=kw.pop("success_url", f"{BASE_URL}/orders/{order_id}/paid?session_id={{CHECKOUT_SESSION_ID}}"),
        cancel_url=kw.pop("cancel_url", f"{BASE_URL}/orders/{order_id}"),
        platform_fee_bps=bps,
        **kw,
    )


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def stripe_backend(fake_stripe: FakeStripe, clock: Clock) -> StripeBackend:
    """A StripeBackend talking to the fake, without SDK retries (tests that want them build their own)."""
    return StripeBackend(
        fake_stripe.secret_key, fake_stripe.webhook_secret, api_base=fake_stripe.url, max_network_retries=0, clock=clock
    )


@pytest.fixture()
def sandbox_backend(clock: Clock) -> SandboxBackend:
    return SandboxBackend(SANDBOX_SECRET, BASE_URL, clock=clock)


@dataclass
class Harness:
    """One backend plus Stripe's side of it: how to sign an event and how a buyer pays."""

    backend: PaymentBackend
    webhook_secret: str
    pay: Callable[[str], tuple[bytes, str]]
    """Pay the session with this id and return the signed ``checkout.session.completed`` request."""
    sign: Callable[[str, Mapping[str, Any]], tuple[bytes, str]]
    """Wrap an object in an event of this type and sign it as the backend's provider would."""


@pytest.fixture(params=["stripe", "sandbox"])
def harness(request: pytest.FixtureRequest, clock: Clock) -> Harness:
    if request.param == "sandbox":
        sandbox = request.getfixturevalue("sandbox_backend")
        return Harness(
            backend=sandbox,
            webhook_secret=sandbox.webhook_secret,
            pay=lambda session_id: sandbox.complete_checkout(session_id, "paid"),
            sign=lambda type_, obj: sandbox.sandbox_event(type_, obj),
        )
    fake: FakeStripe = request.getfixturevalue("fake_stripe")
    backend: StripeBackend = request.getfixturevalue("stripe_backend")

    def pay(session_id: str) -> tuple[bytes, str]:
        session = fake.pay_session(session_id)
        return fake.signed(fake.event("checkout.session.completed", session), timestamp=int(clock.now))

    def sign(type_: str, obj: Mapping[str, Any]) -> tuple[bytes, str]:
        return fake.signed(fake.event(type_, obj), timestamp=int(clock.now))

    return Harness(backend=backend, webhook_secret=fake.webhook_secret, pay=pay, sign=sign)
