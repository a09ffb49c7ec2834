"""Exceptions raised by the licensing engine.

Every error the engine raises on purpose is a :class:`LicensingError`. Errors about a particular
piece of input carry the offending field name(s) in :attr:`LicensingError.fields`, so a form or an
API response can point at the right field.
"""

from __future__ import annotations

from collections.abc import Iterable


class LicensingError(ValueError):
    """Base class of every error the licensing engine raises on purpose.

    ``fields`` names the input field(s) at fault (possibly empty); ``message`` is a sentence for people.
    """

    def __init__(self, message: str, fields: str | Iterable[str] = ()) -> None:
        self.message = message
        self.fields: tuple[str, ...] = (fields,) if isinstance(fields, str) else tuple(fields)
        super().__init__(f"{', '.join(self.fields)}: {message}" if self.fields else message)


class TermsError(LicensingError):
    """License terms are invalid or contradict each other."""


class MoneyError(LicensingError):
    """An amount of money or a currency code is invalid."""


class LicenseIdError(LicensingError):
    """A license id or SPDX expression is not valid or not known."""


class OfferError(TermsError):
    """An offer is invalid (for example a price on an open license, or exclusivity on a public offer)."""


class GrantError(LicensingError):
    """A grant is invalid, or its stored form does not match itself."""


class TransitionError(GrantError):
    """A grant status change is not allowed from the grant's current status."""

    def __init__(self, message: str, current: str, action: str) -> None:
        self.current = current
        self.action = action
        super().__init__(message, "status")


class KeyRingError(LicensingError):
    """A signing key could not be generated, loaded, saved or found."""


class CertificateError(LicensingError):
    """A certificate could not be issued."""


class AttributionError(LicensingError):
    """An attribution notice cannot be written from the given information."""


class CanonicalJSONError(LicensingError):
    """A value cannot be written as canonical JSON (for example it contains a float)."""
