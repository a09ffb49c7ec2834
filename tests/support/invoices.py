"""An invoiced world for the authorisation matrix: the buyer's order of a new offer, paid (so it has an invoice)
and refunded (so it has a credit note)."""

from __future__ import annotations

from typing import Any

from marketplace.invoices import services as invoices
from marketplace.licenses import services as licenses
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from tests.functional.invoices.support import paid_order, work


def invoiced_order(world: Any, *, refund: bool = True) -> tuple[Order, int | None]:
    """The "buy" organisation's paid order of a fresh offer of the world's dataset, and its credit note's id when
    ``refund`` (the order is then refunded by the seller)."""
    uow = work(world.app, world.session)
    offer = licenses.create_offer(
        uow, world.people["seller"], world.objects["dataset"], title="Invoiced",
        license_id="LicenseRef-standard-commercial-1.0", price_amount=2000, currency="EUR",
    )  # fmt: skip
    order = paid_order(world.app, world.session, world.people["purchaser"], "buy", [offer])
    if not refund:
        return order, None
    orders.refund_order(uow, world.people["seller"], order, reason="matrix")
    world.session.flush()
    (note,) = invoices.credit_notes_of(world.session, order.id)
    return order, note.id
