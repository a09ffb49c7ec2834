"""Where the platform's license-signing keys come from: outside the database, always.

``LICENSE_SIGNING_KEY`` (a key ring JSON, a private JWK or a PEM, in the environment) wins over
``LICENSE_SIGNING_KEY_FILE`` (a path to a key ring file written by ``marketplace keys``). In development, when
neither is set, a key ring is generated once into the instance folder. Production refuses to start without one.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from licensing import KeyRing
from marketplace.db import utcnow

DEV_KEY_FILE = "license_signing_keys.json"
_lock = threading.Lock()


def key_file_path(settings: dict[str, Any]) -> Path:
    configured = settings.get("LICENSE_SIGNING_KEY_FILE") or ""
    return Path(configured) if configured else Path(settings["INSTANCE_PATH"]) / DEV_KEY_FILE


def load_keyring(settings: dict[str, Any]) -> KeyRing:
    """The key ring chosen by the settings (see the module docstring); generated only in development."""
    inline = settings.get("LICENSE_SIGNING_KEY") or ""
    if inline:
        return KeyRing.from_string(inline, now=utcnow())
    path = key_file_path(settings)
    with _lock:
        if path.exists():
            return KeyRing.load(path, now=utcnow())
        if settings.get("LICENSE_SIGNING_KEY_FILE"):
            raise FileNotFoundError(f"LICENSE_SIGNING_KEY_FILE points at {path}, which does not exist")
        ring = KeyRing.generate(utcnow())
        path.parent.mkdir(parents=True, exist_ok=True)
        ring.save(path)
        return ring
