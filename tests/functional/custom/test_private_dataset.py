"""A contract's private dataset is invisible to everyone but its provider: search, page, API, exports (404)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketplace.catalog.models import Dataset
from marketplace.custom import contracts, quotes, requests
from tests.factories import PASSWORD
from tests.functional.custom.conftest import Cast, quote_data, request_spec
from tests.helpers import log_in


@pytest.fixture()
def private_dataset(cast: Cast) -> Dataset:
    request = requests.create_request(cast.uow(), cast.people["buyer"], request_spec(title="Secret cohort data"))
    quote = quotes.submit_quote(cast.uow(), cast.people["alpha"], request, quote_data())
    contract = contracts.accept_quote(cast.uow(), cast.people["buyer"], quote)
    cast.session.flush()
    dataset = cast.session.get(Dataset, contract.dataset_id)
    assert dataset is not None
    return dataset


def test_the_private_dataset_is_in_no_public_read_path(client, cast: Cast, private_dataset: Dataset) -> None:
    slug = private_dataset.slug
    assert client.get(f"/datasets/{slug}").status_code == 404
    assert client.get(f"/datasets/{slug}/croissant.json").status_code == 404
    assert client.get(f"/api/v1/datasets/{slug}").status_code in (401, 404)
    search = client.get("/datasets?q=Secret+cohort")
    assert search.status_code == 200 and slug.encode() not in search.data
    feed = client.get("/catalog.jsonld")
    assert slug.encode() not in feed.data
    assert cast.session.exec(select(Dataset).where(Dataset.slug == slug)).one().status.value == "private"


def test_other_organisations_get_404_on_its_page(app, cast: Cast, private_dataset: Dataset) -> None:
    for who in ("beta", "other_buyer"):
        client = app.test_client()
        assert log_in(client, cast.people[who].email, PASSWORD).status_code in (302, 303)
        assert client.get(f"/datasets/{private_dataset.slug}").status_code == 404
