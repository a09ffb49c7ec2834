"""The sandbox backend: the embedded default, so that ``make run`` sells datasets without any Stripe account.

It speaks the same interface and emits the same webhook events as Stripe, signed in Stripe's format with its own
secret, so the application feeds them through the very same ``parse_webhook`` → event handling path:

1. ``create_checkout`` returns a session whose ``url`` is ``{base_url}/sandbox/checkout/<session id>``, a page
   the application serves (pay / fail / cancel buttons).
2. The page's handler calls :meth:`SandboxBackend.complete_checkout` with the buyer's choice and gets a signed
   event (``checkout.session.completed`` with ``payment_status="paid"``, ``checkout.session.async_payment_failed``
   or ``checkout.session.expired``), hands ``(payload, header)`` to the webhook handler, and redirects to
   ``retrieve_checkout(id).success_redirect()`` (or the cancel URL).
3. Refunds, disputes and account updates have their own event builders (:meth:`refund_event`,
   :meth:`dispute_event`, :meth:`account_updated_event`); :meth:`sandbox_event` signs any other object.

Ids are self-describing and signed: a session id (and its payment intent and charge ids) carries the order id,
amount and currency under a MAC, so checkout pages, completions and refunds keep working in another worker
process or after a restart. What is only in memory (per process): URLs and e-mail of a session, which outcome a
session had, and the refunds made. Nothing here moves money.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple, TypeVar, cast

from .base import (
    CheckoutOutcome,
    CheckoutRequest,
    CheckoutSession,
    ConnectAccount,
    EventType,
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
    InvalidPaymentRequest,
    PaymentConfigError,
    PaymentError,
    PaymentObjectNotFound,
)
from .signing import DEFAULT_TOLERANCE, sign_payload
from .webhooks import parse_event

__all__ = ["SandboxBackend", "SignedEvent"]

#: The API version written into sandbox events (the one the installed Stripe SDK speaks).
SANDBOX_API_VERSION: Final = "2026-10-28.endive"

_OUTCOME_EVENTS: Final[Mapping[str, str]] = {
    "paid": EventType.CHECKOUT_COMPLETED.value,
    "failed": EventType.CHECKOUT_ASYNC_FAILED.value,
    "cancelled": EventType.CHECKOUT_EXPIRED.value,
}

T = TypeVar("T")

DisputeEventType = Literal["charge.dispute.created", "charge.dispute.closed"]


class SignedEvent(NamedTuple):
    """A webhook request as Stripe would send it: the raw body and its ``Stripe-Signature`` header value."""

    payload: bytes
    signature_header: str


@dataclass(frozen=True, slots=True)
class _SessionFacts:
    """What a sandbox session id itself says (signed)."""

    order_id: str
    amount_total: int
    currency: str
    token: str


@dataclass(frozen=True, slots=True)
class _SessionExtras:
    """What only the creating process remembers about a session."""

    success_url: str
    cancel_url: str
    customer_email: str | None
    created: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _const(value: T) -> Callable[[], T]:
    return lambda: value


class SandboxBackend:
    """:class:`~marketplace.orders.payments.base.PaymentBackend` that simulates Stripe locally.

    ``secret`` (at least 16 bytes, e.g. derived from the app's ``SECRET_KEY``) signs ids and webhook events;
    ``base_url`` is the application's external URL, under which it serves ``/sandbox/checkout/<session id>``.
    """

    name: Final = "sandbox"
    is_sandbox: Final = True

    def __init__(
        self,
        secret: bytes,
        base_url: str,
        *,
        tolerance: int = DEFAULT_TOLERANCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(secret, bytes) or len(secret) < 16:
            raise PaymentConfigError("The sandbox payment secret must be at least 16 bytes.")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise PaymentConfigError("The sandbox needs BASE_URL, an absolute http(s) URL.")
        if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance <= 0:
            raise PaymentConfigError("The webhook tolerance must be a positive number of seconds.")
        self._key = hmac.new(secret, b"marketplace.orders.payments.sandbox", hashlib.sha256).digest()
        #: The Stripe-format signing secret of the sandbox's events (tests sign their own events with it).
        self.webhook_secret = "whsec_sandbox_" + self._mac(b"webhook-signing", 40)
        self.base_url = base_url.rstrip("/")
        self._tolerance = tolerance
        self._clock = clock
        self._lock = threading.Lock()
        self._extras: dict[str, _SessionExtras] = {}
        self._outcomes: dict[str, CheckoutOutcome] = {}
        self._keys: dict[str, tuple[str, object]] = {}  # idempotency key -> (request fingerprint, result)
        self._refunded: dict[str, int] = {}  # payment intent id -> amount refunded so far

    def __repr__(self) -> str:
        return f"SandboxBackend(base_url={self.base_url!r})"

    # Signed, self-describing ids

    def _mac(self, data: bytes, length: int = 16) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()[:length]

    def _mint(self, prefix: str, fields: Sequence[object]) -> str:
        token = _b64(json.dumps(list(fields), separators=(",", ":")).encode("utf-8"))
        return f"{prefix}_sandbox_{token}_{self._mac(token.encode('ascii'))}"

    def _read(self, prefix: str, object_id: object, what: str) -> tuple[str, list[Any]]:
        head = f"{prefix}_sandbox_"
        if isinstance(object_id, str) and object_id.startswith(head):
            token, _, mac = object_id[len(head) :].rpartition("_")
            if token and hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(token.encode("ascii")).encode()):
                try:
                    fields = json.loads(_unb64(token))
                except (binascii.Error, ValueError):
                    fields = None
                if isinstance(fields, list):
                    return token, fields
        raise PaymentObjectNotFound(f"No such {what}: {object_id!r}.", code="resource_missing", http_status=404)

    def _session(self, object_id: str, prefix: str = "cs", what: str = "checkout session") -> _SessionFacts:
        token, fields = self._read(prefix, object_id, what)
        match fields:
            case [str(order_id), int(amount), str(currency), str()]:
                return _SessionFacts(order_id, amount, currency, token)
        raise PaymentObjectNotFound(f"No such {what}: {object_id!r}.", code="resource_missing", http_status=404)

    def _ids(self, facts: _SessionFacts) -> tuple[str, str, str]:
        """The session, payment intent and charge ids of one sandbox payment (same signed token)."""
        tail = f"_sandbox_{facts.token}_{self._mac(facts.token.encode('ascii'))}"
        return "cs" + tail, "pi" + tail, "ch" + tail

    def _remember(self, key: str, fingerprint: str, make: Callable[[], T]) -> T:
        """Stripe's idempotency: the first result under ``key`` is replayed; other parameters are refused.

        ``fingerprint`` names the operation and its parameters, so a key reused for another operation conflicts
        too. A failed ``make`` stores nothing (a retry may succeed).
        """
        with self._lock:
            seen = self._keys.get(key)
            if seen is None:
                result = make()
                self._keys[key] = (fingerprint, result)
                return result
        if seen[0] != fingerprint:
            raise IdempotencyConflict(
                f"Idempotency key {key!r} was already used with other parameters.", code="idempotency_key_in_use"
            )
        return cast(T, seen[1])

    def checkout_url(self, session_id: str) -> str:
        """Where the application serves the sandbox payment page of ``session_id``."""
        return f"{self.base_url}/sandbox/checkout/{session_id}"

    # Checkout

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        key = request.key
        fields = [request.order_id, request.total, request.currency, self._mac(key.encode("utf-8"), 8)]
        session_id = self._mint("cs", fields)
        # Everything but the key itself: an explicit key equal to the default one is the same request.
        significant = (request.order_id, request.lines, request.buyer_email, request.success_url, request.cancel_url)
        fingerprint = "checkout:" + hashlib.sha256(repr((significant, request.platform_fee_bps)).encode()).hexdigest()

        def make() -> str:
            self._extras[session_id] = _SessionExtras(
                request.success_url, request.cancel_url, request.buyer_email, int(self._clock())
            )
            return session_id

        self._remember(key, fingerprint, make)
        return self.retrieve_checkout(session_id)

    def session_object(self, session_id: str) -> dict[str, Any]:
        """The Stripe ``checkout.session`` JSON object of ``session_id`` as it stands now."""
        facts = self._session(session_id)
        cs_id, pi_id, _ = self._ids(facts)
        with self._lock:
            extras = self._extras.get(cs_id)
            outcome = self._outcomes.get(cs_id)
        status, payment_status = {
            None: ("open", "unpaid"),
            "paid": ("complete", "paid"),
            "failed": ("complete", "unpaid"),
            "cancelled": ("expired", "unpaid"),
        }[outcome]
        created = extras.created if extras else int(self._clock())
        email = extras.customer_email if extras else None
        return {
            "id": cs_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": status,
            "payment_status": payment_status,
            "payment_intent": pi_id if outcome in ("paid", "failed") else None,
            "amount_subtotal": facts.amount_total,
            "amount_total": facts.amount_total,
            "currency": facts.currency,
            "metadata": {"order_id": facts.order_id},
            "client_reference_id": facts.order_id,
            "customer_email": email,
            "customer_details": {"email": email} if email and outcome else None,
            "success_url": extras.success_url if extras else None,
            "cancel_url": extras.cancel_url if extras else None,
            "url": self.checkout_url(cs_id) if outcome is None else None,
            "livemode": False,
            "created": created,
            "expires_at": created + 24 * 3600,
        }

    def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        obj = self.session_object(session_id)
        if obj["payment_status"] == "paid":
            _, pi_id, ch_id = self._ids(self._session(session_id))
            obj["payment_intent"] = {"id": pi_id, "object": "payment_intent", "latest_charge": ch_id}
        return CheckoutSession.from_stripe(obj)

    def complete_checkout(self, session_id: str, outcome: CheckoutOutcome) -> SignedEvent:
        """Finish ``session_id`` as the buyer chose and return the signed event Stripe would send.

        ``"paid"`` → ``checkout.session.completed`` (``payment_status="paid"``); ``"failed"`` →
        ``checkout.session.async_payment_failed``; ``"cancelled"`` → ``checkout.session.expired``. Repeating
        the same outcome returns an event with the same id (so the handler's de-duplication sees it once);
        a different outcome for a finished session is refused.
        """
        if outcome not in _OUTCOME_EVENTS:
            raise InvalidPaymentRequest(f"outcome: must be 'paid', 'failed' or 'cancelled', not {outcome!r}.")
        cs_id = self._ids(self._session(session_id))[0]
        with self._lock:
            previous = self._outcomes.setdefault(cs_id, outcome)
        if previous != outcome:
            raise PaymentError(f"Checkout session {cs_id} is already {previous}.", code="checkout_session_closed")
        event_type = _OUTCOME_EVENTS[outcome]
        event_id = "evt_sandbox_" + self._mac(f"{event_type}:{cs_id}".encode(), 24)
        return self.sandbox_event(event_type, self.session_object(cs_id), event_id=event_id)

    # Money movements (simulated)

    def create_transfers(
        self, order_id: str, charge_id: str, transfer_group: str, payouts: Sequence[Payout | tuple[str, int, str]]
    ) -> list[Transfer]:
        require_text("order_id", order_id)
        require_text("transfer_group", transfer_group)
        facts = self._session(charge_id, "ch", "charge")
        batch = validated_payouts(payouts)
        if sum(payout.amount for payout in batch) > facts.amount_total:
            raise PaymentError("The transfers exceed the amount of their source charge.", code="amount_too_large")
        transfers: list[Transfer] = []
        for payout in batch:
            if payout.currency != facts.currency:
                raise PaymentError("A transfer must be in the currency of its source charge.", code="currency_mismatch")
            key = f"transfer:{order_id}:{payout.provider_account_id}"
            fields = [payout.provider_account_id, payout.amount, payout.currency, self._mac(key.encode(), 8)]
            transfer = Transfer(
                id=self._mint("tr", fields),
                destination=payout.provider_account_id,
                amount=payout.amount,
                currency=payout.currency,
                transfer_group=transfer_group,
                source_transaction=charge_id,
            )
            transfers.append(self._remember(key, f"transfer:{transfer!r}", _const(transfer)))
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
        require_text("idempotency_key", idempotency_key)
        if amount is not None:
            positive_amount("amount", amount)
        facts = self._session(payment_intent_id, "pi", "payment intent")
        _, pi_id, ch_id = self._ids(facts)
        fingerprint = f"refund:{(pi_id, amount, reverse_transfer, refund_application_fee, reason)!r}"

        def make() -> Refund:
            already = self._refunded.get(pi_id, 0)
            remaining = facts.amount_total - already
            value = remaining if amount is None else amount
            if remaining <= 0:
                raise PaymentError(f"Charge {ch_id} has already been refunded.", code="charge_already_refunded")
            if value > remaining:
                raise PaymentError(
                    f"Refund amount ({value}) is greater than the unrefunded amount ({remaining}).",
                    code="amount_too_large",
                )
            self._refunded[pi_id] = already + value
            return Refund(
                id="re_sandbox_" + self._mac(f"refund:{idempotency_key}".encode(), 24),
                payment_intent_id=pi_id,
                charge_id=ch_id,
                amount=value,
                currency=facts.currency,
                status="succeeded",
                reason=reason,
            )

        return self._remember(idempotency_key, fingerprint, make)

    def reverse_transfer(
        self, transfer_id: str, *, amount: int | None = None, idempotency_key: str
    ) -> TransferReversal:
        require_text("idempotency_key", idempotency_key)
        _, fields = self._read("tr", transfer_id, "transfer")
        match fields:
            case [str(), int(transferred), str(currency), str()]:
                pass
            case _:
                raise PaymentObjectNotFound(f"No such transfer: {transfer_id!r}.", code="resource_missing")
        value = transferred if amount is None else positive_amount("amount", amount)
        if value > transferred:
            raise PaymentError("The reversal exceeds the transfer.", code="amount_too_large")
        reversal = TransferReversal(
            id="trr_sandbox_" + self._mac(f"reversal:{idempotency_key}".encode(), 24),
            transfer_id=transfer_id,
            amount=value,
            currency=currency,
        )
        return self._remember(idempotency_key, f"reversal:{reversal!r}", _const(reversal))

    # Connect (simulated: every sandbox account is fully enabled at once)

    def create_express_account(self, email: str, country: str, *, idempotency_key: str) -> ConnectAccount:
        require_text("email", email)
        require_text("idempotency_key", idempotency_key)
        country_code(country)
        return self._account("acct_sandbox_" + self._mac(f"account:{idempotency_key}".encode(), 16))

    def account_onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        """Onboarding is instant in the sandbox: the link is ``return_url`` itself."""
        self.retrieve_account(account_id)
        return return_url

    def retrieve_account(self, account_id: str) -> ConnectAccount:
        prefix = "acct_sandbox_"
        if not isinstance(account_id, str) or not account_id.startswith(prefix) or len(account_id) != len(prefix) + 16:
            raise PaymentObjectNotFound(f"No such account: {account_id!r}.", code="resource_missing", http_status=404)
        return self._account(account_id)

    def _account(self, account_id: str) -> ConnectAccount:
        return ConnectAccount.from_stripe(self.account_object(account_id))

    @staticmethod
    def account_object(
        account_id: str,
        *,
        charges_enabled: bool = True,
        payouts_enabled: bool = True,
        requirements_due: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A Stripe ``account`` JSON object (Express)."""
        return {
            "id": account_id,
            "object": "account",
            "type": "express",
            "charges_enabled": charges_enabled,
            "payouts_enabled": payouts_enabled,
            "details_submitted": charges_enabled,
            "requirements": {
                "currently_due": list(requirements_due),
                "eventually_due": list(requirements_due),
                "past_due": [],
                "disabled_reason": None if charges_enabled else "requirements.past_due",
            },
        }

    # Webhooks

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> PaymentEvent:
        return parse_event(
            payload, signature_header, (self.webhook_secret,), tolerance=self._tolerance, now=self._clock()
        )

    def sandbox_event(
        self,
        type: str,
        object: Mapping[str, Any],
        *,
        event_id: str | None = None,
        account: str | None = None,
    ) -> SignedEvent:
        """Wrap ``object`` in a Stripe event envelope of ``type`` and sign it with :attr:`webhook_secret`."""
        require_text("type", type)
        now = int(self._clock())
        event: dict[str, Any] = {
            "id": event_id or "evt_sandbox_" + secrets.token_hex(12),
            "object": "event",
            "api_version": SANDBOX_API_VERSION,
            "created": now,
            "data": {"object": dict(object)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        if account is not None:
            event["account"] = account
        payload = json.dumps(event, separators=(",", ":")).encode("utf-8")
        return SignedEvent(payload, sign_payload(payload, self.webhook_secret, now))

    def charge_object(self, payment_intent_id: str) -> dict[str, Any]:
        """The Stripe ``charge`` JSON object behind a sandbox payment intent, with the refunds made so far."""
        facts = self._session(payment_intent_id, "pi", "payment intent")
        _, pi_id, ch_id = self._ids(facts)
        with self._lock:
            refunded = self._refunded.get(pi_id, 0)
        return {
            "id": ch_id,
            "object": "charge",
            "amount": facts.amount_total,
            "amount_captured": facts.amount_total,
            "amount_refunded": refunded,
            "refunded": refunded >= facts.amount_total,
            "currency": facts.currency,
            "payment_intent": pi_id,
            "paid": True,
            "status": "succeeded",
            "livemode": False,
            "metadata": {},
        }

    def refund_event(self, refund: Refund) -> SignedEvent:
        """The ``charge.refunded`` event Stripe sends after ``refund`` (which this backend made)."""
        if refund.payment_intent_id is None:
            raise InvalidPaymentRequest("refund: has no payment intent.")
        charge = self.charge_object(refund.payment_intent_id)
        charge["amount_refunded"] = max(charge["amount_refunded"], refund.amount)
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        return self.sandbox_event(EventType.CHARGE_REFUNDED.value, charge, event_id="evt_sandbox_" + refund.id)

    def dispute_event(
        self,
        payment_intent_id: str,
        event_type: DisputeEventType = "charge.dispute.created",
        *,
        status: str | None = None,
        reason: str = "fraudulent",
    ) -> SignedEvent:
        """A ``charge.dispute.created`` (status ``needs_response``) or ``.closed`` (default ``lost``) event."""
        if event_type not in (EventType.DISPUTE_CREATED.value, EventType.DISPUTE_CLOSED.value):
            raise InvalidPaymentRequest(f"event_type: {event_type!r} is not a dispute event.")
        charge = self.charge_object(payment_intent_id)
        dispute = {
            "id": "dp_sandbox_" + self._mac(f"dispute:{charge['id']}".encode(), 24),
            "object": "dispute",
            "amount": charge["amount"],
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": status or ("needs_response" if event_type == EventType.DISPUTE_CREATED.value else "lost"),
            "livemode": False,
        }
        return self.sandbox_event(event_type, dispute)

    def account_updated_event(
        self,
        account_id: str,
        *,
        charges_enabled: bool = True,
        payouts_enabled: bool = True,
        requirements_due: Sequence[str] = (),
    ) -> SignedEvent:
        """An ``account.updated`` Connect event for a sandbox account."""
        self.retrieve_account(account_id)
        obj = self.account_object(
            account_id,
            charges_enabled=charges_enabled,
            payouts_enabled=payouts_enabled,
            requirements_due=requirements_due,
        )
        return self.sandbox_event(EventType.ACCOUNT_UPDATED.value, obj, account=account_id)
