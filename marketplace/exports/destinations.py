"""Bucket destinations: an organisation's S3-compatible buckets, with their credentials sealed by the key ring.

A destination is created by an admin of the licensee organisation and used by its members. Its endpoint is typed
by a customer and the server connects to it, so it passes the same server-side request forgery policy as webhook
URLs (:mod:`marketplace.webhooks.targets`): in production only ``https`` endpoints whose host resolves to public
addresses, checked when saved and again before every export. An empty endpoint means Amazon S3 itself. The bucket
is tried with the credentials when the destination is saved (a listing of at most one key), so a typo is reported
then, not at the first export.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

import storage
from marketplace.accounts.models import Organisation, User
from marketplace.crypto import EncryptionKeys, SecretBox
from marketplace.db import UnitOfWork
from marketplace.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from marketplace.exports.errors import ExportErrorCode
from marketplace.exports.models import BucketDestination
from marketplace.permissions import Action, can, require
from marketplace.webhooks.targets import TargetPolicy, UnsafeTarget, check_target, resolve

_BOX_PURPOSE = "bucket-destination"
# Bucket names as S3 allows them (3-63 characters: lower-case letters, digits, dots and hyphens).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z0-9-]{0,64}$")
_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/ -]{0,500}$")


def secret_box(settings: Mapping[str, Any]) -> SecretBox:
    return SecretBox(EncryptionKeys.from_settings(settings), _BOX_PURPOSE)


@dataclass(frozen=True)
class DestinationInput:
    """What a person types to add a destination (the secret is never shown back)."""

    name: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    endpoint_url: str = ""
    region: str = ""
    prefix: str = ""


def _clean(data: DestinationInput, policy: TargetPolicy) -> DestinationInput:
    """The input trimmed, or :class:`ValidationFailed` naming every field that is wrong, in the form's words."""
    problems: list[FieldProblem] = []
    name, bucket = data.name.strip(), data.bucket.strip()
    region, prefix = data.region.strip(), data.prefix.strip().strip("/")
    if not 1 <= len(name) <= 100:
        problems.append(FieldProblem("name", "give the destination a name of at most 100 characters"))
    if not _BUCKET.match(bucket) or ".." in bucket:
        problems.append(FieldProblem("bucket", "a bucket name has 3 to 63 lower-case letters, digits, dots or hyphens"))
    if not _REGION.match(region):
        problems.append(FieldProblem("region", "a region is written like eu-west-1"))
    if not _PREFIX.match(prefix) or "//" in prefix or any(part in (".", "..") for part in prefix.split("/")):
        problems.append(FieldProblem("prefix", "use letters, digits and / - _ . ( ) only, without empty or dot parts"))
    if not 1 <= len(data.access_key_id.strip()) <= 128:
        problems.append(FieldProblem("access_key_id", "enter the access key id (at most 128 characters)"))
    if not 1 <= len(data.secret_access_key.strip()) <= 256:
        problems.append(FieldProblem("secret_access_key", "enter the secret access key"))
    endpoint = data.endpoint_url.strip()
    if endpoint:
        try:
            endpoint = check_target(endpoint, policy, field="endpoint_url").rstrip("/")
        except ValidationFailed as error:
            problems.extend(error.details)
    if problems:
        raise ValidationFailed(message="; ".join(f"{p.field}: {p.message}" for p in problems), details=problems)
    return DestinationInput(
        name=name,
        bucket=bucket,
        access_key_id=data.access_key_id.strip(),
        secret_access_key=data.secret_access_key.strip(),
        endpoint_url=endpoint,
        region=region,
        prefix=prefix,
    )


def open_bucket(settings: Mapping[str, Any], destination: BucketDestination) -> storage.S3Storage:
    """The destination as a :class:`storage.S3Storage`, after checking its endpoint against the policy again (its
    name may resolve elsewhere than when it was saved). Raises :class:`ValidationFailed` (``endpoint_url``)."""
    policy = TargetPolicy.from_settings(dict(settings))
    if destination.endpoint_url and policy.public_only:
        try:
            resolve(destination.endpoint_url, policy)
        except UnsafeTarget as error:
            raise ValidationFailed(
                message=f"endpoint_url: {error}",
                details=[FieldProblem("endpoint_url", str(error))],
                code=ExportErrorCode.ENDPOINT_NOT_ALLOWED,
            ) from error
    return storage.S3Storage(
        destination.bucket,
        region=destination.region or None,
        endpoint_url=destination.endpoint_url or None,
        access_key=destination.access_key_id,
        secret_key=secret_box(settings).decrypt(destination.secret_ciphertext),
    )


def _try(settings: Mapping[str, Any], destination: BucketDestination) -> None:
    """List at most one key under the prefix: the credentials and the bucket work, or ValidationFailed says why."""
    bucket = open_bucket(settings, destination)
    try:
        next(iter(bucket.list(destination.prefix)), None)
    except storage.StorageError as error:
        raise ValidationFailed(
            message=f"bucket: the bucket could not be reached with these credentials ({error})",
            details=[FieldProblem("bucket", f"the bucket could not be reached with these credentials ({error})")],
            code=ExportErrorCode.DESTINATION_UNREACHABLE,
        ) from error


def create_destination(uow: UnitOfWork, user: User, org: Organisation, data: DestinationInput) -> BucketDestination:
    """Add a destination to ``org`` (its admins only), after trying the bucket with the credentials."""
    require(uow.session, user, Action.EXPORT_DESTINATION_MANAGE, org)
    clean = _clean(data, TargetPolicy.from_settings(dict(uow.settings)))
    taken = uow.session.exec(
        select(BucketDestination.id).where(
            BucketDestination.organisation_id == org.id, BucketDestination.name == clean.name
        )
    ).first()
    if taken is not None:
        raise ValidationFailed.for_field("name", f"{org.name} already has a destination called {clean.name!r}")
    destination = BucketDestination(
        organisation_id=org.id,  # type: ignore[arg-type]
        name=clean.name,
        endpoint_url=clean.endpoint_url,
        region=clean.region,
        bucket=clean.bucket,
        prefix=clean.prefix,
        access_key_id=clean.access_key_id,
        secret_ciphertext=secret_box(uow.settings).encrypt(clean.secret_access_key),
        created_by_id=user.id,
        created_at=uow.now(),
    )
    _try(uow.settings, destination)
    uow.session.add(destination)
    uow.session.flush()
    return destination


def list_destinations(session: Session, user: User, org: Organisation) -> list[BucketDestination]:
    """``org``'s destinations, for its members (others get :class:`PermissionDenied`)."""
    require(session, user, Action.ORG_ACT_FOR, org)
    statement = select(BucketDestination).where(BucketDestination.organisation_id == org.id)
    return list(session.exec(statement.order_by(col(BucketDestination.name))))


def get_destination(session: Session, user: User, destination_id: int) -> BucketDestination:
    """A destination its organisation's members may use; anyone else gets 404 (its existence is not told)."""
    destination = session.get(BucketDestination, destination_id)
    if destination is None or not can(session, user, Action.EXPORT_DESTINATION_USE, destination):
        raise NotFound(message="No such destination.")
    return destination


def delete_destination(uow: UnitOfWork, user: User, destination_id: int) -> Organisation:
    """Remove a destination (its organisation's admins) and return its organisation; exports made with it keep
    where they went."""
    destination = get_destination(uow.session, user, destination_id)
    org = uow.session.get(Organisation, destination.organisation_id)
    if org is None or not can(uow.session, user, Action.EXPORT_DESTINATION_MANAGE, org):
        raise PermissionDenied(message="Only the organisation's admins can remove its destinations.")
    uow.session.delete(destination)
    uow.session.flush()
    return org
