"""The provider's analytics page and CSV files: exact funnel, revenue and download figures from known data, the
period selector, accessible charts, and who may see them (the pages' permission matrix)."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.helpers import log_in

FUNNEL_HEADER = "period_start,period_end,listing_views,offer_views,checkouts,sales"
#: Days of the last 30 (2026-11-01 … 2026-11-30) with something in them; every other day is all zeros.
BUSY_DAYS = {
    "2026-11-20": (3, 2, 1, 1),
    "2026-11-25": (0, 0, 1, 0),  # checkout started late on the 25th, paid after midnight
    "2026-11-26": (2, 1, 0, 1),
    "2026-11-27": (0, 0, 1, 1),  # paid, refunded later: still a sale
    "2026-11-29": (0, 0, 1, 0),  # never paid
}


def _csv(client, path: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    return response.get_data(as_text=True)


def test_funnel_per_day_is_exact_and_leaves_other_providers_out(client, world) -> None:
    log_in(client, "clerk@example.org", PASSWORD)
    text = _csv(client, "/orgs/prov/analytics/funnel.csv?days=30&bucket=day")
    expected = [FUNNEL_HEADER]
    for n in range(1, 31):
        day = f"2026-11-{n:02d}"
        expected.append(",".join([day, day, *map(str, BUSY_DAYS.get(day, (0, 0, 0, 0)))]))
    assert text == "\r\n".join(expected) + "\r\n"


def test_funnel_per_week_starts_on_mondays_within_the_period(client, world) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    text = _csv(client, "/orgs/prov/analytics/funnel.csv?days=30&bucket=week")
    assert text.splitlines() == [
        FUNNEL_HEADER,
        "2026-11-01,2026-11-01,0,0,0,0",
        "2026-11-02,2026-11-08,0,0,0,0",
        "2026-11-09,2026-11-15,0,0,0,0",
        "2026-11-16,2026-11-22,3,2,1,1",
        "2026-11-23,2026-11-29,2,1,3,2",
        "2026-11-30,2026-11-30,0,0,0,0",
    ]


def test_revenue_per_listing_and_currency_in_major_units_refunds_apart(client, world) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    header = "listing,listing_slug,currency,sales,gross,platform_fee,refunded,net"
    assert _csv(client, "/orgs/prov/analytics/revenue.csv").splitlines() == [
        header,
        "Speech,speech,EUR,2,2500.00,250.00,1250.00,1125.00",
        "Speech,speech,USD,1,500.00,50.00,0.00,450.00",
    ]
    assert _csv(client, "/orgs/prov/analytics/revenue.csv?days=365").splitlines() == [
        header,
        "Images,images,EUR,1,200.00,20.00,0.00,180.00",
        "Speech,speech,EUR,2,2500.00,250.00,1250.00,1125.00",
        "Speech,speech,USD,1,500.00,50.00,0.00,450.00",
    ]


def test_downloads_per_licensee(client, world) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    response = client.get("/orgs/prov/analytics/downloads.csv?days=30")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="prov-downloads-2026-11-01-2026-11-30.csv"'
    )
    assert response.get_data(as_text=True) == (
        "licensee,downloads,files,last_download\r\n"
        "Buyer Co,3,2,2026-11-28T09:00:00Z\r\n"
        "Rival Co,1,1,2026-11-10T08:00:00Z\r\n"
    )
    assert _csv(client, "/orgs/prov/analytics/downloads.csv?days=365").splitlines()[1] == (
        "Buyer Co,4,2,2026-11-28T09:00:00Z"
    )


def test_one_listing_has_its_own_report(client, world) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    rows = _csv(client, "/datasets/images/analytics/funnel.csv?days=365&bucket=week").splitlines()
    assert rows[0] == FUNNEL_HEADER
    assert rows[1].startswith("2025-12-01,2025-12-07,")  # 365 days back from Monday 2026-11-30
    assert [row for row in rows[1:] if not row.endswith(",0,0,0,0")] == ["2026-07-27,2026-08-02,0,0,1,1"]
    assert _csv(client, "/datasets/images/analytics/revenue.csv?days=30").splitlines() == [
        "listing,listing_slug,currency,sales,gross,platform_fee,refunded,net"
    ]
    speech = _csv(client, "/datasets/speech/analytics/funnel.csv?days=90&bucket=day").splitlines()
    assert "2026-10-15,2026-10-15,4,0,0,0" in speech


def test_page_shows_totals_money_with_symbols_and_accessible_charts(client, world) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    page = client.get("/orgs/prov/analytics?days=30").get_data(as_text=True)
    for testid, figure in (("listing-views", 5), ("offer-views", 3), ("checkouts", 4), ("sales", 3)):
        assert f'data-testid="total-{testid}">{figure}</dd>' in page
    assert '<title id="views-t">Listing and offer views per day, last 30 days</title>' in page
    assert "2026-11-01 to 2026-11-30. Totals: Listing views: 5, Offer views: 3." in page
    assert '<title id="orders-t">Checkouts and sales per day, last 30 days</title>' in page
    assert "Totals: Checkouts: 4, Sales: 3." in page
    assert 'aria-labelledby="revenue-eur-t revenue-eur-d"' in page and "Speech: €1,125.00." in page
    assert "Speech: $450.00." in page  # each currency its own chart, never added to another
    assert "<td>€2,500.00</td>" in page and "<td>€1,250.00</td>" in page
    assert "Downloads per licensee" in page and "Buyer Co: 3; Rival Co: 1." in page
    assert 'href="/orgs/prov/analytics/funnel.csv?days=30&amp;bucket=day"' in page
    assert "https://" not in page.split("<main", 1)[1].split("</main>", 1)[0]  # nothing fetched from elsewhere


def test_a_bad_period_is_refused_naming_the_field(client, world) -> None:
    log_in(client, "seller@example.org", PASSWORD)
    response = client.get("/orgs/prov/analytics?days=7")
    assert response.status_code == 422
    assert "days" in response.get_data(as_text=True) and "30, 90 or 365" in response.get_data(as_text=True)
    assert client.get("/orgs/prov/analytics/secrets.csv").status_code == 404


PAGES = [
    "/orgs/prov/analytics",
    "/orgs/prov/analytics/funnel.csv",
    "/datasets/speech/analytics",
    "/datasets/speech/analytics/revenue.csv",
]
#: Who asks → the status every analytics page and file of Provider Co gives them.
MATRIX = [
    (None, 302),  # anonymous: to the login page
    ("seller@example.org", 200),
    ("clerk@example.org", 200),
    ("admin@example.org", 200),
    ("other@example.org", 403),  # another provider
    ("purchaser@example.org", 403),  # a buyer of its data
]


@pytest.mark.parametrize("who,expected", MATRIX)
@pytest.mark.parametrize("path", PAGES)
def test_permission_matrix(client, world, who, expected, path) -> None:
    if who:
        log_in(client, who, PASSWORD)
    response = client.get(path)
    assert response.status_code == expected
    if expected == 302:
        assert "/login" in response.headers["Location"]


def test_another_providers_draft_listing_is_not_found(app, client, world, db_session) -> None:
    from marketplace.catalog.vocab import DatasetStatus

    world["images"].status = DatasetStatus.DRAFT
    db_session.add(world["images"])
    db_session.flush()
    log_in(client, "other@example.org", PASSWORD)
    assert client.get("/datasets/images/analytics").status_code == 404
    assert client.get("/datasets/nothing-here/analytics").status_code == 404
    own = app.test_client()
    log_in(own, "clerk@example.org", PASSWORD)
    assert own.get("/datasets/images/analytics").status_code == 200
