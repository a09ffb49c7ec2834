"""Outgoing mail behind one small interface: a console backend (the embedded default) and SMTP.

Services never send mail directly; they register the send with the unit of work so a message leaves only after
the change it announces has been committed.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol

from marketplace.db import UnitOfWork, utcnow

log = logging.getLogger("marketplace.mail")


@dataclass(frozen=True)
class Message:
    """One e-mail: a recipient, a subject and a plain-text body."""

    to: str
    subject: str
    body: str
    sent_at: datetime = field(default_factory=utcnow)


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


def send_after_commit(uow: UnitOfWork, to: str, subject: str, body: str) -> None:
    """Queue a message that leaves only once ``uow`` has committed the change it announces.

    The message is a job (:data:`~marketplace.jobs.models.JobKind.SEND_MAIL`) written in ``uow``'s transaction, so
    a mail server that is down delays it (retried with backoff) instead of losing it.
    """
    from marketplace.jobs.models import JobKind
    from marketplace.jobs.queue import enqueue

    enqueue(uow, JobKind.SEND_MAIL, {"to": to, "subject": subject, "body": body}, max_attempts=10)
