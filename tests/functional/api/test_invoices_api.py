"""An order's invoice and credit notes through the API: listed with the order, downloaded as PDF."""

from __future__ import annotations

from tests.functional.api.conftest import bearer
from tests.functional.invoices.support import pdf_text
from tests.support.invoices import invoiced_order


def test_an_orders_documents_are_listed_and_downloaded(world, client) -> None:
    order, credit_note_id = invoiced_order(world)
    headers = bearer(world.key("purchaser", ["orders:write"]))
    body = client.get(f"/api/v1/orders/{order.id}", headers=headers).get_json()
    kinds = [(d["kind"], d["number"][:3], d["amount"]["formatted"]) for d in body["documents"]]
    assert kinds == [("invoice", "INV", "€20.00"), ("credit_note", "CN-", "€20.00")]
    invoice_url, note_url = (d["pdf_url"] for d in body["documents"])
    assert invoice_url.endswith(f"/api/v1/orders/{order.id}/invoice.pdf")
    assert note_url.endswith(f"/api/v1/orders/{order.id}/credit-notes/{credit_note_id}.pdf")
    invoice = client.get(invoice_url.removeprefix("http://localhost"), headers=headers)
    assert invoice.status_code == 200 and invoice.mimetype == "application/pdf"
    number = body["documents"][0]["number"]
    assert f'filename="{number}.pdf"' in invoice.headers["Content-Disposition"]
    text = pdf_text(invoice.data)
    assert f"Invoice number {number}" in text and "Buyer Co" in text and "Provider Co" in text
    note = pdf_text(client.get(note_url.removeprefix("http://localhost"), headers=headers).data)
    assert f"Credits invoice {number}" in note


def test_an_unpaid_order_has_no_invoice(world, client) -> None:
    headers = bearer(world.key("purchaser", ["orders:write"]))
    pending = world.objects["orders"]["buy"]
    assert client.get(f"/api/v1/orders/{pending.id}", headers=headers).get_json()["documents"] == []
    refused = client.get(f"/api/v1/orders/{pending.id}/invoice.pdf", headers=headers)
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "invoice_not_issued"
