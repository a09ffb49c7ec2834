"""Managing webhook endpoints: who may, what URLs are accepted, secrets shown once and stored encrypted, rotation."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
from sqlmodel import select

from marketplace.accounts.models import OrgKind, Role
from marketplace.db import UnitOfWork, utcnow
from marketplace.errors import NotFound, PermissionDenied, ValidationFailed
from marketplace.webhooks import services as svc
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint
from marketplace.webhooks.targets import TargetPolicy, check_target
from tests.factories import PASSWORD, OrganisationFactory, member
from tests.helpers import log_in, post_form

SECRET_RE = re.compile(r'data-testid="webhook-secret">(whsec_[A-Za-z0-9_-]+)<')


@pytest.fixture()
def org(db_session):
    org = OrganisationFactory(slug="acme", name="Acme", kind=OrgKind.BUYER)
    member(org, Role.ADMIN, email="admin@acme.test")
    member(org, Role.MEMBER, email="member@acme.test")
    other = OrganisationFactory(slug="other", name="Other", kind=OrgKind.BUYER)
    member(other, Role.OWNER, email="owner@other.test")
    return org


def _create(client, **fields):
    data = {"url": "http://127.0.0.1:8999/hook", "description": "CRM sync", "events": ["license.issued"], **fields}
    return post_form(client, "/orgs/acme/webhooks", data, token_from="/orgs/acme/webhooks")


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(app, client, org, db_session) -> None:
    log_in(client, "admin@acme.test", PASSWORD)
    assert client.get("/orgs/acme/webhooks").status_code == 200
    response = _create(client, events=["license.issued", "order.paid"])
    assert response.status_code == 200
    secret = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    endpoint = db_session.exec(select(WebhookEndpoint)).one()
    assert endpoint.events == ["license.issued", "order.paid"] and endpoint.active
    assert endpoint.description == "CRM sync" and endpoint.organisation_id == org.id
    # Stored encrypted, readable back with the app's key only.
    assert secret not in endpoint.secret_ciphertext
    assert svc.signing_secrets(endpoint, app.config, utcnow()) == [secret]
    # Never shown again.
    for path in ("/orgs/acme/webhooks", f"/orgs/acme/webhooks/{endpoint.id}"):
        page = client.get(path).get_data(as_text=True)
        assert endpoint.url in page and secret not in page
    # The organisation page links to the settings for admins.
    assert "/orgs/acme/webhooks" in client.get("/orgs/acme").get_data(as_text=True)


def test_members_and_outsiders_cannot_manage_webhooks(app, client, org, db_session) -> None:
    from marketplace.accounts.services import user_by_email

    context = app.extensions["marketplace.context"]

    endpoint, _ = svc.create_endpoint(UnitOfWork(db_session, context), user_by_email(db_session, "admin@acme.test"),
                                      org, url="http://127.0.0.1:1/x", events=["order.paid"])  # fmt: skip
    db_session.flush()
    log_in(client, "member@acme.test", PASSWORD)
    assert client.get("/orgs/acme/webhooks").status_code == 403
    assert _create(client).status_code == 403
    assert "/orgs/acme/webhooks" not in client.get("/orgs/acme").get_data(as_text=True)
    outsider = app.test_client()
    log_in(outsider, "owner@other.test", PASSWORD)
    assert outsider.get(f"/orgs/acme/webhooks/{endpoint.id}").status_code == 403
    # Through its own organisation's URL the endpoint does not exist either.
    assert outsider.get(f"/orgs/other/webhooks/{endpoint.id}").status_code == 404
    # The services the API calls: outsiders get NotFound (ids are not confirmed), members PermissionDenied.
    owner = user_by_email(db_session, "owner@other.test")
    with pytest.raises(NotFound):
        svc.get_endpoint(db_session, owner, endpoint.id)
    with pytest.raises(PermissionDenied):
        svc.get_endpoint(db_session, user_by_email(db_session, "member@acme.test"), endpoint.id)
    with pytest.raises(PermissionDenied):
        svc.rotate_secret(UnitOfWork(db_session, context), user_by_email(db_session, "member@acme.test"), endpoint)


@pytest.mark.parametrize(
    "fields,field_name,message",
    [
        ({"url": "ftp://example.org/hook"}, "url", "must start with http:// or https://"),
        ({"url": "not a url"}, "url", "must start with"),
        ({"url": "https://user:pw@example.org/hook"}, "url", "user name or password"),
        ({"url": "https:///nohost"}, "url", "host name"),
        ({"events": []}, "events", "at least one"),
        ({"events": ["license.deleted"]}, "events", "unknown event type"),
    ],
)
def test_bad_input_is_refused_naming_the_field(client, org, db_session, fields, field_name, message) -> None:
    log_in(client, "admin@acme.test", PASSWORD)
    response = _create(client, **fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    if field_name == "url":
        assert 'id="e-url"' in page  # shown next to the field
    assert db_session.exec(select(WebhookEndpoint)).all() == []


def _resolver(*addresses: str):
    def resolve(host, port, type=0):
        family = socket.AF_INET6 if ":" in addresses[0] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


@pytest.mark.parametrize(
    "url,addresses,refused",
    [
        ("http://hooks.example.org/x", ("93.184.216.34",), "must start with https://"),
        ("https://hooks.example.org/x", ("127.0.0.1",), "private, loopback or link-local"),
        ("https://hooks.example.org/x", ("10.1.2.3",), "private"),
        ("https://hooks.example.org/x", ("169.254.169.254",), "link-local"),
        ("https://hooks.example.org/x", ("93.184.216.34", "192.168.1.1"), "192.168.1.1"),
        ("https://hooks.example.org/x", ("::ffff:127.0.0.1",), "private"),
        ("https://hooks.example.org/x", ("fd00::1",), "private"),
        ("https://hooks.example.org/x", ("100.64.0.1",), "private"),
        ("https://hooks.example.org/x", ("93.184.216.34",), None),
        ("https://[2606:2800:220:1::1]/x", ("2606:2800:220:1::1",), None),
    ],
)
def test_production_accepts_only_https_to_public_addresses(url, addresses, refused) -> None:
    policy = TargetPolicy.from_settings({"MARKETPLACE_ENV": "production"})
    if refused is None:
        assert check_target(url, policy, resolver=_resolver(*addresses)) == url
        return
    with pytest.raises(ValidationFailed) as caught:
        check_target(url, policy, resolver=_resolver(*addresses))
    assert refused in caught.value.message and caught.value.details[0].field == "url"


def test_development_allows_loopback_and_production_can_opt_in_to_private_targets() -> None:
    development = TargetPolicy.from_settings({"MARKETPLACE_ENV": "development"})
    assert check_target("http://127.0.0.1:5001/hook", development) == "http://127.0.0.1:5001/hook"
    trusted = TargetPolicy.from_settings({"MARKETPLACE_ENV": "production", "WEBHOOK_ALLOW_PRIVATE_TARGETS": True})
    assert (
        check_target("https://hooks.internal/x", trusted, resolver=_resolver("10.0.0.5")) == "https://hooks.internal/x"
    )


def test_a_host_that_turns_private_after_saving_is_refused_at_delivery(app, db_session, org, monkeypatch) -> None:
    """DNS rebinding: the name resolved to a public address when saved, to a private one when delivering."""
    from marketplace.accounts.services import user_by_email
    from marketplace.events import emit

    context = app.extensions["marketplace.context"]
    admin = user_by_email(db_session, "admin@acme.test")
    monkeypatch.setitem(context.settings, "MARKETPLACE_ENV", "production")
    monkeypatch.setattr(socket, "getaddrinfo", _resolver("93.184.216.34"))
    svc.create_endpoint(UnitOfWork(db_session, context), admin, org, url="https://hooks.example.org/x",
                        events=["license.issued"])  # fmt: skip
    emit(UnitOfWork(db_session, context), "license.issued", {"license_id": "l"}, audience=[org.id])
    db_session.flush()
    monkeypatch.setattr(socket, "getaddrinfo", _resolver("169.254.169.254"))
    assert context.webhooks.deliver_due() == 1
    db_session.expire_all()
    delivery = db_session.exec(select(WebhookDelivery)).one()
    assert delivery.status == "failed" and "link-local" in delivery.last_error


def test_rotation_shows_the_new_secret_once_and_signs_with_both_during_the_grace_period(
    app, client, org, db_session
) -> None:
    log_in(client, "admin@acme.test", PASSWORD)
    old = SECRET_RE.search(_create(client).get_data(as_text=True)).group(1)
    endpoint = db_session.exec(select(WebhookEndpoint)).one()
    path = f"/orgs/acme/webhooks/{endpoint.id}"
    response = post_form(client, path + "/rotate", {}, token_from=path)
    assert response.status_code == 200
    new = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    assert new != old
    db_session.expire_all()
    endpoint = db_session.get(WebhookEndpoint, endpoint.id)
    now = utcnow()
    assert svc.signing_secrets(endpoint, app.config, now) == [new, old]
    assert svc.signing_secrets(endpoint, app.config, now + timedelta(hours=25)) == [new]
    assert "Rotation in progress" in client.get(path).get_data(as_text=True)


def test_an_admin_edits_disables_and_deletes_an_endpoint(client, org, db_session) -> None:
    log_in(client, "admin@acme.test", PASSWORD)
    _create(client)
    endpoint = db_session.exec(select(WebhookEndpoint)).one()
    path = f"/orgs/acme/webhooks/{endpoint.id}"
    bad = post_form(client, path, {"url": "gopher://x", "events": ["order.paid"]}, token_from=path)
    assert bad.status_code == 422
    saved = post_form(client, path, {"url": "http://127.0.0.1:7000/new", "events": ["order.paid"],
                                     "description": "new"}, token_from=path)  # fmt: skip
    assert saved.status_code == 302
    db_session.expire_all()
    endpoint = db_session.get(WebhookEndpoint, endpoint.id)
    assert endpoint.url == "http://127.0.0.1:7000/new" and endpoint.events == ["order.paid"]
    assert endpoint.active is False  # the checkbox was left unticked
    assert post_form(client, path + "/delete", {}, token_from=path).status_code == 302
    assert db_session.exec(select(WebhookEndpoint)).all() == []


def test_deliveries_are_listed_newest_first_page_by_page(app, org, db_session) -> None:
    from marketplace.accounts.services import user_by_email
    from marketplace.events import emit

    context = app.extensions["marketplace.context"]
    admin = user_by_email(db_session, "admin@acme.test")
    endpoint, _ = svc.create_endpoint(UnitOfWork(db_session, context), admin, org, url="http://127.0.0.1:1/x",
                                      events=["order.paid"])  # fmt: skip
    for n in range(5):
        emit(UnitOfWork(db_session, context), "order.paid", {"order_id": n}, audience=[org.id])
    db_session.flush()
    first = svc.list_deliveries(db_session, admin, endpoint, limit=3)
    rest = svc.list_deliveries(db_session, admin, endpoint, limit=3, before_id=first[-1].id)
    ids = [d.id for d in first + rest]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)
    assert {d.event_type for d in first} == {"order.paid"}


def test_secrets_are_sealed_per_purpose_and_per_key() -> None:
    from marketplace.crypto import EncryptionKeys, new_encryption_key
    from marketplace.webhooks.crypto import SecretBox, SecretUnreadable

    line = new_encryption_key("k1")
    keys = EncryptionKeys.parse(line)
    sealed = SecretBox(keys, "webhook-signing-secret").encrypt("whsec_abc")
    assert sealed.startswith("v1:k1:")
    assert SecretBox(keys, "webhook-signing-secret").decrypt(sealed) == "whsec_abc"
    other_key = EncryptionKeys.parse("k1:" + new_encryption_key("x").split(":", 1)[1])
    for other in (SecretBox(keys, "sso-client-secret"), SecretBox(other_key, "webhook-signing-secret")):
        with pytest.raises(SecretUnreadable):
            other.decrypt(sealed)
