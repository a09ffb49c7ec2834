"""The private message thread between a request's buyer and one provider, with attachments."""

from __future__ import annotations

from sqlmodel import Session, col, select

from marketplace.accounts.models import Organisation, OrgKind, User
from marketplace.custom import access
from marketplace.custom.models import Attachment, DataRequest, Message, Quote, Thread
from marketplace.custom.requests import add_attachment, invited_provider_ids
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound, ValidationFailed
from marketplace.permissions import Action, can, role_in


def open_thread(uow: UnitOfWork, actor: User, request: DataRequest, *, provider_slug: str | None = None) -> Thread:
    """The thread of ``request`` with one provider, created on first use.

    A provider member opens their own organisation's thread (``provider_slug`` picks the organisation when they
    belong to several) on a request they may see; a buyer member names a provider that was invited or quoted.
    """
    session = uow.session
    if not access.request_visible(session, actor, request):
        raise NotFound(message="No such request for data.")
    if can(session, actor, Action.CUSTOM_REQUEST_MANAGE, request):
        if not provider_slug:
            raise ValidationFailed.for_field("provider", "name the provider organisation to write to")
        provider = session.exec(select(Organisation).where(Organisation.slug == provider_slug)).first()
        quoted = (
            provider is not None
            and session.exec(
                select(Quote.id).where(Quote.request_id == request.id, Quote.provider_org_id == provider.id)
            ).first()
        )
        if provider is None or not (quoted or provider.id in invited_provider_ids(session, request)):
            raise ValidationFailed.for_field("provider", f"{provider_slug!r} was not invited and has not quoted")
    else:
        provider = access.organisation(session, actor, provider_slug, OrgKind.PROVIDER, field="provider")
        if not can(session, actor, Action.CUSTOM_REQUEST_VIEW, request) or provider.id == request.buyer_org_id:
            raise NotFound(message="No such request for data.")
    thread = session.exec(
        select(Thread).where(Thread.request_id == request.id, Thread.provider_org_id == provider.id)
    ).first()
    if thread is None:
        thread = Thread(request_id=request.id, provider_org_id=provider.id, created_at=uow.now())  # type: ignore[arg-type]
        session.add(thread)
        session.flush()
    return thread


def post_message(
    uow: UnitOfWork, actor: User, thread: Thread, body: str, *, files: list[tuple[str, str, bytes]] | None = None
) -> Message:
    """Write to ``thread`` as the side ``actor`` belongs to, with ``files`` as (filename, media type, content)."""
    session = uow.session
    if not can(session, actor, Action.CUSTOM_THREAD_VIEW, thread):
        raise NotFound(message="No such conversation.")
    if not body.strip():
        raise ValidationFailed.for_field("body", "write a message")
    request = session.get(DataRequest, thread.request_id)
    assert request is not None
    provider = session.get(Organisation, thread.provider_org_id)
    author_org_id = (
        thread.provider_org_id if provider is not None and role_in(session, actor, provider) else request.buyer_org_id
    )
    message = Message(
        thread_id=thread.id,  # type: ignore[arg-type]
        author_id=actor.id,
        author_org_id=author_org_id,
        body=body.strip(),
        created_at=uow.now(),
    )
    session.add(message)
    session.flush()
    for filename, media_type, content in files or []:
        add_attachment(
            uow, actor, request, filename=filename, media_type=media_type, content=content, message_id=message.id
        )
    return message


def thread_messages(session: Session, thread: Thread) -> list[tuple[Message, list[Attachment]]]:
    """The thread's messages, oldest first, each with its attachments (caller got the thread via access)."""
    messages = session.exec(select(Message).where(Message.thread_id == thread.id).order_by(col(Message.id))).all()
    ids = [m.id for m in messages]
    files = session.exec(
        select(Attachment).where(col(Attachment.message_id).in_(ids)).order_by(col(Attachment.id))
    ).all()
    return [(m, [a for a in files if a.message_id == m.id]) for m in messages]


def threads_for_request(session: Session, user: User, request: DataRequest) -> list[Thread]:
    """The threads of ``request`` that ``user`` may read: all for the buyer, their own for a provider."""
    rows = session.exec(select(Thread).where(Thread.request_id == request.id).order_by(col(Thread.id))).all()
    return [t for t in rows if can(session, user, Action.CUSTOM_THREAD_VIEW, t)]
