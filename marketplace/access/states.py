"""The states of governed access and the one table of allowed moves per machine.

Access request: ``submitted → approved | rejected | withdrawn``. Approval: ``active → expired | reset | revoked``.
Credential: ``submitted → verified | refused``, then ``verified → expired``. A move not in the table raises
:class:`IllegalTransition`; every allowed move is logged by the services (``AccessEvent``) with actor and time.
"""

from __future__ import annotations

import enum

from marketplace.access.errors import AccessErrorCode
from marketplace.errors import Conflict


class AccessMode(enum.StrEnum):
    """How a dataset's offers may be acquired: by anyone, or only after approval (automatic or by a reviewer),
    or after approval with a verified training credential (``credentialed``)."""

    OPEN = "open"
    GATED_AUTO = "gated_auto"
    GATED_MANUAL = "gated_manual"
    CREDENTIALED = "credentialed"

    @property
    def is_governed(self) -> bool:
        return self is not AccessMode.OPEN


class HolderKind(enum.StrEnum):
    """Who holds access to a dataset: each person (PhysioNet's way) or an organisation with named seats."""

    PERSON = "person"
    ORGANISATION = "organisation"


class ResignPolicy(enum.StrEnum):
    """What a new agreement version does to people who signed an older one."""

    IMMEDIATELY = "immediately"  # access is suspended until they sign the new version
    AT_RENEWAL = "at_renewal"  # the old signature holds until the approval ends


class ReviewerNotice(enum.StrEnum):
    """How a reviewer wants to hear of new requests."""

    REALTIME = "realtime"
    DAILY_DIGEST = "daily_digest"


class FieldKind(enum.StrEnum):
    """The kinds of provider-defined extra fields on a request form."""

    TEXT = "text"
    LONG_TEXT = "long_text"
    SELECT = "select"
    COUNTRY = "country"
    DATE = "date"
    CHECKBOX = "checkbox"


class RequestState(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ApprovalState(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    RESET = "reset"
    REVOKED = "revoked"


class CredentialState(enum.StrEnum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REFUSED = "refused"
    EXPIRED = "expired"


class IllegalTransition(Conflict):
    """A state change the machine does not allow (409 ``illegal_transition``)."""

    def __init__(self, kind: str, current: enum.StrEnum, target: enum.StrEnum) -> None:
        super().__init__(
            message=f"An {kind} that is {current.value} cannot become {target.value}.",
            code=AccessErrorCode.ILLEGAL_TRANSITION,
        )


REQUEST_MOVES: dict[RequestState, frozenset[RequestState]] = {
    RequestState.SUBMITTED: frozenset({RequestState.APPROVED, RequestState.REJECTED, RequestState.WITHDRAWN}),
    RequestState.APPROVED: frozenset(),
    RequestState.REJECTED: frozenset(),
    RequestState.WITHDRAWN: frozenset(),
}

APPROVAL_MOVES: dict[ApprovalState, frozenset[ApprovalState]] = {
    ApprovalState.ACTIVE: frozenset({ApprovalState.EXPIRED, ApprovalState.RESET, ApprovalState.REVOKED}),
    ApprovalState.EXPIRED: frozenset(),
    ApprovalState.RESET: frozenset(),
    ApprovalState.REVOKED: frozenset(),
}

CREDENTIAL_MOVES: dict[CredentialState, frozenset[CredentialState]] = {
    CredentialState.SUBMITTED: frozenset({CredentialState.VERIFIED, CredentialState.REFUSED}),
    CredentialState.VERIFIED: frozenset({CredentialState.EXPIRED}),
    CredentialState.REFUSED: frozenset(),
    CredentialState.EXPIRED: frozenset(),
}

_TABLES: dict[type[enum.StrEnum], tuple[str, dict]] = {  # type: ignore[type-arg]
    RequestState: ("access request", REQUEST_MOVES),
    ApprovalState: ("approval", APPROVAL_MOVES),
    CredentialState: ("credential", CREDENTIAL_MOVES),
}


def check_move(current: enum.StrEnum, target: enum.StrEnum) -> None:
    """Raise :class:`IllegalTransition` unless the machine of ``current`` allows the move to ``target``."""
    kind, moves = _TABLES[type(current)]
    if target not in moves[current]:
        raise IllegalTransition(kind, current, target)
