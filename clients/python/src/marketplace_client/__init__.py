"""A typed Python client for the dataset marketplace's JSON API, and the ``marketplace-client`` command.

>>> from marketplace_client import Client
>>> client = Client("https://data.example.org", api_key="mkp_live_...")
>>> for hit in client.search_all("speech", facets={"modality": "audio"}): ...
"""

from __future__ import annotations

from .certificates import PublicKeys, Verification, verify_certificate
from .client import Client
from .errors import (
    ApiError,
    AuthenticationError,
    BadRequest,
    CertificateInvalid,
    Conflict,
    IntegrityError,
    MarketplaceError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TransportError,
    ValidationError,
)
from .models import (
    AcceptedQuote,
    AccessRequest,
    Certificate,
    CustomRequest,
    Dataset,
    DownloadedFile,
    DownloadLink,
    FileEntry,
    License,
    Manifest,
    Money,
    Offer,
    Order,
    Quote,
    SearchHit,
    SearchPage,
    Version,
)

__version__ = "0.1.0"

__all__ = [
    "AcceptedQuote",
    "AccessRequest",
    "ApiError",
    "AuthenticationError",
    "BadRequest",
    "Certificate",
    "CertificateInvalid",
    "Client",
    "Conflict",
    "CustomRequest",
    "Dataset",
    "DownloadLink",
    "DownloadedFile",
    "FileEntry",
    "IntegrityError",
    "License",
    "Manifest",
    "MarketplaceError",
    "Money",
    "NotFound",
    "Offer",
    "Order",
    "PermissionDenied",
    "PublicKeys",
    "Quote",
    "RateLimited",
    "SearchHit",
    "SearchPage",
    "ServerError",
    "ServiceUnavailable",
    "TransportError",
    "ValidationError",
    "Verification",
    "Version",
    "verify_certificate",
]
