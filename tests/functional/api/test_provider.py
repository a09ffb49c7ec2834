"""A provider's work through the API: a listing from a record, a section replaced, a version with an uploaded and
verified file, offers created and retired, a catalog import run as a job, and webhook endpoints."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlmodel import select

from marketplace.apikeys.models import ApiJob
from marketplace.catalog.models import Dataset
from tests.functional.api.conftest import bearer

RECORD = {
    "title": "Factory sensor logs",
    "summary": "Vibration and temperature from 40 turbines",
    "modality": "sensor",
    "tasks": ["classification"],
    "languages": ["en"],
    "tags": ["industrial", "iot"],
}


def test_listing_version_upload_offer(world, client) -> None:
    key = bearer(world.key("seller", ["provider:write", "catalog:read"], org="prov"))
    created = client.post("/api/v1/provider/datasets", json={"record": RECORD}, headers=key)
    assert created.status_code == 201, created.get_json()
    listing = created.get_json()
    slug = listing["slug"]
    assert listing["status"] == "draft" and listing["record"]["tags"] == ["industrial", "iot"]
    assert created.headers["Location"].endswith(f"/api/v1/provider/datasets/{slug}")
    assert any(p["field"] for p in listing["missing"])  # a draft names what it still needs
    # Not public yet.
    assert client.get(f"/api/v1/datasets/{slug}", headers=key).status_code == 404

    section = client.put(
        f"/api/v1/provider/datasets/{slug}/sections/coverage",
        json={"record": {"languages": ["de", "fr"], "countries": ["DE"]}},
        headers=key,
    )
    assert section.status_code == 200, section.get_json()
    assert section.get_json()["record"]["languages"] == ["de", "fr"]
    bad = client.put(
        f"/api/v1/provider/datasets/{slug}/sections/coverage",
        json={"record": {"languages": ["not a language"]}},
        headers=key,
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["details"][0]["field"] == "languages"

    content = b"turbine,rpm\n1,1500\n"
    version = client.post(
        f"/api/v1/provider/datasets/{slug}/versions", json={"version": "1.0.0", "changelog": "First"}, headers=key
    )
    assert version.status_code == 201, version.get_json()
    upload = client.post(
        f"/api/v1/provider/datasets/{slug}/versions/1.0.0/uploads",
        json={
            "path": "data/logs.csv",
            "size": len(content),
            "media_type": "text/csv",
            "sha256": hashlib.sha256(content).hexdigest(),
        },
        headers=key,
    )
    assert upload.status_code == 201, upload.get_json()
    upload_id = upload.get_json()["id"]
    urls = client.post(f"/api/v1/provider/uploads/{upload_id}/links", json={}, headers=key).get_json()["urls"]
    put = client.put(urls["0"].removeprefix("http://localhost"), data=content, headers=upload.get_json()["headers"])
    assert put.status_code in (200, 201, 204), put.get_data(as_text=True)
    done = client.post(f"/api/v1/provider/uploads/{upload_id}/complete", headers=key)
    assert done.status_code == 200 and done.get_json()["status"] == "verified", done.get_json()
    files = client.get(f"/api/v1/provider/datasets/{slug}/versions/1.0.0", headers=key).get_json()["files"]
    assert files == [
        {
            "id": files[0]["id"],
            "path": "data/logs.csv",
            "size_bytes": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "media_type": "text/csv",
            "uploaded": True,
        }
    ]

    offer = client.post(
        f"/api/v1/provider/datasets/{slug}/offers",
        headers=key,
        json={
            "title": "Research",
            "license_id": "LicenseRef-standard-commercial-1.0",
            "price_amount": 25000,
            "currency": "eur",
            "overrides": {"seats": 3},
        },
    )
    assert offer.status_code == 201, offer.get_json()
    assert offer.get_json()["price"] == {"amount": 25000, "currency": "EUR", "formatted": "€250.00"}
    assert offer.get_json()["terms"]["seats"] == 3
    retired = client.post(f"/api/v1/provider/offers/{offer.get_json()['id']}/retire", headers=key)
    assert retired.status_code == 200 and retired.get_json()["active"] is False

    mine = client.get("/api/v1/provider/datasets", headers=key).get_json()["data"]
    assert {d["slug"] for d in mine} == {slug, "speech"}


def test_provider_write_needs_membership(world, client) -> None:
    key = bearer(world.key("purchaser", ["provider:write"]))
    refused = client.post("/api/v1/provider/datasets", json={"organisation": "prov", "record": RECORD}, headers=key)
    assert refused.status_code == 403
    assert client.get("/api/v1/provider/datasets/speech", headers=key).status_code == 404
    assert world.session.exec(select(Dataset).where(Dataset.title == RECORD["title"])).first() is None


def test_catalog_import_runs_as_a_job(world, client) -> None:
    key = bearer(world.key("clerk", ["provider:write"]))
    rows = [
        {"external_id": "a-1", "title": "Alpha corpus", "summary": "A", "modality": "text"},
        {"external_id": "b-2", "title": "Beta corpus", "summary": "B", "modality": "text"},
    ]
    content = "\n".join(json.dumps(r) for r in rows)
    started = client.post(
        "/api/v1/provider/imports", json={"organisation": "prov", "format": "jsonl", "content": content}, headers=key
    )
    assert started.status_code == 202, started.get_json()
    job = client.get(started.headers["Location"].removeprefix("http://localhost"), headers=key).get_json()
    assert job["status"] == "succeeded", job
    assert len(job["result"]["created"]) == 2 and job["problems"] == []
    stored = world.session.get(ApiJob, job["id"])
    assert "content" not in stored.input  # the file is not kept once the job is done

    failing = client.post(
        "/api/v1/provider/imports",
        headers=key,
        json={
            "organisation": "prov",
            "format": "jsonl",
            "content": '{"external_id": "c", "title": "x"}\n{"bad": 1}',
        },
    )
    job = client.get(failing.headers["Location"].removeprefix("http://localhost"), headers=key).get_json()
    assert job["status"] == "failed" and job["error"].startswith("Nothing was imported")
    assert {p.get("location") for p in job["problems"]} >= {"line 1", "line 2"}
    # Other organisations' members cannot see the job.
    outsider = bearer(world.key("outsider", ["provider:write"]))
    assert client.get(f"/api/v1/provider/imports/{job['id']}", headers=outsider).status_code == 404


def test_webhook_endpoints_through_the_api(world, client) -> None:
    key = bearer(world.key("buyer_admin", ["webhooks:manage"], org="buy"))
    created = client.post(
        "/api/v1/webhooks/endpoints",
        headers=key,
        json={"url": "http://127.0.0.1:9/hooks", "events": ["order.paid", "license.issued"]},
    )
    assert created.status_code == 201, created.get_json()
    endpoint = created.get_json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["organisation"] == "buy"
    listed = client.get("/api/v1/webhooks/endpoints", headers=key).get_json()["data"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    rotated = client.post(f"/api/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers=key).get_json()
    assert rotated["secret"] != endpoint["secret"]
    deliveries = client.get(f"/api/v1/webhooks/endpoints/{endpoint['id']}/deliveries", headers=key).get_json()
    assert deliveries == {"data": [], "next_cursor": None}
    # A member (not an admin) of the organisation may not manage them; another organisation does not see them.
    member = bearer(world.key("purchaser", ["webhooks:manage"]))
    assert client.get("/api/v1/webhooks/endpoints?organisation=buy", headers=member).status_code == 403
    rival = bearer(world.key("outsider", ["webhooks:manage"]))
    assert client.get(f"/api/v1/webhooks/endpoints/{endpoint['id']}", headers=rival).status_code == 404
    assert client.delete(f"/api/v1/webhooks/endpoints/{endpoint['id']}", headers=key).status_code == 204
    assert client.get(f"/api/v1/webhooks/endpoints/{endpoint['id']}", headers=key).status_code == 404


def test_a_croissant_import_through_the_api(world, client) -> None:
    key = bearer(world.key("clerk", ["provider:write"]))
    document = json.loads(
        (Path(__file__).parents[2] / "data" / "croissant" / "hf-parquet-splits.json").read_text(encoding="utf-8")
    )
    content = json.dumps(document)
    started = client.post(
        "/api/v1/provider/imports",
        json={"organisation": "prov", "format": "croissant", "content": content},
        headers=key,
    )
    job = client.get(started.headers["Location"].removeprefix("http://localhost"), headers=key).get_json()
    assert job["status"] == "succeeded" and len(job["result"]["created"]) == 1, job
    document["distribution"][1].pop("includes")
    document["recordSet"][1]["field"][1].pop("dataType")
    failing = client.post(
        "/api/v1/provider/imports",
        json={"organisation": "prov", "format": "croissant", "content": json.dumps(document)},
        headers=key,
    )
    job = client.get(failing.headers["Location"].removeprefix("http://localhost"), headers=key).get_json()
    assert job["status"] == "failed" and job["error"].startswith("Nothing was imported")
    assert sorted(p["field"] for p in job["problems"]) == ["distribution[1].includes", "recordSet[1].field[1].dataType"]
