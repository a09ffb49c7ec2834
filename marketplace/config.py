"""Every setting of the marketplace, read from the environment, each with its default and why.

The table in :data:`SETTINGS` is the single source of truth: :func:`load_settings` reads it, the README's
settings table is generated from it (``marketplace config docs``), and
:func:`marketplace.production_settings.unsafe_for_production` names every value that must not reach production.
"""

from __future__ import annotations

import functools
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

# The exit status of a process that refuses its settings (as the shell's convention for usage errors).
EXIT_BAD_SETTINGS = 2


class ConfigError(RuntimeError):
    """Settings the application cannot start with: ``problems`` holds one line per setting, each naming it."""

    def __init__(self, *problems: str) -> None:
        self.problems: tuple[str, ...] = problems
        super().__init__("\n".join(problems))


def exit_refusing(error: ConfigError, stream: TextIO | None = None) -> NoReturn:
    """Print one line per problem (no traceback) and exit with :data:`EXIT_BAD_SETTINGS`.

    For the entry points that start the application: the ``marketplace`` command and the WSGI module.
    """
    out = sys.stderr if stream is None else stream
    for problem in error.problems or (str(error),):
        print(f"marketplace: refusing to start: {problem}", file=out)
    out.flush()
    sys.exit(EXIT_BAD_SETTINGS)


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
        "Signs sessions, CSRF and e-mail tokens (rotating it ends sessions and links, not API keys or stored "
        "secrets); generated once into the instance folder in development.",
        secret=True,
    ),
    Setting(
        "ENCRYPTION_KEYS",
        "",
        "Keys sealing stored secrets (webhook signing and SSO client secrets), `id:base64-of-32-bytes` "
        "comma-separated, e.g. `k2:…,k1:…`; every one listed can decrypt. Independent of SECRET_KEY; required in "
        "production (`marketplace keys generate-encryption-key`), generated into the instance folder in development.",
        secret=True,
    ),
    Setting(
        "ENCRYPTION_KEY_ID",
        "",
        "The id in ENCRYPTION_KEYS that encrypts new secrets (default: the first); after changing it, "
        "`marketplace keys rotate-encryption` re-encrypts the stored ones.",
    ),
    Setting(
        "API_KEY_PEPPERS",
        "",
        "Peppers of the API-key, OAuth client-secret and token hashes, `id:secret` (32+ characters) "
        "comma-separated; each hash records its pepper's id, so keep an id listed while keys made under it live. "
        "Required in production (`marketplace keys generate-pepper`), generated in development.",
        secret=True,
    ),
    Setting(
        "API_KEY_PEPPER_ID",
        "",
        "The id in API_KEY_PEPPERS that hashes new keys, client secrets and tokens (default: the first).",
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
        "CUSTOM_REVIEW_DAYS",
        14,
        "Days a buyer has to review a delivered custom-data milestone; silence accepts it (and pays the provider).",
        parse=_parse_int,
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
        "CUSTOM_ATTACHMENT_MAX_BYTES",
        20 * 1024 * 1024,
        "Largest file attached to a request for custom data or to a message in its thread (kept in object storage).",
        parse=_parse_int,
    ),
    Setting(
        "CUSTOM_MAX_REDELIVERIES",
        2,
        "How many times a rejected milestone may be redelivered under a new contract (copied into the contract).",
        parse=_parse_int,
    ),
    Setting(
        "CATALOG_IMPORT_MAX_ROWS",
        10_000,
        "Most listings one catalog import may hold; split larger catalogs into several files.",
        parse=_parse_int,
    ),
    Setting(
        "SEARCH_EXACT_COUNT_LIMIT",
        10_000,
        "Search counts (the total and each facet's) are exact up to this many matches; past it they are estimated "
        'from a fixed sample of this many listings and shown as "about" (so no search costs more as it matches '
        "more). Also the sample's size: larger is more exact and slower.",
        parse=_parse_int,
    ),
    Setting(
        "SEARCH_CACHE_ENTRIES",
        200,
        "Searches whose results (page, counts, facets) each web worker keeps, with the cards of as many listings and "
        "as many search pages and API answers as sent (their HTML or JSON), reused while the search index is "
        "unchanged (every write to it sets a new generation token in the same transaction, so a kept result is "
        "never stale); 0 turns the cache off. A kept card is about 90 objects that "
        "the garbage collector's full collections walk (a kept search's facets are plain tuples it skips): keep it "
        "in the hundreds.",
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
        None,
        "Development only (default `true` there, `false` in production, which refuses `true`): a version whose "
        "files were only declared, never uploaded, may be published (it has nothing to download).",
        parse=_parse_bool,
    ),
)

# Outbound webhooks and single sign-on (marketplace/webhooks, marketplace/sso).
SETTINGS += (
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
        "Production: allow webhook and SSO URLs and bucket-delivery endpoints on private/loopback addresses (an "
        "internal network you trust). "
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
        "empty keeps them in each process's memory (development, one process). Production needs it with more "
        "than one worker (`WEB_CONCURRENCY`).",
        secret=True,
    ),
    Setting(
        "WEB_CONCURRENCY",
        1,
        "Worker processes serving the site. gunicorn (`infra/gunicorn.conf.py`) runs this many and sets it to the "
        "number it runs; more than one needs `REDIS_URL` in production.",
        parse=_parse_int,
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

# Observability and time limits (marketplace/logs.py, marketplace/metrics.py, marketplace/db.py).
SETTINGS += (
    Setting(
        "LOG_FORMAT",
        "",
        "`json`: one JSON object per line on stderr (the default in production); `console`: readable text (the "
        "default in development).",
        choices=("", "json", "console"),
    ),
    Setting(
        "METRICS_TOKEN",
        "",
        "Bearer token that opens `/metrics` from anywhere (at least 32 characters in production); empty: only the "
        "allowed networks may scrape.",
        secret=True,
    ),
    Setting(
        "METRICS_ALLOWED_NETWORKS",
        "127.0.0.1/32,::1/128",
        "Client networks (CIDR, comma-separated) that may read `/metrics` without the token; the client address is "
        "the one after `TRUSTED_PROXIES`. Anyone else gets a 404.",
    ),
    Setting(
        "DATABASE_STATEMENT_TIMEOUT_MS",
        5000,
        "PostgreSQL `statement_timeout` of every statement of a web request, in ms (0 = none); a statement that "
        "runs longer answers 503. CLI commands and jobs are not limited. No effect on SQLite.",
        parse=_parse_int,
    ),
)

# The job queue (marketplace/jobs).
SETTINGS += (
    Setting(
        "JOB_BROKER_URL",
        "",
        "Redis that carries background jobs to `marketplace worker` (Dramatiq), e.g. `redis://127.0.0.1:6379/1`. "
        "Empty runs jobs inside the web process (development and tests); production refuses that.",
        secret=True,
    ),
    Setting("JOB_NAMESPACE", "marketplace", "Prefix of the queue's keys in Redis (several sites may share one)."),
    Setting("JOB_WORKER_THREADS", 4, "Jobs one `marketplace worker` process runs at the same time.", parse=_parse_int),
    Setting(
        "JOB_LEASE_SECONDS",
        600,
        "Longest a job may run. A job whose worker died is run again once this has passed since it started.",
        parse=_parse_int,
    ),
    Setting(
        "JOB_HEARTBEAT_SECONDS",
        60,
        "A worker silent this long is taken for dead, and the jobs it held go back to the queue.",
        parse=_parse_int,
    ),
    Setting("JOB_MAX_ATTEMPTS", 5, "Attempts before a job goes to the dead-letter view.", parse=_parse_int),
    Setting(
        "JOB_RETRY_MIN_SECONDS", 10, "Wait before the first retry; it doubles with each attempt.", parse=_parse_int
    ),
    Setting("JOB_RETRY_MAX_SECONDS", 3600, "Longest wait between two attempts of a job.", parse=_parse_int),
    Setting(
        "JOB_REPUBLISH_SECONDS",
        120,
        "A job still waiting this long after it was published is published again (its message may have been lost).",
        parse=_parse_int,
    ),
    Setting(
        "JOB_TICK_SECONDS", 5, "How often the scheduler enqueues periodic jobs and relays lost ones.", parse=_parse_int
    ),
    Setting(
        "JOB_METRICS_BIND",
        "",
        "`host:port` where `marketplace worker` serves its own Prometheus metrics (job outcomes, durations, queue "
        "depth), e.g. `0.0.0.0:9100` behind a network policy; empty serves none (the web's `/metrics` still has the "
        "queue depth).",
    ),
    Setting(
        "WITHDRAWAL_DELETION_DAYS",
        30,
        "Days a licensee is given, from the notice, to delete data withdrawn from a version (a withdrawal may set "
        "its own, 1 to 365).",
        parse=_parse_int,
    ),
    Setting(
        "WITHDRAWAL_REMINDER_DAYS",
        7,
        "Days before a withdrawal's deletion deadline when licensees who have not confirmed are reminded (once).",
        parse=_parse_int,
    ),
    Setting(
        "INVOICE_ISSUER",
        "Dataset Marketplace",
        "The marketplace's name as printed on invoices and credit notes, which it issues on the sellers' behalf.",
    ),
)

# The data viewer (marketplace/viewer).
SETTINGS += (
    Setting(
        "VIEWER_MAX_BYTES",
        256 * 1024 * 1024,
        "Largest file the data viewer reads on the fly (rows, search, statistics); larger files are only downloaded.",
        parse=_parse_int,
    ),
    Setting(
        "VIEWER_TIMEOUT_SECONDS", 5, "Longest time one data viewer read (a page, a search) may take.", parse=_parse_int
    ),
    Setting("VIEWER_MAX_OFFSET", 1_000_000, "Highest row offset the data viewer pages to.", parse=_parse_int),
    Setting(
        "VIEWER_MEMORY_MB", 256, "Memory limit of one data viewer read (DuckDB spills beyond it).", parse=_parse_int
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def _instance_path(raw: str) -> Path:
    return Path(raw).resolve() if raw else (Path.cwd() / "instance").resolve()


def _generated_secret(instance: Path, name: str = "secret_key", make: Callable[[], str] | None = None) -> str:
    """Return a development secret (``SECRET_KEY`` by default), generating it once into the instance folder."""
    instance.mkdir(parents=True, exist_ok=True)
    key_file = instance / name
    if key_file.exists():
        return key_file.read_text().strip()
    key = make() if make is not None else secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _generated_key_material(values: dict[str, Any], instance: Path) -> None:
    """In development, unset ``ENCRYPTION_KEYS`` / ``API_KEY_PEPPERS`` come from files in the instance folder,
    generated once (as ``SECRET_KEY``), so ``make run`` needs nothing; production must set its own."""
    from marketplace.crypto import new_encryption_key, new_pepper

    made = (
        ("ENCRYPTION_KEYS", "encryption_keys", new_encryption_key),
        ("API_KEY_PEPPERS", "api_key_peppers", new_pepper),
    )
    for name, file_name, make in made:
        values[f"{name}_GENERATED"] = False
        if not values[name] and values["MARKETPLACE_ENV"] == "development":
            values[name] = _generated_secret(instance, file_name, functools.partial(make, "dev1"))
            values[f"{name}_GENERATED"] = True


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
    _generated_key_material(values, instance)
    values["BASE_URL"] = str(values["BASE_URL"]).rstrip("/")
    if values["PUBLISH_DECLARED_MANIFESTS"] is None:
        values["PUBLISH_DECLARED_MANIFESTS"] = values["MARKETPLACE_ENV"] == "development"
    if not values["LOG_FORMAT"]:
        values["LOG_FORMAT"] = "json" if values["MARKETPLACE_ENV"] == "production" else "console"
    if not values["STORAGE_LOCAL_ROOT"]:
        values["STORAGE_LOCAL_ROOT"] = str(instance / "storage")
    # Whatever is left in overrides is application-internal (e.g. TESTING) and passes through unchanged.
    values.update(overrides)
    return values


def settings_markdown_table() -> str:
    """The README's settings table, generated from :data:`SETTINGS`."""
    lines = ["| Setting | Default | Why |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        default = setting.default
        shown = "(empty)" if default in ("", None) else f"`{default}`"
        lines.append(f"| `{setting.name}` | {shown} | {setting.why} |")
    return "\n".join(lines)
