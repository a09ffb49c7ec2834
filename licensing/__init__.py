"""The licensing engine of the dataset marketplace: pure Python, no web framework or database.

Main entry points (see each module for details):

* :mod:`licensing.templates` — open (SPDX) and commercial (``LicenseRef-``) license templates,
  the registry, license families and :func:`validate_license_id`.
* :mod:`licensing.terms` — :class:`Terms`: validation, canonical hash, plain language; the values it is
  made of (enums, :class:`Territory`, obligations) are in :mod:`licensing.term_values`, its plain-English
  sentences in :mod:`licensing.plain_language`.
* :mod:`licensing.money` — :class:`Money` in ISO 4217 minor units.
* :mod:`licensing.offers` — :class:`Offer` (template + overrides + price + versions + audience).
* :mod:`licensing.grants` — :func:`issue_grant`, :class:`Grant` and its status state machine.
* :mod:`licensing.keys` / :mod:`licensing.certificates` — Ed25519 :class:`KeyRing`, signed
  certificates (:func:`issue_certificate`) and offline verification (:func:`verify_certificate`).
* :mod:`licensing.attribution` — CC BY style credit lines in text, HTML and Markdown.
* :mod:`licensing.usecheck` — :func:`check_use` and :func:`check_compatibility`.
* :mod:`licensing.render` — license documents (HTML, text) and ODRL 2.2 JSON-LD.
"""

from .attribution import AttributionNotice, build_attribution
from .canonical import canonical_json, sha256_hex
from .certificates import (
    CERTIFICATE_TYPE,
    PublicKeys,
    VerificationReason,
    VerificationResult,
    certificate_claims,
    issue_certificate,
    verify_certificate,
)
from .duration import Duration
from .errors import (
    AttributionError,
    CanonicalJSONError,
    CertificateError,
    GrantError,
    KeyRingError,
    LicenseIdError,
    LicensingError,
    MoneyError,
    OfferError,
    TermsError,
    TransitionError,
)
from .grants import AgreementRef, Grant, GrantAction, GrantEvent, GrantStatus, issue_grant
from .keys import KeyRing, ManagedKey
from .money import Money
from .offers import Audience, Offer, VersionCoverage
from .render import render_html, render_text, terms_to_odrl, to_odrl
from .templates import (
    DEFAULT_REGISTRY,
    LicenseFamily,
    LicenseKind,
    LicenseScope,
    LicenseTemplate,
    TemplateRegistry,
    get_template,
    license_family,
    list_templates,
    validate_license_id,
)
from .terms import (
    Attribution,
    DeletionOnTermination,
    Exclusivity,
    ModelWeights,
    PIIObligations,
    RawRedistribution,
    Terms,
    Territory,
    Use,
    Warranty,
)
from .ulid import new_ulid
from .usecheck import Action, Compatibility, Decision, IntendedUse, Reason, check_compatibility, check_use

__all__ = [
    "CERTIFICATE_TYPE",
    "DEFAULT_REGISTRY",
    "Action",
    "AgreementRef",
    "Attribution",
    "AttributionError",
    "AttributionNotice",
    "Audience",
    "CanonicalJSONError",
    "CertificateError",
    "Compatibility",
    "Decision",
    "DeletionOnTermination",
    "Duration",
    "Exclusivity",
    "Grant",
    "GrantAction",
    "GrantError",
    "GrantEvent",
    "GrantStatus",
    "IntendedUse",
    "KeyRing",
    "KeyRingError",
    "LicenseFamily",
    "LicenseIdError",
    "LicenseKind",
    "LicenseScope",
    "LicenseTemplate",
    "LicensingError",
    "ManagedKey",
    "ModelWeights",
    "Money",
    "MoneyError",
    "Offer",
    "OfferError",
    "PIIObligations",
    "PublicKeys",
    "RawRedistribution",
    "Reason",
    "TemplateRegistry",
    "Terms",
    "TermsError",
    "Territory",
    "TransitionError",
    "Use",
    "VerificationReason",
    "VerificationResult",
    "VersionCoverage",
    "Warranty",
    "build_attribution",
    "canonical_json",
    "certificate_claims",
    "check_compatibility",
    "check_use",
    "get_template",
    "issue_certificate",
    "issue_grant",
    "license_family",
    "list_templates",
    "new_ulid",
    "render_html",
    "render_text",
    "sha256_hex",
    "terms_to_odrl",
    "to_odrl",
    "validate_license_id",
    "verify_certificate",
]
