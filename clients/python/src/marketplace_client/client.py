"""The :class:`Client`: typed methods over the marketplace's JSON API (``/api/v1``)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from ._http import Transport
from .certificates import PublicKeys, Verification, read_certificate_file, verify_certificate
from .download import Downloader, Progress, make_progress
from .errors import MarketplaceError, NotFound
from .models import (
    AcceptedQuote,
    AccessRequest,
    Certificate,
    CustomRequest,
    Dataset,
    DownloadedFile,
    DownloadLink,
    License,
    Manifest,
    ManifestVersion,
    Offer,
    Order,
    Quote,
    SearchHit,
    SearchPage,
    Version,
)

API = "/api/v1"
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")


def version_key(label: str) -> tuple[int, int, int, int, str]:
    """A sort key that orders version labels as Semantic Versioning does (a pre-release before its release)."""
    match = _VERSION.match(label)
    if match is None:
        return (-1, -1, -1, 0, label)
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


def _q(value: str | int) -> str:
    return quote(str(value), safe="")


class Client:
    """A marketplace's API as Python methods.

    ``base_url`` is the site (``https://data.example.org``), ``api_key`` an API key or OAuth access token,
    ``timeout`` the seconds one HTTP request may take, ``max_retries`` how often a rate-limited (429), unavailable
    (503) or broken request is retried (see :mod:`marketplace_client._http`). ``jwks`` gives the marketplace's
    public keys for offline certificate checks (a saved ``jwks.json`` path or its parsed JSON); without it they are
    fetched from ``/.well-known/jwks.json`` once and kept. Every POST carries an ``Idempotency-Key``; methods that
    create something accept ``idempotency_key=`` to make a retry of the whole call safe too.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff_factor: float = 0.5,
        jwks: str | Path | Mapping[str, Any] | None = None,
        sleep: Callable[[float], None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        options: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        self.transport = Transport(
            base_url,
            api_key,
            timeout=timeout,
            max_retries=max_retries,
            backoff_factor=backoff_factor,
            session=session,
            **options,
        )
        self._keys: PublicKeys | None = None
        if isinstance(jwks, str | Path):
            self._keys = PublicKeys.from_file(jwks)
        elif jwks is not None:
            self._keys = PublicKeys(jwks)
        self._keys_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    def _get(self, path: str, params: Any = None, *, authenticated: bool = True) -> Any:
        return self.transport.json("GET", API + path, params=params, authenticated=authenticated)

    def _post(self, path: str, body: Mapping[str, Any] | None = None, *, idempotency_key: str | None = None) -> Any:
        return self.transport.json("POST", API + path, json=dict(body or {}), idempotency_key=idempotency_key)

    def _pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a cursor-paginated listing."""
        query = dict(params or {})
        while True:
            page = self._get(path, query)
            yield from page.get("data", [])
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    def me(self) -> dict[str, Any]:
        """The calling credential: its type, scopes, user and the organisations it may act for."""
        return dict(self._get("/me"))

    # --- catalog ------------------------------------------------------------------------------------------------

    def search(
        self,
        query: str = "",
        *,
        facets: Mapping[str, str | Sequence[str]] | None = None,
        sort: str | None = None,
        with_facet_counts: bool = True,
        exact: bool = False,
        cursor: str | None = None,
    ) -> SearchPage:
        """One page of search results (20 hits). ``facets`` filter (``{"modality": "audio", "languages": ["de",
        "fr"]}``: values of one facet are alternatives); ``sort`` is ``relevance``, ``newest`` or ``price``; pass a
        page's ``next_cursor`` as ``cursor`` for the next page (same query), or use :meth:`search_all`."""
        params: list[tuple[str, str]] = [("q", query), ("facets", "true" if with_facet_counts else "false")]
        if exact:
            params.append(("exact", "true"))
        if sort:
            params.append(("sort", sort))
        for name, values in (facets or {}).items():
            for value in [values] if isinstance(values, str) else values:
                params.append((name, value))
        if cursor:
            params.append(("cursor", cursor))
        return SearchPage.from_json(self._get("/datasets", params))

    def search_all(
        self,
        query: str = "",
        *,
        facets: Mapping[str, str | Sequence[str]] | None = None,
        sort: str | None = None,
        exact: bool = False,
    ) -> Iterator[SearchHit]:
        """Every hit of a search, page after page (without facet counts)."""
        cursor: str | None = None
        while True:
            page = self.search(query, facets=facets, sort=sort, with_facet_counts=False, exact=exact, cursor=cursor)
            yield from page.hits
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def dataset(self, slug: str) -> Dataset:
        """A published listing with its metadata record and published versions."""
        return Dataset.from_json(self._get(f"/datasets/{_q(slug)}"))

    def version(self, slug: str, version: str) -> Version:
        """A published version and its files (size, SHA-256, whether the bytes are in storage)."""
        return Version.from_json(self._get(f"/datasets/{_q(slug)}/versions/{_q(version)}"))

    def offers(self, slug: str) -> list[Offer]:
        """The listing's active offers the caller may see (public ones and private ones addressed to it)."""
        return [Offer.from_json(o) for o in self._get(f"/datasets/{_q(slug)}/offers")["data"]]

    # --- orders -------------------------------------------------------------------------------------------------

    def create_order(
        self,
        licensee: str,
        offers: Sequence[Offer],
        *,
        success_url: str | None = None,
        cancel_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """Order paid ``offers`` for the buyer organisation ``licensee``, accepting each offer's terms by its hash.
        The order waits for payment at ``order.checkout_url`` (Stripe Checkout, or the sandbox page)."""
        body: dict[str, Any] = {
            "licensee": licensee,
            "lines": [{"offer_id": o.id, "accepted_terms_hash": o.terms_hash} for o in offers],
        }
        if success_url:
            body["success_url"] = success_url
        if cancel_url:
            body["cancel_url"] = cancel_url
        return Order.from_json(self._post("/orders", body, idempotency_key=idempotency_key))

    def order(self, order_id: int) -> Order:
        return Order.from_json(self._get(f"/orders/{int(order_id)}"))

    def orders(self) -> Iterator[Order]:
        """Orders of the buyer organisations the credential acts for, newest first (every page)."""
        return (Order.from_json(o) for o in self._pages("/orders"))

    def checkout_url(self, order_id: int) -> str | None:
        """Where the order is paid; None once it no longer waits for payment."""
        value = self._get(f"/orders/{int(order_id)}/checkout")["checkout_url"]
        return str(value) if value else None

    def acquire(self, offer: Offer, licensee: str, *, idempotency_key: str | None = None) -> License:
        """Take a free offer: the license is issued at once."""
        body = {"licensee": licensee, "accepted_terms_hash": offer.terms_hash}
        return License.from_json(self._post(f"/offers/{offer.id}/acquire", body, idempotency_key=idempotency_key))

    # --- licenses and certificates ------------------------------------------------------------------------------

    def license(self, license_id: str) -> License:
        return License.from_json(self._get(f"/licenses/{_q(license_id)}"))

    def licenses(self, role: str = "licensee") -> Iterator[License]:
        """Licenses held (``licensee``) or granted (``licensor``) by the credential's organisations."""
        return (License.from_json(g) for g in self._pages("/licenses", {"role": role}))

    def certificate(self, license_id: str) -> Certificate:
        """The license's signed certificate (404 ``no_certificate`` when the license is not active)."""
        return Certificate.from_json(self._get(f"/licenses/{_q(license_id)}/certificate"))

    def download_certificate(self, license_id: str, path: str | Path) -> Path:
        """Save the certificate (the compact JWS as text) to ``path``."""
        target = Path(path)
        target.write_text(self.certificate(license_id).token + "\n", encoding="ascii")
        return target

    def jwks(self) -> PublicKeys:
        """The marketplace's public keys: given to the constructor, or fetched once and kept."""
        with self._keys_lock:
            if self._keys is None:
                document = self.transport.json("GET", "/.well-known/jwks.json", authenticated=False)
                self._keys = PublicKeys(document)
            return self._keys

    def verify_certificate(
        self, certificate: str | Certificate | Path, *, now: datetime | None = None, leeway: int = 0
    ) -> Verification:
        """Check a certificate (token, :class:`Certificate`, or a file holding one) offline against the JWKS."""
        if isinstance(certificate, Certificate):
            token = certificate.token
        elif isinstance(certificate, Path):
            token = read_certificate_file(certificate)
        else:
            token = certificate
        return verify_certificate(token, self.jwks(), now=now, leeway=leeway)

    def verify_online(self, license_id: str) -> dict[str, Any]:
        """Ask the marketplace whether the license is genuine and in force now (sees revocation; no key needed)."""
        return dict(self._get(f"/licenses/{_q(license_id)}/verify", authenticated=False))

    # --- downloads ----------------------------------------------------------------------------------------------

    def manifest(self, license_id: str) -> Manifest:
        """Every file the license covers, per version, with size and SHA-256."""
        return Manifest.from_json(self._get(f"/licenses/{_q(license_id)}/manifest"))

    def download_links(
        self, license_id: str, *, version: str | None = None, file_ids: Sequence[int] | None = None
    ) -> list[DownloadLink]:
        """Short-lived, audited links: the files ``file_ids``, every file of ``version``, or every file covered."""
        body: dict[str, Any] = {}
        if version:
            body["version"] = version
        if file_ids:
            body["file_ids"] = list(file_ids)
        data = self._post(f"/licenses/{_q(license_id)}/download-links", body)
        return [DownloadLink.from_json(item) for item in data["data"]]

    def download_license(
        self,
        license_id: str,
        dest: str | Path = ".",
        *,
        version: str | None = None,
        parallel: int = 4,
        progress: bool | Progress = False,
    ) -> list[DownloadedFile]:
        """Download one version of a license (``version``, else the newest it covers) into ``dest``, ``parallel``
        files at a time, resuming interrupted files, each checked against the license manifest's size and SHA-256
        (see :mod:`marketplace_client.download`). ``progress``: True for a bar on stderr (tqdm if installed)."""
        chosen = self._manifest_version(self.manifest(license_id), version)
        expected = {f.id: f for f in chosen.files}
        links = []
        for link in self.download_links(license_id, version=chosen.version):
            entry = expected.get(link.file_id)
            if entry is None:
                raise MarketplaceError(f"{link.path}: the link names a file the license manifest does not list")
            links.append(replace(link, sha256=entry.sha256, size_bytes=entry.size_bytes))
        reporter: Progress | None
        if isinstance(progress, bool):
            reporter = make_progress(sum(x.size_bytes for x in links), len(links)) if progress else None
        else:
            reporter = progress
        return Downloader(self.transport, Path(dest), parallel=parallel, progress=reporter).run(links)

    @staticmethod
    def _manifest_version(manifest: Manifest, version: str | None) -> ManifestVersion:
        if not manifest.versions:
            raise MarketplaceError(f"license {manifest.license_id} covers no published version")
        if version is None:
            return max(manifest.versions, key=lambda v: version_key(v.version))
        for item in manifest.versions:
            if item.version == version:
                return item
        raise MarketplaceError(f"license {manifest.license_id} does not cover version {version}")

    def license_for(self, slug: str, version: str | None = None) -> License:
        """An active license the credential's organisations hold for the listing ``slug`` (covering ``version``
        when given); :class:`NotFound` when there is none."""
        for item in self.licenses("licensee"):
            if item.dataset == slug and item.status == "active" and (version is None or item.covers(version)):
                return item
        wanted = f"{slug} {version}" if version else slug
        raise NotFound(404, "no_license", f"no active license for {wanted}", method="GET", path=f"{API}/licenses")

    def download(
        self,
        slug: str,
        dest: str | Path = ".",
        *,
        version: str | None = None,
        parallel: int = 4,
        progress: bool | Progress = False,
    ) -> list[DownloadedFile]:
        """:meth:`download_license` for the license held on the listing ``slug``."""
        held = self.license_for(slug, version)
        return self.download_license(held.id, dest, version=version, parallel=parallel, progress=progress)

    # --- access requests ----------------------------------------------------------------------------------------

    def access_form(self, slug: str) -> dict[str, Any]:
        """How access to a governed dataset works: mode, form fields, the agreement's text and SHA-256."""
        return dict(self._get(f"/datasets/{_q(slug)}/access"))

    def request_access(
        self,
        slug: str,
        *,
        full_name: str,
        intended_uses: Sequence[str],
        intended_use_text: str,
        country: str,
        answers: Mapping[str, Any] | None = None,
        organisation: str | None = None,
        idempotency_key: str | None = None,
    ) -> AccessRequest:
        """Ask for access to the governed dataset ``slug``; sign its agreement next with :meth:`sign_agreement`."""
        body: dict[str, Any] = {
            "full_name": full_name,
            "intended_uses": list(intended_uses),
            "intended_use_text": intended_use_text,
            "country": country,
            "answers": dict(answers or {}),
        }
        if organisation:
            body["organisation"] = organisation
        data = self._post(f"/datasets/{_q(slug)}/access-requests", body, idempotency_key=idempotency_key)
        return AccessRequest.from_json(data)

    def sign_agreement(self, request: AccessRequest, full_name: str) -> AccessRequest:
        """Sign the agreement version the request names (the SHA-256 of the text it shows is sent back)."""
        if not request.agreement:
            raise MarketplaceError(f"access request {request.id} has no agreement to sign")
        body = {"full_name": full_name, "sha256": request.agreement["sha256"]}
        return AccessRequest.from_json(self._post(f"/access-requests/{request.id}/signature", body))

    def access_request(self, request_id: int) -> AccessRequest:
        """A request's state (``submitted``, ``approved``, ...), the reviewer's reason and its history."""
        return AccessRequest.from_json(self._get(f"/access-requests/{int(request_id)}"))

    def access_requests(self) -> Iterator[AccessRequest]:
        return (AccessRequest.from_json(r) for r in self._pages("/access-requests"))

    # --- custom data --------------------------------------------------------------------------------------------

    def custom_requests(self) -> Iterator[CustomRequest]:
        """Your buyer organisations' requests for data and those your provider organisations were invited to."""
        return (CustomRequest.from_json(r) for r in self._pages("/custom/requests"))

    def create_custom_request(
        self,
        spec: Mapping[str, Any],
        *,
        organisation: str | None = None,
        publish: bool = True,
        invite: Sequence[str] = (),
        idempotency_key: str | None = None,
    ) -> CustomRequest:
        """Post a request for data: ``spec`` holds its specification (title, modality, volume, license, budget,
        deadline, ...; see ``POST /api/v1/custom/requests`` in the API documentation)."""
        body = {**spec, "publish": publish, "invite": list(invite)}
        if organisation:
            body["organisation"] = organisation
        return CustomRequest.from_json(self._post("/custom/requests", body, idempotency_key=idempotency_key))

    def custom_request(self, request_id: int) -> CustomRequest:
        return CustomRequest.from_json(self._get(f"/custom/requests/{int(request_id)}"))

    def quotes(self, request_id: int) -> list[Quote]:
        """The quotes on a request (every one for the buyer, its own for a provider)."""
        return [Quote.from_json(q) for q in self._get(f"/custom/requests/{int(request_id)}/quotes")["data"]]

    def accept_quote(self, quote_id: int, *, idempotency_key: str | None = None) -> AcceptedQuote:
        """Accept a quote: a contract is made and the other standing quotes are declined."""
        return AcceptedQuote.from_json(
            self._post(f"/custom/quotes/{int(quote_id)}/accept", idempotency_key=idempotency_key)
        )
