"""The secrets of API access: their format, their checksum, and the peppered hash that is all the database keeps.

Every secret is ``<prefix><32 random base62 characters><6-character checksum>``. The prefix says what it is
(``mkp_live_`` / ``mkp_test_`` API keys, ``mkp_cs_`` OAuth client secrets, ``mkp_at_`` OAuth access tokens),
so secret scanners and people recognise a leaked one; the checksum (CRC32 of everything before it, in base62, as
GitHub's tokens do) lets a scanner tell a real-looking secret from a typo without asking the server, and lets the
server refuse garbage without a database look-up.

The secrets are random (about 190 bits), so a slow password hash is not needed: the database keeps
``HMAC-SHA256(pepper, secret)`` and the id of the pepper (:class:`marketplace.crypto.Peppers`, from
``API_KEY_PEPPERS``). A copy of the database alone lets nobody call the API; rotating ``SECRET_KEY`` leaves keys,
client secrets and tokens working (only rows from before peppers had ids still use a ``SECRET_KEY``-derived one).
"""

from __future__ import annotations

import hmac
import secrets
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_CHARS = 32
CHECKSUM_CHARS = 6

LIVE_KEY_PREFIX = "mkp_live_"
TEST_KEY_PREFIX = "mkp_test_"
CLIENT_SECRET_PREFIX = "mkp_cs_"  # noqa: S105 - a prefix, not a secret
ACCESS_TOKEN_PREFIX = "mkp_at_"  # noqa: S105 - a prefix, not a secret
CLIENT_ID_PREFIX = "mkpc_"
PREFIXES = (LIVE_KEY_PREFIX, TEST_KEY_PREFIX, CLIENT_SECRET_PREFIX, ACCESS_TOKEN_PREFIX)
MAX_SECRET_LENGTH = 64


def base62(number: int, width: int) -> str:
    """``number`` in base62, left-padded with zeros to ``width`` characters."""
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(body: str) -> str:
    """The 6-character base62 CRC32 of ``body`` (prefix and random part)."""
    return base62(zlib.crc32(body.encode("ascii")) & 0xFFFFFFFF, CHECKSUM_CHARS)


def new_secret(prefix: str) -> str:
    """A fresh secret of the kind ``prefix`` names, checksum included."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown secret prefix {prefix!r}")
    body = prefix + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return body + checksum(body)


def new_client_id() -> str:
    """A public OAuth client id (not a secret: it names the client, the secret authenticates it)."""
    return CLIENT_ID_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(20))


def well_formed(secret: str, prefix: str | None = None) -> bool:
    """True when ``secret`` has a known prefix (``prefix`` if given), the right length and alphabet, and its
    checksum matches. Cheap, offline: what a secret scanner checks too."""
    if not isinstance(secret, str) or len(secret) > MAX_SECRET_LENGTH:
        return False
    known = [prefix] if prefix else [p for p in PREFIXES if secret.startswith(p)]
    if not known or not secret.startswith(known[0]):
        return False
    rest = secret[len(known[0]) :]
    if len(rest) != RANDOM_CHARS + CHECKSUM_CHARS or any(c not in ALPHABET for c in rest):
        return False
    body, check = secret[:-CHECKSUM_CHARS], secret[-CHECKSUM_CHARS:]
    return hmac.compare_digest(checksum(body), check)
