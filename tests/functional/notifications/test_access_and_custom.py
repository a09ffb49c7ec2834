"""Access and custom-data events: one notice (and one mail at most) per person, to the right side only."""

from __future__ import annotations

from sqlmodel import select

from marketplace.access import policy
from marketplace.access.states import AccessMode, ReviewerNotice
from marketplace.accounts.models import Role
from marketplace.custom import quotes, requests
from marketplace.notifications import services
from marketplace.notifications.kinds import NotificationKind
from marketplace.notifications.models import Notification
from tests.factories import member
from tests.functional.access.test_access_services import _ask, _govern, _sign, clock, work  # noqa: F401
from tests.functional.custom.conftest import Cast, cast, quote_data, request_spec  # noqa: F401
from tests.functional.notifications.test_events import rows
from tests.functional.test_delivery import market  # noqa: F401  (fixture)


def test_an_access_request_and_its_decision_are_told_once_each(work, market, outbox) -> None:  # noqa: F811
    _govern(work, market, AccessMode.GATED_MANUAL, default_expiry_days=30)
    policy.set_reviewer(work, market["seller"], market["provider"], market["clerk"], notice=ReviewerNotice.DAILY_DIGEST)
    request = _ask(work, market)
    _sign(work, market, request)  # returns the signature, whose id is not the request's
    work.commit()
    mailer = outbox
    # The real-time reviewer (the provider's admin) has it in the site and one mail; the digest reviewer in the
    # site only (their mail is the digest); the requester and outsiders nothing.
    assert len(rows(work.session, market["seller"], NotificationKind.ACCESS_REQUEST)) == 1
    assert len([m for m in mailer.messages_to("seller@example.org") if "New access request" in m.subject]) == 1
    assert len(rows(work.session, market["clerk"], NotificationKind.ACCESS_REQUEST)) == 1
    assert not [m for m in mailer.messages_to("clerk@example.org") if "New access request" in m.subject]
    assert not rows(work.session, market["outsider"]) and not rows(work.session, market["buyer_owner"])
    from marketplace.access import requests as reqs

    reqs.reject_requests(work, market["seller"], [request.id], reason="No ethics approval given.")
    work.commit()
    decided = rows(work.session, market["purchaser"], NotificationKind.ACCESS_DECISION)
    assert len(decided) == 1 and "No ethics approval given." in decided[0].body and decided[0].link == "/access"
    rejected = [m for m in mailer.messages_to("purchaser@example.org") if "rejected" in m.subject]
    assert len(rejected) == 1 and "My access: http://localhost/access" in rejected[0].body
    assert not rows(work.session, market["outsider"])


def test_the_digest_respects_mail_turned_off(work, market, outbox) -> None:  # noqa: F811
    from marketplace.access.notify import send_digests

    _govern(work, market, AccessMode.GATED_MANUAL, default_expiry_days=30)
    reader = member(market["provider"], Role.MEMBER, email="reader@example.org")
    for person in (market["clerk"], reader):
        policy.set_reviewer(work, market["seller"], market["provider"], person, notice=ReviewerNotice.DAILY_DIGEST)
    services.save_preferences(work, market["clerk"], {NotificationKind.ACCESS_REQUEST: services.Choice(True, False)})
    _sign(work, market, _ask(work, market))
    assert send_digests(work) == 1  # the reader's; the clerk turned access-request mail off
    work.commit()
    assert [m.subject for m in outbox.messages_to("reader@example.org")] == ["Access requests waiting: 1"]
    assert not outbox.messages_to("clerk@example.org")


def test_requests_and_quotes_reach_the_admins_of_the_side_concerned(cast: Cast, outbox) -> None:  # noqa: F811
    buyer_admin = member(cast.orgs["buyer"], Role.ADMIN, email="buyer-admin@example.org")
    alpha_admin = member(cast.orgs["alpha"], Role.ADMIN, email="alpha-admin@example.org")
    cast.session.flush()
    uow = cast.uow()
    posted = requests.create_request(uow, cast.people["buyer"], request_spec(title="Invited request"), invite=["alpha"])
    uow.commit()
    invited = rows(cast.session, alpha_admin, NotificationKind.CUSTOM_REQUEST)
    assert len(invited) == 1 and invited[0].link == f"/requests/{posted.id}"
    assert len([m for m in outbox.messages_to(alpha_admin.email) if "invited to quote" in m.subject]) == 1
    for person in ("gamma", "beta", "other_buyer", "buyer", "alpha"):  # not invited, or not an admin
        assert not rows(cast.session, cast.people[person]), person
    uow = cast.uow()
    quote = quotes.submit_quote(uow, cast.people["alpha"], posted, quote_data())
    uow.commit()
    assert [n.kind for n in rows(cast.session, buyer_admin)] == [NotificationKind.QUOTE]
    uow = cast.uow()
    quotes.decline_quote(uow, cast.people["buyer"], quote, reason="Too slow")
    uow.commit()
    declined = rows(cast.session, alpha_admin, NotificationKind.QUOTE)
    assert len(declined) == 1 and "Too slow" in declined[0].body
    assert len(rows(cast.session, buyer_admin)) == 1  # the buyer is not told of its own decision
    assert not cast.session.exec(
        select(Notification).where(Notification.recipient_id == cast.people["gamma"].id)
    ).first()
