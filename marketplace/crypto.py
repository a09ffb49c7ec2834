"""Key material of its own: the encryption key ring for stored secrets, and the peppers of credential hashes.

Neither depends on ``SECRET_KEY`` (which signs sessions and may be rotated at will) nor on Flask.

**Encryption** (``ENCRYPTION_KEYS`` = ``k2:<base64 of 32 bytes>,k1:<…>``; ``ENCRYPTION_KEY_ID`` names the key that
writes, default the first). Secrets the marketplace must read back (webhook signing secrets, SSO client secrets) are
sealed with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a subkey derived per purpose with HKDF,
so a ciphertext of one purpose cannot be opened as another. Every ciphertext names its key: ``v1:<key id>:<token>``;
decrypting picks the key by that id, so several keys stay readable while one writes, and ``marketplace keys
rotate-encryption`` re-seals everything under the writing key before an old key is removed.

Ciphertexts written before the key ring existed carry no prefix (a bare Fernet token whose key was derived from
``SECRET_KEY``); they stay readable through the *legacy* reader as long as ``SECRET_KEY`` is unchanged, until
re-encrypted.

**Peppers** (``API_KEY_PEPPERS`` = ``p1:<secret>,…``; ``API_KEY_PEPPER_ID`` writes, default the first). API keys,
OAuth client secrets and access tokens are random, so the database keeps ``HMAC-SHA256(pepper, secret)`` and the id
of the pepper used; verification uses the pepper the row names. Rows hashed before peppers had ids name
:data:`LEGACY_ID`: their pepper is derived from ``SECRET_KEY`` as it always was.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: The id of the key material derived from ``SECRET_KEY`` (ciphertexts without a prefix, hashes of old rows).
LEGACY_ID = "legacy"
#: The prefix of every ciphertext written by the key ring (format version 1).
CIPHERTEXT_VERSION = "v1"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
KEY_BYTES = 32
MIN_PEPPER_CHARACTERS = 32


class SecretUnreadable(RuntimeError):
    """A stored secret cannot be decrypted: its key is not in the ring (the message names the key id), or the
    ciphertext was tampered with."""


class KeyMaterialError(ValueError):
    """A key ring or pepper list that cannot be used; the message names the setting, never a key's value."""


def _entries(raw: str, setting: str) -> list[tuple[str, str]]:
    """``id:value`` pairs of a comma-separated setting, ids checked and unique, in the order given."""
    entries: list[tuple[str, str]] = []
    for index, item in enumerate(part.strip() for part in raw.split(",")):
        if not item:
            continue
        key_id, sep, value = item.partition(":")
        key_id = key_id.strip()
        if not sep or not value.strip():
            raise KeyMaterialError(f"{setting}: entry {index + 1} is not `id:value`")
        if not KEY_ID.match(key_id) or key_id == LEGACY_ID:
            raise KeyMaterialError(
                f"{setting}: key id {key_id!r} must be 1-32 letters, digits, `-` or `_` (and not `{LEGACY_ID}`)"
            )
        if any(key_id == seen for seen, _ in entries):
            raise KeyMaterialError(f"{setting}: key id {key_id!r} appears twice")
        entries.append((key_id, value.strip()))
    if not entries:
        raise KeyMaterialError(f"{setting} is empty")
    return entries


def _writing_id(ids: list[str], chosen: str, setting: str, id_setting: str) -> str:
    if not chosen:
        return ids[0]
    if chosen not in ids:
        raise KeyMaterialError(f"{id_setting}: {chosen!r} is not one of the ids in {setting} ({', '.join(ids)})")
    return chosen


def _decode_key(key_id: str, value: str) -> bytes:
    try:
        standard = value.replace("-", "+").replace("_", "/").rstrip("=")
        key = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise KeyMaterialError(f"ENCRYPTION_KEYS: key {key_id!r} is not base64") from error
    if len(key) != KEY_BYTES:
        raise KeyMaterialError(f"ENCRYPTION_KEYS: key {key_id!r} must be {KEY_BYTES} bytes, got {len(key)}")
    return key


def _subkey(material: bytes, salt: bytes, purpose: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=purpose.encode()).derive(material)
    return Fernet(base64.urlsafe_b64encode(derived))


@dataclass(frozen=True)
class EncryptionKeys:
    """The readable keys by id, the one that writes, and ``SECRET_KEY`` for the legacy reader (may be empty)."""

    keys: Mapping[str, bytes]
    writing_id: str
    legacy_secret: str = ""

    @classmethod
    def parse(cls, raw: str, writing_id: str = "", legacy_secret: str = "") -> EncryptionKeys:
        """From the settings' text; :class:`KeyMaterialError` naming the setting when malformed."""
        entries = _entries(raw, "ENCRYPTION_KEYS")
        keys = {key_id: _decode_key(key_id, value) for key_id, value in entries}
        chosen = _writing_id(list(keys), writing_id.strip(), "ENCRYPTION_KEYS", "ENCRYPTION_KEY_ID")
        return cls(keys=keys, writing_id=chosen, legacy_secret=legacy_secret)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> EncryptionKeys:
        return _encryption_keys(
            str(settings.get("ENCRYPTION_KEYS") or ""),
            str(settings.get("ENCRYPTION_KEY_ID") or ""),
            str(settings.get("SECRET_KEY") or ""),
        )


@functools.lru_cache(maxsize=16)
def _encryption_keys(raw: str, writing_id: str, legacy_secret: str) -> EncryptionKeys:
    return EncryptionKeys.parse(raw, writing_id, legacy_secret)


class SecretBox:
    """Encrypts and decrypts short secrets for one ``purpose`` (e.g. ``"webhook-signing-secret"``)."""

    _SALT = b"dataset-marketplace key ring v1"
    _LEGACY_SALT = b"dataset-marketplace secret box v1"

    def __init__(self, keys: EncryptionKeys, purpose: str) -> None:
        self.keys = keys
        self.purpose = purpose
        self._fernets = {key_id: _subkey(key, self._SALT, purpose) for key_id, key in keys.keys.items()}
        self._legacy = _subkey(keys.legacy_secret.encode(), self._LEGACY_SALT, purpose) if keys.legacy_secret else None

    def encrypt(self, plaintext: str) -> str:
        """``v1:<writing key id>:<Fernet token>``."""
        token = self._fernets[self.keys.writing_id].encrypt(plaintext.encode()).decode("ascii")
        return f"{CIPHERTEXT_VERSION}:{self.keys.writing_id}:{token}"

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext; :class:`SecretUnreadable` naming the key id when that key is not in the ring or the
        ciphertext does not open under it."""
        key_id = key_id_of(ciphertext)
        if key_id == LEGACY_ID:
            fernet, token = self._legacy, ciphertext
            if fernet is None:
                raise SecretUnreadable("stored secret predates the key ring and SECRET_KEY is not set")
        else:
            fernet, token = self._fernets.get(key_id), ciphertext.split(":", 2)[2]
            if fernet is None:
                raise SecretUnreadable(f"stored secret is encrypted under key {key_id!r}, not in ENCRYPTION_KEYS")
        try:
            return fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError) as error:
            where = "the SECRET_KEY-derived legacy key" if key_id == LEGACY_ID else f"key {key_id!r}"
            raise SecretUnreadable(f"stored secret cannot be decrypted with {where}") from error

    def is_current(self, ciphertext: str | None) -> bool:
        """Whether ``ciphertext`` (``None``: nothing stored) is already under the writing key."""
        return ciphertext is None or key_id_of(ciphertext) == self.keys.writing_id

    def reencrypt(self, ciphertext: str) -> str:
        """``ciphertext`` under the writing key (unchanged when it already is)."""
        return ciphertext if self.is_current(ciphertext) else self.encrypt(self.decrypt(ciphertext))


def key_id_of(ciphertext: str) -> str:
    """The key id a ciphertext names, or :data:`LEGACY_ID` for one written before the key ring."""
    version, sep, rest = ciphertext.partition(":")
    if sep and version == CIPHERTEXT_VERSION:
        return rest.partition(":")[0]
    return LEGACY_ID


def ciphertext_prefix(key_id: str) -> str:
    """What every ciphertext under ``key_id`` starts with (to find the rows still under another key)."""
    return f"{CIPHERTEXT_VERSION}:{key_id}:"


def new_encryption_key(key_id: str) -> str:
    """A fresh ``id:base64`` entry for ``ENCRYPTION_KEYS`` (32 random bytes)."""
    if not KEY_ID.match(key_id) or key_id == LEGACY_ID:
        raise KeyMaterialError(f"key id {key_id!r} must be 1-32 letters, digits, `-` or `_`")
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"


def new_pepper(pepper_id: str) -> str:
    """A fresh ``id:secret`` entry for ``API_KEY_PEPPERS``."""
    if not KEY_ID.match(pepper_id) or pepper_id == LEGACY_ID:
        raise KeyMaterialError(f"pepper id {pepper_id!r} must be 1-32 letters, digits, `-` or `_`")
    return f"{pepper_id}:{secrets.token_urlsafe(48)}"


# -- peppers ------------------------------------------------------------------------------------------------------


def legacy_pepper(secret_key: str) -> bytes:
    """The pepper of rows hashed before peppers had ids: derived from ``SECRET_KEY`` for this one purpose."""
    if not secret_key:
        raise ValueError("SECRET_KEY is empty")
    return hmac.new(secret_key.encode(), b"dataset-marketplace api-secret pepper v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class Peppers:
    """The peppers by id (plus :data:`LEGACY_ID` when ``SECRET_KEY`` is set) and the one new hashes use."""

    peppers: Mapping[str, bytes]
    writing_id: str

    @classmethod
    def parse(cls, raw: str, writing_id: str = "", legacy_secret: str = "") -> Peppers:
        """From the settings' text; :class:`KeyMaterialError` naming the setting when malformed."""
        entries = _entries(raw, "API_KEY_PEPPERS")
        for pepper_id, value in entries:
            if len(value) < MIN_PEPPER_CHARACTERS:
                raise KeyMaterialError(
                    f"API_KEY_PEPPERS: pepper {pepper_id!r} must be at least {MIN_PEPPER_CHARACTERS} characters"
                )
        peppers = {pepper_id: value.encode() for pepper_id, value in entries}
        chosen = _writing_id(list(peppers), writing_id.strip(), "API_KEY_PEPPERS", "API_KEY_PEPPER_ID")
        if legacy_secret:
            peppers[LEGACY_ID] = legacy_pepper(legacy_secret)
        return cls(peppers=peppers, writing_id=chosen)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Peppers:
        return _peppers(
            str(settings.get("API_KEY_PEPPERS") or ""),
            str(settings.get("API_KEY_PEPPER_ID") or ""),
            str(settings.get("SECRET_KEY") or ""),
        )

    def digest(self, secret: str) -> tuple[str, str]:
        """``(pepper id, hex HMAC-SHA256)`` of a new secret, under the writing pepper: what a new row keeps."""
        return self.writing_id, _hmac(self.peppers[self.writing_id], secret)

    def candidates(self, secret: str) -> dict[str, str]:
        """The digest of ``secret`` under every known pepper, by id (to find its row in one query)."""
        return {pepper_id: _hmac(pepper, secret) for pepper_id, pepper in self.peppers.items()}

    def matches(self, secret: str, pepper_id: str, stored_digest: str) -> bool:
        """Constant-time check of ``secret`` against a row's digest, under the pepper the row names."""
        pepper = self.peppers.get(pepper_id)
        return pepper is not None and hmac.compare_digest(_hmac(pepper, secret), stored_digest)


@functools.lru_cache(maxsize=16)
def _peppers(raw: str, writing_id: str, legacy_secret: str) -> Peppers:
    return Peppers.parse(raw, writing_id, legacy_secret)


def _hmac(pepper: bytes, secret: str) -> str:
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def key_material_problems(settings: Mapping[str, Any], *, required: bool) -> list[str]:
    """One message per unusable (or, when ``required``, missing) setting of the key material, each naming it."""
    problems: list[str] = []
    checks = (
        ("ENCRYPTION_KEYS", "ENCRYPTION_KEY_ID", EncryptionKeys.parse, "marketplace keys generate-encryption-key"),
        ("API_KEY_PEPPERS", "API_KEY_PEPPER_ID", Peppers.parse, "marketplace keys generate-pepper"),
    )
    for setting, id_setting, parse, command in checks:
        raw = str(settings.get(setting) or "")
        if not raw.strip() or (required and settings.get(f"{setting}_GENERATED")):
            if required:
                problems.append(f"{setting} is not set: production needs its own key material (`{command}`)")
            continue
        try:
            parse(raw, str(settings.get(id_setting) or ""))
        except KeyMaterialError as error:
            problems.append(str(error))
    return problems
