"""Custom-data contracts through the API, on the sandbox payment backend: paying into escrow, delivering milestones
as versions of the private dataset, review, acceptance (a transfer to the provider), rejection and redelivery,
completion, the contract license's certificate; auto-acceptance with a moved clock; the admin's split."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from marketplace.custom import milestones as milestone_service
from marketplace.custom import settlement
from marketplace.custom.errors import IllegalTransition
from marketplace.custom.models import Contract, Milestone, PaymentPlan
from marketplace.custom.states import ContractState, MilestoneState
from marketplace.licenses.models import Grant
from marketplace.orders.models import PaymentEventRecord
from tests.functional.api.conftest import bearer, work
from tests.support.contracts import make_contract, upload_version


@pytest.fixture()
def contract(world) -> Contract:
    made = make_contract(
        work(world.app, world.session),
        seller=world.people["seller"],
        buyer=world.orgs["buy"],
        provider=world.orgs["prov"],
    )
    world.session.flush()
    return made


@pytest.fixture()
def keys(world) -> dict[str, dict[str, str]]:
    return {
        "buyer": bearer(world.key("purchaser", ["orders:write", "licenses:read", "downloads"])),
        "provider": bearer(world.key("seller", ["provider:write"])),
    }


def _sandbox(world) -> Any:
    return world.app.extensions["marketplace.context"].payments


def _pay(world, client, contract: Contract, headers: dict[str, str]) -> dict[str, Any]:
    """Open the checkout through the API, then pay it on the sandbox: its signed event goes to the webhook."""
    started = client.post(f"/api/v1/contracts/{contract.id}/checkout", json={}, headers=headers)
    assert started.status_code == 200, started.get_json()
    body = started.get_json()
    session_id = body["checkout_url"].rsplit("/", 1)[1]
    signed = _sandbox(world).complete_checkout(session_id, "paid")
    hook = {"Stripe-Signature": signed.signature_header, "Content-Type": "application/json"}
    for _ in range(2):  # the second delivery of the same event changes nothing
        answer = world.app.test_client().post("/webhooks/stripe", data=signed.payload, headers=hook)
        assert answer.status_code == 200, answer.get_data(as_text=True)
    return body


def _act(client, contract: Contract, position: int, action: str, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/api/v1/contracts/{contract.id}/milestones/{position}/{action}", json=body, headers=headers)


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_the_whole_journey_through_the_api(world, client, contract, keys, outbox) -> None:
    buyer, provider = keys["buyer"], keys["provider"]
    slug = "custom-speech"
    # Nothing can be delivered before the money is held.
    upload_version(client, provider, slug, "1.0.0", b"id,text\n1,moi\n")
    early = _act(client, contract, 1, "deliver", provider, version="1.0.0")
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "contract_not_active"

    paid = _pay(world, client, contract, buyer)
    assert paid["amount"] == 100000 and paid["milestone"] is None  # upfront: the whole price
    state = _ok(client.get(f"/api/v1/contracts/{contract.id}", headers=buyer))
    assert state["state"] == "active" and state["amount_held"] == 100000 and state["amount_due"] == 0
    assert state["transfer_group"] == f"contract_{contract.id}"
    assert len(world.session.exec(select(PaymentEventRecord)).all()) == 1

    # Milestone 1: delivered, reviewed under a review license for that version only, accepted.
    delivered = _ok(_act(client, contract, 1, "deliver", provider, version="1.0.0"))
    first = delivered["milestones"][0]
    assert first["state"] == "delivered" and first["delivered_version"] == "1.0.0"
    review_id = first["deliveries"][0]["review_license_id"]
    links = client.post(f"/api/v1/licenses/{review_id}/download-links", json={}, headers=buyer)
    assert links.status_code == 201, links.get_json()
    assert [link["path"] for link in links.get_json()["data"]] == ["data/batch-1.0.0.csv"]
    accepted = _ok(_act(client, contract, 1, "accept", buyer))
    first = accepted["milestones"][0]
    assert first["state"] == "accepted" and first["transfer_reference"], first
    # 10 % platform fee (PLATFORM_FEE_BPS default) taken on the transfer of 300.00.
    assert accepted["amount_paid_out"] == 27000 and accepted["fees_amount"] == 3000
    assert accepted["amount_held"] == 70000
    assert world.session.get(Grant, review_id).status == "revoked"  # the review license ended

    # Milestone 2: delivered, rejected with a reason, redelivered, accepted.
    upload_version(client, provider, slug, "2.0.0", b"id,text\n2,hei\n")
    _ok(_act(client, contract, 2, "deliver", provider, version="2.0.0"))
    rejected = _ok(_act(client, contract, 2, "reject", buyer, reason="Speaker labels missing"))
    assert rejected["milestones"][1]["state"] == "rejected"
    assert rejected["milestones"][1]["rejection_reason"] == "Speaker labels missing"
    upload_version(client, provider, slug, "2.1.0", b"id,text,speaker\n2,hei,s1\n")
    redelivered = _ok(_act(client, contract, 2, "redeliver", provider, version="2.1.0"))
    second = redelivered["milestones"][1]
    assert second["state"] == "redelivered" and second["redeliveries"] == 1 and len(second["deliveries"]) == 2
    done = _ok(_act(client, contract, 2, "accept", buyer))
    assert done["state"] == "completed"
    assert done["amount_paid_out"] == 27000 + 63000 and done["fees_amount"] == 10000 and done["amount_held"] == 0
    timeline = [(t["subject"], t["to_state"]) for t in done["timeline"]]
    assert timeline == [
        ("contract", "active"),
        ("milestone 1", "delivered"),
        ("milestone 1", "accepted"),
        ("milestone 2", "delivered"),
        ("milestone 2", "rejected"),
        ("milestone 2", "redelivered"),
        ("milestone 2", "accepted"),
        ("contract", "completed"),
    ]
    assert [t["reason"] for t in done["timeline"]][4] == "Speaker labels missing"

    # The contract license covers exactly the accepted versions; its certificate names their manifest digests.
    license_id = done["license_id"]
    grant = world.session.get(Grant, license_id)
    assert grant.versions == ["1.0.0", "2.1.0"] and grant.all_versions is False
    token = _ok(client.get(f"/api/v1/licenses/{license_id}/certificate", headers=buyer))["certificate"]
    verified = client.get(f"/api/v1/licenses/{license_id}/verify").get_json()
    assert verified["valid"] is True, verified
    jwks = client.get("/.well-known/jwks.json").get_json()
    runner = world.app.test_cli_runner()
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(jwks, handle)
    result = runner.invoke(args=["license", "verify", token, "--jwks", handle.name])
    assert result.exit_code == 0, result.output
    claims = json.loads(result.output.split("\n", 1)[1])
    digests = {d["version"]: d["manifest_digest"] for d in claims["contract"]["deliveries"]}
    assert claims["contract"]["id"] == str(contract.id)
    assert set(digests) == {"1.0.0", "2.1.0"}
    for milestone in done["milestones"]:
        assert digests[milestone["delivered_version"]] == milestone["deliveries"][-1]["manifest_digest"]
    # The rejected version is not licensed, and the provider and buyer admins were told at each step.
    assert "2.0.0" not in digests
    subjects = [m.subject for m in outbox.messages_to("seller@example.org")]
    assert any("Milestone 2 of contract" in s and "rejected" in s for s in subjects)
    assert any(s == f"Contract {contract.id} is completed" for s in subjects)
    buyer_mail = [m.subject for m in outbox.messages_to("owner@example.org")]  # the buyer organisation's owner
    assert f"Milestone 2 of contract {contract.id} is delivered" in buyer_mail
    # Both sides hear of every milestone step: the provider of its delivery, the buyer of its decision.
    assert f"Milestone 2 of contract {contract.id}: delivered, awaiting review" in subjects
    assert f"Milestone 2 of contract {contract.id} rejected" in buyer_mail
    assert f"Contract {contract.id} is completed" in buyer_mail


def test_illegal_moves_are_domain_errors(world, client, contract, keys) -> None:
    buyer, provider = keys["buyer"], keys["provider"]
    _pay(world, client, contract, buyer)
    # Accepting a milestone that was never delivered is an illegal transition (409, the machine named).
    refused = _act(client, contract, 1, "accept", buyer)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "illegal_transition"
    uow = work(world.app, world.session)
    world.session.refresh(contract)
    milestone = milestone_service.get_milestone(uow, contract, 1)
    with pytest.raises(IllegalTransition):
        milestone_service.reject_milestone(uow, world.people["purchaser"], contract, milestone, reason="no")
    # The provider cannot accept, the buyer cannot deliver: the permission table decides.
    upload_version(client, provider, "custom-speech", "1.0.0", b"a\n")
    intruder = bearer(world.key("purchaser", ["provider:write"]))
    assert _act(client, contract, 1, "deliver", intruder, version="1.0.0").status_code == 403
    _ok(_act(client, contract, 1, "deliver", provider, version="1.0.0"))
    assert _act(client, contract, 1, "accept", bearer(world.key("seller", ["orders:write"]))).status_code == 403
    # A second payment is refused: nothing is due.
    again = client.post(f"/api/v1/contracts/{contract.id}/checkout", json={}, headers=buyer)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "nothing_due"
    # A reason is required to reject.
    assert _act(client, contract, 1, "reject", buyer, reason="").status_code == 422


def test_strangers_get_404_for_every_contract_route(world, client, contract) -> None:
    stranger = bearer(world.key("outsider"))
    admin = bearer(world.key("admin"))  # a platform admin's key carries no admin powers
    for headers in (stranger, admin):
        assert client.get(f"/api/v1/contracts/{contract.id}", headers=headers).status_code == 404
        assert client.post(f"/api/v1/contracts/{contract.id}/checkout", json={}, headers=headers).status_code == 404
        for action, body in (
            ("deliver", {"version": "1.0.0"}),
            ("redeliver", {"version": "1.0.0"}),
            ("accept", {}),
            ("reject", {"reason": "x"}),
            ("cancel", {"reason": "x"}),
            ("escalate", {"reason": "x"}),
        ):
            response = _act(client, contract, 1, action, headers, **body)
            assert response.status_code == 404, (action, response.get_json())
    # An organisation key of the provider's admin acting for another organisation sees nothing either.
    assert client.get("/api/v1/contracts/999999", headers=stranger).status_code == 404


def test_silence_accepts_after_the_review_period(world, client, contract, keys) -> None:
    buyer, provider = keys["buyer"], keys["provider"]
    _pay(world, client, contract, buyer)
    upload_version(client, provider, "custom-speech", "1.0.0", b"x\n")
    _ok(_act(client, contract, 1, "deliver", provider, version="1.0.0"))
    milestone = world.session.exec(
        select(Milestone).where(Milestone.contract_id == contract.id, Milestone.position == 1)
    ).one()
    world.session.refresh(milestone)
    deadline = milestone.review_deadline
    assert deadline - milestone.delivered_at == timedelta(days=14)  # CUSTOM_REVIEW_DAYS
    assert milestone_service.sweep(work(world.app, world.session, at=deadline - timedelta(seconds=1))) == []
    report = milestone_service.sweep(work(world.app, world.session, at=deadline))
    assert report == [f"contract {contract.id} milestone 1: auto-accepted"]
    world.session.refresh(milestone)
    assert milestone.state is MilestoneState.AUTO_ACCEPTED and milestone.transfer_reference
    world.session.refresh(contract)
    assert contract.amount_paid_out == 27000 and contract.grant_id is not None
    # Run again: nothing more happens.
    assert milestone_service.sweep(work(world.app, world.session, at=deadline + timedelta(days=1))) == []
    # The CLI runs the same sweep.
    result = world.app.test_cli_runner().invoke(args=["custom", "sweep"])
    assert result.exit_code == 0 and "0 milestone(s) accepted after the review period" in result.output


def test_admin_splits_an_escalated_rejection(world, client, contract, keys) -> None:
    buyer, provider = keys["buyer"], keys["provider"]
    _pay(world, client, contract, buyer)
    upload_version(client, provider, "custom-speech", "1.0.0", b"x\n")
    _ok(_act(client, contract, 1, "deliver", provider, version="1.0.0"))
    _ok(_act(client, contract, 1, "reject", buyer, reason="Half the audio is silent"))
    escalated = _ok(_act(client, contract, 1, "escalate", provider, reason="The audio meets the spec"))
    assert escalated["state"] == "in_dispute"
    uow = work(world.app, world.session)
    world.session.refresh(contract)
    milestone = milestone_service.get_milestone(uow, contract, 1)
    with pytest.raises(Exception) as refused:
        settlement.decide_escalation(
            uow, world.people["seller"], contract, milestone, decision=settlement.Decision.PAY, reason="mine"
        )
    assert type(refused.value).__name__ == "PermissionDenied"
    with pytest.raises(Exception) as bad_split:
        settlement.decide_escalation(
            uow, world.people["admin"], contract, milestone, decision=settlement.Decision.SPLIT, reason="r",
            payout_amount=30000,
        )  # fmt: skip
    assert type(bad_split.value).__name__ == "ValidationFailed"
    result = world.app.test_cli_runner().invoke(
        args=["custom", "decide", str(contract.id), "1", "--admin", "admin@example.org", "--decision", "split",
              "--payout", "20000", "--reason", "Two thirds of the audio is usable"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    state = _ok(client.get(f"/api/v1/contracts/{contract.id}", headers=buyer))
    first = state["milestones"][0]
    assert first["state"] == "settled_by_admin" and first["paid_out"] == 20000 and first["refunded"] == 10000
    assert first["transfer_reference"] and first["refund_reference"]
    assert state["state"] == "active" and state["amount_refunded"] == 10000
    assert state["amount_paid_out"] == 18000 and state["fees_amount"] == 2000 and state["amount_held"] == 70000
    assert state["timeline"][-1]["reason"] == "split: Two thirds of the audio is usable"
    # The buyer keeps (and is licensed for) the version the admin had paid for.
    assert world.session.get(Grant, state["license_id"]).versions == ["1.0.0"]


def test_per_milestone_plan_pays_one_milestone_at_a_time_and_refunds_a_cancelled_one(world, client, keys) -> None:
    contract = make_contract(
        work(world.app, world.session), seller=world.people["seller"], buyer=world.orgs["buy"],
        provider=world.orgs["prov"], plan=PaymentPlan.PER_MILESTONE, amounts=(10000, 20000, 5000), slug="custom-pm",
    )  # fmt: skip
    buyer, provider = keys["buyer"], keys["provider"]
    first = _pay(world, client, contract, buyer)
    assert first["milestone"] == 1 and first["amount"] == 10000
    again = client.post(f"/api/v1/contracts/{contract.id}/checkout", json={}, headers=buyer)
    assert again.status_code == 409  # milestone 2 is paid once milestone 1 is settled
    # Milestone 2 is not funded: it cannot be delivered.
    upload_version(client, provider, "custom-pm", "2.0.0", b"y\n")
    unfunded = _act(client, contract, 2, "deliver", provider, version="2.0.0")
    assert unfunded.status_code == 409 and unfunded.get_json()["error"]["code"] == "not_funded"
    upload_version(client, provider, "custom-pm", "1.0.0", b"x\n")
    _ok(_act(client, contract, 1, "deliver", provider, version="1.0.0"))
    _ok(_act(client, contract, 1, "accept", buyer))
    second = _pay(world, client, contract, buyer)
    assert second["milestone"] == 2 and second["amount"] == 20000
    cancelled = _ok(_act(client, contract, 2, "cancel", buyer, reason="No longer needed"))
    assert cancelled["milestones"][1]["state"] == "cancelled" and cancelled["milestones"][1]["refunded"] == 20000
    assert cancelled["amount_refunded"] == 20000
    # Milestone 3 was never paid: cancelling it refunds nothing and completes the contract.
    ended = _ok(_act(client, contract, 3, "cancel", buyer, reason="Scope cut"))
    assert ended["state"] == "completed" and ended["amount_refunded"] == 20000
    world.session.refresh(contract)
    assert contract.state is ContractState.COMPLETED and contract.closed_at is not None


def test_the_contract_page_is_for_the_two_parties_only(world, client, contract, keys) -> None:
    from tests.factories import PASSWORD
    from tests.helpers import log_in, post_form

    page = f"/contracts/{contract.id}"
    assert client.get(page).status_code == 302  # log in first
    for email, status in (
        ("outsider@example.org", 404),
        ("admin@example.org", 200),  # the platform admin reads it to decide escalations there
        ("seller@example.org", 200),
        ("purchaser@example.org", 200),
    ):
        browser = world.app.test_client()
        log_in(browser, email, PASSWORD)
        response = browser.get(page)
        assert response.status_code == status, (email, response.status_code)
        if email == "seller@example.org":
            assert 'data-testid="pay"' not in response.get_data(as_text=True)  # only the buyer pays
            assert post_form(browser, f"{page}/pay", {}, token_from=page).status_code == 403
    # The buyer's Pay button opens the sandbox checkout for the whole price.
    text = browser.get(page).get_data(as_text=True)
    assert 'data-testid="pay"' in text and "Pay €1,000.00" in text
    paid = post_form(browser, f"{page}/pay", {}, token_from=page)
    assert paid.status_code == 303 and "/sandbox/checkout/" in paid.headers["Location"]
    _pay(world, client, contract, keys["buyer"])  # the same open checkout, paid
    text = browser.get(page).get_data(as_text=True)
    assert 'data-testid="pay"' not in text and 'data-testid="contract-state">active<' in text


def test_a_retried_post_with_its_idempotency_key_is_replayed(world, client, contract, keys) -> None:
    headers = keys["buyer"] | {"Idempotency-Key": "pay-contract-1"}
    first = client.post(f"/api/v1/contracts/{contract.id}/checkout", json={}, headers=headers)
    again = client.post(f"/api/v1/contracts/{contract.id}/checkout", json={}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    other = client.post(
        f"/api/v1/contracts/{contract.id}/checkout", json={"cancel_url": "http://localhost/x"}, headers=headers
    )
    assert other.status_code == 409
