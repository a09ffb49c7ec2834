"""The kinds of notification, what each is called on the preferences page, and where it goes by default."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class NotificationKind(enum.StrEnum):
    """What a notification is about; preferences are kept per kind."""

    LISTING_REVIEW = "listing_review"  # platform reviewers: a listing waits for review
    LISTING_DECISION = "listing_decision"  # provider: its listing was approved or rejected
    SALE = "sale"  # provider: an order paid for its datasets
    ORDER = "order"  # buyer: its order paid or refunded
    ACCESS_REQUEST = "access_request"  # provider's reviewers: someone asks for access
    ACCESS_DECISION = "access_decision"  # requester: approved, rejected, ending, ended
    CUSTOM_REQUEST = "custom_request"  # providers: a request for data to quote on, or a change to it
    QUOTE = "quote"  # quotes submitted, accepted or declined
    CONTRACT = "contract"  # milestones delivered, accepted or rejected; contracts completed or cancelled
    WITHDRAWAL = "withdrawal"  # licensees: data withdrawn from a version they hold, reminders; provider: overdue
    LICENSE_EXPIRING = "license_expiring"  # licensee: a license ends within 14 days


@dataclass(frozen=True)
class KindSpec:
    """How a kind is shown on the preferences page and its defaults; ``mail_required`` kinds are always mailed
    (the recipient has a legal duty to act on them)."""

    label: str
    hint: str
    in_site: bool = True
    by_mail: bool = True
    mail_required: bool = False


SPECS: dict[NotificationKind, KindSpec] = {
    NotificationKind.LISTING_REVIEW: KindSpec(
        "Listings submitted for review", "Platform reviewers: a provider submitted a listing."
    ),
    NotificationKind.LISTING_DECISION: KindSpec(
        "Your listings approved or rejected", "Your organisation's listing was published or sent back."
    ),
    NotificationKind.SALE: KindSpec("Sales", "A buyer paid for a license to one of your organisation's datasets."),
    NotificationKind.ORDER: KindSpec(
        "Your orders paid or refunded",
        "Your order was paid or refunded. The receipt and refund mail are always sent, so mail is off by default.",
        by_mail=False,
    ),
    NotificationKind.ACCESS_REQUEST: KindSpec(
        "Access requests to review",
        "Someone asked for access to a governed dataset you review (daily-digest reviewers get the digest by mail).",
    ),
    NotificationKind.ACCESS_DECISION: KindSpec(
        "Your access", "Your access request was approved or rejected, or your access ends soon or has ended."
    ),
    NotificationKind.CUSTOM_REQUEST: KindSpec(
        "Requests for data", "Your organisation is invited to quote, or a request it quoted on changed."
    ),
    NotificationKind.QUOTE: KindSpec("Quotes", "A quote was submitted, accepted or declined."),
    NotificationKind.CONTRACT: KindSpec(
        "Contracts and milestones", "A milestone was delivered, accepted or rejected; a contract ended."
    ),
    NotificationKind.WITHDRAWAL: KindSpec(
        "Withdrawal notices",
        "Data you hold was withdrawn and must be deleted by a deadline. Always mailed: your license obliges you "
        "to act on it.",
        mail_required=True,
    ),
    NotificationKind.LICENSE_EXPIRING: KindSpec("Licenses ending soon", "A license you hold ends within 14 days."),
}
