"""Property-based conformance of the served OpenAPI document (schemathesis, through WSGI): for every operation,
with generated input and with known resources, no 5xx and every response matches its documented status, media
type, headers and schema. Bounded: a few examples per operation, derandomized so a failure reproduces."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.accounts.models import Role
from tests.factories import MembershipFactory
from tests.functional.api.conftest import bearer, work
from tests.functional.api.custom_support import custom_for_matrix

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 6


@pytest.fixture()
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["API_RATE_LIMIT_PER_KEY"] = "1000000 per minute"
    app_settings["API_RATE_LIMIT_PER_ADDRESS"] = "1000000 per minute"
    return app_settings


def test_every_operation_conforms_to_the_document(app, world) -> None:
    # One person who is an admin of the provider and owner of a buyer: most operations can succeed.
    MembershipFactory(organisation=world.orgs["prov"], user=world.people["buyer_admin"], role=Role.ADMIN)
    world.session.flush()
    auth = bearer(world.key("buyer_admin"))
    known: dict[str, Any] = {
        "slug": "speech",
        "version": "1.0.0",
        "section": "identity",
        "license_id": world.objects["grants"]["buy"].id,
        "order_id": world.objects["orders"]["buy"].id,
        "offer_id": world.objects["extra"].id,
    }
    # Resources for the operations that need one to do anything but 404.
    client = app.test_client()
    client.post("/api/v1/provider/datasets/speech/versions", json={"version": "2.0.0"}, headers=auth)
    upload = client.post(
        "/api/v1/provider/datasets/speech/versions/2.0.0/uploads", json={"path": "b.csv", "size": 3}, headers=auth
    ).get_json()
    endpoint = client.post(
        "/api/v1/webhooks/endpoints",
        headers=auth,
        json={"organisation": "buy", "url": "http://127.0.0.1:9/hook", "events": ["order.paid"]},
    ).get_json()
    job = client.post(
        "/api/v1/provider/imports",
        headers=auth,
        json={"organisation": "prov", "format": "jsonl", "content": '{"title": "x"}'},
    ).get_json()
    known.update(upload_id=upload["id"], endpoint_id=endpoint["id"], job_id=job["id"])
    custom = custom_for_matrix(work(app, world.session), world.people["buyer_admin"], world.people["seller"])
    known.update({k: v for k, v in custom["values"].items() if k.endswith("_id")})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        names = [p.name for p in operation.path_parameters]
        variants: list[dict[str, Any] | None] = [None]
        if names and all(name in known for name in names):
            variants.append({name: known[name] for name in names})
        for fixed in variants:

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(path_parameters=fixed))
            def run(case: Any) -> None:
                case.call_and_validate(headers=auth, checks=CHECKS)

            try:
                run()
            except KeyboardInterrupt:
                raise
            except BaseException as error:
                failures.append(f"{operation.label} {fixed or ''}: {str(error)[:1500]}")
    assert operations >= 40
    assert not failures, "\n\n".join(failures)
