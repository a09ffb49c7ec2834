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
        "Absolute address of the site, used in links sent by e-mail and the checkout; when unset in development, "
        "`marketplace run` uses the host and port it serves on.",
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
    Setting(
        "STRIPE_SECRET_KEY",
        "",
        "Stripe secret (sk_...) or restricted (rk_...) key; unset = the embedded sandbox payments.",
        secret=True,
    ),
    Setting(
        "STRIPE_WEBHOOK_SECRET",
        "",
        "Signing secret (whsec_...) of the webhook endpoint; needed with a key.",
        secret=True,
    ),
    Setting(
        "STRIPE_CONNECT_WEBHOOK_SECRET",
        "",
        "Signing secret of a Connect webhook endpoint posting to the same URL.",
        secret=True,
    ),
    Setting("STRIPE_API_BASE", "", "Another Stripe API address (a local fake in tests); unset for api.stripe.com."),
    Setting(
        "STRIPE_WEBHOOK_TOLERANCE", 300, "Seconds a signed webhook stays acceptable (replay window).", parse=_parse_int
    ),
    Setting(
        "SANDBOX_PAYMENTS_SECRET",
        "",
        "Key signing sandbox checkout ids and events; falls back to SECRET_KEY.",
        secret=True,
    ),
    Setting(
        "PLATFORM_FEE_BPS", 1000, "The platform's fee in basis points of each order (1000 = 10 %).", parse=_parse_int
    ),
    Setting(
        "LICENSE_SIGNING_KEY",
        "",
        "License-signing key ring (JSON), private JWK or PEM; wins over the key file. Never kept in the database.",
        secret=True,
    ),
    Setting(
        "LICENSE_SIGNING_KEY_FILE",
        "",
        "Path to the key ring file managed by `marketplace keys`; development generates one in the instance folder.",
    ),
    Setting(
        "LICENSE_ISSUER",
        "",
        "`iss` of license certificates; default is BASE_URL.",
    ),
    Setting(
        "CATALOG_SAMPLE_MAX_BYTES",
        2 * 1024 * 1024,
        "Largest public sample file a provider may attach to a listing (kept in the database).",
        parse=_parse_int,
    ),
    Setting(
        "CATALOG_IMPORT_MAX_ROWS",
        10_000,
        "Most listings one catalog import may hold; split larger catalogs into several files.",
        parse=_parse_int,
    ),
    Setting(
        "CATALOG_FACET_CACHE_SECONDS",
        0,
        "Seconds the whole catalog's facet counts (browsing) are reused per process; 0 = always exact. "
        "Set 30–300 past ~100k listings, where counting takes seconds.",
        parse=_parse_int,
    ),
)


def _storage_settings() -> tuple[Setting, ...]:
    """The storage package's own settings (``storage.STORAGE_SETTINGS``), typed and documented for this app."""
    from marketplace.catalog.vocab import StorageRegion
    from storage import STORAGE_SETTINGS

    # Where the app's defaults or parsing differ from the package's plain table.
    adjusted: dict[str, dict[str, Any]] = {
        "STORAGE_BACKEND": {"choices": ("local", "s3")},
        "STORAGE_LOCAL_ROOT": {
            "default": "",
            "why": "Directory holding the local backend's objects; default `storage/` in the instance folder.",
        },
        "STORAGE_LOCAL_SECRET": {"secret": True},
        # Every residency region a listing may name, so region-aware uploads work on the local backend too.
        "STORAGE_REGIONS": {"default": ",".join(region.value for region in StorageRegion)},
        "STORAGE_PART_SIZE": {"parse": _parse_int},
        "S3_ACCESS_KEY_ID": {"secret": True},
        "S3_SECRET_ACCESS_KEY": {"secret": True},
    }
    result = []
    for name, (default, why) in STORAGE_SETTINGS.items():
        fields: dict[str, Any] = {"default": "" if default is None else default, "why": why}
        fields.update(adjusted.get(name, {}))
        result.append(Setting(name, **fields))
    return tuple(result)


SETTINGS += (
    *_storage_settings(),
    Setting(
        "DOWNLOAD_LINK_SECONDS",
        900,
        "Lifetime of a licensee's download link, in seconds (each link is audited; at most 7 days).",
        parse=_parse_int,
    ),
    Setting(
        "UPLOAD_LINK_SECONDS",
        3600,
        "Lifetime of the presigned links a provider's browser or CLI uploads a file or part with, in seconds.",
        parse=_parse_int,
    ),
    Setting(
        "UPLOAD_BROWSER_SHA256_MAX_BYTES",
        64 * 1024 * 1024,
        "Files up to this size are also hashed in the browser and the hash checked; the server hashes every file.",
        parse=_parse_int,
    ),
    Setting(
        "PUBLISH_DECLARED_MANIFESTS",
        True,
        "Development only: a version whose files were only declared, never uploaded, may be published (it has "
        "nothing to download). Ignored in production, which publishes only uploaded, verified files.",
        parse=_parse_bool,
    ),
)

# Outbound webhooks and single sign-on (marketplace/webhooks, marketplace/sso).
SETTINGS += (
    Setting(
        "WEBHOOK_WORKER",
        "thread",
        "`thread`: each web process delivers webhooks from a background thread; `off`: only "
        "`marketplace webhooks deliver --loop` (a separate worker process) does.",
        choices=("thread", "off"),
    ),
    Setting(
        "WEBHOOK_POLL_SECONDS",
        5,
        "How often a webhook worker looks for retries that fell due (new events wake it at once).",
        parse=_parse_int,
    ),
    Setting(
        "WEBHOOK_CONCURRENCY",
        4,
        "Deliveries one worker claims and sends at a time (in parallel).",
        parse=_parse_int,
    ),
    Setting(
        "WEBHOOK_TIMEOUT_SECONDS",
        10,
        "Seconds to wait for a receiver to connect and to answer; a slower receiver counts as a failed attempt.",
        parse=_parse_int,
    ),
    Setting(
        "WEBHOOK_RETRY_SCHEDULE",
        "30,120,600,3600,21600,43200",
        "Seconds to wait after the 1st, 2nd, … failed attempt (the last repeats), each ±20 % jitter.",
    ),
    Setting(
        "WEBHOOK_MAX_ATTEMPTS",
        10,
        "Attempts before a delivery is marked failed (about 2.5 days with the default schedule).",
        parse=_parse_int,
    ),
    Setting(
        "WEBHOOK_SECRET_GRACE_HOURS",
        24,
        "After a signing secret is rotated, the old one also signs deliveries for this many hours.",
        parse=_parse_int,
    ),
    Setting(
        "WEBHOOK_ALLOW_PRIVATE_TARGETS",
        False,
        "Production: allow webhook and SSO URLs on private/loopback addresses (an internal network you trust). "
        "Development always allows them.",
        parse=_parse_bool,
    ),
    Setting(
        "SSO_TIMEOUT_SECONDS",
        10,
        "Seconds to wait for an organisation's OpenID provider (discovery, keys, token exchange).",
        parse=_parse_int,
    ),
    Setting(
        "SSO_BLOCKED_DOMAINS",
        "",
        "More e-mail domains no organisation may claim for SSO (comma-separated), besides the built-in list of "
        "public mail providers.",
    ),
)

# The JSON API (marketplace/api, marketplace/apikeys, marketplace/oauth).
SETTINGS += (
    Setting(
        "REDIS_URL",
        "",
        "Redis holding the API's rate-limit counters, shared by every worker (e.g. `redis://127.0.0.1:6379/0`); "
        "empty keeps them in each process's memory (development, one process).",
        secret=True,
    ),
    Setting(
        "API_RATE_LIMIT_PER_KEY",
        "600 per minute",
        "Requests one API key or OAuth client may make (flask-limiter syntax, `;` between several limits).",
    ),
    Setting(
        "API_RATE_LIMIT_PER_ADDRESS",
        "1200 per minute",
        "Requests one IP address may make to `/api/` and `/oauth/token`, with or without a key.",
    ),
    Setting(
        "OAUTH_TOKEN_SECONDS",
        3600,
        "Lifetime of an access token from the OAuth client-credentials grant, in seconds.",
        parse=_parse_int,
    ),
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
    if not values["STORAGE_LOCAL_ROOT"]:
        values["STORAGE_LOCAL_ROOT"] = str(instance / "storage")
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
    if not settings.get("STRIPE_SECRET_KEY"):
        problems.append("STRIPE_SECRET_KEY is not set: production refuses the sandbox payment backend")
    if not settings.get("LICENSE_SIGNING_KEY") and not settings.get("LICENSE_SIGNING_KEY_FILE"):
        problems.append(
            "LICENSE_SIGNING_KEY is not set (nor LICENSE_SIGNING_KEY_FILE): production signs licenses with its own key"
        )
    if str(settings.get("STORAGE_BACKEND", "local")).lower() == "local":
        problems.append("STORAGE_BACKEND is `local`: production keeps dataset files in S3 (`s3`)")
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
