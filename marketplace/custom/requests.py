"""Requests for data: post, edit (keeping earlier versions), publish, close, invite providers, attach files, and
read them as the board, the buyer and the invited providers see them.

Every function checks permission through :mod:`marketplace.permissions`, validates all input before writing
anything, and raises domain errors; the caller's unit of work commits.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any

from sqlmodel import Session, col, select

import licensing
from marketplace.accounts.models import Organisation, OrgKind, User
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import Modality, OfferingType
from marketplace.custom import access, schemas, transitions
from marketplace.custom.models import (
    Attachment,
    DataRequest,
    Quote,
    RequestInvitation,
    RequestRevision,
    Visibility,
    VolumeUnit,
)
from marketplace.custom.states import LIVE_QUOTE_STATES, Machine, RequestState
from marketplace.custom.terms import engine_terms
from marketplace.db import UnitOfWork
from marketplace.errors import FieldProblem, NotFound, ServiceUnavailable, ValidationFailed
from marketplace.events import emit
from marketplace.permissions import Action, can, require
from storage.errors import InvalidContentType
from storage.keys import validate_content_type

#: The specification fields copied between a request and its revisions.
SPEC_FIELDS = tuple(schemas.RequestSpecSchema().fields)
#: Published states: the request is on the board (if open) and visible to invited providers.
PUBLISHED_STATES = (RequestState.OPEN, RequestState.QUOTING)


def validate_spec(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    """The loaded specification, or :class:`ValidationFailed` naming every bad field (dates checked against
    today, the wanted license terms by the licensing engine)."""
    spec = schemas.load(schemas.RequestSpecSchema(), {k: v for k, v in data.items() if k in SPEC_FIELDS})
    if spec["deadline"] < uow.now().date():
        raise ValidationFailed.for_field("deadline", "the deadline must not be in the past")
    terms = engine_terms(
        spec["license_id"], spec["license_overrides"], price=spec["budget_max"], currency=spec["currency"]
    )
    del terms  # validated only: the request records what was asked for, the quote what is offered
    spec["license_id"] = licensing.get_template(spec["license_id"]).id
    spec["modality"] = Modality(spec["modality"])
    spec["volume_unit"] = VolumeUnit(spec["volume_unit"])
    spec["visibility"] = Visibility(spec["visibility"])
    return spec


def _apply(request: DataRequest, spec: dict[str, Any]) -> None:
    for name, value in spec.items():
        setattr(request, name, value)


def spec_of(request: DataRequest) -> dict[str, Any]:
    """The request's current specification as a JSON-safe document (what a revision keeps)."""
    out: dict[str, Any] = {}
    for name in SPEC_FIELDS:
        value = getattr(request, name)
        out[name] = (
            value.isoformat() if hasattr(value, "isoformat") else (value.value if hasattr(value, "value") else value)
        )
    return out


def create_request(
    uow: UnitOfWork,
    actor: User,
    data: dict[str, Any],
    *,
    organisation_slug: str | None = None,
    publish: bool = True,
    invite: list[str] | None = None,
    source_dataset_slug: str | None = None,
) -> DataRequest:
    """Post a request for data for a buyer organisation ``actor`` belongs to.

    ``data`` is the specification (see :class:`~marketplace.custom.schemas.RequestSpecSchema`); every field is
    validated before anything is written. With ``publish`` it opens at once (``request.created`` is emitted);
    ``invite`` names provider organisations to invite; ``source_dataset_slug`` names the custom listing the
    request started from ("Request a quote"), whose provider is invited.
    """
    session = uow.session
    buyer = access.organisation(session, actor, organisation_slug, OrgKind.BUYER)
    require(session, actor, Action.CUSTOM_REQUEST_CREATE, buyer)
    spec = validate_spec(uow, data)
    providers = [_provider(session, slug, "invite") for slug in invite or []]
    source = None
    if source_dataset_slug:
        source = session.exec(select(Dataset).where(Dataset.slug == source_dataset_slug)).first()
        if source is None or not source.is_public or source.offering_type is not OfferingType.CUSTOM:
            raise ValidationFailed.for_field("source_dataset", f"no custom listing called {source_dataset_slug!r}")
        providers.append(session.get(Organisation, source.organisation_id))  # type: ignore[arg-type]
    now = uow.now()
    request = DataRequest(
        buyer_org_id=buyer.id,  # type: ignore[arg-type]
        created_by_id=actor.id,
        source_dataset_id=source.id if source else None,
        created_at=now,
        updated_at=now,
        **spec,
    )
    session.add(request)
    session.flush()
    transitions.record(uow, Machine.REQUEST, request.id, None, RequestState.DRAFT, actor_id=actor.id)  # type: ignore[arg-type]
    for provider in {p.id: p for p in providers}.values():
        _add_invitation(uow, actor, request, provider)
    if publish:
        publish_request(uow, actor, request)
    return request


def _provider(session: Session, slug: str, field: str) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if org is None or org.kind is not OrgKind.PROVIDER:
        raise ValidationFailed.for_field(field, f"no provider organisation called {slug!r}")
    return org


def _add_invitation(uow: UnitOfWork, actor: User, request: DataRequest, provider: Organisation) -> RequestInvitation:
    existing = uow.session.exec(
        select(RequestInvitation).where(
            RequestInvitation.request_id == request.id, RequestInvitation.provider_org_id == provider.id
        )
    ).first()
    if existing is not None:
        return existing
    invitation = RequestInvitation(
        request_id=request.id,  # type: ignore[arg-type]
        provider_org_id=provider.id,  # type: ignore[arg-type]
        invited_by_id=actor.id,
        created_at=uow.now(),
    )
    uow.session.add(invitation)
    return invitation


def publish_request(uow: UnitOfWork, actor: User, request: DataRequest) -> None:
    """Open a draft request to providers (the board when its visibility is open) and emit ``request.created``."""
    require(uow.session, actor, Action.CUSTOM_REQUEST_MANAGE, request)
    transitions.move(uow, Machine.REQUEST, request, RequestState.OPEN, actor_id=actor.id)
    request.published_at = uow.now()
    buyer = uow.session.get(Organisation, request.buyer_org_id)
    invited = invited_provider_ids(uow.session, request)
    emit(
        uow,
        "request.created",
        {
            "request_id": request.id,
            "title": request.title,
            "visibility": request.visibility.value,
            "deadline": request.deadline.isoformat(),
            "buyer": buyer.slug if buyer and request.show_buyer_name else None,
        },
        audience=[request.buyer_org_id, *invited],
    )


def invite_provider(uow: UnitOfWork, actor: User, request: DataRequest, provider_slug: str) -> RequestInvitation:
    """Invite a provider organisation to see and quote on ``request`` (buyer members only)."""
    require(uow.session, actor, Action.CUSTOM_REQUEST_MANAGE, request)
    if request.state not in (RequestState.DRAFT, *PUBLISHED_STATES):
        raise ValidationFailed.for_field("provider", "this request no longer takes quotes")
    provider = _provider(uow.session, provider_slug, "provider")
    invitation = _add_invitation(uow, actor, request, provider)
    uow.session.flush()
    return invitation


def invited_provider_ids(session: Session, request: DataRequest) -> list[int]:
    return list(
        session.exec(select(RequestInvitation.provider_org_id).where(RequestInvitation.request_id == request.id)).all()
    )


def quoting_provider_ids(session: Session, request: DataRequest) -> list[int]:
    """Provider organisations with a quote still standing on ``request``."""
    rows = session.exec(
        select(Quote.provider_org_id).where(Quote.request_id == request.id, col(Quote.state).in_(LIVE_QUOTE_STATES))
    ).all()
    return sorted(set(rows))


def update_request(uow: UnitOfWork, actor: User, request: DataRequest, data: dict[str, Any]) -> DataRequest:
    """Change the specification of a request that still takes quotes (buyer members only).

    Once a quote exists the earlier version is kept as a :class:`RequestRevision`, ``revision`` goes up and the
    quoting providers are told (``request.revised``); a draft or unquoted request is simply changed.
    """
    require(uow.session, actor, Action.CUSTOM_REQUEST_MANAGE, request)
    if request.state not in (RequestState.DRAFT, *PUBLISHED_STATES):
        raise ValidationFailed(
            message="This request can no longer be edited.",
            details=[FieldProblem("request", f"it is {request.state.value}")],
        )
    spec = validate_spec(uow, {**spec_of(request), **data})
    quoting = quoting_provider_ids(uow.session, request)
    has_quotes = request.state is RequestState.QUOTING
    if has_quotes:
        uow.session.add(
            RequestRevision(
                request_id=request.id,  # type: ignore[arg-type]
                number=request.revision,
                spec=spec_of(request),
                created_by_id=actor.id,
                created_at=uow.now(),
            )
        )
        request.revision += 1
    _apply(request, spec)
    request.updated_at = uow.now()
    uow.session.add(request)
    uow.session.flush()
    if has_quotes:
        emit(
            uow,
            "request.revised",
            {"request_id": request.id, "revision": request.revision, "quoting_providers": quoting},
            audience=[request.buyer_org_id, *quoting],
        )
    return request


def request_revisions(session: Session, user: User | None, request: DataRequest) -> list[RequestRevision]:
    """The kept earlier versions of a request's specification, oldest first (whoever may see the request)."""
    if not access.request_visible(session, user, request):
        raise NotFound(message="No such request for data.")
    return list(
        session.exec(
            select(RequestRevision)
            .where(RequestRevision.request_id == request.id)
            .order_by(col(RequestRevision.number))
        ).all()
    )


def close_request(uow: UnitOfWork, actor: User, request: DataRequest, *, reason: str = "") -> None:
    """Close a request without awarding it; standing quotes are declined with ``reason``."""
    from marketplace.custom.quotes import decline_standing_quotes

    require(uow.session, actor, Action.CUSTOM_REQUEST_MANAGE, request)
    transitions.move(uow, Machine.REQUEST, request, RequestState.CLOSED, actor_id=actor.id, reason=reason)
    decline_standing_quotes(uow, request, actor_id=actor.id, reason=reason or "The buyer closed the request.")


def buyer_label(session: Session, user: User | None, request: DataRequest) -> str | None:
    """The buyer organisation's name as ``user`` may read it: shown to its own members, to others only when the
    buyer chose to show it (None: "a buyer organisation")."""
    buyer = session.get(Organisation, request.buyer_org_id)
    if buyer is None:
        return None
    if request.show_buyer_name or can(session, user, Action.CUSTOM_REQUEST_MANAGE, request):
        return buyer.name
    return None


def request_board(session: Session, *, before_id: int | None = None, limit: int = 20) -> list[DataRequest]:
    """Published requests with open visibility, newest first: the public board at ``/requests``."""
    query = select(DataRequest).where(
        DataRequest.visibility == Visibility.OPEN, col(DataRequest.state).in_(PUBLISHED_STATES)
    )
    if before_id is not None:
        query = query.where(col(DataRequest.id) < before_id)
    return list(session.exec(query.order_by(col(DataRequest.id).desc()).limit(limit)).all())


def requests_for_user(
    session: Session, user: User, *, before_id: int | None = None, limit: int = 20
) -> list[DataRequest]:
    """Requests ``user`` may see beyond the board: their buyer organisations' own, and those their provider
    organisations were invited to; newest first."""
    query = select(DataRequest)
    if before_id is not None:
        query = query.where(col(DataRequest.id) < before_id)
    rows = session.exec(query.order_by(col(DataRequest.id).desc())).all()
    visible = [
        r
        for r in rows
        if can(session, user, Action.CUSTOM_REQUEST_VIEW, r)
        and (r.visibility is Visibility.INVITED or can(session, user, Action.CUSTOM_REQUEST_MANAGE, r))
    ]
    return visible[:limit]


def check_file(uow: UnitOfWork, filename: str, content: bytes, *, field: str = "file") -> str:
    """The file's clean name (no directories), or :class:`ValidationFailed` naming ``field`` when the name is
    empty or too long, the file is empty, or it is larger than ``CUSTOM_ATTACHMENT_MAX_BYTES``."""
    limit = int(uow.settings.get("CUSTOM_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024))
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or len(name) > 255:
        raise ValidationFailed.for_field(field, "give the file a name of 1 to 255 characters")
    if not content:
        raise ValidationFailed.for_field(field, "the file is empty")
    if len(content) > limit:
        raise ValidationFailed.for_field(field, f"the file is {len(content):,} bytes; the limit is {limit:,} bytes")
    return name


def add_attachment(
    uow: UnitOfWork,
    actor: User,
    request: DataRequest,
    *,
    filename: str,
    media_type: str,
    content: bytes,
    message_id: int | None = None,
) -> Attachment:
    """Keep a file (spec document, example) for ``request`` — or for one of its messages — in object storage.

    Refused above ``CUSTOM_ATTACHMENT_MAX_BYTES``; the caller has already checked who may attach.
    """
    name = check_file(uow, filename, content)
    try:
        media_type = validate_content_type(media_type) or "application/octet-stream"
    except InvalidContentType as error:
        raise ValidationFailed.for_field(
            "media_type", "must be a media type such as text/csv or application/pdf"
        ) from error
    storage = uow.context.storage
    if storage is None:
        raise ServiceUnavailable(message="File storage is not configured.")
    key = f"custom/requests/{request.id}/{uuid.uuid4().hex}/{name}"
    # Written before the row: a rolled-back request leaves an unreferenced object, never a row without its file.
    storage.put(key, io.BytesIO(content), content_type=media_type or "application/octet-stream")
    attachment = Attachment(
        request_id=request.id,  # type: ignore[arg-type]
        message_id=message_id,
        filename=name,
        media_type=(media_type or "application/octet-stream")[:255],
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        storage_key=key,
        uploaded_by_id=actor.id,
        created_at=uow.now(),
    )
    uow.session.add(attachment)
    uow.session.flush()
    return attachment


def attach_to_request(
    uow: UnitOfWork, actor: User, request: DataRequest, *, filename: str, media_type: str, content: bytes
) -> Attachment:
    """Attach a specification document or example file to ``request`` (buyer members only)."""
    require(uow.session, actor, Action.CUSTOM_REQUEST_MANAGE, request)
    return add_attachment(uow, actor, request, filename=filename, media_type=media_type, content=content)


def request_attachments(session: Session, request: DataRequest) -> list[Attachment]:
    """The request's own attachments (not its messages'), oldest first."""
    return list(
        session.exec(
            select(Attachment)
            .where(Attachment.request_id == request.id, col(Attachment.message_id).is_(None))
            .order_by(col(Attachment.id))
        ).all()
    )
