"""Build the configured payment backend from plain settings (Flask's ``app.config``, ``os.environ``, a dict).

:data:`PAYMENT_SETTINGS` declares every setting with its default and why it exists. Stripe is used as soon as
``STRIPE_SECRET_KEY`` is set; otherwise the embedded sandbox, so development needs no account anywhere
(production must refuse to start when ``backend.is_sandbox``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .base import PaymentBackend, platform_fee
from .errors import PaymentConfigError
from .sandbox import SandboxBackend
from .signing import DEFAULT_TOLERANCE
from .stripe_backend import StripeBackend

__all__ = ["PAYMENT_SETTINGS", "payment_backend_from_settings", "platform_fee", "platform_fee_bps_from_settings"]

#: Every setting read here: name -> (default, why it exists).
PAYMENT_SETTINGS: Final[Mapping[str, tuple[object, str]]] = {
    "STRIPE_SECRET_KEY": (None, "Stripe secret (sk_...) or restricted (rk_...) key; unset = the sandbox backend."),
    "STRIPE_WEBHOOK_SECRET": (None, "Signing secret (whsec_...) of the webhook endpoint; required with a key."),
    "STRIPE_CONNECT_WEBHOOK_SECRET": (
        None,
        "Signing secret of the Connect webhook endpoint (account.updated), when it posts to the same URL.",
    ),
    "STRIPE_API_BASE": (None, "Another Stripe API address (a local fake in tests); unset for api.stripe.com."),
    "STRIPE_WEBHOOK_TOLERANCE": (DEFAULT_TOLERANCE, "Seconds a signed webhook stays acceptable (replay window)."),
    "SANDBOX_PAYMENTS_SECRET": (None, "Key signing sandbox ids and events (>= 16 bytes); falls back to SECRET_KEY."),
    "PLATFORM_FEE_BPS": (1000, "The platform's fee in basis points of each order (1000 = 10 %), 0 to 10000."),
}


def _get(settings: Mapping[str, Any], name: str) -> Any:
    value = settings.get(name)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return PAYMENT_SETTINGS[name][0]
    return value.strip() if isinstance(value, str) else value


def _int(settings: Mapping[str, Any], name: str) -> int:
    value = _get(settings, name)
    try:
        if isinstance(value, bool):
            raise TypeError
        return int(value)
    except (TypeError, ValueError):
        raise PaymentConfigError(f"{name} must be a whole number, not {value!r}.") from None


def platform_fee_bps_from_settings(settings: Mapping[str, Any]) -> int:
    """``PLATFORM_FEE_BPS`` as an int from 0 to 10000; raises :class:`PaymentConfigError` naming it."""
    bps = _int(settings, "PLATFORM_FEE_BPS")
    if not 0 <= bps <= 10_000:
        raise PaymentConfigError(f"PLATFORM_FEE_BPS must be from 0 to 10000 basis points, not {bps}.")
    return bps


def payment_backend_from_settings(settings: Mapping[str, Any]) -> PaymentBackend:
    """The backend described by ``settings`` (see :data:`PAYMENT_SETTINGS`; missing = default).

    ``STRIPE_SECRET_KEY`` set → :class:`StripeBackend` (``STRIPE_WEBHOOK_SECRET`` is then required); otherwise
    :class:`SandboxBackend`, signing with ``SANDBOX_PAYMENTS_SECRET`` or ``SECRET_KEY`` and serving its pages
    under ``BASE_URL``. Raises :class:`PaymentConfigError` naming the offending setting. No network call is made.
    """
    tolerance = _int(settings, "STRIPE_WEBHOOK_TOLERANCE")
    if tolerance <= 0:
        raise PaymentConfigError("STRIPE_WEBHOOK_TOLERANCE must be a positive number of seconds.")
    raw_key = _get(settings, "STRIPE_SECRET_KEY")
    if raw_key:
        key = str(raw_key)
        if not key.startswith(("sk_", "rk_")):
            raise PaymentConfigError("STRIPE_SECRET_KEY must be a secret (sk_...) or restricted (rk_...) key.")
        secrets = [str(s) for s in (_get(settings, "STRIPE_WEBHOOK_SECRET"),) if s]
        if not secrets:
            raise PaymentConfigError("STRIPE_WEBHOOK_SECRET is required when STRIPE_SECRET_KEY is set.")
        connect_secret = _get(settings, "STRIPE_CONNECT_WEBHOOK_SECRET")
        if connect_secret:
            secrets.append(str(connect_secret))
        for name, secret in zip(("STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET"), secrets, strict=False):
            if not secret.startswith("whsec_"):
                raise PaymentConfigError(f"{name} must be a webhook signing secret (whsec_...).")
        raw_base = _get(settings, "STRIPE_API_BASE")
        api_base = None if raw_base is None else str(raw_base)
        if api_base is not None and not api_base.startswith(("http://", "https://")):
            raise PaymentConfigError("STRIPE_API_BASE must be an absolute http(s) URL.")
        return StripeBackend(key, secrets, api_base=api_base, tolerance=tolerance)
    sandbox_secret = _get(settings, "SANDBOX_PAYMENTS_SECRET") or settings.get("SECRET_KEY")
    if not sandbox_secret:
        raise PaymentConfigError("Set SANDBOX_PAYMENTS_SECRET (or SECRET_KEY) to sign sandbox payments.")
    raw = sandbox_secret if isinstance(sandbox_secret, bytes) else str(sandbox_secret).encode("utf-8")
    if len(raw) < 16:
        raise PaymentConfigError("SANDBOX_PAYMENTS_SECRET (or SECRET_KEY) must be at least 16 bytes.")
    base_url = str(settings.get("BASE_URL") or "").strip()
    if not base_url.startswith(("http://", "https://")):
        raise PaymentConfigError("BASE_URL must be an absolute http(s) URL for the sandbox payment pages.")
    return SandboxBackend(raw, base_url, tolerance=tolerance)
