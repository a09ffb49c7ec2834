"""Bucket delivery on the site: adding a destination (errors in the form's words, the secret never shown back),
exporting from the license page, the export's page, and 404/403 for everyone outside the licensee."""

from __future__ import annotations

import re

from sqlmodel import select

from marketplace.exports.models import BucketDestination, BucketExport
from marketplace.exports.states import ExportState
from tests.contract.storage.conftest import S3RVER_BUCKET
from tests.factories import PASSWORD
from tests.functional.exports.conftest import queue_of
from tests.helpers import csrf_token, log_in


def _post(client, path: str, data: dict[str, str], token_from: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def test_an_admin_adds_a_destination_and_a_bad_one_is_explained_field_by_field(
    app, client, db_session, world, s3rver_endpoint
) -> None:
    log_in(client, world["buyer_admin"].email, PASSWORD)
    page = "/orgs/buy/destinations"
    assert "Training lake" in client.get(page).get_data(as_text=True)
    bad = _post(
        client,
        page,
        {
            "name": "Lake 2",
            "bucket": "UPPER",
            "access_key_id": "k",
            "secret_access_key": "hush-123",
            "endpoint_url": "ftp://x",
        },
        page,
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Bucket: a bucket name has 3 to 63" in body and "Endpoint: must start with" in body
    assert "hush-123" not in body  # the secret is never sent back
    good = _post(
        client,
        page,
        {
            "name": "Lake 2",
            "bucket": S3RVER_BUCKET,
            "access_key_id": "S3RVER",
            "secret_access_key": "S3RVER",
            "endpoint_url": s3rver_endpoint,
            "prefix": "second",
        },
        page,
    )
    assert good.status_code == 303
    assert db_session.exec(select(BucketDestination).where(BucketDestination.name == "Lake 2")).one().prefix == "second"


def test_a_member_exports_from_the_license_page_and_follows_it(app, client, db_session, world, published) -> None:
    grant = world["grant"]
    log_in(client, world["purchaser"].email, PASSWORD)
    license_page = client.get(f"/licenses/{grant.id}").get_data(as_text=True)
    assert "Deliver to your bucket" in license_page and "Training lake" in license_page
    assert "Add a destination" not in client.get("/orgs/buy/destinations").get_data(as_text=True)  # members use
    response = _post(
        client,
        f"/licenses/{grant.id}/exports",
        {"destination_id": str(world["destination"].id), "version": "1.0.0"},
        f"/licenses/{grant.id}",
    )
    assert response.status_code == 303
    export_id = int(re.search(r"/exports/(\d+)$", response.headers["Location"]).group(1))  # type: ignore[union-attr]
    queued = client.get(f"/exports/{export_id}").get_data(as_text=True)
    assert "Waiting to start" in queued and 'http-equiv="refresh"' in queued
    (job_id,) = published
    queue_of(app).run(job_id)
    done = client.get(f"/exports/{export_id}").get_data(as_text=True)
    assert "Delivered and verified" in done and 'http-equiv="refresh"' not in done
    assert done.count('data-testid="export-object"') == 2 and "speech/1.0.0/data/train.csv" in done
    again = _post(client, f"/exports/{export_id}/repeat", {}, f"/exports/{export_id}")
    assert again.status_code == 303
    assert len(db_session.exec(select(BucketExport)).all()) == 2


def test_a_bad_export_form_names_the_field(client, world) -> None:
    grant = world["grant"]
    log_in(client, world["purchaser"].email, PASSWORD)
    response = _post(
        client, f"/licenses/{grant.id}/exports", {"destination_id": "", "version": "1.0.0"}, f"/licenses/{grant.id}"
    )
    assert response.status_code == 422 and "choose a destination" in response.get_data(as_text=True)


def test_outsiders_get_nothing(app, client, db_session, world, published) -> None:
    grant, destination = world["grant"], world["destination"]
    export = BucketExport(
        grant_id=grant.id,
        licensee_org_id=grant.licensee_org_id,
        destination_id=destination.id,
        destination_location=destination.location,
        version_label="1.0.0",
        state=ExportState.SUCCEEDED,
    )
    db_session.add(export)
    db_session.flush()
    for who in ("outsider", "seller"):
        log_in(client, world[who].email, PASSWORD)
        assert client.get(f"/exports/{export.id}").status_code == 404
        token = csrf_token(client, "/settings")
        assert client.post(f"/exports/{export.id}/repeat", data={"csrf_token": token}).status_code == 404
        assert client.post(f"/destinations/{destination.id}/delete", data={"csrf_token": token}).status_code == 404
        assert client.get("/orgs/buy/destinations").status_code == 403
        posted = client.post(
            f"/licenses/{grant.id}/exports",
            data={"csrf_token": token, "destination_id": str(destination.id), "version": "1.0.0"},
        )
        assert posted.status_code == 404
        client.post("/logout", data={"csrf_token": token})
    assert published == []
    anonymous = client.get(f"/exports/{export.id}")
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
