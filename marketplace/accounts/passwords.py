"""Password hashing with argon2id; parameters chosen by the ``PASSWORD_HASHER_PROFILE`` setting."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 1024


def hasher_for(profile: str) -> PasswordHasher:
    """The argon2 hasher for a named profile of ``argon2.profiles``."""
    return PasswordHasher.from_parameters(getattr(profiles, profile))


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` is not acceptable, or None. Length beats composition rules (NIST SP 800-63B)."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    if password.strip() == "":
        return "must not be only spaces"
    if email and password.lower() == email.lower():
        return "must not be your e-mail address"
    return None


def verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a wrong password or a malformed hash."""
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
