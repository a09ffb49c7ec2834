"""The licenses of a custom-data contract: a review grant per delivery, and the buyer's license of accepted work.

* A **review grant** lets the buyer's members download one delivered version, and only it, until the review
  deadline (a time-boxed grant of that version, through the licensing engine; downloads go through the usual
  entitlement check). It carries no certificate (it is no license to use the data) and is revoked as soon as the
  milestone is decided.
* The **contract license** is one grant for the buyer organisation that covers exactly the versions it accepted
  (never ``all_versions``: a delivered but unaccepted version stays out). It is issued at the first acceptance and
  extended at each later one; its signed certificate carries the ``contract`` claim with each accepted version's
  label and manifest digest, and verifies like any other certificate.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import licensing
from marketplace.accounts.models import Organisation
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.custom.models import Contract, Milestone
from marketplace.custom.states import MilestoneState
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant, Offer
from marketplace.licenses.services import engine_offer, grant_value, issuer, keyring, org_ref

#: Milestone states whose delivered version the buyer keeps (the admin's split or pay decision included).
ACCEPTED_STATES = frozenset({MilestoneState.ACCEPTED, MilestoneState.AUTO_ACCEPTED, MilestoneState.SETTLED_BY_ADMIN})


def _parties(uow: UnitOfWork, contract: Contract) -> tuple[Offer, Dataset, Organisation, Organisation]:
    session = uow.session
    offer = session.get(Offer, contract.offer_id)
    dataset = session.get(Dataset, contract.dataset_id)
    buyer = session.get(Organisation, contract.buyer_org_id)
    provider = session.get(Organisation, contract.provider_org_id)
    assert offer is not None and dataset is not None and buyer is not None and provider is not None
    return offer, dataset, buyer, provider


def _engine_grant(
    uow: UnitOfWork, contract: Contract, labels: list[str], digest: str, *, price: int, reference: str | None
) -> licensing.Grant:
    offer, dataset, buyer, provider = _parties(uow, contract)
    try:
        value = licensing.issue_grant(
            engine_offer(offer, buyer if offer.audience_org_id else None),
            licensor=org_ref(provider),
            licensee=org_ref(buyer),
            dataset_id=str(dataset.id),
            dataset_slug=dataset.slug,
            versions=labels,
            manifest_digest=digest,
            issued_at=uow.now(),
            price_paid=licensing.Money(price, offer.currency),
            payment_reference=reference,
            status=licensing.GrantStatus.ACTIVE,
            actor=f"contract:{contract.id}",
        )
    except licensing.LicensingError as error:
        raise Conflict(message=f"The contract's license cannot be issued: {error.message}") from error
    # Exactly the versions named, never every version published during the term.
    return dataclasses.replace(value, all_versions=False)


def _store(uow: UnitOfWork, contract: Contract, value: licensing.Grant, certificate: str | None) -> Grant:
    ring = keyring(uow)
    row = Grant(
        id=value.id,
        offer_id=contract.offer_id,
        dataset_id=contract.dataset_id,
        licensor_org_id=contract.provider_org_id,
        licensee_org_id=contract.buyer_org_id,
        license_id=value.license_id,
        versions=list(value.versions),
        all_versions=False,
        manifest_digest=value.manifest_digest,
        terms_hash=value.terms_hash,
        price_amount=value.price_paid.amount,
        currency=value.price_paid.currency,
        payment_reference=value.payment_reference,
        status=value.status,
        issued_at=value.issued_at,
        valid_from=value.valid_from,
        valid_until=value.valid_until,
        certificate=certificate,
        certificate_kid=ring.signer_kid if certificate else None,
        record=value.to_dict(),
        updated_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    for event in value.events:
        uow.session.add(licenses._event_row(row.id, event))
    return row


def issue_review_grant(uow: UnitOfWork, contract: Contract, version: DatasetVersion, deadline: datetime) -> Grant:
    """A grant of ``version`` alone to the buyer organisation, valid until ``deadline``, for reviewing it."""
    assert version.manifest_digest is not None
    value = _engine_grant(uow, contract, [version.version], version.manifest_digest, price=0, reference=None)
    value = dataclasses.replace(value, valid_until=deadline)
    return _store(uow, contract, value, None)


def end_review_grant(uow: UnitOfWork, grant_id: str | None, reason: str) -> None:
    """Revoke a review grant that is still in force (the milestone was decided)."""
    grant = uow.session.get(Grant, grant_id) if grant_id else None
    if grant is None or grant.status is not licensing.GrantStatus.ACTIVE:
        return
    licenses.transition_grant(uow, grant, licensing.GrantAction.REVOKE, reason=reason, actor="contract")


def accepted_deliveries(uow: UnitOfWork, milestones: list[Milestone]) -> list[tuple[str, str]]:
    """``(version label, manifest digest)`` of every accepted milestone's delivered version, by position."""
    result: list[tuple[str, str]] = []
    for milestone in sorted(milestones, key=lambda m: m.position):
        if milestone.state not in ACCEPTED_STATES or milestone.delivered_version_id is None:
            continue
        version = uow.session.get(DatasetVersion, milestone.delivered_version_id)
        assert version is not None and version.manifest_digest is not None
        result.append((version.version, version.manifest_digest))
    return result


def license_accepted_work(uow: UnitOfWork, contract: Contract, milestones: list[Milestone]) -> Grant | None:
    """Issue or extend the buyer's contract license to every accepted version, and re-sign its certificate with
    the ``contract`` claim. Returns the grant (None while nothing is accepted)."""
    deliveries = accepted_deliveries(uow, milestones)
    if not deliveries:
        return None
    labels = [label for label, _ in deliveries]
    latest_digest = deliveries[-1][1]
    existing = uow.session.get(Grant, contract.grant_id) if contract.grant_id else None
    if existing is None:
        value = _engine_grant(
            uow, contract, labels, latest_digest, price=contract.price_amount, reference=contract.payment_reference
        )
    else:
        value = dataclasses.replace(grant_value(existing), versions=tuple(labels), manifest_digest=latest_digest)
    ring = keyring(uow)
    claim = licensing.ContractClaim(str(contract.id), tuple(deliveries))
    certificate = licensing.issue_certificate(value, ring, issuer(uow.settings), issued_at=uow.now(), contract=claim)
    if existing is None:
        grant = _store(uow, contract, value, certificate)
        contract.grant_id = grant.id
        uow.session.add(contract)
        return grant
    existing.versions = list(value.versions)
    existing.manifest_digest = value.manifest_digest
    existing.record = value.to_dict()
    existing.certificate = certificate
    existing.certificate_kid = ring.signer_kid
    existing.updated_at = uow.now()
    uow.session.add(existing)
    return existing
