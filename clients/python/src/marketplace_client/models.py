"""Typed results. Each keeps the fields most code needs as attributes and the whole JSON object in ``raw``
(the API's documentation at ``/api/docs`` describes every field)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _slug(value: Any) -> str:
    return str(value.get("slug") or "") if isinstance(value, dict) else str(value or "")


@dataclass(frozen=True)
class Money:
    """An amount in minor units (cents) of ``currency``; ``formatted`` is how the site shows it."""

    amount: int
    currency: str
    formatted: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Money:
        return cls(int(data["amount"]), str(data["currency"]), str(data.get("formatted", "")))


@dataclass(frozen=True)
class SearchHit:
    slug: str
    title: str
    summary: str
    provider: str
    latest_version: str | None
    modality: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SearchHit:
        return cls(
            slug=data["slug"],
            title=data.get("title", ""),
            summary=data.get("summary") or "",
            provider=_slug(data.get("provider")),
            latest_version=data.get("latest_version"),
            modality=data.get("modality"),
            raw=data,
        )


@dataclass(frozen=True)
class SearchPage:
    """One page of search results; ``next_cursor`` is None on the last page."""

    hits: list[SearchHit]
    total: int
    total_is_estimate: bool
    facets: list[dict[str, Any]]
    next_cursor: str | None
    spelling: dict[str, Any] | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SearchPage:
        return cls(
            hits=[SearchHit.from_json(h) for h in data.get("data", [])],
            total=int(data.get("total") or 0),
            total_is_estimate=bool(data.get("total_is_estimate")),
            facets=list(data.get("facets") or []),
            next_cursor=data.get("next_cursor"),
            spelling=data.get("spelling"),
        )


@dataclass(frozen=True)
class VersionSummary:
    version: str
    status: str
    manifest_digest: str | None
    file_count: int
    total_bytes: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VersionSummary:
        return cls(
            version=data["version"],
            status=data.get("status", ""),
            manifest_digest=data.get("manifest_digest"),
            file_count=int(data.get("file_count") or 0),
            total_bytes=int(data.get("total_bytes") or 0),
        )


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: str
    status: str
    provider: str
    versions: list[VersionSummary]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dataset:
        return cls(
            slug=data["slug"],
            title=data.get("title", ""),
            status=data.get("status", ""),
            provider=_slug(data.get("provider")),
            versions=[VersionSummary.from_json(v) for v in data.get("versions", [])],
            raw=data,
        )


@dataclass(frozen=True)
class FileEntry:
    """A file of a version or license manifest: ``available`` is whether its bytes are in storage."""

    id: int
    path: str
    size_bytes: int
    sha256: str
    media_type: str
    available: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileEntry:
        return cls(
            id=int(data["id"]),
            path=data["path"],
            size_bytes=int(data["size_bytes"]),
            sha256=data["sha256"],
            media_type=data.get("media_type") or "",
            available=bool(data.get("uploaded", data.get("downloadable", False))),
        )


@dataclass(frozen=True)
class Version:
    dataset: str
    version: str
    manifest_digest: str | None
    files: list[FileEntry]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Version:
        return cls(
            dataset=data.get("dataset", ""),
            version=data["version"],
            manifest_digest=data.get("manifest_digest"),
            files=[FileEntry.from_json(f) for f in data.get("files", [])],
        )


@dataclass(frozen=True)
class Offer:
    """An offer; an order accepts its terms by sending ``terms_hash`` back."""

    id: int
    dataset: str
    title: str
    license_id: str
    price: Money
    terms_hash: str
    private: bool
    active: bool
    version_label: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_free(self) -> bool:
        return self.price.amount == 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Offer:
        return cls(
            id=int(data["id"]),
            dataset=data.get("dataset", ""),
            title=data.get("title", ""),
            license_id=data.get("license_id", ""),
            price=Money.from_json(data["price"]),
            terms_hash=data["terms_hash"],
            private=bool(data.get("private")),
            active=bool(data.get("active", True)),
            version_label=data.get("version_label"),
            raw=data,
        )


@dataclass(frozen=True)
class OrderLine:
    offer_id: int
    dataset: str | None
    amount: int
    currency: str
    terms_hash: str
    license_id: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderLine:
        return cls(
            offer_id=int(data["offer_id"]),
            dataset=data.get("dataset"),
            amount=int(data.get("amount") or 0),
            currency=data.get("currency", ""),
            terms_hash=data.get("terms_hash", ""),
            license_id=data.get("license_id"),
        )


@dataclass(frozen=True)
class Order:
    """An order; while it is ``pending_payment`` the buyer pays at ``checkout_url``. Once paid, each line names
    the license it issued."""

    id: int
    reference: str
    status: str
    licensee: str
    total: Money
    checkout_url: str | None
    lines: list[OrderLine]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def license_ids(self) -> list[str]:
        return [line.license_id for line in self.lines if line.license_id]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Order:
        return cls(
            id=int(data["id"]),
            reference=data.get("reference", ""),
            status=data["status"],
            licensee=data.get("licensee", ""),
            total=Money.from_json(data["total"]),
            checkout_url=data.get("checkout_url"),
            lines=[OrderLine.from_json(line) for line in data.get("lines", [])],
            raw=data,
        )


@dataclass(frozen=True)
class License:
    id: str
    status: str
    dataset: str | None
    license: str
    licensee: str
    licensor: str
    versions: list[str]
    all_versions: bool
    terms_hash: str
    valid_from: str | None
    valid_until: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    def covers(self, version: str) -> bool:
        return self.all_versions or version in self.versions

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> License:
        return cls(
            id=data["id"],
            status=data["status"],
            dataset=data.get("dataset"),
            license=data.get("license", ""),
            licensee=_slug(data.get("licensee")),
            licensor=_slug(data.get("licensor")),
            versions=list(data.get("versions") or []),
            all_versions=bool(data.get("all_versions")),
            terms_hash=data.get("terms_hash", ""),
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            raw=data,
        )


@dataclass(frozen=True)
class Certificate:
    """A license's signed certificate: a compact JWS (EdDSA) anyone can verify against the JWKS at ``jwks_url``."""

    license_id: str
    token: str
    kid: str | None
    jwks_url: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Certificate:
        return cls(data["license_id"], data["certificate"], data.get("kid"), data.get("jwks_url", ""))


@dataclass(frozen=True)
class ManifestVersion:
    version: str
    manifest_digest: str | None
    files: list[FileEntry]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManifestVersion:
        return cls(data["version"], data.get("manifest_digest"), [FileEntry.from_json(f) for f in data["files"]])


@dataclass(frozen=True)
class Manifest:
    """Every file a license covers, per version, with the size and SHA-256 downloads are checked against."""

    license_id: str
    dataset: str | None
    versions: list[ManifestVersion]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(data["license"], data.get("dataset"), [ManifestVersion.from_json(v) for v in data["versions"]])


@dataclass(frozen=True)
class DownloadLink:
    file_id: int
    path: str
    version: str
    size_bytes: int
    sha256: str
    url: str
    expires_at: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DownloadLink:
        return cls(
            file_id=int(data["file_id"]),
            path=data["path"],
            version=data["version"],
            size_bytes=int(data["size_bytes"]),
            sha256=data["sha256"],
            url=data["url"],
            expires_at=data.get("expires_at"),
        )


@dataclass(frozen=True)
class AccessRequest:
    """A request for access to a governed dataset; ``agreement`` (when not None) is the data-use agreement to
    sign, with its ``sha256``."""

    id: int
    dataset: str
    state: str
    agreement: dict[str, Any] | None
    reason: str | None
    approval_id: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccessRequest:
        return cls(
            id=int(data["id"]),
            dataset=_slug(data.get("dataset")),
            state=data["state"],
            agreement=data.get("agreement"),
            reason=data.get("reason"),
            approval_id=data.get("approval_id"),
            raw=data,
        )


@dataclass(frozen=True)
class CustomRequest:
    """A request for custom data (its specification's fields are in ``raw``)."""

    id: int
    title: str
    state: str
    revision: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CustomRequest:
        return cls(int(data["id"]), data.get("title", ""), data["state"], int(data.get("revision") or 1), data)


@dataclass(frozen=True)
class Quote:
    id: int
    request_id: int
    provider: str
    state: str
    price_amount: int
    currency: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quote:
        return cls(
            id=int(data["id"]),
            request_id=int(data["request_id"]),
            provider=_slug(data.get("provider")),
            state=data["state"],
            price_amount=int(data["price_amount"]),
            currency=data["currency"],
            raw=data,
        )


@dataclass(frozen=True)
class AcceptedQuote:
    """Accepting a quote makes a contract, paid and delivered through ``contract_url``."""

    contract_id: int
    contract_url: str
    quote: Quote

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AcceptedQuote:
        return cls(int(data["contract_id"]), data["contract_url"], Quote.from_json(data["quote"]))


@dataclass(frozen=True)
class DownloadedFile:
    """A file written to ``local_path`` whose size and SHA-256 matched the manifest; ``resumed_from`` is how many
    bytes an earlier, interrupted download had already written (0: from the start; -1: already complete)."""

    path: str
    local_path: str
    size_bytes: int
    sha256: str
    resumed_from: int
