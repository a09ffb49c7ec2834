"""Bucket delivery through the API: a destination added and an export followed to its verified objects with a
``downloads`` key, field errors in the API's shape, and 404 for another organisation's key."""

from __future__ import annotations

from typing import Any

from marketplace.apikeys import services as keys
from marketplace.db import UnitOfWork
from tests.contract.storage.conftest import S3RVER_BUCKET
from tests.functional.exports.conftest import queue_of


def _key(app: Any, db_session: Any, user: Any) -> dict[str, str]:
    _row, secret = keys.create_key(
        UnitOfWork(db_session, app.extensions["marketplace.context"]),
        user,
        name="k",
        scopes=["downloads"],
        environment="live",
    )
    db_session.flush()
    return {"Authorization": f"Bearer {secret}"}


def test_a_destination_and_an_export_through_the_api(
    app, client, db_session, world, published, s3rver_endpoint
) -> None:
    admin = _key(app, db_session, world["buyer_admin"])
    created = client.post(
        "/api/v1/destinations",
        headers=admin,
        json={
            "organisation": "buy",
            "name": "API lake",
            "bucket": S3RVER_BUCKET,
            "prefix": "api",
            "endpoint_url": s3rver_endpoint,
            "access_key_id": "S3RVER",
            "secret_access_key": "S3RVER",
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["organisation"] == "buy" and "secret_access_key" not in body and "S3RVER" not in body["location"]
    listed = client.get("/api/v1/destinations?organisation=buy", headers=admin).get_json()["data"]
    assert {d["name"] for d in listed} == {"Training lake", "API lake"}

    member = _key(app, db_session, world["purchaser"])
    grant = world["grant"]
    queued = client.post(
        f"/api/v1/licenses/{grant.id}/exports", headers=member, json={"destination_id": body["id"], "version": "1.0.0"}
    )
    assert queued.status_code == 202, queued.get_json()
    export = queued.get_json()
    assert export["state"] == "queued" and export["files_total"] == 2
    queue_of(app).run(published[-1])
    done = client.get(f"/api/v1/exports/{export['id']}", headers=member).get_json()
    assert done["state"] == "succeeded" and done["percent"] == 100
    assert sorted(o["key"] for o in done["objects"]) == [
        'api/speech/1.0.0/data/na"me; ü.csv',
        "api/speech/1.0.0/data/train.csv",
    ]
    assert [e["id"] for e in client.get(f"/api/v1/licenses/{grant.id}/exports", headers=member).get_json()["data"]] == [
        export["id"]
    ]


def test_bad_input_names_the_field(app, client, db_session, world) -> None:
    admin = _key(app, db_session, world["buyer_admin"])
    response = client.post(
        "/api/v1/destinations",
        headers=admin,
        json={
            "organisation": "buy",
            "name": "x",
            "bucket": "Bad_Bucket",
            "access_key_id": "a",
            "secret_access_key": "b",
            "endpoint_url": "gopher://x",
        },
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.get_json()["error"]["details"]}
    assert fields == {"bucket", "endpoint_url"}


def test_another_organisations_key_finds_nothing(app, client, db_session, world, published) -> None:
    destination, grant = world["destination"], world["grant"]
    mine = _key(app, db_session, world["purchaser"])
    export_id = client.post(
        f"/api/v1/licenses/{grant.id}/exports",
        headers=mine,
        json={"destination_id": destination.id, "version": "1.0.0"},
    ).get_json()["id"]
    for who in ("outsider", "seller"):
        other = _key(app, db_session, world[who])
        assert client.get(f"/api/v1/exports/{export_id}", headers=other).status_code == 404
        assert client.delete(f"/api/v1/destinations/{destination.id}", headers=other).status_code == 404
        posted = client.post(
            f"/api/v1/licenses/{grant.id}/exports",
            headers=other,
            json={"destination_id": destination.id, "version": "1.0.0"},
        )
        assert posted.status_code == 404
        assert client.get(f"/api/v1/licenses/{grant.id}/exports", headers=other).status_code == 404
        assert client.get("/api/v1/destinations?organisation=buy", headers=other).status_code == 403
    assert len(published) == 1
