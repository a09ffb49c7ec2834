"""Single sign-on settings of an organisation, and signing people in from a validated ID token's claims.

Domain ownership: an organisation's provider is trusted to say who owns every address in the domains it covers
(it can sign in as any account in them). So a domain is only accepted when

* the admin adding it has a *verified* e-mail address in exactly that domain (they receive mail there),
* it is not a public mail provider (``gmail.com``, …: built-in list plus ``SSO_BLOCKED_DOMAINS``), where a
  mailbox proves nothing about the domain, and
* no other organisation has claimed it (first come; a platform admin settles disputes in the database).

The remaining risk, stated in the README: anyone with a verified mailbox at a company's domain who is an admin of
some marketplace organisation can point that domain at a provider they control. Operators who need more should
also check domains out of band (DNS TXT) before enabling SSO for an organisation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from marketplace.accounts.models import Membership, Organisation, Role, User
from marketplace.accounts.services import normalise_email, user_by_email
from marketplace.crypto import EncryptionKeys, SecretBox
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound, PermissionDenied, ValidationFailed
from marketplace.permissions import Action, require, role_in
from marketplace.sso.errors import SsoErrorCode
from marketplace.sso.models import SsoConnection, SsoDomain
from marketplace.webhooks.targets import TargetPolicy, check_target

_BOX_PURPOSE = "sso-client-secret"
#: Stored as the password hash of accounts created by SSO: argon2 cannot parse it, so no password matches
#: until the person sets one through "forgot password".
UNUSABLE_PASSWORD = "!sso-only"  # noqa: S105 - a marker, not a password

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")

PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com", "msn.com",
        "yahoo.com", "yahoo.co.uk", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
        "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "mail.com",
        "yandex.com", "yandex.ru", "mail.ru", "zoho.com", "fastmail.com", "tutanota.com", "tuta.io", "qq.com",
        "163.com", "126.com", "hey.com", "duck.com", "orange.fr", "free.fr", "laposte.net", "libero.it",
    }
)  # fmt: skip


@dataclass
class SsoRefused(PermissionDenied):
    """The provider signed someone in, but the marketplace will not: unverified address, domain not covered, …"""

    code: str = SsoErrorCode.SSO_REFUSED


def secret_box(settings: Mapping[str, Any]) -> SecretBox:
    return SecretBox(EncryptionKeys.from_settings(settings), _BOX_PURPOSE)


def client_secret(settings: dict[str, Any], connection: SsoConnection) -> str:
    return secret_box(settings).decrypt(connection.client_secret_ciphertext)


def discovery_url(issuer: str) -> str:
    """OpenID Connect Discovery: the issuer without a trailing slash, then ``/.well-known/openid-configuration``."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _blocked(settings: dict[str, Any]) -> frozenset[str]:
    extra = {d.strip().lower() for d in str(settings.get("SSO_BLOCKED_DOMAINS", "")).split(",") if d.strip()}
    return PUBLIC_MAIL_DOMAINS | extra


def email_domain(email: str) -> str:
    return normalise_email(email).rpartition("@")[2]


# --- settings -----------------------------------------------------------------------------------------------------


def get_connection(session: Session, actor: User, org: Organisation) -> SsoConnection | None:
    """The organisation's SSO connection (None when it has none); for its admins."""
    require(session, actor, Action.SSO_MANAGE, org)
    return session.exec(select(SsoConnection).where(SsoConnection.organisation_id == org.id)).first()


def domains_of(session: Session, connection: SsoConnection) -> list[str]:
    rows = session.exec(
        select(SsoDomain.domain).where(SsoDomain.connection_id == connection.id).order_by(col(SsoDomain.domain))
    ).all()
    return list(rows)


def parse_domains(text: str | list[str]) -> list[str]:
    """``"example.com, @eu.example.com"`` → ``["eu.example.com", "example.com"]``; raises naming a bad one."""
    items = text if isinstance(text, list) else re.split(r"[\s,;]+", text)
    found: list[str] = []
    for item in items:
        domain = item.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as error:
            raise ValidationFailed.for_field("domains", f"{item!r} is not a domain name") from error
        if not DOMAIN_RE.match(domain):
            raise ValidationFailed.for_field("domains", f"{item!r} is not a domain name")
        if domain not in found:
            found.append(domain)
    if not found:
        raise ValidationFailed.for_field("domains", "name at least one e-mail domain")
    return sorted(found)


def configure(
    uow: UnitOfWork,
    actor: User,
    org: Organisation,
    *,
    issuer: str,
    client_id: str,
    client_secret: str | None,
    domains: list[str] | str,
    enabled: bool = True,
) -> SsoConnection:
    """Create or change the organisation's OpenID provider and the e-mail domains it covers.

    ``client_secret`` may be empty when changing a connection, to keep the stored one. A newly added domain must
    be one where ``actor`` has a verified address (see the module's note on domain ownership).
    """
    session = uow.session
    require(session, actor, Action.SSO_MANAGE, org)
    # Kept exactly as typed: it must equal the provider's ``iss`` (some end in a slash, most do not).
    issuer = check_target(issuer, TargetPolicy.from_settings(uow.settings), field="issuer")
    client_id = _checked_client_id(client_id)
    wanted = parse_domains(domains)
    connection = session.exec(select(SsoConnection).where(SsoConnection.organisation_id == org.id)).first()
    current = domains_of(session, connection) if connection is not None else []
    _check_new_domains(uow, actor, wanted, current)
    connection = _save_connection(
        uow, actor, org, connection, issuer=issuer, client_id=client_id, secret=client_secret, enabled=enabled
    )
    _replace_domains(uow, actor, connection, wanted, current)
    return connection


def _checked_client_id(client_id: str) -> str:
    client_id = client_id.strip()
    if not client_id:
        raise ValidationFailed.for_field("client_id", "is required")
    if len(client_id) > 255:
        raise ValidationFailed.for_field("client_id", "must be at most 255 characters")
    return client_id


def _check_new_domains(uow: UnitOfWork, actor: User, wanted: list[str], current: list[str]) -> None:
    """Refuse public mail domains, and a domain new to the connection unless ``actor`` proves it and it is free."""
    blocked = _blocked(uow.settings)
    for domain in wanted:
        if domain in blocked:
            raise ValidationFailed.for_field(
                "domains", f"{domain} is a public mail provider: its addresses do not belong to one organisation"
            )
    for domain in wanted:
        if domain in current:
            continue
        if not actor.is_verified or email_domain(actor.email) != domain:
            raise ValidationFailed.for_field(
                "domains",
                f"to add {domain} you need a verified e-mail address at {domain} (you are {actor.email}); "
                "ask an admin with such an address to add it",
            )
        taken = uow.session.exec(select(SsoDomain).where(SsoDomain.domain == domain)).first()
        if taken is not None:
            raise ValidationFailed.for_field("domains", f"{domain} is already used by another organisation")


def _save_connection(
    uow: UnitOfWork,
    actor: User,
    org: Organisation,
    connection: SsoConnection | None,
    *,
    issuer: str,
    client_id: str,
    secret: str | None,
    enabled: bool,
) -> SsoConnection:
    """Create the connection (a secret is then required) or change it (an empty secret keeps the stored one)."""
    session = uow.session
    secret = (secret or "").strip()
    now = uow.now()
    box = secret_box(uow.settings)
    if connection is None:
        if not secret:
            raise ValidationFailed.for_field("client_secret", "is required")
        connection = SsoConnection(
            organisation_id=org.id,  # type: ignore[arg-type]
            issuer=issuer,
            client_id=client_id,
            client_secret_ciphertext=box.encrypt(secret),
            enabled=enabled,
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        session.add(connection)
        session.flush()
        return connection
    connection.issuer = issuer
    connection.client_id = client_id
    if secret:
        connection.client_secret_ciphertext = box.encrypt(secret)
    connection.enabled = enabled
    connection.revision += 1
    connection.updated_at = now
    session.add(connection)
    return connection


def _replace_domains(
    uow: UnitOfWork, actor: User, connection: SsoConnection, wanted: list[str], current: list[str]
) -> None:
    session, now = uow.session, uow.now()
    for row in session.exec(select(SsoDomain).where(SsoDomain.connection_id == connection.id)).all():
        if row.domain not in wanted:
            session.delete(row)
    for domain in wanted:
        if domain not in current:
            session.add(SsoDomain(connection_id=connection.id, domain=domain, claimed_by_id=actor.id, created_at=now))  # type: ignore[arg-type]
    session.flush()


def remove(uow: UnitOfWork, actor: User, org: Organisation) -> None:
    """Delete the organisation's SSO connection and release its domains; members keep their accounts."""
    connection = get_connection(uow.session, actor, org)
    if connection is None:
        raise NotFound(message=f"{org.name} has no single sign-on.")
    uow.session.delete(connection)
    uow.session.flush()


# --- signing in ---------------------------------------------------------------------------------------------------


def connection_for_email(session: Session, email: str) -> SsoConnection | None:
    """The enabled connection covering the address's domain, if any."""
    domain = email_domain(email)
    row = session.exec(
        select(SsoConnection)
        .join(SsoDomain, col(SsoDomain.connection_id) == SsoConnection.id)
        .where(SsoDomain.domain == domain, col(SsoConnection.enabled).is_(True))
    ).first()
    return row


def _email_verified(claims: dict[str, Any]) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def sign_in(uow: UnitOfWork, connection: SsoConnection, claims: dict[str, Any]) -> User:
    """The account for a validated ID token's claims, created or adopted, and made a member of the organisation.

    Refuses (:class:`SsoRefused`) an address the provider has not verified, and one outside the connection's
    domains. A new account is created verified, without a usable password. An existing *unverified* account is
    verified and loses its password: whoever created it never proved they own the address, and must not keep
    a way in.
    """
    session = uow.session
    email = normalise_email(str(claims.get("email") or ""))
    if "@" not in email:
        raise SsoRefused(message="Your identity provider did not tell us your e-mail address.")
    if not _email_verified(claims):
        raise SsoRefused(message=f"Your identity provider has not verified {email}, so we cannot sign you in with it.")
    domain = email_domain(email)
    if domain not in domains_of(session, connection):
        raise SsoRefused(
            message=f"{email} is not in a domain this organisation's single sign-on covers. "
            "Sign in with your organisation's own address."
        )
    now = uow.now()
    user = user_by_email(session, email)
    if user is None:
        name = str(claims.get("name") or "").strip()[:120]
        user = User(
            email=email, display_name=name, password_hash=UNUSABLE_PASSWORD, email_verified_at=now, created_at=now
        )
        session.add(user)
        session.flush()
    elif not user.is_verified:
        user.email_verified_at = now
        user.password_hash = UNUSABLE_PASSWORD
        user.session_version += 1
    user.last_login_at = now
    session.add(user)
    org = session.get(Organisation, connection.organisation_id)
    assert org is not None
    if role_in(session, user, org) is None:
        session.add(Membership(organisation_id=org.id, user_id=user.id, role=Role.MEMBER, created_at=now))  # type: ignore[arg-type]
    session.flush()
    return user
