"""Discovery: the home page (search box, new and popular listings, facet tiles), what result cards say (price range,
license families, size, AI-training badge), the default sort, the dataset page's tabs without JavaScript, the
citation (BibTeX, APA), the "use it" snippets and the offer comparison."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from html import unescape

import pytest
from sqlmodel import Session

from marketplace.accounts.models import Organisation, OrgKind, Role
from marketplace.catalog import vocab
from marketplace.catalog.models import DatasetTerm, TermScheme
from marketplace.catalog.services import discovery
from marketplace.db import UnitOfWork, utcnow
from marketplace.licenses import services as licenses
from marketplace.mail import ConsoleMailer
from tests.factories import OrganisationFactory, member
from tests.functional.test_licenses import published_dataset

BASE = "http://localhost"


@pytest.fixture()
def shop(app, db_session: Session):  # type: ignore[no-untyped-def]
    provider = OrganisationFactory(slug="northwind", name="Northwind Data", kind=OrgKind.PROVIDER)
    buyer = OrganisationFactory(slug="bea", name="Bea Labs", kind=OrgKind.BUYER)
    seller = member(provider, Role.OWNER, email="seller@example.org")
    context = replace(app.extensions["marketplace.context"], settings=dict(app.config), mailer=ConsoleMailer())
    uow = UnitOfWork(db_session, context)
    return {"provider": provider, "buyer": buyer, "seller": seller, "uow": uow}


def _listing(db_session, shop, slug: str, title: str, **columns):  # type: ignore[no-untyped-def]
    dataset, version = published_dataset(db_session, shop["provider"], slug=slug)
    dataset.title = title
    for name, value in columns.items():
        setattr(dataset, name, value)
    db_session.add(dataset)
    db_session.flush()
    return dataset, version


def _offer(shop, dataset, license_id: str, price: int = 0, title: str | None = None, **kw):  # type: ignore[no-untyped-def]
    offer = licenses.create_offer(
        shop["uow"], shop["seller"], dataset, title=title or license_id, license_id=license_id,
        price_amount=price, currency="EUR", **kw,
    )  # fmt: skip
    shop["uow"].session.flush()
    return offer


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return response.get_data(as_text=True)


def _card(page: str, slug: str) -> str:
    """The result card linking to ``slug`` (its article element)."""
    for article in re.findall(r'<article class="result card".*?</article>', page, flags=re.S):
        if f'href="/datasets/{slug}"' in article:
            return article
    raise AssertionError(f"no card for {slug}")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


# --- home page ----------------------------------------------------------------------------------------------------


def test_home_page_has_search_new_popular_and_tiles(client, db_session, shop) -> None:
    old, _ = _listing(db_session, shop, "old-speech", "Old speech", modality=vocab.Modality.AUDIO)
    old.published_at = utcnow() - timedelta(days=30)
    _listing(db_session, shop, "new-images", "New images", modality=vocab.Modality.IMAGE)
    db_session.add(DatasetTerm(dataset_id=old.id, scheme=TermScheme.INDUSTRY, value="bfsi"))
    db_session.add(old)
    db_session.flush()
    offer = _offer(shop, old, "CC-BY-4.0")
    licenses.issue_grant(shop["uow"], offer, licensee=shop["buyer"], acquired_by=None)
    db_session.flush()

    page = _page(client, "/")
    # The search box sends its words to the catalog search.
    assert re.search(r'<form method="get" action="/datasets"[^>]*role="search"', page)
    assert 'name="q" type="search"' in page
    popular = page.split('data-testid="home-popular"')[1].split("</section>")[0]
    newest = page.split('data-testid="home-new"')[1].split("</section>")[0]
    # Popular: the licensed listing first although it is older; the newest fills up the rest.
    assert popular.index("/datasets/old-speech") < popular.index("/datasets/new-images")
    assert newest.index("/datasets/new-images") < newest.index("/datasets/old-speech")
    # Tiles link the catalog with the facet selected and show the index's counts.
    assert 'href="/datasets?modality=audio"' in page
    assert _text(page.split('data-testid="tile-count-modality-audio">')[1].split("</span>")[0]) == "1 dataset"
    assert _text(page.split('data-testid="tile-count-modality-video">')[1].split("</span>")[0]) == "0 datasets"
    assert 'href="/datasets?industry=bfsi"' in page
    assert _text(page.split('data-testid="tile-count-industry-bfsi">')[1].split("</span>")[0]) == "1 dataset"
    # The tile's link finds what its count says.
    assert "1 dataset" in _text(_page(client, "/datasets?modality=audio").split('data-testid="total">')[1][:200])


def test_popular_ignores_licenses_older_than_ninety_days(db_session, shop) -> None:
    first, _ = _listing(db_session, shop, "first", "First")
    second, _ = _listing(db_session, shop, "second", "Second")
    second.published_at = utcnow() - timedelta(days=1)
    db_session.add(second)
    offer = _offer(shop, second, "CC-BY-4.0")
    licenses.issue_grant(shop["uow"], offer, licensee=shop["buyer"], acquired_by=None)
    db_session.flush()
    now = utcnow()
    assert discovery.popular_ids(db_session, now, limit=2) == [second.id, first.id]
    # 91 days on, the sale no longer counts: newest first.
    assert discovery.popular_ids(db_session, now + timedelta(days=91), limit=2) == [first.id, second.id]


# --- result cards -------------------------------------------------------------------------------------------------


def test_cards_show_price_range_license_families_size_and_training(client, db_session, shop) -> None:
    paid, _ = _listing(
        db_session, shop, "paid-audio", "Paid audio", modality=vocab.Modality.AUDIO,
        total_bytes=1_234_567_890, record_count=120_000,
    )  # fmt: skip
    _offer(shop, paid, "LicenseRef-standard-commercial-1.0", price=49_900)
    _offer(shop, paid, "LicenseRef-standard-commercial-1.0", price=125_050, title="Enterprise")
    free, _ = _listing(db_session, shop, "free-text", "Free text", modality=vocab.Modality.TEXT, total_bytes=532)
    _offer(shop, free, "CC-BY-4.0")
    _offer(shop, free, "CC-BY-NC-4.0")
    evaluation, _ = _listing(db_session, shop, "eval-only", "Evaluation only")
    _offer(shop, evaluation, "LicenseRef-evaluation-only-1.0", price=1000)
    _listing(db_session, shop, "no-offer", "No offer")
    custom, _ = _listing(
        db_session, shop, "custom-speech", "Custom speech", offering_type=vocab.OfferingType.CUSTOM,
        service_price_min=500_000, service_price_max=2_000_000, service_price_currency="EUR",
    )  # fmt: skip

    page = _page(client, "/datasets")
    card = _card(page, "paid-audio")
    assert _text(card.split('data-testid="card-price">')[1].split("<")[0]) == "from €499"
    assert "Commercial license" in card and "Open ·" not in card
    assert _text(card.split('data-testid="card-size">')[1].split("<")[0]) == "1.2 GB · 120,000 records"
    assert 'data-testid="card-modality">Audio<' in card
    assert "AI training permitted" in card

    card = _card(page, "free-text")
    assert 'data-testid="card-price">Free<' in card
    assert "<code>CC-BY-4.0</code>" in card and "<code>CC-BY-NC-4.0</code>" in card
    assert "Commercial license" not in card
    assert 'data-testid="card-size">532 bytes<' in card

    card = _card(page, "eval-only")
    assert 'data-testid="card-price">from €10<' in card
    assert "No AI training" in card

    card = _card(page, "no-offer")
    assert "card-price" not in card and "card-training" not in card

    card = _card(page, "custom-speech")
    assert _text(card.split('data-testid="card-price">')[1].split("</strong>")[0]) == (
        "By quote (typically €5,000–€20,000)"
    )
    # The home page uses the same cards.
    assert 'data-testid="card-price">from €499<' in _page(client, "/")
    assert custom.id is not None


def test_card_facts_are_read_in_a_fixed_number_of_queries(app, db_session, shop) -> None:
    import sqlalchemy as sa

    from marketplace.catalog import services

    datasets = [_listing(db_session, shop, f"set-{i}", f"Set {i}")[0] for i in range(6)]
    for dataset in datasets:
        _offer(shop, dataset, "CC-BY-4.0")
    statements: list[str] = []

    def count(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    engine = db_session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        services.search_hits(db_session, [d.id for d in datasets[:2]])
        few = len(statements)
        statements.clear()
        services.search_hits(db_session, [d.id for d in datasets])
        many = len(statements)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert many == few  # no query per card


def test_money_and_bytes_for_people() -> None:
    assert discovery.money_text(49_900, "EUR") == "€499"
    assert discovery.money_text(1_250, "EUR") == "€12.50"
    assert discovery.money_text(500, "JPY") == "¥500"
    assert discovery.human_bytes(None) == ""
    assert discovery.human_bytes(999) == "999 bytes"
    assert discovery.human_bytes(1_500_000) == "1.5 MB"


# --- default sort -------------------------------------------------------------------------------------------------


def test_text_search_sorts_by_relevance_and_browsing_by_newest(client, db_session, shop) -> None:
    best, _ = _listing(db_session, shop, "ferry-voices", "Ferry announcements: ferry ferry")
    best.published_at = utcnow() - timedelta(days=10)
    best.summary = "Ferry ferry ferry announcements recorded on ferries"
    db_session.add(best)
    newer, _ = _listing(db_session, shop, "harbour", "Harbour noise")
    newer.summary = "Sounds of a harbour; one ferry horn"
    db_session.add(newer)
    db_session.flush()

    page = _page(client, "/datasets?q=ferry")
    assert 'value="relevance" selected' in page
    assert page.index("/datasets/ferry-voices") < page.index("/datasets/harbour")
    page = _page(client, "/datasets")
    assert 'value="newest" selected' in page
    assert page.index("/datasets/harbour") < page.index("/datasets/ferry-voices")
    # The API keeps the same documented default: relevance with text.
    assert "relevance (the default with text)" in _page(client, "/api/v1/openapi.json")


# --- dataset page: tabs, citation, snippets, comparison ------------------------------------------------------------


def _panel(page: str, name: str) -> str:
    match = re.search(rf'<section role="tabpanel" id="panel-{name}"[^>]*>', page)
    assert match, name
    return match.group(0)


def test_dataset_page_tabs_work_without_javascript(client, db_session, shop) -> None:
    dataset, _ = _listing(db_session, shop, "tabbed", "Tabbed")
    _offer(shop, dataset, "CC-BY-4.0")
    page = _page(client, "/datasets/tabbed")
    names = ["overview", "data", "files", "licenses", "compliance", "versions"]
    for name in names:
        assert f'<a role="tab" id="tab-{name}" href="?tab={name}"' in page
    assert re.search(r'id="tab-overview"[^>]*aria-selected="true"', page, flags=re.S)
    assert " hidden" not in _panel(page, "overview") and " hidden" in _panel(page, "licenses")
    # Every panel is in the page (a fragment or a script can open any of them), the chosen one shown.
    page = _page(client, "/datasets/tabbed?tab=licenses")
    assert " hidden" in _panel(page, "overview") and " hidden" not in _panel(page, "licenses")
    assert re.search(r'id="tab-licenses"[^>]*aria-selected="true"[^>]*tabindex="0"', page, flags=re.S)
    assert (
        'data-testid="offer"'
        in page.split('role="tabpanel" id="panel-licenses"')[1].split('role="tabpanel" id="panel-compliance"')[0]
    )
    versions = _page(client, "/datasets/tabbed?tab=versions")
    assert " hidden" not in _panel(versions, "versions")
    assert 'data-testid="version-1.0.0"' in versions
    # An unknown tab is the overview.
    assert " hidden" not in _panel(_page(client, "/datasets/tabbed?tab=nope"), "overview")
    assert 'src="/static/js/dataset.js"' in page


def test_citation_bibtex_and_apa(client, db_session, shop) -> None:
    _listing(db_session, shop, "ferry-voices", "Ferry announcements & 50% more {noise}")
    page = _page(client, "/datasets/ferry-voices")
    bibtex = unescape(page.split('data-testid="cite-bibtex"')[1].split("<code>")[1].split("</code>")[0])
    year = utcnow().year
    assert bibtex.startswith(f"@misc{{ferryvoices{year},")
    depth = 0
    for ch in bibtex.replace("\\{", "").replace("\\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0  # balanced braces
    fields = dict(re.findall(r"^\s+(\w+) = \{(.*)\},?$", bibtex, flags=re.M))
    assert fields["author"] == "{Northwind Data}"
    assert fields["title"] == r"Ferry announcements \& 50\% more noise"
    assert fields["year"] == str(year) and fields["version"] == "1.0.0"
    assert fields["url"] == f"{BASE}/datasets/ferry-voices"
    apa = _text(page.split('data-testid="cite-apa">')[1].split("</p>")[0])
    assert apa == (
        f"Northwind Data. ({year}). Ferry announcements & 50% more {{noise}} (Version 1.0.0) [Data set]. "
        f"{BASE}/datasets/ferry-voices"
    )


def test_citation_uses_an_imported_doi_and_creators() -> None:
    assert discovery.find_doi({"sameAs": ["https://example.org", "https://doi.org/10.5281/zenodo.1234."]}) == (
        "10.5281/zenodo.1234"
    )
    assert discovery.find_doi({"identifier": "none"}) is None
    cite = discovery.Citation("k2026", ("Ada Lovelace", "Alan Turing"), "Notes", 2026, None, "http://x/d", "10.1/ab")
    assert cite.apa() == "Ada Lovelace, & Alan Turing. (2026). Notes [Data set]. https://doi.org/10.1/ab"
    assert "  doi = {10.1/ab}" in cite.bibtex() and "{Ada Lovelace} and {Alan Turing}" in cite.bibtex()


def test_use_it_snippets_name_the_dataset_and_the_site(client, db_session, shop) -> None:
    _listing(db_session, shop, "ferry-voices", "Ferry")
    page = _page(client, "/datasets/ferry-voices")
    for key in ("curl", "python", "cli"):
        snippet = unescape(page.split(f'data-testid="snippet-{key}"')[1].split("</pre>")[0])
        assert "ferry-voices" in snippet and BASE in snippet, key
    python = unescape(page.split('data-testid="snippet-python"')[1].split("</pre>")[0])
    assert "from marketplace_client import Client" in python
    assert 'client.download("ferry-voices", "data/ferry-voices", version="1.0.0")' in python
    cli = unescape(page.split('data-testid="snippet-cli"')[1].split("</pre>")[0])
    assert "marketplace-client download ferry-voices --version 1.0.0 --dest " in cli
    curl = unescape(page.split('data-testid="snippet-curl"')[1].split("</pre>")[0])
    assert f"{BASE}/api/v1/datasets/ferry-voices" in curl


def test_offer_comparison_shows_price_term_seats_and_only_differing_terms(client, db_session, shop) -> None:
    dataset, _ = _listing(db_session, shop, "compared", "Compared")
    _offer(shop, dataset, "LicenseRef-standard-commercial-1.0", price=49_900, title="Team",
           overrides={"seats": 5, "term": "P1Y"})  # fmt: skip
    _offer(shop, dataset, "LicenseRef-standard-commercial-1.0", price=150_000, title="Enterprise",
           overrides={"seats": 50, "term": "P1Y", "territory": ["DE", "FR"]})  # fmt: skip
    page = _page(client, "/datasets/compared?tab=licenses")
    table = page.split('data-testid="offer-comparison"')[1].split("</section>")[0]
    header = _text(table.split("<thead>")[1].split("</thead>")[0])
    assert header == "Offer Team Enterprise"
    assert _text(table.split('data-testid="compare-price">')[1].split("</tr>")[0]) == "Price €499.00 €1,500.00"
    seats = _text(table.split('data-testid="compare-seats">')[1].split("</tr>")[0])
    assert "5" in seats and "50" in seats
    assert 'data-testid="compare-term"' in table
    # Only the territory differs besides seats: it is the one "differs" row; the rest are shown once.
    assert re.findall(r'data-testid="differs-(\w+)"', table) == ["territory"]
    common = re.findall(r'data-testid="common-(\w+)"', table)
    assert "territory" not in common and "seats" not in common and "term" not in common
    assert "permitted_uses" in common and "governing_law" in common
    # One offer: nothing to compare.
    single, _ = _listing(db_session, shop, "single", "Single")
    _offer(shop, single, "CC-BY-4.0")
    assert 'data-testid="offer-comparison"' not in _page(client, "/datasets/single")


def test_data_tab_lists_samples_and_version_files(client, db_session, shop) -> None:
    from marketplace.catalog.models import DatasetFile, SampleFile

    dataset, version = _listing(db_session, shop, "with-files", "With files")
    db_session.add(SampleFile(dataset_id=dataset.id, filename="sample.csv", media_type="text/csv", size_bytes=4,
                              sha256="0" * 64, content=b"a,b\n"))  # fmt: skip
    db_session.add(DatasetFile(version_id=version.id, path="data/train.csv", size_bytes=10, sha256="1" * 64,
                               media_type="text/csv"))  # fmt: skip
    db_session.flush()
    page = _page(client, "/datasets/with-files?tab=data")
    data = page.split('role="tabpanel" id="panel-data"')[1].split('role="tabpanel" id="panel-files"')[0]
    sample_link = re.search(r'href="(/datasets/with-files/samples/\d+/sample.csv)"', data)
    assert sample_link and client.get(sample_link.group(1)).status_code == 200
    assert "data/train.csv" in data
    # Each version file links the data viewer (which shows its rows to licensees only).
    assert re.search(r'href="/datasets/with-files/versions/1\.0\.0/files/\d+/data"', data)
    organisation = db_session.get(Organisation, dataset.organisation_id)
    assert organisation is not None and organisation.slug == "northwind"
