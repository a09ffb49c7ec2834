"""Invoices of paid orders and credit notes of refunds: what the PDF says, who may read it, that it never changes,
and that it is mailed."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from marketplace.errors import Conflict
from marketplace.invoices import services as invoices
from marketplace.invoices.models import DocumentKind, InvoiceDocument
from marketplace.licenses.models import Offer
from marketplace.orders.models import Order
from tests.factories import PASSWORD, UserFactory, member
from tests.functional.invoices.support import paid_order, pdf_text, set_billing
from tests.functional.test_licenses import _offer, market  # noqa: F401  (the shared marketplace fixture)
from tests.functional.test_orders import _buy, _pay, _sandbox
from tests.helpers import log_in, post_form


@pytest.fixture()
def priced(db_session, market) -> Offer:  # noqa: F811
    set_billing(db_session, market["provider"], billing_name="Provider Company GmbH",
                billing_address="Hauptstraße 1\n10115 Berlin\nGermany", tax_id="DE123456789")  # fmt: skip
    set_billing(db_session, market["buyer"], billing_name="Buyer Company Ltd",
                billing_address="1 High Street\nLondon", tax_id="GB987654321")  # fmt: skip
    return _offer(db_session, market, title="Commercial training", license_id="LicenseRef-standard-commercial-1.0",
                  price_amount=125000, overrides={"seats": 5, "term": "P1Y"})  # fmt: skip


def _web_paid_order(client, db_session: Session, offer: Offer) -> Order:
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, offer)
    _pay(client, order)
    db_session.refresh(order)
    assert order.status == "paid"
    return order


def test_a_paid_order_has_an_invoice_naming_parties_lines_fees_and_totals(app, client, outbox, db_session, market,  # noqa: F811
                                                                           priced) -> None:  # fmt: skip
    order = _web_paid_order(client, db_session, priced)
    invoice = db_session.exec(select(InvoiceDocument).where(InvoiceDocument.order_id == order.id)).one()
    assert invoice.kind is DocumentKind.INVOICE and invoice.code == f"INV-{invoice.number:06d}"
    assert invoice.amount == 125000 and invoice.currency == "EUR"

    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert f'href="/orders/{order.id}/invoice.pdf"' in page and invoice.code in page
    response = client.get(f"/orders/{order.id}/invoice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f'filename="{invoice.code}.pdf"' in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    for expected in (
        "Invoice", f"Invoice number {invoice.code}", f"Order {order.reference}", "Issue date", "UTC",
        # The seller: name, legal name, address and tax id.
        "Provider Co", "Provider Company GmbH", "Hauptstraße 1", "10115 Berlin", "Tax ID: DE123456789",
        # The buyer, with the address the receipt goes to.
        "Buyer Co", "Buyer Company Ltd", "1 High Street", "Tax ID: GB987654321", "purchaser@example.org",
        # The line: dataset, offer, license, term, seats, unit price, quantity, amount.
        market["dataset"].title, "Commercial training", "1 year", "5",
        "€1,250.00", "Subtotal", "Total paid", "marketplace commission", "€125.00", "Currency EUR",
    ):  # fmt: skip
        assert expected in text, (expected, text)

    # The receipt carries the same PDF.
    receipt = outbox.messages_to("purchaser@example.org")[-1]
    assert receipt.subject == f"Receipt for order {order.reference}" and invoice.code in receipt.body
    (attachment,) = receipt.attachments
    assert attachment.filename == f"{invoice.code}.pdf" and attachment.content_type == "application/pdf"
    assert f"Invoice number {invoice.code}" in pdf_text(attachment.data)


def test_no_invoice_before_payment(app, client, db_session, market, priced) -> None:  # noqa: F811
    log_in(client, "purchaser@example.org", PASSWORD)
    order = _buy(client, db_session, priced)
    response = client.get(f"/orders/{order.id}/invoice.pdf")
    assert response.status_code == 404
    assert "Invoice" not in client.get(f"/orders/{order.id}").get_data(as_text=True).split("<main", 1)[-1]


def _offers(db_session, market, count: int) -> list[Offer]:  # noqa: F811
    return [_offer(db_session, market, title=f"Commercial {i}", license_id="LicenseRef-standard-commercial-1.0",
                   price_amount=1000 * (i + 1)) for i in range(count)]  # fmt: skip


def test_numbers_follow_one_another_without_gaps(app, db_session, market, priced) -> None:  # noqa: F811
    made = [
        paid_order(app, db_session, market["purchaser"], "buy", [offer]) for offer in _offers(db_session, market, 3)
    ]
    numbers = [invoices.invoice_of(db_session, order.id).number for order in made]  # type: ignore[union-attr]
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    # Issuing again returns the invoice already issued.
    again = invoices.issue_invoice(_work(app, db_session), made[0])
    assert again.number == numbers[0]
    assert len(db_session.exec(select(InvoiceDocument)).all()) == 3


def _work(app, session):
    from tests.functional.invoices.support import work

    return work(app, session)


def test_an_issued_invoice_never_changes(app, client, db_session, market, priced) -> None:  # noqa: F811
    order = _web_paid_order(client, db_session, priced)
    before = client.get(f"/orders/{order.id}/invoice.pdf").data
    # The buyer and the seller rename themselves and move; the dataset is retitled.
    set_billing(db_session, market["buyer"], name="Renamed Buyer", billing_name="Other Ltd", tax_id="GB000")
    set_billing(db_session, market["provider"], name="Renamed Provider", billing_address="Elsewhere 9")
    market["dataset"].title = "A new title"
    db_session.add(market["dataset"])
    db_session.flush()
    after = pdf_text(client.get(f"/orders/{order.id}/invoice.pdf").data)
    assert after == pdf_text(before)
    assert "Buyer Company Ltd" in after and "Renamed" not in after and "A new title" not in after
    # Nor can the stored document be changed.
    invoice = invoices.invoice_of(db_session, order.id)
    assert invoice is not None
    invoice.snapshot = {**invoice.snapshot, "issuer": "someone else"}
    db_session.add(invoice)
    with pytest.raises(Conflict) as refused:
        db_session.flush()
    assert refused.value.code == "document_immutable"
    db_session.rollback()


def test_a_refund_issues_a_credit_note_mailed_and_shown_to_both_sides(app, client, outbox, db_session, market,  # noqa: F811
                                                                      priced) -> None:  # fmt: skip
    order = _web_paid_order(client, db_session, priced)
    invoice = invoices.invoice_of(db_session, order.id)
    assert invoice is not None
    seller = app.test_client()
    log_in(seller, "seller@example.org", PASSWORD)
    response = post_form(seller, f"/orders/{order.id}/refund", {"reason": "wrong dataset"}, token_from="/settings")
    assert response.status_code == 302
    (note,) = invoices.credit_notes_of(db_session, order.id)
    assert note.code == f"CN-{note.number:06d}" and note.refers_to_id == invoice.id and note.amount == 125000
    mail = next(m for m in outbox.messages_to("purchaser@example.org") if note.code in m.subject)
    assert [a.filename for a in mail.attachments] == [f"{note.code}.pdf"]
    text = pdf_text(mail.attachments[0].data)
    for expected in ("Credit note", f"Credit note number {note.code}", f"Credits invoice {invoice.code}",
                     "Credited by this note", "-€1,250.00", "wrong dataset", "Tax ID: GB987654321"):  # fmt: skip
        assert expected in text, (expected, text)
    # The buyer's order page and the seller's sales page link both documents.
    path = f"/orders/{order.id}/credit-notes/{note.id}.pdf"
    assert path in client.get(f"/orders/{order.id}").get_data(as_text=True)
    sales = seller.get("/orgs/prov/sales").get_data(as_text=True)
    assert path in sales and f"/orders/{order.id}/invoice.pdf" in sales
    assert pdf_text(seller.get(path).data) == text


def test_partial_refunds_each_get_a_credit_note_once(app, client, db_session, market, priced) -> None:  # noqa: F811
    order = paid_order(app, db_session, market["purchaser"], "buy", [priced])
    sandbox = _sandbox(app)
    hook = app.test_client()

    def refunded(amount: int, event_id: str) -> None:
        charge = sandbox.charge_object(order.payment_intent_id)
        charge.update({"refunded": amount >= order.total_amount, "amount_refunded": amount})
        event = sandbox.sandbox_event("charge.refunded", charge, event_id=event_id)
        answer = hook.post("/webhooks/stripe", data=event.payload, headers={"Stripe-Signature": event.signature_header})
        assert answer.status_code == 200, answer.get_data(as_text=True)

    refunded(25000, "evt_part_1")
    refunded(25000, "evt_part_1_again")  # the same refunded total told twice: no second note
    refunded(125000, "evt_rest")
    notes = invoices.credit_notes_of(db_session, order.id)
    assert [(n.amount, n.refunded_total) for n in notes] == [(25000, 25000), (100000, 125000)]
    assert notes[1].number == notes[0].number + 1
    assert "€1,000.00" in pdf_text(invoices.pdf_of(notes[1]))


# --- who may read the documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,expected",
    [
        (None, 302),  # to the log-in page
        ("purchaser@example.org", 200),  # a member of the buyer
        ("clerk@example.org", 200),  # a member of the seller
        ("seller@example.org", 200),  # an admin of the seller
        ("outsider@example.org", 404),  # another buyer: as if the order did not exist
        ("stranger@example.org", 404),  # a member of no organisation
        ("other-seller@example.org", 404),  # a member of another provider
        ("admin@example.org", 200),  # a platform admin
    ],
)
def test_who_may_read_an_orders_invoice_and_credit_notes(app, db_session, market, priced, who, expected) -> None:  # noqa: F811
    order = paid_order(app, db_session, market["purchaser"], "buy", [priced])
    other = paid_order(app, db_session, market["purchaser"], "buy", _offers(db_session, market, 1))
    from marketplace.orders.services import refund_order

    refund_order(_work(app, db_session), market["seller"], order, reason="test")
    db_session.flush()
    (note,) = invoices.credit_notes_of(db_session, order.id)
    UserFactory(email="stranger@example.org")
    UserFactory(email="admin@example.org", is_platform_admin=True)
    from marketplace.accounts.models import OrgKind, Role
    from tests.factories import OrganisationFactory

    member(OrganisationFactory(slug="other-prov", kind=OrgKind.PROVIDER), Role.OWNER, email="other-seller@example.org")
    db_session.flush()
    client = app.test_client()
    if who:
        log_in(client, who, PASSWORD)
    for path in (f"/orders/{order.id}/invoice.pdf", f"/orders/{order.id}/credit-notes/{note.id}.pdf"):
        response = client.get(path)
        assert response.status_code == expected, (path, response.status_code)
    if who:
        # A credit note is read only through its own order.
        assert client.get(f"/orders/{other.id}/credit-notes/{note.id}.pdf").status_code == 404


def test_an_order_from_two_sellers_names_both_and_both_read_it(app, db_session, market, priced) -> None:  # noqa: F811
    from marketplace.accounts.models import OrgKind, Role
    from marketplace.db import ServiceContext, UnitOfWork
    from marketplace.licenses import services as licenses
    from marketplace.mail import ConsoleMailer
    from tests.factories import OrganisationFactory
    from tests.functional.test_licenses import published_dataset

    second = OrganisationFactory(slug="second", name="Second Seller", kind=OrgKind.PROVIDER, tax_id="FR 12 345")
    owner = member(second, Role.OWNER, email="second@example.org")
    dataset, _version = published_dataset(db_session, second, slug="second-corpus")
    context = ServiceContext({"BASE_URL": "http://localhost"}, ConsoleMailer())
    other = licenses.create_offer(UnitOfWork(db_session, context), owner, dataset, title="Second offer",
                                  license_id="LicenseRef-standard-commercial-1.0", price_amount=5000,
                                  currency="EUR")  # fmt: skip
    order = paid_order(app, db_session, market["purchaser"], "buy", [priced, other])
    text = pdf_text(invoices.pdf_of(invoices.invoice_of(db_session, order.id)))  # type: ignore[arg-type]
    for expected in ("Sellers", "Provider Company GmbH", "Tax ID: DE123456789", "Second Seller", "Tax ID: FR 12 345",
                     "Second offer", "€50.00", "€1,300.00"):  # fmt: skip
        assert expected in text, (expected, text)
    for email in ("clerk@example.org", "second@example.org"):
        client = app.test_client()
        log_in(client, email, PASSWORD)
        assert client.get(f"/orders/{order.id}/invoice.pdf").status_code == 200
