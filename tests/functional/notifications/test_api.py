"""``/api/v1/notifications``: a personal credential reads and marks its person's notifications only."""

from __future__ import annotations

from marketplace.notifications import services
from marketplace.notifications.kinds import NotificationKind
from tests.functional.api.conftest import bearer, work, world  # noqa: F401 - the fixture, shared


def _give(world, who: str, title: str):  # type: ignore[no-untyped-def]  # noqa: F811
    uow = work(world.app, world.session)
    services.deliver(uow, [world.people[who]], services.Notice(NotificationKind.SALE, title, "Paid.", "/orders"))
    world.session.flush()
    return services.list_page(world.session, world.people[who]).items[0]


def test_a_personal_key_lists_and_marks_its_own_only(world, client) -> None:  # noqa: F811
    mine = _give(world, "seller", "Mine")
    theirs = _give(world, "clerk", "Theirs")
    headers = bearer(world.key("seller", ["notifications"]))
    listed = client.get("/api/v1/notifications", headers=headers).get_json()
    assert [n["title"] for n in listed["data"]] == ["Mine"] and listed["unread"] == 1
    assert listed["data"][0]["kind"] == "sale" and listed["data"][0]["read_at"] is None
    refused = client.post(f"/api/v1/notifications/{theirs.id}/read", headers=headers)
    assert refused.status_code == 404  # someone else's: as if it did not exist
    world.session.refresh(theirs)
    assert theirs.read_at is None
    read = client.post(f"/api/v1/notifications/{mine.id}/read", headers=headers)
    assert read.status_code == 200 and read.get_json()["read_at"] is not None
    assert client.get("/api/v1/notifications?unread=true", headers=headers).get_json()["data"] == []
    _give(world, "seller", "Another")
    assert client.post("/api/v1/notifications/read-all", headers=headers).get_json() == {"marked": 1}
    assert services.unread_count(world.session, world.people["clerk"]) == 1


def test_an_organisations_key_reaches_no_ones_notifications(world, client) -> None:  # noqa: F811
    mine = _give(world, "seller", "Mine")
    headers = bearer(world.key("seller", ["notifications"], org="prov"))
    assert client.get("/api/v1/notifications", headers=headers).status_code == 403
    assert client.post(f"/api/v1/notifications/{mine.id}/read", headers=headers).status_code == 404
    assert client.post("/api/v1/notifications/read-all", headers=headers).status_code == 403
