"""The custom-data exchange through the API: request → two quotes → comparison → acceptance, revisions, threads
with attachments; bad input refused with the field named and nothing written; who sees what (404, not 403)."""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from marketplace.accounts.models import OrgKind, Role
from marketplace.api.core import OPERATIONS
from marketplace.api.openapi import build_document
from marketplace.custom.models import Attachment, Contract, DataRequest, Message, Quote, QuoteRevision, Thread
from tests.factories import OrganisationFactory, member
from tests.functional.api.conftest import World, bearer
from tests.functional.api.custom_support import attachment_body
from tests.functional.custom.conftest import quote_data, request_spec

LIMIT = 1024


@pytest.fixture()
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["CUSTOM_ATTACHMENT_MAX_BYTES"] = LIMIT
    return app_settings


@pytest.fixture()
def keys(world: World) -> dict[str, dict[str, str]]:
    """Keys for the buyer, two providers, another provider and another buyer (custom scopes only)."""
    rival_provider = OrganisationFactory(slug="other-prov", name="Other Provider", kind=OrgKind.PROVIDER)
    second = OrganisationFactory(slug="prov-two", name="Second Provider", kind=OrgKind.PROVIDER)
    world.orgs.update({"other-prov": rival_provider, "prov-two": second})
    world.people["other_seller"] = member(rival_provider, Role.OWNER, email="other-seller@example.org")
    world.people["second_seller"] = member(second, Role.OWNER, email="second-seller@example.org")
    world.session.flush()
    scopes = ["custom:read", "custom:write"]
    return {
        "buyer": bearer(world.key("purchaser", scopes)),
        "prov": bearer(world.key("seller", scopes)),
        "prov-two": bearer(world.key("second_seller", scopes)),
        "other-prov": bearer(world.key("other_seller", scopes)),
        "rival": bearer(world.key("outsider", scopes)),
        "none": {},
    }


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def _fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == "validation_failed"
    return {d["field"] for d in body["error"]["details"]}


def _count(world: World, model: Any) -> int:
    return int(world.session.exec(select(func.count()).select_from(model)).one())


def _post_request(client: Any, keys: dict[str, dict[str, str]], **changes: Any) -> dict[str, Any]:
    return _ok(client.post("/api/v1/custom/requests", json=request_spec(**changes), headers=keys["buyer"]), 201)


def test_request_two_quotes_compare_accept(world: World, client: Any, keys: dict[str, dict[str, str]]) -> None:
    created = client.post(
        "/api/v1/custom/requests",
        json=request_spec(publish=False, invite=["prov"]),
        headers={**keys["buyer"], "Idempotency-Key": "post-request-1"},
    )
    request = _ok(created, 201)
    assert created.headers["Location"].endswith(f"/api/v1/custom/requests/{request['id']}")
    assert request["state"] == "draft" and request["your_side"] == "buyer" and request["buyer"] == "Buyer Co"
    assert [i["provider"]["slug"] for i in request["invitations"]] == ["prov"]
    rid = request["id"]
    # A draft is nobody else's business; publishing puts it on the board, without the buyer's name.
    assert client.get(f"/api/v1/custom/requests/{rid}", headers=keys["prov-two"]).status_code == 404
    assert _ok(client.post(f"/api/v1/custom/requests/{rid}/publish", headers=keys["buyer"]))["state"] == "open"
    board = _ok(client.get("/api/v1/custom/board", headers=keys["prov-two"]))
    assert [r["id"] for r in board["data"]] == [rid] and board["data"][0]["buyer"] is None
    assert board["data"][0]["invitations"] == [] and board["data"][0]["your_side"] == "provider"
    attached = _ok(
        client.post(
            f"/api/v1/custom/requests/{rid}/attachments", json=attachment_body(b"a,b\n1,2\n"), headers=keys["buyer"]
        ),
        201,
    )
    assert attached["size_bytes"] == 8 and attached["filename"] == "spec.txt"
    # A media type that is not one is refused by name, and nothing is attached.
    bad = client.post(
        f"/api/v1/custom/requests/{rid}/attachments",
        json={**attachment_body(b"x"), "media_type": "AW"},
        headers=keys["buyer"],
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["details"][0]["field"] == "media_type"
    assert _ok(client.get(f"/api/v1/custom/requests/{rid}", headers=keys["prov"]))["attachments"] == [attached]

    first = _ok(
        client.post(f"/api/v1/custom/requests/{rid}/quotes", json=quote_data(3_000_000), headers=keys["prov"]), 201
    )
    open_terms = quote_data(2_000_000, license_id="CC-BY-4.0", payment_plan="upfront")
    second = _ok(client.post(f"/api/v1/custom/requests/{rid}/quotes", json=open_terms, headers=keys["prov-two"]), 201)
    assert first["state"] == "submitted" and [m["amount"] for m in first["current"]["milestones"]] == [
        750_000,
        2_250_000,
    ]

    # The buyer edits after the first quote: the earlier version is kept.
    edited = _ok(client.patch(f"/api/v1/custom/requests/{rid}", json={"volume_amount": 250}, headers=keys["buyer"]))
    assert edited["revision"] == 2 and edited["volume_amount"] == 250 and edited["title"] == request["title"]
    kept = _ok(client.get(f"/api/v1/custom/requests/{rid}/revisions", headers=keys["prov"]))["data"]
    assert [(r["number"], r["spec"]["volume_amount"]) for r in kept] == [(1, 200)]

    # The first provider revises its quote; both versions stay readable.
    revised = _ok(
        client.post(f"/api/v1/custom/quotes/{first['id']}/revisions", json=quote_data(2_800_000), headers=keys["prov"]),
        201,
    )
    assert revised["state"] == "revised" and revised["revision"] == 2
    versions = _ok(client.get(f"/api/v1/custom/quotes/{first['id']}/revisions", headers=keys["prov"]))["data"]
    assert [v["price_amount"] for v in versions] == [3_000_000, 2_800_000]

    listed = _ok(client.get(f"/api/v1/custom/requests/{rid}/quotes", headers=keys["buyer"]))["data"]
    assert {q["id"] for q in listed} == {first["id"], second["id"]}
    comparison = _ok(client.get(f"/api/v1/custom/requests/{rid}/comparison", headers=keys["buyer"]))
    assert [(q["quote_id"], q["price_amount"]) for q in comparison["quotes"]] == [
        (first["id"], 2_800_000),
        (second["id"], 2_000_000),
    ]
    assert comparison["differing_terms"] and all(q["terms"] for q in comparison["quotes"])
    assert comparison["quotes"][0]["last_due_date"] == quote_data()["milestones"][-1]["due_date"]

    # The private thread, with a file.
    thread = _ok(client.post(f"/api/v1/custom/requests/{rid}/threads", json={}, headers=keys["prov"]))
    said = _ok(
        client.post(
            f"/api/v1/custom/threads/{thread['id']}/messages",
            json={"body": "Sample attached.", "attachments": [attachment_body(b"x" * 10, "sample.csv")]},
            headers=keys["prov"],
        ),
        201,
    )
    assert said["side"] == "provider" and said["mine"] and said["attachments"][0]["filename"] == "sample.csv"
    same = _ok(client.post(f"/api/v1/custom/requests/{rid}/threads", json={"provider": "prov"}, headers=keys["buyer"]))
    assert same["id"] == thread["id"]
    _ok(
        client.post(f"/api/v1/custom/threads/{thread['id']}/messages", json={"body": "Thanks"}, headers=keys["buyer"]),
        201,
    )
    read = _ok(client.get(f"/api/v1/custom/threads/{thread['id']}/messages?limit=1", headers=keys["buyer"]))
    assert [m["side"] for m in read["data"]] == ["provider"] and read["next_cursor"]
    rest = _ok(
        client.get(
            f"/api/v1/custom/threads/{thread['id']}/messages?cursor={read['next_cursor']}", headers=keys["buyer"]
        )
    )
    assert [(m["side"], m["mine"]) for m in rest["data"]] == [("buyer", True)] and rest["next_cursor"] is None

    accepted = client.post(
        f"/api/v1/custom/quotes/{second['id']}/accept", headers={**keys["buyer"], "Idempotency-Key": "accept-1"}
    )
    body = _ok(accepted, 201)
    contract = world.session.get(Contract, body["contract_id"])
    assert contract is not None and contract.quote_id == second["id"] and contract.price_amount == 2_000_000
    assert body["contract_url"].endswith(f"/api/v1/contracts/{contract.id}") and body["quote"]["state"] == "accepted"
    # A retry with the same key replays the answer instead of accepting twice.
    replay = client.post(
        f"/api/v1/custom/quotes/{second['id']}/accept", headers={**keys["buyer"], "Idempotency-Key": "accept-1"}
    )
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json()["contract_id"] == contract.id
    loser = _ok(client.get(f"/api/v1/custom/quotes/{first['id']}", headers=keys["prov"]))
    assert loser["state"] == "declined" and loser["decline_reason"]
    assert _ok(client.get(f"/api/v1/custom/requests/{rid}", headers=keys["buyer"]))["state"] == "awarded"
    again = client.post(f"/api/v1/custom/quotes/{first['id']}/accept", headers=keys["buyer"])
    assert again.status_code == 409 and set(again.get_json()) == {"error"}


def test_decline_withdraw_close_and_invitations(world: World, client: Any, keys: dict[str, dict[str, str]]) -> None:
    rid = _post_request(client, keys)["id"]
    a = _ok(client.post(f"/api/v1/custom/requests/{rid}/quotes", json=quote_data(), headers=keys["prov"]), 201)
    b = _ok(client.post(f"/api/v1/custom/requests/{rid}/quotes", json=quote_data(), headers=keys["prov-two"]), 201)
    assert _fields(client.post(f"/api/v1/custom/quotes/{a['id']}/decline", json={}, headers=keys["buyer"])) == {
        "reason"
    }
    declined = _ok(
        client.post(f"/api/v1/custom/quotes/{a['id']}/decline", json={"reason": "Too slow."}, headers=keys["buyer"])
    )
    assert declined["state"] == "declined" and declined["decline_reason"] == "Too slow."
    withdrawn = _ok(client.post(f"/api/v1/custom/quotes/{b['id']}/withdraw", json={}, headers=keys["prov-two"]))
    assert withdrawn["state"] == "withdrawn"
    # The buyer may not withdraw a provider's quote, nor a provider decline its own.
    assert (
        client.post(
            f"/api/v1/custom/quotes/{b['id']}/decline", json={"reason": "x"}, headers=keys["prov-two"]
        ).status_code
        == 403
    )
    invited = _ok(
        client.post(
            f"/api/v1/custom/requests/{rid}/invitations", json={"provider": "other-prov"}, headers=keys["buyer"]
        ),
        201,
    )
    assert [i["provider"]["slug"] for i in invited["invitations"]] == ["other-prov"]
    unknown = client.post(
        f"/api/v1/custom/requests/{rid}/invitations", json={"provider": "rival"}, headers=keys["buyer"]
    )
    assert _fields(unknown) == {"provider"}
    closed = _ok(
        client.post(f"/api/v1/custom/requests/{rid}/close", json={"reason": "Budget cut."}, headers=keys["buyer"])
    )
    assert closed["state"] == "closed" and closed["timeline"][-1]["reason"] == "Budget cut."


# --- bad input -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"volume_amount": 0}, "volume_amount"),
        ({"volume_amount": -5}, "volume_amount"),
        ({"volume_amount": 10**15}, "volume_amount"),
        ({"languages": ["xx-notalanguage"]}, "languages"),
        ({"currency": "EUX"}, "currency"),
        ({"budget_min": 6_000_000}, "budget_min"),
        ({"deadline": "2001-01-01"}, "deadline"),
        ({"license_id": "LicenseRef-nothing-9"}, "license_id"),
        ({"visibility": "secret"}, "visibility"),
    ],
)
def test_bad_request_input_names_the_field_and_writes_nothing(world, client, keys, changes, field_name) -> None:
    response = client.post(
        "/api/v1/custom/requests",
        json=request_spec(**changes),
        headers={**keys["buyer"], "Idempotency-Key": f"bad-{field_name}"},
    )
    assert field_name in _fields(response)
    assert _count(world, DataRequest) == 0


def _milestones(n: int, price: int, due: date) -> list[dict[str, Any]]:
    share = price // n
    return [
        {
            "title": f"Part {i + 1}",
            "quantity": 1,
            "due_date": str(due),
            "amount": share + (price - share * n if i == 0 else 0),
        }
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"price_amount": 3_100_000}, "milestones"),
        ({"milestones": _milestones(21, 3_000_000, date.today() + timedelta(10))}, "milestones"),
        ({"milestones": _milestones(2, 3_000_000, date.today() - timedelta(1))}, "milestones.0.due_date"),
        ({"milestones": _milestones(2, 3_000_000, date.today() + timedelta(400))}, "milestones.1.due_date"),
        ({"valid_until": "2001-01-01T00:00:00Z"}, "valid_until"),
        ({"currency": "XXY"}, "currency"),
        ({"price_amount": 0}, "price_amount"),
        ({"license_overrides": {"seats": -1}}, "license_overrides.seats"),
    ],
)
def test_bad_quote_input_names_the_field_and_writes_nothing(world, client, keys, changes, field_name) -> None:
    rid = _post_request(client, keys)["id"]
    response = client.post(f"/api/v1/custom/requests/{rid}/quotes", json=quote_data(**changes), headers=keys["prov"])
    assert field_name in _fields(response)
    assert _count(world, Quote) == 0 and _count(world, QuoteRevision) == 0
    assert _ok(client.get(f"/api/v1/custom/requests/{rid}", headers=keys["buyer"]))["state"] == "open"


def test_a_bad_revision_keeps_the_quote_as_it_was(world, client, keys) -> None:
    rid = _post_request(client, keys)["id"]
    qid = _ok(client.post(f"/api/v1/custom/requests/{rid}/quotes", json=quote_data(), headers=keys["prov"]), 201)["id"]
    bad = client.post(f"/api/v1/custom/quotes/{qid}/revisions", json=quote_data(price_amount=1), headers=keys["prov"])
    assert "milestones" in _fields(bad)
    quote = _ok(client.get(f"/api/v1/custom/quotes/{qid}", headers=keys["prov"]))
    assert quote["state"] == "submitted" and quote["revision"] == 1 and _count(world, QuoteRevision) == 1


def test_bad_edits_keep_the_request_as_it_was(world, client, keys) -> None:
    rid = _post_request(client, keys)["id"]
    bad = client.patch(f"/api/v1/custom/requests/{rid}", json={"budget_min": 9_000_000}, headers=keys["buyer"])
    assert _fields(bad) == {"budget_min"}
    assert _ok(client.get(f"/api/v1/custom/requests/{rid}", headers=keys["buyer"]))["budget_min"] == 1_000_000


def test_attachments_over_the_limit_or_not_base64_are_refused(world, client, keys) -> None:
    rid = _post_request(client, keys)["id"]
    path = f"/api/v1/custom/requests/{rid}/attachments"
    too_big = client.post(path, json=attachment_body(b"x" * (LIMIT + 1)), headers=keys["buyer"])
    assert _fields(too_big) == {"file"} and "limit" in too_big.get_json()["error"]["message"]
    assert _fields(client.post(path, json={"filename": "a.txt", "file": "not base64!"}, headers=keys["buyer"])) == {
        "file"
    }
    _ok(client.post(path, json=attachment_body(b"x" * LIMIT), headers=keys["buyer"]), 201)
    thread = _ok(client.post(f"/api/v1/custom/requests/{rid}/threads", json={}, headers=keys["prov"]))
    message = {"body": "Two files", "attachments": [attachment_body(b"ok"), attachment_body(b"x" * (LIMIT + 1))]}
    refused = client.post(f"/api/v1/custom/threads/{thread['id']}/messages", json=message, headers=keys["prov"])
    assert _fields(refused) == {"attachments.1.file"}
    assert _count(world, Message) == 0 and _count(world, Attachment) == 1


# --- who sees what -------------------------------------------------------------------------------------------------


def test_invited_only_requests_quotes_and_threads_stay_private(world, client, keys) -> None:
    rid = _post_request(client, keys, visibility="invited", invite=["prov"])["id"]
    quote = _ok(client.post(f"/api/v1/custom/requests/{rid}/quotes", json=quote_data(), headers=keys["prov"]), 201)
    thread = _ok(client.post(f"/api/v1/custom/requests/{rid}/threads", json={}, headers=keys["prov"]))
    assert rid in {r["id"] for r in _ok(client.get("/api/v1/custom/requests", headers=keys["prov"]))["data"]}
    invited_view = _ok(client.get(f"/api/v1/custom/requests/{rid}", headers=keys["prov"]))
    assert invited_view["buyer"] is None and invited_view["invitations"] == []
    qid, tid = quote["id"], thread["id"]
    hidden = [
        ("GET", f"/api/v1/custom/requests/{rid}", None),
        ("PATCH", f"/api/v1/custom/requests/{rid}", {"title": "Mine now"}),
        ("GET", f"/api/v1/custom/requests/{rid}/revisions", None),
        ("POST", f"/api/v1/custom/requests/{rid}/publish", None),
        ("POST", f"/api/v1/custom/requests/{rid}/invitations", {"provider": "other-prov"}),
        ("POST", f"/api/v1/custom/requests/{rid}/attachments", attachment_body(b"x")),
        ("POST", f"/api/v1/custom/requests/{rid}/close", {}),
        ("GET", f"/api/v1/custom/requests/{rid}/quotes", None),
        ("POST", f"/api/v1/custom/requests/{rid}/quotes", quote_data()),
        ("GET", f"/api/v1/custom/requests/{rid}/comparison", None),
        ("GET", f"/api/v1/custom/requests/{rid}/threads", None),
        ("POST", f"/api/v1/custom/requests/{rid}/threads", {}),
        ("GET", f"/api/v1/custom/quotes/{qid}", None),
        ("GET", f"/api/v1/custom/quotes/{qid}/revisions", None),
        ("POST", f"/api/v1/custom/quotes/{qid}/revisions", quote_data()),
        ("POST", f"/api/v1/custom/quotes/{qid}/withdraw", {}),
        ("POST", f"/api/v1/custom/quotes/{qid}/decline", {"reason": "no"}),
        ("POST", f"/api/v1/custom/quotes/{qid}/accept", None),
        ("GET", f"/api/v1/custom/threads/{tid}/messages", None),
        ("POST", f"/api/v1/custom/threads/{tid}/messages", {"body": "Psst"}),
    ]
    for who in ("other-prov", "rival"):
        for method, path, body in hidden:
            response = client.open(path, method=method, json=body, headers=keys[who])
            assert response.status_code == 404, (who, method, path, response.get_data(as_text=True))
        assert rid not in {r["id"] for r in _ok(client.get("/api/v1/custom/requests", headers=keys[who]))["data"]}
        assert rid not in {r["id"] for r in _ok(client.get("/api/v1/custom/board", headers=keys[who]))["data"]}
    for method, path, body in hidden:
        response = client.open(path, method=method, json=body, headers=keys["none"])
        assert response.status_code == 401, (method, path)
    assert _count(world, Thread) == 1 and _count(world, Quote) == 1


def test_on_an_open_request_providers_see_only_their_own_quote_and_thread(world, client, keys) -> None:
    rid = _post_request(client, keys, show_buyer_name=True)["id"]
    mine = _ok(client.post(f"/api/v1/custom/requests/{rid}/quotes", json=quote_data(), headers=keys["prov"]), 201)
    theirs = _ok(client.post(f"/api/v1/custom/requests/{rid}/quotes", json=quote_data(), headers=keys["prov-two"]), 201)
    mine_thread = _ok(client.post(f"/api/v1/custom/requests/{rid}/threads", json={}, headers=keys["prov"]))
    _ok(client.post(f"/api/v1/custom/requests/{rid}/threads", json={}, headers=keys["prov-two"]))
    assert _ok(client.get(f"/api/v1/custom/requests/{rid}", headers=keys["prov-two"]))["buyer"] == "Buyer Co"
    quotes_seen = _ok(client.get(f"/api/v1/custom/requests/{rid}/quotes", headers=keys["prov-two"]))["data"]
    assert [q["id"] for q in quotes_seen] == [theirs["id"]]
    threads_seen = _ok(client.get(f"/api/v1/custom/requests/{rid}/threads", headers=keys["prov-two"]))["data"]
    assert [t["provider"]["slug"] for t in threads_seen] == ["prov-two"]
    for path in (
        f"/api/v1/custom/quotes/{mine['id']}",
        f"/api/v1/custom/quotes/{mine['id']}/revisions",
        f"/api/v1/custom/threads/{mine_thread['id']}/messages",
    ):
        assert client.get(path, headers=keys["prov-two"]).status_code == 404, path
    assert (
        client.post(f"/api/v1/custom/quotes/{mine['id']}/withdraw", json={}, headers=keys["prov-two"]).status_code
        == 404
    )
    # Another buyer organisation sees the open request on the board, but none of its quotes or threads.
    assert _ok(client.get(f"/api/v1/custom/requests/{rid}/quotes", headers=keys["rival"]))["data"] == []
    assert _ok(client.get(f"/api/v1/custom/requests/{rid}/threads", headers=keys["rival"]))["data"] == []
    assert client.get(f"/api/v1/custom/requests/{rid}/comparison", headers=keys["rival"]).status_code == 403
    assert client.get(f"/api/v1/custom/quotes/{theirs['id']}", headers=keys["rival"]).status_code == 404
    assert client.post(f"/api/v1/custom/quotes/{theirs['id']}/accept", headers=keys["rival"]).status_code == 404
    assert _count(world, Contract) == 0


# --- the document --------------------------------------------------------------------------------------------------


def test_the_openapi_document_lists_every_custom_route_with_its_schemas(client) -> None:
    doc = _ok(client.get("/api/v1/openapi.json"))
    custom = [op for op in OPERATIONS if op.path.startswith("/v1/custom/")]
    assert len(custom) == 23
    components = doc["components"]["schemas"]
    for op in custom:
        item = doc["paths"]["/api" + op.path][op.method.lower()]
        assert item["x-required-scope"] in ("custom:read", "custom:write"), op.path
        assert item["tags"] == ["Custom data"]
        success = item["responses"][str(op.status)]
        ref = success["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[-1] in components, (op.method, op.path)
        if op.body is not None:
            body_ref = item["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert body_ref.rsplit("/", 1)[-1] in components
        if op.method == "POST":
            assert any(p["name"] == "Idempotency-Key" for p in item["parameters"])
    assert {"RequestCreate", "QuoteSubmit", "Quote", "Milestone", "RequestUpdate", "DataRequest"} <= set(components)
    assert components["Quote"]["properties"]["milestones"]["maxItems"] == 20
    scopes = doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"]
    assert {"custom:read", "custom:write"} <= set(scopes)
    # No two schemas share a name (apispec would rename one "Reason1" and warn).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_document("http://localhost")
