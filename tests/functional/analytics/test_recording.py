"""Counting views over HTTP: once per visitor and window, never the provider's own, crawlers' or prefetches, and
one statement per counted page view; an offer's terms opened on the dataset page count as an offer view."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import func, select

from marketplace.analytics.models import ListingView, OfferView
from tests.factories import PASSWORD
from tests.helpers import log_in

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
TODAY = date(2026, 11, 30)


def _today(db_session, model) -> int:  # type: ignore[no-untyped-def]
    return db_session.exec(select(func.count()).select_from(model).where(model.day == TODAY)).one()


def _view(client, agent: str = FIREFOX, **headers: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/datasets/speech", headers={"User-Agent": agent, **headers})
    assert response.status_code == 200


def test_a_listing_view_counts_once_per_visitor_and_window(app, client, world, clock, db_session) -> None:
    _view(client)
    _view(client)  # a reload
    assert _today(db_session, ListingView) == 1
    _view(client, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15")  # another visitor
    assert _today(db_session, ListingView) == 2
    for agent in ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                  "Mozilla/5.0 (compatible; bingbot/2.0)", "curl/8.5.0", "python-requests/2.32", ""):  # fmt: skip
        _view(client, agent)
    _view(client, "Mozilla/5.0 Brave", **{"Sec-Purpose": "prefetch"})
    assert client.head("/datasets/speech", headers={"User-Agent": "Mozilla/5.0 Opera"}).status_code == 200
    assert _today(db_session, ListingView) == 2
    clock.now += timedelta(minutes=31)  # the next window
    _view(client)
    assert _today(db_session, ListingView) == 3


def test_the_providers_own_views_and_admins_are_not_counted(app, world, db_session) -> None:
    for email in ("clerk@example.org", "seller@example.org", "admin@example.org"):
        own = app.test_client()
        log_in(own, email, PASSWORD)
        _view(own)
    assert _today(db_session, ListingView) == 0
    buyer = app.test_client()
    log_in(buyer, "purchaser@example.org", PASSWORD)
    _view(buyer)
    _view(buyer, "Mozilla/5.0 another browser of the same person")
    assert _today(db_session, ListingView) == 1  # a signed-in visitor is one visitor whatever the browser


def test_a_counted_view_costs_one_statement(app, client, world, db_session) -> None:
    statements: list[str] = []
    engine = db_session.get_bind()

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "listing_view" in statement:
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        _view(client)
        _view(client)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 2 and all(s.lstrip().upper().startswith("INSERT") for s in statements)
    assert _today(db_session, ListingView) == 1


def test_opening_an_offers_terms_counts_an_offer_view(app, client, world, db_session) -> None:
    page = client.get("/datasets/speech", headers={"User-Agent": FIREFOX}).get_data(as_text=True)
    beacon = f"/offers/{world['eur'].id}/views"
    assert f'data-offer-view="{beacon}"' in page
    for _ in range(2):
        assert client.post(beacon, headers={"User-Agent": FIREFOX, "Sec-Fetch-Site": "same-origin"}).status_code == 204
    assert (
        client.post(beacon, headers={"User-Agent": "Mozilla/5.0 Evil", "Sec-Fetch-Site": "cross-site"}).status_code
        == 204
    )
    assert client.post(beacon, headers={"User-Agent": "Googlebot/2.1"}).status_code == 204
    assert client.post("/offers/999999/views", headers={"User-Agent": FIREFOX}).status_code == 204
    own = app.test_client()
    log_in(own, "clerk@example.org", PASSWORD)
    assert own.post(beacon, headers={"User-Agent": FIREFOX}).status_code == 204
    assert _today(db_session, OfferView) == 1
    log_in(own := app.test_client(), "seller@example.org", PASSWORD)
    funnel = own.get("/datasets/speech/analytics/funnel.csv").get_data(as_text=True).splitlines()
    assert funnel[-1] == "2026-11-30,2026-11-30,1,1,0,0"


def test_a_private_offer_counts_only_for_its_audience(app, client, world, db_session) -> None:
    from marketplace.db import UnitOfWork
    from marketplace.licenses import services as licenses

    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    private = licenses.create_offer(
        uow, world["seller"], world["speech"], title="For Buyer Co", license_id="LicenseRef-standard-commercial-1.0",
        price_amount=1000, currency="EUR", audience_org_slug="buy",
    )  # fmt: skip
    db_session.flush()
    client.post(f"/offers/{private.id}/views", headers={"User-Agent": FIREFOX})
    assert _today(db_session, OfferView) == 0
    buyer = app.test_client()
    log_in(buyer, "purchaser@example.org", PASSWORD)
    buyer.post(f"/offers/{private.id}/views", headers={"User-Agent": FIREFOX})
    assert _today(db_session, OfferView) == 1
