"""OAuth clients (service accounts) of organisations, and the access tokens the client-credentials grant issues.

A client belongs to one organisation and is created by one of its admins; like an organisation's API key it acts
for that organisation only, through its creator's membership. Its secret is shown once and kept as a peppered
HMAC; so are access tokens. A token carries a subset of its client's scopes and lives ``OAUTH_TOKEN_SECONDS``.
Revoking a client ends its tokens at once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from marketplace.accounts.models import Organisation, User
from marketplace.apikeys import tokens
from marketplace.apikeys.scopes import SCOPES
from marketplace.apikeys.services import (
    CredentialRefused,
    Principal,
    _check_usable,
    _touch,
    acting_user,
    admin_organisations,
    check_environment,
    check_name,
    check_scopes,
    peppers,
)
from marketplace.db import UnitOfWork
from marketplace.errors import NotAuthenticated, NotFound
from marketplace.oauth.errors import OAuthErrorCode
from marketplace.oauth.models import OAuthClient, OAuthToken
from marketplace.permissions import Action, can, require


def create_client(
    uow: UnitOfWork,
    actor: User | None,
    organisation: Organisation,
    *,
    name: str,
    scopes: list[str] | str,
    environment: str = "live",
) -> tuple[OAuthClient, str]:
    """Register a service account for ``organisation`` (admins only); returns it and its secret, shown once."""
    if actor is None:
        raise NotAuthenticated()
    require(uow.session, actor, Action.API_ACCESS_MANAGE, organisation)
    name = check_name(name)
    chosen = check_scopes(scopes)
    environment = check_environment(uow, environment)
    secret = tokens.new_secret(tokens.CLIENT_SECRET_PREFIX)
    pepper_id, secret_hash = peppers(uow.settings).digest(secret)
    client = OAuthClient(
        client_id=tokens.new_client_id(),
        secret_hash=secret_hash,
        pepper_id=pepper_id,
        secret_last4=secret[-4:],
        name=name,
        organisation_id=organisation.id,  # type: ignore[arg-type]
        environment=environment,
        scopes=" ".join(chosen),
        created_by_id=actor.id,
        created_at=uow.now(),
    )
    uow.session.add(client)
    uow.session.flush()
    return client, secret


def clients_for(session: Session, user: User) -> list[OAuthClient]:
    """The OAuth clients of every organisation ``user`` administers, newest first."""
    org_ids = [org.id for org in admin_organisations(session, user)]
    if not org_ids:
        return []
    return list(
        session.exec(
            select(OAuthClient)
            .where(col(OAuthClient.organisation_id).in_(org_ids))
            .order_by(col(OAuthClient.id).desc())
        ).all()
    )


def revoke_client(uow: UnitOfWork, actor: User | None, client_pk: int) -> OAuthClient:
    """Revoke a client and every token it holds, at once."""
    if actor is None:
        raise NotAuthenticated()
    client = uow.session.get(OAuthClient, client_pk)
    org = uow.session.get(Organisation, client.organisation_id) if client is not None else None
    if client is None or org is None or not can(uow.session, actor, Action.API_ACCESS_MANAGE, org):
        raise NotFound(message="No such OAuth client.")
    now = uow.now()
    if client.revoked_at is None:
        client.revoked_at = now
        uow.session.add(client)
    for token in uow.session.exec(
        select(OAuthToken).where(OAuthToken.client_id == client.id, col(OAuthToken.revoked_at).is_(None))
    ).all():
        token.revoked_at = now
        uow.session.add(token)
    uow.session.flush()
    return client


def usable_client(uow: UnitOfWork, client_id: str) -> OAuthClient | None:
    """The active client with this public id whose creator still belongs to its organisation, or None."""
    if not isinstance(client_id, str) or not client_id.startswith(tokens.CLIENT_ID_PREFIX) or len(client_id) > 64:
        return None
    client = uow.session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()
    if client is None or client.revoked_at is not None:
        return None
    try:
        acting_user(uow.session, client.created_by_id, client.organisation_id)
        check_environment(uow, client.environment)
    except Exception:
        return None
    return client


def store_token(uow: UnitOfWork, client: OAuthClient, access_token: str, scopes: str, *, ip: str) -> OAuthToken:
    """Keep the digest of a newly issued access token (the token itself goes to the client only)."""
    now = uow.now()
    pepper_id, token_hash = peppers(uow.settings).digest(access_token)
    row = OAuthToken(
        client_id=client.id,  # type: ignore[arg-type]
        token_hash=token_hash,
        pepper_id=pepper_id,
        scopes=scopes,
        issued_at=now,
        expires_at=now + timedelta(seconds=int(uow.settings["OAUTH_TOKEN_SECONDS"])),
    )
    uow.session.add(row)
    _touch(uow, client, ip)
    uow.session.flush()
    return row


def authenticate_token(uow: UnitOfWork, secret: str, *, ip: str) -> Principal:
    """The principal of an OAuth access token; 401 when unknown, expired or revoked (or its client is)."""
    if not tokens.well_formed(secret, tokens.ACCESS_TOKEN_PREFIX):
        raise CredentialRefused(message="The access token is not valid.", code=OAuthErrorCode.INVALID_CREDENTIAL)
    ring = peppers(uow.settings)
    candidates = list(ring.candidates(secret).values())
    row = uow.session.exec(select(OAuthToken).where(col(OAuthToken.token_hash).in_(candidates))).first()
    if row is None or not ring.matches(secret, row.pepper_id, row.token_hash):
        raise CredentialRefused(message="The access token is not valid.", code=OAuthErrorCode.INVALID_CREDENTIAL)
    client = uow.session.get(OAuthClient, row.client_id)
    assert client is not None and client.id is not None
    _check_usable(
        uow,
        revoked_at=row.revoked_at or client.revoked_at,
        expires_at=row.expires_at,
        env=client.environment,
    )
    user, org = acting_user(uow.session, client.created_by_id, client.organisation_id)
    return Principal(
        kind="oauth_client",
        credential_id=client.id,
        name=client.name,
        user=user,
        organisation=org,
        scopes=frozenset(s for s in row.scope_list if s in SCOPES and s in client.scope_list),
        environment=client.environment,
        expires_at=row.expires_at,
    )
