"""Signing keys for license certificates: an Ed25519 :class:`KeyRing` with rotation.

The signing key lives outside the database: load it from a file (:meth:`KeyRing.load`) or from an
environment variable (:meth:`KeyRing.from_env`), as a key-ring JSON document, a single private JWK or
a PKCS#8 PEM. Key ids (``kid``) are RFC 7638 JWK thumbprints (SHA-256, base64url).

Rotation makes a new key the signer; the old key stays in the public JWKS for verification until
its ``retire_after`` time, which defaults to the expiry of the last certificate it signed (never,
if it signed a certificate without expiry or if its history is unknown).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from .duration import format_datetime, parse_datetime, require_utc
from .errors import KeyRingError

ALGORITHM = "EdDSA"
CURVE: Final = "Ed25519"
_FORMAT = "licensing-keyring/1"


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else require_utc(now, "now")


def import_private_key(source: str | bytes | Mapping[str, Any]) -> OKPKey:
    """Import an Ed25519 *private* key from a PEM (str/bytes) or a JWK (dict or JSON string).

    Raises :class:`KeyRingError` if the text is not a key, not Ed25519, or has no private part.
    """
    try:
        if isinstance(source, Mapping):
            key = OKPKey.import_key(dict(source))
        else:
            text = source.decode("utf-8") if isinstance(source, bytes) else source
            stripped = text.strip()
            if stripped.startswith("{"):
                key = OKPKey.import_key(json.loads(stripped))
            else:
                key = OKPKey.import_key(stripped.encode("ascii"))
    except (JoseError, ValueError, TypeError, KeyError, UnicodeError) as exc:
        raise KeyRingError(f"not an Ed25519 key: {exc}") from exc
    if key.curve_name != CURVE:
        raise KeyRingError(f"expected an {CURVE} key, got {key.curve_name}")
    if not key.is_private:
        raise KeyRingError("a signing key needs its private part")
    return key


def public_jwk(key: OKPKey) -> dict[str, Any]:
    """Return the public JWK of ``key`` with ``kid`` (its thumbprint), ``alg`` and ``use``: never ``d``."""
    data: dict[str, Any] = {str(k): v for k, v in key.as_dict(private=False).items() if k != "d"}
    data.update({"kid": key.thumbprint(), "alg": ALGORITHM, "use": "sig"})
    return data


def _public_entry(entry: ManagedKey) -> dict[str, Any]:
    """:func:`public_jwk` of a key-ring entry, with the kid the entry already knows."""
    data: dict[str, Any] = {str(k): v for k, v in entry.key.as_dict(private=False).items() if k != "d"}
    data.update({"kid": entry.kid, "alg": ALGORITHM, "use": "sig"})
    return data


@dataclass(frozen=True)
class ManagedKey:
    """A signing key with its life-cycle data.

    ``retire_after`` is when it may leave the public JWKS (None: keep it); ``latest_expiry`` is the
    latest ``exp`` of a certificate it signed; ``unbounded`` is True once it signed a certificate
    without expiry, or when its history is unknown (keys loaded from a bare PEM or JWK).
    """

    key: OKPKey
    created_at: datetime
    retire_after: datetime | None = None
    latest_expiry: datetime | None = None
    unbounded: bool = False
    #: The RFC 7638 thumbprint of the key: computed when left empty (pass it only when copying an entry).
    kid: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.kid:
            object.__setattr__(self, "kid", self.key.thumbprint())
        object.__setattr__(self, "created_at", require_utc(self.created_at, "created_at"))

    def retired_at(self, now: datetime) -> bool:
        """True when ``retire_after`` is set and has passed at ``now``."""
        return self.retire_after is not None and require_utc(now, "now") > self.retire_after

    def to_dict(self) -> dict[str, Any]:
        """Return the key-ring entry, *including the private key*: store it as a secret."""
        private = {str(k): v for k, v in self.key.as_dict(private=True).items()}
        return {
            "jwk": private,
            "created_at": format_datetime(self.created_at),
            "retire_after": None if self.retire_after is None else format_datetime(self.retire_after),
            "latest_expiry": None if self.latest_expiry is None else format_datetime(self.latest_expiry),
            "unbounded": self.unbounded,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ManagedKey:
        """Parse a key-ring entry written by :meth:`to_dict`."""
        try:
            return cls(
                key=import_private_key(data["jwk"]),
                created_at=parse_datetime(data["created_at"], "created_at"),
                retire_after=None
                if data.get("retire_after") is None
                else parse_datetime(data["retire_after"], "retire_after"),
                latest_expiry=None
                if data.get("latest_expiry") is None
                else parse_datetime(data["latest_expiry"], "latest_expiry"),
                unbounded=bool(data.get("unbounded", True)),
            )
        except KeyError as exc:
            raise KeyRingError(f"key-ring entry lacks {exc.args[0]!r}") from exc


class KeyRing:
    """The platform's Ed25519 signing keys: one signer plus older keys kept for verification.

    A key ring is a mutable manager, not a value: signing records each certificate's expiry on the
    signer (see :meth:`record_signature`) so that :meth:`rotate` knows how long to keep it. That record
    lives in this object; with several processes, either :meth:`save` it or pass ``retire_after`` to
    :meth:`rotate` (e.g. the latest ``valid_until`` of the grants certified with the old key).
    Not thread-safe: guard rotation with a lock if threads share one key ring.
    """

    def __init__(self, keys: list[ManagedKey], signer_kid: str) -> None:
        """Build a key ring from entries; ``signer_kid`` must name one of them."""
        self._keys: dict[str, ManagedKey] = {}
        for entry in keys:
            if entry.kid in self._keys:
                raise KeyRingError(f"duplicate key {entry.kid}")
            self._keys[entry.kid] = entry
        if signer_kid not in self._keys:
            raise KeyRingError(f"signer {signer_kid!r} is not in the key ring")
        self._signer = signer_kid
        #: Expiries recorded by record_signature and not yet folded into the (immutable) entries: kid -> latest.
        self._pending: dict[str, datetime] = {}
        self._signing: tuple[str, Ed25519PrivateKey] | None = None
        self._verifying: tuple[tuple[str, ...], dict[str, Ed25519PublicKey]] | None = None

    def _settle(self) -> dict[str, ManagedKey]:
        """The entries, with the expiries recorded since the last call folded in."""
        if self._pending:
            pending, self._pending = self._pending, {}
            for kid, expires in pending.items():
                entry = self._keys.get(kid)
                if entry is not None and (entry.latest_expiry is None or expires > entry.latest_expiry):
                    self._keys[kid] = replace(entry, latest_expiry=expires)
        return self._keys

    # ----------------------------------------------------------------- creation and loading

    @classmethod
    def generate(cls, now: datetime | None = None) -> KeyRing:
        """Return a key ring holding one freshly generated Ed25519 key, which signs."""
        entry = ManagedKey(OKPKey.generate_key(CURVE, private=True), _now(now))
        return cls([entry], entry.kid)

    @classmethod
    def from_private_key(cls, source: str | bytes | Mapping[str, Any], now: datetime | None = None) -> KeyRing:
        """Return a key ring whose signer is the given PEM or JWK private key (history unknown)."""
        entry = ManagedKey(import_private_key(source), _now(now), unbounded=True)
        return cls([entry], entry.kid)

    @classmethod
    def from_string(cls, text: str, now: datetime | None = None) -> KeyRing:
        """Load a key ring from text: a key-ring JSON document, a single private JWK, or a PEM."""
        stripped = text.strip()
        if stripped.startswith("{"):
            try:
                data = json.loads(stripped)
            except ValueError as exc:
                raise KeyRingError(f"key material is not valid JSON: {exc}") from exc
            if isinstance(data, dict) and data.get("format") == _FORMAT:
                return cls.from_dict(data)
            return cls.from_private_key(data, now)
        return cls.from_private_key(stripped, now)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KeyRing:
        """Load a key ring from the document :meth:`to_dict` writes."""
        if data.get("format") != _FORMAT or not isinstance(data.get("keys"), list):
            raise KeyRingError(f"not a {_FORMAT} document")
        return cls([ManagedKey.from_dict(k) for k in data["keys"]], str(data.get("signer")))

    @classmethod
    def load(cls, path: str | os.PathLike[str], now: datetime | None = None) -> KeyRing:
        """Load a key ring (or a single PEM/JWK private key) from a file."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyRingError(f"cannot read key file {path}: {exc.strerror}") from exc
        return cls.from_string(text, now)

    @classmethod
    def from_env(cls, name: str = "LICENSING_SIGNING_KEY", now: datetime | None = None) -> KeyRing:
        """Load a key ring (or a single PEM/JWK private key) from the environment variable ``name``."""
        value = os.environ.get(name)
        if not value:
            raise KeyRingError(f"environment variable {name} is not set")
        return cls.from_string(value, now)

    def to_dict(self) -> dict[str, Any]:
        """Return the whole key ring *including private keys*; keep it secret."""
        return {"format": _FORMAT, "signer": self._signer, "keys": [k.to_dict() for k in self._settle().values()]}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the key ring (private keys included) to ``path`` with owner-only permissions (0600)."""
        target = Path(path)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, indent=2)
        os.chmod(target, 0o600)

    def private_pem(self, kid: str | None = None) -> bytes:
        """Return the PKCS#8 PEM of a key (default: the signer). This is secret material."""
        return self.get(kid or self._signer).key.as_pem(private=True)

    def private_jwk(self, kid: str | None = None) -> dict[str, Any]:
        """Return the private JWK of a key (default: the signer). This is secret material."""
        return {str(k): v for k, v in self.get(kid or self._signer).key.as_dict(private=True).items()}

    # ----------------------------------------------------------------- use

    def get(self, kid: str) -> ManagedKey:
        """Return the key with id ``kid``; raise :class:`KeyRingError` if absent."""
        try:
            return self._settle()[kid]
        except KeyError:
            raise KeyRingError(f"no key {kid!r} in the key ring") from None

    def __iter__(self) -> Iterator[ManagedKey]:
        return iter(self._settle().values())

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def signer(self) -> ManagedKey:
        """The key that signs new certificates."""
        return self._settle()[self._signer]

    @property
    def signer_kid(self) -> str:
        """The kid of the signing key."""
        return self._signer

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        """The signer's kid and its private key as a ``cryptography`` object (kept until the signer changes)."""
        signing = self._signing
        if signing is None or signing[0] != self._signer:
            private = self._keys[self._signer].key.private_key
            if not isinstance(private, Ed25519PrivateKey):  # pragma: no cover - import_private_key checks the curve
                raise KeyRingError("the signer is not an Ed25519 private key")
            signing = self._signing = (self._signer, private)
        return signing

    def verification_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every key's public half by kid, retired or not (kept until keys are added or removed; do not modify)."""
        kids = tuple(self._keys)
        verifying = self._verifying
        if verifying is None or verifying[0] != kids:
            public: dict[str, Ed25519PublicKey] = {}
            for kid, entry in self._keys.items():
                key = entry.key.public_key
                if isinstance(key, Ed25519PublicKey):
                    public[kid] = key
            verifying = self._verifying = (kids, public)
        return verifying[1]

    def record_signature(self, kid: str, expires: datetime | None) -> None:
        """Note that key ``kid`` signed a certificate expiring at ``expires`` (None: never)."""
        entry = self._keys.get(kid)
        if entry is None:
            raise KeyRingError(f"no key {kid!r} in the key ring")
        if expires is None:
            if not entry.unbounded:
                self._keys[kid] = replace(entry, unbounded=True)
            return
        if expires.__class__ is not datetime or expires.tzinfo is not UTC:
            expires = require_utc(expires, "expires")
        latest = self._pending.get(kid) or entry.latest_expiry
        if latest is None or expires > latest:
            self._pending[kid] = expires

    def rotate(self, now: datetime | None = None, *, retire_after: datetime | None = None) -> str:
        """Generate a new key, make it the signer, and return its kid.

        The previous signer stays for verification; its ``retire_after`` becomes ``retire_after`` if
        given, else the expiry of the last certificate it signed, else (if it signed none) ``now``.
        A key that signed a certificate without expiry, or whose history is unknown, is never retired
        automatically.
        """
        when = _now(now)
        old = self.signer  # settles the recorded expiries
        if retire_after is not None:
            retire = require_utc(retire_after, "retire_after")
        elif old.unbounded:
            retire = None
        else:
            retire = old.latest_expiry or when
        self._keys[old.kid] = replace(old, retire_after=retire)
        entry = ManagedKey(OKPKey.generate_key(CURVE, private=True), when)
        self._keys[entry.kid] = entry
        self._signer = entry.kid
        return entry.kid

    def prune(self, now: datetime | None = None) -> list[str]:
        """Remove keys (never the signer) whose ``retire_after`` has passed; return their kids."""
        when = _now(now)
        gone = [kid for kid, k in self._settle().items() if kid != self._signer and k.retired_at(when)]
        for kid in gone:
            del self._keys[kid]
        return gone

    def public_jwks(self, now: datetime | None = None) -> dict[str, Any]:
        """Return the public JWKS (``{"keys": [...]}``) of every key not yet retired at ``now``.

        Only public members are exported (``kty``, ``crv``, ``x``, ``kid``, ``alg``, ``use``), never
        the private ``d``. The signer comes first.
        """
        when = _now(now)
        signer = self.signer
        keys = [signer] + [k for kid, k in self._keys.items() if kid != self._signer]
        return {"keys": [_public_entry(k) for k in keys if k is signer or not k.retired_at(when)]}
