"""Hostile request bodies: deeply nested or oversized JSON is a 400 in the API's error shape, never a 500."""

from __future__ import annotations

import pytest

from tests.functional.api.conftest import bearer

NESTED = b"[" * 2000 + b"]" * 2000


@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/provider/datasets"])
def test_deeply_nested_arrays_are_a_400(world, client, path) -> None:
    key = bearer(world.key("seller", org="prov") if "provider" in path else world.key("purchaser"))
    response = client.post(path, data=NESTED, headers={**key, "Content-Type": "application/json"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "json_too_deep"
    assert error["details"][0]["field"] == "body"


def test_nesting_the_parser_survives_is_still_refused(world, client) -> None:
    # 100 levels parse without RecursionError but are past the bound: refused before any schema or walk sees them.
    deep: object = "x"
    for _ in range(100):
        deep = {"a": deep}
    key = bearer(world.key("seller", org="prov"))
    response = client.post("/api/v1/provider/datasets", json={"record": {"title": "T", "x": deep}}, headers=key)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "json_too_deep"


def test_a_body_of_too_many_values_is_a_400(world, client, monkeypatch) -> None:
    from marketplace import boundedjson

    monkeypatch.setattr(boundedjson, "MAX_VALUES", 1000)
    key = bearer(world.key("purchaser"))
    response = client.post("/api/v1/orders", json={"licensee": "buy", "lines": [0] * 2000}, headers=key)
    assert response.status_code == 400
    body = response.get_json()["error"]
    assert body["code"] == "json_too_large" and body["details"][0]["field"] == "body"


def test_a_body_over_the_size_bound_is_refused_in_the_error_shape(world, client, monkeypatch) -> None:
    monkeypatch.setitem(client.application.config, "MAX_CONTENT_LENGTH", 1024)
    key = bearer(world.key("purchaser"))
    response = client.post("/api/v1/orders", json={"licensee": "buy", "pad": "x" * 4096}, headers=key)
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == "request_entity_too_large"


@pytest.mark.parametrize(
    ("fmt", "content", "location"),
    [
        (
            "jsonl",
            '{"external_id": "a-1", "title": "Alpha", "summary": "A", "modality": "text"}\n' + "[" * 3000 + "]" * 3000,
            "line 2",
        ),
        ("csv", "external_id,title\na-1,Alpha\n" + '"' + "x" * 200_000 + '",Beta\n', "row 3"),
    ],
)
def test_a_hostile_catalog_import_job_names_the_row(world, client, fmt, content, location) -> None:
    key = bearer(world.key("clerk", ["provider:write"]))
    started = client.post(
        "/api/v1/provider/imports", json={"organisation": "prov", "format": fmt, "content": content}, headers=key
    )
    assert started.status_code == 202, started.get_json()
    job = client.get(started.headers["Location"].removeprefix("http://localhost"), headers=key).get_json()
    assert job["status"] == "failed" and job["error"].startswith("Nothing was imported"), job
    assert [p["location"] for p in job["problems"]] == [location]
