"""The one place that answers "may this user do X to Y?".

Views use :func:`can` to decide what to show; services call :func:`require` before they change anything, so a
permission is enforced on the server whatever the page showed. Each action's rule is a small function in
:data:`_RULES`; an action without a rule is refused.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.errors import NotAuthenticated, PermissionDenied


class Action(enum.StrEnum):
    ORG_VIEW = "org:view"
    ORG_UPDATE = "org:update"
    ORG_INVITE = "org:invite"
    ORG_MANAGE_MEMBERS = "org:manage_members"
    ORG_MANAGE_OWNERS = "org:manage_owners"
    ORG_ACT_FOR = "org:act_for"
    PLATFORM_ADMIN = "platform:admin"
    DATASET_EDIT = "dataset:edit"
    DATASET_REVIEW = "dataset:review"
    DATASET_DOWNLOAD_STATS = "dataset:download_stats"
    GRANT_DOWNLOAD = "grant:download"
    WEBHOOKS_SEE = "webhooks:see"
    WEBHOOKS_MANAGE = "webhooks:manage"
    SSO_MANAGE = "sso:manage"
    API_ACCESS_MANAGE = "api_access:manage"
    # Custom-data contracts (marketplace.custom): paying, delivering and reviewing milestones, admin decisions.
    CUSTOM_CONTRACT_VIEW = "custom_contract:view"
    CUSTOM_CONTRACT_PAY = "custom_contract:pay"
    CUSTOM_MILESTONE_DELIVER = "custom_milestone:deliver"
    CUSTOM_MILESTONE_REVIEW = "custom_milestone:review"
    CUSTOM_MILESTONE_ESCALATE = "custom_milestone:escalate"
    CUSTOM_ESCALATION_DECIDE = "custom_escalation:decide"


@dataclass(frozen=True)
class Delegation:
    """A user's permissions exercised through an API credential: never platform-admin powers, and, for an
    organisation's key or OAuth client, only within that one organisation (``organisation_id``)."""

    organisation_id: int | None = None


_delegation: ContextVar[Delegation | None] = ContextVar("marketplace_delegation", default=None)


@contextmanager
def delegated(organisation_id: int | None = None) -> Iterator[Delegation]:
    """Within the block every rule treats the user as acting through an API credential (see :class:`Delegation`):
    memberships of other organisations than ``organisation_id`` (when given) and the platform-admin flag count for
    nothing. The API wraps each authenticated request in it, so no service can exceed what the credential may."""
    delegation = Delegation(organisation_id)
    token = _delegation.set(delegation)
    try:
        yield delegation
    finally:
        _delegation.reset(token)


def current_delegation() -> Delegation | None:
    return _delegation.get()


def role_in(session: Session, user: User | None, organisation: Organisation) -> Role | None:
    """The user's role in ``organisation``, or None when not a member (or not logged in)."""
    if user is None or user.id is None or organisation.id is None:
        return None
    delegation = _delegation.get()
    if delegation is not None and delegation.organisation_id not in (None, organisation.id):
        return None
    membership = session.exec(
        select(Membership).where(Membership.organisation_id == organisation.id, Membership.user_id == user.id)
    ).first()
    return membership.role if membership else None


def _at_least(minimum: Role) -> Callable[[Session, User, Any], bool]:
    def rule(session: Session, user: User, target: Any) -> bool:
        if not isinstance(target, Organisation):
            return False
        role = role_in(session, user, target)
        return role is not None and role.rank >= minimum.rank

    return rule


def _member_of_owner(session: Session, user: User, target: Any) -> bool:
    """A member of the organisation that owns ``target`` (an organisation, or anything with ``organisation_id``)."""
    org = target if isinstance(target, Organisation) else None
    if org is None and getattr(target, "organisation_id", None) is not None:
        org = session.get(Organisation, target.organisation_id)
    return org is not None and role_in(session, user, org) is not None


def _member_of_licensee(session: Session, user: User, target: Any) -> bool:
    """A member of the organisation holding ``target`` (a license grant, by its ``licensee_org_id``)."""
    org_id = getattr(target, "licensee_org_id", None)
    org = session.get(Organisation, org_id) if org_id is not None else None
    return org is not None and role_in(session, user, org) is not None


def _platform_admin(_session: Session, user: User, _target: Any) -> bool:
    return user.is_platform_admin and _delegation.get() is None


def _contract_party(attribute: str) -> Callable[[Session, User, Any], bool]:
    """A member of the organisation named by ``target.<attribute>`` (a contract's ``buyer_org_id`` or
    ``provider_org_id``)."""

    def rule(session: Session, user: User, target: Any) -> bool:
        org_id = getattr(target, attribute, None)
        org = session.get(Organisation, org_id) if org_id is not None else None
        return org is not None and role_in(session, user, org) is not None

    return rule


def _either(*rules: Callable[[Session, User, Any], bool]) -> Callable[[Session, User, Any], bool]:
    return lambda session, user, target: any(rule(session, user, target) for rule in rules)


_RULES: dict[Action, Callable[[Session, User, Any], bool]] = {
    # Platform admins may look at any organisation (vetting), but never act on its behalf.
    Action.ORG_VIEW: _either(_at_least(Role.MEMBER), _platform_admin),
    Action.ORG_ACT_FOR: _at_least(Role.MEMBER),
    Action.ORG_UPDATE: _at_least(Role.ADMIN),
    Action.ORG_INVITE: _at_least(Role.ADMIN),
    Action.ORG_MANAGE_MEMBERS: _at_least(Role.ADMIN),
    Action.ORG_MANAGE_OWNERS: _at_least(Role.OWNER),
    Action.PLATFORM_ADMIN: _platform_admin,
    # Listings: any member of the owning provider edits; platform admins review (and may take down).
    Action.DATASET_EDIT: _member_of_owner,
    Action.DATASET_REVIEW: _platform_admin,
    # Delivery: who downloaded what is the provider's business only; files go to the licensee's members only.
    Action.DATASET_DOWNLOAD_STATS: _member_of_owner,
    Action.GRANT_DOWNLOAD: _member_of_licensee,
    # Integrations: outbound webhooks and the organisation's single sign-on are admin settings. An endpoint's
    # existence is confirmed (403 rather than 404) only to those who may look at its organisation.
    Action.WEBHOOKS_SEE: _either(_at_least(Role.MEMBER), _platform_admin),
    Action.WEBHOOKS_MANAGE: _at_least(Role.ADMIN),
    Action.SSO_MANAGE: _at_least(Role.ADMIN),
    # API keys and OAuth clients of an organisation act for it: only its admins create and revoke them.
    Action.API_ACCESS_MANAGE: _at_least(Role.ADMIN),
    # Custom-data contracts: only the two parties see one (everyone else gets a 404). Buyer members pay and
    # review (accept, reject, cancel a pending milestone); provider members deliver; either side may escalate a
    # rejection, which only a platform admin decides (never through an API credential).
    Action.CUSTOM_CONTRACT_VIEW: _either(_contract_party("buyer_org_id"), _contract_party("provider_org_id")),
    Action.CUSTOM_CONTRACT_PAY: _contract_party("buyer_org_id"),
    Action.CUSTOM_MILESTONE_DELIVER: _contract_party("provider_org_id"),
    Action.CUSTOM_MILESTONE_REVIEW: _contract_party("buyer_org_id"),
    Action.CUSTOM_MILESTONE_ESCALATE: _either(_contract_party("buyer_org_id"), _contract_party("provider_org_id")),
    Action.CUSTOM_ESCALATION_DECIDE: _platform_admin,
}


def can(session: Session, user: User | None, action: Action, target: Any = None) -> bool:
    """True when ``user`` may perform ``action`` on ``target``; anonymous users may do none of these."""
    if user is None:
        return False
    rule = _RULES.get(action)
    return bool(rule and rule(session, user, target))


def require(session: Session, user: User | None, action: Action, target: Any = None) -> User:
    """Return ``user`` when allowed; raise :class:`NotAuthenticated` or :class:`PermissionDenied` otherwise."""
    if user is None:
        raise NotAuthenticated()
    if not can(session, user, action, target):
        raise PermissionDenied(f"You are not allowed to {action.value.replace(':', ' ').replace('_', ' ')}.")
    return user
