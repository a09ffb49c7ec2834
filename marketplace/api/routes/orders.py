"""Orders (scope ``orders:write``): place an order of offers with their accepted terms, read it, pay it."""

from __future__ import annotations

from typing import Any

from marketplace.api import present, schemas
from marketplace.api.core import Call, Result, decode_cursor, operation, page
from marketplace.api.routes._common import page_limit
from marketplace.apikeys.scopes import ORDERS_WRITE
from marketplace.invoices import services as invoices
from marketplace.licenses import services as licenses
from marketplace.orders import services as orders
from marketplace.web import client_ip

TAG = "Orders"


def _return_urls(body: dict[str, Any]) -> tuple[str, str]:
    base = present.base_url()
    success = body.get("success_url") or base + "/orders/{ORDER_ID}/complete?session_id={CHECKOUT_SESSION_ID}"
    if "{CHECKOUT_SESSION_ID}" not in success:
        # The payment provider fills it in; the buyer's return carries the session to check.
        success += ("&" if "?" in success else "?") + "checkout_session_id={CHECKOUT_SESSION_ID}"
    cancel = body.get("cancel_url") or base + "/orders/{ORDER_ID}?cancelled=1"
    return success, cancel


@operation(
    "/v1/orders",
    "POST",
    summary="Place an order",
    tag=TAG,
    scope=ORDERS_WRITE,
    body=schemas.OrderCreateSchema(),
    response=schemas.OrderSchema(),
    status=201,
)
def create_order(call: Call) -> Result:
    """Order paid offers for a buyer organisation, accepting each offer's terms by its ``terms_hash``. The order
    is pending payment; the buyer pays at ``checkout_url`` (Stripe Checkout, or the sandbox page). One order is paid
    in one currency. Send an ``Idempotency-Key`` so that a retried request cannot order twice."""
    body = call.body
    success, cancel = _return_urls(body)
    order = orders.order_offers(
        call.uow,
        call.caller.user,
        licensee_slug=body["licensee"],
        offer_ids=[line["offer_id"] for line in body["lines"]],
        accepted_terms={line["offer_id"]: line["accepted_terms_hash"] for line in body["lines"]},
        success_url=success,
        cancel_url=cancel,
    )
    return Result(present.order(call.uow.session, order), headers={"Location": present.api_url(f"/orders/{order.id}")})


@operation(
    "/v1/orders",
    "GET",
    summary="List orders",
    tag=TAG,
    scope=ORDERS_WRITE,
    query=schemas.PageQuerySchema(),
    response=schemas.OrderPageSchema(),
)
def list_orders(call: Call) -> dict[str, Any]:
    """Orders of the buyer organisations the credential acts for, newest first."""
    before = decode_cursor("orders", call.query.get("cursor"))
    limit = page_limit(call)
    rows = orders.orders_of(
        call.uow.session, call.caller.user, before_id=before if isinstance(before, int) else None, limit=limit + 1
    )
    result = page("orders", rows, limit, lambda o: o.id)
    result["data"] = [present.order(call.uow.session, o) for o in result["data"]]
    return result


def _visible_order(call: Call, order_id: int) -> Any:
    order = orders.get_order(call.uow.session, order_id)
    orders.require_order_access(call.uow.session, call.caller.user, order)
    return order


@operation(
    "/v1/orders/{order_id}",
    "GET",
    summary="Read an order",
    tag=TAG,
    scope=ORDERS_WRITE,
    path_params={"order_id": "id"},
    response=schemas.OrderSchema(),
)
def get_order(call: Call, order_id: int) -> dict[str, Any]:
    """An order with its lines; once paid, each line names the license it issued."""
    return present.order(call.uow.session, _visible_order(call, order_id))


@operation(
    "/v1/orders/{order_id}/checkout",
    "GET",
    summary="Read an order's checkout link",
    tag=TAG,
    scope=ORDERS_WRITE,
    path_params={"order_id": "id"},
    response=schemas.CheckoutSchema(),
)
def get_checkout(call: Call, order_id: int) -> dict[str, Any]:
    """Where the buyer pays the order (null once it is no longer pending payment)."""
    order = _visible_order(call, order_id)
    value = present.order(call.uow.session, order)
    return {"order_id": order.id, "status": order.status, "checkout_url": value["checkout_url"]}


@operation(
    "/v1/orders/{order_id}/checkout",
    "POST",
    summary="Start a new checkout for an unpaid order",
    tag=TAG,
    scope=ORDERS_WRITE,
    path_params={"order_id": "id"},
    body=schemas.RetryCheckoutSchema(),
    response=schemas.CheckoutSchema(),
)
def retry_checkout(call: Call, order_id: int) -> dict[str, Any]:
    """A fresh checkout session for an order whose last one expired, failed or was cancelled."""
    success, cancel = _return_urls(call.body)
    order = orders.get_order(call.uow.session, order_id)
    orders.retry_checkout(call.uow, call.caller.user, order, success_url=success, cancel_url=cancel)
    return {"order_id": order.id, "status": order.status, "checkout_url": order.checkout_url}


_PDF = {"type": "string", "format": "binary", "description": "A PDF document."}


def _pdf(document: Any) -> Result:
    return Result(
        invoices.pdf_of(document), headers={"Content-Disposition": f'attachment; filename="{document.filename}"'}
    )


@operation(
    "/v1/orders/{order_id}/invoice.pdf",
    "GET",
    summary="Download an order's invoice (PDF)",
    tag=TAG,
    scope=ORDERS_WRITE,
    path_params={"order_id": "id"},
    response=_PDF,
    media_type="application/pdf",
)
def invoice_pdf(call: Call, order_id: int) -> Result:
    """The invoice issued when the order was paid: sellers, buyer, tax ids when given, lines, fees and totals, as
    issued (a later rename changes nothing). 404 before the order is paid, and to anyone but the buyer's and the
    sellers' members."""
    return _pdf(invoices.invoice_for(call.uow.session, call.caller.user, order_id))


@operation(
    "/v1/orders/{order_id}/credit-notes/{credit_note_id}.pdf",
    "GET",
    summary="Download a credit note of an order (PDF)",
    tag=TAG,
    scope=ORDERS_WRITE,
    path_params={"order_id": "id", "credit_note_id": "id"},
    response=_PDF,
    media_type="application/pdf",
)
def credit_note_pdf(call: Call, order_id: int, credit_note_id: int) -> Result:
    """A credit note issued for a refund of the order, referring to its invoice."""
    return _pdf(invoices.credit_note_for(call.uow.session, call.caller.user, order_id, credit_note_id))


@operation(
    "/v1/offers/{offer_id}/acquire",
    "POST",
    summary="Acquire a free offer",
    tag=TAG,
    scope=ORDERS_WRITE,
    path_params={"offer_id": "id"},
    body=schemas.AcquireSchema(),
    response=schemas.LicenseSchema(),
    status=201,
)
def acquire(call: Call, offer_id: int) -> Result:
    """A free offer needs no payment: the license is issued at once, recording the accepted terms."""
    offer = licenses.get_offer(call.uow.session, offer_id)
    grant = licenses.acquire_free(
        call.uow,
        call.caller.user,
        offer,
        licensee_slug=call.body["licensee"],
        accepted_terms_hash=call.body["accepted_terms_hash"],
        ip_address=client_ip(),
    )
    return Result(
        present.grant(call.uow.session, grant), headers={"Location": present.api_url(f"/licenses/{grant.id}")}
    )
