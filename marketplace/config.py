"""Every setting of the marketplace, read from the environment, each with its default and why.

The table in :data:`SETTINGS` is the single source of truth: :func:`load_settings` reads it, the README's
settings table is generated from it (``marketplace config docs``), and :func:`unsafe_for_production` names
every value that must not reach production.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ConfigError(RuntimeError):
    """A setting has a value the application cannot start with; the message names the setting."""


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _parse_int(value: str) -> int:
    return int(value.strip())


def _parse_str(value: str) -> str:
    return value


@dataclass(frozen=True)
class Setting:
    """One setting: its environment name, its default, why it exists, and how to parse it."""

    name: str
    default: Any
    why: str
    parse: Callable[[str], Any] = _parse_str
    secret: bool = False
    choices: tuple[str, ...] | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "MARKETPLACE_ENV",
        "development",
        "`development` allows the embedded fakes; `production` refuses to start with any of them.",
        choices=("development", "production"),
    ),
    Setting(
        "INSTANCE_PATH",
        "",
        "Folder for local state (SQLite file, generated secret key, local storage); default `./instance`.",
    ),
    Setting(
        "DATABASE_URL",
        "",
        "SQLAlchemy URL; default is a SQLite file under the instance folder, PostgreSQL in production.",
        secret=True,
    ),
    Setting(
        "SECRET_KEY",
        "",
        "Signs sessions, CSRF and e-mail tokens; generated once into the instance folder in development.",
        secret=True,
    ),
    Setting(
        "BASE_URL",
        "http://127.0.0.1:5000",
        "Absolute address of the site, used in links sent by e-mail.",
    ),
    Setting(
        "MAIL_BACKEND",
        "console",
        "`console` prints mail to the log and keeps an outbox; `smtp` sends it.",
        choices=("console", "smtp"),
    ),
    Setting("MAIL_FROM", "Dataset Marketplace <no-reply@localhost>", "Sender of every e-mail."),
    Setting("SMTP_HOST", "localhost", "SMTP server for `MAIL_BACKEND=smtp`."),
    Setting("SMTP_PORT", 587, "SMTP port.", parse=_parse_int),
    Setting("SMTP_USERNAME", "", "SMTP login (empty: no authentication)."),
    Setting("SMTP_PASSWORD", "", "SMTP password.", secret=True),
    Setting("SMTP_STARTTLS", True, "Upgrade the SMTP connection with STARTTLS.", parse=_parse_bool),
    Setting(
        "PASSWORD_HASHER_PROFILE",
        "RFC_9106_LOW_MEMORY",
        "argon2 parameter profile; `CHEAPEST` is for tests only and refused in production.",
        choices=("RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY", "CHEAPEST"),
    ),
    Setting(
        "LOGIN_MAX_FAILURES_PER_ACCOUNT",
        10,
        "Failed log-ins for one account within the window before it is throttled.",
        parse=_parse_int,
    ),
    Setting(
        "LOGIN_MAX_FAILURES_PER_ADDRESS",
        50,
        "Failed log-ins from one IP address within the window before it is throttled.",
        parse=_parse_int,
    ),
    Setting(
        "LOGIN_THROTTLE_WINDOW_SECONDS",
        900,
        "Length of the failed log-in window, in seconds.",
        parse=_parse_int,
    ),
    Setting(
        "TOKEN_MAX_AGE_SECONDS",
        86400,
        "Lifetime of e-mail verification and password reset links.",
        parse=_parse_int,
    ),
    Setting(
        "INVITATION_MAX_AGE_SECONDS",
        7 * 86400,
        "Lifetime of organisation invitation links.",
        parse=_parse_int,
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.",
        parse=_parse_int,
    ),
    Setting("LOG_LEVEL", "INFO", "Python log level of the application."),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}

DEFAULT_SECRET_MARKERS = ("dev", "change-me", "changeme", "secret")


def _instance_path(raw: str) -> Path:
    return Path(raw).resolve() if raw else (Path.cwd() / "instance").resolve()


def _generated_secret(instance: Path) -> str:
    """Return the development secret key, generating it once into the instance folder."""
    instance.mkdir(parents=True, exist_ok=True)
    key_file = instance / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs, as libpq-style URLs are common."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Read every setting from ``environ`` (default: the process environment), then apply ``overrides``.

    Raises :class:`ConfigError` naming the setting when a value cannot be parsed or is not one of its choices.
    Derived defaults (instance folder, SQLite URL, development secret key) are filled in here.
    """
    env = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            value = overrides.pop(setting.name)
        elif setting.name in env:
            try:
                value = setting.parse(env[setting.name])
            except ValueError as exc:
                raise ConfigError(f"{setting.name}: {exc}") from exc
        else:
            value = setting.default
        if setting.choices and value not in setting.choices:
            raise ConfigError(f"{setting.name} must be one of {', '.join(setting.choices)}; got {value!r}")
        values[setting.name] = value

    instance = _instance_path(values["INSTANCE_PATH"])
    values["INSTANCE_PATH"] = str(instance)
    if not values["DATABASE_URL"]:
        instance.mkdir(parents=True, exist_ok=True)
        values["DATABASE_URL"] = f"sqlite:///{instance / 'marketplace.db'}"
    values["DATABASE_URL"] = normalise_database_url(values["DATABASE_URL"])
    values["SECRET_KEY_GENERATED"] = False
    if not values["SECRET_KEY"] and values["MARKETPLACE_ENV"] == "development":
        values["SECRET_KEY"] = _generated_secret(instance)
        values["SECRET_KEY_GENERATED"] = True
    values["BASE_URL"] = str(values["BASE_URL"]).rstrip("/")
    # Whatever is left in overrides is application-internal (e.g. TESTING) and passes through unchanged.
    values.update(overrides)
    return values


def unsafe_for_production(settings: Mapping[str, Any]) -> list[str]:
    """Return one message per setting that must not be used with ``MARKETPLACE_ENV=production``.

    Each message starts with the setting's name, so an operator knows exactly what to change.
    """
    problems: list[str] = []
    key = str(settings.get("SECRET_KEY") or "")
    if not key:
        problems.append("SECRET_KEY is not set: production needs its own secret key (at least 32 characters)")
    elif settings.get("SECRET_KEY_GENERATED") or len(key) < 32 or key.lower() in DEFAULT_SECRET_MARKERS:
        problems.append("SECRET_KEY is a default or too short: set a random value of at least 32 characters")
    if str(settings.get("DATABASE_URL", "")).startswith("sqlite"):
        problems.append("DATABASE_URL points at SQLite: production runs on PostgreSQL")
    if settings.get("MAIL_BACKEND") == "console":
        problems.append("MAIL_BACKEND is `console`: production must send real mail (`smtp`)")
    if settings.get("PASSWORD_HASHER_PROFILE") == "CHEAPEST":
        problems.append("PASSWORD_HASHER_PROFILE is `CHEAPEST`: it is for tests only")
    if str(settings.get("BASE_URL", "")).startswith("http://"):
        problems.append("BASE_URL uses http://: production must be served over https")
    return problems


def settings_markdown_table() -> str:
    """The README's settings table, generated from :data:`SETTINGS`."""
    lines = ["| Setting | Default | Why |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        default = setting.default
        shown = "(empty)" if default in ("", None) else f"`{default}`"
        lines.append(f"| `{setting.name}` | {shown} | {setting.why} |")
    return "\n".join(lines)
