"""``GET /api/v1/providers/{org}/analytics``: the analytics page's figures as JSON, amounts in minor units with their
currency, for the provider's members only (never another organisation's credential, never a platform admin's)."""

from __future__ import annotations

from typing import Any

from marketplace.apikeys import services as keys
from marketplace.db import UnitOfWork


def _key(app, db_session, user, scopes: list[str], org: Any = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _row, secret = keys.create_key(
        UnitOfWork(db_session, app.extensions["marketplace.context"]), user, name="analytics", scopes=scopes,
        environment="live", organisation=org,
    )  # fmt: skip
    db_session.flush()
    return {"Authorization": f"Bearer {secret}"}


def test_the_report_as_json(app, client, world, db_session) -> None:
    headers = _key(app, db_session, world["clerk"], ["analytics:read"])  # a member's personal key
    body = client.get("/api/v1/providers/prov/analytics?days=30&bucket=week", headers=headers).get_json()
    assert body["organisation"] == "prov" and body["dataset"] is None
    assert (body["first_day"], body["last_day"], body["bucket"]) == ("2026-11-01", "2026-11-30", "week")
    assert body["funnel"][3] == {"period_start": "2026-11-16", "period_end": "2026-11-22", "listing_views": 3,
                                 "offer_views": 2, "checkouts": 1, "sales": 1}  # fmt: skip
    assert body["revenue"] == [
        {"dataset": "speech", "title": "Speech", "currency": "EUR", "sales": 2, "gross": 250000,
         "platform_fee": 25000, "refunded": 125000, "net": 112500},
        {"dataset": "speech", "title": "Speech", "currency": "USD", "sales": 1, "gross": 50000,
         "platform_fee": 5000, "refunded": 0, "net": 45000},
    ]  # fmt: skip
    assert [(d["licensee"], d["downloads"], d["files"]) for d in body["downloads"]] == [
        ("Buyer Co", 3, 2), ("Rival Co", 1, 1),
    ]  # fmt: skip
    one = client.get("/api/v1/providers/prov/analytics?days=365&dataset=images", headers=headers).get_json()
    assert one["dataset"] == "images" and [r["net"] for r in one["revenue"]] == [18000]


def test_who_may_read_it(app, client, world, db_session) -> None:
    path = "/api/v1/providers/prov/analytics"
    assert client.get(path).status_code == 401
    wrong_scope = _key(app, db_session, world["seller"], ["catalog:read"], world["provider"])
    assert client.get(path, headers=wrong_scope).status_code == 403
    other = _key(app, db_session, world["other"], ["analytics:read"], world["other_org"])
    assert client.get(path, headers=other).status_code == 403
    assert client.get("/api/v1/providers/other/analytics", headers=other).status_code == 200
    mixing = client.get("/api/v1/providers/other/analytics?dataset=speech", headers=other)
    assert mixing.status_code == 403  # speech is Provider Co's: its report is not the other provider's to read
    admin = _key(app, db_session, world["admin"], ["analytics:read"])
    assert client.get(path, headers=admin).status_code == 403  # platform powers never through a credential
    seller = _key(app, db_session, world["seller"], ["analytics:read"], world["provider"])
    bad = client.get(path + "?days=7", headers=seller)
    assert bad.status_code == 422 and bad.get_json()["error"]["details"][0]["field"] == "days"
    assert client.get("/api/v1/providers/nobody/analytics", headers=seller).status_code == 404
