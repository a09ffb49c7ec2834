"""Stored secrets are sealed by the key ring in :mod:`marketplace.crypto`; these names are kept for the webhook
and SSO code that imports them from here."""

from __future__ import annotations

from marketplace.crypto import EncryptionKeys, SecretBox, SecretUnreadable

__all__ = ["EncryptionKeys", "SecretBox", "SecretUnreadable"]
