"""The Stripe backend: Checkout Sessions, Connect (Express accounts, destination charges, transfers), refunds,
and webhook verification, through the official ``stripe`` SDK.

Every call that creates something sends our own deterministic idempotency key (``checkout:<order>``,
``transfer:<order>:<account>`` ...): the SDK's random keys only cover its own retries, ours also cover a worker
that crashed after Stripe answered. Stripe errors never escape: they become
:mod:`marketplace.orders.payments.errors` (connection problems, rate limits and 5xx become
:class:`PaymentProviderUnavailable`, which is worth retrying with the same key).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

import stripe
from stripe.params import (
    AccountCreateParams,
    AccountLinkCreateParams,
    RefundCreateParams,
    TransferCreateParams,
    TransferReversalCreateParams,
)
from stripe.params.checkout import (
    SessionCreateParams,
    SessionCreateParamsLineItem,
    SessionCreateParamsLineItemPriceDataProductData,
    SessionCreateParamsPaymentIntentData,
)

from .base import (
    ChargeKind,
    CheckoutRequest,
    CheckoutSession,
    ConnectAccount,
    PaymentEvent,
    Payout,
    Refund,
    RefundReason,
    Transfer,
    TransferReversal,
    country_code,
    positive_amount,
    require_text,
    validated_payouts,
)
from .errors import (
    IdempotencyConflict,
    PaymentConfigError,
    PaymentError,
    PaymentObjectNotFound,
    PaymentProviderUnavailable,
)
from .signing import DEFAULT_TOLERANCE
from .webhooks import parse_event

__all__ = ["StripeBackend", "checkout_params", "translate_stripe_error"]

log = logging.getLogger(__name__)

#: Retries the SDK makes itself on connection errors, 409 and 5xx (with the same idempotency key).
DEFAULT_NETWORK_RETRIES: Final = 2
#: Seconds to wait for Stripe per request; the SDK's own default (80 s) is longer than a web request should hang.
DEFAULT_TIMEOUT: Final = 20.0


def checkout_params(request: CheckoutRequest) -> SessionCreateParams:
    """The exact ``POST /v1/checkout/sessions`` parameters for ``request`` (pure; see :func:`plan_settlement`).

    One line item per offer; ``metadata.order_id`` and ``client_reference_id`` carry the order id, and the
    payment intent's metadata carries it too so that charges and disputes can be traced in the dashboard.
    """
    settlement = request.settlement
    line_items: list[SessionCreateParamsLineItem] = []
    for line in request.lines:
        product: SessionCreateParamsLineItemPriceDataProductData = {
            "name": line.name,
            "metadata": {"offer_id": line.offer_id, "provider_id": line.provider_id},
        }
        if line.description is not None:
            product["description"] = line.description
        line_items.append(
            {
                "quantity": 1,
                "price_data": {"currency": line.currency, "unit_amount": line.amount, "product_data": product},
            }
        )
    intent: SessionCreateParamsPaymentIntentData = {"metadata": {"order_id": request.order_id}}
    if settlement.kind is ChargeKind.DESTINATION:
        assert settlement.destination is not None
        intent["transfer_data"] = {"destination": settlement.destination}
        intent["application_fee_amount"] = settlement.platform_fee
    elif settlement.kind is ChargeKind.SEPARATE_TRANSFERS:
        assert settlement.transfer_group is not None
        intent["transfer_group"] = settlement.transfer_group
    elif settlement.transfer_group is not None:
        # A held platform charge (custom-data escrow): tagged now, transferred from later.
        intent["transfer_group"] = settlement.transfer_group
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": line_items,
        "metadata": {"order_id": request.order_id},
        "client_reference_id": request.order_id,
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "payment_intent_data": intent,
    }
    if request.buyer_email:
        params["customer_email"] = request.buyer_email
    return params


def translate_stripe_error(error: stripe.StripeError) -> PaymentError:
    """The payments error for a Stripe SDK error, keeping Stripe's message, code, status and request id."""
    message = error.user_message or type(error).__name__
    status = error.http_status
    code = error.code or getattr(error.error, "code", None)
    details: dict[str, Any] = {"code": code, "http_status": status, "request_id": error.request_id}
    if (
        isinstance(error, stripe.APIConnectionError | stripe.RateLimitError)
        or (status is not None and status >= 500)
        or (isinstance(error, stripe.APIError) and status is None)
    ):
        return PaymentProviderUnavailable(f"Stripe is unavailable: {message}", **details)
    if isinstance(error, stripe.IdempotencyError):
        return IdempotencyConflict(message, **details)
    if status == 404 or code == "resource_missing":
        return PaymentObjectNotFound(message, **details)
    return PaymentError(message, **details)


def _as_dict(obj: stripe.StripeObject) -> dict[str, Any]:
    return obj.to_dict()


class StripeBackend:
    """:class:`~marketplace.orders.payments.base.PaymentBackend` on Stripe.

    ``webhook_secret`` is the endpoint's signing secret (``whsec_...``); give several when the platform and its
    Connect endpoint (which has its own secret) post to the same URL. ``api_base`` points the SDK elsewhere
    (a loopback fake in tests). ``tolerance`` is how old (or how far in the future) a signed webhook may be.
    ``timeout`` bounds each HTTP request; ``max_network_retries`` are the SDK's own retries (same key).
    """

    name: Final = "stripe"
    is_sandbox: Final = False

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str | Sequence[str],
        *,
        api_base: str | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        max_network_retries: int = DEFAULT_NETWORK_RETRIES,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: stripe.HTTPClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret_key or not secret_key.strip():
            raise PaymentConfigError("STRIPE_SECRET_KEY is empty.")
        secrets = [webhook_secret] if isinstance(webhook_secret, str) else list(webhook_secret)
        secrets = [secret.strip() for secret in secrets if secret and secret.strip()]
        if not secrets:
            raise PaymentConfigError("STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY.")
        if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance <= 0:
            raise PaymentConfigError("The webhook tolerance must be a positive number of seconds.")
        self._webhook_secrets = tuple(secrets)
        self._tolerance = tolerance
        self._clock = clock
        self.api_base = api_base.rstrip("/") if api_base else None
        self.client = stripe.StripeClient(
            secret_key.strip(),
            base_addresses={"api": self.api_base} if self.api_base else None,
            max_network_retries=max_network_retries,
            http_client=http_client or stripe.new_default_http_client(timeout=timeout),
        )

    def __repr__(self) -> str:  # never show the keys
        return f"StripeBackend(api_base={self.api_base!r})"

    @contextmanager
    def _stripe_call(self, what: str) -> Iterator[None]:
        try:
            yield
        except stripe.StripeError as error:
            translated = translate_stripe_error(error)
            log.warning("Stripe %s failed: %s (%s)", what, translated.message, type(error).__name__)
            raise translated from error

    # Checkout

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        params = checkout_params(request)
        with self._stripe_call("checkout.sessions.create"):
            session = self.client.v1.checkout.sessions.create(params=params, options={"idempotency_key": request.key})
        return CheckoutSession.from_stripe(_as_dict(session))

    def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        require_text("session_id", session_id)
        with self._stripe_call("checkout.sessions.retrieve"):
            session = self.client.v1.checkout.sessions.retrieve(session_id, params={"expand": ["payment_intent"]})
        return CheckoutSession.from_stripe(_as_dict(session))

    # Money movements

    def create_transfers(
        self, order_id: str, charge_id: str, transfer_group: str, payouts: Sequence[Payout | tuple[str, int, str]]
    ) -> list[Transfer]:
        require_text("order_id", order_id)
        require_text("charge_id", charge_id)
        require_text("transfer_group", transfer_group)
        transfers: list[Transfer] = []
        for payout in validated_payouts(payouts):
            params: TransferCreateParams = {
                "amount": payout.amount,
                "currency": payout.currency,
                "destination": payout.provider_account_id,
                "transfer_group": transfer_group,
                "source_transaction": charge_id,
                "metadata": {"order_id": order_id},
            }
            key = f"transfer:{order_id}:{payout.provider_account_id}"
            with self._stripe_call("transfers.create"):
                transfer = self.client.v1.transfers.create(params=params, options={"idempotency_key": key})
            transfers.append(Transfer.from_stripe(_as_dict(transfer)))
        return transfers

    def refund(
        self,
        payment_intent_id: str,
        *,
        amount: int | None = None,
        reverse_transfer: bool,
        refund_application_fee: bool,
        idempotency_key: str,
        reason: RefundReason | None = None,
    ) -> Refund:
        require_text("payment_intent_id", payment_intent_id)
        require_text("idempotency_key", idempotency_key)
        params: RefundCreateParams = {
            "payment_intent": payment_intent_id,
            "reverse_transfer": reverse_transfer,
            "refund_application_fee": refund_application_fee,
        }
        if amount is not None:
            params["amount"] = positive_amount("amount", amount)
        if reason is not None:
            params["reason"] = reason
        with self._stripe_call("refunds.create"):
            refund = self.client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
        return Refund.from_stripe(_as_dict(refund))

    def reverse_transfer(
        self, transfer_id: str, *, amount: int | None = None, idempotency_key: str
    ) -> TransferReversal:
        require_text("transfer_id", transfer_id)
        require_text("idempotency_key", idempotency_key)
        params: TransferReversalCreateParams = {}
        if amount is not None:
            params["amount"] = positive_amount("amount", amount)
        with self._stripe_call("transfers.reversals.create"):
            reversal = self.client.v1.transfers.reversals.create(
                transfer_id, params=params, options={"idempotency_key": idempotency_key}
            )
        return TransferReversal.from_stripe(_as_dict(reversal))

    # Connect

    def create_express_account(self, email: str, country: str, *, idempotency_key: str) -> ConnectAccount:
        require_text("email", email)
        require_text("idempotency_key", idempotency_key)
        params: AccountCreateParams = {
            "type": "express",
            "email": email,
            "country": country_code(country),
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
        }
        with self._stripe_call("accounts.create"):
            account = self.client.v1.accounts.create(params=params, options={"idempotency_key": idempotency_key})
        return ConnectAccount.from_stripe(_as_dict(account))

    def account_onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        require_text("account_id", account_id)
        params: AccountLinkCreateParams = {
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
        with self._stripe_call("account_links.create"):
            link = self.client.v1.account_links.create(params=params)
        return str(link.url)

    def retrieve_account(self, account_id: str) -> ConnectAccount:
        require_text("account_id", account_id)
        with self._stripe_call("accounts.retrieve"):
            account = self.client.v1.accounts.retrieve(account_id)
        return ConnectAccount.from_stripe(_as_dict(account))

    # Webhooks

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> PaymentEvent:
        return parse_event(
            payload, signature_header, self._webhook_secrets, tolerance=self._tolerance, now=self._clock()
        )
