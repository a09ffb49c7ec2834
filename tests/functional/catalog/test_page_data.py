"""No hidden wiring: the dataset and license pages get their offers, delivery and download data from their views,
not from template globals that query the database."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD
from tests.functional.catalog.conftest import Catalog
from tests.helpers import log_in


def test_no_template_global_queries_the_database(app: Flask) -> None:
    for name in ("dataset_offers", "grant_downloads", "dataset_delivery"):
        assert name not in app.jinja_env.globals, name


def test_the_dataset_page_shows_the_offers_and_the_providers_delivery_links(
    client: FlaskClient, catalog: Catalog
) -> None:
    dataset = catalog.published(slug="page-data", title="Page data corpus")
    public = client.get(f"/datasets/{dataset.slug}").get_data(as_text=True)
    assert 'data-testid="offers"' in public
    assert "/downloads" not in public  # a visitor sees no provider links
    _, owner = catalog.provider()
    log_in(client, owner.email, PASSWORD)
    own = client.get(f"/datasets/{dataset.slug}").get_data(as_text=True)
    assert f"/datasets/{dataset.slug}/downloads" in own
