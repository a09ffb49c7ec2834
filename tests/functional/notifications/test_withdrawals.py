"""A withdrawal notice reaches each licensee's people (its own notice only), in the site and by mail."""

from __future__ import annotations

from sqlmodel import select

from marketplace.notifications import services
from marketplace.notifications.kinds import NotificationKind
from marketplace.withdrawals.models import WithdrawalNotice
from tests.functional.api.conftest import work, world  # noqa: F401 - the fixture, shared
from tests.functional.notifications.test_events import rows
from tests.functional.withdrawals.test_pages import _file_and_publish


def test_each_licensee_hears_of_its_own_notice_even_with_mail_turned_off(world, outbox) -> None:  # noqa: F811
    owner, outsider = world.people["buyer_admin"], world.people["outsider"]
    uow = work(world.app, world.session)
    services.save_preferences(uow, owner, {NotificationKind.WITHDRAWAL: services.Choice(True, False)})
    world.session.flush()
    _file_and_publish(world)
    notices = {n.licensee_org_id: n for n in world.session.exec(select(WithdrawalNotice)).all()}
    mine = rows(world.session, owner, NotificationKind.WITHDRAWAL)
    assert [n.link for n in mine] == [f"/withdrawal-notices/{notices[world.orgs['buy'].id].id}"]
    theirs = rows(world.session, outsider, NotificationKind.WITHDRAWAL)
    assert [n.link for n in theirs] == [f"/withdrawal-notices/{notices[world.orgs['rival'].id].id}"]
    mail = [m for m in outbox.messages_to(owner.email) if m.subject.startswith("Withdrawal:")]
    assert len(mail) == 1  # a required mail: sent although the owner turned it off
    assert f"Notice: http://localhost/withdrawal-notices/{notices[world.orgs['buy'].id].id}" in mail[0].body
    for person in ("seller", "clerk", "purchaser", "admin"):  # the provider and people with no license: nothing
        assert not rows(world.session, world.people[person]), person
