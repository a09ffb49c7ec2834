"""Outgoing mail behind one small interface: a console backend (the embedded default) and SMTP.

Services never send mail directly; they register the send with the unit of work so a message leaves only after
the change it announces has been committed.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol

from sqlmodel import Session

from marketplace.db import UnitOfWork, utcnow

log = logging.getLogger("marketplace.mail")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: its name, media type (``application/pdf``) and bytes."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Message:
    """One e-mail: a recipient, a subject, a plain-text body and any attachments."""

    to: str
    subject: str
    body: str
    sent_at: datetime = field(default_factory=utcnow)
    attachments: tuple[Attachment, ...] = ()


class Mailer(Protocol):
    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise; a raised error is logged by the unit of work."""


class ConsoleMailer:
    """Prints every message to the log and keeps the last ones in an in-memory outbox.

    It is the development default (no account anywhere) and what tests read links from; production refuses it.
    """

    def __init__(self, keep: int = 200) -> None:
        self.outbox: deque[Message] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self._lock:
            self.outbox.append(message)
        log.info("mail to %s: %s\n%s", message.to, message.subject, message.body)
        for attachment in message.attachments:
            log.info("attached: %s (%s, %d bytes)", attachment.filename, attachment.content_type, len(attachment.data))

    def messages_to(self, address: str) -> list[Message]:
        with self._lock:
            return [m for m in self.outbox if m.to.lower() == address.lower()]

    def clear(self) -> None:
        with self._lock:
            self.outbox.clear()


class SMTPMailer:
    """Sends through an SMTP server, with STARTTLS and login when configured."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = 15.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.timeout = timeout

    def send(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.body)
        for attachment in message.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            email.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(email)


def mailer_from_settings(settings: dict[str, Any]) -> Mailer:
    """Build the mailer chosen by ``MAIL_BACKEND``."""
    if settings["MAIL_BACKEND"] == "smtp":
        return SMTPMailer(
            host=settings["SMTP_HOST"],
            port=settings["SMTP_PORT"],
            sender=settings["MAIL_FROM"],
            username=settings["SMTP_USERNAME"],
            password=settings["SMTP_PASSWORD"],
            starttls=settings["SMTP_STARTTLS"],
        )
    return ConsoleMailer()


def _invoice_document(session: Session, ident: int) -> Attachment:
    from marketplace.invoices.services import attachment

    return attachment(session, ident)


#: What an attachment reference names, and how the file is made when the message is sent: a queued message
#: carries ``{"source": …, "id": …}`` (a job's payload holds ids, never files).
ATTACHMENT_SOURCES: dict[str, Callable[[Session, int], Attachment]] = {
    "invoice_document": _invoice_document,
}


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment named by its source and id, made when the message leaves (see :data:`ATTACHMENT_SOURCES`)."""

    source: str
    id: int


def resolve_attachments(session: Session, refs: Sequence[dict[str, Any]]) -> tuple[Attachment, ...]:
    """The files named by a queued message's references; an unknown source or id raises (the job retries)."""
    return tuple(ATTACHMENT_SOURCES[str(ref["source"])](session, int(ref["id"])) for ref in refs)


def send_after_commit(
    uow: UnitOfWork, to: str, subject: str, body: str, *, attachments: Sequence[AttachmentRef] = ()
) -> None:
    """Queue a message that leaves only once ``uow`` has committed the change it announces.

    The message is a job (:data:`~marketplace.jobs.models.JobKind.SEND_MAIL`) written in ``uow``'s transaction, so
    a mail server that is down delays it (retried with backoff) instead of losing it. ``attachments`` are made
    from their references when the message is sent.
    """
    from marketplace.jobs.models import JobKind
    from marketplace.jobs.queue import enqueue

    payload: dict[str, Any] = {"to": to, "subject": subject, "body": body}
    if attachments:
        for ref in attachments:
            if ref.source not in ATTACHMENT_SOURCES:
                raise ValueError(f"no attachment source {ref.source!r}")
        payload["attachments"] = [{"source": ref.source, "id": ref.id} for ref in attachments]
    enqueue(uow, JobKind.SEND_MAIL, payload, max_attempts=10)
