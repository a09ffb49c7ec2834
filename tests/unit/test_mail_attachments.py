"""Attachments travel with a message: the console backend logs their names and sizes, SMTP attaches them, and a
queued message names them by reference, made when it is sent."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Any

import pytest

from marketplace import mail
from marketplace.mail import Attachment, ConsoleMailer, Message, SMTPMailer

PDF = Attachment("INV-000001.pdf", "application/pdf", b"%PDF-1.4 made up")


def test_the_console_backend_logs_each_attachment_by_name_and_size(caplog: pytest.LogCaptureFixture) -> None:
    mailer = ConsoleMailer()
    with caplog.at_level(logging.INFO, logger="marketplace.mail"):
        mailer.send(Message(to="a@example.org", subject="Receipt", body="Thanks.", attachments=(PDF,)))
    assert "attached: INV-000001.pdf (application/pdf, 16 bytes)" in caplog.text
    assert mailer.messages_to("a@example.org")[0].attachments == (PDF,)


class _FakeSMTP:
    sent: list[EmailMessage] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host

    def __enter__(self) -> _FakeSMTP:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def starttls(self) -> None:
        return None

    def login(self, user: str, password: str) -> None:
        return None

    def send_message(self, message: EmailMessage) -> None:
        _FakeSMTP.sent.append(message)


def test_smtp_sends_the_body_and_attaches_each_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail.smtplib, "SMTP", _FakeSMTP)
    _FakeSMTP.sent = []
    SMTPMailer(host="mail.example.org", port=587, sender="shop@example.org").send(
        Message(to="a@example.org", subject="Receipt", body="Thanks.", attachments=(PDF,))
    )
    (sent,) = _FakeSMTP.sent
    assert sent["To"] == "a@example.org" and sent.is_multipart()
    body = sent.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().strip() == "Thanks."
    (part,) = list(sent.iter_attachments())
    assert part.get_filename() == "INV-000001.pdf" and part.get_content_type() == "application/pdf"
    assert part.get_content() == PDF.data


def test_a_message_without_attachments_stays_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail.smtplib, "SMTP", _FakeSMTP)
    _FakeSMTP.sent = []
    SMTPMailer(host="h", port=25, sender="s@example.org", starttls=False).send(Message("a@example.org", "S", "B"))
    assert not _FakeSMTP.sent[0].is_multipart()


def test_references_name_a_known_source_and_are_made_when_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []

    def source(_session: Any, ident: int) -> Attachment:
        made.append(ident)
        return PDF

    monkeypatch.setitem(mail.ATTACHMENT_SOURCES, "test_source", source)
    assert mail.resolve_attachments(None, [{"source": "test_source", "id": 7}]) == (PDF,)  # type: ignore[arg-type]
    assert made == [7]
    with pytest.raises(KeyError):
        mail.resolve_attachments(None, [{"source": "nowhere", "id": 1}])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no attachment source"):
        mail.send_after_commit(None, "a@example.org", "S", "B", attachments=[mail.AttachmentRef("nowhere", 1)])  # type: ignore[arg-type]
