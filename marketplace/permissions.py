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
from typing import Any, cast

from sqlmodel import Session, select

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.custom.models import DataRequest, RequestInvitation, Visibility
from marketplace.custom.states import QUOTABLE_REQUEST_STATES, RequestState
from marketplace.errors import NotAuthenticated, PermissionDenied
from marketplace.orders.models import OrderLine


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
    GRANT_SHARE = "grant:share"
    OFFER_VIEW = "offer:view"
    OFFER_MANAGE = "offer:manage"
    WEBHOOKS_SEE = "webhooks:see"
    WEBHOOKS_MANAGE = "webhooks:manage"
    SSO_MANAGE = "sso:manage"
    API_ACCESS_MANAGE = "api_access:manage"
    ORDER_VIEW = "order:view"
    ORDER_REFUND = "order:refund"
    ORDER_INVOICE_VIEW = "order:invoice_view"
    GRANT_VIEW = "grant:view"
    GRANT_TRAINING_SUMMARY = "grant:training_summary"
    # Custom datasets (marketplace.custom): requests for data, quotes, their threads and contracts.
    CUSTOM_REQUEST_CREATE = "custom_request:create"
    CUSTOM_REQUEST_VIEW = "custom_request:view"
    CUSTOM_REQUEST_MANAGE = "custom_request:manage"
    CUSTOM_QUOTE_SUBMIT = "custom_quote:submit"
    CUSTOM_QUOTE_VIEW = "custom_quote:view"
    CUSTOM_QUOTE_MANAGE = "custom_quote:manage"
    CUSTOM_QUOTE_DECIDE = "custom_quote:decide"
    CUSTOM_THREAD_VIEW = "custom_thread:view"
    CUSTOM_CONTRACT_VIEW = "custom_contract:view"
    CUSTOM_CONTRACT_PAY = "custom_contract:pay"
    CUSTOM_MILESTONE_DELIVER = "custom_milestone:deliver"
    CUSTOM_MILESTONE_REVIEW = "custom_milestone:review"
    CUSTOM_MILESTONE_ESCALATE = "custom_milestone:escalate"
    CUSTOM_ESCALATION_DECIDE = "custom_escalation:decide"
    ACCESS_MANAGE = "access:manage"
    ACCESS_REVIEW = "access:review"
    ACCESS_REQUEST_VIEW = "access:request_view"
    ACCESS_SEATS_MANAGE = "access:seats_manage"
    CREDENTIAL_VIEW = "credential:view"
    CREDENTIAL_VERIFY = "credential:verify"
    # Withdrawals (marketplace.withdrawals): files or records taken out of a published version.
    WITHDRAWAL_FILE = "withdrawal:file"
    WITHDRAWAL_VIEW = "withdrawal:view"
    WITHDRAWAL_NOTICE_VIEW = "withdrawal:notice_view"
    WITHDRAWAL_CONFIRM = "withdrawal:confirm"
    # EU AI Act Article 10 documentation packs (marketplace.aiact), per version of a dataset.
    AI_ACT_PACK_READ = "ai_act_pack:read"
    AI_ACT_SIGN_OFF = "ai_act_pack:sign_off"
    AUDIT_READ = "audit:read"
    # Delivery to the licensee's own bucket (marketplace.exports): destinations and exports into them.
    EXPORT_DESTINATION_MANAGE = "export_destination:manage"
    EXPORT_DESTINATION_USE = "export_destination:use"
    EXPORT_VIEW = "export:view"
    # Provider analytics (marketplace.analytics): views, checkouts, sales, downloads and revenue of its listings.
    ANALYTICS_VIEW = "analytics:view"
    NOTIFICATION_READ = "notification:read"


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
    return _role_in_organisation(session, user, organisation.id)


def _role_in_organisation(session: Session, user: User | None, organisation_id: int | None) -> Role | None:
    """:func:`role_in` by the organisation's id (a membership names an existing organisation: no need to load it)."""
    if user is None or user.id is None or organisation_id is None:
        return None
    delegation = _delegation.get()
    if delegation is not None and delegation.organisation_id not in (None, organisation_id):
        return None
    # The role alone: no membership object is built for a check (every permission check of a member asks this).
    role = session.exec(
        select(Membership.role).where(Membership.organisation_id == organisation_id, Membership.user_id == user.id)
    ).first()
    return cast(Role | None, role)  # the column reads as a Role (its enum type), which the stubs do not know


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
    return org_id is not None and _role_in_organisation(session, user, org_id) is not None


def _offer_audience(session: Session, user: User, target: Any) -> bool:
    """Anyone may see a public offer; a private one only members of its buyer organisation and of its provider."""
    audience_id = getattr(target, "audience_org_id", None)
    if audience_id is None:
        return True
    audience = session.get(Organisation, audience_id)
    if audience is not None and role_in(session, user, audience) is not None:
        return True
    return _member_of_owner(session, user, target)


def _admin_of_owner(session: Session, user: User, target: Any) -> bool:
    """An admin (or owner) of the organisation that owns ``target`` (anything with ``organisation_id``)."""
    org = session.get(Organisation, getattr(target, "organisation_id", None) or 0)
    return org is not None and _at_least(Role.ADMIN)(session, user, org)


def _member_of_org_id(attribute: str, minimum: Role = Role.MEMBER) -> Callable[[Session, User, Any], bool]:
    """At least ``minimum`` in the organisation whose id is ``target.<attribute>`` (e.g. an order's buyer)."""

    def rule(session: Session, user: User, target: Any) -> bool:
        org_id = getattr(target, attribute, None)
        org = session.get(Organisation, org_id) if org_id is not None else None
        return org is not None and _at_least(minimum)(session, user, org)

    return rule


def _admin_of_sole_provider(session: Session, user: User, target: Any) -> bool:
    """An admin of the one provider whose datasets make up the order ``target`` (an order of several providers'
    datasets is not any one provider's to refund)."""
    providers = set(session.exec(select(OrderLine.provider_org_id).where(OrderLine.order_id == target.id)).all())
    if len(providers) != 1:
        return False
    org = session.get(Organisation, providers.pop())
    return org is not None and _at_least(Role.ADMIN)(session, user, org)


def _member_of_a_seller(session: Session, user: User, target: Any) -> bool:
    """A member of any provider organisation whose datasets are in the order ``target``."""
    providers = set(session.exec(select(OrderLine.provider_org_id).where(OrderLine.order_id == target.id)).all())
    return any(_member_of_id(session, user, org_id) for org_id in providers)


def _member_of_id(session: Session, user: User, org_id: int | None) -> bool:
    org = session.get(Organisation, org_id) if org_id is not None else None
    return org is not None and role_in(session, user, org) is not None


@dataclass(frozen=True)
class ProviderOnRequest:
    """The target of "may this user quote on ``request`` for ``organisation``?"."""

    request: DataRequest
    organisation: Organisation


def _invited(session: Session, request: DataRequest, org_id: int | None) -> bool:
    return (
        session.exec(
            select(RequestInvitation.id).where(
                RequestInvitation.request_id == request.id, RequestInvitation.provider_org_id == org_id
            )
        ).first()
        is not None
    )


def _request_buyer(session: Session, user: User, target: Any) -> bool:
    """A member of the buyer organisation of ``target`` (a request for data)."""
    return isinstance(target, DataRequest) and _member_of_id(session, user, target.buyer_org_id)


def _request_reader(session: Session, user: User, target: Any) -> bool:
    """The buyer's members always; others once it is published, if it is open or their organisation was invited."""
    if not isinstance(target, DataRequest):
        return False
    if _member_of_id(session, user, target.buyer_org_id):
        return True
    if target.state is RequestState.DRAFT:
        return False
    if target.visibility is Visibility.OPEN:
        return True
    invited = session.exec(
        select(RequestInvitation.provider_org_id).where(RequestInvitation.request_id == target.id)
    ).all()
    return any(_member_of_id(session, user, org_id) for org_id in invited)


def _may_quote(session: Session, user: User, target: Any) -> bool:
    """A member of a provider organisation (not the buyer) that may see a request still taking quotes."""
    if not isinstance(target, ProviderOnRequest):
        return False
    request, org = target.request, target.organisation
    if org.kind is not OrgKind.PROVIDER or org.id == request.buyer_org_id or role_in(session, user, org) is None:
        return False
    if request.state not in QUOTABLE_REQUEST_STATES:
        return False
    return request.visibility is Visibility.OPEN or _invited(session, request, org.id)


def _provider_side(session: Session, user: User, target: Any) -> bool:
    """A member of the provider organisation of ``target`` (a quote, a thread or a contract)."""
    return _member_of_id(session, user, getattr(target, "provider_org_id", None))


def _buyer_side(session: Session, user: User, target: Any) -> bool:
    """A member of the buyer organisation of ``target``'s request (a quote or a thread), or of a contract."""
    org_id = getattr(target, "buyer_org_id", None)
    if org_id is None and getattr(target, "request_id", None) is not None:
        request = session.get(DataRequest, target.request_id)
        org_id = request.buyer_org_id if request else None
    return _member_of_id(session, user, org_id)


def _platform_admin(_session: Session, user: User, _target: Any) -> bool:
    return user.is_platform_admin and _delegation.get() is None


def _access_reviewer(session: Session, user: User, target: Any) -> bool:
    """An admin of the provider organisation ``target``, or a member flagged as its access reviewer."""
    if not isinstance(target, Organisation):
        return False
    role = role_in(session, user, target)
    if role is None:
        return False
    if role.rank >= Role.ADMIN.rank:
        return True
    from marketplace.access.models import Reviewer

    flagged = session.exec(
        select(Reviewer.id).where(Reviewer.organisation_id == target.id, Reviewer.user_id == user.id)
    ).first()
    return flagged is not None


def _request_party(session: Session, user: User, target: Any) -> bool:
    """The person who made the access request ``target``, or a reviewer of the provider it was made to."""
    delegation = _delegation.get()
    own_scope = delegation is None or delegation.organisation_id in (None, getattr(target, "organisation_id", None))
    if getattr(target, "requester_id", None) == user.id and own_scope:
        return True
    provider = session.get(Organisation, getattr(target, "provider_org_id", None) or 0)
    return provider is not None and _access_reviewer(session, user, provider)


def _seat_admin(session: Session, user: User, target: Any) -> bool:
    """An admin of the organisation holding the approval ``target`` (who manages its named seats)."""
    org = session.get(Organisation, getattr(target, "organisation_id", None) or 0)
    return org is not None and _at_least(Role.ADMIN)(session, user, org)


def _credential_verifier(session: Session, user: User, target: Any) -> bool:
    """A reviewer the provider trusts with credentials, of a provider the credential's owner asked for access."""
    from marketplace.access.models import AccessRequest, Reviewer

    owner_id = getattr(target, "user_id", None)
    if owner_id is None:
        return False
    providers = select(AccessRequest.provider_org_id).where(AccessRequest.requester_id == owner_id)
    trusted = session.exec(
        select(Reviewer.organisation_id).where(
            Reviewer.user_id == user.id,
            Reviewer.verifies_credentials.is_(True),  # type: ignore[attr-defined]
            Reviewer.organisation_id.in_(providers),  # type: ignore[attr-defined]
        )
    ).all()
    return any(
        role_in(session, user, org) is not None for org in (session.get(Organisation, i) for i in trusted) if org
    )


def _credential_owner(_session: Session, user: User, target: Any) -> bool:
    """The person the credential belongs to (not through an organisation's API credential)."""
    delegation = _delegation.get()
    return getattr(target, "user_id", None) == user.id and (delegation is None or delegation.organisation_id is None)


@dataclass(frozen=True)
class DatasetVersionTarget:
    """The target of "may this user read the AI Act documentation of ``version`` of ``dataset``?"."""

    dataset: Any
    version: Any


def _published_pack(_session: Session, _user: User | None, target: Any) -> bool:
    """A published version of a public listing: its documentation is the buyers' and auditors' to read."""
    if not isinstance(target, DatasetVersionTarget):
        return False
    return bool(target.dataset.is_public and target.version.is_published)


def _notification_recipient(_session: Session, user: User, target: Any) -> bool:
    """The person a notification was given to (not through an organisation's API credential)."""
    delegation = _delegation.get()
    personal = delegation is None or delegation.organisation_id is None
    return target is not None and getattr(target, "recipient_id", None) == user.id and personal


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
    # Delta Sharing recipient profiles read the license's files: minted and revoked by the licensee's members only.
    Action.GRANT_SHARE: _member_of_licensee,
    # Bucket delivery: an organisation's admins add and remove its destinations (target: the organisation); its
    # members use them (target: the destination) and follow the exports made under its licenses.
    Action.EXPORT_DESTINATION_MANAGE: _at_least(Role.ADMIN),
    Action.EXPORT_DESTINATION_USE: _member_of_owner,
    Action.EXPORT_VIEW: _member_of_org_id("licensee_org_id"),
    # Offers: a private offer is seen (and bought) by its one buyer organisation only, besides its provider;
    # the provider's admins create and retire offers (target: the offer, or the dataset it is for).
    Action.OFFER_VIEW: _offer_audience,
    Action.OFFER_MANAGE: _admin_of_owner,
    # Integrations: outbound webhooks and the organisation's single sign-on are admin settings. An endpoint's
    # existence is confirmed (403 rather than 404) only to those who may look at its organisation.
    Action.WEBHOOKS_SEE: _either(_at_least(Role.MEMBER), _platform_admin),
    Action.WEBHOOKS_MANAGE: _at_least(Role.ADMIN),
    Action.SSO_MANAGE: _at_least(Role.ADMIN),
    # API keys and OAuth clients of an organisation act for it: only its admins create and revoke them.
    Action.API_ACCESS_MANAGE: _at_least(Role.ADMIN),
    # Orders are the buyer organisation's; only a platform admin or the provider's admins may refund one.
    Action.ORDER_VIEW: _either(_member_of_org_id("buyer_org_id"), _platform_admin),
    Action.ORDER_REFUND: _either(_admin_of_sole_provider, _platform_admin),
    # An order's invoice and credit notes: the buyer's members, the members of every seller on it, platform admins.
    Action.ORDER_INVOICE_VIEW: _either(_member_of_org_id("buyer_org_id"), _member_of_a_seller, _platform_admin),
    # A grant is seen by both parties to it (licensee and licensor) and by platform admins.
    Action.GRANT_VIEW: _either(
        _member_of_org_id("licensee_org_id"), _member_of_org_id("licensor_org_id"), _platform_admin
    ),
    # A license's training-content summary fragment is the licensee's compliance record: not the licensor's.
    Action.GRANT_TRAINING_SUMMARY: _either(_member_of_org_id("licensee_org_id"), _platform_admin),
    # Custom datasets: buyer members post and manage their requests and decide on quotes; provider members quote
    # on requests they may see (open ones, or when invited). Quotes and threads are seen by the two sides only,
    # never by other providers; a contract by its two parties only.
    Action.CUSTOM_REQUEST_CREATE: _at_least(Role.MEMBER),
    Action.CUSTOM_REQUEST_VIEW: _request_reader,
    Action.CUSTOM_REQUEST_MANAGE: _request_buyer,
    Action.CUSTOM_QUOTE_SUBMIT: _may_quote,
    Action.CUSTOM_QUOTE_VIEW: _either(_provider_side, _buyer_side),
    Action.CUSTOM_QUOTE_MANAGE: _provider_side,
    Action.CUSTOM_QUOTE_DECIDE: _buyer_side,
    Action.CUSTOM_THREAD_VIEW: _either(_provider_side, _buyer_side),
    Action.CUSTOM_CONTRACT_VIEW: _either(_provider_side, _buyer_side),
    # Contract milestones: buyer members pay and review (accept, reject, cancel a pending milestone); provider
    # members deliver; either side may escalate a rejection, which only a platform admin decides (never through an
    # API credential).
    Action.CUSTOM_CONTRACT_PAY: _member_of_org_id("buyer_org_id"),
    Action.CUSTOM_MILESTONE_DELIVER: _member_of_org_id("provider_org_id"),
    Action.CUSTOM_MILESTONE_REVIEW: _member_of_org_id("buyer_org_id"),
    Action.CUSTOM_MILESTONE_ESCALATE: _either(_member_of_org_id("buyer_org_id"), _member_of_org_id("provider_org_id")),
    Action.CUSTOM_ESCALATION_DECIDE: _platform_admin,
    # Governed access: a provider's admins set access modes, agreements and reviewers; its reviewers (and admins)
    # decide requests to that provider only; a requester sees only their own requests.
    Action.ACCESS_MANAGE: _at_least(Role.ADMIN),
    Action.ACCESS_REVIEW: _access_reviewer,
    Action.ACCESS_REQUEST_VIEW: _request_party,
    Action.ACCESS_SEATS_MANAGE: _seat_admin,
    # Training credentials are personal: the person and their verifiers (platform admins, trusted reviewers of a
    # provider the person asked for access) only.
    Action.CREDENTIAL_VIEW: _either(_credential_owner, _platform_admin, _credential_verifier),
    Action.CREDENTIAL_VERIFY: _either(_platform_admin, _credential_verifier),
    # Withdrawals: the provider's members (target: the dataset, or the withdrawal by its ``organisation_id``) and
    # platform admins (takedowns) file them, publish the patched version and follow every licensee; a licensee's
    # notice is read by its members and the provider's, and only the licensee's members confirm the deletion.
    Action.WITHDRAWAL_FILE: _either(_member_of_owner, _platform_admin),
    Action.WITHDRAWAL_VIEW: _either(_member_of_owner, _platform_admin),
    Action.WITHDRAWAL_NOTICE_VIEW: _either(
        _member_of_org_id("licensee_org_id"), _member_of_org_id("provider_org_id"), _platform_admin
    ),
    Action.WITHDRAWAL_CONFIRM: _member_of_org_id("licensee_org_id"),
    # AI Act documentation: the pack of a published version is public (see _OPEN_RULES); a draft version's pack
    # is the provider's (and the reviewing admins') only. Only a member of the provider signs a pack off: the
    # signature vouches for the provider's own documentation, which no platform admin can do for it.
    Action.AI_ACT_PACK_READ: _either(
        _published_pack,
        lambda session, user, target: _member_of_owner(session, user, getattr(target, "dataset", None)),
        _platform_admin,
    ),
    Action.AI_ACT_SIGN_OFF: _member_of_owner,
    # The tamper-evident audit log is the organisation's own record: its admins read and export it (platform
    # operators use the command line).
    Action.AUDIT_READ: _at_least(Role.ADMIN),
    # A provider's analytics (target: the organisation, or one of its datasets) are its members' business; platform
    # admins may look (never through an API credential).
    Action.ANALYTICS_VIEW: _either(_member_of_owner, _platform_admin),
    # A notification is its recipient's alone: nobody else reads or marks it, platform admins included.
    Action.NOTIFICATION_READ: _notification_recipient,
}

#: Actions anyone may perform, signed in or not, when the rule says so. A published version's AI Act pack is
#: read before buying (by buyers comparing datasets, and by their auditors, who hold no account here): it carries
#: documentation, never the data, so it is as public as the listing itself.
_OPEN_RULES: dict[Action, Callable[[Session, User | None, Any], bool]] = {
    Action.AI_ACT_PACK_READ: _published_pack,
}


def can(session: Session, user: User | None, action: Action, target: Any = None) -> bool:
    """True when ``user`` may perform ``action`` on ``target``; anonymous users only what :data:`_OPEN_RULES`
    allows them."""
    open_rule = _OPEN_RULES.get(action)
    if open_rule is not None and open_rule(session, user, target):
        return True
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
