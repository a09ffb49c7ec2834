"""The payment interface: value types, the settlement rules, and the :class:`PaymentBackend` protocol.

The orders service holds a :class:`PaymentBackend` and never knows whether Stripe or the embedded sandbox is
behind it. Everything that crosses the interface is a frozen value defined here; no ``stripe`` object leaks out.

Money is always an integer number of minor units with a lower-case ISO 4217 currency code (``1999, "eur"`` is
€19.99), never a float. Times are timezone-aware UTC.

How an order is settled depends on who is paid (:func:`plan_settlement`):

* every line belongs to the same connected account: a *destination charge*. Stripe moves the money to the
  provider and keeps :func:`platform_fee` for the platform, in one step. Refund it with
  ``reverse_transfer=True, refund_application_fee=True``.
* lines of several connected accounts: *separate charges and transfers*. The platform is charged in full with
  ``transfer_group = "order_<id>"``; once paid, :meth:`PaymentBackend.create_transfers` sends each provider its
  share. A refund does not pull those transfers back: call :meth:`PaymentBackend.reverse_transfer` for each.
* no line has a connected account (the platform sells its own data): a plain charge, nothing is transferred.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

from .errors import (
    IdempotencyConflict,
    InvalidEvent,
    InvalidPaymentRequest,
    PaymentConfigError,
    PaymentError,
    PaymentObjectNotFound,
    PaymentProviderUnavailable,
    SignatureFailure,
    SignatureInvalid,
)
from .validation import (
    check_amount,
    check_bps,
    check_text,
    country_code,
    normalise_currency,
    platform_fee,
    positive_amount,
    require_text,
    split_fee,
)

__all__ = [
    "SESSION_ID_PLACEHOLDER",
    "ChargeKind",
    "CheckoutLine",
    "CheckoutOutcome",
    "CheckoutRequest",
    "CheckoutSession",
    "ConnectAccount",
    "EventType",
    "IdempotencyConflict",
    "InvalidEvent",
    "InvalidPaymentRequest",
    "PaymentBackend",
    "PaymentConfigError",
    "PaymentError",
    "PaymentEvent",
    "PaymentObjectNotFound",
    "PaymentProviderUnavailable",
    "Payout",
    "Refund",
    "RefundReason",
    "Settlement",
    "SignatureFailure",
    "SignatureInvalid",
    "Transfer",
    "TransferReversal",
    "country_code",
    "normalise_currency",
    "plan_settlement",
    "platform_fee",
    "positive_amount",
    "require_text",
    "split_fee",
    "transfer_group_for",
    "validated_payouts",
]

#: Stripe replaces this in ``success_url`` with the session id; the success page needs it to look the session up.
SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"

#: Stripe's limits: ``client_reference_id`` is at most 200 characters, a metadata value at most 500.
_MAX_ORDER_ID_LENGTH = 200
_MAX_KEY_LENGTH = 255

RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]
CheckoutOutcome = Literal["paid", "failed", "cancelled"]


class EventType(StrEnum):
    """The webhook event types the marketplace acts upon (others may arrive and should be acknowledged)."""

    CHECKOUT_COMPLETED = "checkout.session.completed"
    """The buyer finished checkout. Fulfil only when ``payment_status == "paid"``; ``"unpaid"`` means a delayed
    method (bank debit) is still pending and one of the two async events follows."""
    CHECKOUT_ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
    CHECKOUT_ASYNC_FAILED = "checkout.session.async_payment_failed"
    CHECKOUT_EXPIRED = "checkout.session.expired"
    CHARGE_REFUNDED = "charge.refunded"
    DISPUTE_CREATED = "charge.dispute.created"
    DISPUTE_CLOSED = "charge.dispute.closed"
    ACCOUNT_UPDATED = "account.updated"


def validated_payouts(payouts: Sequence[Payout | tuple[str, int, str]]) -> list[Payout]:
    """Payouts as :class:`Payout` values, refusing duplicates (they would share one idempotency key)."""
    result: list[Payout] = []
    seen: set[str] = set()
    for index, raw in enumerate(payouts):
        try:
            account, amount, currency = raw
        except (TypeError, ValueError):
            raise InvalidPaymentRequest(f"payouts[{index}]: must be (provider_account_id, amount, currency).") from None
        account = require_text(f"payouts[{index}].provider_account_id", account)
        if account in seen:
            raise InvalidPaymentRequest(f"payouts: account {account} appears twice; merge its amounts.")
        seen.add(account)
        result.append(
            Payout(account, positive_amount(f"payouts[{index}].amount", amount), normalise_currency(currency))
        )
    if not result:
        raise InvalidPaymentRequest("payouts: nothing to transfer.")
    return result


def transfer_group_for(order_id: str) -> str:
    """The ``transfer_group`` tying an order's charge to its transfers: ``order_<order id>``."""
    return f"order_{order_id}"


def _frozen_str_mapping(value: Mapping[str, Any] | None) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in (value or {}).items() if v is not None})


def _id_of(value: Any) -> str | None:
    """A Stripe reference that may be expanded (an object with ``id``) or not (the id itself)."""
    if isinstance(value, Mapping):
        ref = value.get("id")
        return ref if isinstance(ref, str) else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class CheckoutLine:
    """One offer in a checkout, sold once.

    ``name`` is what the buyer sees on the payment page (dataset and licence names); ``description`` is optional
    (``""`` becomes ``None``: Stripe refuses empty strings). ``provider_account_id`` is the provider's connected
    account (``acct_...``), or ``None`` when the platform itself is paid. ``provider_id`` is our own provider id,
    carried in metadata.
    """

    offer_id: str
    name: str
    description: str | None
    amount: int
    currency: str
    provider_account_id: str | None
    provider_id: str

    def __post_init__(self) -> None:
        check_text("offer_id", self.offer_id, max_length=500)
        check_text("name", self.name)
        check_amount("amount", self.amount)
        check_text("provider_id", self.provider_id, max_length=500)
        object.__setattr__(self, "currency", normalise_currency(self.currency))
        if self.description is not None and not self.description.strip():
            object.__setattr__(self, "description", None)
        if self.provider_account_id is not None:
            check_text("provider_account_id", self.provider_account_id, max_length=255)


class Payout(NamedTuple):
    """What one connected account receives for an order: ``(provider_account_id, amount, currency)``."""

    provider_account_id: str
    amount: int
    currency: str


class ChargeKind(StrEnum):
    """How an order's money reaches its providers (see the module docstring)."""

    DESTINATION = "destination"
    SEPARATE_TRANSFERS = "separate_transfers"
    PLATFORM = "platform"


@dataclass(frozen=True, slots=True)
class Settlement:
    """Who gets what for an order. Computed, never stored by a backend; the orders service may store it.

    ``payouts`` are the providers' shares after the platform fee, one per connected account (zero shares are
    left out). For a destination charge it is informational (Stripe pays it); for separate transfers it is
    exactly what to pass to :meth:`PaymentBackend.create_transfers` once the charge is paid.
    """

    kind: ChargeKind
    total: int
    currency: str
    platform_fee: int
    payouts: tuple[Payout, ...]
    destination: str | None
    transfer_group: str | None


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """Everything needed to open a payment page for an order.

    ``success_url`` must contain ``{CHECKOUT_SESSION_ID}`` (the provider substitutes the session id).
    ``idempotency_key`` defaults to ``checkout:<order id>``: asking twice for the same order returns the same
    session. After a session expired or failed, pass a new key (``checkout:<order id>:<attempt>``).
    ``hold_for_transfer_group``: the platform keeps the whole charge (no line may name a connected account) and
    tags it with this transfer group, for transfers made later (a custom-data contract's escrow).
    """

    order_id: str
    lines: tuple[CheckoutLine, ...]
    buyer_email: str | None
    success_url: str
    cancel_url: str
    platform_fee_bps: int
    idempotency_key: str | None = None
    hold_for_transfer_group: str | None = None

    def __post_init__(self) -> None:
        check_text("order_id", self.order_id, max_length=_MAX_ORDER_ID_LENGTH)
        lines = tuple(self.lines)
        object.__setattr__(self, "lines", lines)
        if not lines or not all(isinstance(line, CheckoutLine) for line in lines):
            raise InvalidPaymentRequest("lines: a checkout needs at least one CheckoutLine.")
        currencies = {line.currency for line in lines}
        if len(currencies) != 1:
            raise InvalidPaymentRequest(f"lines: all lines must share one currency, not {sorted(currencies)}.")
        if sum(line.amount for line in lines) <= 0:
            raise InvalidPaymentRequest("lines: the total must be positive; free offers need no checkout.")
        check_bps(self.platform_fee_bps)
        for name in ("success_url", "cancel_url"):
            url = check_text(name, getattr(self, name), max_length=5000)
            if not url.startswith(("https://", "http://")):
                raise InvalidPaymentRequest(f"{name}: must be an absolute http(s) URL.")
        if SESSION_ID_PLACEHOLDER not in self.success_url:
            raise InvalidPaymentRequest(f"success_url: must contain {SESSION_ID_PLACEHOLDER}.")
        if self.buyer_email is not None and "@" not in self.buyer_email:
            raise InvalidPaymentRequest("buyer_email: must be an e-mail address.")
        if self.idempotency_key is not None:
            check_text("idempotency_key", self.idempotency_key, max_length=_MAX_KEY_LENGTH)
        if self.hold_for_transfer_group is not None:
            check_text("hold_for_transfer_group", self.hold_for_transfer_group, max_length=_MAX_KEY_LENGTH)
            if any(line.provider_account_id is not None for line in lines):
                raise InvalidPaymentRequest("lines: a held charge names no connected account; transfer later.")

    @property
    def currency(self) -> str:
        return self.lines[0].currency

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def key(self) -> str:
        """The idempotency key actually used: ``idempotency_key`` or ``checkout:<order id>``."""
        return self.idempotency_key or f"checkout:{self.order_id}"

    @property
    def settlement(self) -> Settlement:
        return plan_settlement(self)


def plan_settlement(request: CheckoutRequest) -> Settlement:
    """Decide how ``request`` is settled and compute each provider's share (see the module docstring).

    The fee is :func:`platform_fee` of the whole total. With several accounts it is shared among them with
    :func:`split_fee` in proportion to their lines, so the transfers add up to exactly ``total - fee`` (less the
    lines of the platform's own, if any, which stay with the platform).
    """
    total = request.total
    fee = platform_fee(total, request.platform_fee_bps)
    subtotals: dict[str | None, int] = {}
    for line in request.lines:
        subtotals[line.provider_account_id] = subtotals.get(line.provider_account_id, 0) + line.amount
    accounts = list(subtotals)
    if accounts == [None]:
        group = request.hold_for_transfer_group
        return Settlement(ChargeKind.PLATFORM, total, request.currency, fee, (), None, group)
    if len(accounts) == 1:
        (account,) = accounts
        assert account is not None
        payouts: tuple[Payout, ...] = (Payout(account, total - fee, request.currency),) if total > fee else ()
        return Settlement(ChargeKind.DESTINATION, total, request.currency, fee, payouts, account, None)
    shares = split_fee([subtotals[account] for account in accounts], request.platform_fee_bps)
    payouts = tuple(
        Payout(account, subtotals[account] - share, request.currency)
        for account, share in zip(accounts, shares, strict=True)
        if account is not None and subtotals[account] > share
    )
    group = transfer_group_for(request.order_id)
    return Settlement(ChargeKind.SEPARATE_TRANSFERS, total, request.currency, fee, payouts, None, group)


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    """A payment page and what became of it.

    ``status`` is ``"open"``, ``"complete"`` or ``"expired"``; ``payment_status`` is ``"paid"``, ``"unpaid"``
    or ``"no_payment_required"``. ``payment_intent_id`` is known once the buyer paid (refunds need it);
    ``charge_id`` only when the backend looked it up (``retrieve_checkout`` does; transfers need it as their
    ``source_transaction``). ``url`` is where to send the buyer while the session is open.
    """

    id: str
    url: str | None
    payment_status: str
    status: str
    payment_intent_id: str | None
    amount_total: int | None
    currency: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    client_reference_id: str | None = None
    customer_email: str | None = None
    charge_id: str | None = None
    success_url: str | None = None
    cancel_url: str | None = None

    @property
    def order_id(self) -> str | None:
        """Our order id, from ``metadata.order_id`` (set at creation) or else ``client_reference_id``."""
        return self.metadata.get("order_id") or self.client_reference_id

    @property
    def is_paid(self) -> bool:
        return self.payment_status == "paid"

    def success_redirect(self) -> str | None:
        """``success_url`` with the session id filled in, as the provider redirects the buyer after paying."""
        return None if self.success_url is None else self.success_url.replace(SESSION_ID_PLACEHOLDER, self.id)

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> CheckoutSession:
        """Read a Stripe ``checkout.session`` object (from the API or from an event's ``data.object``).

        ``payment_intent`` may be an id or an expanded object; in the latter case ``latest_charge`` gives
        ``charge_id``.
        """
        if obj.get("object") != "checkout.session" or not isinstance(obj.get("id"), str):
            raise InvalidEvent("Expected a checkout.session object.")
        intent = obj.get("payment_intent")
        charge_id = _id_of(intent.get("latest_charge")) if isinstance(intent, Mapping) else None
        details = obj.get("customer_details")
        email = obj.get("customer_email") or (details.get("email") if isinstance(details, Mapping) else None)
        amount_total = obj.get("amount_total")
        return cls(
            id=obj["id"],
            url=obj.get("url"),
            payment_status=str(obj.get("payment_status") or "unpaid"),
            status=str(obj.get("status") or "open"),
            payment_intent_id=_id_of(intent),
            amount_total=amount_total if isinstance(amount_total, int) else None,
            currency=obj.get("currency"),
            metadata=_frozen_str_mapping(obj.get("metadata")),
            client_reference_id=obj.get("client_reference_id"),
            customer_email=email if isinstance(email, str) else None,
            charge_id=charge_id,
            success_url=obj.get("success_url"),
            cancel_url=obj.get("cancel_url"),
        )


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A verified webhook event. ``object`` is the event's ``data.object`` as plain JSON values.

    ``account`` is the connected account the event happened on (Connect events such as ``account.updated``),
    ``None`` for the platform's own. Apply each event once: deduplicate on ``id``. Map charge and dispute events
    to orders by ``payment_intent`` (recorded when the checkout completed), not by metadata.
    """

    id: str
    type: str
    created: datetime
    object: Mapping[str, Any]
    livemode: bool
    account: str | None = None

    @classmethod
    def from_json(cls, data: builtins.object) -> PaymentEvent:
        """Read a decoded Stripe event; raises :class:`InvalidEvent` when it is not one."""
        if not isinstance(data, Mapping) or data.get("object") != "event":
            raise InvalidEvent("The webhook body is not a Stripe event.")
        event_id, event_type, created = data.get("id"), data.get("type"), data.get("created")
        body = data.get("data")
        obj = body.get("object") if isinstance(body, Mapping) else None
        if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
            raise InvalidEvent("The event has no id or type.")
        if not isinstance(created, int) or isinstance(created, bool) or not isinstance(obj, Mapping):
            raise InvalidEvent("The event has no created time or no data.object.")
        try:
            when = datetime.fromtimestamp(created, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidEvent("The event's created time is out of range.") from None
        account = data.get("account")
        return cls(
            id=event_id,
            type=event_type,
            created=when,
            object=obj,
            livemode=bool(data.get("livemode", False)),
            account=account if isinstance(account, str) else None,
        )

    def checkout_session(self) -> CheckoutSession:
        """The event's object as a :class:`CheckoutSession` (for the ``checkout.session.*`` events)."""
        return CheckoutSession.from_stripe(self.object)

    def connect_account(self) -> ConnectAccount:
        """The event's object as a :class:`ConnectAccount` (for ``account.updated``)."""
        return ConnectAccount.from_stripe(self.object)


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund of (part of) a payment; ``status`` is ``"succeeded"``, ``"pending"``, ``"failed"`` ..."""

    id: str
    payment_intent_id: str | None
    charge_id: str | None
    amount: int
    currency: str
    status: str
    reason: str | None = None

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> Refund:
        return cls(
            id=str(obj["id"]),
            payment_intent_id=_id_of(obj.get("payment_intent")),
            charge_id=_id_of(obj.get("charge")),
            amount=int(obj.get("amount") or 0),
            currency=str(obj.get("currency") or ""),
            status=str(obj.get("status") or "pending"),
            reason=obj.get("reason"),
        )


@dataclass(frozen=True, slots=True)
class Transfer:
    """Money moved from the platform's balance to a connected account."""

    id: str
    destination: str
    amount: int
    currency: str
    transfer_group: str | None
    source_transaction: str | None

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> Transfer:
        return cls(
            id=str(obj["id"]),
            destination=_id_of(obj.get("destination")) or "",
            amount=int(obj.get("amount") or 0),
            currency=str(obj.get("currency") or ""),
            transfer_group=obj.get("transfer_group"),
            source_transaction=_id_of(obj.get("source_transaction")),
        )


@dataclass(frozen=True, slots=True)
class TransferReversal:
    """Money pulled back from a connected account (after a refund of a multi-provider order)."""

    id: str
    transfer_id: str
    amount: int
    currency: str

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> TransferReversal:
        return cls(
            id=str(obj["id"]),
            transfer_id=_id_of(obj.get("transfer")) or "",
            amount=int(obj.get("amount") or 0),
            currency=str(obj.get("currency") or ""),
        )


@dataclass(frozen=True, slots=True)
class ConnectAccount:
    """A provider's connected account. Sell through it only when ``charges_enabled`` (trust ``account.updated``
    events and :meth:`PaymentBackend.retrieve_account`, not the onboarding return redirect)."""

    id: str
    charges_enabled: bool
    payouts_enabled: bool
    requirements_due: tuple[str, ...]
    details_submitted: bool = False

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> ConnectAccount:
        if obj.get("object") != "account" or not isinstance(obj.get("id"), str):
            raise InvalidEvent("Expected an account object.")
        requirements = obj.get("requirements")
        due = requirements.get("currently_due") if isinstance(requirements, Mapping) else None
        return cls(
            id=obj["id"],
            charges_enabled=bool(obj.get("charges_enabled")),
            payouts_enabled=bool(obj.get("payouts_enabled")),
            requirements_due=tuple(str(item) for item in due or ()),
            details_submitted=bool(obj.get("details_submitted")),
        )


@runtime_checkable
class PaymentBackend(Protocol):
    """What the orders domain needs from a payment provider. Implementations: ``StripeBackend``, ``SandboxBackend``.

    Every call that creates something takes (or derives) a deterministic idempotency key, so retrying after a
    timeout never charges, refunds or transfers twice. Errors are only those of
    :mod:`marketplace.orders.payments.errors`; :class:`PaymentProviderUnavailable` means "retry later".
    """

    @property
    def name(self) -> str:
        """``"stripe"`` or ``"sandbox"``."""
        ...

    @property
    def is_sandbox(self) -> bool:
        """True for the embedded sandbox: production must refuse to start with it."""
        ...

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Open a payment page for an order (key ``request.key``); send the buyer to the returned ``url``."""
        ...

    def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        """The session's current state, with ``charge_id`` once paid (for reconciling and the success page)."""
        ...

    def create_transfers(
        self, order_id: str, charge_id: str, transfer_group: str, payouts: Sequence[Payout | tuple[str, int, str]]
    ) -> list[Transfer]:
        """Pay each provider of a separately charged order its share, funded by ``charge_id``.

        One transfer per payout, keyed ``transfer:<order id>:<provider account>``: calling again after a partial
        failure completes the batch without paying anyone twice.
        """
        ...

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
        """Refund ``amount`` (all of it when ``None``) of a payment.

        For destination charges pass ``reverse_transfer=True, refund_application_fee=True`` so the provider and
        the platform each give back their part; for separate transfers pass both ``False`` and reverse the
        transfers with :meth:`reverse_transfer`.
        """
        ...

    def reverse_transfer(
        self, transfer_id: str, *, amount: int | None = None, idempotency_key: str
    ) -> TransferReversal:
        """Pull back ``amount`` (all of it when ``None``) of a transfer from the connected account."""
        ...

    def create_express_account(self, email: str, country: str, *, idempotency_key: str) -> ConnectAccount:
        """Create an Express connected account for a provider (``country`` is ISO 3166-1 alpha-2)."""
        ...

    def account_onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> str:
        """A one-time URL where the provider fills in the account's details (expires within minutes)."""
        ...

    def retrieve_account(self, account_id: str) -> ConnectAccount:
        """The account's current capabilities and outstanding requirements."""
        ...

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> PaymentEvent:
        """Verify ``signature_header`` over the raw ``payload`` bytes, then decode the event.

        Verification comes first: an unverified body is never parsed. Raises :class:`SignatureInvalid` (with
        ``reason``) or :class:`InvalidEvent`.
        """
        ...
