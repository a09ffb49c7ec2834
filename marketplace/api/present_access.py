"""Governed access as the plain values the API's access schemas dump: forms, requests with their history,
approvals with their seats, agreements, training credentials."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

import licensing
from marketplace.access import agreements, holders
from marketplace.access import requests as access_requests
from marketplace.access.gate import check_access, current_version, policy_of
from marketplace.access.models import (
    AccessEvent,
    AccessRequest,
    Agreement,
    AgreementVersion,
    Approval,
    Credential,
    Signature,
)
from marketplace.access.states import AccessMode, ApprovalState, HolderKind, ResignPolicy
from marketplace.accounts.models import Organisation, User
from marketplace.api.present import api_url, org_ref
from marketplace.catalog.models import Dataset

__all__ = ["access_form", "agreement", "approval", "credential", "request", "signature"]


def _email(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    return user.email if user is not None else None


def _org(session: Session, org_id: int | None) -> dict[str, str]:
    return org_ref(session.get(Organisation, org_id) if org_id is not None else None)


def _slug(session: Session, dataset_id: int) -> str | None:
    dataset = session.get(Dataset, dataset_id)
    return dataset.slug if dataset is not None else None


def agreement_text(session: Session, version: AgreementVersion | None) -> dict[str, Any] | None:
    """One exact agreement version as a requester reads and signs it."""
    if version is None:
        return None
    parent = session.get(Agreement, version.agreement_id)
    return {
        "agreement_id": version.agreement_id,
        "title": parent.title if parent else "",
        "version_id": version.id,
        "version": version.version,
        "sha256": version.sha256,
        "term_days": version.term_days,
        "resign_policy": (parent.resign_policy if parent else ResignPolicy.IMMEDIATELY).value,
        "body": version.body,
    }


def access_form(session: Session, dataset: Dataset) -> dict[str, Any]:
    """What a requester needs to ask for access: the mode, the fixed and extra fields, the agreement to sign."""
    policy = policy_of(session, dataset)
    version = current_version(session, policy.agreement_id) if policy and policy.agreement_id else None
    return {
        "dataset": dataset.slug,
        "mode": dataset.access_mode.value,
        "holder": (policy.holder if policy else HolderKind.PERSON).value,
        "samples_public": dataset.access_mode is AccessMode.OPEN or policy is None or policy.samples_public,
        "default_expiry_days": policy.default_expiry_days if policy else None,
        "intended_uses": [use.value for use in licensing.Use],
        "form_fields": list(policy.form_fields) if policy else [],
        "agreement": agreement_text(session, version),
        "credential_required": dataset.access_mode is AccessMode.CREDENTIALED,
    }


def signature(session: Session, row: Signature | None) -> dict[str, Any] | None:
    if row is None:
        return None
    version = session.get(AgreementVersion, row.agreement_version_id)
    return {
        "id": row.id,
        "agreement_id": version.agreement_id if version else 0,
        "version": version.version if version else 0,
        "full_name": row.full_name,
        "signed_at": row.signed_at,
        "ip_address": row.ip_address,
        "user_agent": row.user_agent,
        "sha256": row.sha256,
    }


def event(session: Session, row: AccessEvent) -> dict[str, Any]:
    return {
        "at": row.at,
        "action": row.action,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "reason": row.reason,
        "by": _email(session, row.actor_id),
    }


def request(session: Session, row: AccessRequest) -> dict[str, Any]:
    """A request with its agreement version, signature, the reviewer's reason and its history."""
    approval_id = session.exec(select(Approval.id).where(Approval.request_id == row.id)).first()
    return {
        "id": row.id,
        "dataset": _slug(session, row.dataset_id),
        "provider": _org(session, row.provider_org_id),
        "organisation": _org(session, row.organisation_id),
        "requester": _email(session, row.requester_id) or "",
        "state": row.state.value,
        "full_name": row.full_name,
        "intended_uses": list(row.intended_uses),
        "intended_use_text": row.intended_use_text,
        "country": row.country,
        "answers": dict(row.answers),
        "agreement": agreement_text(session, agreements.request_version(session, row)),
        "signature": signature(session, session.get(Signature, row.signature_id) if row.signature_id else None),
        "reason": row.decision_reason,
        "submitted_at": row.submitted_at,
        "decided_at": row.decided_at,
        "approval_id": approval_id,
        "history": [event(session, e) for e in access_requests.decisions_for(session, row)],
        "links": {"self": api_url(f"/access-requests/{row.id}")},
    }


def approval(session: Session, row: Approval, now: Any) -> dict[str, Any]:
    """An approval with whether it is in force now (for its person) and its named seats."""
    dataset = session.get(Dataset, row.dataset_id)
    person = session.get(User, row.user_id) if row.user_id is not None else None
    problem = None
    if dataset is not None:
        problem = check_access(session, person, dataset, row.organisation_id, now).problem if person else None
    seats = holders.seats_of(session, row) if row.holder is HolderKind.ORGANISATION else []
    return {
        "id": row.id,
        "dataset": dataset.slug if dataset else None,
        "provider": _org(session, row.provider_org_id),
        "organisation": _org(session, row.organisation_id),
        "holder": row.holder.value,
        "person": person.email if person else None,
        "request_id": row.request_id,
        "state": row.state.value,
        "in_force": row.state is ApprovalState.ACTIVE and problem is None,
        "problem": problem,
        "granted_at": row.granted_at,
        "expires_at": row.expires_at,
        "ended_at": row.ended_at,
        "reason": row.reason,
        "seat_limit": holders.seat_limit(session, row) if row.holder is HolderKind.ORGANISATION else None,
        "seats": [
            {"user_id": s.user_id, "email": _email(session, s.user_id) or "", "added_at": s.added_at} for s in seats
        ],
    }


def agreement(session: Session, row: Agreement) -> dict[str, Any]:
    return {
        "id": row.id,
        "organisation": _org(session, row.organisation_id),
        "title": row.title,
        "resign_policy": row.resign_policy.value,
        "created_at": row.created_at,
        "versions": [
            {
                "id": v.id,
                "version": v.version,
                "sha256": v.sha256,
                "term_days": v.term_days,
                "created_at": v.created_at,
                "body": v.body,
            }
            for v in agreements.versions_of(session, row)
        ],
    }


def credential(session: Session, row: Credential, *, for_verifier: bool = False) -> dict[str, Any]:
    base = "/provider/credentials" if for_verifier else "/credentials"
    return {
        "id": row.id,
        "person": _email(session, row.user_id) or "",
        "issuer": row.issuer,
        "course": row.course,
        "completed_on": row.completed_on,
        "expires_on": row.expires_on,
        "filename": row.filename,
        "media_type": row.media_type,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
        "state": row.state.value,
        "reason": row.decision_reason,
        "submitted_at": row.submitted_at,
        "decided_at": row.decided_at,
        "links": {"self": api_url(f"{base}/{row.id}"), "file": api_url(f"{base}/{row.id}/file")},
    }
