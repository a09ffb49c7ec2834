"""Secrets the marketplace must be able to read back (webhook signing secrets, SSO client secrets), kept encrypted.

A hash would not do: a signing secret is needed in the clear to sign each delivery, and an OpenID client secret to
authenticate to the provider. Each purpose gets its own Fernet key, derived from ``SECRET_KEY`` with HKDF, so the
database alone reveals nothing and a ciphertext of one purpose cannot be decrypted as another.

Rotating ``SECRET_KEY`` makes existing ciphertexts unreadable: rotate webhook secrets and re-enter SSO client
secrets afterwards (or keep the old key).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretUnreadable(RuntimeError):
    """A stored secret cannot be decrypted: it was encrypted under another ``SECRET_KEY`` or was tampered with."""


class SecretBox:
    """Encrypts and decrypts short secrets for one ``purpose`` (e.g. ``"webhook-signing-secret"``)."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        if not secret_key:
            raise ValueError("SECRET_KEY is empty")
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"dataset-marketplace secret box v1",
            info=purpose.encode(),
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, ValueError) as error:
            raise SecretUnreadable("stored secret cannot be decrypted with the current SECRET_KEY") from error
