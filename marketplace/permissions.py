"""The one place that answers "may this user do X to Y?".

Views use :func:`can` to decide what to show; services call :func:`require` before they change anything, so a
permission is enforced on the server whatever the page showed. Each action's rule is a small function in
:data:`_RULES`; an action without a rule is refused.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
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


def role_in(session: Session, user: User | None, organisation: Organisation) -> Role | None:
    """The user's role in ``organisation``, or None when not a member (or not logged in)."""
    if user is None or user.id is None or organisation.id is None:
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


def _platform_admin(_session: Session, user: User, _target: Any) -> bool:
    return user.is_platform_admin


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
