"""What a person and an API client do on a running stack, over real HTTP (``requests``), as small steps.

Used by the stack test (``tests/stack``) and the load benchmark (``bench/bench_load.py``), which times each
step. A step that gets an unexpected answer raises :class:`FlowError` naming the step, the status and the start
of the body. The website is driven as a browser would: a session cookie and the CSRF token of each form.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

DEMO_PASSWORD = "marketplace-demo"  # the published demo password of `marketplace seed`
DOWNLOADABLE = "instruction-pairs-starter"  # the demo listing whose files really are in storage
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'name="(\w+)" value="([^"]*)"')


class FlowError(AssertionError):
    """A step of a flow got an answer it should not have."""


def _expect(step: str, response: requests.Response, *statuses: int) -> requests.Response:
    if response.status_code not in statuses:
        raise FlowError(f"{step}: HTTP {response.status_code} from {response.request.method} {response.url} "
                        f"(expected {statuses}): {response.text[:1500]}")  # fmt: skip
    return response


def http_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # every server of the stack is on loopback; no proxy from the environment
    return session


@dataclass
class Purchase:
    order_id: int
    grant_id: str
    files: list[dict[str, Any]]


class Shopper:
    """A person on the website: logs in, searches, opens a listing, buys it through the sandbox, downloads."""

    def __init__(self, base_url: str, email: str, password: str = DEMO_PASSWORD, timeout: float = 30) -> None:
        self.base = base_url.rstrip("/")
        self.email = email
        self.password = password
        self.timeout = timeout
        self.http = http_session()
        self.token = ""
        self.last_link = ""
        #: Payments whose sandbox return URL was lost (the payment was completed in another web worker).
        self.returns_lost = 0

    def _get(self, step: str, path: str, *statuses: int, **kw: Any) -> requests.Response:
        response = self.http.get(self.base + path, timeout=self.timeout, allow_redirects=False, **kw)
        return _expect(step, response, *(statuses or (200,)))

    def _post(self, step: str, path: str, data: dict[str, str], *statuses: int) -> requests.Response:
        response = self.http.post(self.base + path, data={**data, "csrf_token": self.token}, timeout=self.timeout,
                                  allow_redirects=False)  # fmt: skip
        return _expect(step, response, *statuses)

    def _keep_token(self, page: str) -> str:
        match = _CSRF.search(page)
        if match:
            self.token = match.group(1)
        return page

    def log_in(self) -> None:
        self._keep_token(self._get("login page", "/login").text)
        response = self._post("log in", "/login", {"email": self.email, "password": self.password}, 302, 303)
        if "/login" in response.headers.get("Location", ""):
            raise FlowError(f"log in: {self.email} was sent back to the login page")
        self._keep_token(self._get("home", "/").text)

    def new_buyer_organisation(self, name: str) -> str:
        """Create a buyer organisation (each purchase of an offer needs a licensee that does not hold it yet)."""
        response = self._post("new organisation", "/orgs/new", {"name": name, "kind": "buyer"}, 302, 303)
        return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    def search(self, query: str, slug: str = DOWNLOADABLE) -> None:
        page = self._get("search", "/datasets", params={"q": query}).text
        if f'href="/datasets/{slug}"' not in page:
            raise FlowError(f"search: {slug} is not among the results for {query!r}")

    def dataset_page(self, slug: str = DOWNLOADABLE) -> int:
        """Open the listing; return the id of its first paid offer (the one added to the cart)."""
        page = self._keep_token(self._get("dataset page", f"/datasets/{slug}").text)
        for action, body in _FORM.findall(page):
            if action == "/cart/add":
                return int(dict(_HIDDEN.findall(body))["offer_id"])
        raise FlowError(f"dataset page: no paid offer to add to the cart on /datasets/{slug}")

    def checkout(self, offer_id: int, licensee: str) -> str:
        """Add the offer to the cart, accept its terms on the cart page and check out: the sandbox checkout path."""
        self._post("add to cart", "/cart/add", {"offer_id": str(offer_id), "licensee": licensee}, 302, 303)
        cart = self._keep_token(self._get("cart", "/cart").text)
        accepted = re.search(rf'name="accept_{offer_id}" value="([0-9a-f]+)"', cart)
        currency = re.search(r'name="currency" value="([A-Z]{3})"', cart)
        if accepted is None or currency is None:
            raise FlowError(f"cart: no terms to accept for offer {offer_id}")
        data = {"licensee": licensee, "currency": currency.group(1), f"accept_{offer_id}": accepted.group(1)}
        response = self._post("check out", "/checkout", data, 303)
        location = urlsplit(response.headers["Location"]).path
        if not location.startswith("/sandbox/checkout/"):
            raise FlowError(f"check out: sent to {location}, not the sandbox checkout")
        return location

    def pay(self, checkout_path: str) -> Purchase:
        """Pay on the sandbox page, come back to the order, and find the license it issued."""
        self._keep_token(self._get("sandbox page", checkout_path).text)
        response = self._post("pay", checkout_path, {"outcome": "paid"}, 303)
        back = urlsplit(response.headers["Location"])
        if back.path == "/orders":
            # The sandbox keeps a session's return URL in the memory of the worker that made it: paid in another
            # worker, the buyer is sent to "My orders" (the order is paid all the same) and opens the newest order.
            self.returns_lost += 1
            newest = re.search(r'href="(/orders/\d+)"', self._get("my orders", "/orders").text)
            if newest is None:
                raise FlowError("pay: sent to My orders, which lists no order")
            order_path = newest.group(1)
        else:
            order_path = urlsplit(self._get("order complete", f"{back.path}?{back.query}", 302, 303)
                                  .headers["Location"]).path  # fmt: skip
        order = self._keep_token(self._get("order page", order_path).text)
        if 'data-testid="order-status">Paid<' not in order:
            raise FlowError(f"order page: {order_path} is not paid")
        grant = re.search(r'href="/licenses/([0-9A-Za-z]+)"', order)
        if grant is None:
            raise FlowError(f"order page: {order_path} links to no license")
        manifest = self._get("manifest", f"/licenses/{grant.group(1)}/manifest.json").json()
        return Purchase(int(order_path.rsplit("/", 1)[-1]), grant.group(1), _manifest_files(manifest))

    def download(self, grant_id: str, file: dict[str, Any]) -> bytes:
        """Ask for a download link (an audited, short-lived presigned URL) and fetch the bytes from storage."""
        response = self._post("download link", f"/licenses/{grant_id}/files/{file['id']}/download", {}, 303)
        link = self.last_link = response.headers["Location"]
        content = _expect("download bytes", self.http.get(link, timeout=self.timeout), 200).content
        if hashlib.sha256(content).hexdigest() != file["sha256"]:
            raise FlowError(f"download bytes: {file['path']} does not hash to its manifest's SHA-256")
        return content


def _manifest_files(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = []
    for version in manifest.get("versions", [manifest]):
        files.extend(f for f in version.get("files", []) if f.get("id") is not None)
    if not files:
        raise FlowError(f"manifest: no downloadable file in {json.dumps(manifest)[:800]}")
    return files


class ApiClient:
    """The JSON API with one API key."""

    def __init__(self, base_url: str, key: str, timeout: float = 30) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.http = http_session()
        self.http.headers["Authorization"] = f"Bearer {key}"
        self.timeout = timeout

    def call(self, method: str, path: str, *statuses: int, body: Any = None) -> Any:
        url = path if path.startswith("http") else self.base + path
        response = self.http.request(method, url, json=body, timeout=self.timeout)
        _expect(f"{method} {path}", response, *(statuses or (200,)))
        return response.json() if response.content else None

    def wait_for(self, path: str, done: Callable[[Any], bool], timeout: float = 60, what: str = "") -> Any:
        """GET ``path`` until ``done(body)``; the last body, or :class:`FlowError` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.call("GET", path)
            if done(body):
                return body
            if time.monotonic() > deadline:
                raise FlowError(f"{what or path}: not done within {timeout:.0f} s; last answer {str(body)[:1500]}")
            time.sleep(0.2)


def create_api_key(shopper: Shopper, organisation: str, scopes: list[str], name: str = "stack") -> str:
    """Create an organisation's API key on the settings page, as its administrator would; return the secret."""
    page = shopper._keep_token(shopper._get("API settings", "/settings/api").text)
    del page
    data: list[tuple[str, str]] = [("name", name), ("owner", f"org:{organisation}"), ("environment", "live"),
                                   ("csrf_token", shopper.token)]  # fmt: skip
    data.extend(("scopes", scope) for scope in scopes)
    response = shopper.http.post(shopper.base + "/settings/api/keys", data=data, timeout=shopper.timeout,
                                 allow_redirects=True)  # fmt: skip
    _expect("create API key", response, 200, 201)
    match = re.search(r"mkp_live_[0-9A-Za-z]{38}", response.text)
    if match is None:
        raise FlowError(f"create API key: no secret shown: {response.text[:1500]}")
    return match.group(0)
