"""License grants: what a buyer holds, and the state machine of their status.

A :class:`Grant` is an immutable value. Status changes go through :meth:`Grant.transition` (or the
named helpers :meth:`~Grant.activate`, :meth:`~Grant.suspend`, :meth:`~Grant.reinstate`,
:meth:`~Grant.expire`, :meth:`~Grant.revoke`, :meth:`~Grant.await_approval`), which return a new
Grant with one more :class:`GrantEvent` appended to its log, or raise
:class:`~licensing.errors.TransitionError`.

Legal moves::

    pending_payment  --activate-------> active
    pending_payment  --await_approval-> pending_approval
    pending_approval --activate-------> active
    active           --suspend--------> suspended
    suspended        --reinstate------> active
    pending_*/active/suspended --expire--> expired   (only once the validity window has ended)
    any but revoked  --revoke---------> revoked     (revoked is final)

``activate`` and ``reinstate`` are refused once the validity window has ended; ``suspend`` and
``revoke`` need a reason; events must be in time order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Any

from .duration import format_datetime, parse_datetime, require_utc
from .errors import GrantError, LicensingError, MoneyError, TransitionError
from .money import Money
from .offers import Offer, validate_identifier, validate_version_label
from .templates import validate_license_id
from .terms import Terms
from .ulid import is_ulid, new_ulid

_DIGEST = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class GrantStatus(StrEnum):
    """Status of a grant."""

    PENDING_PAYMENT = "pending_payment"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    REVOKED = "revoked"


class GrantAction(StrEnum):
    """A status change that can be asked of a grant."""

    ACTIVATE = "activate"
    AWAIT_APPROVAL = "await_approval"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    EXPIRE = "expire"
    REVOKE = "revoke"


_S = GrantStatus
#: action -> {from status: to status}
TRANSITIONS: dict[GrantAction, dict[GrantStatus, GrantStatus]] = {
    GrantAction.ACTIVATE: {_S.PENDING_PAYMENT: _S.ACTIVE, _S.PENDING_APPROVAL: _S.ACTIVE},
    GrantAction.AWAIT_APPROVAL: {_S.PENDING_PAYMENT: _S.PENDING_APPROVAL},
    GrantAction.SUSPEND: {_S.ACTIVE: _S.SUSPENDED},
    GrantAction.REINSTATE: {_S.SUSPENDED: _S.ACTIVE},
    GrantAction.EXPIRE: {
        _S.PENDING_PAYMENT: _S.EXPIRED,
        _S.PENDING_APPROVAL: _S.EXPIRED,
        _S.ACTIVE: _S.EXPIRED,
        _S.SUSPENDED: _S.EXPIRED,
    },
    GrantAction.REVOKE: {s: _S.REVOKED for s in GrantStatus if s is not _S.REVOKED},
}
INITIAL_STATUSES = frozenset({_S.PENDING_PAYMENT, _S.PENDING_APPROVAL, _S.ACTIVE})


def normalise_digest(value: Any) -> str:
    """Return a manifest digest as ``sha256:<64 lowercase hex>``; accept the bare hex too."""
    match = _DIGEST.match(value) if isinstance(value, str) else None
    if match is None:
        raise GrantError(f"{value!r} is not a SHA-256 digest (sha256:<64 hex>)", "manifest_digest")
    return f"sha256:{match.group(1)}"


@dataclass(frozen=True)
class AgreementRef:
    """The data-use agreement a licensee signed to obtain a grant: its id, the exact version and the SHA-256 of
    that version's text, so a third party can tell which agreement bound the licensee."""

    id: str
    version: str
    sha256: str

    def __post_init__(self) -> None:
        validate_identifier(self.id, "agreement.id")
        validate_identifier(self.version, "agreement.version")
        if not isinstance(self.sha256, str) or not _SHA256_HEX.match(self.sha256):
            raise GrantError("the agreement hash must be 64 lowercase hex digits", "agreement.sha256")

    def to_dict(self) -> dict[str, str]:
        """Return the JSON-safe form (also the certificate's ``agreement`` claim)."""
        return {"id": self.id, "version": self.version, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: Any) -> AgreementRef:
        """Parse :meth:`to_dict` output; raise :class:`GrantError` on anything else."""
        if not isinstance(data, Mapping) or set(data) != {"id", "version", "sha256"}:
            raise GrantError("an agreement needs exactly id, version and sha256", "agreement")
        return cls(data["id"], data["version"], data["sha256"])


@dataclass(frozen=True)
class GrantEvent:
    """One entry of a grant's append-only event log."""

    at: datetime
    from_status: GrantStatus | None
    to_status: GrantStatus
    reason: str
    actor: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_utc(self.at, "at"))
        if self.from_status is not None:
            object.__setattr__(self, "from_status", GrantStatus(self.from_status))
        object.__setattr__(self, "to_status", GrantStatus(self.to_status))
        if not isinstance(self.reason, str):
            raise GrantError("reason must be a string", "reason")
        if self.actor is not None and not isinstance(self.actor, str):
            raise GrantError("actor must be a string or null", "actor")

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-safe form of the event."""
        return {
            "at": format_datetime(self.at),
            "from": None if self.from_status is None else self.from_status.value,
            "to": self.to_status.value,
            "reason": self.reason,
            "actor": self.actor,
        }

    @classmethod
    def from_dict(cls, data: Any) -> GrantEvent:
        """Parse :meth:`to_dict` output; raise :class:`GrantError` on anything else."""
        if not isinstance(data, Mapping) or set(data) != {"at", "from", "to", "reason", "actor"}:
            raise GrantError("an event needs exactly at, from, to, reason and actor", "events")
        try:
            return cls(
                parse_datetime(data["at"], "events.at"),
                None if data["from"] is None else GrantStatus(data["from"]),
                GrantStatus(data["to"]),
                data["reason"],
                data["actor"],
            )
        except ValueError as exc:
            if isinstance(exc, LicensingError):
                raise
            raise GrantError(str(exc), "events") from exc


@dataclass(frozen=True)
class Grant:
    """A license held by a licensee: an immutable value with an append-only event log.

    ``terms`` is a snapshot of the offer's effective terms at issue and ``terms_hash`` its SHA-256;
    construction checks that they match, that datetimes are aware (stored in UTC), that the window is
    ordered and that the last event leads to ``status``.
    """

    id: str
    license_id: str
    licensor: str
    licensee: str
    dataset_id: str
    dataset_slug: str | None
    versions: tuple[str, ...]
    all_versions: bool
    manifest_digest: str
    terms: Terms
    terms_hash: str
    price_paid: Money
    payment_reference: str | None
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    status: GrantStatus
    events: tuple[GrantEvent, ...] = field(default=())
    offer_id: str | None = None
    agreement: AgreementRef | None = None

    def __post_init__(self) -> None:
        if not is_ulid(self.id):
            raise GrantError(f"{self.id!r} is not a ULID", "id")
        validate_license_id(self.license_id)
        for name in ("licensor", "licensee", "dataset_id"):
            validate_identifier(getattr(self, name), name)
        if self.dataset_slug is not None:
            validate_identifier(self.dataset_slug, "dataset_slug")
        if self.offer_id is not None:
            validate_identifier(self.offer_id, "offer_id")
        if self.payment_reference is not None:
            validate_identifier(self.payment_reference, "payment_reference")
        if self.agreement is not None and not isinstance(self.agreement, AgreementRef):
            raise GrantError("expected AgreementRef", "agreement")
        versions = tuple(self.versions)
        if not versions:
            raise GrantError("at least one version is needed", "versions")
        for label in versions:
            validate_version_label(label, "versions")
        object.__setattr__(self, "versions", versions)
        if not isinstance(self.all_versions, bool):
            raise GrantError("all_versions must be true or false", "all_versions")
        object.__setattr__(self, "manifest_digest", normalise_digest(self.manifest_digest))
        if not isinstance(self.terms, Terms):
            raise GrantError("expected Terms", "terms")
        if self.terms_hash != self.terms.terms_hash:
            raise GrantError("terms hash does not match the terms snapshot", "terms_hash")
        if not isinstance(self.price_paid, Money):
            raise GrantError("expected Money", "price_paid")
        for name in ("issued_at", "valid_from"):
            object.__setattr__(self, name, require_utc(getattr(self, name), name))
        if self.valid_until is not None:
            until = require_utc(self.valid_until, "valid_until")
            if until <= self.valid_from:
                raise GrantError("valid_until must be after valid_from", "valid_until")
            object.__setattr__(self, "valid_until", until)
        object.__setattr__(self, "status", GrantStatus(self.status))
        events = tuple(self.events)
        if not events or events[0].from_status is not None:
            raise GrantError("the event log must start with the issue event", "events")
        for before, after in pairwise(events):
            if after.at < before.at or after.from_status is not before.to_status:
                raise GrantError("the event log is out of order", "events")
        if events[-1].to_status is not self.status:
            raise GrantError("the last event does not lead to the grant's status", "status")
        object.__setattr__(self, "events", events)

    # ----------------------------------------------------------------- questions

    def status_at(self, now: datetime) -> GrantStatus:
        """Return the status as it stands at ``now``: an active or suspended grant past its end is expired."""
        now = require_utc(now, "now")
        ended = self.valid_until is not None and now >= self.valid_until
        if ended and self.status in (GrantStatus.ACTIVE, GrantStatus.SUSPENDED):
            return GrantStatus.EXPIRED
        return self.status

    def in_window(self, now: datetime) -> bool:
        """Return True when ``valid_from <= now < valid_until`` (no end for perpetual grants)."""
        now = require_utc(now, "now")
        return self.valid_from <= now and (self.valid_until is None or now < self.valid_until)

    def is_valid_at(self, now: datetime) -> bool:
        """Return True when the grant is active and ``now`` lies in its validity window."""
        return self.status is GrantStatus.ACTIVE and self.in_window(now)

    def covers_version(self, label: str) -> bool:
        """Return True when the grant names ``label`` or covers all versions published during its term."""
        return self.all_versions or label in self.versions

    # ----------------------------------------------------------------- state machine

    def transition(
        self, action: GrantAction | str, at: datetime, *, reason: str = "", actor: str | None = None
    ) -> Grant:
        """Return a new Grant after ``action`` at time ``at``, with the event appended.

        Raises :class:`TransitionError` for a move the state machine does not allow (for example
        anything from ``revoked``), an ``expire`` before the window has ended, an ``activate`` or
        ``reinstate`` after it, a missing reason for ``suspend``/``revoke``, or an ``at`` earlier
        than the last event.
        """
        try:
            action = GrantAction(action)
        except ValueError:
            raise TransitionError(f"unknown action {action!r}", self.status.value, str(action)) from None
        at = require_utc(at, "at")
        target = TRANSITIONS[action].get(self.status)
        if target is None:
            final = " (revoked is final)" if self.status is GrantStatus.REVOKED else ""
            allowed = sorted(a.value for a, moves in TRANSITIONS.items() if self.status in moves)
            raise TransitionError(
                f"cannot {action.value} a grant that is {self.status.value}{final}; "
                f"allowed: {', '.join(allowed) or 'nothing'}",
                self.status.value,
                action.value,
            )
        if at < self.events[-1].at:
            raise TransitionError(
                "a status change cannot be dated before the last event", self.status.value, action.value
            )
        ended = self.valid_until is not None and at >= self.valid_until
        if action is GrantAction.EXPIRE and not ended:
            raise TransitionError(
                "cannot expire a grant before its validity window has ended", self.status.value, action.value
            )
        if action in (GrantAction.ACTIVATE, GrantAction.REINSTATE) and ended:
            raise TransitionError(
                f"cannot {action.value} a grant whose validity window has ended", self.status.value, action.value
            )
        if action in (GrantAction.SUSPEND, GrantAction.REVOKE) and not reason.strip():
            raise TransitionError(f"a reason is needed to {action.value} a grant", self.status.value, action.value)
        event = GrantEvent(at, self.status, target, reason, actor)
        return replace(self, status=target, events=(*self.events, event))

    def activate(self, at: datetime, *, reason: str = "", actor: str | None = None) -> Grant:
        """Pending payment/approval → active."""
        return self.transition(GrantAction.ACTIVATE, at, reason=reason, actor=actor)

    def await_approval(self, at: datetime, *, reason: str = "", actor: str | None = None) -> Grant:
        """Pending payment → pending approval (paid, now waiting for the provider)."""
        return self.transition(GrantAction.AWAIT_APPROVAL, at, reason=reason, actor=actor)

    def suspend(self, at: datetime, *, reason: str, actor: str | None = None) -> Grant:
        """Active → suspended (e.g. a payment dispute); needs a reason."""
        return self.transition(GrantAction.SUSPEND, at, reason=reason, actor=actor)

    def reinstate(self, at: datetime, *, reason: str = "", actor: str | None = None) -> Grant:
        """Suspended → active."""
        return self.transition(GrantAction.REINSTATE, at, reason=reason, actor=actor)

    def expire(self, at: datetime, *, reason: str = "term ended", actor: str | None = None) -> Grant:
        """Pending, active or suspended → expired, once the validity window has ended."""
        return self.transition(GrantAction.EXPIRE, at, reason=reason, actor=actor)

    def revoke(self, at: datetime, *, reason: str, actor: str | None = None) -> Grant:
        """Any status but revoked → revoked (final); needs a reason (e.g. a refund)."""
        return self.transition(GrantAction.REVOKE, at, reason=reason, actor=actor)

    # ----------------------------------------------------------------- persistence

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict holding everything needed to rebuild the grant."""
        return {
            "id": self.id,
            "offer_id": self.offer_id,
            "license_id": self.license_id,
            "licensor": self.licensor,
            "licensee": self.licensee,
            "dataset_id": self.dataset_id,
            "dataset_slug": self.dataset_slug,
            "versions": list(self.versions),
            "all_versions": self.all_versions,
            "manifest_digest": self.manifest_digest,
            "terms": self.terms.to_dict(),
            "terms_hash": self.terms_hash,
            "price_paid": self.price_paid.to_dict(),
            "payment_reference": self.payment_reference,
            "issued_at": format_datetime(self.issued_at),
            "valid_from": format_datetime(self.valid_from),
            "valid_until": None if self.valid_until is None else format_datetime(self.valid_until),
            "status": self.status.value,
            "events": [e.to_dict() for e in self.events],
            "agreement": None if self.agreement is None else self.agreement.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grant:
        """Rebuild a grant from :meth:`to_dict` output.

        Raises :class:`GrantError` (or :class:`~licensing.errors.TermsError` for the terms) when a
        field is missing, unknown or invalid, or when the stored terms hash does not match the terms.
        """
        expected = {
            "id", "offer_id", "license_id", "licensor", "licensee", "dataset_id", "dataset_slug", "versions",
            "all_versions", "manifest_digest", "terms", "terms_hash", "price_paid", "payment_reference",
            "issued_at", "valid_from", "valid_until", "status", "events",
        }  # fmt: skip
        if not isinstance(data, Mapping):
            raise GrantError("a grant must be an object")
        # Grants issued before agreements existed have no "agreement" member; both forms are read.
        agreement = data.get("agreement")
        data = {k: v for k, v in data.items() if k != "agreement"}
        if set(data) != expected:
            raise GrantError("grant fields do not match", sorted(set(data) ^ expected))
        if not isinstance(data["versions"], list) or not isinstance(data["events"], list):
            raise GrantError("versions and events must be lists", ("versions", "events"))
        try:
            price = Money.from_dict(data["price_paid"])
            status = GrantStatus(data["status"])
        except MoneyError as exc:
            raise GrantError(exc.message, "price_paid") from exc
        except ValueError as exc:
            raise GrantError(str(exc), "status") from exc
        return cls(
            id=data["id"],
            offer_id=data["offer_id"],
            license_id=data["license_id"],
            licensor=data["licensor"],
            licensee=data["licensee"],
            dataset_id=data["dataset_id"],
            dataset_slug=data["dataset_slug"],
            versions=tuple(data["versions"]),
            all_versions=data["all_versions"],
            manifest_digest=data["manifest_digest"],
            terms=Terms.from_dict(data["terms"]),
            terms_hash=data["terms_hash"],
            price_paid=price,
            payment_reference=data["payment_reference"],
            issued_at=parse_datetime(data["issued_at"], "issued_at"),
            valid_from=parse_datetime(data["valid_from"], "valid_from"),
            valid_until=None if data["valid_until"] is None else parse_datetime(data["valid_until"], "valid_until"),
            status=status,
            events=tuple(GrantEvent.from_dict(e) for e in data["events"]),
            agreement=None if agreement is None else AgreementRef.from_dict(agreement),
        )


def issue_grant(
    offer: Offer,
    *,
    licensor: str,
    licensee: str,
    dataset_id: str,
    versions: str | Sequence[str],
    manifest_digest: str,
    issued_at: datetime,
    dataset_slug: str | None = None,
    price_paid: Money | None = None,
    payment_reference: str | None = None,
    valid_from: datetime | None = None,
    status: GrantStatus | str | None = None,
    actor: str | None = None,
    agreement: AgreementRef | None = None,
) -> Grant:
    """Issue a grant of ``offer`` to ``licensee`` and return it.

    The grant gets a new ULID, a snapshot of the offer's effective terms and their hash, and a
    validity window starting at ``valid_from`` (default ``issued_at``) and lasting the term
    (``valid_until`` is None for perpetual terms). ``versions`` is the covered version label, or for
    an offer covering all versions during the term, the labels published so far (at least one).

    ``price_paid`` defaults to the offer's price and must be in its currency (zero for open
    licenses). The initial ``status`` defaults to ``pending_payment`` when a price is due and no
    ``payment_reference`` is given, else ``active``; it may also be ``pending_approval``.
    A private offer can only be issued to its named buyer. ``agreement`` names the data-use agreement the
    licensee signed, when the dataset's access is governed. Raises :class:`GrantError` otherwise.
    """
    issued_at = require_utc(issued_at, "issued_at")
    start = issued_at if valid_from is None else require_utc(valid_from, "valid_from")
    labels = (versions,) if isinstance(versions, str) else tuple(versions)
    if not offer.versions.all_versions and labels != (offer.versions.version,):
        raise GrantError(f"this offer covers version {offer.versions.version} only", "versions")
    if not offer.available_to(licensee):
        raise GrantError("this private offer is for another buyer", "licensee")
    paid = offer.price if price_paid is None else price_paid
    if not isinstance(paid, Money) or paid.currency != offer.price.currency:
        raise GrantError(f"the price paid must be in {offer.price.currency}", "price_paid")
    if offer.template.is_open and not paid.is_zero:
        raise GrantError("nothing can be paid for an open license", "price_paid")
    if status is None:
        status = GrantStatus.PENDING_PAYMENT if not paid.is_zero and payment_reference is None else GrantStatus.ACTIVE
    try:
        initial = GrantStatus(status)
    except ValueError:
        raise GrantError(f"unknown status {status!r}", "status") from None
    if initial not in INITIAL_STATUSES:
        raise GrantError("a grant starts pending_payment, pending_approval or active", "status")
    terms = offer.terms
    until = None if terms.term is None else terms.term.add_to(start)
    return Grant(
        id=new_ulid(issued_at),
        offer_id=offer.offer_id,
        license_id=offer.license_id,
        licensor=licensor,
        licensee=licensee,
        dataset_id=dataset_id,
        dataset_slug=dataset_slug,
        versions=labels,
        all_versions=offer.versions.all_versions,
        manifest_digest=manifest_digest,
        terms=terms,
        terms_hash=terms.terms_hash,
        price_paid=paid,
        payment_reference=payment_reference,
        issued_at=issued_at,
        valid_from=start,
        valid_until=until,
        status=initial,
        events=(GrantEvent(issued_at, None, initial, "issued", actor),),
        agreement=agreement,
    )
