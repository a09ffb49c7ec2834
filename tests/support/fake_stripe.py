"""A small fake of the Stripe API on a loopback port, for tests that must see the exact requests sent.

No offline Stripe emulator covers Checkout Sessions, transfers and Connect, so this one answers the handful of
endpoints the payments package uses, with JSON objects shaped like Stripe's:

    POST /v1/checkout/sessions           GET /v1/checkout/sessions/{id}   (expand[]=payment_intent)
    POST /v1/transfers                   POST /v1/transfers/{id}/reversals
    POST /v1/refunds
    POST /v1/accounts                    GET /v1/accounts/{id}            POST /v1/account_links

Every request is recorded (:attr:`FakeStripe.requests`: method, path, form-decoded nested params, lower-cased
headers including ``idempotency-key`` and ``stripe-account``). A repeated idempotency key replays the first
response (``Idempotent-Replayed: true``); the same key with other parameters gets Stripe's 400
``idempotency_error``. :meth:`FakeStripe.fail_next` makes the next request(s) fail (500, 402 ``card_error``,
429 ...). :meth:`FakeStripe.pay_session`, :meth:`FakeStripe.event` and :meth:`FakeStripe.signed` play Stripe's
side of a payment and its webhook.

Use it through the ``fake_stripe`` fixture (import it into a conftest) or ``with FakeStripe() as fake:``.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe

__all__ = ["FakeStripe", "RecordedRequest", "decode_form", "fake_stripe"]

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Decode Stripe's form encoding (``a[b][0][c]=v``) into nested dicts and lists; values stay strings."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        parts = [head, *_KEY_PART.findall(key[len(head) :])]
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "":  # a[]=x: append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


@dataclass
class RecordedRequest:
    """One request the fake received, and what it answered."""

    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    body: bytes
    status: int = 0
    replayed: bool = False

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    @property
    def stripe_account(self) -> str | None:
        return self.headers.get("stripe-account")


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class StripeFailure(Exception):
    """Raised inside a route to answer with a Stripe error."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type, "message": message, **extra}}


class FakeStripe:
    """The fake Stripe API server. Start with :meth:`start` (or ``with``), stop with :meth:`stop`."""

    secret_key = "sk_test_fake_0123456789"
    webhook_secret = "whsec_test_fake_0123456789"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # Lifecycle

    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def do_DELETE(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-stripe", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The ``api`` base address to give the SDK (``http://127.0.0.1:<port>``)."""
        assert self._server is not None, "FakeStripe is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(self) -> None:
        """Forget every request, object, idempotency key and pending failure."""
        with self._lock:
            self.requests: list[RecordedRequest] = []
            self.sessions: dict[str, dict[str, Any]] = {}
            self.payment_intents: dict[str, dict[str, Any]] = {}
            self.charges: dict[str, dict[str, Any]] = {}
            self.transfers: dict[str, dict[str, Any]] = {}
            self.refunds: dict[str, dict[str, Any]] = {}
            self.accounts: dict[str, dict[str, Any]] = {}
            self._idempotent: dict[tuple[str | None, str], tuple[str, int, dict[str, Any]]] = {}
            self._failures: list[_Failure] = []

    # Inspecting what was sent

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests with this method and path (``path`` may end with ``*`` as a prefix match)."""
        with self._lock:
            recorded = list(self.requests)
        if path.endswith("*"):
            return [r for r in recorded if r.method == method and r.path.startswith(path[:-1])]
        return [r for r in recorded if r.method == method and r.path == path]

    def last(self, method: str | None = None, path: str | None = None) -> RecordedRequest:
        """The most recent request (optionally with this method and path)."""
        with self._lock:
            recorded = list(self.requests)
        matching = [r for r in recorded if (method is None or r.method == method) and (path is None or r.path == path)]
        assert matching, f"no request {method or ''} {path or ''} was made"
        return matching[-1]

    # Failure injection

    def fail_next(
        self,
        status: int = 500,
        *,
        type: str | None = None,
        code: str | None = None,
        message: str | None = None,
        times: int = 1,
        should_retry: bool | None = None,
        **extra: Any,
    ) -> None:
        """Make the next ``times`` requests fail with ``status`` and a Stripe error body (not cached by key).

        ``type`` defaults from the status (``card_error`` for 402, ``api_error`` for 5xx, ``rate_limit`` ...);
        ``should_retry`` sets the ``Stripe-Should-Retry`` header that the SDK obeys.
        """
        if type is None:
            type = {402: "card_error", 429: "invalid_request_error"}.get(
                status, "api_error" if status >= 500 else "invalid_request_error"
            )
        if code is None and status == 402:
            code = "card_declined"
        if code is None and status == 429:
            code = "rate_limit"
        error: dict[str, Any] = {"type": type, "message": message or f"Simulated failure ({status}).", **extra}
        if code is not None:
            error["code"] = code
        headers = {} if should_retry is None else {"Stripe-Should-Retry": "true" if should_retry else "false"}
        with self._lock:
            self._failures.extend(_Failure(status, {"error": error}, headers) for _ in range(times))

    # Playing Stripe's side

    def add_payment_intent(
        self, amount: int, currency: str = "usd", *, status: str = "succeeded", **fields: Any
    ) -> dict[str, Any]:
        """Create a paid payment intent (and its charge) as if a buyer had paid; returns the payment intent."""
        with self._lock:
            return self._add_payment_intent(amount, currency, status=status, **fields)

    def _add_payment_intent(self, amount: int, currency: str, *, status: str, **fields: Any) -> dict[str, Any]:
        pi_id, ch_id = _new_id("pi"), _new_id("ch")
        intent = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount,
            "currency": currency,
            "status": status,
            "latest_charge": ch_id,
            "metadata": {},
            "transfer_data": None,
            "application_fee_amount": None,
            "transfer_group": None,
            "livemode": False,
            **fields,
        }
        self.payment_intents[pi_id] = intent
        self.charges[ch_id] = {
            "id": ch_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "refunded": False,
            "currency": currency,
            "payment_intent": pi_id,
            "transfer_group": intent["transfer_group"],
            "metadata": {},
            "paid": True,
            "status": "succeeded",
            "livemode": False,
        }
        return intent

    def pay_session(self, session_id: str, *, payment_status: str = "paid") -> dict[str, Any]:
        """Complete a checkout session as Stripe does when the buyer pays; returns the session object."""
        with self._lock:
            session = self.sessions[session_id]
            data = session["_payment_intent_data"]
            transfer_data = data.get("transfer_data")
            fee = data.get("application_fee_amount")
            intent = self._add_payment_intent(
                session["amount_total"],
                session["currency"],
                status="succeeded" if payment_status == "paid" else "processing",
                metadata=dict(data.get("metadata") or {}),
                transfer_data=dict(transfer_data) if transfer_data else None,
                application_fee_amount=int(fee) if fee is not None else None,
                transfer_group=data.get("transfer_group"),
            )
            session.update(status="complete", payment_status=payment_status, payment_intent=intent["id"], url=None)
            return _public(session)

    def expire_session(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="expired", url=None)
            return _public(session)

    def update_account(self, account_id: str, **fields: Any) -> dict[str, Any]:
        """Change a connected account (e.g. ``charges_enabled=True``) as onboarding would."""
        with self._lock:
            self.accounts[account_id].update(fields)
            return dict(self.accounts[account_id])

    def event(self, type: str, obj: Mapping[str, Any], *, account: str | None = None) -> dict[str, Any]:
        """A Stripe event envelope around ``obj``."""
        event: dict[str, Any] = {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "data": {"object": dict(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        if account is not None:
            event["account"] = account
        return event

    def signed(
        self, event: Mapping[str, Any], secret: str | None = None, *, timestamp: int | None = None
    ) -> tuple[bytes, str]:
        """``(raw body, Stripe-Signature header)`` for ``event``, signed by Stripe's own SDK helper."""
        payload = json.dumps(event, indent=2).encode("utf-8")  # Stripe pretty-prints its webhook bodies
        header = stripe.WebhookSignature.generate_signature_header(
            payload.decode("utf-8"), secret or self.webhook_secret, timestamp=timestamp
        )
        return payload, header

    # The HTTP side

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        split = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        pairs = parse_qsl(split.query, keep_blank_values=True)
        if request.command == "POST":
            pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        recorded = RecordedRequest(
            method=request.command,
            path=split.path,
            params=decode_form(pairs),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
        )
        status, payload, headers = self._respond(recorded)
        recorded.status = status
        data = json.dumps(payload).encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.send_header("Request-Id", "req_" + secrets.token_hex(8))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def _respond(self, recorded: RecordedRequest) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.requests.append(recorded)
            if not recorded.headers.get("authorization", "").startswith("Bearer sk_"):
                error = {"type": "invalid_request_error", "message": "You did not provide an API key."}
                return 401, {"error": error}, {}
            if self._failures:
                failure = self._failures.pop(0)
                return failure.status, failure.body, failure.headers
            key = recorded.idempotency_key if recorded.method == "POST" else None
            fingerprint = json.dumps([recorded.method, recorded.path, recorded.params], sort_keys=True)
            scope = (recorded.stripe_account, key or "")
            if key and scope in self._idempotent:
                first, status, payload = self._idempotent[scope]
                if first != fingerprint:
                    message = (
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request."
                    )
                    return 400, {"error": {"type": "idempotency_error", "message": message}}, {}
                recorded.replayed = True
                return status, payload, {"Idempotent-Replayed": "true"}
            try:
                status, payload = 200, self._route(recorded)
            except StripeFailure as failure:
                status, payload = failure.status, failure.body
            except Exception as exc:  # a malformed request the fake did not foresee: answer like a 500
                status, payload = 500, {"error": {"type": "api_error", "message": f"Fake Stripe crashed: {exc!r}"}}
            if key:
                self._idempotent[scope] = (fingerprint, status, payload)
            return status, payload, {}

    def _route(self, r: RecordedRequest) -> dict[str, Any]:
        method, path, params = r.method, r.path, r.params
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        if (match := re.fullmatch(r"/v1/checkout/sessions/([^/]+)", path)) and method == "GET":
            return self._get_session(match[1], params)
        if method == "POST" and path == "/v1/transfers":
            return self._create_transfer(params)
        if (match := re.fullmatch(r"/v1/transfers/([^/]+)/reversals", path)) and method == "POST":
            return self._create_reversal(match[1], params)
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(params)
        if method == "POST" and path == "/v1/accounts":
            return self._create_account(params)
        if (match := re.fullmatch(r"/v1/accounts/([^/]+)", path)) and method == "GET":
            return dict(self._find(self.accounts, match[1], "account"))
        if method == "POST" and path == "/v1/account_links":
            return self._create_account_link(params)
        raise StripeFailure(404, f"Unrecognized request URL ({method}: {path}).")

    @staticmethod
    def _find(store: Mapping[str, dict[str, Any]], object_id: str, what: str) -> dict[str, Any]:
        if object_id not in store:
            raise StripeFailure(404, f"No such {what}: '{object_id}'", code="resource_missing", param="id")
        return store[object_id]

    @staticmethod
    def _required(params: Mapping[str, Any], *names: str) -> None:
        for name in names:
            if name not in params or params[name] in ("", None):
                raise StripeFailure(400, f"Missing required param: {name}.", code="parameter_missing", param=name)

    @staticmethod
    def _int(params: Mapping[str, Any], name: str) -> int:
        try:
            return int(params[name])
        except (KeyError, TypeError, ValueError):
            raise StripeFailure(400, f"Invalid integer: {params.get(name)}", code="parameter_invalid_integer") from None

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        self._required(params, "mode", "line_items", "success_url")
        items = params["line_items"]
        if not isinstance(items, list) or not items:
            raise StripeFailure(400, "Invalid array", code="parameter_invalid_empty", param="line_items")
        currencies = {item["price_data"]["currency"] for item in items}
        if len(currencies) != 1:
            raise StripeFailure(400, "All line items must share one currency.", param="line_items")
        total = sum(int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in items)
        session_id = "cs_test_" + secrets.token_hex(24)
        now = int(time.time())
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "amount_subtotal": total,
            "amount_total": total,
            "currency": currencies.pop(),
            "metadata": params.get("metadata", {}),
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "customer_details": None,
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "livemode": False,
            "created": now,
            "expires_at": now + 24 * 3600,
            "_payment_intent_data": params.get("payment_intent_data", {}),
        }
        self.sessions[session_id] = session
        return _public(session)

    def _get_session(self, session_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        session = _public(self._find(self.sessions, session_id, "checkout.session"))
        if "payment_intent" in (params.get("expand") or []) and session["payment_intent"]:
            session["payment_intent"] = dict(self.payment_intents[session["payment_intent"]])
        return session

    def _create_transfer(self, params: dict[str, Any]) -> dict[str, Any]:
        self._required(params, "amount", "currency", "destination")
        amount = self._int(params, "amount")
        source = params.get("source_transaction")
        if source is not None:
            charge = self._find(self.charges, source, "charge")
            if charge["currency"] != params["currency"]:
                raise StripeFailure(400, "The currency of source_transaction's balance transaction must match.")
        transfer_id = _new_id("tr")
        transfer = {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "currency": params["currency"],
            "destination": params["destination"],
            "transfer_group": params.get("transfer_group"),
            "source_transaction": source,
            "metadata": params.get("metadata", {}),
            "reversed": False,
            "livemode": False,
            "created": int(time.time()),
        }
        self.transfers[transfer_id] = transfer
        return dict(transfer)

    def _create_reversal(self, transfer_id: str, params: dict[str, Any]) -> dict[str, Any]:
        transfer = self._find(self.transfers, transfer_id, "transfer")
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = self._int(params, "amount") if "amount" in params else remaining
        if amount > remaining:
            raise StripeFailure(400, "Transfer reversal amount exceeds the transfer's unreversed amount.")
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
        return {
            "id": _new_id("trr"),
            "object": "transfer_reversal",
            "amount": amount,
            "currency": transfer["currency"],
            "transfer": transfer_id,
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        if "payment_intent" not in params and "charge" not in params:
            raise StripeFailure(400, "One of charge or payment_intent is required.", code="parameter_missing")
        if "payment_intent" in params:
            intent = self._find(self.payment_intents, params["payment_intent"], "payment_intent")
            charge = self.charges[intent["latest_charge"]]
        else:
            charge = self._find(self.charges, params["charge"], "charge")
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeFailure(
                400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
            )
        amount = self._int(params, "amount") if "amount" in params else remaining
        if amount > remaining:
            raise StripeFailure(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                code="amount_too_large",
                param="amount",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        refund_id = _new_id("re")
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": charge["payment_intent"],
            "reason": params.get("reason"),
            "status": "succeeded",
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        self.refunds[refund_id] = refund
        return dict(refund)

    def _create_account(self, params: dict[str, Any]) -> dict[str, Any]:
        account_id = "acct_" + secrets.token_hex(8)
        due = ["business_type", "external_account", "tos_acceptance.date", "tos_acceptance.ip"]
        account = {
            "id": account_id,
            "object": "account",
            "type": params.get("type", "standard"),
            "email": params.get("email"),
            "country": params.get("country", "US"),
            "capabilities": dict.fromkeys(params.get("capabilities", {}), "inactive"),
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "requirements": {
                "currently_due": due,
                "eventually_due": due,
                "past_due": due,
                "disabled_reason": "requirements.past_due",
            },
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        self.accounts[account_id] = account
        return dict(account)

    def _create_account_link(self, params: dict[str, Any]) -> dict[str, Any]:
        self._required(params, "account", "type")
        if params["account"] not in self.accounts:
            raise StripeFailure(400, f"No such account: '{params['account']}'", code="resource_missing")
        now = int(time.time())
        return {
            "object": "account_link",
            "url": f"https://connect.stripe.com/setup/e/{params['account']}/{secrets.token_urlsafe(16)}",
            "created": now,
            "expires_at": now + 300,
        }


def _public(session: Mapping[str, Any]) -> dict[str, Any]:
    """A session without the fake's private bookkeeping."""
    return {k: v for k, v in session.items() if not k.startswith("_")}


@pytest.fixture()
def fake_stripe() -> Iterator[FakeStripe]:
    """A running :class:`FakeStripe`; point a backend at ``fake_stripe.url``."""
    with FakeStripe() as fake:
        yield fake
