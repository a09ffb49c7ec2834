"""Public verification of licenses: what anyone may learn from a license id, key usage for rotation, and the
engine's use check on a stored grant."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

import licensing
from licensing import KeyRing
from marketplace.accounts.models import Organisation
from marketplace.catalog.models import Dataset
from marketplace.licenses.models import Grant
from marketplace.licenses.services import grant_value
from marketplace.withdrawals import lookup as withdrawals


@dataclass(frozen=True)
class PublicVerification:
    """What anyone may learn about a license from its id: genuine? in force? for what, for whom?"""

    grant_id: str
    valid: bool
    status: str
    reason: str
    message: str
    dataset_slug: str | None
    dataset_title: str | None
    versions: list[str]
    licensee: str | None
    licensor: str | None
    license_id: str | None
    terms_hash: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    certificate_kid: str | None
    agreement: dict[str, str] | None = None
    # Withdrawal notices about the versions this license covers (which version, why, the deadline, the patch).
    withdrawals: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "license_id": self.grant_id,
            "valid": self.valid,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "dataset": {"slug": self.dataset_slug, "title": self.dataset_title} if self.dataset_slug else None,
            "versions": self.versions,
            "licensee_organisation": self.licensee,
            "licensor_organisation": self.licensor,
            "license": self.license_id,
            "terms_hash": self.terms_hash,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "certificate_kid": self.certificate_kid,
            "agreement": self.agreement,
            "withdrawals": self.withdrawals,
        }


def verify_grant(session: Session, ring: KeyRing, grant_id: str, now: datetime) -> PublicVerification:
    """Check a license online: the stored certificate against the public keys, then its current status.

    Unknown ids give ``valid=False`` with reason ``unknown_license`` rather than an error, so the endpoint
    answers the same way for every id.
    """
    grant = session.get(Grant, grant_id) if 0 < len(grant_id) <= 26 else None
    if grant is None:
        return PublicVerification(
            grant_id, False, "unknown", "unknown_license", "No license with this id was issued here.",
            None, None, [], None, None, None, None, None, None, None,
        )  # fmt: skip
    dataset = session.get(Dataset, grant.dataset_id)
    licensee = session.get(Organisation, grant.licensee_org_id)
    licensor = session.get(Organisation, grant.licensor_org_id)
    value = grant_value(grant)
    status = value.status_at(now).value
    result = licensing.verify_certificate(grant.certificate, ring.public_jwks(now), now) if grant.certificate else None
    if result is None:
        valid, reason, message = False, "no_certificate", "This license has no certificate (it is not active)."
    elif not result.valid:
        valid, reason, message = False, result.reason.value if result.reason else "invalid", result.message
    elif status != licensing.GrantStatus.ACTIVE.value:
        valid, reason, message = False, status, f"The certificate is genuine, but the license is {status}."
    else:
        valid, reason, message = True, "valid", "The certificate is genuine and the license is in force."
    return PublicVerification(
        grant_id=grant.id,
        valid=valid,
        status=status,
        reason=reason,
        message=message,
        dataset_slug=dataset.slug if dataset else None,
        dataset_title=dataset.title if dataset else None,
        versions=list(grant.versions),
        licensee=licensee.name if licensee else None,
        licensor=licensor.name if licensor else None,
        license_id=grant.license_id,
        terms_hash=grant.terms_hash,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        certificate_kid=grant.certificate_kid,
        agreement=value.agreement.to_dict() if value.agreement else None,
        withdrawals=[
            withdrawals.notice_summary(session, notice, withdrawal)
            for notice, withdrawal in withdrawals.notices_for_grant(session, grant.id, grant.licensee_org_id)
        ],
    )


def record_key_usage(session: Session, ring: KeyRing, kid: str) -> None:
    """Tell ``ring`` what key ``kid`` signed, from the stored grants, so rotation keeps it long enough.

    A key that signed a perpetual license is kept for verification for ever; otherwise until the last
    certificate it signed expires.
    """
    rows = session.exec(select(Grant.valid_until).where(Grant.certificate_kid == kid)).all()
    for valid_until in rows:
        ring.record_signature(kid, valid_until)


def check_intended_use(grant: Grant, use: licensing.IntendedUse) -> licensing.Decision:
    """The engine's answer to "may we do this with this license?", for the grant as it stands."""
    return licensing.check_use(grant_value(grant), use)
