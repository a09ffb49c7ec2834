"""License services: offers on listings, issuing and signing grants, status changes (public verification is in
:mod:`marketplace.licenses.verification`).

The rules of licenses themselves live in the licensing engine; these functions add who may do what, and
persistence. They take the request's unit of work and never commit.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

import licensing
from licensing import KeyRing, LicensingError
from marketplace import audit
from marketplace.access import gate as access_gate
from marketplace.accounts.models import Organisation, OrgKind, User
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, VersionStatus
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from marketplace.events import emit
from marketplace.licenses.errors import LicenseErrorCode
from marketplace.licenses.models import Grant, GrantEvent, Offer, TermsAcceptance
from marketplace.permissions import Action, can, require, role_in

# --- helpers ------------------------------------------------------------------------------------------------------


def _licensing_failure(error: LicensingError) -> ValidationFailed:
    """Turn an engine error into a validation error naming the same fields."""
    fields = error.fields or ("license",)
    return ValidationFailed(
        message=error.message, details=[FieldProblem(field=name, message=error.message) for name in fields]
    )


def org_ref(org: Organisation) -> str:
    """How an organisation is named inside certificates: stable, human-readable."""
    return f"org:{org.slug}"


def keyring(uow: UnitOfWork) -> KeyRing:
    ring = uow.context.keyring
    if ring is None:
        raise RuntimeError("the application has no license-signing key ring")
    return ring


def issuer(settings: dict[str, Any]) -> str:
    return str(settings.get("LICENSE_ISSUER") or settings["BASE_URL"])


def engine_offer(offer: Offer, audience_org: Organisation | None) -> licensing.Offer:
    """The engine's view of a stored offer (re-validated on every use)."""
    template = licensing.get_template(offer.license_id)
    return licensing.Offer(
        template=template,
        price=licensing.Money(offer.price_amount, offer.currency),
        overrides=offer.overrides,
        versions=(
            licensing.VersionCoverage.single(offer.version_label)
            if offer.version_label
            else licensing.VersionCoverage.all_during_term()
        ),
        audience=(licensing.Audience.private(org_ref(audience_org)) if audience_org else licensing.Audience.public()),
        offer_id=str(offer.id) if offer.id is not None else None,
    )


def offer_terms(offer: Offer) -> licensing.Terms:
    return licensing.Terms.from_dict(offer.terms)


def offer_price(offer: Offer) -> licensing.Money:
    return licensing.Money(offer.price_amount, offer.currency)


def templates_for_providers() -> list[licensing.LicenseTemplate]:
    return list(licensing.list_templates())


# --- offers -------------------------------------------------------------------------------------------------------


def create_offer(
    uow: UnitOfWork,
    actor: User,
    dataset: Dataset,
    *,
    title: str,
    license_id: str,
    price_amount: int,
    currency: str,
    version_label: str | None = None,
    audience_org_slug: str | None = None,
    expires_at: datetime | None = None,
    overrides: dict[str, Any] | None = None,
) -> Offer:
    """Attach a new offer to ``dataset``; only admins of the owning provider organisation may.

    The engine validates the whole offer (open licenses are free and unchangeable, exclusivity needs a named
    buyer, contradictions are refused naming the field) before anything is stored. A private offer (one named
    buyer organisation) usually says when it expires; after ``expires_at`` nobody can buy it.
    """
    session = uow.session
    owner = session.get(Organisation, dataset.organisation_id)
    assert owner is not None
    require(session, actor, Action.OFFER_MANAGE, dataset)
    if dataset.is_custom:
        raise ValidationFailed.for_field(
            "offering_type", "a custom collection service is sold by quote, not by offers on its listing"
        )
    _check_expiry(uow, expires_at)
    if not title.strip():
        raise ValidationFailed.for_field("title", "is required")
    try:
        template = licensing.get_template(license_id)
    except LicensingError as error:
        raise ValidationFailed.for_field("license_id", error.message) from error
    if version_label:
        exists = session.exec(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == version_label
            )
        ).first()
        if exists is None:
            raise ValidationFailed.for_field("version_label", f"{dataset.title} has no version {version_label}")
    audience_org = None
    if audience_org_slug:
        audience_org = session.exec(select(Organisation).where(Organisation.slug == audience_org_slug)).first()
        if audience_org is None or audience_org.kind is not OrgKind.BUYER:
            raise ValidationFailed.for_field("audience_org_slug", f"no buyer organisation {audience_org_slug!r}")
    offer = Offer(
        dataset_id=dataset.id,  # type: ignore[arg-type]
        organisation_id=owner.id,  # type: ignore[arg-type]
        title=title.strip(),
        license_id=template.id,
        license_family=licensing.license_family(template.id).value,
        overrides=dict(overrides or {}),
        terms={},
        terms_hash="",
        price_amount=price_amount,
        currency=currency.upper(),
        version_label=version_label or None,
        audience_org_id=audience_org.id if audience_org else None,
        expires_at=expires_at,
        created_by_id=actor.id,
        created_at=uow.now(),
    )
    try:
        effective = engine_offer(offer, audience_org).terms
    except LicensingError as error:
        raise _licensing_failure(error) from error
    offer.terms = effective.to_dict()
    offer.terms_hash = effective.terms_hash
    offer.training_permitted = effective.permits_training()
    session.add(offer)
    session.flush()
    return offer


def _check_expiry(uow: UnitOfWork, expires_at: datetime | None) -> None:
    # The provider's form and API require an expiry for a private offer (their schemas); a contract's private
    # offer, made from an accepted quote, may have none.
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        raise ValidationFailed.for_field("expires_at", "give the expiry with a time zone (e.g. 2027-01-31T23:59Z)")
    if expires_at <= uow.now():
        raise ValidationFailed.for_field("expires_at", "the expiry date must be in the future")


def retire_offer(uow: UnitOfWork, actor: User, offer: Offer) -> None:
    """Stop selling ``offer``; grants already issued from it are unaffected."""
    require(uow.session, actor, Action.OFFER_MANAGE, offer)
    offer.is_active = False
    offer.retired_at = uow.now()
    uow.session.add(offer)


def get_offer(session: Session, offer_id: int) -> Offer:
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound(message="No such offer.")
    return offer


def buyer_orgs_of(session: Session, user: User | None) -> list[Organisation]:
    """The buyer organisations ``user`` may acquire licenses for."""
    if user is None:
        return []
    from marketplace.accounts.services import organisations_of

    return [
        org
        for org, _role in organisations_of(session, user)
        if org.kind is OrgKind.BUYER and can(session, user, Action.ORG_ACT_FOR, org)
    ]


def offers_for_dataset(
    session: Session, dataset: Dataset, viewer: User | None, now: datetime | None = None
) -> list[Offer]:
    """Active offers a viewer may see: public ones, and private ones addressed to one of the viewer's orgs.

    Members of the owning provider see every active offer of theirs, private and expired ones included; others
    see only offers still on sale at ``now`` (when given).
    """
    rows = session.exec(
        select(Offer)
        .where(Offer.dataset_id == dataset.id, col(Offer.is_active).is_(True))
        .order_by(col(Offer.price_amount), col(Offer.id))
    ).all()
    owner = session.get(Organisation, dataset.organisation_id)
    if owner is not None and role_in(session, viewer, owner) is not None:
        return list(rows)
    return [
        o
        for o in rows
        if (now is None or not o.is_expired(now))
        and (o.audience_org_id is None or can(session, viewer, Action.OFFER_VIEW, o))
    ]


def audience_names(session: Session, offers: list[Offer]) -> dict[int, str]:
    """The buyer organisation's name of each private offer, by offer id (for the provider's offers page)."""
    names: dict[int, str] = {}
    for offer in offers:
        audience = session.get(Organisation, offer.audience_org_id) if offer.audience_org_id else None
        if audience is not None and offer.id is not None:
            names[offer.id] = audience.name
    return names


def private_offers_for(session: Session, user: User, now: datetime) -> list[tuple[Offer, Dataset, Organisation]]:
    """Private offers still on sale to a buyer organisation ``user`` belongs to ("Offers for you"), soonest
    expiry first, each with its dataset and the buyer organisation it is for."""
    orgs = {org.id: org for org in buyer_orgs_of(session, user)}
    if not orgs:
        return []
    rows = session.exec(
        select(Offer, Dataset)
        .join(Dataset, col(Dataset.id) == Offer.dataset_id)
        .where(
            col(Offer.audience_org_id).in_(list(orgs)),
            col(Offer.is_active).is_(True),
            Dataset.status == DatasetStatus.PUBLISHED,
        )
        .order_by(col(Offer.expires_at), col(Offer.id))
    ).all()
    return [
        (offer, dataset, orgs[offer.audience_org_id])
        for offer, dataset in rows
        if offer.audience_org_id is not None and not offer.is_expired(now)
    ]


# --- grants -------------------------------------------------------------------------------------------------------


def _covered_versions(session: Session, dataset: Dataset, offer: Offer) -> tuple[list[DatasetVersion], bool]:
    published = session.exec(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.status == VersionStatus.PUBLISHED)
        .order_by(col(DatasetVersion.published_at), col(DatasetVersion.id))
    ).all()
    if offer.version_label:
        chosen = [v for v in published if v.version == offer.version_label]
        if not chosen:
            raise Conflict(
                message=f"Version {offer.version_label} is not published.", code=LicenseErrorCode.VERSION_UNAVAILABLE
            )
        return chosen, False
    if not published:
        raise Conflict(message="This dataset has no published version yet.", code=LicenseErrorCode.VERSION_UNAVAILABLE)
    return list(published), True


def issue_grant(
    uow: UnitOfWork,
    offer: Offer,
    *,
    licensee: Organisation,
    acquired_by: User | None,
    payment_reference: str | None = None,
    price_paid: int | None = None,
    actor: str | None = None,
    allow_retired: bool = False,
    agreement: licensing.AgreementRef | None = None,
) -> Grant:
    """Issue, sign and store a grant of ``offer`` to ``licensee``.

    Checks are the engine's (private offers only to their buyer, the price's currency) plus the platform's:
    the dataset must be published, the offer active, the licensee a buyer organisation. The certificate is
    signed with the current key and stored with the grant. The caller has already checked that its user
    may act for ``licensee`` (or that a payment arrived). ``allow_retired`` is for orders paid before the
    offer was retired or the dataset withdrawn: what was paid for is still issued. ``agreement`` is the data-use
    agreement the licensee signed for a governed dataset: it goes into the grant's record and its certificate.
    """
    session = uow.session
    dataset, licensor = _check_issuable(session, offer, licensee, allow_retired=allow_retired, now=uow.now())
    audience = session.get(Organisation, offer.audience_org_id) if offer.audience_org_id else None
    versions, all_versions = _covered_versions(session, dataset, offer)
    latest = versions[-1]
    now = uow.now()
    try:
        grant_value = licensing.issue_grant(
            engine_offer(offer, audience),
            licensor=org_ref(licensor),
            licensee=org_ref(licensee),
            dataset_id=str(dataset.id),
            dataset_slug=dataset.slug,
            versions=[v.version for v in versions] if all_versions else offer.version_label or latest.version,
            manifest_digest=latest.manifest_digest or "",
            issued_at=now,
            price_paid=None if price_paid is None else licensing.Money(price_paid, offer.currency),
            payment_reference=payment_reference,
            status=licensing.GrantStatus.ACTIVE,
            actor=actor,
            agreement=agreement,
        )
    except LicensingError as error:
        raise _licensing_failure(error) from error
    ring = keyring(uow)
    grant = _grant_row(grant_value, offer, licensee, acquired_by, now)
    grant.certificate = licensing.issue_certificate(grant_value, ring, issuer(uow.settings), issued_at=now)
    grant.certificate_kid = ring.signer_kid
    session.add(grant)
    session.flush()
    for event in grant_value.events:
        session.add(_event_row(grant.id, event))
        _audit_event(uow, grant, event, kind="license.issued", dataset=dataset.slug)
    session.flush()
    emit(
        uow,
        "license.issued",
        {
            "license_id": grant.id,
            "dataset": dataset.slug,
            "versions": list(grant.versions),
            "licensee_organisation": licensee.slug,
            "licensor_organisation": licensor.slug,
            "license": grant.license_id,
            "status": grant.status,
        },
        audience=[org_id for org_id in (licensee.id, licensor.id) if org_id is not None],
    )
    return grant


def _check_issuable(
    session: Session, offer: Offer, licensee: Organisation, *, allow_retired: bool, now: datetime
) -> tuple[Dataset, Organisation]:
    """The offer's dataset and licensor, once the platform's own rules allow issuing it to ``licensee``."""
    dataset = session.get(Dataset, offer.dataset_id)
    if dataset is None or (dataset.status is not DatasetStatus.PUBLISHED and not allow_retired):
        raise Conflict(
            message="This dataset is not available for licensing.", code=LicenseErrorCode.DATASET_UNAVAILABLE
        )
    if not offer.is_active and not allow_retired:
        raise Conflict(message="This offer is no longer available.", code=LicenseErrorCode.OFFER_RETIRED)
    if offer.is_expired(now) and not allow_retired:
        raise Conflict(message=f"The offer “{offer.title}” has expired.", code=LicenseErrorCode.OFFER_EXPIRED)
    if licensee.kind is not OrgKind.BUYER:
        raise ValidationFailed.for_field("licensee", "licenses are held by buyer organisations")
    licensor = session.get(Organisation, offer.organisation_id)
    assert licensor is not None
    return dataset, licensor


def _grant_row(
    value: licensing.Grant, offer: Offer, licensee: Organisation, acquired_by: User | None, now: datetime
) -> Grant:
    """The stored grant for the engine's ``value``: its record plus the columns copied out of it for queries."""
    return Grant(
        id=value.id,
        offer_id=offer.id,  # type: ignore[arg-type]
        dataset_id=offer.dataset_id,
        licensor_org_id=offer.organisation_id,
        licensee_org_id=licensee.id,  # type: ignore[arg-type]
        acquired_by_id=acquired_by.id if acquired_by else None,
        license_id=value.license_id,
        versions=list(value.versions),
        all_versions=value.all_versions,
        manifest_digest=value.manifest_digest,
        terms_hash=value.terms_hash,
        price_amount=value.price_paid.amount,
        currency=value.price_paid.currency,
        payment_reference=value.payment_reference,
        status=value.status,
        issued_at=value.issued_at,
        valid_from=value.valid_from,
        valid_until=value.valid_until,
        record=value.to_dict(),
        updated_at=now,
    )


def _event_row(grant_id: str, event: licensing.GrantEvent) -> GrantEvent:
    return GrantEvent(
        grant_id=grant_id,
        at=event.at,
        from_status=event.from_status,
        to_status=event.to_status,
        reason=event.reason,
        actor=event.actor,
    )


def _audit_event(uow: UnitOfWork, grant: Grant, event: licensing.GrantEvent, *, kind: str, dataset: str | None) -> None:
    """Append one event of ``grant``'s log to the audit chains of both parties (licensor and licensee)."""
    audit.append(
        uow,
        organisation_ids=[grant.licensor_org_id, grant.licensee_org_id],
        kind=kind,
        subject_type="license",
        subject_id=grant.id,
        actor=event.actor or "system",
        data={
            "dataset": dataset,
            "license": grant.license_id,
            "versions": list(grant.versions),
            "terms_hash": grant.terms_hash,
            "licensor_organisation": grant.licensor_org_id,
            "licensee_organisation": grant.licensee_org_id,
            "from_status": event.from_status.value if event.from_status is not None else None,
            "to_status": event.to_status.value,
            "reason": event.reason,
        },
    )


def grant_value(grant: Grant) -> licensing.Grant:
    """The engine's grant, rebuilt from the stored record (its terms hash is re-checked).

    The engine's grant is immutable, so equal records share one rebuilt value: the record's canonical JSON text is
    the key of a small per-process cache (every download asks for it; rebuilding and re-hashing the terms took a
    tenth of the request's CPU). A record that changed in any field is another key, and is rebuilt and checked.
    """
    try:
        key = json.dumps(grant.record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):  # not JSON (a record being built in memory): rebuilt, not cached
        return licensing.Grant.from_dict(grant.record)
    return _grant_from_json(key)


@functools.lru_cache(maxsize=1024)
def _grant_from_json(text: str) -> licensing.Grant:
    return licensing.Grant.from_dict(json.loads(text))


#: The audit log's name for each status change of a license (what happened, in the past tense).
_AUDIT_KINDS = {
    licensing.GrantAction.ACTIVATE: "activated",
    licensing.GrantAction.AWAIT_APPROVAL: "awaiting_approval",
    licensing.GrantAction.SUSPEND: "suspended",
    licensing.GrantAction.REINSTATE: "reinstated",
    licensing.GrantAction.EXPIRE: "expired",
    licensing.GrantAction.REVOKE: "revoked",
}


def transition_grant(
    uow: UnitOfWork, grant: Grant, action: licensing.GrantAction, *, reason: str, actor: str | None
) -> Grant:
    """Apply a status change through the engine's state machine and append it to the event log.

    Illegal moves (e.g. reinstating a revoked license) raise :class:`Conflict` naming the move.
    """
    value = grant_value(grant)
    try:
        changed = value.transition(action, uow.now(), reason=reason, actor=actor)
    except LicensingError as error:
        raise Conflict(message=error.message, code=LicenseErrorCode.ILLEGAL_TRANSITION) from error
    grant.record = changed.to_dict()
    grant.status = changed.status
    grant.updated_at = uow.now()
    uow.session.add(grant)
    uow.session.add(_event_row(grant.id, changed.events[-1]))
    dataset = uow.session.get(Dataset, grant.dataset_id)
    slug = dataset.slug if dataset else None
    _audit_event(uow, grant, changed.events[-1], kind=f"license.{_AUDIT_KINDS[action]}", dataset=slug)
    if changed.status is licensing.GrantStatus.REVOKED:
        licensee = uow.session.get(Organisation, grant.licensee_org_id)
        emit(
            uow,
            "license.revoked",
            {
                "license_id": grant.id,
                "dataset": dataset.slug if dataset else None,
                "licensee_organisation": licensee.slug if licensee else None,
                "reason": reason,
            },
            audience=[grant.licensee_org_id, grant.licensor_org_id],
        )
    return grant


def get_grant(session: Session, grant_id: str) -> Grant:
    grant = session.get(Grant, grant_id) if len(grant_id) <= 26 else None
    if grant is None:
        raise NotFound(message="No such license.")
    return grant


def may_view_grant(session: Session, user: User | None, grant: Grant) -> bool:
    """Members of the licensee or the licensor organisation, and platform admins, may see a grant's details."""
    return can(session, user, Action.GRANT_VIEW, grant)


def require_view_grant(session: Session, user: User | None, grant: Grant) -> None:
    if not may_view_grant(session, user, grant):
        # The same answer as for a missing grant: ids of other people's licenses are not confirmed.
        raise NotFound(message="No such license.")


def grants_for_user(session: Session, user: User) -> list[Grant]:
    """Every grant held by an organisation ``user`` belongs to, newest first."""
    from marketplace.accounts.models import Membership

    org_ids = select(Membership.organisation_id).where(Membership.user_id == user.id)
    rows = session.exec(
        select(Grant).where(col(Grant.licensee_org_id).in_(org_ids)).order_by(col(Grant.issued_at).desc())
    ).all()
    return list(rows)


def grants_of(
    session: Session, user: User, *, role: str = "licensee", before_id: str | None = None, limit: int = 20
) -> list[Grant]:
    """Grants held (``role="licensee"``) or granted (``"licensor"``) by organisations ``user`` belongs to, newest
    first (ids are ULIDs, so by id), one page of ``limit`` older than ``before_id``. For the JSON API: honours an
    API credential's delegation, so an organisation's key sees that organisation's grants only."""
    from marketplace.accounts.models import Membership

    orgs = session.exec(
        select(Organisation)
        .join(Membership, col(Membership.organisation_id) == Organisation.id)
        .where(Membership.user_id == user.id)
    ).all()
    org_ids = [org.id for org in orgs if can(session, user, Action.ORG_VIEW, org)]
    if not org_ids:
        return []
    column = Grant.licensor_org_id if role == "licensor" else Grant.licensee_org_id
    statement = select(Grant).where(col(column).in_(org_ids))
    if before_id is not None:
        statement = statement.where(col(Grant.id) < before_id)
    return list(session.exec(statement.order_by(col(Grant.id).desc()).limit(max(1, min(limit, 100)))).all())


def grant_events(session: Session, grant: Grant) -> list[GrantEvent]:
    return list(
        session.exec(
            select(GrantEvent).where(GrantEvent.grant_id == grant.id).order_by(col(GrantEvent.at), col(GrantEvent.id))
        ).all()
    )


def acquire_free(
    uow: UnitOfWork, user: User, offer: Offer, *, licensee_slug: str, accepted_terms_hash: str, ip_address: str
) -> Grant:
    """Acquire a free offer for a buyer organisation at once, recording who accepted which terms and when.

    ``accepted_terms_hash`` must be the hash the buyer was shown: if the terms changed meanwhile, nothing is
    issued. Paid offers go through checkout instead.
    """
    session = uow.session
    if not offer.is_free:
        raise Conflict(
            message="This offer has a price; buy it through checkout.", code=LicenseErrorCode.PAYMENT_REQUIRED
        )
    licensee = session.exec(select(Organisation).where(Organisation.slug == licensee_slug)).first()
    if licensee is None:
        raise ValidationFailed.for_field("licensee", f"no organisation {licensee_slug!r}")
    if not can(session, user, Action.ORG_ACT_FOR, licensee):
        raise PermissionDenied(message=f"You cannot acquire licenses for {licensee.name}.")
    if accepted_terms_hash != offer.terms_hash:
        raise ValidationFailed.for_field("accept_terms", "you must accept the terms shown on this page")
    dataset = session.get(Dataset, offer.dataset_id)
    if dataset is None:
        raise NotFound(message="No such offer.")
    # Governed datasets: only an approved person (or seat) may acquire, bound by the agreement they signed.
    agreement = access_gate.require_approved(uow, user, dataset, licensee)
    grant = issue_grant(uow, offer, licensee=licensee, acquired_by=user, actor=f"user:{user.id}", agreement=agreement)
    session.add(
        TermsAcceptance(
            user_id=user.id,  # type: ignore[arg-type]
            organisation_id=licensee.id,  # type: ignore[arg-type]
            offer_id=offer.id,  # type: ignore[arg-type]
            terms_hash=offer.terms_hash,
            accepted_at=uow.now(),
            ip_address=ip_address,
            grant_id=grant.id,
        )
    )
    return grant
