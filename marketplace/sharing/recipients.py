"""Recipient profiles: minted for a license in force, checked on every protocol request, revoked by the licensee.

A profile is the protocol's JSON credential file (``shareCredentialsVersion`` 1, the endpoint, a bearer token and
the license's end as ``expirationTime``). The token is shown once, in the minted file; only its SHA-256 is stored.
A token acts for the member of the licensee who minted it, through the same gate as a download link
(:func:`~marketplace.delivery.downloads.check_download_allowed`), on every request and never from a cache: a
revoked, suspended or expired license, a revoked profile or a minter who left the licensee stops it at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

import licensing
from marketplace import audit
from marketplace.accounts.models import User
from marketplace.catalog.models import Dataset, DatasetFile
from marketplace.db import UnitOfWork
from marketplace.delivery.downloads import Requester, check_download_allowed, covered_versions
from marketplace.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied
from marketplace.licenses.models import Grant
from marketplace.permissions import Action, require
from marketplace.sharing.conversion import request_conversion, tabular_format
from marketplace.sharing.errors import SharingErrorCode
from marketplace.sharing.models import SharingRecipient

__all__ = ["Access", "MintedProfile", "authenticate", "mint_profile", "profiles_of", "revoke_profile"]

TOKEN_PREFIX = "mkds_"  # noqa: S105  (a prefix that names the token kind, not a secret)


@dataclass(frozen=True)
class MintedProfile:
    """A new profile: its row, and the profile document (with the only copy of the token) to hand to the user."""

    recipient: SharingRecipient
    document: dict[str, Any]


@dataclass(frozen=True)
class Access:
    """What an authenticated protocol request may read: one license, its dataset, and who it acts for."""

    recipient: SharingRecipient
    grant: Grant
    value: licensing.Grant
    dataset: Dataset
    requester: Requester


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _protocol_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _has_tables(session: Session, grant: Grant, value: licensing.Grant) -> list[Any]:
    versions = covered_versions(session, grant, value)
    tabular = []
    for version in versions:
        files = session.exec(
            select(DatasetFile.path).where(
                DatasetFile.version_id == version.id, col(DatasetFile.storage_key).is_not(None)
            )
        ).all()
        if any(tabular_format(path) for path in files):
            tabular.append(version)
    return tabular


def mint_profile(uow: UnitOfWork, requester: Requester, grant: Grant, *, endpoint: str) -> MintedProfile:
    """A new recipient profile of ``grant`` for the requester, a member of the licensee, while the license is in
    force and covers a tabular file (CSV, JSON Lines or Parquet); asks for the Parquet form of its versions.

    Raises NotAuthenticated/PermissionDenied (not a licensee member), DownloadRefused (the license is not in force)
    or Conflict ``not_tabular``.
    """
    require(uow.session, requester.user, Action.GRANT_SHARE, grant)
    value = check_download_allowed(uow, grant, requester)
    versions = _has_tables(uow.session, grant, value)
    if not versions:
        raise Conflict(
            message="This license covers no CSV, JSON Lines or Parquet file, so it has no table to share.",
            code=SharingErrorCode.NOT_TABULAR,
        )
    for version in versions:
        request_conversion(uow, version)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert requester.user is not None
    row = SharingRecipient(
        grant_id=grant.id,
        token_hash=_hash(token),
        created_by_id=requester.user.id,
        created_at=uow.now(),
        expires_at=grant.valid_until,
    )
    uow.session.add(row)
    uow.session.flush()
    audit.append(
        uow,
        organisation_ids=[grant.licensee_org_id],
        kind="sharing.profile_created",
        subject_type="license",
        subject_id=grant.id,
        actor=audit.actor_of(
            requester.user, api_key_id=requester.api_key_id, oauth_client_id=requester.oauth_client_id
        ),
        data={"profile": row.id},
    )
    document: dict[str, Any] = {"shareCredentialsVersion": 1, "endpoint": endpoint, "bearerToken": token}
    if grant.valid_until is not None:
        document["expirationTime"] = _protocol_time(grant.valid_until)
    return MintedProfile(recipient=row, document=document)


def profiles_of(session: Session, grant: Grant) -> list[SharingRecipient]:
    """The license's profiles, newest first (revoked ones too, marked by ``revoked_at``)."""
    return list(
        session.exec(
            select(SharingRecipient)
            .where(SharingRecipient.grant_id == grant.id)
            .order_by(col(SharingRecipient.id).desc())
        ).all()
    )


def revoke_profile(uow: UnitOfWork, actor: User | None, grant: Grant, profile_id: int) -> SharingRecipient:
    """Revoke one profile of ``grant`` (a licensee member); its token is refused from the next request on.

    Revoking a revoked profile changes nothing. NotFound for a profile of another license.
    """
    require(uow.session, actor, Action.GRANT_SHARE, grant)
    row = uow.session.get(SharingRecipient, profile_id)
    if row is None or row.grant_id != grant.id:
        raise NotFound(message="No such recipient profile under this license.")
    if row.revoked_at is None:
        row.revoked_at = uow.now()
        uow.session.add(row)
        audit.append(
            uow,
            organisation_ids=[grant.licensee_org_id],
            kind="sharing.profile_revoked",
            subject_type="license",
            subject_id=grant.id,
            actor=audit.actor_of(actor),
            data={"profile": row.id},
        )
    return row


def authenticate(uow: UnitOfWork, authorization: str | None, *, ip: str, user_agent: str) -> Access:
    """The license a protocol request may read, from its ``Authorization: Bearer`` header, checked now.

    NotAuthenticated for a missing or unknown token; PermissionDenied for a revoked profile or a minter who may no
    longer download; DownloadRefused (403) when the license is revoked, suspended, expired or not yet valid.
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated(
            message="Send the profile's bearer token in the Authorization header.", code=SharingErrorCode.TOKEN_MISSING
        )
    session = uow.session
    row = session.exec(select(SharingRecipient).where(SharingRecipient.token_hash == _hash(token.strip()))).first()
    if row is None:
        raise NotAuthenticated(
            message="This bearer token is not a recipient profile of this marketplace.",
            code=SharingErrorCode.TOKEN_UNKNOWN,
        )
    if row.revoked_at is not None:
        raise PermissionDenied(
            message="This recipient profile has been revoked.", code=SharingErrorCode.PROFILE_REVOKED
        )
    grant = session.get(Grant, row.grant_id)
    user = session.get(User, row.created_by_id) if row.created_by_id is not None else None
    if grant is None or user is None:
        raise PermissionDenied(
            message="The account this profile was created by no longer exists.", code=SharingErrorCode.PROFILE_REVOKED
        )
    requester = Requester(user=user, ip=ip, user_agent=user_agent, organisation_id=grant.licensee_org_id)
    value = check_download_allowed(uow, grant, requester)
    dataset = session.get(Dataset, grant.dataset_id)
    assert dataset is not None
    return Access(recipient=row, grant=grant, value=value, dataset=dataset, requester=requester)
