"""Cart, checkout, orders, the sandbox checkout page, the payment webhook, and providers' sales and payouts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from marketplace.accounts.services import get_organisation
from marketplace.errors import DomainError, ValidationFailed
from marketplace.invoices import services as invoices
from marketplace.licenses import services as licenses
from marketplace.orders import schemas
from marketplace.orders import services as svc
from marketplace.orders.charts import bar_chart_svg
from marketplace.orders.payments import PaymentError, SandboxBackend
from marketplace.permissions import Action, can
from marketplace.web import (
    current_user,
    discard_changes,
    form_data,
    login_required,
    parse,
    redirect_to,
    require_user,
    uow,
)

bp = Blueprint("orders", __name__)

ViewResult = str | Response | tuple[str, int] | tuple[Response, int]


def _urls() -> tuple[str, str]:
    base = uow().settings["BASE_URL"]
    return (
        base + "/orders/{ORDER_ID}/complete?session_id={CHECKOUT_SESSION_ID}",
        base + "/orders/{ORDER_ID}?cancelled=1",
    )


# --- cart and checkout -------------------------------------------------------------------------------------------


@bp.post("/cart/add")
@login_required
def add_to_cart() -> Response:
    fields = parse(schemas.AddToCartSchema(), form_data())
    offer = licenses.get_offer(uow().session, fields["offer_id"])
    svc.add_to_cart(uow(), require_user(), offer, licensee_slug=fields["licensee"])
    flash(f"“{offer.title}” is in your cart.", "success")
    return redirect_to("orders.cart")


@bp.get("/cart")
@login_required
def cart() -> str:
    return render_template("orders/cart.html", cart=svc.cart_of(uow().session, require_user()), error=None)


@bp.post("/cart/<int:item_id>/remove")
@login_required
def remove_from_cart(item_id: int) -> Response:
    svc.remove_from_cart(uow(), require_user(), item_id)
    return redirect_to("orders.cart")


@bp.post("/checkout")
@login_required
def checkout() -> ViewResult:
    data = request.form
    fields = parse(schemas.CheckoutSchema(), form_data())
    accepted = {
        int(key.removeprefix("accept_")): value
        for key, value in data.items()
        if key.startswith("accept_") and key.removeprefix("accept_").isdigit()
    }
    success, cancel = _urls()
    try:
        order = svc.checkout(
            uow(),
            require_user(),
            licensee_slug=fields["licensee"],
            currency=fields["currency"],
            accepted_terms=accepted,
            success_url=success,
            cancel_url=cancel,
        )
    except ValidationFailed as error:
        discard_changes()
        return render_template(
            "orders/cart.html", cart=svc.cart_of(uow().session, require_user()), error=error.message
        ), 422
    assert order.checkout_url is not None
    return redirect(order.checkout_url, code=303)


@bp.post("/orders/<int:order_id>/pay")
@login_required
def pay_again(order_id: int) -> Response:
    order = svc.get_order(uow().session, order_id)
    success, cancel = _urls()
    svc.retry_checkout(uow(), require_user(), order, success_url=success, cancel_url=cancel)
    assert order.checkout_url is not None
    return redirect(order.checkout_url, code=303)


@bp.get("/orders/<int:order_id>/complete")
@login_required
def complete(order_id: int) -> Response:
    """Where checkout sends the buyer back: fulfil now if paid (the webhook may not have arrived yet)."""
    order = svc.get_order(uow().session, order_id)
    svc.require_order_access(uow().session, current_user(), order)
    session_id = request.args.get("session_id", "")
    if session_id and session_id == order.checkout_session_id:
        svc.fulfil_checkout(uow(), session_id)
    return redirect_to("orders.show", order_id=order_id)


@bp.get("/orders")
@login_required
def my_orders() -> str:
    return render_template("orders/list.html", orders=svc.orders_for_user(uow().session, require_user()))


@bp.get("/orders/<int:order_id>")
@login_required
def show(order_id: int) -> str:
    session = uow().session
    order = svc.get_order(session, order_id)
    svc.require_order_access(session, current_user(), order)
    return render_template(
        "orders/show.html",
        order=order,
        lines=svc.lines_of(session, order),
        may_refund=svc.may_refund(session, current_user(), order),
        documents=invoices.documents_of(session, order),
        cancelled=bool(request.args.get("cancelled")),
    )


@bp.post("/orders/<int:order_id>/refund")
@login_required
def refund(order_id: int) -> Response:
    order = svc.get_order(uow().session, order_id)
    fields = parse(schemas.RefundSchema(), form_data())
    svc.refund_order(uow(), require_user(), order, reason=fields["reason"])
    flash(f"Order {order.reference} is refunded and its licenses are revoked.", "info")
    if svc.may_view_order(uow().session, current_user(), order):
        return redirect_to("orders.show", order_id=order_id)
    return redirect_to("orders.sales", slug=_provider_slug(order))


def _provider_slug(order: Any) -> str:
    from marketplace.accounts.models import Organisation

    line = svc.lines_of(uow().session, order)[0]
    org = uow().session.get(Organisation, line.provider_org_id)
    return org.slug if org else ""


# --- the sandbox checkout page -------------------------------------------------------------------------------------


def _sandbox() -> SandboxBackend:
    backend = svc.backend(uow())
    if not isinstance(backend, SandboxBackend):
        abort(404)
    return backend


@bp.route("/sandbox/checkout/<session_id>", methods=["GET", "POST"])
def sandbox_checkout(session_id: str) -> ViewResult:
    """The embedded payment page: pay, fail or cancel; the result travels the same path as a Stripe webhook."""
    sandbox = _sandbox()
    try:
        facts = sandbox.retrieve_checkout(session_id)
    except PaymentError:
        abort(404)  # not a session this sandbox signed
    order = svc.order_for_session(uow().session, facts.id)
    if request.method == "GET":
        return render_template("orders/sandbox_checkout.html", facts=facts, order=order,
                               lines=svc.lines_of(uow().session, order) if order else [])  # fmt: skip
    outcome = parse(schemas.SandboxOutcomeSchema(), form_data())["outcome"]
    signed = sandbox.complete_checkout(facts.id, outcome)
    svc.handle_event(uow(), signed.payload, signed.signature_header)  # posted twice: applied the first time only
    # The session's own URLs are kept by the process that created it; another web worker knows the order (whose id
    # the signed session id carries) and sends the buyer to the same pages.
    if outcome == "paid":
        fallback = url_for("orders.complete", order_id=order.id, session_id=facts.id) if order else None
        return redirect(facts.success_redirect() or fallback or url_for("orders.my_orders"), code=303)
    fallback = url_for("orders.show", order_id=order.id, cancelled=1) if order else None
    return redirect(facts.cancel_url or fallback or url_for("orders.my_orders"), code=303)


# --- the payment provider's webhook --------------------------------------------------------------------------------


@bp.post("/webhooks/stripe")
def stripe_webhook() -> tuple[Response, int]:
    """Verified first, stored by event id, applied once. 400: rejected; 200: applied or a duplicate; 5xx: retry."""
    payload = request.get_data(cache=False)
    handled = svc.handle_event(uow(), payload, request.headers.get("Stripe-Signature"))
    if handled.duplicate:
        return jsonify({"status": "duplicate"}), 200
    return jsonify({"status": "ok", "outcome": handled.outcome}), 200


# --- providers: sales ledger and payouts ---------------------------------------------------------------------------


@bp.get("/orgs/<slug>/sales")
@login_required
def sales(slug: str) -> str:
    session = uow().session
    org = get_organisation(session, slug)
    ledger = svc.sales_ledger(session, require_user(), org, now=uow().now())
    charts = {currency: bar_chart_svg(series, currency) for currency, series in ledger.daily.items()}
    documents = invoices.documents_by_order(session, [order.id for _line, order, _dataset in ledger.rows])
    return render_template(
        "orders/sales.html",
        org=org,
        ledger=ledger,
        charts=charts,
        documents=documents,
        account=svc.payout_account(session, org),
        may_manage=can(session, require_user(), Action.ORG_UPDATE, org),
        may_refund=lambda order: svc.may_refund(session, current_user(), order),
    )


@bp.post("/orgs/<slug>/payouts")
@login_required
def start_payouts(slug: str) -> Response:
    org = get_organisation(uow().session, slug)
    fields = parse(schemas.OnboardingSchema(), form_data())
    base = uow().settings["BASE_URL"]
    link = svc.start_onboarding(
        uow(), require_user(), org, country=fields["country"],
        return_url=f"{base}/orgs/{slug}/payouts/return", refresh_url=f"{base}/orgs/{slug}/sales",
    )  # fmt: skip
    return redirect(link, code=303)


@bp.get("/orgs/<slug>/payouts/return")
@login_required
def payouts_return(slug: str) -> Response:
    org = get_organisation(uow().session, slug)
    try:
        account = svc.refresh_account(uow(), require_user(), org)
    except DomainError as error:
        discard_changes()
        flash(error.message, "error")
        return redirect_to("orders.sales", slug=slug)
    if account and account.charges_enabled:
        flash("Your payout account is ready: you can sell paid licenses.", "success")
    else:
        flash("Your payout account is not complete yet. Stripe will tell us when it is.", "warning")
    return redirect_to("orders.sales", slug=slug)


def register_template_helpers(app: Any) -> None:
    """``{{ amount|money(currency) }}`` shows minor units as money (``€1,250.00``); ``|money_input(currency)``
    writes them into an input in major units ("1250.00")."""
    from marketplace.money import format_amount, input_value

    app.add_template_filter(format_amount, "money")
    app.add_template_filter(input_value, "money_input")
