"""Data-use agreements: versioned Markdown texts per provider, platform templates to start from, and signatures
of one exact version (typed full name, time, address, user agent, the text's SHA-256)."""

from __future__ import annotations

import hashlib

from sqlmodel import Session, col, select

from marketplace.access import audit
from marketplace.access.errors import AccessErrorCode
from marketplace.access.gate import current_version
from marketplace.access.models import AccessRequest, Agreement, AgreementVersion, Approval, Signature
from marketplace.access.states import ApprovalState, ResignPolicy
from marketplace.accounts.models import Organisation, User
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.permissions import Action, require

CREDENTIALED_RESEARCH = """\
# Credentialed Health Data Use Agreement

By signing, I agree to the following for the dataset I was granted access to ("the data"):

1. **No re-identification.** I will not attempt to identify any individual or institution in the data, nor link
   it with other data to do so.
2. **No sharing of access.** I will not share the data, or my access to it, with anyone. Every person who uses
   the data must sign this agreement and be approved themselves.
3. **Keep the data secure.** I will store the data only on systems protected by access control and encryption
   appropriate to sensitive health information, and delete it when my access ends.
4. **Report identifying information.** If I find information that could identify a person, I will stop using
   that part of the data and report the location of the information to the provider within 5 working days.
5. **Lawful research use only.** I will use the data only for lawful scientific research, in line with the
   approval I was given, and not for commercial profiling, insurance, employment or law-enforcement decisions.
6. **Credit.** I will cite the dataset in any publication that uses it.

A breach of this agreement ends my access at once and may be reported to my institution.
"""

RESEARCH_ONLY = """\
# Research-Only Data Use Agreement

1. I will use the data only for non-commercial research and teaching, as described in my access request.
2. I will not use the data, or models trained on it, in a commercial product or service.
3. I will not redistribute the data or give others access to it; colleagues must request access themselves.
4. I will not attempt to identify any person in the data.
5. I will keep the data on secured systems and delete it when my access ends or on the provider's request.
6. I will cite the dataset in publications that use it.
"""

EVALUATION_ONLY = """\
# Evaluation-Only Data Use Agreement

1. I will use the data only to evaluate or benchmark models or systems, not to train or fine-tune them.
2. I will not redistribute the data, publish substantial extracts of it, or give others access to it.
3. I may publish aggregate evaluation results, naming the dataset and its version.
4. I will not attempt to identify any person in the data.
5. I will delete the data when my access ends, and confirm the deletion on request.
"""

#: The platform's starting points: (title, Markdown text) by key.
TEMPLATES: dict[str, tuple[str, str]] = {
    "credentialed-research": ("Credentialed Health Data Use Agreement", CREDENTIALED_RESEARCH),
    "research-only": ("Research-Only Data Use Agreement", RESEARCH_ONLY),
    "evaluation-only": ("Evaluation-Only Data Use Agreement", EVALUATION_ONLY),
}

MAX_BODY = 100_000


def text_sha256(body: str) -> str:
    """The SHA-256 (hex) of an agreement text's UTF-8 bytes: what a signature binds."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationFailed.for_field("Agreement text", "is required")
    if len(body) > MAX_BODY:
        raise ValidationFailed.for_field("Agreement text", f"must be at most {MAX_BODY} characters")
    return body + "\n"


def create_agreement(
    uow: UnitOfWork,
    actor: User,
    provider: Organisation,
    *,
    title: str = "",
    body: str = "",
    template: str | None = None,
    resign_policy: ResignPolicy = ResignPolicy.IMMEDIATELY,
    term_days: int | None = None,
) -> Agreement:
    """Create a provider's agreement with its version 1, from a platform ``template`` key or a text of its own;
    admins of ``provider`` only."""
    require(uow.session, actor, Action.ACCESS_MANAGE, provider)
    if template is not None:
        if template not in TEMPLATES:
            raise ValidationFailed.for_field("Template", f"choose one of {', '.join(TEMPLATES)}")
        default_title, default_body = TEMPLATES[template]
        title, body = title or default_title, body or default_body
    if not title.strip() or len(title) > 200:
        raise ValidationFailed.for_field("Title", "is required (at most 200 characters)")
    agreement = Agreement(
        organisation_id=provider.id,  # type: ignore[arg-type]
        title=title.strip(),
        resign_policy=resign_policy,
        created_by_id=actor.id,
        created_at=uow.now(),
    )
    uow.session.add(agreement)
    uow.session.flush()
    _add_version(uow, actor, agreement, body, term_days, version=1)
    return agreement


def _add_version(
    uow: UnitOfWork, actor: User, agreement: Agreement, body: str, term_days: int | None, *, version: int
) -> AgreementVersion:
    if term_days is not None and not 1 <= term_days <= 36500:
        raise ValidationFailed.for_field("Term (days)", "must be between 1 and 36500")
    text = _clean_body(body)
    row = AgreementVersion(
        agreement_id=agreement.id,  # type: ignore[arg-type]
        version=version,
        body=text,
        sha256=text_sha256(text),
        term_days=term_days,
        created_by_id=actor.id,
        created_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    audit.record(
        uow, actor=actor, subject="agreement", subject_id=agreement.id or 0, action=f"version_{version}",
        reason=row.sha256, provider_org_id=agreement.organisation_id,
    )  # fmt: skip
    return row


def publish_version(
    uow: UnitOfWork,
    actor: User,
    agreement: Agreement,
    *,
    body: str,
    term_days: int | None = None,
    resign_policy: ResignPolicy | None = None,
) -> AgreementVersion:
    """Publish a new version of ``agreement``. Earlier versions stay as they were (signatures point at them); with
    ``resign_policy`` ``immediately`` everyone who signed an older one is suspended until they sign this one,
    with ``at_renewal`` the old signature holds until their approval ends."""
    provider = uow.session.get(Organisation, agreement.organisation_id)
    require(uow.session, actor, Action.ACCESS_MANAGE, provider)
    # Lock the agreement so two publishers cannot both write "the next" version number.
    uow.session.exec(select(Agreement.id).where(Agreement.id == agreement.id).with_for_update())
    latest = current_version(uow.session, agreement.id or 0)
    if latest is not None and text_sha256(_clean_body(body)) == latest.sha256:
        raise Conflict(
            message="This text is the same as the current version.", code=AccessErrorCode.AGREEMENT_UNCHANGED
        )
    if resign_policy is not None:
        agreement.resign_policy = resign_policy
        uow.session.add(agreement)
    return _add_version(uow, actor, agreement, body, term_days, version=(latest.version + 1) if latest else 1)


def get_agreement(session: Session, agreement_id: int) -> Agreement:
    """The agreement ``agreement_id`` (anyone may read an agreement's text before signing it)."""
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(message="No such agreement.")
    return agreement


def agreements_of(session: Session, provider: Organisation) -> list[Agreement]:
    """A provider's agreements, oldest first."""
    return list(
        session.exec(
            select(Agreement).where(Agreement.organisation_id == provider.id).order_by(col(Agreement.id))
        ).all()
    )


def versions_of(session: Session, agreement: Agreement) -> list[AgreementVersion]:
    """Every version of an agreement, oldest first."""
    return list(
        session.exec(
            select(AgreementVersion)
            .where(AgreementVersion.agreement_id == agreement.id)
            .order_by(col(AgreementVersion.version))
        ).all()
    )


def sign(
    uow: UnitOfWork,
    user: User,
    version: AgreementVersion,
    *,
    full_name: str,
    shown_sha256: str,
    ip_address: str,
    user_agent: str,
) -> Signature:
    """Record ``user``'s signature of exactly ``version``: the typed full name, the time (the unit of work's clock),
    the address and user agent, and the text's SHA-256, which must equal ``shown_sha256`` (the hash of the text
    the person was shown), or nothing is signed.

    Approvals of the person that point at an older version of the same agreement move to this signature: signing
    the new version lifts the suspension at once."""
    name = " ".join((full_name or "").split())
    if len(name) < 2 or len(name) > 200:
        raise ValidationFailed.for_field("Full name", "type your full name to sign")
    if shown_sha256 != version.sha256:
        raise ValidationFailed.for_field(
            "Agreement", "the text changed since it was shown to you: read the current version and sign again"
        )
    signature = Signature(
        agreement_version_id=version.id,  # type: ignore[arg-type]
        user_id=user.id,  # type: ignore[arg-type]
        full_name=name,
        signed_at=uow.now(),
        ip_address=(ip_address or "")[:64],
        user_agent=(user_agent or "")[:512],
        sha256=version.sha256,
    )
    uow.session.add(signature)
    uow.session.flush()
    older = select(AgreementVersion.id).where(AgreementVersion.agreement_id == version.agreement_id)
    old_signatures = select(Signature.id).where(
        Signature.user_id == user.id, col(Signature.agreement_version_id).in_(older), Signature.id != signature.id
    )
    for approval in uow.session.exec(
        select(Approval).where(Approval.state == ApprovalState.ACTIVE, col(Approval.signature_id).in_(old_signatures))
    ).all():
        approval.signature_id = signature.id
        uow.session.add(approval)
    audit.record(
        uow, actor=user, subject="agreement", subject_id=version.agreement_id, action="signed",
        reason=f"version {version.version}, sha256 {version.sha256}", person_id=user.id,
    )  # fmt: skip
    return signature


def request_version(session: Session, request: AccessRequest) -> AgreementVersion | None:
    """The agreement version a request must be signed against (None when the dataset has no agreement)."""
    if request.agreement_version_id is None:
        return None
    return session.get(AgreementVersion, request.agreement_version_id)
