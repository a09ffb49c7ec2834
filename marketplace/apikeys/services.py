"""API keys: create (shown once), list, revoke, and authenticate a bearer credential into a :class:`Principal`.

A *user* key acts as its user, through all of the user's memberships. An *organisation* key (created by an admin
of that organisation) acts for that organisation only: it is exercised through its creator's membership, so it
stops working when the creator leaves the organisation, and never reaches another organisation the creator
belongs to (:func:`marketplace.permissions.delegated`). Neither ever carries platform-admin powers.

``mkp_test_`` keys (and test OAuth clients) work only while payments run on the sandbox backend, which production
refuses; so a test key can never buy anything for real. ``mkp_live_`` keys work with any backend.

Every request looks the credential up again: revocation and expiry take effect on the very next request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.apikeys import tokens
from marketplace.apikeys.errors import ApiKeyErrorCode
from marketplace.apikeys.models import ApiKey
from marketplace.apikeys.scopes import SCOPES, parse_scopes
from marketplace.crypto import Peppers
from marketplace.db import UnitOfWork
from marketplace.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from marketplace.permissions import Action, can, require

ENVIRONMENTS = ("live", "test")
#: How stale "last used" may get before a request writes it again (saves a write per request under load).
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: the credential, the user it acts as, the organisation it is limited to, its scopes."""

    kind: Literal["api_key", "oauth_client"]
    credential_id: int
    name: str
    user: User
    organisation: Organisation | None
    scopes: frozenset[str]
    environment: str
    expires_at: datetime | None = None
    #: Whether "last used at / from" is stale enough to be written again (see :func:`record_use`).
    use_to_record: bool = False
    #: ``(pepper id, digest)`` under the writing pepper when the stored hash was made with another one: written
    #: with the use, so a key outlives the removal of the pepper (or of the ``SECRET_KEY``) it was first hashed with.
    rehash: tuple[str, str] | None = None

    @property
    def ref(self) -> str:
        """A stable name of the credential (rate limits and idempotency keys are kept per credential)."""
        return f"{'key' if self.kind == 'api_key' else 'client'}:{self.credential_id}"

    @property
    def api_key_id(self) -> int | None:
        return self.credential_id if self.kind == "api_key" else None

    @property
    def organisation_id(self) -> int | None:
        return self.organisation.id if self.organisation is not None else None

    def has(self, scope: str) -> bool:
        return scope in self.scopes


def peppers(settings: Mapping[str, Any]) -> Peppers:
    """The peppers of credential hashes (``API_KEY_PEPPERS``, plus the legacy one derived from ``SECRET_KEY``)."""
    return Peppers.from_settings(settings)


def sandbox_payments(uow: UnitOfWork) -> bool:
    payments = uow.context.payments
    return bool(payments is not None and payments.is_sandbox)


class CredentialRefused(NotAuthenticated):
    """A bearer credential that is unknown, malformed, revoked, expired or no longer usable (401)."""


def _refused(code: ApiKeyErrorCode, message: str) -> CredentialRefused:
    return CredentialRefused(message=message, code=code)


# --- creating, listing, revoking -----------------------------------------------------------------------------------


def check_scopes(value: list[str] | str) -> list[str]:
    try:
        chosen = parse_scopes(value)
    except ValueError as error:
        raise ValidationFailed.for_field("scopes", str(error)) from error
    if not chosen:
        raise ValidationFailed.for_field("scopes", "choose at least one scope")
    return chosen


def check_environment(uow: UnitOfWork, environment: str) -> str:
    if environment not in ENVIRONMENTS:
        raise ValidationFailed.for_field("environment", "must be live or test")
    if environment == "test" and not sandbox_payments(uow):
        raise ValidationFailed.for_field("environment", "test credentials need the sandbox payment backend")
    return environment


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        raise ValidationFailed.for_field("name", "give a name of 1 to 120 characters")
    return name


def create_key(
    uow: UnitOfWork,
    actor: User | None,
    *,
    name: str,
    scopes: list[str] | str,
    environment: str = "live",
    expires_at: datetime | None = None,
    organisation: Organisation | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for ``actor`` or, when ``organisation`` is given (by one of its admins), for it.

    Returns the row and the key itself, which is shown this once and never stored.
    """
    if actor is None:
        raise NotAuthenticated()
    if organisation is not None:
        require(uow.session, actor, Action.API_ACCESS_MANAGE, organisation)
    name = check_name(name)
    chosen = check_scopes(scopes)
    environment = check_environment(uow, environment)
    now = uow.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed.for_field("expires_at", "must be in the future")
    secret = tokens.new_secret(tokens.TEST_KEY_PREFIX if environment == "test" else tokens.LIVE_KEY_PREFIX)
    pepper_id, key_hash = peppers(uow.settings).digest(secret)
    key = ApiKey(
        name=name,
        environment=environment,
        key_hash=key_hash,
        pepper_id=pepper_id,
        key_prefix=secret[: len(tokens.LIVE_KEY_PREFIX) + 4],
        key_last4=secret[-4:],
        user_id=None if organisation is not None else actor.id,
        organisation_id=organisation.id if organisation is not None else None,
        created_by_id=actor.id,
        scopes=" ".join(chosen),
        created_at=now,
        expires_at=expires_at,
    )
    uow.session.add(key)
    uow.session.flush()
    return key, secret


def admin_organisations(session: Session, user: User) -> list[Organisation]:
    """Organisations whose API access ``user`` manages (admins and owners), by name."""
    rows = session.exec(
        select(Organisation)
        .join(Membership, col(Membership.organisation_id) == Organisation.id)
        .where(Membership.user_id == user.id, col(Membership.role).in_([Role.ADMIN, Role.OWNER]))
        .order_by(col(Organisation.name))
    ).all()
    return [org for org in rows if can(session, user, Action.API_ACCESS_MANAGE, org)]


def keys_for(session: Session, user: User) -> list[ApiKey]:
    """The user's own keys and the keys of every organisation the user administers, newest first."""
    org_ids = [org.id for org in admin_organisations(session, user)]
    condition = col(ApiKey.user_id) == user.id
    if org_ids:
        condition = condition | col(ApiKey.organisation_id).in_(org_ids)
    return list(session.exec(select(ApiKey).where(condition).order_by(col(ApiKey.id).desc())).all())


def _manageable_key(session: Session, actor: User, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(message="No such API key.")
    if key.user_id is not None and key.user_id == actor.id:
        return key
    org = session.get(Organisation, key.organisation_id) if key.organisation_id is not None else None
    if org is not None and can(session, actor, Action.API_ACCESS_MANAGE, org):
        return key
    raise NotFound(message="No such API key.")


def revoke_key(uow: UnitOfWork, actor: User | None, key_id: int) -> ApiKey:
    """Revoke a key at once (its next request is refused); revoking twice keeps the first time."""
    if actor is None:
        raise NotAuthenticated()
    key = _manageable_key(uow.session, actor, key_id)
    if key.revoked_at is None:
        key.revoked_at = uow.now()
        key.revoked_by_id = actor.id
        uow.session.add(key)
        uow.session.flush()
    return key


# --- authenticating ------------------------------------------------------------------------------------------------


def as_api_caller(user: User) -> User:
    """A detached copy of ``user`` with the platform-admin flag off: an API credential never carries platform-admin
    powers, whichever service reads the flag (the rules in :mod:`marketplace.permissions` also refuse it)."""
    return _caller(user.id, user)


def _caller(user_id: int | None, account: Any) -> User:
    """:func:`as_api_caller` of the account ``user_id`` whose fields ``account`` holds (a user, or a row of
    :data:`_KEY_WITH_OWNER`)."""
    return User(
        id=user_id,
        email=account.email,
        display_name=account.display_name,
        password_hash="",
        email_verified_at=account.email_verified_at,
        is_platform_admin=False,
        session_version=account.session_version,
        created_at=account.created_at,
    )


def acting_user(session: Session, user_id: int | None, organisation_id: int | None) -> tuple[User, Organisation | None]:
    """The user a credential acts as (see :func:`as_api_caller`) and the organisation it is limited to; refused when
    the credential's creator no longer belongs to its organisation (or no longer exists)."""
    stored = session.get(User, user_id) if user_id is not None else None
    if stored is None:
        raise _refused(ApiKeyErrorCode.CREDENTIAL_INACTIVE, "The account this credential acts as no longer exists.")
    user = as_api_caller(stored)
    if organisation_id is None:
        return user, None
    org = session.get(Organisation, organisation_id)
    member = (
        session.exec(
            select(Membership.id).where(Membership.organisation_id == organisation_id, Membership.user_id == user.id)
        ).first()
        if org is not None
        else None
    )
    if org is None or member is None:
        raise _refused(
            ApiKeyErrorCode.CREDENTIAL_INACTIVE,
            "The person who created this organisation credential has left the organisation; create a new one.",
        )
    return user, org


def _check_usable(uow: UnitOfWork, *, revoked_at: datetime | None, expires_at: datetime | None, env: str) -> None:
    now = uow.now()
    if revoked_at is not None:
        raise _refused(ApiKeyErrorCode.CREDENTIAL_REVOKED, "This credential was revoked.")
    if expires_at is not None and expires_at <= now:
        raise _refused(ApiKeyErrorCode.CREDENTIAL_EXPIRED, "This credential has expired.")
    if env == "test" and not sandbox_payments(uow):
        raise _refused(ApiKeyErrorCode.TEST_CREDENTIAL_REFUSED, "Test credentials work only against sandbox payments.")


def _stale_use(uow: UnitOfWork, row: Any, ip: str) -> bool:
    last = row.last_used_at
    return bool(last is None or uow.now() - last >= LAST_USED_RESOLUTION or row.last_used_ip != (ip or "")[:64])


def _touch(uow: UnitOfWork, row: Any, ip: str) -> None:
    if _stale_use(uow, row, ip):
        row.last_used_at = uow.now()
        row.last_used_ip = (ip or "")[:64]
        uow.session.add(row)


def record_use(uow: UnitOfWork, principal: Principal, ip: str) -> None:
    """Write when and from where a key was last used, in a unit of work of its own (the caller runs this after its
    request committed): a read-only request then never writes, and on SQLite never has to upgrade to a write
    lock after reading (which fails at once under concurrency instead of waiting).

    A key hashed under a pepper other than the writing one is re-hashed under it here (:attr:`Principal.rehash`).
    """
    if principal.kind != "api_key":
        return
    values: dict[str, Any] = {"last_used_at": uow.now(), "last_used_ip": (ip or "")[:64]}
    if principal.rehash is not None:
        values["pepper_id"], values["key_hash"] = principal.rehash
    uow.session.execute(sa.update(ApiKey).where(col(ApiKey.id) == principal.credential_id).values(**values))


#: A key by its candidate hashes, with what its request needs of the user it acts as and whether that user is still
#: a member of the key's organisation: one statement, read afresh on every request (nothing about a key's validity
#: is kept between requests, so a revocation, an expiry or a departure holds from the next request on).
_OWNER = sa.func.coalesce(col(ApiKey.user_id), col(ApiKey.created_by_id))
_KEY_WITH_OWNER: Any = (
    sa.select(
        col(ApiKey.id).label("key_id"),
        col(ApiKey.name),
        col(ApiKey.environment),
        col(ApiKey.pepper_id),
        col(ApiKey.key_hash),
        col(ApiKey.organisation_id),
        col(ApiKey.scopes),
        col(ApiKey.expires_at),
        col(ApiKey.revoked_at),
        col(ApiKey.last_used_at),
        col(ApiKey.last_used_ip),
        col(User.id).label("user_id"),
        col(User.email),
        col(User.display_name),
        col(User.email_verified_at),
        col(User.session_version),
        col(User.created_at),
        sa.exists()
        .where(col(Membership.organisation_id) == col(ApiKey.organisation_id), col(Membership.user_id) == col(User.id))
        .label("is_member"),
    )
    .select_from(ApiKey)
    .outerjoin(User, col(User.id) == _OWNER)
    .where(col(ApiKey.key_hash).in_(sa.bindparam("hashes", expanding=True)))
    .limit(1)
)


def authenticate_key(uow: UnitOfWork, secret: str, *, ip: str) -> Principal:
    """The principal of an API key; :class:`CredentialRefused` (401) when it is not usable now.

    The key, the user it acts as and that user's membership of the key's organisation are read by one statement on
    every request (and the organisation itself for an organisation's key): a revoked or expired key, a deleted user
    or a departed member is refused on the very next request.
    """
    if not tokens.well_formed(secret) or not secret.startswith((tokens.LIVE_KEY_PREFIX, tokens.TEST_KEY_PREFIX)):
        raise _refused(ApiKeyErrorCode.INVALID_CREDENTIAL, "The API key is not valid.")
    ring = peppers(uow.settings)
    candidates = ring.candidates(secret)
    key = uow.session.execute(_KEY_WITH_OWNER, {"hashes": list(candidates.values())}).first()
    if key is None or not ring.matches(secret, key.pepper_id, key.key_hash):
        raise _refused(ApiKeyErrorCode.INVALID_CREDENTIAL, "The API key is not valid.")
    _check_usable(uow, revoked_at=key.revoked_at, expires_at=key.expires_at, env=key.environment)
    user, org = _acting_user_of(uow.session, key)
    rehash = ring.digest(secret) if key.pepper_id != ring.writing_id else None
    return Principal(
        kind="api_key",
        credential_id=key.key_id,
        name=key.name,
        user=user,
        organisation=org,
        scopes=frozenset(s for s in key.scopes.split() if s in SCOPES),
        environment=key.environment,
        expires_at=key.expires_at,
        use_to_record=rehash is not None or _stale_use(uow, key, ip),
        rehash=rehash,
    )


def _acting_user_of(session: Session, key: Any) -> tuple[User, Organisation | None]:
    """:func:`acting_user` from a row of :data:`_KEY_WITH_OWNER` (the same refusals; the user as :func:`as_api_caller`
    makes it)."""
    if key.user_id is None:
        raise _refused(ApiKeyErrorCode.CREDENTIAL_INACTIVE, "The account this credential acts as no longer exists.")
    user = _caller(key.user_id, key)
    if key.organisation_id is None:
        return user, None
    org = session.get(Organisation, key.organisation_id) if key.is_member else None
    if org is None:
        raise _refused(
            ApiKeyErrorCode.CREDENTIAL_INACTIVE,
            "The person who created this organisation credential has left the organisation; create a new one.",
        )
    return user, org


def authenticate(uow: UnitOfWork, secret: str, *, ip: str) -> Principal:
    """The principal of a bearer credential: an API key or an OAuth access token."""
    if secret.startswith(tokens.ACCESS_TOKEN_PREFIX):
        from marketplace.oauth.services import authenticate_token

        return authenticate_token(uow, secret, ip=ip)
    return authenticate_key(uow, secret, ip=ip)


def describe(principal: Principal) -> dict[str, Any]:
    """What ``GET /api/v1/me`` tells a caller about its own credential."""
    return {
        "credential": {
            "type": principal.kind,
            "id": principal.credential_id,
            "name": principal.name,
            "environment": principal.environment,
            "scopes": [s for s in SCOPES if s in principal.scopes],
            "expires_at": principal.expires_at,
        },
        "user": {"id": principal.user.id, "email": principal.user.email, "display_name": principal.user.label},
        "organisation": (
            {"slug": principal.organisation.slug, "name": principal.organisation.name}
            if principal.organisation is not None
            else None
        ),
    }


def refuse_unless(principal: Principal, scope: str) -> None:
    """Raise 403 ``insufficient_scope`` unless the credential holds ``scope``."""
    if not principal.has(scope):
        raise PermissionDenied(
            message=f"This credential lacks the {scope} scope.", code=ApiKeyErrorCode.INSUFFICIENT_SCOPE
        )
