"""Governed access arranged for API tests: the ``world``'s dataset under a mode with an agreement, people who ask
and sign through the API, and a clock tests move by hand."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from marketplace.access import agreements, policy
from marketplace.access import requests as access_requests
from marketplace.access.states import AccessMode, HolderKind
from marketplace.accounts.models import Role
from marketplace.db import utcnow
from tests.factories import DatasetFactory, member
from tests.functional.api.conftest import World, bearer, work

ACCESS_SCOPES = ["access:request", "access:review"]
PDF = b"%PDF-1.4 training certificate"


class Clock:
    """A clock the services read through the unit of work; tests move ``now`` instead of sleeping."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def use_clock(app: Flask, clock: Clock) -> None:
    """Every unit of work the app opens from now on (requests, CLI commands) reads ``clock``."""
    context = app.extensions["marketplace.context"]
    app.extensions["marketplace.context"] = replace(context.at(clock), settings=dict(app.config))


def govern(world: World, mode: AccessMode = AccessMode.GATED_MANUAL, **options: Any) -> Any:
    """Put the world's dataset under ``mode`` with a research-only agreement; returns the agreement."""
    uow = work(world.app, world.session)
    seller, dataset = world.people["seller"], world.objects["dataset"]
    dua = agreements.create_agreement(uow, seller, world.orgs["prov"], template="research-only")
    policy.configure_access(uow, seller, dataset, mode=mode, agreement_id=dua.id, **options)
    world.session.flush()
    return dua


def requester(world: World, name: str) -> dict[str, str]:
    """A new member of the buyer organisation ``buy`` and their personal key (scope ``access:request``)."""
    if name not in world.people:
        world.people[name] = member(world.orgs["buy"], Role.MEMBER, email=f"{name}@example.org")
    return bearer(world.key(name, ["access:request"]))


def form(**changes: Any) -> dict[str, Any]:
    body = {
        "organisation": "buy",
        "full_name": "Pat Purchaser",
        "intended_uses": ["research"],
        "intended_use_text": "Training a de-identification model.",
        "country": "DE",
    }
    return {**body, **changes}


def ask_and_sign(client: FlaskClient, headers: dict[str, str], slug: str = "speech") -> dict[str, Any]:
    """Request access and sign the agreement it names, through the API; returns the signed request."""
    asked = client.post(f"/api/v1/datasets/{slug}/access-requests", json=form(), headers=headers)
    assert asked.status_code == 201, asked.get_json()
    request = asked.get_json()
    if request["agreement"] is None:
        return request
    signed = client.post(
        f"/api/v1/access-requests/{request['id']}/signature",
        json={"full_name": "Pat Purchaser", "sha256": request["agreement"]["sha256"]},
        headers={**headers, "User-Agent": "research-client/1.0"},
    )
    assert signed.status_code == 201, signed.get_json()
    return dict(signed.get_json())


def credential_body(**changes: Any) -> dict[str, Any]:
    body = {
        "issuer": "CITI Program",
        "course": "Data or Specimens Only Research",
        "completed_on": "2025-01-10",
        "expires_on": None,
        "filename": "citi.pdf",
        "media_type": "application/pdf",
        "content_base64": base64.b64encode(PDF).decode(),
    }
    return {**body, **changes}


@dataclass
class Arranged:
    """Ids, bodies and queries with which every governed-access route succeeds (for the permission matrix)."""

    values: dict[str, Any] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)


def governed_access(world: World, client: FlaskClient, headers: dict[str, str]) -> Arranged:
    """For ``buyer_admin`` (admin of the provider, owner of the buyer; ``headers`` is their key with every scope):
    the world's dataset governed with an agreement and held by organisations, an approved request (whose approval
    has their seat), a signed request waiting for review, a second governed dataset to ask for, and a credential
    they may verify as a trusted reviewer."""
    dua = govern(world, AccessMode.GATED_MANUAL, holder=HolderKind.ORGANISATION)
    uow = work(world.app, world.session)
    seller, admin = world.people["seller"], world.people["buyer_admin"]
    second = DatasetFactory(organisation=world.orgs["prov"], slug="gated-two", title="Gated two")
    policy.configure_access(uow, seller, second, mode=AccessMode.GATED_MANUAL)
    policy.set_reviewer(uow, seller, world.orgs["prov"], admin, verifies_credentials=True)
    world.session.flush()
    approved = ask_and_sign(client, headers)
    [approval] = access_requests.approve_requests(uow, seller, [approved["id"]])
    world.session.flush()
    waiting = ask_and_sign(client, headers)
    uploaded = client.post("/api/v1/credentials", json=credential_body(), headers=headers)
    assert uploaded.status_code == 201, uploaded.get_json()
    return Arranged(
        values={
            "request_id": waiting["id"],
            "approval_id": approval.id,
            "credential_id": uploaded.get_json()["id"],
            "agreement_id": dua.id,
            "user_id": admin.id,
            "POST /v1/datasets/{slug}/access-requests": {"slug": "gated-two"},
        },
        bodies={
            "POST /v1/datasets/{slug}/access-requests": form(),
            "POST /v1/access-requests/{request_id}/signature": {
                "full_name": "Pat Purchaser",
                "sha256": waiting["agreement"]["sha256"],
            },
            "POST /v1/access-approvals/{approval_id}/seats": {"email": "purchaser@example.org"},
            "POST /v1/credentials": credential_body(),
            "POST /v1/provider/access-requests/approve": {"requests": [{"id": waiting["id"]}]},
            "POST /v1/provider/access-requests/reject": {"requests": [{"id": waiting["id"]}], "reason": "No."},
            "POST /v1/provider/access-approvals/{approval_id}/revoke": {"reason": "Breach of clause 3."},
            "POST /v1/provider/datasets/{slug}/access-grants": {
                "email": "purchaser@example.org",
                "organisation": "buy",
            },
            "POST /v1/provider/credentials/{credential_id}/refuse": {"reason": "Unreadable."},
            "PUT /v1/provider/datasets/{slug}/access": {"samples_public": False},
            "POST /v1/provider/agreements": {"organisation": "prov", "template": "research-only"},
            "POST /v1/provider/agreements/{agreement_id}/versions": {"body": "# A new text\n"},
        },
        queries={
            "GET /v1/provider/access-requests": "organisation=prov",
            "GET /v1/provider/access-approvals": "organisation=prov",
            "GET /v1/provider/access-report": "organisation=prov",
            "GET /v1/provider/agreements": "organisation=prov",
        },
    )
