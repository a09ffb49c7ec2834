"""Training credentials: a person uploads proof of training (file in object storage), a platform admin or a trusted
reviewer verifies or refuses it once; only the person and their verifiers may read the file."""

from __future__ import annotations

import hashlib
import io
from datetime import date

from sqlmodel import Session, col, select

from marketplace.access import audit
from marketplace.access.models import Credential
from marketplace.access.states import CredentialState, check_move
from marketplace.accounts.models import User
from marketplace.db import UnitOfWork
from marketplace.delivery.errors import storage_errors
from marketplace.delivery.stores import regional_storage
from marketplace.errors import NotFound, ValidationFailed
from marketplace.permissions import Action, can, require

MAX_BYTES = 10 * 1024 * 1024
MEDIA_TYPES = {"application/pdf", "image/png", "image/jpeg"}


def upload_credential(
    uow: UnitOfWork,
    user: User,
    *,
    content: bytes,
    filename: str,
    media_type: str,
    issuer: str,
    course: str,
    completed_on: date,
    expires_on: date | None,
) -> Credential:
    """Store a proof of training (PDF, PNG or JPEG up to 10 MB) for ``user``, to be verified."""
    if not content or len(content) > MAX_BYTES:
        raise ValidationFailed.for_field("Certificate file", "upload a file of at most 10 MB")
    if media_type not in MEDIA_TYPES:
        raise ValidationFailed.for_field("Certificate file", "must be a PDF, PNG or JPEG")
    for label, value, limit in (("Issuer", issuer, 200), ("Course", course, 300)):
        if not value.strip() or len(value) > limit:
            raise ValidationFailed.for_field(label, f"is required (at most {limit} characters)")
    today = uow.now().date()
    if completed_on > today:
        raise ValidationFailed.for_field("Completion date", "cannot be in the future")
    if expires_on is not None and expires_on <= completed_on:
        raise ValidationFailed.for_field("Expiry date", "must be after the completion date")
    digest = hashlib.sha256(content).hexdigest()
    key = f"credentials/{user.id}/{digest}"
    with storage_errors("Certificate file"):
        regional_storage(uow).for_region(None).put(key, io.BytesIO(content), content_type=media_type)
    credential = Credential(
        user_id=user.id,  # type: ignore[arg-type]
        issuer=issuer.strip(),
        course=course.strip(),
        completed_on=completed_on,
        expires_on=expires_on,
        filename=(filename or "certificate").rsplit("/", 1)[-1][:255],
        media_type=media_type,
        size_bytes=len(content),
        sha256=digest,
        storage_key=key,
        submitted_at=uow.now(),
    )
    uow.session.add(credential)
    uow.session.flush()
    _log(uow, user, credential, "submitted", None, CredentialState.SUBMITTED, "")
    return credential


def _log(
    uow: UnitOfWork,
    actor: User | None,
    credential: Credential,
    action: str,
    before: CredentialState | None,
    after: CredentialState,
    reason: str,
) -> None:
    audit.record(
        uow, actor=actor, subject="credential", subject_id=credential.id or 0, action=action, from_state=before,
        to_state=after, reason=reason, person_id=credential.user_id,
    )  # fmt: skip


def get_credential(session: Session, user: User | None, credential_id: int) -> Credential:
    """A credential its owner or a verifier may see; 404 for everyone else."""
    credential = session.get(Credential, credential_id)
    if credential is None or not can(session, user, Action.CREDENTIAL_VIEW, credential):
        raise NotFound(message="No such credential.")
    return credential


def credential_file(uow: UnitOfWork, user: User | None, credential_id: int) -> tuple[Credential, bytes]:
    """The uploaded file, for the person and their verifiers only."""
    credential = get_credential(uow.session, user, credential_id)
    with storage_errors("Certificate file"):
        data = regional_storage(uow).for_region(None).read_bytes(credential.storage_key)
    return credential, data


def decide_credential(
    uow: UnitOfWork, actor: User, credential: Credential, *, verified: bool, reason: str = ""
) -> Credential:
    """Verify or refuse a submitted credential, once (platform admins, or reviewers a provider trusts with
    credentials of people who asked it for access); a refusal needs a reason the person sees."""
    require(uow.session, actor, Action.CREDENTIAL_VERIFY, credential)
    target = CredentialState.VERIFIED if verified else CredentialState.REFUSED
    check_move(credential.state, target)
    if not verified and not reason.strip():
        raise ValidationFailed.for_field("Reason", "say why the credential is refused")
    if verified and credential.expires_on is not None and credential.expires_on <= uow.now().date():
        raise ValidationFailed.for_field("Expiry date", "this credential has already expired")
    before = credential.state
    credential.state, credential.decided_by_id, credential.decided_at = target, actor.id, uow.now()
    credential.decision_reason = reason.strip()[:1000]
    uow.session.add(credential)
    _log(uow, actor, credential, target.value, before, target, credential.decision_reason)
    return credential


def credentials_of(session: Session, user: User) -> list[Credential]:
    """The person's own credentials, newest first."""
    return list(
        session.exec(
            select(Credential).where(Credential.user_id == user.id).order_by(col(Credential.submitted_at).desc())
        ).all()
    )


def pending_credentials(session: Session, actor: User, *, limit: int = 100) -> list[Credential]:
    """Submitted credentials ``actor`` may verify, oldest first."""
    rows = session.exec(
        select(Credential)
        .where(Credential.state == CredentialState.SUBMITTED)
        .order_by(col(Credential.submitted_at))
        .limit(1000)
    ).all()
    return [c for c in rows if can(session, actor, Action.CREDENTIAL_VERIFY, c)][:limit]
