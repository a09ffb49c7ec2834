"""Organisations, invitations and the permission matrix for membership management."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from marketplace.accounts.models import Invitation, Membership, Organisation, Role
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, member
from tests.helpers import link_from, log_in, post_form


def test_create_organisation_makes_the_creator_owner(client, db_session: Session) -> None:
    user = UserFactory(email="founder@example.org")
    log_in(client, "founder@example.org", PASSWORD)
    response = post_form(client, "/orgs/new", {"name": "Acme Speech Ltd", "kind": "provider"}, token_from="/orgs/new")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/orgs/acme-speech-ltd")
    org = db_session.exec(select(Organisation).where(Organisation.slug == "acme-speech-ltd")).one()
    membership = db_session.exec(select(Membership).where(Membership.organisation_id == org.id)).one()
    assert membership.user_id == user.id and membership.role is Role.OWNER


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"name": "", "kind": "provider"}, "name", "Please fill this in"),  # blank is not given
        ({"name": "x" * 121, "kind": "provider"}, "name", "Length must be between 1 and 120"),
        ({"name": "X", "kind": "reseller"}, "kind", "Must be one of"),
        ({"name": "X", "kind": "buyer", "slug": "-bad-"}, "slug", "lower-case letters"),
        ({"name": "X", "kind": "buyer", "slug": "admin"}, "slug", "reserved"),
    ],
)
def test_create_organisation_rejects_bad_input(client, db_session: Session, data, field, message) -> None:
    UserFactory(email="founder2@example.org")
    log_in(client, "founder2@example.org", PASSWORD)
    before = len(db_session.exec(select(Organisation)).all())
    response = post_form(client, "/orgs/new", data, token_from="/orgs/new")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert field in body and message in body
    assert len(db_session.exec(select(Organisation)).all()) == before


def test_duplicate_slug_is_refused(client) -> None:
    OrganisationFactory(slug="taken-org")
    UserFactory(email="founder3@example.org")
    log_in(client, "founder3@example.org", PASSWORD)
    response = post_form(client, "/orgs/new", {"name": "Taken Org", "kind": "buyer"}, token_from="/orgs/new")
    assert response.status_code == 422
    assert "already taken" in response.get_data(as_text=True)


def test_invitation_round_trip(app, client, outbox, db_session: Session) -> None:
    org = OrganisationFactory(slug="inviting-org", name="Inviting Org")
    member(org, Role.OWNER, email="boss@example.org")
    log_in(client, "boss@example.org", PASSWORD)
    response = post_form(
        client,
        f"/orgs/{org.slug}/invitations",
        {"email": "newbie@example.org", "role": "admin"},
        token_from=f"/orgs/{org.slug}",
    )
    assert response.status_code == 302
    link = link_from(outbox, "newbie@example.org", "/invitations/accept")

    invitee = UserFactory(email="newbie@example.org")
    guest = app.test_client()
    # Not logged in: sent to log in, and back afterwards.
    assert "/login" in guest.get(link).headers["Location"]
    log_in(guest, "newbie@example.org", PASSWORD)
    assert "Accept invitation" in guest.get(link).get_data(as_text=True)
    response = post_form(guest, link, {}, token_from=link)
    assert response.status_code == 302
    membership = db_session.exec(
        select(Membership).where(Membership.organisation_id == org.id, Membership.user_id == invitee.id)
    ).one()
    assert membership.role is Role.ADMIN
    # Single use.
    assert guest.get(link).status_code == 400


def test_invitation_cannot_be_accepted_by_someone_else(app, client, outbox, db_session: Session) -> None:
    org = OrganisationFactory()
    member(org, Role.ADMIN, email="inviter@example.org")
    log_in(client, "inviter@example.org", PASSWORD)
    post_form(
        client,
        f"/orgs/{org.slug}/invitations",
        {"email": "intended@example.org", "role": "member"},
        token_from=f"/orgs/{org.slug}",
    )
    link = link_from(outbox, "intended@example.org", "/invitations/accept")
    thief = UserFactory(email="thief@example.org")
    other = app.test_client()
    log_in(other, "thief@example.org", PASSWORD)
    response = post_form(other, link, {}, token_from=link)
    assert response.status_code == 403
    assert "This invitation is for intended@example.org" in response.get_data(as_text=True)
    assert db_session.exec(select(Membership).where(Membership.user_id == thief.id)).first() is None


def test_admin_cannot_invite_an_owner(client, db_session: Session) -> None:
    org = OrganisationFactory()
    member(org, Role.ADMIN, email="admin1@example.org")
    log_in(client, "admin1@example.org", PASSWORD)
    response = post_form(
        client,
        f"/orgs/{org.slug}/invitations",
        {"email": "x@example.org", "role": "owner"},
        token_from=f"/orgs/{org.slug}",
    )
    assert response.status_code == 403
    assert db_session.exec(select(Invitation).where(Invitation.email == "x@example.org")).first() is None


# (actor role, action, expected status) — the server-side permission matrix for organisation pages.
MATRIX = [
    (None, "view", 302),
    ("outsider", "view", 403),
    ("member", "view", 200),
    ("admin", "view", 200),
    ("owner", "view", 200),
    ("platform_admin", "view", 200),
    ("outsider", "invite", 403),
    ("member", "invite", 403),
    ("admin", "invite", 302),
    ("owner", "invite", 302),
    ("platform_admin", "invite", 403),
    ("member", "promote", 403),
    ("admin", "promote", 302),
    ("admin", "demote_owner", 403),
    ("owner", "demote_owner", 302),
    ("member", "remove", 403),
    ("admin", "remove", 302),
    ("outsider", "remove", 403),
    # The audit log page and its download: the organisation's admins and owners only.
    (None, "audit", 302),
    ("outsider", "audit", 403),
    ("member", "audit", 403),
    ("admin", "audit", 200),
    ("owner", "audit", 200),
    ("platform_admin", "audit", 403),
    (None, "audit_download", 302),
    ("outsider", "audit_download", 403),
    ("member", "audit_download", 403),
    ("admin", "audit_download", 200),
    ("platform_admin", "audit_download", 403),
    # The billing details printed on invoices: the organisation's admins and owners only.
    (None, "billing", 302),
    ("outsider", "billing", 403),
    ("member", "billing", 403),
    ("admin", "billing", 200),
    ("owner", "billing", 200),
    ("platform_admin", "billing", 403),
    (None, "billing_save", 302),
    ("outsider", "billing_save", 403),
    ("member", "billing_save", 403),
    ("admin", "billing_save", 302),
    ("owner", "billing_save", 302),
    ("platform_admin", "billing_save", 403),
]


@pytest.mark.parametrize("actor,action,expected", MATRIX)
def test_permission_matrix(app, db_session: Session, actor, action, expected) -> None:
    org = OrganisationFactory()
    owner = member(org, Role.OWNER, email="owner-m@example.org")
    second_owner = member(org, Role.OWNER, email="owner2-m@example.org")
    target = member(org, Role.MEMBER, email="target-m@example.org")
    client = app.test_client()
    if actor == "outsider":
        UserFactory(email="actor@example.org")
    elif actor == "platform_admin":
        UserFactory(email="actor@example.org", is_platform_admin=True)
    elif actor == "owner":
        pass
    elif actor is not None:
        member(org, Role(actor), email="actor@example.org")
    if actor == "owner":
        log_in(client, owner.email, PASSWORD)
    elif actor is not None:
        log_in(client, "actor@example.org", PASSWORD)

    page = f"/orgs/{org.slug}"
    token_page = "/settings" if actor else "/login"
    if action == "view":
        response = client.get(page)
    elif action in ("audit", "audit_download"):
        response = client.get(f"{page}/audit" if action == "audit" else f"{page}/audit.jsonl")
    elif action == "billing":
        response = client.get(f"{page}/billing")
    elif action == "billing_save":
        response = post_form(client, f"{page}/billing", {"tax_id": "DE 123"}, token_from=token_page)
    elif action == "invite":
        response = post_form(
            client, f"{page}/invitations", {"email": "z@example.org", "role": "member"}, token_from=token_page
        )
    elif action == "promote":
        response = post_form(client, f"{page}/members/{target.id}/role", {"role": "admin"}, token_from=token_page)
    elif action == "demote_owner":
        response = post_form(
            client, f"{page}/members/{second_owner.id}/role", {"role": "member"}, token_from=token_page
        )
    else:
        response = post_form(client, f"{page}/members/{target.id}/remove", {}, token_from=token_page)
    assert response.status_code == expected, response.get_data(as_text=True)[:500]


def test_last_owner_cannot_leave_or_be_demoted(client, db_session: Session) -> None:
    org = OrganisationFactory()
    owner = member(org, Role.OWNER, email="solo@example.org")
    log_in(client, "solo@example.org", PASSWORD)
    response = post_form(
        client, f"/orgs/{org.slug}/members/{owner.id}/role", {"role": "member"}, token_from="/settings"
    )
    assert response.status_code == 409
    response = post_form(client, f"/orgs/{org.slug}/members/{owner.id}/remove", {}, token_from="/settings")
    assert response.status_code == 409
    assert "at least one owner" in response.get_data(as_text=True)


def test_unverified_user_cannot_create_organisation(client, db_session: Session) -> None:
    UserFactory(email="unverified@example.org", email_verified_at=None)
    # Cannot even log in, so the page redirects to the log-in form.
    assert client.get("/orgs/new").status_code == 302


def test_admins_set_the_billing_details_printed_on_invoices(client, db_session: Session) -> None:
    org = OrganisationFactory(name="Acme")
    member(org, Role.ADMIN, email="billing-admin@example.org")
    log_in(client, "billing-admin@example.org", PASSWORD)
    assert "Billing details" in client.get(f"/orgs/{org.slug}").get_data(as_text=True)
    page = f"/orgs/{org.slug}/billing"
    data = {
        "billing_name": " Acme Data GmbH ",
        "billing_address": "Hauptstraße 1\r\n\r\n10115 Berlin ",
        "tax_id": "DE  123456789",
    }
    response = post_form(client, page, data, token_from=page)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db_session.refresh(org)
    assert (org.billing_name, org.billing_address, org.tax_id) == ("Acme Data GmbH", "Hauptstraße 1\n10115 Berlin",
                                                                   "DE 123456789")  # fmt: skip
    form = client.get(page).get_data(as_text=True)
    assert 'value="Acme Data GmbH"' in form and "Legal name" in form and "Tax ID" in form
    refused = post_form(client, page, {"tax_id": "<script>"}, token_from=page)
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'id="e-tax_id"' in body and "use letters, digits, spaces" in body
    db_session.refresh(org)
    assert org.tax_id == "DE 123456789"
