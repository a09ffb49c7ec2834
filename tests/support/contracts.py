"""Building a custom-data contract for tests: a request, the accepted quote, the private dataset and offer, the
contract and its milestones, and the provider's payout account. (What accepting a quote makes, written directly so
that these tests do not depend on the quoting flow.) Plus helpers to upload a milestone's files through the API."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from marketplace.accounts.models import Organisation, User
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus, Modality, OfferingType
from marketplace.custom.models import (
    Contract,
    DataRequest,
    Milestone,
    PaymentPlan,
    Quote,
    QuoteRevision,
    VolumeUnit,
)
from marketplace.custom.states import ContractState, QuoteState, RequestState
from marketplace.db import UnitOfWork
from marketplace.licenses import services as licenses
from marketplace.orders.models import ProviderAccount

COMMERCIAL = "LicenseRef-standard-commercial-1.0"


def make_contract(
    uow: UnitOfWork,
    *,
    seller: User,
    buyer: Organisation,
    provider: Organisation,
    amounts: tuple[int, ...] = (30000, 70000),
    plan: PaymentPlan = PaymentPlan.UPFRONT,
    slug: str = "custom-speech",
    account_id: str | None = "acct_provider1",
    max_redeliveries: int = 2,
) -> Contract:
    """A contract awaiting payment between ``buyer`` and ``provider``, one milestone per amount."""
    session = uow.session
    price = sum(amounts)
    today = uow.now().date()
    request = DataRequest(
        buyer_org_id=buyer.id,  # type: ignore[arg-type]
        state=RequestState.AWARDED,
        title="Call-centre speech, Finnish",
        modality=Modality.AUDIO,
        volume_amount=200,
        volume_unit=VolumeUnit.HOURS,
        license_id=COMMERCIAL,
        budget_min=price // 2,
        budget_max=price * 2,
        currency="EUR",
        deadline=today + timedelta(days=120),
    )
    session.add(request)
    dataset = Dataset(
        organisation_id=provider.id,  # type: ignore[arg-type]
        slug=slug,
        title="Custom: call-centre speech, Finnish",
        summary="Delivered under a contract",
        status=DatasetStatus.PRIVATE,
        offering_type=OfferingType.CUSTOM,
    )
    session.add(dataset)
    session.flush()
    offer = licenses.create_offer(
        uow, seller, dataset, title="Contract terms", license_id=COMMERCIAL, price_amount=price, currency="EUR",
        audience_org_slug=buyer.slug,
    )  # fmt: skip
    quote = Quote(
        request_id=request.id,  # type: ignore[arg-type]
        provider_org_id=provider.id,  # type: ignore[arg-type]
        state=QuoteState.ACCEPTED,
        price_amount=price,
        currency="EUR",
        valid_until=uow.now() + timedelta(days=30),
    )
    session.add(quote)
    session.flush()
    revision = QuoteRevision(
        quote_id=quote.id,  # type: ignore[arg-type]
        number=1,
        price_amount=price,
        currency="EUR",
        payment_plan=plan,
        license_id=COMMERCIAL,
        terms=offer.terms,
        terms_hash=offer.terms_hash,
        valid_until=quote.valid_until,
    )
    session.add(revision)
    session.flush()
    contract = Contract(
        request_id=request.id,  # type: ignore[arg-type]
        quote_id=quote.id,  # type: ignore[arg-type]
        quote_revision_id=revision.id,  # type: ignore[arg-type]
        buyer_org_id=buyer.id,  # type: ignore[arg-type]
        provider_org_id=provider.id,  # type: ignore[arg-type]
        dataset_id=dataset.id,  # type: ignore[arg-type]
        offer_id=offer.id,  # type: ignore[arg-type]
        state=ContractState.AWAITING_PAYMENT,
        price_amount=price,
        currency="EUR",
        payment_plan=plan,
        terms_hash=offer.terms_hash,
        max_redeliveries=max_redeliveries,
    )
    session.add(contract)
    session.flush()
    for position, amount in enumerate(amounts, start=1):
        session.add(
            Milestone(
                contract_id=contract.id,  # type: ignore[arg-type]
                position=position,
                title=f"Batch {position}",
                deliverable=f"{position * 100} hours, transcribed",
                quantity=100,
                due_date=date.today() + timedelta(days=30 * position),
                amount=amount,
                currency="EUR",
            )
        )
    if account_id is not None:
        session.add(
            ProviderAccount(
                organisation_id=provider.id,  # type: ignore[arg-type]
                account_id=account_id,
                backend="stripe",
                charges_enabled=True,
                payouts_enabled=True,
            )
        )
    session.flush()
    return contract


def upload_version(client: Any, headers: dict[str, str], slug: str, label: str, content: bytes) -> None:
    """Create draft ``label`` of ``slug`` and upload one verified file into it, through the provider API."""
    made = client.post(f"/api/v1/provider/datasets/{slug}/versions", json={"version": label}, headers=headers)
    assert made.status_code == 201, made.get_json()
    upload = client.post(
        f"/api/v1/provider/datasets/{slug}/versions/{label}/uploads",
        json={
            "path": f"data/batch-{label}.csv",
            "size": len(content),
            "media_type": "text/csv",
            "sha256": hashlib.sha256(content).hexdigest(),
        },
        headers=headers,
    )
    assert upload.status_code == 201, upload.get_json()
    upload_id = upload.get_json()["id"]
    urls = client.post(f"/api/v1/provider/uploads/{upload_id}/links", json={}, headers=headers).get_json()["urls"]
    put = client.put(urls["0"].removeprefix("http://localhost"), data=content, headers=upload.get_json()["headers"])
    assert put.status_code in (200, 201, 204), put.get_data(as_text=True)
    done = client.post(f"/api/v1/provider/uploads/{upload_id}/complete", headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "verified", done.get_json()


def pay_in_sandbox(uow: UnitOfWork, buyer: User, contract: Contract) -> None:
    """Pay what is due on ``contract`` through the sandbox and apply its event, as the webhook would."""
    from marketplace.custom import escrow

    payment = escrow.start_payment(
        uow,
        buyer,
        contract,
        success_url="http://localhost/ok?s={CHECKOUT_SESSION_ID}",
        cancel_url="http://localhost/no",
    )
    sandbox = uow.context.payments
    assert payment.checkout_session_id is not None and sandbox is not None
    sandbox.complete_checkout(payment.checkout_session_id, "paid")  # type: ignore[attr-defined]
    facts = sandbox.retrieve_checkout(payment.checkout_session_id)
    escrow.apply_checkout_event(uow, "checkout.session.completed", facts)
    uow.session.flush()


def contracts_for_matrix(uow: UnitOfWork, client: Any, headers: dict[str, str], people: dict[str, User],
                         buyer: Organisation, provider: Organisation) -> dict[str, Any]:  # fmt: skip
    """Path values and bodies with which every contract route succeeds: a contract awaiting payment (checkout), and
    a paid one whose milestone 1 is delivered (accept, reject), 2 rejected (redeliver, escalate) and 3 pending
    (deliver, cancel), with draft version 3.0.0 ready to deliver."""
    from marketplace.custom import milestones

    seller, purchaser = people["seller"], people["purchaser"]
    unpaid = make_contract(uow, seller=seller, buyer=buyer, provider=provider, slug="custom-unpaid", account_id=None)
    busy = make_contract(
        uow, seller=seller, buyer=buyer, provider=provider, slug="custom-busy", amounts=(100, 200, 300), account_id=None
    )
    pay_in_sandbox(uow, purchaser, busy)
    for label in ("1.0.0", "2.0.0"):
        upload_version(client, headers, "custom-busy", label, f"v{label}\n".encode())
    uow.session.refresh(busy)
    first, second = (milestones.get_milestone(uow, busy, position) for position in (1, 2))
    milestones.deliver_milestone(uow, seller, busy, first, version="1.0.0")
    milestones.deliver_milestone(uow, seller, busy, second, version="2.0.0")
    milestones.reject_milestone(uow, purchaser, busy, second, reason="Incomplete")
    upload_version(client, headers, "custom-busy", "3.0.0", b"v3\n")
    uow.session.flush()
    milestone_path = "/v1/contracts/{contract_id}/milestones/{position}/"
    return {
        "values": {
            "contract_id": busy.id,
            "position": 1,
            "POST /v1/contracts/{contract_id}/checkout": {"contract_id": unpaid.id},
            **{f"POST {milestone_path}{action}": {"position": 2} for action in ("redeliver", "escalate")},
            **{f"POST {milestone_path}{action}": {"position": 3} for action in ("deliver", "cancel")},
        },
        "bodies": {
            f"POST {milestone_path}deliver": {"version": "3.0.0"},
            f"POST {milestone_path}redeliver": {"version": "3.0.0"},
            f"POST {milestone_path}reject": {"reason": "Not what was asked"},
            f"POST {milestone_path}cancel": {"reason": "No longer needed"},
            f"POST {milestone_path}escalate": {"reason": "Please decide"},
        },
    }
