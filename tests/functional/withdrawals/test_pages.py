"""The withdrawal pages: the provider files and publishes, each licensee's status is shown, the licensee reads the
notice on its license page and signs the confirmation; who may see and do what (the pages' permission matrix)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from marketplace.withdrawals.models import Withdrawal, WithdrawalNotice
from marketplace.withdrawals.states import NoticeState
from tests.factories import PASSWORD
from tests.helpers import log_in, post_form
from tests.support.withdrawals import add_kept_file


def _as(app: Any, email: str | None) -> Any:
    client = app.test_client()
    if email is not None:
        log_in(client, email, PASSWORD)
    return client


def _file_and_publish(world: Any) -> tuple[Withdrawal, WithdrawalNotice]:
    add_kept_file(world)
    seller = _as(world.app, "seller@example.org")
    form = "/datasets/speech/withdrawals/new"
    nothing = post_form(seller, form, {"version": "1.0.0", "reason": "error"}, token_from=form)
    assert nothing.status_code == 422 and "choose at least one file" in nothing.get_data(as_text=True)
    filed = post_form(seller, form, {"version": "1.0.0", "reason": "legal_takedown", "files": ["data/train.csv"],
                                     "record_ids": "r-1\nr-2"}, token_from=form)  # fmt: skip
    assert filed.status_code == 302, filed.get_data(as_text=True)
    withdrawal = world.session.exec(select(Withdrawal)).one()
    assert withdrawal.record_ids == ["r-1", "r-2"] and withdrawal.files == ["data/train.csv"]
    page = f"/withdrawals/{withdrawal.id}"
    assert "filed" in seller.get(page).get_data(as_text=True)
    published = post_form(seller, f"{page}/publish", {}, token_from=page)
    assert published.status_code == 302
    shown = seller.get(page).get_data(as_text=True)
    assert (
        "2 told: 0 confirmed deletion, 2 still to confirm, 0 overdue" in shown
        and "Buyer Co" in shown
        and "Rival Co" in shown
    )
    notice = world.session.exec(
        select(WithdrawalNotice).where(WithdrawalNotice.licensee_org_id == world.orgs["buy"].id)
    ).one()
    return withdrawal, notice


def test_file_publish_notify_confirm(world) -> None:
    withdrawal, notice = _file_and_publish(world)
    grant = world.objects["grants"]["buy"]
    buyer = _as(world.app, "purchaser@example.org")
    license_page = buyer.get(f"/licenses/{grant.id}").get_data(as_text=True)
    assert "Version 1.0.0 was withdrawn" in license_page and f"/withdrawal-notices/{notice.id}" in license_page
    assert "replaced by version 1.0.1" in license_page
    public = _as(world.app, None).get(f"/licenses/{grant.id}/verify").get_data(as_text=True)
    assert "Version 1.0.0 was withdrawn" in public and "Legal takedown" in public
    page = f"/withdrawal-notices/{notice.id}"
    bad = post_form(buyer, page, {"signer_name": "A", "signer_role": "DPO", "statement": "short",
                                  "deleted_on": "2026-01-01"}, token_from=page)  # fmt: skip
    assert bad.status_code == 422
    signed = post_form(buyer, page, {"signer_name": "Pat Purchaser", "signer_role": "Data lead",
                                     "statement": "Deleted data/train.csv and records r-1, r-2 from our lake.",
                                     "deleted_on": notice.notified_at.date().isoformat()}, token_from=page)  # fmt: skip
    assert signed.status_code == 302
    assert "Deletion confirmed" in buyer.get(page).get_data(as_text=True)
    world.session.refresh(notice)
    assert notice.state is NoticeState.CONFIRMED and notice.signer_name == "Pat Purchaser"
    seller = _as(world.app, "seller@example.org")
    shown = seller.get(f"/withdrawals/{withdrawal.id}").get_data(as_text=True)
    assert (
        "2 told: 1 confirmed deletion, 1 still to confirm, 0 overdue" in shown and "Pat Purchaser (Data lead)" in shown
    )
    listed = buyer.get("/withdrawals").get_data(as_text=True)
    assert "Speech commands" in listed and f"/withdrawal-notices/{notice.id}" in listed and ">Confirmed<" in listed


# (who, what, expected status): server-side, whatever the pages show.
MATRIX = [
    (None, "withdrawal", 302),
    ("outsider@example.org", "withdrawal", 404),
    ("purchaser@example.org", "withdrawal", 404),
    ("clerk@example.org", "withdrawal", 200),
    ("admin@example.org", "withdrawal", 200),
    ("outsider@example.org", "publish", 404),
    ("purchaser@example.org", "publish", 404),
    ("outsider@example.org", "notice", 404),
    ("purchaser@example.org", "notice", 200),
    ("clerk@example.org", "notice", 200),
    ("admin@example.org", "notice", 200),
    ("outsider@example.org", "confirm", 404),
    ("clerk@example.org", "confirm", 403),
    ("admin@example.org", "confirm", 403),
    ("purchaser@example.org", "confirm", 302),
    ("outsider@example.org", "file", 403),
    ("purchaser@example.org", "file", 403),
    ("clerk@example.org", "file", 200),
    ("admin@example.org", "file", 200),
]


@pytest.mark.parametrize("who,what,expected", MATRIX)
def test_permission_matrix(world, who, what, expected) -> None:
    withdrawal, notice = _file_and_publish(world)
    client = _as(world.app, who)
    token_page = "/login" if who is None else "/withdrawals"
    if what == "withdrawal":
        response = client.get(f"/withdrawals/{withdrawal.id}")
    elif what == "publish":
        response = post_form(client, f"/withdrawals/{withdrawal.id}/publish", {}, token_from=token_page)
    elif what == "notice":
        response = client.get(f"/withdrawal-notices/{notice.id}")
    elif what == "confirm":
        data = {"signer_name": "Some One", "signer_role": "Role", "statement": "Deleted everything we held.",
                "deleted_on": notice.notified_at.date().isoformat()}  # fmt: skip
        response = post_form(client, f"/withdrawal-notices/{notice.id}", data, token_from=token_page)
    else:
        response = client.get("/datasets/speech/withdrawals/new")
    assert response.status_code == expected, response.get_data(as_text=True)[:300]


def test_a_platform_admin_takes_data_down(world) -> None:
    add_kept_file(world)
    admin = _as(world.app, "admin@example.org")
    form = "/datasets/speech/withdrawals/new"
    data = {"version": "1.0.0", "reason": "legal_takedown", "files": ["data/train.csv"],
            "details": "Court order 2026/114.", "deletion_days": "10"}  # fmt: skip
    filed = post_form(admin, form, data, token_from=form)
    assert filed.status_code == 302
    withdrawal = world.session.exec(select(Withdrawal)).one()
    assert withdrawal.deletion_days == 10 and withdrawal.organisation_id == world.orgs["prov"].id
    page = f"/withdrawals/{withdrawal.id}"
    assert post_form(admin, f"{page}/publish", {}, token_from=page).status_code == 302
    notice = world.session.exec(
        select(WithdrawalNotice).where(WithdrawalNotice.licensee_org_id == world.orgs["buy"].id)
    ).one()
    assert (notice.deadline_at - notice.notified_at).days == 10
    # The offline certificate check reports the withdrawal too (its online part).
    grant = world.objects["grants"]["buy"]
    anyone = _as(world.app, None)
    checked = post_form(anyone, "/verify", {"certificate": grant.certificate}, token_from="/verify")
    assert "Version 1.0.0 was withdrawn" in checked.get_data(as_text=True)


def test_the_public_page_marks_the_withdrawn_version_and_names_its_patch(world) -> None:
    visitor = _as(world.app, None)
    assert 'data-testid="withdrawn-1.0.0"' not in visitor.get("/datasets/speech").get_data(as_text=True)
    _file_and_publish(world)
    page = visitor.get("/datasets/speech").get_data(as_text=True)
    assert 'data-testid="withdrawn-1.0.0"' in page and 'data-testid="withdrawn-1.0.1"' not in page
    assert "(legal takedown): this version is no longer" in page
    assert "licensees receive version 1.0.1 instead" in page
