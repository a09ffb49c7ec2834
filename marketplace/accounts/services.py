"""Account and organisation services: every rule about users, organisations and memberships lives here.

Each function takes the request's :class:`UnitOfWork`, checks permission, validates, stages its changes and
registers mail to send after commit. None of them commits, and none of them knows about Flask.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from marketplace.accounts import tokens
from marketplace.accounts.errors import AccountErrorCode
from marketplace.accounts.models import (
    Invitation,
    LoginFailure,
    Membership,
    Organisation,
    OrgKind,
    Role,
    TokenPurpose,
    User,
)
from marketplace.accounts.passwords import hasher_for, password_problem, verify
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, InvalidToken, NotFound, PermissionDenied, Throttled, ValidationFailed
from marketplace.mail import send_after_commit
from marketplace.permissions import Action, require, role_in
from marketplace.text import slugify

# A stand-in hash so that a log-in for an unknown e-mail costs as much as one for a known e-mail.
_DUMMY_HASHES: dict[str, str] = {}


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


def _link(uow: UnitOfWork, path: str) -> str:
    return f"{uow.settings['BASE_URL']}{path}"


def _hasher(uow: UnitOfWork):  # type: ignore[no-untyped-def]
    return hasher_for(uow.settings["PASSWORD_HASHER_PROFILE"])


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


# --- sign-up and verification -------------------------------------------------------------------------------


def sign_up(uow: UnitOfWork, *, email: str, password: str, display_name: str = "") -> User | None:
    """Create an unverified account and mail a verification link.

    When the address already has an account, nothing is created and that address is told so by mail instead:
    the page looks the same either way, so sign-up cannot be used to find out who has an account.
    Returns the new user, or None when the address was taken.
    """
    email = normalise_email(email)
    problem = password_problem(password, email)
    if problem:
        raise ValidationFailed.for_field("password", problem)
    session = uow.session
    existing = user_by_email(session, email)
    if existing is not None:
        send_after_commit(
            uow,
            email,
            "You already have an account",
            "Someone (hopefully you) tried to sign up with this address, which already has an account.\n\n"
            f"Log in: {_link(uow, '/login')}\nForgot your password? {_link(uow, '/password/forgot')}\n",
        )
        return None
    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=_hasher(uow).hash(password),
        created_at=uow.now(),
    )
    session.add(user)
    session.flush()
    _send_verification(uow, user)
    return user


def _send_verification(uow: UnitOfWork, user: User) -> None:
    assert user.id is not None
    token = tokens.issue(
        uow.session,
        uow.settings["SECRET_KEY"],
        TokenPurpose.VERIFY_EMAIL,
        now=uow.now(),
        max_age=uow.settings["TOKEN_MAX_AGE_SECONDS"],
        user_id=user.id,
        subject=user.email,
    )
    hours = uow.settings["TOKEN_MAX_AGE_SECONDS"] // 3600
    send_after_commit(
        uow,
        user.email,
        "Verify your e-mail address",
        f"Welcome to the Dataset Marketplace.\n\nConfirm your address by opening this link within {hours} "
        f"hours:\n{_link(uow, '/verify-email?token=' + token)}\n",
    )


def resend_verification(uow: UnitOfWork, *, email: str) -> None:
    """Mail a new verification link if the address has an unverified account; silent otherwise."""
    user = user_by_email(uow.session, email)
    if user is not None and not user.is_verified:
        _send_verification(uow, user)


def verify_email(uow: UnitOfWork, *, token: str) -> User:
    """Mark the token's account verified; the token works once."""
    row = tokens.consume(uow.session, uow.settings["SECRET_KEY"], TokenPurpose.VERIFY_EMAIL, token, now=uow.now())
    user = uow.session.get(User, row.user_id)
    if user is None or user.email != row.subject:
        raise InvalidToken()
    if user.email_verified_at is None:
        user.email_verified_at = uow.now()
        uow.session.add(user)
    return user


# --- log-in and throttling ------------------------------------------------------------------------------------


def _recent_failures(session: Session, column: Any, value: str, since: datetime) -> int:
    statement = select(func.count()).select_from(LoginFailure).where(column == value, col(LoginFailure.at) > since)
    return int(session.exec(statement).one())


def _check_throttle(uow: UnitOfWork, email: str, ip_address: str) -> None:
    settings = uow.settings
    window = settings["LOGIN_THROTTLE_WINDOW_SECONDS"]
    since = uow.now() - timedelta(seconds=window)
    minutes = max(1, window // 60)
    if (
        _recent_failures(uow.session, col(LoginFailure.email), email, since)
        >= settings["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    ):
        raise Throttled(
            message=f"Too many failed log-ins for this account. Wait {minutes} minutes, or reset your password.",
            retry_after=window,
        )
    if (
        _recent_failures(uow.session, col(LoginFailure.ip_address), ip_address, since)
        >= settings["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    ):
        raise Throttled(
            message=f"Too many failed log-ins from your network. Wait {minutes} minutes and try again.",
            retry_after=window,
        )


def record_login_failure(uow: UnitOfWork, *, email: str, ip_address: str) -> None:
    """Record one failed log-in and forget those older than the window."""
    now = uow.now()
    uow.session.add(LoginFailure(email=normalise_email(email), ip_address=ip_address, at=now))
    horizon = now - timedelta(seconds=uow.settings["LOGIN_THROTTLE_WINDOW_SECONDS"])
    uow.session.execute(sa.delete(LoginFailure).where(col(LoginFailure.at) < horizon))


class LoginRefused(ValidationFailed):
    """Wrong e-mail or password, or an unverified address; the message never says which account exists."""


def authenticate(uow: UnitOfWork, *, email: str, password: str, ip_address: str) -> User:
    """Return the user for a correct e-mail and password.

    Refuses with :class:`Throttled` once the account or the address has too many recent failures (checked
    before the password, so a throttled attacker learns nothing), and with :class:`LoginRefused` otherwise.
    A failure is recorded by the caller *after* rolling back (see :func:`record_login_failure`), so the
    record survives the failed request.
    """
    email = normalise_email(email)
    _check_throttle(uow, email, ip_address)
    hasher = _hasher(uow)
    user = user_by_email(uow.session, email)
    if user is None:
        profile = uow.settings["PASSWORD_HASHER_PROFILE"]
        dummy = _DUMMY_HASHES.setdefault(profile, hasher.hash("not-a-real-password"))
        verify(hasher, dummy, password)
        raise LoginRefused(message="Wrong e-mail address or password.")
    if not verify(hasher, user.password_hash, password):
        raise LoginRefused(message="Wrong e-mail address or password.")
    if not user.is_verified:
        raise LoginRefused(
            message="Please verify your e-mail address first: open the link we sent you, or ask for a new one.",
            code=AccountErrorCode.EMAIL_NOT_VERIFIED,
        )
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = uow.now()
    uow.session.add(user)
    return user


# --- passwords and e-mail changes -----------------------------------------------------------------------------


def request_password_reset(uow: UnitOfWork, *, email: str) -> None:
    """Mail a reset link when the address has an account; the caller shows the same page either way."""
    user = user_by_email(uow.session, email)
    if user is None or user.id is None:
        return
    token = tokens.issue(
        uow.session,
        uow.settings["SECRET_KEY"],
        TokenPurpose.RESET_PASSWORD,
        now=uow.now(),
        max_age=uow.settings["TOKEN_MAX_AGE_SECONDS"],
        user_id=user.id,
        subject=user.email,
    )
    send_after_commit(
        uow,
        user.email,
        "Reset your password",
        "Someone asked to reset the password of your Dataset Marketplace account. If it was you, open:\n"
        f"{_link(uow, '/password/reset?token=' + token)}\n\nIf it was not, ignore this message.\n",
    )


def check_reset_token(uow: UnitOfWork, *, token: str) -> None:
    """Raise :class:`InvalidToken` unless ``token`` is a usable reset token (for showing the form)."""
    tokens.peek(uow.session, uow.settings["SECRET_KEY"], TokenPurpose.RESET_PASSWORD, token, now=uow.now())


def reset_password(uow: UnitOfWork, *, token: str, new_password: str) -> User:
    """Set a new password from a reset link; ends every session and every other reset link of the user."""
    row = tokens.peek(uow.session, uow.settings["SECRET_KEY"], TokenPurpose.RESET_PASSWORD, token, now=uow.now())
    user = uow.session.get(User, row.user_id)
    if user is None:
        raise InvalidToken()
    problem = password_problem(new_password, user.email)
    if problem:
        raise ValidationFailed.for_field("password", problem)
    tokens.consume(uow.session, uow.settings["SECRET_KEY"], TokenPurpose.RESET_PASSWORD, token, now=uow.now())
    _set_password(uow, user, new_password)
    # The reset link reached the inbox, which proves control of the address.
    if user.email_verified_at is None and user.email == row.subject:
        user.email_verified_at = uow.now()
    uow.session.add(user)
    send_after_commit(uow, user.email, "Your password was changed", "The password of your account was just reset.\n")
    return user


def _set_password(uow: UnitOfWork, user: User, new_password: str) -> None:
    assert user.id is not None
    user.password_hash = _hasher(uow).hash(new_password)
    user.session_version += 1
    tokens.revoke_all(uow.session, TokenPurpose.RESET_PASSWORD, user_id=user.id, now=uow.now())


def change_password(uow: UnitOfWork, user: User, *, current_password: str, new_password: str) -> User:
    """Change the password after checking the current one; other sessions of the user end."""
    if not verify(_hasher(uow), user.password_hash, current_password):
        raise ValidationFailed.for_field("current_password", "is not your current password")
    problem = password_problem(new_password, user.email)
    if problem:
        raise ValidationFailed.for_field("new_password", problem)
    _set_password(uow, user, new_password)
    uow.session.add(user)
    send_after_commit(uow, user.email, "Your password was changed", "The password of your account was just changed.\n")
    return user


def request_email_change(uow: UnitOfWork, user: User, *, current_password: str, new_email: str) -> None:
    """Mail a confirmation link to the new address; the e-mail changes only when that link is opened."""
    if not verify(_hasher(uow), user.password_hash, current_password):
        raise ValidationFailed.for_field("current_password", "is not your current password")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise ValidationFailed.for_field("new_email", "is already your e-mail address")
    assert user.id is not None
    if user_by_email(uow.session, new_email) is None:
        token = tokens.issue(
            uow.session,
            uow.settings["SECRET_KEY"],
            TokenPurpose.CHANGE_EMAIL,
            now=uow.now(),
            max_age=uow.settings["TOKEN_MAX_AGE_SECONDS"],
            user_id=user.id,
            subject=new_email,
        )
        send_after_commit(
            uow,
            new_email,
            "Confirm your new e-mail address",
            "Open this link to make this your account's address:\n"
            f"{_link(uow, '/settings/email/confirm?token=' + token)}\n",
        )
    # When the address is taken we say nothing different, so the form cannot probe for accounts.
    send_after_commit(
        uow,
        user.email,
        "E-mail change requested",
        f"A change of your account's address to {new_email} was requested.\n",
    )


def confirm_email_change(uow: UnitOfWork, *, token: str) -> User:
    """Apply a confirmed e-mail change; refuses if the address was taken meanwhile."""
    row = tokens.consume(uow.session, uow.settings["SECRET_KEY"], TokenPurpose.CHANGE_EMAIL, token, now=uow.now())
    user = uow.session.get(User, row.user_id)
    if user is None:
        raise InvalidToken()
    if user_by_email(uow.session, row.subject) is not None:
        raise Conflict(message="That e-mail address now belongs to another account.", code=AccountErrorCode.EMAIL_TAKEN)
    user.email = row.subject
    user.email_verified_at = uow.now()
    uow.session.add(user)
    return user


def set_platform_admin(uow: UnitOfWork, *, email: str, admin: bool = True) -> User:
    """Grant or take away the platform-admin flag (CLI only: there is no web route for it)."""
    user = user_by_email(uow.session, email)
    if user is None:
        raise NotFound(message=f"No account with the e-mail address {normalise_email(email)}.")
    user.is_platform_admin = admin
    uow.session.add(user)
    return user


# --- organisations --------------------------------------------------------------------------------------------

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
RESERVED_SLUGS = frozenset({"new", "admin", "api", "settings", "static", "login", "logout", "signup"})
#: A tax or VAT id as people write it (``DE 123456789``, ``GB123/456.78-9``).
TAX_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{0,63}$")


def get_organisation(session: Session, slug: str) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if org is None:
        raise NotFound(message=f"No organisation called {slug!r}.")
    return org


def create_organisation(
    uow: UnitOfWork, user: User, *, name: str, kind: OrgKind, slug: str | None = None, description: str = ""
) -> Organisation:
    """Create an organisation with ``user`` as its owner."""
    if user.id is None or not user.is_verified:
        raise PermissionDenied(message="Verify your e-mail address before creating an organisation.")
    name = name.strip()
    if not name:
        raise ValidationFailed.for_field("name", "is required")
    slug = (slug or "").strip().lower() or slugify(name, 64)
    if not SLUG_RE.match(slug):
        raise ValidationFailed.for_field(
            "slug", "use 1–64 lower-case letters, digits and hyphens, not starting or ending with a hyphen"
        )
    if slug in RESERVED_SLUGS:
        raise ValidationFailed.for_field("slug", f"{slug!r} is reserved")
    session = uow.session
    if session.exec(select(Organisation).where(Organisation.slug == slug)).first() is not None:
        raise ValidationFailed.for_field("slug", f"{slug!r} is already taken")
    org = Organisation(
        slug=slug,
        name=name,
        kind=kind,
        description=description.strip(),
        created_by_id=user.id,
        created_at=uow.now(),
    )
    session.add(org)
    session.flush()
    assert org.id is not None
    session.add(Membership(organisation_id=org.id, user_id=user.id, role=Role.OWNER, created_at=uow.now()))
    session.flush()
    return org


def update_billing(
    uow: UnitOfWork, actor: User, org: Organisation, *, billing_name: str, billing_address: str, tax_id: str
) -> Organisation:
    """Change the legal name, postal address and tax id printed on the organisation's future invoices and credit
    notes (issued ones keep what they printed); an organisation's admins and owners only."""
    require(uow.session, actor, Action.ORG_UPDATE, org)
    tax_id = " ".join(tax_id.split())
    if tax_id and not TAX_ID_RE.match(tax_id):
        raise ValidationFailed.for_field("tax_id", "use letters, digits, spaces, dots, hyphens and slashes only")
    org.billing_name = billing_name.strip()
    org.billing_address = "\n".join(line.strip() for line in billing_address.strip().splitlines() if line.strip())
    org.tax_id = tax_id
    uow.session.add(org)
    uow.session.flush()
    return org


def organisations_of(session: Session, user: User) -> list[tuple[Organisation, Role]]:
    """The organisations ``user`` belongs to, with the role, by name."""
    rows = session.exec(
        select(Organisation, Membership.role)
        .join(Membership, col(Membership.organisation_id) == Organisation.id)
        .where(Membership.user_id == user.id)
        .order_by(col(Organisation.name))
    ).all()
    return [(org, Role(role)) for org, role in rows]


def members_of(session: Session, org: Organisation) -> list[tuple[User, Role]]:
    rows = session.exec(
        select(User, Membership.role)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.organisation_id == org.id)
        .order_by(col(User.email))
    ).all()
    return [(user, Role(role)) for user, role in rows]


def pending_invitations(session: Session, org: Organisation, now: datetime) -> list[Invitation]:
    rows = session.exec(
        select(Invitation)
        .where(
            Invitation.organisation_id == org.id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
            col(Invitation.expires_at) > now,
        )
        .order_by(col(Invitation.created_at))
    ).all()
    return list(rows)


def invite(uow: UnitOfWork, actor: User, org: Organisation, *, email: str, role: Role) -> Invitation:
    """Invite an e-mail address to ``org`` with ``role``; only owners may invite owners."""
    session = uow.session
    require(session, actor, Action.ORG_INVITE, org)
    if role is Role.OWNER:
        require(session, actor, Action.ORG_MANAGE_OWNERS, org)
    email = normalise_email(email)
    existing_user = user_by_email(session, email)
    if existing_user is not None and role_in(session, existing_user, org) is not None:
        raise ValidationFailed.for_field("email", f"{email} is already a member of {org.name}")
    now = uow.now()
    for pending in pending_invitations(session, org, now):
        if pending.email == email:
            raise ValidationFailed.for_field("email", f"{email} already has a pending invitation")
    max_age = uow.settings["INVITATION_MAX_AGE_SECONDS"]
    invitation = Invitation(
        organisation_id=org.id,  # type: ignore[arg-type]
        email=email,
        role=role,
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(seconds=max_age),
    )
    session.add(invitation)
    session.flush()
    token = tokens.issue(
        session,
        uow.settings["SECRET_KEY"],
        TokenPurpose.INVITATION,
        now=now,
        max_age=max_age,
        subject=str(invitation.id),
    )
    send_after_commit(
        uow,
        email,
        f"You are invited to join {org.name}",
        f"{actor.label} invited you to join {org.name} on the Dataset Marketplace as {role.value}.\n\n"
        f"Accept the invitation (valid for {max_age // 86400} days):\n"
        f"{_link(uow, '/invitations/accept?token=' + token)}\n\n"
        "If you have no account yet, sign up with this e-mail address first.\n",
    )
    return invitation


def invitation_for_token(uow: UnitOfWork, *, token: str) -> tuple[Invitation, Organisation]:
    """The pending invitation a link names, for showing it before it is accepted."""
    row = tokens.peek(uow.session, uow.settings["SECRET_KEY"], TokenPurpose.INVITATION, token, now=uow.now())
    invitation = uow.session.get(Invitation, int(row.subject))
    if invitation is None or not invitation.is_pending(uow.now()):
        raise InvalidToken(message="This invitation has expired, was withdrawn or has already been accepted.")
    org = uow.session.get(Organisation, invitation.organisation_id)
    assert org is not None
    return invitation, org


def accept_invitation(uow: UnitOfWork, user: User, *, token: str) -> Organisation:
    """Make ``user`` a member; the invitation must be for the user's verified e-mail, and works once."""
    invitation, org = invitation_for_token(uow, token=token)
    if not user.is_verified:
        raise PermissionDenied(message="Verify your e-mail address before accepting an invitation.")
    if invitation.email != user.email:
        raise PermissionDenied(
            message=f"This invitation is for {invitation.email}, but you are logged in as {user.email}."
        )
    if role_in(uow.session, user, org) is not None:
        raise Conflict(message=f"You are already a member of {org.name}.", code=AccountErrorCode.ALREADY_MEMBER)
    tokens.consume(uow.session, uow.settings["SECRET_KEY"], TokenPurpose.INVITATION, token, now=uow.now())
    invitation.accepted_at = uow.now()
    invitation.accepted_by_id = user.id
    uow.session.add(invitation)
    uow.session.add(
        Membership(organisation_id=org.id, user_id=user.id, role=invitation.role, created_at=uow.now())  # type: ignore[arg-type]
    )
    uow.session.flush()
    return org


def revoke_invitation(uow: UnitOfWork, actor: User, org: Organisation, invitation_id: int) -> None:
    require(uow.session, actor, Action.ORG_INVITE, org)
    invitation = uow.session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != org.id or not invitation.is_pending(uow.now()):
        raise NotFound(message="No such pending invitation.")
    invitation.revoked_at = uow.now()
    uow.session.add(invitation)


def _membership(session: Session, org: Organisation, user_id: int) -> Membership:
    membership = session.exec(
        select(Membership).where(Membership.organisation_id == org.id, Membership.user_id == user_id)
    ).first()
    if membership is None:
        raise NotFound(message="That person is not a member of this organisation.")
    return membership


def _owner_count(session: Session, org: Organisation) -> int:
    statement = (
        select(func.count())
        .select_from(Membership)
        .where(Membership.organisation_id == org.id, Membership.role == Role.OWNER)
    )
    return int(session.exec(statement).one())


def change_role(uow: UnitOfWork, actor: User, org: Organisation, *, user_id: int, role: Role) -> Membership:
    """Change a member's role. Admins manage members and admins; only owners touch owners; one owner stays."""
    session = uow.session
    require(session, actor, Action.ORG_MANAGE_MEMBERS, org)
    membership = _membership(session, org, user_id)
    if Role.OWNER in (membership.role, role):
        require(session, actor, Action.ORG_MANAGE_OWNERS, org)
    if membership.role is Role.OWNER and role is not Role.OWNER and _owner_count(session, org) <= 1:
        raise Conflict(message="An organisation needs at least one owner.", code=AccountErrorCode.LAST_OWNER)
    membership.role = role
    session.add(membership)
    return membership


def remove_member(uow: UnitOfWork, actor: User, org: Organisation, *, user_id: int) -> None:
    """Remove a member (or leave, when ``user_id`` is the actor's own); the last owner cannot go."""
    session = uow.session
    membership = _membership(session, org, user_id)
    if user_id != actor.id:
        require(session, actor, Action.ORG_MANAGE_MEMBERS, org)
        if membership.role is Role.OWNER:
            require(session, actor, Action.ORG_MANAGE_OWNERS, org)
    if membership.role is Role.OWNER and _owner_count(session, org) <= 1:
        raise Conflict(message="An organisation needs at least one owner.", code=AccountErrorCode.LAST_OWNER)
    session.delete(membership)
