"""The OpenAPI 3.1 document (security schemes, per-operation scopes, the error shape), the documentation page with
local assets, and the JSON error shape for 404 and 405."""

from __future__ import annotations

import re

from marketplace.api.core import OPERATIONS
from marketplace.apikeys.scopes import SCOPES


def test_the_document_describes_security_and_scopes(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0"
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http", "scheme": "bearer"}
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"].endswith("/oauth/token") and set(flow["scopes"]) == set(SCOPES)
    operations = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert len(operations) == len(OPERATIONS)
    for path, method, op in operations:
        assert "default" in op["responses"], (path, method)
        scope = op.get("x-required-scope")
        if op["security"]:
            assert op["security"] == [{"apiKey": [scope] if scope else []}, {"oauth2": [scope] if scope else []}]
        if method == "post":
            assert any(p["name"] == "Idempotency-Key" for p in op["parameters"])
    assert doc["paths"]["/api/v1/licenses/{license_id}/verify"]["get"]["security"] == []
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert "DatasetRecordInput" in doc["components"]["schemas"]


def test_the_docs_page_serves_its_assets_locally(client) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-eval'" not in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in html and "style=" not in html
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset
    assert "http://" not in html.replace('xmlns="http://', "") and "https://" not in html


def test_every_error_has_the_one_json_shape(world, client) -> None:
    from tests.functional.api.conftest import bearer

    key = bearer(world.key("purchaser"))
    cases = {
        "/api/v1/nope": ("GET", 404, "not_found"),
        "/api/v1/me": ("DELETE", 405, "method_not_allowed"),
        "/api/v1/orders": ("PUT", 405, "method_not_allowed"),
        "/api/v1/datasets/no-such-thing": ("GET", 404, "not_found"),
        "/api/v1/datasets?cursor=forged": ("GET", 400, "invalid_cursor"),
        "/api/v1/datasets?page=2": ("GET", 422, "validation_failed"),
    }
    for path, (method, status, code) in cases.items():
        response = client.open(path, method=method, headers=key)
        assert response.status_code == status, (path, response.get_data(as_text=True))
        body = response.get_json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
        assert body["error"]["code"] == code, (path, body)
    assert "GET" in client.open("/api/v1/orders", method="PUT", headers=key).headers["Allow"]
    bad = client.post("/api/v1/orders", json={"licensee": "buy", "lines": [], "surprise": 1}, headers=key)
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.get_json()["error"]["details"]}
    assert fields == {"lines", "surprise"}
    broken = client.post("/api/v1/orders", data="{not json", headers={**key, "Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "invalid_json"


def test_pagination_is_stable_with_opaque_cursors(world, client) -> None:
    from tests.functional.api.conftest import bearer

    key = bearer(world.key("buyer_admin"))
    extra = world.objects["extra"]
    body = {"licensee": "buy", "lines": [{"offer_id": extra.id, "accepted_terms_hash": extra.terms_hash}]}
    for _ in range(4):
        assert client.post("/api/v1/orders", json=body, headers=key).status_code == 201
    seen: list[int] = []
    cursor = None
    while True:
        url = "/api/v1/orders?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=key).get_json()
        seen += [o["id"] for o in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 5
    tampered = client.get(f"/api/v1/orders?cursor={cursor or 'eyJ4IjoxfQ.abc'}", headers=key)
    assert tampered.status_code == 400 and tampered.get_json()["error"]["code"] == "invalid_cursor"
